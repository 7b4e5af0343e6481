# Helpers sourced by every tests/cli/tNNNN-*.sh script.
#
# run.sh gives each script a fresh temporary directory ($T) and runs it in
# $T/work, with HOME, XDG_CONFIG_HOME and CERTCTL_SECRET_DIR inside $T and git
# usable.  A script run on its own re-runs itself through run.sh.
# Assertions check with real tools (git, openssl, python3); each assert_*,
# ok, ok_out, expect_fail and json_check counts as one assertion, and
# `finish`, the last line of every script, prints the count.
# shellcheck shell=bash disable=SC2034

set -u

CLI_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -z "${CERTCTL_TEST_DIR:-}" ]; then
	exec "$CLI_TESTS/run.sh" "$(basename "$0")"
fi

: "${CERTCTL:?CERTCTL must name the certctl binary}"
T=$CERTCTL_TEST_DIR
# The count lives in a file so that assertions made in subshells count too;
# a failure in a subshell leaves a mark that `finish` will not ignore.
COUNT_FILE=$T/.assertions
FAILED_FILE=$T/.failed
: >"$COUNT_FILE"
rm -f "$FAILED_FILE"

# Run the binary under test.
certctl() {
	"$CERTCTL" "$@"
}

# Where the failing assertion was called from: the script's line, and the
# lines inside the script's own helper functions on the way.
_where() {
	local i where="" via=""
	for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
		[ "${BASH_SOURCE[$i]}" = "${BASH_SOURCE[0]}" ] && continue
		if [ "${FUNCNAME[$i]}" = main ] || [ $((i + 1)) -ge ${#FUNCNAME[@]} ]; then
			where="${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]}"
		else
			via="$via (in ${FUNCNAME[$i]} line ${BASH_LINENO[$((i - 1))]})"
		fi
	done
	echo "${where:-?}$via"
}

# fail MSG: stop the script with MSG and where it happened.  With
# CERTCTL_TEST_CONTINUE=1 the script goes on (to see every failure at once;
# later ones may follow from the first) and fails at `finish`.
fail() {
	echo "FAIL at $(_where): $*" >&2
	echo "$(_where): $*" >>"$FAILED_FILE"
	[ "${CERTCTL_TEST_CONTINUE:-}" = 1 ] && return 1
	exit 1
}

# note MSG: a comment in the script's output (shown when the script fails).
note() {
	echo "# $*"
}

# skip MSG: a case that cannot run here, with the reason.
skip() {
	echo "# skip: $*"
}

_count() {
	printf . >>"$COUNT_FILE"
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	_count
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
	_count
	[ "$1" != "$2" ] || fail "${3:-value}: expected something other than '$1'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]: fixed-string match.
assert_contains() {
	_count
	printf '%s\n' "$1" | grep -qF -- "$2" || fail "${3:-text} does not contain '$2':
$1"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
	_count
	! printf '%s\n' "$1" | grep -qF -- "$2" || fail "${3:-text} contains '$2':
$1"
}

# assert_match HAYSTACK ERE [WHAT]: extended regular expression on any line.
assert_match() {
	_count
	printf '%s\n' "$1" | grep -qE -- "$2" || fail "${3:-text} does not match /$2/:
$1"
}

# assert_file PATH / assert_no_file PATH
assert_file() {
	_count
	[ -f "$1" ] || fail "file '$1' does not exist"
}
assert_no_file() {
	_count
	[ ! -e "$1" ] && [ ! -L "$1" ] || fail "'$1' exists"
}

# assert_mode MODE PATH: octal permission bits as stat prints them (600).
assert_mode() {
	_count
	local got
	got=$(stat -c %a "$2" 2>/dev/null) || fail "cannot stat '$2'"
	[ "$got" = "$1" ] || fail "mode of '$2': expected $1, got $got"
}

# ok CMD...: CMD must succeed (its output goes to the script's output).
ok() {
	_count
	"$@" || fail "command failed (exit $?): $*"
}

# ok_out VAR CMD...: CMD must succeed and print nothing on stderr; its
# stdout is stored in VAR.
ok_out() {
	local __var=$1 __rc __out __err
	shift
	_count
	__err=$(mktemp "$T/.stderr.XXXXXX")
	__out=$("$@" 2>"$__err")
	__rc=$?
	if [ "$__rc" -ne 0 ] || [ -s "$__err" ]; then
		local e
		e=$(cat "$__err")
		rm -f "$__err"
		fail "command exited $__rc: $*
stdout: $__out
stderr: $e"
	fi
	rm -f "$__err"
	printf -v "$__var" '%s' "$__out"
}

# expect_fail EXIT ERE CMD...: CMD exits with EXIT, and its stderr holds
# exactly one line 'certctl: ...' matching the extended regular expression
# ERE.  The only other stderr line allowed is the "Try 'certctl ... --help'."
# hint of a usage error.  The stdout of the command is kept in FAIL_OUT,
# the message in FAIL_MSG.
FAIL_OUT=
FAIL_MSG=
expect_fail() {
	local want=$1 pattern=$2 rc err lines other
	shift 2
	_count
	err=$(mktemp "$T/.stderr.XXXXXX")
	FAIL_OUT=$("$@" 2>"$err")
	rc=$?
	FAIL_MSG=$(grep '^certctl: ' "$err")
	lines=$(grep -c '^certctl: ' "$err")
	other=$(grep -v '^certctl: ' "$err" | grep -vE "^Try 'certctl [a-z -]*--help'\.\$")
	local text
	text=$(cat "$err")
	rm -f "$err"
	[ "$rc" = "$want" ] || fail "exit status of '$*': expected $want, got $rc
stderr: $text"
	[ "$lines" = 1 ] || fail "'$*' printed $lines 'certctl:' lines on stderr, expected 1:
$text"
	[ -z "$other" ] || fail "'$*' printed more than its one-line error on stderr:
$text"
	printf '%s\n' "$FAIL_MSG" | grep -qE -- "$pattern" ||
		fail "error of '$*' does not match /$pattern/: $FAIL_MSG"
}

# json_check JSON PYTHON: parse JSON (from the argument) with python3 and
# run PYTHON with it as `d`; PYTHON uses assert.
json_check() {
	_count
	local out
	out=$(printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
exec(sys.argv[1])
' "$2" 2>&1) || fail "JSON check failed: $2
$out
in: $1"
}

# How many times slower than usual certctl runs here: CERTCTL_TEST_SLOW,
# 1 by default; tests/valgrind/run.sh sets 40 (memcheck makes every command
# 20 to 50 times slower).  Every limit a script puts on certctl's time goes
# through assert_within_ms, and every wait or timeout it gives certctl that
# the slowness alone would run out goes through slow; with 1 they are what
# they say.  A time certctl must wait for itself (a lock or probe timeout)
# stays as given: only the upper end of what is measured grows.
SLOW=${CERTCTL_TEST_SLOW:-1}
case $SLOW in
'' | *[!0-9]* | 0*)
	echo "CERTCTL_TEST_SLOW must be a whole number, 1 or more: '$SLOW'" >&2
	exit 1
	;;
esac

# slow N [MAX]: N (a whole number: seconds, milliseconds, tries) times
# SLOW, and no more than MAX (where certctl takes no more).
slow() {
	local n=$(($1 * SLOW))
	[ $# -ge 2 ] && [ "$n" -gt "$2" ] && n=$2
	echo "$n"
}

# assert_within_ms LIMIT ELAPSED WHAT [AT_LEAST]: ELAPSED milliseconds are
# less than LIMIT times SLOW and, given AT_LEAST, at least that (as given:
# slowness only adds time).
assert_within_ms() {
	local limit=$(($1 * SLOW)) least=${4:-0}
	_count
	[ "$2" -lt "$limit" ] && [ "$2" -ge "$least" ] ||
		fail "$3: took $2 ms, expected $([ "$least" -gt 0 ] && echo "$least ms or more and ")less than $limit ms"
}

# The state of the repository in DIR (default .): HEAD and its branch, git
# status, the mode and checksum of every work-tree file outside .git, the
# modes of the directories, and the leftovers an operation must not leave
# behind (certctl's journal, git's *.lock files).
_state() {
	(
		cd "${1:-.}" || exit 1
		echo "HEAD $(git rev-parse -q --verify HEAD || echo none)"
		echo "branch $(git symbolic-ref -q HEAD || echo detached)"
		echo "status:"
		git status --porcelain --untracked-files=all
		echo "files:"
		find . -path ./.git -prune -o \( -type f -o -type l \) -print0 |
			LC_ALL=C sort -z |
			while IFS= read -r -d '' f; do
				if [ -L "$f" ]; then
					echo "link $(readlink "$f") $f"
				else
					echo "$(stat -c %a "$f") $(sha256sum <"$f" | cut -c1-64) $f"
				fi
			done
		echo "dirs:"
		find . -path ./.git -prune -o -type d -printf '%m %p\n' | LC_ALL=C sort
		echo "journal: $(test -e .git/certctl/journal && echo present || echo none)"
		echo "git locks:"
		find .git -name '*.lock' | LC_ALL=C sort
	)
}

# snapshot [DIR]: record the state of the repository in DIR.
SNAPSHOT=
snapshot() {
	SNAPSHOT=$(_state "${1:-.}") || fail "cannot take a snapshot of '${1:-.}'"
}

# assert_unchanged [DIR]: the repository is exactly as at the last snapshot.
assert_unchanged() {
	_count
	local now
	now=$(_state "${1:-.}")
	[ "$now" = "$SNAPSHOT" ] || fail "repository changed:
$(diff <(printf '%s\n' "$SNAPSHOT") <(printf '%s\n' "$now"))"
}

# commits [DIR]: the number of commits on HEAD.
commits() {
	git -C "${1:-.}" rev-list --count HEAD
}

# secret_file [DIR]: the secret file of the repository in DIR, from its id.
secret_file() {
	local id
	id=$(sed -n 's/^id: *//p' "${1:-.}/.certctl/config.yaml")
	echo "$CERTCTL_SECRET_DIR/$id.key"
}

# key_id_of FILE: the certctl key id of the clear private key in FILE (PEM
# or DER), computed with openssl (SHA-256 of the SubjectPublicKeyInfo DER, 16 hex).
key_id_of() {
	local form=PEM
	head -c 11 "$1" | grep -q -- '-----BEGIN' || form=DER
	openssl pkey -inform "$form" -in "$1" -pubout -outform DER 2>/dev/null |
		sha256sum | cut -c1-16
}

# key_file ID EXT: where the repository keeps key ID's .pem or .yaml
# (keys/ fans out by the first two characters, as git's objects/ does).
key_file() {
	echo "keys/${1:0:2}/$1.$2"
}

# issued_file CA SERIAL: the CA's index record of SERIAL (fanned out too).
issued_file() {
	echo "ca/$1/issued/${2:0:2}/$2.yaml"
}

# finish: the end of a script.
finish() {
	if [ -s "$FAILED_FILE" ]; then
		echo "failures:" >&2
		cat "$FAILED_FILE" >&2
		exit 1
	fi
	echo "done: $(wc -c <"$COUNT_FILE" | tr -d ' ') assertions"
	exit 0
}

# --- helpers of the certificate tests -------------------------------------------
# bundle_fps FILE: the fingerprints (the script's fp) of the certificates of a
# PEM bundle, in order.
bundle_fps() {
	local dir f
	dir=$(mktemp -d "$T/split.XXXXXX")
	awk -v d="$dir" '/-----BEGIN CERTIFICATE-----/ {n++; f = sprintf("%s/%03d.pem", d, n)}
		f {print > f} /-----END CERTIFICATE-----/ {close(f); f = ""}' "$1"
	for f in "$dir"/*.pem; do
		[ -f "$f" ] && fp "$f"
	done
	rm -rf "$dir"
}
# trailer KEY [REV]: the values of trailer KEY of commit REV (HEAD).
trailer() {
	git log -1 --format="%(trailers:key=$1,valueonly)" "${2:-HEAD}" | sed '/^$/d'
}
# yaml_has FILE LINE: FILE has LINE, whole.
yaml_has() {
	_count
	grep -qxF -- "$2" "$1" || fail "'$1' has no line '$2':
$(cat "$1")"
}

# --- servers the tests start on loopback -------------------------------------------

# free_ports N: N free TCP ports on 127.0.0.1, on one line.
free_ports() {
	python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()' "$1"
}
# wait_listen PORT PID: PORT on 127.0.0.1 accepts within 5 s while PID runs.
wait_listen() {
	for _ in $(seq 50); do
		listening "$1" && return 0
		alive "$2" || return 1
		sleep 0.1
	done
	return 1
}
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# alive PID: our child PID runs (exited and not yet reaped is not alive).
alive() {
	local state
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$state" ] && [ "$state" != Z ]
}
# stop_pid PID: TERM, at most 5 s to exit, then KILL; reaped either way.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		alive "$pid" || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# start_challtestsrv LOG: pebble-challtestsrv as pebble's DNS (A: 127.0.0.1
# for every name; TXT: what its management API was told) on free ports:
# sets CH_DNS, CH_MGMT and CHALL_PID (stop it with stop_pid).  One assertion.
start_challtestsrv() {
	local log=$1
	CH_DNS=
	CH_MGMT=
	CHALL_PID=
	for _ in 1 2 3; do
		read -r CH_DNS CH_MGMT <<<"$(free_ports 2)"
		pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$CH_DNS" \
			-http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CH_MGMT" >>"$log" 2>&1 &
		CHALL_PID=$!
		for _ in $(seq 100); do
			listening "$CH_MGMT" && listening "$CH_DNS" && break
			alive "$CHALL_PID" || break
			sleep 0.05
		done
		listening "$CH_MGMT" && listening "$CH_DNS" && break
		stop_pid "$CHALL_PID"
		CHALL_PID=
	done
	_count
	[ -n "$CHALL_PID" ] || fail "pebble-challtestsrv does not start within 3 tries:
$(cat "$log")"
}

# start_pebble DIR: Debian's pebble on free loopback ports, with a TLS
# certificate of its own (Debian's pebble has none) made in DIR and
# pebble-challtestsrv as its DNS (every name is 127.0.0.1).  Sets P=DIR,
# ACME, MGMT, HTTP (the port its VA asks http-01 challenges on) and
# PEBBLE_PID; DIR/ca.pem verifies its TLS, DIR/root.pem and DIR/int.pem are
# the root and intermediate it issues under.  Stop it with stop_pid.
start_pebble() {
	P=$1
	mkdir -p "$P"
	(
		cd "$P" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls-ca.key -out ca.pem \
			-subj "/CN=Pebble TLS Test Root" -days 2 -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
				-subj /CN=localhost -out tls.csr 2>/dev/null &&
			printf '%s\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature \
				extendedKeyUsage=serverAuth subjectAltName=DNS:localhost,IP:127.0.0.1 >tls.ext &&
			openssl x509 -req -in tls.csr -CA ca.pem -CAkey tls-ca.key -days 2 -extfile tls.ext \
				-out cert.pem 2>/dev/null
	) || fail "cannot make pebble's TLS certificate"
	start_challtestsrv "$P/chall.log"
	ACME=
	MGMT=
	HTTP=
	PEBBLE_PID=
	local tlsp
	for _ in 1 2 3; do
		read -r ACME MGMT HTTP tlsp <<<"$(free_ports 4)"
		printf '{"pebble": {"listenAddress": "127.0.0.1:%s", "managementListenAddress": "127.0.0.1:%s",
 "certificate": "%s/cert.pem", "privateKey": "%s/key.pem", "httpPort": %s, "tlsPort": %s,
 "ocspResponderURL": "", "externalAccountBindingRequired": false}}\n' \
			"$ACME" "$MGMT" "$P" "$P" "$HTTP" "$tlsp" >"$P/pebble.json"
		PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
			pebble -config "$P/pebble.json" -dnsserver "127.0.0.1:$CH_DNS" >>"$P/pebble.log" 2>&1 &
		PEBBLE_PID=$!
		for _ in $(seq 100); do
			_pebble_up && break
			alive "$PEBBLE_PID" || break
			sleep 0.1
		done
		_pebble_up && break
		stop_pid "$PEBBLE_PID"
		PEBBLE_PID=
	done
	_count
	[ -n "$PEBBLE_PID" ] || fail "pebble does not start within 3 tries:
$(cat "$P/pebble.log")"
	curl -fsS --max-time 5 --cacert "$P/ca.pem" -o "$P/root.pem" "https://127.0.0.1:$MGMT/roots/0" &&
		curl -fsS --max-time 5 --cacert "$P/ca.pem" -o "$P/int.pem" "https://127.0.0.1:$MGMT/intermediates/0" ||
		fail "cannot fetch pebble's root and intermediate"
}
_pebble_up() {
	curl -fsS --max-time 2 --cacert "$P/ca.pem" -o /dev/null "https://127.0.0.1:$ACME/dir" 2>/dev/null &&
		curl -fsS --max-time 2 --cacert "$P/ca.pem" -o /dev/null "https://127.0.0.1:$MGMT/roots/0" 2>/dev/null
}

# provider NAME: replace (or add) provider NAME in .certctl/config.yaml with
# the YAML on standard input (its keys, not indented) and commit with git.
provider() {
	/usr/bin/python3 -c '
import sys
name, body = sys.argv[1], sys.stdin.read()
p = ".certctl/config.yaml"
lines = open(p).read().split("\n")
start = lines.index("providers:")
end = start + 1
while end < len(lines) and lines[end].startswith(" "):
    end += 1
out, skipping = [], False
for l in lines[start + 1:end]:
    if l == "  %s:" % name:
        skipping = True
    elif not (skipping and l.startswith("    ")):
        skipping = False
        out.append(l)
out.append("  %s:" % name)
out += ["    " + l for l in body.rstrip("\n").split("\n")]
lines[start + 1:end] = out
open(p, "w").write("\n".join(lines))
' "$1" || fail "cannot write provider $1"
	git commit -qam "config: provider $1" || fail "cannot commit provider $1"
}

# acme_provider NAME LISTEN: provider NAME, the pebble of start_pebble with
# its http-01 responder on LISTEN.
acme_provider() {
	provider "$1" <<EOF
type: acme
directory: https://127.0.0.1:$ACME/dir
ca_bundle: $P/ca.pem
contact: [admin@example.com]
agree_tos: true
challenge: http-01
http01:
  listen: $2
timeout: 60s
EOF
}
