#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The XDP guard applies from the first SYN (issue #14, item 5): a denied source that
# connects in a tight loop while sockgated starts never gets a connection, not even in
# the moment the listener appears, while an allowed source connects as soon as it listens.
# Then a reload that adds a listener: the denied source, hammering the new port, is never
# let in either.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3
e2e_sockgate_env
HELLO=$HELLOS/crafted-baseline.bin
CLI_IP_DENIED=10.199.1.3
export SG_E2E_CMD_TIMEOUT=40

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
ip -n "$SG_NS_CLI" addr add "$CLI_IP_DENIED/24" dev "$CLI_IF"
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO"

# write_cfg PORT...: one listener per port, the denied source on the guard's deny list.
write_cfg() {
	{
		printf 'listeners:\n'
		for p in "$@"; do
			printf '  - name: l%s\n    address: "%s:%s"\n' "$p" "$GW_IP_CLI" "$p"
		done
		printf 'routes:\n  - name: sample\n    sni: [sample.aliyun.com]\n'
		printf '    backends: [{address: "%s:9000"}]\n' "$BE_IP"
		printf 'guard:\n  interfaces: [%s]\n  deny: ["%s/32"]\n' "$GW_IF_CLI" "$CLI_IP_DENIED"
	} >"$tmp/gw.yaml"
}

# hammer SRC PORT SECONDS OUT: connect from SRC to the gateway's PORT as fast as the
# answers come for SECONDS; writes "connected=N refused=N dropped=N" to OUT, and creates
# OUT.up once the first attempt was answered.
hammer() {
	e2e_exec "$SG_NS_CLI" python3 -c '
import socket, sys, time
src, dst, port, secs, up = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
n = {"connected": 0, "refused": 0, "dropped": 0}
end = time.monotonic() + secs
while time.monotonic() < end:
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(0.05)
    try:
        s.connect((dst, port))
        n["connected"] += 1
    except socket.timeout:
        n["dropped"] += 1
    except OSError:
        n["refused"] += 1
    s.close()
    if up:
        open(up, "w").close()
        up = None
print(" ".join("%s=%d" % kv for kv in n.items()))
' "$1" "$GW_IP_CLI" "$2" "$3" "$4.up" >"$4"
}

write_cfg 443
hammer "$CLI_IP_DENIED" 443 6 "$tmp/denied-start" &
denied=$!
hammer "$CLI_IP" 443 6 "$tmp/allowed-start" &
allowed=$!
# Both loops are knocking (and refused: nothing listens yet) before the agent starts.
e2e_poll 10 test -e "$tmp/denied-start.up" -a -e "$tmp/allowed-start.up" ||
	e2e_fail "the connect loops did not start"
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$tmp/gw.yaml" --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
wait "$denied" || e2e_fail "denied loop: $(cat "$tmp/denied-start")"
wait "$allowed" || e2e_fail "allowed loop: $(cat "$tmp/allowed-start")"
e2e_log "start, denied: $(cat "$tmp/denied-start"); allowed: $(cat "$tmp/allowed-start")"
e2e_assert_contains "$(cat "$tmp/denied-start")" "connected=0 " \
	"start: no connection from the denied source, not even while the listener appeared"
grep -q 'dropped=[1-9]' "$tmp/denied-start" || e2e_fail "the guard never dropped the denied SYNs"
printf 'ok - start: the denied SYNs were dropped\n'
grep -q 'connected=[1-9]' "$tmp/allowed-start" || e2e_fail "the allowed source never connected"
printf 'ok - start: the allowed source connected\n'
grep -q 'refused=[1-9]' "$tmp/allowed-start" || e2e_fail "the loops started after the listener"
printf 'ok - start: the loops ran before the listener existed\n'

# A reload that adds a listener: the new port is judged before it listens.
write_cfg 443 8443
hammer "$CLI_IP_DENIED" 8443 4 "$tmp/denied-reload" &
denied=$!
e2e_poll 10 test -e "$tmp/denied-reload.up" || e2e_fail "the connect loop did not start"
kill -HUP "$pid"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 8443 ||
	e2e_fail "no listener on 8443 after the reload: $(cat "$log")"
wait "$denied" || e2e_fail "denied loop: $(cat "$tmp/denied-reload")"
e2e_assert_contains "$(cat "$tmp/denied-reload")" "connected=0 " \
	"reload: no connection from the denied source on the new listener"
e2e_routed "$HELLO" 8443 || e2e_fail "the allowed source is not routed on 8443"
printf 'ok - reload: the allowed source is routed on the new listener\n'
e2e_assert_not_contains "$(grep '^access ' "$log" || true)" "client=$CLI_IP_DENIED:" \
	"no access line of the denied source"
e2e_pass "the guard's deny list applies from the first SYN, at start and on reload"
