#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A client that stops reading for 5 s while the backend pushes 1 GiB at it, through
# sockgated, per dataplane. The kernel gives sockmap no backpressure
# (docs/SOCKMAP.md, section "No backpressure"):
# without the agent's pair budget the gateway would hold the whole GiB. Asserts:
# every byte arrives intact once the client reads again; the sockmap pair was paused
# and the largest queue the agent saw stays within four budgets (the abort limit);
# machine-wide MemAvailable never drops by more than 256 MiB (client, gateway and
# backend share this kernel, so their socket buffers count too; unbounded it is ~1 GiB),
# and slab grows by at most 64 MiB.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin
BUDGET=$((4 << 20))
MAX_DROP_KIB=$((256 << 10))

e2e_topology_up
e2e_bpffs
cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: bulk
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
e2e_sgflow_server "$(e2e_tmpdir)/server.log" 9000 "$HELLO" --timeout 120

mem_available_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
slab_kib() { awk '/^Slab:/ {print $2}' /proc/meminfo; }

for dp in sockmap splice; do
	log=$(e2e_tmpdir)/sockgated-$dp.log
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane "$dp" \
		--bpffs "$BPFFS" --pair-budget "$BUDGET"
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "$dp: no listener"

	out=$(e2e_tmpdir)/client-$dp.out
	before=$(mem_available_kib)
	lowest=$before
	slab_before=$(slab_kib)
	slab_peak=$slab_before
	# --fin-after-eof: like a TLS client, it keeps its write side open meanwhile.
	ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --up 1M \
		--down 1G --pause-read 5000 --fin-after-eof --timeout 100 >"$out" 2>&1 &
	client=$!
	for ((i = 0; i < 1000; i++)); do # sampled every 20 ms, at most 20 s
		now=$(mem_available_kib)
		[ "$now" -lt "$lowest" ] && lowest=$now
		slab=$(slab_kib)
		[ "$slab" -gt "$slab_peak" ] && slab_peak=$slab
		kill -0 "$client" 2>/dev/null || break
		sleep 0.02
	done
	wait "$client" || e2e_fail "$dp: stalled-reader flow failed: $(cat "$out")"
	e2e_assert_contains "$(cat "$out")" "1 ok, 0 failed" \
		"$dp: 1 GiB pushed at a reader stalled for 5 s arrives intact"
	drop=$(((before - lowest) / 1024))
	echo "$dp: MemAvailable dropped by at most $drop MiB during the stall"
	[ $((before - lowest)) -le "$MAX_DROP_KIB" ] ||
		e2e_fail "$dp: MemAvailable dropped by $drop MiB (limit $((MAX_DROP_KIB / 1024)) MiB)"
	printf 'ok - %s: memory growth %s MiB stays under %s MiB\n' "$dp" "$drop" $((MAX_DROP_KIB / 1024))
	slab_growth=$(((slab_peak - slab_before) / 1024))
	[ "$slab_growth" -le 64 ] || e2e_fail "$dp: slab grew by $slab_growth MiB"
	printf 'ok - %s: slab grew by %s MiB (limit 64)\n' "$dp" "$slab_growth"
	e2e_poll 10 grep -q '^access .*end=eof' "$log" || e2e_fail "$dp: no access line"
	line=$(grep -m1 '^access ' "$log")
	echo "$dp: ${line#*dataplane=}"
	if [ "$dp" = sockmap ]; then
		pauses=$(sed -n 's/.* pauses=\([0-9]*\) .*/\1/p' <<<"$line")
		peak=$(sed -n 's/.* peak_queued=\([0-9]*\) .*/\1/p' <<<"$line")
		[ "$pauses" -ge 1 ] || e2e_fail "sockmap: the stalled direction was never paused"
		[ "$peak" -le $((4 * BUDGET)) ] ||
			e2e_fail "sockmap: $peak bytes queued, more than four budgets"
		printf 'ok - sockmap: paused %s times, at most %s bytes queued (budget %s)\n' \
			"$pauses" "$peak" "$BUDGET"
	fi
	kill -TERM "$pid"
	wait "$pid" || e2e_fail "$dp: sockgated exit status"
done
e2e_pass "a stalled reader costs the gateway a bounded amount of memory, and loses nothing"
