# bash completion for certctl(1)
#
# Completes commands, each command's options and their fixed values,
# definition names (from "certctl list"), key ids (from "certctl key
# list"), CA names (from "certctl ca list"), serial numbers (from
# "certctl ca issued"), a definition's stored certificates (from "certctl
# current DEF") and the CAs of a trust set (from "certctl trust list").  Install as /usr/share/bash-completion/completions/certctl, or
# source it from ~/.bashrc.

# Options that take a value in the next word (or after "=").
_certctl_valued="--from --clone --cn --org --ou --locality --state --country
	--email --dns --ip --san-email --uri --key --key-id --provider --ca --profile
	--product --validation --validity --renew-before --trust-set --mode
	--process --check --sni --starttls --warning --critical --requester
	--owner --notes --description -n --max-count -o --out --passphrase-file
	--path-len --permit-dns --exclude-dns --permit-ip --exclude-ip --parent
	--csr-out --crl-url --ocsp-url --issuer-url --policy --max-validity
	--cert --format --reason --batch --p12-out --p12-passphrase-file
	--csr-format --set --receive --name --alias --key-passphrase-file --from
	--alpn --timeout --concurrency -p --ports --exclude --rate --html --select"

# Whether option $1 takes a value.
_certctl_is_valued()
{
	local word
	# --chain names a file for "ca install", "acquire" and "import", and
	# is a flag for "ca export".
	if [[ $1 == --chain ]]; then
		[[ $command == acquire || $command == import ||
			($command == ca && ${words[command_at + 1]} == install) ]]
		return
	fi
	for word in $_certctl_valued; do
		[[ $word == "$1" ]] && return 0
	done
	return 1
}

# certctl, on the repository given with -C if any, errors discarded.
_certctl_run()
{
	if [[ -n $_certctl_dir ]]; then
		certctl -C "$_certctl_dir" "$@" 2>/dev/null
	else
		certctl "$@" 2>/dev/null
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

# The targets of definition $1.
_certctl_targets()
{
	_certctl_run show "${1%@*}" | awk '/^targets:/ {t = 1; next} /^[^ -]/ {t = 0}
		t && /^ *- name: / {print $3}'
}

_certctl_cas()
{
	_certctl_run ca list | awk '{print $1}'
}

# The serial numbers of the certificates CA $1 issued and did not revoke.
_certctl_serials()
{
	_certctl_run ca issued "$1" | awk '$2 == "valid" {print $1}'
}

# The stored certificates of definition $1.
_certctl_cert_ids()
{
	[[ -n $1 ]] || return 0
	_certctl_run current "$1" | awk 'NR > 1 {print $NF}'
}

# The CAs stored in trust set $1 (default: default).
_certctl_trust_ids()
{
	_certctl_run trust list --set "${1:-default}" | awk 'NR > 1 {print $1}'
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

# Complete the value of option $1.
_certctl_value()
{
	case $1 in
	--from)
		if [[ $command == import ]]; then
			# HOST:PORT of a TLS server: the known host names.
			declare -F _known_hosts_real >/dev/null && _known_hosts_real -- "$cur"
		else
			_certctl_files
			_certctl_words "-"
		fi
		;;
	--clone)
		_certctl_words "$(_certctl_definitions)"
		;;
	--key-id)
		_certctl_words "$(_certctl_keys)"
		;;
	--key)
		if [[ $command == import ||
			($command == ca && ${words[command_at + 1]} == import) ]]; then
			_certctl_files
		elif [[ $command == acquire ]]; then
			_certctl_words "$(_certctl_keys)"
		else
			_certctl_words "rsa rsa:2048 rsa:3072 rsa:4096 ecdsa ecdsa:P-256 ecdsa:P-384 ed25519"
		fi
		;;
	--ca | --parent)
		_certctl_words "$(_certctl_cas)"
		;;
	--format | --csr-format)
		if [[ $command == export && $1 == --format ]]; then
			_certctl_words "pem der p7b p12 jks"
		else
			_certctl_words "pem der"
		fi
		;;
	--name)
		# import --name: an existing definition, or a new name.
		[[ $command == import ]] && _certctl_words "$(_certctl_definitions)"
		;;
	-t | --target)
		_certctl_words "$(_certctl_targets "$operand1")"
		;;
	--package-out | --package-passphrase-file)
		_certctl_files
		;;
	--cert)
		if [[ $command == current || $command == revoke || $command == deploy ]]; then
			_certctl_words "$(_certctl_cert_ids "$operand1")"
		else
			_certctl_files
		fi
		;;
	--csr-out)
		_certctl_files
		_certctl_words "-"
		;;
	--set)
		if [[ $command == acquire ]]; then
			compopt -o nospace 2>/dev/null
			_certctl_words "order-number= order-date= contact= notes="
		fi
		;;
	--reason)
		_certctl_words "unspecified keyCompromise cACompromise affiliationChanged
			superseded cessationOfOperation certificateHold removeFromCRL
			privilegeWithdrawn aACompromise"
		;;
	--batch)
		_certctl_files
		_certctl_words "-"
		;;
	--profile)
		_certctl_words "server client server+client"
		;;
	--validation)
		_certctl_words "dv ov ev"
		;;
	--mode)
		_certctl_words "lifecycle monitor"
		;;
	--process)
		_certctl_words "interactive unattended"
		;;
	--starttls)
		_certctl_words "smtp imap pop3 ftp ldap postgres"
		;;
	--alpn)
		_certctl_words "h2 http/1.1 h2,http/1.1"
		;;
	--html)
		_certctl_files
		_certctl_words "-"
		;;
	--exclude)
		# An address or a range (free text), or @FILE.
		if [[ $cur == @* ]]; then
			local at=$cur
			cur=${cur#@}
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -P @ -- "$cur")
			cur=$at
		fi
		;;
	--select)
		compopt -o nospace 2>/dev/null
		_certctl_words "all unmanaged status= rule= host= port= subject= issuer="
		;;
	-o | --out | --passphrase-file | --chain | --receive | --p12-out | \
		--p12-passphrase-file | --key-passphrase-file)
		_certctl_files
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

_certctl()
{
	local cur prev words cword
	if declare -F _get_comp_words_by_ref >/dev/null; then
		_get_comp_words_by_ref -n =: cur prev words cword
	else
		# Without bash-completion: split the line on blanks only.
		local line=${COMP_LINE:0:COMP_POINT}
		read -r -a words <<<"$line"
		[[ $line == *[[:blank:]] || ${#words[@]} -eq 0 ]] && words+=("")
		cword=$((${#words[@]} - 1))
		cur=${words[cword]}
		prev=${words[cword - 1]}
	fi
	COMPREPLY=()

	local commands="init define show list rm log fsck key ca issue acquire
		current requests check monitor status notify discover revoke deploy
		deployments import export inspect trust help version"
	local _certctl_dir='' i=1 command='' command_at=0

	# Global options come before the command.
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

	# The option whose value is being completed, if any.
	local opt=''
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
	elif [[ $prev == -C ]] || _certctl_is_valued "$prev"; then
		opt=$prev
	fi

	if [[ -z $command ]]; then
		if [[ $opt == -C ]]; then
			_certctl_files -d
		elif [[ $cur == -* ]]; then
			_certctl_words "-C -q --quiet -v --verbose --version -h --help"
		else
			_certctl_words "$commands"
		fi
		return 0
	fi

	local verb='' first=$((command_at + 1)) verbs=''
	case $command in
	key) verbs="list show generate import export rotate-secret" ;;
	ca) verbs="init install import list show export default revoke crl issued" ;;
	trust) verbs="add list rm" ;;
	esac
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
	fi

	# How many operands come before the word being completed, and the first.
	local operands=0 j=$first operand1=''
	while ((j < cword)); do
		case ${words[j]} in
		--*=*) ;;
		-*)
			_certctl_is_valued "${words[j]}" && ((j++))
			;;
		*)
			((operands++ == 0)) && operand1=${words[j]}
			;;
		esac
		((j++))
	done

	if [[ -n $opt && $opt != -C ]]; then
		_certctl_value "$opt"
		_certctl_ltrim_colon
		return 0
	fi

	local options='' operand=''
	case $command${verb:+ $verb} in
	init)
		options="--json"
		operand='dir'
		;;
	define)
		options="--from --clone --create --update --cn --org --ou --locality
			--state --country --email --dns --ip --san-email --uri --key
			--key-id --reuse-key --no-reuse-key --provider --ca --profile --product
			--validation --validity --renew-before --trust-set --mode
			--process --check --sni --starttls --monitor --no-monitor
			--warning --critical --requester --owner --notes --description
			--json"
		operand='definition'
		;;
	show)
		options="--json"
		operand='definition'
		;;
	list)
		options="--json"
		;;
	rm)
		operand='definition'
		;;
	log)
		options="-n --max-count --json"
		operand='definition'
		;;
	fsck)
		options="--repair --no-keys --json"
		;;
	"key list")
		options="--json"
		;;
	"key show")
		options="--json"
		operand='key'
		;;
	"key generate")
		options="--key --json"
		;;
	"key import")
		options="--passphrase-file --json"
		operand='file'
		;;
	"key export")
		options="-o --out --encrypt --passphrase-file -f --force"
		operand='key'
		;;
	"ca init")
		options="--cn --org --ou --locality --state --country --email --key
			--validity --path-len --permit-dns --exclude-dns --permit-ip
			--exclude-ip --parent --external --csr-out -f --force --crl-url
			--ocsp-url --issuer-url --policy --max-validity"
		;;
	"ca install")
		options="--cert --chain"
		operand='ca'
		;;
	"ca import")
		options="--cert --key --passphrase-file"
		;;
	"ca list")
		options="--json"
		;;
	"ca show" | "ca issued")
		options="--json"
		operand='ca'
		;;
	"ca export")
		options="--format --chain -o --out -f --force"
		operand='ca'
		;;
	"ca default")
		operand='ca'
		;;
	"ca revoke")
		options="--reason"
		operand='revoke'
		;;
	"ca crl")
		options="-o --out -f --force"
		operand='ca'
		;;
	issue)
		options="--ca --self-signed --reuse-key --key-id --validity --profile
			--p12-out --p12-passphrase-file -f --force --batch --one-commit
			--json"
		operand='definitions'
		;;
	acquire)
		options="--reuse-key --key --provider --csr-out --csr-format -f --force
			--show-csr --set --receive --chain --trust-set --no-switch
			--resume --cancel --json"
		operand='definition'
		;;
	current)
		options="--cert --json"
		operand='definition'
		;;
	requests)
		options="--open --json"
		operand='definition'
		;;
	revoke)
		options="--cert --reason"
		operand='definition'
		;;
	check)
		options="--sni --starttls --alpn --timeout --concurrency --no-record
			--json --nagios"
		operand='definitions'
		;;
	discover)
		options="-p --ports --exclude --concurrency --rate --timeout --force
			--no-record --json --html"
		operand='targets'
		;;
	deploy)
		options="--check --confirm-manual --note --rollback --package-out
			--package-passphrase-file -t --target --cert --no-check --timeout
			-n --dry-run --json"
		operand='definition'
		;;
	deployments)
		options="--failed --open --json"
		operand='definition'
		;;
	monitor)
		options="--concurrency --timeout --no-renew --no-notify -n --dry-run
			--prometheus --shard --json"
		;;
	status)
		options="--expiring --failed --json"
		;;
	notify)
		options="--test --report --channel"
		;;
	import)
		options="--key --chain --name --mode --passphrase-file
			--key-passphrase-file --from --sni --from-discovery --select --json"
		operand='files'
		;;
	export)
		options="--format -o --out --with-key --fullchain --alias
			--passphrase-file -f --force"
		operand='definition'
		;;
	inspect)
		options="--passphrase-file --sni --json"
		operand='files'
		;;
	"trust add")
		options="--set"
		operand='files'
		;;
	"trust list")
		options="--set --json"
		;;
	"trust rm")
		options="--set"
		operand='trust'
		;;
	help)
		operand='command'
		;;
	version) ;;
	*)
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		_certctl_words "$options -q --quiet -v --verbose -h --help"
		return 0
	fi
	case $operand in
	definitions)
		# issue and check take any number of definitions (check also
		# HOST:PORT, free text).
		_certctl_words "$(_certctl_definitions)"
		return 0
		;;
	files)
		# trust add, import and inspect take any number of files.
		_certctl_files
		return 0
		;;
	targets)
		# discover: addresses and ranges (free text), names, @FILE.
		if [[ $cur == @* ]]; then
			local at=$cur
			cur=${cur#@}
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -P @ -- "$cur")
			cur=$at
		elif declare -F _known_hosts_real >/dev/null; then
			_known_hosts_real -- "$cur"
		fi
		return 0
		;;
	revoke)
		# ca revoke CA SERIAL|DEF
		if ((operands == 0)); then
			_certctl_words "$(_certctl_cas)"
		elif ((operands == 1)); then
			_certctl_words "$(_certctl_definitions) $(_certctl_serials "$operand1")"
		fi
		return 0
		;;
	esac
	((operands == 0)) || return 0
	case $operand in
	definition) _certctl_words "$(_certctl_definitions)" ;;
	key) _certctl_words "$(_certctl_keys)" ;;
	ca) _certctl_words "$(_certctl_cas)" ;;
	trust)
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
	command) _certctl_words "$commands" ;;
	file) _certctl_files ;;
	dir) _certctl_files -d ;;
	esac
	return 0
}

complete -F _certctl certctl
