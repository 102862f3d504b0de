#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make install` into a DESTDIR with prefix=/usr and sysconfdir=/etc: every file lands
# where the GNU directory variables say; the installed binaries are PIE with full RELRO
# and BIND_NOW and use fortified libc calls; the unit names the installed paths,
# passes `systemd-analyze verify` and scores at most 3.0 ("OK") in
# `systemd-analyze security`. Needs no root (systemd-analyze runs offline).
set -euo pipefail
cd "$(dirname "$0")/../.."
fails=0
fail() { printf 'FAIL: test_install: %s\n' "$*"; fails=$((fails + 1)); }
ok() { [ "$fails" -ne 0 ] || printf 'ok - %s\n' "$*"; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

make --no-print-directory -s install DESTDIR="$dest" prefix=/usr sysconfdir=/etc >"$tmp/make.log" 2>&1 ||
	{ cat "$tmp/make.log"; fail "make install failed"; exit 1; }
want="etc/sockgate/sockgate.yaml
usr/lib/systemd/system/sockgated.service
usr/lib/sysusers.d/sockgate.conf
usr/sbin/sockgate
usr/sbin/sockgated
usr/share/bash-completion/completions/sockgate
usr/share/bash-completion/completions/sockgated
usr/share/doc/sockgate/BSD-2-Clause.txt
usr/share/doc/sockgate/GPL-2.0.txt
usr/share/doc/sockgate/LICENSE
usr/share/doc/sockgate/examples/sockgate.yaml
usr/share/man/man5/sockgate.yaml.5
usr/share/man/man8/sockgate.8
usr/share/man/man8/sockgated.8"
got=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
[ "$got" = "$want" ] || fail "installed files differ: $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
ok "make install puts exactly the expected files under prefix and sysconfdir"

# A second install keeps an operator's configuration.
echo "# mine" >>"$dest/etc/sockgate/sockgate.yaml"
make --no-print-directory -s install DESTDIR="$dest" prefix=/usr sysconfdir=/etc >"$tmp/make.log" 2>&1
grep -q '^# mine$' "$dest/etc/sockgate/sockgate.yaml" || fail "make install overwrote /etc/sockgate/sockgate.yaml"
ok "a second make install keeps /etc/sockgate/sockgate.yaml"

for b in sockgated sockgate; do
	f=$dest/usr/sbin/$b
	# Whole outputs first: grep -q closing the pipe early would fail it under pipefail.
	hdr=$(readelf -h "$f") dyn=$(readelf -d "$f") seg=$(readelf -lW "$f") syms=$(readelf -sW --dyn-syms "$f")
	grep -q 'Type:.*DYN' <<<"$hdr" || fail "$b is not PIE"
	grep -q 'FLAGS.*BIND_NOW' <<<"$dyn" || fail "$b has no BIND_NOW"
	grep -q 'FLAGS_1.*NOW.*PIE' <<<"$dyn" || fail "$b: FLAGS_1 lacks NOW PIE"
	grep -q GNU_RELRO <<<"$seg" || fail "$b has no GNU_RELRO segment"
	grep -q '__[a-z_]*printf_chk@' <<<"$syms" || fail "$b calls no fortified function"
done
ok "installed binaries: PIE, full RELRO (GNU_RELRO + BIND_NOW), fortified"

unit=$dest/usr/lib/systemd/system/sockgated.service
# shellcheck disable=SC2016 # the unit's own ${...}, not the shell's
grep -q '^ExecStart=/usr/sbin/sockgated -c ${SOCKGATED_CONFIG}' "$unit" || fail "the unit does not run /usr/sbin/sockgated"
grep -q '^Environment=SOCKGATED_CONFIG=/etc/sockgate/sockgate.yaml$' "$unit" || fail "the unit does not read /etc/sockgate/sockgate.yaml"
if command -v systemd-analyze >/dev/null; then
	# verify checks that the commands exist: point it at the staged binaries.
	sed "s|/usr/sbin/|$dest/usr/sbin/|g" "$unit" >"$tmp/sockgated.service"
	out=$(systemd-analyze verify --man=no "$tmp/sockgated.service" 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
	ok "systemd-analyze verify: the unit is clean"
	score=$(systemd-analyze security --offline=true --no-pager "$tmp/sockgated.service" 2>&1 |
		sed -n 's/.*Overall exposure level for sockgated.service: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] || fail "systemd-analyze security printed no score"
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }' || fail "systemd-analyze security: exposure $score > 3.0"
	ok "systemd-analyze security: exposure $score (at most 3.0)"
fi
[ "$fails" -eq 0 ] || exit 1
echo "PASS: test_install: make install, hardening, the unit"
