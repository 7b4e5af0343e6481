#!/bin/bash
# Concurrency: several certctl processes change one repository at once, for
# $CERTCTL_CONCURRENCY_ROUNDS rounds (2 here, more in `make torture`): two
# `monitor` runs (each renewing the unattended definitions that have no
# certificate yet and recording its checks), an `issue --batch` of every
# definition, `define`s of new unattended definitions, a `check` and an
# `import`.  Each round they start together and wait for the repository
# lock as they come.  Then:
#  - every process exits as it should (0; monitor and check 0 to 2);
#  - no commit is lost: the history is one line, and its commits are
#    exactly what the processes said they did (per operation: one per
#    certificate of the batch, one per define, one for the import, one per
#    acquisition the monitors report, none of them twice);
#  - `git fsck` and `certctl fsck` are clean, git status is clean;
#  - every definition's current certificate verifies against the CA with
#    openssl and matches its key.
. "$(dirname "$0")/lib.sh"

ROUNDS=${CERTCTL_CONCURRENCY_ROUNDS:-2}
export CERTCTL_LOCK_TIMEOUT=120

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
ok certctl -q ca init root

# A TLS server for the checks of the monitors and of check.
read -r PORT <<<"$(free_ports 1)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
	-out "$T/srv.pem" -subj /CN=srv.example.com -days 30 2>/dev/null || fail "no server certificate"
openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -cert "$T/srv.pem" -key "$T/srv.key" \
	</dev/null >"$T/s_server.log" 2>&1 &
SRV=$!
trap 'kill -9 $SRV 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do listening "$PORT" && break; sleep 0.1; done
_count
listening "$PORT" || fail "openssl s_server does not listen"

# unattended NAME: an unattended definition (monitor acquires it when it has
# no certificate) checked at the local server.
unattended() {
	cat >"$T/$1.yaml" <<EOF
subject:
  cn: $1.example.com
san:
  dns: [$1.example.com]
process: unattended
targets:
  - name: files
    type: files
    cert: $T/deploy/$1/cert.pem
    key: $T/deploy/$1/key.pem
    settle: 0s
    check:
      host: 127.0.0.1
      port: $PORT
      sni: $1.example.com
EOF
	"$CERTCTL" -q define "$1" --from "$T/$1.yaml"
}
mkdir -p "$T/deploy" "$T/out"
: >"$T/batch"
for i in $(seq 1 12); do
	_count
	unattended "base$i" >/dev/null || fail "cannot define base$i"
	echo "base$i" >>"$T/batch"
done
ok_out out certctl -q issue --batch "$T/batch"

# ops OPERATION: the commits of the history made by OPERATION (trailer).
ops() {
	git log --format='%(trailers:key=Certctl-Operation,valueonly)' | sed '/^$/d' | grep -cx "$1"
}

total_renewed=0
for ((round = 1; round <= ROUNDS; round++)); do
	c0=$(commits)
	issue0=$(ops issue) define0=$(ops define) import0=$(ops import) acquire0=$(ops acquire)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/imp$round.key" \
		-subj "/CN=imp$round.example.com" -out "$T/imp$round.csr" 2>/dev/null &&
		openssl x509 -req -in "$T/imp$round.csr" -signkey "$T/imp$round.key" -days 20 \
			-out "$T/imp$round.pem" 2>/dev/null || fail "cannot make import $round"
	pids=() names=()
	start() { # start NAME CMD...: CMD in the background, its output in $T/out/NAME.*
		local name=$1
		shift
		"$@" >"$T/out/$name.out" 2>"$T/out/$name.err" &
		pids+=($!)
		names+=("$name")
	}
	start monitor1 "$CERTCTL" monitor --no-notify --json
	start monitor2 "$CERTCTL" monitor --no-notify --json
	start batch "$CERTCTL" -q issue --batch "$T/batch"
	start check "$CERTCTL" check base1 base2 --json
	start import "$CERTCTL" -q import "$T/imp$round.pem" --key "$T/imp$round.key" --name "imp$round"
	for i in 1 2 3 4; do
		start "define$i" unattended "r${round}n$i"
	done
	for k in "${!pids[@]}"; do
		rc=0
		wait "${pids[$k]}" || rc=$?
		name=${names[$k]}
		_count
		case $name in
		monitor* | check) [ "$rc" -le 2 ] ;;
		*) [ "$rc" = 0 ] ;;
		esac || fail "round $round: $name exited $rc: $(cat "$T/out/$name.err")"
	done
	# What the monitors say they renewed (acquired): the new definitions
	# they found without a certificate.
	# Each definition once: the second monitor finds it done by the first.
	renewed=$(/usr/bin/python3 -c '
import json, sys
got = []
for f in sys.argv[1:]:
    d = json.load(open(f))
    got += [r["definition"] for r in d["renewals"] if r["cert"]]
if len(got) != len(set(got)):
    sys.exit("acquired twice: %s" % sorted(got))
print(len(got))' "$T/out/monitor1.out" "$T/out/monitor2.out") || fail "round $round: the monitors: $renewed"
	total_renewed=$((total_renewed + renewed))
	# The history: one line, each commit with one parent.
	_count
	[ -z "$(git rev-list --min-parents=2 HEAD)" ] || fail "round $round: a merge commit"
	assert_eq 12 $(($(ops issue) - issue0)) "round $round: commits of the batch"
	assert_eq "$renewed" $(($(ops acquire) - acquire0)) "round $round: acquisitions of the monitors"
	assert_eq 4 $(($(ops define) - define0)) "round $round: define commits"
	assert_eq 1 $(($(ops import) - import0)) "round $round: import commits"
	ok_out out git fsck --strict --no-dangling
	ok_out out certctl fsck
	assert_contains "$out" "0 errors, 0 warnings" "round $round: certctl fsck"
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "round $round: git status"
	note "round $round: $(($(commits) - c0)) commits by 9 processes ($renewed acquisitions by the monitors, each deployed in 3 commits)"
done
note "$total_renewed renewals in all; $(commits) commits"

# Every current certificate: issued by the CA, for its key.
for cur in certs/*/current; do
	def=$(basename "$(dirname "$cur")")
	d=certs/$def/$(cat "$cur")
	kid=$(sed -n 's/^key_id: *//p' "$d/cert.yaml")
	case $def in imp*) continue ;; esac # self-signed imports
	ok openssl verify -CAfile ca/root/cert.pem "$d/cert.pem"
	assert_eq "$(openssl x509 -in "$d/cert.pem" -noout -pubkey | sha256sum)" \
		"$(openssl pkey -in "$(key_file "$kid" pem)" -passin "file:$SECRET" -pubout | sha256sum)" \
		"the key of $def's current certificate"
done

finish
