#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The hello phase costs the agent what the hello weighs, not how it is cut:
# - max_hello_bytes is exact below the first peek's size: on a 512-byte listener a
#   517-byte hello is closed as too large, a 512-byte one is routed;
# - 20 clients sending a 64 KiB hello in 64-byte segments, 1 ms apart, are all routed,
#   and the bytes the agent peeked (sockgate_hello_peek_bytes_total) stay within 4x the
#   hello bytes, as when each client sends its hello in one write; the agent's CPU time
#   for the trickled hellos stays under 300 ms (each peek started again from byte 0
#   before: 820 ms for these 20 here, 190 ms per hello in the issue);
# - 100 connections holding 60 KiB of a 64 KiB hello each grow the agent's resident
#   memory by less than 4 MiB: each holds its parser, not a 64 KiB peek buffer.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl python3
e2e_sockgate_env
TOOL=$ROOT/tests/tools/hello_client.py
CONNS=20
BIG_SIZE=65536
tmp=$(e2e_tmpdir)
python3 "$TOOL" make 512 "$tmp/h512.bin"
python3 "$TOOL" make 517 "$tmp/h517.bin"
python3 "$TOOL" make "$BIG_SIZE" "$tmp/big.bin"

e2e_topology_up
e2e_bpffs
e2e_sgflow_server "$tmp/server.log" 9000 "$tmp/big.bin" --ignore-empty
cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: strict
    address: "$GW_IP_CLI:443"
    max_hello_bytes: 512
  - name: default
    address: "$GW_IP_CLI:8443"
routes:
  - name: r
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" --metrics 127.0.0.1:9100
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 9100 || e2e_fail "no metrics: $(cat "$log")"

scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
# value TEXT 'series{labels}': the sample's value (0 when absent).
value() { awk -v k="$2" '$1 == k {print $2; found = 1} END {if (!found) print 0}' <<<"$1"; }
moved() { echo $(($(value "$2" "$3") - $(value "$1" "$3"))); } # BEFORE AFTER SERIES
# The agent's user + system CPU time in milliseconds.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$pid/stat"; }
HELLO_OK='sockgate_connections_total{result="hello_ok"}'

e2e_refused "$tmp/h517.bin" 443 || e2e_fail "a 517-byte hello passed a 512-byte limit"
e2e_poll 5 grep -q '^access .*listener=strict .*end=hello_too_large' "$log" ||
	e2e_fail "no hello_too_large access line: $(cat "$log")"
printf 'ok - a 517-byte hello on a 512-byte listener is closed as too large\n'
before=$(scrape)
e2e_exec "$SG_NS_CLI" python3 "$TOOL" trickle "$GW_IP_CLI" 443 "$tmp/h512.bin" 1 512 0 >/dev/null
e2e_poll 5 grep -q '^access .*listener=strict .*route=r' "$log" ||
	e2e_fail "the 512-byte hello was not routed: $(cat "$log")"
e2e_assert_eq 1 "$(moved "$before" "$(scrape)" "$HELLO_OK")" "a 512-byte hello passes a 512-byte limit"

# deliver LABEL SEGMENT GAP_MS: CONNS clients at once; sets PEEKED (bytes) and CPU (ms).
deliver() {
	local before after c0 out
	before=$(scrape)
	c0=$(cpu_ms)
	out=$(e2e_exec "$SG_NS_CLI" python3 "$TOOL" trickle "$GW_IP_CLI" 8443 "$tmp/big.bin" \
		"$CONNS" "$2" "$3")
	after=$(scrape)
	CPU=$(($(cpu_ms) - c0))
	PEEKED=$(moved "$before" "$after" sockgate_hello_peek_bytes_total)
	e2e_assert_eq "$CONNS" "$(moved "$before" "$after" "$HELLO_OK")" "$1: every hello parsed ($out)"
	e2e_log "$1: $CONNS x $BIG_SIZE-byte hellos: peeked $PEEKED bytes, agent CPU $CPU ms"
}
deliver "one write" "$BIG_SIZE" 0
whole_peeked=$PEEKED whole_cpu=$CPU
deliver "64-byte segments" 64 1
total=$((CONNS * BIG_SIZE))
if [ "$PEEKED" -lt "$total" ] || [ "$PEEKED" -gt $((4 * total)) ]; then
	e2e_fail "64-byte segments: peeked $PEEKED bytes for $total hello bytes (one write: $whole_peeked)"
fi
printf 'ok - 64-byte segments: %d bytes peeked for %d hello bytes (one write: %d)\n' \
	"$PEEKED" "$total" "$whole_peeked"
[ "$CPU" -lt 300 ] || e2e_fail "64-byte segments: agent CPU $CPU ms (one write: $whole_cpu ms)"
printf 'ok - 64-byte segments: agent CPU %d ms (one write: %d ms)\n' "$CPU" "$whole_cpu"

# 100 pending hellos, 60 KiB in each.
PENDING=100
head -c 61440 "$tmp/big.bin" >"$tmp/part.bin"
rss0=$(value "$(scrape)" sockgate_agent_resident_bytes)
e2e_exec "$SG_NS_CLI" python3 "$TOOL" trickle "$GW_IP_CLI" 8443 "$tmp/part.bin" "$PENDING" \
	61440 0 4 >"$tmp/pending.out" 2>&1 &
pending_pid=$!
e2e_track_pid "$pending_pid"
e2e_poll 10 grep -qs '^sent' "$tmp/pending.out" || e2e_fail "pending: $(cat "$tmp/pending.out")"
all_waiting() { [ "$(value "$(scrape)" sockgate_connections_active)" = "$PENDING" ]; }
e2e_poll 10 all_waiting || true # the assertion below says what was seen
m=$(scrape)
e2e_assert_eq "$PENDING" "$(value "$m" sockgate_connections_active)" "pending: $PENDING hellos wait"
grow=$(($(value "$m" sockgate_agent_resident_bytes) - rss0))
e2e_log "pending: $PENDING hellos of which 60 KiB arrived: resident memory +$((grow / 1024)) KiB"
[ "$grow" -lt $((4 << 20)) ] || e2e_fail "pending: resident memory grew by $grow bytes"
printf 'ok - pending: %d waiting hellos grew the agent by %d KiB\n' "$PENDING" $((grow / 1024))
wait "$pending_pid" || e2e_fail "pending: $(cat "$tmp/pending.out")"

kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
e2e_pass "the hello phase is exact in size and linear in cost"
