# bash completion for certctl(1)
#
# The commands, their verbs and every option come from certctl's own help
# (certctl --help, certctl CMD --help, certctl CMD VERB --help), parsed at
# each completion: they follow the binary and cannot drift from it.  This
# file adds what the help does not say: what each command's operands are
# (_certctl_operand_kind) and the values of options (_certctl_value), files
# for every option whose argument is a FILE.
#
# Names (definitions, CAs, a definition's targets and certificates, key ids,
# trust sets, the CAs of a trust set, serial numbers) come from the
# repository certctl would use itself (-C DIR, else $CERTCTL_DIR, else the
# current directory and its parents), through certctl's read-only commands
# with standard input closed and errors discarded: completion never prompts
# and never prints anything.
#
# Install as /usr/share/bash-completion/completions/certctl (make install
# does), or source it from ~/.bashrc.  Works with and without the
# bash-completion package.

# certctl's help for "[COMMAND [VERB]]"; nothing when it has none.
_certctl_help()
{
	"$_certctl_bin" "$@" --help </dev/null 2>/dev/null
}

# The words of section $1 ("commands", "verbs") of the help text on stdin.
_certctl_section()
{
	awk -v want="$1:" '$0 == want {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'
}

# The options of the help text on stdin, one line each: SHORT LONG ARG
# REPEATABLE HELP ("-" for what an option does not have).  Option lines
# start with "  -X, --long ARG" or "   --long ARG"; ARG is the word after
# the name when one blank separates them and it does not start with a
# lowercase letter (the help text does, after a wider gap).  The same
# parser is in _certctl (zsh).
_certctl_options()
{
	awk '
	/^[^ ].*:$/ { heading = $0; next }
	!/^   ?-/ { next }
	{
		line = $0
		sub(/^ +/, "", line)
		short = "-"; long = "-"; arg = "-"
		if (line ~ /^-[A-Za-z0-9]/) {
			short = substr(line, 1, 2)
			line = substr(line, 3)
			if (line ~ /^, /)
				line = substr(line, 3)
		}
		if (line ~ /^--[A-Za-z0-9]/) {
			match(line, /^--[A-Za-z0-9-]+/)
			long = substr(line, 1, RLENGTH)
			line = substr(line, RLENGTH + 1)
		}
		if (line ~ /^ [^ a-z]/) {
			match(line, /^ [^ ]+/)
			arg = substr(line, 2, RLENGTH - 1)
			line = substr(line, RLENGTH + 1)
		}
		sub(/^ +/, "", line)
		rep = (line ~ /repeatable/ || heading ~ /repeatable/) ? "*" : "-"
		print short, long, arg, rep, line
	}'
}

# The option names (short and long) of _certctl_options' lines on stdin.
_certctl_option_names()
{
	awk '{if ($1 != "-") print $1; if ($2 != "-") print $2}'
}

# certctl on the repository given with -C, if any; stdin closed, errors
# discarded.
_certctl_run()
{
	if [[ -n $_certctl_dir ]]; then
		"$_certctl_bin" -C "$_certctl_dir" "$@" </dev/null 2>/dev/null
	else
		"$_certctl_bin" "$@" </dev/null 2>/dev/null
	fi
}

_certctl_definitions()
{
	_certctl_run list | awk '{print $1}'
}

_certctl_keys()
{
	_certctl_run key list | awk '{print $1}'
}

_certctl_cas()
{
	_certctl_run ca list | awk '{print $1}'
}

# "certctl trust sets" marks the default with "*".
_certctl_trust_sets()
{
	_certctl_run trust sets | awk '{print ($1 == "*") ? $2 : $1}'
}

# The names of the settings (certctl config list).
_certctl_settings()
{
	_certctl_run config list | awk -F= '{print $1}'
}

# The targets of definition $1 (DEF or DEF@PEER): the name of each item of
# its "targets:" list in "certctl show".
_certctl_targets()
{
	[[ -n $1 ]] || return 0
	_certctl_run show "${1%@*}" | awk '/^targets:/ {t = 1; next} /^[^ -]/ {t = 0}
		t && /^(- |  )name: / {v = $0; sub(/^.*name: */, "", v); gsub(/["\047]/, "", v); print v}'
}

# The top of the repository, found as certctl finds it (lib/repo.c): -C DIR,
# else $CERTCTL_DIR, else the current directory; that directory or the
# nearest parent with .certctl/config.yaml.
_certctl_root()
{
	local dir=${_certctl_dir:-${CERTCTL_DIR:-.}}
	dir=$(CDPATH='' cd -- "$dir" 2>/dev/null && pwd -P) || return 1
	while [[ ! -f $dir/.certctl/config.yaml ]]; do
		[[ $dir == /*/* ]] || return 1
		dir=${dir%/*}
	done
	printf '%s\n' "$dir"
}

# The reports "certctl discover" kept (discovery/ID.yaml), for
# "import --from-discovery [REPORT]".
_certctl_reports()
{
	local top f
	top=$(_certctl_root) || return 0
	for f in "$top"/discovery/*.yaml; do
		[[ -f $f ]] || continue
		f=${f##*/}
		echo "${f%.yaml}"
	done
}

# The serial numbers of the certificates CA $1 issued and did not revoke.
_certctl_serials()
{
	[[ -n $1 ]] || return 0
	_certctl_run ca issued "$1" | awk '$2 == "valid" {print $1}'
}

# The stored certificates of definition $1.
_certctl_cert_ids()
{
	[[ -n $1 ]] || return 0
	_certctl_run current "$1" | awk 'NR > 1 {print $NF}'
}

# The CAs stored in trust set $1 (default: the default set).
_certctl_trust_ids()
{
	if [[ -n $1 ]]; then
		_certctl_run trust list --set "$1"
	else
		_certctl_run trust list
	fi | awk 'NR > 1 {print $1}'
}

# Add the words of $1 that start with $cur.
_certctl_words()
{
	local IFS=$' \t\n'
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_certctl_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
	else
		compopt -o filenames 2>/dev/null
		if [[ $1 == -d ]]; then
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur")
		else
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
		fi
	fi
}

_certctl_hosts()
{
	declare -F _known_hosts_real >/dev/null && _known_hosts_real -- "$cur"
}

# @FILE (a list of targets) for discover and --exclude.
_certctl_at_file()
{
	[[ $cur == @* ]] || return 0
	local at=$cur
	cur=${cur#@}
	compopt -o filenames 2>/dev/null
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -P @ -- "$cur")
	cur=$at
}

# The kind of operands of "COMMAND[ VERB]" ($1): what completes after the
# options.  Every command and verb has an entry (t0031 checks), "none" for
# those without operands, "new" for a name that does not exist yet.
_certctl_operand_kind()
{
	case $1 in
	show | rm | log | acquire | current | requests | revoke | deploy | export | define)
		echo definition
		;;
	issue | deployments) echo definitions ;;
	check | verify) echo check ;;
	discover) echo discover ;;
	"config get") echo setting ;;
	import) echo import ;;
	inspect | "trust add") echo files ;;
	init) echo dir ;;
	help) echo command ;;
	"key show" | "key export") echo key ;;
	"key import") echo file ;;
	"ca install" | "ca show" | "ca export" | "ca default" | "ca crl" | "ca issued") echo ca ;;
	"ca revoke") echo revoke ;;
	"trust rm") echo trust-ca ;;
	"trust default" | "trust delete") echo trust-set ;;
	"ca init" | "ca import" | "trust create") echo new ;;
	list | status | monitor | notify | fsck | version | "key list" | "key generate" | \
		"key rotate-secret" | "ca list" | "trust list" | "trust merge" | "trust show" | \
		"trust sets" | "config list" | "config path")
		echo none
		;;
	*) return 1 ;;
	esac
}

# Complete the value of option $1 of "$command${verb:+ $verb}"; $2 is its
# argument's name in the help, $3 the option's help text.
_certctl_value()
{
	local opt=$1 arg=$2 text=$3
	case $opt in
	--clone | --name) _certctl_words "$(_certctl_definitions)" ;;
	--key-id) _certctl_words "$(_certctl_keys)" ;;
	--ca | --parent) _certctl_words "$(_certctl_cas)" ;;
	--trust-set) _certctl_words "$(_certctl_trust_sets)" ;;
	-t | --target) _certctl_words "$(_certctl_targets "$operand1")" ;;
	--reason)
		_certctl_words "unspecified keyCompromise cACompromise affiliationChanged
			superseded cessationOfOperation certificateHold removeFromCRL
			privilegeWithdrawn aACompromise"
		;;
	--profile) _certctl_words "server client server+client" ;;
	--validation) _certctl_words "dv ov ev" ;;
	--mode) _certctl_words "lifecycle monitor" ;;
	--process) _certctl_words "interactive unattended" ;;
	--starttls) _certctl_words "smtp imap pop3 ftp ldap postgres" ;;
	--alpn) _certctl_words "h2 http/1.1 h2,http/1.1" ;;
	--channel) _certctl_words "email webhook" ;;
	--csr-format) _certctl_words "pem der" ;;
	--format)
		if [[ $command == export ]]; then
			_certctl_words "pem der p7b p12 jks"
		else
			_certctl_words "pem der"
		fi
		;;
	--select)
		compopt -o nospace 2>/dev/null
		_certctl_words "all unmanaged status= rule= host= port= subject= issuer="
		;;
	--exclude) _certctl_at_file ;;
	--sni | --check) _certctl_hosts ;;
	*)
		# By the argument's name: the same option name takes different
		# things in different commands (--key SPEC, --key ID, --key FILE).
		case $arg in
		SPEC)
			_certctl_words "rsa rsa:2048 rsa:3072 rsa:4096 ecdsa ecdsa:P-256 ecdsa:P-384 ed25519"
			;;
		ID)
			if [[ $opt == --cert ]]; then
				_certctl_words "$(_certctl_cert_ids "$operand1")"
			else
				_certctl_words "$(_certctl_keys)"
			fi
			;;
		NAME)
			# --set NAME: a trust set.
			[[ $opt == --set ]] && _certctl_words "$(_certctl_trust_sets)"
			;;
		KEY=VALUE)
			compopt -o nospace 2>/dev/null
			_certctl_words "order-number= order-date= contact= notes="
			;;
		HOST:PORT) _certctl_hosts ;;
		*DIR*) _certctl_files ;;
		*FILE* | CERT)
			_certctl_files
			# "(- for stdin)", "(- for stdout)"
			[[ $text == *"- for std"* ]] && _certctl_words "-"
			;;
		esac
		;;
	esac
	# Everything else is free text: nothing to offer.
}

# bash replaces only what follows the last ':' of the word (COMP_WORDBREAKS),
# so strip that part from values such as "ecdsa:P-256".
_certctl_ltrim_colon()
{
	[[ $cur == *:* && $COMP_WORDBREAKS == *:* ]] || return 0
	local prefix=${cur%"${cur##*:}"} i
	for i in "${!COMPREPLY[@]}"; do
		COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
	done
}

# Without bash-completion: the words of COMP_WORDS with the pieces bash split
# off at '=' and ':' (COMP_WORDBREAKS) joined again, so that "--out=F" and
# "ecdsa:P-256" are one word each.
_certctl_words_by_ref()
{
	local k w
	words=()
	cword=0
	for ((k = 0; k < ${#COMP_WORDS[@]}; k++)); do
		w=${COMP_WORDS[k]}
		if ((k > 0 && ${#words[@]} > 0)) &&
			[[ $w == [=:]* || ${COMP_WORDS[k - 1]} == *[=:] ]]; then
			words[${#words[@]} - 1]+=$w
		else
			words+=("$w")
		fi
		((k == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	((COMP_CWORD >= ${#COMP_WORDS[@]})) && { words+=(""); cword=$((${#words[@]} - 1)); }
	cur=${words[cword]}
	prev=${words[cword - 1]:-}
}

_certctl()
{
	local cur prev words cword
	if declare -F _get_comp_words_by_ref >/dev/null; then
		_get_comp_words_by_ref -n =: cur prev words cword
	else
		_certctl_words_by_ref
	fi
	COMPREPLY=()

	# The certctl being completed: as the line names it, else from $PATH.
	local _certctl_bin=${words[0]}
	[[ $_certctl_bin == "~"/* ]] && _certctl_bin=$HOME/${_certctl_bin#"~/"}
	type -P -- "$_certctl_bin" >/dev/null 2>&1 || _certctl_bin=certctl
	type -P -- "$_certctl_bin" >/dev/null 2>&1 || return 0

	# Global options come before the command.
	local _certctl_dir='' i=1 command='' command_at=0
	while ((i < cword)); do
		case ${words[i]} in
		-C)
			((i++))
			_certctl_dir=${words[i]}
			;;
		-C?*)
			_certctl_dir=${words[i]#-C}
			;;
		-*) ;;
		*)
			command=${words[i]}
			command_at=$i
			break
			;;
		esac
		((i++))
	done
	[[ $_certctl_dir == "~"* ]] && _certctl_dir=$HOME${_certctl_dir#\~}

	local help
	if [[ -z $command ]]; then
		if [[ $prev == -C ]]; then
			_certctl_files -d
			return 0
		fi
		help=$(_certctl_help)
		if [[ $cur == -* ]]; then
			_certctl_words "$(_certctl_options <<<"$help" | _certctl_option_names)"
		else
			_certctl_words "$(_certctl_section commands <<<"$help")"
		fi
		return 0
	fi

	# A command with verbs lists them in its help.
	help=$(_certctl_help "$command")
	[[ -n $help ]] || return 0
	local verb='' first=$((command_at + 1)) verbs
	verbs=$(_certctl_section verbs <<<"$help")
	if [[ -n $verbs ]]; then
		if ((cword == command_at + 1)); then
			if [[ $cur == -* ]]; then
				_certctl_words "-h --help"
			else
				_certctl_words "$verbs"
			fi
			return 0
		fi
		verb=${words[command_at + 1]}
		first=$((command_at + 2))
		help=$(_certctl_help "$command" "$verb")
		[[ -n $help ]] || return 0
	fi

	# The options: their names, and the argument and help of those with one.
	local -A arg_of=() text_of=()
	local options='' s l a t
	while read -r s l a _ t; do
		[[ $s != - ]] && options+=" $s"
		[[ $l != - ]] && options+=" $l"
		if [[ $a != - ]]; then
			[[ $s != - ]] && arg_of[$s]=$a text_of[$s]=$t
			[[ $l != - ]] && arg_of[$l]=$a text_of[$l]=$t
		fi
	done < <(_certctl_options <<<"$help")

	# How many operands come before the word being completed, and the first.
	local operands=0 j=$first operand1=''
	while ((j < cword)); do
		case ${words[j]} in
		--) ;;
		--*=*) ;;
		-*)
			[[ -n ${arg_of[${words[j]}]+set} ]] && ((j++))
			;;
		*)
			((operands++ == 0)) && operand1=${words[j]}
			;;
		esac
		((j++))
	done

	# The value of an option.
	local opt=''
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
	elif [[ -n $prev && -n ${arg_of[$prev]+set} ]] && ((cword > first)); then
		opt=$prev
	fi
	if [[ -n $opt ]]; then
		[[ -n ${arg_of[$opt]+set} ]] && _certctl_value "$opt" "${arg_of[$opt]}" "${text_of[$opt]}"
		_certctl_ltrim_colon
		return 0
	fi

	if [[ $cur == -* ]]; then
		_certctl_words "$options"
		return 0
	fi

	local kind
	kind=$(_certctl_operand_kind "$command${verb:+ $verb}") || return 0
	case $kind in
	definitions)
		# issue and deployments take any number of definitions.
		_certctl_words "$(_certctl_definitions)"
		;;
	check)
		# Definitions, or HOST:PORT (free text: the known hosts).
		_certctl_words "$(_certctl_definitions)"
		_certctl_hosts
		_certctl_ltrim_colon
		;;
	files) _certctl_files ;;
	import)
		# Files, or with --from-discovery one report.
		local k
		for ((k = first; k < cword; k++)); do
			if [[ ${words[k]} == --from-discovery ]]; then
				((operands == 0)) && _certctl_words "$(_certctl_reports)"
				return 0
			fi
		done
		_certctl_files
		;;
	discover)
		# Addresses and ranges (free text), names, @FILE.
		if [[ $cur == @* ]]; then
			_certctl_at_file
		else
			_certctl_hosts
		fi
		;;
	revoke)
		# ca revoke CA SERIAL|DEF
		if ((operands == 0)); then
			_certctl_words "$(_certctl_cas)"
		elif ((operands == 1)); then
			_certctl_words "$(_certctl_definitions) $(_certctl_serials "$operand1")"
		fi
		;;
	*)
		((operands == 0)) || return 0
		case $kind in
		definition) _certctl_words "$(_certctl_definitions)" ;;
		key) _certctl_words "$(_certctl_keys)" ;;
		ca) _certctl_words "$(_certctl_cas)" ;;
		trust-set) _certctl_words "$(_certctl_trust_sets)" ;;
		setting) _certctl_words "$(_certctl_settings)" ;;
		trust-ca)
			# The set given with --set, if any.
			local set='' k
			for ((k = first; k < cword; k++)); do
				case ${words[k]} in
				--set) set=${words[k + 1]} ;;
				--set=*) set=${words[k]#--set=} ;;
				esac
			done
			_certctl_words "$(_certctl_trust_ids "$set")"
			;;
		command) _certctl_words "$(_certctl_help | _certctl_section commands)" ;;
		file) _certctl_files ;;
		dir) _certctl_files -d ;;
		esac
		;;
	esac
	return 0
}

complete -F _certctl certctl
