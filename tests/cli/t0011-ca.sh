#!/bin/bash
# certctl ca: root CAs of every key type, subordinates and path lengths,
# name constraints, the external flow (CSR out, signed by openssl as an
# outside root, installed from PEM, DER and P7B), imports from PEM, an
# encrypted key and PKCS#12 (modern and legacy RC2), list/show/export and
# the default CA.  Certificates are read with openssl x509/req/verify, keys
# decrypted by openssl with the repository secret, history with git log.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
assert_file "$SECRET"
mkdir "$T/ext" "$T/in" "$T/out"

# trailer KEY: the values of the trailer KEY of the last commit.
trailer() {
	git log -1 --format="%(trailers:key=$1,valueonly)" | sed '/^$/d'
}
# ext FILE NAME: openssl's text of one extension of a PEM certificate, its
# header line ("X509v3 Basic Constraints: critical") first, spaces trimmed.
ext() {
	openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | sed 's/^ *//; s/ *$//'
}
# fp FILE [FORM]: SHA-256 fingerprint of a certificate, lowercase hex.
fp() {
	openssl x509 -in "$1" -inform "${2:-PEM}" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# cert_pub FILE: SHA-256 of the certificate's SubjectPublicKeyInfo DER.
cert_pub() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
# stored_pub ID: the same for the stored key ID, decrypted with the secret.
stored_pub() {
	openssl pkey -in "keys/${1:0:2}/$1.pem" -passin "file:$SECRET" -pubout -outform DER | sha256sum | cut -c1-64
}
# ca_key NAME: the key id in ca/NAME/ca.yaml.
ca_key() {
	sed -n 's/^key: *//p' "ca/$1/ca.yaml"
}
# subjects FILE: the subjects of the certificates in a PEM file, in order.
subjects() {
	if grep -q -- '-----BEGIN CERTIFICATE-----' "$1"; then
		openssl crl2pkcs7 -nocrl -certfile "$1" | openssl pkcs7 -print_certs -noout |
			sed -n 's/^subject=//p'
	fi
}
# ncerts FILE: how many certificates a PEM file holds.
ncerts() {
	grep -c -- '-----BEGIN CERTIFICATE-----' "$1"
}
# check_ca_key NAME SPEC: the CA's key is in keys/, 0600, encrypted under
# the repository secret, of type SPEC, and is the key of its certificate.
check_ca_key() {
	local name=$1 spec=$2 id text
	id=$(ca_key "$name")
	assert_match "$id" '^[0-9a-f]{16}$' "key of CA $name"
	assert_file "keys/${id:0:2}/$id.pem"
	assert_mode 600 "keys/${id:0:2}/$id.pem"
	ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "keys/${id:0:2}/$id.pem"
	_count
	if openssl pkey -in "keys/${id:0:2}/$id.pem" -passin pass:wrong -noout 2>/dev/null; then
		fail "openssl read the key of CA $name with a wrong passphrase"
	fi
	text=$(openssl pkey -in "keys/${id:0:2}/$id.pem" -passin "file:$SECRET" -noout -text)
	case $spec in
	rsa:2048) assert_contains "$text" "Private-Key: (2048 bit" "key of CA $name" ;;
	ecdsa:P-256) assert_match "$text" "NIST CURVE: P-256|prime256v1" "key of CA $name" ;;
	ecdsa:P-384) assert_match "$text" "NIST CURVE: P-384|secp384r1" "key of CA $name" ;;
	ed25519) assert_contains "$text" "ED25519 Private-Key" "key of CA $name" ;;
	esac
	assert_eq "$(cert_pub "ca/$name/cert.pem")" "$(stored_pub "$id")" "public key of CA $name against its stored key"
	assert_eq "$id" "$(stored_pub "$id" | cut -c1-16)" "key id of CA $name"
}
# check_ca_extensions FILE PATHLEN: what openssl shows of a CA certificate.
check_ca_extensions() {
	local bc ku
	bc=$(ext "$1" basicConstraints)
	assert_contains "$bc" "X509v3 Basic Constraints: critical" "basicConstraints of $1"
	if [ -n "$2" ]; then
		assert_contains "$bc" "CA:TRUE, pathlen:$2" "basicConstraints of $1"
	else
		assert_eq "CA:TRUE" "$(printf '%s\n' "$bc" | sed -n 2p)" "basicConstraints of $1"
	fi
	ku=$(ext "$1" keyUsage)
	assert_contains "$ku" "X509v3 Key Usage: critical" "keyUsage of $1"
	assert_contains "$ku" "Certificate Sign" "keyUsage of $1"
	assert_contains "$ku" "CRL Sign" "keyUsage of $1"
	assert_match "$(ext "$1" subjectKeyIdentifier)" '^([0-9A-F]{2}:){19}[0-9A-F]{2}$' "subjectKeyIdentifier of $1"
}

# --- a root CA --------------------------------------------------------------
n0=$(commits)
ok_out out certctl ca init root --path-len 1 --org "Example Org" --country DE
assert_eq $((n0 + 1)) "$(commits)" "commits after ca init root"
assert_eq "ca: root: root CA created" "$(git log -1 --format=%s)" "commit subject"
assert_eq "root" "$(trailer Certctl-CA)" "Certctl-CA"
assert_eq "ca init" "$(trailer Certctl-Operation)" "Certctl-Operation"
K=$(ca_key root)
assert_eq "ca/root/ca.yaml
ca/root/cert.pem
ca/root/chain.pem
keys/${K:0:2}/$K.pem
keys/${K:0:2}/$K.yaml" "$(git show --format= --name-only HEAD | LC_ALL=C sort)" "files of the ca init commit"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
ok grep -qx 'status: active' ca/root/ca.yaml
ok grep -qx 'default: true' ca/root/ca.yaml
R=ca/root/cert.pem
text=$(openssl x509 -in $R -noout -text)
check_ca_extensions $R 1
assert_eq "CN=root,O=Example Org,C=DE" "$(openssl x509 -in $R -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" "subject of root"
assert_eq "$(openssl x509 -in $R -noout -subject)" "$(openssl x509 -in $R -noout -issuer | sed 's/^issuer=/subject=/')" "root is self-issued"
assert_contains "$text" "ecdsa-with-SHA384" "signature of the default P-384 root"
ok openssl verify -CAfile $R $R
ok openssl verify -check_ss_sig -CAfile $R $R
assert_eq "" "$(ext $R authorityKeyIdentifier)" "authorityKeyIdentifier of a root"
# The default validity is ten years.
ok openssl x509 -in $R -noout -checkend $((3650 * 86400 - 3600))
_count
if openssl x509 -in $R -noout -checkend $((3650 * 86400 + 3600)) >/dev/null; then
	fail "root valid for more than ten years"
fi
# A root has no chain above it.
assert_eq 0 "$(ncerts ca/root/chain.pem)" "certificates in the chain of a root"
check_ca_key root ecdsa:P-384
assert_contains "$(git show "HEAD:keys/${K:0:2}/$K.pem")" "BEGIN ENCRYPTED PRIVATE KEY" "committed CA key"

# --- every key type -----------------------------------------------------------
for spec in rsa:2048 ecdsa:P-256 ecdsa:P-384 ed25519; do
	name=k-$(printf '%s' "$spec" | tr ':[:upper:]' '-[:lower:]')
	ok_out out certctl ca init "$name" --key "$spec" --validity 3y
	assert_eq "ca: $name: root CA created" "$(git log -1 --format=%s)" "commit subject"
	assert_eq "$name" "$(trailer Certctl-CA)" "Certctl-CA"
	c=ca/$name/cert.pem
	check_ca_extensions "$c" ""
	ok openssl verify -check_ss_sig -CAfile "$c" "$c"
	text=$(openssl x509 -in "$c" -noout -text)
	case $spec in
	rsa:2048) assert_contains "$text" "Public-Key: (2048 bit)" "$c"
		assert_contains "$text" "sha256WithRSAEncryption" "$c" ;;
	ecdsa:P-256) assert_contains "$text" "NIST CURVE: P-256" "$c"
		assert_contains "$text" "ecdsa-with-SHA256" "$c" ;;
	ecdsa:P-384) assert_contains "$text" "NIST CURVE: P-384" "$c"
		assert_contains "$text" "ecdsa-with-SHA384" "$c" ;;
	ed25519) assert_contains "$text" "Public Key Algorithm: ED25519" "$c"
		assert_contains "$text" "Signature Algorithm: ED25519" "$c" ;;
	esac
	ok openssl x509 -in "$c" -noout -checkend $((1095 * 86400 - 3600))
	ok grep -qx 'default: false' "ca/$name/ca.yaml"
	check_ca_key "$name" "$spec"
done
snapshot
expect_fail 1 "rsa:1024|size|key" certctl ca init k-weak --key rsa:1024
assert_unchanged
expect_fail 1 "exists" certctl ca init root
assert_unchanged
expect_fail 1 "name" certctl ca init ../evil
assert_unchanged
assert_no_file ../evil

# --- subordinates and path lengths --------------------------------------------
ok_out out certctl ca init sub --parent root --validity 2y
assert_eq "ca: sub: subordinate CA created under root" "$(git log -1 --format=%s)" "commit subject"
assert_eq "sub" "$(trailer Certctl-CA)" "Certctl-CA"
S=ca/sub/cert.pem
check_ca_extensions $S ""
ok openssl verify -CAfile $R $S
assert_eq "CN=root,O=Example Org,C=DE" "$(openssl x509 -in $S -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" "issuer of sub"
assert_eq "$(ext $R subjectKeyIdentifier | sed -n 2p)" "$(ext $S authorityKeyIdentifier | sed -n 2p)" "AKI of sub = SKI of root"
ok openssl x509 -in $S -noout -checkend $((730 * 86400 - 3600))
# Its chain is its parent.
assert_eq 1 "$(ncerts ca/sub/chain.pem)" "certificates in the chain of sub"
assert_eq "$(fp $R)" "$(fp ca/sub/chain.pem)" "chain of sub"
check_ca_key sub ecdsa:P-384
ok grep -qx 'parent: root' ca/sub/ca.yaml
# The parent's index records it.
serial=$(openssl x509 -in $S -noout -serial | sed 's/^serial=//')
assert_file "ca/root/issued/${serial:0:2}/$serial.yaml"
ok grep -qx 'issued_to: ca:sub' "ca/root/issued/${serial:0:2}/$serial.yaml"
assert_contains "$(git show --format= --name-only HEAD)" "ca/root/issued/${serial:0:2}/$serial.yaml" "files of the sub commit"

# root has pathlen 1: one CA level below it, not two.
ok_out out certctl ca init sub0 --parent root --path-len 0 --key ed25519
check_ca_extensions ca/sub0/cert.pem 0
ok openssl verify -CAfile $R ca/sub0/cert.pem
snapshot
expect_fail 1 "sub0.*path length|path length.*sub0" certctl ca init below0 --parent sub0
assert_contains "$FAIL_MSG" "0" "message of a refused sub-CA"
assert_unchanged
assert_no_file ca/below0/ca.yaml
expect_fail 1 "path length" certctl ca init below-sub --parent sub
assert_contains "$FAIL_MSG" "root" "message naming the ancestor with the path length"
assert_unchanged
# Unknown parent, a parent it would outlive.
expect_fail 1 "no CA 'nope'" certctl ca init orphan --parent nope
assert_unchanged
expect_fail 1 "outlive" certctl ca init long --parent root --validity 20y
assert_contains "$FAIL_MSG" "root" "message of a sub-CA outliving its parent"
assert_unchanged
expect_fail 64 "--external|--csr-out" certctl ca init x --csr-out "$T/x.csr"
assert_unchanged
assert_no_file "$T/x.csr"

# Three levels without path lengths: openssl verifies the whole chain.
ok_out out certctl -q ca init tree-root --key ed25519
ok_out out certctl -q ca init tree-mid --parent tree-root --key ecdsa:P-256
ok_out out certctl -q ca init tree-low --parent tree-mid --key ed25519
assert_eq "CN=tree-mid
CN=tree-root" "$(subjects ca/tree-low/chain.pem | sed 's/ = /=/')" "chain of tree-low, nearest first"
ok openssl verify -CAfile ca/tree-root/cert.pem -untrusted ca/tree-low/chain.pem ca/tree-low/cert.pem
_count
if openssl verify -CAfile ca/tree-root/cert.pem ca/tree-low/cert.pem >/dev/null 2>&1; then
	fail "tree-low verified without its intermediate"
fi

# --- name constraints -----------------------------------------------------------
ok_out out certctl ca init nc --key ecdsa:P-256 --permit-dns example.com --permit-dns .example.org \
	--exclude-dns secret.example.com --permit-ip 10.0.0.0/8 --permit-ip fd00::/8 --exclude-ip 10.66.0.0/16
nc=$(ext ca/nc/cert.pem nameConstraints)
assert_contains "$nc" "X509v3 Name Constraints: critical" "name constraints"
assert_eq "Permitted:
DNS:example.com
DNS:.example.org
IP:10.0.0.0/255.0.0.0
IP:FD00:0:0:0:0:0:0:0/FF00:0:0:0:0:0:0:0
Excluded:
DNS:secret.example.com
IP:10.66.0.0/255.255.0.0" "$(printf '%s\n' "$nc" | sed 1d)" "name constraints"
ok openssl verify -CAfile ca/nc/cert.pem ca/nc/cert.pem
snapshot
expect_fail 1 "10.0.0.1/8" certctl ca init nc-bad --permit-ip 10.0.0.1/8
assert_unchanged
expect_fail 1 "exa mple" certctl ca init nc-bad --permit-dns "exa mple"
assert_unchanged

# --- the external flow ------------------------------------------------------------
# An outside root (and an intermediate under it) made with openssl.
(
	cd "$T/ext" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
		-subj /CN=ExtRoot -days 3650 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key \
			-subj /CN=ExtInter -out inter.csr 2>/dev/null &&
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ca.ext &&
		openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -days 3000 -extfile ca.ext \
			-out inter.pem 2>/dev/null
) || fail "cannot make the outside root"
ok openssl verify -CAfile "$T/ext/root.pem" "$T/ext/inter.pem"

n0=$(commits)
ok_out out certctl ca init ext --external --csr-out "$T/ext/ext.csr" --org "Example Org"
assert_eq $((n0 + 1)) "$(commits)" "commits after ca init --external"
assert_eq "ca: ext: key and CSR made for an external CA" "$(git log -1 --format=%s)" "commit subject"
assert_eq "ext" "$(trailer Certctl-CA)" "Certctl-CA"
assert_contains "$out" "ca install ext" "what ca init --external says"
ok grep -qx 'status: pending' ca/ext/ca.yaml
assert_no_file ca/ext/cert.pem
assert_eq "$(cat ca/ext/request.csr)" "$(cat "$T/ext/ext.csr")" "the CSR written and the one in the repository"
ok openssl req -verify -in "$T/ext/ext.csr" -noout
req=$(openssl req -in "$T/ext/ext.csr" -noout -text)
assert_contains "$req" "Subject: O = Example Org, CN = ext" "subject of the CSR"
assert_contains "$(printf '%s\n' "$req" | sed -n '/Requested Extensions/,/Signature Algorithm/p')" "CA:TRUE" "CSR extensions"
assert_contains "$req" "X509v3 Basic Constraints: critical" "CSR extensions"
assert_contains "$req" "Certificate Sign" "CSR extensions"
check_csr_key() {
	assert_eq "$(stored_pub "$(ca_key "$1")")" \
		"$(openssl req -in "$2" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)" \
		"public key of the CSR of $1"
}
check_csr_key ext "$T/ext/ext.csr"
assert_mode 600 "$(key_file "$(ca_key ext)" pem)"
# The CSR on standard output when there is no --csr-out.
ok_out out certctl ca init extder --external
assert_eq "$(cat ca/extder/request.csr)" "$(printf '%s\n' "$out" | sed -n '/-----BEGIN CERTIFICATE REQUEST-----/,/-----END CERTIFICATE REQUEST-----/p')" \
	"CSR printed by ca init --external"
ok openssl req -verify -in ca/extder/request.csr -noout
check_csr_key extder ca/extder/request.csr
ok_out out certctl -q ca init extp7b --external --csr-out "$T/ext/extp7b.csr" --key ecdsa:P-256
ok_out out certctl -q ca init extpend --external --csr-out "$T/ext/extpend.csr"

# The outside CA signs (openssl x509 -req -CA, copying the CA extensions).
sign() { # sign CSR OUT ISSUER [x509 options]
	local csr=$1 out=$2 issuer=$3
	shift 3
	openssl x509 -req -in "$csr" -CA "$T/ext/$issuer.pem" -CAkey "$T/ext/$issuer.key" -days 1000 "$@" \
		-out "$out" 2>/dev/null || fail "openssl cannot sign $csr"
}
sign "$T/ext/ext.csr" "$T/ext/ext.pem" root -copy_extensions copyall
sign ca/extder/request.csr "$T/ext/extder.pem" root -copy_extensions copyall
openssl x509 -in "$T/ext/extder.pem" -outform DER -out "$T/ext/extder.der"
sign "$T/ext/extp7b.csr" "$T/ext/extp7b.pem" inter -copy_extensions copyall
openssl crl2pkcs7 -nocrl -certfile "$T/ext/extp7b.pem" -out "$T/ext/extp7b.p7b"
openssl crl2pkcs7 -nocrl -certfile "$T/ext/inter.pem" -certfile "$T/ext/root.pem" -outform DER -out "$T/ext/upper.p7b"
ok grep -q -- '-----BEGIN PKCS7-----' "$T/ext/extp7b.p7b"
ok openssl pkcs7 -inform DER -in "$T/ext/upper.p7b" -noout
assert_contains "$(openssl x509 -in "$T/ext/ext.pem" -noout -text)" "CA:TRUE" "the externally signed certificate"
# A certificate for another key, and one for the right key but not a CA.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ext/other.key" \
	-subj /CN=ext -out "$T/ext/other.csr" 2>/dev/null
sign "$T/ext/other.csr" "$T/ext/other.pem" root -extfile "$T/ext/ca.ext"
printf 'basicConstraints=critical,CA:FALSE\n' >"$T/ext/leaf.ext"
sign "$T/ext/ext.csr" "$T/ext/notca.pem" root -extfile "$T/ext/leaf.ext"

snapshot
expect_fail 1 "key" certctl ca install ext --cert "$T/ext/other.pem" --chain "$T/ext/root.pem"
assert_contains "$FAIL_MSG" "$(stored_pub "$(ca_key ext)")" "mismatch message: the CA key's fingerprint"
assert_contains "$FAIL_MSG" "$(cert_pub "$T/ext/other.pem")" "mismatch message: the certificate key's fingerprint"
assert_unchanged
expect_fail 1 "CA:TRUE|not a CA" certctl ca install ext --cert "$T/ext/notca.pem" --chain "$T/ext/root.pem"
assert_unchanged
expect_fail 1 "CN=ExtRoot" certctl ca install ext --cert "$T/ext/ext.pem"
assert_contains "$FAIL_MSG" "root" "message of a chain that does not reach a root"
assert_unchanged
expect_fail 1 "CN=ExtInter" certctl ca install extp7b --cert "$T/ext/extp7b.p7b"
assert_unchanged
expect_fail 1 "CN=ExtRoot" certctl ca install extp7b --cert "$T/ext/extp7b.p7b" --chain "$T/ext/inter.pem"
assert_unchanged
expect_fail 1 "ca/nope|no CA 'nope'" certctl ca install nope --cert "$T/ext/ext.pem" --chain "$T/ext/root.pem"
assert_unchanged
expect_fail 1 "already" certctl ca install root --cert "$T/ext/ext.pem" --chain "$T/ext/root.pem"
assert_unchanged
expect_fail 64 "--cert" certctl ca install ext
assert_unchanged

# PEM certificate, PEM chain.
n0=$(commits)
ok_out out certctl ca install ext --cert "$T/ext/ext.pem" --chain "$T/ext/root.pem"
assert_eq $((n0 + 1)) "$(commits)" "commits after ca install"
assert_eq "ca: ext: certificate from the external CA installed" "$(git log -1 --format=%s)" "commit subject"
assert_eq "ext" "$(trailer Certctl-CA)" "Certctl-CA"
assert_eq "ca install" "$(trailer Certctl-Operation)" "Certctl-Operation"
ok grep -qx 'status: active' ca/ext/ca.yaml
assert_eq "$(fp "$T/ext/ext.pem")" "$(fp ca/ext/cert.pem)" "installed certificate"
assert_eq "$(fp "$T/ext/root.pem")" "$(fp ca/ext/chain.pem)" "installed chain"
ok openssl verify -CAfile "$T/ext/root.pem" ca/ext/cert.pem
check_ca_key ext ecdsa:P-384
snapshot
expect_fail 1 "already" certctl ca install ext --cert "$T/ext/ext.pem" --chain "$T/ext/root.pem"
assert_unchanged
# DER certificate.
ok_out out certctl ca install extder --cert "$T/ext/extder.der" --chain "$T/ext/root.pem"
assert_eq "$(fp "$T/ext/extder.der" DER)" "$(fp ca/extder/cert.pem)" "installed DER certificate"
ok openssl verify -CAfile "$T/ext/root.pem" -untrusted ca/extder/chain.pem ca/extder/cert.pem
# P7B certificate, DER P7B chain of intermediate and root.
ok_out out certctl ca install extp7b --cert "$T/ext/extp7b.p7b" --chain "$T/ext/upper.p7b"
assert_eq "$(fp "$T/ext/extp7b.pem")" "$(fp ca/extp7b/cert.pem)" "installed P7B certificate"
assert_eq "CN=ExtInter
CN=ExtRoot" "$(subjects ca/extp7b/chain.pem | sed 's/ = /=/')" "chain of extp7b, nearest first"
ok openssl verify -CAfile "$T/ext/root.pem" -untrusted ca/extp7b/chain.pem ca/extp7b/cert.pem
check_ca_key extp7b ecdsa:P-256

# --- import -------------------------------------------------------------------------
(
	cd "$T/in" || exit 1
	# A PEM root with its clear key.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pem.key -out pem.pem \
		-subj /CN=ImpPem -days 800 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		# An RSA root with an encrypted PKCS#8 key.
		openssl req -x509 -newkey rsa:2048 -passout pass:enc-secret -keyout enc.key -out enc.pem \
			-subj /CN=ImpEnc -days 800 -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		printf 'enc-secret\n' >enc.pass && printf 'wrong\n' >wrong.pass &&
		# A subordinate of ImpPem in a modern PKCS#12 with its parent.
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout p12.key \
			-subj /CN=ImpP12 -out p12.csr 2>/dev/null &&
		openssl x509 -req -in p12.csr -CA pem.pem -CAkey pem.key -days 500 -extfile "$T/ext/ca.ext" \
			-out p12.pem 2>/dev/null &&
		printf 'p12 secret\n' >p12.pass &&
		openssl pkcs12 -export -in p12.pem -inkey p12.key -certfile pem.pem -passout file:p12.pass \
			-out modern.p12 &&
		# A root in a legacy (RC2-40) PKCS#12.
		openssl req -x509 -newkey ed25519 -nodes -keyout legacy.key -out legacy.pem \
			-subj /CN=ImpLegacy -days 800 -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		openssl pkcs12 -export -legacy -in legacy.pem -inkey legacy.key -passout file:p12.pass \
			-out legacy.p12 &&
		# A leaf (not a CA) with its key.
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.pem \
			-subj /CN=leaf.example.com -days 100 -addext basicConstraints=critical,CA:FALSE 2>/dev/null
) || fail "cannot make the import fixtures"
assert_contains "$(openssl pkcs12 -in "$T/in/modern.p12" -passin "file:$T/in/p12.pass" -info -noout 2>&1)" "AES-256-CBC" "modern PKCS#12"
assert_contains "$(openssl pkcs12 -legacy -in "$T/in/legacy.p12" -passin "file:$T/in/p12.pass" -info -noout 2>&1)" "RC2" "legacy PKCS#12"
ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$T/in/enc.key"

# import_ok NAME CERT KEYFILE KEYPASSIN [certctl options]: the import, its
# commit, and the stored key being the source key.
import_ok() {
	local name=$1 cert=$2 keyfile=$3 passin=$4 n0 id
	shift 4
	n0=$(commits)
	ok_out out certctl ca import "$name" "$@"
	assert_eq $((n0 + 1)) "$(commits)" "commits after ca import $name"
	assert_eq "ca: $name: imported" "$(git log -1 --format=%s)" "commit subject"
	assert_eq "$name" "$(trailer Certctl-CA)" "Certctl-CA"
	assert_eq "ca import" "$(trailer Certctl-Operation)" "Certctl-Operation"
	ok grep -qx 'status: active' "ca/$name/ca.yaml"
	assert_eq "$(fp "$cert")" "$(fp "ca/$name/cert.pem")" "imported certificate of $name"
	id=$(ca_key "$name")
	assert_mode 600 "keys/${id:0:2}/$id.pem"
	ok grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "keys/${id:0:2}/$id.pem"
	assert_eq "$(openssl pkey -in "$keyfile" -passin "$passin" -outform DER | sha256sum)" \
		"$(openssl pkey -in "keys/${id:0:2}/$id.pem" -passin "file:$SECRET" -outform DER | sha256sum)" "stored key of $name"
	assert_eq "$(cert_pub "$cert")" "$(stored_pub "$id")" "key of $name against its certificate"
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
}
import_ok imp-pem "$T/in/pem.pem" "$T/in/pem.key" pass: --cert "$T/in/pem.pem" --key "$T/in/pem.key"
assert_eq 0 "$(ncerts ca/imp-pem/chain.pem)" "chain of an imported root"
ok openssl verify -CAfile ca/imp-pem/cert.pem ca/imp-pem/cert.pem

snapshot
expect_fail 1 "passphrase" certctl ca import imp-enc --cert "$T/in/enc.pem" --key "$T/in/enc.key" \
	--passphrase-file "$T/in/wrong.pass"
assert_unchanged
expect_fail 1 "passphrase|encrypted" certctl ca import imp-enc --cert "$T/in/enc.pem" --key "$T/in/enc.key"
assert_unchanged
import_ok imp-enc "$T/in/enc.pem" "$T/in/enc.key" "file:$T/in/enc.pass" --cert "$T/in/enc.pem" \
	--key "$T/in/enc.key" --passphrase-file "$T/in/enc.pass"

snapshot
expect_fail 1 "password|passphrase" certctl ca import imp-p12 --cert "$T/in/modern.p12" --passphrase-file "$T/in/wrong.pass"
assert_contains "$FAIL_MSG" "modern.p12" "wrong PKCS#12 password message"
assert_unchanged
expect_fail 1 "password|passphrase" certctl ca import imp-legacy --cert "$T/in/legacy.p12" --passphrase-file "$T/in/wrong.pass"
assert_unchanged
import_ok imp-p12 "$T/in/p12.pem" "$T/in/p12.key" pass: --cert "$T/in/modern.p12" --passphrase-file "$T/in/p12.pass"
assert_eq "$(fp "$T/in/pem.pem")" "$(fp ca/imp-p12/chain.pem)" "chain of the PKCS#12 import"
ok openssl verify -CAfile ca/imp-p12/chain.pem ca/imp-p12/cert.pem
check_ca_extensions ca/imp-p12/cert.pem ""
import_ok imp-legacy "$T/in/legacy.pem" "$T/in/legacy.key" pass: --cert "$T/in/legacy.p12" --passphrase-file "$T/in/p12.pass"
# The passphrase from the environment too.
CERTCTL_IMPORT_PASSPHRASE='p12 secret' ok_out out certctl -q ca import imp-env --cert "$T/in/modern.p12"
assert_eq "$(fp "$T/in/p12.pem")" "$(fp ca/imp-env/cert.pem)" "imported with \$CERTCTL_IMPORT_PASSPHRASE"

snapshot
expect_fail 1 "not a CA" certctl ca import imp-leaf --cert "$T/in/leaf.pem" --key "$T/in/leaf.key"
assert_unchanged
expect_fail 1 "match" certctl ca import imp-mismatch --cert "$T/in/pem.pem" --key "$T/in/leaf.key"
assert_contains "$FAIL_MSG" "$(cert_pub "$T/in/pem.pem")" "mismatch message: the certificate key's fingerprint"
assert_contains "$FAIL_MSG" "$(openssl pkey -in "$T/in/leaf.key" -pubout -outform DER | sha256sum | cut -c1-64)" \
	"mismatch message: the key's fingerprint"
assert_unchanged
expect_fail 1 "exists" certctl ca import imp-pem --cert "$T/in/pem.pem" --key "$T/in/pem.key"
assert_unchanged
head -c 700 /dev/urandom >"$T/in/garbage.p12"
expect_fail 1 "garbage.p12" certctl ca import imp-garbage --cert "$T/in/garbage.p12" --passphrase-file "$T/in/p12.pass"
assert_unchanged

# --- list and show ----------------------------------------------------------------
names=$(find ca -mindepth 2 -maxdepth 2 -name ca.yaml | cut -d/ -f2 | LC_ALL=C sort)
expected=$(for n in $names; do
	if [ -f "ca/$n/cert.pem" ]; then echo "$n $(ca_key "$n") $(fp "ca/$n/cert.pem")"; else echo "$n $(ca_key "$n") -"; fi
done)
ok_out out certctl ca list --json
json_check "$out" "
exp = {}
for line in '''$expected'''.splitlines():
    n, k, f = line.split()
    exp[n] = (k, f)
assert d['schema'] == 'certctl.cas/1', d
got = {c['name']: c for c in d['cas']}
assert sorted(got) == sorted(exp), (sorted(got), sorted(exp))
for n, (k, f) in exp.items():
    c = got[n]
    assert c['key'] == k, (n, c['key'], k)
    if f == '-':
        assert c['status'] == 'pending' and not c.get('certificate'), c
    else:
        assert c['status'] == 'active', c
        assert c['certificate']['sha256'] == f, (n, c['certificate'], f)
        assert c['certificate']['ca'] is True, c
assert [n for n, c in got.items() if c['default']] == ['root'], d
assert got['root']['parent'] is None, got['root']
assert got['sub']['parent'] == 'root', got['sub']
assert got['ext']['parent'] == 'external', got['ext']
assert got['extpend']['status'] == 'pending', got['extpend']
assert [x['sha256'] for x in got['tree-low']['chain']] == ['$(fp ca/tree-mid/cert.pem)', '$(fp ca/tree-root/cert.pem)'], got['tree-low']
"
ok_out out certctl ca list
assert_eq "$names" "$(printf '%s\n' "$out" | awk '{print $1}')" "names in ca list"
assert_match "$out" '^root +\* +active ' "the default in ca list"
assert_match "$out" '^extpend +pending .*awaiting certificate' "a pending CA in ca list"
ok_out out certctl ca show sub --json
json_check "$out" "
c = d['ca']
assert d['schema'] == 'certctl.ca/1', d
assert c['name'] == 'sub' and c['parent'] == 'root' and c['default'] is False, c
assert c['certificate']['sha256'] == '$(fp ca/sub/cert.pem)', c
assert c['certificate']['serial'] == '$(openssl x509 -in ca/sub/cert.pem -noout -serial | sed 's/^serial=//')', c
assert c['certificate']['subject'] == 'CN=sub', c
assert [x['sha256'] for x in c['chain']] == ['$(fp $R)'], c
"
ok_out out certctl ca show
assert_contains "$out" "root (default)" "ca show without a name"
assert_contains "$out" "$(fp $R)" "ca show without a name"
expect_fail 1 "no CA 'nope'" certctl ca show nope

# --- export -------------------------------------------------------------------------
snapshot
ok_out out certctl ca export root --format der --out "$T/out/root.der"
openssl x509 -in $R -outform DER -out "$T/out/root-openssl.der"
ok cmp "$T/out/root-openssl.der" "$T/out/root.der"
ok_out out certctl ca export root
assert_eq "$(openssl x509 -in $R)" "$out" "ca export root (PEM on stdout)"
ok_out out certctl ca export sub --chain -o "$T/out/sub-chain.pem"
assert_eq "CN = sub
C = DE, O = Example Org, CN = root" "$(subjects "$T/out/sub-chain.pem")" "ca export --chain"
ok openssl verify -CAfile "$T/out/sub-chain.pem" "$T/out/sub-chain.pem"
ok_out out certctl ca export extp7b --format der -o "$T/out/extp7b.der"
assert_eq "$(fp "$T/ext/extp7b.pem")" "$(fp "$T/out/extp7b.der" DER)" "DER export of an installed CA"
expect_fail 1 "exists" certctl ca export root --format der --out "$T/out/root.der"
ok_out out certctl ca export root --format pem --out "$T/out/root.der" --force
assert_eq "$(fp $R)" "$(fp "$T/out/root.der")" "export --force"
expect_fail 64 "DER|der" certctl ca export sub --format der --chain -o "$T/out/x.der"
expect_fail 64 "pem or der" certctl ca export root --format p12 -o "$T/out/x.p12"
expect_fail 1 "awaits" certctl ca export extpend -o "$T/out/pend.pem"
assert_no_file "$T/out/pend.pem"
assert_unchanged

# --- the default CA --------------------------------------------------------------------
n0=$(commits)
ok_out out certctl ca default sub
assert_eq $((n0 + 1)) "$(commits)" "commits after ca default"
assert_eq "ca: sub: made the default CA" "$(git log -1 --format=%s)" "commit subject"
assert_eq "sub" "$(trailer Certctl-CA)" "Certctl-CA"
assert_eq "ca/root/ca.yaml
ca/sub/ca.yaml" "$(git show --format= --name-only HEAD | LC_ALL=C sort)" "files of the ca default commit"
ok grep -qx 'default: true' ca/sub/ca.yaml
ok grep -qx 'default: false' ca/root/ca.yaml
assert_eq 1 "$(grep -lx 'default: true' ca/*/ca.yaml | wc -l)" "CAs marked default"
ok_out out certctl ca show --json
json_check "$out" "assert d['ca']['name'] == 'sub', d"
snapshot
ok_out out certctl ca default sub
assert_contains "$out" "already" "ca default of the default CA"
assert_unchanged
expect_fail 1 "no CA 'nope'" certctl ca default nope
assert_unchanged
expect_fail 64 "NAME" certctl ca default
assert_unchanged

# --- the history and the end ---------------------------------------------------------------
log=$(git log --format='%s|%(trailers:key=Certctl-CA,valueonly,separator=%x2C)')
for n in $names; do
	assert_match "$log" "^ca: $n: .*\|$n\$" "commit of CA $n with its Certctl-CA trailer"
done
assert_eq "$(git log --format=%s | grep -c '^ca: ')" "$(git log --format='%(trailers:key=Certctl-CA,valueonly)' | sed '/^$/d' | wc -l | tr -d ' ')" \
	"every ca commit has one Certctl-CA trailer"
ok git fsck --full --no-progress --no-dangling
ok_out out certctl fsck
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"
for f in keys/*/*.pem; do
	assert_mode 600 "$f"
done

# ===========================================================================================
# The cases below fail against the current code (bugs reported); they come
# last so that everything above runs.

# A --csr-out file that exists is kept, and nothing is created (the aborted
# transaction left the new directory ca/extx/ behind).
echo precious >"$T/ext/exists.csr"
snapshot
expect_fail 1 "exists" certctl ca init extx --external --csr-out "$T/ext/exists.csr"
assert_eq precious "$(cat "$T/ext/exists.csr")" "existing --csr-out file"
assert_unchanged

finish
