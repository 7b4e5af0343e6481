#!/usr/bin/env bash
# b0002: issuing 1,000 ECDSA P-256 leaf certificates with certctl.
#  setup: a repository with CA bench-root (ecdsa:P-256) and 1,000 definitions
#      (DNS name, key ecdsa:P-256, provider builtin) written by one awk process
#      and committed once with the git CLI;
#  certctl issue --batch over the 1,000: rate (certificates/s), CPU, peak RSS,
#      growth of .git; a sample verified with `openssl verify`;
#  (a) the openssl CLI doing the same per certificate in a shell loop (req -newkey
#      + x509 -req, timed over 100): certctl / openssl (target >= 10x);
#  (b) the in-process limit, scripts/bench/issue-inproc.c (OpenSSL only: keygen,
#      the same extensions, sign, PEM to memory): certctl / in-process (target >= 0.3x),
#      and the same in CPU time (certctl makes keys ahead on a second thread);
#  (c) certctl issue --batch --one-commit re-issuing the same 1,000;
#  (d) the first run again with the repository on tmpfs, when there is one:
#      the file system's share of the time (see the comment there);
#  and, with strace, the syscalls per certificate (fsync and friends).
# Figures only; this stops with an error when certctl, git or openssl fails, or
# when a sample certificate does not verify.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BENCH_ISSUE_CERTS:-1000}
OPENSSL_N=${BENCH_OPENSSL_CERTS:-100}
INPROC_N=${BENCH_INPROC_CERTS:-2000}
SAMPLE=${BENCH_VERIFY_SAMPLE:-20}
STRACE_N=20
root=$(cd "$here/../.." && pwd)
repo="$bench_tmp/repo"
batch="$bench_tmp/batch"

# timed CMD... : like measure, plus CPU: sets T_S (wall, s), T_USER, T_SYS (s)
# and T_RSS (kB) — "n/a" without /usr/bin/time. Dies with CMD's stderr.
timed() {
	local t0 t1 rc=0 err="$bench_tmp/timed.err" out="$bench_tmp/timed.time"
	t0=$(now_ns)
	if [ -n "$TIME_BIN" ]; then
		"$TIME_BIN" -f '%U %S %M' -o "$out" "$@" >/dev/null 2>"$err" || rc=$?
	else
		"$@" >/dev/null 2>"$err" || rc=$?
	fi
	t1=$(now_ns)
	if [ "$rc" != 0 ]; then
		echo "b0002: command failed (exit $rc): $*" >&2
		cat "$err" >&2
		exit 1
	fi
	T_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	if [ -n "$TIME_BIN" ]; then
		read -r T_USER T_SYS T_RSS < <(tail -n 1 "$out")
	else
		T_USER=n/a T_SYS=n/a T_RSS=n/a
	fi
}

per_s() { awk -v n="$1" -v s="$2" 'BEGIN { if (s == 0) print "n/a"; else printf "%.1f", n / s }'; }
git_kb() { du -sk "$repo/.git" | cut -f1; }
commits() { g -C "$repo" rev-list --count HEAD; }
loose() { g -C "$repo" count-objects | cut -d' ' -f1; }

# verify_sample : `openssl verify` of every (N/SAMPLE)th definition's current
# certificate against bench-root, as a TLS server certificate for its name.
verify_sample() {
	local step=$((N / SAMPLE)) i name id n=0
	[ "$step" -ge 1 ] || step=1
	for ((i = step; i <= N; i += step)); do
		name="host$i.bench.example.com"
		id=$(cat "$repo/certs/$name/current")
		if ! openssl verify -x509_strict -purpose sslserver -verify_hostname "$name" \
			-CAfile "$repo/ca/bench-root/cert.pem" "$repo/certs/$name/$id/cert.pem" \
			>"$bench_tmp/verify.out" 2>&1; then
			echo "b0002: the certificate of $name does not verify:" >&2
			cat "$bench_tmp/verify.out" >&2
			exit 1
		fi
		n=$((n + 1))
	done
	VERIFIED=$n
}

# issue_run LABEL [--one-commit] : certctl issue --batch over the N, with figures.
issue_run() {
	local label=$1 before_kb before_commits before_objs want
	shift
	before_kb=$(git_kb) before_commits=$(commits) before_objs=$(loose)
	timed "$CERTCTL" -C "$repo" -q issue --batch "$batch" "$@"
	local after_kb after_commits after_objs
	after_kb=$(git_kb) after_commits=$(commits) after_objs=$(loose)
	if [ "$*" = --one-commit ]; then want=1; else want=$N; fi
	[ $((after_commits - before_commits)) -eq "$want" ] || {
		echo "b0002: $label made $((after_commits - before_commits)) commits, wanted $want" >&2
		exit 1
	}
	[ -z "$(g -C "$repo" status --porcelain)" ] ||
		{ echo "b0002: the repository is not clean after $label:" >&2; g -C "$repo" status --short | head >&2; exit 1; }
	verify_sample
	RATE=$(per_s "$N" "$T_S")
	# CPU over wall time: above 1 when the key pool's thread worked alongside.
	row "time" "$(awk -v s="$T_S" 'BEGIN { printf "%.2f s", s }')" \
		"CPU user $T_USER s + sys $T_SYS s$(awk -v w="$T_S" -v u="$T_USER" -v s="$T_SYS" \
			'BEGIN { if (u != "n/a" && w > 0) printf " = %.2f x the wall time", (u + s) / w }')"
	CPU_S=$(awk -v u="$T_USER" -v s="$T_SYS" 'BEGIN { if (u == "n/a") print "n/a"; else print u + s }')
	row "rate" "$RATE /s" "$(awk -v s="$T_S" -v n="$N" 'BEGIN { printf "%.2f ms per certificate", s * 1000 / n }')"
	if [ "$T_RSS" = n/a ]; then row "peak RSS" "n/a"; else row "peak RSS" "$(kb_mb "$T_RSS") MB"; fi
	row "growth of .git (du -sk)" "$(kb_mb $((after_kb - before_kb))) MB" \
		"$(awk -v k=$((after_kb - before_kb)) -v n="$N" 'BEGIN { printf "%.1f kB per certificate", k / n }'),\
 $((after_objs - before_objs)) loose objects ($(ratio $((after_objs - before_objs)) "$N") per certificate)"
	row "commits" "$((after_commits - before_commits))"
	row "openssl verify of a sample (x509_strict, sslserver, name)" "$VERIFIED OK"
}

# --- setup -------------------------------------------------------------------------
# setup_repo: a repository at $repo with CA bench-root and the N definitions
# (listed in $batch), committed with the git CLI; sets ca_s, t0 and t1.
setup_repo() {
	"$CERTCTL" -q init "$repo" >/dev/null
	timed "$CERTCTL" -C "$repo" -q ca init bench-root --key ecdsa:P-256
	ca_s=$T_S
	t0=$(now_ns)
	mkdir -p "$repo/definitions"
	: >"$batch"
	awk -v n="$N" -v dir="$repo/definitions" -v batch="$batch" 'BEGIN {
		for (i = 1; i <= n; i++) {
			name = sprintf("host%d.bench.example.com", i)
			f = dir "/" name ".yaml"
			printf "# certctl definition \047%s\047 (b0002)\nsubject:\n  cn: %s\nsan:\n  dns: [%s]\n" \
				"key:\n  type: ecdsa:P-256\nprovider: builtin\n", name, name, name > f
			close(f)
			print name > batch
		}
	}'
	g -C "$repo" add definitions
	g -C "$repo" commit -q -m "bench: $N definitions" -m "Certctl-Operation: define"
	t1=$(now_ns)
}
# file_cost DIR : microseconds to create an empty file in a new directory in
# DIR (1,000 by bash, kept until the end: deleting would slow what follows).
# On ext4 without a journal this rises from tens of microseconds to
# hundreds while inodes freed in the last minutes are skipped one by one.
file_cost() {
	local dir t0 t1 i
	dir=$(mktemp -d "$1/fs-probe.XXXXXX")
	t0=$(now_ns)
	for ((i = 0; i < 1000; i++)); do : >"$dir/f$i"; done
	t1=$(now_ns)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e3 / 1000 }'
}

setup_repo
echo "setup: CA bench-root (ecdsa:P-256) and $N definitions (DNS name, ecdsa:P-256, builtin)"
row "creating a file beside the repository (the file system now)" "$(file_cost "$bench_tmp") us" \
	"with bash, 1000 files; see (d)"
row "certctl ca init bench-root --key ecdsa:P-256" "$(ms "$(awk -v s="$ca_s" 'BEGIN { print s * 1000 }')")"
row "awk: $N definitions + git add + git commit" "$(ms "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e6 }')")"
row ".git before issuing" "$(kb_mb "$(git_kb)") MB"

# --- certctl issue --batch: one commit per certificate --------------------------------
echo "certctl issue --batch FILE: $N certificates, one commit each"
issue_run "certctl issue --batch"
rate_each=$RATE
cpu_each=$CPU_S

# --- (a) openssl CLI loop ---------------------------------------------------------------
ossl="$bench_tmp/openssl"
mkdir -p "$ossl"
cat >"$ossl/req.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = v3_ca
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
EOF
# the extensions certctl puts in a server leaf (lib/issue.c)
cat >"$ossl/ext.cnf" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:${ENV::SAN}
EOF
(
	cd "$ossl"
	openssl req -config req.cnf -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -subj /CN=bench-openssl-root -days 3650 2>/dev/null
) || { echo "b0002: openssl could not make its CA" >&2; exit 1; }
# shellcheck disable=SC2016  # $1, $i and $SAN are expanded by the inner bash
openssl_loop='cd "$1" || exit 1
for ((i = 1; i <= $2; i++)); do
	export SAN="host$i.bench.example.com"
	openssl req -config req.cnf -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout k -out csr -subj "/CN=$SAN" 2>/dev/null || exit 1
	openssl x509 -req -in csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 \
		-extfile ext.cnf -out crt 2>/dev/null || exit 1
done'
timed bash -c "$openssl_loop" sh "$ossl" "$OPENSSL_N"
openssl verify -x509_strict -purpose sslserver -verify_hostname "host$OPENSSL_N.bench.example.com" \
	-CAfile "$ossl/ca.pem" "$ossl/crt" >/dev/null ||
	{ echo "b0002: the openssl loop's last certificate does not verify" >&2; exit 1; }
rate_openssl=$(per_s "$OPENSSL_N" "$T_S")
echo "(a) openssl CLI per certificate: req -newkey ec (P-256) + x509 -req -CA (2 processes), $OPENSSL_N in a loop"
row "per certificate" "$(awk -v s="$T_S" -v n="$OPENSSL_N" 'BEGIN { printf "%.1f ms", s * 1000 / n }')" \
	"extrapolated: $(awk -v s="$T_S" -v n="$OPENSSL_N" -v m="$N" 'BEGIN { printf "%.1f s", s / n * m }') for $N"
row "rate" "$rate_openssl /s"
row "certctl issue --batch / openssl CLI" "$(ratio "$rate_each" "$rate_openssl")x" "target >= 10x"

# --- (b) in-process limit ----------------------------------------------------------------
inproc="$root/build/bench-issue-inproc"
if ! make -s --no-print-directory -C "$root" build/bench-issue-inproc >"$bench_tmp/make.out" 2>&1; then
	echo "b0002: cannot build build/bench-issue-inproc:" >&2
	cat "$bench_tmp/make.out" >&2
	exit 1
fi
mkdir -p "$bench_tmp/inproc"
out=$("$inproc" "$INPROC_N" "$bench_tmp/inproc") || { echo "b0002: $inproc failed" >&2; exit 1; }
openssl verify -x509_strict -purpose sslserver -verify_hostname "host$INPROC_N.bench.example.com" \
	-CAfile "$bench_tmp/inproc/ca.pem" "$bench_tmp/inproc/leaf.pem" >/dev/null ||
	{ echo "b0002: the in-process leaf does not verify" >&2; exit 1; }
rate_inproc=$(echo "$out" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
echo "(b) in-process limit: build/bench-issue-inproc $INPROC_N (keygen + X509 + sign + PEM to memory, OpenSSL only)"
row "rate" "$rate_inproc /s" "$(awk -v r="$rate_inproc" 'BEGIN { printf "%.3f ms per certificate", 1000 / r }')"
row "certctl issue --batch / in-process" "$(ratio "$rate_each" "$rate_inproc")x" "target >= 0.3x"
# certctl makes keys ahead on a second thread (lib/keypool.c) and the
# in-process loop runs on one: the same ratio in CPU time, for comparison.
if [ "$cpu_each" != n/a ]; then
	row "the same in CPU time (user + sys per certificate)" \
		"$(awk -v c="$cpu_each" -v n="$N" -v r="$rate_inproc" 'BEGIN { if (c > 0) printf "%.2fx", (1 / r) / (c / n); else print "n/a" }')" \
		"$(awk -v c="$cpu_each" -v n="$N" 'BEGIN { printf "certctl %.3f ms CPU per certificate", c * 1000 / n }'), for comparison"
fi

# --- (c) --one-commit ---------------------------------------------------------------------
echo "(c) certctl issue --batch FILE --one-commit: the same $N again (new keys and certificates), one commit"
issue_run "certctl issue --batch --one-commit" --one-commit
rate_one=$RATE
row "--one-commit / one commit each" "$(ratio "$rate_one" "$rate_each")x"
row "--one-commit / openssl CLI" "$(ratio "$rate_one" "$rate_openssl")x" "target >= 10x"
row "--one-commit / in-process" "$(ratio "$rate_one" "$rate_inproc")x" "target >= 0.3x"

# --- (d) the same on tmpfs --------------------------------------------------------------
# What the file system costs: on ext4 without a journal (this kind of VM)
# creating an inode skips every inode freed in the last minute or more, one
# by one, so the rate above falls when anything (a test suite, a previous
# run) deleted many files shortly before.  On tmpfs the same run measures
# certctl's own work; the targets above are judged on the disk figure.
shm=${BENCH_TMPFS:-/dev/shm}
if [ -d "$shm" ] && [ -w "$shm" ] && [ "$(stat -f -c %T "$shm" 2>/dev/null)" = tmpfs ]; then
	disk_repo=$repo disk_batch=$batch
	shm_dir=$(mktemp -d "$shm/certctl-b0002.XXXXXX")
	# memory, not disk: never left behind, whatever BENCH_KEEP says
	trap 'rm -rf "$shm_dir"; [ -n "${BENCH_KEEP:-}${BENCH_DEFER_CLEANUP:-}" ] || rm -rf "$bench_tmp"' EXIT
	repo="$shm_dir/repo" batch="$shm_dir/batch"
	setup_repo
	echo "(d) certctl issue --batch FILE with the repository on tmpfs ($shm): the file system's share"
	row "creating a file on tmpfs" "$(file_cost "$shm_dir") us" "with bash, 1000 files"
	issue_run "certctl issue --batch (tmpfs)"
	rate_shm=$RATE
	row "tmpfs / disk" "$(ratio "$rate_shm" "$rate_each")x"
	row "certctl issue --batch on tmpfs / in-process" "$(ratio "$rate_shm" "$rate_inproc")x" \
		"(for comparison; the target is the disk figure)"
	rm -rf "$shm_dir"
	repo=$disk_repo batch=$disk_batch
else
	echo "(d) no writable tmpfs at $shm: the file system's share is not measured"
fi

# --- syscalls per certificate ---------------------------------------------------------------
if command -v strace >/dev/null 2>&1; then
	head -n "$STRACE_N" "$batch" >"$bench_tmp/batch.small"
	echo "syscalls per certificate (strace -f -c, $STRACE_N more certificates; strace slows, counts only)"
	for mode in each one; do
		args=()
		[ "$mode" = one ] && args=(--one-commit)
		before=$(commits)
		if strace -f -c -o "$bench_tmp/strace.$mode" \
			"$CERTCTL" -C "$repo" -q issue --batch "$bench_tmp/batch.small" "${args[@]}" >/dev/null 2>&1; then
			made=$(($(commits) - before))
			[ "$made" -eq "$([ "$mode" = one ] && echo 1 || echo "$STRACE_N")" ] ||
				{ echo "b0002: certctl under strace made $made commits" >&2; exit 1; }
			counts=$(awk -v n="$STRACE_N" '
				$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ { c[$NF] = $4 }
				END { printf "fsync %.2f, fdatasync %.2f, syncfs %.2f, sync %.2f; rename %.1f, openat %.1f, write %.1f, mkdir %.1f",
					c["fsync"] / n, c["fdatasync"] / n, c["syncfs"] / n, c["sync"] / n,
					c["rename"] / n, c["openat"] / n, c["write"] / n, c["mkdir"] / n }' "$bench_tmp/strace.$mode")
			row "$([ "$mode" = one ] && echo "--one-commit" || echo "one commit each")" "" "$counts"
		elif strace -f -o /dev/null true >/dev/null 2>&1; then
			echo "b0002: certctl issue --batch ${args[*]} failed under strace:" >&2
			grep -v '^[ %-]' "$bench_tmp/strace.$mode" >&2 || true
			exit 1
		else
			row "$mode" "n/a" "strace cannot trace here (ptrace not allowed?)"
		fi
	done
fi
