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
	libcriterion-dev libclang-rt-14-dev
	libssl-dev
	nginx-light curl openssl iproute2 ethtool procps psmisc python3
	tmux
	nftables util-linux # make soak: packet loss in the test namespaces, taskset
)
# make bench: the gateways sockgate is measured against, NGINX's stream module, charts.
BENCH_PKGS=(haproxy sniproxy libnginx-mod-stream gnuplot-nox)
[ "$with_bench" -eq 1 ] && PKGS+=("${BENCH_PKGS[@]}")

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

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's nginx package starts a server on :80 at install; tests start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
	systemctl stop nginx || true
fi
pkill -x nginx 2>/dev/null || true
# The same for the peers: the benchmark starts its own instances, with its own configs.
for svc in haproxy sniproxy; do
	if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	fi
done
