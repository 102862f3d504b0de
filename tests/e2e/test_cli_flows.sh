#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build/sockgate reads the maps sockgated pins (--bpffs): one checksummed flow (3 MiB up,
# 16 MiB down) runs through the sockmap dataplane. The client reads nothing for 3 s, and
# 16 MiB cannot all leave the gateway before it reads (the client leg's send buffer holds
# 8 MiB), so no direction has ended while we look; --pair-budget 1G keeps the queued rest
# from being paused. Asserts: a sg_flows map pinned by an older sockgated (64-byte values)
# is refused by the CLI and replaced by the agent with one warning; `flows --json` is
# valid JSON and lists the live flow with the client's address (the one in the access
# log), SNI, route name, backend address:port and state "spliced"; once the client is
# done the pinned entry holds exactly the bytes sent each way and state "closed", end
# "eof"; the table shows the same; `stats --json` counted those bytes as redirected or
# copied and names every counter of include/sg_counters.h; both still work after
# sockgated has exited; a missing map exits 3 (no agent) with one clear line and an unknown command
# exits 2.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3
e2e_require_cmd bpftool
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com
UP=$((3 << 20))
DOWN=$((16 << 20))
UP_WIRE=$((UP + 24 + $(stat -c %s "$HELLO"))) # the hello and sgflow's header go up too

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: only
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML

# sockgate [ARGS...]: the CLI from the root namespace (bpffs paths are global), bounded.
sockgate() { timeout --kill-after=2 10 "$SOCKGATE" "$@"; }

# flow_fields FILE: validate FILE as `flows --json` output and print the one flow of our
# client as "flow_id client sni route backend route_id age_ms bytes_up bytes_down state
# end" (null for JSON null). Exit 1 if the client has no flow in it, 2 if the JSON is
# malformed or the flow is not unique.
flow_fields() {
	python3 - "$1" "$CLI_IP" <<'PY'
import json, sys
flows = json.load(open(sys.argv[1]))
order = ("flow_id", "client", "sni", "route", "backend", "route_id", "age_ms", "bytes_up",
         "bytes_down", "state", "end")
if not isinstance(flows, list) or any(set(f) != set(order) for f in flows):
    sys.exit("not an array of %s objects" % sorted(order))
mine = [f for f in flows if f["client"].startswith(sys.argv[2] + ":")]
if not mine:
    sys.exit(1)
if len(mine) != 1:
    print("%d flows from %s" % (len(mine), sys.argv[2]), file=sys.stderr)
    sys.exit(2)
print(*("null" if mine[0][k] is None else mine[0][k] for k in order))
PY
}

# flow_listed: `flows --json` succeeds and lists our client's flow (in $tmp/flows.json).
flow_listed() {
	sockgate --bpffs "$BPFFS" flows --json >"$tmp/flows.json" 2>"$tmp/flows.err" &&
		flow_fields "$tmp/flows.json" >/dev/null 2>&1
}

# An older sockgated pinned sg_flows with 64-byte values: the CLI refuses to read it as
# this version's, and the agent replaces it instead of failing to load.
mkdir -p "$BPFFS"
bpftool map create "$BPFFS/sg_flows" type lru_hash key 8 value 64 entries 131072 name sg_flows ||
	e2e_fail "bpftool could not pin an old-layout sg_flows"
rc=0
err=$(sockgate --bpffs "$BPFFS" flows 2>&1 >/dev/null) || rc=$?
e2e_assert_eq 1 "$rc" "flows on an old-layout map exits 1"
e2e_assert_contains "$err" "is not sockgate's flows map (lru_hash, key 8 bytes, value 64 bytes" \
	"flows on an old-layout map says the layout differs"

e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO" --timeout 60
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS" \
	--pair-budget 1G
agent=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$agent" "$GW_IP_CLI" 443 ||
	e2e_fail "sockgated did not start: $(cat "$log")"
e2e_assert_eq 1 "$(grep -c "pinned $BPFFS/sg_flows has another layout (key 8, value 64 bytes" "$log")" \
	"sockgated replaced the old-layout sg_flows with one warning"

# Before any flow: the map exists and is empty; the output is still valid JSON.
sockgate --bpffs "$BPFFS" flows --json >"$tmp/empty.json" || e2e_fail "flows --json on an empty map"
python3 -m json.tool "$tmp/empty.json" >/dev/null || e2e_fail "flows --json (empty) is not JSON"
e2e_assert_eq "[]" "$(tr -d ' \n' <"$tmp/empty.json")" "flows --json lists nothing before any connection"

# The client reads nothing for 3 s: the flow is open while we look at it.
client_out=$tmp/client.out
ip netns exec "$SG_NS_CLI" timeout --kill-after=5 90 "$SGFLOW" client "$GW_IP_CLI" 443 \
	--hello "$HELLO" --up 3M --down 16M --fin-after-eof --pause-read 3000 --timeout 60 \
	>"$client_out" 2>&1 &
client=$!
e2e_track_pid "$client"

e2e_poll 10 flow_listed || e2e_fail "flows --json never listed the flow: $(cat "$tmp/flows.err" "$tmp/flows.json")"
python3 -m json.tool "$tmp/flows.json" >/dev/null || e2e_fail "flows --json is not valid JSON"
printf 'ok - flows --json is valid JSON and listed the flow\n'
read -r flow_id cli_addr sni route be_addr route_id age0 _ _ state end < <(flow_fields "$tmp/flows.json") ||
	e2e_fail "flow vanished: $(cat "$tmp/flows.json")"
[[ "$cli_addr" =~ ^${CLI_IP//./\\.}:[0-9]+$ ]] || e2e_fail "client address: $cli_addr"
printf 'ok - the flow'"'"'s client is %s\n' "$cli_addr"
e2e_assert_eq "sample.aliyun.com only $BE_IP:9000 0" "$sni $route $be_addr $route_id" \
	"the live flow's SNI, route name, backend address:port and route index"
e2e_assert_eq "spliced null" "$state $end" "the live flow's state is spliced, with no end yet"
table=$(sockgate --bpffs "$BPFFS" flows) || e2e_fail "flows with a live flow"
row=$(grep -F "$cli_addr " <<<"$table" | tr -s ' ') || e2e_fail "flows: no row for $cli_addr: $table"
e2e_assert_eq "$cli_addr sample.aliyun.com only $BE_IP:9000 spliced" "$(cut -d' ' -f1-4,8 <<<"$row")" \
	"flows prints the live flow's client, SNI, route, backend and state"
e2e_alive "$client" || e2e_fail "the client ended before its flow was looked at: $(cat "$client_out")"

wait "$client" || e2e_fail "client failed: $(cat "$client_out")"
e2e_assert_contains "$(cat "$client_out")" "1 ok, 0 failed" "3 MiB up and 16 MiB down arrived intact"
e2e_poll 10 grep -q '^access .*end=eof' "$log" || e2e_fail "no access line"
access=$(grep -m1 '^access ' "$log")
echo "access: ${access#*dataplane=}"
e2e_assert_contains "$access" " client=$cli_addr " "the access log names the same client address"

# The closed flow's entry stays in the LRU map with its final counts.
sockgate --bpffs "$BPFFS" flows --json >"$tmp/flows.json" || e2e_fail "flows --json after close"
read -r id cli2 sni2 route2 _ _ age1 up down state2 end2 < <(flow_fields "$tmp/flows.json") ||
	e2e_fail "the closed flow is gone from the map: $(cat "$tmp/flows.json")"
e2e_assert_eq "$flow_id $cli_addr" "$id $cli2" "the same flow is still listed after close"
e2e_assert_eq "sample.aliyun.com only closed eof" "$sni2 $route2 $state2 $end2" \
	"after close: the same SNI and route, state closed, end eof"
[ "$age1" -gt "$age0" ] || e2e_fail "age_ms did not grow: $age0 then $age1"
printf 'ok - age_ms grew from %s to %s\n' "$age0" "$age1"
e2e_assert_eq "$UP_WIRE" "$up" "bytes_up = 3 MiB + 24-byte header + the hello"
e2e_assert_eq "$DOWN" "$down" "bytes_down = 16 MiB"

sockgate --bpffs "$BPFFS" stats --json >"$tmp/stats.json" || e2e_fail "stats --json"
python3 -m json.tool "$tmp/stats.json" >/dev/null || e2e_fail "stats --json is not valid JSON"
redirected=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["redirect_bytes"])' \
	"$tmp/stats.json")
# A pause or a half-close moves a flow's tail in user space; the access log
# counts those bytes as copied= and the verdict program never sees them.
copied=$(sed -n 's/.* copied=\([0-9]*\) .*/\1/p' <<<"$access")
[ -n "$copied" ] || e2e_fail "the access line has no copied= field: $access"
e2e_assert_eq $((up + down)) $((redirected + copied)) \
	"stats --json: redirect_bytes $redirected + copied $copied = the flow's bytes"

# The agent exits; the pinned maps, and so the CLI, outlive it.
agent_gone() { ! e2e_alive "$agent"; }
kill -TERM "$agent"
e2e_poll 20 agent_gone || e2e_fail "sockgated did not exit on SIGTERM"
rc=0
wait "$agent" || rc=$?
e2e_assert_eq 0 "$rc" "sockgated exits 0 on SIGTERM"

sockgate --bpffs "$BPFFS" flows --json >"$tmp/flows.json" || e2e_fail "flows --json with the agent stopped"
read -r id _ sni3 route3 _ _ _ up2 down2 state3 end3 < <(flow_fields "$tmp/flows.json") ||
	e2e_fail "flow missing with the agent stopped: $(cat "$tmp/flows.json")"
e2e_assert_eq "$flow_id sample.aliyun.com only $up $down closed eof" \
	"$id $sni3 $route3 $up2 $down2 $state3 $end3" "flows --json works with the agent stopped"
table=$(sockgate --bpffs "$BPFFS" flows) || e2e_fail "flows with the agent stopped"
e2e_assert_eq "CLIENT SNI ROUTE BACKEND AGE BYTES_UP BYTES_DOWN STATE" \
	"$(head -n1 <<<"$table" | tr -s ' ')" "flows prints a header line"
row=$(grep -F "$cli_addr " <<<"$table" | tr -s ' ') || e2e_fail "flows: no row for $cli_addr: $table"
e2e_assert_eq "$cli_addr sample.aliyun.com only $BE_IP:9000 $UP_WIRE $DOWN closed" \
	"$(cut -d' ' -f1-4,6- <<<"$row")" \
	"flows prints client, SNI, route, backend, age, bytes up and down, state"

# stats names every counter of include/sg_counters.h, in its order, with the JSON's values.
want=$(sed -n 's/^[[:space:]]*X([A-Z_]*, "\([a-z_]*\)").*/\1/p' "$ROOT/include/sg_counters.h")
[ -n "$want" ] || e2e_fail "no counter names found in include/sg_counters.h"
stats=$(sockgate --bpffs "$BPFFS" stats) || e2e_fail "stats with the agent stopped"
e2e_assert_eq "$want" "$(cut -d' ' -f1 <<<"$stats")" "stats lists every counter by name"
e2e_assert_contains "$stats" "redirect_bytes $redirected"$'\n' "stats and stats --json agree"

# Failures: one clear line and exit 3 (no agent) for a missing map; exit 2 for usage.
rc=0
err=$(sockgate --bpffs /nonexistent flows 2>&1 >/dev/null) || rc=$?
e2e_assert_eq 3 "$rc" "flows without a pinned map exits 3 (no agent), as documented"
e2e_assert_eq "sockgate: no flows map at /nonexistent/sg_flows: is sockgated running with --bpffs /nonexistent?" \
	"$err" "flows without a pinned map says what to check"
rc=0
err=$(sockgate bogus 2>&1 >/dev/null) || rc=$?
e2e_assert_eq 2 "$rc" "an unknown command exits 2"
e2e_assert_contains "$err" "unknown command 'bogus'" "an unknown command is named"
e2e_assert_eq "sockgate 0.1.0" "$(sockgate version)" "version"
e2e_pass "sockgate flows and stats read the pinned maps, with the agent running and stopped"
