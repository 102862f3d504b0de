#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A SIGHUP that arrives while the agent is still starting (loading its configuration,
# resolving its backends' names) is kept for the event loop: the agent keeps running and
# serves. The gateway's DNS server does not answer, so the first resolution takes about
# a second: that is the window a logrotate during a restart falls into.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin
TRIES=3

e2e_topology_up
e2e_bpffs
# A nameserver on the backend link that no host owns: queries go unanswered.
mkdir -p "/etc/netns/$SG_NS_GW"
printf 'nameserver 10.199.2.77\noptions timeout:1 attempts:1\n' >"/etc/netns/$SG_NS_GW/resolv.conf"
e2e_sgflow_server "$(e2e_tmpdir)/server.log" 9000 "$HELLO"
cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: r
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
  - name: slow
    sni: [slow.aliyun.com]
    backends:
      - address: "backend.sg-e2e.test:9000"
YAML

is_sockgated() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sockgated ]; }

for ((try = 1; try <= TRIES; try++)); do
	log=$(e2e_tmpdir)/sockgated.$try.log
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS"
	pid=$E2E_BG_PID
	e2e_poll 5 is_sockgated "$pid" || e2e_fail "try $try: sockgated did not start"
	# Past the dynamic loader, inside main(): before the fix, still in the first resolution.
	sleep 0.2
	kill -HUP "$pid"
	e2e_poll 15 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 ||
		e2e_fail "try $try: sockgated did not survive an early SIGHUP: $(cat "$log")"
	e2e_routed "$HELLO" || e2e_fail "try $try: no flow through the agent"
	kill -TERM "$pid"
	wait "$pid" || e2e_fail "try $try: sockgated exit status"
	printf 'ok - try %d: a SIGHUP during startup is kept for the loop; the agent serves\n' "$try"
done
e2e_pass "signals are blocked before the configuration loads"
