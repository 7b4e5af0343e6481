#!/bin/bash
# certctl fsck: a clean repository passes; damage made by hand (bad YAML,
# key modes, clear-text keys in the work tree or in git objects, a journal
# left by a dead process, a wrong secret, metadata that does not match its
# key) is reported with exit 1, and --repair fixes what it can.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
SECRET=$(secret_file)
ok certctl -q define www.example.com
ok certctl -q define api.example.com --notes 'the API'
ok_out kid certctl -q key generate
kid=$(find keys -name '*.pem' -printf '%f\n' | sed 's/\.pem$//')
assert_match "$kid" '^[0-9a-f]{16}$' "key id"

# fsck_expect EXIT [ARGS...]: run fsck, check its exit status and that it
# wrote nothing on stderr; its output is in FSCK.
FSCK=
fsck_expect() {
	local want=$1 rc
	shift
	_count
	FSCK=$(certctl fsck "$@" 2>"$T/fsck.err")
	rc=$?
	[ "$rc" = "$want" ] || fail "fsck $*: expected exit $want, got $rc:
$FSCK
$(cat "$T/fsck.err")"
	[ ! -s "$T/fsck.err" ] || fail "fsck $* wrote on stderr: $(cat "$T/fsck.err")"
}

# --- clean --------------------------------------------------------------
snapshot
fsck_expect 0
assert_match "$FSCK" '0 errors' "fsck of a clean repository"
fsck_expect 0 --repair
fsck_expect 0 --no-keys
fsck_expect 0 --json
json_check "$FSCK" '
assert d["schema"] == "certctl.fsck/1", d
assert d["clean"] is True, d
assert d["problems"] == [], d
assert d["counts"]["definitions"] == 2 and d["counts"]["keys"] == 1, d
assert d["counts"]["errors"] == 0, d'
assert_unchanged
ok git fsck --full --no-progress
expect_fail 64 "unexpected argument" certctl fsck extra

# --- a definition made into bad YAML by hand -------------------------------
def=definitions/api.example.com.yaml
cp "$def" "$T/saved.yaml"
printf 'description: [unclosed\nmode: lifecycle\n' >"$def"
fsck_expect 1
assert_match "$FSCK" "definitions/api\.example\.com\.yaml:[0-9]+:[0-9]+" "fsck naming file:line:column"
assert_not_contains "$FSCK" "www.example.com" "fsck of one bad definition"
fsck_expect 1 --json
json_check "$FSCK" '
assert d["clean"] is False, d
p = [x for x in d["problems"] if "api.example.com.yaml" in x["path"]]
assert len(p) == 1 and p[0]["severity"] == "error", d
assert d["counts"]["errors"] >= 1, d'
# --repair does not touch a definition edited by hand (nothing interrupted).
fsck_expect 1 --repair
assert_eq "$(printf 'description: [unclosed\nmode: lifecycle\n')" "$(cat "$def")" "hand-edited definition after --repair"
# An unknown key and a bad value are problems too, with their position.
printf 'subject:\n  cn: api.example.com\ncolour: blue\n' >"$def"
fsck_expect 1
assert_match "$FSCK" "api\.example\.com\.yaml:3:[0-9]+" "fsck of an unknown key"
assert_contains "$FSCK" "colour" "fsck of an unknown key"
printf 'subject:\n  cn: api.example.com\n  c: de\n' >"$def"
fsck_expect 1
assert_match "$FSCK" "api\.example\.com\.yaml:3:[0-9]+" "fsck of a bad country"
cp "$T/saved.yaml" "$def"
fsck_expect 0

# --- key file modes -------------------------------------------------------
chmod 644 "keys/${kid:0:2}/$kid.pem"
fsck_expect 1
assert_contains "$FSCK" "keys/${kid:0:2}/$kid.pem" "fsck of a 644 key"
assert_match "$FSCK" "644|mode|permission" "fsck of a 644 key"
assert_match "$FSCK" "warning" "fsck of a 644 key"
fsck_expect 0 --repair
assert_mode 600 "keys/${kid:0:2}/$kid.pem"
fsck_expect 0
chmod 755 keys
fsck_expect 1
assert_contains "$FSCK" "keys" "fsck of a 755 keys directory"
fsck_expect 0 --repair
assert_mode 700 keys
assert_mode 600 "keys/${kid:0:2}/$kid.pem"

# --- a clear-text private key in the work tree --------------------------------
openssl genpkey -algorithm ed25519 -out stray.pem
fsck_expect 1
assert_contains "$FSCK" "stray.pem" "fsck of a clear-text key"
assert_match "$FSCK" "clear|plain|unencrypted" "fsck of a clear-text key"
# Also deeper, under any name, in any of the formats openssl writes.
rm stray.pem
mkdir -p notes/old
openssl genrsa -traditional 2048 2>/dev/null >notes/old/backup.txt
fsck_expect 1
assert_contains "$FSCK" "notes/old/backup.txt" "fsck of a PKCS#1 key"
rm notes/old/backup.txt
openssl ecparam -genkey -name prime256v1 -noout >notes/old/ec.txt
fsck_expect 1
assert_contains "$FSCK" "notes/old/ec.txt" "fsck of a SEC1 key"
rm -r notes
# An ignored file is in the work tree too.
openssl genpkey -algorithm ed25519 -out leaked.tmp-1
fsck_expect 1
assert_contains "$FSCK" "leaked.tmp-1" "fsck of an ignored clear-text key"
rm leaked.tmp-1
fsck_expect 0

# --- a clear-text key committed with git, then removed --------------------
openssl genpkey -algorithm ed25519 -out oops.pem
blob=$(git hash-object oops.pem)
git add oops.pem
git commit -q -m "add a key by mistake"
git rm -q oops.pem
git commit -q -m "remove it again"
assert_no_file oops.pem
ok git cat-file -e "$blob"
fsck_expect 1
assert_contains "$FSCK" "$blob" "fsck of a key in a git object"
assert_match "$FSCK" "clear|plain|unencrypted" "fsck of a key in a git object"
# --repair cannot rewrite history; the problem stays.
fsck_expect 1 --repair
assert_contains "$FSCK" "$blob" "fsck --repair of a key in a git object"
ok git cat-file -e "$blob"
# Only a rewrite of the history and a prune get rid of it.
git reset -q --hard HEAD~2
git reflog expire --expire=now --all
git gc -q --prune=now
_count
git cat-file -e "$blob" 2>/dev/null && fail "the blob survived gc"
fsck_expect 0

# --- a journal left by a dead process ---------------------------------------
www=definitions/www.example.com.yaml
committed=$(git show "HEAD:$www")
printf 'notes: edited by a process that died\n' >>"$www"
ok test -d .git/certctl
printf '%s\n' "$www" >.git/certctl/journal
fsck_expect 1
assert_contains "$FSCK" "journal" "fsck of an interrupted operation"
assert_match "$FSCK" "interrupt" "fsck of an interrupted operation"
# fsck alone changes nothing.
assert_file .git/certctl/journal
assert_contains "$(cat "$www")" "edited by a process that died" "definition before --repair"
fsck_expect 0 --repair
assert_contains "$FSCK" "journal" "fsck --repair of an interrupted operation"
assert_eq "$committed" "$(cat "$www")" "definition rolled back to the committed content"
assert_no_file .git/certctl/journal
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after the roll-back"
fsck_expect 0
# A path the dead process created is removed by the roll-back; a deleted
# one comes back.
printf 'subject:\n  cn: half.example.com\n' >definitions/half.yaml
rm definitions/api.example.com.yaml
printf '%s\n%s\n' definitions/half.yaml definitions/api.example.com.yaml >.git/certctl/journal
fsck_expect 1
fsck_expect 0 --repair
assert_no_file definitions/half.yaml
assert_eq "$(git show HEAD:definitions/api.example.com.yaml)" "$(cat definitions/api.example.com.yaml)" "restored definition"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after the roll-back"
# The next writing command also rolls an interrupted operation back.
printf 'notes: half-written\n' >>"$www"
printf '%s\n' "$www" >.git/certctl/journal
n0=$(commits)
ok_out out certctl define other.example.com
assert_no_file .git/certctl/journal
assert_eq "$committed" "$(cat "$www")" "definition rolled back by the next command"
assert_eq $((n0 + 1)) "$(commits)" "commits after the next command"
assert_eq "definitions/other.example.com.yaml" "$(git show --format= --name-only HEAD)" "files of the next commit"
fsck_expect 0

# --- key metadata that does not match the key ---------------------------------
meta=keys/${kid:0:2}/$kid.yaml
cp "$meta" "$T/meta.yaml"
sed -i 's/^fingerprint: ./fingerprint: 0/' "$meta"
if [ "$(head -c 1 <<<"$kid")" = 0 ]; then sed -i 's/^fingerprint: ./fingerprint: 1/' "$meta"; fi
fsck_expect 1
assert_contains "$FSCK" "keys/${kid:0:2}/$kid" "fsck of a wrong fingerprint"
cp "$T/meta.yaml" "$meta"
fsck_expect 0
# The .pem is gone: the metadata points at nothing.
mv "keys/${kid:0:2}/$kid.pem" "$T/key.pem"
fsck_expect 1
assert_contains "$FSCK" "$kid" "fsck of a missing key file"
mv "$T/key.pem" "keys/${kid:0:2}/$kid.pem"
fsck_expect 0
# Another key's file in its place.
ok_out kid2 certctl -q key generate --key ed25519
kid2=$(git log -1 --format='%(trailers:key=Certctl-Key,valueonly)' | sed '/^$/d')
cp "keys/${kid:0:2}/$kid.pem" "$T/key.pem"
cp "keys/${kid2:0:2}/$kid2.pem" "keys/${kid:0:2}/$kid.pem"
fsck_expect 1
assert_contains "$FSCK" "$kid" "fsck of a swapped key file"
cp "$T/key.pem" "keys/${kid:0:2}/$kid.pem"
fsck_expect 0
# A corrupt key file.
printf -- '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n' >"keys/${kid:0:2}/$kid.pem"
fsck_expect 1
assert_contains "$FSCK" "$kid" "fsck of a corrupt key file"
cp "$T/key.pem" "keys/${kid:0:2}/$kid.pem"
fsck_expect 0

# --- the wrong secret: keys cannot be checked; --no-keys does not try -------
snapshot
cp "$SECRET" "$T/secret.saved"
CERTCTL_PASSPHRASE=wrong fsck_expect 1
assert_match "$FSCK" "secret|passphrase" "fsck with a wrong secret"
assert_match "$FSCK" "key" "fsck with a wrong secret"
CERTCTL_PASSPHRASE=wrong fsck_expect 0 --no-keys
printf 'not the secret\n' >"$SECRET"
fsck_expect 1
assert_match "$FSCK" "secret" "fsck with a wrong secret file"
fsck_expect 0 --no-keys
rm "$SECRET"
fsck_expect 1
assert_match "$FSCK" "secret" "fsck without a secret"
fsck_expect 0 --no-keys
cp "$T/secret.saved" "$SECRET"
chmod 600 "$SECRET"
fsck_expect 0
assert_unchanged

# --- git objects damaged --------------------------------------------------
# A loose object of the current tree made unreadable.
obj=$(git rev-parse HEAD:definitions/other.example.com.yaml)
objfile=.git/objects/${obj:0:2}/${obj:2}
if [ -f "$objfile" ]; then
	cp "$objfile" "$T/obj.saved"
	chmod u+w "$objfile"
	printf 'garbage' >"$objfile"
	fsck_expect 1
	assert_match "$FSCK" "$obj|object" "fsck of a corrupt object"
	cp "$T/obj.saved" "$objfile"
	fsck_expect 0
else
	skip "the newest blob is packed; corrupting a loose object is not possible"
fi

# --- references -------------------------------------------------------------
# A definition naming a provider the configuration does not have.
cp "$www" "$T/www.saved"
sed -i 's/^provider: builtin$/provider: nosuch/' "$www"
ok grep -qxF 'provider: nosuch' "$www"
fsck_expect 1
assert_contains "$FSCK" "nosuch" "fsck of an unknown provider"
cp "$T/www.saved" "$www"

# --- metadata that lies about the key type -----------------------------------
sed -i 's/^type: .*/type: rsa:2048/' "$meta"
fsck_expect 1
assert_contains "$FSCK" "keys/${kid:0:2}/$kid" "fsck of a wrong key type in the metadata"
cp "$T/meta.yaml" "$meta"
fsck_expect 0

# --- acquisition requests -------------------------------------------------------
ok_out out certctl define req-a.example.com --provider manual
ok_out out certctl define req-b.example.com --provider manual
ok_out out certctl acquire req-a.example.com
ok_out out certctl acquire req-b.example.com
fsck_expect 0
assert_contains "$FSCK" "2 requests" "fsck counts the requests"
ra=$(ls requests/req-a.example.com/*.yaml)
rb_csr=$(ls requests/req-b.example.com/*.csr)
cp "$ra" "$T/ra.saved"
cp "$rb_csr" "$T/rb.csr"
sed -i 's/^state: .*/state: bogus/' "$ra"
fsck_expect 1
assert_contains "$FSCK" "invalid request state 'bogus'" "fsck of a bad request state"
cp "$T/ra.saved" "$ra"
cp requests/req-a.example.com/*.csr "$rb_csr"
fsck_expect 1
assert_contains "$FSCK" "its CSR is not for its key" "fsck of a request whose CSR has another key"
cp "$T/rb.csr" "$rb_csr"
fsck_expect 0

assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"
finish
