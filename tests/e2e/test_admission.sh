#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Admission control: no client can make the agent spin or refuse its operator.
# - Under an fd limit of 256 (prlimit), 400 idle connections: the agent stays under 25%
#   of a CPU (it spun at 100% on failed accepts before), `sockgate status` answers, a
#   legitimate client is served (the oldest idle connection is evicted for it), and the
#   refusals are counted (reason max_connections, evictions as hello_evicted).
# - The same with --max-connections 1000, more than 256 descriptors allow: accept()
#   fails with EMFILE, the listener is paused instead of spinning, the control socket
#   still answers (its spare descriptor), and the failures are counted (accept_error).
# - --max-connections-per-source 8 resets the 9th and 10th connections of one client;
#   max_pending_hellos 3 resets the 4th to 6th idle connections on that listener, and a
#   legitimate client arriving a second later takes the oldest one's place.
# These listeners turn deferred accept off (defer_accept: 0s), as the limits above are the
# agent's own; with it on (the default), idle connections first wait in the kernel:
# - defer_accept 3s: 5 connections that send nothing are not accepted for a second (the
#   agent counts none), while a client with a hello is served at once.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl python3 prlimit
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
TOOL=$ROOT/tests/tools/hello_client.py
HELLO=$HELLOS/crafted-baseline.bin
IDLE=400
CPU_MAX_PCT=25

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO"
cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
    defer_accept: 0s
  - name: small
    address: "$GW_IP_CLI:8443"
    max_pending_hellos: 3
    defer_accept: 0s
  - name: deferred
    address: "$GW_IP_CLI:9443"
    defer_accept: 3s
routes:
  - name: r
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML

scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
value() { awk -v k="$2" '$1 == k {print $2; found = 1} END {if (!found) print 0}' <<<"$1"; }
refused() { value "$1" "sockgate_connections_refused_total{reason=\"$2\"}"; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
status_ok() { timeout 2 "$SOCKGATE" status >/dev/null 2>&1; }
# A legitimate client, served within 3 s (not after the flood is over).
served() {
	e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" "${1:-443}" --hello "$HELLO" --up 64K \
		--down 64K --timeout 3 2>/dev/null | grep -q '1 ok, 0 failed'
}
# The idle client has not let go of its connections yet.
still_held() { ! grep -qs held= "$tmp/hold.out"; }

# start LOG ARGS...: the agent under an fd limit of 256; sets pid.
start() {
	local log=$1
	shift
	e2e_bg "$SG_NS_GW" "$log" prlimit --nofile=256:256 "$SOCKGATED" --config "$cfg" \
		--bpffs "$BPFFS" --metrics 127.0.0.1:9100 "$@"
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 9100 || e2e_fail "no agent: $(cat "$log")"
}
stop() {
	kill -TERM "$pid"
	wait "$pid" || e2e_fail "sockgated exit status"
}

# flood LABEL: IDLE idle connections held 9 s; checks CPU, status and a client meanwhile.
flood() {
	local c0 cpu pct hold_pid
	e2e_exec "$SG_NS_CLI" python3 "$TOOL" hold "$GW_IP_CLI" 443 "$IDLE" 9 >"$tmp/hold.out" 2>&1 &
	hold_pid=$!
	e2e_track_pid "$hold_pid"
	e2e_poll 20 grep -qs connected= "$tmp/hold.out" ||
		e2e_fail "$1: the idle connections were not opened"
	sleep 1.5 # past CONN_EVICT_MIN_MS: the idle connections may now make room
	c0=$(cpu_ms "$pid")
	sleep 3
	cpu=$(($(cpu_ms "$pid") - c0))
	pct=$((cpu / 30))
	e2e_log "$1: agent CPU ${cpu} ms in 3 s (${pct}%) with $IDLE idle connections"
	[ "$pct" -lt "$CPU_MAX_PCT" ] || e2e_fail "$1: agent at ${pct}% of a CPU"
	printf 'ok - %s: agent at %d%% of a CPU with %d idle connections\n' "$1" "$pct" "$IDLE"
	status_ok || e2e_fail "$1: sockgate status does not answer"
	printf 'ok - %s: sockgate status answers\n' "$1"
	FLOOD_ROUTED=0
	served && FLOOD_ROUTED=1
	still_held || e2e_fail "$1: the idle connections were gone before the checks ended"
	wait "$hold_pid" || e2e_fail "$1: idle client: $(cat "$tmp/hold.out")"
	e2e_log "$1: idle client: $(cat "$tmp/hold.out")"
}

# 1. The issue's experiment: the limit derived from the fd limit.
start "$tmp/sockgated.1.log"
flood "derived limit"
e2e_assert_eq 1 "$FLOOD_ROUTED" "derived limit: a legitimate client is served during the flood"
e2e_poll 10 sh -c "[ \$(ls /proc/$pid/fd | wc -l) -lt 100 ]" || e2e_fail "idle connections left"
m=$(scrape)
e2e_assert_eq 96 "$(value "$m" sockgate_connections_max)" "derived limit: (256 - 64) / 2"
n=$(refused "$m" max_connections)
[ "$n" -ge $((IDLE - 96)) ] || e2e_fail "derived limit: $n refusals counted"
printf 'ok - derived limit: %d refusals counted (reason max_connections)\n' "$n"
e2e_log "derived limit: refused max_connections=$n accept_error=$(refused "$m" accept_error)" \
	"hello_evicted=$(value "$m" 'sockgate_connections_total{result="hello_evicted"}')"
[ "$(value "$m" 'sockgate_connections_total{result="hello_evicted"}')" -ge 1 ] ||
	e2e_fail "derived limit: no idle connection evicted for the client"
grep -q '^access .*end=hello_evicted' "$tmp/sockgated.1.log" ||
	e2e_fail "no access line with end=hello_evicted"
printf 'ok - derived limit: the oldest idle connection made room (end=hello_evicted)\n'
stop

# 2. A limit above what the descriptors allow: EMFILE pauses the listener.
start "$tmp/sockgated.2.log" --max-connections 1000
flood "EMFILE"
e2e_poll 10 sh -c "[ \$(ls /proc/$pid/fd | wc -l) -lt 100 ]" || e2e_fail "idle connections left"
m=$(scrape)
n=$(refused "$m" accept_error)
[ "$n" -ge 1 ] || e2e_fail "EMFILE: no accept_error counted"
printf 'ok - EMFILE: %d paused accepts counted (reason accept_error)\n' "$n"
e2e_routed "$HELLO" || e2e_fail "EMFILE: no client served once the idle ones left"
printf 'ok - EMFILE: clients are served again once descriptors are free\n'
stop

# 3. Per source and per listener.
start "$tmp/sockgated.3.log" --max-connections-per-source 8
out=$(e2e_exec "$SG_NS_CLI" python3 "$TOOL" hold "$GW_IP_CLI" 443 10 1)
e2e_assert_contains "$out" "reset=2" "per source: the 9th and 10th connections are reset"
m=$(scrape)
e2e_assert_eq 2 "$(refused "$m" per_source)" "per source: 2 refusals counted"
e2e_exec "$SG_NS_CLI" python3 "$TOOL" hold "$GW_IP_CLI" 8443 6 4 >"$tmp/hold.out" 2>&1 &
hold_pid=$!
e2e_track_pid "$hold_pid"
e2e_poll 10 grep -qs connected= "$tmp/hold.out" || e2e_fail "pending hellos: not connected"
sleep 1.5 # past CONN_EVICT_MIN_MS
served 8443 || e2e_fail "pending hellos: the client was not served"
still_held || e2e_fail "pending hellos: the idle connections were gone before the client"
wait "$hold_pid" || e2e_fail "pending hellos: idle client: $(cat "$tmp/hold.out")"
e2e_assert_contains "$(cat "$tmp/hold.out")" "reset=4" \
	"pending hellos: 3 idle connections over the cap reset, 1 evicted for the client"
m=$(scrape)
e2e_assert_eq 4 "$(refused "$m" pending_hellos)" "pending hellos: 4 refusals counted"

# 4. Deferred accept: silent connections stay in the kernel.
accepted() { value "$(scrape)" sockgate_connections_accepted_total; }
before=$(accepted)
e2e_exec "$SG_NS_CLI" python3 "$TOOL" hold "$GW_IP_CLI" 9443 5 2 >"$tmp/deferred.out" 2>&1 &
hold_pid=$!
e2e_track_pid "$hold_pid"
e2e_poll 10 grep -qs connected= "$tmp/deferred.out" || e2e_fail "deferred: not connected"
served 9443 || e2e_fail "deferred: a client with a hello was not served"
sleep 1
e2e_assert_eq $((before + 1)) "$(accepted)" \
	"deferred: only the client with a hello was accepted; 5 silent ones wait in the kernel"
wait "$hold_pid" || true
stop
e2e_pass "admission control keeps the agent, its operator and legitimate clients served"
