#!/bin/bash
# Bad input of every kind gets one clear line on stderr ("certctl: ..."),
# naming FILE:LINE:COLUMN or the field and value, exit status 1 (64 for
# usage errors), and leaves the repository exactly as it was.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok certctl -q define www.example.com --notes 'before'
ok_out kid certctl -q key generate
snapshot

# bad_yaml NAME LINE:COLUMN ERE TEXT: define --from a file holding TEXT fails
# naming FILE:LINE:COLUMN and matching ERE; nothing changes.
bad_yaml() {
	local name=$1 pos=$2 pattern=$3 file=$T/$1.yaml
	printf '%b' "$4" >"$file"
	expect_fail 1 "$pattern" certctl define from-file --from "$file"
	assert_match "$FAIL_MSG" "^certctl: $file:$pos: " "message for $name"
	assert_unchanged
	# Over an existing definition too.
	expect_fail 1 "$pattern" certctl define www.example.com --from "$file"
	assert_match "$FAIL_MSG" "^certctl: $file:$pos: " "message for $name"
	assert_unchanged
}

# --- malformed and invalid YAML through --from ---------------------------------
bad_yaml unclosed 3:1 "expected|\]" 'subject:\n  cn: [www.example.com\n'
bad_yaml unclosed-map 2:1 "expected|\}" 'subject: {cn: www.example.com\n'
bad_yaml bad-indent 3:[0-9]+ "." 'subject:\n  cn: www.example.com\n o: x\n'
bad_yaml tab 2:[0-9]+ "tab|character|found" 'subject:\n\tcn: www.example.com\n'
bad_yaml unknown-key 3:[0-9]+ "unknown key 'colour'" 'subject:\n  cn: www.example.com\ncolour: blue\n'
bad_yaml unknown-nested-key 3:[0-9]+ "unknown key 'common_name'" 'subject:\n  cn: www.example.com\n  common_name: x\n'
bad_yaml subject-list 2:3 "subject" 'subject:\n  - cn\n  - www.example.com\n'
bad_yaml dns-scalar 4:[0-9]+ "dns|list|sequence" 'subject:\n  cn: www.example.com\nsan:\n  dns: {a: b}\n'
bad_yaml port-string 5:11 "port|number|integer" 'subject:\n  cn: www.example.com\nchecks:\n  - host: www.example.com\n    port: https\n'
bad_yaml bad-dns 4:[0-9]+ "bad name" 'subject:\n  cn: www.example.com\nsan:\n  dns: [www.example.com, bad name]\n'
bad_yaml bad-ip 4:[0-9]+ "1\.2\.3" 'subject:\n  cn: www.example.com\nsan:\n  ip: [1.2.3]\n'
bad_yaml bad-country 3:6 "'de'" 'subject:\n  cn: www.example.com\n  c: de\n'
bad_yaml rsa1024 4:9 "1024" 'subject:\n  cn: www.example.com\nkey:\n  type: rsa:1024\n'
bad_yaml port70000 5:11 "70000" 'subject:\n  cn: www.example.com\nchecks:\n  - host: www.example.com\n    port: 70000\n'
bad_yaml port0 5:11 "0|port" 'subject:\n  cn: www.example.com\nchecks:\n  - host: www.example.com\n    port: 0\n'
bad_yaml warning-critical 4:[0-9]+ "critical|warning" 'subject:\n  cn: www.example.com\nmonitor:\n  warning: 5d\n  critical: 10d\n'
bad_yaml bad-duration 3:11 "forever" 'subject:\n  cn: www.example.com\nvalidity: forever\n'
bad_yaml bad-mode 1:7 "sometimes" 'mode: sometimes\nsubject:\n  cn: www.example.com\n'
bad_yaml duplicate 3:1 "duplicate|subject" 'subject:\n  cn: www.example.com\nsubject:\n  cn: y.example.com\n'
bad_yaml nothing 1:1 "nothing|cn|san" ''
bad_yaml control 1:1 "control" 'subject:\n  cn: \001www\n'

# --- bad values through flags ------------------------------------------------
flag_fail() {
	# flag_fail ERE ARGS...: define with ARGS fails with exit 1, nothing changes.
	local pattern=$1
	shift
	expect_fail 1 "$pattern" certctl define new.example.com "$@"
	assert_unchanged
	expect_fail 1 "$pattern" certctl define www.example.com "$@"
	assert_unchanged
}
flag_fail "DNS name 'bad name'|'bad name'" --dns 'bad name'
flag_fail "'-bad\.example\.com'" --dns '-bad.example.com'
flag_fail "'a\.\.b'" --dns 'a..b'
flag_fail "IP address '300\.1\.1\.1'|'300\.1\.1\.1'" --ip 300.1.1.1
flag_fail "'nonsense'" --ip nonsense
flag_fail "'2001:db8::g'" --ip 2001:db8::g
flag_fail "country.*'de'|'de'.*country" --country de
flag_fail "'DEU'" --country DEU
flag_fail "1024" --key rsa:1024
flag_fail "P-521|curve" --key ecdsa:P-521
flag_fail "'dsa'" --key dsa
flag_fail "70000" --check host.example.com:70000
flag_fail "port|'0'|:0" --check host.example.com:0
flag_fail "'\[::1'|endpoint" --check '[::1'
flag_fail "critical.*warning|warning.*critical" --warning 5d --critical 10d
flag_fail "'forever'" --validity forever
flag_fail "'10x'" --renew-before 10x
flag_fail "'bogus'" --mode bogus
flag_fail "'sometimes'" --process sometimes
flag_fail "'x'" --profile x
flag_fail "'xv'" --validation xv
flag_fail "'gopher'" --check h.example.com --starttls gopher
flag_fail "'not an email'" --san-email 'not an email'
flag_fail "'not a uri'" --uri 'not a uri'
flag_fail "renew|validity" --validity 10d --renew-before 20d
# Usage errors: exit 64, nothing changes.
expect_fail 64 "needs a value|--dns" certctl define new.example.com --dns
assert_unchanged
expect_fail 64 "unknown option '--colour'" certctl define new.example.com --colour blue
assert_unchanged
expect_fail 64 "did you mean '--country'" certctl define new.example.com --contry DE
assert_unchanged
expect_fail 64 "too many" certctl define a.example.com b.example.com
assert_unchanged
expect_fail 64 "missing NAME|NAME" certctl define
assert_unchanged
expect_fail 1 "nope\.yaml" certctl define new.example.com --from "$T/nope.yaml"
assert_unchanged

# --- bad definition names ------------------------------------------------------
for name in ../x a/b .hidden '' ../../etc/passwd 'a b' 'x;rm' '-x' "$(printf 'a\tb')"; do
	if [ "$name" = -x ]; then
		# An option-like name is an unknown option: a usage error.
		for c in define show rm; do
			expect_fail 64 "'-x'" certctl "$c" -x
		done
		assert_unchanged
		continue
	fi
	expect_fail 1 "name" certctl define "$name" --cn x.example.com
	assert_unchanged
	expect_fail 1 "name" certctl show "$name"
	expect_fail 1 "name" certctl rm "$name"
	assert_unchanged
done
assert_no_file "$T/x.yaml"
assert_no_file "$T/work/x.yaml"
assert_no_file "$T/work/definitions/x.yaml"

# --- the wrong secret ---------------------------------------------------------
CERTCTL_PASSPHRASE=wrong expect_fail 1 "wrong repository secret|secret" certctl key generate
assert_unchanged
printf 'wrong\n' >"$T/wrong.pass"
CERTCTL_PASSPHRASE_FILE=$T/wrong.pass expect_fail 1 "wrong repository secret|secret" certctl key generate
assert_unchanged
openssl genpkey -algorithm ed25519 -out "$T/import.pem"
CERTCTL_PASSPHRASE=wrong expect_fail 1 "secret" certctl key import "$T/import.pem"
assert_unchanged
# The secret file itself garbled.
SECRET=$(secret_file)
cp "$SECRET" "$T/secret.saved"
printf 'garbled\n' >"$SECRET"
expect_fail 1 "secret" certctl key generate
assert_unchanged
cp "$T/secret.saved" "$SECRET"

# --- no repository ------------------------------------------------------------
expect_fail 1 "nothere" certctl -C "$T/nothere" list
expect_fail 1 "nothere" certctl -C "$T/nothere" define x.example.com
assert_no_file "$T/nothere"
(cd "$T" && expect_fail 1 "not in a certctl repository" certctl define x.example.com) || exit 1
(cd "$T" && expect_fail 1 "not in a certctl repository" certctl key generate) || exit 1
CERTCTL_DIR=$T/nothere expect_fail 1 "nothere" certctl list
touch "$T/plainfile"
expect_fail 1 "plainfile|not" certctl -C "$T/plainfile" list

# --- a locked repository --------------------------------------------------------
ok test -f .git/certctl/lock
# flock -o: flock itself holds the lock, so killing it releases the lock.
flock -o .git/certctl/lock sleep "$(slow 5)" &
holder=$!
# Wait (bounded) until the holder has the lock.
for _ in $(seq 50); do
	flock -n .git/certctl/lock true || break
	sleep 0.1
done
_count
flock -n .git/certctl/lock true && fail "the background flock never took the lock"
start=$(date +%s%N)
CERTCTL_LOCK_TIMEOUT=0.3 expect_fail 1 "locked" certctl define www.example.com --notes 'while locked'
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_unchanged
assert_within_ms 4000 "$elapsed_ms" "a 0.3 s lock timeout"
CERTCTL_LOCK_TIMEOUT=0.3 expect_fail 1 "locked" certctl key generate
assert_unchanged
CERTCTL_LOCK_TIMEOUT=0.3 expect_fail 1 "locked" certctl rm www.example.com
assert_unchanged
# Readers do not need the lock.
ok_out out certctl list
ok_out out certctl show www.example.com
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# Once released, the same command works.
ok_out out certctl define www.example.com --notes 'after the lock'
assert_eq "www.example.com: updated" "$out" "define after the lock was released"
snapshot

# --- a definition edited into garbage by hand ---------------------------------
printf 'subject: {cn: [}\n' >definitions/www.example.com.yaml
snapshot
expect_fail 1 "definitions/www\.example\.com\.yaml:1:[0-9]+" certctl define www.example.com --notes x
assert_unchanged
expect_fail 1 "definitions/www\.example\.com\.yaml:1:[0-9]+" certctl show www.example.com
expect_fail 1 "already exists|definitions/www\.example\.com\.yaml" certctl define www.example.com --create --cn x.example.com
assert_unchanged
expect_fail 1 "definitions/www\.example\.com\.yaml:1:[0-9]+" certctl define www2 --clone www.example.com
assert_unchanged
printf 'subject:\n  cn: www.example.com\nunknown: 1\n' >definitions/www.example.com.yaml
snapshot
expect_fail 1 "definitions/www\.example\.com\.yaml:3:[0-9]+: .*unknown" certctl define www.example.com --notes x
assert_unchanged
printf '\001\002\003' >definitions/www.example.com.yaml
snapshot
expect_fail 1 "definitions/www\.example\.com\.yaml" certctl define www.example.com --notes x
assert_unchanged
git checkout -q -- definitions/www.example.com.yaml
ok_out out certctl fsck
ok git fsck --full --no-progress
snapshot

# --- a read-only repository ----------------------------------------------------
# Root ignores file modes: make the directories immutable (chattr +i), or,
# where that cannot be done, skip with the reason.
if chattr +i definitions 2>/dev/null; then
	trap 'chattr -R -i "$T/work/repo" 2>/dev/null' EXIT
	expect_fail 1 "definitions|Operation not permitted|read-only|cannot" certctl define new.example.com
	assert_unchanged
	expect_fail 1 "definitions|Operation not permitted|read-only|cannot" certctl define www.example.com --notes 'read-only'
	assert_unchanged
	expect_fail 1 "definitions|Operation not permitted|read-only|cannot" certctl rm www.example.com
	assert_unchanged
	# Nothing is left behind that says an operation was interrupted.
	assert_no_file .git/certctl/journal
	ok_out out certctl fsck --no-keys
	chattr -i definitions
	chattr -R +i .
	expect_fail 1 "lock|Operation not permitted|read-only|cannot" certctl define new.example.com
	expect_fail 1 "lock|Operation not permitted|read-only|cannot" certctl key generate
	# Reading still works.
	ok_out out certctl list
	assert_contains "$out" "www.example.com" "list in a read-only repository"
	chattr -R -i .
	assert_unchanged
	assert_no_file .git/certctl/journal
	trap - EXIT
else
	skip "chattr +i is not possible here (not root, or the file system does not support it): the read-only cases need it, as root ignores file modes"
fi

# --- precision -----------------------------------------------------------------
certctl fsck --repair >/dev/null 2>&1
snapshot
# An unknown key is reported where the key is, not where its value is.
printf 'subject:\n  cn: www.example.com\ncolour: blue\n' >"$T/colour.yaml"
expect_fail 1 "unknown key 'colour'" certctl define colour --from "$T/colour.yaml"
assert_match "$FAIL_MSG" "^certctl: $T/colour\.yaml:3:1: " "position of an unknown key"
printf 'subject:\n  cn: www.example.com\n  common_name: x\n' >"$T/nested.yaml"
expect_fail 1 "unknown key 'common_name'" certctl define nested --from "$T/nested.yaml"
assert_match "$FAIL_MSG" "^certctl: $T/nested\.yaml:3:3: " "position of an unknown nested key"
assert_unchanged
# A bad value is named in the message.
expect_fail 1 "P-521" certctl define new.example.com --key ecdsa:P-521
assert_unchanged
# A passphrase file that is named but missing is an error, not a reason to
# look for the secret elsewhere.
CERTCTL_PASSPHRASE_FILE=$T/missing.pass expect_fail 1 "missing\.pass" certctl key generate
assert_unchanged
# A name with a newline still gets a one-line message.
for c in define show rm; do
	expect_fail 1 "name" certctl "$c" "$(printf 'a\nb')"
done
assert_unchanged

finish
