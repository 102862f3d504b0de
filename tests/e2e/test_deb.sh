#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package (`make deb`, scripts/build-deb.sh: dpkg-buildpackage -us -uc -b in a
# copy of the tree, then lintian): it builds, lintian reports no error or warning (the
# info tags left are explained in debian/sockgate.lintian-overrides), and the .deb holds
# the binaries (hardened), the man pages, the completion, the unit, the sysusers entry
# for the sockgate user (created in postinst), and /etc/sockgate/sockgate.yaml as a
# conffile. Skipped when debhelper or dpkg-dev is missing. About 30 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
for c in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$c" >/dev/null || { echo "SKIP: test_deb: $c missing (scripts/install-deps.sh)"; exit 77; }
done
fails=0
fail() { printf 'FAIL: test_deb: %s\n' "$*"; fails=$((fails + 1)); }
ok() { [ "$fails" -ne 0 ] || printf 'ok - %s\n' "$*"; }
log=$(mktemp)
trap 'rm -f "$log"; rm -rf "${ctl:-}"' EXIT

bash scripts/build-deb.sh >"$log" 2>&1 || { tail -n 40 "$log"; fail "make deb failed (lintian errors or warnings fail it)"; exit 1; }
ok "dpkg-buildpackage -us -uc -b builds; lintian: no error or warning"
deb=$(ls build/deb/sockgate_*_*.deb)
tags=$(grep -E '^[EWIPXO]: ' "$log" || true)
printf '%s\n' "${tags:-lintian: no tags}"

contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
for f in /usr/sbin/sockgated /usr/sbin/sockgate /usr/share/man/man8/sockgated.8.gz \
	/usr/share/man/man8/sockgate.8.gz /usr/share/man/man5/sockgate.yaml.5.gz \
	/usr/share/bash-completion/completions/sockgate /usr/share/bash-completion/completions/sockgated \
	/lib/systemd/system/sockgated.service /usr/lib/sysusers.d/sockgate.conf \
	/etc/sockgate/sockgate.yaml /usr/share/doc/sockgate/copyright \
	/usr/share/doc/sockgate/examples/sockgate.yaml; do
	grep -qxF "$f" <<<"$contents" || fail "$f is not in the package"
done
ok "the package holds binaries, man pages, completion, unit, sysusers entry, example configuration"

ctl=$(mktemp -d)
dpkg-deb -e "$deb" "$ctl"
grep -qxF /etc/sockgate/sockgate.yaml "$ctl/conffiles" || fail "/etc/sockgate/sockgate.yaml is not a conffile"
grep -q 'systemd-sysusers.*sockgate.conf' "$ctl/postinst" || fail "postinst does not create the sockgate user"
grep -q "deb-systemd-helper.*sockgated.service" "$ctl/postinst" || fail "postinst does not register the unit"
depends=$(dpkg-deb -f "$deb" Depends)
grep -q libbpf1 <<<"$depends" || fail "Depends lacks libbpf1: $depends"
ok "conffile, postinst (sockgate user, unit), Depends: $depends"

dpkg-deb -x "$deb" "$ctl/root"
dyn=$(readelf -d "$ctl/root/usr/sbin/sockgated") hdr=$(readelf -h "$ctl/root/usr/sbin/sockgated")
if ! grep -q 'FLAGS_1.*NOW.*PIE' <<<"$dyn" || ! grep -q 'Type:.*DYN' <<<"$hdr"; then
	fail "the packaged sockgated is not PIE with BIND_NOW"
fi
ok "the packaged sockgated: PIE, BIND_NOW"
[ "$fails" -eq 0 ] || exit 1
echo "PASS: test_deb: the Debian package builds lintian-clean with the expected contents"
