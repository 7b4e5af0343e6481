#!/bin/bash
# certctl verify end to end on loopback: a throw-away PKI made with the
# openssl CLI (root > intermediate > leaves), whose leaves name an AIA
# caIssuers URL and a CRL distribution point on a python3 http.server the
# test runs, and openssl s_server presenting a leaf alone (no intermediate).
#  1. HOST:PORT: the intermediate is fetched from its AIA URL (WARNING,
#     chain.missing-intermediate naming the URL); with --no-fetch there is
#     no path (CRITICAL, chain.untrusted);
#  2. a revoked leaf, caught through the CRL at its distribution point
#     (CRITICAL, revocation.revoked with the reason);
#  3. the HTTP server stopped: the CRL cannot be had (soft: WARNING,
#     revocation.unavailable; --revocation hard: CRITICAL);
#  4. FILE: a PEM bundle out of order with an extra certificate;
#  5. --json, read with python3.
. "$(dirname "$0")/lib.sh"

# Debian's python3 for every python3 here (a pyenv shim starts slowly).
mkdir "$T/bin" && ln -s /usr/bin/python3 "$T/bin/python3" || fail "cannot link python3"
PATH=$T/bin:$PATH

P=$T/pki
W=$T/www
mkdir -p "$P" "$W" "$T/logs"

HTTP_PID=
TLS_PID=
REVOKED_PID=
stop_all() {
	stop_pid "$TLS_PID"
	stop_pid "$REVOKED_PID"
	stop_pid "$HTTP_PID"
	TLS_PID=
	REVOKED_PID=
	HTTP_PID=
}
trap stop_all EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The HTTP server first: its port goes into the certificates.
HTTP=
for _ in 1 2 3; do
	read -r port <<<"$(free_ports 1)"
	python3 -m http.server --bind 127.0.0.1 --directory "$W" "$port" >>"$T/logs/http.log" 2>&1 &
	HTTP_PID=$!
	if wait_listen "$port" "$HTTP_PID"; then
		HTTP=$port
		break
	fi
	stop_pid "$HTTP_PID"
	HTTP_PID=
done
_count
[ -n "$HTTP" ] || fail "python3 -m http.server does not start: $(cat "$T/logs/http.log")"
URL=http://127.0.0.1:$HTTP

# --- the PKI ----------------------------------------------------------------------------------
(
	cd "$P" || exit 1
	ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes; }
	# shellcheck disable=SC2046
	openssl req -x509 $(ec) -keyout root.key -out root.pem -days 3650 -subj "/CN=t0035 Root" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null || exit 1
	cat >int.ext <<EOF
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
crlDistributionPoints=URI:$URL/root.crl
EOF
	# shellcheck disable=SC2046
	openssl req -new $(ec) -keyout int.key -out int.csr -subj "/CN=t0035 Intermediate" 2>/dev/null &&
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 365 \
			-extfile int.ext -out int.pem 2>/dev/null || exit 1
	cat >leaf.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:verify.test
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
authorityInfoAccess=caIssuers;URI:$URL/int.der
crlDistributionPoints=URI:$URL/int.crl
EOF
	for leaf in good revoked; do
		# shellcheck disable=SC2046
		openssl req -new $(ec) -keyout $leaf.key -out $leaf.csr -subj "/CN=verify.test" \
			2>/dev/null &&
			openssl x509 -req -in $leaf.csr -CA int.pem -CAkey int.key -CAcreateserial \
				-days 90 -extfile leaf.ext -out $leaf.pem 2>/dev/null || exit 1
	done
	# A certificate of nobody's chain, and the CRLs (openssl ca keeps a database).
	# shellcheck disable=SC2046
	openssl req -x509 $(ec) -keyout other.key -out other.pem -days 30 -subj "/CN=Someone Else" \
		2>/dev/null || exit 1
	cat >ca.cnf <<EOF
[ca]
default_ca = int
[int]
database = $P/int.index
crlnumber = $P/int.crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[root]
database = $P/root.index
crlnumber = $P/root.crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
EOF
	: >int.index
	: >root.index
	echo 1000 >int.crlnumber
	echo 1000 >root.crlnumber
	openssl ca -config ca.cnf -name int -cert int.pem -keyfile int.key -revoke revoked.pem \
		-crl_reason keyCompromise 2>/dev/null &&
		openssl ca -config ca.cnf -name int -cert int.pem -keyfile int.key -gencrl \
			-out int.crl.pem 2>/dev/null &&
		openssl ca -config ca.cnf -name root -cert root.pem -keyfile root.key -gencrl \
			-out root.crl.pem 2>/dev/null || exit 1
	# What the HTTP server serves: DER, as RFC 5280 has it for both.
	openssl x509 -in int.pem -outform DER -out "$W/int.der" &&
		openssl crl -in int.crl.pem -outform DER -out "$W/int.crl" &&
		openssl crl -in root.crl.pem -outform DER -out "$W/root.crl"
) || fail "cannot make the PKI"

# The PKI is right by openssl's own account: the chain verifies, and the
# CRL lists the revoked leaf's serial with its reason.
ok_out out openssl verify -CAfile "$P/root.pem" -untrusted "$P/int.pem" "$P/good.pem"
ok_out crl openssl crl -inform DER -in "$W/int.crl" -noout -text
revoked_serial=$(openssl x509 -in "$P/revoked.pem" -noout -serial | sed 's/^serial=//')
good_serial=$(openssl x509 -in "$P/good.pem" -noout -serial | sed 's/^serial=//')
assert_contains "$crl" "Serial Number: $revoked_serial" "the intermediate's CRL"
assert_not_contains "$crl" "Serial Number: $good_serial" "the intermediate's CRL"
assert_contains "$crl" "Key Compromise" "the intermediate's CRL"

# serve PEM KEY: openssl s_server presenting PEM alone on a free port; sets
# SERVED (its port) and SERVED_PID.
serve() {
	local name
	name=$(basename "$1" .pem)
	SERVED=
	SERVED_PID=
	for _ in 1 2 3; do
		read -r port <<<"$(free_ports 1)"
		openssl s_server -accept "127.0.0.1:$port" -cert "$1" -key "$2" -www -quiet \
			-no-CAfile -no-CApath -no-CAstore </dev/null >>"$T/logs/$name.log" 2>&1 &
		SERVED_PID=$!
		if wait_listen "$port" "$SERVED_PID"; then
			SERVED=$port
			return 0
		fi
		stop_pid "$SERVED_PID"
		SERVED_PID=
	done
	fail "openssl s_server does not start: $(cat "$T/logs/$name.log")"
}
serve "$P/good.pem" "$P/good.key"
TLS=$SERVED
TLS_PID=$SERVED_PID
serve "$P/revoked.pem" "$P/revoked.key"
REVOKED=$SERVED
REVOKED_PID=$SERVED_PID

# The servers send the leaf alone (openssl s_client counts).
for port in "$TLS" "$REVOKED"; do
	sent=$(openssl s_client -connect "127.0.0.1:$port" -servername verify.test -showcerts \
		</dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE')
	assert_eq 1 "$sent" "certificates sent by 127.0.0.1:$port"
done

# vfy WANT ARGS...: `certctl verify ARGS` exits with WANT and says nothing on
# stderr; its stdout in OUT.
OUT=
vfy() {
	local want=$1 rc
	shift
	_count
	OUT=$(certctl verify "$@" 2>"$T/vfy.err")
	rc=$?
	[ "$rc" = "$want" ] || fail "certctl verify $*: exit $rc, expected $want:
$OUT
$(cat "$T/vfy.err")"
	[ -s "$T/vfy.err" ] && fail "certctl verify $* wrote on stderr: $(cat "$T/vfy.err")"
}
# gets PATH: how many times the HTTP server was asked for PATH.
gets() {
	grep -c "\"GET $1 HTTP" "$T/logs/http.log"
}

# --- 1. the intermediate from its AIA URL -----------------------------------------------------
vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem"
assert_match "$OUT" "^WARNING +chain\.missing-intermediate +does not send the intermediate CN=t0035 Intermediate \(fetched from $URL/int\.der\)\$"
assert_not_contains "$OUT" "CRITICAL"
assert_eq 1 "$(gets /int.der)" "AIA fetches"
# Revocation was checked at the distribution points of the leaf and of the intermediate.
assert_eq 1 "$(gets /int.crl)" "fetches of the intermediate's CRL"
assert_eq 1 "$(gets /root.crl)" "fetches of the root's CRL"

vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" --json
json_check "$OUT" "
assert d['schema'] == 'certctl.verify/1' and d['policy'] == 'webpki', d
assert d['verified'] is True and d['status'] == 'WARNING' and d['fetched'] == 1, d
assert [c['subject'] for c in d['path']] == ['CN=verify.test', 'CN=t0035 Intermediate', 'CN=t0035 Root'], d['path']
bad = [f for f in d['findings'] if f['status'] != 'OK']
assert [(f['rule'], f['depth'], f['allowed']) for f in bad] == [('chain.missing-intermediate', 1, False)], bad
assert '$URL/int.der' in bad[0]['message'], bad
assert any(f['rule'] == 'chain.trusted' for f in d['findings']), d['findings']
"

# Not fetched, the intermediate is missing altogether.
before=$(gets /int.der)
vfy 2 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" --no-fetch
assert_match "$OUT" "^CRITICAL +chain\.untrusted "
assert_eq "$before" "$(gets /int.der)" "AIA fetches with --no-fetch"
# The name still counts: another host is a mismatch.
vfy 2 "127.0.0.1:$TLS" --host other.test --ca "$P/root.pem"
assert_match "$OUT" "^CRITICAL +name\.mismatch +not valid for other\.test"

# --- 2. a revoked leaf ------------------------------------------------------------------------
vfy 2 "127.0.0.1:$REVOKED" --host verify.test --ca "$P/root.pem"
assert_match "$OUT" "^CRITICAL +revocation\.revoked +the certificate: certificate revoked on [0-9T:-]+Z, reason keyCompromise\$"
vfy 2 "127.0.0.1:$REVOKED" --host verify.test --ca "$P/root.pem" --json
json_check "$OUT" "
rev = [f for f in d['findings'] if f['rule'] == 'revocation.revoked']
assert len(rev) == 1 and rev[0]['status'] == 'CRITICAL' and rev[0]['depth'] == 0, d['findings']
assert 'keyCompromise' in rev[0]['message'], rev
assert d['verified'] is False and d['status'] == 'CRITICAL', d
"
# Revoked cannot be allowed.
vfy 2 "127.0.0.1:$REVOKED" --host verify.test --ca "$P/root.pem" --allow revocation.revoked
assert_match "$OUT" "^CRITICAL +revocation\.revoked "
# The good leaf, with its chain at hand, is plainly OK.
vfy 0 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" --untrusted "$P/int.pem"
assert_match "$OUT" "^OK +chain\.trusted "

# --- 2b. a repository keeps what was fetched ------------------------------------------------------
ok_out out certctl -q init "$T/repo"
n_aia=$(gets /int.der)
n_crl=$(gets /int.crl)
CERTCTL_DIR=$T/repo vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem"
assert_eq $((n_aia + 1)) "$(gets /int.der)" "AIA fetches with an empty cache"
assert_eq $((n_crl + 1)) "$(gets /int.crl)" "CRL fetches with an empty cache"
assert_eq 2 "$(find "$T/repo/.git/certctl/cache/crl" -type f | wc -l)" "CRLs in the cache"
assert_eq 1 "$(find "$T/repo/.git/certctl/cache/aia" -type f | wc -l)" "intermediates in the cache"
assert_eq "" "$(git -C "$T/repo" status --porcelain)" "the cache is not versioned"
CERTCTL_DIR=$T/repo vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem"
assert_eq $((n_aia + 1)) "$(gets /int.der)" "AIA fetches with the intermediate cached"
assert_eq $((n_crl + 1)) "$(gets /int.crl)" "CRL fetches with the CRL cached (until its nextUpdate)"

# --- 3. the CRLs out of reach -----------------------------------------------------------------
stop_pid "$HTTP_PID"
HTTP_PID=
# The repository's cache still answers: the intermediate and both CRLs.
CERTCTL_DIR=$T/repo vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem"
assert_match "$OUT" "^WARNING +chain\.missing-intermediate +does not send the intermediate CN=t0035 Intermediate \(fetched from $URL/int\.der\)\$"
assert_not_contains "$OUT" "revocation.unavailable"
# A stale entry is not used: past its nextUpdate, the CRL is asked for again.
CERTCTL_DIR=$T/repo vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" \
	--untrusted "$P/int.pem" --at "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%SZ)"
assert_match "$OUT" "^WARNING +revocation\.unavailable +the revocation status of the certificate is unknown: CRL $URL/int\.crl: "
vfy 1 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" --untrusted "$P/int.pem"
assert_match "$OUT" "^WARNING +revocation\.unavailable +the revocation status of the certificate is unknown: CRL $URL/int\.crl: [^h].*; no OCSP responder named\$"
assert_not_contains "$OUT" "CRITICAL"
vfy 2 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" --untrusted "$P/int.pem" \
	--revocation hard
assert_match "$OUT" "^CRITICAL +revocation\.unavailable +the revocation status of the certificate is unknown: CRL $URL/int\.crl"
# The same CRLs as files put it right again.
vfy 0 "127.0.0.1:$TLS" --host verify.test --ca "$P/root.pem" --untrusted "$P/int.pem" \
	--revocation hard --crl "$W/int.crl" --crl "$P/root.crl.pem"
vfy 2 "127.0.0.1:$REVOKED" --host verify.test --ca "$P/root.pem" --untrusted "$P/int.pem" \
	--revocation hard --crl "$W/int.crl" --crl "$P/root.crl.pem"
assert_match "$OUT" "^CRITICAL +revocation\.revoked .*reason keyCompromise\$"

# --- 4. a file: a bundle out of order, with a certificate for nothing ---------------------------
cat "$P/good.pem" "$P/root.pem" "$P/int.pem" "$P/other.pem" >"$T/bundle.pem"
assert_eq 4 "$(grep -c 'BEGIN CERTIFICATE' "$T/bundle.pem")" "certificates in the bundle"
vfy 1 "$T/bundle.pem" --host verify.test --ca "$P/root.pem" --revocation off --no-fetch
assert_match "$OUT" "^WARNING +chain\.order "
assert_match "$OUT" "^WARNING +chain\.extra +CN=Someone Else is sent but not part of the path\$"
assert_not_contains "$OUT" "chain.missing-intermediate"
vfy 1 "$T/bundle.pem" --host verify.test --ca "$P/root.pem" --revocation off --no-fetch --json
json_check "$OUT" "
bad = sorted((f['rule'], f['status']) for f in d['findings'] if f['status'] != 'OK')
assert bad == [('chain.extra', 'WARNING'), ('chain.order', 'WARNING')], bad
assert d['verified'] is True and d['fetched'] == 0 and len(d['path']) == 3, d
"
# In order and without the stranger, nothing to say; the leaf alone, no path.
cat "$P/good.pem" "$P/int.pem" >"$T/fullchain.pem"
vfy 0 "$T/fullchain.pem" --host verify.test --ca "$P/root.pem" --revocation off --no-fetch
vfy 2 "$P/good.pem" --host verify.test --ca "$P/root.pem" --revocation off --no-fetch
assert_match "$OUT" "^CRITICAL +chain\.untrusted "

stop_all
finish
