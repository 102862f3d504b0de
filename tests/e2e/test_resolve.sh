#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Endpoint host names re-resolved every resolve_interval (README, "Endpoint host names").
# The gateway namespace's hosts file (/etc/netns/NS/hosts: ip netns exec bind-mounts it
# over /etc/hosts, and glibc reads it on every lookup) names the backend. While a long
# checksummed flow runs to the first address, the file is rewritten in place to name a
# second one, and the configuration file is left half-edited (broken YAML): new
# connections go to the second address, the long flow completes intact on the first,
# nothing re-read the configuration file, and the metrics and `sockgate backends` show the
# change. Then the name stops resolving: it keeps serving its last address. Last, a
# `sockgate load` of an Istio ServiceEntry (resolution: DNS) naming a new host: the name
# is looked up in the background, serves, and follows the hosts file too.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl python3
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
HELLO=$HELLOS/crafted-baseline.bin # 275 bytes, SNI sample.aliyun.com
NAME=backend.sockgate.test
BE_IP2=10.199.2.3 # a second address of the backend host
LONG_UP=$((12 << 20))
export SG_E2E_CMD_TIMEOUT=60

e2e_topology_up
e2e_bpffs
ip -n "$SG_NS_BE" addr add "$BE_IP2/24" dev "$BE_IF"
hosts=/etc/netns/$SG_NS_GW/hosts
e2e_hosts_file "$SG_NS_GW" "$NAME" "$BE_IP"

cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
resolve_interval: 1s
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: named
    sni: [sample.aliyun.com]
    backends:
      - address: "$NAME:9000"
YAML

# One checksumming server per address, so each one's log says who got what.
srv() { # LOG IP: start an sgflow server on IP:9000 and wait until it listens
	e2e_bg "$SG_NS_BE" "$1" "$SGFLOW" server "$2" 9000 --hello "$HELLO" --timeout 120
	e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$2" 9000 ||
		e2e_fail "sgflow server on $2:9000 did not start: $(cat "$1")"
}
srv1_log=$(e2e_tmpdir)/server1.log
srv2_log=$(e2e_tmpdir)/server2.log
srv "$srv1_log" "$BE_IP"
srv "$srv2_log" "$BE_IP2"

log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" \
	--metrics 127.0.0.1:9100 --log-level info
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 127.0.0.1 9100 || e2e_fail "no metrics: $(cat "$log")"

scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
value() { awk -v k="$2" '$1 == k {print $2; found = 1} END {if (!found) print 0}' <<<"$1"; }
# The backend of the last access line ending with these up bytes.
last_backend() {
	grep "^access .* bytes_up=$1 " "$log" | tail -n 1 | sed -n 's/.* backend=\([^ ]*\) .*/\1/p'
}
routed_to() { # IP: a new small flow completes and its access line names IP:9000
	local n
	n=$(grep -c '^access ' "$log" || true)
	e2e_routed "$HELLO" || return 1
	e2e_poll 5 bash -c "[ \$(grep -c '^access ' '$log') -gt $n ]" || return 1
	[ "$(last_backend $((65536 + 24 + 275)))" = "$1:9000" ]
}
backends_json() { # the endpoint and host of the route's one backend, from sockgate backends
	"$SOCKGATE" backends --json | python3 -c 'import json, sys
for b in json.load(sys.stdin):
    print(b["endpoint"], b["host"])'
}

routed_to "$BE_IP" || e2e_fail "first flow did not go to $BE_IP: $(tail -n 5 "$log")"
printf 'ok - %s resolves to %s at start: new connections go there\n' "$NAME" "$BE_IP"
e2e_assert_eq "$BE_IP:9000 $NAME" "$(backends_json)" "sockgate backends: the endpoint and its name"
e2e_assert_contains "$("$SOCKGATE" backends)" "HOST" "sockgate backends: a HOST column"

# A long flow through the first address: 12 MiB up at 3 MiB/s, about 4 s.
long_out=$(e2e_tmpdir)/long.out
ip netns exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 443 --hello "$HELLO" \
	--up "$LONG_UP" --up-rate $((3 << 20)) --down 1M --seed 77 --timeout 50 \
	>"$long_out" 2>&1 &
long=$!
e2e_track_pid "$long"
e2e_poll 5 bash -c "timeout 2 ip netns exec '$SG_NS_BE' ss -Htn state connected \
	'( sport = :9000 )' | grep -q '$BE_IP:9000'" || e2e_fail "the long flow did not reach $BE_IP"

# An operator's edit in progress: a DNS change must not apply it (or fail on it).
printf 'routes: [\n' >>"$cfg"
inode=$(stat -c %i "$hosts")
# In place (same inode): the bind mount pins the file, a rename would not be seen.
printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$BE_IP2" "$NAME" >"$hosts"
e2e_assert_eq "$inode" "$(stat -c %i "$hosts")" "hosts file rewritten in place"
e2e_poll 10 grep -q "resolve: $NAME now $BE_IP2 (was $BE_IP)" "$log" ||
	e2e_fail "the new address was not picked up: $(grep resolve "$log")"
printf 'ok - the agent saw %s move to %s\n' "$NAME" "$BE_IP2"
e2e_alive "$long" || e2e_fail "the long flow ended before the change: the test proves nothing"
printf 'ok - the long flow was still running when the addresses changed\n'

routed_to "$BE_IP2" || e2e_fail "new connections do not go to $BE_IP2: $(tail -n 5 "$log")"
printf 'ok - new connections go to %s\n' "$BE_IP2"
e2e_assert_eq "$BE_IP2:9000 $NAME" "$(backends_json)" "sockgate backends: the new endpoint"

wait "$long" || e2e_fail "the long flow failed: $(cat "$long_out")"
e2e_assert_contains "$(cat "$long_out")" "1 ok, 0 failed" "the long flow completed, every byte checked"
e2e_poll 5 grep -q "bytes_up=$((LONG_UP + 24 + 275)) " "$log" || e2e_fail "no access line for the long flow"
e2e_assert_eq "$BE_IP:9000" "$(last_backend $((LONG_UP + 24 + 275)))" \
	"the long flow stayed on the first address"
e2e_assert_contains "$(cat "$srv1_log")" "up=$LONG_UP down=1048576 result=ok" \
	"the first backend checked the long flow"

agent_log=$(grep -v '^access ' "$log")
e2e_assert_contains "$agent_log" "configuration files not read" "the update says it read no file"
e2e_assert_not_contains "$agent_log" "reloaded" "no reload"
e2e_assert_not_contains "$agent_log" "rejected" "the half-edited file was not read"
m=$(scrape)
e2e_assert_eq 0 "$(value "$m" 'sockgate_reloads_total{result="ok"}')" "metrics: no reload"
e2e_assert_eq 1 "$(value "$m" "sockgate_resolve_changes_total{host=\"$NAME\"}")" \
	"metrics: one change of $NAME"
e2e_assert_eq 1 "$(value "$m" 'sockgate_resolve_updates_total')" "metrics: one update"
e2e_assert_eq 1 "$(value "$m" "sockgate_resolve_addresses{host=\"$NAME\"}")" \
	"metrics: $NAME has one address"

# The name stops resolving: its last address stays in use.
printf '127.0.0.1\tlocalhost\n' >"$hosts"
e2e_poll 10 grep -q "resolve: $NAME: .*; keeping its last addresses $BE_IP2" "$log" ||
	e2e_fail "no failure logged: $(grep resolve "$log")"
printf 'ok - the failed lookup was logged\n'
routed_to "$BE_IP2" || e2e_fail "the name's last address is no longer used: $(tail -n 5 "$log")"
printf 'ok - after the name stopped resolving, new connections still go to %s\n' "$BE_IP2"
m=$(scrape)
e2e_assert_eq 1 "$(value "$m" "sockgate_resolve_failing{host=\"$NAME\"}")" "metrics: $NAME failing"
[ "$(value "$m" "sockgate_resolve_failures_total{host=\"$NAME\"}")" -ge 1 ] ||
	e2e_fail "sockgate_resolve_failures_total did not count"
printf 'ok - metrics: sockgate_resolve_failures_total counted\n'
e2e_assert_eq "$BE_IP2:9000 $NAME" "$(backends_json)" "sockgate backends: still the last address"
e2e_assert_eq 1 "$(value "$m" 'sockgate_resolve_updates_total')" "metrics: a failure updates nothing"

# A load naming a new host, through an Istio ServiceEntry with resolution DNS: the
# rebuild takes known names from the resolver (the lost name keeps its address) and
# looks the new one up in the background. Then that name moves too.
LATE=late.sockgate.test
LATE_HELLO=$HELLOS/openssl-tls12-sni.bin # SNI www.example.com, 212 bytes
for ip in "$BE_IP" "$BE_IP2"; do
	e2e_bg "$SG_NS_BE" "$(e2e_tmpdir)/server-late-$ip.log" "$SGFLOW" server "$ip" 9001 --timeout 60
	e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$ip" 9001 || e2e_fail "no server on $ip:9001"
done
printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$BE_IP" "$LATE" >"$hosts"
sed -i '$d' "$cfg" # the operator finishes the edit
late=$(e2e_tmpdir)/late.yaml
cat >"$late" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: late-gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: tls, protocol: TLS}
    hosts: [www.example.com]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: late}
spec:
  hosts: [www.example.com]
  gateways: [late-gw]
  tls:
  - match: [{port: 8443, sniHosts: [www.example.com]}]
    route: [{destination: {host: apps.internal, port: {number: 9001}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: apps}
spec:
  hosts: [apps.internal]
  ports: [{number: 9001, name: tls, protocol: TLS}]
  resolution: DNS
  endpoints: [{address: $LATE}]
YAML
out=$("$SOCKGATE" load "$late" 2>&1) || e2e_fail "load failed: $out"
e2e_assert_eq "loaded $late: 1 route added, 0 replaced" "$out" "load of a ServiceEntry naming a new host"
e2e_poll 10 grep -q "resolve: $LATE is $BE_IP" "$log" || e2e_fail "$LATE not resolved: $(grep resolve "$log")"
e2e_assert_contains "$(cat "$log")" "resolve: 1 new name ($LATE) looked up in the background" \
	"the new name was looked up off the loop"
late_to() { # IP: a new flow on the Istio route completes and went to IP:9001
	e2e_routed "$LATE_HELLO" 8443 || return 1
	e2e_poll 5 grep -q "^access .*route=late.*backend=$1:9001 .*bytes_up=$((65536 + 24 + 212)) " "$log"
}
e2e_poll 5 late_to "$BE_IP" || e2e_fail "the loaded route does not reach $LATE at $BE_IP"
printf 'ok - the ServiceEntry endpoint %s takes connections\n' "$LATE"
routed_to "$BE_IP2" || e2e_fail "after the load, $NAME lost its last address"
printf 'ok - after the load, %s still has its last address %s\n' "$NAME" "$BE_IP2"
printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$BE_IP2" "$LATE" >"$hosts"
e2e_poll 10 grep -q "resolve: $LATE now $BE_IP2 (was $BE_IP)" "$log" ||
	e2e_fail "the ServiceEntry endpoint was not re-resolved: $(grep resolve "$log")"
late_to "$BE_IP2" || e2e_fail "new connections on the Istio route do not go to $BE_IP2"
printf 'ok - a ServiceEntry endpoint name is re-resolved: new connections go to %s\n' "$BE_IP2"
e2e_pass "a hosts file change moved new connections, not the one in flight; a lost name kept its address; ServiceEntry DNS endpoints follow too"
