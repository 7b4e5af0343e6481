#!/bin/bash
# certctl deploy to remote hosts and by install package, against the real
# tools.  A: the sftp target uploads to a real OpenSSH server (sshd started
# here on 127.0.0.1 with throw-away host and client keys): the files arrive
# with their contents and the key file with mode 0600, the reload argv runs
# on the remote host with every argument literal (spaces, ';', $(...),
# backquotes, quotes, '*', '~'), the record and its commits; an openssl
# s_server serving the uploaded files confirms the deployment (deploy
# --check); a new certificate is uploaded but the server still presents
# the old one: failed, a mismatch naming both SHA-256, confirmed once the
# server restarts; a known_hosts file with another host key fails with an
# error about the host key and uploads nothing; a target without
# known_hosts is refused (by define, and by deploy when committed by git).  B: the install package (--package-out) of a
# package target with the nginx layout and one with the apache layout: a
# tar.gz of README, install.sh, the certificates, key.enc.pem (PKCS#8,
# AES-256-CBC, PBKDF2; no clear key in any member) and a sha256sum
# manifest under DEF-TARGET/; install.sh (sh -n, shellcheck, run by dash
# with only PATH in the environment) installs into a temporary root with
# the layout's paths and modes, runs the test and reload unless
# --no-reload, keeps PATH.certctl-prev on the next install, and changes
# nothing with a wrong or no passphrase or a changed file; an s_server
# serving the installed files confirms the deployment; --package-out
# without a passphrase changes nothing.  The record's sha256 is compared
# without case or colons (the spec's example has upper case and colons,
# "as elsewhere"; elsewhere the repository writes lower-case hex).
. "$(dirname "$0")/lib.sh"

unset CERTCTL_PACKAGE_PASSPHRASE CERTCTL_PACKAGE_PASSPHRASE_FILE

# --- helpers -----------------------------------------------------------------------------
# fp FILE: SHA-256 fingerprint of a certificate, lower-case hex (bundle_fps uses it).
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# sha256_of RECORD: its sha256, lower-case hex without colons (the spec
# shows upper-case hex with colons, "as elsewhere"; the repository writes
# lower-case hex elsewhere).
sha256_of() {
	sed -n 's/^sha256: *//p' "$1" | tr -d ':' | tr 'A-F' 'a-f'
}
# cert_pub FILE / key_pub FILE [openssl options]: SHA-256 of the public key.
cert_pub() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}
key_pub() {
	local f=$1
	shift
	openssl pkey -in "$f" "$@" -pubout -outform DER 2>/dev/null | sha256sum | cut -c1-64
}
# cur DEF: the directory of DEF's current certificate.
cur() {
	echo "certs/$1/$(cat "certs/$1/current")"
}
# free_port: a TCP port free on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_port PORT PID: wait (at most 5 s) until something listens on PORT,
# while process PID lives.
wait_port() {
	local _
	for _ in $(seq 50); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# Servers started here, stopped by PID at the end or on failure.
SERVERS=()
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	local p rest=()
	for p in "${SERVERS[@]}"; do
		[ "$p" = "$1" ] || rest+=("$p")
	done
	SERVERS=("${rest[@]}")
}
cleanup() {
	local p
	for p in "${SERVERS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
# s_server NAME PORT CERT KEY CHAIN: an openssl s_server on 127.0.0.1:PORT
# serving CERT with KEY and the intermediates CHAIN; its PID in S_PID.
s_server() {
	openssl s_server -accept "127.0.0.1:$2" -cert "$3" -key "$4" -cert_chain "$5" -www -quiet \
		</dev/null >"$T/$1.log" 2>&1 &
	S_PID=$!
	SERVERS+=("$S_PID")
	wait_port "$2" "$S_PID" || fail "openssl s_server $1 does not listen on $2: $(cat "$T/$1.log")"
}
# dir_state DIR: every file and directory under DIR with its mode (and
# checksum), to see that nothing changed.
dir_state() {
	(
		cd "$1" || exit 1
		find . -printf '%y %m %p\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	)
}
# listing DIR: the names in DIR, on one line.
listing() {
	ls -A "$1" 2>&1 | tr '\n' ' ' | sed 's/ $//'
}
# record DEF TARGET: the deployment record.
record() {
	echo "deployments/$1/$2.yaml"
}
# rec_state DEF TARGET: its state.
rec_state() {
	sed -n 's/^state: *//p' "$(record "$1" "$2")" 2>/dev/null
}
# check_commit DEF TARGET STATE ID [REV]: commit REV (HEAD) records it.
# The summary: the spec has 'deploy DEF → TARGET: STATE (cert ID)', the
# code and certctl-repository(5) 'deploy DEF to TARGET: STATE (certificate
# ID)'; either is taken.
check_commit() {
	local rev=${5:-HEAD}
	assert_match "$(git log -1 --format=%s "$rev")" "^deploy $1 (→|to) $2: $3 \\(cert(ificate)? $4\\)\$" "subject of $rev"
	assert_eq "deploy" "$(trailer Certctl-Operation "$rev")" "Certctl-Operation of $rev"
	assert_eq "$1" "$(trailer Certctl-Definition "$rev")" "Certctl-Definition of $rev"
	assert_eq "$2" "$(trailer Certctl-Target "$rev")" "Certctl-Target of $rev"
}
clean() {
	assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
}
# split_chain FULLCHAIN OUT: the certificates after the first.
split_chain() {
	awk '/-----BEGIN CERTIFICATE-----/ {n++} n > 1' "$1" >"$2"
}

# --- the repository: a root CA and an intermediate that issues the certificates -------------
ok_out out certctl -q init repo
cd repo || fail "no repository"
ok_out out certctl -q ca init root --key ecdsa:P-256
ok_out out certctl -q ca init sub --parent root --key ecdsa:P-256
SUB_FP=$(fp ca/sub/cert.pem)

# ===========================================================================================
# A. sftp to a real OpenSSH server
# ===========================================================================================
_count
[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null ||
	fail "OpenSSH (sshd, ssh, ssh-keygen) is not installed"
S=$T/ssh
R=$T/remote
mkdir -p "$S" "$R/ssl" "$R/badkh" "$R/nokh" "$R/named" "$R/files" /run/sshd
ssh-keygen -q -t ed25519 -N '' -C certctl-test-host -f "$S/host_key" || fail "ssh-keygen (host key)"
ssh-keygen -q -t ed25519 -N '' -C certctl-test-other -f "$S/other_key" || fail "ssh-keygen (other key)"
ssh-keygen -q -t ed25519 -N '' -C certctl-test-client -f "$S/client_key" || fail "ssh-keygen (client key)"
cp "$S/client_key.pub" "$S/authorized_keys"
SSH_PORT=$(free_port)
SSH_USER=$(id -un)
cat >"$S/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $S/sshd.pid
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
EOF
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cat "$S/host_key.pub")" >"$S/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cat "$S/other_key.pub")" >"$S/wrong_known_hosts"
/usr/sbin/sshd -D -e -f "$S/sshd_config" </dev/null >"$T/sshd.log" 2>&1 &
SSHD=$!
SERVERS+=("$SSHD")
_count
wait_port "$SSH_PORT" "$SSHD" || fail "sshd does not listen on $SSH_PORT: $(cat "$T/sshd.log")"
# The server works as configured (the test's own check, with ssh itself).
ok_out out ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i "$S/client_key" \
	-o UserKnownHostsFile="$S/known_hosts" -o StrictHostKeyChecking=yes -p "$SSH_PORT" \
	"$SSH_USER@127.0.0.1" echo ssh-ok
assert_eq ssh-ok "$out" "ssh to the test server"

# The remote reload: a script that records its arguments, one per line.
cat >"$R/record.sh" <<EOF
#!/bin/sh
{ printf '%s\\n' "\$#"; for a in "\$@"; do printf '[%s]\\n' "\$a"; done; } >"$R/reload.args"
EOF
chmod 755 "$R/record.sh"
ARGS=("two  words" "semi;colon \$(touch $R/pwned) \`touch $R/pwned2\` \$HOME" "it's \"quoted\"" '*' '~' '-x')
EXPECTED_ARGS=$({
	printf '%s\n' "${#ARGS[@]}"
	for a in "${ARGS[@]}"; do printf '[%s]\n' "$a"; done
})

ok_out out certctl -q define remote --dns remote.example.com --ca sub
ok_out out certctl -q issue remote
ID=$(cat certs/remote/current)
CERT=$(cur remote)/cert.pem
FP=$(fp "$CERT")
# define_targets DEF FILE: DEF's definition with the targets in FILE.
define_targets() {
	{
		certctl show "$1" | sed '/^targets:/,$d'
		cat "$2"
	} >"$T/$1.yaml"
	ok_out out certctl -q define "$1" --from "$T/$1.yaml"
}
# remote_targets [CHECK]: the targets of 'remote', box with a deploy check at CHECK.
remote_targets() {
	local check=""
	[ -z "${1:-}" ] || check="    check: $1"
	cat <<EOF
targets:
  - name: box
    type: sftp
    url: sftp://$SSH_USER@127.0.0.1:$SSH_PORT$R/ssl/
    identity: $S/client_key
    known_hosts: $S/known_hosts
$check
    reload:
      - $R/record.sh
      - "two  words"
      - 'semi;colon \$(touch $R/pwned) \`touch $R/pwned2\` \$HOME'
      - 'it''s "quoted"'
      - '*'
      - '~'
      - '-x'
  - name: badkh
    type: sftp
    url: sftp://$SSH_USER@127.0.0.1:$SSH_PORT$R/badkh/
    identity: $S/client_key
    known_hosts: $S/wrong_known_hosts
    reload: [touch, $R/badkh.reloaded]
  - name: named
    type: sftp
    url: sftp://$SSH_USER@127.0.0.1:$SSH_PORT$R/named/
    identity: $S/client_key
    known_hosts: $S/known_hosts
    cert: c.pem
    chain: ch.pem
    combined: all.pem
    mode: "0640"
EOF
}
remote_targets >"$T/remote.targets"
define_targets remote "$T/remote.targets"

# --- a first deploy: the files arrive, the reload runs with literal arguments --------------
n0=$(commits)
ok_out out certctl deploy remote --target box
assert_file "$R/ssl/fullchain.pem"
assert_file "$R/ssl/key.pem"
assert_eq "$FP
$SUB_FP" "$(bundle_fps "$R/ssl/fullchain.pem")" "fingerprints of the uploaded fullchain.pem"
assert_mode 600 "$R/ssl/key.pem"
assert_eq "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$R/ssl/key.pem")" "the uploaded key is clear PKCS#8"
assert_eq "$(cert_pub "$CERT")" "$(key_pub "$R/ssl/key.pem")" "the uploaded key is the certificate's"
assert_eq "fullchain.pem key.pem" "$(listing "$R/ssl")" "files in the remote directory (no .certctl-new left)"
assert_eq "$EXPECTED_ARGS" "$(cat "$R/reload.args" 2>/dev/null)" "arguments of the remote reload"
assert_no_file "$R/pwned"
assert_no_file "$R/pwned2"
# The record and its commits: prepared, then installed (no check configured).
REC=$(record remote box)
assert_file "$REC"
yaml_has "$REC" "definition: remote"
yaml_has "$REC" "target: box"
yaml_has "$REC" "type: sftp"
yaml_has "$REC" "state: installed"
yaml_has "$REC" "cert: $ID"
assert_eq "$FP" "$(sha256_of "$REC")" "sha256 of the record"
assert_contains "$(sed -n '/^files:/,/^[a-z]/p' "$REC")" "fullchain.pem" "files of the record"
assert_contains "$(sed -n '/^files:/,/^[a-z]/p' "$REC")" "key.pem" "files of the record"
# (The spec names the block 'reload'; the code and certctl-repository(5) 'command'.)
assert_match "$(sed -n '/^\(reload\|command\):/,/^[a-z]/p' "$REC")" '^  status: 0$' "status of the reload in the record"
assert_match "$(sed -n '/^history:/,/^[a-z]/p' "$REC")" "prepared" "history of the record"
assert_eq $((n0 + 2)) "$(commits)" "commits of a deploy (prepared, installed)"
check_commit remote box installed "$ID"
check_commit remote box prepared "$ID" HEAD~1
clean

# --- files named in the target: relative to the url, with the target's modes --------------
ok_out out certctl deploy remote --target named
assert_eq "all.pem c.pem ch.pem" "$(listing "$R/named")" "files of the target with named files"
assert_eq "$FP" "$(bundle_fps "$R/named/c.pem")" "c.pem (cert)"
assert_eq "$SUB_FP" "$(bundle_fps "$R/named/ch.pem")" "ch.pem (chain)"
assert_eq "$FP
$SUB_FP" "$(bundle_fps "$R/named/all.pem")" "certificates of all.pem (combined)"
assert_eq "$(cert_pub "$CERT")" "$(key_pub "$R/named/all.pem")" "the key in all.pem (combined)"
assert_mode 640 "$R/named/c.pem"
assert_mode 640 "$R/named/ch.pem"
assert_mode 600 "$R/named/all.pem"
yaml_has "$(record remote named)" "state: installed"
check_commit remote named installed "$ID"
clean

# --- the deploy check against an s_server serving the uploaded files ------------------------
split_chain "$R/ssl/fullchain.pem" "$T/box-chain.pem"
CHECK_PORT=$(free_port)
s_server box "$CHECK_PORT" "$R/ssl/fullchain.pem" "$R/ssl/key.pem" "$T/box-chain.pem"
BOX_SERVER=$S_PID
remote_targets "127.0.0.1:$CHECK_PORT" >"$T/remote.targets"
define_targets remote "$T/remote.targets"
rm -f "$R/reload.args"
n0=$(commits)
ok_out out certctl deploy remote --check --target box --json
# The schema is named as every other command's (certctl-json(7)).
json_check "$out" "
assert d['schema'] == 'certctl.deploy/1', d
assert d['definition'] == 'remote', d
[t] = d['targets']
assert t['target'] == 'box' and t['state'] == 'confirmed', t
assert t['check']['result'] == 'ok', t['check']
assert t['check']['served_sha256'].replace(':', '').lower() == '$FP', t['check']
"
yaml_has "$REC" "state: confirmed"
assert_match "$(sed -n '/^check:/,/^[a-z]/p' "$REC")" '^  result: ok$' "result of the check in the record"
assert_match "$(sed -n '/^check:/,/^[a-z]/p' "$REC")" "^  port: $CHECK_PORT\$" "port of the check in the record"
assert_eq $((n0 + 1)) "$(commits)" "commits of deploy --check"
check_commit remote box confirmed "$ID"
assert_no_file "$R/reload.args"
clean

# --- a new certificate: uploaded and reloaded, but the server still presents
# the old one (s_server read its files at start): failed, a mismatch ---------
cp "$R/ssl/key.pem" "$T/box-key1.pem"
ok_out out certctl -q issue remote
ID2=$(cat certs/remote/current)
CERT2=$(cur remote)/cert.pem
FP2=$(fp "$CERT2")
assert_ne "$ID" "$ID2" "a new certificate for remote"
n0=$(commits)
expect_fail 1 "box" certctl deploy remote --target box
note "mismatch: $FAIL_MSG"
assert_contains "$FAIL_MSG" "$FP" "the error of a mismatch: the SHA-256 served"
assert_contains "$FAIL_MSG" "$FP2" "the error of a mismatch: the SHA-256 expected"
assert_eq "$FP2
$SUB_FP" "$(bundle_fps "$R/ssl/fullchain.pem")" "the new fullchain.pem is uploaded"
assert_eq "$(cert_pub "$CERT2")" "$(key_pub "$R/ssl/key.pem")" "the new key is uploaded"
assert_mode 600 "$R/ssl/key.pem"
assert_eq "" "$(cd "$R/ssl" && find . -name '*.certctl-new')" "files left as .certctl-new"
if [ -e "$R/ssl/key.pem.certctl-prev" ]; then
	# The old key, kept beside the new one, is as private as it.
	assert_mode 600 "$R/ssl/key.pem.certctl-prev"
	assert_eq "$(sha256sum <"$T/box-key1.pem")" "$(sha256sum <"$R/ssl/key.pem.certctl-prev")" "key.pem.certctl-prev"
fi
assert_eq "$EXPECTED_ARGS" "$(cat "$R/reload.args" 2>/dev/null)" "arguments of the second remote reload"
yaml_has "$REC" "state: failed"
yaml_has "$REC" "cert: $ID2"
yaml_has "$REC" "previous: $ID"
assert_match "$(sed -n '/^check:/,/^[a-z]/p' "$REC")" '^  result: mismatch$' "result of the check in the record"
assert_eq "$FP" "$(sed -n 's/^  served_sha256: *//p' "$REC" | tr -d ':' | tr 'A-F' 'a-f')" \
	"served_sha256 of the mismatch"
assert_eq $((n0 + 3)) "$(commits)" "commits of a deploy whose check fails (prepared, installed, failed)"
check_commit remote box failed "$ID2"
clean
stop "$BOX_SERVER"
# The server restarted with the new files: confirmed.
split_chain "$R/ssl/fullchain.pem" "$T/box-chain.pem"
s_server box2 "$CHECK_PORT" "$R/ssl/fullchain.pem" "$R/ssl/key.pem" "$T/box-chain.pem"
BOX_SERVER=$S_PID
ok_out out certctl deploy remote --check --target box
yaml_has "$REC" "state: confirmed"
yaml_has "$REC" "cert: $ID2"
assert_eq "$FP2" "$(sed -n 's/^  served_sha256: *//p' "$REC" | tr -d ':' | tr 'A-F' 'a-f')" \
	"served_sha256 after the restart"
check_commit remote box confirmed "$ID2"
stop "$BOX_SERVER"

# --- the host key is not the one in known_hosts: nothing is uploaded ------------------------
before_ssl=$(dir_state "$R/ssl")
before_head=$(git rev-parse HEAD)
snapshot
expect_fail 1 "[Hh]ost key|HOST KEY|[Hh]ost identification|HOST IDENTIFICATION" \
	certctl deploy remote --target badkh
note "wrong host key: $FAIL_MSG"
assert_eq "" "$(listing "$R/badkh")" "the remote directory of the target with the wrong host key"
assert_eq "$before_ssl" "$(dir_state "$R/ssl")" "the other remote directory"
assert_no_file "$R/badkh.reloaded"
if [ -e "$(record remote badkh)" ]; then
	note "the wrong host key: recorded as failed"
	yaml_has "$(record remote badkh)" "state: failed"
	assert_match "$(sed -n 's/^error: *//p' "$(record remote badkh)")" \
		"[Hh]ost key|HOST KEY|[Hh]ost identification|HOST IDENTIFICATION" "error of the failed record"
	check_commit remote badkh failed "$ID2"
	clean
else
	note "the wrong host key: refused before prepared"
	assert_unchanged
	assert_eq "$before_head" "$(git rev-parse HEAD)" "HEAD"
fi
assert_eq "confirmed" "$(rec_state remote box)" "the state of the other target"

# --- a target without known_hosts is refused: host keys are always checked -------------------
ok_out out certctl -q define nokh --dns nokh.example.com --ca sub
ok_out out certctl -q issue nokh
cat >"$T/nokh.targets" <<EOF
targets:
  - name: blind
    type: sftp
    url: sftp://$SSH_USER@127.0.0.1:$SSH_PORT$R/nokh/
    identity: $S/client_key
    reload: [touch, $R/nokh.reloaded]
EOF
{
	certctl show nokh
	cat "$T/nokh.targets"
} >"$T/nokh.yaml"
snapshot
if certctl -q define nokh --from "$T/nokh.yaml" 2>"$T/nokh.err"; then
	snapshot
	expect_fail 1 "known_hosts" certctl deploy nokh --target blind
	assert_unchanged
	expect_fail 1 "known_hosts" certctl deploy nokh
	assert_unchanged
else
	note "define refuses an sftp target without known_hosts"
	note "no known_hosts: $(cat "$T/nokh.err")"
	assert_contains "$(cat "$T/nokh.err")" "known_hosts" "error of define"
	assert_unchanged
	# Written with git instead, deploy refuses it too.
	cp "$T/nokh.yaml" definitions/nokh.yaml
	{ git add definitions/nokh.yaml && git commit -q -m "nokh: an sftp target without known_hosts"; } ||
		fail "cannot commit definitions/nokh.yaml"
	snapshot
	expect_fail 1 "known_hosts" certctl deploy nokh --target blind
	note "no known_hosts (git): $FAIL_MSG"
	assert_unchanged
	git revert --no-edit HEAD >/dev/null || fail "cannot revert the commit of definitions/nokh.yaml"
fi
assert_eq "" "$(listing "$R/nokh")" "the remote directory of the target without known_hosts"
assert_no_file "$R/nokh.reloaded"

# ===========================================================================================
# B. the install package
# ===========================================================================================
P=$T/pkg
X=$T/extract
ROOT=$T/root
mkdir -p "$P" "$X" "$ROOT" "$T/tmp"
PKG_PASS='pkg pass; $(no) `x` "1"'
printf '%s\n' "$PKG_PASS" >"$P/pass"
printf 'wrong\n' >"$P/wrong"
ok_out out certctl -q define pkg --dns pkg.example.com --ca sub
ok_out out certctl -q issue pkg
ID1=$(cat certs/pkg/current)
CERT1=$(cur pkg)/cert.pem
AP_PORT=$(free_port)
cat >"$T/pkg.targets" <<EOF
targets:
  - name: pk
    type: package
    layout: nginx
  - name: ap
    type: package
    layout: apache
    dir: /srv/tls/pkg
    mode: "0640"
    test: [touch, $T/ap.tested]
    reload: [touch, $T/ap.reloaded]
    check: 127.0.0.1:$AP_PORT
EOF
define_targets pkg "$T/pkg.targets"

# --- no passphrase for the key inside: refused, nothing changes, no archive ---------------
snapshot
head0=$(git rev-parse HEAD)
expect_fail 1 "passphrase" certctl deploy pkg --package-out "$P/none.tar.gz" --target pk
assert_unchanged
assert_eq "$head0" "$(git rev-parse HEAD)" "HEAD after --package-out without a passphrase"
clean
assert_no_file "$P/none.tar.gz"
expect_fail 1 "nofile" certctl deploy pkg --package-out "$P/none.tar.gz" --target pk \
	--package-passphrase-file "$P/nofile"
assert_unchanged
assert_no_file "$P/none.tar.gz"
# Two targets: --target says which.
_count
err=$(CERTCTL_PACKAGE_PASSPHRASE_FILE=$P/pass certctl deploy pkg --package-out "$P/none.tar.gz" 2>&1 >/dev/null)
rc=$?
case $rc in
1 | 64) ;;
*) fail "--package-out without --target for two targets: exit $rc: $err" ;;
esac
note "two targets (exit $rc): $err"
assert_match "$err" "--target|pk.*ap|ap.*pk" "error of --package-out without --target"
assert_unchanged
assert_no_file "$P/none.tar.gz"

# --- the package of the nginx-layout target ----------------------------------------------
# check_archive FILE TOP CERT: the archive's members and what they hold.
# The key derivation and the manifest's README entry are checked at the
# end (ENC_KEYS, MANIFESTS).
ENC_KEYS=()
MANIFESTS=()
check_archive() {
	local a=$1 top=$2 cert=$3 d
	assert_eq "1f8b" "$(head -c 2 "$a" | od -An -tx1 | tr -d ' \n')" "gzip magic of $a"
	ok_out list tar tzf "$a"
	assert_eq "$top/README
$top/cert.pem
$top/chain.pem
$top/fullchain.pem
$top/install.sh
$top/key.enc.pem
$top/manifest" "$(printf '%s\n' "$list" | sed 's|^\./||' | grep -v '/$' | LC_ALL=C sort)" "members of $a"
	assert_eq "" "$(printf '%s\n' "$list" | sed 's|^\./||' | grep -v "^$top/" | grep -vx "$top")" \
		"members outside $top/"
	_count
	if tar xzOf "$a" | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----'; then
		fail "$a holds a clear private key"
	fi
	d=$X/$(basename "$a" .tar.gz)
	rm -rf "$d"
	mkdir -p "$d"
	ok tar xzf "$a" -C "$d"
	PKG=$d/$top
	assert_contains "$(cat "$PKG/README")" "install.sh" "README"
	assert_eq "$(fp "$cert")" "$(fp "$PKG/cert.pem")" "cert.pem of $a"
	assert_eq "$SUB_FP" "$(bundle_fps "$PKG/chain.pem")" "chain.pem of $a"
	assert_eq "$(fp "$cert")
$SUB_FP" "$(bundle_fps "$PKG/fullchain.pem")" "fullchain.pem of $a"
	assert_eq "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 "$PKG/key.enc.pem")" "key.enc.pem is encrypted PKCS#8"
	local asn
	asn=$(openssl asn1parse -in "$PKG/key.enc.pem" 2>&1)
	assert_contains "$asn" "PBES2" "encryption of key.enc.pem"
	ENC_KEYS+=("$PKG/key.enc.pem")
	assert_match "$asn" "aes-256-cbc" "cipher of key.enc.pem"
	assert_eq "$(cert_pub "$cert")" "$(key_pub "$PKG/key.enc.pem" -passin "file:$P/pass")" \
		"key.enc.pem decrypts with the passphrase to the certificate's key"
	_count
	if openssl pkey -in "$PKG/key.enc.pem" -passin "file:$P/wrong" -noout 2>/dev/null; then
		fail "key.enc.pem of $a decrypts with another passphrase"
	fi
	local f
	MANIFESTS+=("$PKG/manifest")
	for f in cert.pem chain.pem fullchain.pem install.sh key.enc.pem; do
		assert_match "$(cat "$PKG/manifest")" "^[0-9a-f]{64} [ *](\./)?$f\$" "manifest entry of $f"
	done
	(
		cd "$PKG" || exit 1
		ok_out out sha256sum -c manifest
	)
	ok sh -n "$PKG/install.sh"
	if command -v shellcheck >/dev/null; then
		# SC1007 is 'a= b=' (empty assignments), correct sh.
		ok shellcheck -s sh -S warning -e SC1007 "$PKG/install.sh"
	else
		skip "shellcheck is not installed"
	fi
	if command -v checkbashisms >/dev/null; then
		ok checkbashisms "$PKG/install.sh"
	elif [ -z "${SKIPPED_CHECKBASHISMS:-}" ]; then
		skip "checkbashisms is not installed"
		SKIPPED_CHECKBASHISMS=1
	fi
}
# install PKGDIR ARGS...: run install.sh there (or in $INSTALL_CWD) as an
# admin would, with nothing in the environment but PATH and TMPDIR (and
# what ARGS put there with env syntax before the first --), no terminal and
# no input; output in INSTALL_OUT, status in INSTALL_RC.
install_pkg() {
	local dir=$1 envs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	INSTALL_OUT=$(cd "${INSTALL_CWD:-$dir}" &&
		timeout 20 setsid env -i PATH=/usr/bin:/bin TMPDIR="$T/tmp" "${envs[@]}" sh "$dir/install.sh" "$@" </dev/null 2>&1)
	INSTALL_RC=$?
}

n0=$(commits)
CERTCTL_PACKAGE_PASSPHRASE_FILE=$P/pass ok_out out certctl deploy pkg --package-out "$P/pk1.tar.gz" --target pk
assert_file "$P/pk1.tar.gz"
yaml_has "$(record pkg pk)" "state: install-requested"
yaml_has "$(record pkg pk)" "type: package"
yaml_has "$(record pkg pk)" "cert: $ID1"
assert_eq "$(fp "$CERT1")" "$(sha256_of "$(record pkg pk)")" "sha256 of the record"
check_commit pkg pk install-requested "$ID1"
assert_ne "$n0" "$(commits)" "commits of --package-out"
clean
check_archive "$P/pk1.tar.gz" pkg-pk "$CERT1"
PK1=$PKG
NG=$ROOT/etc/nginx/ssl/pkg
install_pkg "$PK1" "CERTCTL_PACKAGE_PASSPHRASE=$PKG_PASS" -- --root "$ROOT" --no-reload
assert_eq 0 "$INSTALL_RC" "exit status of install.sh: $INSTALL_OUT"
assert_contains "$(printf '%s\n' "$INSTALL_OUT" | tr -d ':' | tr 'A-F' 'a-f')" "$(fp "$CERT1")" \
	"install.sh prints the installed certificate's SHA-256"
assert_eq "fullchain.pem key.pem" "$(listing "$NG")" "files of the nginx layout"
assert_eq "$(sha256sum <"$PK1/fullchain.pem")" "$(sha256sum <"$NG/fullchain.pem")" "installed fullchain.pem"
assert_mode 644 "$NG/fullchain.pem"
assert_mode 600 "$NG/key.pem"
assert_eq "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$NG/key.pem")" "the installed key is clear PKCS#8"
assert_eq "$(cert_pub "$CERT1")" "$(key_pub "$NG/key.pem")" "the installed key is the certificate's"
cp "$NG/fullchain.pem" "$T/fullchain1.pem"
cp "$NG/key.pem" "$T/key1.pem"

# --- the apache-layout package: passphrase file, reload, modes ---------------------------
n0=$(commits)
ok_out out certctl deploy pkg --package-out "$P/ap1.tar.gz" --target ap --package-passphrase-file "$P/pass"
yaml_has "$(record pkg ap)" "state: install-requested"
check_commit pkg ap install-requested "$ID1"
clean
check_archive "$P/ap1.tar.gz" pkg-ap "$CERT1"
AP=$ROOT/srv/tls/pkg
INSTALL_CWD=/ install_pkg "$PKG" -- --root "$ROOT" --passphrase-file "$P/pass"
assert_eq 0 "$INSTALL_RC" "exit status of install.sh (apache): $INSTALL_OUT"
assert_file "$T/ap.tested"
assert_file "$T/ap.reloaded"
assert_eq "cert.pem chain.pem fullchain.pem key.pem" "$(listing "$AP")" "files of the apache layout"
assert_eq "$(fp "$CERT1")" "$(fp "$AP/cert.pem")" "installed cert.pem"
assert_eq "$SUB_FP" "$(bundle_fps "$AP/chain.pem")" "installed chain.pem"
assert_eq "$(sha256sum <"$T/fullchain1.pem")" "$(sha256sum <"$AP/fullchain.pem")" "installed fullchain.pem (apache)"
assert_mode 640 "$AP/cert.pem"
assert_mode 640 "$AP/chain.pem"
assert_mode 640 "$AP/fullchain.pem"
assert_mode 600 "$AP/key.pem"
assert_eq "$(cert_pub "$CERT1")" "$(key_pub "$AP/key.pem")" "the installed key is the certificate's (apache)"

# --- the admin ran it: deploy --check against the installed files -------------------------
s_server ap "$AP_PORT" "$AP/cert.pem" "$AP/key.pem" "$AP/chain.pem"
AP_SERVER=$S_PID
n0=$(commits)
ok_out out certctl deploy pkg --check --target ap
yaml_has "$(record pkg ap)" "state: confirmed"
assert_match "$(sed -n '/^check:/,/^[a-z]/p' "$(record pkg ap)")" '^  result: ok$' "result of the check (apache)"
assert_eq "$(fp "$CERT1")" "$(sed -n 's/^  served_sha256: *//p' "$(record pkg ap)" | tr -d ':"' | tr 'A-F' 'a-f')" \
	"served_sha256 of the check"
assert_eq $((n0 + 1)) "$(commits)" "commits of deploy --check (apache)"
check_commit pkg ap confirmed "$ID1"
clean
stop "$AP_SERVER"
ok_out out certctl deployments pkg
assert_match "$out" "^pkg +pk +package +install-requested " "deployments: pk"
assert_match "$out" "^pkg +ap +package +confirmed " "deployments: ap"
ok_out out certctl deployments --open
assert_match "$out" "^pkg +pk +package +install-requested " "deployments --open: pk"
assert_not_contains "$out" " confirmed " "deployments --open"

# --- a new certificate's package: the old files are kept as .certctl-prev ----------------
ok_out out certctl -q issue pkg
ID2=$(cat certs/pkg/current)
CERT2=$(cur pkg)/cert.pem
assert_ne "$ID1" "$ID2" "a new certificate"
CERTCTL_PACKAGE_PASSPHRASE_FILE=$P/pass ok_out out certctl deploy pkg --package-out "$P/pk2.tar.gz" --target pk
yaml_has "$(record pkg pk)" "state: install-requested"
yaml_has "$(record pkg pk)" "cert: $ID2"
check_commit pkg pk install-requested "$ID2"
check_archive "$P/pk2.tar.gz" pkg-pk "$CERT2"
install_pkg "$PKG" "CERTCTL_PACKAGE_PASSPHRASE=$PKG_PASS" -- --root "$ROOT" --no-reload
assert_eq 0 "$INSTALL_RC" "exit status of the second install.sh: $INSTALL_OUT"
assert_eq "$(fp "$CERT2")
$SUB_FP" "$(bundle_fps "$NG/fullchain.pem")" "fullchain.pem after the second install"
assert_eq "$(cert_pub "$CERT2")" "$(key_pub "$NG/key.pem")" "key.pem after the second install"
assert_eq "$(sha256sum <"$T/fullchain1.pem")" "$(sha256sum <"$NG/fullchain.pem.certctl-prev" 2>&1)" "fullchain.pem.certctl-prev"
assert_eq "$(sha256sum <"$T/key1.pem")" "$(sha256sum <"$NG/key.pem.certctl-prev" 2>&1)" "key.pem.certctl-prev"
assert_mode 600 "$NG/key.pem"
assert_mode 600 "$NG/key.pem.certctl-prev"
assert_mode 644 "$NG/fullchain.pem"

# --- a wrong passphrase, or none: install.sh fails and changes nothing --------------------
ok_out out certctl -q issue pkg
ID3=$(cat certs/pkg/current)
CERTCTL_PACKAGE_PASSPHRASE=$PKG_PASS ok_out out certctl deploy pkg --package-out "$P/pk3.tar.gz" --target pk
check_commit pkg pk install-requested "$ID3"
check_archive "$P/pk3.tar.gz" pkg-pk "$(cur pkg)/cert.pem"
before_root=$(dir_state "$ROOT")
install_pkg "$PKG" "CERTCTL_PACKAGE_PASSPHRASE=wrong" -- --root "$ROOT" --no-reload
_count
case $INSTALL_RC in
0 | 124) fail "install.sh with a wrong passphrase: exit $INSTALL_RC: $INSTALL_OUT" ;;
esac
assert_eq "$before_root" "$(dir_state "$ROOT")" "the installed files after a wrong passphrase"
install_pkg "$PKG" -- --root "$ROOT" --no-reload --passphrase-file "$P/wrong"
_count
case $INSTALL_RC in
0 | 124) fail "install.sh with a wrong passphrase file: exit $INSTALL_RC: $INSTALL_OUT" ;;
esac
assert_eq "$before_root" "$(dir_state "$ROOT")" "the installed files after a wrong passphrase file"
install_pkg "$PKG" -- --root "$ROOT" --no-reload
_count
case $INSTALL_RC in
0 | 124) fail "install.sh without a passphrase: exit $INSTALL_RC: $INSTALL_OUT" ;;
esac
assert_eq "$before_root" "$(dir_state "$ROOT")" "the installed files after no passphrase"
assert_eq "$(cert_pub "$CERT2")" "$(key_pub "$NG/key.pem")" "key.pem is still the second certificate's"
# A file of the package changed on the way: the manifest says so (README:
# "install.sh checks the files against the manifest").
cp -r "$PKG" "$T/tampered"
printf '\n' >>"$T/tampered/fullchain.pem"
install_pkg "$T/tampered" "CERTCTL_PACKAGE_PASSPHRASE=$PKG_PASS" -- --root "$ROOT" --no-reload
_count
case $INSTALL_RC in
0 | 124) fail "install.sh with a changed fullchain.pem: exit $INSTALL_RC: $INSTALL_OUT" ;;
esac
assert_contains "$INSTALL_OUT" "fullchain.pem" "the error of install.sh about a changed file"
assert_eq "$before_root" "$(dir_state "$ROOT")" "the installed files after a changed package"
# No decrypted key is left in the temporary directory.
assert_eq "" "$(listing "$T/tmp")" "what install.sh left in TMPDIR"

# --- the repository: no clear key in git, fsck clean --------------------------------------
clean
assert_eq "" "$(git cat-file --batch-all-objects --batch | grep -aE -- '-----BEGIN (RSA |EC |)PRIVATE KEY-----')" \
	"clear-text keys in git objects"
ok_out out certctl fsck
assert_contains "$out" "0 errors, 0 warnings" "certctl fsck"

# --- what an old server's openssl can read ---------------------------------------------------
# key.enc.pem is PKCS#8 with AES-256-CBC and PBKDF2: every openssl since
# 1.0 reads it (scrypt would need 1.1.0).
assert_eq "PBKDF2" "$(for k in "${ENC_KEYS[@]}"; do
	openssl asn1parse -in "$k" 2>&1 | sed -n 's/.*OBJECT *:\(PBKDF2\|scrypt\)$/\1/p'
done | LC_ALL=C sort -u)" "key derivation of key.enc.pem (${#ENC_KEYS[@]} packages)"
# The manifest has the SHA-256 of each file, README included.
assert_eq "" "$(for m in "${MANIFESTS[@]}"; do
	grep -qE '^[0-9a-f]{64} [ *](\./)?README$' "$m" || echo "$m"
done)" "manifests without README"
# An sftp target's file names follow a server type's layout: 'layout: apache'.
ok_out out certctl -q define rfiles --dns rfiles.example.com --ca sub
ok_out out certctl -q issue rfiles
cat >"$T/rfiles.targets" <<EOF
targets:
  - name: apache-style
    type: sftp
    url: sftp://$SSH_USER@127.0.0.1:$SSH_PORT$R/files/
    identity: $S/client_key
    known_hosts: $S/known_hosts
    layout: apache
EOF
define_targets rfiles "$T/rfiles.targets"
ok_out out certctl deploy rfiles --target apache-style
assert_eq "cert.pem chain.pem fullchain.pem key.pem" "$(listing "$R/files")" "files of an sftp target with 'layout: apache'"
stop "$SSHD"

finish
