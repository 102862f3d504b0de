#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Every pair ends (issue #14, item 3). Clients that send a valid ClientHello and then
# nothing, to a backend that waits for more, are closed at the route's idle_timeout with
# end=idle_timeout, through sockmap, the splice(2) relay and the user-space copy, while a pair that
# moves one byte every 500 ms on the same route stays open. max_connection_duration ends
# that busy pair with a reset and end=max_connection_duration. Keepalive is on both legs
# of a pair (ss -tieo shows its timer), with the route's time, and a client that vanishes
# without a FIN (its packets dropped) is found by it: the pair ends with end=client_error
# on a route whose idle_timeout is off.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3 ss nft
e2e_sockgate_env
HOLD=$ROOT/tests/tools/hold_conns.py
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com
IDLE_CONNS=20
export SG_E2E_CMD_TIMEOUT=40

e2e_topology_up
e2e_bpffs
e2e_bg "$SG_NS_BE" "$(e2e_tmpdir)/sink.log" python3 "$HOLD" sink "$BE_IP" 9000
e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP" 9000 || e2e_fail "no sink backend"

cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
  - name: dur
    address: "$GW_IP_CLI:8443"
  - name: ka
    address: "$GW_IP_CLI:9443"
routes:
  - name: idle
    listeners: [tls]
    sni: [sample.aliyun.com]
    idle_timeout: 2s
    keepalive_time: 17s
    keepalive_interval: 3s
    keepalive_probes: 2
    tcp_user_timeout: 20s
    backends:
      - address: "$BE_IP:9000"
  - name: capped
    listeners: [dur]
    sni: [sample.aliyun.com]
    idle_timeout: 0s
    max_connection_duration: 2s
    backends:
      - address: "$BE_IP:9000"
  - name: probe
    listeners: [ka]
    sni: [sample.aliyun.com]
    idle_timeout: 0s
    keepalive_time: 1s
    keepalive_interval: 1s
    keepalive_probes: 2
    tcp_user_timeout: 3s
    backends:
      - address: "$BE_IP:9000"
YAML

# start_agent LOG ARGS...: sockgated on the configuration above; waits for its listeners.
start_agent() {
	local log=$1
	shift
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" "$@"
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$E2E_BG_PID" "$GW_IP_CLI" 8443 ||
		e2e_fail "no listener: $(cat "$log")"
}

# hold OUT PORT ARGS...: hold_conns.py client from the client namespace, output to OUT.
hold() {
	local out=$1 port=$2
	shift 2
	e2e_exec "$SG_NS_CLI" python3 "$HOLD" client "$GW_IP_CLI" "$port" "$HELLO" "$@" >"$out"
}

# idle_and_drip NAME LOG: 20 idle clients and one that drips a byte every 500 ms, at once
# on the idle route (idle_timeout 2s); the idle ones end, the dripping one does not.
idle_and_drip() {
	local name=$1 log=$2 dir idle drip n
	dir=$(e2e_tmpdir "$name")
	hold "$dir/idle" 443 --conns "$IDLE_CONNS" --hold 12 --tag idle: &
	local idle_pid=$!
	hold "$dir/drip" 443 --conns 1 --hold 7 --drip 500 --tag drip: &
	local drip_pid=$!
	if [ "$name" = sockmap ]; then
		# Both legs of every pair carry the route's keepalive (17 s to the first probe).
		e2e_poll 5 bash -c "[ \$(timeout 5 ip netns exec $SG_NS_GW ss -Htieo state established \
			'( dport = :9000 )' 2>/dev/null | grep -c 'timer:(keepalive,1[0-7]') -ge $IDLE_CONNS ]" ||
			e2e_fail "backend legs without keepalive: $(ip netns exec "$SG_NS_GW" ss -tieo)"
		e2e_poll 5 bash -c "[ \$(timeout 5 ip netns exec $SG_NS_GW ss -Htieo state established \
			'( sport = :443 )' 2>/dev/null | grep -c 'timer:(keepalive,1[0-7]') -ge $IDLE_CONNS ]" ||
			e2e_fail "client legs without keepalive: $(ip netns exec "$SG_NS_GW" ss -tieo)"
		printf 'ok - %s: keepalive with the route'"'"'s time on both legs (ss -tieo)\n' "$name"
	fi
	wait "$idle_pid" || e2e_fail "$name: idle clients failed: $(cat "$dir/idle")"
	wait "$drip_pid" || e2e_fail "$name: dripping client failed: $(cat "$dir/drip")"
	idle=$(cat "$dir/idle")
	drip=$(cat "$dir/drip")
	e2e_assert_contains "$idle" "idle: open=0 " "$name: all $IDLE_CONNS idle pairs were closed"
	# 2 s idle, swept every 250 ms, at most an eighth late: well inside 6 s.
	awk '{split($5, a, "="); exit !(a[2] < 6)}' <<<"$idle" ||
		e2e_fail "$name: idle pairs closed late: $idle"
	e2e_assert_contains "$drip" "drip: open=1 " "$name: a pair moving a byte every 500 ms stays open"
	n=$(grep -c "^access .*route=idle .*dataplane=$name .*end=idle_timeout" "$log" || true)
	e2e_assert_eq "$IDLE_CONNS" "$n" "$name: $IDLE_CONNS access lines with end=idle_timeout"
	# The dripping pair: the one whose client sent more than its hello (275 bytes).
	dripped() { grep "^access .*route=idle .*dataplane=$name " "$log" | grep -v ' bytes_up=275 '; }
	e2e_poll 5 dripped >/dev/null ||
		e2e_fail "$name: no access line of the dripping pair: $(grep '^access' "$log" | tail -3)"
	e2e_assert_contains "$(dripped)" " end=eof" "$name: the dripping pair ended with its client"
}

log=$(e2e_tmpdir)/sockgated.log
start_agent "$log" --dataplane sockmap --bpffs "$BPFFS"
grep -q 'dataplane: sockmap' "$log" || e2e_fail "sockmap dataplane expected: $(cat "$log")"
idle_and_drip sockmap "$log"

# max_connection_duration ends a busy pair: a reset, at about 2 s.
out=$(e2e_tmpdir)/capped
hold "$out" 8443 --conns 1 --hold 8 --drip 500 --tag capped:
e2e_assert_contains "$(cat "$out")" "capped: open=0 eof=0 reset=1" \
	"max_connection_duration resets a busy pair"
e2e_poll 5 grep -q '^access .*route=capped .*end=max_connection_duration' "$log" ||
	e2e_fail "no end=max_connection_duration line: $(grep '^access' "$log" | tail -3)"
printf 'ok - end=max_connection_duration in the access log\n'

# A client that vanishes without a FIN: once the pair is up, the client namespace drops
# every packet of it, both ways. Keepalive (1 s, then 2 probes 1 s apart) and the 3 s
# user timeout make the gateway's leg fail; the pair ends through the error path.
hold "$(e2e_tmpdir)/vanished" 9443 --conns 1 --hold 15 --tag vanished: &
vanished=$!
e2e_poll 5 bash -c "timeout 5 ip netns exec $SG_NS_GW ss -Htn state established \
	'( sport = :9443 )' 2>/dev/null | grep -q ." || e2e_fail "the probe pair did not open"
ip netns exec "$SG_NS_CLI" nft -f - <<'NFT' || e2e_fail "nft rules"
table inet sg_vanish {
	chain in { type filter hook input priority 0; tcp sport 9443 drop; }
	chain out { type filter hook output priority 0; tcp dport 9443 drop; }
}
NFT
e2e_poll 15 grep -q '^access .*route=probe .*end=client_error' "$log" ||
	e2e_fail "the vanished client's pair did not end: $(grep '^access .*route=probe' "$log")"
printf 'ok - keepalive ends the pair of a client gone without a FIN (end=client_error)\n'
wait "$vanished" || true
e2e__stop_pids "$E2E_BG_PID"

log=$(e2e_tmpdir)/sockgated-splice.log
start_agent "$log" --dataplane splice --bpffs "$BPFFS"
idle_and_drip splice "$log"
e2e__stop_pids "$E2E_BG_PID"

# The user-space copy, never promoted: idleness is judged from its own counters.
log=$(e2e_tmpdir)/sockgated-copy.log
start_agent "$log" --dataplane copy --bpffs "$BPFFS"
idle_and_drip copy "$log"

e2e_pass "idle pairs end at idle_timeout on every dataplane, busy ones do not;" \
	"max_connection_duration; keepalive on both legs"
