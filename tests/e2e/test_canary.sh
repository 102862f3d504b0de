#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# An Istio 90/10 canary through sockgated with real NGINX TLS backends (the user's
# mynginx.conf, three copies on three ports): a ServiceEntry labels 8441 and 8442
# version v1 and 8443 version v2, a DestinationRule names the subsets, and a
# VirtualService splits 90/10. 100 requests in a row must give the v2 endpoint
# exactly 10 (round robin is deterministic) and the two v1 endpoints the other 90,
# both used. Then a reload to a file whose subset selects nothing is rejected and
# the canary keeps serving, and `sockgated --check` exits 1 on that file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl openssl nginx python3
e2e_sockgate_env
WELCOME='Welcome to aliyun.com without TLS Termination!'
NAME=sample.aliyun.com
e2e_bpffs
e2e_topology_up
e2e_certs

declare -A be_dir
for port in 8441 8442 8443; do
	be_dir[$port]=$(e2e_tmpdir "nginx-$port")
	e2e_nginx_backend "$SG_NS_BE" "$BE_IP" "$port" "${be_dir[$port]}"
done

# requests PORT: GET / answered 200 by the NGINX on PORT, from its access log.
requests() { grep -c ' 200 "GET / HTTP/1.1" 46 ' "${be_dir[$1]}/logs/access.log" || true; }

# canary_yaml V2_LABEL: the canary, its v2 subset selecting version=V2_LABEL.
canary_yaml() {
	cat <<EOF
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["$NAME"]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: ["$NAME"]
  gateways: [gw]
  tls:
  - match: [{sniHosts: ["$NAME"]}]
    route:
    - destination: {host: shop.internal, port: {number: 443}, subset: v1}
      weight: 90
    - destination: {host: shop.internal, port: {number: 443}, subset: v2}
      weight: 10
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop}
spec:
  hosts: [shop.internal]
  ports: [{number: 443, name: tls}]
  resolution: STATIC
  endpoints:
  - {address: $BE_IP, ports: {tls: 8441}, labels: {version: v1}}
  - {address: $BE_IP, ports: {tls: 8442}, labels: {version: v1}}
  - {address: $BE_IP, ports: {tls: 8443}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop}
spec:
  host: shop.internal
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: $1}}
EOF
}

cfg=$(e2e_tmpdir)/canary.yaml
canary_yaml v2 >"$cfg"
bad=$(e2e_tmpdir)/bad.yaml
canary_yaml v3 >"$bad"

log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS"
agent=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$agent" 0.0.0.0 443 ||
	e2e_fail "sockgated did not start: $(cat "$log")"

curl_gw() {
	e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --cacert "$SG_CA" \
		--resolve "$NAME:443:$GW_IP_CLI" "https://$NAME" 2>>"$SG_E2E_TMP/curl.err"
}
# curls N: N requests one after another; prints how many printed the welcome line.
curls() {
	local i ok=0
	for ((i = 0; i < $1; i++)); do
		[ "$(curl_gw || true)" = "$WELCOME" ] && ok=$((ok + 1))
	done
	echo "$ok"
}
# shares N: runs N requests; sets a, b, c to what NGINX on 8441, 8442, 8443 answered.
shares() {
	local a0 b0 c0
	a0=$(requests 8441) b0=$(requests 8442) c0=$(requests 8443)
	e2e_assert_eq "$1" "$(curls "$1")" "$1 requests through the canary"
	a=$(($(requests 8441) - a0)) b=$(($(requests 8442) - b0)) c=$(($(requests 8443) - c0))
}

# --- the split: v2 only on its endpoint, 10 of 100; v1 on both of its own ---------------
shares 100
e2e_assert_eq 10 "$c" "subset v2 (NGINX on 8443) answered 10 of 100"
e2e_assert_eq 90 "$((a + b))" "subset v1 (NGINX on 8441 and 8442) answered 90 of 100"
if [ "$a" -eq 0 ] || [ "$b" -eq 0 ]; then
	e2e_fail "subset v1 must use both of its endpoints: 8441 $a, 8442 $b"
fi
printf 'ok - 90/10 canary: v1 endpoints %s + %s, v2 endpoint %s of 100\n' "$a" "$b" "$c"

subsets=$("$ROOT/build/sockgate" routes --json | python3 -c '
import json, sys
print(" ".join("%s*%s" % (b.get("subset"), b["weight"]) for b in json.load(sys.stdin)[0]["backends"]))')
e2e_assert_eq "v1*90 v2*10" "$subsets" "sockgate routes --json shows each backend's subset and weight"

# --- a subset that selects nothing: --check exits 1, a reload is rejected ----------------
rc=0
out=$("$SOCKGATED" --check --config "$bad" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "sockgated --check exits 1 when a subset selects nothing"
e2e_assert_contains "$out" 'destination.subset: subset "v2" (version=v3) selects no endpoint' \
	"--check names the subset field"
printf 'ok - --check exits 1 on a subset that selects no endpoint\n'
cp "$bad" "$cfg"
kill -HUP "$agent"
e2e_poll 10 grep -q 'reload rejected' "$log" || e2e_fail "reload not rejected: $(tail -5 "$log")"
shares 20
e2e_assert_eq 2 "$c" "after the rejected reload, v2 still answers 2 of 20"
e2e_assert_eq 18 "$((a + b))" "after the rejected reload, v1 still answers 18 of 20"
printf 'ok - the rejected reload left the canary serving 90/10\n'

e2e_pass "an Istio 90/10 subset canary splits real connections; a subset selecting nothing is refused"
