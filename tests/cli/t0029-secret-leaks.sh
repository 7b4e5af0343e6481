#!/bin/bash
# Secrets go nowhere they are not meant to: every passphrase a command gets
# (the repository's, an import's, an export's, a rotation's, a wrong one)
# is a unique canary string, and after the commands that use them none
# appears in anything they left: their standard output and error, the
# argument lists and environments of the hook they run, the work tree, the
# files of .git, or any git object (commit messages included).  Hooks get
# the documented variables and no CERTCTL_PASSPHRASE*.  certctl's own
# argument list (/proc/PID/cmdline, what ps shows) holds no secret either:
# no option takes one.
. "$(dirname "$0")/lib.sh"

canary() { echo "canary-$1-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
REPO_PASS=$(canary repo)
NEW_PASS=$(canary rotated)
IMPORT_PASS=$(canary import)
EXPORT_PASS=$(canary export)
WRONG_PASS=$(canary wrong)
CANARIES=("$REPO_PASS" "$NEW_PASS" "$IMPORT_PASS" "$EXPORT_PASS" "$WRONG_PASS")
mkdir -p "$T/secret" "$T/out" "$T/hook"
printf '%s\n' "$IMPORT_PASS" >"$T/secret/import.pass"
printf '%s\n' "$NEW_PASS" >"$T/secret/new.pass"

# run NAME CMD...: CMD with its stdout and stderr kept in $T/out/NAME.*.
run() {
	local name=$1 rc=0
	shift
	"$@" >"$T/out/$name.out" 2>"$T/out/$name.err" || rc=$?
	return $rc
}

export CERTCTL_PASSPHRASE=$REPO_PASS
_count
run init "$CERTCTL" init repo || fail "init: $(cat "$T/out/init.err")"
cd repo || fail "no repository"
_count
run ca "$CERTCTL" ca init root || fail "ca init: $(cat "$T/out/ca.err")"

# A hook that writes down its arguments and environment.
cat >"$T/hook.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/hook/args"
env >"$T/hook/env"
EOF
chmod +x "$T/hook.sh"
cat >"$T/web.yaml" <<EOF
subject:
  cn: web.example.com
san:
  dns: [web.example.com]
targets:
  - name: files
    type: files
    cert: $T/deploy/cert.pem
    key: $T/deploy/key.pem
  - name: hook
    type: command
    run: [$T/hook.sh, --flag, value]
EOF
_count
run define "$CERTCTL" define web --from "$T/web.yaml" || fail "define: $(cat "$T/out/define.err")"
_count
run issue "$CERTCTL" issue web || fail "issue: $(cat "$T/out/issue.err")"
_count
run deploy "$CERTCTL" deploy web --no-check || fail "deploy: $(cat "$T/out/deploy.err")"
assert_file "$T/hook/env"
assert_eq "" "$(grep '^CERTCTL_PASSPHRASE' "$T/hook/env")" "CERTCTL_PASSPHRASE* in the hook's environment"

# certctl's own argv while it works: a deploy whose hook waits.
cat >"$T/slow.sh" <<EOF
#!/bin/sh
sleep 3
EOF
chmod +x "$T/slow.sh"
cat >"$T/slow.yaml" <<EOF
subject:
  cn: slow.example.com
targets:
  - name: hook
    type: command
    run: [$T/slow.sh]
EOF
_count
run define2 "$CERTCTL" define slow --from "$T/slow.yaml" || fail "define slow: $(cat "$T/out/define2.err")"
_count
run issue-slow "$CERTCTL" issue slow || fail "issue slow: $(cat "$T/out/issue-slow.err")"
"$CERTCTL" deploy slow --no-check >"$T/out/deploy2.out" 2>"$T/out/deploy2.err" &
dpid=$!
sleep 1
tr '\0' ' ' <"/proc/$dpid/cmdline" >"$T/out/cmdline" 2>/dev/null
wait "$dpid"

# An encrypted key to import, then a wrong passphrase for it.
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc \
	-pass "file:$T/secret/import.pass" -out "$T/enc.key" 2>/dev/null || fail "cannot make the key"
_count
CERTCTL_IMPORT_PASSPHRASE_FILE=$T/secret/import.pass run import "$CERTCTL" key import "$T/enc.key" ||
	fail "key import: $(cat "$T/out/import.err")"
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc \
	-pass "pass:$IMPORT_PASS-2" -out "$T/enc2.key" 2>/dev/null || fail "cannot make the key"
_count
CERTCTL_IMPORT_PASSPHRASE=$WRONG_PASS run import-wrong "$CERTCTL" key import "$T/enc2.key" &&
	fail "key import with a wrong passphrase succeeded"
kid=$(sed -n 's/^key_id: *//p' "certs/web/$(cat certs/web/current)/cert.yaml")
_count
CERTCTL_EXPORT_PASSPHRASE=$EXPORT_PASS run export "$CERTCTL" key export "$kid" --encrypt --out "$T/exported.pem" ||
	fail "key export: $(cat "$T/out/export.err")"
# A wrong repository secret, then a rotation to a new one.
_count
CERTCTL_PASSPHRASE=$WRONG_PASS run wrong-secret "$CERTCTL" issue web && fail "issue with a wrong secret succeeded"
_count
CERTCTL_NEW_PASSPHRASE_FILE=$T/secret/new.pass run rotate "$CERTCTL" key rotate-secret ||
	fail "rotate-secret: $(cat "$T/out/rotate.err")"
export CERTCTL_PASSPHRASE=$NEW_PASS
_count
run issue2 "$CERTCTL" issue web || fail "issue after the rotation: $(cat "$T/out/issue2.err")"
for c in fsck log status; do
	run "$c" "$CERTCTL" "$c"
done
run fsck-json "$CERTCTL" fsck --json
run log-json "$CERTCTL" log --json
run deployments "$CERTCTL" deployments --json

# --- where the canaries must not be ------------------------------------------------------
# found FILE [NAME]: the canaries in FILE (binary or not), as "NAME: CANARY" lines.
found() {
	local c
	for c in "${CANARIES[@]}"; do
		grep -aqF -- "$c" "$1" && echo "${2:-$1}: ${c%-*}"
	done
}
git cat-file --batch-all-objects --batch >"$T/objects"
leaks=$(
	for f in "$T"/out/* "$T"/hook/*; do
		[ -f "$f" ] && found "$f"
	done
	# the work tree and every file of .git (objects are compressed: read above)
	find . -type f -not -path './.git/objects/*' -print0 | while IFS= read -r -d '' f; do
		found "$f"
	done
	found "$T/objects" "git objects"
	find "$T/deploy" -type f -print0 | while IFS= read -r -d '' f; do
		found "$f"
	done
)
_count
[ -z "$leaks" ] || fail "secrets found where they should not be:
$leaks"
# The canaries reached certctl (so the scan above means something).
assert_contains "$(cat "$T/out/wrong-secret.err")" "wrong repository secret" "the wrong secret is refused"
assert_contains "$(cat "$T/out/import-wrong.err")" "enc2.key" "the wrong import passphrase is refused"
ok openssl pkey -in "$T/exported.pem" -passin "pass:$EXPORT_PASS" -noout
ok openssl pkey -in "$(key_file "$kid" pem)" -passin "pass:$NEW_PASS" -noout
assert_contains "$(cat "$T/hook/args")" "--flag" "the hook ran"
assert_not_contains "$(cat "$T/out/cmdline")" "canary" "certctl's own argv"
assert_contains "$(cat "$T/out/cmdline")" "deploy slow" "certctl's argv was read"

finish
