#!/bin/bash
# certctl acquire, current, requests and trust: the manual round trip with
# an external CA played by the openssl CLI (root -> intermediate -> leaf):
# the request's CSR out as PEM and DER, signed, and received as PEM with
# --chain, as DER, as PKCS#7 in PEM and DER, each checked with openssl
# verify, the request file, `certctl requests`, git log and fsck; renewals;
# refusals (a certificate for another key, a missing intermediate, files
# that hold no certificate, nothing open, one already open, bad options)
# without a change; the chain completed from the AIA CA issuers URL served
# by a local python3 http.server, and the error naming the URL when it is
# gone; order fields, cancelling; --no-switch and `current --cert`; the
# builtin provider; trust list/add/rm.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
assert_file "$SECRET"
# The external CA's files, the CSRs and what the CA sends back.
P=$T/pki
mkdir "$P" "$T/out"

# fp FILE [DER]: the SHA-256 fingerprint of a certificate, lower-case hex.
fp() {
	openssl x509 -inform "${2:-PEM}" -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# cert_id FILE: certctl's id of a PEM certificate (SHA-256 of the DER, 16 hex).
cert_id() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-16
}
# cert_key FILE / csr_key FILE: SHA-256 of the SubjectPublicKeyInfo.
cert_key() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
csr_key() {
	openssl req -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
# json_tool TEXT: python3 -m json.tool reads TEXT.
json_tool() {
	_count
	printf '%s' "$1" | python3 -m json.tool >/dev/null 2>&1 || fail "not JSON: $1"
}
# clean: nothing left uncommitted.  fsck_clean: and certctl fsck finds
# nothing (it reads every key: about a second, so not after every step).
clean() {
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
}
fsck_clean() {
	clean
	ok_out FSCK certctl fsck
	assert_contains "$FSCK" "0 errors, 0 warnings" "certctl fsck"
}
# check_commit N0 DEF REQ SUBJECT-ERE: exactly one commit since N0 was
# counted, for request REQ of DEF (subject and trailers from git log).
check_commit() {
	local body
	assert_eq $(($1 + 1)) "$(commits)" "commits (one per operation)"
	body=$(git log -1 --format=%B)
	assert_match "$(git log -1 --format=%s)" "$4" "commit subject"
	assert_contains "$body" "Certctl-Request: $3" "commit message"
	assert_contains "$body" "Certctl-Definition: $2" "commit message"
	assert_eq "$3" "$(trailer Certctl-Request)" "Certctl-Request trailer"
	assert_eq "$2" "$(trailer Certctl-Definition)" "Certctl-Definition trailer"
	assert_eq "acquire" "$(trailer Certctl-Operation)" "Certctl-Operation trailer"
}

# sign CSR OUT CA EXTFILE [COMMAND...]: the external CA CA ($P/CA.pem and
# .key) signs CSR for 30 days; COMMAND (faketime ...) runs openssl.
sign() {
	local csr=$1 out=$2 ca=$3 ext=$4
	shift 4
	"$@" openssl x509 -req -in "$csr" -CA "$P/$ca.pem" -CAkey "$P/$ca.key" -days 30 \
		-extfile "$ext" -out "$out" 2>/dev/null || fail "the openssl CA cannot sign $csr"
}

# --- the external CA: a root and two intermediates, made with openssl -----------------
cat >"$P/ca.ext" <<'EOF'
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
(
	cd "$P" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
		-subj "/CN=Test Root" -days 60 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key \
			-subj "/CN=Test Intermediate" -out int.csr 2>/dev/null &&
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -days 50 -extfile ca.ext \
			-out int.pem 2>/dev/null &&
		openssl x509 -in int.pem -outform DER -out int.der &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout aiaint.key \
			-subj "/CN=AIA Intermediate" -out aiaint.csr 2>/dev/null &&
		openssl x509 -req -in aiaint.csr -CA root.pem -CAkey root.key -days 50 -extfile ca.ext \
			-out aiaint.pem 2>/dev/null &&
		# A key that no request of certctl has.
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
			-subj "/CN=web.example.com" -out other.csr 2>/dev/null
) || fail "cannot make the openssl CA"
ok openssl verify -CAfile "$P/root.pem" "$P/int.pem"
cat >"$P/web.ext" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:web.example.com,DNS:www.example.com,IP:192.0.2.1
EOF
ROOT_FP=$(fp "$P/root.pem")
INT_FP=$(fp "$P/int.pem")

# start_manual DEF CSR KIND [acquire options]: start an acquisition of DEF
# with --csr-out CSR; one commit; the request (REQ) and its CSR.
REQ=
start_manual() {
	local def=$1 csr=$2 kind=$3 n0
	shift 3
	n0=$(commits)
	ok_out out certctl acquire "$def" --csr-out "$csr" "$@"
	REQ=$(trailer Certctl-Request)
	assert_match "$REQ" '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$' "request id"
	check_commit "$n0" "$def" "$REQ" "^acquire: $def: $kind acquisition started from manual \\(request $REQ\\)\$"
	assert_contains "$out" "$REQ" "output of acquire"
	assert_file "requests/$def/$REQ.yaml"
	yaml_has "requests/$def/$REQ.yaml" "state: csr-generated"
	yaml_has "requests/$def/$REQ.yaml" "kind: $kind"
	yaml_has "requests/$def/$REQ.yaml" "provider: manual"
	ok cmp "$csr" "requests/$def/$REQ.csr"
	ok openssl req -in "$csr" -noout -verify
	assert_eq "$(csr_key "$csr")" "$(key_fp "$(sed -n 's/^key: *//p' "requests/$def/$REQ.yaml")")" \
		"the CSR's key is the request's key"
	clean
}
# key_fp ID: the SHA-256 of key ID's public key, as `certctl key show` prints it.
key_fp() {
	certctl key show "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"]["fingerprint_sha256"])'
}
# check_stored DEF REQ LEAF CHAIN-FP: LEAF (PEM) is stored for DEF with the
# intermediate CHAIN-FP as its chain, and request REQ completed with it.
check_stored() {
	local def=$1 req=$2 leaf=$3 id d
	id=$(cert_id "$leaf")
	d=certs/$def/$id
	assert_file "$d/cert.pem"
	assert_file "$d/chain.pem"
	assert_eq "$(fp "$leaf")" "$(fp "$d/cert.pem")" "stored certificate of $def"
	assert_eq "$4" "$(bundle_fps "$d/chain.pem")" "chain.pem of $def: the intermediate only"
	assert_not_contains "$(bundle_fps "$d/chain.pem")" "$ROOT_FP" "chain.pem of $def"
	ok openssl verify -CAfile "$P/root.pem" -untrusted "$d/chain.pem" "$d/cert.pem"
	yaml_has "requests/$def/$req.yaml" "state: completed"
	yaml_has "requests/$def/$req.yaml" "certificate: $id"
	yaml_has "$d/cert.yaml" "source: manual:manual"
	yaml_has "$d/cert.yaml" "request: $req"
	yaml_has "$d/cert.yaml" "key_id: $(sed -n 's/^key: *//p' "requests/$def/$req.yaml")"
	ok_out out certctl requests
	assert_match "$out" "^$req +$def +(new|renewal) +manual +completed +$id\$" "certctl requests"
}
# receive_ok DEF REQ LEAF CHAIN-FP [acquire options]: receive, one
# commit, LEAF stored and made current; certctl's output in RECEIVED.
RECEIVED=
receive_ok() {
	local def=$1 req=$2 leaf=$3 chain=$4 n0 id
	shift 4
	id=$(cert_id "$leaf")
	n0=$(commits)
	ok_out RECEIVED certctl acquire "$def" "$@"
	check_commit "$n0" "$def" "$req" "^acquire: $def: certificate $id received \\(request $req\\)\$"
	assert_eq "$id" "$(trailer Certctl-Certificate)" "Certctl-Certificate trailer"
	assert_eq "$id" "$(cat "certs/$def/current")" "certs/$def/current"
	check_stored "$def" "$req" "$leaf" "$chain"
	fsck_clean
}

# === 1. the manual round trip ==========================================================
ok_out out certctl -q define web --provider manual --cn web.example.com --dns web.example.com \
	--dns www.example.com --ip 192.0.2.1
start_manual web "$T/out/w1.csr" new
R1=$REQ
ok grep -qx -- '-----BEGIN CERTIFICATE REQUEST-----' "$T/out/w1.csr"
assert_eq "subject=CN = web.example.com" "$(openssl req -in "$T/out/w1.csr" -noout -subject)" "subject of the CSR"
text=$(openssl req -in "$T/out/w1.csr" -noout -text)
assert_contains "$text" "DNS:web.example.com, DNS:www.example.com, IP Address:192.0.2.1" "names in the CSR"

# While it is open: the CSR again, as DER and on stdout, and decoded; no commit.
snapshot
ok_out out certctl acquire web --csr-out "$T/out/w1.der" --csr-format der
ok openssl req -inform DER -in "$T/out/w1.der" -noout -verify
openssl req -in "$T/out/w1.csr" -outform DER -out "$T/out/w1-openssl.der"
ok cmp "$T/out/w1-openssl.der" "$T/out/w1.der"
ok_out out certctl -q acquire web --csr-out -
assert_eq "$(cat "$T/out/w1.csr")" "$out" "--csr-out - (PEM on stdout)"
ok_out out certctl acquire web --show-csr
assert_contains "$out" "Subject: CN = web.example.com" "--show-csr"
assert_contains "$out" "DNS:web.example.com, DNS:www.example.com, IP Address:192.0.2.1" "--show-csr"
assert_contains "$out" "Self-signature: valid" "--show-csr"
expect_fail 1 "exists" certctl acquire web --csr-out "$T/out/w1.csr"
assert_unchanged

# --- 2. bad input while the acquisition is open: refused, nothing changes -----------------
sign "$T/out/w1.csr" "$P/w1.pem" int "$P/web.ext"
sign "$P/other.csr" "$P/other.pem" int "$P/web.ext"
snapshot
# The root is not trusted yet.
expect_fail 1 "CN=Test Root" certctl acquire web --receive "$P/w1.pem" --chain "$P/int.pem"
assert_unchanged
n0=$(commits)
ok_out out certctl trust add "$P/root.pem"
assert_eq "$(cert_id "$P/root.pem"): CN=Test Root added to trust set 'default'" "$out" "output of trust add"
assert_eq $((n0 + 1)) "$(commits)" "commits after trust add"
assert_eq "trust add: 1 CA certificate(s) to set 'default'" "$(git log -1 --format=%s)" "commit subject"
assert_eq "default" "$(trailer Certctl-Trust-Set)" "Certctl-Trust-Set"
assert_eq "$ROOT_FP" "$(fp "trust/default/$(cert_id "$P/root.pem").pem")" "trusted root"
clean

snapshot
# A certificate for another key: the error names both keys' SHA-256.
expect_fail 1 "not issued for this request" certctl acquire web --receive "$P/other.pem" --chain "$P/int.pem"
assert_contains "$FAIL_MSG" "$(cert_key "$P/other.pem")" "mismatch message: the certificate's key"
assert_contains "$FAIL_MSG" "$(csr_key "$T/out/w1.csr")" "mismatch message: the request's key (from its CSR)"
assert_contains "$FAIL_MSG" "$(key_fp "$(sed -n 's/^key: *//p' "requests/web/$R1.yaml")")" \
	"mismatch message: the request's key (certctl key show)"
assert_contains "$FAIL_MSG" "$R1" "mismatch message"
assert_unchanged
# The intermediate missing, and no AIA.
expect_fail 1 "CN=Test Intermediate" certctl acquire web --receive "$P/w1.pem"
assert_contains "$FAIL_MSG" "incomplete" "missing intermediate message"
assert_unchanged
# Files that hold no certificate.
printf 'just some text\n' >"$T/out/text.txt"
expect_fail 1 "int.key.*no certificate" certctl acquire web --receive "$P/int.key"
assert_unchanged
expect_fail 1 "text.txt.*no certificate" certctl acquire web --receive "$T/out/text.txt"
assert_unchanged
expect_fail 1 "w1.csr.*no certificate" certctl acquire web --receive "$T/out/w1.csr"
assert_unchanged
expect_fail 1 "int.key.*no certificate" certctl acquire web --receive "$P/w1.pem" --chain "$P/int.key"
assert_unchanged
expect_fail 1 "nonexistent" certctl acquire web --receive "$T/out/nonexistent.pem"
assert_unchanged
# A second acquisition while one is open: refused, naming the open request.
expect_fail 1 "already open" certctl acquire web
assert_contains "$FAIL_MSG" "$R1" "message of a second acquisition"
expect_fail 1 "already( has an)? open" certctl acquire web --provider manual
assert_contains "$FAIL_MSG" "$R1" "message of a second acquisition"
assert_unchanged
# Options that do not go together, and unknown --set keys.
expect_fail 64 "--chain goes with --receive" certctl acquire web --chain "$P/int.pem"
expect_fail 64 "exclude" certctl acquire web --receive "$P/w1.pem" --cancel
expect_fail 64 "--csr-format" certctl acquire web --csr-out "$T/out/x.csr" --csr-format p12
expect_fail 1 "unknown request field 'colour'" certctl acquire web --set colour=blue
expect_fail 1 "KEY=VALUE" certctl acquire web --set order-number
expect_fail 1 "no definition|nodef" certctl acquire nodef
assert_unchanged

# --- received as PEM, the intermediate with --chain -------------------------------------
receive_ok web "$R1" "$P/w1.pem" "$INT_FP" --receive "$P/w1.pem" --chain "$P/int.pem"
C1=$(cert_id "$P/w1.pem")
W1_KEY=$(sed -n 's/^key: *//p' "requests/web/$R1.yaml")
assert_eq "$(cert_key "$P/w1.pem")" "$(key_fp "$W1_KEY")" "the certificate's key is the request's key"
yaml_has "requests/web/$R1.yaml" "kind: new"
# Nothing open now.
snapshot
expect_fail 1 "no open acquisition" certctl acquire web --receive "$P/w1.pem" --chain "$P/int.pem"
expect_fail 1 "no open acquisition" certctl acquire web --cancel
expect_fail 1 "no open acquisition" certctl acquire web --set order-number=1
expect_fail 1 "no open acquisition" certctl acquire web --show-csr
assert_unchanged

# --- a renewal with the same key, received as DER (.cer), the chain as DER (and the root) -----
start_manual web "$T/out/w2.csr" renewal --reuse-key
R2=$REQ
yaml_has "requests/web/$R2.yaml" "key: $W1_KEY"
assert_eq "$(cert_key "$P/w1.pem")" "$(csr_key "$T/out/w2.csr")" "the key of --reuse-key"
sign "$T/out/w2.csr" "$P/w2.pem" int "$P/web.ext"
openssl x509 -in "$P/w2.pem" -outform DER -out "$P/w2.cer"
receive_ok web "$R2" "$P/w2.pem" "$INT_FP" --receive "$P/w2.cer" --chain "$P/int.der" --chain "$P/root.pem"
C2=$(cert_id "$P/w2.pem")

# --- 4. order fields, cancelling --------------------------------------------------------
start_manual web "$T/out/w3.csr" renewal
R3=$REQ
n0=$(commits)
ok_out out certctl acquire web --set order-number=123 --set contact="Jane <j@example.com>"
check_commit "$n0" web "$R3" "^acquire: web: request $R3: set order-number, contact\$"
assert_eq "requests/web/$R3.yaml" "$(git show --format= --name-only HEAD)" "files of the --set commit"
yaml_has "requests/web/$R3.yaml" "  number: 123"
yaml_has "requests/web/$R3.yaml" "  contact: Jane <j@example.com>"
yaml_has "requests/web/$R3.yaml" "state: csr-generated"
clean
ok_out out certctl requests --json
json_tool "$out"
json_check "$out" "
assert d['schema'] == 'certctl.requests/1', d
r = {x['id']: x for x in d['requests']}
assert list(r) == ['$R1', '$R2', '$R3'], list(r)
assert r['$R3']['order']['number'] == '123', r['$R3']
assert r['$R3']['order']['contact'] == 'Jane <j@example.com>', r['$R3']
assert r['$R3']['open'] is True and r['$R3']['state'] == 'csr-generated', r['$R3']
assert r['$R1']['state'] == 'completed' and r['$R1']['kind'] == 'new' and r['$R1']['certificate'] == '$C1', r['$R1']
assert r['$R2']['state'] == 'completed' and r['$R2']['kind'] == 'renewal' and r['$R2']['certificate'] == '$C2', r['$R2']
assert all(x['definition'] == 'web' and x['provider'] == 'manual' for x in d['requests']), d
"
# An empty value removes a field.
n0=$(commits)
ok_out out certctl acquire web --set contact=
check_commit "$n0" web "$R3" "^acquire: web: request $R3: set contact\$"
_count
! grep -q 'contact:' "requests/web/$R3.yaml" || fail "--set contact= left the contact in requests/web/$R3.yaml"
yaml_has "requests/web/$R3.yaml" "  number: 123"
ok_out out certctl requests --open
assert_match "$out" "^$R3 +web +renewal +manual +csr-generated" "requests --open"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines of requests --open"
ok_out out certctl requests --open --json
json_check "$out" "assert [x['id'] for x in d['requests']] == ['$R3'], d"
ok_out out certctl requests
assert_eq "$R1 $R2 $R3" "$(printf '%s\n' "$out" | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')" "certctl requests, oldest first"
n0=$(commits)
ok_out out certctl acquire web --cancel --json
json_tool "$out"
json_check "$out" "
assert d['schema'] == 'certctl.acquire/1', d
assert d['action'] == 'cancelled' and d['request']['id'] == '$R3', d
assert d['request']['state'] == 'cancelled' and d['request']['open'] is False, d
"
check_commit "$n0" web "$R3" "^acquire: web: request $R3 cancelled\$"
yaml_has "requests/web/$R3.yaml" "state: cancelled"
yaml_has "requests/web/$R3.yaml" "  number: 123"
yaml_has "requests/web/$R3.yaml" "  message: cancelled by the operator"
fsck_clean
ok_out out certctl requests --open
assert_eq "" "$out" "requests --open after the cancel"
ok_out out certctl requests web
assert_match "$out" "^$R3 +web +renewal +manual +cancelled" "certctl requests after the cancel"
assert_eq "$C2" "$(cat certs/web/current)" "current after the cancel"

# --- after the cancel a new acquisition: the certificate as P7B (PEM) holding the chain -----
start_manual web "$T/out/w4.csr" renewal
R4=$REQ
assert_ne "$R3" "$R4" "request after the cancel"
sign "$T/out/w4.csr" "$P/w4.pem" int "$P/web.ext"
openssl crl2pkcs7 -nocrl -certfile "$P/w4.pem" -certfile "$P/int.pem" -out "$P/w4.p7b"
ok grep -qx -- '-----BEGIN PKCS7-----' "$P/w4.p7b"
receive_ok web "$R4" "$P/w4.pem" "$INT_FP" --receive "$P/w4.p7b"

# --- and as P7B (DER), with acquire --json ----------------------------------------------
n0=$(commits)
ok_out out certctl acquire web --json
json_tool "$out"
R5=$(trailer Certctl-Request)
json_check "$out" "
assert d['schema'] == 'certctl.acquire/1', d
assert d['definition'] == 'web' and d['action'] == 'started', d
q = d['request']
assert q['id'] == '$R5' and q['kind'] == 'renewal' and q['state'] == 'csr-generated' and q['open'] is True, q
assert d['certificate'] is None, d
"
check_commit "$n0" web "$R5" "^acquire: web: renewal acquisition started from manual"
ok_out out certctl acquire web --csr-out "$T/out/w5.csr" --json
json_check "$out" "assert d['action'] == 'shown' and d['request']['id'] == '$R5', d"
assert_eq "$n0" "$(($(commits) - 1))" "commits after --csr-out of an open acquisition"
ok cmp "$T/out/w5.csr" "requests/web/$R5.csr"
sign "$T/out/w5.csr" "$P/w5.pem" int "$P/web.ext"
openssl crl2pkcs7 -nocrl -certfile "$P/w5.pem" -certfile "$P/int.pem" -outform DER -out "$P/w5.p7b"
ok openssl pkcs7 -inform DER -in "$P/w5.p7b" -noout
receive_ok web "$R5" "$P/w5.pem" "$INT_FP" --receive "$P/w5.p7b" --json
json_tool "$RECEIVED"
json_check "$RECEIVED" "
assert d['schema'] == 'certctl.acquire/1' and d['action'] == 'received', d
assert d['request']['state'] == 'completed' and d['request']['certificate'] == '$(cert_id "$P/w5.pem")', d
assert d['certificate']['sha256'] == '$(fp "$P/w5.pem")', d
assert d['warnings'] == [], d
"
C5=$(cert_id "$P/w5.pem")

# --- 5. --no-switch, current --cert ----------------------------------------------------
start_manual web "$T/out/w6.csr" renewal --key "${W1_KEY:0:8}"
R6=$REQ
yaml_has "requests/web/$R6.yaml" "key: $W1_KEY"
sign "$T/out/w6.csr" "$P/w6.pem" int "$P/web.ext"
C6=$(cert_id "$P/w6.pem")
n0=$(commits)
ok_out out certctl acquire web --receive "$P/w6.pem" --chain "$P/int.pem" --no-switch
check_commit "$n0" web "$R6" "^acquire: web: certificate $C6 received \\(request $R6\\), not current yet\$"
assert_eq "$C5" "$(cat certs/web/current)" "current after --no-switch"
check_stored web "$R6" "$P/w6.pem" "$INT_FP"
ok grep -qF "switch with 'certctl current web --cert $C6'" "requests/web/$R6.yaml"
clean
ok_out out certctl current web
assert_match "$out" "^web: current $C5 " "certctl current"
assert_match "$out" "^ +\\* $C5\$" "certctl current: the current one marked"
assert_match "$out" "^ +$C6\$" "certctl current: the one stored with --no-switch"
assert_eq "$(printf '%s\n' "$C1" "$C2" "$(cert_id "$P/w4.pem")" "$C5" "$C6" | LC_ALL=C sort)" \
	"$(printf '%s\n' "$out" | sed -n 's/^ *\*\{0,1\} *\([0-9a-f]\{16\}\)$/\1/p')" "certctl current: the stored ones, by id"
ok_out out certctl current web --json
json_tool "$out"
json_check "$out" "
assert d['schema'] == 'certctl.current/1' and d['definition'] == 'web', d
assert d['current']['id'] == '$C5' and d['current']['sha256'] == '$(fp "$P/w5.pem")', d
assert sorted(d['stored']) == sorted(['$C1', '$C2', '$(cert_id "$P/w4.pem")', '$C5', '$C6']), d
"
n0=$(commits)
ok_out out certctl current web --cert "$C6"
assert_eq $((n0 + 1)) "$(commits)" "commits after current --cert"
assert_eq "current: web: certificate $C6" "$(git log -1 --format=%s)" "commit subject"
assert_eq "web" "$(trailer Certctl-Definition)" "Certctl-Definition"
assert_eq "certs/web/current" "$(git show --format= --name-only HEAD)" "files of the current commit"
assert_eq "$C6" "$(cat certs/web/current)" "current after current --cert"
assert_match "$out" "^web: current $C6 " "output of current --cert"
clean
n0=$(commits)
ok_out out certctl current web --cert "$C5"
assert_eq $((n0 + 1)) "$(commits)" "commits after switching back"
assert_eq "$C5" "$(cat certs/web/current)" "current after switching back"
clean
snapshot
expect_fail 1 "no stored certificate '0123456789abcdef'" certctl current web --cert 0123456789abcdef
expect_fail 1 "no stored certificate" certctl current web --cert nothex
expect_fail 1 "no definition 'nodef'" certctl current nodef
expect_fail 64 "DEF" certctl current
assert_unchanged

# === 3. the chain completed from the AIA CA issuers URL ==========================================
mkdir "$T/www"
cp "$P/aiaint.pem" "$T/out/aiaint.pem"
openssl x509 -in "$P/aiaint.pem" -outform DER -out "$T/www/int.der"
HTTP_PID=
stop_server() {
	if [ -n "$HTTP_PID" ]; then
		kill "$HTTP_PID" 2>/dev/null
		wait "$HTTP_PID" 2>/dev/null
		HTTP_PID=
	fi
}
trap stop_server EXIT
# served PORT: the server on PORT answers with int.der.
served() {
	python3 -c '
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/int.der" % sys.argv[1], timeout=1).read()
' "$1" 2>/dev/null
}
PORT=
for _ in 1 2 3 4 5; do
	port=$(python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
	python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" >>"$T/http.log" 2>&1 &
	HTTP_PID=$!
	for _ in $(seq 50); do
		if served "$port"; then
			PORT=$port
			break
		fi
		kill -0 "$HTTP_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$PORT" ] && break
	stop_server
done
_count
[ -n "$PORT" ] || fail "no python3 http.server on 127.0.0.1 within 5 tries:
$(cat "$T/http.log")"
URL=http://127.0.0.1:$PORT/int.der
cat >"$P/aia.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:aia.example.com
authorityInfoAccess=caIssuers;URI:$URL
EOF
ok_out out certctl -q define aia --provider manual --dns aia.example.com
start_manual aia "$T/out/a1.csr" new
A1=$REQ
sign "$T/out/a1.csr" "$P/a1.pem" aiaint "$P/aia.ext"
assert_contains "$(openssl x509 -in "$P/a1.pem" -noout -ext authorityInfoAccess)" "CA Issuers - URI:$URL" "AIA of the leaf"
# gets: the requests for int.der in the server's log.
gets() {
	grep -c '"GET /int.der HTTP/1\.[01]" 200' "$T/http.log"
}
g0=$(gets)
n0=$(commits)
_count
out=$(certctl acquire aia --receive "$P/a1.pem" 2>"$T/err") || fail "receive with the intermediate from AIA failed: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "$URL" "the warning of a chain completed from AIA"
check_commit "$n0" aia "$A1" "^acquire: aia: certificate $(cert_id "$P/a1.pem") received \\(request $A1\\)\$"
assert_eq "$(cert_id "$P/a1.pem")" "$(cat certs/aia/current)" "certs/aia/current"
check_stored aia "$A1" "$P/a1.pem" "$(fp "$P/aiaint.pem")"
clean
assert_eq $((g0 + 1)) "$(gets)" "requests for int.der in the server's log"
# The server gone: the error names the URL.
stop_server
start_manual aia "$T/out/a2.csr" renewal
A2=$REQ
sign "$T/out/a2.csr" "$P/a2.pem" aiaint "$P/aia.ext"
snapshot
expect_fail 1 "CN=AIA Intermediate" certctl acquire aia --receive "$P/a2.pem"
assert_contains "$FAIL_MSG" "$URL" "message of an AIA URL that does not answer"
assert_unchanged
# Given by hand instead, it goes through.
receive_ok aia "$A2" "$P/a2.pem" "$(fp "$P/aiaint.pem")" --receive "$P/a2.pem" --chain "$T/out/aiaint.pem"

# --- names that differ from the definition's: warnings, on stderr or in the JSON -----------
ok_out out certctl -q define names --provider manual --dns names.example.com --ip 192.0.2.9
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:names.example.com,DNS:extra.example.com\n' >"$P/names.ext"
start_manual names "$T/out/n1.csr" new
N1=$REQ
sign "$T/out/n1.csr" "$P/n1.pem" int "$P/names.ext"
_count
out=$(certctl acquire names --receive "$P/n1.pem" --chain "$P/int.pem" 2>"$T/err") ||
	fail "receive with names that differ failed: $(cat "$T/err")"
assert_eq "certctl: warning: the certificate lacks IP:192.0.2.9, which the definition names
certctl: warning: the certificate also names DNS:extra.example.com, which the definition does not" \
	"$(cat "$T/err")" "warnings of names that differ"
check_stored names "$N1" "$P/n1.pem" "$INT_FP"
assert_eq "$(cert_id "$P/n1.pem")" "$(cat certs/names/current)" "certs/names/current"
start_manual names "$T/out/n2.csr" renewal
N2=$REQ
sign "$T/out/n2.csr" "$P/n2.pem" int "$P/names.ext"
receive_ok names "$N2" "$P/n2.pem" "$INT_FP" --receive "$P/n2.pem" --chain "$P/int.pem" --json
json_check "$RECEIVED" "
assert d['warnings'] == ['the certificate lacks IP:192.0.2.9, which the definition names',
    'the certificate also names DNS:extra.example.com, which the definition does not'], d
"

# === 6. the builtin provider ===========================================================
ok_out out certctl -q ca init root
ok_out out certctl -q define svc --dns svc.example.com
n0=$(commits)
ok_out out certctl acquire svc
S1=$(trailer Certctl-Request)
check_commit "$n0" svc "$S1" "^acquire: svc: certificate [0-9a-f]{16} issued by the built-in CA \\(request $S1\\)\$"
SC=$(cat certs/svc/current)
assert_eq "$SC" "$(trailer Certctl-Certificate)" "Certctl-Certificate"
yaml_has "requests/svc/$S1.yaml" "state: completed"
yaml_has "requests/svc/$S1.yaml" "provider: builtin"
yaml_has "requests/svc/$S1.yaml" "kind: new"
yaml_has "requests/svc/$S1.yaml" "certificate: $SC"
ok openssl verify -CAfile ca/root/cert.pem "certs/svc/$SC/cert.pem"
assert_file "requests/svc/$S1.csr"
assert_eq "$(cert_key "certs/svc/$SC/cert.pem")" "$(csr_key "requests/svc/$S1.csr")" "the builtin certificate's key is the CSR's"
assert_eq "$(cert_key "certs/svc/$SC/cert.pem")" "$(key_fp "$(sed -n 's/^key: *//p' "requests/svc/$S1.yaml")")" \
	"the builtin certificate's key is the request's key"
fsck_clean
ok_out out certctl requests svc --open
assert_eq "" "$out" "open requests of svc"
n0=$(commits)
ok_out out certctl acquire svc --json
json_tool "$out"
S2=$(trailer Certctl-Request)
assert_eq $((n0 + 1)) "$(commits)" "commits after the builtin renewal"
json_check "$out" "
assert d['schema'] == 'certctl.acquire/1' and d['action'] == 'completed', d
assert d['request']['id'] == '$S2' and d['request']['kind'] == 'renewal' and d['request']['state'] == 'completed', d
assert d['certificate']['id'] == open('certs/svc/current').read().strip(), d
"
ok openssl verify -CAfile ca/root/cert.pem "certs/svc/$(cat certs/svc/current)/cert.pem"
assert_ne "$SC" "$(cat certs/svc/current)" "current after the builtin renewal"

# === 7. trust sets ========================================================================
RID=$(cert_id "$P/root.pem")
ok_out out certctl trust list
assert_match "$out" "^trust set 'default': bundle " "trust list"
assert_match "$out" "^ +$RID +CN=Test Root\$" "trust list"
ok_out out certctl trust list --json
json_tool "$out"
json_check "$out" "
assert d['schema'] == 'certctl.trust/1' and d['set'] == 'default', d
assert [c['sha256'] for c in d['certificates']] == ['$ROOT_FP'], d
assert d['certificates'][0]['id'] == '$RID' and d['certificates'][0]['ca'] is True, d
"
snapshot
expect_fail 1 "not a CA" certctl trust add "$P/w1.pem"
assert_unchanged
expect_fail 1 "already" certctl trust add "$P/root.pem"
assert_unchanged
# A CA and a leaf: nothing is added.
expect_fail 1 "w1.pem.*not a CA" certctl trust add "$P/aiaint.pem" "$P/w1.pem"
assert_unchanged
expect_fail 1 "no certificate" certctl trust add "$T/out/text.txt"
assert_unchanged
expect_fail 1 "no certificate 0123456789abcdef" certctl trust rm 0123456789abcdef
assert_unchanged
expect_fail 64 "FILE" certctl trust add
assert_unchanged
# A second set, by P7B: the intermediate and the root.
openssl crl2pkcs7 -nocrl -certfile "$P/int.pem" -certfile "$P/root.pem" -outform DER -out "$P/cas.p7b"
n0=$(commits)
ok_out out certctl trust add "$P/cas.p7b" --set partners
assert_eq $((n0 + 1)) "$(commits)" "commits after trust add --set"
assert_eq "trust add: 2 CA certificate(s) to set 'partners'" "$(git log -1 --format=%s)" "commit subject"
ok_out out certctl trust list --set partners --json
json_check "$out" "assert sorted(c['sha256'] for c in d['certificates']) == sorted(['$INT_FP', '$ROOT_FP']), d"
n0=$(commits)
ok_out out certctl trust rm "$RID"
assert_eq $((n0 + 1)) "$(commits)" "commits after trust rm"
assert_eq "trust rm: $RID from set 'default'" "$(git log -1 --format=%s)" "commit subject"
assert_eq "default" "$(trailer Certctl-Trust-Set)" "Certctl-Trust-Set"
assert_eq "trust/default/$RID.pem" "$(git show --format= --name-only HEAD)" "files of the trust rm commit"
assert_no_file "trust/default/$RID.pem"
ok_out out certctl trust list
assert_not_contains "$out" "$RID" "trust list after trust rm"
clean
# The root is no longer trusted in the default set, but is in 'partners'.
start_manual web "$T/out/w7.csr" renewal
R7=$REQ
sign "$T/out/w7.csr" "$P/w7.pem" int "$P/web.ext"
snapshot
expect_fail 1 "CN=Test Root" certctl acquire web --receive "$P/w7.pem" --chain "$P/int.pem"
assert_unchanged
receive_ok web "$R7" "$P/w7.pem" "$INT_FP" --receive "$P/w7.pem" --chain "$P/int.pem" --trust-set partners

# --- the history ------------------------------------------------------------------------
# Every acquire commit names its definition and its request.
log=$(git log --format='%s|%(trailers:key=Certctl-Definition,valueonly,separator=%x2C)|%(trailers:key=Certctl-Request,valueonly,separator=%x2C)' |
	grep '^acquire: ')
assert_eq 26 "$(printf '%s\n' "$log" | wc -l | tr -d ' ')" "acquire commits"
assert_eq "" "$(printf '%s\n' "$log" | grep -vE '^acquire: ([a-z0-9-]+): .*\|\1\|[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$')" \
	"acquire commits without their Certctl-Definition and Certctl-Request trailers"
ok git fsck --full --no-progress --no-dangling
fsck_clean
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"

# ===========================================================================================
# The cases below fail against the current code (bugs reported); they come
# last so that everything above runs.

# A certificate not valid yet (notBefore in two days) is stored but not
# made current.  certctl refuses it: "the certificate does not verify
# against trust set 'partners': certificate is not yet valid".
if command -v faketime >/dev/null; then
	start_manual web "$T/out/w8.csr" renewal
	R8=$REQ
	sign "$T/out/w8.csr" "$P/w8.pem" int "$P/web.ext" faketime '+2 days'
	_count
	[ "$(date -u -d "$(openssl x509 -in "$P/w8.pem" -noout -startdate | sed 's/^notBefore=//')" +%s)" -gt \
		$(($(date +%s) + 86400)) ] || fail "the faketime certificate starts now"
	C7=$(cat certs/web/current)
	n0=$(commits)
	ok_out out certctl acquire web --receive "$P/w8.pem" --chain "$P/int.pem" --trust-set partners
	check_commit "$n0" web "$R8" "^acquire: web: certificate $(cert_id "$P/w8.pem") received \\(request $R8\\), not current yet\$"
	assert_eq "$C7" "$(cat certs/web/current)" "current after receiving a certificate not valid yet"
	assert_eq "$(fp "$P/w8.pem")" "$(fp "certs/web/$(cert_id "$P/w8.pem")/cert.pem")" "stored certificate not valid yet"
	yaml_has "requests/web/$R8.yaml" "state: completed"
	clean
else
	skip "faketime is not installed: the certificate not valid yet is not tested"
fi

# A --csr-out file that cannot be written: the acquisition is not started
# (certctl commits the new request, then fails writing the file).
ok_out out certctl -q define late --provider manual --dns late.example.com
snapshot
expect_fail 1 "nodir" certctl acquire late --csr-out "$T/nodir/late.csr"
assert_unchanged

# Showing the CSR, recording order details and cancelling do not need the
# repository secret (certctl-acquire(1)); --set and --cancel ask for it.
ok_out out certctl -q define nosecret --provider manual --dns nosecret.example.com
start_manual nosecret "$T/out/ns.csr" new
NS=$REQ
mkdir -m 700 "$T/no-secret"
CERTCTL_SECRET_DIR=$T/no-secret ok_out out certctl acquire nosecret --show-csr
assert_contains "$out" "DNS:nosecret.example.com" "--show-csr without the secret"
n0=$(commits)
CERTCTL_SECRET_DIR=$T/no-secret ok_out out certctl acquire nosecret --set order-number=77
assert_eq $((n0 + 1)) "$(commits)" "commits after --set without the secret"
n0=$(commits)
CERTCTL_SECRET_DIR=$T/no-secret ok_out out certctl acquire nosecret --cancel
assert_eq $((n0 + 1)) "$(commits)" "commits after --cancel without the secret"
yaml_has "requests/nosecret/$NS.yaml" "state: cancelled"

# Making the current certificate current again changes nothing and should
# make no commit (as 'define' of an unchanged definition and 'ca default'
# of the default CA); certctl makes an empty commit.
snapshot
ok_out out certctl current web --cert "$(cat certs/web/current)"
assert_unchanged

# A refused 'trust add' adds nothing, and does not say it did: certctl
# prints "ID: CN=AIA Intermediate added to trust set 'partners'" before it
# refuses the leaf.
snapshot
expect_fail 1 "w1.pem.*not a CA" certctl trust add --set partners "$P/aiaint.pem" "$P/w1.pem"
assert_not_contains "$FAIL_OUT" "added" "output of a refused trust add"
assert_unchanged

finish
