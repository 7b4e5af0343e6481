#!/bin/bash
# certctl init, repository discovery (cwd, subdirectory, -C, $CERTCTL_DIR),
# version, unknown commands and every command's --help.
. "$(dirname "$0")/lib.sh"

# --- init creates a git repository with the config and one commit ---------
ok_out out certctl init repo
assert_file repo/.certctl/config.yaml
assert_file repo/.gitignore
ok test -d repo/.git
assert_eq "true" "$(git -C repo rev-parse --is-inside-work-tree)" "git sees a work tree"
assert_eq "init: certificate repository created" "$(git -C repo log --format=%s)" "the only commit"
assert_eq "init" "$(git -C repo log -1 --format='%(trailers:key=Certctl-Operation,valueonly)' | sed '/^$/d')" \
	"Certctl-Operation trailer"
tracked=$(git -C repo ls-tree -r --name-only HEAD)
assert_contains "$tracked" ".certctl/config.yaml" "tracked files"
assert_contains "$tracked" ".gitignore" "tracked files"
assert_eq "" "$(git -C repo status --porcelain --untracked-files=all)" "git status after init"
ok grep -qxF '*.tmp-*' repo/.gitignore
ok grep -qE '^format: 1$' repo/.certctl/config.yaml
ok grep -qE '^  secret: file$' repo/.certctl/config.yaml
id=$(sed -n 's/^id: *//p' repo/.certctl/config.yaml)
assert_match "$id" '^[0-9a-f]{16,}$' "repository id"

# The random secret is outside the repository, 0600, and init says where.
secret=$CERTCTL_SECRET_DIR/$id.key
assert_file "$secret"
assert_mode 600 "$secret"
assert_contains "$out" "$secret" "init output"
ok test -s "$secret"
assert_eq "" "$(git -C repo cat-file --batch-all-objects --batch | grep -F -- "$(head -n 1 "$secret")")" \
	"the secret in a git object"
assert_eq "" "$(grep -rlF --exclude-dir=.git -- "$(head -n 1 "$secret")" repo)" "the secret in the work tree"
ok git -C repo fsck --full --no-progress

# --- init a second time refuses and changes nothing ----------------------
snapshot repo
secrets_before=$(ls -A "$CERTCTL_SECRET_DIR" | LC_ALL=C sort)
expect_fail 1 'already' certctl init repo
assert_unchanged repo
assert_eq "$secrets_before" "$(ls -A "$CERTCTL_SECRET_DIR" | LC_ALL=C sort)" "secret directory"
(cd repo && expect_fail 1 'already' certctl init) || exit 1
assert_unchanged repo
assert_eq "$secrets_before" "$(ls -A "$CERTCTL_SECRET_DIR" | LC_ALL=C sort)" "secret directory"

# --- init with a passphrase from the environment writes no secret --------
CERTCTL_PASSPHRASE='correct horse battery staple' ok_out out certctl init pass
ok grep -qE '^  secret: passphrase$' pass/.certctl/config.yaml
assert_eq "$secrets_before" "$(ls -A "$CERTCTL_SECRET_DIR" | LC_ALL=C sort)" "secret directory after a passphrase init"
assert_eq "init: certificate repository created" "$(git -C pass log --format=%s)" "commit of the passphrase repository"
# The passphrase is really the key-encryption secret: openssl agrees.
CERTCTL_PASSPHRASE='correct horse battery staple' ok_out kid certctl -C pass -q key generate --key ecdsa:P-256
kid=$(find pass/keys -name '*.pem' -printf '%f\n' | sed 's/\.pem$//')
assert_match "$kid" '^[0-9a-f]{16}$' "key id"
ok openssl pkey -in "pass/keys/${kid:0:2}/$kid.pem" -passin 'pass:correct horse battery staple' -noout
# ... and without the passphrase the repository cannot unlock its keys.
expect_fail 1 'secret|passphrase' certctl -C pass key generate

# A passphrase file takes the same role.
printf 'from a file\n' >"$T/pass.txt"
CERTCTL_PASSPHRASE_FILE=$T/pass.txt ok_out out certctl init passfile
ok grep -qE '^  secret: passphrase$' passfile/.certctl/config.yaml
assert_eq "$secrets_before" "$(ls -A "$CERTCTL_SECRET_DIR" | LC_ALL=C sort)" "secret directory after a passphrase-file init"

# --- without CERTCTL_SECRET_DIR the secret goes under XDG_CONFIG_HOME, then HOME
(
	unset CERTCTL_SECRET_DIR
	ok_out out certctl init xdg
	xid=$(sed -n 's/^id: *//p' xdg/.certctl/config.yaml)
	assert_file "$XDG_CONFIG_HOME/certctl/secrets/$xid.key"
	assert_mode 600 "$XDG_CONFIG_HOME/certctl/secrets/$xid.key"
	unset XDG_CONFIG_HOME
	export HOME=$T/home2
	mkdir -p "$HOME"
	ok_out out certctl init home
	hid=$(sed -n 's/^id: *//p' home/.certctl/config.yaml)
	assert_file "$HOME/.config/certctl/secrets/$hid.key"
	assert_mode 600 "$HOME/.config/certctl/secrets/$hid.key"
) || exit 1

# --- init --json --------------------------------------------------------
ok_out out certctl init --json jsonrepo
json_check "$out" '
assert d["schema"] == "certctl.init/1", d
assert d["path"].rstrip("/").endswith("/jsonrepo"), d
assert d["secret"] == "file", d
import re; assert re.fullmatch("[0-9a-f]{16,}", d["id"]), d'
assert_eq "$(sed -n 's/^id: *//p' jsonrepo/.certctl/config.yaml)" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" "id in JSON and config"

# init with -C and with $CERTCTL_DIR
ok_out out certctl -C viaC init
assert_file viaC/.certctl/config.yaml
CERTCTL_DIR=$PWD/viaenv ok_out out certctl init
assert_file viaenv/.certctl/config.yaml

# --- discovery ----------------------------------------------------------
ok_out out certctl -C repo define www.example.com
assert_eq "www.example.com: created" "$out" "define output"
mkdir -p repo/deep/er/still
(cd repo/deep/er/still && ok_out out certctl list && assert_contains "$out" "www.example.com" "list from a subdirectory") || exit 1
ok_out out certctl -C repo list
assert_contains "$out" "www.example.com" "list with -C"
ok_out out certctl -Crepo list
assert_contains "$out" "www.example.com" "list with -CDIR"
CERTCTL_DIR=$PWD/repo ok_out out certctl list
assert_contains "$out" "www.example.com" "list with CERTCTL_DIR"
# -C wins over CERTCTL_DIR.
CERTCTL_DIR=$PWD/pass ok_out out certctl -C repo list
assert_contains "$out" "www.example.com" "-C over CERTCTL_DIR"

# Outside any repository: a clear error, exit 1.
mkdir -p outside
(cd outside && expect_fail 1 'not in a certctl repository' certctl list) || exit 1
expect_fail 1 'certctl repository|outside|not' certctl -C outside list
expect_fail 1 'outside/nonexistent|no such|not' certctl -C outside/nonexistent list
# A plain git repository is not a certctl repository.
ok git init -q plaingit
expect_fail 1 'not .*certctl repository|not a certctl' certctl -C plaingit list

# --- version -------------------------------------------------------------
ok_out v1 certctl --version
assert_match "$v1" '^certctl [0-9]+\.[0-9]+\.[0-9]+' "--version"
ok_out v2 certctl version
assert_eq "$v1" "$v2" "version and --version"
expect_fail 64 'unexpected argument' certctl version extra

# --- unknown commands and options ---------------------------------------
expect_fail 64 "did you mean 'list'" certctl lsit
expect_fail 64 "did you mean 'define'" certctl defien
expect_fail 64 "'frobnicate' is not a certctl command" certctl frobnicate
assert_not_contains "$FAIL_MSG" "did you mean" "message for a word far from any command"
expect_fail 64 "did you mean 'list'" certctl key lsit
expect_fail 64 "unknown option '--bogus'" certctl -C repo list --bogus
expect_fail 64 "did you mean '--json'" certctl -C repo list --jsno
expect_fail 64 "unknown global option|unknown option" certctl --bogus list
expect_fail 64 "needs" certctl -C
expect_fail 64 "missing|NAME" certctl -C repo define
expect_fail 64 "needs a value" certctl -C repo define x.example.com --cn
ok_out out certctl --help
for o in -C -q --quiet -v --verbose --version -h --help init define show list rm key log fsck help version; do
	assert_contains "$out" "$o" "certctl --help"
done
# No command at all: the usage, on stderr, exit 64.
certctl >"$T/o" 2>"$T/e"
assert_eq 64 "$?" "exit status without a command"
assert_contains "$(cat "$T/e")" "usage: certctl" "stderr without a command"

# The repositories made here are sound for git.
for r in repo pass passfile jsonrepo viaC viaenv; do
	ok git -C "$r" fsck --full --no-progress
	assert_eq "" "$(git -C "$r" status --porcelain --untracked-files=all)" "git status in $r"
done

# --- every command's --help: exit 0, usage, every option of the spec, and
# nothing else done (run in an empty directory and in a repository).
help_check() {
	# help_check "COMMAND [VERB]" OPTION...
	local cmd=$1 out o
	shift
	rm -rf "$T/helpdir" && mkdir "$T/helpdir"
	# shellcheck disable=SC2086
	out=$(cd "$T/helpdir" && certctl $cmd --help 2>"$T/help.err")
	local rc=$?
	_count
	[ "$rc" -eq 0 ] || fail "'certctl $cmd --help' exited $rc: $(cat "$T/help.err")"
	assert_eq "" "$(cat "$T/help.err")" "stderr of 'certctl $cmd --help'"
	assert_match "$out" "^usage: certctl $cmd" "'certctl $cmd --help'"
	for o in "$@"; do
		assert_contains "$out" "$o" "'certctl $cmd --help'"
	done
	assert_contains "$out" "--help" "'certctl $cmd --help'"
	assert_eq "" "$(ls -A "$T/helpdir")" "files made by 'certctl $cmd --help'"
	# -h is the same as --help.
	# shellcheck disable=SC2086
	assert_eq "$out" "$(cd "$T/helpdir" && certctl $cmd -h 2>/dev/null)" "'certctl $cmd -h'"
	# In a repository, --help must not act either, even with operands.
	snapshot repo
	# shellcheck disable=SC2086
	(cd repo && certctl $cmd www.example.com --help >/dev/null 2>&1)
	rc=$?
	_count
	[ "$rc" -eq 0 ] || fail "'certctl $cmd www.example.com --help' exited $rc"
	assert_unchanged repo
}
help_check init --json
help_check define --from --clone --cn --org --ou --locality --state --country --email \
	--dns --ip --san-email --uri --key --reuse-key --no-reuse-key --provider --ca --profile \
	--product --validation --validity --renew-before --trust-set --mode --process --check \
	--sni --starttls --monitor --no-monitor --warning --critical --requester --owner --notes \
	--description --create --update --json
help_check show --json
help_check list --json
help_check rm
help_check log -n --json
help_check fsck --repair --no-keys --json
help_check "key list" --json
help_check "key show" --json
help_check "key generate" --key --json
help_check "key import" --passphrase-file
help_check "key export" --out --encrypt --passphrase-file --force
help_check help
help_check version
ok_out out certctl key --help
for v in list show generate import export; do
	assert_contains "$out" "$v" "certctl key --help"
done

# certctl help COMMAND shows that command's help (no man page without a tty).
for c in init define show list rm key log fsck help version; do
	snapshot repo
	out=$(cd repo && certctl help "$c" 2>"$T/help.err")
	rc=$?
	_count
	[ "$rc" -eq 0 ] || fail "'certctl help $c' exited $rc: $(cat "$T/help.err")"
	assert_eq "" "$(cat "$T/help.err")" "stderr of 'certctl help $c'"
	assert_contains "$out" "certctl $c" "'certctl help $c'"
	assert_unchanged repo
done
expect_fail 64 "^certctl: no manual for 'nope'\$" certctl help nope

finish
