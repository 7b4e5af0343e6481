#!/bin/bash
# certctl key rotate-secret: every key re-encrypted under a new repository
# secret in one commit, read back by openssl with the new secret and not
# the old; a random secret replaces the secret file, a passphrase comes
# from $CERTCTL_NEW_PASSPHRASE[_FILE]; a rotation killed between its commit
# and the secret file's rename is finished by the next command, one that
# never committed leaves the old secret in force; bad input changes nothing.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok certctl -q ca init root
ok_out out certctl -q define www.example.com
ok_out out certctl -q issue www.example.com
ok_out out certctl -q key generate
SECRET=$(secret_file)
cp "$SECRET" "$T/old.key"
keys=$(find keys -name '*.pem' | LC_ALL=C sort)
nkeys=$(printf '%s\n' "$keys" | wc -l)
assert_eq 3 "$nkeys" "keys before the rotation (CA, certificate, generated)"
# fingerprints of the public keys, to compare after
pubs() {
	local f
	for f in $keys; do
		openssl pkey -in "$f" -passin "file:$1" -pubout 2>/dev/null | sha256sum | cut -c1-16
	done
}
before=$(pubs "$T/old.key")

# --- a random secret ----------------------------------------------------------------------
C0=$(commits)
ok_out out certctl key rotate-secret
assert_match "$out" "^3 keys re-encrypted; the new secret is in $SECRET " "rotate-secret output"
assert_eq $((C0 + 1)) "$(commits)" "commits of rotate-secret"
assert_eq "key rotate-secret" "$(trailer Certctl-Operation)" "Certctl-Operation"
assert_eq "$(printf '%s\n' .certctl/config.yaml $keys | LC_ALL=C sort)" \
	"$(git show --format= --name-only HEAD | LC_ALL=C sort)" "files of the rotate-secret commit"
assert_mode 600 "$SECRET"
assert_no_file "$SECRET.new"
_count
cmp -s "$SECRET" "$T/old.key" && fail "the secret file did not change"
# The same keys, opened by openssl with the new secret only.
assert_eq "$before" "$(pubs "$SECRET")" "the keys under the new secret"
for f in $keys; do
	_count
	openssl pkey -in "$f" -passin "file:$T/old.key" -noout 2>/dev/null &&
		fail "the old secret still opens $f"
	assert_mode 600 "$f"
done
# Only the keystore's salt and check changed in the configuration.
assert_eq "2" "$(git diff HEAD~1 HEAD -- .certctl/config.yaml | grep -c '^+  ')" \
	"configuration lines changed"
ok_out out certctl fsck
assert_contains "$out" "0 errors, 0 warnings" "fsck after the rotation"
ok_out out certctl -q issue www.example.com
assert_eq "" "$(git status --porcelain)" "git status"
# The old secret is refused now, before anything is decrypted.
CERTCTL_PASSPHRASE_FILE=$T/old.key expect_fail 1 "wrong repository secret" certctl key export \
	"$(basename "${keys%%$'\n'*}" .pem)" --out "$T/x.pem"

# --- a passphrase from the environment ------------------------------------------------------------
printf 'correct horse battery staple\n' >"$T/pass"
keys=$(find keys -name '*.pem' | LC_ALL=C sort)
before=$(pubs "$SECRET")
CERTCTL_NEW_PASSPHRASE_FILE=$T/pass ok_out out certctl key rotate-secret --json
json_check "$out" "
assert d['schema'] == 'certctl.key-rotate-secret/1', d
assert d['keys'] == $(printf '%s\n' "$keys" | wc -l) and d['secret_file'] is None, d
"
ok grep -qE '^  secret: passphrase$' .certctl/config.yaml
assert_eq "$before" "$(pubs "$T/pass")" "the keys under the passphrase"
CERTCTL_PASSPHRASE_FILE=$T/pass ok certctl -q issue www.example.com
# Without it, the secret file (the last random secret) is wrong now.
expect_fail 1 "wrong repository secret" certctl -q issue www.example.com
# Back to a random secret file.
CERTCTL_PASSPHRASE_FILE=$T/pass ok_out out certctl key rotate-secret
ok grep -qE '^  secret: file$' .certctl/config.yaml
ok certctl -q issue www.example.com

# --- interrupted rotations ---------------------------------------------------------------------------
# Killed after the commit, before the rename: the new secret waits in
# ID.key.new, the old one is still ID.key; the next command finishes.
cp "$SECRET" "$T/new.key"
mv "$SECRET" "$SECRET.new"
cp "$T/old.key" "$SECRET"
ok certctl -q issue www.example.com
assert_no_file "$SECRET.new"
ok cmp -s "$SECRET" "$T/new.key"
# Killed before the commit: the ID.key.new of a rotation that never
# happened is dropped and the secret in force stays.
cp "$T/old.key" "$SECRET.new"
ok certctl -q issue www.example.com
assert_no_file "$SECRET.new"
ok cmp -s "$SECRET" "$T/new.key"

# --- bad input -----------------------------------------------------------------------------------------
snapshot
printf 'short\n' >"$T/short"
CERTCTL_NEW_PASSPHRASE_FILE=$T/short expect_fail 1 "shorter than 8 characters" certctl key rotate-secret
CERTCTL_NEW_PASSPHRASE_FILE=$T/missing expect_fail 1 "cannot read the secret" certctl key rotate-secret
CERTCTL_PASSPHRASE_FILE=$T/old.key expect_fail 1 "wrong repository secret" certctl key rotate-secret
expect_fail 64 "unexpected argument" certctl key rotate-secret now
assert_unchanged
ok cmp -s "$SECRET" "$T/new.key"

finish
