#!/bin/bash
# certctl list, show and rm: one line (or JSON record) per definition file,
# show prints the stored file, rm removes it in one commit and keeps keys.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"

# --- an empty repository -----------------------------------------------
ok_out out certctl list
assert_eq "" "$out" "list of an empty repository"
ok_out out certctl list --json
json_check "$out" 'assert d["definitions"] == [], d; assert d["schema"] == "certctl.definitions/1", d'

# --- list --------------------------------------------------------------
ok_out out certctl -q define www.example.com
ok_out out certctl -q define api.example.com --dns api.example.com --dns api2.example.com --key ed25519 --mode monitor
ok_out out certctl -q define mail --cn mail.example.com --provider manual --key rsa:4096
ok_out out certctl -q define 0-digits.example --cn digits.example.net --ip 192.0.2.1
names=$(ls definitions | sed 's/\.yaml$//' | LC_ALL=C sort)
assert_eq "0-digits.example
api.example.com
mail
www.example.com" "$names" "definition files"

ok_out out certctl list
assert_eq 4 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "lines of list"
assert_eq "$names" "$(printf '%s\n' "$out" | awk '{print $1}' | LC_ALL=C sort)" "names in list"
# NAME MODE PROVIDER KEY NAMES
line=$(printf '%s\n' "$out" | awk '$1 == "api.example.com"')
assert_eq "monitor" "$(echo "$line" | awk '{print $2}')" "mode column"
assert_eq "builtin" "$(echo "$line" | awk '{print $3}')" "provider column"
assert_eq "ed25519" "$(echo "$line" | awk '{print $4}')" "key column"
assert_contains "$(echo "$line" | awk '{print $5}')" "api.example.com" "names column"
line=$(printf '%s\n' "$out" | awk '$1 == "mail"')
assert_eq "lifecycle manual rsa:4096" "$(echo "$line" | awk '{print $2, $3, $4}')" "columns of mail"
assert_contains "$line" "mail.example.com" "names of mail"
line=$(printf '%s\n' "$out" | awk '$1 == "www.example.com"')
assert_eq "lifecycle builtin ecdsa:P-256" "$(echo "$line" | awk '{print $2, $3, $4}')" "columns of the defaults"
# list writes nothing.
snapshot
ok_out out2 certctl list
assert_eq "$out" "$out2" "list twice"
assert_unchanged

ok_out out certctl list --json
json_check "$out" '
assert d["schema"] == "certctl.definitions/1", d
defs = {x["name"]: x for x in d["definitions"]}
assert sorted(defs) == ["0-digits.example", "api.example.com", "mail", "www.example.com"], sorted(defs)
assert defs["api.example.com"]["mode"] == "monitor"
assert defs["api.example.com"]["key"]["type"] == "ed25519"
assert defs["api.example.com"]["san"]["dns"] == ["api.example.com", "api2.example.com"]
assert defs["mail"]["provider"] == "manual"
assert defs["mail"]["subject"]["cn"] == "mail.example.com"
assert defs["0-digits.example"]["san"]["ip"] == ["192.0.2.1"]
assert defs["www.example.com"]["san"]["dns"] == ["www.example.com"]'
expect_fail 64 "unexpected argument|too many" certctl list extra

# A file that is not a definition (no .yaml) is not listed.
echo "notes" >definitions/README
ok_out out certctl list
assert_eq 4 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "lines of list with a stray file"
rm definitions/README

# --- show ----------------------------------------------------------------
for n in www.example.com api.example.com mail 0-digits.example; do
	ok_out out certctl show "$n"
	assert_eq "$(cat "definitions/$n.yaml")" "$out" "show $n"
	assert_eq "$(git show "HEAD:definitions/$n.yaml")" "$out" "show $n against git"
	ok_out out certctl show "$n" --json
	json_check "$out" "assert d['definition']['name'] == '$n', d"
done
ok_out out certctl -C "$PWD" show mail --json
json_check "$out" '
assert d["schema"] == "certctl.definition/1", d
assert d["definition"]["key"]["type"] == "rsa:4096", d'
snapshot
expect_fail 1 "no definition 'nope'|nope" certctl show nope
expect_fail 64 "missing NAME|NAME" certctl show
expect_fail 1 "invalid definition name|\.\./x" certctl show ../x
expect_fail 1 "invalid definition name|\.hidden" certctl show .hidden
assert_unchanged

# --- rm ------------------------------------------------------------------
ok_out kid certctl -q key generate
kid=$(find keys -name '*.pem' -printf '%f\n' | sed 's/\.pem$//')
n0=$(commits)
ok_out out certctl rm mail
assert_eq "mail: removed" "$out" "rm output"
assert_no_file definitions/mail.yaml
assert_eq $((n0 + 1)) "$(commits)" "commits after rm"
assert_eq "rm: mail: removed" "$(git log -1 --format=%s)" "commit subject"
assert_eq "rm" "$(git log -1 --format='%(trailers:key=Certctl-Operation,valueonly)' | sed '/^$/d')" "Certctl-Operation"
assert_eq "mail" "$(git log -1 --format='%(trailers:key=Certctl-Definition,valueonly)' | sed '/^$/d')" "Certctl-Definition"
assert_eq "D	definitions/mail.yaml" "$(git show --format= --name-status HEAD)" "what the rm commit did"
ok_out tree git ls-tree -r --name-only HEAD
assert_not_contains "$tree" "definitions/mail.yaml" "tree after rm"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after rm"
# The old content is still in history.
ok git cat-file -e HEAD~1:definitions/mail.yaml
# Keys are kept.
assert_file "keys/${kid:0:2}/$kid.pem"
assert_file "keys/${kid:0:2}/$kid.yaml"
ok_out out certctl list
assert_eq 3 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "lines of list after rm"
assert_not_contains "$(printf '%s\n' "$out" | awk '{print $1}')" "mail" "list after rm"

# rm of a missing definition: an error, nothing changes.
snapshot
expect_fail 1 "no definition 'mail'|mail" certctl rm mail
assert_unchanged
expect_fail 1 "no definition 'nothere'|nothere" certctl rm nothere
assert_unchanged
expect_fail 64 "missing NAME|NAME" certctl rm
assert_unchanged
expect_fail 64 "too many" certctl rm api.example.com www.example.com
assert_unchanged
expect_fail 1 "invalid definition name|\.\./" certctl rm ../repo/definitions/www.example.com
assert_unchanged
ok_out out certctl list --json
json_check "$out" 'assert sorted(x["name"] for x in d["definitions"]) == ["0-digits.example", "api.example.com", "www.example.com"], d'

# A removed definition can be defined again.
ok_out out certctl define mail --cn mail.example.com
assert_eq "mail: created" "$out" "define after rm"
ok_out out certctl rm mail
ok_out out certctl rm www.example.com
ok_out out certctl rm api.example.com
ok_out out certctl rm 0-digits.example
ok_out out certctl list
assert_eq "" "$out" "list after removing everything"
# git keeps an empty directory nowhere: the tree has no definitions left.
assert_eq "" "$(git ls-tree -r --name-only HEAD definitions)" "definitions in the tree"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"
ok git fsck --full --no-progress
# The whole history, newest first.
assert_eq "rm: 0-digits.example: removed
rm: api.example.com: removed
rm: www.example.com: removed
rm: mail: removed
define: mail: created
rm: mail: removed" "$(git log -6 --format=%s)" "history"

finish
