#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The control socket and the CLI's commands that change a running agent. While 100
# connections stream checksummed data through route "old" (sample.aliyun.com):
# `sockgate load` adds route "new" (www.example.com), `sockgate unload old` removes the old
# one, an invalid file is loaded and rejected with file:line:column, and SIGHUP re-reads
# --config with the live changes replayed on top. Every stream completes intact; new
# connections follow each new table at once. Then the exit codes: unknown route,
# permission denied, no agent; and routes/backends/status with --json.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
OLD_HELLO=$HELLOS/crafted-baseline.bin       # SNI sample.aliyun.com
NEW_HELLO=$HELLOS/crafted-sni-trailing-dot.bin # SNI www.example.com

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
e2e_sgflow_server "$tmp/server-old.log" 9000 "$OLD_HELLO"
e2e_sgflow_server "$tmp/server-new.log" 9001 "$NEW_HELLO"

cfg=$tmp/base.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: old
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
new=$tmp/new.yaml
write_new() { # WEIGHT
	cat >"$new" <<YAML
routes:
  - name: new
    sni: [www.example.com]
    backends:
      - address: "$BE_IP:9001"
        weight: $1
YAML
}
bad=$tmp/bad.yaml
printf 'routes:\n  - name: broken\n    sni: ["a..b"]\n    backends:\n      - address: "%s:9001"\n' \
	"$BE_IP" >"$bad"

route_names() { "$SOCKGATE" routes --json | python3 -c 'import json, sys; print(" ".join(r["name"] for r in json.load(sys.stdin)))'; }
# run_cli CMD...: sets rc, out, err.
run_cli() {
	rc=0
	out=$("$SOCKGATE" "$@" 2>"$tmp/cli.err") || rc=$?
	err=$(cat "$tmp/cli.err")
}

log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "sockgated did not start: $(cat "$log")"
e2e_assert_eq "srw-------" "$(stat -c %A "$SOCKGATE_CONTROL")" "the control socket is mode 0600"
e2e_assert_eq old "$(route_names)" "routes --json lists the configured route"
e2e_routed "$OLD_HELLO" || e2e_fail "route old does not work"

streams=$tmp/streams.out
ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$OLD_HELLO" \
	--conns 100 --up 8M --down 32M --seed 100 --pause-read 8000 --fin-after-eof \
	--timeout 120 >"$streams" 2>&1 &
client=$!
# The clients read nothing for 8 s: every stream is still in flight during the changes.
e2e_poll 30 bash -c "[ \$(ip netns exec $SG_NS_GW ss -Htn state established '( sport = :443 )' \
	| wc -l) -ge 100 ]" || e2e_fail "the 100 streams did not start"

write_new 1
run_cli load "$new"
e2e_assert_eq "0 loaded $new: 1 route added, 0 replaced" "$rc $out" "load adds route new"
e2e_routed "$NEW_HELLO" || e2e_fail "the loaded route does not take new connections"
printf 'ok - new connections follow the loaded route at once\n'

run_cli unload old
e2e_assert_eq "0 unloaded 1 route" "$rc $out" "unload removes route old"
e2e_refused "$OLD_HELLO" || e2e_fail "the unloaded route still takes new connections"
printf 'ok - the unloaded route takes no new connections\n'

run_cli load "$bad"
e2e_assert_eq 1 "$rc" "an invalid file: exit 1"
e2e_assert_contains "$err" "$bad:3:11: routes[0].sni[0]: bad SNI pattern" \
	"the invalid file is reported at file:line:column"
e2e_assert_contains "$err" "rejected: nothing changed" "the rejection says nothing changed"
e2e_assert_eq new "$(route_names)" "the rejected file changed nothing"
e2e_routed "$NEW_HELLO" || e2e_fail "the rejected load broke route new"

reloads=$(grep -c 'info reloaded: ' "$log")
kill -HUP "$pid"
e2e_poll 10 bash -c "[ \$(grep -c 'info reloaded: ' '$log') -gt $reloads ]" ||
	e2e_fail "no reload after SIGHUP: $(tail -5 "$log")"
e2e_assert_eq new "$(route_names)" "SIGHUP re-reads --config and replays load and unload"
e2e_refused "$OLD_HELLO" || e2e_fail "SIGHUP brought the unloaded route back"

write_new 5
run_cli load "$new"
e2e_assert_eq "0 loaded $new: 0 routes added, 1 replaced" "$rc $out" "loading a file again replaces its routes"
weight=$("$SOCKGATE" routes --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["backends"][0]["weight"])')
e2e_assert_eq 5 "$weight" "the replaced route has the new weight"

kill -0 "$client" 2>/dev/null || e2e_fail "the streams ended before the changes were done"
wait "$client" || e2e_fail "streams failed: $(grep -v result=ok "$streams" | head -5)"
e2e_assert_contains "$(cat "$streams")" "100 ok, 0 failed" \
	"all 100 streams across load, unload, a rejected load and SIGHUP completed intact"

# Exit codes and messages.
run_cli unload old nosuch
e2e_assert_eq 1 "$rc" "unload of unknown routes: exit 1"
e2e_assert_contains "$err" "unknown route nosuch" "the unknown route is named"
e2e_assert_eq new "$(route_names)" "a failed unload changed nothing"
run_cli load "$tmp/missing.yaml"
e2e_assert_eq 1 "$rc" "load of a missing file: exit 1"
e2e_assert_contains "$err" "$tmp/missing.yaml: No such file or directory" "the missing file is named"
rc=0
su nobody -s /bin/sh -c "'$SOCKGATE' --control '$SOCKGATE_CONTROL' status" 2>"$tmp/cli.err" || rc=$?
e2e_assert_eq 4 "$rc" "another user: exit 4"
e2e_assert_contains "$(cat "$tmp/cli.err")" "permission denied" "another user is told permission denied"
run_cli --control "$tmp/nothing.sock" status
e2e_assert_eq 3 "$rc" "no agent on the socket: exit 3"
e2e_assert_contains "$err" "sockgated is not running" "no agent: the message says so"
run_cli unload
e2e_assert_eq 2 "$rc" "unload without a route: exit 2"

# Show commands.
backends=$("$SOCKGATE" backends --json)
e2e_assert_eq "new $BE_IP:9001 $BE_IP:9001 5" "$(python3 -c 'import json, sys
b = json.loads(sys.argv[1])[0]
print(b["route"], b["backend"], b["endpoint"], b["weight"])' "$backends")" "backends --json: route, backend, endpoint, weight"
e2e_assert_contains "$("$SOCKGATE" backends)" "$BE_IP:9001" "backends lists the endpoint"
status=$("$SOCKGATE" status --json)
e2e_assert_eq "$pid 1 1 1" "$(python3 -c 'import json, sys
s = json.loads(sys.argv[1])
print(s["pid"], s["listeners"], s["routes"], s["loaded_files"])' "$status")" "status --json: pid, listeners, routes, loaded files"
e2e_assert_contains "$("$SOCKGATE" routes)" "www.example.com" "routes prints a table"

kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
[ ! -e "$SOCKGATE_CONTROL" ] || e2e_fail "the control socket was left behind"
printf 'ok - the control socket is removed on exit\n'
e2e_pass "load, unload, a rejected load and SIGHUP changed routes live; 100 streams intact"
