#!/bin/bash
# A certctl repository is an ordinary git repository: git fsck is clean,
# clones work (with the secret copied, or without it for everything but
# keys), changes travel through a bare remote with push and pull (merges
# included), the trailers are real git trailers, and certctl leaves the
# user's own staged and unstaged changes alone.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
SECRET=$(secret_file repo)
ok certctl -C repo -q define www.example.com
ok certctl -C repo -q define api.example.com --key rsa:2048
ok certctl -C repo -q define www.example.com --notes 'changed'
ok_out kid certctl -C repo -q key generate --key ed25519
kid=$(git -C repo log -1 --format='%(trailers:key=Certctl-Key,valueonly)' | sed '/^$/d')
assert_file "repo/keys/${kid:0:2}/$kid.pem"
ok certctl -C repo -q rm api.example.com
ok certctl -C repo -q define mail.example.com --cn mail.example.com --dns mail.example.com --check mail.example.com:25 --starttls smtp

# --- git's own view -----------------------------------------------------
ok git -C repo fsck --full --strict --no-progress
assert_eq "" "$(git -C repo fsck --full --no-progress --unreachable --dangling 2>&1)" "unreachable or dangling objects"
assert_eq "" "$(git -C repo status --porcelain --untracked-files=all)" "git status"
assert_eq 7 "$(commits repo)" "commits"
# The index agrees with HEAD: git diff --cached is empty.
ok git -C repo diff --cached --quiet
ok git -C repo diff --quiet
# Every commit has a one-line subject, a blank line, and trailers git parses.
for c in $(git -C repo rev-list HEAD); do
	subject=$(git -C repo log -1 --format=%s "$c")
	op=$(git -C repo log -1 --format='%(trailers:key=Certctl-Operation,valueonly)' "$c" | sed '/^$/d')
	assert_eq "${subject%%:*}" "$op" "Certctl-Operation of '$subject'"
	assert_match "$(git -C repo log -1 --format=%B "$c" | git interpret-trailers --parse)" "^Certctl-Operation: $op\$" \
		"git interpret-trailers of '$subject'"
	assert_eq "" "$(git -C repo log -1 --format=%B "$c" | sed -n 2p)" "line 2 of the message of '$subject'"
done
trailers=$(git -C repo log --format='%(trailers)')
assert_contains "$trailers" "Certctl-Operation: init" "git log trailers"
assert_contains "$trailers" "Certctl-Operation: define" "git log trailers"
assert_contains "$trailers" "Certctl-Operation: key" "git log trailers"
assert_contains "$trailers" "Certctl-Operation: rm" "git log trailers"
assert_contains "$trailers" "Certctl-Definition: www.example.com" "git log trailers"
assert_contains "$trailers" "Certctl-Definition: api.example.com" "git log trailers"
assert_contains "$trailers" "Certctl-Key: $kid" "git log trailers"
# git log can select by trailer, as certctl log does.
assert_eq "2" "$(git -C repo log --format=%s --grep='^Certctl-Definition: www.example.com$' | wc -l | tr -d ' ')" \
	"commits of www.example.com found by git"
# The key file is committed encrypted, as in the work tree.
assert_eq "$(git -C repo show "HEAD:keys/${kid:0:2}/$kid.pem" | sha256sum)" "$(sha256sum <"repo/keys/${kid:0:2}/$kid.pem")" "committed key"
# Modes in the tree: git records 644 for every file.
assert_eq "" "$(git -C repo ls-tree -r HEAD | awk '$1 != "100644"')" "tree entries other than 100644"

# --- a clone with the secret ------------------------------------------------
ok git clone -q repo clone
ok_out out certctl -C clone list
assert_eq "$(certctl -C repo list)" "$out" "list in the clone"
ok_out out certctl -C clone show www.example.com
assert_eq "$(cat repo/definitions/www.example.com.yaml)" "$out" "show in the clone"
ok_out out certctl -C clone key show "$kid"
assert_contains "$out" "$kid" "key show in the clone"
ok_out out certctl -C clone key export "$kid" --out "$T/from-clone.pem"
assert_eq "$kid" "$(key_id_of "$T/from-clone.pem")" "key exported from the clone"
ok_out out certctl -C clone log
assert_eq "$(certctl -C repo log)" "$out" "log in the clone"
# git does not keep modes beyond 644/755: fsck in the clone says so for the
# key, and --repair puts 0600 back.
assert_mode 644 "clone/keys/${kid:0:2}/$kid.pem"
ok_out out sh -c 'certctl() { "$CERTCTL" "$@"; }; certctl -C clone fsck; echo "exit $?"'
assert_contains "$out" "keys/${kid:0:2}/$kid.pem" "fsck of a fresh clone"
assert_contains "$out" "exit 1" "fsck of a fresh clone"
ok_out out certctl -C clone fsck --repair
assert_mode 600 "clone/keys/${kid:0:2}/$kid.pem"
assert_mode 700 clone/keys
ok_out out certctl -C clone fsck
assert_eq "" "$(git -C clone status --porcelain --untracked-files=all)" "git status in the clone after --repair"

# --- a clone without the secret ----------------------------------------------
ok git clone -q repo nosecret
mkdir -p "$T/elsewhere"
(
	export CERTCTL_SECRET_DIR=$T/elsewhere
	ok_out out certctl -C nosecret list
	assert_eq "$(certctl -C repo list)" "$out" "list without the secret"
	ok_out out certctl -C nosecret show www.example.com
	ok_out out certctl -C nosecret log
	ok_out out certctl -C nosecret key list
	assert_contains "$out" "$kid" "key list without the secret"
	snapshot nosecret
	expect_fail 1 "secret" certctl -C nosecret key show "$kid"
	assert_contains "$FAIL_MSG" "$T/elsewhere" "the message names where the secret was looked for"
	expect_fail 1 "secret" certctl -C nosecret key export "$kid" --out "$T/nosecret.pem"
	assert_no_file "$T/nosecret.pem"
	expect_fail 1 "secret" certctl -C nosecret key generate
	assert_unchanged nosecret
	# Definitions need no secret.
	ok_out out certctl -C nosecret define noskey.example.com
	assert_eq "noskey.example.com: created" "$out" "define without the secret"
	ok_out out certctl -C nosecret fsck --no-keys --repair
	# Copying the secret in makes the keys usable.
	cp "$SECRET" "$T/elsewhere/"
	ok_out out certctl -C nosecret key show "$kid"
	assert_contains "$out" "$kid" "key show once the secret is there"
) || exit 1

# --- push and pull through a bare repository ------------------------------
branch=$(git -C repo symbolic-ref --short HEAD)
ok git init -q --bare --initial-branch="$branch" hub.git
ok git -C repo remote add origin "$T/work/hub.git"
ok git -C repo push -q -u origin "$branch"
ok git clone -q hub.git second
ok_out out certctl -C second define new.example.com --dns new.example.com --dns www.new.example.com
ok_out out certctl -C second key generate --key ecdsa:P-384
kid2=$(git -C second log -1 --format='%(trailers:key=Certctl-Key,valueonly)' | sed '/^$/d')
ok git -C second push -q origin "$branch"
ok git -C repo pull -q --ff-only
ok_out out certctl -C repo list
assert_contains "$out" "new.example.com" "list after the pull"
assert_contains "$(printf '%s\n' "$out" | awk '$1 == "new.example.com"')" "www.new.example.com" "names after the pull"
ok_out out certctl -C repo show new.example.com
assert_eq "$(cat second/definitions/new.example.com.yaml)" "$out" "pulled definition"
ok_out out certctl -C repo key show "$kid2"
assert_contains "$out" "ecdsa:P-384" "pulled key"
ok_out out certctl -C repo log new.example.com
assert_contains "$out" "define: new.example.com: created" "log of the pulled definition"
assert_eq "$(git -C repo rev-parse HEAD)" "$(git -C second rev-parse HEAD)" "HEAD after the pull"
assert_eq "" "$(git -C repo status --porcelain --untracked-files=all)" "git status after the pull"
# The pulled key is 644 (git); fsck --repair restores 0600.
ok_out out certctl -C repo fsck --repair
assert_mode 600 "repo/keys/${kid2:0:2}/$kid2.pem"

# Both sides change different definitions: git merges, certctl sees both.
ok_out out certctl -C repo define left.example.com
ok_out out certctl -C second define right.example.com
ok_out out certctl -C second define www.example.com --owner 'Web <web@example.com>'
ok git -C second push -q origin "$branch"
ok git -C repo pull -q --no-rebase --no-edit
assert_eq 2 "$(git -C repo log -1 --format=%P | wc -w | tr -d ' ')" "parents of the merge"
ok_out out certctl -C repo list
for n in left.example.com right.example.com new.example.com www.example.com mail.example.com; do
	assert_contains "$(printf '%s\n' "$out" | awk '{print $1}')" "$n" "list after the merge"
done
ok grep -qF 'Web <web@example.com>' repo/definitions/www.example.com.yaml
ok_out out certctl -C repo log www.example.com
assert_contains "$out" "define: www.example.com: updated" "log through a merge"
ok_out out certctl -C repo fsck
# certctl commits on top of a merge.
ok_out out certctl -C repo define after-merge.example.com
assert_eq "$(git -C repo rev-parse HEAD~1)" "$(git -C repo log -1 --format=%P)" "parent of the commit after the merge"
ok git -C repo push -q origin "$branch"
ok git -C second pull -q --ff-only
ok_out out certctl -C second list
assert_contains "$out" "after-merge.example.com" "list in the second clone"
ok git -C hub.git fsck --full --no-progress

# --- the user's own work is left alone --------------------------------------
cd repo || fail "no repository"
echo "team readme" >README.md
git add README.md
echo "# local" >>.gitignore
n0=$(commits)
ok_out out certctl define staged.example.com
assert_eq $((n0 + 1)) "$(commits)" "commits"
assert_eq "definitions/staged.example.com.yaml" "$(git show --format= --name-only HEAD)" \
	"files of a certctl commit made with other changes staged"
status=$(git status --porcelain --untracked-files=all)
assert_contains "$status" "A  README.md" "the user's staged file"
assert_contains "$status" " M .gitignore" "the user's unstaged change"
assert_eq 2 "$(printf '%s\n' "$status" | wc -l | tr -d ' ')" "lines of git status"
git commit -q -m "readme" -- README.md
git checkout -q -- .gitignore
# A definition changed and committed with git alone is what certctl shows.
sed -i 's/^validity: .*/validity: 60d/' definitions/staged.example.com.yaml
git commit -q -am "by hand: longer validity"
ok_out out certctl show staged.example.com --json
json_check "$out" 'assert d["definition"]["validity_seconds"] == 60 * 86400, d'
# git revert of a certctl commit.
ok certctl -q rm left.example.com
ok git revert --no-edit HEAD >/dev/null
ok_out out certctl list
assert_contains "$out" "left.example.com" "list after git revert"
ok_out out certctl fsck
ok git fsck --full --no-progress
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"

finish
