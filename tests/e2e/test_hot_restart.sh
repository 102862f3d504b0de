#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Hot restart (docs/OPERATING.md, "Upgrade without dropping connections"): two successive
# upgrades, A -> B -> C, the first a new sockgated started with --takeover, the second
# `sockgate upgrade` (B starts C itself, with its own arguments), while
# - long checksummed streams run through the agent (a set opened through A spans both
#   upgrades, a set opened through B spans the second), promoted to sockmap mid-stream;
# - new checked connections arrive every few milliseconds, from before the first upgrade
#   to after the second (a bounded loop: at most MAX_SHORT clients and LOOP_S seconds).
# Before them, a takeover that fails midway (a listener it cannot bind) leaves A serving,
# its guard program back in place.
# Then: no connection refused or reset and every byte checked (sgflow's result=ok on every
# connection); A and B each handed over, drained and exited within the drain deadline
# without resetting any connection; C serves a new connection, answers on the control
# socket and /metrics (both taken over), told the notify socket MAINPID= and READY=1, and
# the guard's XDP program on the client link is C's (its link taken over, the program
# swapped in place, never detached).
# A runs with the default --workers (one per CPU), B and C with --workers 1: both accept
# paths are held and handed over.
# Twice: with --no-express (long streams promoted to sockmap) and with the default auto
# (promoted to express, whose flows live in pinned maps both agents use: a taken-over
# agent keeps its flows' sockets until they end, and the next one reads which slots are
# in use only once the old one stopped promoting). Express is skipped where the agent
# finds it unavailable.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl python3
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com
export SG_E2E_CMD_TIMEOUT=120
DRAIN_S=60     # --drain-timeout: far above the streams' length, so none is cut
STREAM_S=10    # each long stream sends for this long (--up-rate), reading its reply too
MAX_SHORT=3000 # bound on the short clients the arrival loop starts
LOOP_S=40      # ...and on its duration
METRICS=127.0.0.1:9464

e2e_topology_up
e2e_bpffs
top=$(e2e_tmpdir)
e2e_sgflow_server "$top/server.log" 9000 "$HELLO" --timeout 120
# The long streams' backend replies only after the client's EOF: no direction ends before
# the pair is promoted (a direction that ended is never promoted).
e2e_sgflow_server "$top/server-long.log" 9001 "$HELLO" --timeout 120 --reply-after-eof
cfg=$top/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
  - name: tls6
    address: "[$GW_IP6_CLI]:443"
  - name: long
    address: "$GW_IP_CLI:8443"
routes:
  - name: flows
    listeners: [tls, tls6]
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
  - name: long
    listeners: [long]
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9001"
guard:
  interfaces: [$GW_IF_CLI]
  deny: ["192.0.2.0/24"]
YAML

# A notify socket, as systemd's: one line per datagram, newlines as '|'.
notify=$top/notify.log
python3 - "$top/notify.sock" "$notify" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
while True:
    m = s.recv(4096).decode().replace("\n", "|")
    with open(sys.argv[2], "a") as f:
        f.write(m + "\n")
PY
e2e_track_pid $!
e2e_poll 10 test -e "$notify" || e2e_fail "the notify receiver did not start"
export NOTIFY_SOCKET=$top/notify.sock

# agent NAME ARGS...: starts sockgated NAME in the gateway namespace; pid in E2E_BG_PID.
agent() {
	local name=$1
	shift
	e2e_bg "$SG_NS_GW" "$tmp/$name.log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" \
		--metrics "$METRICS" --drain-timeout "${DRAIN_S}s" "${DP_ARGS[@]}" "$@"
}
status_pid() { "$SOCKGATE" status 2>/dev/null | sed -n 's/^sockgated .* pid \([0-9]*\) .*/\1/p'; }
xdp_id() { ip -n "$SG_NS_GW" -d link show "$GW_IF_CLI" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 "http://$METRICS/metrics"; }
# promoted N: the serving agent promoted at least N pairs (its /metrics).
promoted() {
	local v
	v=$(scrape | awk '$1 == "sockgate_connections_stage_total{stage=\"promoted\"}" {print $2}')
	[ "${v:-0}" -ge "$1" ]
}

# upgrade FROM NAME ARGS...: starts NAME with --takeover and waits until it serves
# (its status answers on the control socket) and FROM has handed over; new pid in NEW.
upgrade() {
	local from=$1 name=$2
	shift 2
	agent "$name" --takeover "$@"
	NEW=$E2E_BG_PID
	e2e_poll 30 grep -q "takeover: done" "$tmp/$name.log" ||
		e2e_fail "$name did not take over: $(cat "$tmp/$name.log")"
	e2e_poll 10 grep -q "taken over: no longer accepting" "$tmp/$from.log" ||
		e2e_fail "$from did not hand over: $(tail -5 "$tmp/$from.log")"
	[ "$(status_pid)" = "$NEW" ] || e2e_fail "the control socket does not answer from $name"
	printf 'ok - %s (pid %s) took over from %s; the control socket is its\n' "$name" "$NEW" "$from"
}

# gone NAME PID STARTED_S: PID exits within the drain deadline of its hand-over (plus
# its exit's own second), having reset nothing.
gone() {
	local left=$((DRAIN_S + 5 - (SECONDS - $3)))
	[ "$left" -gt 0 ] || left=1
	e2e_poll "$left" bash -c "! kill -0 $2 2>/dev/null" ||
		e2e_fail "$1 (pid $2) still runs past its drain deadline"
	e2e_assert_not_contains "$(cat "$tmp/$1.log")" "resetting" "$1 reset no connection"
	e2e_assert_contains "$(cat "$tmp/$1.log")" "stopped:" "$1 exited cleanly"
	printf 'ok - %s (pid %s) drained and exited within the %s s deadline\n' "$1" "$2" "$DRAIN_S"
}

# streams NAME SEED: 6 long checked streams in the background (STREAM_S seconds up, then
# 8 MiB down); output in $tmp/NAME.out.
streams() {
	ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 8443 --hello "$HELLO" --conns 6 \
		--up $((STREAM_S * 512 * 1024)) --up-rate $((512 * 1024)) --down 8M \
		--seed "$2" --timeout 100 >"$tmp/$1.out" 2>&1 &
	e2e_track_pid $!
	eval "${1}_PID=$!"
}

# round NAME PROMOTED DATAPLANE_OPTIONS...: the whole scenario with the agents started
# with DATAPLANE_OPTIONS, in $top/NAME; PROMOTED is the dataplane the long streams are
# promoted to.
round() {
	DP=$1
	PROMOTED=$2
	shift 2
	DP_ARGS=("$@")
	tmp=$(e2e_tmpdir "$DP")
	printf '# %s\n' "${DP_ARGS[*]}"
	agent a
	A=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$A" "$GW_IP_CLI" 443 ||
		e2e_fail "sockgated did not start: $(cat "$tmp/a.log")"
	e2e_poll 10 grep -q "guard: attached to $GW_IF_CLI" "$tmp/a.log" || e2e_fail "no guard: $(cat "$tmp/a.log")"
	if grep -q "express unavailable" "$tmp/a.log"; then
		printf 'ok - %s: skipped, %s\n' "$DP" "$(grep -o 'express unavailable.*' "$tmp/a.log")"
		stop_agent "$A"
		return 0
	fi
	xdp_a=$(xdp_id)
	[ -n "$xdp_a" ] || e2e_fail "no XDP program on $GW_IF_CLI"
	e2e_routed "$HELLO" || e2e_fail "A does not route"

	# The arrival loop: a client every 5 ms (each one connection, 16 KiB each way, its own
	# seed), until told to stop; bounded in count and time whatever happens.
	mkdir -p "$tmp/short"
	# shellcheck disable=SC2016 # the loop's script: its own variables, expanded by its shell
	ip netns exec "$SG_NS_CLI" bash -c '
		i=0; end=$((SECONDS + $7))
		while [ ! -e "$1/stop" ] && [ "$i" -lt "$6" ] && [ "$SECONDS" -lt "$end" ]; do
			if [ $((i % 2)) -eq 0 ]; then ip=$2; else ip=$3; fi
			"$4" client "$ip" 443 --hello "$5" --up 16K --down 16K --seed $((100000 + i)) \
				--timeout 60 >"$1/$i.out" 2>&1 &
			i=$((i + 1))
			sleep 0.005
		done
		wait
		echo "$i" >"$1/count"' _ "$tmp/short" "$GW_IP_CLI" "$GW_IP6_CLI" "$SGFLOW" "$HELLO" \
		"$MAX_SHORT" "$LOOP_S" >"$tmp/loop.log" 2>&1 &
	LOOP=$!
	e2e_track_pid "$LOOP"

	e2e_poll 10 bash -c "[ \$(grep -c '^access' '$tmp/a.log') -ge 20 ]" || e2e_fail "no traffic through A"

	# A takeover that fails (after taking A's sockets and the guard's link, a listener on an
	# address the host does not have cannot bind) changes nothing: A accepts again, its own
	# program is back in the link, and the arrivals meanwhile are checked with the rest.
	sed 's/^routes:/  - name: nowhere\n    address: "192.0.2.1:443"\nroutes:/' "$cfg" >"$tmp/bad.yaml"
	e2e_bg "$SG_NS_GW" "$tmp/bad.log" "$SOCKGATED" --config "$tmp/bad.yaml" --bpffs "$BPFFS" \
		--metrics "$METRICS" "${DP_ARGS[@]}" --takeover
	bad=$E2E_BG_PID
	e2e_poll 30 bash -c "! kill -0 $bad 2>/dev/null" || e2e_fail "the failing takeover did not exit"
	wait "$bad" && e2e_fail "the failing takeover exited 0"
	e2e_assert_contains "$(cat "$tmp/bad.log")" "took over listening on $GW_IP_CLI:443" \
		"the failing agent had taken the listener"
	e2e_poll 10 grep -q "takeover: the new agent went away before it confirmed; accepting again" \
		"$tmp/a.log" || e2e_fail "A did not take its sockets back: $(tail -3 "$tmp/a.log")"
	e2e_assert_eq "$xdp_a" "$(xdp_id)" "A's program is back in the guard's link"
	e2e_assert_eq "$A" "$(status_pid)" "the control socket still answers from A"
	[ ! -e "$SOCKGATE_CONTROL.$bad" ] || e2e_fail "the failing agent left its side control path"
	n_a=$(grep -c '^access' "$tmp/a.log" || true)
	e2e_poll 10 bash -c "[ \$(grep -c '^access' '$tmp/a.log') -ge $((n_a + 20)) ]" ||
		e2e_fail "A does not accept after the failed takeover"
	printf 'ok - a failed takeover left A serving\n'

	streams s1 1000 # through A, across both upgrades
	# Each is promoted after 256 KiB: all six are in the kernel when A hands over.
	e2e_poll 10 promoted 6 || e2e_fail "A did not promote the six long streams"

	t_b=$SECONDS
	upgrade a b --workers 1
	B=$NEW
	xdp_b=$(xdp_id)
	if [ -z "$xdp_b" ] || [ "$xdp_b" = "$xdp_a" ]; then
		e2e_fail "the XDP program on $GW_IF_CLI is not B's"
	fi
	e2e_assert_contains "$(cat "$tmp/b.log")" "guard: took over the XDP link on $GW_IF_CLI" \
		"B took the guard's link over"
	e2e_assert_contains "$(cat "$tmp/b.log")" "took over listening on $GW_IP_CLI:443" \
		"B took the listening socket over, did not bind"
	e2e_poll 10 bash -c "[ \$(grep -c '^access' '$tmp/b.log') -ge 20 ]" || e2e_fail "no traffic through B"
	streams s2 2000 # through B, across the second upgrade
	e2e_poll 10 promoted 6 || e2e_fail "B did not promote the six long streams"

	# The second upgrade is `sockgate upgrade`: B starts C itself, its own binary with its
	# own arguments and --takeover (so C logs to b.log), in its cgroup and environment; C
	# names itself the main process to the notify socket, as it would to systemd.
	t_c=$SECONDS
	out=$("$SOCKGATE" upgrade) || e2e_fail "sockgate upgrade failed: $out; $(tail -5 "$tmp/b.log")"
	C=$(sed -n 's/^upgraded: pid \([0-9]*\) serves.*/\1/p' <<<"$out")
	[ -n "$C" ] || e2e_fail "sockgate upgrade did not name the new agent: $out"
	e2e_track_pid "$C"
	e2e_assert_contains "$out" "started as pid $C; it takes the sockets over from pid $B" \
		"sockgate upgrade: B started C and waited until it served"
	e2e_poll 10 grep -q "taken over: no longer accepting" "$tmp/b.log" ||
		e2e_fail "B did not hand over: $(tail -5 "$tmp/b.log")"
	e2e_assert_eq "$C" "$(status_pid)" "the control socket answers from C"
	e2e_assert_contains "$(tr '\0' ' ' <"/proc/$C/cmdline")" "--workers 1 --takeover" \
		"C runs with B's arguments and --takeover"
	e2e_poll 10 grep -qxF "MAINPID=$C|READY=1|STATUS=serving (took over)" "$notify" ||
		e2e_fail "C did not notify MAINPID and READY: $(cat "$notify")"
	printf 'ok - C told the notify socket MAINPID=%s and READY=1\n' "$C"
	xdp_c=$(xdp_id)
	if [ -z "$xdp_c" ] || [ "$xdp_c" = "$xdp_b" ]; then
		e2e_fail "the XDP program on $GW_IF_CLI is not C's"
	fi
	n_b=$(grep -c '^access' "$tmp/b.log" || true)
	e2e_poll 10 bash -c "[ \$(grep -c '^access' '$tmp/b.log') -ge $((n_b + 20)) ]" ||
		e2e_fail "no traffic through C"
	sleep 1
	touch "$tmp/short/stop"

	wait "$LOOP" || true
	n=$(cat "$tmp/short/count" 2>/dev/null || echo 0)
	# Each agent served at least 20 of them (polled above): arrivals spanned both upgrades.
	[ "$n" -gt 0 ] || e2e_fail "the arrival loop started no client: $(cat "$tmp/loop.log")"
	fails=$(cat "$tmp"/short/*.out | grep -v 'result=ok' | grep -v ', 0 failed' | head -n 5 || true)
	[ -z "$fails" ] || e2e_fail "short connections failed: $fails"
	ok=$(cat "$tmp"/short/*.out | grep -c 'result=ok' || true)
	e2e_assert_eq "$n" "$ok" "every one of the $n short connections arriving across both upgrades: ok"

	for s in s1 s2; do
		pid_var=${s}_PID
		wait "${!pid_var}" || true
		e2e_assert_contains "$(cat "$tmp/$s.out")" "6 ok, 0 failed" "$s: 6 long streams intact"
	done
	served() { grep -c '^access' "$tmp/$1.log" || true; }
	printf 'ok - connections served: A %s, B and C %s (access lines)\n' "$(served a)" "$(served b)"
	# Express falls back to sockmap for a pair whose legs do not go quiet in time (a
	# loaded host): at least one of the twelve must have been in $PROMOTED. The access
	# log has its own writer thread: the line may follow the close.
	e2e_poll 10 grep -q "^access .*listener=long .*dataplane=$PROMOTED" "$tmp/a.log" "$tmp/b.log" ||
		e2e_fail "no long stream was promoted to $PROMOTED: $(grep -h '^access .*listener=long' \
			"$tmp/a.log" "$tmp/b.log" | grep -o 'dataplane=[a-z]*' | sort | uniq -c | tr '\n' ' ')"
	gone a "$A" "$t_b"
	gone b "$B" "$t_c"
	# Taken over, an agent keeps its express flows' sockets (their four-tuples) until the
	# flows end, and sees them end: none was left to the drain deadline and handed off.
	e2e_assert_not_contains "$(grep -h '^access .*listener=long' "$tmp/a.log" "$tmp/b.log")" \
		"end=handed_off" "no long stream was still open at its agent's drain deadline"
	printf 'ok - long streams in flight across the upgrades, by dataplane:%s\n' \
		"$(grep -h '^access .*listener=long' "$tmp/a.log" "$tmp/b.log" | grep -o 'dataplane=[a-z]*' |
			sort | uniq -c | tr -s ' \n' ' ')"

	# C: serves, answers, and owns the guard, the control socket and /metrics.
	e2e_routed "$HELLO" || e2e_fail "C does not route a new connection"
	e2e_assert_eq "$C" "$(status_pid)" "the control socket answers from C"
	e2e_assert_contains "$(scrape)" "sockgate_" "/metrics answers"
	e2e_assert_contains "$(cat "$tmp/b.log")" "takeover: received 5 sockets and links from pid $B" \
		"C took B's three listeners, /metrics and the guard's link"
	e2e_assert_eq "$xdp_c" "$(xdp_id)" "the guard's program on $GW_IF_CLI is C's after A and B exited"
	[ ! -e "$SOCKGATE_CONTROL.$C" ] || e2e_fail "C's side control path is left behind"
	e2e_alive "$C" || e2e_fail "C exited"
	stop_agent "$C"
	ROUNDS+=("$DP: $n short connections")
}

# stop_agent PID: SIGTERM, and wait until it is gone (C is not this shell's child).
stop_agent() {
	kill -TERM "$1"
	e2e_poll 30 bash -c "! kill -0 $1 2>/dev/null" || e2e_fail "pid $1 ignored SIGTERM"
}

ROUNDS=()
round sockmap sockmap --dataplane auto --no-express
round express express --dataplane auto
e2e_pass "two upgrades per dataplane, none refused or reset: ${ROUNDS[*]}"
