#!/bin/bash
# The command tests with every certctl process under valgrind's memcheck:
# memory errors and definite leaks make certctl exit 99 (so the test that
# ran it fails) and are kept in a log per process.
#
#   tests/valgrind/run.sh BINARY [SCRIPT...]     (make check-valgrind)
#
# Without SCRIPTs: every command test.  Valgrind makes every command 20 to
# 50 times slower; the scripts scale their time limits, and the waits they
# give certctl, by CERTCTL_TEST_SLOW (40 here; tests/cli/lib.sh).  The crash
# test kills fewer commands (CERTCTL_CRASH_KILLS, 10 here): a process killed
# by SIGKILL tells memcheck nothing, the repairs and reruns after it do.
# Logs: build/valgrind/SCRIPT.PID.log; a summary per script at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
logs=$top/build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
# Writable by all, as /tmp is: run as root, t0032 runs the README's walk
# as nobody, and its certctl writes its log here too.
chmod 1777 "$logs"
# Test a copy, so that a rebuild while this runs cannot change the binary
# under it (the debug information is in the binary).
real=$logs/certctl.bin
cp "$1" "$real" || exit 1
shift
wrapper=$logs/certctl
cat >"$wrapper" <<WRAP
#!/bin/sh
# The script's name from its test directory (certctl-tNNNN-name.XXXXXX).
t=\${CERTCTL_TEST_DIR:-certctl}
t=\${t##*/}
t=\${t#certctl-}
t=\${t%.*}
exec valgrind --quiet --vgdb=no --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes \\
	--suppressions="$here/certctl.supp" --log-file="$logs/\$t.%p.log" "$real" "\$@"
WRAP
chmod +x "$wrapper"
CERTCTL=$wrapper CERTCTL_TEST_TIMEOUT=${CERTCTL_TEST_TIMEOUT:-7200} \
	CERTCTL_TEST_SLOW=${CERTCTL_TEST_SLOW:-40} CERTCTL_CRASH_KILLS=${CERTCTL_CRASH_KILLS:-10} \
	"$top/tests/cli/run.sh" "$@"
rc=$?
# --quiet: a log says something only when memcheck found something.
bad=$(find "$logs" -name '*.log' -size +0 | sort)
for s in $(find "$logs" -name '*.log' -printf '%f\n' | sed 's/\.[0-9]*\.log$//' | sort -u); do
	echo "valgrind: $s: $(find "$logs" -name "$s.*.log" | wc -l) certctl processes," \
		"$(find "$logs" -name "$s.*.log" -size +0 | wc -l) with errors or definite leaks"
done
echo "valgrind: $(find "$logs" -name '*.log' | wc -l) certctl processes," \
	"$(printf '%s' "$bad" | grep -c .) with errors or definite leaks"
for f in $bad; do
	echo "--- $f"
	head -60 "$f"
done
[ "$rc" -eq 0 ] && [ -z "$bad" ]
