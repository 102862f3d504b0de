#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The syscall budget of a short connection (docs/ARCHITECTURE.md, section "Syscall
# budget"): strace -c counts every syscall of the agent, all its threads, while the
# benchmark's client opens short connections through it (crr: hello, a 64-byte request,
# a 64-byte response, close), and the count is divided by the connections completed.
# With the default dataplane (auto: the user-space copy) a connection must cost at most
# 20 syscalls and no bpf() call at all: short pairs never touch a BPF map. The forced
# sockmap and splice dataplanes are counted too, for the record (the design notes quote
# them), and must cost more than the copy. Counts, not time: strace slows the agent, which
# changes the rate but not what each connection costs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd strace python3
e2e_sockgate_env
BENCH=$ROOT/build/sockgate-bench
[ -x "$BENCH" ] || e2e_fail "$BENCH not built (run make)"
BUDGET=20
export SG_E2E_CMD_TIMEOUT=60

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
e2e_bg "$SG_NS_BE" "$tmp/server.log" "$BENCH" server --listen "$BE_IP:9000" \
	--expect-sni bench.sockgate.test
e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP" 9000 || e2e_fail "bench server did not start"
cat >"$tmp/sockgate.yaml" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: bench
    sni: [bench.sockgate.test]
    backends:
      - address: "$BE_IP:9000"
YAML

# count DATAPLANE: prints "CALLS CONNS BPF" for a 2 s crr run through a fresh agent.
count() {
	local dp=$1 log=$tmp/agent-$1.log trace=$tmp/strace-$1.txt pid spid out conns
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$tmp/sockgate.yaml" --dataplane "$dp" \
		--bpffs "$BPFFS" --access-log "$tmp/access-$dp.log"
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "$dp: agent did not start: $(cat "$log")"
	strace -c -f -o "$trace" -p "$pid" 2>"$tmp/strace-$dp.err" &
	spid=$!
	e2e_poll 10 grep -q attached "$tmp/strace-$dp.err" || e2e_fail "$dp: strace did not attach"
	out=$(e2e_exec "$SG_NS_CLI" "$BENCH" client --connect "$GW_IP_CLI:443" --mode crr \
		--conns 8 --duration 2s --threads 1 --timeout 30s)
	kill -INT "$spid"
	wait "$spid" || true
	e2e__stop_pids "$pid"
	[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ok"])' "$out")" = True ] ||
		e2e_fail "$dp: the crr run failed: $out"
	conns=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["conns_completed"])' "$out")
	[ "$conns" -ge 100 ] || e2e_fail "$dp: only $conns connections completed"
	awk -v conns="$conns" '$NF == "total" {calls = $4} $NF == "bpf" {bpf = $4}
		END {printf "%d %d %d\n", calls, conns, bpf}' "$trace"
}

declare -A per_conn
for dp in auto sockmap splice; do
	read -r calls conns bpf <<<"$(count "$dp")"
	per_conn[$dp]=$(python3 -c "print(round($calls / $conns, 1))")
	echo "$dp: $calls syscalls for $conns connections: ${per_conn[$dp]} per connection, bpf() $bpf"
	if [ "$dp" = auto ]; then
		e2e_assert_eq 0 "$bpf" "auto: short connections make no bpf() call"
		python3 -c "import sys; sys.exit(not ($calls <= $BUDGET * $conns))" ||
			e2e_fail "auto: ${per_conn[auto]} syscalls per connection, over the budget of $BUDGET"
		printf 'ok - auto: %s syscalls per short connection, within %s\n' "${per_conn[auto]}" "$BUDGET"
		e2e_assert_eq 0 "$(grep -c ' promoted_ms=' "$tmp/access-auto.log" || true)" \
			"auto: no short connection was promoted"
	fi
done
for dp in sockmap splice; do
	python3 -c "import sys; sys.exit(not (${per_conn[auto]} < ${per_conn[$dp]}))" ||
		e2e_fail "auto costs ${per_conn[auto]} syscalls per connection, $dp ${per_conn[$dp]}"
done
printf 'ok - the copy costs fewer syscalls per connection than sockmap (%s) and splice (%s)\n' \
	"${per_conn[sockmap]}" "${per_conn[splice]}"
e2e_pass "a short connection costs ${per_conn[auto]} syscalls and no bpf() call"
