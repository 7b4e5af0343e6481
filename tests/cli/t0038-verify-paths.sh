#!/bin/bash
# Path building by the verifier (certctl verify FILE, a throw-away PKI made
# with the openssl CLI, no network):
#  1. anchors a trust set declares: an issuing CA trusted without its root
#     (trust add --anchor) ends the path there; the same CA added without
#     --anchor does not (no partial chain for what is not declared);
#     trust list marks it, --json lists it, fsck checks it, trust rm drops it;
#  2. cross-signed intermediates: the path goes through the copy the trust
#     set can use, not the one sent; an expired cross-signature sent along
#     (as servers did after a root's cross-sign expired) is only an extra;
#  3. two roots with one subject: each leaf verifies through its own;
#  4. bounds: a path longer than the depth bound is refused
#     (chain.too-long); hundreds of certificates sent along are not all
#     candidates, and are reported in a bounded number of findings.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkdir -p "$P"

# ca NAME SUBJECT ISSUER [DAYS]: a CA certificate NAME.pem (key NAME.key)
# signed by ISSUER ("self" for a root); an existing NAME.key is reused,
# so that one CA can be signed by two issuers (cross-signing).
ca() {
	local name=$1 subj=$2 issuer=$3 days=${4:-400}
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n%s\n' \
		"subjectKeyIdentifier=hash" >"$P/$name.ext"
	[ -f "$P/${name%%-by-*}.key" ] ||
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out "$P/${name%%-by-*}.key" 2>/dev/null || fail "key of $name"
	if [ "$issuer" = self ]; then
		openssl req -x509 -new -key "$P/${name%%-by-*}.key" -subj "$subj" -days "$days" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out "$P/$name.pem" 2>/dev/null || fail "root $name"
	else
		printf 'authorityKeyIdentifier=keyid\n' >>"$P/$name.ext"
		openssl req -new -key "$P/${name%%-by-*}.key" -subj "$subj" -out "$P/$name.csr" 2>/dev/null &&
			openssl x509 -req -in "$P/$name.csr" -CA "$P/$issuer.pem" \
				-CAkey "$P/${issuer%%-by-*}.key" -set_serial "0x$(openssl rand -hex 8)" \
				-days "$days" -extfile "$P/$name.ext" -out "$P/$name.pem" 2>/dev/null ||
			fail "CA $name by $issuer"
	fi
}

# leaf NAME DNS ISSUER: a server certificate NAME.pem for DNS.
leaf() {
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n%s\n%s\n%s\n' \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:$2" \
		"authorityKeyIdentifier=keyid" >"$P/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
		-subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.pem" -CAkey "$P/${3%%-by-*}.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 90 -extfile "$P/$1.ext" \
			-out "$P/$1.pem" 2>/dev/null || fail "leaf $1"
}

# verdict JSON: "VERIFIED STATUS PATHLEN" of a verify report.
verdict() {
	printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["verified"], d["status"], len(d["path"]))'
}
# rules JSON: the rule ids of the findings that are not OK, sorted, unique.
rules() {
	printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({f["rule"] for f in d["findings"] if f["status"] != "OK"})))'
}
# verify_json VAR ARGS...: certctl verify ARGS --json --no-fetch; its exit
# status in RC, its report in VAR.
verify_json() {
	local __var=$1 __out
	shift
	_count
	__out=$(certctl verify "$@" --json --no-fetch 2>"$T/verify.err")
	RC=$?
	printf -v "$__var" '%s' "$__out"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' <(printf '%s' "${!__var}") ||
		fail "verify $* printed no JSON: ${!__var} $(cat "$T/verify.err")"
}

ok_out out certctl -q init repo
cd repo || fail "no repository"

# === 1. an anchor that is not a root ====================================================
ca corp-root "/CN=Corp Root" self
ca corp-issuing-by-corp-root "/CN=Corp Issuing CA" corp-root
ca corp-other-by-corp-root "/CN=Corp Other CA" corp-root
leaf web web.corp.test corp-issuing-by-corp-root
leaf other other.corp.test corp-other-by-corp-root
cat "$P/web.pem" "$P/corp-issuing-by-corp-root.pem" >"$P/web-chain.pem"
cat "$P/other.pem" "$P/corp-other-by-corp-root.pem" >"$P/other-chain.pem"
ok_out out certctl -q trust create issuing --no-bundle
# Added as an intermediate only: it helps to build a path, and no path ends at it.
ok_out out certctl -q trust add "$P/corp-issuing-by-corp-root.pem" --set issuing
ISS_ID=$(certctl trust list --set issuing --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["certificates"][0]["id"])')
verify_json out "$P/web-chain.pem" --trust-set issuing
assert_eq 2 "$RC" "exit status of verify, the issuing CA not an anchor"
assert_eq "False CRITICAL" "$(verdict "$out" | cut -d' ' -f1-2)" "verdict, not an anchor"
assert_contains "$(rules "$out")" "chain.untrusted" "rules, not an anchor"
# Declared an anchor: the path ends at it.
ok_out out certctl trust rm "$ISS_ID" --set issuing
C0=$(commits)
ok_out out certctl trust add "$P/corp-issuing-by-corp-root.pem" --set issuing --anchor
assert_eq $((C0 + 1)) "$(commits)" "one commit for trust add --anchor"
assert_contains "$out" "as an anchor" "output of trust add --anchor"
yaml_has trust/issuing/anchors.yaml "- $ISS_ID"
ok_out out certctl trust list --set issuing
assert_match "$out" "^  $ISS_ID  CN=Corp Issuing CA  \(anchor\)\$" "trust list marks the anchor"
ok_out out certctl trust list --set issuing --json
json_check "$out" "assert d['anchors'] == ['$ISS_ID'], d"
verify_json out "$P/web-chain.pem" --trust-set issuing --host web.corp.test
assert_eq 0 "$RC" "exit status of verify through the anchor: $(rules "$out")"
assert_eq "True OK 2" "$(verdict "$out")" "verdict through the anchor: leaf and anchor"
json_check "$out" "assert d['path'][1]['subject'] == 'CN=Corp Issuing CA', d['path']"
# What the anchor is not: a sibling CA of the same root, even when sent.
verify_json out "$P/other-chain.pem" --trust-set issuing
assert_eq 2 "$RC" "exit status of verify under a CA the set does not anchor"
assert_contains "$(rules "$out")" "chain.untrusted" "rules under a CA the set does not anchor"
# The root itself is not trusted by the set: a leaf it signs directly fails.
leaf direct direct.corp.test corp-root
verify_json out "$P/direct.pem" --trust-set issuing
assert_eq 2 "$RC" "exit status of verify of a leaf of the root"
# An anchor that is not a CA of the set is an fsck error; a good one is not.
ok_out out certctl fsck
printf 'anchors:\n- %s\n- 0123456789abcdef\n' "$ISS_ID" >trust/issuing/anchors.yaml
git add -A && git commit -q -m "anchors edited by hand" || fail "commit"
out=$(certctl fsck 2>&1)
assert_eq 1 "$?" "exit status of fsck with an anchor that is not in the set"
assert_contains "$out" "anchor 0123456789abcdef is not a CA of the set" "fsck names the anchor"
git revert --no-edit HEAD >/dev/null || fail "revert"
# trust rm drops it from the anchors.
ok_out out certctl trust rm "$ISS_ID" --set issuing
assert_no_file trust/issuing/anchors.yaml
git log -1 --name-status --format= | grep -q 'D.trust/issuing/anchors.yaml' ||
	fail "trust rm did not remove anchors.yaml in its commit"
# --anchor on a root changes nothing: a root is an anchor as it is.
ok_out out certctl trust add "$P/corp-root.pem" --set issuing --anchor
assert_no_file trust/issuing/anchors.yaml
verify_json out "$P/web-chain.pem" --trust-set issuing --host web.corp.test
assert_eq "True OK 3" "$(verdict "$out")" "verdict through the root"

# === 2. cross-signed intermediates =======================================================
# New Root and Old Root; "Issuing G2" signed by both (one key, one subject).
ca new-root "/CN=New Root" self
ca old-root "/CN=Old Root" self
ca g2-by-new-root "/CN=Issuing G2" new-root
ca g2-by-old-root "/CN=Issuing G2" old-root
leaf cross cross.test g2-by-new-root
ok_out out certctl -q trust create modern --no-bundle
ok_out out certctl -q trust add "$P/new-root.pem" "$P/g2-by-new-root.pem" --set modern
# The server sends the copy signed by Old Root, which the set does not
# trust: the path goes through the copy the set holds.
cat "$P/cross.pem" "$P/g2-by-old-root.pem" >"$P/cross-old.pem"
verify_json out "$P/cross-old.pem" --trust-set modern --host cross.test
assert_eq "True" "$(verdict "$out" | cut -d' ' -f1)" "verified through the other copy: $(rules "$out")"
json_check "$out" "assert [c['subject'] for c in d['path']] == ['CN=cross.test', 'CN=Issuing G2', 'CN=New Root'], d['path']"
# Old Root cross-signs New Root, for clients that only know Old Root; the
# cross-signature expires long before the rest.  Sent along after its
# end, it is only an extra: the path ends at New Root.
ca new-root-by-old-root "/CN=New Root" old-root 10
cat "$P/cross.pem" "$P/g2-by-new-root.pem" "$P/new-root-by-old-root.pem" >"$P/cross-expired.pem"
AT=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
verify_json out "$P/cross-expired.pem" --trust-set modern --host cross.test --at "$AT"
assert_eq "True WARNING 3" "$(verdict "$out")" "verdict with an expired cross-signature sent"
assert_eq "chain.extra" "$(rules "$out")" "the expired cross-signature is an extra"
json_check "$out" "assert d['path'][2]['issuer'] == 'CN=New Root', d['path']"
# A set that trusts Old Root only: the cross-signed path, valid today ...
ok_out out certctl -q trust create legacy --no-bundle
ok_out out certctl -q trust add "$P/old-root.pem" --set legacy
verify_json out "$P/cross-expired.pem" --trust-set legacy --host cross.test
assert_eq "True WARNING 4" "$(verdict "$out")" "the cross-signed path to Old Root"
assert_eq "validity.warning" "$(rules "$out")" "the cross-signature expires soon"
json_check "$out" "
f = [f for f in d['findings'] if f['rule'] == 'validity.warning']
assert f[0]['depth'] == 2 and 'intermediate CN=New Root expires in' in f[0]['message'], f
"
# ... and expired in 30 days.
verify_json out "$P/cross-expired.pem" --trust-set legacy --host cross.test --at "$AT"
assert_eq 2 "$RC" "exit status once the cross-signature has expired"
json_check "$out" "
f = [f for f in d['findings'] if f['rule'] == 'validity.expired']
assert f and f[0]['depth'] == 2 and 'New Root' in f[0]['message'], d['findings']
"
# The server sends New Root's self-signed certificate too, before the
# cross-signed one: OpenSSL alone takes the first (a root the set does not
# trust) and stops; the verifier tries the other, reaches Old Root, and
# names the cross-signed root as such.
cat "$P/cross.pem" "$P/g2-by-new-root.pem" "$P/new-root.pem" "$P/new-root-by-old-root.pem" \
	>"$P/cross-both.pem"
if openssl verify -CAfile "$P/old-root.pem" -untrusted "$P/cross-both.pem" "$P/cross.pem" \
	>/dev/null 2>&1; then
	note "openssl verify finds the cross-signed path by itself here"
fi
verify_json out "$P/cross-both.pem" --trust-set legacy --host cross.test
assert_eq "True WARNING 4" "$(verdict "$out")" "the other path, with both New Roots sent"
assert_eq "chain.extra validity.warning" "$(rules "$out")" "rules with both New Roots sent"
json_check "$out" "
f = [f for f in d['findings'] if f['rule'] == 'validity.warning']
assert 'cross-signed root CN=New Root (signed by CN=Old Root) expires in' in f[0]['message'], f
x = [f for f in d['findings'] if f['rule'] == 'chain.extra']
assert len(x) == 1 and 'CN=New Root is sent but not part of the path' in x[0]['message'], x
"

# === 3. two roots with one subject ======================================================
ca twin-a "/CN=Twin Root" self
ca twin-b "/CN=Twin Root" self
leaf ta a.twin.test twin-a
leaf tb b.twin.test twin-b
assert_ne "$(openssl x509 -in "$P/twin-a.pem" -noout -fingerprint)" \
	"$(openssl x509 -in "$P/twin-b.pem" -noout -fingerprint)" "two twin roots"
ok_out out certctl -q trust create twins --no-bundle
ok_out out certctl -q trust add "$P/twin-a.pem" "$P/twin-b.pem" --set twins
verify_json out "$P/ta.pem" --trust-set twins --host a.twin.test
assert_eq "True OK 2" "$(verdict "$out")" "leaf of the first twin root: $(rules "$out")"
verify_json out "$P/tb.pem" --trust-set twins --host b.twin.test
assert_eq "True OK 2" "$(verdict "$out")" "leaf of the second twin root: $(rules "$out")"
json_check "$out" "assert d['path'][1]['sha256'].replace(':', '').lower() == '$(openssl x509 -in "$P/twin-b.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')', d['path'][1]"

# === 4. bounds ==========================================================================
# A path of 10 CAs under the root: longer than the verifier builds.
prev=long-root
ca long-root "/CN=Long Root" self
chain=
for i in $(seq 10); do
	ca "long$i-by-$prev" "/CN=Long CA $i" "$prev"
	cp "$P/long$i-by-$prev.pem" "$P/long$i.pem"
	chain="$P/long$i.pem $chain"
	prev=long$i
done
leaf deep deep.test long10
# shellcheck disable=SC2086
cat "$P/deep.pem" $chain >"$P/deep-chain.pem"
ok_out out certctl -q trust create long --no-bundle
ok_out out certctl -q trust add "$P/long-root.pem" --set long
verify_json out "$P/deep-chain.pem" --trust-set long --host deep.test
assert_eq 2 "$RC" "exit status of a path too long"
assert_contains "$(rules "$out")" "chain.too-long" "rules of a path too long"
# Three CAs deep is fine.
cat "$P/long3.pem" "$P/long2.pem" "$P/long1.pem" >"$P/three.pem"
leaf shallow shallow.test long3
cat "$P/shallow.pem" "$P/three.pem" >"$P/shallow-chain.pem"
verify_json out "$P/shallow-chain.pem" --trust-set long --host shallow.test
assert_eq "True OK 5" "$(verdict "$out")" "a path of three CAs: $(rules "$out")"
# 300 certificates sent along with the right chain (at the end; 40
# different ones, and copies): the path is found, and the extras are named
# in one finding, at most 8 of them by name.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/junk.key" 2>/dev/null ||
	fail "junk key"
for i in $(seq 40); do
	openssl req -x509 -new -key "$P/junk.key" -subj "/CN=Junk $i" -days 30 \
		-out "$P/junk$i.pem" 2>/dev/null || fail "junk $i"
done
{
	cat "$P/shallow.pem"
	for _ in $(seq 7); do cat "$P"/junk*.pem; done
	for i in $(seq 20); do cat "$P/junk$i.pem"; done
	cat "$P/three.pem"
} >"$P/noisy.pem"
assert_eq 304 "$(grep -c 'BEGIN CERTIFICATE' "$P/noisy.pem")" "certificates in the noisy chain"
start=$(date +%s%N)
verify_json out "$P/noisy.pem" --trust-set long --host shallow.test
ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "True WARNING 5" "$(verdict "$out")" "the path among 300 extras"
json_check "$out" "
x = [f for f in d['findings'] if f['rule'] == 'chain.extra']
assert len(x) == 1, x
assert x[0]['message'].startswith('300 certificates are sent but not part of the path: CN=Junk'), x
assert x[0]['message'].endswith(' and 292 more'), x
assert x[0]['message'].count('CN=Junk') == 8, x
"
assert_within_ms 10000 "$ms" "verify of a chain with 300 extras"

ok git fsck --full --no-progress
finish
