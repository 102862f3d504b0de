#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The express dataplane (sockgated --dataplane express, issue #13 "Testing it honestly"),
# every byte checked by build/test/sgflow (or, for resets and a backend that half-closes
# first, by tests/tools/express_peer.py), in the three-namespace topology:
#  1. 1 GiB each way through one connection: express, access log exact.
#  2. 200 concurrent pairs x 1 MiB, 1000 x 2 MiB and 100 x 32 MiB each way: all correct, most express.
#  3. Loss on every leg (nftables numgen drop rules at the destinations, in the client and
#     backend namespaces) at 0.5% and 2%, with and without segmentation offload at the
#     peers: 4-8 pairs of 16-64 MiB each way, all correct, express lines exact.
#  4. Options that differ between the legs (tcp_sack=0 in the client namespace,
#     tcp_timestamps=0 in the backend's, tcp_window_scaling=0 in the client's, MTU 1400 on
#     the backend link): no pair goes express; the promoted ones take sockmap, each
#     refused with the reason in the debug log, and all pass.
#  5. Half-close both ways (client first: 64 MiB reply after its FIN; backend first: the
#     client sends 16 MiB after the backend's FIN), and a reset from either side reaches
#     the other peer through the express flow (access log client_reset / backend_reset).
#  6. IPv6, 16 MiB each way: express, exact.
#  8. Nothing from the gateway's own sockets on the wire after hand-over: tcpdump on both
#     gateway interfaces, every packet leaving after the first translated one must match
#     (IPv4 ID, length, time) one that came in from the other peer. Then the program's
#     counters: packets > 0, redirect_failed 0, unaligned_drops 0 (self_drops reported).
#  7. kill -9 of the agent while a 256 MiB-each-way express flow runs: the flow finishes
#     intact; a new agent on the same bpffs adopts what was left and serves new pairs.
#  9. An express pair left idle meets the route's idle_timeout: the agent ends it
#     (end=idle_timeout, no packet sent); the peers learn it from the reset their next
#     packet gets from the gateway's stack.
# The counts of express, sockmap and copy pairs are printed as "# ..." lines.
# SG_XE2E_CASES="1 2 ..." runs only those cases (in the order 1 2 3 4 5 6 8 7 9);
# SG_XE2E_PCAP=1 keeps packet headers of all four interfaces (with SG_E2E_KEEP=1).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd nft bpftool jq python3 ethtool tcpdump
e2e_sockgate_env
PEER=$ROOT/tests/tools/express_peer.py
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com, ALPN h2,http/1.1
HELLO_LEN=$(stat -c %s "$HELLO")   # 275: bytes_up is the hello + sgflow's 24-byte header + up
CASES=" ${SG_XE2E_CASES:-1 2 3 4 5 6 8 7 9} "
export SG_E2E_CMD_TIMEOUT=180
MIB=1048576

e2e_topology_up
e2e_bpffs

has_case() { [[ "$CASES" == *" $1 "* ]]; }

# ---- backends and the agent ----------------------------------------------------------------

cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
  - name: tls6
    address: "[$GW_IP6_CLI]:443"
  - name: hc
    address: "$GW_IP_CLI:8443"
  - name: peer
    address: "$GW_IP_CLI:8444"
  - name: idle
    address: "$GW_IP_CLI:8445"
routes:
  - name: flows
    listeners: [tls]
    sni: [sample.aliyun.com]
    connect_timeout: 2s
    backends:
      - address: "$BE_IP:9000"
  - name: flows6
    listeners: [tls6]
    sni: [sample.aliyun.com]
    backends:
      - address: "[$BE_IP6]:9006"
  - name: hc
    listeners: [hc]
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9010"
  - name: peer
    listeners: [peer]
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9020"
  - name: idle
    listeners: [idle]
    sni: [sample.aliyun.com]
    idle_timeout: 2s
    backends:
      - address: "$BE_IP:9020"
YAML

srv_log=$(e2e_tmpdir)/sgflow-server.log
e2e_sgflow_server "$srv_log" 9000 "$HELLO" --timeout 170
hc_log=$(e2e_tmpdir)/sgflow-server-hc.log
e2e_sgflow_server "$hc_log" 9010 "$HELLO" --reply-after-eof --timeout 60
srv6_log=$(e2e_tmpdir)/sgflow-server6.log
e2e_bg "$SG_NS_BE" "$srv6_log" "$SGFLOW" server "$BE_IP6" 9006 --hello "$HELLO" --timeout 60
e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP6" 9006 || e2e_fail "no IPv6 sgflow server"
peer_log=$(e2e_tmpdir)/peer-server.log
e2e_bg "$SG_NS_BE" "$peer_log" python3 -u "$PEER" server "$BE_IP" 9020 "$HELLO_LEN"
e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP" 9020 || e2e_fail "no express_peer server"

# start_agent NAME: sockgated, express, debug log (each refusal's reason) in LOG.
start_agent() {
	LOG=$(e2e_tmpdir)/sockgated-$1.log
	e2e_bg "$SG_NS_GW" "$LOG" "$SOCKGATED" --config "$cfg" --dataplane express \
		--bpffs "$BPFFS" --log-level debug
	AGENT=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$AGENT" "$GW_IP_CLI" 8445 ||
		e2e_fail "$1: sockgated did not start: $(cat "$LOG")"
	grep -q 'promoted to express where both legs allow it' "$LOG" ||
		e2e_fail "$1: express is not available: $(grep -i express "$LOG")"
}

# Access lines: MARK is the count so far; after a case, wait for N more and read them.
n_access() { grep -c '^access ' "$LOG" || true; }
access_at_least() { [ "$(n_access)" -ge "$1" ]; }
# new_access MARK N: wait (express pairs end 5 s after their close) for N lines after
# MARK and print the lines after MARK.
new_access() {
	e2e_poll 30 access_at_least $(($1 + $2)) ||
		e2e_fail "expected $2 access lines, got $(($(n_access) - $1)): $(grep '^access ' "$LOG" | tail -n 3)"
	grep '^access ' "$LOG" | tail -n +$(($1 + 1))
}
count() { grep -c -- "$1" <<<"$2" || true; }
# exact PATTERN LINES: show the express lines that do not match PATTERN.
exact() {
	grep ' dataplane=express ' <<<"$2" | grep -v -- "$1" | sed 's/^/# not exact: /' || true
}
# refusals LINES: why the pairs of these access lines did not go express (debug log).
refusals() {
	local ids
	ids=$(sed -n 's/.* conn=\([0-9]*\) .*/\1/p' <<<"$1" | paste -sd'|')
	echo "# refusals: $(grep -E "conn=($ids) express: " "$LOG" | sed 's/.* express: //' | sort | uniq -c |
		awk '{printf "%s%s %s", sep, $1, substr($0, index($0, $2)); sep=", "}')"
}

# client NS HOST PORT ARGS...: one sgflow client run; failures first, then the summary.
client() {
	local ns=$1 host=$2 port=$3 out
	shift 3
	out=$(e2e_exec "$ns" "$SGFLOW" client "$host" "$port" --hello "$HELLO" "$@" || true)
	grep -v 'result=ok' <<<"$out" || true
}

# The program's per-CPU counters, summed: xcounter INDEX (enum sg_xcounter).
xcounter() {
	bpftool map dump pinned "$BPFFS/sg_xcounters" -j 2>/dev/null |
		jq --argjson k "$1" '[.[] | .formatted | select(.key == $k) | .values[].value] | add // 0'
}
XC_PACKETS=0 XC_PENDING=1 XC_UNALIGNED=2 XC_REDIRECT_FAILED=3 XC_CLOSED=4 XC_SELF=5

# SG_XE2E_PCAP=1: headers of every TCP packet at the client, the backend and both gateway
# interfaces, for debugging (kept with SG_E2E_KEEP=1 in the scratch directory, *.pcap).
if [ "${SG_XE2E_PCAP:-0}" = 1 ]; then
	for where in "$SG_NS_CLI:$CLI_IF:client" "$SG_NS_BE:$BE_IF:backend" "$SG_NS_GW:$GW_IF_CLI:gw-cli" \
		"$SG_NS_GW:$GW_IF_BE:gw-be"; do
		IFS=: read -r ns ifname name <<<"$where"
		e2e_bg "$ns" "$SG_E2E_TMP/$name.pcap.err" tcpdump -i "$ifname" -nn -U -B 65536 -s 96 \
			-w "$SG_E2E_TMP/$name.pcap" tcp
		e2e_poll 10 grep -q 'listening on' "$SG_E2E_TMP/$name.pcap.err" || e2e_fail "tcpdump did not start"
	done
fi

# capture_flush NS DST PCAP: once a UDP datagram NS sends to DST port 9 is in PCAP (a
# capture taken with "tcp or udp port 9"), everything before it is too: stopping tcpdump
# may leave what the kernel still buffers unread. The packet analyses read TCP only.
capture_flush() {
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" bash -c "echo marker >/dev/udp/$2/9" 2>/dev/null || true
		timeout 10 tcpdump -r "$3" -nn 'udp port 9' 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	e2e_fail "capture $3: the marker datagram never reached the file"
}

# ---- 1: one connection, 1 GiB each way -----------------------------------------------------------

start_agent main
if has_case 1; then
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 443 --up 1G --down 1G --fin-after-eof --timeout 170)
	e2e_assert_contains "$out" "1 ok, 0 failed" "1 GiB each way through one connection, every byte checked"
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express bytes_up=$((1073741824 + 24 + HELLO_LEN)) bytes_down=1073741824 " \
		"1 GiB: express, and the access log counted exactly the bytes sent each way"
	e2e_assert_contains "$line" " end=eof" "1 GiB: ended by eof"
fi

# ---- 2: many concurrent pairs --------------------------------------------------------------------

# conc CONNS SIZE SEED: CONNS pairs, SIZE each way, all checked; most must go express
# and every express line must count exactly.
conc() {
	local n=$1 size=$2 bytes=$(($2 * MIB)) m out lines nx ns
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 443 --conns "$n" --up "${size}M" --down "${size}M" \
		--fin-after-eof --seed "$3" --timeout 170)
	e2e_assert_contains "$out" "$n ok, 0 failed" "$n concurrent pairs x $size MiB each way, every byte checked"
	lines=$(new_access "$m" "$n")
	nx=$(count ' dataplane=express ' "$lines")
	ns=$(count ' dataplane=sockmap ' "$lines")
	echo "# $n x $size MiB: express $nx, sockmap $ns, copy $(count ' dataplane=copy ' "$lines"), other $((n - nx - ns - $(count ' dataplane=copy ' "$lines")))"
	refusals "$lines"
	exact " dataplane=express bytes_up=$((bytes + 24 + HELLO_LEN)) bytes_down=$bytes .* end=eof" "$lines"
	e2e_assert_eq "$nx" "$(count " dataplane=express bytes_up=$((bytes + 24 + HELLO_LEN)) bytes_down=$bytes .* end=eof" "$lines")" \
		"$n x $size MiB: every express pair's access line is exact and ended by eof"
	[ "$((nx * 4))" -ge "$((n * 3))" ] ||
		e2e_fail "$n x $size MiB: only $nx of $n pairs went express: $(grep -o 'express: [a-z_ ]*$' "$LOG" | sort | uniq -c)"
	printf 'ok - %s x %s MiB: %s of %s pairs went express (at least 3/4)\n' "$n" "$size" "$nx" "$n"
}
if has_case 2; then
	conc 200 1 1000
	conc 1000 2 3000
	conc 100 32 2000
fi

# ---- 3: loss on every leg ------------------------------------------------------------------------

# Every packet ends in the client or the backend namespace: a drop rule at the
# destination of each (prerouting, before anything else) loses N per mille of every
# packet of both legs, both ways, SYNs and GSO packets included. The gateway's ingress
# program runs before netfilter, so a rule there would miss express packets.
loss_on() {
	local ns
	for ns in "$SG_NS_CLI" "$SG_NS_BE"; do
		ip netns exec "$ns" nft -f - <<NFT || e2e_fail "nft in $ns"
table inet sgloss {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		meta l4proto tcp numgen random mod 1000 < $1 counter drop
	}
}
NFT
	done
}
loss_off() {
	local ns
	for ns in "$SG_NS_CLI" "$SG_NS_BE"; do
		ip netns exec "$ns" nft delete table inet sgloss 2>/dev/null || true
	done
}
loss_drops() {
	local ns t=0 n
	for ns in "$SG_NS_CLI" "$SG_NS_BE"; do
		n=$(ip netns exec "$ns" nft list table inet sgloss | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
		t=$((t + ${n:-0}))
	done
	echo "$t"
}
if has_case 3; then
	e2e_on_cleanup loss_off
	# Rounds: per mille lost, pairs, MiB each way, segmentation offload at the peers. With
	# it (the default) a lost packet is up to 64 KiB; without it, one MSS, so there are
	# many more losses and SACK blocks to translate.
	for round in "5 8 32 on" "5 4 64 off" "20 4 16 on" "20 4 32 off"; do
		read -r permille n size offload <<<"$round"
		ip netns exec "$SG_NS_CLI" ethtool -K "$CLI_IF" tso "$offload" gso "$offload" >/dev/null
		ip netns exec "$SG_NS_BE" ethtool -K "$BE_IF" tso "$offload" gso "$offload" >/dev/null
		loss_on "$permille"
		m=$(n_access)
		out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 443 --conns "$n" --up "${size}M" --down "${size}M" \
			--fin-after-eof --seed $((3000 + permille)) --timeout 170)
		drops=$(loss_drops)
		loss_off
		e2e_assert_contains "$out" "$n ok, 0 failed" \
			"loss $permille/1000 on every leg (offload $offload): $n pairs x $size MiB each way, every byte checked ($drops packets dropped)"
		lines=$(new_access "$m" "$n")
		nx=$(count ' dataplane=express ' "$lines")
		echo "# loss $permille/1000: express $nx of $n, sockmap $(count ' dataplane=sockmap ' "$lines"); dropped $drops"
		bytes=$((size * MIB))
		e2e_assert_eq "$nx" "$(count " dataplane=express bytes_up=$((bytes + 24 + HELLO_LEN)) bytes_down=$bytes .* end=eof" "$lines")" \
			"loss $permille/1000: every express pair's access line is exact (retransmissions not counted)"
		[ "$nx" -ge 1 ] || e2e_fail "loss $permille/1000: no pair went express"
		[ "$drops" -gt 0 ] || e2e_fail "loss $permille/1000: nothing was dropped"
	done
	ip netns exec "$SG_NS_CLI" ethtool -K "$CLI_IF" tso on gso on >/dev/null
	ip netns exec "$SG_NS_BE" ethtool -K "$BE_IF" tso on gso on >/dev/null
	loss_off
fi

# ---- 4: options that differ between the legs: the fallback -------------------------------------

# mismatch WHAT WHY: 4 pairs x 8 MiB each way must pass, none through express; the pairs
# promoted (a pair may also end in the copy before a settle point) took sockmap, each
# refused with the reason WHY in the debug log.
mismatch() {
	local what=$1 why=$2 m out lines ids id n=0 ns
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 443 --conns 4 --up 8M --down 8M --fin-after-eof \
		--seed 4000 --timeout 60)
	e2e_assert_contains "$out" "4 ok, 0 failed" "$what: 4 pairs x 8 MiB each way, every byte checked"
	lines=$(new_access "$m" 4)
	e2e_assert_eq 0 "$(count ' dataplane=express ' "$lines")" "$what: no pair went express"
	ns=$(count ' dataplane=sockmap ' "$lines")
	echo "# $what: sockmap $ns, copy $(count ' dataplane=copy ' "$lines") of 4"
	refusals "$lines"
	[ "$ns" -ge 1 ] || e2e_fail "$what: no pair was promoted to sockmap: $lines"
	ids=$(grep ' dataplane=sockmap ' <<<"$lines" | sed -n 's/.* conn=\([0-9]*\) .*/\1/p')
	for id in $ids; do
		grep -q "conn=$id express: $why\$" "$LOG" && n=$((n + 1))
	done
	e2e_assert_eq "$ns" "$n" "$what: each of the $ns pairs promoted took sockmap, refused as $why"
}
sysctl_ns() { ip netns exec "$1" sysctl -qw "$2"; }
if has_case 4; then
	sysctl_ns "$SG_NS_CLI" net.ipv4.tcp_sack=0
	mismatch "tcp_sack=0 on the client" options_differ
	sysctl_ns "$SG_NS_CLI" net.ipv4.tcp_sack=1
	sysctl_ns "$SG_NS_BE" net.ipv4.tcp_timestamps=0
	mismatch "tcp_timestamps=0 on the backend" options_differ
	sysctl_ns "$SG_NS_BE" net.ipv4.tcp_timestamps=1
	sysctl_ns "$SG_NS_CLI" net.ipv4.tcp_window_scaling=0
	mismatch "tcp_window_scaling=0 on the client" options_differ
	sysctl_ns "$SG_NS_CLI" net.ipv4.tcp_window_scaling=1
	ip -n "$SG_NS_GW" link set "$GW_IF_BE" mtu 1400
	ip -n "$SG_NS_BE" link set "$BE_IF" mtu 1400
	mismatch "MTU 1400 on the backend link" mtu_differs
	ip -n "$SG_NS_GW" link set "$GW_IF_BE" mtu 1500
	ip -n "$SG_NS_BE" link set "$BE_IF" mtu 1500
fi

# ---- 5: half-close and resets --------------------------------------------------------------------

# peer_run SRV_ACTION SRV_ARG CLI_ACTION CLI_ARG [PORT]: one express_peer pair through the
# gateway (300 KiB of padding: promoted by bytes); prints the client's line, then the
# server's (waited for).
peer_run() {
	local before cl
	before=$(wc -l <"$peer_log")
	cl=$(e2e_exec "$SG_NS_CLI" python3 "$PEER" client "$GW_IP_CLI" "${5:-8444}" "$HELLO" \
		"$1" "$2" 307200 "$3" "$4" 2>&1 || true)
	echo "$cl"
	e2e_poll 20 test "$(wc -l <"$peer_log")" -gt "$before" || true
	tail -n +$((before + 1)) "$peer_log"
}
if has_case 5; then
	# The client half-closes first: the backend answers 64 MiB only after its FIN.
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 8443 --up 64M --down 64M --reply-after-eof-check \
		--seed 77 --timeout 60)
	e2e_assert_contains "$out" "1 ok, 0 failed" \
		"half-close, client first: the whole 64 MiB reply after the client's FIN"
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express bytes_up=$((64 * MIB + 24 + HELLO_LEN)) bytes_down=$((64 * MIB)) " \
		"half-close, client first: express, exact"

	# The backend half-closes first; the client then sends 16 MiB (pattern checked).
	m=$(n_access)
	out=$(peer_run fin 2 after-fin $((16 * MIB)))
	e2e_assert_contains "$out" "client sent=$((16 * MIB)) after-fin then eof" \
		"half-close, backend first: the client got the FIN and sent 16 MiB after it"
	e2e_assert_contains "$out" "server fin-first got=$((16 * MIB)) ok" \
		"half-close, backend first: the backend got all 16 MiB intact after its own FIN"
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express " "half-close, backend first: express"
	e2e_assert_contains "$line" " end=eof" "half-close, backend first: ended by eof"

	m=$(n_access)
	out=$(peer_run wait 10 rst 2)
	e2e_assert_contains "$out" "server reset" "reset from the client: the backend sees a reset"
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express " "reset from the client: the pair was express"
	e2e_assert_contains "$line" " end=client_reset" "reset from the client: logged client_reset"

	m=$(n_access)
	out=$(peer_run rst 2 wait 10)
	e2e_assert_contains "$out" "client reset" "reset from the backend: the client sees a reset"
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express " "reset from the backend: the pair was express"
	e2e_assert_contains "$line" " end=backend_reset" "reset from the backend: logged backend_reset"
fi

# ---- 6: IPv6 -------------------------------------------------------------------------------------

if has_case 6; then
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP6_CLI" 443 --up 16M --down 16M --fin-after-eof --timeout 60)
	e2e_assert_contains "$out" "1 ok, 0 failed" "IPv6: 16 MiB each way, every byte checked"
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express bytes_up=$((16 * MIB + 24 + HELLO_LEN)) bytes_down=$((16 * MIB)) " \
		"IPv6: express, exact"
fi

# ---- 8: what the program counted -------------------------------------------------------------

if has_case 8; then
	# What leaves the gateway after hand-over. tcpdump on both gateway interfaces sees
	# a packet after TC egress (so not what the egress program dropped), and a
	# translated packet keeps its sender's IPv4 ID and length: a packet leaving the
	# gateway toward one peer after the first translated one that matches no packet
	# that came in from the other peer was sent by the gateway's own socket.
	cap=$(e2e_tmpdir cap)
	tcpdump_on() {
		e2e_bg "$SG_NS_GW" "$cap/$1.err" tcpdump -i "$1" -nn -U -B 16384 -s 96 -w "$cap/$1.pcap" \
			'tcp or udp port 9'
		TCPDUMP_PID=$E2E_BG_PID
		e2e_poll 10 grep -q 'listening on' "$cap/$1.err" || e2e_fail "tcpdump on $1: $(cat "$cap/$1.err")"
	}
	tcpdump_on "$GW_IF_CLI"
	td1=$TCPDUMP_PID
	tcpdump_on "$GW_IF_BE"
	td2=$TCPDUMP_PID
	self0=$(xcounter $XC_SELF)
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 443 --up 16M --down 16M --fin-after-eof --seed 8000 --timeout 60)
	e2e_assert_contains "$out" "1 ok, 0 failed" "capture: 16 MiB each way, every byte checked"
	# the flow's access line: the program saw both FINs acknowledged
	new_access "$m" 1 >/dev/null
	capture_flush "$SG_NS_GW" "$CLI_IP" "$cap/$GW_IF_CLI.pcap"
	capture_flush "$SG_NS_GW" "$BE_IP" "$cap/$GW_IF_BE.pcap"
	kill -INT "$td1" "$td2"
	wait "$td1" "$td2" || true
	for f in "$cap"/*.err; do
		grep -q '^0 packets dropped by kernel' "$f" || e2e_fail "tcpdump dropped packets: $(cat "$f")"
	done
	leak=$(python3 - "$cap/$GW_IF_CLI.pcap" "$cap/$GW_IF_BE.pcap" "$CLI_IP" "$BE_IP" <<'PY'
import socket, struct, sys

def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 14 + 20 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        total, ident = struct.unpack_from("!HH", ip, 2)
        if ip[9] != 6 or len(ip) < ihl + 13:
            continue
        doff = (ip[ihl + 12] >> 4) * 4
        yield sec + usec / 1e6, socket.inet_ntoa(ip[12:16]), ident, total - ihl - doff

# A translated packet leaves within microseconds of its arrival (one softirq), with the
# same IPv4 ID and payload length; 20 ms of slack, and the ID and length both, make a
# chance match (a false "translated") very unlikely.
def check(out_pcap, in_pcap, out_dst, in_src):
    came_in = {}
    for t, src, i, n in packets(in_pcap):
        if src == in_src:
            came_in.setdefault((i, n), []).append(t)
    seen = False
    translated = leaked = 0
    for t, src, i, n in packets(out_pcap):
        if src == out_dst:
            continue  # arriving from that peer, not leaving toward it
        if any(0 <= t - t_in < 0.02 for t_in in came_in.get((i, n), ())):
            translated += 1
            seen = True
        elif seen:
            leaked += 1
    return translated, leaked

cli_pcap, be_pcap, cli_ip, be_ip = sys.argv[1:5]
t1, l1 = check(cli_pcap, be_pcap, cli_ip, be_ip)  # toward the client: from the backend
t2, l2 = check(be_pcap, cli_pcap, be_ip, cli_ip)  # toward the backend: from the client
print(t1, l1, t2, l2)
PY
)
	read -r t1 l1 t2 l2 <<<"$leak"
	echo "# capture: toward the client $t1 translated, $l1 from the gateway's socket after hand-over;" \
		"toward the backend $t2 translated, $l2 from the gateway's socket; self_drops +$(($(xcounter $XC_SELF) - self0))"
	if [ "$t1" -eq 0 ] || [ "$t2" -eq 0 ]; then
		e2e_fail "capture: no translated packet seen either way ($leak)"
	fi
	e2e_assert_eq "0 0" "$l1 $l2" "after hand-over the gateway's own sockets put no packet on the wire"

	packets=$(xcounter $XC_PACKETS)
	echo "# program counters: packets $packets, pending_drops $(xcounter $XC_PENDING)," \
		"closed $(xcounter $XC_CLOSED), self_drops $(xcounter $XC_SELF)," \
		"unaligned_drops $(xcounter $XC_UNALIGNED), redirect_failed $(xcounter $XC_REDIRECT_FAILED)"
	[ "${packets:-0}" -gt 0 ] || e2e_fail "the program translated no packet"
	printf 'ok - the program translated %s packets\n' "$packets"
	e2e_assert_eq 0 "$(xcounter $XC_REDIRECT_FAILED)" "no translated packet failed its redirect"
	e2e_assert_eq 0 "$(xcounter $XC_UNALIGNED)" "no packet was dropped for unaligned options"
fi

# ---- 7: kill -9 of the agent mid-transfer ----------------------------------------------------------

if has_case 7; then
	bg_out=$(e2e_tmpdir)/kill9.out
	# Headers at the client, to show where a reset came from if the flow breaks.
	k9cap=$(e2e_tmpdir)/kill9-cli.pcap
	e2e_bg "$SG_NS_CLI" "$k9cap.err" tcpdump -i "$CLI_IF" -nn -U -B 16384 -s 96 -w "$k9cap" \
		'tcp or udp port 9'
	k9td=$E2E_BG_PID
	e2e_poll 10 grep -q 'listening on' "$k9cap.err" || e2e_fail "tcpdump: $(cat "$k9cap.err")"
	# The upload is paced (4 s) so that the flow is certainly running at the kill.
	ip netns exec "$SG_NS_CLI" timeout 150 "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" \
		--up 256M --up-rate 64M --down 256M --fin-after-eof --seed 7000 --timeout 120 \
		>"$bg_out" 2>&1 &
	bg=$!
	e2e_track_pid "$bg"
	p0=$(xcounter $XC_PACKETS)
	more_packets() { [ "$(xcounter $XC_PACKETS)" -gt $((p0 + 2000)) ]; }
	e2e_poll 20 more_packets || e2e_fail "kill -9: the flow never went express: $(tail -n 5 "$LOG")"
	kill -KILL "$AGENT"
	k9_at=$(date +%s.%N)
	wait "$AGENT" 2>/dev/null || true
	e2e_alive "$bg" || e2e_fail "kill -9: the flow had ended before the kill: $(cat "$bg_out")"
	printf 'ok - kill -9: the agent was killed while the express flow ran\n'
	start_agent after-kill
	k9_new=$(date +%s.%N)
	e2e_poll 10 grep -q 'flows left by a previous agent carry on' "$LOG" ||
		e2e_fail "kill -9: the new agent did not adopt: $(grep -i express "$LOG")"
	printf 'ok - kill -9: %s\n' "$(grep -o 'express: [0-9]* flows left by a previous agent carry on' "$LOG")"
	rc=0
	wait "$bg" || rc=$?
	capture_flush "$SG_NS_CLI" "$GW_IP_CLI" "$k9cap" # only shown on failure
	kill -INT "$k9td"
	wait "$k9td" || true
	if [ "$rc" -ne 0 ]; then
		echo "# kill -9: kill at $k9_at, new agent at $k9_new; the flow's resets and last packets at the client:"
		timeout 20 tcpdump -r "$k9cap" -nn -tt 2>/dev/null | grep -B 6 -A 2 'Flags \[R' | head -n 40 | sed 's/^/#   /'
	fi
	e2e_assert_contains "$(cat "$bg_out")" "1 ok, 0 failed" \
		"kill -9: the 256 MiB-each-way flow finished intact without the agent (exit $rc)"
	m=$(n_access)
	out=$(client "$SG_NS_CLI" "$GW_IP_CLI" 443 --conns 4 --up 8M --down 8M --fin-after-eof --seed 7100 --timeout 60)
	e2e_assert_contains "$out" "4 ok, 0 failed" "kill -9: the new agent carries new pairs"
	lines=$(new_access "$m" 4)
	echo "# after the restart: express $(count ' dataplane=express ' "$lines") of 4"
	[ "$(count ' dataplane=express ' "$lines")" -ge 1 ] ||
		e2e_fail "kill -9: no new pair went express: $lines"
	printf 'ok - kill -9: new pairs go express under the new agent\n'
fi

# ---- 9: an idle express pair -------------------------------------------------------------------

if has_case 9; then
	# idle_timeout 2s: the pair (express at once, by its padding) ends 2-2.25 s after its
	# last byte plus a sweep. Its sockets, in repair mode, cannot end it: the agent sends
	# each peer a reset at the sequence number it expects (docs/EXPRESS.md), which both
	# see while still quiet (a peer that missed it would get the stack's reset on its
	# next packet).
	m=$(n_access)
	out=$(peer_run idle 7 idle 5 8445)
	line=$(new_access "$m" 1)
	e2e_assert_contains "$line" " dataplane=express " "idle: the pair was express"
	e2e_assert_contains "$line" " end=idle_timeout" "idle: the agent ended it at the route's idle_timeout"
	e2e_assert_contains "$out" "client idle reset" "idle: the client got a reset"
	e2e_assert_contains "$out" "server idle reset" "idle: the backend got a reset"
fi

# Nothing left: every pair logged, the agent exits cleanly.
kill -TERM "$AGENT"
rc=0
wait "$AGENT" || rc=$?
e2e_assert_eq 0 "$rc" "sockgated exits 0 on SIGTERM"
e2e_pass "express: bulk, concurrency, loss, fallbacks, half-close, resets, IPv6, kill -9, idle"
