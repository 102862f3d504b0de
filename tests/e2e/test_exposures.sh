#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Smaller exposures (issue #14, item 5), each against a running sockgated:
# - `--metrics :PORT` listens on 127.0.0.1 only (unreachable from the client namespace);
#   `--metrics 0.0.0.0:PORT` is the explicit way to serve every address;
# - at most 16 scrapes are open at once: of 50 idle connections to /metrics the agent holds
#   16 and sheds the rest at once (sockgate_metrics_shed_total), and scrapes answer again;
# - the control socket refuses another uid before reading its request: a uid-65534 peer
#   (the socket made world-writable on purpose) gets "permission denied" while it is still
#   sending a 4 MiB body, and cannot send it all;
# - a host name with 40 addresses (the gateway's hosts file) becomes max_addresses_per_name
#   (5) endpoints, logged and counted in sockgate_resolve_truncated_total.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl python3 setpriv ss
e2e_sockgate_env
NAME=many.sockgate.test
N_ADDRS=40
export SG_E2E_CMD_TIMEOUT=40

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
for ((i = 1; i <= N_ADDRS; i++)); do
	e2e_hosts_file "$SG_NS_GW" "$NAME" "10.199.3.$i"
done
cfg=$tmp/gw.yaml
cat >"$cfg" <<YAML
resolve_interval: 1s
max_addresses_per_name: 5
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: many
    sni: [sample.aliyun.com]
    backends:
      - address: "$NAME:9000"
YAML

log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" --metrics :9100
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 9100 ||
	e2e_fail "--metrics :9100 does not listen on 127.0.0.1: $(cat "$log")"
printf 'ok - metrics: ":9100" listens on 127.0.0.1\n'
e2e_assert_eq 1 "$(timeout 5 ip netns exec "$SG_NS_GW" ss -Hltn 'sport = :9100' | wc -l)" \
	"metrics: on no other address"
e2e_exec "$SG_NS_CLI" curl -sS --max-time 2 "http://$GW_IP_CLI:9100/metrics" >/dev/null 2>&1 &&
	e2e_fail "metrics answered the client namespace"
printf 'ok - metrics: unreachable from the client namespace\n'

scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
value() { awk -v k="$2" '$1 == k {print $2; found = 1} END {if (!found) print 0}' <<<"$1"; }

# ---- at most 16 scrapes at once ----------------------------------------------------------
held=$tmp/held
e2e_exec "$SG_NS_GW" python3 -c '
import socket, sys, time
socks = []
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", 9100), timeout=2)
    socks.append(s)
open(sys.argv[1], "w").close()
time.sleep(3)  # idle: the scrape timeout (5 s) would hold each one without the cap
' "$held" &
holder=$!
e2e_poll 10 test -e "$held" || e2e_fail "the idle connections were not made"
# The agent's own sockets on :9100 (the listener excepted).
agent_held() {
	timeout 5 ip netns exec "$SG_NS_GW" ss -Htnp state established 'sport = :9100' |
		grep -c "pid=$pid," || true
}
e2e_poll 5 bash -c "[ \$(timeout 5 ip netns exec $SG_NS_GW ss -Htnp state established \
	'sport = :9100' | grep -c 'pid=$pid,') -le 16 ]" ||
	e2e_fail "the agent holds $(agent_held) idle scrape connections"
printf 'ok - metrics: of 50 idle connections the agent holds %s (at most 16)\n' "$(agent_held)"
wait "$holder" || e2e_fail "the idle connections failed"
e2e_poll 10 bash -c "timeout 7 ip netns exec $SG_NS_GW curl -sS --max-time 5 \
	http://127.0.0.1:9100/metrics | grep -q '^sockgate_metrics_shed_total'" ||
	e2e_fail "no scrape answered after the idle connections"
m=$(scrape)
[ "$(value "$m" sockgate_metrics_shed_total)" -ge 34 ] ||
	e2e_fail "sockgate_metrics_shed_total is $(value "$m" sockgate_metrics_shed_total)"
printf 'ok - metrics: the rest were shed and counted; scrapes answer again\n'

# ---- the control socket checks the uid first ---------------------------------------------
# World-writable on purpose (and its directory searchable), so that the uid check alone
# stands between another user and the agent.
chmod 0711 "$SG_E2E_TMP"
chmod 0666 "$SOCKGATE_CONTROL"
out=$(e2e_exec "$SG_NS_GW" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import errno, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"status\n")
s.setblocking(False)
body, sent, end = b"x" * 65536, 0, time.monotonic() + 5
while sent < (4 << 20) and time.monotonic() < end:
    try:
        sent += s.send(body)
    except BlockingIOError:
        time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        break
s.settimeout(5)
reply = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
except (socket.timeout, ConnectionResetError):
    pass
print("sent=%d reply=%r" % (sent, reply.decode(errors="replace")))
' "$SOCKGATE_CONTROL" 2>&1) || true
e2e_log "uid 65534: $out"
e2e_assert_contains "$out" "permission denied: only root or the agent's user" \
	"control: another uid is refused while its request is still coming"
sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' <<<"$out")
if [ -z "$sent" ] || [ "$sent" -ge $((4 << 20)) ]; then
	e2e_fail "control: the whole body was taken: $out"
fi
printf 'ok - control: the agent read none of it (%s of 4194304 bytes could be sent)\n' "$sent"
"$ROOT/build/sockgate" status >/dev/null || e2e_fail "root is refused now"
printf 'ok - control: root is still served\n'

# ---- max_addresses_per_name --------------------------------------------------------------
e2e_poll 5 grep -q "\"$NAME\" has $N_ADDRS addresses: using the first 5" "$log" ||
	e2e_fail "no truncation warning at start: $(grep -i resolv "$log")"
printf 'ok - dns: the cut is logged at start\n'
e2e_poll 10 bash -c "timeout 7 ip netns exec $SG_NS_GW curl -sS --max-time 5 \
	http://127.0.0.1:9100/metrics | grep -q '^sockgate_resolve_truncated_total{host=\"$NAME\"} [1-9]'" ||
	e2e_fail "sockgate_resolve_truncated_total did not count: $(scrape | grep resolve)"
printf 'ok - dns: sockgate_resolve_truncated_total counts the cut answers\n'
m=$(scrape)
e2e_assert_eq 5 "$(value "$m" "sockgate_resolve_addresses{host=\"$NAME\"}")" \
	"dns: the name has 5 addresses in use"
e2e_assert_eq 5 "$(value "$m" "sockgate_backend_endpoints_resolved{route=\"many\",backend=\"$NAME:9000\"}")" \
	"dns: the backend has 5 endpoints"
e2e_assert_eq 0 "$(value "$m" 'sockgate_resolve_changes_total{host="'"$NAME"'"}')" \
	"dns: the same answer, cut the same way, is no change"
e2e__stop_pids "$pid"

# ---- an explicit wildcard ------------------------------------------------------------------
e2e_bg "$SG_NS_GW" "$tmp/sockgated-any.log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" \
	--metrics 0.0.0.0:9100
e2e_poll 10 e2e__listens "$SG_NS_GW" "$E2E_BG_PID" 0.0.0.0 9100 ||
	e2e_fail "--metrics 0.0.0.0:9100 does not listen: $(cat "$tmp/sockgated-any.log")"
out=$(e2e_exec "$SG_NS_CLI" curl -sS --max-time 5 "http://$GW_IP_CLI:9100/metrics")
e2e_assert_contains "$out" "sockgate_connections_active" \
	"metrics: 0.0.0.0:9100 answers the client namespace"
e2e_pass "metrics on loopback unless told, scrapes capped, control uid checked first," \
	"addresses per name capped"
