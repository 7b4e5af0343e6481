#!/usr/bin/env bash
# certctl demo (make demo): the main job end to end on a throw-away repository
# with the built-in defaults: create the repository, define a certificate,
# generate its key, look at everything, check it, and read it back with the
# plain git and openssl tools. Needs only bash, git and openssl.
#
# Issuing the certificate and checking the TLS endpoint at 127.0.0.1:$PORT
# join this demo when the CA and check commands land.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CERTCTL=${CERTCTL:-$here/../build/certctl}
[ -x "$CERTCTL" ] || { echo "demo: no certctl binary at $CERTCTL (run make)" >&2; exit 1; }
certctl() { "$CERTCTL" "$@"; }

# Everything lives in one temporary directory, the repository secret included.
demo=$(mktemp -d "${TMPDIR:-/tmp}/certctl-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT
unset CERTCTL_DIR CERTCTL_PASSPHRASE CERTCTL_PASSPHRASE_FILE
export CERTCTL_SECRET_DIR="$demo/secrets"

# Print a step as `==> command args` (shell-quoted), then run it.
step() {
	local out="==>" a
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then out+=" $a"; else out+=" $(printf '%q' "$a")"; fi
	done
	printf '\n%s\n' "$out"
	"$@"
}

# A loopback port nothing listens on, for the definition's check.
PORT=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
PORT=${PORT:-8443}

cd "$demo"
step certctl init repo
cd repo

step certctl define www.demo.test --cn www.demo.test --org "Demo Ltd" --country DE \
	--dns www.demo.test --dns demo.test --check "127.0.0.1:$PORT" --sni www.demo.test

printf '\n==> certctl key generate\n'
id=$(certctl key generate)
echo "$id"
step certctl define www.demo.test --key-id "$id"

step certctl list
step certctl show www.demo.test
step certctl key show "$id"
step certctl log
step certctl fsck

step git log --oneline
step git fsck

step certctl key export "$id" --out ../www.demo.test.key
step openssl pkey -in ../www.demo.test.key -noout -check

# The key ID is the first 16 hex digits of SHA-256 over the public key (SPKI DER).
fp=$(openssl pkey -in ../www.demo.test.key -pubout -outform DER | openssl dgst -sha256 -r | cut -c1-16)
if [ "$fp" != "$id" ]; then
	echo "demo: exported key has ID $fp, not $id" >&2
	exit 1
fi
printf '\nThe exported key matches key %s. Demo done; %s is removed.\n' "$id" "$demo"
