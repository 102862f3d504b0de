#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The SYN-flood measurement behind docs/BENCHMARKS.md ("SYN flood"): what a spoofed SYN from
# many sources costs the gateway with kernel SYN cookies, with the guard dropping it, and with
# only the guard's per-source limit in front; whether a legitimate client still connects
# meanwhile; and what answering with an XDP SYN cookie would cost instead
# (docs/SOCKMAP.md, section "XDP guard and SYN cookies").
#   bash tests/bench/syn_flood.sh [SYNS [RATE]]   (root; default 1000000 SYNs at 100000/s)
# Each scenario floods SYNS SYNs at RATE a second (so the CPU figures compare the same work
# over the same time), then the same unpaced (as fast as one sender goes) for the legitimate
# client's sake.
# It uses the e2e topology (tests/e2e/lib.sh): the flood comes from random addresses of
# 10.199.128.0/17, routed back to the client namespace, which drops the SYN-ACKs. Nothing
# leaves the namespaces it creates.
# CPU: a veth hands the packet to the receiving namespace in the sender's own context, and
# without IRQ_TIME_ACCOUNTING the kernel charges that softirq work to the task it interrupts:
# so the sender's user+sys time plus what the ksoftirqd threads took meanwhile is the whole
# path (send, XDP, TCP, SYN-ACK), and other tenants of a shared machine do not count. The
# sender's own part is in every scenario: compare the scenarios with each other.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
trap cleanup EXIT

SYNS=${1:-1000000}
RATE=${2:-100000}
FLOOD_NET=10.199.128.0/17
e2e_require_root
e2e_sockgate_env
SYNFLOOD=$ROOT/build/test/synflood
SOCKGATE=$ROOT/build/sockgate
[ -x "$SYNFLOOD" ] || e2e_fail "$SYNFLOOD not built (make build/test/synflood)"
e2e_require_cmd python3 bpftool clang
HELLO=$HELLOS/crafted-baseline.bin

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
ip -n "$SG_NS_GW" route add "$FLOOD_NET" via "$CLI_IP" dev "$GW_IF_CLI"
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO"

# --- what an XDP SYN cookie costs: the probe through BPF_PROG_TEST_RUN ----------------------
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$ROOT/build" -c \
	"$ROOT/tests/bench/syncookie_probe.bpf.c" -o "$tmp/probe.o"
bpftool prog load "$tmp/probe.o" "$BPFFS-probe" type xdp
python3 - "$tmp/syn.bin" <<'PY'
import struct, sys
eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 60, 1, 0x4000, 64, 6, 0, bytes([10, 199, 128, 7]),
                 bytes([10, 199, 1, 1]))
opts = bytes([2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
tcp = struct.pack("!HHIIBBHHH", 40000, 443, 12345, 0, 10 << 4, 0x02, 64240, 0, 0) + opts
open(sys.argv[1], "wb").write(eth + ip + tcp)
PY
cookie_ns=()
for i in 1 2 3 4 5; do
	out=$(bpftool prog run pinned "$BPFFS-probe" data_in "$tmp/syn.bin" repeat 1000000)
	[[ "$out" == *"Return value: 3"* ]] || e2e_fail "the probe did not return XDP_TX: $out"
	cookie_ns+=("$(sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p' <<<"$out")")
done
rm -f "$BPFFS-probe"

# --- the flood against the running agent -------------------------------------------------------
# ksoftirqd_ticks: CPU ticks of all ksoftirqd threads (they run softirqs deferred under load).
ksoftirqd_ticks() {
	local p t=0 s
	for p in $(pgrep -x 'ksoftirqd/[0-9]+' || true); do
		s=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + s))
	done
	echo "$t"
}
tcpext() { # NAME...: TcpExt counters in the gateway namespace
	ip netns exec "$SG_NS_GW" cat /proc/net/netstat | python3 -c '
import sys
lines = [l.split() for l in sys.stdin if l.startswith("TcpExt:")]
d = dict(zip(lines[0][1:], map(int, lines[1][1:])))
print(" ".join(str(d.get(n, 0)) for n in sys.argv[1:]))' "$@"
}
# legit N: N sequential connects from CLI_IP, each bounded by 3 s; prints "ok/N max_ms".
legit() {
	timeout 90 ip netns exec "$SG_NS_CLI" python3 -c '
import socket, sys, time
n, ok, worst = int(sys.argv[3]), 0, 0.0
for i in range(n):
    s = socket.socket(); s.settimeout(3); t = time.monotonic()
    try:
        s.connect((sys.argv[1], int(sys.argv[2]))); ok += 1
        worst = max(worst, time.monotonic() - t)
    except OSError:
        pass
    s.close(); time.sleep(0.05)
print("%d/%d %.1f" % (ok, n, worst * 1000))' "$GW_IP_CLI" 443 "$1"
}

run_scenario() { # NAME RATE(0: unpaced) GUARD_YAML
	local name=$1 rate=$2 cfg=$tmp/$1.yaml pid b0 b1 k0 k1 flood legit_out
	cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: sample
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
$3
YAML
	e2e_bg "$SG_NS_GW" "$tmp/$name.log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" \
		--access-log off
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 ||
		e2e_fail "sockgated did not start: $(cat "$tmp/$name.log")"
	e2e_routed "$HELLO" || e2e_fail "$name: no flow before the flood"
	k0=$(tcpext SyncookiesSent ListenOverflows ListenDrops)
	b0=$(ksoftirqd_ticks)
	legit 20 >"$tmp/legit.out" &
	local lpid=$!
	# The sender's user and system seconds, from bash's time (TIMEFORMAT).
	flood=$( { TIMEFORMAT="cpu=%U+%S"; time timeout 120 ip netns exec "$SG_NS_CLI" \
		"$SYNFLOOD" "$FLOOD_NET" "$GW_IP_CLI" 443 --count "$SYNS" --rate "$rate"; } 2>&1)
	b1=$(ksoftirqd_ticks)
	wait "$lpid" || true
	legit_out=$(cat "$tmp/legit.out")
	k1=$(tcpext SyncookiesSent ListenOverflows ListenDrops)
	e2e_routed "$HELLO" || e2e_fail "$name: no flow after the flood"
	local guard=""
	if [ -n "$3" ]; then
		guard=$("$SOCKGATE" guard show --json | python3 -c 'import json, sys
p = json.load(sys.stdin)["packets"]
print("deny=%d syn=%d" % (p["drop"]["deny"], p["pass"]["syn"]))')
	fi
	kill -TERM "$pid"
	wait "$pid" || true
	python3 - "$name" "$SYNS" "$flood" "$b0" "$b1" "$k0" "$k1" "$legit_out" "$guard" <<'PY'
import os, sys
name, syns, flood, b0, b1, k0, k1, legit, guard = sys.argv[1:]
sent = int(flood.split("sent=")[1].split()[0])
us = int(flood.split("elapsed_us=")[1].split()[0])
user, sys_s = flood.split("cpu=")[1].split()[0].split("+")
cpu_s = float(user) + float(sys_s) + (int(b1) - int(b0)) / os.sysconf("SC_CLK_TCK")
k = [int(b) - int(a) for a, b in zip(k0.split(), k1.split())]
print("| %-26s | %7d | %5.1f | %6.2f | %6s | %8d | %6d | %-11s | %s" % (
    name, sent / (us / 1e6), us / 1e6, cpu_s, "%.2f" % (cpu_s / sent * 1e6) if sent else "-",
    k[0], k[1] + k[2], legit, guard))
PY
}

echo
echo "XDP SYN cookie + SYN-ACK rewrite (syncookie_probe.bpf.c, BPF_PROG_TEST_RUN, 5 x 1e6):" \
	"${cookie_ns[*]} ns"
echo
echo "| scenario                   | SYNs/s  | s     | CPU s  | µs/SYN | cookies  | overfl | legit ok/n ms | guard"
echo "|----------------------------|---------|-------|--------|--------|----------|--------|-------------|------"
deny="guard: {interfaces: [$GW_IF_CLI], deny: [\"$FLOOD_NET\"]}"
limit="guard: {interfaces: [$GW_IF_CLI], syn_rate: {per_second: 200, burst: 400}}"
run_scenario kernel_syncookies "$RATE" ""
run_scenario guard_deny "$RATE" "$deny"
run_scenario guard_syn_rate "$RATE" "$limit"
run_scenario kernel_syncookies_unpaced 0 ""
run_scenario guard_deny_unpaced 0 "$deny"
e2e_pass "$SYNS SYNs per scenario"
