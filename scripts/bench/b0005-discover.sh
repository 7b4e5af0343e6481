#!/usr/bin/env bash
# b0005: a network sweep, certctl discover vs nmap, same range, same run.
#  setup: BENCH_DISCOVER_SERVERS (4) openssl s_server instances on addresses
#      spread over 127.0.0.0/20, all on one free port, each with its own
#      self-signed ECDSA certificate;
#  nmap: `nmap -n -sT -Pn -p PORT --script ssl-cert 127.0.0.0/20` (connect scan,
#      the certificate of every TLS port), wall time and peak RSS;
#  certctl: `certctl discover 127.0.0.0/20 --ports PORT --no-record --rate 100000
#      --concurrency 1024` (connect, handshake, chain and rules for every server
#      found; its default rate limit, 2,000 new connections a second, is for real
#      networks, and nmap has none by default), wall time, peak RSS;
#  both must find every server (certctl's JSON and nmap's output are counted);
#  nmap / certctl (target >= 10x faster);
#  the floor, scripts/bench/connect-floor.c: a non-blocking connect and a close
#      to every address of the range, nothing else (as many threads as CPUs or
#      4, the faster): what any connect scan pays the kernel here; nmap / floor
#      is the best ratio a connect scan could reach on this machine, and with
#      certctl's start-up added, the best certctl could.
# Figures only; stops with an error when a tool fails or misses a server.
# Without nmap (Debian package nmap, `scripts/deps.sh bench`), only certctl's
# figures are printed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS=${BENCH_DISCOVER_SERVERS:-4}
RANGE=127.0.0.0/20
pids=()
stop() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'stop; [ -n "${BENCH_DEFER_CLEANUP:-}${BENCH_KEEP:-}" ] || rm -rf "$bench_tmp"' EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addrs=()
for ((i = 0; i < SERVERS; i++)); do
	# Spread over the /20: 127.0.(i*3).(i*40+7).
	a="127.0.$((i * 3)).$((i * 40 + 7))"
	addrs+=("$a")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$bench_tmp/s$i.key" -out "$bench_tmp/s$i.pem" -days 30 \
		-subj "/CN=server$i.bench.test" 2>/dev/null
	openssl s_server -quiet -accept "$a:$PORT" -cert "$bench_tmp/s$i.pem" \
		-key "$bench_tmp/s$i.key" -www >/dev/null 2>&1 &
	pids+=($!)
done
for a in "${addrs[@]}"; do
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/$a/$PORT") 2>/dev/null && break
		sleep 0.1
	done
done

"$CERTCTL" -q init "$bench_tmp/repo" >/dev/null
cd "$bench_tmp/repo"

fast=(--rate 100000 --concurrency 1024)
# Medians of RUNS runs: one sweep is a tenth of a second, at the mercy of
# whatever else the machine does.
RUNS=${BENCH_DISCOVER_RUNS:-5}
times=()
for ((r = 0; r < RUNS; r++)); do
	measure "$CERTCTL" discover "$RANGE" --ports "$PORT" --no-record --timeout 3 "${fast[@]}"
	times+=("$M_MS")
done
c_ms=$(median "${times[@]}") c_rss=$M_RSS
times=()
for ((r = 0; r < RUNS; r++)); do
	measure "$CERTCTL" discover "${addrs[0]}" --ports "$PORT" --no-record --timeout 3
	times+=("$M_MS")
done
one_ms=$(median "${times[@]}")
measure "$CERTCTL" discover "$RANGE" --ports "$PORT" --no-record --timeout 3
d_ms=$M_MS
found=$("$CERTCTL" discover "$RANGE" --ports "$PORT" --no-record --timeout 3 "${fast[@]}" --json |
	grep -c '"sha256": "' || true)
# Each endpoint and each certificate entry carries a sha256.
[ "$found" -ge "$SERVERS" ] || { echo "b0005: certctl found $found of $SERVERS servers" >&2; exit 1; }

echo "  sweep of $RANGE (4,096 addresses) on one port, $SERVERS TLS servers in it"
row "certctl discover --rate 100000 (connect, TLS, rules)" "$(ms "$c_ms")" "median of $RUNS; peak RSS $(kb_mb "$c_rss") MB"
row "certctl discover of one address (start-up, trust set)" "$(ms "$one_ms")" "median of $RUNS: what any run costs"
row "certctl discover, default rate (2,000/s)" "$(ms "$d_ms")"
# The floor: connect and close to the 4,096 addresses, nothing else.
root=$(cd "$here/../.." && pwd)
f_ms=
if make -s --no-print-directory -C "$root" build/bench-connect-floor >"$bench_tmp/make.out" 2>&1; then
	# As many threads as CPUs, and certctl's 4: the faster counts.
	f_threads=
	for threads in "$(nproc)" 4; do
		times=()
		for ((r = 0; r < RUNS; r++)); do
			out=$("$root/build/bench-connect-floor" 127.0.0.0 4096 "$PORT" "$threads") ||
				{ echo "b0005: bench-connect-floor failed" >&2; exit 1; }
			times+=("$(printf '%s\n' "$out" | sed -n 's/.* ms=//p')")
		done
		t_ms=$(median "${times[@]}")
		if [ -z "$f_ms" ] || awk -v a="$t_ms" -v b="$f_ms" 'BEGIN { exit !(a < b) }'; then
			f_ms=$t_ms f_threads=$threads
		fi
	done
	row "floor: connect + close, $f_threads threads, nothing else" "$(ms "$f_ms")" "median of $RUNS; scripts/bench/connect-floor.c"
	row "floor + certctl's start-up (one address)" "$(ms "$(awk -v a="$f_ms" -v b="$one_ms" 'BEGIN { print a + b }')")" "no sweep of certctl's can be faster"
	row "certctl / floor" "$(ratio "$c_ms" "$f_ms")x" "what certctl adds to the kernel's part"
else
	echo "b0005: cannot build build/bench-connect-floor:" >&2
	cat "$bench_tmp/make.out" >&2
fi
if command -v nmap >/dev/null 2>&1; then
	times=()
	for ((r = 0; r < 3; r++)); do
		measure nmap -n -sT -Pn -p "$PORT" --script ssl-cert -oN "$bench_tmp/nmap.txt" "$RANGE"
		times+=("$M_MS")
	done
	n_ms=$(median "${times[@]}") n_rss=$M_RSS
	nfound=$(grep -c 'Subject: commonName=server' "$bench_tmp/nmap.txt" || true)
	[ "$nfound" = "$SERVERS" ] || { echo "b0005: nmap found $nfound of $SERVERS servers" >&2; exit 1; }
	row "nmap -sT --script ssl-cert" "$(ms "$n_ms")" "median of 3; peak RSS $(kb_mb "$n_rss") MB"
	row "nmap / certctl" "$(ratio "$n_ms" "$c_ms")x" "target >= 10x"
	if [ -n "$f_ms" ]; then
		row "nmap / floor" "$(ratio "$n_ms" "$f_ms")x" "the best any connect scan could do here"
		row "nmap / (floor + start-up)" "$(ratio "$n_ms" "$(awk -v a="$f_ms" -v b="$one_ms" 'BEGIN { print a + b }')")x" \
			"the best certctl could do here"
	fi
else
	row "nmap" "n/a" "not installed (scripts/deps.sh bench)"
fi
