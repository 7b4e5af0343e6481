#!/bin/bash
# Deployment to a cluster and to vCenter's certificate store, and the
# checks of target settings.  A definition with peers issues one key and
# one certificate per peer (the definition's names plus the peer's own),
# stored as DEF@PEER, and each peer's targets get that peer's certificate;
# every command that takes a definition takes DEF@PEER.  A vecs target
# replaces a VECS entry the way VMware's procedure does (getcert/getkey,
# delete, create), against a vecs-cli stand-in that keeps its store in
# files and logs its arguments; a failing create puts the old entry back.
# Target settings are checked when a definition is read, with the line of
# the mistake; fsck checks deployment records.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"
ok_out out certctl -q ca init root --cn "Cluster Test Root"
D=$T/deploy
mkdir -p "$D"

# fp FILE: a certificate's SHA-256 fingerprint, lower-case hex.
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
# pub FILE: SHA-256 of a private key's public key.
pub() {
	openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -c1-64
}

# --- peers ------------------------------------------------------------------------------
cat >"$T/cluster.yaml" <<EOF
subject: {cn: db.example.test}
san: {dns: [db.example.test]}
peers:
  - name: node1
    san: {dns: [node1.db.example.test], ip: [10.9.0.1]}
  - name: node2
    san: {dns: [node2.db.example.test]}
targets:
  - {name: n1, type: files, dir: $D/node1, fullchain: fullchain.pem, key: key.pem, peer: node1}
  - {name: n2, type: files, dir: $D/node2, fullchain: fullchain.pem, key: key.pem, peer: node2}
EOF
ok_out out certctl define db --from "$T/cluster.yaml"
before=$(commits)
ok_out out certctl issue db
assert_contains "$out" "db@node1: issued"
assert_contains "$out" "db@node2: issued"
assert_eq $((before + 2)) "$(commits)" "one commit per peer's certificate"
assert_file certs/db@node1/current
assert_file certs/db@node2/current
assert_no_file certs/db
ok_out out certctl deploy db
assert_match "$out" "^n1 +installed"
assert_match "$out" "^n2 +installed"
for n in node1 node2; do
	assert_mode 600 "$D/$n/key.pem"
	id=$(cat "certs/db@$n/current")
	assert_eq "$id" "$(fp "$D/$n/fullchain.pem" | cut -c1-16)" "$n serves its own certificate"
	assert_eq "$(openssl x509 -in "$D/$n/fullchain.pem" -noout -pubkey | openssl pkey -pubin \
		-outform DER | sha256sum | cut -c1-64)" "$(pub "$D/$n/key.pem")" "$n's key matches"
	ok openssl verify -CAfile ca/root/cert.pem "$D/$n/fullchain.pem"
done
assert_ne "$(pub "$D/node1/key.pem")" "$(pub "$D/node2/key.pem")" "each peer has its own key"
san1=$(openssl x509 -in "$D/node1/fullchain.pem" -noout -ext subjectAltName)
assert_contains "$san1" "DNS:db.example.test"
assert_contains "$san1" "DNS:node1.db.example.test"
assert_contains "$san1" "IP Address:10.9.0.1"
assert_not_contains "$san1" "node2"
san2=$(openssl x509 -in "$D/node2/fullchain.pem" -noout -ext subjectAltName)
assert_contains "$san2" "DNS:node2.db.example.test"
assert_not_contains "$san2" "node1"
yaml_has deployments/db/n1.yaml "cert: $(cat certs/db@node1/current)"
# DEF@PEER everywhere a definition is named.
ok_out out certctl current db@node2
assert_contains "$out" "$(cat certs/db@node2/current)"
ok_out out certctl export db@node1 --format pem
assert_eq "$(fp "$D/node1/fullchain.pem")" "$(printf '%s\n' "$out" | fp /dev/stdin)" "export db@node1"
ok_out out certctl deploy db@node2 --dry-run
assert_contains "$out" "n2 (files): would install"
assert_not_contains "$out" "n1"
ok_out out certctl issue db@node1
ok_out out certctl deploy db@node1
assert_match "$out" "^n1 +installed +$(cat certs/db@node1/current)"
yaml_has deployments/db/n2.yaml "cert: $(cat certs/db@node2/current)"
snapshot
expect_fail 1 "db has cluster peers.*acquire db@node1" certctl acquire db
expect_fail 1 "no peer 'node9'" certctl deploy db@node9
expect_fail 1 "no definition 'db@node9'" certctl current db@node9
assert_unchanged
# A view of a peer cannot be saved, and peers must be consistent.
expect_fail 1 "invalid .*definition name 'db@node1'|character '@'" certctl define db@node1 --cn x.example.test
cat >"$T/bad-peer.yaml" <<EOF
subject: {cn: db.example.test}
peers: [{name: a}]
targets:
  - {name: t, type: files, cert: /tmp/x.pem, peer: b}
EOF
expect_fail 1 "bad-peer.yaml:4:.*no peer 'b'" certctl define bp --from "$T/bad-peer.yaml"
cat >"$T/no-peer.yaml" <<EOF
subject: {cn: db.example.test}
peers: [{name: a}, {name: a}]
EOF
expect_fail 1 "no-peer.yaml:2:.*duplicate peer 'a'" certctl define np --from "$T/no-peer.yaml"
cat >"$T/unnamed.yaml" <<EOF
subject: {cn: db.example.test}
peers: [{name: a}]
targets:
  - {name: t, type: files, cert: /tmp/x.pem}
EOF
expect_fail 1 "unnamed.yaml:4:.*names its peer" certctl define un --from "$T/unnamed.yaml"
assert_unchanged

# --- vecs -------------------------------------------------------------------------------
V=$T/vecs
mkdir -p "$V/store"
cat >"$T/vecs-cli" <<EOF
#!/bin/sh
# A stand-in for vecs-cli: entries are files under $V/store/STORE/.
printf '%s\n' "\$*" >>"$V/log"
[ "\$1" = entry ] || exit 2
verb=\$2; shift 2
store= alias= cert= key= out=
while [ \$# -gt 0 ]; do
	case \$1 in
	--store) store=\$2; shift 2 ;;
	--alias) alias=\$2; shift 2 ;;
	--cert) cert=\$2; shift 2 ;;
	--key) key=\$2; shift 2 ;;
	--output) out=\$2; shift 2 ;;
	-y) shift ;;
	*) echo "unknown option \$1" >&2; exit 3 ;;
	esac
done
d="$V/store/\$store"
mkdir -p "\$d"
case \$verb in
getcert) [ -f "\$d/\$alias.crt" ] && cp "\$d/\$alias.crt" "\$out" ;;
getkey) [ -f "\$d/\$alias.key" ] && cp "\$d/\$alias.key" "\$out" ;;
delete) [ -f "\$d/\$alias.crt" ] && rm -f "\$d/\$alias.crt" "\$d/\$alias.key" ;;
create)
	[ -f "\$d/\$alias.crt" ] && { echo "Error: entry exists" >&2; exit 1; }
	if [ -f "$V/fail" ] && [ "\$cert" != "\${cert%/cert.pem}/old-cert.pem" ]; then
		grep -q . "$V/fail" && { echo "Error: store is read-only" >&2; rm -f "$V/fail"; exit 1; }
	fi
	cp "\$cert" "\$d/\$alias.crt" && cp "\$key" "\$d/\$alias.key" ;;
*) exit 4 ;;
esac
EOF
chmod +x "$T/vecs-cli"
cat >"$T/vc.yaml" <<EOF
subject: {cn: vcenter.example.test}
targets:
  - {name: vc, type: vecs, vecs_cli: $T/vecs-cli}
  - {name: trusted, type: vecs, vecs_cli: $T/vecs-cli, store: TRUSTED_ROOTS, alias: certctl-root}
EOF
ok_out out certctl define vc --from "$T/vc.yaml"
ok_out out certctl issue vc
ok_out out certctl deploy vc --target vc
first=$(cat certs/vc/current)
assert_eq "$first" "$(fp "$V/store/MACHINE_SSL_CERT/__MACHINE_CERT.crt" | cut -c1-16)" "VECS entry holds the certificate"
assert_eq "$(openssl x509 -in "$V/store/MACHINE_SSL_CERT/__MACHINE_CERT.crt" -noout -pubkey | \
	openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)" \
	"$(pub "$V/store/MACHINE_SSL_CERT/__MACHINE_CERT.key")" "VECS key matches"
yaml_has deployments/vc/vc.yaml "- vecs:MACHINE_SSL_CERT/__MACHINE_CERT"
# The first time there is no entry: nothing is deleted.
assert_eq "0" "$(grep -c '^entry delete' "$V/log")" "no delete before the first create"
ok_out out certctl issue vc
: >"$V/log"
ok_out out certctl deploy vc --target vc
second=$(cat certs/vc/current)
assert_ne "$first" "$second"
assert_eq "$second" "$(fp "$V/store/MACHINE_SSL_CERT/__MACHINE_CERT.crt" | cut -c1-16)" "VECS entry replaced"
verbs=$(awk '{print $2}' "$V/log" | tr '\n' ' ')
assert_eq "getcert getkey delete create " "$verbs" "VMware's sequence"
assert_match "$(sed -n 3p "$V/log")" "^entry delete --store MACHINE_SSL_CERT --alias __MACHINE_CERT -y$"
# The temporary key files are gone.
keyfile=$(sed -n 's/.* --key //p' "$V/log" | tail -1)
assert_no_file "$keyfile"
ok_out out certctl deploy vc --target trusted
assert_file "$V/store/TRUSTED_ROOTS/certctl-root.crt"
# A create that fails: the old entry is created again, the target failed.
ok_out out certctl issue vc
echo yes >"$V/fail"
before=$(commits)
expect_fail 1 "target 'vc' failed: vecs-cli .*exited with status 1: Error: store is read-only; the old entry is back" \
	certctl deploy vc --target vc
assert_eq "$second" "$(fp "$V/store/MACHINE_SSL_CERT/__MACHINE_CERT.crt" | cut -c1-16)" "old entry back"
yaml_has deployments/vc/vc.yaml "state: failed"
assert_eq $((before + 2)) "$(commits)" "prepared and failed are commits"
assert_eq "vc" "$(trailer Certctl-Target)"
# A missing vecs-cli is refused before anything.
sed -i "s|vecs_cli: $T/vecs-cli}|vecs_cli: /nonexistent/vecs-cli}|" "$T/vc.yaml"
ok_out out certctl define vc --from "$T/vc.yaml"
snapshot
expect_fail 1 "target 'vc': /nonexistent/vecs-cli: no such program" certctl deploy vc --target vc
assert_unchanged

# --- target settings are checked where they are written --------------------------------
bad() { # NAME ERE YAML-TARGET-LINE
	printf 'subject: {cn: t.example.test}\ntargets:\n  - %s\n' "$3" >"$T/$1.yaml"
	expect_fail 1 "$1.yaml:3:.*$2" certctl define "$1" --from "$T/$1.yaml"
}
snapshot
bad b1 "unknown target type 'iis'" "{name: x, type: iis}"
bad b2 "reload is a list of the program and its arguments" "{name: x, type: nginx, reload: nginx -s reload}"
bad b3 "'run' is not a setting of nginx targets" "{name: x, type: nginx, run: [x]}"
bad b4 "needs 'run'" "{name: x, type: command}"
bad b5 "needs 'known_hosts': the server's host key is always verified" \
	"{name: x, type: sftp, url: 'sftp://h/d/', identity: /k}"
bad b6 "a relative path needs 'dir'" "{name: x, type: files, cert: c.pem}"
bad b7 "names no file" "{name: x, type: files}"
bad b8 "'0999' is not a file mode" "{name: x, type: files, cert: /c.pem, mode: '0999'}"
bad b9 "needs passphrase_file or passphrase_env" "{name: x, type: files, jks: /k.jks}"
bad b10 "timeout must be 1s to 1h" "{name: x, type: nginx, timeout: 2h}"
bad b11 "check: invalid" "{name: x, type: nginx, check: 'bad host:1'}"
bad b12 "url must be sftp://" "{name: x, type: sftp, url: 'ftp://h/', identity: /k, known_hosts: /h}"
bad b13 "cert and fullchain are the same file" "{name: x, type: files, dir: /d, cert: a.pem, fullchain: a.pem}"
assert_unchanged

ok_out out certctl fsck
assert_contains "$out" "0 errors"
finish
