#!/bin/bash
# certctl key: generate, list, show, export, import.  Keys at rest are
# checked with openssl (PBES2 + scrypt + AES-256-CBC under the repository
# secret), ids and fingerprints are recomputed from the public key DER, and
# every import format is made by openssl itself.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
assert_file "$SECRET"

# pub_der_sha256 FILE [PASSIN]: SHA-256 of the SubjectPublicKeyInfo DER of a
# private key file (openssl decides the format).
pub_der_sha256() {
	if [ $# -gt 1 ]; then
		openssl pkey -in "$1" -passin "$2" -pubout -outform DER | sha256sum | cut -c1-64
	else
		openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -c1-64
	fi
}

# new_key_ids: the ids of keys/*/*.pem, sorted.
key_ids() {
	find keys -maxdepth 2 -name '*.pem' -printf '%f\n' 2>/dev/null | sed 's/\.pem$//' | LC_ALL=C sort
}

# --- generate each type ---------------------------------------------------
declare -A KEY
for spec in rsa:2048 ecdsa:P-256 ecdsa:P-384 ed25519; do
	before=$(key_ids)
	n0=$(commits)
	ok_out id certctl -q key generate --key "$spec"
	assert_match "$id" '^[0-9a-f]{16}$' "id printed by key generate --key $spec"
	after=$(key_ids)
	assert_eq "$id" "$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')" "the new key file"
	KEY[$spec]=$id
	pem=keys/${id:0:2}/$id.pem
	assert_file "$pem"
	assert_file "keys/${id:0:2}/$id.yaml"
	assert_mode 600 "$pem"
	assert_mode 700 keys
	# One commit with both files, its subject and trailers.
	assert_eq $((n0 + 1)) "$(commits)" "commits after key generate"
	assert_eq "key: $id: generated" "$(git log -1 --format=%s)" "commit subject"
	assert_eq "key" "$(git log -1 --format='%(trailers:key=Certctl-Operation,valueonly)' | sed '/^$/d')" "Certctl-Operation"
	assert_eq "$id" "$(git log -1 --format='%(trailers:key=Certctl-Key,valueonly)' | sed '/^$/d')" "Certctl-Key"
	assert_eq "keys/${id:0:2}/$id.pem
keys/${id:0:2}/$id.yaml" "$(git show --format= --name-only HEAD | LC_ALL=C sort)" "files of the key commit"
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"

	# Encrypted PKCS#8: PBES2, scrypt N=16384 r=8 p=1, AES-256-CBC.
	ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$pem"
	assert_eq 1 "$(grep -c -- '-----BEGIN' "$pem")" "PEM blocks in $pem"
	asn=$(openssl asn1parse -in "$pem")
	assert_contains "$asn" ":PBES2" "asn1parse of $pem"
	assert_contains "$asn" ":scrypt" "asn1parse of $pem"
	assert_contains "$asn" ":aes-256-cbc" "asn1parse of $pem"
	assert_eq ":4000 :08 :01" "$(printf '%s\n' "$asn" | awk '/prim: INTEGER/ {printf "%s%s", sep, $NF; sep=" "}')" \
		"scrypt N r p in $pem"

	# The repository secret decrypts it; a wrong one does not.
	ok openssl pkey -in "$pem" -passin "file:$SECRET" -noout
	text=$(openssl pkey -in "$pem" -passin "file:$SECRET" -noout -text)
	case $spec in
	rsa:2048) assert_contains "$text" "Private-Key: (2048 bit" "openssl text of $spec" ;;
	ecdsa:P-256) assert_match "$text" "NIST CURVE: P-256|prime256v1" "openssl text of $spec" ;;
	ecdsa:P-384) assert_match "$text" "NIST CURVE: P-384|secp384r1" "openssl text of $spec" ;;
	ed25519) assert_match "$text" "ED25519 Private-Key" "openssl text of $spec" ;;
	esac
	_count
	if openssl pkey -in "$pem" -passin pass:wrong -noout 2>/dev/null; then
		fail "openssl decrypted $pem with a wrong passphrase"
	fi

	# The id is the first 16 hex digits of SHA-256 of the public key DER; the
	# metadata has the whole fingerprint.
	fp=$(pub_der_sha256 "$pem" "file:$SECRET")
	assert_eq "${fp:0:16}" "$id" "key id of $spec"
	ok grep -qxF "fingerprint: $fp" "keys/${id:0:2}/$id.yaml"
	ok grep -qxF "type: $spec" "keys/${id:0:2}/$id.yaml"
	ok grep -qxF "origin: generated" "keys/${id:0:2}/$id.yaml"
done

# The default type comes from the repository config (ecdsa:P-256).
ok_out id certctl -q key generate
ok grep -qxF "type: ecdsa:P-256" "keys/${id:0:2}/$id.yaml"
KEY[default]=$id
# --json
ok_out out certctl key generate --key ed25519 --json
# The same record as key show prints (certctl.key/1).
json_check "$out" '
import re
assert d["schema"] == "certctl.key/1", d
k = d["key"]
assert k["type"] == "ed25519", d
assert re.fullmatch("[0-9a-f]{16}", k["id"]), d
assert k["fingerprint_sha256"].startswith(k["id"]), d
assert k["origin"] == "generated", d
assert k["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----"), d'
jid=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"]["id"])')
assert_file "keys/${jid:0:2}/$jid.pem"
assert_eq "key: $jid: generated" "$(git log -1 --format=%s)" "commit subject of key generate --json"

# No clear-text private key anywhere in git's objects or the work tree.
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"
assert_eq "" "$(grep -rlE --exclude-dir=.git -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----' .)" "clear-text keys in the work tree"

# --- list and show --------------------------------------------------------
ok_out out certctl key list
assert_eq "$(key_ids)" "$(printf '%s\n' "$out" | awk '{print $1}' | LC_ALL=C sort)" "ids in key list"
for spec in rsa:2048 ecdsa:P-256 ecdsa:P-384 ed25519; do
	assert_eq "$spec" "$(printf '%s\n' "$out" | awk -v id="${KEY[$spec]}" '$1 == id {print $2}')" "type of ${KEY[$spec]} in key list"
done
ok_out out certctl key list --json
json_check "$out" "
assert d['schema'] == 'certctl.keys/1', d
ids = sorted(k['id'] for k in d['keys'])
assert ids == sorted('''$(key_ids)'''.split()), ids
types = {k['id']: k['type'] for k in d['keys']}
assert types['${KEY[rsa:2048]}'] == 'rsa:2048', types
assert types['${KEY[ed25519]}'] == 'ed25519', types
assert all(k['origin'] == 'generated' for k in d['keys']), d
assert all(k['fingerprint_sha256'].startswith(k['id']) for k in d['keys']), d"

for spec in rsa:2048 ecdsa:P-256 ecdsa:P-384 ed25519; do
	id=${KEY[$spec]}
	ok_out out certctl key show "$id"
	fp=$(pub_der_sha256 "keys/${id:0:2}/$id.pem" "file:$SECRET")
	assert_contains "$out" "$fp" "key show $id"
	assert_contains "$out" "$spec" "key show $id"
	# The public key shown is the key's public key.
	printf '%s\n' "$out" | sed -n '/-----BEGIN PUBLIC KEY-----/,/-----END PUBLIC KEY-----/p' >"$T/pub.pem"
	assert_eq "$fp" "$(openssl pkey -pubin -in "$T/pub.pem" -outform DER | sha256sum | cut -c1-64)" "public key of key show $id"
	# A unique prefix of 4 or more hex digits finds it.
	ok_out out2 certctl key show "${id:0:8}"
	assert_eq "$out" "$out2" "key show by prefix"
	ok_out out certctl key show "$id" --json
	json_check "$out" "
k = d['key']
assert d['schema'] == 'certctl.key/1', d
assert k['id'] == '$id', k
assert k['type'] == '$spec', k
assert k['fingerprint_sha256'] == '$fp', k
assert k['public_key_pem'].startswith('-----BEGIN PUBLIC KEY-----'), k"
done
snapshot
expect_fail 1 "no key|not found|ffffffffffffffff" certctl key show ffffffffffffffff
expect_fail 1 "" certctl key show "${KEY[ed25519]:0:3}"
expect_fail 1 "" certctl key show ../keys/x
expect_fail 64 "missing ID|ID" certctl key show
assert_unchanged

# --- export in clear text ------------------------------------------------
id=${KEY[ecdsa:P-256]}
umask 022
ok_out out certctl key export "$id" --out "$T/clear.pem"
assert_file "$T/clear.pem"
assert_mode 600 "$T/clear.pem"
ok openssl pkey -in "$T/clear.pem" -noout
ok grep -q -- '-----BEGIN PRIVATE KEY-----' "$T/clear.pem"
assert_eq "$(openssl pkey -in "keys/${id:0:2}/$id.pem" -passin "file:$SECRET" -pubout -outform DER | sha256sum | cut -c1-64)" \
	"$(pub_der_sha256 "$T/clear.pem")" "public key of the exported key"
# key show's fingerprint is the SHA-256 of the exported key's public key DER.
ok_out out certctl key show "$id" --json
fp=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"]["fingerprint_sha256"])')
assert_eq "$fp" "$(pub_der_sha256 "$T/clear.pem")" "fingerprint against openssl"
assert_eq "$id" "$(key_id_of "$T/clear.pem")" "id of the exported key"
# The private key itself is the stored one.
assert_eq "$(openssl pkey -in "keys/${id:0:2}/$id.pem" -passin "file:$SECRET" -outform DER | sha256sum)" \
	"$(openssl pkey -in "$T/clear.pem" -outform DER | sha256sum)" "exported private key"
# Export writes nothing in the repository.
snapshot
ok_out out certctl key export "$id" --out "$T/clear2.pem"
assert_unchanged
# Every type exports.
for spec in rsa:2048 ecdsa:P-384 ed25519; do
	ok_out out certctl key export "${KEY[$spec]}" -o "$T/export-$spec.pem"
	assert_eq "${KEY[$spec]}" "$(key_id_of "$T/export-$spec.pem")" "id of the exported $spec key"
	assert_mode 600 "$T/export-$spec.pem"
done

# It refuses to overwrite, unless --force.
echo "precious" >"$T/exists.pem"
chmod 644 "$T/exists.pem"
expect_fail 1 "exists" certctl key export "$id" --out "$T/exists.pem"
assert_eq "precious" "$(cat "$T/exists.pem")" "file after a refused export"
expect_fail 1 "exists" certctl key export "$id" --out "$T/clear.pem"
ok_out out certctl key export "$id" --out "$T/exists.pem" --force
ok openssl pkey -in "$T/exists.pem" -noout
assert_mode 600 "$T/exists.pem"
assert_eq "$id" "$(key_id_of "$T/exists.pem")" "id after export --force"
# --out is required; keys are never printed.
expect_fail 64 "--out" certctl key export "$id"
expect_fail 1 "no key|not found|ffffffffffffffff" certctl key export ffffffffffffffff --out "$T/none.pem"
assert_no_file "$T/none.pem"
# A symbolic link is not followed.
ln -s "$T/target.pem" "$T/link.pem"
expect_fail 1 "link.pem" certctl key export "$id" --out "$T/link.pem" --force
assert_no_file "$T/target.pem"

# --- export encrypted -----------------------------------------------------
printf 'export pass\n' >"$T/export.pass"
CERTCTL_EXPORT_PASSPHRASE_FILE=$T/export.pass ok_out out certctl key export "$id" --out "$T/enc1.pem" --encrypt
assert_mode 600 "$T/enc1.pem"
ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$T/enc1.pem"
ok openssl pkey -in "$T/enc1.pem" -passin "pass:export pass" -noout
_count
if openssl pkey -in "$T/enc1.pem" -passin "file:$SECRET" -noout 2>/dev/null; then
	fail "the export is encrypted under the repository secret, not the export passphrase"
fi
asn=$(openssl asn1parse -in "$T/enc1.pem")
assert_contains "$asn" ":scrypt" "asn1parse of the encrypted export"
assert_contains "$asn" ":aes-256-cbc" "asn1parse of the encrypted export"
assert_eq "$id" "$(openssl pkey -in "$T/enc1.pem" -passin "pass:export pass" -pubout -outform DER | sha256sum | cut -c1-16)" \
	"id of the encrypted export"
# With --passphrase-file, and with $CERTCTL_EXPORT_PASSPHRASE.
printf 'other pass\n' >"$T/other.pass"
ok_out out certctl key export "$id" --out "$T/enc2.pem" --encrypt --passphrase-file "$T/other.pass"
ok openssl pkey -in "$T/enc2.pem" -passin "pass:other pass" -noout
CERTCTL_EXPORT_PASSPHRASE='env pass' ok_out out certctl key export "$id" --out "$T/enc3.pem" --encrypt
ok openssl pkey -in "$T/enc3.pem" -passin "pass:env pass" -noout
# --encrypt without any passphrase is an error and writes nothing.
expect_fail 1 "passphrase" certctl key export "$id" --out "$T/enc4.pem" --encrypt
assert_no_file "$T/enc4.pem"
expect_fail 64 "--encrypt" certctl key export "$id" --out "$T/enc5.pem" --passphrase-file "$T/other.pass"
assert_no_file "$T/enc5.pem"

# --- import ---------------------------------------------------------------
mkdir "$T/in"
openssl genrsa -traditional -out "$T/in/pkcs1.pem" 2048 2>/dev/null
ok grep -q -- '-----BEGIN RSA PRIVATE KEY-----' "$T/in/pkcs1.pem"
openssl ecparam -genkey -name prime256v1 -out "$T/in/sec1.pem"
ok grep -q -- '-----BEGIN EC PRIVATE KEY-----' "$T/in/sec1.pem"
openssl ecparam -genkey -name secp384r1 -noout -out "$T/in/sec1-384.pem"
openssl genpkey -algorithm ed25519 -out "$T/in/pkcs8.pem"
ok grep -q -- '-----BEGIN PRIVATE KEY-----' "$T/in/pkcs8.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/in/rsa-src.pem" 2>/dev/null
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$T/in/rsa-src.pem" -passout pass:import-secret -out "$T/in/enc.pem"
ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$T/in/enc.pem"
printf 'import-secret\n' >"$T/in/enc.pass"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out "$T/in/key.der"
openssl genpkey -algorithm ed25519 -out "$T/in/ed-src.pem"
openssl pkey -in "$T/in/ed-src.pem" -outform DER -out "$T/in/ed.der"

import_ok() {
	# import_ok FILE TYPE [ARGS...]
	local file=$1 type=$2 want n0 id
	shift 2
	want=$(key_id_of_any "$file")
	n0=$(commits)
	ok_out out certctl key import "$file" "$@"
	assert_file "keys/${want:0:2}/$want.pem"
	assert_mode 600 "keys/${want:0:2}/$want.pem"
	assert_contains "$out" "$want" "output of key import $file"
	assert_eq $((n0 + 1)) "$(commits)" "commits after key import"
	assert_eq "key: $want: imported" "$(git log -1 --format=%s)" "commit subject of the import"
	assert_eq "$want" "$(git log -1 --format='%(trailers:key=Certctl-Key,valueonly)' | sed '/^$/d')" "Certctl-Key"
	assert_eq "keys/${want:0:2}/$want.pem
keys/${want:0:2}/$want.yaml" "$(git show --format= --name-only HEAD | LC_ALL=C sort)" "files of the import commit"
	ok grep -qxF "type: $type" "keys/${want:0:2}/$want.yaml"
	ok grep -qE "^origin: imported" "keys/${want:0:2}/$want.yaml"
	# Stored encrypted under the repository secret, the same key.
	ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "keys/${want:0:2}/$want.pem"
	assert_contains "$(openssl asn1parse -in "keys/${want:0:2}/$want.pem")" ":scrypt" "asn1parse of the imported key"
	id=$(openssl pkey -in "keys/${want:0:2}/$want.pem" -passin "file:$SECRET" -pubout -outform DER | sha256sum | cut -c1-16)
	assert_eq "$want" "$id" "id of the stored imported key"
	IMPORTED=$want
}
# key_id_of_any FILE: like key_id_of, for encrypted input too.
key_id_of_any() {
	case $1 in
	*enc.pem) openssl pkey -in "$1" -passin pass:import-secret -pubout -outform DER | sha256sum | cut -c1-16 ;;
	*) key_id_of "$1" ;;
	esac
}

import_ok "$T/in/pkcs1.pem" rsa:2048
import_ok "$T/in/sec1.pem" ecdsa:P-256
import_ok "$T/in/sec1-384.pem" ecdsa:P-384
import_ok "$T/in/pkcs8.pem" ed25519
import_ok "$T/in/enc.pem" rsa:2048 --passphrase-file "$T/in/enc.pass"
import_ok "$T/in/key.der" ecdsa:P-256
import_ok "$T/in/ed.der" ed25519
ok_out out certctl key list --json
json_check "$out" 'assert sum(1 for k in d["keys"] if k["origin"].startswith("imported")) == 7, d'

# The imported key round-trips through export.
ok_out out certctl key export "$IMPORTED" --out "$T/ed-back.pem"
assert_eq "$(openssl pkey -in "$T/in/ed-src.pem" -outform DER | sha256sum)" \
	"$(openssl pkey -in "$T/ed-back.pem" -outform DER | sha256sum)" "exported imported key"

# Wrong or missing passphrase: a clear error, nothing changes.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:right -out "$T/in/enc2.pem"
printf 'wrong\n' >"$T/in/wrong.pass"
snapshot
expect_fail 1 "passphrase" certctl key import "$T/in/enc2.pem" --passphrase-file "$T/in/wrong.pass"
assert_contains "$FAIL_MSG" "enc2.pem" "wrong passphrase message"
assert_unchanged
expect_fail 1 "passphrase|encrypted" certctl key import "$T/in/enc2.pem"
assert_unchanged
expect_fail 1 "nothere|no such|cannot" certctl key import "$T/in/enc2.pem" --passphrase-file "$T/in/nothere.pass"
assert_unchanged

# The same key twice (also in another encoding): an error, nothing changes.
expect_fail 1 "already" certctl key import "$T/in/pkcs1.pem"
assert_unchanged
openssl pkey -in "$T/in/pkcs1.pem" -out "$T/in/pkcs1-as-pkcs8.pem"
expect_fail 1 "already" certctl key import "$T/in/pkcs1-as-pkcs8.pem"
assert_unchanged
expect_fail 1 "already" certctl key import "$T/in/key.der"
assert_unchanged
# A generated key cannot be imported again either.
expect_fail 1 "already" certctl key import "$T/clear.pem"
assert_unchanged

# Not a private key: a public key, garbage, an empty file, a missing file.
openssl pkey -in "$T/in/pkcs8.pem" -pubout -out "$T/in/public.pem"
expect_fail 1 "public.pem" certctl key import "$T/in/public.pem"
assert_unchanged
head -c 600 /dev/urandom >"$T/in/garbage.bin"
expect_fail 1 "garbage.bin" certctl key import "$T/in/garbage.bin"
assert_unchanged
expect_fail 1 "missing.pem" certctl key import "$T/in/missing.pem"
assert_unchanged
# A truncated PEM.
head -n 5 "$T/in/pkcs8.pem" >"$T/in/truncated.pem"
openssl genpkey -algorithm ed25519 -out "$T/in/fresh.pem"
head -n 2 "$T/in/fresh.pem" >"$T/in/truncated.pem"
expect_fail 1 "truncated.pem" certctl key import "$T/in/truncated.pem"
assert_unchanged
# Algorithms certctl does not offer.
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$T/in/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$T/in/dsa.param" -out "$T/in/dsa.pem"
expect_fail 1 "DSA|unsupported" certctl key import "$T/in/dsa.pem"
assert_unchanged
openssl genpkey -algorithm x25519 -out "$T/in/x25519.pem"
expect_fail 1 "X25519|unsupported" certctl key import "$T/in/x25519.pem"
assert_unchanged
expect_fail 64 "missing|FILE" certctl key import
assert_unchanged

# Key types outside the ones certctl offers (rsa:2048|3072|4096,
# ecdsa:P-256|P-384, ed25519) are refused: fsck rejects their metadata.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/in/rsa1024.pem" 2>/dev/null
expect_fail 1 "1024|size|unsupported" certctl key import "$T/in/rsa1024.pem"
assert_unchanged
openssl ecparam -genkey -name secp256k1 -noout -out "$T/in/k1.pem"
expect_fail 1 "secp256k1|curve|unsupported" certctl key import "$T/in/k1.pem"
assert_unchanged
# An empty file.
: >"$T/in/empty.pem"
expect_fail 1 "empty.pem" certctl key import "$T/in/empty.pem"
assert_unchanged

# The end: git and certctl are happy, the work tree is clean.
ok git fsck --full --no-progress
ok_out out certctl fsck
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"
for f in keys/*/*.pem; do
	assert_mode 600 "$f"
done
assert_mode 700 keys

finish
