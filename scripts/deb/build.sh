#!/bin/sh
# Builds the Debian package of certctl (make deb) without a debian/ source
# directory: certctl compiled with Debian's build flags (dpkg-buildflags:
# hardening, no build paths) in build/deb/obj, `make install PREFIX=/usr`
# into a staging tree, then what Debian policy asks of a binary package
# (stripped binary, gzipped manual pages, copyright and changelog in
# /usr/share/doc/certctl, Depends from the libraries the binary links,
# md5sums), packed with dpkg-deb.  Prints the package's path.
#
#   scripts/deb/build.sh VERSION DEBDIR
#   DEB_MAINTAINER="Name <address>"   the Maintainer field
#
# The package is DEBDIR/certctl_VERSION_ARCH.deb, its staging tree
# DEBDIR/work/debian/certctl (the layout dpkg-shlibdeps expects).  The
# systemd units are installed as units (/usr/lib/systemd/system), not
# enabled: the timer runs once an administrator enables it.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 VERSION DEBDIR" >&2; exit 64; }
version=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
make=${MAKE:-make}
maintainer=${DEB_MAINTAINER:-certctl developers <dev@certctl.invalid>}
umask 022
cd "$top"

arch=$(dpkg --print-architecture)
work=$out/work
root=$work/debian/certctl
deb=$out/certctl_${version}_$arch.deb
rm -rf "$work" "$deb"
mkdir -p "$root/DEBIAN"

# Dates in the package are the commit's (reproducible builds).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || stat -c %Y Makefile)
fi
export SOURCE_DATE_EPOCH

# Debian's build flags with every hardening feature (bind now too).  make
# does not track flags: objects made with other flags are made again.
DEB_BUILD_MAINT_OPTIONS=${DEB_BUILD_MAINT_OPTIONS:-hardening=+all}
export DEB_BUILD_MAINT_OPTIONS
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
obj=build/deb/obj
if [ "$(cat "$obj/.flags" 2>/dev/null)" != "$cflags $ldflags" ]; then
	rm -rf "$obj"
	mkdir -p "$obj"
	printf '%s\n' "$cflags $ldflags" >"$obj/.flags"
fi
# SAN= and O= on the command line: what an enclosing make passed down
# (make SAN=1 check) does not reach the package.
$make --no-print-directory SAN= O="$obj" CFLAGS="$cflags" LDFLAGS="$ldflags" \
	install DESTDIR="$root" PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system >/dev/null

case " ${DEB_BUILD_OPTIONS:-} " in
*" nostrip "*) ;;
*) strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/certctl" ;;
esac
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +

doc=$root/usr/share/doc/certctl
install -d "$doc"
gzip -9nc README >"$doc/README.gz"
# COPYING in Debian's machine-readable form (copyright-format 1.0).
{
	echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
	echo "Upstream-Name: certctl"
	echo
	echo "Files: *"
	sed -n 's/^Copyright (c) */Copyright: /p' COPYING
	echo "License: Expat"
	sed -e '1,/^Copyright/d' -e '/^$/{$d;}' COPYING | sed -e '1{/^$/d;}' -e 's/^$/./' -e 's/^/ /'
} >"$doc/copyright"
# A native package's changelog: this build.
{
	echo "certctl ($version) unstable; urgency=medium"
	echo
	echo "  * Built with make deb from $(git -C "$top" describe --always --dirty 2>/dev/null ||
		echo 'a source tree')."
	echo
	echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"

# Depends: the packages of the libraries the binary links, as dpkg-shlibdeps
# finds them (it wants a debian/control naming the package).
printf 'Source: certctl\n\nPackage: certctl\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -edebian/certctl/usr/bin/certctl |
	sed -n 's/^shlibs:Depends=//p')
if [ -z "$depends" ]; then
	echo "deb: dpkg-shlibdeps found no dependencies of certctl" >&2
	exit 1
fi

chmod -R u+w,go-w "$root"
find "$root" -type d -exec chmod 0755 {} +
size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: certctl
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Description: TLS certificate lifecycle manager with a git repository as database
 certctl keeps what certificates must be (definitions), their private keys
 (encrypted at rest) and everything that happens to them in a plain
 directory that is also a git repository: every operation is one commit,
 so git log is the audit trail and git push and pull share and back it up.
 .
 It runs private CAs, acquires certificates from any CA (by CSR and
 received certificate, or with ACME), imports and exports PEM, DER, P7B,
 PKCS#12 and JKS, deploys to servers (nginx, Apache, HAProxy, Postfix,
 Dovecot, SFTP, hooks), checks and monitors what servers present with
 monitoring-plugin exit codes, renews unattended and discovers the TLS
 servers of a network.
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
