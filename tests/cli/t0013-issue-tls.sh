#!/bin/bash
# Issued certificates in real TLS: a private nginx on 127.0.0.1 serves
# certificates from certctl's CA (a leaf under a subordinate, with the chain
# certctl stored), requires client certificates issued by the CA (given to
# curl as the --p12-out bundle, and as PEM taken out of it by openssl), and
# curl --crlfile with certctl's CRL refuses a revoked server certificate.
# A renewal served after nginx -s reload is the new certificate.
. "$(dirname "$0")/lib.sh"

if ! command -v nginx >/dev/null; then
	skip "nginx is not installed: no TLS server to test against"
	finish
fi
if ! command -v curl >/dev/null; then
	skip "curl is not installed: no TLS client to test with"
	finish
fi

ok_out out certctl -q init repo
cd repo || fail "no repository"
D=$T/nginx
mkdir -p "$D/logs" "$D/tmp"

fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'
}
cur() {
	echo "certs/$1/$(cat "certs/$1/current")"
}
key_id_of_cert() {
	sed -n 's/^key_id: *//p' "$(cur "$1")/cert.yaml"
}
# deploy DEF: cert.pem + chain.pem as nginx's full chain, and the clear key.
deploy() {
	local d
	d=$(cur "$1")
	cat "$d/cert.pem" "$d/chain.pem" >"$D/$1.full.pem"
	cp "$d/cert.pem" "$D/$1.cert.pem"
	rm -f "$D/$1.key"
	certctl -q key export "$(key_id_of_cert "$1")" --out "$D/$1.key" || fail "cannot export the key of $1"
}

# --- the CA and the certificates --------------------------------------------------
ok_out out certctl -q ca init root --key ecdsa:P-256
ok_out out certctl -q ca init sub --parent root --key ecdsa:P-256
ok_out out certctl -q ca init other --key ed25519
ok_out out certctl -q define web --cn web.example.com --dns web.example.com --dns 127.0.0.1.example.com --ip 127.0.0.1 --ca sub
ok_out out certctl -q define good --dns good.example.com --ca root --key rsa:2048
ok_out out certctl -q define revoked --dns revoked.example.com --ca root
ok_out out certctl -q define client --cn "Client One" --profile client --ca root
ok_out out certctl -q define client-sub --cn "Client Sub" --profile client --ca sub --key ed25519
ok_out out certctl -q define client-other --cn "Client Other" --profile client --ca other
ok_out out certctl -q define client-revoked --cn "Client Revoked" --profile client --ca root
for d in web good revoked; do
	ok_out out certctl -q issue "$d"
	deploy "$d"
done
printf 'p12 secret\n' >"$T/p12.pass"
for d in client client-sub client-other client-revoked; do
	ok_out out certctl -q issue "$d" --p12-out "$T/$d.p12" --p12-passphrase-file "$T/p12.pass"
	assert_mode 600 "$T/$d.p12"
done
# The server's chain is the subordinate (no root); the clients' is what
# their CA needs.
assert_eq "$(fp ca/sub/cert.pem)" "$(fp "$(cur web)/chain.pem")" "chain of web"
ok openssl verify -CAfile ca/root/cert.pem -untrusted "$(cur web)/chain.pem" "$(cur web)/cert.pem"
cp ca/root/cert.pem "$T/root.pem"
# PEM certificate and key of the client, taken out of the PKCS#12 by openssl.
openssl pkcs12 -in "$T/client.p12" -passin "file:$T/p12.pass" -clcerts -nokeys -out "$T/client.crt" 2>/dev/null
openssl pkcs12 -in "$T/client.p12" -passin "file:$T/p12.pass" -nocerts -nodes -out "$T/client.key" 2>/dev/null
assert_eq "$(fp "$(cur client)/cert.pem")" "$(fp "$T/client.crt")" "certificate in client.p12"
ok openssl pkey -in "$T/client.key" -noout
# Revoke a server and a client certificate; publish both CRLs.
ok_out out certctl -q ca revoke root revoked --reason keyCompromise
ok_out out certctl -q ca revoke root client-revoked --reason affiliationChanged
ok_out out certctl -q ca crl root --out "$T/root.crl"
ok_out out certctl -q ca crl sub --out "$T/sub.crl"
ok openssl crl -in "$T/root.crl" -CAfile "$T/root.pem" -verify -noout
cat "$T/root.crl" "$T/sub.crl" >"$T/all.crl"
# The CAs nginx trusts for client certificates: root and sub.
cat ca/root/cert.pem ca/sub/cert.pem >"$D/clients-ca.pem"

# --- nginx --------------------------------------------------------------------------
# Four free ports on the loopback interface.
ports=$(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
')
read -r P_WEB P_NOCHAIN P_MTLS P_CRL <<<"$ports"
assert_match "$P_WEB $P_NOCHAIN $P_MTLS $P_CRL" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$' "free ports"

cat >"$D/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $D/nginx.pid;
error_log $D/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $D/tmp/body;
    proxy_temp_path $D/tmp/proxy;
    fastcgi_temp_path $D/tmp/fastcgi;
    uwsgi_temp_path $D/tmp/uwsgi;
    scgi_temp_path $D/tmp/scgi;
    # The leaf and its chain, as a server should send them.
    server {
        listen 127.0.0.1:$P_WEB ssl;
        server_name web.example.com;
        ssl_certificate $D/web.full.pem;
        ssl_certificate_key $D/web.key;
        location / { return 200 "hello from web\n"; }
    }
    # The leaf alone: clients cannot build the chain.
    server {
        listen 127.0.0.1:$P_NOCHAIN ssl;
        server_name web.example.com;
        ssl_certificate $D/web.cert.pem;
        ssl_certificate_key $D/web.key;
        location / { return 200 "no chain\n"; }
    }
    # Client certificates from root or sub required, checked against the CRLs.
    server {
        listen 127.0.0.1:$P_MTLS ssl;
        server_name web.example.com;
        ssl_certificate $D/web.full.pem;
        ssl_certificate_key $D/web.key;
        ssl_verify_client on;
        ssl_client_certificate $D/clients-ca.pem;
        ssl_verify_depth 2;
        ssl_crl $T/all.crl;
        location / { return 200 "client \$ssl_client_s_dn serial \$ssl_client_serial\n"; }
    }
    # A good and a revoked server certificate, chosen by SNI.
    server {
        listen 127.0.0.1:$P_CRL ssl;
        server_name good.example.com;
        ssl_certificate $D/good.full.pem;
        ssl_certificate_key $D/good.key;
        location / { return 200 "good\n"; }
    }
    server {
        listen 127.0.0.1:$P_CRL ssl;
        server_name revoked.example.com;
        ssl_certificate $D/revoked.full.pem;
        ssl_certificate_key $D/revoked.key;
        location / { return 200 "revoked\n"; }
    }
}
EOF
NGINX=(nginx -c "$D/nginx.conf" -p "$D/" -e "$D/logs/error.log")
ok_out out "${NGINX[@]}" -q -t
NGINX_PID=
stop_nginx() {
	if [ -n "$NGINX_PID" ]; then
		kill -TERM "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=
	fi
}
trap stop_nginx EXIT
"${NGINX[@]}" &
NGINX_PID=$!
# listening PORT: true once something accepts connections on PORT.
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for _ in $(seq 100); do
	listening "$P_WEB" && listening "$P_NOCHAIN" && listening "$P_MTLS" && listening "$P_CRL" && break
	kill -0 "$NGINX_PID" 2>/dev/null || break
	sleep 0.05
done
_count
for p in "$P_WEB" "$P_NOCHAIN" "$P_MTLS" "$P_CRL"; do
	listening "$p" || fail "nginx does not listen on 127.0.0.1:$p within 5 s:
$(cat "$D/logs/error.log")"
done

# get NAME PORT [curl options]: GET https://NAME:PORT/ through 127.0.0.1;
# the body (or curl's error) in BODY, the status in CODE, curl's exit in RC.
get() {
	local name=$1 port=$2
	shift 2
	BODY=$(curl -sS --max-time 10 --resolve "$name:$port:127.0.0.1" -w '\n%{http_code}' "$@" \
		"https://$name:$port/" 2>&1)
	RC=$?
	CODE=$(printf '%s\n' "$BODY" | tail -n 1)
	BODY=$(printf '%s\n' "$BODY" | sed '$d')
}
# served NAME PORT: the fingerprint of the certificate the server presents.
served() {
	timeout 10 openssl s_client -connect "127.0.0.1:$2" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'
}

# --- a server certificate and its chain -----------------------------------------------
get web.example.com "$P_WEB" --cacert "$T/root.pem"
assert_eq "0 200" "$RC $CODE" "curl to web with the root"
assert_eq "hello from web" "$BODY" "body from web"
assert_eq "$(fp "$(cur web)/cert.pem")" "$(served web.example.com "$P_WEB")" "certificate nginx presents"
out=$(timeout 10 openssl s_client -connect "127.0.0.1:$P_WEB" -servername web.example.com -CAfile "$T/root.pem" \
	-verify_hostname web.example.com -verify_return_error </dev/null 2>&1)
assert_eq 0 $? "openssl s_client exit status"
assert_contains "$out" "Verify return code: 0 (ok)" "openssl s_client"
assert_match "$out" "^ *1 s:CN ?= ?sub" "the chain nginx sends"
# By IP address (an IP SAN).
get 127.0.0.1 "$P_WEB" --cacert "$T/root.pem"
assert_eq "0 200" "$RC $CODE" "curl to web by its IP address"
# A name the certificate does not have; no trust anchor; no chain.
get wrong.example.com "$P_WEB" --cacert "$T/root.pem"
assert_ne 0 "$RC" "curl exit for a name not in the certificate"
assert_match "$BODY" "subject name|does not match" "curl's error for a wrong name"
get web.example.com "$P_WEB" --cacert ca/other/cert.pem
assert_ne 0 "$RC" "curl exit with another CA as the trust anchor"
get web.example.com "$P_NOCHAIN" --cacert "$T/root.pem"
assert_ne 0 "$RC" "curl exit for a server that does not send the chain"
assert_contains "$BODY" "unable to get local issuer certificate" "curl's error without the chain"
# The CRLs of both levels: the good certificate still passes.
get web.example.com "$P_WEB" --cacert "$T/root.pem" --crlfile "$T/all.crl"
assert_eq "0 200" "$RC $CODE" "curl to web with the CRLs"

# --- client certificates -------------------------------------------------------------
get web.example.com "$P_MTLS" --cacert "$T/root.pem"
assert_eq 400 "$CODE" "HTTP status without a client certificate"
assert_contains "$BODY" "No required SSL certificate was sent" "nginx's answer without a client certificate"
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$T/client.p12:p12 secret" --cert-type P12
assert_eq "0 200" "$RC $CODE" "curl with client.p12"
serial=$(openssl x509 -in "$(cur client)/cert.pem" -noout -serial | sed 's/^serial=//')
assert_eq "client CN=Client One serial $serial" "$BODY" "the client nginx saw"
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$T/client.crt" --key "$T/client.key"
assert_eq "0 200" "$RC $CODE" "curl with the PEM certificate and key from client.p12"
# Under the subordinate: the PKCS#12 carries the chain nginx needs.
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$T/client-sub.p12:p12 secret" --cert-type P12
assert_eq "0 200" "$RC $CODE" "curl with client-sub.p12"
assert_contains "$BODY" "CN=Client Sub" "the client nginx saw"
# Another CA, a revoked client, a server certificate used as a client one.
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$T/client-other.p12:p12 secret" --cert-type P12
assert_eq 400 "$CODE" "HTTP status with a client certificate of another CA"
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$T/client-revoked.p12:p12 secret" --cert-type P12
assert_eq 400 "$CODE" "HTTP status with a revoked client certificate"
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$D/good.cert.pem" --key "$D/good.key"
assert_eq 400 "$CODE" "HTTP status with a server-only certificate as client certificate"
# A wrong PKCS#12 password: curl cannot use it.
get web.example.com "$P_MTLS" --cacert "$T/root.pem" --cert "$T/client.p12:wrong" --cert-type P12
assert_ne 0 "$RC" "curl exit with a wrong PKCS#12 password"

# --- revocation of a server certificate ---------------------------------------------
get good.example.com "$P_CRL" --cacert "$T/root.pem" --crlfile "$T/root.crl"
assert_eq "0 200" "$RC $CODE" "curl to good with the CRL"
assert_eq good "$BODY" "body from good"
assert_eq "$(fp "$(cur good)/cert.pem")" "$(served good.example.com "$P_CRL")" "certificate presented for good"
get revoked.example.com "$P_CRL" --cacert "$T/root.pem"
assert_eq "0 200" "$RC $CODE" "curl to revoked without the CRL"
get revoked.example.com "$P_CRL" --cacert "$T/root.pem" --crlfile "$T/root.crl"
assert_ne 0 "$RC" "curl exit for a revoked server certificate"
assert_contains "$BODY" "revoked" "curl's error for a revoked server certificate"
assert_eq "$(fp "$(cur revoked)/cert.pem")" "$(served revoked.example.com "$P_CRL")" "certificate presented for revoked"

# --- a renewal, served after a reload --------------------------------------------------
old=$(fp "$(cur web)/cert.pem")
ok_out out certctl -q issue web
new=$(fp "$(cur web)/cert.pem")
assert_ne "$old" "$new" "web's certificate after renewal"
deploy web
ok_out out "${NGINX[@]}" -s reload
got=
for _ in $(seq 100); do
	got=$(served web.example.com "$P_WEB")
	[ "$got" = "$new" ] && break
	sleep 0.05
done
assert_eq "$new" "$got" "certificate presented after the reload"
get web.example.com "$P_WEB" --cacert "$T/root.pem" --crlfile "$T/all.crl"
assert_eq "0 200" "$RC $CODE" "curl to the renewed web"

# --- the end: nginx stops ------------------------------------------------------------
ok_out out "${NGINX[@]}" -s quit
wait "$NGINX_PID"
assert_eq 0 $? "nginx exit status"
NGINX_PID=
_count
if listening "$P_WEB"; then
	fail "nginx still listens after quit"
fi
assert_eq "" "$(grep -E '\[(emerg|alert|crit)\]' "$D/logs/error.log")" "serious errors in nginx's log"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"

finish
