#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A fleet of three gateway nodes, as deploy/kubernetes/daemonset.yaml makes one: three
# gateway namespaces, each with an agent reading one ConfigMap-shaped directory (the
# kubelet's ..data layout), three copies of the user's NGINX in the backend namespace,
# and eight clients (source addresses) in the client namespace. ECMP would put each
# connection on one of the gateways by its hash; here each client crosses every gateway
# in turn, so that every client/gateway pair is seen instead of the ones a hash happens
# to pick. The route is Istio with consistentHash useSourceIp (Maglev):
#   - a client reaches the same backend through all three gateways, and the clients
#     use more than one backend;
#   - a ConfigMap update (..data swap) reaches all three agents within a second;
#   - with one gateway stopped, every client keeps its backend through the other two,
#     those that would have crossed the stopped one included.
#
#   clients 10.199.8.1-8 (lo) ----- cli --+-- gw1 (lib's sg<pid>-gw) --+-- be: nginx on
#                                         +-- gw2 --------------------+   10.199.9.1-3
#                                         +-- gw3 --------------------+   (lo)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl nginx
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
NAME=sample.aliyun.com
CLIENTS=(10.199.8.1 10.199.8.2 10.199.8.3 10.199.8.4 10.199.8.5 10.199.8.6 10.199.8.7 10.199.8.8)
BACKENDS=(10.199.9.1 10.199.9.2 10.199.9.3)

e2e_topology_up
e2e_bpffs
e2e_certs

# Gateways 2 and 3 beside lib's: client link 10.199.1k.0/24, backend link 10.199.2k.0/24.
GW_NS=("$SG_NS_GW")
GW_ADDR=("$GW_IP_CLI")
GW_BE_PEER=("$BE_IP")
GW_CLI_PEER=("$CLI_IP")
for k in 2 3; do
	ns=sg$$-gw$k
	e2e_netns_add "$ns"
	ip -n "$SG_NS_CLI" link add "to-gw$k" type veth peer name to-cli netns "$ns"
	ip -n "$SG_NS_BE" link add "to-gw$k" type veth peer name to-be netns "$ns"
	e2e__addr "$SG_NS_CLI" "to-gw$k" "10.199.1$k.2/24" "fd00:5ca1::1$k:2/112"
	e2e__addr "$ns" to-cli "10.199.1$k.1/24" "fd00:5ca1::1$k:1/112"
	e2e__addr "$ns" to-be "10.199.2$k.1/24" "fd00:5ca1::2$k:1/112"
	e2e__addr "$SG_NS_BE" "to-gw$k" "10.199.2$k.2/24" "fd00:5ca1::2$k:2/112"
	GW_NS+=("$ns")
	GW_ADDR+=("10.199.1$k.1")
	GW_BE_PEER+=("10.199.2$k.2")
	GW_CLI_PEER+=("10.199.1$k.2")
done
# The clients and the backends sit on lo behind the links, so every gateway reaches the
# same backend addresses (one ConfigMap for all) and every client.
for a in "${CLIENTS[@]}"; do ip -n "$SG_NS_CLI" addr add "$a/32" dev lo; done
for a in "${BACKENDS[@]}"; do ip -n "$SG_NS_BE" addr add "$a/32" dev lo; done
for i in 0 1 2; do
	ip -n "${GW_NS[i]}" route add 10.199.8.0/24 via "${GW_CLI_PEER[i]}"
	ip -n "${GW_NS[i]}" route add 10.199.9.0/24 via "${GW_BE_PEER[i]}"
	e2e_poll 10 e2e__addrs_ready "${GW_NS[i]}" || e2e_fail "addresses in ${GW_NS[i]} not ready"
done

declare -A be_dir
for b in "${BACKENDS[@]}"; do
	be_dir[$b]=$(e2e_tmpdir "nginx-$b")
	e2e_nginx_backend "$SG_NS_BE" "$b" 443 "${be_dir[$b]}"
done

# The ConfigMap: the user's Gateway and VirtualService, the Service's three pods as a
# ServiceEntry (what a headless Service resolves to), Maglev by source IP.
payload=$(e2e_tmpdir payload)
cp "$SG_SCENARIO_DIR/gateway.yaml" "$payload/gateway.yaml"
cat >"$payload/backends.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mynginxapp}
spec:
  hosts: [mynginxapp.default.svc.cluster.local]
  ports: [{number: 443, name: tls}]
  resolution: STATIC
  endpoints:
  - {address: ${BACKENDS[0]}}
  - {address: ${BACKENDS[1]}}
  - {address: ${BACKENDS[2]}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mynginxapp}
spec:
  host: mynginxapp.default.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash: {useSourceIp: true}
EOF
volume=$(e2e_tmpdir configmap)
e2e_configmap_publish "$volume" 2026_12_07_18_00_00.000 "$payload"

declare -a AGENT CTL
for i in 0 1 2; do
	CTL[i]=$SG_E2E_TMP/gw$i.sock
	e2e_bg "${GW_NS[i]}" "$(e2e_tmpdir)/sockgated-gw$i.log" "$SOCKGATED" --config "$volume" \
		--bpffs "$BPFFS-gw$i" --control "${CTL[i]}"
	AGENT[i]=$E2E_BG_PID
done
for i in 0 1 2; do
	e2e_poll 20 e2e__listens "${GW_NS[i]}" "${AGENT[i]}" 0.0.0.0 443 ||
		e2e_fail "gateway $i does not listen: $(cat "$SG_E2E_TMP/sockgated-gw$i.log")"
done

# via CLIENT GATEWAY_INDEX: the backend that served one request from CLIENT through that
# gateway, found by the access log that gained the line.
requests() { cat "${be_dir[@]/%//logs/access.log}" 2>/dev/null | wc -l; }
logged_since() { [ "$(requests)" -gt "$1" ]; }
via() {
	local before b n out
	before=$(requests)
	out=$(e2e_exec "$SG_NS_CLI" curl -sS --interface "$1" --cacert "$SG_CA" \
		--resolve "$NAME:443:${GW_ADDR[$2]}" "https://$NAME") ||
		e2e_fail "client $1 through gateway $2: curl failed"
	[ "$out" = 'Welcome to aliyun.com without TLS Termination!' ] ||
		e2e_fail "client $1 through gateway $2: $out"
	# nginx logs after the reply is sent: wait for the line, bounded.
	e2e_poll 5 logged_since "$before" || e2e_fail "no backend logged the request"
	for b in "${BACKENDS[@]}"; do
		n=$(wc -l <"${be_dir[$b]}/logs/access.log")
		if [ "$n" != "${seen[$b]:-0}" ]; then
			seen[$b]=$n
			printf '%s\n' "$b"
			return 0
		fi
	done
	e2e_fail "no backend's log grew"
}
declare -A seen home
for b in "${BACKENDS[@]}"; do seen[$b]=0; done

for c in "${CLIENTS[@]}"; do
	for i in 0 1 2; do
		b=$(via "$c" "$i")
		# via ran in a subshell: record the count it saw here too.
		seen[$b]=$(wc -l <"${be_dir[$b]}/logs/access.log")
		if [ -z "${home[$c]:-}" ]; then
			home[$c]=$b
		elif [ "${home[$c]}" != "$b" ]; then
			e2e_fail "client $c: backend ${home[$c]} before, $b through gateway $i"
		fi
	done
done
printf 'ok - each of %d clients reached one backend through all three gateways\n' "${#CLIENTS[@]}"
used=$(printf '%s\n' "${home[@]}" | sort -u | wc -l)
[ "$used" -ge 2 ] || e2e_fail "Maglev put every client on one backend: ${home[*]}"
printf 'ok - the clients are spread over %d backends\n' "$used"

# A ConfigMap update reaches every agent within a second.
# (A native route: mixed with the Istio objects in one load, on the Gateway's listener.)
cat >"$payload/extra.yaml" <<EOF
routes:
  - name: extra
    sni: [www.example.com]
    balance: maglev
    backends:
      - address: "${BACKENDS[0]}:443"
EOF
has_extra() { timeout 5 "$SOCKGATE" --control "$1" routes 2>/dev/null | grep -q 'www.example.com'; }
for i in 0 1 2; do
	! has_extra "${CTL[i]}" || e2e_fail "gateway $i has the update before it was made"
done
start=$(date +%s%N)
e2e_configmap_publish "$volume" 2026_12_07_18_05_00.000 "$payload"
for i in 0 1 2; do
	e2e_poll 5 has_extra "${CTL[i]}" || e2e_fail "gateway $i never saw the update"
done
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -le 1000 ] || e2e_fail "the update took $ms ms to reach all three agents"
printf 'ok - the ConfigMap update reached all three agents in %d ms\n' "$ms"

# One gateway stopped: the clients that crossed it go through the others (as ECMP would
# move them), and no client changes backend.
kill -TERM "${AGENT[1]}"
wait "${AGENT[1]}" || e2e_fail "gateway 1's agent exit status"
for c in "${CLIENTS[@]}"; do
	for i in 0 2; do
		b=$(via "$c" "$i")
		seen[$b]=$(wc -l <"${be_dir[$b]}/logs/access.log")
		[ "$b" = "${home[$c]}" ] ||
			e2e_fail "client $c moved from ${home[$c]} to $b after gateway 1 stopped"
	done
done
printf 'ok - with gateway 1 stopped every client keeps its backend through gateways 0 and 2\n'

for i in 0 2; do
	kill -TERM "${AGENT[i]}"
	wait "${AGENT[i]}" || e2e_fail "gateway $i's agent exit status"
done
e2e_pass "three agents on one ConfigMap agree on each client's backend (Maglev) and follow one update"
