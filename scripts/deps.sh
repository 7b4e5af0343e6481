#!/bin/sh
# Installs the Debian packages certctl needs to build and test, with "deb"
# what `make deb` needs too, and, with "bench", the other clients the
# benchmarks compare certctl with.
# A no-op when everything is present; needs root (apt-get) otherwise.
set -eu

build="gcc libc6-dev make pkg-config libssl-dev libgit2-dev libyaml-dev
libcurl4-openssl-dev libjansson-dev zlib1g-dev libpsl-dev publicsuffix check"
test="git openssl curl faketime clang libclang-rt-dev valgrind nginx pebble default-jre-headless openssh-server openssh-client python3-aiosmtpd python3-jsonschema python3-cryptography-vectors dpkg-dev zsh"
deb="dpkg-dev"
bench="certbot hyperfine nmap"

want=${1:-all}
case "$want" in
	build) pkgs=$build ;;
	all) pkgs="$build $test" ;;
	deb) pkgs="$build $deb" ;;
	bench) pkgs=$bench ;;
	*) echo "usage: $0 [build|all|deb|bench]" >&2; exit 64 ;;
esac

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO="sudo -n"
	else
		echo "deps: missing packages:$missing (run as root: apt-get install$missing)" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists.
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q $missing >/dev/null
