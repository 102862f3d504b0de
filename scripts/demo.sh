#!/usr/bin/env bash
# The reference scenario (tests/data/scenario/), run by `make demo` after the build:
# the user's Istio Gateway + VirtualService for sample.aliyun.com in TLS passthrough,
# the user's certificate steps, the user's NGINX as the backend, and the user's curl
# through sockgated. Client, gateway and backend are network namespaces with veth
# links (tests/e2e/lib.sh builds them and removes everything on exit).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=../tests/e2e/lib.sh
. tests/e2e/lib.sh
trap cleanup EXIT

scenario=tests/data/scenario
NAME=sample.aliyun.com
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. the user's certificate steps ($scenario/gen-certs.sh)"
e2e_certs
openssl verify -CAfile "$SG_CA" "$SG_E2E_CERTS/$NAME.crt"

step "2. the user's Istio YAML, unchanged ($scenario/gateway.yaml): sockgated --check"
build/sockgated --check --config "$scenario/gateway.yaml" 2>&1

step "3. a broken copy is rejected with file:line:column and every error"
bad=$(e2e_tmpdir)/gateway-broken.yaml
sed -e 's/mode: PASSTHROUGH/mode: SIMPLE/' -e 's/number: 443$/number: https/' \
	-e 's/- sample.aliyun.com  # route/- sample..aliyun.com  # route/' "$scenario/gateway.yaml" >"$bad"
if build/sockgated --check --config "$bad"; then
	echo "demo: the broken file was accepted" >&2
	exit 1
fi

e2e_require_root
step "4. hosts: client, gateway and backend namespaces; the user's NGINX on the backend"
e2e_topology_up
e2e_nginx_backend "$SG_NS_BE" "$BE_IP" 443 "$(e2e_tmpdir nginx)"
e2e_hosts_file "$SG_NS_GW" mynginxapp.default.svc.cluster.local "$BE_IP"
echo "backend: NGINX on $BE_IP:443; gateway: $GW_IP_CLI; client: $CLI_IP"

step "5. sockgated on the gateway with the user's gateway.yaml"
log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$ROOT/build/sockgated" --config "$ROOT/$scenario/gateway.yaml"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 || e2e_fail "sockgated did not start: $(cat "$log")"
sed 's/^/    /' "$log"

step "6. the user's check from the client host"
echo "curl -v --cacert aliyun.root.crt --resolve $NAME:443:$GW_IP_CLI https://$NAME"
out=$(cd "$SG_E2E_CERTS" && e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --cacert aliyun.root.crt \
	--resolve "$NAME:443:$GW_IP_CLI" "https://$NAME")
printf '\n    %s\n\n' "$out"
e2e_poll 5 grep -q '^access ' "$log" || true
echo "sockgated's access log:"
grep '^access ' "$log" | sed 's/^/    /'
[ "$out" = 'Welcome to aliyun.com without TLS Termination!' ] || e2e_fail "unexpected answer"
echo
echo "demo: ok"
