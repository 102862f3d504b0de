#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# /metrics scraped with curl before and after known traffic; the counters move by exactly
# what was sent: 3 checked flows, 1 malformed hello, 1 unknown SNI, 1 hello without SNI,
# 1 hello routed to a backend that refuses. Then a reload that removes that route: its
# series stay, unchanged.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin # 275 bytes, SNI sample.aliyun.com
UP=$((1 << 20))
DOWN=$((2 << 20))

e2e_topology_up
e2e_bpffs
cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: flows
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
  - name: dead
    sni: [a.b.c.example.org]
    backends:
      - address: "$BE_IP:9001"
YAML
e2e_sgflow_server "$(e2e_tmpdir)/server.log" 9000 "$HELLO"
log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS" \
	--metrics 127.0.0.1:9100
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 9100 || e2e_fail "no metrics: $(cat "$log")"

scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
# value TEXT 'series{labels}': the sample's value (0 when absent).
value() { awk -v k="$2" '$1 == k {print $2; found = 1} END {if (!found) print 0}' <<<"$1"; }
delta() { # NAME BEFORE AFTER SERIES EXPECTED
	local got=$(($(value "$3" "$4") - $(value "$2" "$4")))
	e2e_assert_eq "$5" "$got" "$1: $4 moved by $5"
}

before=$(scrape)
e2e_assert_contains "$before" "# TYPE sockgate_connections_total counter" "metrics: Prometheus text format"

out=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns 3 \
	--up "$UP" --down "$DOWN" --fin-after-eof)
e2e_assert_contains "$out" "3 ok, 0 failed" "three checked flows"
for f in crafted-session-id-33.bin openssl-tls12-sni.bin python-no-sni.bin; do
	e2e_exec "$SG_NS_CLI" "$SGFLOW" replay "$GW_IP_CLI" 443 "$HELLOS/$f" --wait 5 |
		grep -Eq 'received=0 end=(eof|reset)' || e2e_fail "$f was not refused"
done
# Nothing listens on $BE_IP:9001: the backend refuses.
e2e_exec "$SG_NS_CLI" "$SGFLOW" replay "$GW_IP_CLI" 443 "$HELLOS/openssl-default-sni-alpn.bin" \
	--wait 5 | grep -Eq 'received=0 end=(eof|reset)' || e2e_fail "the dead route's connection stayed open"
# Every connection is logged when it is finished: wait for all seven.
e2e_poll 10 bash -c "[ \$(grep -c '^access ' '$log') -eq 7 ]" || e2e_fail "access lines: $(cat "$log")"
after=$(scrape)

delta metrics "$before" "$after" 'sockgate_connections_total{result="accepted"}' 7
delta metrics "$before" "$after" 'sockgate_connections_total{result="hello_ok"}' 6
delta metrics "$before" "$after" 'sockgate_connections_total{result="connect_failed"}' 1
delta metrics "$before" "$after" 'sockgate_connections_total{result="spliced"}' 3
delta metrics "$before" "$after" 'sockgate_connections_total{result="closed"}' 3
delta metrics "$before" "$after" 'sockgate_connections_total{result="hello_malformed"}' 1
delta metrics "$before" "$after" 'sockgate_connections_total{result="reject_unknown_sni"}' 1
delta metrics "$before" "$after" 'sockgate_connections_total{result="reject_no_sni"}' 1
delta metrics "$before" "$after" 'sockgate_hello_errors_total{reason="session_id"}' 1
delta metrics "$before" "$after" 'sockgate_bytes_total{direction="up"}' $((3 * (UP + 24 + 275)))
delta metrics "$before" "$after" 'sockgate_bytes_total{direction="down"}' $((3 * DOWN))
# Every byte went through the verdict program or, for tails after a pause or
# a half-close, through user space; the two together are the traffic.
copied=$(($(value "$after" sockgate_user_copied_bytes_total) - $(value "$before" sockgate_user_copied_bytes_total)))
delta metrics "$before" "$after" 'sockgate_bpf_events_total{event="redirect_bytes"}' \
	$((3 * (UP + 24 + 275 + DOWN) - copied))
e2e_assert_eq 0 "$(value "$after" sockgate_connections_active)" "metrics: no connection left open"
# The same traffic in the families that keep stages apart from ends: each connection
# ends once, so the ends add up to the connections accepted.
delta split "$before" "$after" sockgate_connections_accepted_total 7
delta split "$before" "$after" 'sockgate_connections_stage_total{stage="hello_ok"}' 6
delta split "$before" "$after" 'sockgate_connections_stage_total{stage="spliced"}' 3
delta split "$before" "$after" 'sockgate_connections_closed_total{end="closed"}' 3
delta split "$before" "$after" 'sockgate_connections_closed_total{end="connect_failed"}' 1
delta split "$before" "$after" 'sockgate_connections_closed_total{end="hello_malformed"}' 1
delta split "$before" "$after" 'sockgate_connections_closed_total{end="reject_unknown_sni"}' 1
delta split "$before" "$after" 'sockgate_connections_closed_total{end="reject_no_sni"}' 1
ends=$(awk '$1 ~ /^sockgate_connections_closed_total\{/ {n += $2} END {print n + 0}' <<<"$after")
e2e_assert_eq "$(value "$after" sockgate_connections_accepted_total)" "$ends" \
	"split: the ends add up to the connections accepted"
delta split "$before" "$after" sockgate_redirected_bytes_total \
	$((3 * (UP + 24 + 275 + DOWN) - copied))
e2e_assert_contains "$after" 'sockgate_build_info{version="' "metrics: build info"
e2e_assert_eq 1 "$(value "$after" sockgate_config_last_reload_successful)" "metrics: configuration loaded"
e2e_assert_contains "$after" 'sockgate_agent_cpu_seconds_total{mode="user"}' "metrics: agent CPU"

# By listener and route: before routing (accepted, hello_ok) and without a route (refused,
# malformed) the route is empty; the outcomes of routed connections carry the route.
rc() { printf 'sockgate_route_connections_total{listener="tls",route="%s",result="%s"}' "$1" "$2"; }
delta route "$before" "$after" "$(rc '' accepted)" 7
delta route "$before" "$after" "$(rc '' hello_ok)" 6
delta route "$before" "$after" "$(rc '' hello_malformed)" 1
delta route "$before" "$after" "$(rc '' reject_unknown_sni)" 1
delta route "$before" "$after" "$(rc '' reject_no_sni)" 1
delta route "$before" "$after" "$(rc flows spliced)" 3
delta route "$before" "$after" "$(rc flows closed)" 3
delta route "$before" "$after" "$(rc dead connect_failed)" 1
delta route "$before" "$after" "$(rc flows accepted)" 0
# Whole hellos as peeked: 3 x 275 (baseline), 212 (tls12-sni), 517 (no-sni), 341 (dead
# route); the malformed one is not a hello.
hs() { printf 'sockgate_hello_size_bytes_bucket{le="%s"}' "$1"; }
delta hello "$before" "$after" "$(hs 256)" 1
delta hello "$before" "$after" "$(hs 512)" 5
delta hello "$before" "$after" "$(hs 1024)" 6
delta hello "$before" "$after" "$(hs +Inf)" 6
delta hello "$before" "$after" sockgate_hello_size_bytes_sum $((3 * 275 + 212 + 517 + 341))
delta hello "$before" "$after" sockgate_hello_size_bytes_count 6
# One connect per checked flow; the refused one is a failure of that backend, not a latency.
delta connect "$before" "$after" 'sockgate_backend_connect_seconds_count{route="flows"}' 3
delta connect "$before" "$after" 'sockgate_backend_connect_seconds_bucket{route="flows",le="+Inf"}' 3
delta connect "$before" "$after" 'sockgate_backend_connect_seconds_bucket{route="dead",le="+Inf"}' 0
delta connect "$before" "$after" \
	"sockgate_backend_connect_failures_total{route=\"dead\",backend=\"$BE_IP:9001\"}" 1
delta connect "$before" "$after" \
	"sockgate_backend_connect_failures_total{route=\"flows\",backend=\"$BE_IP:9000\"}" 0
e2e_assert_eq 1 "$(value "$after" "sockgate_backend_endpoints_resolved{route=\"flows\",backend=\"$BE_IP:9000\"}")" \
	"metrics: the flows backend has its one endpoint"
# Every sample is well-formed and belongs to a family declared with # TYPE.
python3 -c '
import re, sys
sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\n]|\\.)*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\n]|\\.)*\")*\})? (\S+)$")
types = {}
for line in sys.stdin.read().splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        types[name] = kind
        continue
    if line.startswith("#"):
        continue
    m = sample.match(line)
    assert m, "malformed sample: " + line
    float(m.group(6).replace("+Inf", "inf"))
    name = m.group(1)
    family = re.sub(r"_(bucket|sum|count)$", "", name)
    assert types.get(name) or types.get(family) == "histogram", "no TYPE: " + line
' <<<"$after" || e2e_fail "the exposition is not valid Prometheus text"
printf 'ok - metrics: every sample parses and has a TYPE\n'
e2e_assert_eq 0 "$(value "$after" sockgate_access_log_dropped_total)" "metrics: no access line dropped"
rss=$(value "$after" sockgate_agent_resident_bytes)
[ "$rss" -gt 0 ] && [ $((rss % $(getconf PAGESIZE))) -eq 0 ] ||
	e2e_fail "sockgate_agent_resident_bytes is $rss, not a positive number of pages"
printf 'ok - metrics: resident memory %s bytes\n' "$rss"

# A reload without the dead route: new connections use the new config, and every series
# counted so far stays, unchanged (counters are keyed by name, outside the config).
sed -i '/name: dead/,$d' "$cfg"
kill -HUP "$pid"
reloaded_once() { scrape | grep -q '^sockgate_reloads_total{result="ok"} 1$'; }
e2e_poll 10 reloaded_once || e2e_fail "no reload: $(cat "$log")"
# One more flow after the reload counts on in the same series.
out=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns 1 \
	--up 4096 --down 4096 --fin-after-eof --seed 9)
e2e_assert_contains "$out" "1 ok, 0 failed" "reload: a checked flow on the new configuration"
e2e_poll 10 bash -c "[ \$(grep -c '^access ' '$log') -eq 8 ]" || e2e_fail "access lines: $(cat "$log")"
reloaded=$(scrape)
delta reload "$after" "$reloaded" "$(rc flows spliced)" 1
delta reload "$after" "$reloaded" "$(rc '' accepted)" 1
delta reload "$after" "$reloaded" 'sockgate_backend_connect_seconds_count{route="flows"}' 1
# The removed route's series are still there, unchanged (absent would read as -1 here).
delta reload "$after" "$reloaded" "$(rc dead connect_failed)" 0
delta reload "$after" "$reloaded" \
	"sockgate_backend_connect_failures_total{route=\"dead\",backend=\"$BE_IP:9001\"}" 0
e2e_assert_not_contains "$reloaded" 'sockgate_backend_endpoints_resolved{route="dead"' \
	"reload: the gauge shows only the running configuration"
e2e_assert_contains "$(e2e_exec "$SG_NS_GW" curl -s -o /dev/null -w '%{http_code}' \
	http://127.0.0.1:9100/other)" 404 "metrics: other paths are 404"
e2e_pass "/metrics counts exactly the traffic sent"
