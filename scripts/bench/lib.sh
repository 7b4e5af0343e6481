# shellcheck shell=bash disable=SC2034  # M_MS, M_RSS, git_env are used by the benchmarks
# Helpers sourced by the benchmarks in scripts/bench/b*.sh.
# Benchmarks print figures and ratios; they never pass or fail on time, but
# they stop with a non-zero status when certctl (or git) itself fails.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CERTCTL:=$here/../../build/certctl}"
[ -x "$CERTCTL" ] || { echo "bench: no certctl binary at $CERTCTL (run make)" >&2; exit 1; }

# Keep the caller's repository, secret and passphrase out of the benchmark.
unset CERTCTL_DIR CERTCTL_PASSPHRASE CERTCTL_PASSPHRASE_FILE

# /usr/bin/time (Debian package "time") gives the peak RSS; without it RSS is "n/a".
if [ -x /usr/bin/time ]; then TIME_BIN=/usr/bin/time; else TIME_BIN=; fi

bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/certctl-bench.XXXXXX")
# BENCH_KEEP=1 keeps the work directory for a look afterwards.
# run.sh removes every benchmark's directory at the end (BENCH_DEFER_CLEANUP).
if [ -n "${BENCH_KEEP:-}" ]; then
	echo "bench: keeping $bench_tmp" >&2
elif [ -z "${BENCH_DEFER_CLEANUP:-}" ]; then
	trap 'rm -rf "$bench_tmp"' EXIT
fi
export CERTCTL_SECRET_DIR="$bench_tmp/secrets"

# git CLI with a fixed identity and none of the user's configuration
# (no signing hooks, no system config) so the reference figures are plain git.
git_env=(GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
	GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid)
g() { env "${git_env[@]}" git "$@"; }

now_ns() { date +%s%N; }

# measure CMD... : run CMD once with stdout to /dev/null; sets M_MS (wall
# time, ms with 3 decimals) and M_RSS (peak RSS in kB, or "n/a"). Dies with
# CMD's stderr when CMD fails.
measure() {
	local t0 t1 rc=0 err="$bench_tmp/measure.err" rss="$bench_tmp/measure.rss"
	if [ -n "$TIME_BIN" ]; then
		t0=$(now_ns)
		"$TIME_BIN" -f %M -o "$rss" "$@" >/dev/null 2>"$err" || rc=$?
		t1=$(now_ns)
		M_RSS=$(tail -n 1 "$rss")
	else
		t0=$(now_ns)
		"$@" >/dev/null 2>"$err" || rc=$?
		t1=$(now_ns)
		M_RSS=n/a
	fi
	if [ "$rc" != 0 ]; then
		echo "bench: command failed (exit $rc): $*" >&2
		cat "$err" >&2
		exit 1
	fi
	M_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
}

# median N... : the median of the numbers given.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2];
		      else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B : A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# kb_mb KB : kB -> MB (one decimal), passes "n/a" through.
kb_mb() { case $1 in n/a) echo n/a ;; *) awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' ;; esac; }

# ms X : X milliseconds, printed with one decimal.
ms() { awk -v m="$1" 'BEGIN { printf "%.1f ms", m }'; }

# row LABEL VALUE [NOTE] : one aligned figure line.
row() { printf '  %-52s %12s  %s\n' "$1" "$2" "${3:-}"; }
