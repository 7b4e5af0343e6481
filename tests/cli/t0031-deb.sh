#!/bin/bash
# The Debian package (make deb) holds what `make install` installs, in
# Debian's places and forms, with a Depends naming the package of every
# library the binary links; installed with dpkg -i (as root, with CI=true or
# CERTCTL_TEST_DPKG=1) it runs and man finds its manual, and dpkg -r removes
# it.
#
#   CERTCTL_DEB=FILE   test this package instead of building one
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^VERSION := *//p' "$top/Makefile")
arch=$(dpkg --print-architecture)
assert_ne "" "$version" "VERSION in the Makefile"

# --- the package ----------------------------------------------------------------

if [ -n "${CERTCTL_DEB:-}" ]; then
	deb=$CERTCTL_DEB
	note "the package of CERTCTL_DEB: $deb"
else
	# Into the test's directory (the objects stay in build/deb/obj), and
	# nothing of an enclosing make (make SAN=1 test, its jobserver) reaches
	# this one.  Nothing may appear in the source tree but under build/.
	before=$(git -C "$top" status --porcelain 2>/dev/null)
	ok_out deb env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -j2 -C "$top" deb DEBDIR="$T/deb"
	deb=$(printf '%s\n' "$deb" | tail -n 1)
	assert_eq "$T/deb/certctl_${version}_$arch.deb" "$deb" "the package make deb made"
	assert_eq "$before" "$(git -C "$top" status --porcelain 2>/dev/null)" "git status of the source tree"
fi
assert_file "$deb"

field() {
	dpkg-deb -f "$deb" "$1"
}
assert_eq certctl "$(field Package)" Package
assert_eq "$version" "$(field Version)" Version
assert_eq "$arch" "$(field Architecture)" Architecture
assert_match "$(field Maintainer)" '^[^<>]+ <[^<>@]+@[^<>@]+>$' Maintainer
assert_match "$(field Installed-Size)" '^[1-9][0-9]*$' Installed-Size
depends=$(field Depends)
assert_ne "" "$depends" Depends
ok_out info dpkg-deb -I "$deb"
assert_match "$info" '^ +[0-9]+ bytes, +[0-9]+ lines +md5sums' "the control files of the package"

# What it holds: all root's, all under /usr, the manual pages compressed.
ok_out listing dpkg-deb -c "$deb"
paths=$(awk '{print $6}' <<<"$listing")
assert_eq "" "$(awk '$2 != "root/root"' <<<"$listing")" "entries not owned by root/root"
assert_eq "" "$(grep -vxE '\./|\./usr/.*' <<<"$paths")" "entries outside /usr"
assert_match "$listing" '^-rwxr-xr-x root/root .* \./usr/bin/certctl$' "the binary"
for page in "$top"/man/*.[0-9]; do
	name=${page##*/}
	assert_contains "$paths" "./usr/share/man/man${name##*.}/$name.gz" "the package's manual pages"
done
assert_contains "$paths" ./usr/share/man/man1/certctl.1.gz "the package's manual pages"
assert_eq "" "$(grep -E '^\./usr/share/man/.*[^z]$' <<<"$paths" | grep -v '/$')" "uncompressed manual pages"
for f in ./usr/share/bash-completion/completions/certctl ./usr/share/zsh/vendor-completions/_certctl \
	./usr/lib/systemd/system/certctl-monitor.service ./usr/lib/systemd/system/certctl-monitor.timer \
	./usr/share/doc/certctl/copyright ./usr/share/doc/certctl/README.gz \
	./usr/share/doc/certctl/changelog.gz ./usr/share/doc/certctl/examples/cron/certctl; do
	assert_contains "$paths" "$f" "the package's files"
done

x=$T/x
ok dpkg-deb -x "$deb" "$x"
ok_out out "$x/usr/bin/certctl" --version
assert_eq "certctl $version" "$out" "the packaged certctl --version"
ok cmp "$top/contrib/completion/certctl.bash" "$x/usr/share/bash-completion/completions/certctl"
ok cmp "$top/contrib/completion/_certctl" "$x/usr/share/zsh/vendor-completions/_certctl"
ok cmp "$top/contrib/systemd/certctl-monitor.timer" "$x/usr/lib/systemd/system/certctl-monitor.timer"
ok cmp "$top/man/certctl.1" <(gzip -dc "$x/usr/share/man/man1/certctl.1.gz")
ok cmp "$top/README" <(gzip -dc "$x/usr/share/doc/certctl/README.gz")
copyright=$(cat "$x/usr/share/doc/certctl/copyright")
assert_contains "$copyright" "Copyright: $(sed -n 's/^Copyright (c) *//p' "$top/COPYING")" "copyright"
assert_contains "$copyright" "License: Expat" "copyright"
assert_contains "$copyright" " $(grep -m1 '^Permission' "$top/COPYING")" "copyright"
assert_match "$(gzip -dc "$x/usr/share/doc/certctl/changelog.gz")" "^certctl \\($version\\) " "changelog"

# The binary as Debian builds them: stripped, full RELRO, no build path.
bin=$x/usr/bin/certctl
assert_eq "" "$(readelf -SW "$bin" | grep -E '\.symtab|\.debug_')" "symbols and debug sections left"
assert_match "$(readelf -lW "$bin")" GNU_RELRO "program headers"
assert_match "$(readelf -dW "$bin")" 'BIND_NOW|FLAGS.*NOW' "dynamic section"
_count
! grep -qF "$top" "$bin" || fail "the packaged binary holds the build path '$top'"

# Depends names the package of every library the binary needs, as dpkg
# knows them.
needed=$(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}')
assert_ne "" "$needed" "libraries the binary needs"
for lib in $needed; do
	pkg=$(dpkg -S "$lib" 2>/dev/null | awk -F': ' -v l="/$lib" \
		'substr($2, length($2) - length(l) + 1) == l {sub(/:.*/, "", $1); print $1; exit}')
	assert_ne "" "$pkg" "the package of $lib"
	assert_match "$depends" "(^|, )$pkg( |,|\$)" "Depends (for $lib)"
done

# --- installing it --------------------------------------------------------------

# dpkg ARGS...: dpkg, waiting up to a minute while another one holds its lock.
dpkg_wait() {
	local out i
	for i in $(seq 30); do
		out=$(dpkg "$@" 2>&1) && return 0
		printf '%s\n' "$out" | grep -qi lock || break
		sleep 2
	done
	printf '%s\n' "$out" >&2
	return 1
}

installed=
if [ "$(id -u)" != 0 ]; then
	skip "dpkg -i: not root"
elif [ "${CI:-}" != true ] && [ "${CERTCTL_TEST_DPKG:-}" != 1 ]; then
	skip "dpkg -i: only with CI=true or CERTCTL_TEST_DPKG=1 (it installs into /usr)"
elif dpkg-query -W -f='${Status}' certctl 2>/dev/null | grep -q 'ok installed'; then
	skip "dpkg -i: a certctl package is installed here already; left alone"
elif [ -e /usr/bin/certctl ]; then
	skip "dpkg -i: /usr/bin/certctl exists and is no package's; left alone"
else
	installed=1
	trap '[ -n "$installed" ] && dpkg -r certctl >/dev/null 2>&1' EXIT
	ok dpkg_wait -i "$deb"
	assert_eq "install ok installed" "$(dpkg-query -W -f='${Status}' certctl)" "dpkg status"
	ok_out out /usr/bin/certctl --version
	assert_eq "certctl $version" "$out" "the installed certctl --version"
	ok_out files dpkg -L certctl
	assert_contains "$files" /usr/share/bash-completion/completions/certctl "dpkg -L certctl"
	assert_contains "$files" /usr/share/zsh/vendor-completions/_certctl "dpkg -L certctl"
	if ! command -v man >/dev/null 2>&1; then
		skip "man -w: man is not installed"
	elif [ ! -e /usr/share/man/man1/certctl.1.gz ] &&
		grep -qs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
		skip "man -w: dpkg here leaves manual pages out (path-exclude)"
	else
		ok_out out man -w certctl
		assert_eq /usr/share/man/man1/certctl.1.gz "$out" "man -w certctl"
		ok_out out man -w certctl-repository
		assert_eq /usr/share/man/man5/certctl-repository.5.gz "$out" "man -w certctl-repository"
	fi
	ok dpkg_wait -r certctl
	installed=
	assert_no_file /usr/bin/certctl
	assert_eq "" "$(dpkg-query -W -f='${Status}' certctl 2>/dev/null | grep 'ok installed')" \
		"dpkg status after dpkg -r"
fi

finish
