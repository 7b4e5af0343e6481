#!/bin/sh
# Run the libFuzzer targets built in $FUZZ_O (build/fuzz), each for SECONDS,
# one after the other; called by `make fuzz` and `make fuzz-short`.
#
#   tests/fuzz/run.sh long|short SECONDS NAME...
#
# long:  new inputs accumulate in $FUZZ_O/corpus-NAME from run to run.
# short: a fresh $FUZZ_O/short/corpus-NAME each time: the seeds
#        (tests/fuzz/corpus/NAME) and what these SECONDS find.
# Findings (crash-, leak-, timeout-, oom-...) go to $FUZZ_O/findings/NAME-*,
# logs to $FUZZ_O/logs/NAME.log.  Nothing is written into tests/.  Prints
# one line per target (runs, exec/s, coverage); exits 1 when a target
# found something or did not stop in time.
set -u

mode=${1:?usage: run.sh long|short SECONDS NAME...}
secs=${2:?usage: run.sh long|short SECONDS NAME...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${FUZZ_O:-build/fuzz}
case $out in
/*) ;;
*) out=$top/$out ;;
esac
case $mode in
long|short) ;;
*) echo "run.sh: mode must be long or short" >&2; exit 64 ;;
esac
case $secs in
''|*[!0-9]*) echo "run.sh: SECONDS must be a number" >&2; exit 64 ;;
esac

# Sanitizers stop at the first error; leaks are errors.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$out/findings" "$out/logs" || exit 1
failed=0
start=$(date +%s)

for name in "$@"; do
	bin=$out/fuzz_$name
	seeds=$here/corpus/$name
	log=$out/logs/$name.log
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$name: no executable $bin (make fuzz-build)"
		failed=1
		continue
	fi
	if [ "$mode" = short ]; then
		corpus=$out/short/corpus-$name
		rm -rf "$corpus"
	else
		corpus=$out/corpus-$name
	fi
	mkdir -p "$corpus" || exit 1
	case $name in
	bundle|cert|csr) dict=$here/dict/pem.dict ;;
	definition) dict=$here/dict/definition.dict ;;
	yaml) dict=$here/dict/yaml.dict ;;
	targets) dict=$here/dict/targets.dict ;;
	probe) dict=$here/dict/probe.dict ;;
	acme) dict=$here/dict/acme.dict ;;
	*) dict= ;;
	esac
	# The first directory receives new inputs; the seeds are only read.
	# -max_total_time bounds the fuzzing, timeout(1) the whole process
	# (loading a large corpus, a hang the fuzzer cannot interrupt).
	(
		cd "$out" &&
		exec timeout -k 10 $((secs + 120)) "$bin" \
			-max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$out/findings/$name-" \
			${dict:+-dict="$dict"} \
			"$corpus" "$seeds"
	) >"$log" 2>&1
	rc=$?
	stats=$(awk '
		/^#[0-9]+/ { for (i = 1; i <= NF; i++) {
			if ($i == "cov:") cov = $(i + 1)
			if ($i == "ft:") ft = $(i + 1)
			if ($i == "corp:") corp = $(i + 1) } }
		/^stat::number_of_executed_units:/ { runs = $2 }
		/^stat::average_exec_per_sec:/ { eps = $2 }
		/^stat::peak_rss_mb:/ { rss = $2 }
		END { printf "%s runs, %s exec/s, cov %s, ft %s, corpus %s, rss %s MB",
			runs, eps, cov, ft, corp, rss }' "$log")
	if [ $rc -eq 0 ]; then
		echo "ok   fuzz_$name: $stats"
	else
		failed=1
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "FAIL fuzz_$name: did not stop within $((secs + 120)) s; log $log"
		else
			echo "FAIL fuzz_$name (exit $rc): $stats; log $log"
		fi
		grep -h -m1 -E "^==[0-9]+== ?ERROR|runtime error|^fuzz: |ALARM|out-of-memory" "$log" | sed 's/^/     /'
		grep -h "Test unit written to" "$log" | sed 's/^.*written to /     input: /'
		tail -n 40 "$log" | sed 's/^/     | /'
	fi
done
echo "fuzz ($mode, ${secs}s per target): $(( $(date +%s) - start ))s in all"
exit $failed
