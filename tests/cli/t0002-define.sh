#!/bin/bash
# certctl define: from flags, from a YAML file, as a clone; one commit per
# change with its trailers, none when nothing changes; --create, --update,
# --json.  The stored YAML is read with grep and python3 (PyYAML when
# present), the history with git.
. "$(dirname "$0")/lib.sh"

ok_out out certctl -q init repo
cd repo || fail "no repository"

# yaml_get FILE EXPR: a value of a YAML file, read by python3.  PyYAML reads
# it when installed; EXPR is a Python expression over `d`.
have_pyyaml=no
python3 -c 'import yaml' 2>/dev/null && have_pyyaml=yes
yaml_get() {
	python3 -c '
import sys, yaml, json
d = yaml.safe_load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)
' "$1" "$2"
}

# last_commit_files: the paths the HEAD commit touched.
last_commit_files() {
	git show --format= --name-only HEAD
}

# --- create from flags -----------------------------------------------------
n0=$(commits)
ok_out out certctl define web --cn www.example.com --org 'Example Ltd' --ou Web \
	--locality Berlin --state Brandenburg --country DE --email hostmaster@example.com \
	--dns www.example.com --dns example.com --ip 192.0.2.10 --ip 2001:db8::1 \
	--san-email hostmaster@example.com --uri https://www.example.com/ \
	--key rsa:3072 --reuse-key --provider builtin --ca corp-root --profile server+client \
	--product 'OV multi-domain' --validation ov --validity 1y --renew-before 12h \
	--trust-set default --mode lifecycle --process unattended \
	--check www.example.com --check mail.example.com:25 --check '[2001:db8::1]:8443' \
	--sni sni.example.com --starttls smtp --monitor --warning 40d --critical 5d \
	--requester 'Alice <alice@example.com>' --owner 'Web team <web@example.com>' \
	--notes 'some notes' --description 'Public web site'
assert_eq "web: created" "$out" "define output"
f=definitions/web.yaml
assert_file "$f"
assert_mode 644 "$f"
assert_eq $((n0 + 1)) "$(commits)" "commits after a create"
assert_eq "definitions/web.yaml" "$(last_commit_files)" "files of the define commit"
assert_eq "1" "$(git show --stat --format= HEAD | grep -c '|')" "files in 'git show --stat'"
assert_contains "$(git show --stat HEAD)" "definitions/web.yaml" "git show --stat HEAD"
assert_eq "define: web: created" "$(git log -1 --format=%s)" "commit subject"
assert_eq "define" "$(git log -1 --format='%(trailers:key=Certctl-Operation,valueonly)' | sed '/^$/d')" "Certctl-Operation"
assert_eq "web" "$(git log -1 --format='%(trailers:key=Certctl-Definition,valueonly)' | sed '/^$/d')" "Certctl-Definition"
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status"
# The work tree file is what was committed.
assert_eq "$(git show HEAD:definitions/web.yaml | sha256sum)" "$(sha256sum <"$f")" "committed content"

for line in 'description: Public web site' 'mode: lifecycle' 'process: unattended' \
	'  cn: www.example.com' '  o: Example Ltd' '  ou: Web' '  l: Berlin' '  st: Brandenburg' \
	'  c: DE' '  email: hostmaster@example.com' '  type: rsa:3072' '  reuse: true' \
	'provider: builtin' 'ca: corp-root' 'profile: server+client' 'product: OV multi-domain' \
	'validation: ov' 'validity: 1y' 'renew_before: 12h' 'trust_set: default' \
	'  warning: 40d' '  critical: 5d' '  requester: Alice <alice@example.com>' \
	'  owner: Web team <web@example.com>'; do
	_count
	grep -qxF -- "$line" "$f" || fail "'$line' not in $f:
$(cat "$f")"
done
for word in www.example.com example.com 192.0.2.10 2001:db8::1 https://www.example.com/ \
	mail.example.com sni.example.com smtp 8443 'some notes'; do
	_count
	grep -qF -- "$word" "$f" || fail "'$word' not in $f"
done

if [ "$have_pyyaml" = yes ]; then
	assert_eq '["www.example.com", "example.com"]' "$(yaml_get "$f" 'd["san"]["dns"]')" "san.dns"
	assert_eq '["192.0.2.10", "2001:db8::1"]' "$(yaml_get "$f" 'd["san"]["ip"]')" "san.ip"
	assert_eq '["hostmaster@example.com"]' "$(yaml_get "$f" 'd["san"]["email"]')" "san.email"
	assert_eq '["https://www.example.com/"]' "$(yaml_get "$f" 'd["san"]["uri"]')" "san.uri"
	assert_eq 3 "$(yaml_get "$f" 'len(d["checks"])')" "number of checks"
	assert_eq '["www.example.com", 443, "sni.example.com", "smtp"]' \
		"$(yaml_get "$f" '[d["checks"][0][k] for k in ("host", "port", "sni", "starttls")]')" "first check"
	assert_eq '["mail.example.com", 25]' "$(yaml_get "$f" '[d["checks"][1][k] for k in ("host", "port")]')" "second check"
	assert_eq '["2001:db8::1", 8443]' "$(yaml_get "$f" '[str(d["checks"][2]["host"]), d["checks"][2]["port"]]')" "IPv6 check"
	assert_eq 'some notes' "$(yaml_get "$f" 'd["notes"].strip()')" "notes"
	assert_eq 'true' "$(yaml_get "$f" 'd["monitor"]["enabled"]')" "monitor.enabled"
else
	skip "python3 has no yaml module: the YAML structure is checked with grep only"
fi

# --- update, unchanged --------------------------------------------------
ok_out out certctl define web --notes 'other notes'
assert_eq "web: updated" "$out" "define output"
assert_eq $((n0 + 2)) "$(commits)" "commits after an update"
assert_eq "define: web: updated" "$(git log -1 --format=%s)" "commit subject"
assert_eq "web" "$(git log -1 --format='%(trailers:key=Certctl-Definition,valueonly)' | sed '/^$/d')" "Certctl-Definition"
assert_eq "definitions/web.yaml" "$(last_commit_files)" "files of the update commit"
ok grep -qF 'other notes' "$f"
assert_not_contains "$(cat "$f")" "some notes" "definition after the update"
# The rest of the definition is kept.
ok grep -qxF '  cn: www.example.com' "$f"
ok grep -qxF '  type: rsa:3072' "$f"
# Only the notes line changed.
assert_eq 1 "$(git diff --numstat HEAD~1 HEAD | cut -f1)" "lines added by the update"

snapshot
ok_out out certctl define web --notes 'other notes'
assert_eq "web: unchanged" "$out" "define output for no change"
assert_eq $((n0 + 2)) "$(commits)" "commits after an unchanged define"
assert_unchanged
ok_out out certctl define web
assert_eq "web: unchanged" "$out" "define without options"
assert_unchanged

# Lists given again replace the list.
ok_out out certctl define web --dns only.example.com
assert_eq "web: updated" "$out" "define output"
ok grep -qF 'only.example.com' "$f"
assert_eq "  dns: [only.example.com]" "$(grep '^  dns:' "$f")" "san dns after --dns replaced it"
ok grep -qxF '  cn: www.example.com' "$f"

# -q prints nothing; the commit is still made.
ok_out out certctl -q define web --owner 'Ops <ops@example.com>'
assert_eq "" "$out" "define -q output"
assert_eq "define: web: updated" "$(git log -1 --format=%s)" "commit subject after -q"

# --- defaults from a DNS-like name ----------------------------------------
ok_out out certctl define www.example.org
assert_eq "www.example.org: created" "$out" "define output"
ok grep -qxF '  cn: www.example.org' definitions/www.example.org.yaml
assert_match "$(cat definitions/www.example.org.yaml)" '^  dns: \[www\.example\.org\]$' "default dns"
if [ "$have_pyyaml" = yes ]; then
	assert_eq '["www.example.org"]' "$(yaml_get definitions/www.example.org.yaml 'd["san"]["dns"]')" "default dns"
fi
assert_eq "define: www.example.org: created" "$(git log -1 --format=%s)" "commit subject"
# Given names replace the default.
ok_out out certctl define api.example.org --dns api1.example.org
ok grep -qF 'api1.example.org' definitions/api.example.org.yaml
assert_not_contains "$(sed -n '/^san:/,/^[a-z]/p' definitions/api.example.org.yaml)" "api.example.org]" "san"
# Wildcards are DNS names too.
ok_out out certctl define wild --dns '*.example.net'
ok grep -qF '*.example.net' definitions/wild.yaml

# --- --from FILE: the full example of the spec -------------------------
cat >"$T/full.yaml" <<'EOF'
# certctl definition; see certctl-definition(5).
description: Public web site
mode: lifecycle             # lifecycle | monitor
process: interactive        # interactive | unattended
subject:
  cn: www.example.com
  o: Example Ltd
  ou: Web
  l: Berlin
  st: Berlin
  c: DE
  email: hostmaster@example.com
san:
  dns: [www.example.com, example.com]
  ip: [192.0.2.10]
  email: [hostmaster@example.com]
  uri: [https://www.example.com/]
key:
  type: ecdsa:P-256          # rsa:2048|3072|4096, ecdsa:P-256|P-384, ed25519
  reuse: false
provider: builtin            # a provider named in .certctl/config.yaml
ca: corp-root                # CA for the builtin provider (omitted: the default CA)
profile: server              # server | client | server+client
product: "OV multi-domain"
validation: ov               # dv | ov | ev
validity: 90d
renew_before: 30d
trust_set: default
monitor:
  enabled: true
  warning: 30d
  critical: 7d
checks:
  - host: www.example.com   # "server name to check": name or address to connect to
    port: 443
    sni: www.example.com    # TLS server name (default: host, when a name)
    starttls: smtp          # optional: smtp imap pop3 ftp ldap postgres
    enabled: true
targets:                     # read by deploy; free-form settings besides name and type
  - name: web1
    type: nginx
contacts:
  requester: Alice <alice@example.com>
  owner: Web team <web@example.com>
notes: |
  Free text.
EOF
n1=$(commits)
ok_out out certctl define full --from "$T/full.yaml"
assert_eq "full: created" "$out" "define --from output"
assert_eq $((n1 + 1)) "$(commits)" "commits after define --from"
assert_eq "definitions/full.yaml" "$(last_commit_files)" "files of the define --from commit"
ok_out shown certctl show full
printf '%s\n' "$shown" >"$T/shown.yaml"
assert_eq "$(sha256sum <definitions/full.yaml)" "$(sha256sum <"$T/shown.yaml")" "show prints the stored YAML"
if [ "$have_pyyaml" = yes ]; then
	# Every value of the input survives the round trip (comments aside).
	_count
	python3 - "$T/full.yaml" "$T/shown.yaml" <<'EOF' || fail "round trip through define --from and show"
import sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
b = yaml.safe_load(open(sys.argv[2]))
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("differs:", k, repr(a.get(k)), "->", repr(b.get(k)))
    sys.exit(1)
EOF
fi
# The same file again: unchanged, no commit.
snapshot
ok_out out certctl define full --from "$T/full.yaml"
assert_eq "full: unchanged" "$out" "define --from again"
assert_unchanged
# Flags given with --from are applied on top.
ok_out out certctl define full --from "$T/full.yaml" --validity 60d --dns a.example.com
assert_eq "full: updated" "$out" "define --from with flags"
ok grep -qxF 'validity: 60d' definitions/full.yaml
ok grep -qF 'a.example.com' definitions/full.yaml
assert_eq "  dns: [a.example.com]" "$(grep '^  dns:' definitions/full.yaml)" "san dns after --from with --dns"
# --from - reads the standard input.
ok_out out certctl define fromstdin --from - <"$T/full.yaml"
assert_eq "fromstdin: created" "$out" "define --from -"
ok_out shown2 certctl show fromstdin
assert_eq "$(sed 1d "$T/shown.yaml")" "$(printf '%s\n' "$shown2" | sed 1d)" "definition read from stdin"

# --- --clone ---------------------------------------------------------------
n2=$(commits)
ok_out out certctl define full2 --clone full
assert_match "$out" '^full2: (created|cloned)$' "define --clone output"
assert_eq $((n2 + 1)) "$(commits)" "commits after a clone"
assert_match "$(git log -1 --format=%s)" '^define: full2: created' "commit subject of a clone"
assert_eq "full2" "$(git log -1 --format='%(trailers:key=Certctl-Definition,valueonly)' | sed '/^$/d')" "Certctl-Definition of a clone"
assert_eq "definitions/full2.yaml" "$(last_commit_files)" "files of the clone commit"
# Everything but the name is the same.
assert_eq "$(sed 1d definitions/full.yaml)" "$(sed 1d definitions/full2.yaml)" "the clone"
snapshot
expect_fail 1 "exists" certctl define full2 --clone full
assert_unchanged
expect_fail 1 "nothere" certctl define full3 --clone nothere
assert_unchanged
expect_fail 64 "exclude" certctl define full3 --clone full --from "$T/full.yaml"
assert_unchanged

# --- --create and --update ---------------------------------------------
snapshot
expect_fail 1 "already exists" certctl define web --create --notes x
assert_unchanged
expect_fail 1 "no definition 'missing'|missing" certctl define missing --update --cn missing.example.com
assert_unchanged
assert_no_file definitions/missing.yaml
expect_fail 64 "exclude" certctl define web --create --update
assert_unchanged
ok_out out certctl define fresh.example.com --create
assert_eq "fresh.example.com: created" "$out" "define --create"
ok_out out certctl define fresh.example.com --update --notes 'now updated'
assert_eq "fresh.example.com: updated" "$out" "define --update"

# --- --json -------------------------------------------------------------
ok_out out certctl define jsondef --json --cn json.example.com --dns json.example.com --ip 192.0.2.7 \
	--key ed25519 --validity 10d --renew-before 2d --check json.example.com:8443
json_check "$out" '
assert d["schema"] == "certctl.definition/1", d
assert d["result"] == "created", d
x = d["definition"]
assert x["name"] == "jsondef", x
assert x["subject"]["cn"] == "json.example.com", x
assert x["san"]["dns"] == ["json.example.com"], x
assert x["san"]["ip"] == ["192.0.2.7"], x
assert x["key"]["type"] == "ed25519", x
assert x["validity_seconds"] == 10 * 86400, x
assert len(x["checks"]) == 1 and x["checks"][0]["port"] == 8443, x
assert x["checks"][0]["host"] == "json.example.com", x'
assert_eq "define: jsondef: created" "$(git log -1 --format=%s)" "commit of define --json"
ok_out out certctl define jsondef --json
json_check "$out" 'assert d["result"] == "unchanged", d'
ok_out out certctl define jsondef --json --notes n
json_check "$out" 'assert d["result"] == "updated", d; assert d["definition"]["notes"].strip() == "n", d'
ok_out out certctl show jsondef --json
json_check "$out" '
assert d["definition"]["name"] == "jsondef", d
assert d["definition"]["san"]["dns"] == ["json.example.com"], d'

# --- durations: plain numbers are days ----------------------------------
ok_out out certctl define dur --cn dur.example.com --validity 45 --renew-before 36h --json
json_check "$out" '
x = d["definition"]
assert x["validity_seconds"] == 45 * 86400, x
assert x["renew_before_seconds"] == 36 * 3600, x'

# The history is sound and the work tree clean.
ok git fsck --full --no-progress
assert_eq "" "$(git status --porcelain --untracked-files=all)" "git status at the end"
# Every define commit names its definition in a trailer.
git log --format='%s%x09%(trailers:key=Certctl-Definition,valueonly,separator=)' |
	grep '^define: ' | while IFS=$'\t' read -r subject def; do
	name=${subject#define: }
	name=${name%%: *}
	[ "$name" = "$def" ] || fail "commit '$subject' has Certctl-Definition '$def'"
done || exit 1

finish
