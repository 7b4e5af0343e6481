#!/bin/bash
# Notifications and the status view.  A real SMTP server (Debian's
# aiosmtpd) on loopback requires STARTTLS and AUTH; a local HTTP server
# takes webhooks.  `certctl notify --test` reaches both and is recorded;
# a server without STARTTLS and a wrong password are refused; monitor tells
# a problem once, not again while it lasts, again after notify.repeat, and
# "all clear" when it is gone.  `certctl status` shows each definition with
# its certificates, acquisition, deployments and last check; --expiring
# and --failed pick the ones to act on.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import aiosmtpd' 2>/dev/null || fail "python3-aiosmtpd is not installed"

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok_out out certctl -q ca init root --cn "Notify Test Root"
N=$T/notify
mkdir -p "$N"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() { # PORT
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on port $1"
}

# A throw-away CA and a certificate for 127.0.0.1 / localhost, for the mail server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/ca.key" \
	-out "$N/ca.pem" -days 2 -subj "/CN=Mail Test CA" 2>/dev/null || fail "CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/mail.key" \
	-out "$N/mail.csr" -subj "/CN=localhost" 2>/dev/null || fail "CSR"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$N/ext"
openssl x509 -req -in "$N/mail.csr" -CA "$N/ca.pem" -CAkey "$N/ca.key" -CAcreateserial \
	-days 2 -extfile "$N/ext" -out "$N/mail.pem" 2>/dev/null || fail "mail certificate"

# The SMTP server: STARTTLS (unless "plain"), AUTH with user/password when given.
cat >"$N/smtp.py" <<'EOF'
import ssl, sys, time, os
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
port, spool, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(spool))
        with open(os.path.join(spool, "%03d.eml" % n), "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        return "250 OK"
def auth(server, session, envelope, mechanism, data):
    ok = data.login == b"certctl" and data.password == b"s3cret pass"
    return AuthResult(success=ok)
kw = dict(hostname="127.0.0.1", port=port)
if mode != "plain":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    kw.update(tls_context=ctx, require_starttls=True, authenticator=auth, auth_required=True)
c = Controller(Handler(), **kw)
c.start()
open(spool + ".ready", "w").close()
try:
    time.sleep(600)
finally:
    c.stop()
EOF
cat >"$N/hook.py" <<'EOF'
import http.server, sys, os
spool = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        k = len(os.listdir(spool))
        open(os.path.join(spool, "%03d.json" % k), "wb").write(body)
        open(os.path.join(spool, "%03d.type" % k), "w").write(self.headers.get("Content-Type", ""))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
SMTP_PORT=$(free_port)
mkdir -p "$N/mail" "$N/hooks" "$N/plainmail"
"$PY" "$N/smtp.py" "$SMTP_PORT" "$N/mail" tls "$N/mail.pem" "$N/mail.key" 2>"$N/smtp.log" &
PIDS+=($!)
HOOK_PORT=$(free_port)
python3 "$N/hook.py" "$HOOK_PORT" "$N/hooks" 2>"$N/hook.log" &
PIDS+=($!)
PLAIN_PORT=$(free_port)
"$PY" "$N/smtp.py" "$PLAIN_PORT" "$N/plainmail" plain 2>"$N/plain.log" &
PIDS+=($!)
wait_port "$SMTP_PORT"
wait_port "$HOOK_PORT"
wait_port "$PLAIN_PORT"
printf 's3cret pass\n' >"$N/smtp.pass"
chmod 600 "$N/smtp.pass"

# --- no channel ---------------------------------------------------------------------------
snapshot
expect_fail 1 "no notification channel is configured" certctl notify --test
expect_fail 64 "give --test" certctl notify
expect_fail 64 "--channel is email or webhook" certctl notify --test --channel sms
assert_unchanged

# --- the channels ---------------------------------------------------------------------------
cp .certctl/config.yaml "$T/config.orig"
config() { # the original configuration with a notify section (stdin), committed with git
	cp "$T/config.orig" .certctl/config.yaml
	cat >>.certctl/config.yaml
	git commit -qam "test: notify configuration" || fail "commit config"
}
config <<EOF
notify:
  email:
    url: smtp://127.0.0.1:$SMTP_PORT
    from: certctl@example.test
    to: [pki@example.test, ops@example.test]
    username: certctl
    password_file: $N/smtp.pass
    ca_bundle: $N/ca.pem
  webhook:
    url: http://127.0.0.1:$HOOK_PORT/certctl
EOF
before=$(commits)
ok_out out certctl notify --test
assert_contains "$out" "email: sent to pki@example.test, ops@example.test"
assert_contains "$out" "webhook: sent to http://127.0.0.1:$HOOK_PORT/certctl"
mail=$(cat "$N/mail/000.eml")
assert_contains "$mail" "X-Envelope-From: certctl@example.test"
assert_contains "$mail" "X-Envelope-To: pki@example.test,ops@example.test"
assert_contains "$mail" "Subject: certctl test notification"
assert_contains "$mail" "From: certctl@example.test"
assert_contains "$mail" "Auto-Submitted: auto-generated"
assert_contains "$mail" "If you read it, monitor's notifications reach you."
assert_match "$mail" "^Message-ID: <[0-9a-f]{24}@certctl.invalid>"
# It went through STARTTLS and AUTH: the server demands both.
json_check "$(cat "$N/hooks/000.json")" '
assert d["schema"] == "certctl.notification/1", d
assert d["subject"] == "certctl test notification", d
assert "reach you" in d["text"]'
assert_eq "application/json" "$(cat "$N/hooks/000.type")" "webhook content type"
assert_eq $((before + 1)) "$(commits)" "one commit for the notification"
assert_match "$(git log -1 --format=%s)" "^notify: certctl test notification \(email sent,webhook sent\)$"
assert_eq "notify" "$(trailer Certctl-Operation)"
logfile=$(git show --name-only --format= HEAD)
assert_match "$logfile" "^notify/log/[0-9]{8}T[0-9]{6}Z\.yaml$"
yaml_has "$logfile" "subject: certctl test notification"
yaml_has "$logfile" "  result: sent"
# Only one channel.
ok_out out certctl notify --test --channel webhook
assert_eq 2 "$(ls "$N/hooks"/*.json | wc -l)" "webhooks received"
assert_eq 1 "$(ls "$N/mail"/*.eml | wc -l)" "mails received"
# A wrong password is refused by the server; the webhook still goes.
printf 'wrong\n' >"$N/wrong.pass"
sed "s|password_file: $N/smtp.pass|password_file: $N/wrong.pass|" .certctl/config.yaml >"$T/cfg"
cp "$T/cfg" .certctl/config.yaml
git commit -qam "test: wrong password"
expect_fail 1 "e-mail through smtp://127.0.0.1:$SMTP_PORT: " certctl notify --test
assert_eq 3 "$(ls "$N/hooks"/*.json | wc -l)" "webhook sent despite the mail failure"
logfile=$(git show --name-only --format= HEAD)
yaml_has "$logfile" "  result: failed"
assert_match "$(git log -1 --format=%s)" "\(email failed,webhook sent\)$"
# A server without STARTTLS: smtp:// does not send in clear.
config <<EOF
notify:
  email:
    url: smtp://127.0.0.1:$PLAIN_PORT
    from: certctl@example.test
    to: pki@example.test
EOF
expect_fail 1 "e-mail through smtp://127.0.0.1:$PLAIN_PORT" certctl notify --test
assert_eq 0 "$(ls "$N/plainmail" | wc -l)" "mails sent in clear"
# ... unless the configuration says so.
config <<EOF
notify:
  email:
    url: smtp://127.0.0.1:$PLAIN_PORT
    from: certctl@example.test
    to: pki@example.test
    starttls: false
EOF
ok_out out certctl notify --test
assert_eq 1 "$(ls "$N/plainmail" | wc -l)" "mail with starttls: false"
# A webhook in clear to another machine is refused before any connection.
config <<EOF
notify:
  webhook:
    url: http://192.0.2.1/hook
EOF
expect_fail 1 "plain http:// only to this machine" certctl notify --test
config <<EOF
notify:
  email:
    url: http://127.0.0.1:$SMTP_PORT
    from: a@example.test
    to: b@example.test
EOF
expect_fail 1 "notify.email.url must be smtp://" certctl notify --test

# --- monitor tells what needs attention, once ------------------------------------------------
config <<EOF
notify:
  email:
    url: smtp://127.0.0.1:$SMTP_PORT
    from: certctl@example.test
    to: pki@example.test
    username: certctl
    password_file: $N/smtp.pass
    ca_bundle: $N/ca.pem
  webhook:
    url: http://127.0.0.1:$HOOK_PORT/certctl
EOF
DEAD=$(free_port)
ok_out out certctl define down.example.test --check "127.0.0.1:$DEAD" --sni down.example.test \
	--mode monitor
mails=$(ls "$N/mail"/*.eml | wc -l)
hooks=$(ls "$N/hooks"/*.json | wc -l)
certctl monitor --timeout 2 >"$T/m1" 2>&1
assert_eq 2 "$?" "monitor with a dead endpoint"
assert_contains "$(cat "$T/m1")" "notification sent"
assert_eq $((mails + 1)) "$(ls "$N/mail"/*.eml | wc -l)" "mails after the first problem"
last=$(ls "$N/mail"/*.eml | tail -1)
assert_contains "$(cat "$last")" "Subject: certctl CRITICAL: 1 problem needs attention"
assert_contains "$(cat "$last")" "multipart/alternative"
assert_contains "$(cat "$last")" "down.example.test 127.0.0.1:$DEAD: cannot connect"
assert_contains "$(cat "$last")" "<td>down.example.test</td>"
hook=$(ls "$N/hooks"/*.json | tail -1)
json_check "$(cat "$hook")" '
assert d["status"] == "CRITICAL", d
assert len(d["items"]) == 1, d
i = d["items"][0]
assert i["definition"] == "down.example.test" and i["status"] == "CRITICAL", i
assert i["findings"][0]["rule"] == "connect.failed", i'
yaml_has notify/state.yaml "time: $(sed -n 's/^time: //p' notify/state.yaml)"
# The same problem again: nothing new to tell.
certctl monitor --timeout 2 >"$T/m2" 2>&1
assert_eq 2 "$?"
assert_not_contains "$(cat "$T/m2")" "notification sent"
assert_eq $((mails + 1)) "$(ls "$N/mail"/*.eml | wc -l)" "no second mail for the same problem"
# ... until notify.repeat has passed.
printf '  repeat: 1s\n' >>.certctl/config.yaml
git commit -qam "test: repeat 1s"
sleep 2
certctl monitor --timeout 2 >"$T/m3" 2>&1
assert_contains "$(cat "$T/m3")" "notification sent"
assert_eq $((mails + 2)) "$(ls "$N/mail"/*.eml | wc -l)" "told again after notify.repeat"
# The problem gone: all clear, once.
python3 -c '
import socket, ssl, sys, time
' || true
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/down.key" \
	-out "$N/down.pem" -days 60 -subj "/CN=down.example.test" \
	-addext "subjectAltName=DNS:down.example.test" -addext "extendedKeyUsage=serverAuth" \
	2>/dev/null
ok_out out certctl trust add "$N/down.pem"
openssl s_server -quiet -accept "127.0.0.1:$DEAD" -cert "$N/down.pem" -key "$N/down.key" -www \
	>/dev/null 2>&1 &
PIDS+=($!)
wait_port "$DEAD"
certctl monitor --timeout 5 >"$T/m4" 2>&1
assert_eq 0 "$?" "monitor once the server is back: $(cat "$T/m4")"
assert_contains "$(cat "$T/m4")" "notification sent"
last=$(ls "$N/mail"/*.eml | tail -1)
assert_contains "$(cat "$last")" "Subject: certctl OK: the problems told before are gone"
certctl monitor --timeout 5 >"$T/m5" 2>&1
assert_eq 0 "$?"
assert_not_contains "$(cat "$T/m5")" "notification sent"
# --no-notify and --dry-run send nothing.
n_before=$(ls "$N/mail"/*.eml | wc -l)
kill "${PIDS[-1]}"
wait "${PIDS[-1]}" 2>/dev/null
certctl monitor --timeout 2 --no-notify >/dev/null 2>&1
certctl monitor --timeout 2 --dry-run >/dev/null 2>&1
assert_eq "$n_before" "$(ls "$N/mail"/*.eml | wc -l)" "mails with --no-notify / --dry-run"

# --- status ---------------------------------------------------------------------------------
ok_out out certctl define www.example.test --validity 10d --renew-before 2d \
	--check "127.0.0.1:$DEAD" --sni www.example.test
ok_out out certctl issue www.example.test
ok_out out certctl define api.example.test --validity 90d
ok_out out certctl issue api.example.test
ok_out out certctl define manual.example.test --provider manual --validity 60d
certctl monitor --timeout 2 --no-notify >/dev/null 2>&1
ok_out out certctl status
assert_match "$(printf '%s\n' "$out" | head -1)" "^DEFINITION +PROCESS +CURRENT +DAYS +NEXT +ACQUISITION +DEPLOY +LAST CHECK$"
www_id=$(cat certs/www.example.test/current)
assert_match "$out" "^www\.example\.test +interactive +$www_id +(9|10) +- +- +- +CRITICAL: cannot connect"
assert_match "$out" "^api\.example\.test +interactive +$(cat certs/api.example.test/current) +(89|90) +- +- +- +-$"
assert_match "$out" "^manual\.example\.test +interactive +- +- +- +- +- +-$"
assert_match "$out" "^down\.example\.test +monitor +- +- "
ok_out out certctl -q status
assert_not_contains "$out" "DEFINITION"
ok_out out certctl status --expiring 30d
assert_contains "$out" "www.example.test"
assert_not_contains "$out" "api.example.test"
assert_not_contains "$out" "manual.example.test"
ok_out out certctl status --failed
assert_contains "$out" "www.example.test"
assert_contains "$out" "down.example.test"
assert_not_contains "$out" "api.example.test"
# A renewal started takes it off the --expiring list.
ok_out out certctl define www.example.test --provider manual
ok_out out certctl acquire www.example.test
ok_out out certctl status --expiring 30d
assert_not_contains "$out" "www.example.test"
ok_out out certctl status --json
json_check "$out" '
assert d["schema"] == "certctl.status/1", d
by = {x["definition"]: x for x in d["definitions"]}
w = by["www.example.test"]
assert w["current"]["id"] == "'"$www_id"'", w
assert w["current"]["days_left"] in (9, 10), w
assert w["request_state"] == "csr-generated", w
assert w["last_check"]["status"] == "CRITICAL", w
assert by["api.example.test"]["last_check"] is None
assert by["manual.example.test"]["current"]["id"] is None
assert by["down.example.test"]["mode"] == "monitor"'
expect_fail 64 "--expiring takes a duration" certctl status --expiring soon

# --- the status report, on demand and daily ----------------------------------------------------
n_mail=$(ls "$N/mail"/*.eml | wc -l)
ok_out out certctl notify --report
assert_contains "$out" "email: sent to pki@example.test"
last=$(ls "$N/mail"/*.eml | tail -1)
assert_eq $((n_mail + 1)) "$(ls "$N/mail"/*.eml | wc -l)" "the report mailed"
assert_match "$(cat "$last")" "^Subject: certctl daily report [0-9]{4}-[0-9]{2}-[0-9]{2}: [0-9]+ expiring, [0-9]+ failing"
assert_contains "$(cat "$last")" "<td>www.example.test</td><td>interactive</td><td>$www_id</td>"
assert_match "$(cat "$last")" "^www\.example\.test +interactive +$www_id"
hook=$(ls "$N/hooks"/*.json | tail -1)
json_check "$(cat "$hook")" '
assert d["schema"] == "certctl.report/1", d
assert {x["definition"] for x in d["definitions"]} >= {"www.example.test", "api.example.test"}, d'
expect_fail 64 "give --test or --report" certctl notify --test --report
printf '  daily_report: true\n' >>.certctl/config.yaml
git commit -qam "test: daily report"
reports() { grep -l '^Subject: certctl daily report' "$N/mail"/*.eml | wc -l; }
before=$(reports)
certctl monitor --timeout 2 >/dev/null 2>&1
assert_eq $((before + 1)) "$(reports)" "the daily report sent by monitor"
assert_eq "$(date -u +%Y-%m-%d)" "$(cat notify/report)" "the date of the report"
certctl monitor --timeout 2 >/dev/null 2>&1
assert_eq $((before + 1)) "$(reports)" "one daily report a day"
finish
