#!/bin/bash
# Run the command-line tests: every tests/cli/tNNNN-*.sh, or the ones named
# as arguments (t0002-define.sh, t0002-define or t0002), each in a fresh
# temporary directory with its own HOME and secret directory, under a time
# limit.  Prints "ok NAME" or "FAIL NAME" (with the script's output) per
# script and "N passed, N failed" at the end; exits 1 if any failed.
# A script also fails when clear-keys.py finds a private key in clear text
# in any repository it left in its directory (allowed exceptions: the
# script lists them in $T/.clear-keys-allowed).
#
#   CERTCTL=$PWD/build/certctl tests/cli/run.sh [SCRIPT...]
#   CERTCTL_TEST_TIMEOUT=300    seconds allowed to each script
#   CERTCTL_TEST_KEEP=1         keep every temporary directory
#   CERTCTL_TEST_CONTINUE=1     go on after a failed assertion (see them all)

set -u

here=$(cd "$(dirname "$0")" && pwd)
CERTCTL=${CERTCTL:-$here/../../build/certctl}
case $CERTCTL in
/*) ;;
*) CERTCTL=$PWD/$CERTCTL ;;
esac
if [ ! -x "$CERTCTL" ]; then
	echo "run.sh: no executable certctl at '$CERTCTL' (set CERTCTL)" >&2
	exit 1
fi
limit=${CERTCTL_TEST_TIMEOUT:-300}

# Test a copy, so that a rebuild while the tests run cannot change the
# binary under them.
bindir=$(mktemp -d "${TMPDIR:-/tmp}/certctl-bin.XXXXXX") || exit 1
trap 'rm -rf "$bindir"' EXIT
cp "$CERTCTL" "$bindir/certctl" || exit 1
CERTCTL=$bindir/certctl

scripts=()
if [ $# -eq 0 ]; then
	for f in "$here"/t[0-9]*.sh; do
		[ -f "$f" ] && scripts+=("$f")
	done
else
	for a in "$@"; do
		a=${a##*/}
		a=${a%.sh}
		m=()
		for f in "$here/$a".sh "$here/$a"-*.sh; do
			[ -f "$f" ] && m+=("$f")
		done
		if [ ${#m[@]} -ne 1 ]; then
			echo "run.sh: '$a' names ${#m[@]} test scripts, expected 1" >&2
			exit 64
		fi
		scripts+=("${m[0]}")
	done
fi

# Remove a test directory, even one a script left immutable or unwritable.
remove_dir() {
	rm -rf "$1" 2>/dev/null && return 0
	chattr -R -i "$1" 2>/dev/null
	chmod -R u+rwx "$1" 2>/dev/null
	rm -rf "$1"
}

passed=0
failed=0
for script in "${scripts[@]}"; do
	name=$(basename "$script" .sh)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/certctl-$name.XXXXXX") || exit 1
	mkdir -p "$dir/home/.config" "$dir/secrets" "$dir/work"
	chmod 700 "$dir/secrets"
	log=$dir/output
	(
		cd "$dir/work" || exit 1
		# Nothing from the caller's environment reaches certctl or git.
		unset CERTCTL_DIR CERTCTL_PASSPHRASE CERTCTL_PASSPHRASE_FILE \
			CERTCTL_EXPORT_PASSPHRASE CERTCTL_EXPORT_PASSPHRASE_FILE \
			CERTCTL_IMPORT_PASSPHRASE CERTCTL_IMPORT_PASSPHRASE_FILE \
			CERTCTL_IMPORT_KEY_PASSPHRASE CERTCTL_IMPORT_KEY_PASSPHRASE_FILE \
			CERTCTL_P12_PASSPHRASE CERTCTL_P12_PASSPHRASE_FILE CERTCTL_CA_BUNDLE \
			CERTCTL_LOCK_TIMEOUT NO_COLOR \
			GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
			GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CEILING_DIRECTORIES \
			GIT_CONFIG GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT GIT_NAMESPACE
		export CERTCTL CERTCTL_TEST_DIR=$dir \
			HOME=$dir/home XDG_CONFIG_HOME=$dir/home/.config \
			CERTCTL_SECRET_DIR=$dir/secrets \
			GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
			GIT_AUTHOR_NAME='Cert Tester' GIT_AUTHOR_EMAIL=tester@example.com \
			GIT_COMMITTER_NAME='Cert Tester' GIT_COMMITTER_EMAIL=tester@example.com \
			LC_ALL=C TZ=UTC
		exec timeout -k 10 "$limit" bash "$script"
	) >"$log" 2>&1 </dev/null
	rc=$?
	# After every script: no private key in clear text in any repository it
	# made (git objects, work trees, .git), found by a scanner of its own.
	if [ "$rc" -eq 0 ] && ! /usr/bin/python3 "$here/clear-keys.py" "$dir" >"$dir/clear-keys.out" 2>&1; then
		{
			echo "private keys in clear text in the test's repositories:"
			cat "$dir/clear-keys.out"
		} >>"$log"
		rc=70
	fi
	if [ "$rc" -eq 0 ] && tail -n 1 "$log" | grep -q '^done: [0-9]* assertions$'; then
		echo "ok $name"
		# What a script notes for the reader (counts, timings, skips).
		grep '^# ' "$log" | sed 's/^/    /'
		passed=$((passed + 1))
		[ "${CERTCTL_TEST_KEEP:-}" = 1 ] || remove_dir "$dir"
	else
		echo "FAIL $name"
		sed 's/^/    /' "$log"
		case $rc in
		0) echo "    (exited 0 before its end: no 'done:' line)" ;;
		70) echo "    (a private key in clear text: see above)" ;;
		124 | 137) echo "    (killed after ${limit}s)" ;;
		*) echo "    (exit status $rc)" ;;
		esac
		echo "    (kept $dir)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
