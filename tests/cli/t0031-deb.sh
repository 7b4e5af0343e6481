#!/bin/bash
# The Debian package (make deb) holds what `make install` installs, in
# Debian's places and forms, with a Depends naming the package of every
# library the binary links; installed with dpkg -i (as root, with CI=true or
# CERTCTL_TEST_DPKG=1) it runs and man finds its manual, and dpkg -r removes
# it.  The bash and zsh completions it ships complete commands, each
# command's options (every one its --help lists) and names from the
# repository (definitions, CAs, targets, trust sets), and print nothing.
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

# --- the completions it ships ---------------------------------------------------

# The completions run the certctl of $PATH: the one under test.
PATH=$(dirname "$CERTCTL"):$PATH
bash_file=$x/usr/share/bash-completion/completions/certctl
zsh_dir=$x/usr/share/zsh/vendor-completions

ok certctl -q init repo
(
	cd repo || exit 1
	certctl -q define www.example.com --dns www.example.com &&
		certctl -q define mail.example.org --dns mail.example.org &&
		certctl -q define app --from "$top/contrib/deploy/files-keystores.yaml" &&
		certctl -q ca init corp-root &&
		certctl -q ca init corp-sub --parent corp-root &&
		certctl -q trust create internal --no-bundle
) >/dev/null || fail "cannot make the repository the completions read"
mkdir outside

# bcomp LINE...: what the bash completion offers for each LINE (the cursor
# at its end), sorted, one line each.  COMP_WORDS is LINE split as bash
# splits it (at blanks, '=' and ':' words of their own).  With BCOMP_LIB,
# bash-completion is loaded first.  The completion must print nothing, not
# even errors.
BCOMP_LIB=
bcomp() {
	local out
	out=$(bash --norc --noprofile -c '
		file=$1 lib=$2 log=$3
		shift 3
		[ -n "$lib" ] && . "$lib"
		. "$file" || exit 1
		for line; do
			read -ra blank <<<"$line"
			[[ -z $line || $line == *[[:blank:]] ]] && blank+=("")
			COMP_WORDS=()
			for w in "${blank[@]}"; do
				if [[ -z $w ]]; then
					COMP_WORDS+=("")
					continue
				fi
				while [[ $w =~ ^([^=:]*)([=:]+)(.*)$ ]]; do
					[[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
					COMP_WORDS+=("${BASH_REMATCH[2]}")
					w=${BASH_REMATCH[3]}
				done
				[[ -n $w ]] && COMP_WORDS+=("$w")
			done
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMP_LINE=$line
			COMP_POINT=${#line}
			COMPREPLY=()
			_certctl certctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" >>"$log" 2>&1
			printf "%s\n" "${COMPREPLY[@]}" | sed "/^\$/d" | LC_ALL=C sort | tr "\n" " " | sed "s/ \$//"
			echo
		done
		echo .
	' bcomp "$bash_file" "$BCOMP_LIB" "$T/bcomp.out" "$@" </dev/null 2>"$T/bcomp.err")
	_count
	[ ! -s "$T/bcomp.out" ] && [ ! -s "$T/bcomp.err" ] ||
		fail "the bash completion of '$*' printed:
$(cat "$T/bcomp.out" "$T/bcomp.err")"
	# The "." kept the empty lines of the last LINEs.
	printf '%s' "${out%.}"
}

# bcomp_is LINE WORDS: the bash completion of LINE offers exactly WORDS.
bcomp_is() {
	assert_eq "$2" "$(bcomp "$1")" "bash completion of '$1'${BCOMP_LIB:+ (with bash-completion)}"
}

commands=$(certctl --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
assert_ne "" "$commands" "commands listed by certctl --help"
verbs_of() {
	certctl "$1" --help | awk '/^verbs:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}'
}

bash_cases() {
	bcomp_is "certctl de" "define deploy deployments"
	bcomp_is "certctl " "$(printf '%s\n' $commands | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
	bcomp_is "certctl --ver" "--verbose --version"
	bcomp_is "certctl trust " "$(verbs_of trust | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
	bcomp_is "certctl define --re" "--renew-before --requester --reuse-key"
	bcomp_is "certctl ca init --pa" "--parent --path-len"
	bcomp_is "certctl show " "app mail.example.org www.example.com"
	bcomp_is "certctl issue www.example.com m" "mail.example.org"
	bcomp_is "certctl ca show " "corp-root corp-sub"
	bcomp_is "certctl issue --ca corp-r" "corp-root"
	bcomp_is "certctl issue --ca=corp-s" "corp-sub"
	bcomp_is "certctl trust delete " "default internal"
	bcomp_is "certctl define www.example.com --trust-set i" "internal"
	bcomp_is "certctl deploy app -t " "legacy tomcat"
	bcomp_is "certctl deploy app@peer1 --target=l" "legacy"
	bcomp_is "certctl export app --format=p" "p12 p7b pem"
	bcomp_is "certctl define app --key ecdsa:P" "P-256 P-384"
	bcomp_is "certctl help dep" "deploy deployments"
	# The value of --out is a file, not an option or a name.
	bcomp_is "certctl export app -o de" "definitions"
	bcomp_is "certctl -C . ca export corp-root --ch" "--chain"
}
cd repo || fail "no repository"
bash_cases
if [ -f /usr/share/bash-completion/bash_completion ]; then
	BCOMP_LIB=/usr/share/bash-completion/bash_completion
	bash_cases
	BCOMP_LIB=
else
	skip "bash-completion is not installed: completion tested without it only"
fi

# The repository as certctl finds it: -C DIR, $CERTCTL_DIR, the current
# directory and its parents; outside one, nothing (and no error).
cd definitions || fail "no definitions directory"
bcomp_is "certctl show w" "www.example.com"
cd ../../outside || fail "no directory 'outside'"
bcomp_is "certctl show " ""
bcomp_is "certctl ca show " ""
bcomp_is "certctl -C ../repo show w" "www.example.com"
bcomp_is "certctl -C../repo ca list --j" "--json"
bcomp_is "certctl -C ../repo trust delete " "default internal"
CERTCTL_DIR=$T/work/repo bcomp_is "certctl ca show corp-r" "corp-root"
# A broken definition: certctl says so on stderr, the completion does not.
printf 'mode: [\n' >../repo/definitions/broken.yaml
bcomp_is "certctl -C ../repo show w" "www.example.com"
rm -f ../repo/definitions/broken.yaml
# No certctl to run: nothing.
(PATH=/usr/bin:/bin bcomp_is "certctl show " "")
cd ../repo || fail "no repository"

# Every command and verb ("COMMAND[ VERB]", a line each): the completion
# offers every option its --help mentions, and knows what its operands are.
list=$(for c in $commands; do
	verbs=$(verbs_of "$c")
	for v in ${verbs:-""}; do echo "$c${v:+ $v}"; done
done)
mapfile -t cvs <<<"$list"
lines=()
for cv in "${cvs[@]}"; do
	lines+=("certctl $cv --")
done
mapfile -t offers < <(bcomp "${lines[@]}")
assert_eq "${#cvs[@]}" "${#offers[@]}" "bash completions of the options of every command"
for i in "${!cvs[@]}"; do
	cv=${cvs[i]}
	ok_out help certctl $cv --help
	for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		_count
		[[ " ${offers[i]} " == *" $opt "* ]] ||
			fail "the bash completion of 'certctl $cv' does not offer $opt (its --help lists it)"
	done
done
ok_out out bash -c '. "$1" || exit 1; shift
	for cv; do _certctl_operand_kind "$cv" >/dev/null || echo "no operand kind for $cv"; done' \
	_ "$bash_file" "${cvs[@]}"
assert_eq "" "$out" "certctl.bash: _certctl_operand_kind of every command and verb"

# zsh: the file parses, compinit loads it for certctl, and its options come
# from the same help (every option of every command, and each operand kind).
if ! command -v zsh >/dev/null 2>&1; then
	skip "zsh is not installed: its completion is not tested"
else
	ok zsh -n "$zsh_dir/_certctl"
	ok_out out zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit && compinit -u -D &&
		print -r -- $_comps[certctl]' zsh "$zsh_dir"
	assert_eq _certctl "$out" "zsh's completion function for certctl"
	ok_out out zsh -f -c '
		autoload -Uz compinit && compinit -u -D && source "$1" || exit 1
		for cv in ${(f)2}; do
			help=$(certctl ${=cv} --help)
			_certctl_option_specs "$cv" $help
			specs=" ${(j: :)${(@)reply%%\[*}} "
			for opt in ${(f)"$(print -r -- $help | grep -oE -- "--[a-z][a-z0-9-]*" | sort -u)"}; do
				[[ $specs == *[\ \(\*\)]${opt}[=+\ ]* ]] ||
					print -r -- "missing $opt in $cv"
			done
			_certctl_operand_kind "$cv" || print -r -- "no operand kind for $cv"
		done' zsh "$zsh_dir/_certctl" "$list"
	assert_eq "" "$out" "zsh completion: options and operand kinds"

	# Completion as a terminal runs it (zsh/zpty): LINE, then TAB, for each
	# LINE; a line each with the matches compadd was given.
	cat >"$T/zcomp.zsh" <<'EOF'
zmodload zsh/zpty || exit 3
dir=$1
shift
zpty z zsh -f -i || exit 3
zpty -w z "PS1= PROMPT= RPROMPT=; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D; unsetopt autolist beep"
zpty -w z 'compadd() { (( ${@[(I)-[OAD]]} )) && { builtin compadd "$@"; return }; local -a m; builtin compadd -A m "$@"; builtin compadd "$@"; print -rn -- ${(pj:\n:)${m/#/@@M }}$'"'\n'"' >&2 }'
zpty -w z '__tab() { zle complete-word; print -rn -- $'"'\n'"'@@END$'"'\n'"' >&2; BUFFER=; CURSOR=0 }; zle -N __tab'
zpty -w z 'bindkey "^I" __tab; bindkey "^M" undefined-key; bindkey "^J" undefined-key; print @@RE""ADY'
read_until() {
  local chunk
  out=
  integer deadline=$(( SECONDS + 20 ))
  while (( SECONDS < deadline )); do
    if zpty -rt z chunk; then out+=$chunk; else sleep 0.02; fi
    [[ $out == *$1* ]] && return 0
  done
  return 1
}
read_until @@READY || exit 4
for line; do
  zpty -w -n z "$line"$'\t'
  read_until @@END || exit 5
  print -r -- "$out" | tr -d '\r' | sed -n 's/^.*@@M //p' | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'
  print
done
zpty -d z
EOF
	if ! zsh -f -c 'zmodload zsh/zpty' 2>/dev/null; then
		skip "zsh has no zpty module: its completion is not run"
	else
		zlines=("certctl de" "certctl define --re" "certctl show " "certctl issue --ca c"
			"certctl trust delete " "certctl deploy app -t " "certctl ca ")
		zwant=("define deploy deployments" "--renew-before --requester --reuse-key"
			"app mail.example.org www.example.com" "corp-root corp-sub" "default internal"
			"legacy tomcat" "$(verbs_of ca | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')")
		ok_out out zsh -f "$T/zcomp.zsh" "$zsh_dir" "${zlines[@]}"
		mapfile -t zgot <<<"$out"
		for i in "${!zlines[@]}"; do
			assert_eq "${zwant[i]}" "${zgot[i]:-}" "zsh completion of '${zlines[i]}'"
		done
		ok_out out bash -c 'cd ../outside && zsh -f "$1" "$2" "certctl -C ../repo ca show "' _ \
			"$T/zcomp.zsh" "$zsh_dir"
		assert_eq "corp-root corp-sub" "$out" "zsh completion with -C, outside the repository"
	fi
fi

finish
