#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# PROXY protocol toward backends, with both dataplanes and IPv4 and IPv6 clients: the
# user's curl through sockgated must print the welcome page, and the backend must learn
# the client's own address (the client namespace's, not the gateway's). Who checks what:
#   - NGINX 1.22 with "listen ... ssl proxy_protocol" checks the v1 and v2 headers
#     (route pp-v1 to an IPv4 backend, pp-v2 to an IPv6 one through wildcard listeners)
#     and logs $proxy_protocol_addr:$proxy_protocol_port and the destination it carried.
#   - build/test/pp_recv (tests/tools/pp_recv.c, its own parser and CRC32C) checks the v2
#     TLVs NGINX 1.22 cannot log: ALPN (curl's first offer, h2), AUTHORITY (the SNI) and
#     CRC32C, strictly, then relays the connection to a plain NGINX (route pp-tlv).
#   - The TLS health checks of the v1 and v2 routes pass NGINX's proxy_protocol too.
#   - A route without proxy_protocol sends nothing: the user's NGINX, without
#     proxy_protocol, answers and logs the gateway as its client (route plain).
# The access log names the header (proxy=v1|v2) and /metrics counts it. Last, the Istio
# form: the user's gateway.yaml plus a DestinationRule with proxyProtocol V2.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl nginx
e2e_sockgate_env
PP_RECV=$ROOT/build/test/pp_recv
[ -x "$PP_RECV" ] || e2e_fail "$PP_RECV not built (run make test)"
WELCOME='Welcome to aliyun.com without TLS Termination!'
NAME=sample.aliyun.com

e2e_topology_up
e2e_certs
e2e_bpffs
tmp=$(e2e_tmpdir)

# The user's NGINX, no PROXY protocol: route "plain" and pp_recv's upstream.
plain_dir=$(e2e_tmpdir nginx-plain)
e2e_nginx_backend "$SG_NS_BE" "$BE_IP" 443 "$plain_dir"

# The same site behind "listen ... ssl proxy_protocol", logging what the header said.
pp_dir=$(e2e_tmpdir nginx-pp)
mkdir -p "$pp_dir/logs"
cat >"$pp_dir/nginx.conf" <<NGINX
events {
}
http {
  log_format pp 'pp_addr=\$proxy_protocol_addr pp_port=\$proxy_protocol_port '
                'pp_dst=\$proxy_protocol_server_addr:\$proxy_protocol_server_port '
                'remote=\$remote_addr "\$request" \$status';
  access_log $pp_dir/logs/access.log pp;
  error_log  $pp_dir/logs/error.log;
  server {
    listen $BE_IP:8443 ssl proxy_protocol;
    listen [$BE_IP6]:8443 ssl proxy_protocol;
    listen [$BE_IP6]:443 ssl proxy_protocol;
    server_name www.aliyun.com;
    ssl_certificate $plain_dir/certs/tls.crt;
    ssl_certificate_key $plain_dir/certs/tls.key;
    location / {
        return 200 '$WELCOME';
        add_header Content-Type text/plain;
    }
  }
}
NGINX
e2e_bg "$SG_NS_BE" "$pp_dir/nginx.stderr" nginx -c "$pp_dir/nginx.conf" -p "$pp_dir" \
	-g "daemon off; pid $pp_dir/nginx.pid;"
pp_nginx=$E2E_BG_PID
for hp in "$BE_IP 8443" "$BE_IP6 8443" "$BE_IP6 443"; do
	# shellcheck disable=SC2086 # "IP PORT"
	e2e_poll 10 e2e__listens "$SG_NS_BE" "$pp_nginx" $hp ||
		e2e_fail "proxy_protocol nginx does not listen on $hp: $(cat "$pp_dir/nginx.stderr")"
done
pp_log=$pp_dir/logs/access.log

recv_log=$tmp/pp_recv.log
e2e_bg "$SG_NS_BE" "$recv_log" "$PP_RECV" "$BE_IP" 9445 "$BE_IP" 443
e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP" 9445 ||
	e2e_fail "pp_recv did not start: $(cat "$recv_log")"

cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - {name: v1-4, address: "$GW_IP_CLI:443"}
  - {name: v1-6, address: "[$GW_IP6_CLI]:443"}
  - {name: v2-4, address: "0.0.0.0:444"}
  - {name: v2-6, address: "[::]:444"}
  - {name: tlv-4, address: "$GW_IP_CLI:445"}
  - {name: tlv-6, address: "[$GW_IP6_CLI]:445"}
  - {name: off-4, address: "$GW_IP_CLI:446"}
  - {name: off-6, address: "[$GW_IP6_CLI]:446"}
routes:
  - name: pp-v1
    listeners: [v1-4, v1-6]
    sni: [$NAME]
    proxy_protocol: v1
    health_check: {type: tls, interval: 500ms, timeout: 400ms, rise: 1, fall: 1}
    backends: [{address: "$BE_IP:8443"}]
  - name: pp-v2
    listeners: [v2-4, v2-6]
    sni: [$NAME]
    proxy_protocol: v2
    health_check: {type: tls, interval: 500ms, timeout: 400ms, rise: 1, fall: 1}
    backends: [{address: "[$BE_IP6]:8443"}]
  - name: pp-tlv
    listeners: [tlv-4, tlv-6]
    sni: [$NAME]
    proxy_protocol: {version: v2, crc32c: true}
    backends: [{address: "$BE_IP:9445"}]
  - name: plain
    listeners: [off-4, off-6]
    sni: [$NAME]
    backends: [{address: "$BE_IP:443"}]
YAML
out=$("$SOCKGATED" --check --config "$cfg" 2>&1) || e2e_fail "config rejected: $out"
e2e_assert_contains "$out" "PROXY protocol v2 with CRC32C" "sockgated --check shows the PROXY option"

# curl_gw IP PORT LOCAL_PORT: the user's check through the gateway from a known client
# port, so the backend's view of it can be compared exactly. curl offers h2 first.
curl_gw() {
	e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --http2 --cacert "$SG_CA" \
		--local-port "$3" --resolve "$NAME:$2:$1" "https://$NAME:$2" 2>"$tmp/curl.err" ||
		e2e_fail "curl to $1:$2 from port $3: $(cat "$tmp/curl.err")"
}
has_line() { grep -qF -- "$2" "$1"; }
# count_gt PATTERN FILE N: more than N lines of FILE match PATTERN (re-read at each poll).
count_gt() { [ "$(grep -c -- "$1" "$2" || true)" -gt "$3" ]; }
expect_line() { # FILE LINE MESSAGE: LINE appears in FILE (written once the request ends)
	e2e_poll 10 has_line "$1" "$2" || e2e_fail "$3: no line with '$2' in $1: $(tail -5 "$1")"
	printf 'ok - %s\n' "$3"
}
# checked_up ROUTE: sockgate backends shows ROUTE's endpoint up after a passed check.
checked_up() { timeout 5 "$ROOT/build/sockgate" backends 2>/dev/null | grep -Eq "^$1 .* up +ok *\$"; }
scrape() { e2e_exec "$SG_NS_GW" curl -sS --max-time 5 http://127.0.0.1:9100/metrics; }
metric() { sed -n "s/^sockgate_connections_total{result=\"$1\"} //p" <<<"$2"; }

port=41000
for dp in sockmap splice; do
	log=$tmp/sockgated-$dp.log
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane "$dp" \
		--bpffs "$BPFFS" --metrics 127.0.0.1:9100
	pid=$E2E_BG_PID
	for lp in "$GW_IP_CLI 446" ":: 444" "127.0.0.1 9100"; do
		# shellcheck disable=SC2086
		e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" $lp ||
			e2e_fail "$dp: sockgated does not listen on $lp: $(cat "$log")"
	done
	# A TLS health check of a PROXY route sends the header first (v1 with the check's
	# own addresses, v2 LOCAL), or NGINX would refuse it and fall: 1 take it down.
	for r in pp-v1 pp-v2; do
		e2e_poll 10 checked_up "$r" ||
			e2e_fail "$dp: $r not up after a TLS check: $("$ROOT/build/sockgate" backends 2>&1)"
		printf 'ok - %s: the TLS health check of %s passes through NGINX proxy_protocol\n' "$dp" "$r"
	done

	for fam in 4 6; do
		if [ "$fam" = 4 ]; then
			cli=$CLI_IP gw=$GW_IP_CLI gw_url=$GW_IP_CLI
		else
			cli=$CLI_IP6 gw=$GW_IP6_CLI gw_url="[$GW_IP6_CLI]"
		fi
		# v1 to an IPv4 backend: NGINX parsed "PROXY TCP4|TCP6 client gateway ...".
		port=$((port + 1))
		e2e_assert_eq "$WELCOME" "$(curl_gw "$gw_url" 443 $port)" "$dp, IPv$fam client, v1: welcome page"
		expect_line "$pp_log" "pp_addr=$cli pp_port=$port pp_dst=$gw:443 remote=$GW_IP_BE " \
			"$dp, IPv$fam client, v1: NGINX logs the client's address and port, not the gateway's"
		# v2 through a wildcard listener to an IPv6 backend.
		port=$((port + 1))
		e2e_assert_eq "$WELCOME" "$(curl_gw "$gw_url" 444 $port)" "$dp, IPv$fam client, v2: welcome page"
		expect_line "$pp_log" "pp_addr=$cli pp_port=$port pp_dst=$gw:444 remote=$GW_IP6_BE " \
			"$dp, IPv$fam client, v2: NGINX logs the client's address and port"
		# v2 with every TLV, checked by pp_recv, relayed to the plain NGINX.
		port=$((port + 1))
		e2e_assert_eq "$WELCOME" "$(curl_gw "$gw_url" 445 $port)" "$dp, IPv$fam client, v2 TLVs: welcome page"
		if [ "$fam" = 4 ]; then
			want="v2 PROXY TCP4 src=$cli:$port dst=$gw:445"
		else
			want="v2 PROXY TCP6 src=[$cli]:$port dst=[$gw]:445"
		fi
		expect_line "$recv_log" "$want ALPN=h2 AUTHORITY=$NAME CRC32C=ok next=tls" \
			"$dp, IPv$fam client: pp_recv got ALPN h2, AUTHORITY $NAME, a good CRC32C, then TLS"
		# No proxy_protocol: the user's NGINX answers and sees the gateway.
		before=$(grep -c "^$GW_IP_BE - " "$plain_dir/logs/access.log" || true)
		port=$((port + 1))
		e2e_assert_eq "$WELCOME" "$(curl_gw "$gw_url" 446 $port)" "$dp, IPv$fam client, no PROXY header: welcome page"
		e2e_poll 10 count_gt "^$GW_IP_BE - " "$plain_dir/logs/access.log" "$before" ||
			e2e_fail "$dp: the plain NGINX did not log the gateway as its client"
	done
	e2e_assert_eq 0 "$(grep -c '^error' "$recv_log" || true)" "$dp: pp_recv found no fault in any header"

	e2e_poll 10 count_gt '^access .*end=eof' "$log" 7 ||
		e2e_fail "$dp: expected 8 finished connections: $(grep '^access' "$log")"
	for r in "pp-v1 proxy=v1" "pp-v2 proxy=v2" "pp-tlv proxy=v2"; do
		n=$(grep -c "^access .*route=${r% *} .*dataplane=$dp ${r#* } bytes_up=.*end=eof" "$log" || true)
		e2e_assert_eq 2 "$n" "$dp: access log names the header of route ${r% *} (${r#* })"
	done
	n=$(grep "^access .*route=plain .*end=eof" "$log" | grep -vc ' proxy=' || true)
	e2e_assert_eq 2 "$n" "$dp: route plain's access lines name no PROXY header"
	m=$(scrape)
	e2e_assert_eq 6 "$(metric proxy_header_sent "$m")" "$dp: /metrics counts 6 headers sent"
	e2e_assert_eq 0 "$(metric proxy_header_failed "$m")" "$dp: /metrics counts no failed header"

	kill -TERM "$pid"
	e2e_poll 15 bash -c "! kill -0 $pid 2>/dev/null" || e2e_fail "$dp: sockgated ignored SIGTERM"
	wait "$pid" || e2e_fail "$dp: sockgated exited non-zero"
done

# The Istio form: the user's files unchanged, plus a DestinationRule for the backend.
istio=$(e2e_tmpdir istio)
cp "$SG_SCENARIO_DIR/gateway.yaml" "$istio/gateway.yaml"
cat >"$istio/proxy.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: mynginx-proxy-protocol
  namespace: default
spec:
  host: mynginxapp.default.svc.cluster.local
  trafficPolicy:
    proxyProtocol:
      version: V2
YAML
# The backend's name leads to the proxy_protocol NGINX's [BE_IP6]:443.
e2e_hosts_file "$SG_NS_GW" mynginxapp.default.svc.cluster.local "$BE_IP6"
log=$tmp/sockgated-istio.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$istio" --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 || e2e_fail "istio: no listener: $(cat "$log")"
port=$((port + 1))
e2e_assert_eq "$WELCOME" "$(curl_gw "$GW_IP_CLI" 443 $port)" "Istio DestinationRule proxyProtocol V2: welcome page"
expect_line "$pp_log" "pp_addr=$CLI_IP pp_port=$port pp_dst=$GW_IP_CLI:443 remote=$GW_IP6_BE " \
	"Istio: NGINX logs the client's address from the v2 header"
e2e_poll 10 grep -q "^access .*proxy=v2 .*end=eof" "$log" || e2e_fail "istio: no proxy=v2 access line"

e2e_pass "PROXY protocol v1 and v2 (with TLVs) reach real receivers through both dataplanes"
