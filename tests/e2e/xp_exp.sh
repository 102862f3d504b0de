#!/usr/bin/env bash
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
e2e_require_root
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin
export SG_E2E_CMD_TIMEOUT=120
e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO" --timeout 120
e2e_sgflow_server "$tmp/server-long.log" 9001 "$HELLO" --timeout 120 --reply-after-eof
cat >"$tmp/c.yaml" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
  - name: long
    address: "$GW_IP_CLI:8443"
routes:
  - name: flows
    listeners: [tls]
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
  - name: long
    listeners: [long]
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9001"
YAML
e2e_bg "$SG_NS_GW" "$tmp/a.log" "$SOCKGATED" --config "$tmp/c.yaml" --bpffs "$BPFFS" --dataplane express ${EXTRA:-}
e2e_poll 10 e2e__listens "$SG_NS_GW" "$E2E_BG_PID" "$GW_IP_CLI" 443 || e2e_fail "no start"
ip netns exec "$SG_NS_CLI" bash -c 'for i in $(seq 1 1500); do "$1" client "$2" 443 --hello "$3" --up 16K --down 16K --seed $i >/dev/null 2>&1 & sleep 0.005; done; wait' _ "$SGFLOW" "$GW_IP_CLI" "$HELLO" &
for r in 1 2 3; do
  out=$(ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 8443 --hello "$HELLO" --conns 6 --up $((5*1024*1024)) --up-rate $((512*1024)) --down 8M --seed $((r*100)) --timeout 40 2>&1 || true)
  echo "round $r: $(grep -c result=ok <<<"$out") ok; $(grep FAIL <<<"$out" | head -2)"
done
grep -o "dataplane=[a-z]*" "$tmp/a.log" | sort | uniq -c
wait
