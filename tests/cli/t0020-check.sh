#!/bin/bash
# certctl check against real servers started here on 127.0.0.1 free ports:
# openssl s_server (-www) and nginx for plain TLS, aiosmtpd for SMTP
# STARTTLS, a python stand-in for the IMAP, POP3 and FTP STARTTLS, LDAP
# StartTLS and PostgreSQL SSLRequest exchanges (and for a silent port and an
# endless banner), python's http.server for an AIA caIssuers URL.
# Certificates come from a throw-away external PKI (root -> intermediate,
# `openssl ca` for fixed dates, SHA-1 and RSA-1024 leaves, a self-signed
# leaf, a rogue CA) whose root the repository trusts, and from the
# repository's own CAs for lifecycle definitions.
#  1. each server alone is classified by its rule id, status and exit code
#     (valid, expired, not yet valid, 10 and 3 days left, self-signed, wrong
#     host, subject, missing intermediate with and without AIA and for a
#     lifecycle definition, RSA-1024, SHA-1, untrusted CA), then all together
#     (the worst wins: exit 2); bare endpoints in and outside a repository;
#  2. lifecycle: deploy.current, then deploy.not-current after a new issue;
#  3. STARTTLS for SMTP, IMAP, POP3, FTP, LDAP and PostgreSQL, each with the
#     right certificate; a silent banner bounded by --timeout, an endless one
#     cut short;
#  4. a refused port, a silent TLS port within the deadline, 50 endpoints;
#  5. --json, --nagios, the table and -v; exit codes 0/1/2/3;
#  6. one commit per run with its summary and trailers, monitor/DEF.yaml,
#     --no-record, bare endpoints not recorded, monitoring disabled per
#     definition, per check and per target check;
#  7. definitions made by import --from, checks at an address without sni
#     (the name asked for is the name judged), two definitions of one
#     endpoint, one endpoint twice in a definition.
# The cases that fail against the current code come last.
. "$(dirname "$0")/lib.sh"

# Debian's python3 (aiosmtpd is there) for every python3 here, json_check's
# too: a pyenv shim first in PATH may lack the module and starts slowly.
mkdir "$T/bin" && ln -s /usr/bin/python3 "$T/bin/python3" || fail "cannot link python3"
PATH=$T/bin:$PATH

ok_out out certctl -q init repo
cd repo || fail "no repository"
R=$PWD
mkdir -p "$T/logs" "$T/pki" "$T/srv"
X=$T/pki

# --- helpers ------------------------------------------------------------------------------

# fp FILE: the SHA-256 fingerprint of a certificate, lower-case hex (as certctl prints it).
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# free_ports N: N ports free on 127.0.0.1, bound together so that they differ.
# Every server the script started, stopped at the end whatever happens.
PIDS=()
cleanup() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[$i]}"
	done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# launch LOG CMD...: CMD in the background (stdin /dev/null, output to LOG);
# its PID in LAUNCHED and in PIDS.
LAUNCHED=
launch() {
	local log=$1
	shift
	"$@" </dev/null >>"$log" 2>&1 &
	LAUNCHED=$!
	PIDS+=("$LAUNCHED")
}
# drop PID: stop PID (one that did not come up) and take it off PIDS.
drop() {
	local keep=() p
	stop_pid "$1"
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

declare -A PORT
# serve NAME CERT KEY [CHAIN [OPENSSL_CONF]]: openssl s_server -www on a free
# port of 127.0.0.1 presenting CERT (and CHAIN); its port in PORT[NAME].
serve() {
	local name=$1 cert=$2 key=$3 chain=${4:-} conf=${5:-} port args
	args=(-cert "$cert" -key "$key" -www -quiet)
	[ -n "$chain" ] && args+=(-cert_chain "$chain")
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		if [ -n "$conf" ]; then
			launch "$T/logs/$name.log" env OPENSSL_CONF="$conf" openssl s_server -accept "127.0.0.1:$port" "${args[@]}"
		else
			launch "$T/logs/$name.log" openssl s_server -accept "127.0.0.1:$port" "${args[@]}"
		fi
		if wait_listen "$port" "$LAUNCHED"; then
			PORT[$name]=$port
			return 0
		fi
		drop "$LAUNCHED"
	done
	fail "openssl s_server for $name did not start: $(cat "$T/logs/$name.log")"
}

# chk WANT ARGS...: `certctl check ARGS` exits with WANT and says nothing on
# stderr; its stdout in OUT, the time it took in MS (milliseconds).  ARGS
# without --timeout get the default's 10 s times SLOW in a slow run.
OUT=
MS=
chk() {
	local want=$1 t0 rc err limit=()
	shift
	_count
	[ "$SLOW" -gt 1 ] && [[ " $* " != *" --timeout "* ]] && limit=(--timeout "$(slow 10 300)")
	t0=$(date +%s%N)
	OUT=$(certctl check "$@" "${limit[@]}" 2>"$T/chk.err")
	rc=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	err=$(cat "$T/chk.err")
	[ "$rc" = "$want" ] || fail "exit status of 'certctl check $*': expected $want, got $rc
stdout: $OUT
stderr: $err"
	[ -z "$err" ] || fail "'certctl check $*' wrote on stderr: $err"
}
# verdict STATUS RULE RULE_STATUS TEXT [DEF]: $OUT (of check --json) is one
# result of status STATUS (the run's too) for definition DEF (none: a bare
# endpoint) with one finding RULE of status RULE_STATUS whose message has
# TEXT; when not OK the summary is the message of the first finding of the
# worst status.
verdict() {
	V_STATUS=$1 V_RULE=$2 V_RSTATUS=$3 V_TEXT=$4 V_DEF=${5:-} json_check "$OUT" "
import os
e = os.environ
assert d['schema'] == 'certctl.check/1', d
rs = d['results']
assert len(rs) == 1, ('results', len(rs))
r = rs[0]
assert d['status'] == r['status'] == e['V_STATUS'], ('status', d['status'], r['status'])
assert r['definition'] == (e['V_DEF'] or None), ('definition', r['definition'])
fs = [f for f in r['findings'] if f['rule'] == e['V_RULE']]
assert len(fs) == 1, ('no single finding', e['V_RULE'], r['findings'])
assert fs[0]['status'] == e['V_RSTATUS'], fs[0]
assert e['V_TEXT'] in fs[0]['message'], (e['V_TEXT'], fs[0]['message'])
if r['status'] != 'OK':
    worst = [f for f in r['findings'] if f['status'] == r['status']]
    assert r['summary'] == worst[0]['message'], (r['summary'], worst)
"
}
# rules RULE=STATUS...: the findings of the only result of $OUT, in order.
rules() {
	V_RULES="$*" json_check "$OUT" "
import os
got = ' '.join(f['rule'] + '=' + f['status'] for r in d['results'] for f in r['findings'])
assert got == os.environ['V_RULES'], (got, os.environ['V_RULES'])
assert len(d['results']) == 1, len(d['results'])
"
}
# served SHA256: the only result of $OUT presents the certificate of that fingerprint.
served() {
	V_FP=$1 json_check "$OUT" "
import os
assert [r['sha256'] for r in d['results']] == [os.environ['V_FP']], ([r['sha256'] for r in d['results']], os.environ['V_FP'])
"
}
# d8 WHEN: a date for openssl ca (-startdate/-enddate), GeneralizedTime.
d8() {
	date -u -d "$1" +%Y%m%d%H%M%SZ
}

# --- the repository's CAs -----------------------------------------------------------------
ok_out out certctl -q ca init root
ok_out out certctl -q ca init sub --parent root

# --- an external PKI: root -> intermediate, leaves by `openssl ca` ---------------------------
# The AIA server first: its URL goes into a certificate.
mkdir "$X/aia"
AIA_PID=
for _ in 1 2 3 4 5; do
	AIA_PORT=$(free_port)
	launch "$T/logs/aia.log" /usr/bin/python3 -m http.server "$AIA_PORT" --bind 127.0.0.1 --directory "$X/aia"
	AIA_PID=$LAUNCHED
	wait_listen "$AIA_PORT" "$AIA_PID" && break
	drop "$AIA_PID"
	AIA_PID=
done
_count
[ -n "$AIA_PID" ] || fail "no http.server for the AIA URL: $(cat "$T/logs/aia.log")"
AIA_URL=http://127.0.0.1:$AIA_PORT/int.der

(
	cd "$X" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
		-subj "/CN=Test Ext Root/O=Testbed" -days 3650 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key \
			-subj "/CN=Test Ext Int/O=Testbed" -out int.csr 2>/dev/null &&
		printf '%s\n' basicConstraints=critical,CA:TRUE,pathlen:0 keyUsage=critical,keyCertSign,cRLSign >int.ext &&
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -days 3650 -extfile int.ext \
			-out int.pem 2>/dev/null &&
		openssl x509 -in int.pem -outform DER -out aia/int.der &&
		# A CA the repository does not trust (nor the system bundle).
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key -out rogue.pem \
			-subj "/CN=Rogue Root" -days 3650 -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		mkdir newcerts && : >index.txt && echo 1000 >serial
) || fail "cannot make the external PKI"
cat >"$X/ca.cnf" <<EOF
[ca]
default_ca = ext
[ext]
database = $X/index.txt
new_certs_dir = $X/newcerts
serial = $X/serial
certificate = $X/int.pem
private_key = $X/int.key
default_md = sha256
policy = any
preserve = yes
unique_subject = no
copy_extensions = none
email_in_dn = no
[any]
commonName = supplied
organizationName = optional
EOF
# leaf NAME START END [KEY [MD [AIA]]]: $X/NAME.pem (CN=NAME, O=Testbed,
# DNS:NAME) and $X/NAME.key, issued by the external intermediate from START
# to END (openssl ca dates), KEY ec (P-256) or rsa:1024, signed with MD;
# $X/NAME.full is the leaf and the intermediate.
leaf() {
	local name=$1 start=$2 end=$3 key=${4:-ec} md=${5:-sha256} aia=${6:-} newkey
	case $key in
	ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	*) newkey=(-newkey "$key") ;;
	esac
	{
		echo "[ext]"
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=serverAuth"
		echo "subjectAltName=DNS:$name"
		[ -z "$aia" ] || echo "authorityInfoAccess=caIssuers;URI:$aia"
	} >"$X/$name.ext"
	openssl req -new "${newkey[@]}" -nodes -keyout "$X/$name.key" -subj "/CN=$name/O=Testbed" \
		-out "$X/$name.csr" 2>/dev/null &&
		openssl ca -batch -config "$X/ca.cnf" -startdate "$start" -enddate "$end" -md "$md" \
			-in "$X/$name.csr" -out "$X/$name.pem" -extfile "$X/$name.ext" -extensions ext -notext \
			2>>"$T/logs/ca.log" &&
		cat "$X/$name.pem" "$X/int.pem" >"$X/$name.full" ||
		fail "cannot make the certificate $name: $(tail -5 "$T/logs/ca.log")"
}
NOW=$(d8 '-1 hour')
LATER=$(d8 '+90 days')
leaf valid.test "$NOW" "$LATER"
leaf expired.test "$(d8 '-400 days')" "$(d8 '-40 days')"
leaf notyet.test "$(d8 '+30 days')" "$(d8 '+120 days')"
leaf soon10.test "$NOW" "$(d8 '+10 days +3 hours')"
leaf soon3.test "$NOW" "$(d8 '+3 days +3 hours')"
leaf other.test "$NOW" "$LATER"
leaf aia.test "$NOW" "$LATER" ec sha256 "$AIA_URL"
leaf noaia.test "$NOW" "$LATER"
leaf weak.test "$NOW" "$LATER" rsa:1024
leaf sha1.test "$NOW" "$LATER" ec sha1
for p in mail imap pop3 ftp ldap pg; do
	leaf "$p.test" "$NOW" "$LATER"
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$X/selfsigned.test.key" \
	-out "$X/selfsigned.test.pem" -subj "/CN=selfsigned.test/O=Testbed" -days 90 \
	-addext subjectAltName=DNS:selfsigned.test -addext basicConstraints=critical,CA:FALSE 2>/dev/null ||
	fail "cannot make the self-signed certificate"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$X/rogue.test.key" \
	-subj "/CN=rogue.test/O=Testbed" -out "$X/rogue.test.csr" 2>/dev/null &&
	openssl x509 -req -in "$X/rogue.test.csr" -CA "$X/rogue.pem" -CAkey "$X/rogue.key" -days 90 \
		-extfile <(sed 's/DNS:valid.test/DNS:rogue.test/' "$X/valid.test.ext") -extensions ext \
		-out "$X/rogue.test.pem" 2>/dev/null || fail "cannot make the certificate of the rogue CA"
# An intermediate with a P-224 key (a leaf's key must be one the TLS client
# offers, an intermediate's need not).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-224 -nodes -keyout "$X/weakint.key" \
	-subj "/CN=Weak Int/O=Testbed" -out "$X/weakint.csr" 2>/dev/null &&
	openssl x509 -req -in "$X/weakint.csr" -CA "$X/root.pem" -CAkey "$X/root.key" -days 3650 \
		-extfile "$X/int.ext" -out "$X/weakint.pem" 2>/dev/null &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$X/weakint.test.key" \
		-subj "/CN=weakint.test/O=Testbed" -out "$X/weakint.test.csr" 2>/dev/null &&
	openssl x509 -req -in "$X/weakint.test.csr" -CA "$X/weakint.pem" -CAkey "$X/weakint.key" -days 90 \
		-extfile <(sed 's/DNS:valid.test/DNS:weakint.test/' "$X/valid.test.ext") -extensions ext \
		-out "$X/weakint.test.pem" 2>/dev/null || fail "cannot make the certificate of the weak intermediate"
# The fixtures are what they claim (checked with openssl, not certctl).
ok openssl verify -CAfile "$X/root.pem" -untrusted "$X/int.pem" "$X/valid.test.pem"
ok openssl verify -CAfile "$X/rogue.pem" "$X/rogue.test.pem"
assert_match "$(openssl x509 -in "$X/sha1.test.pem" -noout -text)" "Signature Algorithm: ecdsa-with-SHA1" "the SHA-1 fixture"
assert_contains "$(openssl x509 -in "$X/weak.test.pem" -noout -text)" "Public-Key: (1024 bit)" "the RSA-1024 fixture"
assert_contains "$(openssl x509 -in "$X/expired.test.pem" -noout -checkend 0)" "will expire" "the expired fixture"
assert_contains "$(openssl x509 -in "$X/aia.test.pem" -noout -text)" "CA Issuers - URI:$AIA_URL" "the AIA fixture"
# An OPENSSL_CONF for servers that present weak certificates.
cat >"$T/weak.cnf" <<'EOF'
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT@SECLEVEL=0
EOF
# The repository trusts the external root (not its intermediate).
ok_out out certctl -q trust add "$X/root.pem"

# --- the servers ----------------------------------------------------------------------------
# nginx presents valid.test with its intermediate, on one port and on 50 more.
N=$T/ngx
mkdir -p "$N/logs" "$N/tmp"
NGINX=(nginx -c "$N/nginx.conf" -p "$N/" -e "$N/logs/error.log")
NGINX_PID=
for _ in 1 2 3 4 5; do
	read -r -a ports <<<"$(free_ports 51)"
	PORT[valid]=${ports[0]}
	MANY=("${ports[@]:1}")
	listens=$(printf '        listen 127.0.0.1:%s ssl;\n' "${MANY[@]}")
	cat >"$N/nginx.conf" <<NGX
daemon off;
master_process on;
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    server {
        listen 127.0.0.1:${PORT[valid]} ssl http2;
$listens
        server_name valid.test;
        ssl_certificate $X/valid.test.full;
        ssl_certificate_key $X/valid.test.key;
        location / { return 200 "hello\n"; }
    }
}
NGX
	launch "$T/logs/nginx.log" "${NGINX[@]}"
	NGINX_PID=$LAUNCHED
	wait_listen "${PORT[valid]}" "$NGINX_PID" && break
	drop "$NGINX_PID"
	NGINX_PID=
done
_count
[ -n "$NGINX_PID" ] || fail "no nginx: $(cat "$T/logs/nginx.log" "$N/logs/error.log" 2>/dev/null)"
for n in expired notyet soon10 soon3 other; do
	serve $n "$X/$n.test.pem" "$X/$n.test.key" "$X/int.pem"
done
# Second servers of the same certificates, for definitions of their own.
serve valid2 "$X/valid.test.pem" "$X/valid.test.key" "$X/int.pem"
serve soon10b "$X/soon10.test.pem" "$X/soon10.test.key" "$X/int.pem"
serve selfsigned "$X/selfsigned.test.pem" "$X/selfsigned.test.key"
# The leaf alone: with and without a CA issuers URL.
serve aia "$X/aia.test.pem" "$X/aia.test.key"
serve noaia "$X/noaia.test.pem" "$X/noaia.test.key"
serve weak "$X/weak.test.pem" "$X/weak.test.key" "$X/int.pem" "$T/weak.cnf"
serve weakint "$X/weakint.test.pem" "$X/weakint.test.key" "$X/weakint.pem" "$T/weak.cnf"
serve sha1 "$X/sha1.test.pem" "$X/sha1.test.key" "$X/int.pem" "$T/weak.cnf"
serve rogue "$X/rogue.test.pem" "$X/rogue.test.key" "$X/rogue.pem"
# A lifecycle definition issued by the repository's sub CA, presented without its intermediate.
ok_out out certctl -q define lcnoint.example.com --ca sub
ok_out out certctl -q issue lcnoint.example.com
mkdir "$T/srv/lcnoint"
ok_out out certctl -q export lcnoint.example.com --out "$T/srv/lcnoint" --with-key
serve lcnoint "$T/srv/lcnoint/cert.pem" "$T/srv/lcnoint/key.pem"
LCNOINT_FP=$(fp "$T/srv/lcnoint/cert.pem")
assert_eq "$LCNOINT_FP" "$(fp "certs/lcnoint.example.com/$(cat certs/lcnoint.example.com/current)/cert.pem")" \
	"the exported certificate is current"
ok_out out certctl -q define lcnoint.example.com --check "127.0.0.1:${PORT[lcnoint]}" --sni lcnoint.example.com

# The monitored-only definitions, one per server.
mon() {
	local name=$1 port=$2
	shift 2
	ok_out out certctl -q define "$name" --mode monitor --check "127.0.0.1:$port" "$@"
}
mon valid.test "${PORT[valid]}" --sni valid.test --org Testbed
mon valid-org "${PORT[valid2]}" --sni valid.test --cn valid.test --dns valid.test --org "Other Org"
for n in expired notyet soon3 selfsigned aia noaia weak sha1 rogue; do
	mon $n.test "${PORT[$n]}" --sni $n.test
done
mon soon10.test "${PORT[soon10]}" --sni soon10.test --warning 30d --critical 7d
mon soon10-relaxed "${PORT[soon10b]}" --sni soon10.test --cn soon10.test --dns soon10.test --warning 5d --critical 2d
mon wronghost.test "${PORT[other]}" --sni wronghost.test
yaml_has definitions/soon10.test.yaml "  warning: 30d"
yaml_has definitions/soon10-relaxed.yaml "  critical: 2d"
yaml_has definitions/aia.test.yaml "mode: monitor"

# === 1. each server alone, then all together ====================================================
C0=$(commits)
chk 0 valid.test --json --no-record
verdict OK validity.ok OK "expires in 89 days" valid.test
rules validity.ok=OK chain.trusted=OK name.ok=OK subject.ok=OK strength.ok=OK
served "$(fp "$X/valid.test.pem")"
chk 2 expired.test --json --no-record
verdict CRITICAL validity.expired CRITICAL "expired 40 days ago" expired.test
NB=$(date -u -d "$(openssl x509 -in "$X/notyet.test.pem" -noout -startdate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
chk 2 notyet.test --json --no-record
verdict CRITICAL validity.not-yet-valid CRITICAL "not valid before $NB" notyet.test
chk 1 soon10.test --json --no-record
verdict WARNING validity.warning WARNING "expires in 10 days" soon10.test
rules validity.warning=WARNING chain.trusted=OK name.ok=OK subject.ok=OK strength.ok=OK
chk 0 soon10-relaxed --json --no-record
verdict OK validity.ok OK "expires in 10 days" soon10-relaxed
chk 2 soon3.test --json --no-record
verdict CRITICAL validity.critical CRITICAL "expires in 3 days" soon3.test
chk 2 selfsigned.test --json --no-record
verdict CRITICAL chain.untrusted CRITICAL "self-signed certificate" selfsigned.test
rules validity.ok=OK chain.untrusted=CRITICAL eku.missing-serverauth=CRITICAL name.ok=OK subject.ok=OK strength.ok=OK
chk 2 wronghost.test --json --no-record
verdict CRITICAL name.mismatch CRITICAL "not valid for wronghost.test" wronghost.test
verdict CRITICAL subject.mismatch WARNING "the common name is not 'wronghost.test'" wronghost.test
chk 1 valid-org --json --no-record
verdict WARNING subject.mismatch WARNING "the organization is not 'Other Org'" valid-org
rules validity.ok=OK chain.trusted=OK name.ok=OK subject.mismatch=WARNING strength.ok=OK
chk 1 aia.test --json --no-record
verdict WARNING chain.missing-intermediate WARNING "does not send the intermediate" aia.test
verdict WARNING chain.missing-intermediate WARNING "Test Ext Int" aia.test
verdict WARNING chain.missing-intermediate WARNING "(fetched from $AIA_URL)" aia.test
rules validity.ok=OK chain.missing-intermediate=WARNING name.ok=OK subject.ok=OK strength.ok=OK
assert_contains "$(cat "$T/logs/aia.log")" '"GET /int.der HTTP/1.1" 200' "the AIA server's log"
chk 2 noaia.test --json --no-record
verdict CRITICAL chain.untrusted CRITICAL "the chain is incomplete" noaia.test
verdict CRITICAL chain.untrusted CRITICAL "names no CA issuers URL" noaia.test
chk 2 weak.test --json --no-record
verdict CRITICAL key.rsa-too-small CRITICAL "RSA key of 1024 bits" weak.test
rules validity.ok=OK chain.trusted=OK name.ok=OK subject.ok=OK key.rsa-too-small=CRITICAL
chk 2 sha1.test --json --no-record
verdict CRITICAL signature.sha1 CRITICAL "signed with SHA1" sha1.test
chk 2 rogue.test --json --no-record
verdict CRITICAL chain.untrusted CRITICAL "self-signed certificate in certificate chain" rogue.test
chk 2 lcnoint.example.com --json --no-record
verdict CRITICAL chain.missing-intermediate CRITICAL "does not send the intermediate CN=sub" lcnoint.example.com
rules validity.ok=OK chain.missing-intermediate=CRITICAL strength.ok=OK
served "$LCNOINT_FP"
assert_eq "$C0" "$(commits)" "commits after runs with --no-record"

# Bare endpoints: 30/7 days, the repository's default trust set (the
# system bundle, the repository's CAs and trust/default), never recorded.
chk 1 "127.0.0.1:${PORT[soon10]}" --sni soon10.test --json
verdict WARNING validity.warning WARNING "expires in 10 days"
rules validity.warning=WARNING chain.trusted=OK name.ok=OK strength.ok=OK
chk 2 "127.0.0.1:${PORT[soon3]}" --sni soon3.test --json
verdict CRITICAL validity.critical CRITICAL "expires in 3 days"
chk 0 "127.0.0.1:${PORT[valid]}" --sni valid.test --json
verdict OK chain.trusted OK "the chain verifies against trust set default"
rules validity.ok=OK chain.trusted=OK name.ok=OK strength.ok=OK
# The repository's sub CA issued it: it verifies inside, but the server
# leaves out the intermediate, which other clients will miss.
chk 1 "127.0.0.1:${PORT[lcnoint]}" --sni lcnoint.example.com --json
verdict WARNING chain.missing-intermediate WARNING "does not send the intermediate CN=sub"
rules validity.ok=OK chain.missing-intermediate=WARNING name.ok=OK strength.ok=OK
# The strength rules look at the intermediates too.
chk 2 "127.0.0.1:${PORT[weakint]}" --sni weakint.test --json
verdict CRITICAL key.ec-too-small CRITICAL "O=Testbed,CN=Weak Int has an EC key of 224 bits (at least 256 needed)"
rules validity.ok=OK chain.trusted=OK name.ok=OK key.ec-too-small=CRITICAL
# Without a name, an address is checked against the IP addresses of the certificate.
chk 2 "127.0.0.1:${PORT[valid]}" --json
verdict CRITICAL name.mismatch CRITICAL "not valid for 127.0.0.1"
chk 0 "localhost:${PORT[valid]}" --sni valid.test --json
verdict OK name.ok OK "valid for valid.test"
chk 2 "127.0.0.1:${PORT[selfsigned]}" "127.0.0.1:${PORT[soon10]}" --sni selfsigned.test --json
json_check "$OUT" "
assert d['status'] == 'CRITICAL', d['status']
assert [r['status'] for r in d['results']] == ['CRITICAL', 'CRITICAL'], d['results']
assert [f['rule'] for f in d['results'][1]['findings'] if f['status'] != 'OK'] == ['validity.warning', 'name.mismatch'], d['results'][1]
"
assert_eq "$C0" "$(commits)" "commits after checks of bare endpoints"
# Outside a repository: the system bundle alone.
cd "$T" || fail "no $T"
chk 2 "127.0.0.1:${PORT[valid]}" --sni valid.test --json
verdict CRITICAL chain.untrusted CRITICAL "trust set 'default'"
rules validity.ok=OK chain.untrusted=CRITICAL name.ok=OK strength.ok=OK
chk 2 "127.0.0.1:${PORT[lcnoint]}" --sni lcnoint.example.com --json
verdict CRITICAL chain.untrusted CRITICAL "the chain is incomplete"
chk 2 "127.0.0.1:${PORT[soon10]}" --sni soon10.test --nagios
assert_match "$OUT" "^CERTCTL CRITICAL - 1 endpoint: 1 critical, 0 warning, 0 unknown, 0 ok; 127\.0\.0\.1:${PORT[soon10]} the chain is incomplete" \
	"the plugin line outside a repository"
cd "$R" || fail "no $R"

# All together: every monitored definition; the worst status wins.
declare -A WANT=([valid.test]=OK [valid-org]=WARNING [expired.test]=CRITICAL [notyet.test]=CRITICAL
	[soon10.test]=WARNING [soon10-relaxed]=OK [soon3.test]=CRITICAL [selfsigned.test]=CRITICAL
	[wronghost.test]=CRITICAL [aia.test]=WARNING [noaia.test]=CRITICAL [weak.test]=CRITICAL
	[sha1.test]=CRITICAL [rogue.test]=CRITICAL [lcnoint.example.com]=CRITICAL)
want_map() {
	local k
	for k in "${!WANT[@]}"; do
		printf '%s=%s\n' "$k" "${WANT[$k]}"
	done | sort | tr '\n' ' '
}
chk 2 --json
V_WANT=$(want_map) json_check "$OUT" "
import os
got = ' '.join(sorted('%s=%s' % (r['definition'], r['status']) for r in d['results'])) + ' '
assert got == os.environ['V_WANT'], (got, os.environ['V_WANT'])
assert d['status'] == 'CRITICAL', d['status']
assert all(r['host'] == '127.0.0.1' and r['target'] is None and r['starttls'] is None for r in d['results'])
"
assert_eq $((C0 + 1)) "$(commits)" "commits after a check of every definition"
assert_eq "check: 15 endpoints of 15 definitions: 10 CRITICAL, 3 WARNING, 2 OK" "$(git log -1 --format=%s)" \
	"the summary of the check commit"
# The table: one line per endpoint, STATUS DEFINITION ENDPOINT SUMMARY.
chk 2 --no-record
assert_eq 15 "$(printf '%s\n' "$OUT" | grep -c .)" "lines of the table"
assert_match "$OUT" "^OK +valid\.test +127\.0\.0\.1:${PORT[valid]} +expires in 89 days \([0-9T:-]+Z\)\$" "the table"
assert_match "$OUT" "^WARNING +soon10\.test +127\.0\.0\.1:${PORT[soon10]} +expires in 10 days " "the table"
assert_match "$OUT" "^CRITICAL +weak\.test +127\.0\.0\.1:${PORT[weak]} +the certificate has an RSA key of 1024 bits" "the table"
assert_match "$OUT" "^CRITICAL +wronghost\.test +127\.0\.0\.1:${PORT[other]} +not valid for wronghost\.test\$" "the table"

# === 2. lifecycle: the current certificate, then a newer one ====================================
ok_out out certctl -q define web.example.com --ca sub
ok_out out certctl -q issue web.example.com
mkdir "$T/srv/web"
ok_out out certctl -q export web.example.com --out "$T/srv/web" --with-key
OLD_FP=$(fp "$T/srv/web/cert.pem")
serve web "$T/srv/web/cert.pem" "$T/srv/web/key.pem" "$T/srv/web/chain.pem"
# Its endpoint is the deploy check of a target.
cat >"$T/web.yaml" <<EOF2
mode: lifecycle
subject:
  cn: web.example.com
san:
  dns: [web.example.com]
ca: sub
targets:
  - name: site
    type: files
    cert: $T/srv/site/cert.pem
    check:
      host: 127.0.0.1
      port: ${PORT[web]}
      sni: web.example.com
EOF2
ok_out out certctl -q define web.example.com --from "$T/web.yaml"
chk 0 web.example.com --json --no-record
verdict OK deploy.current OK "serves the current certificate with its intermediates" web.example.com
rules validity.ok=OK deploy.current=OK strength.ok=OK
served "$OLD_FP"
json_check "$OUT" "
r = d['results'][0]
assert r['target'] == 'site', r
assert r['chain'] == ['CN=sub'], r['chain']
assert r['port'] == ${PORT[web]} and r['sni'] == 'web.example.com', r
"
ok_out out certctl -q issue web.example.com
NEW_FP=$(fp "certs/web.example.com/$(cat certs/web.example.com/current)/cert.pem")
assert_ne "$OLD_FP" "$NEW_FP" "the new certificate"
chk 2 web.example.com --json --no-record
verdict CRITICAL deploy.not-current CRITICAL "serves $OLD_FP (CN=web.example.com), not the current certificate $NEW_FP" web.example.com
rules validity.ok=OK deploy.not-current=CRITICAL strength.ok=OK
chk 2 web.example.com -v --no-record
assert_match "$OUT" "^CRITICAL +web\.example\.com +127\.0\.0\.1:${PORT[web]} +serves $OLD_FP " "the table"
assert_match "$OUT" "^ +CRITICAL +deploy\.not-current +serves $OLD_FP \(CN=web\.example\.com\), not the current certificate $NEW_FP\$" "the findings of -v"
# 90 days when the check runs within the second the certificate was issued
assert_match "$OUT" "^ +OK +validity\.ok +expires in (89|90) days" "the findings of -v"

# === 3. STARTTLS ================================================================================
# SMTP: aiosmtpd (Debian's python3-aiosmtpd) requiring STARTTLS.
cat >"$T/smtp.py" <<'PY'
import signal, ssl, sys
from aiosmtpd.controller import Controller

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

port, ready, cert, key = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=ctx,
               require_starttls=True, ready_timeout=5)
c.start()
with open(ready, "w") as f:
    f.write("ready\n")
while True:
    signal.pause()
PY
# The stand-in: SPEC NAME:PROTO:CERT:KEY per listener, each on a port of its
# own (written to READY as "NAME PORT" lines).  PROTO: imap, pop3, ftp,
# ldap, postgres (the plain-text exchange, then TLS), silent (accepts and
# never says a word), endless (a "220-" banner that never ends).
cat >"$T/standin.py" <<'PY'
import signal, socket, ssl, sys, threading, time

LDAP_OID = b"1.3.6.1.4.1.1466.20037"
# ExtendedResponse, messageID 1, resultCode success, empty matchedDN and diagnosticMessage.
LDAP_OK = bytes([0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])
PG_SSLREQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"

def readline(c):
    buf = b""
    while not buf.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            raise EOFError("closed")
        buf += b
    return buf

def readn(c, n):
    buf = b""
    while len(buf) < n:
        b = c.recv(n - len(buf))
        if not b:
            raise EOFError("closed")
        buf += b
    return buf

def tls(c, ctx):
    s = ctx.wrap_socket(c, server_side=True)
    try:
        s.recv(1)
    except Exception:
        pass
    s.close()

def handle(c, proto, ctx):
    try:
        c.settimeout(60)
        if proto == "silent":
            while c.recv(1024):
                pass
            return
        if proto == "endless":
            line = b"220-" + b"x" * 70 + b"\r\n"
            while True:
                c.sendall(line * 16)
        if proto == "imap":
            c.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] stand-in IMAP ready\r\n")
            tag, cmd = readline(c).split(None, 1)
            if cmd.strip().upper() != b"STARTTLS":
                c.sendall(tag + b" BAD expected STARTTLS\r\n")
                return
            c.sendall(b"* NOTE untagged line before the answer\r\n" + tag + b" OK Begin TLS negotiation now\r\n")
        elif proto == "pop3":
            c.sendall(b"+OK stand-in POP3 ready\r\n")
            if readline(c).strip().upper() != b"STLS":
                c.sendall(b"-ERR expected STLS\r\n")
                return
            c.sendall(b"+OK Begin TLS negotiation\r\n")
        elif proto == "ftp":
            c.sendall(b"220-stand-in FTP\r\n220-with a banner\r\n220 of three lines\r\n")
            if readline(c).strip().upper() != b"AUTH TLS":
                c.sendall(b"504 expected AUTH TLS\r\n")
                return
            c.sendall(b"234 AUTH TLS successful\r\n")
        elif proto == "ldap":
            head = readn(c, 2)
            body = readn(c, head[1])
            if head[0] != 0x30 or LDAP_OID not in body:
                return
            c.sendall(LDAP_OK)
        elif proto == "postgres":
            if readn(c, 8) != PG_SSLREQUEST:
                c.sendall(b"N")
                return
            c.sendall(b"S")
        tls(c, ctx)
    except Exception as e:
        print(proto, "connection:", e, file=sys.stderr, flush=True)
    finally:
        c.close()

def serve(sock, proto, ctx):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=handle, args=(c, proto, ctx), daemon=True).start()

ready = sys.argv[1]
lines = []
for spec in sys.argv[2:]:
    name, proto, cert, key = spec.split(":")
    ctx = None
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    lines.append("%s %d\n" % (name, s.getsockname()[1]))
    threading.Thread(target=serve, args=(s, proto, ctx), daemon=True).start()
with open(ready + ".tmp", "w") as f:
    f.writelines(lines)
import os
os.rename(ready + ".tmp", ready)
while True:
    signal.pause()
PY
SMTP_PID=
for _ in 1 2 3 4 5; do
	PORT[smtp]=$(free_port)
	rm -f "$T/smtp.ready"
	launch "$T/logs/smtp.log" /usr/bin/python3 "$T/smtp.py" "${PORT[smtp]}" "$T/smtp.ready" \
		"$X/mail.test.full" "$X/mail.test.key"
	SMTP_PID=$LAUNCHED
	for _ in $(seq 100); do
		[ -s "$T/smtp.ready" ] && break
		alive "$SMTP_PID" || break
		sleep 0.05
	done
	[ -s "$T/smtp.ready" ] && break
	drop "$SMTP_PID"
	SMTP_PID=
done
_count
[ -n "$SMTP_PID" ] || fail "aiosmtpd did not start: $(cat "$T/logs/smtp.log")"
specs=()
for p in imap pop3 ftp ldap pg; do
	proto=$p
	[ $p = pg ] && proto=postgres
	specs+=("$p:$proto:$X/$p.test.full:$X/$p.test.key")
done
specs+=(silent:silent:: endless:endless::)
launch "$T/logs/standin.log" /usr/bin/python3 "$T/standin.py" "$T/standin.ready" "${specs[@]}"
STANDIN_PID=$LAUNCHED
for _ in $(seq 100); do
	[ -s "$T/standin.ready" ] && break
	alive "$STANDIN_PID" || break
	sleep 0.05
done
_count
[ -s "$T/standin.ready" ] || fail "the stand-in server did not start: $(cat "$T/logs/standin.log")"
while read -r name port; do
	PORT[$name]=$port
done <"$T/standin.ready"

# SMTP, a bare endpoint: the certificate of mail.test.
chk 0 "127.0.0.1:${PORT[smtp]}" --starttls smtp --sni mail.test --json
served "$(fp "$X/mail.test.pem")"
verdict OK chain.trusted OK "trust set default"
rules validity.ok=OK chain.trusted=OK name.ok=OK strength.ok=OK
json_check "$OUT" "
r = d['results'][0]
assert r['starttls'] == 'smtp' and r['sni'] == 'mail.test' and r['address'] == '127.0.0.1:${PORT[smtp]}', r
assert r['protocol'].startswith('TLSv1.'), r
"
# Without STARTTLS, the SMTP server's banner is no TLS handshake.
chk 2 "127.0.0.1:${PORT[smtp]}" --sni mail.test --json --timeout "$(slow 3 300)"
verdict CRITICAL tls.handshake CRITICAL "TLS handshake failed"
# A definition with an SMTP STARTTLS check.
cat >"$T/mail.yaml" <<EOF2
mode: monitor
subject:
  cn: mail.test
checks:
  - host: 127.0.0.1
    port: ${PORT[smtp]}
    starttls: smtp
    sni: mail.test
EOF2
ok_out out certctl -q define mail.test --from "$T/mail.yaml"
chk 0 mail.test --json --no-record
verdict OK subject.ok OK "the subject is the definition's" mail.test
rules validity.ok=OK chain.trusted=OK name.ok=OK subject.ok=OK strength.ok=OK
served "$(fp "$X/mail.test.pem")"
json_check "$OUT" "assert d['results'][0]['starttls'] == 'smtp', d"
# IMAP, POP3, FTP, LDAP StartTLS, PostgreSQL SSLRequest: each its own certificate.
for p in imap pop3 ftp ldap pg; do
	proto=$p
	[ $p = pg ] && proto=postgres
	chk 0 "127.0.0.1:${PORT[$p]}" --starttls $proto --sni $p.test --json
	served "$(fp "$X/$p.test.pem")"
	verdict OK name.ok OK "valid for $p.test"
	json_check "$OUT" "assert d['results'][0]['starttls'] == '$proto', d"
done
# A definition made with certctl define --starttls, and every protocol at once.
ok_out out certctl -q define imap.test --mode monitor --check "127.0.0.1:${PORT[imap]}" --sni imap.test --starttls imap
yaml_has definitions/imap.test.yaml "  starttls: imap"
chk 0 imap.test --json --no-record
served "$(fp "$X/imap.test.pem")"
chk 0 "127.0.0.1:${PORT[ldap]}" "127.0.0.1:${PORT[ldap]}" --starttls ldap --sni ldap.test --json
json_check "$OUT" "assert [r['status'] for r in d['results']] == ['OK', 'OK'], d"
# The wrong protocol: a clear failure, not a hang.
chk 2 "127.0.0.1:${PORT[pop3]}" --starttls imap --sni pop3.test --json --timeout 5
verdict CRITICAL connect.failed CRITICAL "imap STARTTLS: expected '* OK', the server said '+OK stand-in POP3 ready'"
chk 2 "127.0.0.1:${PORT[ftp]}" --starttls smtp --sni ftp.test --json --timeout "$(slow 5 300)"
verdict CRITICAL connect.failed CRITICAL "expected 250, the server said '504 expected AUTH TLS'"
assert_within_ms 5000 "$MS" "a refused STARTTLS ends before the time limit"
# A server that never sends its banner: bounded by --timeout.
chk 2 "127.0.0.1:${PORT[silent]}" --starttls smtp --timeout 2 --json
verdict CRITICAL connect.failed CRITICAL "timed out waiting for STARTTLS after"
assert_within_ms 4000 "$MS" "the silent banner ends at the time limit" 1900
# An endless banner: cut short, long before the time limit.
chk 2 "127.0.0.1:${PORT[endless]}" --starttls smtp --timeout "$(slow 10 300)" --json
verdict CRITICAL connect.failed CRITICAL "smtp STARTTLS: the server talks on and on"
assert_within_ms 3000 "$MS" "the endless banner ends well within the time limit"
alive "$STANDIN_PID"
assert_eq 0 $? "the stand-in server survives"

# === 4. dead hosts, many endpoints ===============================================================
# A port nobody accepts on: refused at once.
DEAD=$(free_port)
listening "$DEAD" && fail "port $DEAD accepts"
chk 2 "127.0.0.1:$DEAD" --json --timeout 5
verdict CRITICAL connect.failed CRITICAL "cannot connect: Connection refused"
assert_within_ms 2000 "$MS" "a refused connection is CRITICAL at once"
json_check "$OUT" "
r = d['results'][0]
assert r['sha256'] is None and r['days_left'] is None and r['chain'] == [], r
assert r['summary'] == 'cannot connect: Connection refused', r['summary']
"
# A port that accepts and never speaks: timed out within the deadline.
chk 2 "127.0.0.1:${PORT[silent]}" --json --timeout 2
verdict CRITICAL connect.failed CRITICAL "timed out in the TLS handshake after"
assert_within_ms 5000 "$MS" "the silent port ends at --timeout 2" 1900
# Not TLS at all (the AIA web server): the handshake fails.
chk 2 "127.0.0.1:$AIA_PORT" --json --timeout "$(slow 5 300)"
verdict CRITICAL tls.handshake CRITICAL "TLS handshake failed"
# Dead and live endpoints together: the dead do not hold the others up.
# (At most 30 s in a slow run: the stand-in drops a silent connection at 60 s.)
chk 2 "127.0.0.1:$DEAD" "127.0.0.1:${PORT[silent]}" "127.0.0.1:${PORT[valid]}" --sni valid.test \
	--timeout "$(slow 2 30)" --json
json_check "$OUT" "
st = [(r['port'], r['status'], r['findings'][0]['rule']) for r in d['results']]
assert st == [($DEAD, 'CRITICAL', 'connect.failed'), (${PORT[silent]}, 'CRITICAL', 'connect.failed'),
              (${PORT[valid]}, 'OK', 'validity.ok')], st
"
assert_within_ms 5000 "$MS" "three endpoints, one silent, within --timeout 2"
# 50 endpoints (50 ports of one nginx), 10 at a time; the results in the order given.
many=()
for p in "${MANY[@]}"; do
	many+=("127.0.0.1:$p")
done
VALID_FP=$(fp "$X/valid.test.pem")
chk 0 "${many[@]}" --sni valid.test --concurrency 10 --json
V_PORTS="${MANY[*]}" json_check "$OUT" "
import os
rs = d['results']
assert d['status'] == 'OK' and len(rs) == 50, (d['status'], len(rs))
assert [str(r['port']) for r in rs] == os.environ['V_PORTS'].split(), [r['port'] for r in rs]
assert all(r['status'] == 'OK' and r['sha256'] == '$VALID_FP' for r in rs), [r['summary'] for r in rs]
"
assert_within_ms 10000 "$MS" "50 endpoints, 10 at a time"
chk 0 "${many[@]}" --sni valid.test --concurrency 10 --nagios
assert_match "$OUT" "^CERTCTL OK - 50 endpoints: 0 critical, 0 warning, 0 unknown, 50 ok \| critical=0 warning=0 unknown=0 ok=50( valid\.test_127\.0\.0\.1_[0-9]+_days=89;30;7){50}\$" \
	"the plugin line of 50 endpoints"
assert_contains "$OUT" " valid.test_127.0.0.1_${MANY[49]}_days=89;30;7" "the perfdata of the last endpoint"

# === 5. output forms and exit codes ==============================================================
# --json: every field of a result.
chk 1 soon10.test --json --no-record
SOON10_NA=$(date -u -d "$(openssl x509 -in "$X/soon10.test.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
json_check "$OUT" "
import re
assert sorted(d) == ['results', 'schema', 'status'], sorted(d)
r = d['results'][0]
keys = ['address', 'chain', 'cipher', 'days_left', 'definition', 'findings', 'handshake_ms', 'host',
        'issuer', 'not_after', 'port', 'protocol', 'sha1', 'sha256', 'sni', 'starttls', 'status',
        'subject', 'summary', 'target', 'time']
assert set(keys) <= set(r), sorted(set(keys) - set(r))
assert r['definition'] == 'soon10.test' and r['host'] == '127.0.0.1' and r['port'] == ${PORT[soon10]}, r
assert r['address'] == '127.0.0.1:${PORT[soon10]}', r['address']
assert r['sha256'] == '$(fp "$X/soon10.test.pem")', r['sha256']
assert r['sha1'] == '$(openssl x509 -in "$X/soon10.test.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')', r['sha1']
assert r['subject'] == 'O=Testbed,CN=soon10.test' and r['issuer'] == 'O=Testbed,CN=Test Ext Int', r
assert r['not_after'] == '$SOON10_NA' and r['days_left'] == 10, r
assert r['chain'] == ['O=Testbed,CN=Test Ext Int'], r['chain']
assert r['protocol'] in ('TLSv1.2', 'TLSv1.3') and r['cipher'], r
assert isinstance(r['handshake_ms'], int) and 0 <= r['handshake_ms'] < $(slow 5000), r['handshake_ms']
assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', r['time']), r['time']
assert r['summary'] == 'expires in 10 days ($SOON10_NA)', r['summary']
for f in r['findings']:
    assert sorted(f) == ['message', 'rule', 'status'], f
    assert f['status'] in ('OK', 'WARNING', 'CRITICAL', 'UNKNOWN'), f
"
# ALPN: offered with --alpn, the protocol chosen is reported.
chk 0 "127.0.0.1:${PORT[valid]}" --sni valid.test --alpn h2,http/1.1 --json
json_check "$OUT" "assert d['results'][0]['alpn'] == 'h2', d['results'][0].get('alpn')"
chk 0 "127.0.0.1:${PORT[valid]}" --sni valid.test --alpn http/1.1 --json
json_check "$OUT" "assert d['results'][0]['alpn'] == 'http/1.1', d['results'][0].get('alpn')"
chk 0 "127.0.0.1:${PORT[valid]}" --sni valid.test --json
json_check "$OUT" "assert d['results'][0].get('alpn') is None, d['results'][0].get('alpn')"
# --nagios: one line, perfdata with the definition's thresholds.
chk 1 soon10.test --nagios --no-record
assert_eq "CERTCTL WARNING - 1 endpoint: 0 critical, 1 warning, 0 unknown, 0 ok; soon10.test 127.0.0.1:${PORT[soon10]} expires in 10 days ($SOON10_NA) | critical=0 warning=1 unknown=0 ok=0 soon10.test_127.0.0.1_${PORT[soon10]}_days=10;30;7" \
	"$OUT" "the plugin line of soon10.test"
chk 0 soon10-relaxed --nagios --no-record
assert_eq "CERTCTL OK - 1 endpoint: 0 critical, 0 warning, 0 unknown, 1 ok | critical=0 warning=0 unknown=0 ok=1 soon10-relaxed_127.0.0.1_${PORT[soon10b]}_days=10;5;2" \
	"$OUT" "the plugin line of soon10-relaxed"
chk 1 soon10.test soon10-relaxed --nagios --no-record
assert_eq "CERTCTL WARNING - 2 endpoints: 0 critical, 1 warning, 0 unknown, 1 ok; soon10.test 127.0.0.1:${PORT[soon10]} expires in 10 days ($SOON10_NA) | critical=0 warning=1 unknown=0 ok=1 soon10.test_127.0.0.1_${PORT[soon10]}_days=10;30;7 soon10-relaxed_127.0.0.1_${PORT[soon10b]}_days=10;5;2" \
	"$OUT" "the plugin line of two definitions, each with its thresholds"
chk 2 expired.test --nagios --no-record
assert_match "$OUT" "^CERTCTL CRITICAL - 1 endpoint: 1 critical, 0 warning, 0 unknown, 0 ok; expired\.test 127\.0\.0\.1:${PORT[expired]} expired 40 days ago \([^)]*\) \| critical=1 warning=0 unknown=0 ok=0 expired\.test_127\.0\.0\.1_${PORT[expired]}_days=-40;30;7\$" \
	"the plugin line of expired.test"
chk 2 "127.0.0.1:$DEAD" --nagios
assert_eq "CERTCTL CRITICAL - 1 endpoint: 1 critical, 0 warning, 0 unknown, 0 ok; 127.0.0.1:$DEAD cannot connect: Connection refused | critical=1 warning=0 unknown=0 ok=0" \
	"$OUT" "the plugin line of a refused endpoint (no days)"
# Every monitored definition: 15 of part 1, web.example.com (not current), mail.test, imap.test.
chk 2 --nagios --no-record
assert_eq 1 "$(printf '%s\n' "$OUT" | wc -l)" "lines of --nagios"
assert_match "$OUT" "^CERTCTL CRITICAL - 18 endpoints: 11 critical, 3 warning, 0 unknown, 4 ok; [^|]+ \| critical=11 warning=3 unknown=0 ok=4( [A-Za-z0-9._-]+_days=-?[0-9]+;[0-9]+;[0-9]+){18}\$" \
	"the plugin line of every definition"
assert_match "$OUT" " weak\.test_127\.0\.0\.1_${PORT[weak]}_days=89;[0-9]+;[0-9]+( |\$)" "the perfdata of weak.test"
# The table, with -v the findings under each endpoint.
chk 1 soon10.test aia.test -v --no-record
assert_eq "WARNING  soon10.test              127.0.0.1:${PORT[soon10]}              expires in 10 days ($SOON10_NA)" \
	"$(printf '%s\n' "$OUT" | sed -n 1p)" "the first line of the table"
assert_match "$(printf '%s\n' "$OUT" | sed -n 2p)" "^ {9}WARNING +validity\.warning +expires in 10 days \($SOON10_NA\)\$" "a finding"
assert_eq "validity.warning chain.trusted name.ok subject.ok strength.ok validity.ok chain.missing-intermediate name.ok subject.ok strength.ok" \
	"$(printf '%s\n' "$OUT" | awk '/^ / {print $2}' | tr '\n' ' ' | sed 's/ $//')" "the rules under -v"
assert_match "$OUT" "^WARNING +aia\.test +127\.0\.0\.1:${PORT[aia]} +does not send the intermediate O=Testbed,CN=Test Ext Int \(fetched from $AIA_URL\)\$" "the table"
assert_eq 12 "$(printf '%s\n' "$OUT" | wc -l)" "lines of the table with -v"
# Exit codes: 0 OK, 1 WARNING, 2 CRITICAL (above); 3 UNKNOWN, with nothing changed.
snapshot
expect_fail 3 "no definition 'nosuch'" certctl check nosuch
expect_fail 3 "no definition 'nosuch'" certctl check valid.test nosuch
expect_fail 3 "unknown option '--bogus'" certctl check --bogus
expect_fail 3 "unknown STARTTLS protocol 'gopher'" certctl check "127.0.0.1:${PORT[valid]}" --starttls gopher
expect_fail 3 "--timeout is 1 to 300" certctl check "127.0.0.1:${PORT[valid]}" --timeout 0
expect_fail 3 "--concurrency 1 to 10000" certctl check "127.0.0.1:${PORT[valid]}" --concurrency 0
expect_fail 3 "--json and --nagios exclude each other" certctl check valid.test --json --nagios
expect_fail 3 "invalid port" certctl check 127.0.0.1:99999
expect_fail 3 "expected HOST:PORT" certctl check :443
expect_fail 3 "--alpn is a list" certctl check "127.0.0.1:${PORT[valid]}" --alpn h2,
assert_unchanged
cd "$T" || fail "no $T"
expect_fail 3 "not in a certctl repository" certctl check
expect_fail 3 "not in a certctl repository" certctl check valid.test
# Nothing to check: no definition, none with an endpoint, or every endpoint disabled.
ok_out out certctl -q init empty
cd empty || fail "no empty repository"
snapshot
expect_fail 3 "nothing to check" certctl check
chk 3 --nagios
assert_eq "CERTCTL UNKNOWN - nothing to check: no definition has a monitored endpoint" "$OUT" "--nagios with nothing to check"
ok_out out certctl -q define noep.test --mode monitor
ok_out out certctl -q define quiet.test --mode monitor --check "127.0.0.1:$DEAD" --no-monitor
snapshot
expect_fail 3 "nothing to check" certctl check
expect_fail 3 "noep.test has no endpoint to check" certctl check noep.test
assert_unchanged
# Named, a definition is checked though its monitoring is off.
chk 2 quiet.test --json
verdict CRITICAL connect.failed CRITICAL "Connection refused" quiet.test
# A definition that cannot be read: the others are checked all the same, the
# error is on stderr, and the run is UNKNOWN (3) when the others are OK.
ok_out out certctl -q trust add "$X/root.pem"
ok_out out certctl -q define good.test --mode monitor --cn valid.test --dns valid.test \
	--check "127.0.0.1:${PORT[valid]}" --sni valid.test
printf 'mode: [monitor\n' >definitions/broken.yaml
expect_fail 3 "definitions/broken\.yaml" certctl check --json --no-record
json_check "$FAIL_OUT" "assert [(r['definition'], r['status']) for r in d['results']] == [('good.test', 'OK')], d"
rm definitions/broken.yaml
cd "$R" || fail "no $R"

# === 6. recording ================================================================================
# One commit per run: monitor/DEF.yaml of each definition checked, the summary, the trailers.
C1=$(commits)
chk 2 expired.test soon10.test
assert_eq $((C1 + 1)) "$(commits)" "commits after a recorded run"
assert_eq "check: 2 endpoints of 2 definitions: 1 CRITICAL, 1 WARNING" "$(git log -1 --format=%s)" "the summary"
assert_eq check "$(trailer Certctl-Operation)" "Certctl-Operation"
assert_eq "expired.test
soon10.test" "$(trailer Certctl-Definition)" "Certctl-Definition"
assert_eq "monitor/expired.test.yaml
monitor/soon10.test.yaml" "$(git show --format= --name-only HEAD | sort)" "the files of the commit"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status after a recorded run"
M=monitor/expired.test.yaml
assert_eq "# certctl check results; see certctl-repository(5)." "$(head -n 1 "$M")" "the first line of $M"
yaml_has "$M" "definition: expired.test"
yaml_has "$M" "status: CRITICAL"
yaml_has "$M" "- host: 127.0.0.1"
yaml_has "$M" "  port: ${PORT[expired]}"
yaml_has "$M" "  sni: expired.test"
yaml_has "$M" "  status: CRITICAL"
yaml_has "$M" "  sha256: $(fp "$X/expired.test.pem")"
yaml_has "$M" "  - rule: validity.expired"
yaml_has "$M" "  - O=Testbed,CN=Test Ext Int"
assert_match "$(cat "$M")" "^  summary: expired 40 days ago \(" "the summary in $M"
assert_match "$(cat "$M")" "^  time: '?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'?\$" "the time in $M"
# What the file says is what --json said (parsed with a YAML parser).
python3 -c 'import yaml' 2>/dev/null && {
	chk 2 expired.test --json --no-record
	V_YAML=$(python3 -c 'import json, sys, yaml; print(json.dumps(yaml.load(open(sys.argv[1]), Loader=yaml.BaseLoader)))' "$M") json_check "$OUT" "
import json, os
y = json.loads(os.environ['V_YAML'])
r = d['results'][0]
assert y['definition'] == 'expired.test' and y['status'] == 'CRITICAL', y
assert len(y['endpoints']) == 1, y
e = y['endpoints'][0]
assert int(e['port']) == r['port'] and e['host'] == r['host'] and e['sni'] == r['sni'], (e, r)
assert e['sha256'] == r['sha256'] and e['subject'] == r['subject'] and e['not_after'] == r['not_after'], (e, r)
assert [(f['rule'], f['status']) for f in e['findings']] == [(f['rule'], f['status']) for f in r['findings']], (e, r)
"
}
yaml_has monitor/soon10.test.yaml "status: WARNING"
yaml_has monitor/soon10.test.yaml "  - rule: validity.warning"
yaml_has monitor/soon10.test.yaml "    status: WARNING"
# A lifecycle definition's record names the target of the endpoint.
chk 2 web.example.com
yaml_has monitor/web.example.com.yaml "  target: site"
yaml_has monitor/web.example.com.yaml "  - rule: deploy.not-current"
assert_eq "check: 1 endpoint of 1 definition: 1 CRITICAL" "$(git log -1 --format=%s)" "the summary"
# --no-record: nothing changes; bare endpoints are never recorded.
snapshot
chk 2 expired.test soon10.test --no-record
assert_unchanged
chk 0 "127.0.0.1:${PORT[valid]}" --sni valid.test
assert_unchanged
chk 1 "127.0.0.1:${PORT[soon10]}" --sni soon10.test --nagios
assert_unchanged
# Definitions and bare endpoints together: the definitions are recorded.
chk 2 valid.test "127.0.0.1:$DEAD"
assert_eq "check: 1 endpoint of 1 definition: 1 OK" "$(git log -1 --format=%s)" "the summary of a mixed run"
assert_eq "monitor/valid.test.yaml" "$(git show --format= --name-only HEAD)" "the files of a mixed run"
assert_not_contains "$(cat monitor/valid.test.yaml)" "$DEAD" "the record of valid.test"

# Monitoring disabled per definition, per check and per target check.
ok_out out certctl -q define off.test --mode monitor --cn valid.test --dns valid.test \
	--check "127.0.0.1:${PORT[valid]}" --sni valid.test --no-monitor
yaml_has definitions/off.test.yaml "  enabled: false"
cat >"$T/partial.yaml" <<EOF2
mode: monitor
subject:
  cn: valid.test
checks:
  - host: localhost
    port: ${PORT[valid]}
    sni: valid.test
  - host: 127.0.0.1
    port: $DEAD
    enabled: false
EOF2
ok_out out certctl -q define partial.test --from "$T/partial.yaml"
cat >>"$T/web.yaml" <<EOF2
  - name: old
    type: files
    cert: $T/srv/old/cert.pem
    check:
      host: localhost
      port: $DEAD
      enabled: false
EOF2
ok_out out certctl -q define web.example.com --from "$T/web.yaml"
C2=$(commits)
chk 2 --json
json_check "$OUT" "
got = sorted((r['definition'], r['host'], r['port'], r['target']) for r in d['results'])
defs = [g[0] for g in got]
assert 'off.test' not in defs, got
assert [g for g in got if g[0] == 'partial.test'] == [('partial.test', 'localhost', ${PORT[valid]}, None)], got
assert [g for g in got if g[0] == 'web.example.com'] == [('web.example.com', '127.0.0.1', ${PORT[web]}, 'site')], got
assert len(got) == 19 and len(set(defs)) == 19, (len(got), got)
assert all(r['port'] != $DEAD for r in d['results']), got
p = [r for r in d['results'] if r['definition'] == 'partial.test'][0]
assert p['status'] == 'OK' and p['address'] == '127.0.0.1:${PORT[valid]}', p
"
assert_eq $((C2 + 1)) "$(commits)" "commits after a run of every definition"
assert_eq "check: 19 endpoints of 19 definitions: 11 CRITICAL, 3 WARNING, 5 OK" "$(git log -1 --format=%s)" "the summary"
assert_eq 19 "$(trailer Certctl-Definition | wc -l)" "Certctl-Definition trailers"
assert_no_file monitor/off.test.yaml
assert_not_contains "$(cat monitor/partial.test.yaml)" "port: $DEAD" "the record of partial.test"
# Named, every endpoint is checked, the disabled ones too.
chk 2 off.test partial.test web.example.com --json --no-record
json_check "$OUT" "
got = [(r['definition'], r['port'], r['target'], r['status']) for r in d['results']]
assert got == [('off.test', ${PORT[valid]}, None, 'OK'), ('partial.test', ${PORT[valid]}, None, 'OK'),
               ('partial.test', $DEAD, None, 'CRITICAL'), ('web.example.com', ${PORT[web]}, 'site', 'CRITICAL'),
               ('web.example.com', $DEAD, 'old', 'CRITICAL')], got
assert d['results'][4]['host'] == 'localhost', d['results'][4]
"
chk 0 off.test
yaml_has monitor/off.test.yaml "definition: off.test"
assert_eq "check: 1 endpoint of 1 definition: 1 OK" "$(git log -1 --format=%s)" "the summary"

# === 7. imported definitions, addresses without a name, shared endpoints ========================
# A definition made by certctl import --from is checked as monitored-only.
leaf imported.test "$NOW" "$LATER"
serve imported "$X/imported.test.pem" "$X/imported.test.key" "$X/int.pem"
ok_out out certctl import --from "127.0.0.1:${PORT[imported]}" --sni imported.test
yaml_has definitions/imported.test.yaml "mode: monitor"
yaml_has definitions/imported.test.yaml "  sni: imported.test"
chk 0 imported.test --json
verdict OK name.ok OK "valid for imported.test" imported.test
rules validity.ok=OK chain.trusted=OK name.ok=OK subject.ok=OK strength.ok=OK
served "$(fp "$X/imported.test.pem")"
# Imported from an address without --sni: the check has no sni; certctl asks
# for the definition's name, and the certificate must be valid for that name.
leaf imported2.test "$NOW" "$LATER"
serve imported2 "$X/imported2.test.pem" "$X/imported2.test.key" "$X/int.pem"
ok_out out certctl import --from "127.0.0.1:${PORT[imported2]}"
assert_not_contains "$(cat definitions/imported2.test.yaml)" "sni:" "the definition imported without --sni"
chk 0 imported2.test --json --no-record
verdict OK name.ok OK "valid for imported2.test" imported2.test
json_check "$OUT" "assert d['results'][0]['sni'] == 'imported2.test', d"
# The same for a STARTTLS check written {host, port, starttls: smtp}.
cat >"$T/mail2.yaml" <<EOF2
mode: monitor
subject:
  cn: mail.test
checks:
  - host: 127.0.0.1
    port: ${PORT[smtp]}
    starttls: smtp
EOF2
ok_out out certctl -q define mail-nosni --from "$T/mail2.yaml"
chk 0 mail-nosni --json --no-record
verdict OK name.ok OK "valid for mail.test" mail-nosni
rules validity.ok=OK chain.trusted=OK name.ok=OK subject.ok=OK strength.ok=OK
served "$(fp "$X/mail.test.pem")"
json_check "$OUT" "r = d['results'][0]; assert r['sni'] == 'mail.test' and r['starttls'] == 'smtp', r"
# Two definitions of one endpoint: each is judged by its own rules, and recorded.
ok_out out certctl -q define valid-dup --mode monitor --cn valid.test --dns valid.test --org "Dup Org" \
	--check "127.0.0.1:${PORT[valid]}" --sni valid.test
chk 1 valid.test valid-dup --json
json_check "$OUT" "
got = [(r['definition'], r['port'], r['status']) for r in d['results']]
assert got == [('valid.test', ${PORT[valid]}, 'OK'), ('valid-dup', ${PORT[valid]}, 'WARNING')], got
"
assert_eq "check: 2 endpoints of 2 definitions: 1 WARNING, 1 OK" "$(git log -1 --format=%s)" "the summary"
yaml_has monitor/valid-dup.yaml "  - rule: subject.mismatch"
chk 2 --json --no-record
json_check "$OUT" "
got = sorted(r['definition'] for r in d['results'])
assert 'valid-dup' in got and 'valid.test' in got and len(got) == len(set(got)), got
"
# One definition naming the same endpoint twice (a check and a target's check): checked once.
cat >"$T/twice.yaml" <<EOF2
mode: monitor
subject:
  cn: valid.test
checks:
  - host: 127.0.0.1
    port: ${PORT[valid]}
    sni: valid.test
targets:
  - name: t
    type: files
    cert: $T/srv/twice/cert.pem
    check:
      host: 127.0.0.1
      port: ${PORT[valid]}
      sni: valid.test
EOF2
ok_out out certctl -q define twice.test --from "$T/twice.yaml"
chk 0 twice.test --json --no-record
json_check "$OUT" "assert [(r['definition'], r['target']) for r in d['results']] == [('twice.test', None)], d['results']"
ok_out out certctl fsck
assert_contains "$out" "0 errors, 0 warnings" "fsck at the end"

# =================================================================================================
# The cases below fail against the current code (bugs reported); they come
# last so that everything above runs.

# A server whose certificate has a P-224 key cannot be judged: the probe
# (lib/probe.c probe_ctx()) lowers the security level and takes every
# cipher, but offers only OpenSSL's default groups, without P-224, so a
# TLS 1.2 server cannot present that certificate and the handshake fails:
# tls.handshake "sslv3 alert handshake failure" instead of the finding
# key.ec-too-small (the man page: "every protocol version and cipher suite
# ... so that what it serves can be judged").  openssl s_client offering
# P-224 gets the certificate from the same server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-224 -nodes -keyout "$X/p224.key" -out "$X/p224.pem" \
	-subj "/CN=p224.test" -addext subjectAltName=DNS:p224.test -days 90 2>/dev/null ||
	fail "cannot make the P-224 certificate"
serve p224 "$X/p224.pem" "$X/p224.key" "" "$T/weak.cnf"
assert_contains "$(timeout 10 openssl s_client -connect "127.0.0.1:${PORT[p224]}" -servername p224.test \
	-groups P-224:P-256 -cipher DEFAULT@SECLEVEL=0 </dev/null 2>&1)" "subject=CN = p224.test" \
	"what openssl s_client offering P-224 gets"
chk 2 "127.0.0.1:${PORT[p224]}" --sni p224.test --json
verdict CRITICAL key.ec-too-small CRITICAL "has an EC key of 224 bits"

# Naming a definition twice checks (and records) each of its endpoints twice:
# `certctl check valid.test valid.test` prints two results and commits
# "check: 2 endpoints of 1 definition: 2 OK" with the endpoint twice in
# monitor/valid.test.yaml, though "an endpoint is checked once" (certctl-check(1)):
# cmd_check() loads and lists a definition again for each time it is named.
chk 0 valid.test valid.test --json --no-record
json_check "$OUT" "assert [r['definition'] for r in d['results']] == ['valid.test'], [r['definition'] for r in d['results']]"

finish
