#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The man pages and the bash completion against the tables they document: every option
# of `sockgated --help` and every command and option of `sockgate help` (both printed
# from the parsers' own tables) must be in man/sockgated.8 or man/sockgate.8 and must
# complete; every option a man page lists must still exist; every key of the native
# configuration's field tables (user/core/config/*.c, `.key = "..."`) must be in
# man/sockgate.yaml.5. Needs no root and no network.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SOCKGATED=$ROOT/build/sockgated
SOCKGATE=$ROOT/build/sockgate
for b in "$SOCKGATED" "$SOCKGATE"; do
	[ -x "$b" ] || { echo "FAIL: $b not built (run make)"; exit 1; }
done
fails=0
fail() { printf 'FAIL: test_docs_sync: %s\n' "$*"; fails=$((fails + 1)); }
# ok MESSAGE: printed only when nothing failed so far.
ok() { [ "$fails" -ne 0 ] || printf 'ok - %s\n' "$*"; }

# Options in help text on stdin: "-c" and "--config" from "  -c, --config PATH  ...".
help_opts() { sed -n 's/^ \{2,\}\(-[A-Za-z0-9], \)\{0,1\}\(--[a-z-]*\).*/\1\2/p' | tr -d ',' | tr ' ' '\n' | sed '/^$/d'; }
# Options named on the .TP tag lines of a man page's OPTIONS section.
man_opts() {
	awk '/^\.SH OPTIONS/ { on = 1; next } /^\.SH/ { on = 0 } on && prev == ".TP" { print } { prev = $0 }' "$1" |
		grep -o '\\-\(\\-[a-z][a-z\\-]*\|[A-Za-z0-9]\)\b' | sed 's/\\-/-/g; s/\\$//' | sort -u
}
# The words the completion offers for COMP_WORDS=("$@").
complete_words() {
	bash -c '. "$1/completion/sockgate.bash"; shift; PATH=$(dirname "$1"):$PATH
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		case $(basename "$1") in sockgated) _sockgated ;; *) _sockgate ;; esac
		printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT" "$@"
}

check_binary() { # NAME BINARY HELP_TEXT MAN
	local name=$1 bin=$2 man=$4 o completion in_help in_man
	# Lists first: grep -q closing a pipe early would fail it under pipefail.
	completion=$(complete_words "$bin" -)
	in_help=$(help_opts <<<"$3")
	in_man=$(man_opts "$man")
	for o in $in_help; do
		grep -qxF -- "$o" <<<"$in_man" || fail "$name: option $o of --help is not in $man's OPTIONS"
		grep -qxF -- "$o" <<<"$completion" || fail "$name: option $o of --help does not complete"
	done
	for o in $in_man; do
		grep -qxF -- "$o" <<<"$in_help" || fail "$name: $man lists $o, which --help does not have"
	done
	ok "$name: every option of --help is in $man and completes; $man lists no other"
}

check_binary sockgated "$SOCKGATED" "$("$SOCKGATED" --help)" man/sockgated.8
check_binary sockgate "$SOCKGATE" "$("$SOCKGATE" help)" man/sockgate.8

cmds=$("$SOCKGATE" help | sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\).*/\1/p')
[ "$(wc -w <<<"$cmds")" -ge 10 ] || fail "sockgate help lists too few commands: $cmds"
completion=$(complete_words "$SOCKGATE" "")
tags=$(awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH/ { on = 0 } on && prev == ".TP" { print } { prev = $0 }' man/sockgate.8)
for c in $cmds; do
	grep -qE "^\.B[IR]? $c( |$)" <<<"$tags" || fail "sockgate: command $c is not in man/sockgate.8's COMMANDS"
	grep -qxF "$c" <<<"$completion" || fail "sockgate: command $c does not complete"
done
ok "sockgate: every command of sockgate help is in man/sockgate.8 and completes"

keys=$(sed -n 's/.*\.key = "\([a-z_0-9]*\)".*/\1/p' user/core/config/config_native.c \
	user/core/config/config_guard.c user/core/config/config_health.c \
	user/core/config/config_proxy.c user/core/config/config_kubernetes.c | sort -u)
[ "$(wc -w <<<"$keys")" -ge 30 ] || fail "too few configuration keys found: $keys"
for k in $keys; do
	grep -qE "^\.B $k\$|^\.B $k |\.B $k\$" man/sockgate.yaml.5 || fail "sockgate.yaml: key $k is not in man/sockgate.yaml.5"
done
ok "sockgate.yaml: every native configuration key is in man/sockgate.yaml.5"

if command -v mandoc >/dev/null; then
	for m in man/*.[0-9]; do
		out=$(mandoc -T lint -W warning "$m" 2>&1) || fail "$m: mandoc lint: $out"
	done
	ok "mandoc -T lint -W warning: the man pages are clean"
fi
[ "$fails" -eq 0 ] || exit 1
echo "PASS: test_docs_sync: man pages and completion match the option, command and key tables"
