#!/bin/bash
# certctl import, export and inspect against the tools that make and read
# these files in real life.  openssl makes a root -> intermediate -> leaf
# PKI and hands the certificates and keys over in every form: PEM with the
# key as PKCS#1, SEC1, PKCS#8, encrypted PKCS#8 and legacy encrypted PEM;
# DER certificate and key; P7B as PEM and DER; PKCS#12 with AES and legacy
# RC2/3DES.  Java's keytool (made in the background while the openssl part
# runs) makes JKS stores (EC and RSA key entries, one with a key password
# of its own, trusted certificate entries), a PKCS#12 store and JCEKS
# stores (a key entry; a secret key entry, refused).  Each import is
# checked with openssl and git: the definition, the current certificate,
# the chain without the root, the key stored encrypted and matching
# (openssl's public key SHA-256 against `certctl key show`), one commit, git
# status and fsck clean (--no-keys after each import, and in full, which
# decrypts every key, at the end of each part).  Exports are read back by
# openssl pkcs12 / pkcs7 / x509, by keytool (-list, -importkeystore to
# PKCS#12) and by inspect and import.  Bulk import is one commit.  Bad
# input (wrong passwords, truncated files, garbage, a tampered JKS, a key
# that does not match, unrelated certificates, the same certificate twice)
# fails with one line and changes nothing.
. "$(dirname "$0")/lib.sh"

_count
command -v keytool >/dev/null || fail "keytool (Java) is not installed"

ok_out out certctl -q init repo
cd repo || fail "no repository"
REPO=$PWD
SECRET=$(secret_file)
assert_file "$SECRET"
P=$T/pki
O=$T/out
mkdir "$P" "$O"
# Passwords always come from files or the environment; one trailing newline
# of a file is ignored.
PASS=import-pass-1
printf '%s\n' "$PASS" >"$P/pass"
printf 'wrong-pass-2\n' >"$P/wrong"
JKS_PASS=store-pass-3
printf '%s\n' "$JKS_PASS" >"$P/jks.pass"
KEY_PASS=key-pass-4
printf '%s\n' "$KEY_PASS" >"$P/key.pass"
EXPORT_PASS=export-pass-5
printf '%s\n' "$EXPORT_PASS" >"$O/export.pass"

# --- helpers ----------------------------------------------------------------------------

# fp FILE [DER]: the SHA-256 fingerprint of a certificate, lower-case hex.
fp() {
	openssl x509 -inform "${2:-PEM}" -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# cert_id FILE: certctl's id of a PEM certificate (SHA-256 of the DER, 16 hex).
cert_id() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-16
}
# cert_key FILE: SHA-256 of the certificate's SubjectPublicKeyInfo.
cert_key() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
# pkey_fp FILE [openssl pkey options]: SHA-256 of a private key's public key.
pkey_fp() {
	local f=$1
	shift
	openssl pkey -in "$f" "$@" -pubout -outform DER 2>/dev/null | sha256sum | cut -c1-64
}
# key_fp ID: the SHA-256 of key ID's public key, as `certctl key show` prints it
# (it decrypts the key).
key_fp() {
	certctl key show "$1" | sed -n 's/^fingerprint: *SHA256://p'
}
# clean: nothing left uncommitted.  fsck_clean: and certctl fsck, which
# decrypts every key, finds nothing.
clean() {
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
}
fsck_clean() {
	clean
	ok_out FSCK certctl fsck
	assert_contains "$FSCK" "0 errors, 0 warnings" "certctl fsck"
}
# jkeytool ARGS...: keytool, with a JVM that starts faster (its run is short).
jkeytool() {
	keytool -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -J-XX:-UsePerfData "$@"
}
# kt ARGS...: keytool, quiet, or the script fails with what it said.
kt() {
	local said
	said=$(jkeytool "$@" 2>&1) || fail "keytool $1 failed: $said"
}

# --- the PKI: a root and an intermediate, made with openssl ---------------------------------
cat >"$P/ca.ext" <<'EOF'
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
(
	cd "$P" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
		-subj "/CN=Import Test Root" -days 60 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key \
			-subj "/CN=Import Test Intermediate" -out int.csr 2>/dev/null &&
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -days 50 -extfile ca.ext \
			-out int.pem 2>/dev/null &&
		openssl x509 -in int.pem -outform DER -out int.der &&
		cat int.pem root.pem >introot.pem
) || fail "cannot make the openssl PKI"
ok openssl verify -CAfile "$P/root.pem" "$P/int.pem"
ROOT_FP=$(fp "$P/root.pem")
INT_FP=$(fp "$P/int.pem")

# sign CSR OUT SANS [DAYS]: the intermediate signs CSR as a server certificate.
sign() {
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$3" >"$2.ext"
	openssl x509 -req -in "$1" -CA "$P/int.pem" -CAkey "$P/int.key" -days "${4:-30}" -extfile "$2.ext" \
		-out "$2" 2>/dev/null || fail "the openssl CA cannot sign $1"
}
# leaf NAME rsa|ec [DAYS] [SUBJECT] [SANS]: $P/NAME.key (clear PKCS#8 PEM)
# and $P/NAME.pem, by default CN=NAME.example.com with the DNS names
# NAME.example.com and www.NAME.example.com, signed by the intermediate.
leaf() {
	local n=$1 alg=$2 days=${3:-30} subj=${4:-/CN=$1.example.com} sans=${5:-DNS:$1.example.com,DNS:www.$1.example.com}
	case $alg in
	rsa) set -- -newkey rsa:2048 ;;
	*) set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256 ;;
	esac
	openssl req -new "$@" -nodes -keyout "$P/$n.key" -utf8 -subj "$subj" -out "$P/$n.csr" 2>/dev/null ||
		fail "cannot make the key and CSR of $n"
	sign "$P/$n.csr" "$P/$n.pem" "$sans" "$days"
}

# --- the Java stores, made by keytool in the background while part 1 runs (a
# JVM takes half a second to start); part 3 waits for them.
java_stores() {
	# A JKS truststore: the root and a partner's server certificate, as trusted entries.
	leaf partner ec
	kt -importcert -noprompt -alias "Corp Root" -file "$P/root.pem" -storetype JKS -keystore "$P/trust.jks" -storepass "$JKS_PASS"
	kt -importcert -noprompt -alias "Partner" -file "$P/partner.pem" -storetype JKS -keystore "$P/trust.jks" -storepass "$JKS_PASS"
	# JKS, EC key entry 'WebEC' (keytool writes 'webec') plus the trusted entries; the
	# CA's reply is the leaf and the intermediate.
	cp "$P/trust.jks" "$P/jec.jks"
	kt -genkeypair -alias WebEC -keyalg EC -groupname secp256r1 -dname "CN=jec.example.com, O=Java Shop" -validity 30 \
		-storetype JKS -keystore "$P/jec.jks" -storepass "$JKS_PASS" -keypass "$JKS_PASS"
	kt -certreq -alias webec -keystore "$P/jec.jks" -storepass "$JKS_PASS" -file "$P/jec.csr"
	sign "$P/jec.csr" "$P/jec.pem" "DNS:jec.example.com,DNS:shop.example.com"
	cat "$P/jec.pem" "$P/int.pem" >"$P/jec-reply.pem"
	kt -importcert -noprompt -alias webec -file "$P/jec-reply.pem" -keystore "$P/jec.jks" -storepass "$JKS_PASS"
	# JKS, RSA key entry with a key password of its own (-keypass).
	cp "$P/trust.jks" "$P/jrsa.jks"
	kt -genkeypair -alias RsaKey -keyalg RSA -keysize 2048 -dname "CN=jrsa.example.com" -validity 30 \
		-storetype JKS -keystore "$P/jrsa.jks" -storepass "$JKS_PASS" -keypass "$KEY_PASS"
	kt -certreq -alias rsakey -keystore "$P/jrsa.jks" -storepass "$JKS_PASS" -keypass "$KEY_PASS" -file "$P/jrsa.csr"
	sign "$P/jrsa.csr" "$P/jrsa.pem" "DNS:jrsa.example.com"
	cat "$P/jrsa.pem" "$P/int.pem" >"$P/jrsa-reply.pem"
	kt -importcert -noprompt -alias rsakey -file "$P/jrsa-reply.pem" -keystore "$P/jrsa.jks" -storepass "$JKS_PASS" \
		-keypass "$KEY_PASS"
	# PKCS#12 made by keytool: EC P-384 key entry 'Mail Key', the reply up to the root.
	kt -genkeypair -alias "Mail Key" -keyalg EC -groupname secp384r1 -dname "CN=mail.example.com" -validity 30 \
		-storetype PKCS12 -keystore "$P/kmail.p12" -storepass "$JKS_PASS"
	kt -certreq -alias "mail key" -keystore "$P/kmail.p12" -storepass "$JKS_PASS" -file "$P/kmail.csr"
	sign "$P/kmail.csr" "$P/kmail.pem" "DNS:mail.example.com,DNS:smtp.example.com"
	cat "$P/kmail.pem" "$P/int.pem" "$P/root.pem" >"$P/kmail-reply.pem"
	kt -importcert -noprompt -alias "mail key" -file "$P/kmail-reply.pem" -keystore "$P/kmail.p12" -storepass "$JKS_PASS"
	# JCEKS: a self-signed key entry (PBEWithMD5AndTripleDES) with a password of its own,
	# and a copy with a secret key entry too.
	kt -genkeypair -alias Legacy -keyalg EC -groupname secp256r1 -dname "CN=jceks.example.com" -validity 30 \
		-storetype JCEKS -keystore "$P/legacy.jceks" -storepass "$JKS_PASS" -keypass "$KEY_PASS"
	kt -exportcert -rfc -alias legacy -keystore "$P/legacy.jceks" -storetype JCEKS -storepass "$JKS_PASS" \
		-file "$P/jceks.pem"
	cp "$P/legacy.jceks" "$P/secret.jceks"
	kt -genseckey -alias aeskey -keyalg AES -keysize 128 -storetype JCEKS -keystore "$P/secret.jceks" \
		-storepass "$JKS_PASS" -keypass "$JKS_PASS"
}
java_stores &
JAVA_PID=$!

# check_import N0 DEF LEAF KEY KEYTYPE MODE [CHAIN]: the last commit, the
# only one since N0 was counted, imported LEAF (PEM) as the current
# certificate of DEF, whose definition has LEAF's common name and DNS
# names, KEYTYPE, MODE and provider manual; chain.pem holds the
# fingerprints CHAIN (default: the intermediate's; never the root).  KEY is
# the clear key file that came with it, 'cert' when only the certificate
# tells what it is, or '' for none: then the key is stored encrypted, and
# openssl's public key SHA-256 is the one `certctl key show` prints.  Then
# git status and `certctl fsck --no-keys` are clean (the full fsck, which
# decrypts every key, runs at the end of each part).
check_import() {
	local n0=$1 def=$2 leaf=$3 key=$4 ktype=$5 mode=$6 chain=${7-$INT_FP} id d kid kfp cn dns
	id=$(cert_id "$leaf")
	d=certs/$def/$id
	assert_eq $((n0 + 1)) "$(commits)" "commits (one per import)"
	assert_match "$(git log -1 --format=%s)" "^import: $def: certificate from " "commit subject"
	assert_eq import "$(trailer Certctl-Operation)" "Certctl-Operation trailer"
	assert_eq "$def" "$(trailer Certctl-Definition)" "Certctl-Definition trailer"
	assert_eq "$id" "$(trailer Certctl-Certificate)" "Certctl-Certificate trailer"
	assert_eq "$id" "$(cat "certs/$def/current")" "certs/$def/current"
	assert_eq "$(fp "$leaf")" "$(fp "$d/cert.pem")" "stored certificate of $def"
	assert_eq "$chain" "$(bundle_fps "$d/chain.pem")" "chain.pem of $def"
	assert_not_contains "$(bundle_fps "$d/chain.pem")" "$ROOT_FP" "chain.pem of $def (the root is left out)"
	yaml_has "$d/cert.yaml" "key: $ktype"
	# The definition, from the certificate as openssl reads it.
	cn=$(openssl x509 -in "$leaf" -noout -subject -nameopt sep_multiline,utf8,-esc_msb | sed -n 's/^ *CN=//p')
	dns=$(openssl x509 -in "$leaf" -noout -ext subjectAltName 2>/dev/null | sed 1d | tr -d ' ' | tr ',' '\n' |
		sed -n 's/^DNS://p' | paste -sd, - | sed 's/,/, /g')
	yaml_has "definitions/$def.yaml" "  cn: $cn"
	[ -z "$dns" ] || yaml_has "definitions/$def.yaml" "  dns: [$dns]"
	yaml_has "definitions/$def.yaml" "  type: $ktype"
	yaml_has "definitions/$def.yaml" "mode: $mode"
	yaml_has "definitions/$def.yaml" "provider: manual"
	if [ -n "$key" ]; then
		kid=$(sed -n 's/^key_id: *//p' "$d/cert.yaml")
		assert_match "$kid" '^[0-9a-f]{16}$' "key_id of $d/cert.yaml"
		assert_file "keys/${kid:0:2}/$kid.pem"
		assert_eq "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 "keys/${kid:0:2}/$kid.pem")" "keys/${kid:0:2}/$kid.pem is encrypted"
		kfp=$(key_fp "$kid")
		assert_eq "$(cert_key "$leaf")" "$kfp" "the stored key is the certificate's (certctl key show)"
		if [ "$key" != cert ]; then
			assert_eq "$(key_id_of "$key")" "$kid" "the key id of $key"
			assert_eq "$(pkey_fp "$key")" "$kfp" "openssl's public key SHA-256 of $key and certctl key show"
		fi
	else
		assert_eq "" "$(sed -n 's/^key_id: *//p' "$d/cert.yaml")" "key_id of $d/cert.yaml (no key)"
	fi
	clean
	ok_out FSCK certctl fsck --no-keys
	assert_contains "$FSCK" "0 errors, 0 warnings" "certctl fsck --no-keys"
}
# imported OUT DEF LEAF NEW MODE KEY CHAIN-LEN: certctl's line for it.
imported() {
	assert_match "$1" "^$2: certificate $(cert_id "$3") imported from .* as '$2' \\(${4}${5}, ${6}, chain of ${7}\\)\$" \
		"output of import"
}

# === 1. files made by openssl ==============================================================

# --- a PEM with leaf, intermediate and root; the RSA key as PKCS#1 (openssl pkey -traditional)
leaf web rsa 30 "/O=Example Ltd/CN=web.example.com" "DNS:web.example.com,DNS:www.example.com,IP:192.0.2.1"
openssl pkey -in "$P/web.key" -traditional -out "$P/web.pkcs1.pem"
assert_eq "-----BEGIN RSA PRIVATE KEY-----" "$(head -n 1 "$P/web.pkcs1.pem")" "PKCS#1 key"
cat "$P/web.pem" "$P/int.pem" "$P/root.pem" >"$P/web-full.pem"
n0=$(commits)
ok_out out certctl import "$P/web-full.pem" --key "$P/web.pkcs1.pem"
imported "$out" web.example.com "$P/web.pem" "new definition, " lifecycle "with its key" 1
check_import "$n0" web.example.com "$P/web.pem" "$P/web.key" rsa:2048 lifecycle
WEB_KEY=$(key_id_of "$P/web.key")
yaml_has "certs/web.example.com/$(cert_id "$P/web.pem")/cert.yaml" "source: import:pem"
yaml_has "keys/${WEB_KEY:0:2}/$WEB_KEY.yaml" "origin: imported from '$P/web-full.pem'"
ok openssl verify -CAfile "$P/root.pem" -untrusted "certs/web.example.com/$(cert_id "$P/web.pem")/chain.pem" \
	"certs/web.example.com/$(cert_id "$P/web.pem")/cert.pem"
# The definition is made from the certificate: subject, every name, key
# type, validity; a 30-day certificate renews a third before its end.
ok_out SHOW certctl show web.example.com --json
json_check "$SHOW" "
dd = d['definition']
assert dd['subject']['o'] == 'Example Ltd', dd['subject']
assert dd['san']['ip'] == ['192.0.2.1'], dd['san']
assert dd['validity_seconds'] == 30 * 86400 and dd['renew_before_seconds'] == 10 * 86400, dd
"
assert_eq "$(git show --format= --name-only HEAD | LC_ALL=C sort)" "$(printf '%s\n' \
	"certs/web.example.com/$(cert_id "$P/web.pem")/cert.pem" \
	"certs/web.example.com/$(cert_id "$P/web.pem")/cert.yaml" \
	"certs/web.example.com/$(cert_id "$P/web.pem")/chain.pem" \
	certs/web.example.com/current definitions/web.example.com.yaml \
	"keys/${WEB_KEY:0:2}/$WEB_KEY.pem" "keys/${WEB_KEY:0:2}/$WEB_KEY.yaml" | LC_ALL=C sort)" "files of the import commit"

# --- EC: the certificate, and the key as SEC1 (-traditional) in its own file; the chain
# with --chain, the root given too
leaf sec1 ec
openssl pkey -in "$P/sec1.key" -traditional -out "$P/sec1.sec1.pem"
assert_eq "-----BEGIN EC PRIVATE KEY-----" "$(head -n 1 "$P/sec1.sec1.pem")" "SEC1 key"
n0=$(commits)
ok_out out certctl import "$P/sec1.pem" --key "$P/sec1.sec1.pem" --chain "$P/root.pem" --chain "$P/int.pem"
imported "$out" sec1.example.com "$P/sec1.pem" "new definition, " lifecycle "with its key" 1
check_import "$n0" sec1.example.com "$P/sec1.pem" "$P/sec1.key" ecdsa:P-256 lifecycle

# --- one PEM with everything, out of order: the intermediate, the PKCS#8 key, the leaf
leaf p8 ec
assert_eq "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$P/p8.key")" "PKCS#8 key"
cat "$P/int.pem" "$P/p8.key" "$P/p8.pem" >"$P/p8-all.pem"
n0=$(commits)
ok_out out certctl import "$P/p8-all.pem"
check_import "$n0" p8.example.com "$P/p8.pem" "$P/p8.key" ecdsa:P-256 lifecycle

# --- encrypted PKCS#8 with a passphrase, from --passphrase-file
leaf enc8 ec
openssl pkey -in "$P/enc8.key" -aes256 -passout "pass:$PASS" -out "$P/enc8.enc.pem"
assert_eq "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 "$P/enc8.enc.pem")" "encrypted PKCS#8 key"
n0=$(commits)
ok_out out certctl import "$P/enc8.pem" --key "$P/enc8.enc.pem" --chain "$P/int.pem" --passphrase-file "$P/pass"
check_import "$n0" enc8.example.com "$P/enc8.pem" "$P/enc8.key" ecdsa:P-256 lifecycle

# --- the legacy encrypted PEM (-traditional -aes256: Proc-Type and DEK-Info), RSA, the
# passphrase from $CERTCTL_IMPORT_PASSPHRASE_FILE, the key first in the file
leaf trad rsa
openssl pkey -in "$P/trad.key" -traditional -aes256 -passout "pass:$PASS" -out "$P/trad.enc.pem"
assert_eq "Proc-Type: 4,ENCRYPTED" "$(sed -n 2p "$P/trad.enc.pem")" "legacy encrypted PEM key"
cat "$P/trad.enc.pem" "$P/trad.pem" "$P/int.pem" >"$P/trad-all.pem"
n0=$(commits)
CERTCTL_IMPORT_PASSPHRASE_FILE=$P/pass ok_out out certctl import "$P/trad-all.pem"
check_import "$n0" trad.example.com "$P/trad.pem" "$P/trad.key" rsa:2048 lifecycle

# --- DER: the certificate as .cer, the key as DER PKCS#8, the intermediate as DER
leaf der ec
openssl x509 -in "$P/der.pem" -outform DER -out "$P/der.cer"
openssl pkey -in "$P/der.key" -outform DER -out "$P/der.key.der"
n0=$(commits)
ok_out out certctl import "$P/der.cer" --key "$P/der.key.der" --chain "$P/int.der"
check_import "$n0" der.example.com "$P/der.pem" "$P/der.key" ecdsa:P-256 lifecycle
yaml_has "certs/der.example.com/$(cert_id "$P/der.pem")/cert.yaml" "source: import:der"

# --- P7B as PEM (openssl crl2pkcs7) with leaf, intermediate and root, and its key
leaf p7pem ec
openssl crl2pkcs7 -nocrl -certfile "$P/p7pem.pem" -certfile "$P/int.pem" -certfile "$P/root.pem" \
	-out "$P/p7pem.p7b"
assert_eq "-----BEGIN PKCS7-----" "$(head -n 1 "$P/p7pem.p7b")" "PEM P7B"
n0=$(commits)
ok_out out certctl import "$P/p7pem.p7b" --key "$P/p7pem.key"
check_import "$n0" p7pem.example.com "$P/p7pem.pem" "$P/p7pem.key" ecdsa:P-256 lifecycle

# --- P7B as DER, no key: monitored only; a common name that is no host name, so the
# definition is named after the first DNS name; 90 days keep renew_before at 30 days
leaf payroll ec 90 "/CN=Payroll Service/O=Example Ltd" "DNS:payroll.example.com,DNS:pay.example.com"
openssl crl2pkcs7 -nocrl -certfile "$P/root.pem" -certfile "$P/payroll.pem" -certfile "$P/int.pem" \
	-outform DER -out "$P/payroll.p7b"
n0=$(commits)
ok_out out certctl import "$P/payroll.p7b" --json
json_check "$out" "
assert d['schema'] == 'certctl.import/1', d
v = d['imported'][0].pop('verification')
assert d['imported'] == [{'file': '$P/payroll.p7b', 'definition': 'payroll.example.com',
    'certificate': '$(cert_id "$P/payroll.pem")', 'created': True, 'key': False, 'chain': 1,
    'mode': 'monitor'}], d
# The root came with the file but nobody trusts it: the verifier says so.
assert v['status'] == 'CRITICAL' and v['summary'].startswith('chain.untrusted: '), v
"
check_import "$n0" payroll.example.com "$P/payroll.pem" "" ecdsa:P-256 monitor
ok_out SHOW certctl show payroll.example.com --json
json_check "$SHOW" "
dd = d['definition']
assert dd['validity_seconds'] == 90 * 86400 and dd['renew_before_seconds'] == 30 * 86400, dd
"
assert_eq "" "$(git show --format= --name-only HEAD | grep '^keys/')" "keys in a commit without key"

# --- PKCS#12 with AES (openssl pkcs12 -export), the chain with the root in it
leaf p12 ec
openssl pkcs12 -export -in "$P/p12.pem" -inkey "$P/p12.key" -certfile "$P/introot.pem" -name "P12 Server" \
	-passout "pass:$PASS" -out "$P/p12.p12" || fail "openssl pkcs12 -export"
info=$(openssl pkcs12 -info -noout -in "$P/p12.p12" -passin "pass:$PASS" 2>&1)
assert_contains "$info" "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" "openssl pkcs12 -info of the modern file"
n0=$(commits)
ok_out out certctl import "$P/p12.p12" --passphrase-file "$P/pass"
check_import "$n0" p12.example.com "$P/p12.pem" "$P/p12.key" ecdsa:P-256 lifecycle
yaml_has "certs/p12.example.com/$(cert_id "$P/p12.pem")/cert.yaml" "source: import:pkcs12"

# --- legacy PKCS#12 (-legacy: RC2-40 certificates, 3DES key), RSA, $CERTCTL_IMPORT_PASSPHRASE
leaf legacy rsa
openssl pkcs12 -export -legacy -in "$P/legacy.pem" -inkey "$P/legacy.key" -certfile "$P/int.pem" \
	-passout "pass:$PASS" -out "$P/legacy.p12" || fail "openssl pkcs12 -export -legacy"
info=$(openssl pkcs12 -info -noout -legacy -in "$P/legacy.p12" -passin "pass:$PASS" 2>&1)
assert_contains "$info" "pbeWithSHA1And40BitRC2-CBC" "openssl pkcs12 -info of the legacy file"
assert_contains "$info" "pbeWithSHA1And3-KeyTripleDES-CBC" "openssl pkcs12 -info of the legacy file"
n0=$(commits)
CERTCTL_IMPORT_PASSPHRASE=$PASS ok_out out certctl import "$P/legacy.p12"
check_import "$n0" legacy.example.com "$P/legacy.pem" "$P/legacy.key" rsa:2048 lifecycle

# --- every subject field and every kind of name; a long validity keeps renew_before
leaf odd ec 400 "/C=DE/ST=Bayern/L=München/O=Foo: Bar, Inc. #1/OU=Ops 'A'/CN=odd.example.com/emailAddress=ops@example.com" \
	"DNS:odd.example.com,IP:2001:db8::1,email:ops@example.com,URI:https://odd.example.com/x"
n0=$(commits)
ok_out out certctl import "$P/odd.pem" --key "$P/odd.key" --chain "$P/int.pem"
check_import "$n0" odd.example.com "$P/odd.pem" "$P/odd.key" ecdsa:P-256 lifecycle
ok_out SHOW certctl show odd.example.com --json
json_check "$SHOW" "
dd = d['definition']
assert dd['subject'] == {'cn': 'odd.example.com', 'o': 'Foo: Bar, Inc. #1', 'ou': \"Ops 'A'\",
    'l': 'München', 'st': 'Bayern', 'c': 'DE', 'email': 'ops@example.com'}, dd['subject']
assert dd['san'] == {'dns': ['odd.example.com'], 'ip': ['2001:db8::1'], 'email': ['ops@example.com'],
    'uri': ['https://odd.example.com/x']}, dd['san']
assert dd['validity_seconds'] == 400 * 86400 and dd['renew_before_seconds'] == 30 * 86400, dd
"

# --- --name: a renewed certificate for the same key goes to the existing definition,
# which stays as it is; the key is stored already
sign "$P/web.csr" "$P/web2.pem" "DNS:web.example.com,DNS:www.example.com,IP:192.0.2.1" 60
cp "definitions/web.example.com.yaml" "$T/web-def.yaml"
n0=$(commits)
ok_out out certctl import "$P/web2.pem" --key "$P/web.key" --chain "$P/int.pem" --name web.example.com
imported "$out" web.example.com "$P/web2.pem" "" lifecycle "with its key" 1
check_import "$n0" web.example.com "$P/web2.pem" "$P/web.key" rsa:2048 lifecycle
ok cmp "$T/web-def.yaml" definitions/web.example.com.yaml
assert_eq "" "$(git show --format= --name-only HEAD | grep -v "^certs/web.example.com/")" \
	"files of an import into an existing definition, with a stored key"
ok_out out certctl current web.example.com
assert_match "$out" "^ +\\* $(cert_id "$P/web2.pem")\$" "certctl current: the new one current"
assert_match "$out" "^ +$(cert_id "$P/web.pem")\$" "certctl current: the first one kept"
# --name of a new definition, --mode monitor with the key
leaf named ec
n0=$(commits)
ok_out out certctl import "$P/named.pem" --key "$P/named.key" --chain "$P/int.pem" --name internal-app --mode monitor
imported "$out" internal-app "$P/named.pem" "new definition, " "monitored only" "with its key" 1
check_import "$n0" internal-app "$P/named.pem" "$P/named.key" ecdsa:P-256 monitor

# === 2. bulk: three files in one command, one commit ============================================
leaf bulk1 ec
leaf bulk2 ec
leaf bulk3 rsa
cat "$P/bulk1.pem" "$P/int.pem" "$P/bulk1.key" >"$P/bulk1-all.pem"
openssl crl2pkcs7 -nocrl -certfile "$P/bulk2.pem" -certfile "$P/int.pem" -outform DER -out "$P/bulk2.p7b"
openssl pkcs12 -export -in "$P/bulk3.pem" -inkey "$P/bulk3.key" -certfile "$P/int.pem" \
	-passout "pass:$PASS" -out "$P/bulk3.p12"
n0=$(commits)
ok_out out certctl import "$P/bulk1-all.pem" "$P/bulk2.p7b" "$P/bulk3.p12" --passphrase-file "$P/pass"
assert_eq $((n0 + 1)) "$(commits)" "commits after a bulk import"
assert_eq "import: 3 certificates (bulk1.example.com, bulk2.example.com, bulk3.example.com)" \
	"$(git log -1 --format=%s)" "commit subject of a bulk import"
assert_eq "$(printf '%s\n' "$(cert_id "$P/bulk1.pem")" "$(cert_id "$P/bulk2.pem")" "$(cert_id "$P/bulk3.pem")")" \
	"$(trailer Certctl-Certificate)" "Certctl-Certificate trailers of a bulk import"
assert_eq import "$(trailer Certctl-Operation)" "Certctl-Operation trailer"
assert_eq 3 "$(printf '%s\n' "$out" | grep -c ' imported from ')" "lines of a bulk import"
for n in 1 2 3; do
	assert_eq "$(cert_id "$P/bulk$n.pem")" "$(cat "certs/bulk$n.example.com/current")" "current of bulk$n"
	assert_eq "$INT_FP" "$(bundle_fps "certs/bulk$n.example.com/$(cert_id "$P/bulk$n.pem")/chain.pem")" "chain of bulk$n"
done
assert_eq "$(cert_key "$P/bulk1.pem")" "$(key_fp "$(key_id_of "$P/bulk1.key")")" "key of bulk1"
assert_eq "$(cert_key "$P/bulk3.pem")" "$(key_fp "$(key_id_of "$P/bulk3.key")")" "key of bulk3"
ok_out out certctl show bulk2.example.com --json
json_check "$out" "assert d['definition']['mode'] == 'monitor', d"
fsck_clean

# === 3. Java keytool: JKS, PKCS#12 and JCEKS stores ===========================================
_count
wait "$JAVA_PID" || fail "keytool could not make the Java stores"
# In a repository of their own (certificates may be in both, as a second site would hold them).
ok_out out certctl -q init "$T/jrepo"
cd "$T/jrepo" || fail "no second repository"

# --- JKS, EC key entry 'WebEC' plus two trusted entries: keytool wrote the alias in
# lower case; inspect shows it, import takes the key entry only
snapshot
ok_out out certctl inspect "$P/jec.jks" --passphrase-file "$P/jks.pass" --json
assert_unchanged
json_check "$out" "
f = d['files'][0]
assert d['schema'] == 'certctl.inspect/1' and f['format'] == 'jks' and f['alias'] == 'webec', f
assert f['key']['fingerprint'] == '$(cert_key "$P/jec.pem")', f['key']
roles = [c['role'] for c in f['certificates']]
assert roles[0] == 'certificate of the private key' and roles[1] == 'intermediate CA', roles
assert roles[-2:] == ['trusted certificate entry'] * 2, roles
assert f['certificates'][0]['sha256'] == '$(fp "$P/jec.pem")', f
assert '$(fp "$P/partner.pem")' in [c['sha256'] for c in f['certificates'][-2:]], f
"
n0=$(commits)
ok_out out certctl import "$P/jec.jks" --passphrase-file "$P/jks.pass"
imported "$out" jec.example.com "$P/jec.pem" "new definition, " lifecycle "with its key" 1
check_import "$n0" jec.example.com "$P/jec.pem" cert ecdsa:P-256 lifecycle
yaml_has "certs/jec.example.com/$(cert_id "$P/jec.pem")/cert.yaml" "source: import:jks"
# The trusted entries are neither the leaf nor in the chain.
assert_eq "jec.example.com" "$(certctl list | awk '{print $1}')" "definitions after the JKS import"
assert_no_file "certs/partner.example.com"

# --- JKS, RSA key entry with a key password of its own, the store password from
# $CERTCTL_IMPORT_PASSPHRASE_FILE: refused without --key-passphrase-file
snapshot
CERTCTL_IMPORT_PASSPHRASE_FILE=$P/jks.pass expect_fail 1 "jrsa.jks: wrong password for the key of entry 'rsakey'" \
	certctl import "$P/jrsa.jks"
assert_unchanged
n0=$(commits)
CERTCTL_IMPORT_PASSPHRASE_FILE=$P/jks.pass ok_out out certctl import "$P/jrsa.jks" --key-passphrase-file "$P/key.pass"
check_import "$n0" jrsa.example.com "$P/jrsa.pem" cert rsa:2048 lifecycle

# --- a truststore alone has nothing to import
snapshot
expect_fail 1 "trust.jks: holds only trusted certificate entries" certctl import "$P/trust.jks" --passphrase-file "$P/jks.pass"
assert_unchanged

# --- keytool's PKCS#12: alias 'mail key', the chain up to the root (left out)
ok_out out certctl inspect "$P/kmail.p12" --passphrase-file "$P/jks.pass"
assert_match "$out" "^$P/kmail.p12: pkcs12, alias 'mail key', 3 certificates, a private key\$" "inspect of keytool's PKCS#12"
assert_match "$out" "^  \\[0\\] certificate of the private key\$" "inspect of keytool's PKCS#12"
n0=$(commits)
CERTCTL_IMPORT_PASSPHRASE=$JKS_PASS ok_out out certctl import "$P/kmail.p12"
check_import "$n0" mail.example.com "$P/kmail.pem" cert ecdsa:P-384 lifecycle

# --- JCEKS: the key entry with a password of its own; a secret key entry is refused, named
assert_eq "cececece" "$(head -c 4 "$P/legacy.jceks" | od -An -tx1 | tr -d ' \n')" "JCEKS magic"
n0=$(commits)
ok_out out certctl import "$P/legacy.jceks" --passphrase-file "$P/jks.pass" --key-passphrase-file "$P/key.pass"
imported "$out" jceks.example.com "$P/jceks.pem" "new definition, " lifecycle "with its key" 0
check_import "$n0" jceks.example.com "$P/jceks.pem" cert ecdsa:P-256 lifecycle ""
yaml_has "certs/jceks.example.com/$(cert_id "$P/jceks.pem")/cert.yaml" "source: import:jceks"
snapshot
expect_fail 1 "secret.jceks: entry 'aeskey' is a secret key" certctl import "$P/secret.jceks" \
	--passphrase-file "$P/jks.pass" --key-passphrase-file "$P/key.pass"
assert_unchanged
fsck_clean
cd "$REPO" || fail "no repository"

# === 4. export, read back by openssl and keytool ===============================================
WEB_ID=$(cert_id "$P/web2.pem")
WEB_FP=$(fp "$P/web2.pem")
WEB_PUB=$(cert_key "$P/web2.pem")
snapshot

# --- PKCS#12: the alias is the definition's name; openssl reads the key, the certificate
# and the chain (no root)
ok certctl export web.example.com --format p12 --out "$O/web.p12" --passphrase-file "$O/export.pass"
assert_mode 600 "$O/web.p12"
info=$(openssl pkcs12 -info -in "$O/web.p12" -passin "pass:$EXPORT_PASS" -nodes 2>&1)
assert_contains "$info" "-----BEGIN PRIVATE KEY-----" "openssl pkcs12 -info of the exported file"
assert_eq "2" "$(printf '%s\n' "$info" | grep -c 'friendlyName: web.example.com')" "friendlyName of key and certificate"
openssl pkcs12 -in "$O/web.p12" -passin "pass:$EXPORT_PASS" -nocerts -nodes -out "$O/web.p12.key" 2>/dev/null
assert_eq "$WEB_PUB" "$(pkey_fp "$O/web.p12.key")" "the key of the PKCS#12 file matches the certificate"
openssl pkcs12 -in "$O/web.p12" -passin "pass:$EXPORT_PASS" -clcerts -nokeys -out "$O/web.p12.crt" 2>/dev/null
assert_eq "$WEB_FP" "$(fp "$O/web.p12.crt")" "the certificate of the PKCS#12 file"
openssl pkcs12 -in "$O/web.p12" -passin "pass:$EXPORT_PASS" -cacerts -nokeys -out "$O/web.p12.ca" 2>/dev/null
assert_eq "$INT_FP" "$(bundle_fps "$O/web.p12.ca")" "the chain of the PKCS#12 file"
assert_contains "$(openssl pkcs12 -info -noout -in "$O/web.p12" -passin "pass:$EXPORT_PASS" 2>&1)" "AES-256-CBC" \
	"the PKCS#12 file's cipher"
# --alias, the password from $CERTCTL_EXPORT_PASSPHRASE; Java reads it too.
CERTCTL_EXPORT_PASSPHRASE=$EXPORT_PASS ok certctl export web.example.com --format p12 --alias tomcat --out "$O/alias.p12"
assert_contains "$(openssl pkcs12 -in "$O/alias.p12" -passin "pass:$EXPORT_PASS" -nokeys -clcerts 2>/dev/null)" \
	"friendlyName: tomcat" "friendlyName of --alias"
list=$(jkeytool -list -v -storetype PKCS12 -keystore "$O/alias.p12" -storepass "$EXPORT_PASS" 2>&1)
assert_contains "$list" "Alias name: tomcat" "keytool -list of the PKCS#12 file"
assert_contains "$list" "Entry type: PrivateKeyEntry" "keytool -list of the PKCS#12 file"
assert_contains "$list" "Certificate chain length: 2" "keytool -list of the PKCS#12 file"

# --- JKS: keytool lists it and converts it to PKCS#12, whose key matches
ok certctl export web.example.com --format jks --alias tomcat --out "$O/web.jks" --passphrase-file "$O/export.pass"
assert_mode 600 "$O/web.jks"
assert_eq "feedfeed" "$(head -c 4 "$O/web.jks" | od -An -tx1 | tr -d ' \n')" "JKS magic"
list=$(jkeytool -list -v -keystore "$O/web.jks" -storepass "$EXPORT_PASS" 2>&1)
assert_contains "$list" "Keystore type: JKS" "keytool -list of the JKS file"
assert_contains "$list" "Alias name: tomcat" "keytool -list of the JKS file"
assert_contains "$list" "Entry type: PrivateKeyEntry" "keytool -list of the JKS file"
assert_contains "$list" "Certificate chain length: 2" "keytool -list of the JKS file"
ok kt -importkeystore -noprompt -srckeystore "$O/web.jks" -srcstorepass "$EXPORT_PASS" \
	-destkeystore "$O/web-conv.p12" -deststoretype pkcs12 -deststorepass "$EXPORT_PASS"
openssl pkcs12 -in "$O/web-conv.p12" -passin "pass:$EXPORT_PASS" -nocerts -nodes -out "$O/web-conv.key" 2>/dev/null
assert_eq "$WEB_PUB" "$(pkey_fp "$O/web-conv.key")" "the key of keytool's conversion of the JKS file"
openssl pkcs12 -in "$O/web-conv.p12" -passin "pass:$EXPORT_PASS" -nokeys -out "$O/web-conv.crt" 2>/dev/null
assert_eq "$WEB_FP
$INT_FP" "$(bundle_fps "$O/web-conv.crt")" "the certificates of keytool's conversion"

# --- P7B: DER to a file, PEM to a .pem file and to the standard output; openssl reads them
ok certctl export web.example.com --format p7b --out "$O/web.p7b"
assert_mode 644 "$O/web.p7b"
assert_eq "30" "$(head -c 1 "$O/web.p7b" | od -An -tx1 | tr -d ' \n')" "a DER P7B"
openssl pkcs7 -inform DER -in "$O/web.p7b" -print_certs -out "$O/web.p7b.certs" || fail "openssl pkcs7 (DER)"
_count
assert_eq "$WEB_FP
$INT_FP" "$(bundle_fps "$O/web.p7b.certs")" "the certificates of the P7B file"
ok certctl export web.example.com --format p7b --out "$O/web.p7b.pem"
assert_eq "-----BEGIN PKCS7-----" "$(head -n 1 "$O/web.p7b.pem")" "a PEM P7B"
openssl pkcs7 -in "$O/web.p7b.pem" -print_certs -out "$O/web.p7b.pem.certs" || fail "openssl pkcs7 (PEM)"
_count
assert_eq "$WEB_FP
$INT_FP" "$(bundle_fps "$O/web.p7b.pem.certs")" "the certificates of the PEM P7B file"
ok_out out certctl export web.example.com --format p7b
assert_eq "$(cat "$O/web.p7b.pem")" "$out" "P7B on the standard output (PEM)"

# --- DER: the certificate alone
ok certctl export web.example.com --format der --out "$O/web.cer"
assert_mode 644 "$O/web.cer"
assert_eq "$WEB_FP" "$(fp "$O/web.cer" DER)" "the DER certificate"
expect_fail 1 "p7b" certctl export web.example.com --format der --fullchain --out "$O/web-full.cer"
assert_no_file "$O/web-full.cer"

# --- PEM pieces into a directory
mkdir "$O/nginx"
ok_out out certctl export web.example.com --out "$O/nginx" --with-key
assert_eq "$O/nginx/cert.pem
$O/nginx/chain.pem
$O/nginx/fullchain.pem
$O/nginx/key.pem" "$out" "the files written"
assert_mode 600 "$O/nginx/key.pem"
assert_mode 644 "$O/nginx/cert.pem"
assert_mode 644 "$O/nginx/chain.pem"
assert_mode 644 "$O/nginx/fullchain.pem"
assert_eq "$WEB_FP" "$(bundle_fps "$O/nginx/cert.pem")" "cert.pem"
assert_eq "$INT_FP" "$(bundle_fps "$O/nginx/chain.pem")" "chain.pem"
assert_eq "$WEB_FP
$INT_FP" "$(bundle_fps "$O/nginx/fullchain.pem")" "fullchain.pem"
assert_eq "$WEB_PUB" "$(pkey_fp "$O/nginx/key.pem")" "key.pem matches the certificate"
ok openssl verify -CAfile "$P/root.pem" -untrusted "$O/nginx/chain.pem" "$O/nginx/cert.pem"
# They exist: nothing is written without --force, everything with it.
cp -p "$O/nginx/cert.pem" "$O/cert.before"
expect_fail 1 "exists" certctl export web.example.com --out "$O/nginx" --with-key
ok cmp "$O/cert.before" "$O/nginx/cert.pem"
ok_out out certctl -q export web.example.com --out "$O/nginx" --with-key --force
assert_eq "" "$out" "export -q"
assert_mode 600 "$O/nginx/key.pem"
# Without --with-key, no key.pem.
mkdir "$O/certonly"
ok_out out certctl export web.example.com --out "$O/certonly"
assert_no_file "$O/certonly/key.pem"
assert_file "$O/certonly/fullchain.pem"

# --- one PEM file: certificate, chain and key (0600, also over an existing 0644 file)
: >"$O/haproxy.pem"
chmod 644 "$O/haproxy.pem"
ok certctl export web.example.com --fullchain --with-key --out "$O/haproxy.pem" --force
assert_mode 600 "$O/haproxy.pem"
assert_eq "$WEB_FP
$INT_FP" "$(bundle_fps "$O/haproxy.pem")" "certificates of the one PEM file"
assert_eq "$WEB_PUB" "$(pkey_fp "$O/haproxy.pem")" "key of the one PEM file"
ok_out out certctl export web.example.com
assert_eq "$(cat "$O/nginx/cert.pem")" "$out" "export to the standard output: the certificate alone"
ok_out out certctl export web.example.com --fullchain
assert_eq "$(cat "$O/nginx/fullchain.pem")" "$out" "export --fullchain to the standard output"
assert_not_contains "$out" "PRIVATE KEY" "export without --with-key"

# --- certificates need no secret; keys do
mkdir -m 700 "$T/no-secret"
CERTCTL_SECRET_DIR=$T/no-secret ok_out out certctl export web.example.com --format p7b
CERTCTL_SECRET_DIR=$T/no-secret expect_fail 1 "secret" certctl export web.example.com --format p12 \
	--out "$O/nosecret.p12" --passphrase-file "$O/export.pass"
assert_no_file "$O/nosecret.p12"

# --- a monitored definition without its key: the key cannot be exported
expect_fail 1 "payroll.example.com: .*no stored key" certctl export payroll.example.com --out "$O/payroll.pem" --with-key
expect_fail 1 "payroll.example.com: .*no stored key" certctl export payroll.example.com --format p12 \
	--out "$O/payroll.p12" --passphrase-file "$O/export.pass"
expect_fail 1 "payroll.example.com: .*no stored key" certctl export payroll.example.com --format jks \
	--out "$O/payroll.jks" --passphrase-file "$O/export.pass"
assert_no_file "$O/payroll.pem"
assert_no_file "$O/payroll.p12"
assert_no_file "$O/payroll.jks"
ok certctl export payroll.example.com --out "$O/payroll.pem"
assert_eq "$(fp "$P/payroll.pem")" "$(bundle_fps "$O/payroll.pem")" "a monitored certificate, exported without key"
# p12/jks need a password; keys and DER need --out.
expect_fail 1 "passphrase" certctl export web.example.com --format p12 --out "$O/nopass.p12"
assert_no_file "$O/nopass.p12"
expect_fail 64 "--out" certctl export web.example.com --format der
expect_fail 64 "--out" certctl export web.example.com --with-key
expect_fail 64 "--with-key" certctl export web.example.com --format p7b --with-key --out "$O/x.p7b"
expect_fail 64 "--format" certctl export web.example.com --format pfx --out "$O/x.pfx"
expect_fail 64 "DEF" certctl export
# Export changes nothing in the repository.
assert_unchanged

# --- certctl reads back what it wrote: the JKS into the second repository
cd "$T/jrepo" || fail "no second repository"
n0=$(commits)
ok_out out certctl import "$O/web.jks" --passphrase-file "$O/export.pass"
check_import "$n0" web.example.com "$P/web2.pem" cert rsa:2048 lifecycle
fsck_clean
cd "$REPO" || fail "no repository"

# === 5. inspect: what the files hold, changing nothing ===========================================
ok_out out certctl inspect "$O/web.p12" "$O/web.jks" --passphrase-file "$O/export.pass"
assert_match "$out" "^$O/web.p12: pkcs12, alias 'web.example.com', 2 certificates, a private key\$" "inspect of the PKCS#12 file"
assert_match "$out" "^$O/web.jks: jks, alias 'tomcat', 2 certificates, a private key\$" "inspect of the JKS file"
assert_eq 2 "$(printf '%s\n' "$out" | grep -c "^  private key rsa:2048, SHA-256 $WEB_PUB\$")" "the private keys"
assert_eq 2 "$(printf '%s\n' "$out" | grep -c '^  \[0\] certificate of the private key$')" "roles"
assert_eq 2 "$(printf '%s\n' "$out" | grep -c '^  \[1\] intermediate CA$')" "roles"
assert_eq 2 "$(printf '%s\n' "$out" | grep -c "^      SHA-256   $WEB_FP\$")" "fingerprints"
assert_not_contains "$out" "note:" "inspect of files in chain order"
ok_out out certctl inspect "$O/web.p7b" "$O/web.cer" "$O/nginx/fullchain.pem" "$O/nginx/key.pem"
assert_match "$out" "^$O/web.p7b: der, 2 certificates\$" "inspect of the P7B file"
assert_match "$out" "^$O/web.cer: der, 1 certificate\$" "inspect of the DER file"
assert_match "$out" "^$O/nginx/fullchain.pem: pem, 2 certificates\$" "inspect of fullchain.pem"
assert_match "$out" "^$O/nginx/key.pem: pem, 0 certificates, a private key\$" "inspect of key.pem"
assert_match "$out" "^      names     DNS:web.example.com DNS:www.example.com IP:192.0.2.1\$" "names"
# An encrypted key, and the order notes of a file whose chain is upside down.
CERTCTL_IMPORT_PASSPHRASE_FILE=$P/pass ok_out out certctl inspect "$P/enc8.enc.pem"
assert_contains "$out" "private key ecdsa:P-256, SHA-256 $(pkey_fp "$P/enc8.key")" "inspect of an encrypted key"
cat "$P/root.pem" "$P/int.pem" "$P/sec1.pem" >"$O/upside-down.pem"
ok_out out certctl inspect "$O/upside-down.pem"
assert_match "$out" '^  \[0\] root CA \(self-signed\)$' "roles of an upside-down chain"
assert_match "$out" '^  \[2\] certificate$' "roles of an upside-down chain"
assert_contains "$out" "note: [0] is not issued by [1] (out of order or unrelated)" "order notes"
assert_contains "$out" "note: [1] is not issued by [2] (out of order or unrelated)" "order notes"
ok_out out certctl inspect "$O/web.jks" "$P/payroll.p7b" --passphrase-file "$O/export.pass" --json
json_check "$out" "
assert d['schema'] == 'certctl.inspect/1', d
j, p = d['files']
assert j['file'] == '$O/web.jks' and j['format'] == 'jks' and j['alias'] == 'tomcat', j
assert j['key'] == {'type': 'rsa:2048', 'fingerprint': '$WEB_PUB'}, j['key']
assert [c['sha256'] for c in j['certificates']] == ['$WEB_FP', '$INT_FP'], j
assert [c['role'] for c in j['certificates']] == ['certificate of the private key', 'intermediate CA'], j
c = j['certificates'][0]
assert c['id'] == '$WEB_ID' and c['ca'] is False and c['key'] == 'rsa:2048', c
assert c['san'] == ['DNS:web.example.com', 'DNS:www.example.com', 'IP:192.0.2.1'], c
assert p['format'] == 'der' and p['key'] is None and p['alias'] is None, p
assert [c['role'] for c in p['certificates']] == ['root CA (self-signed)', 'certificate', 'intermediate CA'], p
"
assert_unchanged
# Anywhere, without a repository or its secret.
(
	cd "$T" || exit 1
	CERTCTL_SECRET_DIR=$T/no-secret ok_out out certctl inspect "$O/web.cer"
	assert_match "$out" "^$O/web.cer: der, 1 certificate\$" "inspect outside a repository"
)
expect_fail 1 "encrypted" certctl inspect "$P/enc8.enc.pem"
expect_fail 64 "FILE" certctl inspect

# === 6. bad input: one line, exit 1, nothing changes ============================================
# Material: a leaf for each refusal that is not imported yet.
leaf bad ec
leaf other ec
openssl pkcs12 -export -in "$P/bad.pem" -inkey "$P/bad.key" -certfile "$P/int.pem" -passout "pass:$PASS" -out "$P/bad.p12"
openssl pkcs12 -export -legacy -in "$P/bad.pem" -inkey "$P/bad.key" -passout "pass:$PASS" -out "$P/bad-legacy.p12"
openssl pkey -in "$P/bad.key" -aes256 -passout "pass:$PASS" -out "$P/bad.enc.pem"
openssl pkey -in "$P/bad.key" -traditional -aes256 -passout "pass:$PASS" -out "$P/bad.trad.pem"
cp "$P/jec.jks" "$P/bad.jks"
snapshot
# Wrong passwords: PKCS#12 (modern and legacy), JKS, encrypted PEM keys (PKCS#8 and legacy).
expect_fail 1 "bad.p12: wrong password" certctl import "$P/bad.p12" --passphrase-file "$P/wrong"
expect_fail 1 "bad-legacy.p12: wrong password" certctl import "$P/bad-legacy.p12" --passphrase-file "$P/wrong"
expect_fail 1 "bad.jks: .*integrity check fails: wrong password" certctl import "$P/bad.jks" --passphrase-file "$P/wrong"
expect_fail 1 "bad.enc.pem: cannot decrypt the private key \\(wrong passphrase" \
	certctl import "$P/bad.pem" --key "$P/bad.enc.pem" --passphrase-file "$P/wrong"
CERTCTL_IMPORT_PASSPHRASE=wrong expect_fail 1 "bad.trad.pem: cannot decrypt the private key \\(wrong passphrase" \
	certctl import "$P/bad.pem" --key "$P/bad.trad.pem"
expect_fail 1 "bad.enc.pem: the private key is encrypted; give its passphrase" \
	certctl import "$P/bad.pem" --key "$P/bad.enc.pem"
expect_fail 1 "bad.p12: wrong password" certctl import "$P/bad.p12"
# Truncated files: PEM, DER, JKS; garbage and text.
head -c 400 "$P/bad.pem" >"$P/trunc.pem"
openssl x509 -in "$P/bad.pem" -outform DER | head -c 200 >"$P/trunc.cer"
head -c 600 "$P/bad.jks" >"$P/trunc.jks"
head -c 2048 /dev/urandom >"$P/garbage.bin"
printf 'not a certificate\n' >"$P/garbage.txt"
expect_fail 1 "trunc.pem: no certificate" certctl import "$P/trunc.pem"
expect_fail 1 "trunc.cer: neither certificates" certctl import "$P/trunc.cer"
expect_fail 1 "trunc.jks: .*(truncated|integrity check fails)" certctl import "$P/trunc.jks" --passphrase-file "$P/jks.pass"
expect_fail 1 "garbage.bin: neither certificates" certctl import "$P/garbage.bin"
expect_fail 1 "garbage.txt: neither certificates" certctl import "$P/garbage.txt"
assert_unchanged
# A JKS with one byte changed: the integrity digest says so before anything is read.
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x01
open(sys.argv[2], "wb").write(b)' "$P/bad.jks" "$P/flipped.jks"
expect_fail 1 "flipped.jks: the keystore's integrity check fails" certctl import "$P/flipped.jks" --passphrase-file "$P/jks.pass"
expect_fail 1 "flipped.jks: the keystore's integrity check fails" certctl inspect "$P/flipped.jks" --passphrase-file "$P/jks.pass"
# A key that is not the certificate's: both fingerprints in the message.
expect_fail 1 "bad.pem: the private key .*belongs to none of the certificates" certctl import "$P/bad.pem" --key "$P/other.key"
assert_contains "$FAIL_MSG" "$(pkey_fp "$P/other.key")" "mismatch message: the key"
assert_contains "$FAIL_MSG" "$(cert_key "$P/bad.pem")" "mismatch message: the certificate's key"
cat "$P/bad.pem" "$P/other.key" >"$P/mismatch.pem"
expect_fail 1 "mismatch.pem: the private key .*belongs to none" certctl import "$P/mismatch.pem"
# Two unrelated certificates in one file.
cat "$P/bad.pem" "$P/int.pem" "$P/other.pem" >"$P/two.pem"
expect_fail 1 "two.pem: holds unrelated certificates \\('CN=bad.example.com' and 'CN=other.example.com'\\)" \
	certctl import "$P/two.pem"
assert_unchanged
# The same certificate twice: in a later command, in any format, and twice in one.
expect_fail 1 "web.p12: certificate $WEB_ID \\(CN=web.example.com,O=Example Ltd\\) is already imported, as 'web.example.com'" \
	certctl import "$O/web.p12" --passphrase-file "$O/export.pass"
expect_fail 1 "der.cer: certificate $(cert_id "$P/der.pem") .*already imported, as 'der.example.com'" certctl import "$P/der.cer"
openssl x509 -in "$P/bad.pem" -outform DER -out "$P/bad.cer"
expect_fail 1 "bad.cer: certificate $(cert_id "$P/bad.pem") .*already imported, as 'bad.example.com'" \
	certctl import "$P/bad.pem" "$P/bad.cer"
# A file refused in a bulk import: nothing of the others is imported.
expect_fail 1 "garbage.txt" certctl import "$P/bad.pem" "$P/other.pem" "$P/garbage.txt"
# A definition of that name exists: --name is needed.
openssl req -new -key "$P/other.key" -subj "/CN=web.example.com" -out "$P/web-other.csr" 2>/dev/null
sign "$P/web-other.csr" "$P/web-other.pem" "DNS:web.example.com"
expect_fail 1 "web-other.pem: a definition 'web.example.com' exists; give --name" certctl import "$P/web-other.pem"
# Lifecycle management without the key.
expect_fail 1 "bad.pem: lifecycle management needs the private key" certctl import "$P/bad.pem" --mode lifecycle
# No repository secret to store the key with.
CERTCTL_SECRET_DIR=$T/no-secret expect_fail 1 "secret" certctl import "$P/bad.pem" --key "$P/bad.key"
# Usage errors.
expect_fail 64 "missing FILE" certctl import
expect_fail 64 "--key, --chain and --name go with one FILE" certctl import "$P/bad.pem" "$P/other.pem" --key "$P/bad.key"
expect_fail 64 "--mode is lifecycle or monitor" certctl import "$P/bad.pem" --mode renew
assert_unchanged
fsck_clean

# No clear-text private key ever reached git.
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"
assert_eq "" "$(git -C "$T/jrepo" cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects (second repository)"

# ===========================================================================================
# The cases below fail against the current code (bugs reported); they come
# last so that everything above runs.

# A JKS alias with capitals: Java's JKS looks aliases up in lower case (and
# keytool writes them so), so the entry certctl writes as 'Tomcat' cannot be
# found: keytool -list -alias tomcat says "Alias <tomcat> does not exist",
# and keytool -importkeystore fails with "Alias <Tomcat> does not exist".
ok certctl export web.example.com --format jks --alias Tomcat --out "$O/upper.jks" --passphrase-file "$O/export.pass"
_count
list=$(jkeytool -list -alias tomcat -keystore "$O/upper.jks" -storepass "$EXPORT_PASS" 2>&1) ||
	fail "keytool cannot find the key entry of an alias with capitals: $list"

# P7B is PEM when --out ends in .pem, DER otherwise: a .p7b file in a
# directory whose name holds '.pem' comes out as PEM.
mkdir "$O/site.pem.d"
ok certctl export web.example.com --format p7b --out "$O/site.pem.d/chain.p7b"
assert_eq "30" "$(head -c 1 "$O/site.pem.d/chain.p7b" | od -An -tx1 | tr -d ' \n')" "a .p7b file is DER"

# A truncated PKCS#12 file read with its right password is reported as a
# wrong passphrase ("cannot decrypt the private key (wrong passphrase?):
# not enough data"): the DER fallback tries it as an encrypted key.
head -c 500 "$P/bad.p12" >"$P/trunc.p12"
expect_fail 1 "trunc.p12" certctl import "$P/trunc.p12" --passphrase-file "$P/pass"
assert_not_contains "$FAIL_MSG" "wrong passphrase" "the error of a truncated PKCS#12 file with its right password"

# A definition that does not exist: "definition 'nodef' has no current
# certificate" instead of saying there is no such definition.
expect_fail 1 "no definition 'nodef'" certctl export nodef --out "$O/nodef.pem"

# A certificate whose key type certctl does not make (P-521) can still be
# monitored: the definition keeps the repository's key type for renewals.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -keyout "$P/p521.key" \
	-subj "/CN=p521.example.com" -out "$P/p521.csr" 2>/dev/null
sign "$P/p521.csr" "$P/p521.pem" "DNS:p521.example.com"
ok_out out certctl import "$P/p521.pem" --mode monitor
assert_contains "$(certctl show p521.example.com)" "mode: monitor" "P-521 certificate monitored"
assert_eq "$(openssl x509 -in "$P/p521.pem" -outform DER | sha256sum | cut -c1-16)" \
	"$(cat certs/p521.example.com/current)" "the P-521 certificate is current"

# --- a TLS server: inspect HOST:PORT and import --from --------------------------
leaf served ec
TLS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$P/served.pem" -key "$P/served.key" \
	-cert_chain "$P/int.pem" -quiet -naccept 4 >"$T/s_server.log" 2>&1 &
S_SERVER=$!
trap 'kill $S_SERVER 2>/dev/null; wait $S_SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do
	python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $TLS_PORT), 1)" 2>/dev/null && break
	sleep 0.1
done
snapshot
ok_out out certctl inspect "127.0.0.1:$TLS_PORT" --sni served.example.com
assert_contains "$out" "tls, 2 certificates" "inspect of a server"
assert_contains "$out" "CN=served.example.com" "the server's certificate"
assert_contains "$out" "$(fp "$P/served.pem")" "its SHA-256"
assert_unchanged
ok_out out certctl import --from "127.0.0.1:$TLS_PORT" --sni served.example.com --json
assert_contains "$out" '"mode": "monitor"' "imported monitored-only"
assert_eq "$(fp "$P/served.pem")" "$(fp "certs/served.example.com/$(cat certs/served.example.com/current)/cert.pem")" \
	"the served certificate is current"
assert_eq "$INT_FP" "$(fp "certs/served.example.com/$(cat certs/served.example.com/current)/chain.pem")" \
	"the served intermediate is the chain"
assert_contains "$(certctl show served.example.com)" "port: $TLS_PORT" "the server becomes the check"
assert_eq "" "$(git status --porcelain)" "git status after import --from"
# A closed port: a clear error, nothing changed.
snapshot
expect_fail 1 "cannot connect" certctl import --from 127.0.0.1:1
assert_unchanged
kill $S_SERVER 2>/dev/null
wait $S_SERVER 2>/dev/null
trap - EXIT

finish
