#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build/sockgate reads the maps sockgated pins (--bpffs): one checksummed flow (3 MiB up,
# 5 MiB down, the client stalls its reads for 3 s so the flow stays open) runs through the
# sockmap dataplane. Asserts: `flows --json` is valid JSON and lists the live flow with the
# client's address (the one in the access log) and the backend's address:port; once the
# client is done the pinned entry holds exactly the bytes sent each way; `stats --json`
# counted at least those bytes as redirected and names every counter of
# include/sg_counters.h; both still work after sockgated has exited; a missing map exits 1
# with one clear line and an unknown command exits 2.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com
UP=$((3 << 20))
DOWN=$((5 << 20))
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
# client as "flow_id client backend route_id age_ms bytes_up bytes_down". Exit 1 if the
# client has no flow in it, 2 if the JSON is malformed or the flow is not unique.
flow_fields() {
	python3 - "$1" "$CLI_IP" <<'PY'
import json, sys
flows = json.load(open(sys.argv[1]))
keys = {"flow_id", "client", "backend", "route_id", "age_ms", "bytes_up", "bytes_down"}
if not isinstance(flows, list) or any(set(f) != keys for f in flows):
    sys.exit("not an array of %s objects" % sorted(keys))
mine = [f for f in flows if f["client"].startswith(sys.argv[2] + ":")]
if not mine:
    sys.exit(1)
if len(mine) != 1:
    print("%d flows from %s" % (len(mine), sys.argv[2]), file=sys.stderr)
    sys.exit(2)
f = mine[0]
print(*(f[k] for k in ("flow_id", "client", "backend", "route_id", "age_ms", "bytes_up",
                       "bytes_down")))
PY
}

# flow_listed: `flows --json` succeeds and lists our client's flow (in $tmp/flows.json).
flow_listed() {
	sockgate --bpffs "$BPFFS" flows --json >"$tmp/flows.json" 2>"$tmp/flows.err" &&
		flow_fields "$tmp/flows.json" >/dev/null 2>&1
}

e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO" --timeout 60
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS"
agent=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$agent" "$GW_IP_CLI" 443 || e2e_fail "sockgated did not start"

# Before any flow: the map exists and is empty; the output is still valid JSON.
sockgate --bpffs "$BPFFS" flows --json >"$tmp/empty.json" || e2e_fail "flows --json on an empty map"
python3 -m json.tool "$tmp/empty.json" >/dev/null || e2e_fail "flows --json (empty) is not JSON"
e2e_assert_eq "[]" "$(tr -d ' \n' <"$tmp/empty.json")" "flows --json lists nothing before any connection"

# The client reads nothing for 3 s: the flow is open while we look at it.
client_out=$tmp/client.out
ip netns exec "$SG_NS_CLI" timeout --kill-after=5 90 "$SGFLOW" client "$GW_IP_CLI" 443 \
	--hello "$HELLO" --up 3M --down 5M --fin-after-eof --pause-read 3000 --timeout 60 \
	>"$client_out" 2>&1 &
client=$!
e2e_track_pid "$client"

e2e_poll 10 flow_listed || e2e_fail "flows --json never listed the flow: $(cat "$tmp/flows.err" "$tmp/flows.json")"
e2e_alive "$client" && live="while the client was still running" || live="after the client ended"
python3 -m json.tool "$tmp/flows.json" >/dev/null || e2e_fail "flows --json is not valid JSON"
printf 'ok - flows --json is valid JSON and listed the flow %s\n' "$live"
read -r flow_id cli_addr be_addr route_id age0 _ _ < <(flow_fields "$tmp/flows.json") ||
	e2e_fail "flow vanished: $(cat "$tmp/flows.json")"
[[ "$cli_addr" =~ ^${CLI_IP//./\\.}:[0-9]+$ ]] || e2e_fail "client address: $cli_addr"
printf 'ok - the flow'"'"'s client is %s\n' "$cli_addr"
e2e_assert_eq "$BE_IP:9000" "$be_addr" "the flow's backend is the route's backend address:port"
e2e_assert_eq 0 "$route_id" "route_id is the index of the only route"

wait "$client" || e2e_fail "client failed: $(cat "$client_out")"
e2e_assert_contains "$(cat "$client_out")" "1 ok, 0 failed" "3 MiB up and 5 MiB down arrived intact"
e2e_poll 10 grep -q '^access .*end=eof' "$log" || e2e_fail "no access line"
access=$(grep -m1 '^access ' "$log")
echo "access: ${access#*dataplane=}"
e2e_assert_contains "$access" " client=$cli_addr " "the access log names the same client address"

# The closed flow's entry stays in the LRU map with its final counts.
sockgate --bpffs "$BPFFS" flows --json >"$tmp/flows.json" || e2e_fail "flows --json after close"
read -r id cli2 _ _ age1 up down < <(flow_fields "$tmp/flows.json") ||
	e2e_fail "the closed flow is gone from the map: $(cat "$tmp/flows.json")"
e2e_assert_eq "$flow_id $cli_addr" "$id $cli2" "the same flow is still listed after close"
[ "$age1" -gt "$age0" ] || e2e_fail "age_ms did not grow: $age0 then $age1"
printf 'ok - age_ms grew from %s to %s\n' "$age0" "$age1"
e2e_assert_eq "$UP_WIRE" "$up" "bytes_up = 3 MiB + 24-byte header + the hello"
e2e_assert_eq "$DOWN" "$down" "bytes_down = 5 MiB"

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
read -r id _ _ _ _ up2 down2 < <(flow_fields "$tmp/flows.json") ||
	e2e_fail "flow missing with the agent stopped: $(cat "$tmp/flows.json")"
e2e_assert_eq "$flow_id $up $down" "$id $up2 $down2" "flows --json works with the agent stopped"
table=$(sockgate --bpffs "$BPFFS" flows) || e2e_fail "flows with the agent stopped"
e2e_assert_eq "CLIENT BACKEND ROUTE AGE BYTES_UP BYTES_DOWN" "$(head -n1 <<<"$table" | tr -s ' ')" \
	"flows prints a header line"
row=$(grep -F "$cli_addr " <<<"$table" | tr -s ' ') || e2e_fail "flows: no row for $cli_addr: $table"
e2e_assert_eq "$cli_addr $BE_IP:9000 0 $UP_WIRE $DOWN" "$(cut -d' ' -f1-3,5- <<<"$row")" \
	"flows prints client, backend, route, age, bytes up and down"

# stats names every counter of include/sg_counters.h, in its order, with the JSON's values.
want=$(sed -n 's/^[[:space:]]*X([A-Z_]*, "\([a-z_]*\)").*/\1/p' "$ROOT/include/sg_counters.h")
[ -n "$want" ] || e2e_fail "no counter names found in include/sg_counters.h"
stats=$(sockgate --bpffs "$BPFFS" stats) || e2e_fail "stats with the agent stopped"
e2e_assert_eq "$want" "$(cut -d' ' -f1 <<<"$stats")" "stats lists every counter by name"
e2e_assert_contains "$stats" "redirect_bytes $redirected"$'\n' "stats and stats --json agree"

# Failures: one clear line and exit 1 for a missing map; exit 2 for usage.
rc=0
err=$(sockgate --bpffs /nonexistent flows 2>&1 >/dev/null) || rc=$?
e2e_assert_eq 1 "$rc" "flows without a pinned map exits 1"
e2e_assert_eq "sockgate: no flows map at /nonexistent/sg_flows: is sockgated running with --bpffs /nonexistent?" \
	"$err" "flows without a pinned map says what to check"
rc=0
err=$(sockgate bogus 2>&1 >/dev/null) || rc=$?
e2e_assert_eq 2 "$rc" "an unknown command exits 2"
e2e_assert_contains "$err" "unknown command 'bogus'" "an unknown command is named"
e2e_assert_eq "sockgate 0.1.0" "$(sockgate version)" "version"
e2e_pass "sockgate flows and stats read the pinned maps, with the agent running and stopped"
