#!/bin/bash
# Revocation by OCSP (RFC 6960), end to end on loopback: a throw-away PKI
# made with the openssl CLI whose leaves name an OCSP responder (AIA) and
# no CRL, and the real `openssl ocsp` responder the test runs.
#  1. a good leaf: revocation.good, exit 0 even with --revocation hard;
#  2. a revoked leaf: CRITICAL revocation.revoked with date and reason;
#  3. the responder down: soft WARNING, hard CRITICAL, revocation.unavailable
#     naming the responder;
#  4. a stapled response comes first: a server stapling "revoked" is caught
#     with the responder down, and check (monitor's judge) says the same;
#  5. a responder the issuer never authorized is not believed;
#  6. fetching off: nothing asked;
#  7. in a repository, responses are cached until their nextUpdate.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkdir -p "$P" "$T/logs"
OCSP_PID=
TLS_PID=
stop_all() {
	stop_pid "$OCSP_PID"
	stop_pid "$TLS_PID"
	OCSP_PID=
	TLS_PID=
}
trap stop_all EXIT
trap 'exit 143' TERM

read -r OPORT TPORT <<<"$(free_ports 2)"
URL=http://127.0.0.1:$OPORT

(
	cd "$P" || exit 1
	ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes; }
	# shellcheck disable=SC2046
	openssl req -x509 $(ec) -keyout root.key -out root.pem -days 3650 -subj "/CN=t0037 Root" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null || exit 1
	cat >leaf.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:ocsp.test
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
authorityInfoAccess=OCSP;URI:$URL
EOF
	for leaf in good revoked; do
		# shellcheck disable=SC2046
		openssl req -new $(ec) -keyout $leaf.key -out $leaf.csr -subj "/CN=ocsp.test" \
			2>/dev/null &&
			openssl x509 -req -in $leaf.csr -CA root.pem -CAkey root.key -CAcreateserial \
				-days 90 -extfile leaf.ext -out $leaf.pem 2>/dev/null || exit 1
	done
	# Someone the root never authorized to answer for it.
	# shellcheck disable=SC2046
	openssl req -x509 $(ec) -keyout rogue.key -out rogue.pem -days 30 -subj "/CN=t0037 Rogue" \
		2>/dev/null || exit 1
	# The responder's database, as openssl ca keeps it.
	exp=$(date -u -d '+90 days' +%y%m%d%H%M%SZ)
	rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
	g=$(openssl x509 -in good.pem -noout -serial | cut -d= -f2)
	r=$(openssl x509 -in revoked.pem -noout -serial | cut -d= -f2)
	printf 'V\t%s\t\t%s\tunknown\t/CN=ocsp.test\n' "$exp" "$g" >index.txt
	printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=ocsp.test\n' "$exp" "$rev" "$r" >>index.txt
) || fail "cannot make the PKI"
_count

# start_responder SIGNER KEY: the openssl ocsp responder behind a small
# HTTP listener on 127.0.0.1:$OPORT (openssl ocsp -port would listen on
# every address): each POSTed request goes through `openssl ocsp -reqin`.
cat >"$T/responder.py" <<'EOF'
import http.server, os, subprocess, sys, tempfile
port, index, ca, signer, key = sys.argv[1:6]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with tempfile.TemporaryDirectory() as d:
            req, resp = os.path.join(d, "req"), os.path.join(d, "resp")
            open(req, "wb").write(body)
            subprocess.run(["openssl", "ocsp", "-index", index, "-CA", ca, "-rsigner", signer,
                            "-rkey", key, "-ndays", "1", "-reqin", req, "-respout", resp],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            data = open(resp, "rb").read() if os.path.exists(resp) else b""
        self.send_response(200 if data else 500)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(port)), H).serve_forever()
EOF
start_responder() {
	python3 "$T/responder.py" "$OPORT" "$P/index.txt" "$P/root.pem" "$1" "$2" \
		>>"$T/logs/ocsp.log" 2>&1 &
	OCSP_PID=$!
	wait_listen "$OPORT" "$OCSP_PID" || fail "the OCSP responder does not start: $(cat "$T/logs/ocsp.log")"
}
start_responder "$P/root.pem" "$P/root.key"

# vfy EXIT ARGS...: certctl verify exits EXIT; its output in OUT.
vfy() {
	local want=$1
	shift
	_count
	OUT=$(certctl verify "$@" 2>"$T/err")
	local rc=$?
	[ "$rc" = "$want" ] || fail "certctl verify $*: exit $rc, expected $want:
$OUT
$(cat "$T/err")"
}

# --- 1. good ------------------------------------------------------------------------------------
vfy 0 "$P/good.pem" --host ocsp.test --ca "$P/root.pem" --revocation hard -v
assert_match "$OUT" "^OK +revocation\.good +the certificate is not revoked \(OCSP $URL\)\$"

# --- 2. revoked ----------------------------------------------------------------------------------
vfy 2 "$P/revoked.pem" --host ocsp.test --ca "$P/root.pem"
assert_match "$OUT" "^CRITICAL +revocation\.revoked +the certificate: revoked on [0-9T:-]+Z, reason keyCompromise \(OCSP $URL\)\$"
# Never an exception.
vfy 2 "$P/revoked.pem" --host ocsp.test --ca "$P/root.pem" --allow revocation.revoked

# --- 3. the responder down -------------------------------------------------------------------------
stop_pid "$OCSP_PID"
OCSP_PID=
vfy 1 "$P/good.pem" --host ocsp.test --ca "$P/root.pem"
assert_match "$OUT" "^WARNING +revocation\.unavailable +the revocation status of the certificate is unknown: no CRL distribution point; OCSP $URL: "
vfy 2 "$P/good.pem" --host ocsp.test --ca "$P/root.pem" --revocation hard
assert_match "$OUT" "^CRITICAL +revocation\.unavailable "

# --- 4. stapled first ----------------------------------------------------------------------------
start_responder "$P/root.pem" "$P/root.key"
ok openssl ocsp -issuer "$P/root.pem" -cert "$P/revoked.pem" -url "$URL" \
	-VAfile "$P/root.pem" -respout "$P/revoked.ocsp" -no_nonce
stop_pid "$OCSP_PID"
OCSP_PID=
openssl s_server -quiet -accept "127.0.0.1:$TPORT" -cert "$P/revoked.pem" -key "$P/revoked.key" \
	-status_file "$P/revoked.ocsp" -www >>"$T/logs/tls.log" 2>&1 &
TLS_PID=$!
wait_listen "$TPORT" "$TLS_PID" || fail "openssl s_server does not start: $(cat "$T/logs/tls.log")"
vfy 2 "127.0.0.1:$TPORT" --host ocsp.test --ca "$P/root.pem"
assert_match "$OUT" "^CRITICAL +revocation\.revoked +the certificate: revoked on .*reason keyCompromise \(the stapled OCSP response\)\$"
# check, as monitor runs it, judges with the same verifier.
ok_out out certctl -q init repo
(
	cd repo || exit 1
	certctl -q trust add "$P/root.pem" >/dev/null &&
		certctl -q define ocsp.test --mode monitor --check "127.0.0.1:$TPORT" --sni ocsp.test
) || fail "cannot set up the repository"
OUT=$(cd repo && certctl check ocsp.test --json --no-record)
assert_eq 2 "$?" "exit status of check with a stapled revocation"
json_check "$OUT" '
fs = [f for f in d["results"][0]["findings"] if f["rule"] == "revocation.revoked"]
assert len(fs) == 1 and "stapled" in fs[0]["message"] and fs[0]["status"] == "CRITICAL", d'
stop_pid "$TLS_PID"
TLS_PID=

# --- 5. a responder nobody authorized -----------------------------------------------------------------
start_responder "$P/rogue.pem" "$P/rogue.key"
vfy 1 "$P/revoked.pem" --host ocsp.test --ca "$P/root.pem"
assert_match "$OUT" "^WARNING +revocation\.unavailable .*OCSP $URL: the response is not signed by the issuer or a responder it authorized\$"
assert_not_contains "$OUT" "revocation.revoked"

# --- 6. fetching off -------------------------------------------------------------------------------------
vfy 1 "$P/good.pem" --host ocsp.test --ca "$P/root.pem" --no-fetch
assert_match "$OUT" "^WARNING +revocation\.unavailable .*OCSP $URL: fetching is off\$"

# --- 7. the cache: a response kept in the repository until its nextUpdate --------------------------------
stop_pid "$OCSP_PID"
start_responder "$P/root.pem" "$P/root.key"
cd repo || fail "no repository"
vfy 0 "$P/good.pem" --host ocsp.test --revocation hard -v
assert_match "$OUT" "^OK +revocation\.good +the certificate is not revoked \(OCSP $URL\)\$"
vfy 2 "$P/revoked.pem" --host ocsp.test
assert_match "$OUT" "^CRITICAL +revocation\.revoked .*\(OCSP $URL\)\$"
assert_eq 2 "$(find .git/certctl/cache/ocsp -type f | wc -l)" "responses in the cache"
assert_eq "" "$(git status --porcelain)" "the cache is not part of the work tree"
# The responder down: both answers from the cache, even with --no-fetch.
stop_pid "$OCSP_PID"
OCSP_PID=
vfy 0 "$P/good.pem" --host ocsp.test --revocation hard -v
assert_match "$OUT" "^OK +revocation\.good +the certificate is not revoked \(OCSP $URL, cached\)\$"
vfy 2 "$P/revoked.pem" --host ocsp.test --no-fetch
assert_match "$OUT" "^CRITICAL +revocation\.revoked .*reason keyCompromise \(OCSP $URL, cached\)\$"
# A broken entry is not believed: asked again (and the responder is down).
for f in .git/certctl/cache/ocsp/*; do printf 'garbage' >"$f"; done
vfy 1 "$P/good.pem" --host ocsp.test
assert_match "$OUT" "^WARNING +revocation\.unavailable .*OCSP $URL: "
cd ..

finish
