# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bash completion for sockgate(8) and sockgated(8). The commands and options are read
# from the installed binary's own help (`sockgate help`, `sockgated --help`), which is
# printed from the same tables the parsers use, so completion cannot miss one.
# tests/e2e/test_docs_sync.sh checks every command and option completes.

# Options ("--x" and "-x") in help text on stdin.
_sockgate_opts()
{
	sed -n 's/^ \{2,\}\(-[A-Za-z0-9], \)\{0,1\}\(--[a-z-]*\).*/\1\2/p' | tr -d ',' | tr ' ' '\n' | sed '/^$/d'
}

_sockgate_words()
{
	local cur=$1 words=$2
	# shellcheck disable=SC2207 # the words are simple tokens
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

_sockgate()
{
	local cur prev bin help cmds opts cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${COMP_WORDS[0]}
	help=$("$bin" help 2>/dev/null) || return 0
	cmds=$(sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\).*/\1/p' <<<"$help")
	opts=$(_sockgate_opts <<<"$help")

	case $prev in
	--control | --bpffs)
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	--interval | --iterations) return 0 ;;
	esac

	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--control | --bpffs | --interval | --iterations) ((i++)) ;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	if [[ $cur == -* ]]; then
		_sockgate_words "$cur" "$opts"
		return 0
	fi
	case $cmd in
	"") _sockgate_words "$cur" "$cmds" ;;
	help) [ "$prev" = help ] && _sockgate_words "$cur" "$cmds" ;;
	load)
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	guard)
		case $prev in
		guard) _sockgate_words "$cur" "show deny allow" ;;
		deny | allow) _sockgate_words "$cur" "add del" ;;
		esac
		;;
	esac
	return 0
}

_sockgated()
{
	local cur prev opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	case $prev in
	-c | --config | --access-log)
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	--control | --bpffs)
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	--dataplane) _sockgate_words "$cur" "auto express sockmap splice copy"; return 0 ;;
	--user)
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -u -- "$cur"))
		return 0
		;;
	--access-log-format) _sockgate_words "$cur" "kv json"; return 0 ;;
	--log-level) _sockgate_words "$cur" "err warn info debug"; return 0 ;;
	--metrics | --pair-budget | --label | --workers | --promote-bytes | --promote-after | --drain-timeout) return 0 ;;
	esac
	opts=$("${COMP_WORDS[0]}" --help 2>/dev/null | _sockgate_opts)
	_sockgate_words "$cur" "$opts"
	return 0
}

complete -F _sockgate sockgate
complete -F _sockgated sockgated
