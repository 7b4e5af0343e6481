#!/usr/bin/env bash
# b0001: certctl with 10,000 definitions.
#  (a) a repository with 10,000 varied definitions, written by one awk process
#      and committed once with the git CLI; `certctl fsck --no-keys` proves them valid;
#  (b) `certctl list` over them: median time of 5 runs and peak RSS
#      (targets: <= 1 s, <= 100 MB);
#  (c) `certctl define` of a new definition (one commit) into that repository
#      vs into an empty one, median of 7 each (target: <= 2x), with
#      `git add` + `git commit` of one file in the big repository as a reference.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BENCH_DEFINITIONS:-10000}
LIST_RUNS=5
DEFINE_RUNS=7
big="$bench_tmp/big"
empty="$bench_tmp/empty"

# --- (a) the repository ------------------------------------------------------
"$CERTCTL" -q init "$big" >/dev/null
"$CERTCTL" -q init "$empty" >/dev/null

t0=$(now_ns)
mkdir -p "$big/definitions"
awk -v n="$N" -v dir="$big/definitions" '
function pick(list, i,    a, k) { k = split(list, a, " "); return a[i % k + 1] }
BEGIN {
	svc = "www api mail vpn git shop portal auth cdn intranet wiki grafana smtp imap ldap db"
	dom = "example.com example.net example.org corp.example shop.example.co.uk eu.example.com"
	org = "Example_Ltd Example_GmbH Acme_Corp Globex_Inc Initech_SA Umbrella_BV"
	ou = "Web Platform IT_Operations Mail Security Infrastructure"
	city = "Berlin Paris London Amsterdam Madrid Vienna Zurich Dublin"
	cc = "DE FR GB NL ES AT CH IE"
	keys = "ecdsa:P-256 ecdsa:P-256 ecdsa:P-384 rsa:2048 rsa:3072 ed25519"
	validity = "90d 90d 397d 1y 30d"
	for (i = 1; i <= n; i++) {
		s = pick(svc, i); d = pick(dom, int(i / 16))
		name = sprintf("%s%d.%s", s, i, d)
		f = dir "/" name ".yaml"
		print "# certctl definition \047" name "\047; see certctl-definition(5)." > f
		if (i % 3 == 0)
			print "description: " s " service " i " (" d ")" > f
		print "mode: " (i % 10 == 0 ? "monitor" : "lifecycle") > f
		print "process: " (i % 4 == 0 ? "unattended" : "interactive") > f
		print "subject:" > f
		print "  cn: " name > f
		o = pick(org, int(i / 7)); gsub("_", " ", o)
		print "  o: " o > f
		if (i % 2 == 0) { u = pick(ou, i); gsub("_", " ", u); print "  ou: " u > f }
		if (i % 5 != 0) print "  l: " pick(city, int(i / 3)) > f
		print "  c: " pick(cc, int(i / 3)) > f
		nsan = i % 3 + 1
		sans = name
		if (nsan >= 2) sans = sans ", " s "-" i "-alt." d
		if (nsan >= 3) sans = sans ", " d "-" i ".example"
		print "san:" > f
		print "  dns: [" sans "]" > f
		if (i % 11 == 0)
			printf "  ip: [192.0.2.%d]\n", i % 254 + 1 > f
		print "key:" > f
		print "  type: " pick(keys, i) > f
		print "  reuse: " (i % 6 == 0 ? "true" : "false") > f
		print "provider: " (i % 10 == 0 ? "manual" : "builtin") > f
		print "profile: " (i % 13 == 0 ? "server+client" : "server") > f
		v = pick(validity, i)
		print "validity: " v > f
		print "renew_before: " (v == "30d" ? "10d" : "30d") > f
		print "monitor:" > f
		print "  enabled: " (i % 17 == 0 ? "false" : "true") > f
		print "  warning: " (i % 2 ? "30d" : "21d") > f
		print "  critical: 7d" > f
		print "checks:" > f
		if (s == "mail" || s == "smtp") {
			print "- host: " name > f; print "  port: 25" > f
			print "  starttls: smtp" > f
		} else if (s == "imap") {
			print "- host: " name > f; print "  port: 143" > f
			print "  starttls: imap" > f
		} else if (s == "ldap") {
			print "- host: " name > f; print "  port: 636" > f
		} else if (i % 9 == 0) {
			printf "- host: 192.0.2.%d\n", i % 254 + 1 > f
			print "  port: 8443" > f
			print "  sni: " name > f
		} else {
			print "- host: " name > f; print "  port: 443" > f
		}
		print "  enabled: true" > f
		if (i % 7 == 0) {
			print "contacts:" > f
			print "  owner: " s " team <" s "-team@" d ">" > f
		}
		close(f)
	}
}'
t1=$(now_ns)
gen_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')

measure env "${git_env[@]}" git -C "$big" add definitions
add_ms=$M_MS
measure env "${git_env[@]}" git -C "$big" commit -q -m "bench: $N definitions" -m "Certctl-Operation: define"
commit_ms=$M_MS
count=$(g -C "$big" ls-files definitions | wc -l)
[ "$count" -eq "$N" ] || { echo "b0001: committed $count definitions, wanted $N" >&2; exit 1; }

fsck_out="$bench_tmp/fsck.out"
t0=$(now_ns)
if ! "$CERTCTL" -C "$big" fsck --no-keys >"$fsck_out" 2>&1; then
	echo "b0001: certctl fsck --no-keys found problems in the generated definitions:" >&2
	head -n 20 "$fsck_out" >&2
	exit 1
fi
t1=$(now_ns)
fsck_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')

echo "(a) repository with $N definitions"
row "generate $N YAML files (one awk process)" "$gen_ms ms"
row "git add definitions/" "$add_ms ms"
row "git commit (one commit)" "$commit_ms ms"
row "certctl fsck --no-keys" "$fsck_ms ms" "$(tail -n 1 "$fsck_out")"

# --- (b) certctl list ----------------------------------------------------------
lines=$("$CERTCTL" -C "$big" list | wc -l)
[ "$lines" -eq "$N" ] || { echo "b0001: certctl list printed $lines lines, wanted $N" >&2; exit 1; }
times=() rsss=()
for _ in $(seq "$LIST_RUNS"); do
	measure "$CERTCTL" -C "$big" list
	times+=("$M_MS") rsss+=("$M_RSS")
done
if command -v hyperfine >/dev/null 2>&1; then
	csv="$bench_tmp/list.csv"
	hyperfine -N --style none --warmup 1 --runs "$LIST_RUNS" --export-csv "$csv" \
		"$CERTCTL -C $big list" >/dev/null 2>&1 ||
		hyperfine --style none --warmup 1 --runs "$LIST_RUNS" --export-csv "$csv" \
			"$CERTCTL -C $big list" >/dev/null
	# command,mean,stddev,median,user,system,min,max (seconds)
	list_ms=$(awk -F, 'NR == 2 { printf "%.3f", $4 * 1000 }' "$csv")
	how="hyperfine, median of $LIST_RUNS"
else
	list_ms=$(median "${times[@]}")
	how="median of $LIST_RUNS"
fi
if [ "${rsss[0]}" = n/a ]; then list_rss=n/a; else list_rss=$(kb_mb "$(median "${rsss[@]}")"); fi
list_s=$(awk -v m="$list_ms" 'BEGIN { printf "%.3f", m / 1000 }')

echo "(b) certctl list >/dev/null over $N definitions ($how)"
row "time" "$list_s s" "target <= 1 s: $(ratio "$list_s" 1)x of target"
row "peak RSS" "$list_rss MB" "target <= 100 MB: $( [ "$list_rss" = n/a ] && echo n/a || ratio "$list_rss" 100)x of target"

# --- (c) certctl define: big vs empty, and git add + commit ---------------------
set -- "$big"/definitions/*.yaml
sample=$1
big_t=() empty_t=() git_t=() big_rss=()
for i in $(seq "$DEFINE_RUNS"); do
	name="new$i.bench.example.com"
	# interleaved so both repositories see the same machine noise
	measure "$CERTCTL" -C "$big" define "$name" --dns "$name" --dns "alt$i.bench.example.com" \
		--org "Bench Ltd" --country DE --check "$name:443"
	big_t+=("$M_MS") big_rss+=("$M_RSS")
	measure "$CERTCTL" -C "$empty" define "$name" --dns "$name" --dns "alt$i.bench.example.com" \
		--org "Bench Ltd" --country DE --check "$name:443"
	empty_t+=("$M_MS")
	f="definitions/gitref$i.bench.example.com.yaml"
	sed "s/^# certctl definition .*/# git reference $i/" "$sample" >"$big/$f"
	measure env "${git_env[@]}" sh -c 'git -C "$1" add "$2" && git -C "$1" commit -q -m "git reference" -- "$2"' \
		sh "$big" "$f"
	git_t+=("$M_MS")
done
for i in $(seq "$DEFINE_RUNS"); do
	[ -f "$big/definitions/new$i.bench.example.com.yaml" ] ||
		{ echo "b0001: certctl define did not write new$i.bench.example.com" >&2; exit 1; }
done
commits=$(g -C "$big" rev-list --count HEAD)
want=$((2 + 2 * DEFINE_RUNS))
[ "$commits" -eq "$want" ] || echo "b0001: note: $commits commits in the big repository, expected $want" >&2

db=$(median "${big_t[@]}")
de=$(median "${empty_t[@]}")
dg=$(median "${git_t[@]}")
echo "(c) certctl define NEW --dns ... (a new definition, one commit; median of $DEFINE_RUNS)"
row "into the $N-definition repository" "$db ms" \
	"peak RSS $(kb_mb "$( [ "${big_rss[0]}" = n/a ] && echo n/a || median "${big_rss[@]}")") MB"
row "into an empty repository" "$de ms"
row "ratio big / empty" "$(ratio "$db" "$de")x" "target <= 2x"
row "reference: git add + git commit of one file, big repo" "$dg ms" \
	"certctl define / git = $(ratio "$db" "$dg")x"
