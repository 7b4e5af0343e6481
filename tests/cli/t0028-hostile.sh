#!/bin/bash
# Hostile servers: what certctl reads from the network is bounded in memory
# and time and ends in one clear line, and the repository stays as it was.
#  TLS (check, discover, import --from): a chain of 400 certificates (a
#  megabyte and more), a server that answers the ClientHello with garbage, one that
#  announces a 16 MB handshake record and trickles it, one that closes at
#  once;
#  ACME (acquire): a directory that is not JSON, one that is JSON of the
#  wrong shape, an endless body, a server that accepts and never answers,
#  a nonce endpoint without a nonce, a new-account reply that is garbage, an
#  authorization for a name certctl did not order and a challenge token
#  that climbs out of the webroot.
# Each run's peak RSS is measured with /usr/bin/time (under 200 MB, where
# certctl usually needs 10 to 20) and its time with the clock.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (Debian package time)"
mkdir "$T/bin" && ln -s /usr/bin/python3 "$T/bin/python3" || fail "cannot link python3"
PATH=$T/bin:$PATH

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok certctl -q ca init root

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# bounded WANT MAX_S NAME CMD...: CMD exits WANT within MAX_S seconds, with
# one line on stderr (and no more than a Try line), a peak RSS under 200 MB.
# Its stderr in ERR.
ERR=
bounded() {
	local want=$1 max=$2 name=$3 t0 t1 rc=0 rss
	shift 3
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$T/rss" "$@" >"$T/out" 2>"$T/err" || rc=$?
	t1=$(date +%s%N)
	ERR=$(cat "$T/err")
	rss=$(tail -n 1 "$T/rss")
	_count
	[ "$rc" = "$want" ] || fail "$name: exit status $rc, expected $want: $ERR $(cat "$T/out")"
	assert_within_ms $((max * 1000)) $(((t1 - t0) / 1000000)) "$name"
	_count
	[ "$rss" -lt 204800 ] || fail "$name: peak RSS $rss kB"
	note "$name: exit $rc in $(((t1 - t0) / 1000000)) ms, peak RSS $((rss / 1024)) MB"
}

# --- TLS ---------------------------------------------------------------------------------------
read -r PH PG PS PC PB <<<"$(free_ports 5)"
# A chain of 400 self-signed certificates of 2 kB behind a valid leaf.
(
	cd "$T" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
		-out leaf.pem -subj /CN=huge.example.com -days 10 2>/dev/null || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout filler.key \
		-out filler.pem -subj /CN=filler -days 10 \
		-addext "nsComment=$(head -c 1500 /dev/zero | tr '\0' x)" 2>/dev/null || exit 1
	for _ in $(seq 400); do cat filler.pem; done >huge-chain.pem
) || fail "cannot make the huge chain"
_count
[ "$(stat -c %s "$T/huge-chain.pem")" -gt 500000 ] || fail "the huge chain is not huge"
openssl s_server -quiet -www -accept "127.0.0.1:$PH" -cert "$T/leaf.pem" -key "$T/leaf.key" \
	-cert_chain "$T/huge-chain.pem" </dev/null >"$T/huge.log" 2>&1 &
PIDS+=($!)
# garbage: answers anything with 64 kB of random bytes; bigrecord: a TLS
# record header announcing 64 kB (more than TLS allows) of a 16 MB
# handshake message; trickle: a ServerHello of 16 kB, a byte a second;
# close: accept and close.
cat >"$T/bad-tls.py" <<'PY'
import os, socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
def serve(c):
    try:
        c.recv(4096)
        if mode == "garbage":
            c.sendall(os.urandom(65536))
            time.sleep(5)
        elif mode == "bigrecord":
            c.sendall(b"\x16\x03\x03\xff\xff\x02\xff\xff\xff" + b"\x00" * 4096)
            time.sleep(5)
        elif mode == "trickle":
            c.sendall(b"\x16\x03\x03\x3e\x80\x02\x00\x3e\x7c")
            for _ in range(120):
                c.sendall(b"\x00")
                time.sleep(1)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    if mode == "close":
        c.close()
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
/usr/bin/python3 "$T/bad-tls.py" garbage "$PG" >"$T/garbage.log" 2>&1 &
PIDS+=($!)
/usr/bin/python3 "$T/bad-tls.py" trickle "$PS" >"$T/trickle.log" 2>&1 &
PIDS+=($!)
/usr/bin/python3 "$T/bad-tls.py" close "$PC" >"$T/close.log" 2>&1 &
PIDS+=($!)
/usr/bin/python3 "$T/bad-tls.py" bigrecord "$PB" >"$T/bigrecord.log" 2>&1 &
PIDS+=($!)
for p in "$PH" "$PG" "$PS" "$PC" "$PB"; do
	for _ in $(seq 50); do listening "$p" && break; sleep 0.1; done
	_count
	listening "$p" || fail "nothing listens on $p"
done

snapshot
# --timeout 5, times SLOW: the server's answer ends these three, not the
# time limit (the trickle below is ended by its 3 s).
bounded 2 10 "check of a 400-certificate chain" "$CERTCTL" check "127.0.0.1:$PH" --no-record --timeout "$(slow 5 300)"
assert_match "$(cat "$T/out")" "CRITICAL" "the huge chain's verdict"
bounded 2 10 "check of a garbage answer" "$CERTCTL" check "127.0.0.1:$PG" --no-record --timeout "$(slow 5 300)"
assert_match "$(cat "$T/out")" "CRITICAL .*(handshake|TLS|wrong version|packet)" "the garbage answer's verdict"
bounded 2 10 "check of a 64 kB record" "$CERTCTL" check "127.0.0.1:$PB" --no-record --timeout "$(slow 5 300)"
assert_match "$(cat "$T/out")" "CRITICAL .*(too long|length|handshake)" "the big record's verdict"
bounded 2 10 "check of a ServerHello trickled" "$CERTCTL" check "127.0.0.1:$PS" --no-record --timeout 3
assert_match "$(cat "$T/out")" "CRITICAL .*timed out" "the trickle's verdict"
bounded 2 10 "check of a server that closes" "$CERTCTL" check "127.0.0.1:$PC" --no-record --timeout 3
bounded 0 15 "discover of the five" "$CERTCTL" discover 127.0.0.1 --ports "$PH,$PG,$PS,$PC,$PB" --no-record \
	--timeout 3 --json
json_check "$(cat "$T/out")" "
assert d['schema'] == 'certctl.discover/1', d
assert [e['port'] for e in d['endpoints']] in ([$PH], []), d['endpoints']
"
bounded 1 10 "import --from a garbage answer" "$CERTCTL" import --from "127.0.0.1:$PG"
assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c '^certctl: ')" "one error line: $ERR"
bounded 1 10 "import --from a trickle" "$CERTCTL" import --from "127.0.0.1:$PS" --timeout 3
assert_unchanged

# --- ACME ---------------------------------------------------------------------------------------
# One HTTPS server, its behaviour chosen by the first path component:
#   notjson/dir   a directory that is not JSON
#   shape/dir     JSON, but an array of numbers
#   endless/dir   200 OK, a body that never ends (chunked, 64 kB at a time)
#   silent/dir    accepts, reads the request, never answers
#   nononce/dir   a good directory whose newNonce gives no Replay-Nonce
#   badacct/dir   a good directory and nonce; newAccount answers garbage
#   evilauthz/dir an order whose authorization is for a name not ordered
#   eviltoken/dir a challenge token of "../../../../tmp/certctl-owned"
P=$T/acme
mkdir -p "$P"
(
	cd "$P" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
		-out ca.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null
) || fail "cannot make the ACME server's certificate"
read -r ACME <<<"$(free_ports 1)"
cat >"$P/server.py" <<'PY'
import http.server, json, os, socketserver, ssl, sys, time
port, d = int(sys.argv[1]), sys.argv[2]
base = "https://127.0.0.1:%d" % port
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def directory(self, mode):
        return json.dumps({k: "%s/%s/%s" % (base, mode, k) for k in
                           ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange")}).encode()
    def handle_any(self):
        mode, _, rest = self.path.strip("/").partition("/")
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if mode == "notjson":
            return self.reply(200, b"<html>this is not an ACME directory{{{")
        if mode == "shape":
            return self.reply(200, b"[1, 2, 3]")
        if mode == "endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"[" * 65536
            try:
                for _ in range(100000):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
            return
        if mode == "silent":
            time.sleep(120)
            return
        if rest == "dir":
            return self.reply(200, self.directory(mode))
        if rest == "newNonce":
            if mode == "nononce":
                return self.reply(200, b"", extra=(("Cache-Control", "no-store"),))
            return self.reply(200, b"", extra=(("Replay-Nonce", "bm9uY2U"), ("Cache-Control", "no-store")))
        nonce = (("Replay-Nonce", "bm9uY2U"),)
        if rest == "newAccount" and mode == "badacct":
            return self.reply(201, os.urandom(4096), ctype="application/json",
                              extra=nonce + (("Location", base + "/acct/1"),))
        if rest == "newAccount":
            return self.reply(201, json.dumps({"status": "valid"}).encode(),
                              extra=nonce + (("Location", "%s/%s/acct" % (base, mode)),))
        if rest == "newOrder":
            order = {"status": "pending", "identifiers": [{"type": "dns", "value": "x"}],
                     "authorizations": ["%s/%s/authz" % (base, mode)],
                     "finalize": "%s/%s/finalize" % (base, mode)}
            return self.reply(201, json.dumps(order).encode(),
                              extra=nonce + (("Location", "%s/%s/order" % (base, mode)),))
        if rest == "authz":
            # evilauthz: a challenge for a name certctl did not order;
            # eviltoken: a token that climbs out of the challenge directory.
            value = "victim.example.net" if mode == "evilauthz" else "%s.example.com" % mode
            token = "../../../../tmp/certctl-owned" if mode == "eviltoken" else "dG9rZW4"
            authz = {"status": "pending", "identifier": {"type": "dns", "value": value},
                     "challenges": [{"type": "http-01", "token": token, "status": "pending",
                                     "url": "%s/%s/chall" % (base, mode)}]}
            return self.reply(200, json.dumps(authz).encode(), extra=nonce)
        return self.reply(404, b'{"type": "urn:ietf:params:acme:error:malformed"}')
    do_GET = do_HEAD = do_POST = handle_any
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
s = S(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/ca.pem", d + "/key.pem")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
/usr/bin/python3 "$P/server.py" "$ACME" "$P" >"$P/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do listening "$ACME" && break; sleep 0.1; done
_count
listening "$ACME" || fail "the ACME stand-in does not listen: $(cat "$P/server.log")"

# One ACME provider per behaviour, each at the stand-in's MODE/dir.
for mode in notjson shape endless silent nononce badacct evilauthz eviltoken; do
	provider "$mode" <<EOF
type: acme
directory: https://127.0.0.1:$ACME/$mode/dir
ca_bundle: $P/ca.pem
contact: [admin@example.com]
agree_tos: true
challenge: http-01
http01:
  webroot: $P/webroot
timeout: $(slow 5 60)s
EOF
done
for mode in notjson shape endless silent nononce badacct evilauthz eviltoken; do
	printf 'subject:\n  cn: %s.example.com\nprovider: %s\n' "$mode" "$mode" >"$T/$mode.yaml"
	ok_out out certctl -q define "$mode" --from "$T/$mode.yaml"
done

for mode in notjson shape endless silent nononce badacct evilauthz eviltoken; do
	snapshot
	bounded 1 30 "acquire from an ACME server: $mode" "$CERTCTL" acquire "$mode"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c '^certctl: ')" "$mode: one error line: $ERR"
	assert_contains "$ERR" "$mode" "$mode: the error names the definition or provider"
	note "  $ERR"
	# Nothing half-done.
	ok_out out certctl fsck
	assert_contains "$out" "0 errors" "$mode: fsck"
	assert_eq "" "$(git status --porcelain)" "$mode: git status"
	case $mode in
	evilauthz) assert_contains "$ERR" "'victim.example.net', which certctl did not order" "the error" ;;
	eviltoken)
		assert_contains "$ERR" "token is not base64url" "the error"
		assert_no_file /tmp/certctl-owned
		assert_eq "" "$(find "$P/webroot" -type f 2>/dev/null)" "nothing written in the webroot"
		;;
	esac
	# The request, when one was started, is failed with the reason.
	ok_out out certctl requests "$mode"
	[ -z "$out" ] || assert_match "$out" " failed +[^ ]" "$mode: the request, failed with its reason"
done

finish
