#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# --workers 2 (docs/ARCHITECTURE.md, section "Workers"):
# - the agent runs two worker loops besides its root, and both accept connections
#   (sockgate_worker_accepted_total), which sum to exactly the connections accepted;
# - counters stay exact over the workers: 300 short checked connections (they stay in the
#   copy) and 100 of 1 MiB each way (promoted mid-stream) give accepted, copied, promoted,
#   closed and bytes totals equal to what the clients did, byte for byte;
# - reloads while both workers carry 60 checked streams (whose clients read nothing for 4 s,
#   so all are in flight): five `sockgate
#   reload`s that add and remove a listener and move a route; every stream stays intact, a
#   connection to the added listener is served and one to the removed listener is refused.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl python3
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com
HELLO_LEN=$(stat -c %s "$HELLO")
export SG_E2E_CMD_TIMEOUT=120

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO"
e2e_sgflow_server "$tmp/server2.log" 9001 "$HELLO"
cfg=$tmp/sockgate.yaml
# write_config EXTRA_LISTENER(yes|no) PORT: the route to PORT, with or without :8443.
write_config() {
	{
		echo "listeners:"
		echo "  - name: tls"
		echo "    address: \"$GW_IP_CLI:443\""
		[ "$1" = yes ] && printf '  - name: extra\n    address: "%s:8443"\n' "$GW_IP_CLI"
		echo "routes:"
		echo "  - name: flows"
		echo "    sni: [sample.aliyun.com]"
		echo "    backends:"
		echo "      - address: \"$BE_IP:$2\""
	} >"$cfg"
}
scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
value() { awk -v k="$2" '$1 == k {print $2; found = 1} END {if (!found) print 0}' <<<"$1"; }

write_config no 9000
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" --workers 2 \
	--metrics 127.0.0.1:9100
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no agent: $(cat "$log")"
grep -q 'workers: 2 event loops' "$log" || e2e_fail "no workers: $(cat "$log")"
threads=$(ls "/proc/$pid/task" | wc -l)
[ "$threads" -ge 3 ] || e2e_fail "$threads threads: expected the root and 2 workers"
printf 'ok - 2 workers started (%s threads)\n' "$threads"

# ---- exact counters ------------------------------------------------------------------
out=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns 300 \
	--up 1K --down 2K --seed 10)
e2e_assert_contains "$out" "300 ok, 0 failed" "300 short connections, each checked"
out=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns 100 \
	--up 1M --down 1M --seed 1000 --fin-after-eof)
e2e_assert_contains "$out" "100 ok, 0 failed" "100 connections of 1 MiB each way, each checked"
e2e_poll 10 bash -c "[ \$(grep -c '^access .* end=eof' '$log') -ge 400 ]" ||
	e2e_fail "not every access line arrived: $(grep -c '^access' "$log")"
m=$(scrape)
e2e_assert_eq 400 "$(value "$m" sockgate_connections_accepted_total)" "accepted: 400"
e2e_assert_eq 400 "$(value "$m" 'sockgate_connections_stage_total{stage="copied"}')" "copied: 400"
e2e_assert_eq 400 "$(value "$m" 'sockgate_connections_closed_total{end="closed"}')" "closed: 400"
e2e_assert_eq 0 "$(value "$m" sockgate_connections_active)" "active: 0"
promoted=$(value "$m" 'sockgate_connections_stage_total{stage="promoted"}')
e2e_assert_eq "$promoted" "$(grep -c '^access .* promoted_ms=' "$log")" \
	"promoted counter equals the promoted access lines"
# Each 1 MiB pair passes --promote-bytes (256 KiB); one whose settle point does not come
# before its stream ends finishes in the copy, which is correct, only slower.
[ "$promoted" -ge 50 ] || e2e_fail "only $promoted of the 1 MiB connections were promoted"
printf 'ok - %s of the 100 connections of 1 MiB were promoted mid-stream\n' "$promoted"
up=$((300 * (HELLO_LEN + 24 + 1024) + 100 * (HELLO_LEN + 24 + 1048576)))
down=$((300 * 2048 + 100 * 1048576))
e2e_assert_eq "$up" "$(value "$m" 'sockgate_bytes_total{direction="up"}')" "bytes up, exact"
e2e_assert_eq "$down" "$(value "$m" 'sockgate_bytes_total{direction="down"}')" "bytes down, exact"
w0=$(value "$m" 'sockgate_worker_accepted_total{worker="0"}')
w1=$(value "$m" 'sockgate_worker_accepted_total{worker="1"}')
e2e_assert_eq 400 $((w0 + w1)) "the workers' accepts sum to the accepted total"
[ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] || e2e_fail "one worker accepted nothing: $w0 and $w1"
printf 'ok - both workers accepted (%s and %s)\n' "$w0" "$w1"

# ---- reloads while both workers carry traffic ------------------------------------------
streams=$tmp/streams.out
ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns 60 \
	--up 8M --down 8M --pause-read 4000 --seed 5000 --fin-after-eof --timeout 60 \
	>"$streams" 2>&1 &
client=$!
e2e_track_pid "$client"
active_at_least() { [ "$(value "$(scrape)" sockgate_connections_active)" -ge "$1" ]; }
e2e_poll 20 active_at_least 60 || e2e_fail "the 60 streams did not start: $(tail -3 "$streams")"
for i in 1 2 3 4 5; do
	if [ $((i % 2)) -eq 1 ]; then write_config yes 9001; else write_config no 9000; fi
	timeout 10 "$SOCKGATE" reload >/dev/null || e2e_fail "reload $i failed: $(tail -3 "$log")"
	kill -0 "$client" 2>/dev/null || e2e_fail "the streams ended before reload $i"
done
printf 'ok - 5 reloads while 60 streams ran on both workers\n'
# The last reload (5, odd) added :8443 and moved the route to :9001.
e2e_routed "$HELLO" 8443 || e2e_fail "the added listener does not serve"
grep -q "conn peer=" "$tmp/server2.log" || e2e_fail "the moved route did not reach :9001"
printf 'ok - the added listener serves, the moved route reaches its new backend\n'
write_config no 9000
timeout 10 "$SOCKGATE" reload >/dev/null || e2e_fail "reload 6 failed"
! e2e_routed "$HELLO" 8443 || e2e_fail "the removed listener still serves"
printf 'ok - the removed listener no longer serves\n'
wait "$client" || e2e_fail "streams across the reloads failed: $(grep -v result=ok "$streams" | tail -5)"
e2e_assert_contains "$(cat "$streams")" "60 ok, 0 failed" "60 streams across 6 reloads, each checked"
m=$(scrape)
e2e_assert_eq 6 "$(value "$m" 'sockgate_reloads_total{result="ok"}')" "6 reloads counted"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
e2e_assert_eq 0 "$rc" "sockgated with 2 workers exits 0 on SIGTERM"
e2e_pass "2 workers share the listeners, keep exact counters and take reloads under traffic"
