#!/bin/bash
# certctl log: the history from git commits, newest first; with DEF only the
# commits whose Certctl-Definition trailer names DEF; -n N; --json.  Every
# listing is compared with what git log says.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"

ok certctl -q define www.example.com
ok certctl -q define api.example.com
ok certctl -q define www.example.com --notes 'first change'
ok certctl -q key generate --key ed25519
ok certctl -q define api.example.com --notes 'api change'
ok certctl -q define www.example.com --notes 'second change'
ok certctl -q rm api.example.com
ok certctl -q define www.example.com --notes 'second change'   # unchanged: no commit
# A commit made with git alone, without trailers, is part of the history too.
echo "team notes" >NOTES.txt
git add NOTES.txt && git commit -q -m "notes: added by hand"
assert_eq 9 "$(commits)" "commits"

# id_matches CERTCTL_ID FULL_ID: certctl's abbreviated id is a prefix of
# the full id and at least as long as git's own abbreviation.
id_matches() {
	_count
	case $2 in
	"$1"*) ;;
	*) fail "log id '$1' is not a prefix of commit $2" ;;
	esac
	[ ${#1} -ge 7 ] || fail "log id '$1' is shorter than 7 hex digits"
}

# --- the whole log ------------------------------------------------------
ok_out out certctl log
assert_eq 9 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "lines of certctl log"
git log --format='%H%x09%s' >"$T/git.log"
i=0
while IFS=$'\t' read -r full subject; do
	i=$((i + 1))
	line=$(printf '%s\n' "$out" | sed -n "${i}p")
	id=${line%% *}
	id_matches "$id" "$full"
	assert_eq "$(git log -1 --format=%h "$full")" "${id:0:$(git log -1 --format=%h "$full" | wc -L)}" "git's %h against certctl's id"
	assert_contains "$line" "$subject" "log line $i"
	# The date is the commit's, in ISO 8601.
	date=$(git log -1 --format=%cI "$full")
	assert_match "$line" "^[0-9a-f]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}" "date of log line $i"
	ld=$(echo "$line" | awk '{print $2}')
	assert_eq "$(date -u -d "$date" +%s)" "$(date -u -d "$ld" +%s)" "date of log line $i against git"
done <"$T/git.log"
assert_eq 9 "$i" "commits compared"
# Newest first: the first line is HEAD, the last the init commit.
assert_contains "$(printf '%s\n' "$out" | head -n 1)" "notes: added by hand" "newest entry"
assert_contains "$(printf '%s\n' "$out" | tail -n 1)" "init: certificate repository created" "oldest entry"

# --- -n ---------------------------------------------------------------------
ok_out out1 certctl log -n 1
assert_eq "$(printf '%s\n' "$out" | head -n 1)" "$out1" "log -n 1"
ok_out out3 certctl log -n 3
assert_eq "$(printf '%s\n' "$out" | head -n 3)" "$out3" "log -n 3"
ok_out out3b certctl log --max-count 3
assert_eq "$out3" "$out3b" "log --max-count 3"
ok_out out3c certctl log -n3
assert_eq "$out3" "$out3c" "log -n3"
ok_out outall certctl log -n 100
assert_eq "$out" "$outall" "log -n larger than the history"
expect_fail 64 "number|'x'" certctl log -n x
expect_fail 64 "number|-1" certctl log -n -1
expect_fail 64 "needs a value|-n" certctl log -n

# --- log DEF ------------------------------------------------------------
ok_out wout certctl log www.example.com
git log --format='%H%x09%s' --grep='^Certctl-Definition: www.example.com$' >"$T/www.log"
assert_eq 3 "$(wc -l <"$T/www.log" | tr -d ' ')" "git's commits of www.example.com"
assert_eq 3 "$(printf '%s\n' "$wout" | wc -l | tr -d ' ')" "lines of log www.example.com"
i=0
while IFS=$'\t' read -r full subject; do
	i=$((i + 1))
	line=$(printf '%s\n' "$wout" | sed -n "${i}p")
	id_matches "${line%% *}" "$full"
	assert_contains "$line" "$subject" "log www.example.com line $i"
	assert_eq "www.example.com" "$(git log -1 --format='%(trailers:key=Certctl-Definition,valueonly)' "$full" | sed '/^$/d')" \
		"trailer of the commit listed"
done <"$T/www.log"
assert_eq "define: www.example.com: updated" "$(printf '%s\n' "$wout" | head -n 1 | cut -d' ' -f3-)" "newest www.example.com entry"
assert_eq "define: www.example.com: created" "$(printf '%s\n' "$wout" | tail -n 1 | cut -d' ' -f3-)" "oldest www.example.com entry"
# Another definition whose name contains this one's is not listed, nor is
# a key commit.
assert_not_contains "$wout" "api.example.com" "log www.example.com"
assert_not_contains "$wout" "key:" "log www.example.com"

# A removed definition keeps its history, including the rm.
ok_out aout certctl log api.example.com
assert_eq "rm: api.example.com: removed
define: api.example.com: updated
define: api.example.com: created" "$(printf '%s\n' "$aout" | cut -d' ' -f3-)" "log of a removed definition"
ok_out aout1 certctl log api.example.com -n 1
assert_eq "$(printf '%s\n' "$aout" | head -n 1)" "$aout1" "log DEF -n 1"
# A prefix of a name matches nothing.
ok_out none certctl log www
assert_eq "" "$none" "log of a name prefix"
ok_out none certctl log example.com
assert_eq "" "$none" "log of a name suffix"
# A name never defined: nothing (or an error), never another definition's commits.
none=$(certctl log never.example.com 2>/dev/null)
assert_eq "" "$none" "log of an unknown definition"
expect_fail 64 "too many" certctl log www.example.com api.example.com

# --- --json -----------------------------------------------------------------
ok_out jout certctl log --json
git log --format='%H %cI %s' >"$T/git-full.log"
json_check "$jout" "
import datetime
e = d['entries']
assert d['schema'] == 'certctl.log/1', d
lines = open('$T/git-full.log').read().splitlines()
assert len(e) == len(lines) == 9, (len(e), len(lines))
def ts(s):
    return datetime.datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp()
for x, l in zip(e, lines):
    h, date, subject = l.split(' ', 2)
    assert x['commit'] == h, (x, l)
    assert x['summary'] == subject, (x, l)
    assert ts(x['date']) == ts(date), (x, l)
ops = [x['operation'] for x in e]
assert ops == [None, 'rm', 'define', 'define', 'key', 'define', 'define', 'define', 'init'], ops
defs = [x['definition'] for x in e]
assert defs == [None, 'api.example.com', 'www.example.com', 'api.example.com', None,
                'www.example.com', 'api.example.com', 'www.example.com', None], defs"
ok_out jout certctl log www.example.com --json -n 2
json_check "$jout" "
e = d['entries']
assert len(e) == 2, e
assert [x['summary'] for x in e] == ['define: www.example.com: updated', 'define: www.example.com: updated'], e
assert all(x['definition'] == 'www.example.com' for x in e), e
assert e[0]['commit'] == '$(sed -n 1p "$T/www.log" | cut -f1)', e"

# log reads only.
snapshot
ok_out out certctl log
ok_out out certctl log www.example.com --json
assert_unchanged

# From a subdirectory and with -C, the same log.
mkdir -p sub/dir
ok_out sout sh -c 'cd sub/dir && "$CERTCTL" log'
assert_eq "$(certctl log)" "$sout" "log from a subdirectory"
ok_out cout certctl -C "$T/work/repo" log
assert_eq "$(certctl log)" "$cout" "log with -C"

finish
