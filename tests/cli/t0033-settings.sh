#!/bin/bash
# Settings precedence (certctl-config(1)): the command line (-c, --color)
# beats the environment (CERTCTL_KEY_NAME), which beats the repository's
# .certctl/config.yaml, which beats the user's ~/.config/certctl/config.yaml,
# which beats the built-in default; a command's own option beats them all.
# Each layer is shown by its effect on a command, and by `certctl config`.
# Bad values: one line naming where the value came from, nothing changed.
. "$(dirname "$0")/lib.sh"

USER_CONF=$XDG_CONFIG_HOME/certctl/config.yaml
mkdir -p "$(dirname "$USER_CONF")" || fail "cannot make the user configuration directory"

ok_out out certctl -q init repo
cd repo || fail "no repository"

# The key type a new definition gets, from `show --json`.
key_of() {
	certctl show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["definition"]["key"]["type"])'
}

# --- where the user configuration is --------------------------------------------
ok_out out certctl config path
assert_eq "$USER_CONF" "$out"

# --- defaults.key: repository over user, environment over repository, -c over
# the environment, --key over everything --------------------------------------
cat >"$USER_CONF" <<EOF
defaults:
  key: rsa:2048
EOF
ok_out out certctl define d1 --dns d1.example
assert_eq "ecdsa:P-256" "$(key_of d1)"
ok_out out certctl config get defaults.key --show-origin
assert_match "$out" "^ecdsa:P-256	repository	\.certctl/config\.yaml:[0-9]+\$"

CERTCTL_DEFAULTS_KEY=rsa:3072 ok_out out certctl define d2 --dns d2.example
assert_eq "rsa:3072" "$(key_of d2)"
CERTCTL_DEFAULTS_KEY=rsa:3072 ok_out out certctl config get defaults.key --show-origin
assert_eq "rsa:3072	environment	CERTCTL_DEFAULTS_KEY" "$out"

CERTCTL_DEFAULTS_KEY=rsa:3072 ok_out out certctl -c defaults.key=ecdsa:P-384 define d3 --dns d3.example
assert_eq "ecdsa:P-384" "$(key_of d3)"

CERTCTL_DEFAULTS_KEY=rsa:3072 ok_out out certctl -c defaults.key=ecdsa:P-384 define d4 \
	--dns d4.example --key ed25519
assert_eq "ed25519" "$(key_of d4)"

# Without the repository's line the user configuration is next.
python3 - <<'EOF' || fail "cannot edit the configuration"
import re
p = ".certctl/config.yaml"
s = open(p).read()
s2 = re.sub(r"(?m)^  key: .*\n", "", s, count=1)
assert s2 != s
open(p, "w").write(s2)
EOF
ok git commit -qam "Leave the default key type to each user"
ok_out out certctl define d5 --dns d5.example
assert_eq "rsa:2048" "$(key_of d5)"
ok_out out certctl config get defaults.key --show-origin
assert_eq "rsa:2048	user	~/.config/certctl/config.yaml:2" "$out"
# ... and without it the built-in default.
rm -f "$USER_CONF"
ok_out out certctl define d6 --dns d6.example
assert_eq "ecdsa:P-256" "$(key_of d6)"
ok_out out certctl config get defaults.key --show-origin
assert_eq "ecdsa:P-256	built-in	built-in" "$out"

# --- discover.max_addresses: every layer over the next, by its effect -------------
# A /24 has 256 addresses: refused under a maximum of 100, allowed under 1000.
# Nothing listens on the port, so an allowed scan finds nothing, quickly.
port=$(free_ports 1)
G=()
scan() {
	certctl "${G[@]}" discover 127.0.0.0/24 --ports "$port" --timeout 1 --rate 100000 \
		--no-record "$@"
}
over='^certctl: 127\.0\.0\.0/24 has 256 addresses, more than the maximum of 100 \(discover\.max_addresses\); give --force to scan it$'
printf 'discover:\n  max_addresses: 100\n' >"$USER_CONF"
expect_fail 1 "$over" scan
printf 'discover:\n  max_addresses: 1000\n' >>.certctl/config.yaml
ok git commit -qam "Let discovery scan up to 1000 addresses"
ok_out out scan
CERTCTL_DISCOVER_MAX_ADDRESSES=100 expect_fail 1 "$over" scan
G=(-c discover.max_addresses=1000)
CERTCTL_DISCOVER_MAX_ADDRESSES=100 ok_out out scan
G=()
CERTCTL_DISCOVER_MAX_ADDRESSES=100 ok_out out scan --force

# config list shows every layer at once.
CERTCTL_LOCK_TIMEOUT=0.5 ok_out out certctl -c discover.rate=500 config list --show-origin
assert_match "$out" "^discover\.rate +500 +command line +-c\$"
assert_match "$out" "^lock\.timeout +0\.5 +environment +CERTCTL_LOCK_TIMEOUT\$"
assert_match "$out" "^discover\.max_addresses +1000 +repository +\.certctl/config\.yaml:[0-9]+\$"
assert_match "$out" "^discover\.concurrency +256 +built-in +built-in\$"
ok_out out certctl config list --json
json_check "$out" '
assert d["schema"] == "certctl.config/1"
s = {x["key"]: x for x in d["settings"]}
assert s["discover.max_addresses"]["value"] == "1000"
assert s["discover.max_addresses"]["layer"] == "repository"
assert s["color"]["layer"] == "built-in" and s["color"]["value"] == "auto"
assert all(set(x) == {"key", "value", "layer", "origin", "description"} for x in d["settings"])
'

# --- lock.timeout from the environment, in seconds: a held lock is waited for
# that long, not the repository's 10 s -----------------------------------------
flock -o .git/certctl/lock sleep 20 &
holder=$!
trap 'kill $holder 2>/dev/null' EXIT
for _ in $(seq 50); do
	flock -n .git/certctl/lock true || break
	sleep 0.1
done
start=$(date +%s%N)
# The message says how long it waited: that holds in a slow run too, where
# the clock cannot tell 0.3 s from 10 s.
CERTCTL_LOCK_TIMEOUT=0.3 expect_fail 1 "locked .*\(waited 0\.3 s" certctl define locked --dns locked.example
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_within_ms 5000 "$elapsed_ms" "a define under CERTCTL_LOCK_TIMEOUT=0.3"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
trap - EXIT

# --- colour: only when asked or on a terminal; NO_COLOR beats the
# configuration, the command line beats NO_COLOR --------------------------------
esc=$'\033['
closed=$(free_ports 1)
check_line() {
	certctl "$@" check "127.0.0.1:$closed" 2>/dev/null
}
out=$(check_line)
assert_not_contains "$out" "$esc"
assert_match "$out" "^CRITICAL|^UNKNOWN"
out=$(check_line --color=always)
assert_contains "$out" "${esc}"
printf 'color: always\n' >"$USER_CONF"
out=$(check_line)
assert_contains "$out" "${esc}"
out=$(NO_COLOR=1 check_line)
assert_not_contains "$out" "$esc"
out=$(NO_COLOR=1 check_line --color)
assert_contains "$out" "$esc"
out=$(NO_COLOR=1 CERTCTL_COLOR=always check_line)
assert_contains "$out" "$esc"
out=$(check_line --no-color)
assert_not_contains "$out" "$esc"
# A shared repository does not choose anyone's colours.
rm -f "$USER_CONF"
printf 'color: always\n' >>.certctl/config.yaml
out=$(check_line)
assert_not_contains "$out" "$esc"
ok git checkout -q .certctl/config.yaml

# --- bad values: one line naming the source, nothing changed ----------------------
snapshot
CERTCTL_DEFAULTS_KEY=rsa:1000 expect_fail 1 \
	"^certctl: CERTCTL_DEFAULTS_KEY: defaults\.key: .*1000" certctl define bad1 --dns bad.example
assert_unchanged
CERTCTL_DEFAULTS_VALIDITY=soon expect_fail 1 \
	"^certctl: CERTCTL_DEFAULTS_VALIDITY: defaults\.validity: 'soon' is not a duration" \
	certctl define bad2 --dns bad.example
CERTCTL_LOCK_TIMEOUT=forever expect_fail 1 \
	"^certctl: CERTCTL_LOCK_TIMEOUT: lock\.timeout: 'forever' is not a time" \
	certctl define bad3 --dns bad.example
assert_unchanged
expect_fail 64 "^certctl: -c: 'lock\.timout' is not a setting; did you mean 'lock\.timeout'\?\$" \
	certctl -c lock.timout=3 list
expect_fail 64 "^certctl: -c 'lock\.timeout' : give KEY=VALUE|^certctl: -c 'lock\.timeout': give KEY=VALUE\$" \
	certctl -c lock.timeout list
expect_fail 64 "^certctl: -c discover\.rate: '0' is not a number from 1 to 100000\$" \
	certctl -c discover.rate=0 list
expect_fail 64 "^certctl: -c color: 'sometimes' is not auto, always or never\$" \
	certctl --color=sometimes list
expect_fail 64 "^certctl: 'colr' is not a setting; did you mean 'color'\?\$" certctl config get colr

# The repository's own bad value names its line.
sed -i 's/^  validity: .*/  validity: whenever/' .certctl/config.yaml
expect_fail 1 "^certctl: \.certctl/config\.yaml:[0-9]+: defaults\.validity: 'whenever' is not a duration" \
	certctl define bad4 --dns bad.example
ok git checkout -q .certctl/config.yaml

# A user configuration that does not parse, or names an unknown setting:
# FILE:LINE:COLUMN, and only where the user layer is consulted.
printf 'discover:\n  max_adresses: 10\n' >"$USER_CONF"
expect_fail 1 "^certctl: ~/\.config/certctl/config\.yaml:2:3: 'discover\.max_adresses' is not a setting; did you mean 'discover\.max_addresses'\?\$" \
	certctl config get discover.rate
printf 'discover: [1, 2\n' >"$USER_CONF"
expect_fail 1 "^certctl: ~/\.config/certctl/config\.yaml:[0-9]+:[0-9]+: " certctl config get color
# config list reports it once and lists what it can.
out=$(certctl config list 2>"$T/err")
rc=$?
assert_eq 1 "$rc"
assert_eq 1 "$(grep -c '^certctl: ' "$T/err")"
assert_contains "$out" "defaults.validity=90d"
rm -f "$USER_CONF"
assert_unchanged

# --- every command still works with a setting given on the command line ---------
ok_out out certctl -c lock.timeout=30s -c discover.rate=10 list
assert_contains "$out" "d1"
ok certctl fsck -q

finish
