#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# --access-log and --access-log-format: known traffic through the gateway, then every JSON
# line is parsed with python3 and checked field by field (exact byte counts, escaped names
# from the config). A file log is reopened on SIGHUP after a logrotate-style rename, and
# a line written while the agent shuts down is in the file when it has exited. JSON on
# stdout, `off`, an unopenable file (exit 1) and a symbolic link (refused, not followed)
# are checked too.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin # 275 bytes, SNI sample.aliyun.com, ALPN h2,http/1.1
UP=100000
DOWN=200000

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
cfg=$tmp/sockgate.yaml
# A route name with a double quote and a backslash: legal, and JSON must escape both.
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: 'fl"ow\\s'
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO" --ignore-empty

# start_agent LOG ARGS...: sockgated on the gateway; its pid in AGENT.
start_agent() {
	local log=$1
	shift
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap \
		--bpffs "$BPFFS" "$@"
	AGENT=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$AGENT" "$GW_IP_CLI" 443 ||
		e2e_fail "no listener: $(cat "$log")"
}
agent_gone() { ! e2e_alive "$1"; }
# stop_agent [SIGNALS...]: signal the agent (TERM by default) and reap it; its exit code in RC.
stop_agent() {
	local s
	for s in "${@:-TERM}"; do kill -"$s" "$AGENT"; done
	e2e_poll 20 agent_gone "$AGENT" || e2e_fail "sockgated did not exit"
	RC=0
	wait "$AGENT" || RC=$?
}
flows() { # N: N checked flows of UP/DOWN bytes
	e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" --conns "$1" \
		--up "$UP" --down "$DOWN" --fin-after-eof
}
lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]; }

# ---- JSON to a file -------------------------------------------------------------------
alog=$tmp/access.json
log=$tmp/sockgated.log
start_agent "$log" --access-log "$alog" --access-log-format json
e2e_assert_contains "$(flows 2)" "2 ok, 0 failed" "two checked flows"
e2e_refused "$HELLOS/crafted-session-id-33.bin" || e2e_fail "the malformed hello was not refused"
e2e_refused "$HELLOS/python-no-sni.bin" || e2e_fail "the hello without SNI was not refused"
e2e_poll 10 lines "$alog" 4 || e2e_fail "expected 4 lines in $alog: $(cat "$alog" 2>&1)"
e2e_assert_not_contains "$(cat "$log")" "access ts=" "file log: nothing on stdout"

python3 - "$alog" "$CLI_IP" "$BE_IP" $((UP + 24 + 275)) "$DOWN" <<'PY' || e2e_fail "JSON lines"
import json, sys
path, cli_ip, be_ip, up, down = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
fields = ["ts", "conn", "client", "listener", "sni", "alpn", "route", "backend", "dataplane",
          "bytes_up", "bytes_down", "copied", "duration_ms", "pauses", "peak_queued", "end",
          "hello_error"]
recs = [json.loads(line) for line in open(path)]
def check(what, got, want):
    if got != want:
        sys.exit(f"{what}: expected {want!r}, got {got!r}")
    print(f"ok - access log: {what} is {want!r}")
check("lines with the 17 fields in order", sum(list(r) == fields for r in recs), 4)
check("lines from listener tls", sum(r["listener"] == "tls" for r in recs), 4)
check("lines with the client's address", sum(r["client"].startswith(cli_ip + ":") for r in recs), 4)
check("connection ids", sorted(r["conn"] for r in recs), [1, 2, 3, 4])
by_end = {}
for r in recs:
    by_end.setdefault(r["end"], []).append(r)
check("outcomes", sorted(by_end), ["eof", "hello_malformed", "reject_no_sni"])
check("flows that ended in eof", len(by_end["eof"]), 2)
for r in by_end["eof"]:
    for k, v in [("route", 'fl"ow\\s'), ("sni", "sample.aliyun.com"), ("alpn", ["h2", "http/1.1"]),
                 ("backend", be_ip + ":9000"), ("dataplane", "sockmap"), ("bytes_up", up),
                 ("bytes_down", down), ("hello_error", None)]:
        check(f"flow {r['conn']}: {k}", r[k], v)
    if not 0 <= r["copied"] <= up + down:
        sys.exit(f"flow {r['conn']}: copied {r['copied']}")
bad = by_end["hello_malformed"][0]
for k, v in [("hello_error", "session_id"), ("route", None), ("sni", None), ("alpn", []),
             ("backend", None), ("dataplane", None), ("bytes_up", 0), ("bytes_down", 0)]:
    check(f"malformed hello: {k}", bad[k], v)
nosni = by_end["reject_no_sni"][0]
for k, v in [("sni", None), ("route", None), ("hello_error", None)]:
    check(f"hello without SNI: {k}", nosni[k], v)
PY

# ---- logrotate: rename, SIGHUP, new lines in the new file ----------------------------
mv "$alog" "$alog.1"
kill -HUP "$AGENT"
e2e_poll 10 grep -q "access log $alog reopened" "$log" || e2e_fail "no reopen: $(cat "$log")"
e2e_assert_contains "$(flows 1)" "1 ok, 0 failed" "a checked flow after the rotation"
e2e_poll 10 lines "$alog" 1 || e2e_fail "expected 1 line in the new $alog: $(cat "$alog" 2>&1)"
e2e_assert_eq 4 "$(wc -l <"$alog.1")" "rotation: the renamed file kept its 4 lines"

# ---- shutdown: a connection still open is logged and flushed before the exit ---------
# A hello cut in the middle of the SNI: the gateway waits for the rest.
e2e_bg "$SG_NS_CLI" "$tmp/replay.log" "$SGFLOW" replay "$GW_IP_CLI" 443 \
	"$HELLOS/crafted-trunc-0161-sni-name-mid.bin" --wait 20
established() {
	[ "$(timeout 5 ip netns exec "$SG_NS_GW" ss -Htn state established "sport = :443" | wc -l)" -eq 1 ]
}
e2e_poll 10 established || e2e_fail "the partial hello's connection is not open"
kill -TERM "$AGENT"
e2e_poll 10 grep -q "no longer accepting; 1 connections draining" "$log" ||
	e2e_fail "no drain: $(cat "$log")"
stop_agent TERM # the second signal resets what is left, then the agent exits
e2e_assert_eq 0 "$RC" "shutdown: exit 0"
e2e_assert_eq 2 "$(wc -l <"$alog")" "shutdown: the reset connection's line is in the file"
python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[1])
assert (r["end"], r["sni"], r["route"]) == ("shutdown", None, None), r
' "$alog" || e2e_fail "the last line: $(tail -n1 "$alog")"
printf 'ok - shutdown: the last line is end=shutdown\n'

# ---- JSON on stdout (-), then off -----------------------------------------------------
log2=$tmp/sockgated-stdout.log
start_agent "$log2" --access-log - --access-log-format json
e2e_assert_contains "$(flows 1)" "1 ok, 0 failed" "stdout: a checked flow"
e2e_poll 10 grep -q '^{"ts":' "$log2" || e2e_fail "no JSON line on stdout: $(cat "$log2")"
stop_agent
grep '^{"ts":' "$log2" | python3 -c '
import json, sys
(r,) = [json.loads(l) for l in sys.stdin]
assert (r["end"], r["bytes_up"], r["bytes_down"]) == ("eof", int(sys.argv[1]), int(sys.argv[2])), r
' $((UP + 24 + 275)) "$DOWN" || e2e_fail "stdout JSON: $(cat "$log2")"
printf 'ok - stdout: one JSON line with the exact byte counts\n'

log3=$tmp/sockgated-off.log
start_agent "$log3" --access-log off
e2e_assert_contains "$(flows 1)" "1 ok, 0 failed" "off: a checked flow"
stop_agent
e2e_assert_contains "$(cat "$log3")" "stopped: 1 accepted, 0 copied, 0 promoted, 1 spliced" "off: the flow went through"
e2e_assert_not_contains "$(cat "$log3")" "access ts=" "off: no access line"
e2e_assert_not_contains "$(cat "$log3")" '{"ts":' "off: no JSON line"

# ---- errors ----------------------------------------------------------------------------
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" \
	--access-log "$tmp/missing/access.log" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "unopenable file: exit 1"
e2e_assert_contains "$out" "access log $tmp/missing/access.log: No such file or directory" \
	"unopenable file: the reason, with the path"
# A link planted where the log goes must not make root append to what it names.
ln -s "$tmp/elsewhere.log" "$tmp/link.log"
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" \
	--access-log "$tmp/link.log" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "symbolic link: exit 1"
e2e_assert_contains "$out" "access log $tmp/link.log: is a symbolic link: not followed" \
	"symbolic link: refused, with the reason"
[ ! -e "$tmp/elsewhere.log" ] || e2e_fail "symbolic link: its target was created"
printf 'ok - symbolic link: its target was not created\n'
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --config "$cfg" --access-log-format xml 2>&1) || rc=$?
e2e_assert_eq 2 "$rc" "unknown format: usage error"
e2e_assert_contains "$out" "--access-log-format xml: expected kv or json" "unknown format: said so"
e2e_pass "access log lines are exact, parse as JSON, rotate on SIGHUP and survive shutdown"
