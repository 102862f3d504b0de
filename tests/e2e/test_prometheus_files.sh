#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The monitoring files under deploy/ work with what the agent exports: promtool accepts
# the scrape config and the alert rules, promtool's rule tests fire the reload alert on
# a series shaped as the agent writes it, the Grafana dashboard is JSON with a query in
# every panel, and every sockgate_* and process_* name that the rules and the dashboard
# use appears in a real scrape of a running agent (sockmap dataplane, after a routed
# flow and a refused connect, so the histograms and per-backend series exist).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl promtool python3
e2e_sockgate_env
DEPLOY=$ROOT/deploy
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com

out=$(promtool check config "$DEPLOY/prometheus/scrape.yml" 2>&1) ||
	e2e_fail "promtool check config: $out"
printf 'ok - promtool check config deploy/prometheus/scrape.yml\n'
out=$(promtool check rules "$DEPLOY/prometheus/alerts.yml" 2>&1) ||
	e2e_fail "promtool check rules: $out"
printf 'ok - promtool check rules deploy/prometheus/alerts.yml\n'

# The reload alert fires after 5 minutes of a rejected configuration, and not before.
tmp=$(e2e_tmpdir)
cat >"$tmp/alerts_test.yml" <<YAML
rule_files:
  - $DEPLOY/prometheus/alerts.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'sockgate_config_last_reload_successful{job="sockgate",instance="gw:7469"}'
        values: '1 1 0 0 0 0 0 0 0 0'
      - series: 'sockgate_config_last_reload_success_timestamp_seconds{job="sockgate",instance="gw:7469"}'
        values: '60x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: SockgateConfigReloadFailed
      - eval_time: 8m
        alertname: SockgateConfigReloadFailed
        exp_alerts:
          - exp_labels: {severity: warning, job: sockgate, instance: "gw:7469"}
            exp_annotations:
              summary: "sockgated on gw:7469 rejected its latest configuration"
              description: "The configuration in force was loaded at 1970-01-01 00:01:00 +0000 UTC; \`sockgated -t -c FILE\` says what is wrong with the new one."
YAML
out=$(promtool test rules "$tmp/alerts_test.yml" 2>&1) || e2e_fail "promtool test rules: $out"
printf 'ok - promtool test rules: SockgateConfigReloadFailed fires after 5 min of 0\n'

# Every metric name of ours in the rules (comments aside) and in the dashboard's queries.
used=$(
	{
		grep -v '^[[:space:]]*#' "$DEPLOY/prometheus/alerts.yml"
		python3 - "$DEPLOY/grafana/sockgate.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
panels = d["panels"]
assert panels, "no panel"
for p in panels:
    targets = p.get("targets") or []
    assert targets and all(t.get("expr") for t in targets), "panel without a query: " + p["title"]
    for t in targets:
        print(t["expr"])
for v in d.get("templating", {}).get("list", []):
    if v.get("type") == "query":
        print(v["query"])
PY
	} | grep -oE '\b(sockgate|process)_[a-z0-9_]+' | sort -u
)
[ -n "$used" ] || e2e_fail "no metric name found in deploy/"
printf 'ok - the dashboard is JSON and every panel has a query\n'

e2e_topology_up
e2e_bpffs
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
  - name: dead
    sni: [a.b.c.example.org]
    backends:
      - address: "$BE_IP:9001"
YAML
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO"
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS" \
	--metrics 127.0.0.1:7469
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 7469 || e2e_fail "no metrics: $(cat "$log")"
out=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns 1 \
	--up 64K --down 64K --fin-after-eof)
e2e_assert_contains "$out" "1 ok, 0 failed" "a routed flow"
# Nothing listens on $BE_IP:9001: a connect failure of the dead route's backend.
e2e_exec "$SG_NS_CLI" "$SGFLOW" replay "$GW_IP_CLI" 443 "$HELLOS/openssl-default-sni-alpn.bin" \
	--wait 5 >/dev/null || true
e2e_poll 10 bash -c "[ \$(grep -c '^access ' '$log') -eq 2 ]" || e2e_fail "access lines: $(cat "$log")"
scrape=$(e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:7469/metrics)
have=$(grep -v '^#' <<<"$scrape" | grep -oE '^[a-zA-Z_:][a-zA-Z0-9_:]*' | sort -u)

missing=$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$have"))
[ -z "$missing" ] || e2e_fail "deploy/ uses series the agent does not export: $(tr '\n' ' ' <<<"$missing")"
printf 'ok - all %s series names in the rules and the dashboard are in a scrape\n' "$(wc -l <<<"$used")"
e2e_pass "promtool accepts deploy/prometheus; rules and dashboard use only exported series"
