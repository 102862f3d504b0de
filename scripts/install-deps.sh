#!/usr/bin/env bash
# Installs the Debian packages that sockgate's build, tests and demo need, only
# when some are missing, so it is cheap to call from every make target that
# needs them. Run as root on Debian 12.
#   scripts/install-deps.sh           build, tests, demo
#   scripts/install-deps.sh --bench   the same plus the benchmark's peers and gnuplot
set -euo pipefail

with_bench=0
case ${1:-} in
"") ;;
--bench) with_bench=1 ;;
*)
	echo "usage: scripts/install-deps.sh [--bench]" >&2
	exit 2
	;;
esac

PKGS=(
	make gcc clang llvm pkg-config
	libbpf-dev libelf-dev zlib1g-dev libyaml-dev bpftool
	libc-ares-dev # the resolver thread
	dnsmasq-base # test_dns.sh: a DNS server whose records change
	libcriterion-dev libclang-rt-14-dev
	libssl-dev
	nginx-light curl openssl iproute2 ethtool procps psmisc python3
	strace # test_syscall_budget.sh
	python3-yaml libcap2-bin # test_k8s_*.sh: read deploy/kubernetes/, decode capabilities
	tmux
	nftables util-linux # make soak: packet loss in the test namespaces, taskset
)
# make bench: the gateways sockgate is measured against, NGINX's stream module, charts.
BENCH_PKGS=(haproxy sniproxy libnginx-mod-stream gnuplot-nox linux-perf iperf3)
[ "$with_bench" -eq 1 ] && PKGS+=("${BENCH_PKGS[@]}")
# Man page lint (tests/e2e/test_docs_sync.sh), the unit checks (test_install.sh) and
# the Debian package (make deb, tests/e2e/test_deb.sh).
PKGS+=(mandoc systemd debhelper dpkg-dev fakeroot lintian)
# promtool, which checks the Prometheus scrape config and alert rules under deploy/
# (tests/e2e/test_prometheus_files.sh); the server the package starts is stopped below.
PKGS+=(prometheus)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root to install)" >&2
	exit 1
fi

# Services a package starts on its first install: package=unit. The tests and the
# benchmark start their own nginx, haproxy and sniproxy with their own configs (and only
# use prometheus's promtool), so a
# server the package started here is stopped again, by its unit's name, only when
# this run installed the package and the unit was not running before. A server the
# host already ran (say, a production NGINX on a gateway) is never touched.
SERVICES=(nginx-light=nginx haproxy=haproxy sniproxy=sniproxy prometheus=prometheus)

# Where System V init scripts are; tests/e2e/test_install_deps.sh points it at stubs.
INITD=${SG_INSTALL_DEPS_INITD:-/etc/init.d}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
unit_active() {
	if has_systemd; then
		systemctl is-active --quiet "$1" 2>/dev/null
	else
		[ -x "$INITD/$1" ] && "$INITD/$1" status >/dev/null 2>&1
	fi
}

to_stop=()
for entry in "${SERVICES[@]}"; do
	pkg=${entry%%=*} unit=${entry#*=}
	for m in "${missing[@]}"; do
		# Was it absent, and was its service not already running (another package
		# can provide it, e.g. nginx-full)?
		if [ "$m" = "$pkg" ] && ! unit_active "$unit"; then
			to_stop+=("$entry")
		fi
	done
done

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

for entry in "${to_stop[@]+"${to_stop[@]}"}"; do
	pkg=${entry%%=*} unit=${entry#*=}
	if ! installed "$pkg" || ! unit_active "$unit"; then
		continue
	fi
	echo "install-deps: stopping $unit, which installing $pkg just started"
	if has_systemd; then
		systemctl stop "$unit" || true
	elif [ -x "$INITD/$unit" ]; then
		"$INITD/$unit" stop || true
	fi
done
