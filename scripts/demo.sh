#!/usr/bin/env bash
# certctl demo (make demo): the main job end to end on a throw-away repository
# with the built-in defaults: create the repository and a private CA, define a
# certificate, issue it, deploy it to a local TLS endpoint (openssl s_server
# on 127.0.0.1, restarted by the target's reload command), let the deploy
# check compare what it serves, renew, deploy, roll back, then read
# everything back with the plain git and openssl tools. Needs only bash, git
# and openssl.
#
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

# The definition: what the certificate must be, and where it goes: files a
# TLS server reads, a reload command, and the endpoint of the deploy check.
mkdir -p "$demo/server"
cat >"$demo/restart-server.sh" <<EOF
#!/bin/sh
# The demo's "reload": restart openssl s_server on the deployed files.
if [ -f "$demo/server/pid" ]; then
	kill "\$(cat "$demo/server/pid")" 2>/dev/null && sleep 0.2
fi
openssl s_server -quiet -accept 127.0.0.1:$PORT -cert "$demo/server/cert.pem" \\
	-cert_chain "$demo/server/chain.pem" -key "$demo/server/key.pem" -www \\
	</dev/null >"$demo/server/log" 2>&1 &
echo \$! >"$demo/server/pid"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then exit 0; fi
	sleep 0.1
done
echo "s_server did not start" >&2
exit 1
EOF
chmod +x "$demo/restart-server.sh"
cat >"$demo/www.demo.test.yaml" <<EOF
subject: {cn: www.demo.test, o: Demo Ltd, c: DE}
san: {dns: [www.demo.test, demo.test]}
checks: [{host: 127.0.0.1, port: $PORT, sni: www.demo.test}]
targets:
  - name: web
    type: files
    dir: $demo/server
    cert: cert.pem
    chain: chain.pem
    key: key.pem
    reload: [/bin/bash, $demo/restart-server.sh]
    check: 127.0.0.1:$PORT
    sni: www.demo.test
EOF
trap 'kill "$(cat "$demo/server/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$demo"' EXIT

step certctl define www.demo.test --from "$demo/www.demo.test.yaml"
step certctl ca init demo-root --org "Demo Ltd" --country DE
step certctl ca init demo-issuing --parent demo-root --org "Demo Ltd" --country DE
step certctl define www.demo.test --ca demo-issuing
step certctl issue www.demo.test
step certctl list
step certctl show www.demo.test

# Deploy: write the files beside the old ones, rename them into place, run
# the reload, then connect and compare fingerprints (leaf and intermediate).
step certctl deploy www.demo.test
first=$(cat certs/www.demo.test/current)

# Renew and deploy again; then roll back to the first certificate.
step certctl issue www.demo.test
step certctl deploy www.demo.test
step certctl deploy www.demo.test --rollback
step certctl deployments

cert_id=$(cat certs/www.demo.test/current)
step certctl ca export demo-root --out ../root.pem
printf '\n==> check https://www.demo.test:%s/ (127.0.0.1) with openssl against the CA\n' "$PORT"
served=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername www.demo.test \
	-CAfile ../root.pem -verify_hostname www.demo.test -verify_return_error </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
want=$(sed -n 's/^sha256: //p' "certs/www.demo.test/$first/cert.yaml")
if [ -z "$served" ] || [ "$served" != "$want" ]; then
	echo "demo: the endpoint serves '${served:-nothing verifiable}', not the rolled-back certificate $want" >&2
	exit 1
fi
echo "OK: the endpoint serves the first certificate again (SHA-256 $want), verified by openssl"
echo "    (the current certificate is still $cert_id; 'certctl current' switches it)"
step certctl log www.demo.test

step certctl fsck
step git log --oneline
step git fsck
printf '\nDemo done; %s is removed.\n' "$demo"
