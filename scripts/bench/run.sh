#!/usr/bin/env bash
# Runs every scripts/bench/b*.sh and prints their figures (make bench).
# Benchmarks report figures and ratios against targets, never pass/fail on
# time; this exits non-zero only when a benchmark could not run (certctl failed).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CERTCTL:=$here/../../build/certctl}"
export CERTCTL

echo "certctl benchmarks: $("$CERTCTL" --version 2>/dev/null || echo "$CERTCTL")," \
	"$(nproc 2>/dev/null || echo '?') cores, $(uname -sm), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (figures are wall-clock; a busy machine inflates them)"
command -v hyperfine >/dev/null 2>&1 && echo "timing: hyperfine $(hyperfine --version | cut -d' ' -f2) where possible" \
	|| echo "timing: bash loop (date +%s%N)"
[ -x /usr/bin/time ] || echo "note: /usr/bin/time missing (Debian package 'time'): no RSS figures"

# Each benchmark's files stay until all have run: ext4 without a journal
# (this kind of VM) skips inodes freed in the last 5-35 s when it allocates
# new ones, so deleting one benchmark's thousands of files would slow the
# file creation the next one measures.
if [ -z "${BENCH_KEEP:-}" ]; then
	bench_parent=$(mktemp -d "${TMPDIR:-/tmp}/certctl-benches.XXXXXX")
	trap 'rm -rf "$bench_parent"' EXIT
	export TMPDIR=$bench_parent BENCH_DEFER_CLEANUP=1
fi

failed=
for b in "$here"/b*.sh; do
	[ -e "$b" ] || continue
	name=$(basename "$b" .sh)
	echo
	echo "== $name"
	start=$(date +%s%N)
	if bash "$b"; then
		echo "   ($name took $(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s)"
	else
		echo "== $name: FAILED (exit $?)" >&2
		failed="$failed $name"
	fi
done

if [ -n "$failed" ]; then
	echo >&2
	echo "bench: could not run:$failed" >&2
	exit 1
fi
