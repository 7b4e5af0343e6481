#!/bin/bash
# The verifier's policy as check and status see it: a definition's allow
# list turns a named rule's failure into an OK that says "allowed:" (and
# status shows the exception); rules that are never exceptions are refused;
# a trust set's policy (rfc5280) and revocation settings in the
# configuration; a bad setting is UNKNOWN, naming the key.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkdir -p "$P"
# A private root, and a leaf without extendedKeyUsage: valid for RFC 5280,
# not for the web PKI (eku.missing-serverauth).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/root.key" \
	-out "$P/root.pem" -days 90 -subj "/CN=Policy Root" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "root"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/leaf.key" \
	-out "$P/leaf.csr" -subj "/CN=legacy.test" 2>/dev/null || fail "csr"
printf 'subjectAltName=DNS:legacy.test\nbasicConstraints=CA:FALSE\n' >"$P/leaf.ext"
openssl x509 -req -in "$P/leaf.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -CAcreateserial \
	-days 60 -extfile "$P/leaf.ext" -out "$P/leaf.pem" 2>/dev/null || fail "leaf"

PORT=$(free_ports 1)
openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert "$P/leaf.pem" -key "$P/leaf.key" -www \
	>/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do listening "$PORT" && break; sleep 0.1; done
listening "$PORT" || fail "openssl s_server did not start"

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok_out out certctl -q trust add "$P/root.pem"
ok_out out certctl -q define legacy.test --mode monitor --check "127.0.0.1:$PORT" --sni legacy.test

# finding JSON RULE: the status and message of RULE in a check's JSON.
finding() {
	printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
fs = [f for f in d["results"][0]["findings"] if f["rule"] == sys.argv[1]]
print(fs[0]["status"] + " " + fs[0]["message"] if fs else "none")' "$2"
}

# --- the web PKI's rule fails, and says so -----------------------------------------
out=$(certctl check legacy.test --json --no-record)
assert_eq 2 "$?" "exit status of check, webpki"
assert_match "$(finding "$out" eku.missing-serverauth)" "^CRITICAL the certificate has no extended key usage"

# --- allowed: OK, "allowed:", shown by status ------------------------------------------
C0=$(commits)
ok_out out certctl -q define legacy.test --allow eku.missing-serverauth
assert_eq $((C0 + 1)) "$(commits)" "one commit for --allow"
yaml_has definitions/legacy.test.yaml "allow: [eku.missing-serverauth]"
out=$(certctl check legacy.test --json)
assert_eq 0 "$?" "exit status of check, rule allowed"
assert_match "$(finding "$out" eku.missing-serverauth)" "^OK allowed: the certificate has no extended key usage"
ok_out out certctl status
assert_match "$out" "^legacy\.test .* OK: .*\(allows eku\.missing-serverauth\)\$"
ok_out out certctl status --json
json_check "$out" 'assert [s["allow"] for s in d["definitions"]] == [["eku.missing-serverauth"]], d'
ok_out out certctl show legacy.test --json
json_check "$out" 'assert d["definition"]["allow"] == ["eku.missing-serverauth"], d'

# --- never an exception, and unknown rules: refused, nothing changed ----------------------
snapshot
expect_fail 1 "^certctl: --allow: 'revocation\.revoked' is not a rule that can be allowed" \
	certctl define legacy.test --allow revocation.revoked
expect_fail 1 "^certctl: --allow: 'chain\.untrusted' is not a rule" \
	certctl define legacy.test --allow chain.untrusted
expect_fail 1 "^certctl: --allow: 'eku\.missing' is not a rule" \
	certctl define legacy.test --allow eku.missing
assert_unchanged
# ... also when written by hand.
sed -i 's/^allow: .*/allow: [signature.invalid]/' definitions/legacy.test.yaml
expect_fail 1 "^certctl: definitions/legacy\.test\.yaml:[0-9]+:[0-9]+: invalid rule to allow 'signature\.invalid'" \
	certctl show legacy.test
ok git checkout -q definitions/legacy.test.yaml

# --- emptied: the failure is back -----------------------------------------------------
ok_out out certctl -q define legacy.test --allow ''
out=$(certctl check legacy.test --json --no-record)
assert_eq 2 "$?" "exit status of check, allow list emptied"

# --- the trust set's policy: rfc5280 does not apply the web-PKI rules ----------------------
printf 'trust_sets:\n  default:\n    policy: rfc5280\n' >>.certctl/config.yaml
ok git commit -qam "The default trust set is a private PKI: RFC 5280 alone"
out=$(certctl check legacy.test --json --no-record)
assert_eq 0 "$?" "exit status of check, rfc5280"
assert_eq none "$(finding "$out" eku.missing-serverauth)" "the EKU rule under rfc5280"
assert_match "$(finding "$out" chain.trusted)" "^OK the chain verifies against trust set default"
# The same verdict from certctl verify, which reads the same setting; an
# option beats it.
ok_out out certctl verify "$P/leaf.pem" --host legacy.test --no-fetch
assert_not_contains "$out" "eku."
out=$(certctl verify "$P/leaf.pem" --host legacy.test --policy webpki --no-fetch)
assert_eq 2 "$?" "exit status of verify --policy webpki"
assert_match "$out" "^CRITICAL +eku\.missing-serverauth "

# --- revocation hard: a certificate without a CRL is CRITICAL ---------------------------------
printf '    revocation: hard\n' >>.certctl/config.yaml
ok git commit -qam "Revocation must be known"
out=$(certctl check legacy.test --json --no-record)
assert_eq 2 "$?" "exit status of check, revocation hard"
assert_match "$(finding "$out" revocation.unavailable)" "^CRITICAL no CRL at hand for the certificate, which names no CRL distribution point"

# --- a bad setting: UNKNOWN, naming the key ---------------------------------------------
sed -i 's/    revocation: hard/    revocation: sometimes/' .certctl/config.yaml
out=$(certctl check legacy.test --json --no-record)
assert_eq 3 "$?" "exit status of check, bad revocation setting"
assert_match "$(finding "$out" chain.trust-set)" "^UNKNOWN cannot verify: \.certctl/config\.yaml: trust_sets\.default\.revocation: 'sometimes' is not soft, hard or off"
ok git checkout -q .certctl/config.yaml

# --- import judged by the verifier: the chain completed from the repository's CA ---------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/root2.key" \
	-out "$P/root2.pem" -days 90 -subj "/CN=Import Root" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "root2"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/int2.key" \
	-out "$P/int2.csr" -subj "/CN=Import Int" 2>/dev/null || fail "int2 csr"
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' \
	>"$P/int2.ext"
openssl x509 -req -in "$P/int2.csr" -CA "$P/root2.pem" -CAkey "$P/root2.key" -CAcreateserial \
	-days 80 -extfile "$P/int2.ext" -out "$P/int2.pem" 2>/dev/null || fail "int2"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/leaf2.key" \
	-out "$P/leaf2.csr" -subj "/CN=imp.test" 2>/dev/null || fail "leaf2 csr"
printf 'subjectAltName=DNS:imp.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
	>"$P/leaf2.ext"
openssl x509 -req -in "$P/leaf2.csr" -CA "$P/int2.pem" -CAkey "$P/int2.key" -CAcreateserial \
	-days 60 -extfile "$P/leaf2.ext" -out "$P/leaf2.pem" 2>/dev/null || fail "leaf2"
ok_out out certctl -q ca import impint --cert "$P/int2.pem" --key "$P/int2.key"
ok_out out certctl -q trust add "$P/root2.pem"
# The leaf alone: the verifier finds its issuer among the repository's CAs.
ok_out out certctl import "$P/leaf2.pem" --json
json_check "$out" '
r = d["imported"][0]
assert r["chain"] == 1 and r["verification"]["status"] == "OK", r
assert r["verification"]["summary"] == "verified against trust set default", r'
assert_eq "$(openssl x509 -in "$P/int2.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "certs/imp.test/$(cat certs/imp.test/current)/chain.pem" -noout -fingerprint -sha256)" \
	"the chain stored for imp.test"
# A certificate nobody trusts is imported all the same, with the verdict said.
ok_out out certctl import "$P/leaf.pem" --name legacy-copy
assert_not_contains "$out" "the chain was completed"
assert_match "$out" "^legacy-copy: certificate .* chain of 0\)\$"
# Under the web PKI, the same kind of certificate is imported with its
# missing serverAuth said on the line after.
sed -i 's/    policy: rfc5280/    policy: webpki/' .certctl/config.yaml
ok git commit -qam "The default trust set is judged as the web PKI"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/leaf3.key" \
	-out "$P/leaf3.csr" -subj "/CN=legacy3.test" 2>/dev/null || fail "csr3"
printf 'subjectAltName=DNS:legacy3.test\nbasicConstraints=CA:FALSE\n' >"$P/leaf3.ext"
openssl x509 -req -in "$P/leaf3.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -CAcreateserial \
	-days 60 -extfile "$P/leaf3.ext" -out "$P/leaf3.pem" 2>/dev/null || fail "leaf3"
ok_out out certctl import "$P/leaf3.pem"
assert_match "$out" "^  CRITICAL: eku\.missing-serverauth: the certificate has no extended key usage"

finish
