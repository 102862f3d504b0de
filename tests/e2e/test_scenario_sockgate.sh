#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The reference scenario through sockgated, once per dataplane (auto, sockmap, splice): the
# user's gateway.yaml unchanged, the user's NGINX and certificates in the backend
# namespace, the user's curl and openssl s_client from the client namespace (IPv4 and
# IPv6). Unknown and missing SNI are refused and never reach the backend. SIGTERM stops
# the agent cleanly, leaving only the pinned flow and counter maps.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl openssl nginx

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOCKGATED=$ROOT/build/sockgated
[ -x "$SOCKGATED" ] || e2e_fail "$SOCKGATED not built (run make)"
WELCOME='Welcome to aliyun.com without TLS Termination!'
NAME=sample.aliyun.com
e2e_bpffs

e2e_topology_up
e2e_certs
be_dir=$(e2e_tmpdir nginx-be)
e2e_nginx_backend "$SG_NS_BE" "$BE_IP,$BE_IP6" 443 "$be_dir"
access_log=$be_dir/logs/access.log
# The backend's Kubernetes name resolves on the gateway host, as in the user's cluster.
e2e_hosts_file "$SG_NS_GW" mynginxapp.default.svc.cluster.local "$BE_IP"

# curl_gw IP [CURL OPTIONS...]: the user's check from the client, against the gateway.
curl_gw() {
	local ip=$1
	shift
	e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --cacert "$SG_CA" \
		--resolve "$NAME:443:$ip" "$@" "https://$NAME" 2>"$SG_E2E_TMP/curl.err"
}

backend_requests() { grep -c ' 200 "GET / HTTP/1.1" 46 ' "$access_log" || true; }

# wait_access LOG END: the agent logged a connection that ended with END.
has_access() { grep -q "^access .* end=$2" "$1"; }
wait_access() {
	e2e_poll 10 has_access "$1" "$2" || e2e_fail "no access line with end=$2 in: $(cat "$1")"
}
# requests_at_least N: the backend has logged N requests (re-read at each poll).
requests_at_least() { [ "$(backend_requests)" -ge "$1" ]; }

# auto, the default: the user's short connections stay in the user-space copy.
for dp in auto sockmap splice; do
	ran=$dp
	[ "$dp" = auto ] && ran=copy
	log=$(e2e_tmpdir)/sockgated-$dp.log
	e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$ROOT/tests/data/scenario/gateway.yaml" \
		--dataplane "$dp" --bpffs "$BPFFS"
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 ||
		e2e_fail "$dp: sockgated is not listening: $(cat "$log")"
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" :: 443 ||
		e2e_fail "$dp: sockgated is not listening on IPv6: $(cat "$log")"
	before=$(backend_requests)

	out=$(curl_gw "$GW_IP_CLI")
	e2e_assert_eq "$WELCOME" "$out" "$dp, IPv4: the user's curl through sockgated"
	out=$(curl_gw "[$GW_IP6_CLI]")
	e2e_assert_eq "$WELCOME" "$out" "$dp, IPv6: the user's curl through sockgated"
	out=$(e2e_exec "$SG_NS_CLI" openssl s_client -connect "$GW_IP_CLI:443" -servername "$NAME" \
		-CAfile "$SG_CA" -verify_return_error </dev/null 2>&1 || true)
	e2e_assert_contains "$out" "Verify return code: 0 (ok)" \
		"$dp: openssl s_client -servername $NAME verifies against the private CA"
	e2e_assert_contains "$out" "subject=CN = $NAME" "$dp: the backend's certificate came through"
	e2e_poll 10 requests_at_least $((before + 2)) ||
		e2e_fail "$dp: backend saw $(backend_requests) requests, expected $((before + 2))"
	e2e_poll 10 grep -q "^access .*sni=$NAME .*dataplane=$ran .*end=eof" "$log" ||
		e2e_fail "$dp: no access line for a completed $ran connection: $(cat "$log")"
	printf 'ok - %s: access log names the SNI, route, backend and dataplane\n' "$dp"
	if [ "$dp" = sockmap ]; then
		# The pinned flow map holds what BPF counted; the access log printed the same.
		line=$(grep -m1 "^access .*sni=$NAME .*end=eof" "$log")
		up=$(sed -n 's/.* bytes_up=\([0-9]*\) .*/\1/p' <<<"$line")
		down=$(sed -n 's/.* bytes_down=\([0-9]*\) .*/\1/p' <<<"$line")
		flows=$(bpftool -j map dump pinned "$BPFFS/sg_flows")
		e2e_assert_contains "$flows" "\"bytes\":[$up,$down]" \
			"sockmap: pinned sg_flows counted $up bytes up and $down down, as logged"
		e2e_assert_contains "$flows" "\"backend_port\":443" "sockmap: the flow names the backend port"
	fi

	# Refused before any backend connection: the backend's log must not grow.
	before=$(backend_requests)
	out=$(e2e_exec "$SG_NS_CLI" openssl s_client -connect "$GW_IP_CLI:443" \
		-servername other.example.com </dev/null 2>&1 || true)
	e2e_assert_contains "$out" "no peer certificate available" "$dp: unknown SNI gets no handshake"
	wait_access "$log" reject_unknown_sni
	out=$(e2e_exec "$SG_NS_CLI" openssl s_client -connect "$GW_IP_CLI:443" -noservername \
		</dev/null 2>&1 || true)
	e2e_assert_contains "$out" "no peer certificate available" "$dp: missing SNI gets no handshake"
	wait_access "$log" reject_no_sni
	e2e_assert_eq "$before" "$(backend_requests)" "$dp: refused connections never reached the backend"
	grep -q "^access .*backend=- .*end=reject_unknown_sni" "$log" ||
		e2e_fail "$dp: the unknown-SNI connection names a backend"

	kill -TERM "$pid"
	e2e_poll 15 bash -c "! kill -0 $pid 2>/dev/null" || e2e_fail "$dp: sockgated ignored SIGTERM"
	rc=0
	wait "$pid" || rc=$?
	e2e_assert_eq 0 "$rc" "$dp: sockgated exits 0 on SIGTERM"
	if [ "$dp" = sockmap ]; then
		# The express tables are auto's (the first run), kept for flows that outlive
		# an agent (docs/EXPRESS.md); its attachments too, where it attached.
		pinned=$(ls "$BPFFS" | grep -v '^express_tcx_' | sort | tr '\n' ' ')
		e2e_assert_eq "sg_counters sg_flows sg_xcounters sg_xflows sg_xkeys " "$pinned" \
			"sockmap: only flows, counters and the express tables stay pinned"
	fi
done
e2e_pass "the reference scenario passes through sockgated with every dataplane"
