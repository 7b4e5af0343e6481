#!/bin/sh
# notify-hook.sh: a program for certctl `command` targets (certctl-deploy(1)).
#
# certctl runs it directly (no shell in between) with the new certificate's
# files in a private temporary directory, named by the environment:
#   CERTCTL_ACTION           install or rollback
#   CERTCTL_DEFINITION       the definition
#   CERTCTL_TARGET           the target
#   CERTCTL_CERT_ID          the certificate's id
#   CERTCTL_CERT_SHA256      its SHA-256 fingerprint
#   CERTCTL_CERT_FILE        the certificate, PEM
#   CERTCTL_CHAIN_FILE       its intermediates, PEM
#   CERTCTL_FULLCHAIN_FILE   both
#   CERTCTL_KEY_FILE         the private key, PEM, mode 0600 (removed afterwards)
#   CERTCTL_PREVIOUS_CERT_ID the certificate deployed before, if any
#
# It copies the files to a directory, such as the mount point of a docker
# volume that a container reads its certificate from, optionally signals
# the container, and logs one line.  An exit status other than 0 fails the
# deployment; certctl keeps the last 4 KiB of what it prints.
#
# usage: notify-hook.sh [--dir DIR | --volume NAME] [--container NAME]
#                       [--signal SIG] [--log FILE]
#   --dir DIR          copy cert.pem, chain.pem, fullchain.pem, key.pem into DIR
#   --volume NAME      the same into the mount point of the docker volume NAME
#   --container NAME   then send SIG (default HUP) to that docker container
#   --signal SIG       the signal: HUP for nginx or haproxy, USR1 for others
#   --log FILE         append the log line to FILE too (it always goes to
#                      the standard output, and to syslog when logger exists)
# Without --dir or --volume it only logs.

set -eu

prog=notify-hook
dir=
volume=
container=
signal=HUP
log=

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--dir) [ $# -ge 2 ] || die "--dir needs a directory"; dir=$2; shift 2 ;;
	--volume) [ $# -ge 2 ] || die "--volume needs a name"; volume=$2; shift 2 ;;
	--container) [ $# -ge 2 ] || die "--container needs a name"; container=$2; shift 2 ;;
	--signal) [ $# -ge 2 ] || die "--signal needs a signal"; signal=$2; shift 2 ;;
	--log) [ $# -ge 2 ] || die "--log needs a file"; log=$2; shift 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done

for v in CERTCTL_ACTION CERTCTL_DEFINITION CERTCTL_TARGET CERTCTL_CERT_ID \
	CERTCTL_CERT_FILE CERTCTL_CHAIN_FILE CERTCTL_FULLCHAIN_FILE CERTCTL_KEY_FILE; do
	eval "val=\${$v-}"
	[ -n "$val" ] || die "$v is not set: run me from a certctl command target"
done

[ -z "$dir" ] || [ -z "$volume" ] || die "give --dir or --volume, not both"
if [ -n "$volume" ]; then
	dir=$(docker volume inspect --format '{{ .Mountpoint }}' "$volume") ||
		die "no docker volume '$volume'"
fi

# Copy one file into place: written under a temporary name in the same
# directory, then renamed, so a reader never sees half a file.
put() { # SOURCE NAME MODE
	tmp=$dir/.$2.notify-hook.$$
	(umask 077 && cp "$1" "$tmp") || die "cannot write $tmp"
	if ! { chmod "$3" "$tmp" && mv -f "$tmp" "$dir/$2"; }; then
		rm -f "$tmp"
		die "cannot install $dir/$2"
	fi
}

if [ -n "$dir" ]; then
	[ -d "$dir" ] || die "no directory '$dir'"
	put "$CERTCTL_CERT_FILE" cert.pem 0644
	put "$CERTCTL_CHAIN_FILE" chain.pem 0644
	put "$CERTCTL_FULLCHAIN_FILE" fullchain.pem 0644
	put "$CERTCTL_KEY_FILE" key.pem 0600
fi

if [ -n "$container" ]; then
	docker kill --signal="$signal" "$container" >/dev/null ||
		die "cannot send $signal to container '$container'"
fi

line="certctl $CERTCTL_ACTION: $CERTCTL_DEFINITION -> $CERTCTL_TARGET:"
line="$line certificate $CERTCTL_CERT_ID (sha256 ${CERTCTL_CERT_SHA256:-?})"
[ -z "${CERTCTL_PREVIOUS_CERT_ID:-}" ] || line="$line, replacing $CERTCTL_PREVIOUS_CERT_ID"
[ -z "$dir" ] || line="$line, copied to $dir"
[ -z "$container" ] || line="$line, $container sent $signal"

printf '%s\n' "$line"
if [ -n "$log" ]; then
	printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$line" >>"$log" ||
		die "cannot append to $log"
fi
if command -v logger >/dev/null 2>&1; then
	logger -t certctl-deploy -- "$line" || :
fi
exit 0
