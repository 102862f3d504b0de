# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# lib.sh: shared helpers of the end-to-end tests (sourced, never run).
# Owns: the three-namespace topology (client <-> gateway <-> backend, IPv4 and IPv6 on
# veth pairs), the user's certificates, nginx backends built from the user's mynginx.conf,
# bounded waits, assertions, and one idempotent cleanup that kills what the test started
# and deletes its namespaces and /etc/netns entries. Traffic stays inside the namespaces
# it creates: 10.199.0.0/16 and fd00:5ca1::/64 exist only on veths inside them, and no
# namespace gets a default route. Every wait is count-bounded and every command timed out.

# ---- identity, paths, addresses ---------------------------------------------------------

SG_E2E_NAME=$(basename "$0" .sh)
SG_E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SG_SCENARIO_DIR=$SG_E2E_ROOT/tests/data/scenario

# Unique per test process: two tests (or two engineers) never share a namespace.
SG_NS_CLI=sg$$-cli
SG_NS_GW=sg$$-gw
SG_NS_BE=sg$$-be

# Link client <-> gateway: 10.199.1.0/24, fd00:5ca1::1:0/112.
# Link gateway <-> backend: 10.199.2.0/24, fd00:5ca1::2:0/112.
CLI_IF=to-gw
GW_IF_CLI=to-cli
GW_IF_BE=to-be
BE_IF=to-gw
CLI_IP=10.199.1.2
GW_IP_CLI=10.199.1.1
GW_IP_BE=10.199.2.1
BE_IP=10.199.2.2
CLI_IP6=fd00:5ca1::1:2
GW_IP6_CLI=fd00:5ca1::1:1
GW_IP6_BE=fd00:5ca1::2:1
BE_IP6=fd00:5ca1::2:2
SG_NET_CLI=10.199.1.0/24
SG_NET_BE=10.199.2.0/24
SG_NET6_CLI=fd00:5ca1::1:0/112
SG_NET6_BE=fd00:5ca1::2:0/112
export SG_NS_CLI SG_NS_GW SG_NS_BE CLI_IF GW_IF_CLI GW_IF_BE BE_IF
export CLI_IP GW_IP_CLI GW_IP_BE BE_IP CLI_IP6 GW_IP6_CLI GW_IP6_BE BE_IP6
export SG_NET_CLI SG_NET_BE SG_NET6_CLI SG_NET6_BE SG_SCENARIO_DIR

# Scratch directory, created now so that $(e2e_tmpdir ...) works from subshells too.
SG_E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sg-e2e.$$.XXXXXX")
# Certificates: a developer may point this at a directory to reuse; it is then kept.
SG_E2E_CERTS=${SG_E2E_CERTS:-$SG_E2E_TMP/certs}
SG_CA=$SG_E2E_CERTS/aliyun.root.crt
export SG_E2E_TMP SG_E2E_CERTS SG_CA

# Upper bound of any one command run through e2e_exec (seconds).
SG_E2E_CMD_TIMEOUT=${SG_E2E_CMD_TIMEOUT:-30}

# State consumed by cleanup. Functions that change it must not run in $(...).
SG_E2E_PIDS=()
SG_E2E_HOOKS=()
SG_E2E_NS_MADE=()
[ -d /etc/netns ] && SG_E2E_ETC_NETNS_EXISTED=1 || SG_E2E_ETC_NETNS_EXISTED=0

# ---- messages and assertions ------------------------------------------------------------

e2e_log() { printf '%s: %s\n' "$SG_E2E_NAME" "$*" >&2; }

# e2e_skip MESSAGE: exit 77 (skip), visibly.
e2e_skip() {
	printf 'SKIP: %s: %s\n' "$SG_E2E_NAME" "$*" >&2
	exit 77
}

# e2e_fail MESSAGE: exit 1 with the reason.
e2e_fail() {
	printf 'FAIL: %s: %s\n' "$SG_E2E_NAME" "$*" >&2
	exit 1
}

# e2e_pass MESSAGE: the closing line of a passing test.
e2e_pass() { printf 'PASS: %s: %s\n' "$SG_E2E_NAME" "$*"; }

# e2e_assert_eq EXPECTED ACTUAL MESSAGE: exact string equality.
e2e_assert_eq() {
	if [[ "$2" == "$1" ]]; then
		printf 'ok - %s\n' "$3"
		return 0
	fi
	printf 'FAIL: %s: %s\n  expected: %q\n  actual:   %q\n' "$SG_E2E_NAME" "$3" "$1" "$2" >&2
	exit 1
}

# e2e_assert_contains HAYSTACK NEEDLE MESSAGE: NEEDLE is a fixed substring of HAYSTACK.
e2e_assert_contains() {
	if [[ "$1" == *"$2"* ]]; then
		printf 'ok - %s\n' "$3"
		return 0
	fi
	printf 'FAIL: %s: %s\n  missing: %q\n  in (first 40 lines):\n' "$SG_E2E_NAME" "$3" "$2" >&2
	head -n 40 <<<"$1" | sed 's/^/    | /' >&2
	exit 1
}

# e2e_assert_not_contains HAYSTACK NEEDLE MESSAGE
e2e_assert_not_contains() {
	if [[ "$1" != *"$2"* ]]; then
		printf 'ok - %s\n' "$3"
		return 0
	fi
	printf 'FAIL: %s: %s\n  unexpected: %q\n  in (first 40 lines):\n' "$SG_E2E_NAME" "$3" "$2" >&2
	head -n 40 <<<"$1" | sed 's/^/    | /' >&2
	exit 1
}

# ---- prerequisites ----------------------------------------------------------------------

# e2e_require_root: skip (77) unless root and able to create network namespaces.
e2e_require_root() {
	[ "$(id -u)" -eq 0 ] || e2e_skip "needs root (network namespaces)"
	command -v ip >/dev/null 2>&1 || e2e_skip "needs iproute2 (ip)"
	ip netns list >/dev/null 2>&1 || e2e_skip "'ip netns' unavailable"
	if command -v unshare >/dev/null 2>&1; then
		timeout 10 unshare --net true 2>/dev/null ||
			e2e_skip "cannot create network namespaces (unshare --net failed)"
	fi
}

# e2e_require_cmd CMD...: skip (77) when a tool is missing.
e2e_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			e2e_skip "needs $c (scripts/install-deps.sh installs it)"
	done
}

# e2e_tmpdir [NAME]: print the test's scratch directory, or a subdirectory NAME of it
# (created). Removed by cleanup.
e2e_tmpdir() {
	if [ $# -eq 0 ]; then
		printf '%s\n' "$SG_E2E_TMP"
		return 0
	fi
	mkdir -p "$SG_E2E_TMP/$1"
	printf '%s\n' "$SG_E2E_TMP/$1"
}

# ---- small helpers ----------------------------------------------------------------------

# e2e_hostport IP PORT: "IP:PORT", with brackets for IPv6 ("[fd00:5ca1::2:2]:443").
e2e_hostport() {
	if [[ "$1" == *:* ]]; then
		printf '[%s]:%s\n' "$1" "$2"
	else
		printf '%s:%s\n' "$1" "$2"
	fi
}

# e2e_exec NS CMD...: run CMD in namespace NS, bounded by SG_E2E_CMD_TIMEOUT seconds.
e2e_exec() {
	local ns=$1
	shift
	timeout --kill-after=5 "$SG_E2E_CMD_TIMEOUT" ip netns exec "$ns" "$@"
}

# e2e_poll TIMEOUT_S CMD...: run CMD every 0.1 s until it succeeds, at most TIMEOUT_S*10
# times and TIMEOUT_S seconds. CMD must bound itself (wrap it in timeout). Returns 1 when
# it never succeeded. This is readiness polling, not a sleep used as synchronisation.
e2e_poll() {
	local t=$1 i n deadline
	shift
	n=$((t * 10))
	deadline=$((SECONDS + t + 1))
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.1
	done
	return 1
}

# e2e_track_pid PID...: have cleanup stop these processes.
e2e_track_pid() { SG_E2E_PIDS+=("$@"); }

# e2e_on_cleanup CMD...: run CMD (one word list, eval'd) at cleanup, last added first.
e2e_on_cleanup() { SG_E2E_HOOKS+=("$*"); }

# e2e_bg NS LOGFILE CMD...: start CMD in namespace NS in the background, stdout and
# stderr to LOGFILE; its pid is tracked and left in E2E_BG_PID (ip netns exec execs,
# so this is CMD's own pid). Do not call in $(...).
e2e_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	E2E_BG_PID=$!
	e2e_track_pid "$E2E_BG_PID"
}

# e2e_alive PID: the process exists and is not a zombie.
e2e_alive() {
	local st
	st=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# Stop PIDs: TERM, bounded wait, KILL, bounded wait, reap our children.
e2e__stop_pids() {
	local p i left
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		left=0
		for p in "$@"; do e2e_alive "$p" && left=1; done
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	for p in "$@"; do
		e2e_alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	for ((i = 0; i < 20; i++)); do
		left=0
		for p in "$@"; do e2e_alive "$p" && left=1; done
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	for p in "$@"; do
		e2e_alive "$p" || wait "$p" 2>/dev/null
	done
	return 0
}

# ---- topology ---------------------------------------------------------------------------

# e2e_topology_up: create the three namespaces and the two veth links with IPv4 and IPv6,
# lo up, routes between client and backend via the gateway, forwarding off on the gateway
# (so a proxy on it is the only path until e2e_gw_forwarding on), DAD disabled.
e2e_topology_up() {
	local ns
	for ns in "$SG_NS_CLI" "$SG_NS_GW" "$SG_NS_BE"; do
		e2e_netns_add "$ns"
	done

	ip -n "$SG_NS_CLI" link add "$CLI_IF" type veth peer name "$GW_IF_CLI" netns "$SG_NS_GW"
	ip -n "$SG_NS_BE" link add "$BE_IF" type veth peer name "$GW_IF_BE" netns "$SG_NS_GW"

	e2e__addr "$SG_NS_CLI" "$CLI_IF" "$CLI_IP/24" "$CLI_IP6/112"
	e2e__addr "$SG_NS_GW" "$GW_IF_CLI" "$GW_IP_CLI/24" "$GW_IP6_CLI/112"
	e2e__addr "$SG_NS_GW" "$GW_IF_BE" "$GW_IP_BE/24" "$GW_IP6_BE/112"
	e2e__addr "$SG_NS_BE" "$BE_IF" "$BE_IP/24" "$BE_IP6/112"

	# Only the far link is routed, through the gateway; no default routes anywhere.
	ip -n "$SG_NS_CLI" route add "$SG_NET_BE" via "$GW_IP_CLI" dev "$CLI_IF"
	ip -n "$SG_NS_CLI" -6 route add "$SG_NET6_BE" via "$GW_IP6_CLI" dev "$CLI_IF"
	ip -n "$SG_NS_BE" route add "$SG_NET_CLI" via "$GW_IP_BE" dev "$BE_IF"
	ip -n "$SG_NS_BE" -6 route add "$SG_NET6_CLI" via "$GW_IP6_BE" dev "$BE_IF"

	for ns in "$SG_NS_CLI" "$SG_NS_GW" "$SG_NS_BE"; do
		e2e_poll 10 e2e__addrs_ready "$ns" ||
			e2e_fail "addresses in $ns not ready: $(ip -n "$ns" addr 2>&1)"
	done
	e2e_log "topology up: $SG_NS_CLI ($CLI_IP, $CLI_IP6) - $SG_NS_GW" \
		"($GW_IP_CLI, $GW_IP6_CLI | $GW_IP_BE, $GW_IP6_BE) - $SG_NS_BE ($BE_IP, $BE_IP6)"
}

# e2e_netns_add NS: one more namespace (name it sg$$-...), lo up, forwarding off, DAD off;
# cleanup stops what runs in it and deletes it. Do not call in $(...).
e2e_netns_add() {
	ip netns add "$1" || e2e_fail "ip netns add $1"
	SG_E2E_NS_MADE+=("$1")
	ip -n "$1" link set lo up
	# Before the veths exist, so that their link-local addresses skip DAD too.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=0 \
		net.ipv6.conf.all.forwarding=0 >/dev/null
}

# e2e__addr NS IF V4/LEN V6/LEN: address the interface and bring it up.
e2e__addr() {
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" -6 addr add "$4" dev "$2" nodad
	ip -n "$1" link set "$2" up
}

# No tentative IPv6 address, and every non-lo link has carrier.
e2e__addrs_ready() {
	[ -z "$(ip -n "$1" -6 addr show tentative 2>/dev/null)" ] || return 1
	! ip -n "$1" -o link show 2>/dev/null | grep -v ' lo:' | grep -q 'NO-CARRIER'
}

# e2e_gw_forwarding on|off: IPv4 and IPv6 forwarding on the gateway.
e2e_gw_forwarding() {
	local v
	case $1 in
	on) v=1 ;;
	off) v=0 ;;
	*) e2e_fail "e2e_gw_forwarding: expected on|off, got '$1'" ;;
	esac
	ip netns exec "$SG_NS_GW" sysctl -qw net.ipv4.ip_forward=$v \
		net.ipv6.conf.all.forwarding=$v >/dev/null
	if [ "$(ip netns exec "$SG_NS_GW" sysctl -n net.ipv4.ip_forward)" != "$v" ] ||
		[ "$(ip netns exec "$SG_NS_GW" sysctl -n net.ipv6.conf.all.forwarding)" != "$v" ]; then
		e2e_fail "gateway forwarding did not switch $1"
	fi
	e2e_log "gateway forwarding $1"
}

# e2e_hosts_file NS NAME IP: NAME resolves to IP for processes started in NS afterwards
# (ip netns exec bind-mounts /etc/netns/NS/hosts over /etc/hosts). Removed by cleanup.
e2e_hosts_file() {
	local ns=$1 name=$2 ip=$3 f=/etc/netns/$1/hosts
	mkdir -p "/etc/netns/$ns" || mkdir -p "/etc/netns/$ns" ||
		e2e_fail "cannot create /etc/netns/$ns"
	if [ ! -e "$f" ]; then
		printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$f"
	fi
	printf '%s\t%s\n' "$ip" "$name" >>"$f"
}

# e2e_resolv_conf NS SERVER [LINE]: processes started in NS afterwards ask DNS SERVER (ip
# netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf); LINE, such
# as "options timeout:1", is added. Removed by cleanup.
e2e_resolv_conf() {
	mkdir -p "/etc/netns/$1" || e2e_fail "cannot create /etc/netns/$1"
	printf 'nameserver %s\n%s\n' "$2" "${3:-}" >"/etc/netns/$1/resolv.conf"
}

# e2e_wait_port NS IP PORT [TIMEOUT_S]: wait until a TCP connect to IP:PORT from NS
# succeeds (default 10 s). Returns 1 on timeout.
e2e_wait_port() {
	e2e_poll "${4:-10}" e2e__connect "$1" "$2" "$3"
}

# e2e__connect NS IP PORT: one TCP connect attempt from NS (closed at once), at most 2 s.
e2e__connect() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 ip netns exec "$1" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$2" "$3" 2>/dev/null
}

# e2e__listens NS PID IP PORT: process PID holds a TCP listener on IP:PORT in NS.
e2e__listens() {
	timeout 5 ip netns exec "$1" ss -Hltnp "sport = :$4" 2>/dev/null |
		grep -F " $(e2e_hostport "$3" "$4") " | grep -q -F "pid=$2,"
}

# ---- the user's scenario ----------------------------------------------------------------

# e2e_certs [DIR]: run the user's gen-certs.sh in DIR (default $SG_E2E_CERTS) unless its
# outputs are already there. Output of openssl goes to DIR/gen-certs.log.
e2e_certs() {
	local dir=${1:-$SG_E2E_CERTS}
	mkdir -p "$dir"
	if [ -s "$dir/aliyun.root.crt" ] && [ -s "$dir/sample.aliyun.com.crt" ] &&
		[ -s "$dir/sample.aliyun.com.key" ]; then
		return 0
	fi
	if ! (cd "$dir" && timeout 120 sh "$SG_SCENARIO_DIR/gen-certs.sh") \
		>"$dir/gen-certs.log" 2>&1; then
		cat "$dir/gen-certs.log" >&2
		e2e_fail "the user's gen-certs.sh failed in $dir"
	fi
}

# e2e_nginx_backend NS IPS PORT DIR: start the user's NGINX (tests/data/scenario/
# mynginx.conf) in NS and wait until it accepts connections. IPS is one address or a
# comma-separated list (e.g. "$BE_IP,$BE_IP6"): the copy in DIR/mynginx.conf differs from
# the user's only in "listen 443 ssl;" (one "listen IP:PORT ssl;" per address), the
# certificate directory (DIR/certs/tls.crt and tls.key, copies of sample.aliyun.com.crt
# and .key, as the user's Kubernetes secret mounts them) and the log directory (DIR/logs).
# pid file DIR/nginx.pid and "daemon off" go on the command line (-g). Access log:
# DIR/logs/access.log. Leaves the master's pid in E2E_BG_PID; do not call in $(...).
e2e_nginx_backend() {
	local ns=$1 ips=$2 port=$3 dir=$4 ip listen="" conf i up=0
	local -a addrs
	mkdir -p "$dir/certs" "$dir/logs"
	e2e_certs "$SG_E2E_CERTS"
	cp "$SG_E2E_CERTS/sample.aliyun.com.crt" "$dir/certs/tls.crt"
	cp "$SG_E2E_CERTS/sample.aliyun.com.key" "$dir/certs/tls.key"

	IFS=, read -r -a addrs <<<"$ips"
	for ip in "${addrs[@]}"; do
		listen+="${listen:+\\n\\1}listen $(e2e_hostport "$ip" "$port") ssl;"
	done
	conf=$dir/mynginx.conf
	sed -e "s#/etc/nginx-server-certs/#$dir/certs/#g" \
		-e "s#/var/log/nginx/#$dir/logs/#g" \
		-e "s#^\([[:space:]]*\)listen 443 ssl;#\1$listen#" \
		"$SG_SCENARIO_DIR/mynginx.conf" >"$conf"
	# Guard the rewrite: if the user's file changes shape, fail here, not mysteriously.
	if grep -q -e /etc/nginx-server-certs -e /var/log/nginx -e 'listen 443 ssl;' "$conf" ||
		[ "$(grep -c "listen .*:$port ssl;" "$conf")" -ne "${#addrs[@]}" ] ||
		! diff <(grep -v -e listen -e ssl_certificate -e _log "$SG_SCENARIO_DIR/mynginx.conf") \
			<(grep -v -e listen -e ssl_certificate -e _log "$conf") >/dev/null; then
		diff -u "$SG_SCENARIO_DIR/mynginx.conf" "$conf" >&2
		e2e_fail "rewriting mynginx.conf changed more (or less) than listen/cert/log paths"
	fi

	local g="daemon off; pid $dir/nginx.pid;"
	e2e_exec "$ns" nginx -t -q -c "$conf" -p "$dir" -g "$g" >"$dir/nginx-t.log" 2>&1 || {
		cat "$dir/nginx-t.log" >&2
		e2e_fail "nginx -t rejected $conf"
	}
	e2e_bg "$ns" "$dir/nginx.stderr" nginx -c "$conf" -p "$dir" -g "$g"
	# Readiness: this nginx (not some other listener) holds every address and it accepts;
	# fail fast, with nginx's words, if it died (a busy port makes it exit after retries).
	for ((i = 0; i < 100; i++)); do
		e2e_alive "$E2E_BG_PID" ||
			e2e_fail "nginx in $ns exited at start (see $dir/nginx.stderr below)"
		up=1
		for ip in "${addrs[@]}"; do
			if ! e2e__listens "$ns" "$E2E_BG_PID" "$ip" "$port" ||
				! e2e__connect "$ns" "$ip" "$port"; then
				up=0
				break
			fi
		done
		[ "$up" -eq 1 ] && break
		sleep 0.1
	done
	[ "$up" -eq 1 ] || e2e_fail "nginx in $ns does not accept on $ips port $port"
	e2e_log "nginx backend in $ns on $ips port $port (pid $E2E_BG_PID, $dir)"
}

# ---- a ConfigMap volume -----------------------------------------------------------------

# e2e_configmap_publish DIR TIMESTAMP PAYLOAD_DIR: lay out or update DIR as the kubelet's
# AtomicWriter does a ConfigMap volume: the files of PAYLOAD_DIR (the ConfigMap's keys) go
# into a new hidden directory DIR/..TIMESTAMP, a "..data_tmp" symlink to it is renamed
# over "..data", each key is a visible symlink through "..data" (made once, never
# changed), and the previous timestamped directory is removed.
e2e_configmap_publish() {
	local dir=$1 ts=..$2 src=$3 old='' f
	[ -L "$dir/..data" ] && old=$(readlink "$dir/..data")
	mkdir "$dir/$ts"
	cp "$src"/* "$dir/$ts/"
	ln -s "$ts" "$dir/..data_tmp"
	mv -T "$dir/..data_tmp" "$dir/..data"
	for f in "$dir/$ts"/*; do
		f=${f##*/}
		[ -L "$dir/$f" ] || ln -s "..data/$f" "$dir/$f"
	done
	if [ -n "$old" ]; then rm -rf "${dir:?}/$old"; fi
}

# ---- cleanup ----------------------------------------------------------------------------

e2e__dump_logs() {
	local f
	while IFS= read -r f; do
		printf -- '--- %s (last 20 lines)\n' "$f" >&2
		tail -n 20 "$f" | sed 's/^/    | /' >&2
	done < <(find "$SG_E2E_TMP" -type f -size +0 \( -name '*.log' -o -name '*.stderr' \) ! -name gen-certs.log \
		2>/dev/null | sort)
}

# cleanup: stop everything the test started, delete its namespaces, /etc/netns entries
# and scratch directory. Idempotent; installed on EXIT (and INT/TERM/HUP exit through it).
# SG_E2E_KEEP=1 keeps it all for debugging and prints how to remove it.
cleanup() {
	local rc=$? ns i pids
	set +e
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -d "$SG_E2E_TMP" ]; then
		e2e__dump_logs
	fi
	if [ "${SG_E2E_KEEP:-0}" = 1 ]; then
		[ -n "${SG_E2E_KEPT:-}" ] && return "$rc"
		SG_E2E_KEPT=1
		e2e_log "SG_E2E_KEEP=1: kept namespaces ${SG_E2E_NS_MADE[*]:-none}," \
			"pids ${SG_E2E_PIDS[*]:-none}, files in $SG_E2E_TMP. Remove with:"
		# shellcheck disable=SC2016 # a command for the user to paste
		printf '  for ns in %s; do ip netns pids $ns | xargs -r kill; ip netns del $ns;' \
			"${SG_E2E_NS_MADE[*]:-}" >&2
		# shellcheck disable=SC2016
		printf ' rm -rf /etc/netns/$ns; done; rmdir /etc/netns; rm -rf %s\n' "$SG_E2E_TMP" >&2
		return "$rc"
	fi

	for ((i = ${#SG_E2E_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${SG_E2E_HOOKS[i]}"
	done
	SG_E2E_HOOKS=()

	e2e__stop_pids "${SG_E2E_PIDS[@]}"
	SG_E2E_PIDS=()

	for ns in "$SG_NS_CLI" "$SG_NS_GW" "$SG_NS_BE" "${SG_E2E_NS_MADE[@]}"; do
		if [ -e "/run/netns/$ns" ]; then
			# Whatever is still inside (nginx workers, children) was started by us.
			pids=$(ip netns pids "$ns" 2>/dev/null)
			# shellcheck disable=SC2086
			[ -n "$pids" ] && e2e__stop_pids $pids
			ip netns delete "$ns" 2>/dev/null || e2e_log "cleanup: ip netns delete $ns failed"
		fi
		rm -rf "/etc/netns/$ns"
	done
	SG_E2E_NS_MADE=()
	[ "$SG_E2E_ETC_NETNS_EXISTED" = 1 ] || rmdir /etc/netns 2>/dev/null
	[ -d "$SG_E2E_TMP" ] && rm -rf "$SG_E2E_TMP"
	return "$rc"
}

trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- sockgated under test ------------------------------------------------------------------

# e2e_sockgate_env: sets ROOT, SOCKGATED, SGFLOW and HELLOS for tests that run the agent
# and the traffic tool, and fails clearly when they are not built.
e2e_sockgate_env() {
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	SOCKGATED=$ROOT/build/sockgated
	SGFLOW=$ROOT/build/test/sgflow
	HELLOS=$ROOT/tests/data/clienthellos
	local b
	for b in "$SOCKGATED" "$SGFLOW"; do
		[ -x "$b" ] || e2e_fail "$b not built (run make test)"
	done
}

# e2e_bpffs: mounts a bpffs of the test's own (visible from every namespace, so pinned
# maps can be inspected) and sets BPFFS to a directory in it; exports SOCKGATE_CONTROL,
# the control socket of the test's agent. Do not call in $(...).
e2e_bpffs() {
	local mnt
	mnt=$(e2e_tmpdir bpffs)
	mount -t bpf bpf "$mnt" || e2e_fail "cannot mount bpffs on $mnt"
	e2e_on_cleanup "umount $mnt"
	BPFFS=$mnt/sockgate
	# The agent's control socket, and the CLI's default, for this test alone.
	export SOCKGATE_CONTROL=$SG_E2E_TMP/control.sock
}

# e2e_sgflow_server LOG PORT HELLO [SGFLOW SERVER OPTIONS...]: a checksumming backend on
# BE_IP:PORT that expects exactly HELLO first; waits until it listens. Not in $(...).
e2e_sgflow_server() {
	local log=$1 port=$2 hello=$3
	shift 3
	e2e_bg "$SG_NS_BE" "$log" "$SGFLOW" server "$BE_IP" "$port" --hello "$hello" "$@"
	e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP" "$port" ||
		e2e_fail "sgflow server on $BE_IP:$port did not start: $(cat "$log")"
}

# e2e_routed HELLO [PORT]: a small checked flow opened with HELLO through the gateway
# (GW_IP_CLI:PORT, default 443) completes. e2e_refused HELLO [PORT]: the gateway closes a
# connection opening with HELLO without an answer.
e2e_routed() {
	e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" "${2:-443}" --hello "$1" --up 64K \
		--down 64K --seed "$RANDOM" 2>/dev/null | grep -q '1 ok, 0 failed'
}
e2e_refused() {
	e2e_exec "$SG_NS_CLI" "$SGFLOW" replay "$GW_IP_CLI" "${2:-443}" "$1" --wait 5 |
		grep -Eq 'received=0 end=(eof|reset)'
}
