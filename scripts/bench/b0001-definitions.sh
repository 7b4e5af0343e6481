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
# one write per file: creating files is the slow part
function w(line) { buf = buf line "\n" }
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
	region = "eu us ap"
	for (i = 1; i <= n; i++) {
		s = pick(svc, i); d = pick(dom, int(i / 16))
		name = sprintf("%s%d.%s", s, i, d)
		f = dir "/" name ".yaml"; buf = ""
		w("# certctl definition \047" name "\047; see certctl-definition(5).")
		if (i % 3 == 0)
			w("description: " s " service " i " (" d ")")
		w("mode: " (i % 10 == 0 ? "monitor" : "lifecycle"))
		w("process: " (i % 4 == 0 ? "unattended" : "interactive"))
		w("subject:")
		w("  cn: " name)
		o = pick(org, int(i / 7)); gsub("_", " ", o)
		w("  o: " o)
		if (i % 2 == 0) { u = pick(ou, i); gsub("_", " ", u); w("  ou: " u) }
		if (i % 5 != 0) w("  l: " pick(city, int(i / 3)))
		w("  c: " pick(cc, int(i / 3)))
		nsan = i % 3 + 1
		sans = name
		if (nsan >= 2) sans = sans ", " s i "." pick(region, i) "." d
		if (nsan >= 3) sans = sans ", " s i ".internal." d
		w("san:")
		w("  dns: [" sans "]")
		if (i % 11 == 0)
			w(sprintf("  ip: [192.0.2.%d]", i % 254 + 1))
		w("key:")
		w("  type: " pick(keys, i))
		w("  reuse: " (i % 6 == 0 ? "true" : "false"))
		w("provider: " (i % 10 == 0 ? "manual" : "builtin"))
		w("profile: " (i % 13 == 0 ? "server+client" : "server"))
		v = pick(validity, i)
		w("validity: " v)
		w("renew_before: " (v == "30d" ? "10d" : "30d"))
		w("monitor:")
		w("  enabled: " (i % 17 == 0 ? "false" : "true"))
		w("  warning: " (i % 2 ? "30d" : "21d"))
		w("  critical: 7d")
		w("checks:")
		if (s == "mail" || s == "smtp") {
			w("- host: " name); w("  port: 25")
			w("  starttls: smtp")
		} else if (s == "imap") {
			w("- host: " name); w("  port: 143")
			w("  starttls: imap")
		} else if (s == "ldap") {
			w("- host: " name); w("  port: 636")
		} else if (i % 9 == 0) {
			w(sprintf("- host: 192.0.2.%d", i % 254 + 1))
			w("  port: 8443")
			w("  sni: " name)
		} else {
			w("- host: " name); w("  port: 443")
		}
		w("  enabled: true")
		if (i % 7 == 0) {
			w("contacts:")
			w("  owner: " s " team <" s "-team@" d ">")
		}
		printf "%s", buf > f
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
row "generate $N YAML files (one awk process)" "$(ms "$gen_ms")"
row "git add definitions/" "$(ms "$add_ms")"
row "git commit (one commit)" "$(ms "$commit_ms")"
row "certctl fsck --no-keys" "$(ms "$fsck_ms")" "$(tail -n 1 "$fsck_out")"

# --- (b) certctl list ----------------------------------------------------------
lines=$("$CERTCTL" -C "$big" list | wc -l)
[ "$lines" -eq "$N" ] || { echo "b0001: certctl list printed $lines lines, wanted $N" >&2; exit 1; }
have_hyperfine=
if command -v hyperfine >/dev/null 2>&1; then have_hyperfine=1; fi
times=() rsss=()
# the bash loop times the runs without hyperfine; with it, one run gives the RSS
for _ in $(seq "$([ -n "$have_hyperfine" ] && echo 1 || echo "$LIST_RUNS")"); do
	measure "$CERTCTL" -C "$big" list
	times+=("$M_MS") rsss+=("$M_RSS")
done
if [ -n "$have_hyperfine" ]; then
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
if [ "$list_rss" = n/a ]; then
	row "peak RSS" "n/a" "target <= 100 MB"
else
	row "peak RSS" "$list_rss MB" "target <= 100 MB: $(ratio "$list_rss" 100)x of target"
fi

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
	# shellcheck disable=SC2016  # $1 and $2 are expanded by sh
	measure env "${git_env[@]}" sh -c 'git -C "$1" add "$2" && git -C "$1" commit -q -m "git reference" -- "$2"' \
		sh "$big" "$f"
	git_t+=("$M_MS")
done
for repo in "$big" "$empty"; do
	made=$(g -C "$repo" log --format=%s | grep -c '^define: new[0-9]*\.bench\.example\.com: created$' || true)
	[ "$made" -eq "$DEFINE_RUNS" ] ||
		{ echo "b0001: $made define commits in $repo, wanted $DEFINE_RUNS" >&2; exit 1; }
	[ -z "$(g -C "$repo" status --porcelain)" ] ||
		{ echo "b0001: $repo is not clean after certctl define:" >&2; g -C "$repo" status --short >&2; exit 1; }
done

db=$(median "${big_t[@]}")
de=$(median "${empty_t[@]}")
dg=$(median "${git_t[@]}")
echo "(c) certctl define NEW --dns ... (a new definition, one commit; median of $DEFINE_RUNS)"
if [ "${big_rss[0]}" = n/a ]; then rss_note=; else rss_note="peak RSS $(kb_mb "$(median "${big_rss[@]}")") MB"; fi
row "into the $N-definition repository" "$(ms "$db")" "$rss_note"
row "into an empty repository (1 to $DEFINE_RUNS definitions)" "$(ms "$de")"
row "ratio big / empty" "$(ratio "$db" "$de")x" "target <= 2x"
row "reference: git add + git commit of one file, big repo" "$(ms "$dg")" \
	"certctl define / git = $(ratio "$db" "$dg")x"
