#!/bin/bash
# Documentation and installation stay true to the binary: every command has
# a manual page that documents each option its --help lists; `certctl help`
# works without a terminal; `make install` puts the binary, the pages and
# the completions under DESTDIR/PREFIX, and the installed binary runs.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)

# The commands, from the top-level help.
cmds=$(certctl --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
assert_ne "" "$cmds" "commands listed by certctl --help"

for c in $cmds; do
	page="$top/man/certctl-$c.1"
	assert_file "$page"
	ok_out help certctl "$c" --help
	# Every long option of the command appears in its page (roff escapes '-').
	for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		case $opt in --help|--quiet|--verbose) continue ;; esac
		_count
		plain=$(sed -e 's/\\-/-/g' -e 's/\\%//g' -e 's/\\f[BIRP]//g' "$page")
		case $plain in
		*"$opt"*) ;;
		*) fail "man/certctl-$c.1 does not document $opt (listed by 'certctl $c --help')" ;;
		esac
	done
	# `certctl help CMD` with no terminal prints the command's help.
	ok_out out certctl help "$c"
	assert_contains "$out" "usage: certctl $c" "certctl help $c"
done

# Commands with verbs document every verb's options in their page too.
for c in key ca config; do
	verbs=$(certctl "$c" --help | awk '/^verbs:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
	assert_ne "" "$verbs" "verbs listed by certctl $c --help"
	plain=$(sed -e 's/\\-/-/g' -e 's/\\%//g' -e 's/\\f[BIRP]//g' "$top/man/certctl-$c.1")
	for v in $verbs; do
		ok_out help certctl "$c" "$v" --help
		case $plain in
		*"$c $v"*) ;;
		*) fail "man/certctl-$c.1 does not describe '$c $v'" ;;
		esac
		_count
		for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
			case $opt in --help|--quiet|--verbose) continue ;; esac
			_count
			case $plain in
			*"$opt"*) ;;
			*) fail "man/certctl-$c.1 does not document $opt of '$c $v'" ;;
			esac
		done
	done
done

# The pages render without warnings where man is installed.
if command -v man >/dev/null 2>&1; then
	for page in "$top"/man/*.[157]; do
		warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		assert_eq "" "$warn" "warnings rendering $(basename "$page")"
	done
else
	skip "man is not installed: pages not rendered"
fi

# make install honours DESTDIR and PREFIX.
dest=$T/root
ok make -s -C "$top" install DESTDIR="$dest" PREFIX=/opt/certctl
assert_file "$dest/opt/certctl/bin/certctl"
assert_file "$dest/opt/certctl/share/man/man1/certctl.1"
assert_file "$dest/opt/certctl/share/man/man1/certctl-define.1"
assert_file "$dest/opt/certctl/share/man/man5/certctl-repository.5"
assert_file "$dest/opt/certctl/share/man/man7/certctl-json.7"
assert_file "$dest/opt/certctl/share/bash-completion/completions/certctl"
assert_file "$dest/opt/certctl/share/zsh/vendor-completions/_certctl"
ok_out out "$dest/opt/certctl/bin/certctl" --version
assert_match "$out" '^certctl [0-9]+\.[0-9]+\.[0-9]+$' "installed certctl --version"
# certctl help: topics through man, unknown names with the nearest one.
if command -v man >/dev/null 2>&1; then
	MANPATH="$dest/opt/certctl/share/man" MANWIDTH=80 ok_out out certctl help repository
	assert_contains "$out" "CERTCTL-REPOSITORY" "certctl help repository"
	MANPATH="$dest/opt/certctl/share/man" MANWIDTH=80 ok_out out certctl help definition
	assert_contains "$out" "CERTCTL-DEFINITION" "certctl help definition"
	MANPATH="$dest/opt/certctl/share/man" MANWIDTH=80 ok_out out certctl help json
	assert_contains "$out" "CERTCTL-JSON" "certctl help json"
fi
expect_fail 64 "^certctl: no manual for 'confg'; did you mean 'config'\?\$" certctl help confg
expect_fail 64 "^certctl: no manual for 'repostory'; did you mean 'repository'\?\$" certctl help repostory
expect_fail 64 "^certctl: 'confg' is not a certctl command; did you mean 'config'\?\$" certctl confg
bash -n "$dest/opt/certctl/share/bash-completion/completions/certctl" ||
	fail "the bash completion does not parse"
_count

finish
