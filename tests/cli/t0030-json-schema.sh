#!/bin/bash
# Every JSON document certctl prints (--json) or posts (webhooks) follows
# its schema: tests/schema/KIND.json (JSON Schema draft 2020-12, strict),
# documented in certctl-json(7).  A repository exercises every command
# that has --json, against servers started here on loopback (openssl
# s_server presenting a deployed certificate and a self-signed one, a
# python webhook receiver); each real output is validated with Debian's
# python3-jsonschema (tests/schema/validate.py).
#  1. every --json command and verb, with the null and non-null variants of
#     its records where the command makes them (a pending CA, a request
#     open and closed, a deployment before and after its deploy check, a
#     reachable and a closed endpoint, PEM, DER, PKCS#12 and a server for
#     inspect, fsck finding and repairing a problem);
#  2. the webhook documents: a test notification, monitor's, the report;
#  3. every schema was used; the schemas are valid and their references
#     resolve; the documents the sources name are the schema files;
#  4. the validator bites: broken documents (a field missing, one too
#     many, a value outside its enum, a wrong version, a malformed time, two
#     documents on one output) fail; deploy --dry-run refuses --json;
#  5. certctl-json(7) names every document and every property the schemas
#     define.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
SCHEMA=$top/tests/schema
# Debian's python3, whose python3-jsonschema scripts/deps.sh installs, for
# every python3 here (json_check's too).
mkdir "$T/bin" || fail "cannot make $T/bin"
ln -s /usr/bin/python3 "$T/bin/python3" || fail "cannot link python3"
PATH=$T/bin:$PATH
python3 -c 'import jsonschema' 2>/dev/null ||
	fail "python3-jsonschema is missing: run scripts/deps.sh (or apt-get install python3-jsonschema)"

# --- helpers ------------------------------------------------------------------------------

mkdir -p "$T/json" "$T/srv" "$T/pki" "$T/hooks" "$T/logs"
# valid KIND FILE WHAT: FILE is one document valid against KIND.json.
valid() {
	local out
	_count
	out=$(python3 "$SCHEMA/validate.py" --kind "$1" "$2" 2>&1) ||
		fail "$3: not a valid certctl.$1/1 document:
$out
$(head -c 3000 "$2")"
	echo "$1" >>"$T/kinds"
}
# jdoc KIND WANT ARGS...: `certctl ARGS` exits WANT, writes nothing on
# stderr, and its standard output is one document valid against KIND.json;
# the document in DOC (and in $T/json/NN-KIND.json).
DOC=
NDOC=0
jdoc() {
	local kind=$1 want=$2 rc err f
	shift 2
	NDOC=$((NDOC + 1))
	f=$T/json/$(printf %02d "$NDOC")-$kind.json
	_count
	certctl "$@" >"$f" 2>"$T/jdoc.err"
	rc=$?
	err=$(cat "$T/jdoc.err")
	[ "$rc" = "$want" ] || fail "exit status of 'certctl $*': expected $want, got $rc
stdout: $(head -c 2000 "$f")
stderr: $err"
	[ -z "$err" ] || fail "'certctl $*' wrote on stderr: $err"
	valid "$kind" "$f" "certctl $*"
	DOC=$(cat "$f")
}
# hook N KIND: the Nth webhook received (000, 001, ...) is valid against KIND.json.
hook() {
	local f=$T/hooks/$1.json
	for _ in $(seq 50); do
		[ -s "$f" ] && break
		sleep 0.1
	done
	assert_file "$f"
	valid "$2" "$f" "webhook $1"
	DOC=$(cat "$f")
}
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
# serve NAME CERT KEY: openssl s_server -www presenting CERT on a free port
# of 127.0.0.1; the port in PORT[NAME].
declare -A PORT
serve() {
	local name=$1 port pid
	for _ in 1 2 3 4 5; do
		port=$(free_ports 1)
		openssl s_server -accept "127.0.0.1:$port" -cert "$2" -key "$3" -www -quiet \
			</dev/null >>"$T/logs/$name.log" 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			listening "$port" && break
			alive "$pid" || break
			sleep 0.1
		done
		if listening "$port"; then
			PIDS+=("$pid")
			PORT[$name]=$port
			return 0
		fi
		stop_pid "$pid"
	done
	fail "openssl s_server for $name did not start: $(cat "$T/logs/$name.log")"
}
# selfsigned NAME CN: a self-signed EC certificate and key in $T/pki/NAME.{pem,key}.
selfsigned() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/pki/$1.key" \
		-out "$T/pki/$1.pem" -subj "/CN=$2" -days 30 -addext "subjectAltName=DNS:$2" 2>/dev/null ||
		fail "cannot make the certificate $1"
}

# === 1. every --json command ===================================================================

# --- init ----------------------------------------------------------------------------------
jdoc init 0 init --json repo
json_check "$DOC" 'assert d["secret"] == "file" and d["secret_path"].endswith(".key"), d'
printf 'a passphrase\n' >"$T/pass"
CERTCTL_PASSPHRASE_FILE=$T/pass jdoc init 0 init --json passrepo
json_check "$DOC" 'assert d["secret"] == "passphrase" and d["secret_path"] is None, d'
cd repo || fail "no repository"
R=$PWD

# --- CAs ------------------------------------------------------------------------------------
ok_out out certctl ca init root
ok_out out certctl ca init sub --parent root
ok_out out certctl ca init ext --external --csr-out "$T/ext.csr"
jdoc cas 0 ca list --json
json_check "$DOC" 'assert sorted(c["name"] for c in d["cas"]) == ["ext", "root", "sub"], d'
jdoc ca 0 ca show sub --json
json_check "$DOC" 'assert d["ca"]["parent"] == "root" and len(d["ca"]["chain"]) == 1, d'
jdoc ca 0 ca show ext --json
json_check "$DOC" 'assert d["ca"]["status"] == "pending" and d["ca"]["certificate"] is None, d'

# --- definitions --------------------------------------------------------------------------
# www: checked at the server started below on its deployed files.
selfsigned other other.example.com
serve other "$T/pki/other.pem" "$T/pki/other.key"
# Its port for now: the server started on its deployed files takes another.
read -r WWW_PORT DEAD <<<"$(free_ports 2)"
cat >"$T/www.yaml" <<EOF
description: the web site
subject:
  cn: www.example.com
  o: Example Ltd
  c: DE
san:
  dns: [www.example.com, example.com]
  ip: [127.0.0.1]
ca: root
checks:
  - 127.0.0.1:$WWW_PORT
targets:
  - name: files
    type: files
    cert: $T/srv/cert.pem
    chain: $T/srv/chain.pem
    key: $T/srv/key.pem
    reload: [/bin/true]
    check: 127.0.0.1:$WWW_PORT
    sni: www.example.com
contacts:
  requester: Jane <jane@example.com>
notes: for the JSON schema test
EOF
jdoc definition 0 define www --from "$T/www.yaml" --json
json_check "$DOC" '
w = d["definition"]
assert d["result"] == "created" and w["name"] == "www", d
assert w["targets"][0]["reload"] == ["/bin/true"], w["targets"]'
jdoc definition 0 define www --owner "Ops <ops@example.com>" --json
json_check "$DOC" 'assert d["result"] == "updated", d'
jdoc definition 0 show www --json
json_check "$DOC" 'assert "result" not in d and d["definition"]["contacts"]["owner"], d'
cat >"$T/cluster.yaml" <<EOF
subject: {cn: cluster.example.com}
ca: sub
key:
  type: rsa:2048
peers:
  - name: a
    san: {dns: [a.example.com], ip: [10.0.0.1]}
  - name: b
    san: {dns: [b.example.com]}
EOF
ok_out out certctl define cluster --from "$T/cluster.yaml"
ok_out out certctl define api --dns api.example.com --ca sub
ok_out out certctl define man --dns man.example.com --provider manual
jdoc definitions 0 list --json
json_check "$DOC" 'assert [x["name"] for x in d["definitions"]] == ["api", "cluster", "man", "www"], d'

# --- keys ------------------------------------------------------------------------------------
jdoc key 0 key generate --key ed25519 --json
json_check "$DOC" 'assert d["key"]["type"] == "ed25519" and d["key"]["origin"] == "generated", d'
KEY_GEN=$(printf '%s' "$DOC" | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"]["id"])')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/pki/imported.key" 2>/dev/null ||
	fail "cannot make a key"
jdoc key 0 key import "$T/pki/imported.key" --json
json_check "$DOC" 'assert d["key"]["type"] == "ecdsa:P-384", d'
jdoc key 0 key show "${KEY_GEN:0:8}" --json
json_check "$DOC" 'assert d["key"]["id"] == "'"$KEY_GEN"'", d'
jdoc keys 0 key list --json

# --- issue, acquire, requests, current ------------------------------------------------------
jdoc issue 0 issue www --json
json_check "$DOC" 'assert d["issued"] == 1 and d["results"][0]["ca"] == "root", d'
jdoc issue 0 issue cluster --json
json_check "$DOC" 'assert d["issued"] == 2, d'
jdoc ca-issued 0 ca issued root --json
jdoc acquire 0 acquire api --json
json_check "$DOC" 'assert d["action"] == "completed" and d["request"]["state"] == "completed", d'
jdoc acquire 0 acquire man --csr-out "$T/man.csr" --json
json_check "$DOC" 'assert d["action"] == "started" and d["certificate"] is None, d'
jdoc acquire 0 acquire man --set order-number=42 --set "contact=Jane <jane@example.com>" --json
json_check "$DOC" 'assert d["action"] == "updated" and d["request"]["order"]["number"] == "42", d'
jdoc requests 0 requests --json
json_check "$DOC" 'assert sorted(r["open"] for r in d["requests"]) == [False, True], d'
jdoc current 0 current api --json
json_check "$DOC" 'assert d["current"]["id"] == d["stored"][0], d'
jdoc current 0 current man --json
json_check "$DOC" 'assert d["current"] is None and d["stored"] == [], d'

# --- deploy, deployments, check ---------------------------------------------------------------
jdoc deploy 0 deploy www --no-check --json
json_check "$DOC" '
t = d["targets"][0]
assert t["state"] == "installed" and t["check"] is None and t["command"]["argv"] == ["/bin/true"], t'
# The server on the deployed files: the definition follows it to its port.
serve www "$T/srv/cert.pem" "$T/srv/key.pem"
sed -i "s/\b$WWW_PORT\b/${PORT[www]}/" definitions/www.yaml || fail "cannot change the port of www"
git commit -qam "test: the port of www" || fail "cannot commit the port of www"
WWW_PORT=${PORT[www]}
assert_eq 2 "$(grep -cw "$WWW_PORT" definitions/www.yaml)" "the checks of www on the new port"
jdoc deploy 0 deploy www --check --json
json_check "$DOC" 'assert d["targets"][0]["check"]["result"] == "ok", d'
jdoc deployments 0 deployments --json
jdoc check 0 check www --json
json_check "$DOC" 'assert [r["status"] for r in d["results"]] == ["OK", "OK"], d'
jdoc check 2 check --json --no-record "127.0.0.1:$DEAD"
json_check "$DOC" 'r = d["results"][0]; assert r["sha256"] is None and r["days_left"] is None, r'
jdoc verify 0 verify "$T/srv/cert.pem" --host www.example.com --json
json_check "$DOC" 'assert d["verified"] and d["policy"] == "webpki" and len(d["path"]) == 2, d'
jdoc verify 2 verify "$T/pki/other.pem" --policy rfc5280 --json
json_check "$DOC" 'assert not d["verified"] and d["status"] == "CRITICAL", d'

# --- status, log, fsck -------------------------------------------------------------------------
jdoc status 0 status --json
json_check "$DOC" '
by = {s["definition"]: s for s in d["definitions"]}
assert by["www"]["last_check"]["status"] == "OK" and "cluster@a" in by, by'
jdoc log 0 log --json -n 5
jdoc log 0 log www --json
jdoc fsck 0 fsck --json

# --- inspect -------------------------------------------------------------------------------------
printf 'p12 pass\n' >"$T/p12.pass"
openssl pkcs12 -export -in "$T/pki/other.pem" -inkey "$T/pki/other.key" -name other \
	-passout "file:$T/p12.pass" -out "$T/pki/other.p12" 2>/dev/null || fail "cannot make a PKCS#12 file"
cat "$T/srv/cert.pem" ca/root/cert.pem >"$T/pki/bundle.pem"
openssl x509 -in ca/sub/cert.pem -outform DER -out "$T/pki/sub.der" || fail "cannot make a DER file"
jdoc inspect 0 inspect --json "$T/pki/bundle.pem" "$T/pki/sub.der" "$T/pki/imported.key"
json_check "$DOC" '
f = d["files"]
assert [x["format"] for x in f] == ["pem", "der", "pem"], f
assert [c["role"] for c in f[0]["certificates"]] == ["certificate", "root CA (self-signed)"], f[0]
assert f[2]["key"]["type"] == "ecdsa:P-384" and f[2]["certificates"] == [], f[2]'
jdoc inspect 0 inspect --json --passphrase-file "$T/p12.pass" "$T/pki/other.p12"
json_check "$DOC" 'f = d["files"][0]; assert f["format"] == "pkcs12" and f["key"] is not None, f'
jdoc inspect 0 inspect --json "127.0.0.1:$WWW_PORT" --sni www.example.com
json_check "$DOC" 'assert d["files"][0]["format"] == "tls", d'

# --- trust -------------------------------------------------------------------------------------
jdoc trust 0 trust list --json
ok_out out certctl trust add "$T/pki/other.pem"
jdoc trust 0 trust list --json
json_check "$DOC" 'assert d["certificates"][0]["subject"] == "CN=other.example.com", d'
jdoc trust-set 0 trust show --json
ok_out out certctl trust create own --no-bundle
jdoc trust-set 0 trust show --set own --json
json_check "$DOC" 'assert d["bundle"] is None and d["recorded"] and not d["default"], d'

# --- discover, import ---------------------------------------------------------------------------
jdoc discover 0 discover 127.0.0.1 -p "$WWW_PORT,${PORT[other]},$DEAD" --json
json_check "$DOC" '
m = sorted((c["managed"] or "-") for c in d["certificates"])
assert d["probes"] == 3 and m == ["-", "www"], d'
DISC=$(printf '%s' "$DOC" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
cp -a "$R" "$T/copy" || fail "cannot copy the repository"
jdoc import 0 import --from-discovery "$DISC" --json
json_check "$DOC" 'i = d["imported"][0]; assert i["server"] and not i["key"] and i["mode"] == "monitor", d'
jdoc import 0 -C "$T/copy" import --from "127.0.0.1:${PORT[other]}" --json
selfsigned third third.example.com
jdoc import 0 import "$T/pki/third.pem" --key "$T/pki/third.key" --json
json_check "$DOC" 'i = d["imported"][0]; assert i["file"] and i["key"] and i["mode"] == "lifecycle", d'

# --- config --------------------------------------------------------------------------------
CERTCTL_LOCK_TIMEOUT=60 jdoc config 0 -c discover.rate=200 config list --json
json_check "$DOC" '
by = {s["key"]: s for s in d["settings"]}
assert by["discover.rate"]["layer"] == "command line" and by["discover.rate"]["value"] == "200", by
assert by["lock.timeout"]["layer"] == "environment", by
assert by["defaults.key"]["layer"] == "repository", by'

# --- the end of an acquisition --------------------------------------------------------------
jdoc acquire 0 acquire man --cancel --json
json_check "$DOC" 'assert d["action"] == "cancelled" and not d["request"]["open"], d'

# === 2. monitor and the webhook documents ====================================================
cat >"$T/hook.py" <<'EOF'
import http.server, os, sys
spool = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n = len([f for f in os.listdir(spool) if f.endswith(".json")])
        with open(os.path.join(spool, ".%03d" % n), "wb") as f:
            f.write(body)
        os.rename(os.path.join(spool, ".%03d" % n), os.path.join(spool, "%03d.json" % n))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
HOOK=$(free_ports 1)
python3 "$T/hook.py" "$HOOK" "$T/hooks" 2>"$T/logs/hook.log" &
PIDS+=($!)
for _ in $(seq 50); do
	listening "$HOOK" && break
	sleep 0.1
done
listening "$HOOK" || fail "the webhook receiver did not start: $(cat "$T/logs/hook.log")"
cat >>.certctl/config.yaml <<EOF
notify:
  webhook:
    url: http://127.0.0.1:$HOOK/certctl
EOF
git commit -qam "test: a webhook" || fail "cannot commit the webhook"
ok_out out certctl notify --test
hook 000 notification
json_check "$DOC" 'assert d["status"] == "OK" and d["items"] == [] and "reach you" in d["text"], d'
ok_out out certctl notify --report
hook 001 report
json_check "$DOC" 'assert {"www", "api"} <= {x["definition"] for x in d["definitions"]}, d'
ok_out out certctl define down --mode monitor --dns down.example.com --check "127.0.0.1:$DEAD"
jdoc monitor 2 monitor --json --dry-run --timeout 2
json_check "$DOC" 'assert d["status"] == "CRITICAL" and not d["notified"], d'
jdoc monitor 2 monitor --json --timeout 2
json_check "$DOC" '
assert d["notified"] and d["renewals"], d
assert {c["definition"] for c in d["checks"]} >= {"down", "www"}, d'
hook 002 notification
json_check "$DOC" 'assert d["status"] == "CRITICAL" and d["items"][0]["definition"] == "down", d'

# --- what fsck finds, the secret rotated ------------------------------------------------------
key=$(find keys -name '*.pem' | sort | head -n 1)
chmod 644 "$key"
jdoc fsck 1 fsck --json
json_check "$DOC" 'assert not d["clean"] and d["problems"][0]["severity"] == "warning", d'
jdoc fsck 0 fsck --repair --json
json_check "$DOC" 'assert d["problems"][0]["severity"] == "repaired", d'
assert_mode 600 "$key"
jdoc key-rotate-secret 0 key rotate-secret --json
json_check "$DOC" 'assert d["keys"] >= 5 and d["secret_file"], d'

# === 3. the schemas: all used, valid, the sources' ===========================================
note "$NDOC documents printed by certctl validated, and 3 webhooks"
kinds=$(find "$SCHEMA" -maxdepth 1 -name '*.json' ! -name records.json -printf '%f\n' |
	sed 's/\.json$//' | sort)
for k in $kinds; do
	_count
	grep -qx -- "$k" "$T/kinds" || fail "no document of tests/schema/$k.json was validated"
done
ok_out out python3 "$SCHEMA/validate.py" --check-schemas
# The document kinds the sources name are exactly the schema files.
named=$(grep -ohE '"certctl\.[a-z-]+/[0-9]+"' "$top"/cmd/*.c "$top"/lib/*.c | tr -d '"' | sort -u)
assert_eq "$(printf '%s\n' "$kinds" | sed 's|^|certctl.|; s|$|/1|' | sort)" "$named" \
	"document kinds in cmd/ and lib/ vs. tests/schema/"
# The document kind is also read from the document itself.
ok_out out python3 "$SCHEMA/validate.py" "$T/json/01-init.json" "$T/hooks/001.json"

# === 4. the validator bites ===================================================================
checks=("$T"/json/*-check.json)
CHECK=${checks[0]}
# broken NAME PYTHON: the check document changed by PYTHON (on `d`) fails validation.
broken() {
	_count
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(d, sys.stdout)' "$CHECK" "$2" >"$T/broken-$1.json" || fail "cannot break the document ($1)"
	python3 "$SCHEMA/validate.py" --kind check "$T/broken-$1.json" >"$T/broken-$1.out" 2>&1 &&
		fail "a broken document ($1) passes validation: $2"
	grep -q "^$T/broken-$1.json: check: " "$T/broken-$1.out" ||
		fail "no error line for the broken document ($1): $(cat "$T/broken-$1.out")"
}
ok_out out python3 "$SCHEMA/validate.py" --kind check "$CHECK"
broken missing 'del d["results"][0]["sha256"]'
broken extra 'd["extra"] = 1'
broken nested-extra 'd["results"][0]["findings"][0]["severity"] = "high"'
broken enum 'd["status"] = "FINE"'
broken version 'd["schema"] = "certctl.check/2"'
broken kind 'd["schema"] = "certctl.monitor/1"'
broken time 'd["results"][0]["time"] = "2026-11-24 10:00:00"'
broken fingerprint 'd["results"][0]["sha256"] = d["results"][0]["sha256"].upper()'
broken type 'd["results"][0]["port"] = str(d["results"][0]["port"])'
broken null 'd["results"][0]["host"] = None'
# Two documents, or none, are not one document.
cat "$CHECK" "$CHECK" >"$T/two.json"
_count
python3 "$SCHEMA/validate.py" --kind check "$T/two.json" >/dev/null 2>&1 && fail "two documents pass"
_count
python3 "$SCHEMA/validate.py" --kind check </dev/null >/dev/null 2>&1 && fail "no document passes"
# --json --dry-run would print lines, not a document: refused.
expect_fail 64 "--dry-run and --json exclude each other" certctl deploy www --dry-run --json

# === 5. certctl-json(7) documents every document and property ==================================
page=$top/man/certctl-json.7
assert_file "$page"
plain=$(sed -e 's/\\-/-/g' -e 's/\\%//g' -e 's/\\&//g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' "$page")
for k in $kinds; do
	assert_contains "$plain" "certctl.$k/1" "certctl-json(7)"
done
for name in $(python3 "$SCHEMA/validate.py" --names); do
	_count
	printf '%s\n' "$plain" | grep -qE -- "(^|[^a-z0-9_])$name([^a-z0-9_]|\$)" ||
		fail "certctl-json(7) does not name the property '$name' of tests/schema/"
done

finish
