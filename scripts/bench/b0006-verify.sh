#!/usr/bin/env bash
# b0006: the verifier next to openssl verify, on the same 3-certificate chain
# in the same run.
#  setup: certctl's own root > intermediate > leaf (ECDSA P-256) and a CRL
#      of each CA (certctl ca crl), copied out as PEM files;
#  (a) per process, BENCH_VERIFY_RUNS (200) times each:
#      `openssl verify -CAfile root -untrusted int leaf` against
#      `certctl verify leaf --ca root --untrusted int --revocation off --no-fetch`
#      (web-PKI rules, expiry of every member): verifications a second, and
#      the same two with the CRLs (`-crl_check_all -CRLfile`, `--crl ... --revocation hard`);
#  (b) in one process, BENCH_VERIFY_N (5000) times each (build/bench-verify-inproc):
#      X509_verify_cert alone, certctl's verifier, and the verifier with the
#      CRLs at hand: the cost of a cached CRL check per verification.
# Figures only; stops with an error when a verification fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${BENCH_VERIFY_RUNS:-200}
N=${BENCH_VERIFY_N:-5000}
root=$(cd "$here/../.." && pwd)

"$CERTCTL" -q init "$bench_tmp/repo" >/dev/null
cd "$bench_tmp/repo"
"$CERTCTL" -q ca init root --key ecdsa:P-256 >/dev/null
"$CERTCTL" -q ca init sub --parent root --key ecdsa:P-256 >/dev/null
"$CERTCTL" -q define www.bench.test --dns www.bench.test --ca sub >/dev/null
"$CERTCTL" -q issue www.bench.test >/dev/null
"$CERTCTL" -q ca crl root >/dev/null
"$CERTCTL" -q ca crl sub >/dev/null
id=$(cat certs/www.bench.test/current)
F=$bench_tmp/files
mkdir -p "$F"
cp ca/root/cert.pem "$F/root.pem"
cp ca/sub/cert.pem "$F/int.pem"
cp "certs/www.bench.test/$id/cert.pem" "$F/leaf.pem"
cp ca/root/crl.pem "$F/root.crl"
cp ca/sub/crl.pem "$F/int.crl"
cd "$bench_tmp"

# per_s RUNS MS : runs a second.
per_s() { awk -v n="$1" -v m="$2" 'BEGIN { if (m == 0) print "n/a"; else printf "%.1f", n * 1000 / m }'; }

# loop RUNS CMD... : RUNS runs of CMD in a row; sets M_MS for all of them.
loop() {
	local n=$1 t0 t1
	shift
	"$@" >/dev/null 2>"$bench_tmp/loop.err" || { echo "b0006: $* failed:" >&2; cat "$bench_tmp/loop.err" >&2; exit 1; }
	t0=$(now_ns)
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 || { echo "b0006: $* failed on run $i" >&2; exit 1; }
	done
	t1=$(now_ns)
	M_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
}

echo "  a 3-certificate chain (ECDSA P-256): root > intermediate > leaf, a CRL of each CA"
echo "(a) one process per verification, $RUNS runs each"
loop "$RUNS" openssl verify -CAfile "$F/root.pem" -untrusted "$F/int.pem" "$F/leaf.pem"
o_ms=$M_MS
loop "$RUNS" "$CERTCTL" verify "$F/leaf.pem" --ca "$F/root.pem" --untrusted "$F/int.pem" \
	--revocation off --no-fetch
c_ms=$M_MS
row "openssl verify" "$(per_s "$RUNS" "$o_ms") /s" "$(awk -v m="$o_ms" -v n="$RUNS" 'BEGIN { printf "%.2f ms each", m / n }')"
row "certctl verify (web-PKI rules, no revocation)" "$(per_s "$RUNS" "$c_ms") /s" "$(awk -v m="$c_ms" -v n="$RUNS" 'BEGIN { printf "%.2f ms each", m / n }')"
row "certctl / openssl" "$(ratio "$o_ms" "$c_ms")x"
loop "$RUNS" openssl verify -crl_check_all -CRLfile "$F/root.crl" -CRLfile "$F/int.crl" \
	-CAfile "$F/root.pem" -untrusted "$F/int.pem" "$F/leaf.pem"
oc_ms=$M_MS
loop "$RUNS" "$CERTCTL" verify "$F/leaf.pem" --ca "$F/root.pem" --untrusted "$F/int.pem" \
	--crl "$F/root.crl" --crl "$F/int.crl" --revocation hard --no-fetch
cc_ms=$M_MS
row "openssl verify -crl_check_all (2 CRLs)" "$(per_s "$RUNS" "$oc_ms") /s"
row "certctl verify --crl x2 --revocation hard" "$(per_s "$RUNS" "$cc_ms") /s"
row "certctl / openssl, with CRLs" "$(ratio "$oc_ms" "$cc_ms")x"

echo "(b) in one process, $N verifications each (build/bench-verify-inproc)"
if ! make -s --no-print-directory -C "$root" build/bench-verify-inproc >"$bench_tmp/make.out" 2>&1; then
	echo "b0006: cannot build build/bench-verify-inproc:" >&2
	cat "$bench_tmp/make.out" >&2
	exit 1
fi
out=$("$root/build/bench-verify-inproc" "$N" "$F/root.pem" "$F/int.pem" "$F/leaf.pem" \
	"$F/root.crl" "$F/int.crl") || { echo "b0006: bench-verify-inproc failed" >&2; exit 1; }
r_o=$(echo "$out" | sed -n 's/^openssl=//p')
r_c=$(echo "$out" | sed -n 's/^certctl=//p')
r_crl=$(echo "$out" | sed -n 's/^crl=//p')
row "X509_verify_cert alone" "$r_o /s"
row "the verifier (strict, web-PKI rules, expiry)" "$r_c /s" "$(ratio "$r_c" "$r_o")x X509_verify_cert"
row "the verifier with 2 CRLs at hand (revocation hard)" "$r_crl /s" \
	"$(awk -v a="$r_c" -v b="$r_crl" 'BEGIN { printf "a cached CRL check costs %.1f us", (1e6 / b - 1e6 / a) }')"
