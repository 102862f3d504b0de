#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Endpoint names followed through real DNS (docs/CONFIG.md, "Endpoint host names"): a
# dnsmasq in the gateway namespace serves a Service name with two A records, TTL 1 s, from
# a file it re-reads on SIGHUP; the agent's resolver (c-ares) asks it through the
# namespace's resolv.conf. Both addresses become endpoints; a changed record and then a
# removed one are followed within the TTL and a margin, while a second name, which dnsmasq
# forwards to a server that never answers, is still pending: one slow name delays no
# other. Last, `sockgated --check` warns about a Service name with a single address
# (a ClusterIP) and fails with --strict; with kubernetes.service_cidr, only about one
# inside that range.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3
[ -x /usr/sbin/dnsmasq ] || e2e_skip "dnsmasq not installed (Debian: dnsmasq-base)"
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
NAME=web.demo.svc.cluster.local
SLOW=slow.demo.test
ONE=one.demo.svc.cluster.local
BE_IP2=10.199.2.3
BE_IP3=10.199.2.4
SINK=127.0.0.2 # dnsmasq forwards $SLOW here: a socket that never answers
export SG_E2E_CMD_TIMEOUT=60

e2e_topology_up
e2e_bpffs
# The names resolve to the backend namespace's addresses; nothing connects to them here.
ip -n "$SG_NS_BE" addr add "$BE_IP2/24" dev "$BE_IF"
ip -n "$SG_NS_BE" addr add "$BE_IP3/24" dev "$BE_IF"

tmp=$(e2e_tmpdir)
records=$tmp/records
printf '%s %s\n%s %s\n%s %s\n' "$BE_IP" "$NAME" "$BE_IP2" "$NAME" "$BE_IP" "$ONE" >"$records"
e2e_bg "$SG_NS_GW" "$tmp/sink.log" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'"$SINK"'", 53))
time.sleep(600)'
sink=$E2E_BG_PID
e2e_bg "$SG_NS_GW" "$tmp/dnsmasq.log" /usr/sbin/dnsmasq --keep-in-foreground \
	--conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$records" --local-ttl=1 \
	--listen-address=127.0.0.1 --bind-interfaces --port=53 --user=root --pid-file= \
	--server="/$SLOW/$SINK"
dns=$E2E_BG_PID
e2e_poll 10 bash -c "ip netns exec '$SG_NS_GW' ss -Hlun 'sport = :53' | grep -q 127.0.0.1" ||
	e2e_fail "dnsmasq did not start: $(cat "$tmp/dnsmasq.log")"
e2e_poll 5 bash -c "ip netns exec '$SG_NS_GW' ss -Hlun 'sport = :53' | grep -q '$SINK'" ||
	e2e_fail "the silent server did not start"
e2e_resolv_conf "$SG_NS_GW" 127.0.0.1 "options timeout:3 attempts:2"

cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
resolve_interval: 30s
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: web
    sni: [web.example]
    backends:
      - address: "$NAME:9000"
  - name: slow
    sni: [slow.example]
    backends:
      - address: "$SLOW:9000"
YAML

log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" --log-level info
pid=$E2E_BG_PID
e2e_poll 30 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"

endpoints() { # the sorted endpoints of NAME, space-separated
	timeout 5 "$SOCKGATE" backends --json | python3 -c 'import json, sys
print(" ".join(sorted(b["endpoint"] for b in json.load(sys.stdin) if b.get("host") == sys.argv[1])))' "$NAME"
}
has_endpoints() { [ "$(endpoints 2>/dev/null)" = "$1" ]; }
# A change must show within TTL (1 s) + resolve_min 1 s + a margin, far below
# resolve_interval (30 s) and below the silent name's timeouts (3 s x 2).
follows() { # EXPECTED WHAT
	local t0=$SECONDS
	e2e_poll 4 has_endpoints "$1" ||
		e2e_fail "$2: endpoints $(endpoints) after $((SECONDS - t0)) s, want $1: $(grep resolve "$log")"
	printf 'ok - %s (%d s)\n' "$2" "$((SECONDS - t0))"
}

e2e_poll 10 has_endpoints "$BE_IP:9000 $BE_IP2:9000" ||
	e2e_fail "both records are not endpoints: $(endpoints); $(cat "$log")"
printf 'ok - both A records of %s are endpoints\n' "$NAME"

# Changed records: dnsmasq re-reads its hosts file on SIGHUP.
printf '%s %s\n%s %s\n%s %s\n' "$BE_IP2" "$NAME" "$BE_IP3" "$NAME" "$BE_IP" "$ONE" >"$records"
kill -HUP "$dns"
follows "$BE_IP2:9000 $BE_IP3:9000" "a changed record is followed"

printf '%s %s\n%s %s\n' "$BE_IP3" "$NAME" "$BE_IP" "$ONE" >"$records"
kill -HUP "$dns"
follows "$BE_IP3:9000" "a removed record is followed"

printf '%s %s\n%s %s\n%s %s\n' "$BE_IP" "$NAME" "$BE_IP3" "$NAME" "$BE_IP" "$ONE" >"$records"
kill -HUP "$dns"
follows "$BE_IP:9000 $BE_IP3:9000" "an added record is followed while $SLOW is unanswered"
e2e_alive "$pid" || e2e_fail "the agent died"
e2e_assert_not_contains "$(grep "resolve: .*$SLOW" "$log" | grep -v cannot || true)" "now" \
	"$SLOW never resolved (its server is silent)"

# --check: a Service name with one address is most likely a ClusterIP.
check_cfg=$tmp/check.yaml
cat >"$check_cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: one
    sni: [one.example]
    backends:
      - address: "$ONE:9000"
YAML
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --check --config "$check_cfg" 2>&1) || rc=$?
e2e_assert_eq 0 "$rc" "--check passes without --strict: $out"
e2e_assert_contains "$out" "$check_cfg:8:" "the warning names the backend's file and line"
e2e_assert_contains "$out" "\"$ONE\" resolves to a single address" "the ClusterIP warning"
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --check --strict --config "$check_cfg" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "--check --strict fails on the ClusterIP warning: $out"
# With the cluster's service CIDR, only an address inside it is a ClusterIP.
printf 'kubernetes:\n  service_cidr: %s\n' "$SG_NET_BE" >>"$check_cfg"
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --check --strict --config "$check_cfg" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "--strict fails: the address is in service_cidr $SG_NET_BE: $out"
e2e_assert_contains "$out" "\"$ONE\" resolves to $BE_IP, a ClusterIP (kubernetes.service_cidr)" \
	"the warning names the ClusterIP"
sed -i "s|service_cidr: .*|service_cidr: 10.96.0.0/12|" "$check_cfg"
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --check --strict --config "$check_cfg" 2>&1) || rc=$?
e2e_assert_eq 0 "$rc" "--strict passes: $BE_IP is outside service_cidr 10.96.0.0/12 (a pod): $out"
sed -i "s|service_cidr: .*|service_cidr: 10.96.0.1/12|" "$check_cfg"
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --check --config "$check_cfg" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "a service_cidr with host bits is an error: $out"
rc=0
out=$(e2e_exec "$SG_NS_GW" "$SOCKGATED" --check --strict --config "$cfg" 2>&1 | grep -v "$SLOW") || rc=$?
e2e_assert_not_contains "$out" "single address" "two addresses (headless): no warning"

e2e_pass "DNS records with a 1 s TTL are followed (changed, removed, added) while another name waits on a silent server; --check warns about a single-address Service name"
