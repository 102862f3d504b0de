#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# /metrics scraped with curl before and after known traffic; the counters move by exactly
# what was sent: 3 checked flows, 1 malformed hello, 1 unknown SNI, 1 hello without SNI.
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
# Every connection is logged when it is finished: wait for all six.
e2e_poll 10 bash -c "[ \$(grep -c '^access ' '$log') -eq 6 ]" || e2e_fail "access lines: $(cat "$log")"
after=$(scrape)

delta metrics "$before" "$after" 'sockgate_connections_total{result="accepted"}' 6
delta metrics "$before" "$after" 'sockgate_connections_total{result="hello_ok"}' 5
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
e2e_assert_contains "$after" 'sockgate_agent_cpu_seconds_total{mode="user"}' "metrics: agent CPU"
e2e_assert_contains "$(e2e_exec "$SG_NS_GW" curl -s -o /dev/null -w '%{http_code}' \
	http://127.0.0.1:9100/other)" 404 "metrics: other paths are 404"
e2e_pass "/metrics counts exactly the traffic sent"
