#!/bin/bash
# certctl issue and the CA's revocation: leaves of every key type under a
# root and under a root -> subordinate chain, checked with openssl verify
# and openssl x509 -text (basic constraints, key usage, EKU per profile,
# SANs, AKI, serial, CRL/AIA/policy extensions); the stored key is the
# certificate's key; --reuse-key, --self-signed, validity limits, name
# constraints, expired/unknown CAs, a wrong secret and a damaged CA key are
# refused without a change; revocation is published in CRLs that openssl
# verifies and honours; batches, --one-commit, --json and --p12-out.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
assert_file "$SECRET"
mkdir "$T/out"

trailer() {
	git log -1 --format="%(trailers:key=$1,valueonly)" "${2:-HEAD}" | sed '/^$/d'
}
# ext FILE NAME: openssl's text of one extension, header line first.
ext() {
	openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | sed 's/^ *//; s/ *$//'
}
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
serial_of() {
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}
cert_pub() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
stored_pub() {
	openssl pkey -in "keys/${1:0:2}/$1.pem" -passin "file:$SECRET" -pubout -outform DER | sha256sum | cut -c1-64
}
ncerts() {
	grep -c -- '-----BEGIN CERTIFICATE-----' "$1"
}
# cur DEF: the directory of the current certificate of DEF.
cur() {
	echo "certs/$1/$(cat "certs/$1/current")"
}
# key_id_of_cert DEF: the key id recorded beside the current certificate.
key_id_of_cert() {
	sed -n 's/^key_id: *//p' "$(cur "$1")/cert.yaml"
}
enddate() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s
}
# verify_leaf DEF ROOT: openssl verify with the root as the only trust
# anchor and the stored chain as untrusted intermediates.
verify_leaf() {
	local d
	d=$(cur "$1")
	if [ "$(ncerts "$d/chain.pem")" = 0 ]; then
		ok openssl verify -CAfile "$2" "$d/cert.pem"
	else
		ok openssl verify -CAfile "$2" -untrusted "$d/chain.pem" "$d/cert.pem"
	fi
}
# check_serial FILE: positive in DER, at least 64 bits, at most 20 octets.
check_serial() {
	_count
	local line len value hex
	line=$(openssl asn1parse -in "$1" | awk '/d=2/ && /INTEGER/ {print; exit}')
	len=$(printf '%s\n' "$line" | sed -n 's/.* l= *\([0-9]*\) prim.*/\1/p')
	value=${line##*:}
	hex=$(printf '%s' "$value" | sed 's/^0*//')
	case $value in
	-*) fail "negative serial in $1: $line" ;;
	esac
	if [ -z "$len" ] || [ "$len" -gt 20 ]; then
		fail "serial of $1 longer than 20 octets: $line"
	fi
	# At least 64 bits: more than 16 hex digits, or 16 with the top bit set.
	case ${#hex}:${hex:0:1} in
	16:[89A-F]) ;;
	16:* | [0-9]:* | 1[0-5]:*) fail "serial of $1 has fewer than 64 bits: $value" ;;
	esac
}
# pick EXTS NAME: one extension (header line first) out of openssl -ext output.
pick() {
	printf '%s\n' "$1" | awk -v h="X509v3 $2:" 'index($0, h) == 1 {p = 1; print; next} /^X509v3 / {p = 0} p'
}
declare -A SKI
# check_leaf DEF CA SPEC PROFILE: what openssl shows of DEF's current
# certificate issued by CA, its stored key and its commit.
check_leaf() {
	local def=$1 ca=$2 spec=$3 profile=$4 d id kid serial exts text
	d=$(cur "$def")
	id=${d##*/}
	assert_file "$d/cert.pem"
	assert_file "$d/chain.pem"
	assert_file "$d/cert.yaml"
	assert_eq "$id" "$(openssl x509 -in "$d/cert.pem" -outform DER | sha256sum | cut -c1-16)" "certificate id of $def"
	text=$(openssl x509 -in "$d/cert.pem" -noout -text)
	exts=$(openssl x509 -in "$d/cert.pem" -noout \
		-ext basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,authorityKeyIdentifier |
		sed 's/^ *//; s/ *$//')
	assert_eq "Issuer: CN = $ca" "$(printf '%s\n' "$text" | sed -n 's/^ *\(Issuer:.*\)/\1/p')" "issuer of $def"
	assert_eq "X509v3 Basic Constraints: critical
CA:FALSE" "$(pick "$exts" "Basic Constraints")" "basicConstraints of $def"
	case $spec in
	rsa:*) assert_eq "X509v3 Key Usage: critical
Digital Signature, Key Encipherment" "$(pick "$exts" "Key Usage")" "keyUsage of $def" ;;
	*) assert_eq "X509v3 Key Usage: critical
Digital Signature" "$(pick "$exts" "Key Usage")" "keyUsage of $def" ;;
	esac
	case $profile in
	server) assert_eq "TLS Web Server Authentication" "$(pick "$exts" "Extended Key Usage" | sed -n 2p)" "EKU of $def" ;;
	client) assert_eq "TLS Web Client Authentication" "$(pick "$exts" "Extended Key Usage" | sed -n 2p)" "EKU of $def" ;;
	server+client) assert_eq "TLS Web Server Authentication, TLS Web Client Authentication" \
		"$(pick "$exts" "Extended Key Usage" | sed -n 2p)" "EKU of $def" ;;
	esac
	[ -n "${SKI[$ca]:-}" ] || SKI[$ca]=$(ext "ca/$ca/cert.pem" subjectKeyIdentifier | sed -n 2p)
	assert_eq "${SKI[$ca]}" "$(pick "$exts" "Authority Key Identifier" | sed -n 2p)" "AKI of $def = SKI of $ca"
	assert_match "$(pick "$exts" "Subject Key Identifier" | sed -n 2p)" '^([0-9A-F]{2}:){19}[0-9A-F]{2}$' "SKI of $def"
	check_serial "$d/cert.pem"
	# The stored key is the certificate's key.
	kid=$(key_id_of_cert "$def")
	assert_file "keys/${kid:0:2}/$kid.pem"
	assert_mode 600 "keys/${kid:0:2}/$kid.pem"
	assert_eq "$(cert_pub "$d/cert.pem")" "$(stored_pub "$kid")" "key of $def against keys/${kid:0:2}/$kid.pem"
	case $spec in
	rsa:2048) assert_contains "$text" "Public-Key: (2048 bit)" "key of $def" ;;
	ecdsa:P-256) assert_contains "$text" "NIST CURVE: P-256" "key of $def" ;;
	ecdsa:P-384) assert_contains "$text" "NIST CURVE: P-384" "key of $def" ;;
	ed25519) assert_contains "$text" "Public Key Algorithm: ED25519" "key of $def" ;;
	esac
	# The CA's index has it.
	serial=$(serial_of "$d/cert.pem")
	assert_file "ca/$ca/issued/${serial:0:2}/$serial.yaml"
	ok grep -qx "issued_to: $def" "ca/$ca/issued/${serial:0:2}/$serial.yaml"
}
# check_commit DEF CA: the last commit issued DEF's current certificate.
check_commit() {
	local d
	d=$(cur "$1")
	assert_match "$(git log -1 --format=%s)" "^issue: $1: certificate $(serial_of "$d/cert.pem") issued by $2, valid until [0-9T:Z-]+\$" \
		"commit subject"
	assert_eq "issue" "$(trailer Certctl-Operation)" "Certctl-Operation"
	assert_eq "$1" "$(trailer Certctl-Definition)" "Certctl-Definition"
	assert_eq "$2" "$(trailer Certctl-CA)" "Certctl-CA"
	assert_eq "${d##*/}" "$(trailer Certctl-Certificate)" "Certctl-Certificate"
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
}
# sans FILE: the subjectAltName entries, one per line, sorted.
sans() {
	ext "$1" subjectAltName | sed -n 2p | tr ',' '\n' | sed 's/^ *//' | LC_ALL=C sort
}

# --- CAs ---------------------------------------------------------------------------
ok_out out certctl -q ca init root --key ecdsa:P-256 --max-validity 200d \
	--crl-url http://crl.example.com/root.crl --ocsp-url http://ocsp.example.com/ \
	--issuer-url http://pki.example.com/root.crt
ok_out out certctl -q ca init sub --parent root --key ecdsa:P-384 --validity 3y
ROOT=ca/root/cert.pem
ok openssl verify -CAfile $ROOT ca/sub/cert.pem

# The refusals come first, while the repository is small (assert_unchanged
# reads every file).
ok_out out certctl -q define early --dns early.example.com --ca root
ok_out out certctl -q define early-sub --dns early-sub.example.com --ca sub

# --- validity --------------------------------------------------------------------------
ok_out out certctl issue early-sub --validity 30d
d=$(cur early-sub)
ok openssl x509 -in "$d/cert.pem" -noout -checkend $((29 * 86400))
_count
if openssl x509 -in "$d/cert.pem" -noout -checkend $((31 * 86400)) >/dev/null; then
	fail "--validity 30d gave more than 30 days"
fi
verify_leaf early-sub $ROOT
ok_out out certctl -q define long --dns long.example.com --validity 250d --renew-before 30d --ca root
snapshot
# Past the CA's maximum (200d for root; 398d by default for sub).
expect_fail 1 "200d" certctl issue early --validity 300d
assert_contains "$FAIL_MSG" "root" "message of a validity past the maximum"
assert_unchanged
expect_fail 1 "398d" certctl issue early-sub --validity 400d
assert_unchanged
expect_fail 1 "200d" certctl issue long
assert_unchanged
# Past the CA's own expiry.
ok_out out certctl -q ca init short --validity 20d --key ed25519
ok_out out certctl -q define sh --dns sh.example.com --ca short --key ed25519
snapshot
expect_fail 1 "short.*expires|expires.*short" certctl issue sh --validity 60d
assert_unchanged
ok_out out certctl issue sh --validity 10d
verify_leaf sh ca/short/cert.pem
_count
[ "$(enddate "$(cur sh)/cert.pem")" -le "$(enddate ca/short/cert.pem)" ] || fail "sh outlives its CA"

# --- CAs that cannot issue, definitions that cannot be issued ---------------------------------
ok_out out certctl -q define orphan --dns orphan.example.com --ca nope
ok_out out certctl -q ca init pend --external --csr-out "$T/out/pend.csr"
ok_out out certctl -q define fresh --dns fresh.example.com --ca root
snapshot
expect_fail 1 "no CA 'nope'" certctl issue orphan
assert_unchanged
expect_fail 1 "no CA 'nope'" certctl issue early --ca nope
assert_unchanged
expect_fail 1 "no definition|nodef" certctl issue nodef
assert_unchanged
expect_fail 1 "pend.*awaits|awaits.*pend" certctl issue early --ca pend
assert_unchanged
# --reuse-key without a current certificate.
expect_fail 1 "fresh" certctl issue fresh --reuse-key
assert_unchanged
# Expired, and not yet valid (made with faketime).
if command -v faketime >/dev/null; then
	# ASan wants to come first among the libraries; faketime preloads itself.
	fake() {
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime "$@"
	}
	ok_out out fake '2020-01-01 00:00:00' "$CERTCTL" -q ca init old --validity 30d --key ed25519
	# faketime's clock runs on from its start: the end falls in the first seconds.
	assert_match "$(openssl x509 -in ca/old/cert.pem -noout -enddate)" \
		'^notAfter=Jan 31 00:00:0[0-9] 2020 GMT$' "end of the expired CA"
	_count
	if openssl x509 -in ca/old/cert.pem -noout -checkend 0 >/dev/null; then
		fail "the old CA has not expired"
	fi
	ok_out out certctl -q define old-leaf --dns old.example.com --ca old
	ok_out out fake "$(date -u -d '+400 days' '+%Y-%m-%d %H:%M:%S')" "$CERTCTL" -q ca init later --validity 3y --key ed25519
	_count
	[ "$(date -u -d "$(openssl x509 -in ca/later/cert.pem -noout -startdate | sed 's/^notBefore=//')" +%s)" -gt $(($(date +%s) + 300 * 86400)) ] ||
		fail "the later CA starts now"
	snapshot
	expect_fail 1 "old.*expired|expired.*old" certctl issue old-leaf
	assert_contains "$FAIL_MSG" "2020-01-31" "message of an expired CA"
	assert_unchanged
	expect_fail 1 "later.*not valid yet|not valid yet.*later" certctl issue old-leaf --ca later
	assert_unchanged
else
	skip "faketime is not installed: the expired and not-yet-valid CAs are not tested"
fi

# --- a wrong repository secret, a damaged CA key -------------------------------------------
snapshot
CERTCTL_PASSPHRASE=wrong expect_fail 1 "secret|passphrase" certctl issue early
assert_unchanged
printf 'wrong\n' >"$T/wrong.secret"
CERTCTL_PASSPHRASE_FILE=$T/wrong.secret expect_fail 1 "secret|passphrase" certctl issue early
assert_unchanged
# damage_key FILE WHERE: flip bytes of an encrypted key file.  "header"
# damages the encryption parameters (the file no longer decrypts);
# "scalar" flips ciphertext bytes 48-51, which (AES-CBC) garbles plaintext
# bytes 48-67: inside the private scalar of a P-256 PKCS#8 key (bytes
# 36-67), so the file still decrypts, to a key that no longer matches its
# public half.
damage_key() {
	python3 - "$1" "$2" <<'EOF'
import base64, sys
path, where = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
der = bytearray(base64.b64decode("".join(l for l in lines if l and not l.startswith("-----"))))
def tlv(buf, at):
    n = buf[at + 1]
    if n < 0x80:
        return at + 2, n
    k = n & 0x7f
    return at + 2 + k, int.from_bytes(buf[at + 2:at + 2 + k], "big")
start, _ = tlv(der, 0)
alg, alen = tlv(der, start)
ct, clen = tlv(der, alg + alen)
assert der[alg + alen] == 0x04 and clen % 16 == 0, "not an encrypted PKCS#8 key"
for j in (range(alg + 4, alg + 8) if where == "header" else range(ct + 48, ct + 52)):
    der[j] ^= 0x5a
b64 = base64.b64encode(bytes(der)).decode()
out = [lines[0]] + [b64[i:i + 64] for i in range(0, len(b64), 64)] + [lines[0].replace("BEGIN", "END"), ""]
open(path, "w").write("\n".join(out))
EOF
}
CAKEY=$(key_file "$(sed -n 's/^key: *//p' ca/root/ca.yaml)" pem)
cp "$CAKEY" "$T/cakey.orig"
damage_key "$CAKEY" header
_count
if openssl pkey -in "$CAKEY" -passin "file:$SECRET" -noout 2>/dev/null; then
	fail "openssl still reads the CA key with a damaged header"
fi
snapshot
expect_fail 1 "keys/|key" certctl issue early
assert_contains "$FAIL_MSG" "root" "message of a damaged CA key"
assert_unchanged
cp "$T/cakey.orig" "$CAKEY"
ok cmp "$T/cakey.orig" "$CAKEY"

# --- name constraints ----------------------------------------------------------------------
ok_out out certctl -q ca init nc --key ecdsa:P-256 --permit-dns example.com --exclude-dns secret.example.com \
	--permit-ip 192.0.2.0/24
ok_out out certctl -q define nc-in --dns app.example.com --ip 192.0.2.5 --ca nc
ok_out out certctl issue nc-in
ok openssl verify -CAfile ca/nc/cert.pem "$(cur nc-in)/cert.pem"
ok_out out certctl -q define nc-dns --dns app.example.org --ca nc
ok_out out certctl -q define nc-excl --dns db.secret.example.com --ca nc
ok_out out certctl -q define nc-ip --dns ip.example.com --ip 198.51.100.7 --ca nc
snapshot
expect_fail 1 "constraint" certctl issue nc-dns
assert_unchanged
expect_fail 1 "constraint" certctl issue nc-excl
assert_contains "$FAIL_MSG" "excluded" "message of an excluded name"
assert_unchanged
expect_fail 1 "constraint" certctl issue nc-ip
assert_unchanged

# --- every key type, under the root and under the subordinate ----------------------
for spec in rsa:2048 ecdsa:P-256 ecdsa:P-384 ed25519; do
	n=$(printf '%s' "$spec" | tr ':[:upper:]' '-[:lower:]')
	for ca in root sub; do
		def=$n-$ca
		ok_out out certctl -q define "$def" --cn "$def.example.com" --dns "$def.example.com" \
			--dns "www.$def.example.com" --ip 192.0.2.10 --ip 2001:db8::1 --san-email ops@example.com \
			--uri "https://$def.example.com/app" --key "$spec" --ca "$ca"
		n0=$(commits)
		ok_out out certctl issue "$def"
		assert_eq $((n0 + 1)) "$(commits)" "commits after issue $def"
		check_commit "$def" "$ca"
		check_leaf "$def" "$ca" "$spec" server
		d=$(cur "$def")
		assert_eq "CN = $def.example.com" "$(openssl x509 -in "$d/cert.pem" -noout -subject | sed 's/^subject=//')" "subject of $def"
		assert_eq "DNS:$def.example.com
DNS:www.$def.example.com
IP Address:192.0.2.10
IP Address:2001:DB8:0:0:0:0:0:1
URI:https://$def.example.com/app
email:ops@example.com" "$(sans "$d/cert.pem")" "SANs of $def"
		# With a subject, the SAN extension is not critical.
		assert_eq "X509v3 Subject Alternative Name:" "$(ext "$d/cert.pem" subjectAltName | sed -n 1p)" "SAN header of $def"
		# What the commit holds: the certificate, its key, the CA's index.
		files=$(git show --format= --name-only HEAD | LC_ALL=C sort)
		assert_contains "$files" "$d/cert.pem" "files of the issue commit"
		assert_contains "$files" "$d/chain.pem" "files of the issue commit"
		assert_contains "$files" "certs/$def/current" "files of the issue commit"
		assert_contains "$files" "$(key_file "$(key_id_of_cert "$def")" pem)" "files of the issue commit"
		assert_contains "$files" "$(issued_file "$ca" "$(serial_of "$d/cert.pem")")" "files of the issue commit"
		if [ "$ca" = root ]; then
			# A root signs directly: no intermediates to send.
			assert_eq 0 "$(ncerts "$d/chain.pem")" "certificates in the chain of $def"
			ok openssl verify -CAfile $ROOT "$d/cert.pem"
			# The root's CRL, OCSP and issuer URLs.
			assert_eq "URI:http://crl.example.com/root.crl" "$(ext "$d/cert.pem" crlDistributionPoints | grep URI)" "CRL DP of $def"
			aia=$(ext "$d/cert.pem" authorityInfoAccess)
			assert_contains "$aia" "OCSP - URI:http://ocsp.example.com/" "AIA of $def"
			assert_contains "$aia" "CA Issuers - URI:http://pki.example.com/root.crt" "AIA of $def"
		else
			# The chain is the intermediate only, never the root.
			assert_eq 1 "$(ncerts "$d/chain.pem")" "certificates in the chain of $def"
			assert_eq "$(fp ca/sub/cert.pem)" "$(fp "$d/chain.pem")" "chain of $def"
			ok openssl verify -CAfile $ROOT -untrusted "$d/chain.pem" "$d/cert.pem"
			_count
			if openssl verify -CAfile $ROOT "$d/cert.pem" >/dev/null 2>&1; then
				fail "$def verified without its intermediate"
			fi
			# sub was made without URLs: none in what it issues.
			assert_eq "" "$(ext "$d/cert.pem" crlDistributionPoints)" "CRL DP of $def"
			assert_eq "" "$(ext "$d/cert.pem" authorityInfoAccess)" "AIA of $def"
		fi
	done
done
# The default validity of a definition is 90 days.
ok openssl x509 -in "$(cur ecdsa-p-256-root)/cert.pem" -noout -checkend $((89 * 86400))
_count
if openssl x509 -in "$(cur ecdsa-p-256-root)/cert.pem" -noout -checkend $((91 * 86400)) >/dev/null; then
	fail "a default certificate valid for more than 90 days"
fi

# --- profiles ------------------------------------------------------------------------
ok_out out certctl -q define cli --cn "Client One" --san-email one@example.com --profile client --ca root
ok_out out certctl -q define both --dns both.example.com --profile server+client --ca sub --key ed25519
ok_out out certctl issue cli
check_leaf cli root ecdsa:P-256 client
check_commit cli root
ok_out out certctl issue both
check_leaf both sub ed25519 server+client
verify_leaf both $ROOT
# No subject: the SAN extension is critical (RFC 5280 4.2.1.6).
assert_eq "X509v3 Subject Alternative Name: critical" "$(ext "$(cur both)/cert.pem" subjectAltName | sed -n 1p)" "SAN of a subject-less certificate"
assert_eq "" "$(openssl x509 -in "$(cur both)/cert.pem" -noout -subject | sed 's/^subject=//')" "subject of both"
# --profile overrides the definition's.
ok_out out certctl issue ecdsa-p-256-sub --profile client
check_leaf ecdsa-p-256-sub sub ecdsa:P-256 client
expect_fail 1 "profile" certctl issue cli --profile nobody

# --- new key by default, --reuse-key keeps it -----------------------------------------
def=ecdsa-p-256-root
old=$(cur $def)
oldpub=$(cert_pub "$old/cert.pem")
keys0=$(find keys -type f | wc -l)
ok_out out certctl issue $def
new=$(cur $def)
assert_ne "$old" "$new" "certificate directory after a second issue"
assert_file "$old/cert.pem"
assert_ne "$oldpub" "$(cert_pub "$new/cert.pem")" "public key after issue without --reuse-key"
assert_ne "$(serial_of "$old/cert.pem")" "$(serial_of "$new/cert.pem")" "serial of the second certificate"
assert_eq $((keys0 + 2)) "$(find keys -type f | wc -l)" "files in keys/ after issuing with a new key"
check_leaf $def root ecdsa:P-256 server
newpub=$(cert_pub "$new/cert.pem")
ok_out out certctl issue $def --reuse-key
third=$(cur $def)
assert_ne "$new" "$third" "certificate directory after --reuse-key"
assert_eq "$newpub" "$(cert_pub "$third/cert.pem")" "public key after --reuse-key"
assert_eq "$(sed -n 's/^key_id: *//p' "$new/cert.yaml")" "$(key_id_of_cert $def)" "key id after --reuse-key"
assert_eq $((keys0 + 2)) "$(find keys -type f | wc -l)" "files in keys/ after --reuse-key"
assert_eq "" "$(git show --format= --name-only HEAD | grep '^keys/')" "keys in the --reuse-key commit"
check_leaf $def root ecdsa:P-256 server
check_commit $def root
# --key-id certifies a stored key.
ok_out kid certctl -q key generate --key ecdsa:P-384
ok_out out certctl issue ecdsa-p-384-root --key-id "$kid"
assert_eq "$kid" "$(key_id_of_cert ecdsa-p-384-root)" "key id after --key-id"
assert_eq "$(stored_pub "$kid")" "$(cert_pub "$(cur ecdsa-p-384-root)/cert.pem")" "public key after --key-id"
verify_leaf ecdsa-p-384-root $ROOT

# --- self-signed ----------------------------------------------------------------------
ok_out out certctl -q define selfy --cn selfy.example.com --dns selfy.example.com
n0=$(commits)
ok_out out certctl issue selfy --self-signed
assert_eq $((n0 + 1)) "$(commits)" "commits after issue --self-signed"
d=$(cur selfy)
assert_eq "$(openssl x509 -in "$d/cert.pem" -noout -subject | sed 's/^subject=//')" \
	"$(openssl x509 -in "$d/cert.pem" -noout -issuer | sed 's/^issuer=//')" "issuer of a self-signed certificate"
ok openssl verify -check_ss_sig -CAfile "$d/cert.pem" "$d/cert.pem"
assert_eq "X509v3 Basic Constraints: critical
CA:FALSE" "$(ext "$d/cert.pem" basicConstraints)" "basicConstraints of a self-signed leaf"
assert_eq "DNS:selfy.example.com" "$(sans "$d/cert.pem")" "SANs of selfy"
assert_eq "$(cert_pub "$d/cert.pem")" "$(stored_pub "$(key_id_of_cert selfy)")" "key of selfy"
assert_eq 0 "$(ncerts "$d/chain.pem")" "chain of a self-signed certificate"
check_serial "$d/cert.pem"
assert_match "$(git log -1 --format=%s)" "^issue: selfy: self-signed certificate $(serial_of "$d/cert.pem"), valid until " "commit subject"
assert_eq "" "$(trailer Certctl-CA)" "Certctl-CA of a self-signed certificate"
assert_eq "selfy" "$(trailer Certctl-Definition)" "Certctl-Definition"
assert_eq "" "$(grep -lx 'issued_to: selfy' ca/*/issued/*/*.yaml)" "index records of a self-signed certificate"
expect_fail 64 "self-signed" certctl issue selfy --self-signed --ca root

# --- revocation and CRLs ------------------------------------------------------------------
A=$(cur rsa-2048-root)/cert.pem
B=$(cur ed25519-root)/cert.pem
G=$(cur ecdsa-p-384-root)/cert.pem
SA=$(serial_of "$A")
SB=$(serial_of "$B")
# By serial number.
n0=$(commits)
ok_out out certctl ca revoke root "$SA" --reason keyCompromise
assert_eq $((n0 + 1)) "$(commits)" "commits after ca revoke"
assert_eq "ca: root: certificate $SA revoked (keyCompromise)" "$(git log -1 --format=%s)" "commit subject"
assert_eq "root" "$(trailer Certctl-CA)" "Certctl-CA"
assert_eq "ca revoke" "$(trailer Certctl-Operation)" "Certctl-Operation"
assert_eq "ca/root/issued/${SA:0:2}/$SA.yaml" "$(git show --format= --name-only HEAD)" "files of the revoke commit"
ok grep -qx 'status: revoked' "ca/root/issued/${SA:0:2}/$SA.yaml"
# By definition (its current certificate).
ok_out out certctl ca revoke root ed25519-root --reason superseded
assert_eq "ca: root: certificate $SB of ed25519-root revoked (superseded)" "$(git log -1 --format=%s)" "commit subject"
assert_eq "ed25519-root" "$(trailer Certctl-Definition)" "Certctl-Definition of a revocation by definition"
# Refusals (one look at the repository after all of them: it is large now).
snapshot
expect_fail 1 "already revoked" certctl ca revoke root "$SA"
expect_fail 1 "DEADBEEF" certctl ca revoke root deadbeef
expect_fail 1 "reason" certctl ca revoke root "$(serial_of "$G")" --reason bored
expect_fail 1 "sub" certctl ca revoke root ecdsa-p-256-sub
expect_fail 1 "no CA 'nope'" certctl ca revoke nope "$SA"
expect_fail 1 "serial|zz" certctl ca revoke root zz:zz
expect_fail 64 "SERIAL|DEF" certctl ca revoke root
assert_unchanged

n0=$(commits)
ok_out out certctl ca crl root --out "$T/out/crl1.pem"
assert_eq $((n0 + 1)) "$(commits)" "commits after ca crl"
assert_eq "ca: root: CRL published" "$(git log -1 --format=%s)" "commit subject"
assert_eq "root" "$(trailer Certctl-CA)" "Certctl-CA"
ok cmp ca/root/crl.pem "$T/out/crl1.pem"
verify=$(openssl crl -in "$T/out/crl1.pem" -CAfile $ROOT -verify -noout 2>&1)
assert_eq 0 $? "openssl crl -verify exit status"
assert_contains "$verify" "verify OK" "openssl crl -verify"
crl=$(openssl crl -in "$T/out/crl1.pem" -noout -text)
assert_eq "1" "$(printf '%s\n' "$crl" | sed -n '/CRL Number/{n;s/^ *//;p}')" "CRL number"
assert_eq "$(printf '%s\n%s\n' "$SA" "$SB" | LC_ALL=C sort)" \
	"$(printf '%s\n' "$crl" | sed -n 's/^ *Serial Number: *//p' | LC_ALL=C sort)" "serials in the CRL"
assert_eq "Key Compromise" "$(printf '%s\n' "$crl" | grep -A4 "Serial Number: $SA" | sed -n '/CRL Reason Code/{n;s/^ *//;p}')" \
	"reason of $SA in the CRL"
assert_eq "Superseded" "$(printf '%s\n' "$crl" | grep -A4 "Serial Number: $SB" | sed -n '/CRL Reason Code/{n;s/^ *//;p}')" \
	"reason of $SB in the CRL"
assert_eq "$(ext $ROOT subjectKeyIdentifier | sed -n 2p)" \
	"$(printf '%s\n' "$crl" | sed -n '/Authority Key Identifier/{n;s/^ *//;s/^keyid://;p}')" "AKI of the CRL"
assert_contains "$crl" "Issuer: CN = root" "issuer of the CRL"
# openssl verify honours it: the revoked fail, the others pass.
for c in "$A" "$B"; do
	_count
	if res=$(openssl verify -crl_check -CRLfile "$T/out/crl1.pem" -CAfile $ROOT "$c" 2>&1); then
		fail "openssl verify -crl_check accepted revoked $c: $res"
	fi
	assert_contains "$res" "certificate revoked" "openssl verify -crl_check of revoked $c"
done
ok openssl verify -crl_check -CRLfile "$T/out/crl1.pem" -CAfile $ROOT "$G"
ok openssl verify -crl_check -CRLfile "$T/out/crl1.pem" -CAfile $ROOT "$(cur ecdsa-p-256-root)/cert.pem"
# The next CRL has the next number (printed on stdout without --out).
ok_out out certctl ca crl root
printf '%s\n' "$out" >"$T/out/crl2.pem"
ok openssl crl -in "$T/out/crl2.pem" -CAfile $ROOT -verify -noout
assert_eq "2" "$(openssl crl -in "$T/out/crl2.pem" -noout -text | sed -n '/CRL Number/{n;s/^ *//;p}')" "second CRL number"
ok cmp ca/root/crl.pem "$T/out/crl2.pem"
ok grep -qx 'crl_number: 2' ca/root/ca.yaml
# The subordinate's own CRL: a two-level chain, checked at every level.
ok_out out certctl ca revoke sub rsa-2048-sub --reason cessationOfOperation
ok_out out certctl -q ca crl sub --out "$T/out/sub.crl"
ok openssl crl -in "$T/out/sub.crl" -CAfile ca/sub/cert.pem -verify -noout
assert_contains "$(openssl crl -in "$T/out/sub.crl" -noout -text)" "Cessation Of Operation" "reason in the CRL of sub"
cat "$T/out/crl2.pem" "$T/out/sub.crl" >"$T/out/both.crl"
d=$(cur rsa-2048-sub)
_count
if res=$(openssl verify -crl_check_all -CRLfile "$T/out/both.crl" -CAfile $ROOT -untrusted "$d/chain.pem" "$d/cert.pem" 2>&1); then
	fail "openssl verify accepted revoked rsa-2048-sub: $res"
fi
assert_contains "$res" "certificate revoked" "openssl verify of revoked rsa-2048-sub"
d=$(cur ecdsa-p-384-sub)
ok openssl verify -crl_check_all -CRLfile "$T/out/both.crl" -CAfile $ROOT -untrusted "$d/chain.pem" "$d/cert.pem"
# The index, as ca issued --json shows it.
ok_out out certctl ca issued root --json
json_check "$out" "
files = sorted('''$(find ca/root/issued -name '*.yaml' -printf '%f\n' | sed 's/\.yaml$//')'''.split())
assert d['schema'] == 'certctl.ca-issued/1' and d['ca'] == 'root', d
recs = {r['serial']: r for r in d['issued']}
assert sorted(recs) == files, (sorted(recs), files)
assert recs['$SA']['status'] == 'revoked' and recs['$SA']['reason'] == 'keyCompromise', recs['$SA']
assert recs['$SB']['status'] == 'revoked' and recs['$SB']['reason'] == 'superseded', recs['$SB']
assert recs['$SB']['issued_to'] == 'ed25519-root', recs['$SB']
assert recs['$SA']['revoked_at'], recs['$SA']
assert sorted(s for s, r in recs.items() if r['status'] == 'revoked') == sorted(['$SA', '$SB']), recs
assert all(r['status'] == 'valid' and r['revoked_at'] is None for s, r in recs.items() if s not in ('$SA', '$SB')), recs
assert recs['$(serial_of "$G")']['issued_to'] == 'ecdsa-p-384-root', recs
assert recs['$(serial_of ca/sub/cert.pem)']['issued_to'] == 'ca:sub', recs
"
ok_out out certctl ca issued sub
assert_match "$out" "^$(serial_of "$(cur rsa-2048-sub)/cert.pem") +revoked " "ca issued sub"
# An index record where an older version kept it (issued/SERIAL.yaml, no
# fan-out) is still read, and revoking it updates it where it is.
SF=$(serial_of "$(cur ecdsa-p-384-sub)/cert.pem")
git mv "$(issued_file sub "$SF")" "ca/sub/issued/$SF.yaml" && git commit -q -m "test: the flat layout" ||
	fail "cannot move $SF's record to the flat layout"
ok_out out certctl ca issued sub
assert_match "$out" "^$SF +valid " "ca issued sub with a record in the flat layout"
ok certctl ca revoke sub "$SF" --reason superseded
ok grep -qx 'status: revoked' "ca/sub/issued/$SF.yaml"
assert_no_file "$(issued_file sub "$SF")"

# --- batches -----------------------------------------------------------------------------
printf 'cli\n# a comment\n\nboth\n  ecdsa-p-384-root  \n' >"$T/names.txt"
before=$(for d in cli both ecdsa-p-384-root; do cat "certs/$d/current"; done)
n0=$(commits)
ok_out out certctl issue --batch "$T/names.txt"
assert_eq $((n0 + 3)) "$(commits)" "commits after a batch of three names"
assert_eq "issue: ecdsa-p-384-root
issue: both
issue: cli" "$(git log -3 --format=%s | cut -d: -f1-2)" "the batch's commits, one per name"
for d in cli both ecdsa-p-384-root; do
	assert_not_contains "$before" "$(cat "certs/$d/current")" "current certificate of $d after the batch"
	verify_leaf "$d" $ROOT
done
check_commit ecdsa-p-384-root root
cat >"$T/items.yaml" <<'EOF'
- name: b1.example.com
  profile: client
  validity: 60d
- name: b2.example.com
  key: ed25519
- cli
EOF
n0=$(commits)
ok_out out certctl issue --batch "$T/items.yaml" --ca root
assert_eq $((n0 + 3)) "$(commits)" "commits after a batch of YAML items"
assert_file definitions/b1.example.com.yaml
assert_file definitions/b2.example.com.yaml
assert_eq "b1.example.com" "$(trailer Certctl-Definition HEAD~2)" "Certctl-Definition of the first item"
assert_contains "$(git log -1 --format=%b HEAD~2)" "The definition was written by the batch." "commit body of a YAML item"
assert_contains "$(git show --format= --name-only HEAD~2)" "definitions/b1.example.com.yaml" "files of the first item's commit"
check_leaf b1.example.com root ecdsa:P-256 client
check_leaf b2.example.com root ed25519 server
assert_eq "DNS:b1.example.com" "$(sans "$(cur b1.example.com)/cert.pem")" "SANs of b1.example.com"
assert_eq "CN = b1.example.com" "$(openssl x509 -in "$(cur b1.example.com)/cert.pem" -noout -subject | sed 's/^subject=//')" "subject of b1.example.com"
ok openssl x509 -in "$(cur b1.example.com)/cert.pem" -noout -checkend $((59 * 86400))
_count
if openssl x509 -in "$(cur b1.example.com)/cert.pem" -noout -checkend $((61 * 86400)) >/dev/null; then
	fail "b1.example.com valid for more than 60 days"
fi
verify_leaf b2.example.com $ROOT
# --one-commit: exactly one commit for all, with every trailer.
n0=$(commits)
ok_out out certctl issue --batch "$T/items.yaml" --ca root --one-commit --json
assert_eq $((n0 + 1)) "$(commits)" "commits after --one-commit"
assert_eq "issue: 3 certificates issued in one batch" "$(git log -1 --format=%s)" "commit subject of --one-commit"
assert_eq "b1.example.com
b2.example.com
cli" "$(trailer Certctl-Definition)" "Certctl-Definition trailers of --one-commit"
json_check "$out" "
assert d['schema'] == 'certctl.issue/1' and d['issued'] == 3, d
got = {r['definition']: r for r in d['results']}
assert sorted(got) == ['b1.example.com', 'b2.example.com', 'cli'], got
assert got['b1.example.com']['certificate']['sha256'] == '$(fp "$(cur b1.example.com)/cert.pem")', got
assert got['b2.example.com']['certificate']['serial'] == '$(serial_of "$(cur b2.example.com)/cert.pem")', got
assert got['cli']['certificate']['sha256'] == '$(fp "$(cur cli)/cert.pem")', got
assert all(r['ca'] == 'root' for r in d['results']), d
"
for d in b1.example.com b2.example.com cli; do
	assert_contains "$(git show --format= --name-only HEAD)" "$(cur $d)/cert.pem" "files of the --one-commit commit"
	verify_leaf "$d" $ROOT
done
# From standard input.
n0=$(commits)
printf 'b2.example.com\n' | ok_out out certctl issue --batch - --ca root
assert_eq $((n0 + 1)) "$(commits)" "commits after a batch from stdin"
check_commit b2.example.com root
snapshot
expect_fail 64 "batch" certctl issue cli --batch "$T/names.txt"
expect_fail 64 "one-commit" certctl issue cli --one-commit
expect_fail 1 "nothere" certctl issue --batch "$T/nothere.txt"
assert_unchanged

# --- --json for one definition -------------------------------------------------------------
ok_out out certctl issue ecdsa-p-384-sub --json
d=$(cur ecdsa-p-384-sub)
json_check "$out" "
assert d['schema'] == 'certctl.issue/1' and d['issued'] == 1, d
r = d['results'][0]
assert r['definition'] == 'ecdsa-p-384-sub' and r['ca'] == 'sub', r
c = r['certificate']
assert c['sha256'] == '$(fp "$d/cert.pem")', c
assert c['serial'] == '$(serial_of "$d/cert.pem")', c
assert c['id'] == '${d##*/}', c
assert c['issuer'] == 'CN=sub' and c['ca'] is False, c
assert sorted(c['san']) == sorted(['DNS:ecdsa-p-384-sub.example.com', 'DNS:www.ecdsa-p-384-sub.example.com', 'IP:192.0.2.10', 'IP:2001:db8::1', 'email:ops@example.com', 'URI:https://ecdsa-p-384-sub.example.com/app']), c
"
verify_leaf ecdsa-p-384-sub $ROOT

# --- --p12-out ------------------------------------------------------------------------------
ok_out out certctl -q define client2 --cn "Client Two" --profile client --ca sub --key rsa:2048
printf 'p12 pass\n' >"$T/p12.pass"
umask 022
ok_out out certctl issue client2 --p12-out "$T/out/client2.p12" --p12-passphrase-file "$T/p12.pass"
assert_mode 600 "$T/out/client2.p12"
ok openssl pkcs12 -info -in "$T/out/client2.p12" -passin "file:$T/p12.pass" -noout
openssl pkcs12 -in "$T/out/client2.p12" -passin "file:$T/p12.pass" -clcerts -nokeys -out "$T/out/p12-cert.pem" 2>/dev/null
openssl pkcs12 -in "$T/out/client2.p12" -passin "file:$T/p12.pass" -cacerts -nokeys -out "$T/out/p12-ca.pem" 2>/dev/null
openssl pkcs12 -in "$T/out/client2.p12" -passin "file:$T/p12.pass" -nocerts -nodes -out "$T/out/p12-key.pem" 2>/dev/null
d=$(cur client2)
assert_eq "$(fp "$d/cert.pem")" "$(fp "$T/out/p12-cert.pem")" "certificate in the PKCS#12"
assert_eq "$(cert_pub "$d/cert.pem")" "$(openssl pkey -in "$T/out/p12-key.pem" -pubout -outform DER | sha256sum | cut -c1-64)" \
	"key in the PKCS#12 against the certificate"
assert_eq "$(openssl pkey -in "$(key_file "$(key_id_of_cert client2)" pem)" -passin "file:$SECRET" -outform DER | sha256sum)" \
	"$(openssl pkey -in "$T/out/p12-key.pem" -outform DER | sha256sum)" "key in the PKCS#12 against the stored key"
assert_eq 1 "$(ncerts "$T/out/p12-ca.pem")" "CA certificates in the PKCS#12"
assert_eq "$(fp ca/sub/cert.pem)" "$(fp "$T/out/p12-ca.pem")" "chain in the PKCS#12"
ok openssl verify -CAfile $ROOT -untrusted "$T/out/p12-ca.pem" "$T/out/p12-cert.pem"
check_leaf client2 sub rsa:2048 client
_count
if openssl pkcs12 -in "$T/out/client2.p12" -passin pass:wrong -noout 2>/dev/null; then
	fail "openssl read the PKCS#12 with a wrong password"
fi
CERTCTL_P12_PASSPHRASE='env pass' ok_out out certctl issue cli --p12-out "$T/out/cli.p12"
ok openssl pkcs12 -in "$T/out/cli.p12" -passin 'pass:env pass' -noout
openssl pkcs12 -in "$T/out/cli.p12" -passin 'pass:env pass' -clcerts -nokeys -out "$T/out/cli-cert.pem" 2>/dev/null
assert_eq "$(fp "$(cur cli)/cert.pem")" "$(fp "$T/out/cli-cert.pem")" "certificate in the PKCS#12 from \$CERTCTL_P12_PASSPHRASE"
expect_fail 64 "p12-out" certctl issue cli both --p12-out "$T/out/two.p12" --p12-passphrase-file "$T/p12.pass"
assert_no_file "$T/out/two.p12"

# --- the end of the main repository ----------------------------------------------------------
ok git fsck --full --no-progress --no-dangling
ok_out out certctl fsck
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"

# ===========================================================================================
# The cases below fail against the current code (bugs reported); they come
# last, in a small repository of their own, so that everything above runs.
cd "$T" || fail "no $T"
ok_out out certctl -q init side
cd side || fail "no side repository"
SECRET=$(secret_file)
ok_out out certctl -q ca init root --key ecdsa:P-256
ok_out out certctl -q define one --dns one.example.com
ok_out out certctl -q define two --dns two.example.com --profile client
ok_out out certctl issue one
ok_out out certctl issue two

# A corrupted CA key that still decrypts (bytes flipped inside the private
# scalar): openssl sees a broken key pair; certctl must refuse and say that
# the CA's key is damaged, not blame the certificate.
CAKEY=$(key_file "$(sed -n 's/^key: *//p' ca/root/ca.yaml)" pem)
cp "$CAKEY" "$T/side-cakey.orig"
damage_key "$CAKEY" scalar
ok openssl pkey -in "$CAKEY" -passin "file:$SECRET" -noout
_count
if openssl pkey -in "$CAKEY" -passin "file:$SECRET" -noout -check >/dev/null 2>&1; then
	fail "the damaged CA key still passes openssl pkey -check"
fi
snapshot
expect_fail 1 "keys/|key" certctl issue one
assert_unchanged
cp "$T/side-cakey.orig" "$CAKEY"

# A revocation by serial in openssl's colon form: the commit names the
# serial as the index and the CRL do.
S1=$(serial_of "$(cur one)/cert.pem")
colon=$(printf '%s' "$S1" | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//')
ok_out out certctl ca revoke root "$colon" --reason keyCompromise
ok grep -qx 'status: revoked' "ca/root/issued/${S1:0:2}/$S1.yaml"
assert_eq "ca: root: certificate $S1 revoked (keyCompromise)" "$(git log -1 --format=%s)" "commit subject of a revocation by colon serial"

# A name outside the constraints: the message names the constraint.
ok_out out certctl -q ca init nc --key ed25519 --permit-dns example.com --permit-ip 192.0.2.0/24
ok_out out certctl -q define nc-dns --dns app.example.org --ca nc
ok_out out certctl -q define nc-ip --dns ip.example.com --ip 198.51.100.7 --ca nc
expect_fail 1 "constraint" certctl issue nc-dns
assert_contains "$FAIL_MSG" "example.com" "message naming the permitted DNS subtree"
expect_fail 1 "constraint" certctl issue nc-ip
assert_contains "$FAIL_MSG" "192.0.2.0" "message naming the permitted IP range"

# Refusals of --p12-out happen before anything is issued.
printf 'p12 pass\n' >"$T/side-p12.pass"
echo precious >"$T/out/exists.p12"
snapshot
expect_fail 1 "exists" certctl issue two --p12-out "$T/out/exists.p12" --p12-passphrase-file "$T/side-p12.pass"
assert_eq precious "$(cat "$T/out/exists.p12")" "existing --p12-out file"
assert_unchanged
expect_fail 1 "passphrase" certctl issue two --p12-out "$T/out/nopass.p12"
assert_no_file "$T/out/nopass.p12"
assert_unchanged

# --one-commit with a bad item: nothing at all, and nothing said to be issued.
printf 'one\nnosuchdef\n' >"$T/bad.txt"
snapshot
expect_fail 1 "nosuchdef" certctl issue --batch "$T/bad.txt" --one-commit
assert_not_contains "$FAIL_OUT" "issued" "output of a batch that was rolled back"
assert_unchanged

# A YAML batch may start with a comment.
printf '# renewals\n- name: c1.example.com\n- two\n' >"$T/commented.yaml"
n0=$(commits)
ok_out out certctl issue --batch "$T/commented.yaml"
assert_eq $((n0 + 2)) "$(commits)" "commits after a YAML batch that starts with a comment"

# YAML items with subject and SANs (as the batch's own error message suggests).
cat >"$T/nested.yaml" <<'EOF'
- name: b3
  subject: {cn: b3.example.com}
  san: {dns: [b3.example.com, www.b3.example.com], ip: [192.0.2.33]}
EOF
ok_out out certctl issue --batch "$T/nested.yaml"
assert_eq "DNS:b3.example.com
DNS:www.b3.example.com
IP Address:192.0.2.33" "$(sans "$(cur b3)/cert.pem")" "SANs of a nested YAML batch item"

# A self-signed certificate of a definition without a subject still has a
# non-empty issuer (RFC 5280 4.1.2.4).
ok_out out certctl -q define selfless --dns selfless.example.com
ok_out out certctl issue selfless --self-signed
assert_ne "" "$(openssl x509 -in "$(cur selfless)/cert.pem" -noout -issuer | sed 's/^issuer=//')" "issuer of a self-signed certificate without subject"

# Certificate policies of the CA go into what it issues.
ok_out out certctl -q ca init pol --key ecdsa:P-256 --policy 2.23.140.1.2.1 --policy 1.3.6.1.4.1.99999.1
ok_out out certctl -q define pol-leaf --dns pol.example.com --ca pol
ok_out out certctl issue pol-leaf
pol=$(ext "$(cur pol-leaf)/cert.pem" certificatePolicies)
assert_contains "$pol" "Policy: 2.23.140.1.2.1" "policies of pol-leaf"
assert_contains "$pol" "Policy: 1.3.6.1.4.1.99999.1" "policies of pol-leaf"
verify_leaf pol-leaf ca/pol/cert.pem

finish
