#!/bin/bash
# The README's five-minute walk, run as it is written: the indented lines
# of its section "A five-minute walk" (up to the next heading), in one
# bash with set -euo pipefail, as a user without root would run them:
# a fresh HOME, a clean environment with a Debian user's PATH (no
# /usr/sbin) and certctl in it.  Run as root, the script runs the walk as
# nobody.  Only the port changes, when 8443 is taken (and again if nginx
# finds its port taken), and a line after each step records it as done,
# for an ok line per step.  Then real tools judge the result: nginx serves
# the issued certificate with its chain (openssl s_client verifying it
# against the repository's CA, curl --cacert), certctl check exits 0, the
# deployment is confirmed, the bare repository received every commit, the
# teammate's clone has the definition and keys the secret opens; the
# crontab line, run as cron runs it (env -i, PATH=/usr/bin:/bin), is silent
# and records a check; what the walk shows as output (#> lines) is what the
# commands print; the line that stops nginx stops it.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
README=$top/README

for tool in /usr/sbin/nginx curl openssl git; do
	if ! command -v "$tool" >/dev/null; then
		skip "$tool is not installed: the walk needs it"
		finish
	fi
done

# --- the walk, from the README ------------------------------------------------------
# The section: from its heading to the next one (a line of dashes).
section=$(awk '$0 == "A five-minute walk" { on = 1; getline; next }
	on && /^-+$/ { exit }
	on { print }' "$README")
assert_ne "" "$section" "the README's section 'A five-minute walk'"
# The script: every indented (and blank) line as it is; each "Step N, TITLE:"
# paragraph records the step before it as done, and the end the last one.
script=$(printf '%s\n' "$section" | awk '
	/^Step [0-9]+, / { if (step != "") print "echo " step " >>\"$WALK_STEPS\""; step = $2; sub(/,$/, "", step); next }
	/^    / || /^$/ { print }
	END { if (step != "") print "echo " step " >>\"$WALK_STEPS\"" }')
# The steps: number and title.
steps=$(printf '%s\n' "$section" | sed -n 's/^Step \([0-9]*\), \([^:]*\):.*/\1 \2/p')
assert_eq "1 2 3 4 5 6 7" "$(printf '%s\n' "$steps" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')" "the walk's steps"
# The commands, in the order the task sets: init, define, issue, deploy,
# check, monitor, push, clone.
commands=$(printf '%s\n' "$script" | grep -vE '^ *(#|$)')
assert_eq "certctl init
certctl define
certctl issue
certctl deploy
certctl check
certctl monitor
git push
git clone" "$(printf '%s\n' "$commands" | grep -oE '(certctl (init|define|issue|deploy|check|monitor)|git (-C [a-z]+ )?(push|clone))( |$)' |
	sed -e 's/-C [a-z]* //' -e 's/ $//' | uniq)" "the walk's commands, in order"
# Its port: one assignment, PORT=8443.
assert_eq 1 "$(printf '%s\n' "$script" | grep -c '^    PORT=8443$')" "lines 'PORT=8443' in the walk"
# What it shows as output, the crontab line and the line that stops nginx:
# comments of the walk.
expected=$(printf '%s\n' "$script" | sed -n 's/^    #> \{0,1\}//p')
assert_ne "" "$expected" "the output the walk shows (#> lines)"
cron_line=$(printf '%s\n' "$script" | sed -n 's/^    #  *\([0-9*][0-9*,\/-]* [0-9*][^ ]* [^ ]* [^ ]* [^ ]* .*certctl.*\)$/\1/p')
assert_eq 1 "$(printf '%s\n' "$cron_line" | grep -c .)" "crontab lines in the walk"
stop_line=$(printf '%s\n' "$script" | sed -n 's/^    #  *\(\/usr\/sbin\/nginx .* -s stop\)$/\1/p')
assert_eq 1 "$(printf '%s\n' "$stop_line" | grep -c .)" "lines that stop nginx in the walk"

# git, for this script, reads the repositories of another user too.
printf '[safe]\n\tdirectory = *\n' >"$T/gitconfig"
export GIT_CONFIG_GLOBAL=$T/gitconfig

# --- who runs it ----------------------------------------------------------------------
# As root, nobody walks: in directories it owns, with its own copy of certctl.
WALKER=
if [ "$(id -u)" = 0 ]; then
	WALKER=nobody
	command -v runuser >/dev/null || fail "no runuser to run the walk as $WALKER"
	chmod 711 "$T"
fi
mkdir -p "$T/bin"
cp "$CERTCTL" "$T/bin/certctl"
chmod 755 "$T/bin" "$T/bin/certctl"
# as_walker CMD...: CMD as the walker, in the walker's environment: a login's,
# with the walk's HOME ($W) and a Debian user's PATH with certctl in front.
as_walker() {
	local env=(env -i HOME="$W" PATH="$T/bin:/usr/local/bin:/usr/bin:/bin" LC_ALL=C TZ=UTC
		SHELL=/bin/bash USER="${WALKER:-$(id -un)}" LOGNAME="${WALKER:-$(id -un)}"
		GIT_CONFIG_NOSYSTEM=1 WALK_STEPS="$WALK_STEPS")
	if [ -n "$WALKER" ]; then
		runuser -u "$WALKER" -- "${env[@]}" "$@"
	else
		"${env[@]}" "$@"
	fi
}

# Whatever happens, the nginx of each try stops (it is a daemon: its pid file).
stop_nginx() {
	local f pid
	for f in "$T"/try*/home/certctl-walk/nginx/nginx.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null)
		[ -n "$pid" ] && alive "$pid" && stop_pid "$pid"
	done
	return 0
}
trap stop_nginx EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- the walk ---------------------------------------------------------------------------
PORT=8443
if listening "$PORT"; then
	PORT=$(free_ports 1)
	note "8443 is taken: the walk runs on port $PORT"
fi
try=0
while :; do
	try=$((try + 1))
	D=$T/try$try
	W=$D/home
	WALK_STEPS=$D/steps
	mkdir -p "$W"
	: >"$WALK_STEPS"
	printf '%s\n' "${script//8443/$PORT}" >"$D/walk.sh"
	[ -n "$WALKER" ] && chown -R "$WALKER" "$D"
	(cd "$W" && as_walker bash -euo pipefail "$D/walk.sh") >"$D/walk.out" 2>&1
	rc=$?
	# nginx found its port taken: once more, on another one.
	if [ "$rc" != 0 ] && [ "$try" -lt 3 ] && grep -q 'Address already in use' "$D/walk.out"; then
		note "port $PORT was taken when nginx started: once more"
		stop_nginx
		PORT=$(free_ports 1)
		continue
	fi
	break
done
_count
[ "$rc" = 0 ] || fail "the walk exits $rc after step $(tail -n 1 "$WALK_STEPS"):
$(tail -n 40 "$D/walk.out")"
# One line per step.
while read -r n title; do
	_count
	grep -qx "$n" "$WALK_STEPS" || fail "step $n of the walk is not done: $(tr '\n' ' ' <"$WALK_STEPS")"
	note "ok step $n, $title"
done <<<"$steps"

C=$W/certctl-walk
R=$C/certs
DEF=www.example.com
CUR=$R/certs/$DEF/$(cat "$R/certs/$DEF/current")
CA=$R/ca/corp-root/cert.pem
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'
}

# --- what the walk shows is what the commands print ----------------------------------------
_count
printf '%s\n' "${expected//8443/$PORT}" >"$D/expected"
mismatch=$(python3 - "$D/walk.out" "$D/expected" <<'EOF'
import re, sys
out = [l.strip() for l in open(sys.argv[1], errors="replace").read().splitlines()]
expected = open(sys.argv[2]).read().splitlines()
i = 0
for e in expected:
    words = e.split()
    pat = r"\s+".join(re.escape(w).replace(re.escape("..."), ".*") for w in words)
    while i < len(out) and not re.fullmatch(pat, out[i]):
        i += 1
    if i == len(out):
        print("'%s' (as /%s/)" % (e, pat))
        break
    i += 1
EOF
)
[ -z "$mismatch" ] || fail "the walk's output, in order, has no line like its #> line $mismatch:
$(cat "$D/walk.out")"

# --- nginx serves the certificate the repository issued --------------------------------------
served=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername "$DEF" -showcerts </dev/null 2>/dev/null)
assert_eq "$(fp "$CUR/cert.pem")" "$(printf '%s\n' "$served" | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//')" \
	"the certificate nginx presents"
out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername "$DEF" -CAfile "$CA" \
	-verify_return_error -verify_hostname "$DEF" </dev/null 2>&1)
assert_contains "$out" "Verify return code: 0 (ok)" "openssl s_client verifying against the repository's CA"
ok_out body curl -sS --max-time 10 --cacert "$CA" --resolve "$DEF:$PORT:127.0.0.1" "https://$DEF:$PORT/"
assert_eq "hello from nginx" "$body" "what nginx answers"
ok_out body curl -sS --max-time 10 --cacert "$C/corp-root.pem" --resolve "example.com:$PORT:127.0.0.1" "https://example.com:$PORT/"
assert_eq "hello from nginx" "$body" "what nginx answers for the second name (the CA the walk exported)"
# The files the deployment wrote: the full chain, the key (0600, the
# certificate's), and the throw-away ones kept.
N=$C/nginx/ssl
assert_eq "$(cat "$CUR/cert.pem" "$CUR/chain.pem")" "$(cat "$N/fullchain.pem")" "fullchain.pem"
assert_mode 600 "$N/key.pem"
assert_eq "$(openssl x509 -in "$CUR/cert.pem" -noout -pubkey)" "$(openssl pkey -in "$N/key.pem" -pubout)" "the key nginx has"
assert_contains "$(openssl x509 -in "$N/fullchain.pem.certctl-prev" -noout -subject)" "placeholder" "the certificate kept"
# The repository recorded the deployment as confirmed.
yaml_has "$R/deployments/$DEF/web.yaml" "state: confirmed"
assert_eq "$(fp "$CUR/cert.pem" | tr -d : | tr 'A-F' 'a-f')" \
	"$(sed -n 's/^sha256: *//p' "$R/deployments/$DEF/web.yaml" | tr -d : | tr 'A-F' 'a-f')" "the deployed certificate on record"
# The repository secret is where the README says, 0600.
id=$(sed -n 's/^id: *//p' "$R/.certctl/config.yaml")
SECRET=$W/.config/certctl/secrets/$id.key
assert_mode 600 "$SECRET"

# --- shared: the bare repository and the teammate's clone ------------------------------------
ok_out head_rev as_walker git -C "$R" rev-parse HEAD
ok_out bare as_walker git --git-dir "$C/shared.git" rev-parse HEAD
assert_eq "$head_rev" "$bare" "HEAD of the bare repository"
ok_out upstream as_walker git -C "$R" rev-parse '@{upstream}'
assert_eq "$head_rev" "$upstream" "the upstream of the repository's branch"
ok_out log as_walker git --git-dir "$C/shared.git" log --format=%s
assert_contains "$log" "define: $DEF: created" "the bare repository's history"
assert_match "$log" "^issue: $DEF: certificate [0-9A-F]+ issued by corp-root" "the bare repository's history"
assert_contains "$log" "deploy $DEF to web: confirmed" "the bare repository's history"
assert_eq "$(commits "$R")" "$(printf '%s\n' "$log" | wc -l | tr -d ' ')" "commits in the bare repository"
ok_out clone_head as_walker git -C "$C/teammate" rev-parse HEAD
assert_eq "$head_rev" "$clone_head" "HEAD of the teammate's clone"
ok cmp "$R/definitions/$DEF.yaml" "$C/teammate/definitions/$DEF.yaml"
ok_out out as_walker git -C "$C/teammate" status --porcelain
assert_eq "" "$out" "git status of the clone"
# The clone's keys are 0600 again (fsck --repair), and the secret opens them.
key_id=$(sed -n 's/^key_id: *//p' "$CUR/cert.yaml")
TK=$C/teammate/$(key_file "$key_id" pem)
assert_mode 600 "$TK"
assert_eq "$(openssl x509 -in "$CUR/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$TK" -passin "file:$SECRET" -pubout 2>&1)" "the clone's key, with the secret"
ok_out out as_walker certctl -C "$C/teammate" fsck
ok_out out as_walker certctl -C "$C/teammate" show "$DEF"
assert_contains "$out" "check: 127.0.0.1:$PORT" "the definition in the clone"

# --- certctl check, again ------------------------------------------------------------------------
n0=$(commits "$R")
ok_out out as_walker certctl -C "$R" check
assert_match "$out" "^OK +$DEF +127\.0\.0\.1:$PORT " "certctl check"
ok_out out as_walker certctl -C "$R" check "127.0.0.1:$PORT" --sni "$DEF" --nagios
assert_match "$out" "^CERTCTL OK - 1 endpoints?: 0 critical, 0 warning, 0 unknown, 1 ok" "certctl check HOST:PORT --nagios"

# --- the crontab line, as cron runs it ------------------------------------------------------------
# cron runs the command with /bin/sh, HOME and LOGNAME set and PATH
# /usr/bin:/bin; certctl is where the README says make install put it,
# here the binary under test.
cron_cmd=$(printf '%s\n' "$cron_line" | cut -d' ' -f6-)
assert_contains "$cron_cmd" "/usr/local/bin/certctl -q monitor" "the crontab line"
n0=$(commits "$R")
cron_run() {
	local env=(env -i HOME="$W" LOGNAME="${WALKER:-$(id -un)}" SHELL=/bin/sh PATH=/usr/bin:/bin)
	if [ -n "$WALKER" ]; then
		runuser -u "$WALKER" -- "${env[@]}" /bin/sh -c "$1"
	else
		"${env[@]}" /bin/sh -c "$1"
	fi
}
ok_out out cron_run "${cron_cmd//\/usr\/local\/bin\/certctl/$T/bin/certctl}"
assert_eq "" "$out" "what the quiet monitor run prints"
assert_eq $((n0 + 1)) "$(commits "$R")" "commits after the monitor run (its record)"

# --- the end: the line that stops nginx stops it ----------------------------------------------------
pid=$(cat "$C/nginx/nginx.pid")
assert_ne "" "$pid" "nginx's pid"
ok as_walker bash -c "$stop_line"
for _ in $(seq 50); do
	alive "$pid" || break
	sleep 0.1
done
_count
! alive "$pid" || fail "nginx ($pid) still runs after the walk's stop line"
_count
! listening "$PORT" || fail "something still listens on $PORT"
assert_eq "" "$(grep -E '\[(emerg|alert|crit)\]' "$C/nginx/error.log")" "serious errors in nginx's log"

finish
