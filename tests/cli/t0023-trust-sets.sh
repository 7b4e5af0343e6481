#!/bin/bash
# Trusted CA sets: a set records its bundle file's SHA-256 and CAs; a
# changed bundle shows in `trust show` and `trust sets` and is taken in by
# `trust merge`, which lists what changed; the default set (trust
# default) is what definitions without trust_set and bare checks use; a
# set a definition names, or the default, cannot be deleted.  Checks
# against a server on IPv6 loopback follow the set the definition names.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
P=$T/pki
mkdir -p "$P"

# Three throw-away roots, each signing a leaf for its server.
mkroot() { # NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
		-out "$P/$1.pem" -days 90 -subj "/CN=$1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "root $1"
}
mkleaf() { # ROOT NAME
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$2.key" \
		-out "$P/$2.csr" -subj "/CN=$2" 2>/dev/null || fail "csr $2"
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		"$2" >"$P/$2.ext"
	openssl x509 -req -in "$P/$2.csr" -CA "$P/$1.pem" -CAkey "$P/$1.key" -CAcreateserial \
		-days 60 -extfile "$P/$2.ext" -out "$P/$2.pem" 2>/dev/null || fail "leaf $2"
}
mkroot "Root A"
mkroot "Root B"
mkroot "Root C"
mkleaf "Root A" a.example.test
mkleaf "Root B" b.example.test
cat "$P/Root A.pem" "$P/Root B.pem" >"$P/bundle.pem"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }

# --- create ------------------------------------------------------------------------------------
ok_out out certctl trust sets
assert_match "$out" "^\* default "
before=$(commits)
ok_out out certctl trust create corp --bundle "$P/bundle.pem"
assert_contains "$out" "set 'corp' with 2 CAs from $P/bundle.pem"
assert_eq $((before + 1)) "$(commits)"
assert_eq "corp" "$(trailer Certctl-Trust-Set)"
yaml_has trust/corp/set.yaml "bundle: $P/bundle.pem"
yaml_has trust/corp/set.yaml "bundle_sha256: $(sha256sum "$P/bundle.pem" | cut -c1-64)"
yaml_has trust/corp/set.yaml "- $(fp "$P/Root A.pem")"
yaml_has trust/corp/set.yaml "- $(fp "$P/Root B.pem")"
snapshot
expect_fail 1 "trust set 'corp' exists" certctl trust create corp
expect_fail 1 "invalid trust set name" certctl trust create "../x"
assert_unchanged
ok_out out certctl trust create lab --no-bundle
yaml_has trust/lab/set.yaml 'bundle: ""'
ok_out out certctl trust sets
assert_match "$out" "^  corp +$P/bundle.pem +0 user CAs$"
assert_match "$out" "^  lab +\(no bundle\) +0 user CAs$"
ok_out out certctl trust show --set corp --json
json_check "$out" '
assert d["schema"] == "certctl.trust-set/1", d
assert d["set"] == "corp" and d["recorded"] and not d["default"], d
assert d["bundle_cas"] == 2 and not d["bundle_changed"], d'

# --- the bundle changes: show says so, merge takes it ----------------------------------------
cat "$P/Root A.pem" "$P/Root C.pem" >"$P/bundle.pem"
ok_out out certctl trust show --set corp
assert_contains "$out" "the bundle changed since: run 'certctl trust merge --set corp'"
ok_out out certctl trust sets
assert_contains "$out" "bundle changed: merge"
ok_out out certctl trust merge --set corp
assert_contains "$out" "+ CN=Root C"
assert_contains "$out" "- the CA with SHA-256 $(fp "$P/Root B.pem")"
assert_contains "$out" "set 'corp': 2 CAs, 1 added, 1 removed"
assert_match "$(git log -1 --format=%s)" "^trust merge: set 'corp': 2 CAs, 1 added, 1 removed$"
ok_out out certctl trust show --set corp
assert_not_contains "$out" "changed since"

# --- definitions and checks follow their set; the default -------------------------------------
PORT_A=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
openssl s_server -quiet -6 -accept "[::1]:$PORT_A" -cert "$P/a.example.test.pem" \
	-key "$P/a.example.test.key" -www >/dev/null 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null' EXIT
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/::1/$PORT_A") 2>/dev/null && break
	sleep 0.1
done
ok_out out certctl define a.example.test --mode monitor --check "[::1]:$PORT_A" \
	--sni a.example.test --trust-set corp
ok_out out certctl check a.example.test --no-record -v
assert_match "$out" "^OK +a\.example\.test +\[::1\]:$PORT_A "
assert_contains "$out" "the chain verifies against trust set corp"
# The lab set does not trust Root A; the default set (the system's) neither.
ok_out out certctl define a.example.test --trust-set lab
certctl check a.example.test --no-record >"$T/out" 2>&1
assert_eq 2 "$?" "check against a set without Root A"
assert_contains "$(cat "$T/out")" "trust set 'lab'"
certctl check "[::1]:$PORT_A" --sni a.example.test --no-record >"$T/out" 2>&1
assert_eq 2 "$?" "a bare check with the system's set"
# Make corp the default: bare checks and definitions without trust_set use it.
ok_out out certctl trust default corp
assert_eq "corp" "$(cat trust/default)"
ok_out out certctl trust default
assert_eq "corp" "$out"
ok_out out certctl check "[::1]:$PORT_A" --sni a.example.test --no-record
assert_match "$out" "^OK "
# A bundle is read on demand, by subject: two roots named "Root A" (the
# first one with another key, as when a CA renews its root) are both
# candidates, and the one that signed the leaf is found whatever the order.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/twin.key" \
	-out "$P/twin.pem" -days 90 -subj "/CN=Root A" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "the twin root"
cp "$P/bundle.pem" "$P/bundle.orig"
for order in twin-first twin-last; do
	case $order in
	twin-first) cat "$P/twin.pem" "$P/bundle.orig" >"$P/bundle.pem" ;;
	twin-last) cat "$P/bundle.orig" "$P/twin.pem" >"$P/bundle.pem" ;;
	esac
	ok_out out certctl check "[::1]:$PORT_A" --sni a.example.test --no-record
	assert_match "$out" "^OK " "a bundle with two roots named Root A ($order)"
done
cat "$P/twin.pem" "$P/Root B.pem" >"$P/bundle.pem"
certctl check "[::1]:$PORT_A" --sni a.example.test --no-record >"$T/out" 2>&1
assert_match "$(cat "$T/out")" "^CRITICAL " "only the wrong Root A in the bundle"
cp "$P/bundle.orig" "$P/bundle.pem"
ok_out out certctl trust sets
assert_match "$out" "^\* corp "
ok_out out certctl trust show
assert_contains "$out" "trust set:  corp (default)"

# --- delete ---------------------------------------------------------------------------------
snapshot
expect_fail 1 "trust set 'corp' is the default" certctl trust delete corp
expect_fail 1 "definition a.example.test uses trust set 'lab'" certctl trust delete lab
expect_fail 1 "no trust set 'nosuch'" certctl trust delete nosuch
assert_unchanged
ok_out out certctl define a.example.test --trust-set corp
ok_out out certctl trust add "$P/Root B.pem" --set lab
ok_out out certctl trust delete lab
assert_no_file trust/lab/set.yaml
assert_eq "" "$(ls trust/lab 2>/dev/null)" "files left of the deleted set"
ok_out out certctl trust sets
assert_not_contains "$out" "lab"
# trust add goes to the default set when --set is not given.
ok_out out certctl trust add "$P/Root B.pem"
assert_contains "$out" "added to trust set 'corp'"
ok_out out certctl fsck
assert_contains "$out" "0 errors"
finish
