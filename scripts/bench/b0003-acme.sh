#!/usr/bin/env bash
# b0003: ACME acquisition, certctl vs certbot, against the same local pebble.
#  setup: a throw-away TLS root and a localhost certificate for pebble (openssl),
#      pebble-challtestsrv as pebble's DNS (every name is 127.0.0.1) and pebble
#      (PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0) on free high ports;
#      REAL http-01 validation: pebble's VA fetches http://NAME:HTTPPORT/..., which
#      each client answers itself (certctl: its built-in responder, http01.listen;
#      certbot: certonly --standalone);
#  certctl: a repository with provider 'pebble' (type acme), pebble's root in the
#      default trust set, one definition per name (ecdsa:P-256); one warm-up
#      `certctl acquire` (registers the account) reported apart, then N (BENCH_ACME_N,
#      default 10) acquisitions in sequence, each a new order, to the stored and
#      committed certificate: wall time per certificate, CPU of the client;
#  certbot: the same with `certbot certonly --standalone` (ECDSA P-256 key), its own
#      config/work/logs directories, one warm-up (account) and N timed;
#  certbot / certctl per certificate (target >= 5x); one certificate of each
#      verified with `openssl verify` against pebble's root and the chain it came with.
# Figures only; this stops with an error when pebble, certctl or certbot fails, or
# when a certificate does not verify. Without certbot (Debian package certbot,
# `scripts/deps.sh bench`), only certctl's figures are printed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BENCH_ACME_N:-10}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "b0003: BENCH_ACME_N must be a positive number, not '$N'" >&2; exit 1; }
DIR="$bench_tmp/pebble"
repo="$bench_tmp/repo"
cb="$bench_tmp/certbot"
LIMIT=120 # seconds one client run may take before it counts as failed
mkdir -p "$DIR" "$cb"

# --- servers: started here, stopped (by PID) on exit ------------------------------------
challsrv_pid='' pebble_pid=''
stop_servers() {
	local p
	for p in $pebble_pid $challsrv_pid; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pebble_pid $challsrv_pid; do
		wait "$p" 2>/dev/null || true
	done
	pebble_pid='' challsrv_pid=''
}
cleanup() {
	local rc=$?
	stop_servers
	[ -n "${BENCH_KEEP:-}${BENCH_DEFER_CLEANUP:-}" ] || rm -rf "$bench_tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "b0003: $*" >&2; exit 1; }
# server_logs : the end of both servers' logs, for a failure message.
server_logs() {
	local f
	for f in "$DIR/pebble.log" "$DIR/challtestsrv.log"; do
		[ -s "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 15 "$f"; }
	done >&2
	return 0
}

for tool in pebble pebble-challtestsrv openssl curl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/deps.sh all)"
done

# free_ports K : K distinct TCP ports in 20000-59999 that nothing listens on (PORTS).
free_ports() {
	local p q used
	PORTS=()
	while [ "${#PORTS[@]}" -lt "$1" ]; do
		p=$((20000 + RANDOM % 40000))
		used=
		for q in "${PORTS[@]}"; do [ "$q" = "$p" ] && used=1; done
		[ -z "$used" ] || continue
		# a connection that succeeds means the port is taken
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
		PORTS+=("$p")
	done
}
free_ports 6
ACMEPORT=${PORTS[0]} MGMTPORT=${PORTS[1]} HTTPPORT=${PORTS[2]} TLSPORT=${PORTS[3]}
DNSPORT=${PORTS[4]} CHALLMGMT=${PORTS[5]}

# pebble's own TLS certificate: a throw-away root and a leaf for localhost/127.0.0.1.
(
	cd "$DIR"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -subj /CN=b0003-pebble-tls-root -days 2 \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout localhost.key -out localhost.csr -subj /CN=localhost
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' 'subjectAltName = DNS:localhost,IP:127.0.0.1' >localhost.ext
	openssl x509 -req -in localhost.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile localhost.ext -out localhost.pem
) >"$DIR/openssl.log" 2>&1 || { cat "$DIR/openssl.log" >&2; die "openssl could not make pebble's TLS certificate"; }

cat >"$DIR/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$ACMEPORT",
    "managementListenAddress": "127.0.0.1:$MGMTPORT",
    "certificate": "$DIR/localhost.pem",
    "privateKey": "$DIR/localhost.key",
    "httpPort": $HTTPPORT,
    "tlsPort": $TLSPORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF

pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DNSPORT" \
	-http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CHALLMGMT" \
	>"$DIR/challtestsrv.log" 2>&1 &
challsrv_pid=$!
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
	pebble -config "$DIR/pebble.json" -dnsserver "127.0.0.1:$DNSPORT" >"$DIR/pebble.log" 2>&1 &
pebble_pid=$!

# Wait (at most ~15 s) for the directory, and for the challenge server's management port.
t0=$(now_ns)
up=
for ((i = 0; i < 150; i++)); do
	kill -0 "$pebble_pid" 2>/dev/null || { server_logs; die "pebble exited at start"; }
	kill -0 "$challsrv_pid" 2>/dev/null || { server_logs; die "pebble-challtestsrv exited at start"; }
	if curl -fsS --cacert "$DIR/ca.pem" -o "$DIR/dir.json" "https://127.0.0.1:$ACMEPORT/dir" 2>/dev/null &&
		(exec 3<>"/dev/tcp/127.0.0.1/$CHALLMGMT") 2>/dev/null; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || { server_logs; die "pebble's directory https://127.0.0.1:$ACMEPORT/dir did not answer within 15 s"; }
startup_ms=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { print (b - a) / 1e6 }')
curl -fsS --cacert "$DIR/ca.pem" -o "$DIR/pebble-root.pem" "https://127.0.0.1:$MGMTPORT/roots/0" ||
	{ server_logs; die "cannot fetch pebble's root from https://127.0.0.1:$MGMTPORT/roots/0"; }
openssl x509 -in "$DIR/pebble-root.pem" -noout 2>/dev/null || die "pebble's /roots/0 is not a certificate"

echo "setup: pebble $(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?') on 127.0.0.1:$ACMEPORT" \
	"(management $MGMTPORT), challtestsrv DNS $DNSPORT, http-01 answered by each client on $HTTPPORT"
row "pebble + challtestsrv up (directory answers)" "$(ms "$startup_ms")"

# --- timing -----------------------------------------------------------------------------
TIMEOUT=()
command -v timeout >/dev/null 2>&1 && TIMEOUT=(timeout "$LIMIT")

# timed LOG CMD... : run CMD (stdout and stderr to LOG), at most LIMIT s; sets T_MS
# (wall, ms), T_CPU (user + sys, s, or "n/a") and T_RSS (kB or "n/a"). Dies on failure.
timed() {
	local log=$1 t0 t1 rc=0 tf="$bench_tmp/timed.time"
	shift
	t0=$(now_ns)
	if [ -n "$TIME_BIN" ]; then
		"${TIMEOUT[@]}" "$TIME_BIN" -f '%U %S %M' -o "$tf" "$@" >"$log" 2>&1 || rc=$?
	else
		"${TIMEOUT[@]}" "$@" >"$log" 2>&1 || rc=$?
	fi
	t1=$(now_ns)
	if [ "$rc" != 0 ]; then
		echo "b0003: command failed (exit $rc$([ "$rc" = 124 ] && echo ", over $LIMIT s")): $*" >&2
		tail -n 30 "$log" >&2
		server_logs
		exit 1
	fi
	T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	if [ -n "$TIME_BIN" ]; then
		read -r u s T_RSS < <(tail -n 1 "$tf")
		T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	else
		T_CPU=n/a T_RSS=n/a
	fi
}

# series LABEL FUNC FORMAT : FUNC NAME for the N names printf FORMAT 1..N, in sequence;
# sets S_TOTAL_MS, S_PER_MS (mean per certificate), S_MEDIAN_MS, S_MIN_MS, S_MAX_MS,
# S_CPU (mean CPU s per certificate or "n/a") and S_RSS (largest peak RSS, kB).
series() {
	local fn=$2 format=$3 i walls=() cpu=0 rss=0
	for ((i = 1; i <= N; i++)); do
		# shellcheck disable=SC2059  # the format is the caller's
		"$fn" "$(printf "$format" "$i")"
		walls+=("$T_MS")
		if [ "$T_CPU" = n/a ]; then cpu=n/a; elif [ "$cpu" != n/a ]; then
			cpu=$(awk -v a="$cpu" -v b="$T_CPU" 'BEGIN { print a + b }')
		fi
		[ "$T_RSS" = n/a ] || [ "$T_RSS" -le "$rss" ] || rss=$T_RSS
	done
	S_TOTAL_MS=$(printf '%s\n' "${walls[@]}" | awk '{ s += $1 } END { printf "%.3f", s }')
	S_PER_MS=$(awk -v t="$S_TOTAL_MS" -v n="$N" 'BEGIN { printf "%.3f", t / n }')
	S_MEDIAN_MS=$(median "${walls[@]}")
	S_MIN_MS=$(printf '%s\n' "${walls[@]}" | sort -g | head -n 1)
	S_MAX_MS=$(printf '%s\n' "${walls[@]}" | sort -g | tail -n 1)
	if [ "$cpu" = n/a ]; then S_CPU=n/a; else S_CPU=$(awk -v c="$cpu" -v n="$N" 'BEGIN { printf "%.3f", c / n }'); fi
	if [ "$T_RSS" = n/a ]; then S_RSS=n/a; else S_RSS=$rss; fi
}

# report WHO : the rows of a series.
report() {
	row "$1: per certificate (mean of $N, sequential)" "$(ms "$S_PER_MS")" \
		"median $(ms "$S_MEDIAN_MS"), min $(ms "$S_MIN_MS"), max $(ms "$S_MAX_MS"); total $(awk -v t="$S_TOTAL_MS" 'BEGIN { printf "%.2f s", t / 1000 }')"
	row "$1: certificates per second" "$(awk -v m="$S_PER_MS" 'BEGIN { printf "%.2f /s", 1000 / m }')"
	if [ "$S_CPU" = n/a ]; then
		row "$1: CPU per certificate (client, user + sys)" "n/a" "/usr/bin/time missing"
	else
		row "$1: CPU per certificate (client, user + sys)" "$(ms "$(awk -v c="$S_CPU" 'BEGIN { print c * 1000 }')")" \
			"waiting $(ms "$(awk -v m="$S_PER_MS" -v c="$S_CPU" 'BEGIN { print m - c * 1000 }')") (server, validation, polling)"
		row "$1: peak RSS (largest run)" "$(kb_mb "$S_RSS") MB"
	fi
}

# verify WHO NAME CERT CHAIN : openssl verify against pebble's root, as a server
# certificate for NAME, with the chain the client stored as untrusted intermediates.
verify() {
	[ -s "$3" ] || die "$1: no certificate at $3"
	[ -s "$4" ] || die "$1: no chain at $4"
	if ! openssl verify -purpose sslserver -verify_hostname "$2" -CAfile "$DIR/pebble-root.pem" \
		-untrusted "$4" "$3" >"$bench_tmp/verify.out" 2>&1; then
		cat "$bench_tmp/verify.out" >&2
		die "$1: the certificate of $2 does not verify against pebble's root"
	fi
	row "$1: openssl verify of $2" "OK" "$(openssl x509 -in "$3" -noout -issuer | sed 's/^issuer=/issuer: /')"
}

# --- certctl --------------------------------------------------------------------------------
"$CERTCTL" -q init "$repo" >/dev/null
cat >"$bench_tmp/provider.yaml" <<EOF
  pebble:
    type: acme
    directory: https://127.0.0.1:$ACMEPORT/dir
    ca_bundle: $DIR/ca.pem
    contact: [admin@example.com]
    agree_tos: true
    http01:
      listen: 127.0.0.1:$HTTPPORT
    timeout: 60s
EOF
# at the end of the providers: mapping (init writes lock: after it)
awk -v add="$bench_tmp/provider.yaml" '
	function put(   l) { while ((getline l < add) > 0) print l; done = 1 }
	inprov && /^[^ #]/ { put(); inprov = 0 }
	/^providers:/ { inprov = 1 }
	{ print }
	END { if (inprov) put(); if (!done) exit 1 }' "$repo/.certctl/config.yaml" >"$bench_tmp/config.yaml" ||
	die "no providers: mapping in $repo/.certctl/config.yaml"
mv "$bench_tmp/config.yaml" "$repo/.certctl/config.yaml"
g -C "$repo" add .certctl/config.yaml
g -C "$repo" commit -q -m "bench: ACME provider pebble"
"$CERTCTL" -C "$repo" -q trust add "$DIR/pebble-root.pem" >/dev/null
t0=$(now_ns)
for ((i = 0; i <= N; i++)); do
	"$CERTCTL" -C "$repo" -q define "host$i.bench.example" --key ecdsa:P-256 --provider pebble >/dev/null
done
define_ms=$(awk -v a="$t0" -v b="$(now_ns)" -v n=$((N + 1)) 'BEGIN { print (b - a) / 1e6 / n }')

certctl_acquire() {
	timed "$bench_tmp/certctl.log" "$CERTCTL" -C "$repo" -q acquire "$1"
	[ -s "$repo/certs/$1/current" ] || die "certctl acquire $1: no current certificate afterwards"
}

echo "certctl $("$CERTCTL" --version 2>/dev/null | awk '{ print $NF }'): acquire DEF, provider pebble" \
	"(acme, http-01 by the built-in responder on 127.0.0.1:$HTTPPORT), ecdsa:P-256"
row "certctl define (setup, per definition)" "$(ms "$define_ms")"
commits0=$(g -C "$repo" rev-list --count HEAD)
certctl_acquire host0.bench.example
row "certctl: warm-up (first acquisition, new account)" "$(ms "$T_MS")" "not counted below"
commits1=$(g -C "$repo" rev-list --count HEAD)
series certctl certctl_acquire host%d.bench.example
report certctl
commits2=$(g -C "$repo" rev-list --count HEAD)
row "certctl: commits per certificate" "$(ratio $((commits2 - commits1)) "$N")" \
	"(warm-up with account: $((commits1 - commits0)))"
[ -z "$(g -C "$repo" status --porcelain)" ] || {
	g -C "$repo" status --short | head >&2
	die "the repository is not clean after the acquisitions"
}
certctl_per=$S_PER_MS
certctl_median=$S_MEDIAN_MS
name="host$N.bench.example"
id=$(cat "$repo/certs/$name/current")
verify certctl "$name" "$repo/certs/$name/$id/cert.pem" "$repo/certs/$name/$id/chain.pem"

# --- certbot --------------------------------------------------------------------------------
if ! command -v certbot >/dev/null 2>&1; then
	echo "certbot: not installed (Debian package certbot; scripts/deps.sh bench installs it):" \
		"no comparison, certctl figures only"
	row "certbot / certctl per certificate" "n/a" "target >= 5x (certbot missing)"
	exit 0
fi

certbot_acquire() {
	timed "$bench_tmp/certbot.log" env REQUESTS_CA_BUNDLE="$DIR/ca.pem" \
		certbot certonly --standalone --http-01-port "$HTTPPORT" --http-01-address 127.0.0.1 \
		--server "https://127.0.0.1:$ACMEPORT/dir" --agree-tos -m a@example.com --no-eff-email \
		--non-interactive --key-type ecdsa --elliptic-curve secp256r1 \
		--config-dir "$cb/config" --work-dir "$cb/work" --logs-dir "$cb/logs" -d "$1"
	[ -s "$cb/config/live/$1/cert.pem" ] || die "certbot $1: no certificate in $cb/config/live/$1"
}

echo "certbot $(certbot --version 2>&1 | awk '{ print $NF }'): certonly --standalone (http-01 on" \
	"127.0.0.1:$HTTPPORT), ecdsa secp256r1, REQUESTS_CA_BUNDLE for pebble's TLS"
certbot_acquire cb0.bench.example
row "certbot: warm-up (first acquisition, new account)" "$(ms "$T_MS")" "not counted below"
series certbot certbot_acquire cb%d.bench.example
report certbot
certbot_per=$S_PER_MS
name="cb$N.bench.example"
verify certbot "$name" "$cb/config/live/$name/cert.pem" "$cb/config/live/$name/chain.pem"

echo "comparison (wall time per certificate, $N sequential acquisitions each, same pebble)"
row "certbot / certctl per certificate (mean)" "$(ratio "$certbot_per" "$certctl_per")x" "target >= 5x"
row "certbot / certctl per certificate (median)" "$(ratio "$S_MEDIAN_MS" "$certctl_median")x"
