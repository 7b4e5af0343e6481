#!/bin/bash
# certctl deploy and certctl deployments against real servers and tools.
# A root -> sub CA of certctl issues the certificates.  A real nginx, started
# here on 127.0.0.1 (a free port) in a temp dir, is fed by an `nginx` target
# whose test/reload argv lists use the same -c -p -e as the running nginx:
# deploys are confirmed by the deploy check and by openssl s_client's
# fingerprint of what nginx serves; the record file, `deployments --json`,
# `certctl log` and git log (one commit per state change, with trailers)
# agree; key files are 0600; .certctl-prev keeps the old files.  A target
# that writes the leaf without its chain fails the check naming the missing
# intermediate; --rollback installs the previous certificate again; a broken
# nginx configuration fails the test (and, without a test, the reload) and
# puts the old files back byte for byte while nginx keeps serving the old
# certificate; --check alone finds a mismatch.  A `files` target writes
# every piece (cert, chain, fullchain, key, combined, PKCS#12 and JKS read
# back by openssl and keytool) with owner, group and modes; `certbot-live`
# makes certbot's live/ symlinks into archive/ and moves them on the next
# deploy; `command` hooks see the documented environment (and no secret),
# a temp key file removed afterwards, fail with their output, and are
# killed on timeout.  --confirm-manual --note, --no-check, --dry-run (no
# change at all), --json, deployments --failed/--open; bad targets, paths,
# keys, commands and names are refused with one line and nothing changed
# or written.  The deploy check asks the verifier about the served chain:
# a wrong server name or a revoked certificate is "rejected" (an allowed
# rule is not).
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
assert_file "$SECRET"
mkdir "$T/out"

# --- helpers ------------------------------------------------------------------------------

# fp FILE: the SHA-256 fingerprint of a certificate, lower-case hex (as bundle_fps uses).
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# fpc FILE: the same, upper-case hex with colons (as keytool prints it).
fpc() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'
}
# cert_pub FILE / key_pub FILE [openssl options]: SHA-256 of the public key.
cert_pub() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
key_pub() {
	local f=$1
	shift
	openssl pkey -in "$f" "$@" -pubout -outform DER 2>/dev/null | sha256sum | cut -c1-64
}
# cur DEF: the directory of DEF's current certificate; curid DEF: its id.
curid() {
	cat "certs/$1/current"
}
cur() {
	echo "certs/$1/$(curid "$1")"
}
clean() {
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
}
# jkeytool ARGS...: keytool with a JVM that starts faster.
jkeytool() {
	keytool -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -J-XX:-UsePerfData "$@"
}
# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# served_fps PORT [SNI]: the fingerprints (fp) of what the server on PORT
# sends, leaf first.
served_fps() {
	timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername "${2:-web.example.com}" -showcerts \
		</dev/null >"$T/served.txt" 2>/dev/null
	bundle_fps "$T/served.txt"
}
# served_leaf PORT: the fingerprint of the certificate nginx presents.
served_leaf() {
	served_fps "$1" | head -n 1
}
# rec DEF TARGET PYTHON: the record of DEF/TARGET in `deployments DEF --json`
# as `r`; PYTHON asserts on it (one assertion).  Fingerprints compare with
# norm() (no colons, lower case).
rec() {
	local json
	json=$(certctl deployments "$1" --json 2>"$T/rec.err") || {
		_count
		fail "certctl deployments $1 --json failed: $(cat "$T/rec.err")"
		return
	}
	json_check "$json" "
def norm(s): return str(s).replace(':', '').lower()
def paths(fs): return sorted(f if isinstance(f, str) else f['path'] for f in fs)
# The last command run: 'reload' in the spec, 'command' in certctl's man pages.
def cmd(r):
    assert ('reload' in r) != ('command' in r), ('reload/command', r)
    return r['reload'] if 'reload' in r else r['command']
rs = [x for x in d['deployments'] if x['definition'] == '$1' and x['target'] == '$2']
assert len(rs) == 1, ('records of $1/$2', d)
r = rs[0]
$3"
}
# subject DEF TARGET STATE CERT: an ERE for the summary of a deploy commit:
# 'deploy DEF → TARGET: STATE (cert CERT)' (the spec), or as certctl's man
# pages have it, 'deploy DEF to TARGET: STATE (certificate CERT)'.
subject() {
	printf '%s' "^deploy $1 (→|to) $2: $3 \\((cert|certificate) $4\\)\$"
}
# deploy_commits N0 DEF TARGET CERT STATE...: the commits since N0 are one
# per STATE, oldest first, each with the subject above and its trailers,
# changing only the record, whose state is STATE.
deploy_commits() {
	local n0=$1 def=$2 tgt=$3 cert=$4 n i=0 rev st
	shift 4
	n=$#
	assert_eq $((n0 + n)) "$(commits)" "commits of deploy $def → $tgt ($*)"
	for st in "$@"; do
		rev=HEAD~$((n - 1 - i))
		assert_match "$(git log -1 --format=%s "$rev")" "$(subject "$def" "$tgt" "$st" "$cert")" "subject of $rev"
		assert_eq deploy "$(trailer Certctl-Operation "$rev")" "Certctl-Operation of $rev"
		assert_eq "$def" "$(trailer Certctl-Definition "$rev")" "Certctl-Definition of $rev"
		assert_eq "$tgt" "$(trailer Certctl-Target "$rev")" "Certctl-Target of $rev"
		assert_eq "$cert" "$(trailer Certctl-Certificate "$rev")" "Certctl-Certificate of $rev"
		assert_eq "deployments/$def/$tgt.yaml" "$(git show --format= --name-only "$rev")" "files of $rev"
		assert_contains "$(git show "$rev:deployments/$def/$tgt.yaml")" "state: $st" "the record in $rev"
		i=$((i + 1))
	done
	clean
}
# deploy_fail CMD...: certctl fails with exit 1 (a target failed); its
# stdout and stderr together in DOUT.
DOUT=
deploy_fail() {
	local rc
	_count
	DOUT=$("$@" 2>&1)
	rc=$?
	[ "$rc" = 1 ] || fail "exit status of '$*': expected 1, got $rc
output: $DOUT"
}
# rows TEXT: the rows of a deployments table (a header line, if any, left out).
rows() {
	printf '%s\n' "$1" | grep -v '^DEFINITION ' | sed '/^$/d'
}
# files_state DIR: every file under DIR with its mode, owner and checksum,
# and every symlink with its target.
files_state() {
	find "$1" \( -type f -o -type l \) -print0 2>/dev/null | LC_ALL=C sort -z |
		while IFS= read -r -d '' f; do
			if [ -L "$f" ]; then
				echo "link $(readlink "$f") $f"
			else
				echo "$(stat -c '%a %U:%G' "$f") $(sha256sum <"$f" | cut -c1-64) $f"
			fi
		done
}

# Stop what the script started, whatever happens.
NGINX_PID=
SLOW_PID_FILE=$T/hookout/slow.pid
stop_nginx() {
	if [ -n "$NGINX_PID" ]; then
		kill -TERM "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=
	fi
}
cleanup() {
	stop_nginx
	# The timed-out hook's sleep, if certctl left it running.
	local spid
	spid=$(cat "$SLOW_PID_FILE" 2>/dev/null)
	if [ -n "$spid" ] && { tr '\0' ' ' <"/proc/$spid/cmdline"; } 2>/dev/null | grep -q '^sleep 20'; then
		kill -KILL "$spid" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- the CAs ------------------------------------------------------------------------------
ok_out out certctl -q ca init root
ok_out out certctl -q ca init sub --parent root
ROOT=$PWD/ca/root/cert.pem
SUB_FP=$(fp ca/sub/cert.pem)
ok openssl verify -CAfile "$ROOT" ca/sub/cert.pem
assert_eq "subject=CN = sub" "$(openssl x509 -in ca/sub/cert.pem -noout -subject)" "subject of the intermediate"

# === 1. nginx ===============================================================================
N=$T/ngx
mkdir -p "$N/logs" "$N/tmp" "$N/ssl"
: >"$N/extra.conf"
# A throw-away self-signed certificate, for nginx to start with.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/ssl/key.pem" \
	-out "$N/ssl/fullchain.pem" -subj /CN=throwaway -days 2 2>/dev/null || fail "cannot make the throw-away certificate"
chmod 600 "$N/ssl/key.pem"
chmod 644 "$N/ssl/fullchain.pem"
THROWAWAY_FP=$(fp "$N/ssl/fullchain.pem")
NGINX=(nginx -c "$N/nginx.conf" -p "$N/" -e "$N/logs/error.log")
write_conf() {
	cat >"$N/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    include $N/extra.conf;
    server {
        listen 127.0.0.1:$PORT ssl;
        server_name web.example.com;
        ssl_certificate $N/ssl/fullchain.pem;
        ssl_certificate_key $N/ssl/key.pem;
        location / { return 200 "hello\n"; }
    }
}
EOF
}
# start_nginx: nginx on a free port, PORT.
start_nginx() {
	local started=
	for _ in 1 2 3 4 5; do
		PORT=$(free_port)
		write_conf
		"${NGINX[@]}" >>"$T/nginx.out" 2>&1 &
		NGINX_PID=$!
		for _ in $(seq 50); do
			listening "$PORT" && started=yes && break
			kill -0 "$NGINX_PID" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$started" ] && break
		stop_nginx
	done
	_count
	[ -n "$started" ] || fail "no nginx listening on 127.0.0.1 within 5 tries:
$(cat "$T/nginx.out" "$N/logs/error.log" 2>/dev/null)"
}
start_nginx
assert_eq "$THROWAWAY_FP" "$(served_leaf "$PORT")" "nginx serves the throw-away certificate"

# The definition: three targets writing what this nginx reads.
TEST_ARGV="[nginx, -t, -c, $N/nginx.conf, -p, $N/, -e, $N/logs/error.log]"
RELOAD_ARGV="[nginx, -c, $N/nginx.conf, -p, $N/, -e, $N/logs/error.log, -s, reload]"
cat >"$T/web.yaml" <<EOF
subject:
  cn: web.example.com
san:
  dns: [web.example.com]
ca: sub
targets:
  - name: ngx
    type: nginx
    dir: $N/ssl
    test: $TEST_ARGV
    reload: $RELOAD_ARGV
    timeout: 20s
    check: 127.0.0.1:$PORT
    sni: web.example.com
  # The certificate alone where nginx wants the full chain.
  - name: leafonly
    type: files
    cert: $N/ssl/fullchain.pem
    key: $N/ssl/key.pem
    reload: $RELOAD_ARGV
    check: {host: 127.0.0.1, port: $PORT}
  # No test: the reload is what fails.
  - name: ngxr
    type: nginx
    dir: $N/ssl
    test: []
    reload: $RELOAD_ARGV
    check: 127.0.0.1:$PORT
EOF
ok_out out certctl define web --from "$T/web.yaml"
ok_out out certctl issue web
C1=$(curid web)
C1_FP=$(fp "$(cur web)/cert.pem")
REC=deployments/web/ngx.yaml

# --- the first deploy: prepared, installed, confirmed --------------------------------------
n0=$(commits)
ok_out out certctl deploy web --target ngx
deploy_commits "$n0" web ngx "$C1" prepared installed confirmed
assert_file "$REC"
yaml_has "$REC" "definition: web"
yaml_has "$REC" "target: ngx"
yaml_has "$REC" "type: nginx"
yaml_has "$REC" "state: confirmed"
yaml_has "$REC" "cert: $C1"
assert_eq "$C1_FP" "$(sed -n 's/^sha256: *//p' "$REC" | tr -d ':' | tr 'A-F' 'a-f')" "sha256 of the record"
assert_eq "" "$(grep '^previous:' "$REC")" "previous of a first deployment"
assert_match "$(grep '^updated:' "$REC")" '^updated: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "updated"
assert_no_file deployments/web/leafonly.yaml
rec web ngx "
assert r['type'] == 'nginx' and r['state'] == 'confirmed' and r['cert'] == '$C1', r
assert norm(r['sha256']) == '$C1_FP', r
assert paths(r['files']) == sorted(['$N/ssl/fullchain.pem', '$N/ssl/key.pem']), r['files']
c = r['check']
assert c['result'] == 'ok' and c['host'] == '127.0.0.1' and str(c['port']) == '$PORT', c
assert c['sni'] == 'web.example.com', c
assert norm(c['served_sha256']) == '$C1_FP', c
assert c['served_chain'] == ['CN=sub'], c
assert not c.get('missing'), c
assert c['verdict'] == 'OK' and c['findings'] == [], c
assert [h['state'] for h in r['history']][-3:] == ['prepared', 'installed', 'confirmed'], r['history']
assert all(h['cert'] == '$C1' for h in r['history']), r['history']
"
# The last command run: the reload.
rec web ngx "
c = cmd(r)
assert c['argv'] == ['nginx', '-c', '$N/nginx.conf', '-p', '$N/', '-e', '$N/logs/error.log', '-s', 'reload'], c
assert str(c['status']) == '0', c
"
# What nginx serves: the new certificate and the intermediate.
assert_eq "$C1_FP
$SUB_FP" "$(served_fps "$PORT")" "what nginx serves after the first deploy"
# The files: fullchain = cert + chain; the key is clear PKCS#8, 0600, the certificate's.
assert_eq "$C1_FP
$SUB_FP" "$(bundle_fps "$N/ssl/fullchain.pem")" "fullchain.pem"
assert_eq "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$N/ssl/key.pem")" "key.pem is clear PKCS#8"
assert_eq "$(cert_pub "$(cur web)/cert.pem")" "$(key_pub "$N/ssl/key.pem")" "key.pem is the certificate's key"
assert_mode 600 "$N/ssl/key.pem"
assert_mode 644 "$N/ssl/fullchain.pem"
# The throw-away files were kept as .certctl-prev; nothing .certctl-new is left.
assert_eq "$THROWAWAY_FP" "$(fp "$N/ssl/fullchain.pem.certctl-prev")" "fullchain.pem.certctl-prev"
assert_mode 600 "$N/ssl/key.pem.certctl-prev"
assert_eq "" "$(find "$N/ssl" -name '*.certctl-new')" "leftover .certctl-new files"
ok openssl verify -CAfile "$ROOT" -untrusted "$N/ssl/fullchain.pem" "$N/ssl/fullchain.pem"
cp -p "$N/ssl/fullchain.pem" "$T/out/c1.fullchain.pem"
cp -p "$N/ssl/key.pem" "$T/out/c1.key.pem"
# certctl log shows the three commits.
ok_out out certctl log web
for st in prepared installed confirmed; do
	assert_match "$out" "$(subject web ngx "$st" "$C1" | sed 's/^\^//')" "certctl log web"
done
# deployments: the table.
ok_out out certctl deployments
assert_match "$out" "^web +ngx +nginx +confirmed +$C1 " "deployments row"
assert_eq 1 "$(rows "$out" | wc -l | tr -d ' ')" "rows of deployments"

# --- a second certificate, deployed with --json ---------------------------------------------
ok_out out certctl issue web
C2=$(curid web)
C2_FP=$(fp "$(cur web)/cert.pem")
assert_ne "$C1" "$C2" "the second certificate"
n0=$(commits)
ok_out out certctl deploy web --target ngx --json
deploy_commits "$n0" web ngx "$C2" prepared installed confirmed
json_check "$out" "
assert d['schema'] == 'certctl.deploy/1', d['schema']
assert d['definition'] == 'web', d
assert [t['target'] for t in d['targets']] == ['ngx'], d
t = d['targets'][0]
assert t['state'] == 'confirmed' and t['cert'] == '$C2' and t['previous'] == '$C1', t
assert t['definition'] == 'web' and t['type'] == 'nginx', t
assert t['check']['result'] == 'ok', t
assert t['check']['served_sha256'].replace(':', '').lower() == '$C2_FP', t
"
yaml_has "$REC" "previous: $C1"
assert_eq "$C2_FP
$SUB_FP" "$(served_fps "$PORT")" "what nginx serves after the second deploy"
# The first deploy's files are now the backups.
ok cmp "$T/out/c1.fullchain.pem" "$N/ssl/fullchain.pem.certctl-prev"
ok cmp "$T/out/c1.key.pem" "$N/ssl/key.pem.certctl-prev"
assert_mode 600 "$N/ssl/key.pem.certctl-prev"
assert_mode 600 "$N/ssl/key.pem"
cp -p "$N/ssl/fullchain.pem" "$T/out/c2.fullchain.pem"
# git's own view: six deploy commits for web/ngx, each with its three
# trailers, and the issue commit between them: the history is
# deploy x3, issue, deploy x3.
assert_eq 6 "$(git log --format='%(trailers:key=Certctl-Target,valueonly)' | grep -cx ngx)" \
	"commits with Certctl-Target: ngx"
assert_eq "deploy web ngx
deploy web ngx
deploy web ngx
issue web
deploy web ngx
deploy web ngx
deploy web ngx" "$(git log -7 --format='%(trailers:key=Certctl-Operation,valueonly,separator=)%x20%(trailers:key=Certctl-Definition,valueonly,separator=)%x20%(trailers:key=Certctl-Target,valueonly,separator=)' |
	sed 's/ *$//')" "the trailers of the last seven commits"
assert_eq 6 "$(git log --format=%s | grep -cE '^deploy web (→|to) ngx: ')" "deploy commits of web/ngx, by subject"

# === 2. the leaf without its chain: the check names the missing intermediate ==================
ok_out out certctl issue web
C3=$(curid web)
C3_FP=$(fp "$(cur web)/cert.pem")
n0=$(commits)
deploy_fail certctl deploy web --target leafonly
assert_contains "$DOUT" "CN=sub" "output of a deploy whose check misses the intermediate"
deploy_commits "$n0" web leafonly "$C3" prepared installed failed
yaml_has deployments/web/leafonly.yaml "state: failed"
yaml_has deployments/web/leafonly.yaml "type: files"
assert_match "$(grep '^error:' deployments/web/leafonly.yaml)" "CN=sub" "error of the record"
rec web leafonly "
assert r['state'] == 'failed' and r['cert'] == '$C3', r
c = r['check']
assert c['result'] == 'missing-intermediate', c
assert c['missing'] == ['CN=sub'], c
assert c['served_chain'] == [], c
assert norm(c['served_sha256']) == '$C3_FP', c
assert c['sni'] == 'web.example.com', c
assert 'CN=sub' in r['error'], r
"
assert_eq "$C3_FP" "$(served_fps "$PORT")" "nginx serves the leaf alone"
assert_eq "$C3_FP" "$(bundle_fps "$N/ssl/fullchain.pem")" "the leafonly target wrote the certificate alone"
# The other record is untouched.
yaml_has "$REC" "cert: $C2"
yaml_has "$REC" "state: confirmed"

# === 3. --rollback: the previous certificate again =============================================
n0=$(commits)
ok_out out certctl deploy web --rollback --target ngx
deploy_commits "$n0" web ngx "$C1" prepared installed confirmed
yaml_has "$REC" "cert: $C1"
yaml_has "$REC" "previous: $C2"
yaml_has "$REC" "state: confirmed"
assert_eq "$C1_FP
$SUB_FP" "$(served_fps "$PORT")" "nginx serves the rolled-back certificate"
ok cmp "$T/out/c1.fullchain.pem" "$N/ssl/fullchain.pem"
assert_eq "$(cert_pub "certs/web/$C1/cert.pem")" "$(key_pub "$N/ssl/key.pem")" "key.pem after the rollback"
assert_mode 600 "$N/ssl/key.pem"
# No previous certificate to roll back to: refused, nothing changed.
snapshot
expect_fail 1 "previous" certctl deploy web --rollback --target leafonly
assert_unchanged
expect_fail 1 "previous|ngxr" certctl deploy web --rollback --target ngxr
assert_unchanged
assert_no_file deployments/web/ngxr.yaml

# === 4. a broken nginx configuration: the old files back, the old certificate served =========
ok_out out certctl issue web
C4=$(curid web)
C4_FP=$(fp "$(cur web)/cert.pem")
echo 'this_is_not_a_directive on;' >"$N/extra.conf"
cp -p "$N/ssl/fullchain.pem" "$T/out/before.fullchain.pem"
cp -p "$N/ssl/key.pem" "$T/out/before.key.pem"
state0=$(files_state "$N/ssl" | grep -v 'certctl-prev')
n0=$(commits)
deploy_fail certctl deploy web --target ngx
assert_contains "$DOUT" "ngx" "output of a deploy whose nginx -t fails"
deploy_commits "$n0" web ngx "$C4" prepared failed
yaml_has "$REC" "state: failed"
yaml_has "$REC" "cert: $C4"
ok grep -qF 'this_is_not_a_directive' "$REC"
rec web ngx "
assert r['state'] == 'failed' and r['cert'] == '$C4', r
assert r['error'], r
assert [h['state'] for h in r['history']][-2:] == ['prepared', 'failed'], r['history']
"
rec web ngx "
c = cmd(r)
assert c['argv'][:2] == ['nginx', '-t'], c
assert str(c['status']) == '1', c
assert 'unknown directive \"this_is_not_a_directive\"' in c['output'], c
"
ok cmp "$T/out/before.fullchain.pem" "$N/ssl/fullchain.pem"
ok cmp "$T/out/before.key.pem" "$N/ssl/key.pem"
assert_eq "$state0" "$(files_state "$N/ssl" | grep -v 'certctl-prev')" "nginx's files after a failed test"
assert_eq "" "$(find "$N/ssl" -name '*.certctl-new')" "leftover .certctl-new files"
assert_eq "$C1_FP" "$(served_leaf "$PORT")" "nginx still serves the old certificate"
# Without a test, the reload itself fails.
n0=$(commits)
deploy_fail certctl deploy web --target ngxr
deploy_commits "$n0" web ngxr "$C4" prepared failed
rec web ngxr "
assert r['state'] == 'failed' and r['cert'] == '$C4', r
assert r['error'], r
"
rec web ngxr "
c = cmd(r)
assert c['argv'][-2:] == ['-s', 'reload'], c
assert str(c['status']) == '1', c
assert 'unknown directive \"this_is_not_a_directive\"' in c['output'], c
"
ok grep -qF 'this_is_not_a_directive' deployments/web/ngxr.yaml
ok cmp "$T/out/before.fullchain.pem" "$N/ssl/fullchain.pem"
ok cmp "$T/out/before.key.pem" "$N/ssl/key.pem"
assert_eq "$state0" "$(files_state "$N/ssl" | grep -v 'certctl-prev')" "nginx's files after a failed reload"
assert_eq "$C1_FP" "$(served_leaf "$PORT")" "nginx still serves the old certificate after the failed reload"
ok kill -0 "$NGINX_PID"

# --- --check alone: nginx serves C1, the record is about C4: a mismatch -----------------------
_count
certctl deploy web --check --target ngx >"$T/out/check.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "deploy --check of a mismatch: exit $rc: $(cat "$T/out/check.out")"
rec web ngx "
assert r['state'] == 'failed' and r['cert'] == '$C4', r
c = r['check']
assert c['result'] == 'mismatch', c
assert norm(c['served_sha256']) == '$C1_FP', c
assert c['message'], c
"
clean

# --- deployments --failed and --open ------------------------------------------------------------
ok_out out certctl deployments --failed
assert_match "$out" "^web +ngx +nginx +failed +$C4 " "deployments --failed"
assert_match "$out" "^web +ngxr +nginx +failed +$C4 " "deployments --failed"
assert_match "$out" "^web +leafonly +files +failed +$C3 " "deployments --failed"
assert_eq 3 "$(printf '%s\n' "$out" | grep -c '^web ')" "rows of deployments --failed"
ok_out out certctl deployments --failed --json
json_check "$out" "
assert d['schema'] == 'certctl.deployments/1', d['schema']
assert sorted(x['target'] for x in d['deployments']) == ['leafonly', 'ngx', 'ngxr'], d
assert all(x['state'] == 'failed' for x in d['deployments']), d
"

# --- --confirm-manual --note ---------------------------------------------------------------------
n0=$(commits)
ok_out out certctl deploy web --confirm-manual --target leafonly --note "checked by hand: chain added on the LB"
deploy_commits "$n0" web leafonly "$C3" manually-confirmed
yaml_has deployments/web/leafonly.yaml "state: manually-confirmed"
rec web leafonly "
assert r['state'] == 'manually-confirmed', r
assert r['note'] == 'checked by hand: chain added on the LB', r
"
ok_out out certctl deployments --failed
assert_not_contains "$out" "leafonly" "deployments --failed after --confirm-manual"
assert_eq 2 "$(printf '%s\n' "$out" | grep -c '^web ')" "rows of deployments --failed"
ok_out out certctl deployments --open
assert_not_contains "$out" "leafonly" "deployments --open after --confirm-manual"
assert_match "$out" "^web +ngx +nginx +failed " "deployments --open"

# --- the configuration repaired: C4 goes out, previous is what was installed before -----------
: >"$N/extra.conf"
n0=$(commits)
ok_out out certctl deploy web --target ngx
deploy_commits "$n0" web ngx "$C4" prepared installed confirmed
yaml_has "$REC" "previous: $C1"
assert_eq "$C4_FP
$SUB_FP" "$(served_fps "$PORT")" "nginx serves C4"

# --- --dry-run: nothing changes -------------------------------------------------------------------
ok_out out certctl issue web
C5=$(curid web)
C5_FP=$(fp "$(cur web)/cert.pem")
snapshot
head0=$(git rev-parse HEAD)
files0=$(files_state "$N")
ok_out out certctl deploy web --target ngx --dry-run
assert_contains "$out" "$N/ssl/fullchain.pem" "output of --dry-run: the files"
assert_contains "$out" "$N/ssl/key.pem" "output of --dry-run: the files"
assert_contains "$out" "reload" "output of --dry-run: the commands"
assert_eq "$head0" "$(git rev-parse HEAD)" "HEAD after --dry-run"
assert_unchanged
assert_eq "$files0" "$(files_state "$N")" "nginx's directory after --dry-run"
assert_eq "$C4_FP" "$(served_leaf "$PORT")" "nginx serves C4 after --dry-run"

# --- --no-check, then --check -------------------------------------------------------------------
n0=$(commits)
ok_out out certctl deploy web --target ngx --no-check
deploy_commits "$n0" web ngx "$C5" prepared installed
yaml_has "$REC" "state: installed"
assert_eq "$C5_FP" "$(served_leaf "$PORT")" "nginx serves C5"
ok_out out certctl deployments --open
assert_match "$out" "^web +ngx +nginx +installed +$C5 " "deployments --open: installed is open"
n0=$(commits)
ok_out out certctl deploy web --check --target ngx
deploy_commits "$n0" web ngx "$C5" confirmed
rec web ngx "
assert r['state'] == 'confirmed' and r['cert'] == '$C5' and r['previous'] == '$C4', r
assert r['check']['result'] == 'ok' and norm(r['check']['served_sha256']) == '$C5_FP', r
"
stop_nginx

# === 5. files: every piece, PKCS#12 and JKS, owner, group and modes =============================
F=$T/files
mkdir -p "$F/private"
STORE_PASS=store-pass-7
printf '%s\n' "$STORE_PASS" >"$T/store.pass"
chmod 600 "$T/store.pass"
LE=$T/le
mkdir "$LE"
if [ "$(id -u)" = 0 ]; then
	OWNER_LINES="    owner: nobody
    group: nogroup"
	WANT_OWNER=nobody:nogroup
else
	OWNER_LINES=""
	WANT_OWNER=$(id -un):$(id -gn)
	skip "not root: owner/group settings are not tested"
fi
cat >"$T/app.yaml" <<EOF
subject:
  cn: app.example.com
san:
  dns: [app.example.com]
ca: sub
targets:
  - name: store
    type: files
    cert: $F/cert.pem
    chain: $F/chain.pem
    fullchain: $F/fullchain.pem
    key: private/key.pem
    dir: $F
    combined: $F/combined.pem
    pkcs12: $F/app.p12
    jks: $F/app.jks
    alias: Tomcat
    passphrase_file: $T/store.pass
$OWNER_LINES
    mode: "0640"
  - name: le
    type: certbot-live
    dir: $LE
    cert_name: site.example.com
EOF
ok_out out certctl define app --from "$T/app.yaml"
ok_out out certctl issue app
A1=$(curid app)
A1_FP=$(fp "$(cur app)/cert.pem")
A1_FPC=$(fpc "$(cur app)/cert.pem")
A1_PUB=$(cert_pub "$(cur app)/cert.pem")
n0=$(commits)
ok_out out certctl deploy app --json
# Both targets, two commits each: no check is configured, so 'installed' is the end.
assert_eq $((n0 + 4)) "$(commits)" "commits of deploy app (two targets)"
clean
json_check "$out" "
assert d['definition'] == 'app', d
assert [t['target'] for t in d['targets']] == ['store', 'le'], d
assert all(t['state'] == 'installed' and t['cert'] == '$A1' for t in d['targets']), d
assert d['targets'][0]['type'] == 'files' and d['targets'][1]['type'] == 'certbot-live', d
"
yaml_has deployments/app/store.yaml "state: installed"
yaml_has deployments/app/le.yaml "state: installed"
rec app store "
assert paths(r['files']) == sorted(['$F/cert.pem', '$F/chain.pem', '$F/fullchain.pem', '$F/private/key.pem',
    '$F/combined.pem', '$F/app.p12', '$F/app.jks']), r['files']
"
# The PEM pieces against the repository.
assert_eq "$A1_FP" "$(bundle_fps "$F/cert.pem")" "cert.pem"
assert_eq "$SUB_FP" "$(bundle_fps "$F/chain.pem")" "chain.pem"
assert_eq "$A1_FP
$SUB_FP" "$(bundle_fps "$F/fullchain.pem")" "fullchain.pem"
assert_eq "$A1_FP
$SUB_FP" "$(bundle_fps "$F/combined.pem")" "the certificates of combined.pem"
ok cmp "$(cur app)/cert.pem" "$F/cert.pem"
assert_eq "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$F/private/key.pem")" "key.pem is clear PKCS#8"
assert_eq "$A1_PUB" "$(key_pub "$F/private/key.pem")" "key.pem is the certificate's key"
assert_eq "$A1_PUB" "$(key_pub "$F/combined.pem")" "the key of combined.pem"
assert_eq "-----END PRIVATE KEY-----" "$(tail -n 1 "$F/combined.pem")" "combined.pem ends with the key"
ok openssl verify -CAfile "$ROOT" -untrusted "$F/chain.pem" "$F/cert.pem"
# Owner, group, modes: certificate files get mode, key files key_mode 0600.
for f in cert.pem chain.pem fullchain.pem; do
	assert_eq "640 $WANT_OWNER" "$(stat -c '%a %U:%G' "$F/$f")" "mode and owner of $f"
done
for f in private/key.pem combined.pem app.p12 app.jks; do
	assert_eq "600 $WANT_OWNER" "$(stat -c '%a %U:%G' "$F/$f")" "mode and owner of $f"
done
# Nothing was there before: no backups.
assert_eq "" "$(find "$F" -name '*.certctl-prev' -o -name '*.certctl-new')" "backups of a first deploy"
# PKCS#12: openssl reads it with the password: key, certificate, chain, alias.
_count
openssl pkcs12 -in "$F/app.p12" -passin "file:$T/store.pass" -nodes -out "$T/out/p12.pem" 2>"$T/out/p12.err" ||
	fail "openssl pkcs12 cannot read app.p12: $(cat "$T/out/p12.err")"
assert_eq "$A1_PUB" "$(key_pub "$T/out/p12.pem")" "the key in app.p12"
assert_eq "$(printf '%s\n%s\n' "$A1_FP" "$SUB_FP" | LC_ALL=C sort)" "$(bundle_fps "$T/out/p12.pem" | LC_ALL=C sort)" \
	"the certificates in app.p12"
ok grep -q 'friendlyName: Tomcat$' "$T/out/p12.pem"
_count
openssl pkcs12 -in "$F/app.p12" -passin pass:wrong-password -nodes >/dev/null 2>&1 &&
	fail "openssl pkcs12 reads app.p12 with a wrong password"
# keytool: a PrivateKeyEntry with its chain, in both stores.
for st in JKS PKCS12; do
	case $st in JKS) f=$F/app.jks ;; *) f=$F/app.p12 ;; esac
	_count
	list=$(jkeytool -list -v -alias tomcat -storetype "$st" -keystore "$f" -storepass "$STORE_PASS" 2>&1) ||
		fail "keytool -list of $f ($st) failed: $list"
	assert_contains "$list" "Entry type: PrivateKeyEntry" "keytool -list of $f"
	assert_contains "$list" "Certificate chain length: 2" "keytool -list of $f"
	assert_eq "$A1_FPC" "$(printf '%s\n' "$list" | sed -n 's/^[[:space:]]*SHA256: //p' | head -n 1)" \
		"the key entry's certificate in $f"
done
_count
list=$(jkeytool -list -storetype JKS -keystore "$F/app.jks" -storepass "$STORE_PASS" 2>&1) ||
	fail "keytool -list of app.jks failed: $list"
assert_match "$list" "^tomcat, .*PrivateKeyEntry" "keytool -list of app.jks: the alias, lower-cased"
assert_contains "$list" "Your keystore contains 1 entry" "keytool -list of app.jks"
# The JKS key entry's key is the certificate's: converted by keytool, read by openssl.
_count
said=$(jkeytool -importkeystore -noprompt -srckeystore "$F/app.jks" -srcstoretype JKS -srcstorepass "$STORE_PASS" \
	-destkeystore "$T/out/jks.p12" -deststoretype PKCS12 -deststorepass "$STORE_PASS" 2>&1) ||
	fail "keytool -importkeystore of app.jks failed: $said"
assert_eq "$A1_PUB" "$(key_pub <(openssl pkcs12 -in "$T/out/jks.p12" -passin "pass:$STORE_PASS" -nocerts -nodes 2>/dev/null))" \
	"the key in app.jks"

# === 6. certbot-live ======================================================================
L=$LE/live/site.example.com
for p in cert chain fullchain privkey; do
	_count
	[ -L "$L/$p.pem" ] || fail "$L/$p.pem is not a symlink"
	assert_eq "../../archive/site.example.com/${p}1.pem" "$(readlink "$L/$p.pem")" "live/$p.pem"
	assert_file "$LE/archive/site.example.com/${p}1.pem"
done
assert_eq "$A1_FP" "$(fp "$L/cert.pem")" "live cert.pem"
assert_eq "$SUB_FP" "$(bundle_fps "$L/chain.pem")" "live chain.pem"
assert_eq "$A1_FP
$SUB_FP" "$(bundle_fps "$L/fullchain.pem")" "live fullchain.pem"
assert_eq "$A1_PUB" "$(key_pub "$L/privkey.pem")" "live privkey.pem"
assert_mode 600 "$LE/archive/site.example.com/privkey1.pem"
ok openssl verify -CAfile "$ROOT" -untrusted "$L/chain.pem" "$L/cert.pem"
# The next deploy: number 2, the links move, number 1 stays.
ok_out out certctl issue app
A2=$(curid app)
A2_FP=$(fp "$(cur app)/cert.pem")
n0=$(commits)
ok_out out certctl deploy app --target le
deploy_commits "$n0" app le "$A2" prepared installed
for p in cert chain fullchain privkey; do
	assert_eq "../../archive/site.example.com/${p}2.pem" "$(readlink "$L/$p.pem")" "live/$p.pem after the second deploy"
done
assert_eq "$A2_FP" "$(fp "$L/cert.pem")" "live cert.pem after the second deploy"
assert_eq "$A2_FP
$SUB_FP" "$(bundle_fps "$L/fullchain.pem")" "live fullchain.pem after the second deploy"
assert_eq "$(cert_pub "$(cur app)/cert.pem")" "$(key_pub "$L/privkey.pem")" "live privkey.pem after the second deploy"
assert_eq "$A1_FP" "$(fp "$LE/archive/site.example.com/cert1.pem")" "archive cert1.pem is kept"
assert_mode 600 "$LE/archive/site.example.com/privkey2.pem"
ok openssl verify -CAfile "$ROOT" -untrusted "$L/chain.pem" "$L/cert.pem"
# The store target was not deployed again.
yaml_has deployments/app/store.yaml "cert: $A1"
assert_eq "$A1_FP" "$(fp "$F/cert.pem")" "the store target's cert.pem"

# === 7. command targets ===================================================================
H=$T/hookout
mkdir "$H"
cat >"$T/hook.sh" <<EOF
#!/bin/sh
n=\$(cat $H/n 2>/dev/null || echo 0)
n=\$((n + 1))
echo \$n >$H/n
d=$H/\$n
mkdir \$d
env >\$d/env
printf '%s\n' "\$@" >\$d/args
readlink /proc/\$\$/fd/0 >\$d/stdin
stat -c %a "\$CERTCTL_KEY_FILE" >\$d/keymode
stat -c %a "\$(dirname "\$CERTCTL_KEY_FILE")" >\$d/keydirmode
cp "\$CERTCTL_CERT_FILE" \$d/cert.pem
cp "\$CERTCTL_CHAIN_FILE" \$d/chain.pem
cp "\$CERTCTL_FULLCHAIN_FILE" \$d/fullchain.pem
cp "\$CERTCTL_KEY_FILE" \$d/key.pem
echo "hook ran for \$CERTCTL_TARGET (\$CERTCTL_ACTION)"
echo "hook stderr line" >&2
EOF
cat >"$T/hook-fail.sh" <<'EOF'
#!/bin/sh
echo "reload refused: the service is in maintenance" >&2
exit 3
EOF
cat >"$T/hook-slow.sh" <<EOF
#!/bin/sh
echo "slow hook started"
sleep 20 &
echo \$! >$SLOW_PID_FILE
wait
EOF
chmod 755 "$T/hook.sh" "$T/hook-fail.sh" "$T/hook-slow.sh"
cat >"$T/hook.yaml" <<EOF
subject:
  cn: hook.example.com
san:
  dns: [hook.example.com]
ca: sub
targets:
  - name: run
    type: command
    run: [$T/hook.sh, first arg, --second]
  - name: fail
    type: command
    run: [$T/hook-fail.sh]
  - name: slow
    type: command
    run: [$T/hook-slow.sh]
    timeout: 1s
EOF
ok_out out certctl define hook --from "$T/hook.yaml"
ok_out out certctl issue hook
K1=$(curid hook)
K1_FP=$(fp "$(cur hook)/cert.pem")
K1_PUB=$(cert_pub "$(cur hook)/cert.pem")
n0=$(commits)
CERTCTL_PASSPHRASE_FILE=$SECRET CERTCTL_PASSPHRASE=decoy-secret-value CERTCTL_PASSPHRASE_EXTRA=decoy-2 \
	ok_out out certctl deploy hook --target run
deploy_commits "$n0" hook run "$K1" prepared installed
assert_eq 1 "$(cat "$H/n")" "hook runs"
E=$H/1/env
yaml_has "$E" "CERTCTL_ACTION=install"
yaml_has "$E" "CERTCTL_DEFINITION=hook"
yaml_has "$E" "CERTCTL_TARGET=run"
yaml_has "$E" "CERTCTL_CERT_ID=$K1"
assert_eq "$K1_FP" "$(sed -n 's/^CERTCTL_CERT_SHA256=//p' "$E" | tr -d ':' | tr 'A-F' 'a-f')" "CERTCTL_CERT_SHA256"
assert_eq "" "$(grep '^CERTCTL_PREVIOUS_CERT_ID=' "$E")" "CERTCTL_PREVIOUS_CERT_ID of a first deploy"
assert_eq "" "$(grep '^CERTCTL_PASSPHRASE' "$E")" "CERTCTL_PASSPHRASE* in the hook's environment"
assert_not_contains "$(cat "$E")" "decoy-secret-value" "the hook's environment"
assert_eq "first arg
--second" "$(cat "$H/1/args")" "the hook's arguments"
assert_eq /dev/null "$(cat "$H/1/stdin")" "the hook's standard input"
assert_eq 600 "$(cat "$H/1/keymode")" "mode of CERTCTL_KEY_FILE"
assert_eq 700 "$(cat "$H/1/keydirmode")" "mode of CERTCTL_KEY_FILE's directory"
ok cmp "$(cur hook)/cert.pem" "$H/1/cert.pem"
assert_eq "$SUB_FP" "$(bundle_fps "$H/1/chain.pem")" "CERTCTL_CHAIN_FILE"
assert_eq "$K1_FP
$SUB_FP" "$(bundle_fps "$H/1/fullchain.pem")" "CERTCTL_FULLCHAIN_FILE"
assert_eq "$K1_PUB" "$(key_pub "$H/1/key.pem")" "CERTCTL_KEY_FILE"
for v in CERTCTL_KEY_FILE CERTCTL_CERT_FILE CERTCTL_FULLCHAIN_FILE; do
	p=$(sed -n "s/^$v=//p" "$E")
	assert_ne "" "$p" "$v"
	assert_no_file "$p"
done
assert_no_file "$(dirname "$(sed -n 's/^CERTCTL_KEY_FILE=//p' "$E")")"
rec hook run "
assert r['type'] == 'command' and r['state'] == 'installed' and r['cert'] == '$K1', r
"
# The hook's output is kept only when it fails (certctl's choice: a chatty
# hook's output stays out of the history).
rec hook run "
c = cmd(r)
assert c['argv'] == ['$T/hook.sh', 'first arg', '--second'], c
assert str(c['status']) == '0', c
assert c.get('output', '') in ('', None) or 'hook ran for run (install)' in c['output'], c
"
# Again with a new certificate: the previous one is named; then rolled back.
ok_out out certctl issue hook
K2=$(curid hook)
ok_out out certctl deploy hook --target run
yaml_has "$H/2/env" "CERTCTL_CERT_ID=$K2"
yaml_has "$H/2/env" "CERTCTL_PREVIOUS_CERT_ID=$K1"
yaml_has "$H/2/env" "CERTCTL_ACTION=install"
n0=$(commits)
ok_out out certctl deploy hook --target run --rollback
deploy_commits "$n0" hook run "$K1" prepared installed
yaml_has "$H/3/env" "CERTCTL_ACTION=rollback"
yaml_has "$H/3/env" "CERTCTL_CERT_ID=$K1"
ok cmp "certs/hook/$K1/cert.pem" "$H/3/cert.pem"
yaml_has deployments/hook/run.yaml "previous: $K2"
# A hook that exits 3.
n0=$(commits)
deploy_fail certctl deploy hook --target fail
deploy_commits "$n0" hook fail "$K2" prepared failed
ok grep -qF "reload refused: the service is in maintenance" deployments/hook/fail.yaml
rec hook fail "
assert r['state'] == 'failed', r
assert r['error'], r
"
rec hook fail "
c = cmd(r)
assert str(c['status']) == '3', c
assert 'reload refused: the service is in maintenance' in c['output'], c
"
# A hook past its timeout is killed, with what it runs.
n0=$(commits)
t0=$(date +%s%N)
deploy_fail timeout -k 2 "$(slow 25)" "$CERTCTL" deploy hook --target slow
t1=$(date +%s%N)
assert_within_ms 6000 $(((t1 - t0) / 1000000)) "a deploy to a hook with timeout 1s"
deploy_commits "$n0" hook slow "$K2" prepared failed
rec hook slow "
assert r['state'] == 'failed', r
assert 'timeout' in r['error'] or 'within 1s' in r['error'], r
"
rec hook slow "
c = cmd(r)
assert str(c['status']) == 'timeout' or (c['status'] == -1 and 'within 1s' in c['result']), c
assert 'slow hook started' in c['output'], c
"
_count
if [ -s "$SLOW_PID_FILE" ]; then
	spid=$(cat "$SLOW_PID_FILE")
	gone=
	for _ in $(seq 30); do
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$spid/status" 2>/dev/null)
		if [ -z "$st" ] || [ "$st" = Z ]; then
			gone=yes
			break
		fi
		sleep 0.1
	done
	[ -n "$gone" ] || fail "the timed-out hook's child (sleep, pid $spid) still runs"
else
	fail "the slow hook did not start"
fi

# === 8. deployments: all of it, --open, --json ===========================================
ok_out out certctl deployments --json
json_check "$out" "
assert d['schema'] == 'certctl.deployments/1', d['schema']
got = sorted((x['definition'], x['target'], x['state']) for x in d['deployments'])
assert got == [('app', 'le', 'installed'), ('app', 'store', 'installed'), ('hook', 'fail', 'failed'),
    ('hook', 'run', 'installed'), ('hook', 'slow', 'failed'), ('web', 'leafonly', 'manually-confirmed'),
    ('web', 'ngx', 'confirmed'), ('web', 'ngxr', 'failed')], got
"
ok_out out certctl deployments --open
assert_eq "$(printf '%s\n' "app le" "app store" "hook fail" "hook run" "hook slow" "web ngxr")" \
	"$(printf '%s\n' "$out" | grep -v '^DEFINITION ' | awk '{print $1, $2}' | LC_ALL=C sort)" "deployments --open"
ok_out out certctl deployments hook --failed
assert_eq "$(printf '%s\n' "hook fail" "hook slow")" \
	"$(printf '%s\n' "$out" | grep -v '^DEFINITION ' | awk '{print $1, $2}' | LC_ALL=C sort)" "deployments hook --failed"

ok_out FSCK certctl fsck
assert_contains "$FSCK" "0 errors, 0 warnings" "certctl fsck with the deployment records"

# === 9. bad input: one line, nothing changed, nothing written =============================
# An unknown target type: define refuses it.
printf 'subject:\n  cn: weird.example.com\nca: sub\ntargets:\n  - name: t\n    type: bogus-type\n    cert: %s\n' \
	"$T/out/weird.pem" >"$T/weird.yaml"
snapshot
expect_fail 1 "bogus-type" certctl define weird --from "$T/weird.yaml"
assert_unchanged
assert_no_file definitions/weird.yaml
# Paths that cannot be written: checked for every chosen target before anything is done.
B=$T/badout
mkdir "$B"
echo "a regular file" >"$T/plainfile"
cat >"$T/bad.yaml" <<EOF
subject:
  cn: bad.example.com
san:
  dns: [bad.example.com]
ca: sub
targets:
  - name: good
    type: files
    cert: $B/good.pem
    key: $B/good.key
  - name: unw
    type: files
    cert: $T/plainfile/sub/cert.pem
  - name: proc
    type: files
    fullchain: /proc/certctl-test/fullchain.pem
  - name: noreload
    type: files
    cert: $B/nr.pem
    reload: [/nonexistent/reloader, now]
EOF
ok_out out certctl define bad --from "$T/bad.yaml"
ok_out out certctl issue bad
ok_out out certctl -q define plain --dns plain.example.com --ca sub
ok_out out certctl issue plain
snapshot
expect_fail 1 "plainfile/sub" certctl deploy bad --target good --target unw
assert_unchanged
assert_eq "" "$(ls -A "$B")" "files written by a refused deploy"
assert_no_file deployments/bad
expect_fail 1 "/proc/certctl-test" certctl deploy bad --target proc
assert_unchanged
expect_fail 1 "/nonexistent/reloader" certctl deploy bad --target noreload --target good
assert_unchanged
assert_eq "" "$(ls -A "$B")" "files written by a refused deploy"
# Every target: the first bad one stops them all.
expect_fail 1 "plainfile/sub|/proc/certctl-test|/nonexistent/reloader" certctl deploy bad
assert_unchanged
assert_eq "" "$(ls -A "$B")" "files written by a refused deploy"
# An unknown --target: the known ones are named.
expect_fail 1 "nosuch" certctl deploy web --target nosuch
assert_contains "$FAIL_MSG" "ngx" "the error of an unknown target"
assert_contains "$FAIL_MSG" "leafonly" "the error of an unknown target"
assert_unchanged
# No targets, no definition.
expect_fail 1 "plain.*target|target.*plain" certctl deploy plain
assert_unchanged
expect_fail 1 "nodef" certctl deploy nodef
assert_unchanged
expect_fail 64 "DEF" certctl deploy
assert_unchanged
expect_fail 64 "--bogus" certctl deploy web --bogus
assert_unchanged
# A monitored-only definition (imported without its key): nothing to deploy with.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/out/mon.key" -out "$T/out/mon.pem" \
	-subj /CN=mon.example.com -addext subjectAltName=DNS:mon.example.com -days 30 2>/dev/null ||
	fail "cannot make the monitored certificate"
ok_out out certctl import "$T/out/mon.pem" --mode monitor --name mon
ok_out shown certctl show mon
{
	printf '%s\n' "$shown" | grep -v '^targets:'
	printf 'targets:\n  - name: t\n    type: files\n    cert: %s\n    key: %s\n' "$B/mon.pem" "$B/mon.key"
} >"$T/mon.yaml"
ok_out out certctl define mon --from "$T/mon.yaml"
snapshot
expect_fail 1 "mon.*monitor" certctl deploy mon
assert_unchanged
assert_eq "" "$(ls -A "$B")" "files written by a refused deploy"
# A lifecycle definition whose key is gone from the repository (removed with git).
KID=$(sed -n 's/^key_id: *//p' "$(cur bad)/cert.yaml")
assert_file "keys/${KID:0:2}/$KID.pem"
git rm -q "keys/${KID:0:2}/$KID.pem" "keys/${KID:0:2}/$KID.yaml" && git commit -q -m "keys: $KID removed by hand" ||
	fail "cannot remove the key of bad with git"
snapshot
expect_fail 1 "$KID" certctl deploy bad --target good
assert_contains "$FAIL_MSG" "key" "the error of a missing key"
assert_unchanged
assert_eq "" "$(ls -A "$B")" "files written by a refused deploy"
# No repository secret: the key cannot be read.
mkdir -m 700 "$T/no-secret"
CERTCTL_SECRET_DIR=$T/no-secret expect_fail 1 "secret" certctl deploy hook --target run
assert_unchanged
assert_eq 3 "$(cat "$H/n")" "hook runs (none without the secret)"
# Options that do not go together.
expect_fail 64 "rollback|check" certctl deploy web --rollback --check
assert_unchanged

# === 10. the served chain, verified as check verifies it ====================================
# The deploy check asks the verifier (certctl-verify(1)) about what the
# server sends, with the definition's trust set, the check's server name
# and the definition's allowed rules: a chain clients reject fails the
# deployment ("rejected", the rule ids in the message), whatever serves it.
# (Section 1: a good chain is "OK" with no findings.)
start_nginx
# A check that asks for a name the certificate is not for: name.mismatch.
cat >"$T/alias.yaml" <<EOF
subject:
  cn: web.example.com
san:
  dns: [web.example.com]
ca: sub
targets:
  - name: ngx
    type: nginx
    dir: $N/ssl
    test: $TEST_ARGV
    reload: $RELOAD_ARGV
    check: 127.0.0.1:$PORT
    sni: other.example.com
EOF
ok_out out certctl define alias --from "$T/alias.yaml"
ok_out out certctl issue alias
A1=$(curid alias)
n0=$(commits)
deploy_fail certctl deploy alias --target ngx
assert_contains "$DOUT" "name.mismatch" "a deploy whose server name the certificate is not for"
deploy_commits "$n0" alias ngx "$A1" prepared installed failed
rec alias ngx "
c = r['check']
assert r['state'] == 'failed' and c['result'] == 'rejected', r
assert c['verdict'] == 'CRITICAL', c
assert any(f.startswith('name.mismatch: ') for f in c['findings']), c
assert 'name.mismatch' in r['error'] and 'other.example.com' in r['error'], r
"
assert_eq "$(fp "$(cur alias)/cert.pem")" "$(served_leaf "$PORT")" "nginx serves the rejected certificate"
# The same with the rule allowed: confirmed, the exception in the record.
ok_out out certctl define alias --allow name.mismatch
ok_out out certctl deploy alias --check --target ngx
rec alias ngx "
c = r['check']
assert r['state'] == 'confirmed' and c['result'] == 'ok', r
assert c['verdict'] == 'OK', c
assert [f.split(':')[0] for f in c['findings']] == ['allowed'], c
"
# A revoked certificate (the CA's CRL in the repository) is rejected by
# deploy --check; revocation is never an allowed rule.
ok_out out certctl ca revoke sub alias --reason keyCompromise
ok_out out certctl ca crl sub
n0=$(commits)
deploy_fail certctl deploy alias --check --target ngx
assert_contains "$DOUT" "revocation.revoked" "deploy --check of a revoked certificate"
assert_contains "$DOUT" "keyCompromise" "the reason of the revocation"
rec alias ngx "
c = r['check']
assert r['state'] == 'failed' and c['result'] == 'rejected' and c['verdict'] == 'CRITICAL', r
assert any(f.startswith('revocation.revoked: ') for f in c['findings']), c
"
stop_nginx

ok git fsck --full --no-progress --no-dangling
clean
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"

finish
