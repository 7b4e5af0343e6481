#!/bin/bash
# Crash consistency: a mixed workload (define, issue, issue --batch, acquire
# against a real pebble, import, deploy to files, check, monitor) with each
# command killed by SIGKILL at a random point of its run, $CERTCTL_CRASH_KILLS
# times (30 here, 200 in `make torture`).  After each kill:
#  - the branch is where it was or moved forward (no commit lost);
#  - `certctl fsck` passes, or `certctl fsck --repair` leaves it passing
#    (the interrupted operation rolled back), and git status is clean;
#  - every certificate committed has its key committed, and the current
#    certificate of a definition (a random one each time) matches its key
#    (openssl, with the repository secret);
#  - the same command, run again to its end, works;
# and `git fsck` finds nothing wrong, every 10 kills and at the end.
# Prints the counts: kills that interrupted a command, repairs, commits.
# $CERTCTL_CRASH_SEED replays a run (the seed is printed).
. "$(dirname "$0")/lib.sh"

for tool in pebble pebble-challtestsrv curl; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh test installs it)"
done
KILLS=${CERTCTL_CRASH_KILLS:-30}
SEED=${CERTCTL_CRASH_SEED:-$((($$ + $(date +%s)) % 32768))}
RANDOM=$SEED
note "crash: $KILLS kills, seed $SEED (CERTCTL_CRASH_SEED=$SEED replays it)"

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}" ${PEBBLE_PID:-} ${CHALL_PID:-}; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
ok certctl -q ca init root

# --- the workload's definitions ------------------------------------------------------------------
# web1..web4: the built-in CA, deployed to files, checked at a local TLS
# server that serves web1's first certificate (so later checks find it is
# not the current one: CRITICAL, a normal outcome).
read -r PORT <<<"$(free_ports 1)"
mkdir -p "$T/deploy" "$T/srv"
for i in 1 2 3 4; do
	cat >"$T/web$i.yaml" <<EOF
subject:
  cn: web$i.example.com
san:
  dns: [web$i.example.com]
process: unattended
targets:
  - name: files
    type: files
    cert: $T/deploy/web$i/cert.pem
    fullchain: $T/deploy/web$i/fullchain.pem
    key: $T/deploy/web$i/key.pem
    settle: 0s
    check:
      host: 127.0.0.1
      port: $PORT
      sni: web$i.example.com
EOF
	ok_out out certctl -q define "web$i" --from "$T/web$i.yaml"
	ok_out out certctl -q issue "web$i"
	ok_out out certctl -q deploy "web$i" --no-check
done
printf 'web1\nweb2\nweb3\nweb4\n' >"$T/batch"
openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -cert "$T/deploy/web1/cert.pem" \
	-key "$T/deploy/web1/key.pem" </dev/null >"$T/s_server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do listening "$PORT" && break; sleep 0.1; done
_count
listening "$PORT" || fail "openssl s_server does not listen"

# acme1: pebble, http-01 really validated by pebble's VA.
start_pebble "$T/pebble"
ok_out out certctl -q trust add "$P/root.pem"
# pebble's VA asks http-01 on $HTTP; certctl's responder listens there.
acme_provider pebble "127.0.0.1:$HTTP"
cat >"$T/acme1.yaml" <<EOF
subject:
  cn: acme1.example.com
san:
  dns: [acme1.example.com]
provider: pebble
EOF
ok_out out certctl -q define acme1 --from "$T/acme1.yaml"

# Certificates to import: an external CA's leaves with their keys.
mkdir "$T/imp"
(
	cd "$T/imp" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
		-subj /CN=Import-CA -days 30 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign 2>/dev/null
) || fail "cannot make the import CA"
new_import() { # new_import N: $T/imp/N.pem (certificate) and N.key
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/imp/$1.key" \
		-subj "/CN=imp$1.example.com" -addext "subjectAltName=DNS:imp$1.example.com" \
		-out "$T/imp/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$T/imp/$1.csr" -CA "$T/imp/ca.pem" -CAkey "$T/imp/ca.key" -days 20 \
			-copy_extensions copy -out "$T/imp/$1.pem" 2>/dev/null
}

# --- the operations ----------------------------------------------------------------------------------
# op_NAME: the argv of one command of the workload (in OP), fresh names
# where the command creates something.
SEQ=0
op_define() { SEQ=$((SEQ + 1)); OP=(define "new$SEQ.example.com"); }
op_issue() { OP=(issue "web$((RANDOM % 4 + 1))"); }
op_batch() { OP=(issue --batch "$T/batch"); }
op_acquire() { OP=(acquire acme1); }
op_import() {
	SEQ=$((SEQ + 1))
	new_import "$SEQ" || fail "cannot make import $SEQ"
	OP=(import "$T/imp/$SEQ.pem" --key "$T/imp/$SEQ.key" --name "imp$SEQ")
}
op_deploy() { OP=(deploy "web$((RANDOM % 4 + 1))" --no-check); }
op_check() { OP=(check "web$((RANDOM % 4 + 1))"); }
op_monitor() { OP=(monitor --no-notify); }
OPS=(define issue batch acquire import deploy check monitor)

# run_op: OP to its end; its exit status is fine when 0 (check and monitor:
# 0 to 2, the monitoring convention's OK, WARNING and CRITICAL).
run_op() {
	local rc=0
	"$CERTCTL" "${OP[@]}" >"$T/op.out" 2>"$T/op.err" || rc=$?
	case ${OP[0]} in
	check | monitor) [ "$rc" -le 2 ] ;;
	*) [ "$rc" = 0 ] ;;
	esac
}

# How long each operation takes, to kill it anywhere in its run.
declare -A DUR
for name in "${OPS[@]}"; do
	"op_$name"
	t0=$(date +%s%N)
	_count
	run_op || fail "certctl ${OP[*]} fails before any kill: $(cat "$T/op.err")"
	DUR[$name]=$((($(date +%s%N) - t0) / 1000000 + 5))
done
note "durations (ms): $(for n in "${OPS[@]}"; do printf '%s=%s ' "$n" "${DUR[$n]}"; done)"

# --- the invariants ------------------------------------------------------------------------------------
# keys_of_certs: every certs/*/*/cert.yaml of HEAD names a key that HEAD has.
keys_of_certs() {
	/usr/bin/python3 - <<'PY'
import subprocess, sys
files = set(subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD"], capture_output=True,
                           text=True, check=True).stdout.split())
bad = []
for f in sorted(files):
    parts = f.split("/")
    if len(parts) != 4 or parts[0] != "certs" or parts[3] != "cert.yaml":
        continue
    text = subprocess.run(["git", "show", "HEAD:" + f], capture_output=True, text=True,
                          check=True).stdout
    key = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("key_id:")]
    if not key or not key[0]:
        continue  # a monitored certificate: no key
    k = key[0]
    if "keys/%s/%s.pem" % (k[:2], k) not in files and "keys/%s.pem" % k not in files:
        bad.append("%s: key %s is not committed" % (f, k))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
}
# key_matches DEF: the current certificate of DEF and its key, decrypted by
# openssl with the secret, have the same public key.
key_matches() {
	local cur kid
	[ -f "certs/$1/current" ] || return 0
	cur=certs/$1/$(cat "certs/$1/current")
	kid=$(sed -n 's/^key_id: *//p' "$cur/cert.yaml")
	[ -n "$kid" ] || return 0
	[ "$(openssl x509 -in "$cur/cert.pem" -noout -pubkey | sha256sum)" = \
		"$(openssl pkey -in "$(key_file "$kid" pem)" -passin "file:$SECRET" -pubout | sha256sum)" ]
}

interrupted=0 finished=0 repaired=0 moved=0
for ((k = 1; k <= KILLS; k++)); do
	name=${OPS[RANDOM % ${#OPS[@]}]}
	"op_$name"
	before=$(git rev-parse HEAD)
	delay=$((RANDOM % DUR[$name]))
	"$CERTCTL" "${OP[@]}" >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
	if kill -9 "$pid" 2>/dev/null; then
		interrupted=$((interrupted + 1))
	else
		finished=$((finished + 1))
	fi
	wait "$pid" 2>/dev/null
	what="kill $k: certctl ${OP[*]} after $delay ms"
	# No commit lost: HEAD is where it was or after it.
	_count
	git merge-base --is-ancestor "$before" HEAD || fail "$what: HEAD $(git rev-parse HEAD) does not descend from $before"
	[ "$(git rev-parse HEAD)" != "$before" ] && moved=$((moved + 1))
	# fsck passes, or passes once --repair rolled the operation back.
	if ! "$CERTCTL" fsck >"$T/fsck.out" 2>&1; then
		repaired=$((repaired + 1))
		_count
		"$CERTCTL" fsck --repair >"$T/repair.out" 2>&1 ||
			fail "$what: fsck --repair fails: $(cat "$T/fsck.out" "$T/repair.out")"
		_count
		"$CERTCTL" fsck >"$T/fsck2.out" 2>&1 ||
			fail "$what: fsck fails after --repair: $(cat "$T/fsck2.out")"
	fi
	_count
	[ -z "$(git status --porcelain --untracked-files=all)" ] ||
		fail "$what: the work tree is not HEAD's: $(git status --porcelain --untracked-files=all | head -5)"
	_count
	out=$(keys_of_certs) || fail "$what: $out"
	def=web$((RANDOM % 4 + 1))
	_count
	key_matches "$def" || fail "$what: the current certificate of $def does not match its key"
	# The next command works: the same one, to its end; one that creates
	# something creates a new one (the killed one may have committed its
	# own), and an acquisition interrupted after its order was committed is
	# resumed, as certctl acquire says to.
	case $name in define | import) "op_$name" ;; esac
	if [ "${OP[0]}" = acquire ] && [ -n "$("$CERTCTL" requests acme1 --open 2>/dev/null)" ]; then
		OP=(acquire acme1 --resume)
	fi
	_count
	run_op || fail "$what: then certctl ${OP[*]} fails: $(cat "$T/op.err")"
	if ((k % 10 == 0 || k == KILLS)); then
		_count
		git fsck --strict --no-dangling >"$T/git-fsck.out" 2>&1 ||
			fail "$what: git fsck: $(cat "$T/git-fsck.out")"
	fi
done
note "crash: $KILLS kills ($interrupted interrupted a command, $finished came after it ended), $repaired needed fsck --repair, $moved moved HEAD; $(git rev-list --count HEAD) commits in all"
ok_out out certctl fsck
assert_contains "$out" "0 errors" "the last fsck"

finish
