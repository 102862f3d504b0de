#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The reference scenario expressed as Gateway API objects
# (tests/data/configs/good/gateway-api-scenario.yaml: a class-istio Gateway with a TLS
# Passthrough listener and a TLSRoute to the mynginxapp Service) through sockgated: the
# user's curl from the client namespace, IPv4 and IPv6, reaches the user's NGINX with its
# certificate; the access log names the TLSRoute; an unknown SNI is refused.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl openssl nginx

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOCKGATED=$ROOT/build/sockgated
[ -x "$SOCKGATED" ] || e2e_fail "$SOCKGATED not built (run make)"
CONFIG=$ROOT/tests/data/configs/good/gateway-api-scenario.yaml
WELCOME='Welcome to aliyun.com without TLS Termination!'
NAME=sample.aliyun.com
ROUTE=TLSRoute/default/istio-mynginx-customtlsroute
e2e_bpffs

e2e_topology_up
e2e_certs
be_dir=$(e2e_tmpdir nginx-be)
e2e_nginx_backend "$SG_NS_BE" "$BE_IP,$BE_IP6" 443 "$be_dir"
# The Service's cluster DNS name resolves on the gateway host, as in the user's cluster.
e2e_hosts_file "$SG_NS_GW" mynginxapp.default.svc.cluster.local "$BE_IP"

# curl_gw IP NAME: the user's check from the client, against the gateway.
curl_gw() {
	e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --cacert "$SG_CA" \
		--resolve "$2:443:$1" "https://$2" 2>"$SG_E2E_TMP/curl.err"
}

log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$CONFIG" --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 ||
	e2e_fail "sockgated is not listening: $(cat "$log")"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" :: 443 ||
	e2e_fail "sockgated is not listening on IPv6: $(cat "$log")"

out=$(curl_gw "$GW_IP_CLI" "$NAME")
e2e_assert_eq "$WELCOME" "$out" "IPv4: the user's curl through the Gateway API scenario"
out=$(curl_gw "[$GW_IP6_CLI]" "$NAME")
e2e_assert_eq "$WELCOME" "$out" "IPv6: the user's curl through the Gateway API scenario"
out=$(e2e_exec "$SG_NS_CLI" openssl s_client -connect "$GW_IP_CLI:443" -servername "$NAME" \
	-CAfile "$SG_CA" -verify_return_error </dev/null 2>&1 || true)
e2e_assert_contains "$out" "Verify return code: 0 (ok)" \
	"openssl s_client -servername $NAME verifies: TLS passed through, not terminated"
e2e_poll 10 grep -q "^access .*sni=$NAME .*route=$ROUTE .*end=eof" "$log" ||
	e2e_fail "no access line naming $ROUTE: $(cat "$log")"
printf 'ok - the access log names the TLSRoute\n'

rc=0
curl_gw "$GW_IP_CLI" other.aliyun.com >/dev/null || rc=$?
[ "$rc" -ne 0 ] || e2e_fail "an SNI outside the TLSRoute's hostnames was served"
printf 'ok - an SNI outside the TLSRoute hostnames is refused\n'

kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
e2e_pass "the user's curl through the reference scenario as Gateway API objects"
