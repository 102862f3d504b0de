#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The probes and the series an operator watches first, on the --metrics listener:
# /healthz 200 "ok"; /ready 200 once serving and 503 with the reason while draining after
# SIGTERM; the standard process_* series, sane; sockgate_build_info with the version; the
# reload gauge 0 after a rejected reload and 1 again after a good one, its timestamp
# moving only then; sockgate_redirected_bytes_total growing with traffic, and a long
# flow's bytes in sockgate_route_open_bytes while it is open, back to 0 when it ends, on
# both dataplanes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin # 275 bytes, SNI sample.aliyun.com
M=127.0.0.1:7469

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: flows
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
cp "$cfg" "$tmp/good.yaml"
# The backend answers only after the client's end of stream: a paced upload stays an
# open, spliced flow for seconds.
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO" --reply-after-eof --timeout 120
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS" \
	--metrics "$M"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 7469 || e2e_fail "no metrics: $(cat "$log")"

# get PATH: "CODE BODY" of GET http://$M/PATH.
get() {
	local body=$tmp/body code
	code=$(e2e_exec "$SG_NS_GW" curl -sS --max-time 5 -o "$body" -w '%{http_code}' "http://$M$1") ||
		code=000
	printf '%s %s' "$code" "$(cat "$body" 2>/dev/null)"
}
scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 "http://$M/metrics"; }
# value TEXT SERIES: the sample's value, "" when absent.
value() { awk -v k="$2" '$1 == k {print $2}' <<<"$1"; }
# int TEXT SERIES: the value cut to an integer ("" when absent).
int() { local v; v=$(value "$1" "$2"); printf '%s' "${v%%.*}"; }

e2e_assert_eq "200 ok" "$(get /healthz)" "/healthz: 200 ok"
ready=$(get /ready)
e2e_assert_contains "$ready" "200 ready: 1 listeners, sockmap dataplane" "/ready: 200 once serving"

now=$(date +%s)
m=$(scrape)
open_fds=$(int "$m" process_open_fds)
max_fds=$(int "$m" process_max_fds)
start=$(int "$m" process_start_time_seconds)
rss=$(int "$m" process_resident_memory_bytes)
vsz=$(int "$m" process_virtual_memory_bytes)
[ -n "$open_fds" ] && [ "$open_fds" -gt 0 ] || e2e_fail "process_open_fds is '$open_fds'"
[ -n "$max_fds" ] && [ "$max_fds" -ge "$open_fds" ] || e2e_fail "process_max_fds '$max_fds' < open $open_fds"
# The scrape's own connection was open while it counted: one more than now, give or take.
listed=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
[ $((open_fds - listed)) -ge -2 ] && [ $((open_fds - listed)) -le 2 ] ||
	e2e_fail "process_open_fds $open_fds, /proc/$pid/fd lists $listed"
[ -n "$start" ] && [ "$start" -le "$now" ] && [ "$start" -gt $((now - 3600)) ] ||
	e2e_fail "process_start_time_seconds '$start' is not within the last hour of $now"
[ -n "$rss" ] && [ "$rss" -gt 0 ] && [ -n "$vsz" ] && [ "$vsz" -ge "$rss" ] ||
	e2e_fail "memory: resident '$rss', virtual '$vsz'"
[ -n "$(value "$m" process_cpu_seconds_total)" ] || e2e_fail "no process_cpu_seconds_total"
printf 'ok - process_*: %s of %s descriptors, started %ss ago, %s bytes resident\n' \
	"$open_fds" "$max_fds" $((now - start)) "$rss"
version=$("$SOCKGATED" --version | awk '{print $2}')
e2e_assert_eq 1 "$(value "$m" "sockgate_build_info{version=\"$version\"}")" "sockgate_build_info names $version"
e2e_assert_eq 1 "$(value "$m" sockgate_config_last_reload_successful)" "the configuration is loaded"
loaded=$(int "$m" sockgate_config_last_reload_success_timestamp_seconds)
[ -n "$loaded" ] && [ "$loaded" -le "$now" ] && [ "$loaded" -ge "$start" ] ||
	e2e_fail "sockgate_config_last_reload_success_timestamp_seconds '$loaded' is not the start ($start..$now)"
e2e_assert_eq 0 "$(value "$m" 'sockgate_route_open_bytes{route="flows",direction="up"}')" \
	"no open connection: no open bytes"
redirected0=$(value "$m" sockgate_redirected_bytes_total)
[ -n "$redirected0" ] || e2e_fail "no sockgate_redirected_bytes_total"

# A paced 1 MiB upload: about 8 s open, its bytes visible and growing while it is.
client_out=$tmp/client.out
ip netns exec "$SG_NS_CLI" timeout --kill-after=5 60 "$SGFLOW" client "$GW_IP_CLI" 443 \
	--hello "$HELLO" --up 1M --up-rate 128K --down 64K --timeout 50 >"$client_out" 2>&1 &
client=$!
e2e_track_pid "$client"
up_series='sockgate_route_open_bytes{route="flows",direction="up"}'
open_up() { int "$(scrape)" "$up_series"; }
first_open() { local v; v=$(open_up); [ -n "$v" ] && [ "$v" -gt 0 ] && printf '%s' "$v" >"$tmp/open1"; }
e2e_poll 10 first_open || e2e_fail "the open flow's bytes never showed: $(scrape | grep open_bytes)"
open1=$(cat "$tmp/open1")
grew() { local v; v=$(open_up); [ -n "$v" ] && [ "$v" -gt "$open1" ]; }
e2e_poll 10 grew || e2e_fail "the open flow's bytes stayed at $open1"
printf 'ok - a long flow shows in sockgate_route_open_bytes while open (%s, then more)\n' "$open1"
wait "$client" || e2e_fail "the paced flow failed: $(cat "$client_out")"
e2e_assert_contains "$(cat "$client_out")" "1 ok, 0 failed" "the paced flow arrived intact"
ended() { [ "$(open_up)" = 0 ]; }
e2e_poll 10 ended || e2e_fail "open bytes stayed at $(open_up) after the flow ended"
printf 'ok - its open bytes are 0 again once it ended\n'
m=$(scrape)
redirected1=$(value "$m" sockgate_redirected_bytes_total)
[ "$redirected1" -gt "$redirected0" ] ||
	e2e_fail "sockgate_redirected_bytes_total did not grow: $redirected0 -> $redirected1"
printf 'ok - sockgate_redirected_bytes_total grew by %s\n' $((redirected1 - redirected0))
e2e_assert_eq "$(value "$m" 'sockgate_bpf_events_total{event="redirect_bytes"}')" "$redirected1" \
	"the deprecated redirect_bytes event counts the same bytes"
e2e_assert_eq 1 "$(value "$m" sockgate_connections_accepted_total)" "one connection accepted"
e2e_assert_eq 1 "$(value "$m" 'sockgate_connections_stage_total{stage="spliced"}')" "...and spliced"
e2e_assert_eq 1 "$(value "$m" 'sockgate_connections_closed_total{end="closed"}')" "...and closed"

# A rejected reload: 0, the previous configuration's timestamp kept; a good one: 1 again.
gauge() { value "$(scrape)" sockgate_config_last_reload_successful; }
echo "routes: [" >"$cfg"
kill -HUP "$pid"
rejected() { [ "$(gauge)" = 0 ]; }
e2e_poll 10 rejected || e2e_fail "the gauge stayed $(gauge) after a rejected reload: $(cat "$log")"
e2e_assert_eq "$loaded" "$(int "$(scrape)" sockgate_config_last_reload_success_timestamp_seconds)" \
	"a rejected reload keeps the timestamp of the configuration in force"
e2e_assert_contains "$(get /ready)" "200 " "/ready stays 200: the previous configuration serves"
cp "$tmp/good.yaml" "$cfg"
kill -HUP "$pid"
accepted() { [ "$(gauge)" = 1 ]; }
e2e_poll 10 accepted || e2e_fail "the gauge stayed $(gauge) after a good reload: $(cat "$log")"
reloaded=$(int "$(scrape)" sockgate_config_last_reload_success_timestamp_seconds)
[ "$reloaded" -ge "$loaded" ] && [ "$reloaded" -le "$(date +%s)" ] ||
	e2e_fail "timestamp after the good reload: $reloaded (was $loaded)"
printf 'ok - reload gauge: 0 after a rejected reload, 1 after a good one\n'

# Draining after SIGTERM with a flow open: not ready (the listeners are closed), alive.
ip netns exec "$SG_NS_CLI" timeout --kill-after=5 60 "$SGFLOW" client "$GW_IP_CLI" 443 \
	--hello "$HELLO" --up 1M --up-rate 64K --down 64K --timeout 50 >"$client_out" 2>&1 &
e2e_track_pid $!
open_now() { [ "$(value "$(scrape)" sockgate_connections_active)" = 1 ]; }
e2e_poll 10 open_now || e2e_fail "the second flow never opened"
kill -TERM "$pid"
draining() { [[ "$(get /ready)" == "503 stopping: draining 1 connections"* ]]; }
e2e_poll 5 draining || e2e_fail "/ready while draining: $(get /ready)"
printf 'ok - /ready: 503 with the reason while draining\n'
e2e_assert_eq "200 ok" "$(get /healthz)" "/healthz: 200 while draining (the loop runs)"
kill -TERM "$pid" # a second signal ends the drain at once
gone() { ! e2e_alive "$pid"; }
e2e_poll 10 gone || e2e_fail "the agent did not stop"

# The splice dataplane counts an open connection's bytes in its relay: they show too, and
# /ready names the dataplane.
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane splice --metrics "$M"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 7469 || e2e_fail "splice: no metrics: $(cat "$log")"
e2e_assert_contains "$(get /ready)" "200 ready: 1 listeners, splice dataplane" "splice: /ready 200"
ip netns exec "$SG_NS_CLI" timeout --kill-after=5 60 "$SGFLOW" client "$GW_IP_CLI" 443 \
	--hello "$HELLO" --up 512K --up-rate 128K --down 64K --timeout 50 >"$client_out" 2>&1 &
client=$!
e2e_track_pid "$client"
open1=0
e2e_poll 10 grew || e2e_fail "splice: the open flow's bytes never showed: $(scrape | grep open_bytes)"
printf 'ok - splice: a relayed flow shows in sockgate_route_open_bytes while open\n'
wait "$client" || e2e_fail "splice: the paced flow failed: $(cat "$client_out")"
e2e_poll 10 ended || e2e_fail "splice: open bytes stayed at $(open_up) after the flow ended"
e2e_pass "/healthz, /ready, process_*, build info, reload gauge, redirected and open bytes"
