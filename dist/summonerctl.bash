# bash completion for summonerctl(8).  Installed as
# share/bash-completion/completions/summonerctl; or: source this file.
#
# Commands and options are completed from what summonerctl knows; service
# and instance names from a running summoner (summonerctl list), on the
# socket the command line names with -s, if any.

_summonerctl_names()
{
	# "list" prints SERVICE INSTANCE ... rows; a service's further
	# instances come on lines whose first column is blank.
	summonerctl "$@" list 2>/dev/null | awk '
		NR == 1 { next }
		/^[ \t]/ { print $1; next }
		{ print $1; if ($2 != "-") print $2 }'
}

_summonerctl()
{
	local cur prev words cword i cmd="" sock=()
	local commands="list show top logs faults inspect summon stop restart
		release retire policy reload"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The command is the first word that is neither an option nor the
	# argument of -s.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s | --socket)
			sock=(-s "${COMP_WORDS[i + 1]}")
			((i++))
			;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	case $prev in
	-s | --socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-n)
		return # a number
		;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-j --json -s --socket -h --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	case $cmd in
	logs)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-n -f -h" -- "$cur"))
			return
		fi
		;;
	faults)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-n -h" -- "$cur"))
			return
		fi
		;;
	policy)
		# policy test POLICY TRACE: POLICY is a name in the running
		# configuration (not listed by the daemon), TRACE a file.
		if [ "$prev" = policy ]; then
			COMPREPLY=($(compgen -W "test" -- "$cur"))
		elif [ "$prev" != test ]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
		;;
	top)
		[[ $prev == -d ]] && return # seconds
		COMPREPLY=($(compgen -W "-d -n -h" -- "$cur"))
		return
		;;
	list | reload)
		COMPREPLY=($(compgen -W "-h" -- "$cur"))
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-h" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$(_summonerctl_names "${sock[@]}")" -- "$cur"))
}

complete -F _summonerctl summonerctl
