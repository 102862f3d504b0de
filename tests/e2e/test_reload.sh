#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Live configuration changes, per dataplane. While 100 connections stream checksummed data
# through route "old" (sample.aliyun.com), the file is rewritten and sockgated gets SIGHUP:
# "old" is removed and "new" (www.example.com) added. Every stream completes intact; new
# connections follow the new table at once. An invalid file is then rejected with its
# file:line:column and changes nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
OLD_HELLO=$HELLOS/crafted-baseline.bin       # SNI sample.aliyun.com
NEW_HELLO=$HELLOS/crafted-sni-trailing-dot.bin # SNI www.example.com

e2e_topology_up
e2e_bpffs
e2e_sgflow_server "$(e2e_tmpdir)/server-old.log" 9000 "$OLD_HELLO"
e2e_sgflow_server "$(e2e_tmpdir)/server-new.log" 9001 "$NEW_HELLO"

cfg=$(e2e_tmpdir)/sockgate.yaml
write_config() { # ROUTE SNI PORT
	cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: $1
    sni: [$2]
    backends:
      - address: "$BE_IP:$3"
YAML
}

for dp in sockmap splice; do
	write_config old sample.aliyun.com 9000
	log=$(e2e_tmpdir)/sockgated-$dp.log
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane "$dp" --bpffs "$BPFFS"
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "$dp: no listener"
	e2e_routed "$OLD_HELLO" || e2e_fail "$dp: route old does not work before the reload"
	e2e_refused "$NEW_HELLO" || e2e_fail "$dp: www.example.com routed before it was configured"

	streams=$(e2e_tmpdir)/streams-$dp.out
	ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$OLD_HELLO" \
		--conns 100 --up 8M --down 32M --seed 100 --pause-read 3000 --fin-after-eof \
		--timeout 120 >"$streams" 2>&1 &
	client=$!
	# The clients read nothing for 3 s: every stream is still in flight at the reload.
	e2e_poll 30 bash -c "[ \$(ip netns exec $SG_NS_GW ss -Htn state established '( sport = :443 )' \
		| wc -l) -ge 100 ]" || e2e_fail "$dp: the 100 streams did not start"

	write_config new www.example.com 9001
	kill -HUP "$pid"
	e2e_poll 10 grep -q 'reloaded: 1 listeners, 1 routes' "$log" || e2e_fail "$dp: no reload: $(tail -5 "$log")"
	kill -0 "$client" 2>/dev/null || e2e_fail "$dp: the streams ended before the reload"
	printf 'ok - %s: SIGHUP reloaded while 100 streams were running\n' "$dp"
	e2e_routed "$NEW_HELLO" || e2e_fail "$dp: the new route does not take new connections"
	printf 'ok - %s: new connections follow the new table at once\n' "$dp"
	e2e_refused "$OLD_HELLO" || e2e_fail "$dp: the removed route still takes new connections"
	printf 'ok - %s: the removed route takes no new connections\n' "$dp"

	# An invalid file: rejected with its position, nothing changes.
	printf 'listeners:\n  - name: tls\n    address: "%s:443"\nroutes:\n  - name: broken\n    sni: ["a..b"]\n    backends: []\n' \
		"$GW_IP_CLI" >"$cfg"
	kill -HUP "$pid"
	e2e_poll 10 grep -q 'reload rejected' "$log" || e2e_fail "$dp: invalid file not rejected"
	e2e_assert_contains "$(cat "$log")" "$cfg:6:11: routes[0].sni[0]: bad SNI pattern" \
		"$dp: the invalid file is reported at file:line:column"
	e2e_routed "$NEW_HELLO" || e2e_fail "$dp: the rejected reload changed the running table"
	printf 'ok - %s: the rejected file changed nothing\n' "$dp"

	wait "$client" || e2e_fail "$dp: streams failed: $(grep -v result=ok "$streams" | head -5)"
	e2e_assert_contains "$(cat "$streams")" "100 ok, 0 failed" \
		"$dp: all 100 streams across the reloads completed intact"
	kill -TERM "$pid"
	wait "$pid" || e2e_fail "$dp: sockgated exit status"
done
e2e_pass "reloads keep running connections intact and apply to new ones; bad files change nothing"
