#!/usr/bin/env bash
# certctl demo (make demo): the main job end to end on a throw-away repository
# with the built-in defaults: create the repository and a private CA, define a
# certificate, issue it, serve it from a local TLS endpoint (openssl s_server
# on 127.0.0.1) and check what the endpoint serves, then read everything back
# with the plain git and openssl tools. Needs only bash, git and openssl.
#
# `certctl deploy` and `certctl check` take over the serving and checking
# steps when they land.
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

step certctl ca init demo-root --org "Demo Ltd" --country DE
step certctl issue www.demo.test
step certctl list
step certctl show www.demo.test
step certctl ca issued
step certctl log

cert_id=$(cat certs/www.demo.test/current)
cert=certs/www.demo.test/$cert_id/cert.pem
key_id=$(sed -n 's/^key_id: //p' "certs/www.demo.test/$cert_id/cert.yaml")
step certctl ca export demo-root --out ../root.pem
step openssl verify -CAfile ../root.pem "$cert"

# A local TLS endpoint serving the certificate (the key leaves the repository
# only for this, in a 0600 file of the throw-away directory).
step certctl key export "$key_id" --out ../www.demo.test.key
openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert "$cert" -key ../www.demo.test.key \
	-www >"$demo/s_server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$demo"' EXIT
for _ in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done

printf '\n==> check https://www.demo.test:%s/ (127.0.0.1) against the CA and the repository\n' "$PORT"
served=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername www.demo.test \
	-CAfile ../root.pem -verify_hostname www.demo.test -verify_return_error </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
want=$(sed -n 's/^sha256: //p' "certs/www.demo.test/$cert_id/cert.yaml")
if [ -z "$served" ] || [ "$served" != "$want" ]; then
	echo "demo: the endpoint serves '${served:-nothing verifiable}', not the current certificate $want" >&2
	exit 1
fi
echo "OK: the endpoint serves the current certificate (SHA-256 $want), valid for www.demo.test under demo-root"

step certctl fsck
step git log --oneline
step git fsck
printf '\nDemo done; %s is removed.\n' "$demo"
