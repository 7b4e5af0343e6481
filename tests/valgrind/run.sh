#!/bin/bash
# The command tests with every certctl process under valgrind's memcheck:
# memory errors and definite leaks make certctl exit 99 (so the test that
# ran it fails) and are kept in a log per process.
#
#   tests/valgrind/run.sh BINARY [SCRIPT...]     (make check-valgrind)
#
# Without SCRIPTs: the tests that do not measure time (valgrind makes every
# command 20 to 50 times slower; timing tests would fail for that alone).
# Logs: build/valgrind/PID.log; a summary at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
real=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
logs=$top/build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
wrapper=$logs/certctl
cat >"$wrapper" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes \\
	--suppressions="$here/certctl.supp" --log-file="$logs/%p.log" "$real" "\$@"
WRAP
chmod +x "$wrapper"
if [ $# -eq 0 ]; then
	set -- t0001 t0002 t0003 t0004 t0005 t0006 t0007 t0010 t0011 t0012 t0013 t0014 t0015 t0016 \
		t0018 t0019 t0022 t0023 t0025 t0027 t0029
fi
CERTCTL=$wrapper CERTCTL_TEST_TIMEOUT=${CERTCTL_TEST_TIMEOUT:-3600} "$top/tests/cli/run.sh" "$@"
rc=$?
runs=$(find "$logs" -name '*.log' | wc -l)
# --quiet: a log says something only when memcheck found something.
bad=$(find "$logs" -name '*.log' -size +0 | sort)
echo "valgrind: $runs certctl processes, $(printf '%s' "$bad" | grep -c .) with errors or definite leaks"
for f in $bad; do
	echo "--- $f"
	head -60 "$f"
done
[ "$rc" -eq 0 ] && [ -z "$bad" ]
