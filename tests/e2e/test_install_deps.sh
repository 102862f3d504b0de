#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# scripts/install-deps.sh never stops or kills a service it did not just install. With
# dpkg-query, apt-get, systemctl and the init scripts replaced by stubs that log what
# they are asked: a package this run installs whose postinst starts its service gets
# that service stopped by name; a service that was already running (another package
# provides it, or it was installed before) is left alone; with nothing missing nothing
# is touched; and the script names no pkill or killall. No package is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
[ "$(id -u)" -eq 0 ] || { echo "SKIP: test_install_deps: needs root (install-deps.sh checks it)"; exit 77; }
fails=0
fail() { printf 'FAIL: test_install_deps: %s\n' "$*"; fails=$((fails + 1)); }
ok() { [ "$fails" -ne 0 ] || printf 'ok - %s\n' "$*"; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# State: $tmp/installed/<pkg> exists when installed, $tmp/active/<unit> when running.
mkdir -p "$tmp/bin" "$tmp/initd"
cat >"$tmp/bin/dpkg-query" <<'SH'
#!/bin/sh
for last; do :; done
[ -e "$STATE/installed/$last" ] || exit 1
printf 'install ok installed'
SH
cat >"$tmp/bin/apt-get" <<'SH'
#!/bin/sh
echo "apt-get $*" >>"$STATE/calls"
[ "$1" = install ] || exit 0
for p; do
	case $p in -*|install) continue ;; esac
	touch "$STATE/installed/$p"
	# Debian's postinst starts the service the package ships.
	case $p in nginx-light) touch "$STATE/active/nginx" ;; haproxy) touch "$STATE/active/haproxy" ;; prometheus) touch "$STATE/active/prometheus" ;; esac
done
SH
cat >"$tmp/bin/systemctl" <<'SH'
#!/bin/sh
echo "systemctl $*" >>"$STATE/calls"
case $1 in
is-active) unit=$3; [ -e "$STATE/active/$unit" ] ;;
stop) rm -f "$STATE/active/$2" ;;
esac
SH
for unit in nginx haproxy sniproxy prometheus; do
	cat >"$tmp/initd/$unit" <<SH
#!/bin/sh
echo "init.d $unit \$1" >>"\$STATE/calls"
case \$1 in status) [ -e "\$STATE/active/$unit" ] ;; stop) rm -f "\$STATE/active/$unit" ;; esac
SH
done
cat >"$tmp/bin/pkill" <<'SH'
#!/bin/sh
echo "pkill $*" >>"$STATE/calls"
SH
cp "$tmp/bin/pkill" "$tmp/bin/killall"
chmod +x "$tmp/bin/"* "$tmp/initd/"*

# run SETUP...: a fresh state where every package is installed but those named
# "-pkg", and the units named "+unit" are running; then install-deps.sh [--bench].
run() {
	local bench=$1 a
	shift
	export STATE=$tmp/state
	rm -rf "$STATE"
	mkdir -p "$STATE/installed" "$STATE/active"
	: >"$STATE/calls"
	# shellcheck disable=SC2013 # package names are words
	for a in $(sed -n '/^PKGS=(/,/^)/p; /^BENCH_PKGS=(/p; /^PKGS+=(/p' scripts/install-deps.sh |
		sed 's/#.*//; s/^[A-Z_]*+\{0,1\}=(//; s/).*$//; /^PKGS+=("/d'); do
		touch "$STATE/installed/$a"
	done
	for a; do
		case $a in -*) rm -f "$STATE/installed/${a#-}" ;; +*) touch "$STATE/active/${a#+}" ;; esac
	done
	PATH=$tmp/bin:$PATH SG_INSTALL_DEPS_INITD=$tmp/initd bash "$ROOT/scripts/install-deps.sh" ${bench:+"$bench"} \
		>"$tmp/out" 2>&1 || fail "install-deps.sh failed: $(cat "$tmp/out")"
	calls=$(cat "$STATE/calls")
}
stopped() { grep -E "^(systemctl stop $1|init.d $1 stop)\$" <<<"$calls" || true; }

run "" -nginx-light
[ -n "$(stopped nginx)" ] || fail "nginx, started by the nginx-light this run installed, was not stopped: $calls"
[ ! -e "$STATE/active/nginx" ] || fail "nginx still runs after install-deps"
ok "the nginx this run's install started is stopped by name"

run "" -nginx-light +nginx
[ -z "$(stopped nginx)" ] || fail "an nginx that ran before install-deps was stopped: $calls"
[ -e "$STATE/active/nginx" ] || fail "the running nginx was stopped"
ok "an nginx that was running before (another package provides it) is left alone"

run "" -prometheus
[ -n "$(stopped prometheus)" ] || fail "prometheus, installed for promtool, was not stopped: $calls"
[ ! -e "$STATE/active/prometheus" ] || fail "prometheus still runs after install-deps"
ok "the prometheus server that installing promtool started is stopped by name"

run "" +nginx +haproxy
[ -z "$(stopped nginx)$(stopped haproxy)" ] || fail "nothing missing, yet a service was stopped: $calls"
grep -q apt-get <<<"$calls" && fail "nothing missing, yet apt-get ran: $calls"
ok "nothing missing: nothing installed, nothing stopped"

run --bench -haproxy +nginx
[ -n "$(stopped haproxy)" ] || fail "haproxy, which this run installed, was not stopped: $calls"
[ -z "$(stopped nginx)" ] || fail "--bench stopped an nginx it did not install: $calls"
ok "--bench: the haproxy it installed is stopped, the running nginx is not"

grep -q pkill <<<"$calls" && fail "pkill was called: $calls"
grep -q killall <<<"$calls" && fail "killall was called: $calls"
if grep -nE '^[^#]*\b(pkill|killall)\b' scripts/install-deps.sh; then
	fail "install-deps.sh calls pkill or killall"
fi
ok "no pkill, no killall"
[ "$fails" -eq 0 ] || exit 1
echo "PASS: test_install_deps: only the services this run's installs started are stopped, by name"
