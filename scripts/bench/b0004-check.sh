#!/usr/bin/env bash
# b0004: checking many endpoints, certctl check vs openssl s_time, same server.
#  setup: a repository with a CA and an ECDSA P-256 certificate for bench.test
#      (issued by certctl, key exported for the server); one nginx (2 workers)
#      listening on BENCH_CHECK_ADDRS loopback addresses (127.0.0.1 ..) times
#      BENCH_CHECK_PORTS free ports: BENCH_CHECK_ADDRS x BENCH_CHECK_PORTS
#      endpoints (default 20 x 50 = 1,000), all serving that certificate;
#  reference: `openssl s_time -new` against one endpoint for a few seconds, one
#      client and two clients at once: full handshakes per second (what the
#      server and the machine give);
#  certctl: `certctl check ADDR:PORT ... --sni bench.test` inside the repository
#      (chain verified against the repository's CA, names, validity, key and
#      signature rules for each), --concurrency BENCH_CHECK_CONCURRENCY (64),
#      not recorded (bare endpoints): endpoints per second, peak RSS.  All
#      endpoints serve one chain, which certctl verifies once a run (as it
#      would for a load balancer's names); the name, validity and key rules
#      run for each endpoint;
#  ratio certctl / s_time (target >= 0.7x the raw rate) and RSS (target <= 64 MB).
# Figures only; stops with an error when nginx or certctl fails or an endpoint
# is not OK.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ADDRS=${BENCH_CHECK_ADDRS:-20}
PORTS=${BENCH_CHECK_PORTS:-50}
CONC=${BENCH_CHECK_CONCURRENCY:-64}
STIME=${BENCH_CHECK_STIME:-4}
command -v nginx >/dev/null || { echo "b0004: nginx is not installed" >&2; exit 1; }

repo="$bench_tmp/repo"
ng="$bench_tmp/nginx"
mkdir -p "$ng/logs" "$ng/tmp"
nginx_pid=''
stop() {
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	return 0
}
trap 'stop; [ -n "${BENCH_DEFER_CLEANUP:-}${BENCH_KEEP:-}" ] || rm -rf "$bench_tmp"' EXIT

"$CERTCTL" -q init "$repo" >/dev/null
cd "$repo"
"$CERTCTL" -q ca init bench-root --cn "Bench Root" >/dev/null
"$CERTCTL" -q define bench.test --dns bench.test >/dev/null
"$CERTCTL" -q issue bench.test >/dev/null
id=$(cat certs/bench.test/current)
key_id=$(sed -n 's/^key_id: //p' "certs/bench.test/$id/cert.yaml")
cat "certs/bench.test/$id/cert.pem" "certs/bench.test/$id/chain.pem" >"$ng/cert.pem"
"$CERTCTL" -q key export "$key_id" --out "$ng/key.pem" >/dev/null

# Free ports: asked of the kernel, all at once so they do not collide.
mapfile -t ports < <(python3 - "$PORTS" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
)
{
	echo "daemon off; master_process on; worker_processes 2; pid $ng/nginx.pid;"
	echo "error_log $ng/logs/error.log; events { worker_connections 4096; }"
	echo "http { access_log off; client_body_temp_path $ng/tmp/body; proxy_temp_path $ng/tmp/proxy;"
	echo "  fastcgi_temp_path $ng/tmp/fastcgi; uwsgi_temp_path $ng/tmp/uwsgi; scgi_temp_path $ng/tmp/scgi;"
	echo "  server {"
	for ((a = 1; a <= ADDRS; a++)); do
		for p in "${ports[@]}"; do
			echo "    listen 127.0.0.$a:$p ssl;"
		done
	done
	echo "    ssl_certificate $ng/cert.pem; ssl_certificate_key $ng/key.pem;"
	echo "    ssl_session_cache off; ssl_session_tickets off;"
	echo "    location / { return 200 ok; } } }"
} >"$ng/nginx.conf"
nginx -c "$ng/nginx.conf" -p "$ng/" -e "$ng/logs/error.log" &
nginx_pid=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.$ADDRS/${ports[-1]}") 2>/dev/null && break
	sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.$ADDRS/${ports[-1]}") 2>/dev/null ||
	{ echo "b0004: nginx did not start: $(tail -3 "$ng/logs/error.log")" >&2; exit 1; }

endpoints=()
for ((a = 1; a <= ADDRS; a++)); do
	for p in "${ports[@]}"; do
		endpoints+=("127.0.0.$a:$p")
	done
done
n=${#endpoints[@]}

# Reference: full handshakes per second with s_time, 1 and 2 clients.
stime_rate() { # CLIENTS
	local i out total=0
	for ((i = 0; i < $1; i++)); do
		timeout $((STIME + 10)) openssl s_time -connect "127.0.0.1:${ports[0]}" -new \
			-time "$STIME" >"$bench_tmp/stime.$i" 2>&1 &
	done
	wait
	for ((i = 0; i < $1; i++)); do
		out=$(sed -n 's/^\([0-9]*\) connections in \([0-9.]*\)s;.*/\1 \2/p' "$bench_tmp/stime.$i" | head -1)
		[ -n "$out" ] || { echo "b0004: s_time failed: $(cat "$bench_tmp/stime.$i")" >&2; exit 1; }
		total=$(awk -v t="$total" -v c="${out% *}" -v s="${out#* }" 'BEGIN { printf "%.1f", t + c / s }')
	done
	echo "$total"
}
ref1=$(stime_rate 1)
ref2=$(stime_rate 2)

# certctl: every endpoint once; all must be OK.
measure "$CERTCTL" check "${endpoints[@]}" --sni bench.test --concurrency "$CONC" --timeout 20 --no-record
rate=$(awk -v n="$n" -v ms="$M_MS" 'BEGIN { printf "%.1f", n / (ms / 1000) }')
"$CERTCTL" check "${endpoints[0]}" --sni bench.test --json >"$bench_tmp/one.json"
grep -q '"status": "OK"' "$bench_tmp/one.json" || { echo "b0004: the endpoint is not OK" >&2; exit 1; }

echo "  $n endpoints ($ADDRS addresses x $PORTS ports) on one nginx, ECDSA P-256, no session reuse"
row "openssl s_time -new, 1 client" "$ref1/s"
row "openssl s_time -new, 2 clients" "$ref2/s"
row "certctl check, concurrency $CONC (verify, rules each)" "$rate/s" "$(ms "$M_MS") for all"
row "certctl / s_time (1 client)" "$(ratio "$rate" "$ref1")x" "target >= 0.7x"
row "certctl / s_time (2 clients)" "$(ratio "$rate" "$ref2")x"
row "certctl check peak RSS" "$(kb_mb "$M_RSS") MB" "target <= 64 MB"
