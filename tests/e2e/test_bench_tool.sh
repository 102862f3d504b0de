#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark's traffic tool (build/sockgate-bench) measures only what arrives intact:
# - every mode (bulk up/down/both, rr, crr, idle) passes through plain forwarding and
#   through sockgated (sockmap), and the backend counts exactly the bytes the clients sent;
# - through a deliberately broken relay (tests/tools/faulty_relay.py) a flipped, dropped,
#   doubled or reordered byte, in either direction, and a stream cut short with a clean
#   FIN each fail the run (exit 1, a FAIL line), at the exact offset where it can be known;
# - a ClientHello with another SNI is refused by the backend;
# - the generated ClientHello gets a ServerHello from the user's NGINX (TLS 1.2 in
#   NGINX 1.22's defaults) and a TLS 1.3 ServerHello from openssl s_server.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3 openssl nginx
e2e_sockgate_env
BENCH=$ROOT/build/sockgate-bench
RELAY=$ROOT/tests/tools/faulty_relay.py
[ -x "$BENCH" ] || e2e_fail "$BENCH not built (run make)"
export SG_E2E_CMD_TIMEOUT=60

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)

srv_log=$tmp/server.log
e2e_bg "$SG_NS_BE" "$srv_log" "$BENCH" server --listen "$BE_IP:9000" --expect-sni bench.sockgate.test
srv_pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_BE" "$srv_pid" "$BE_IP" 9000 || e2e_fail "bench server did not start"

# client ADDR:PORT ARGS...: the load generator in the client namespace; its stdout.
client() {
	local to=$1
	shift
	e2e_exec "$SG_NS_CLI" "$BENCH" client --connect "$to" --timeout 20s "$@"
}

# json_get JSON KEY: one top-level value of the client's JSON line.
json_get() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

sent_up=0
# expect_ok WHAT JSON: the run passed every check; adds its upstream bytes to sent_up.
expect_ok() {
	[ "$(json_get "$2" ok)" = True ] || e2e_fail "$1: $2"
	sent_up=$((sent_up + $(json_get "$2" bytes_up)))
	printf 'ok - %s: %s\n' "$1" "$(json_get "$2" "${3:-gbit_s}")"
}

# ---- every mode, through plain forwarding and through sockgated -------------------------------

e2e_gw_forwarding on
direct=$BE_IP:9000
expect_ok "direct bulk up" "$(client "$direct" --mode bulk --dir up --conns 2 --duration 1s)"
expect_ok "direct bulk down" "$(client "$direct" --mode bulk --dir down --conns 2 --duration 1s)"
expect_ok "direct bulk both" "$(client "$direct" --mode bulk --dir both --conns 4 --duration 1s)"
expect_ok "direct rr" "$(client "$direct" --mode rr --conns 4 --size 100 --duration 1s)" trans_per_s
expect_ok "direct crr" "$(client "$direct" --mode crr --conns 8 --req-size 10 --resp-size 3000 --duration 1s)" conn_per_s
expect_ok "direct idle" "$(client "$direct" --mode idle --conns 300 --hold 1s)" setup_s
e2e_gw_forwarding off

cat >"$tmp/sockgate.yaml" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: bench
    sni: [bench.sockgate.test]
    backends:
      - address: "$BE_IP:9000"
YAML
e2e_bg "$SG_NS_GW" "$tmp/sockgated.log" "$SOCKGATED" --config "$tmp/sockgate.yaml" \
	--dataplane sockmap --bpffs "$BPFFS" --access-log off
sg_pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$sg_pid" "$GW_IP_CLI" 443 || e2e_fail "sockgated did not start"
gw=$GW_IP_CLI:443
expect_ok "sockgate bulk both" "$(client "$gw" --mode bulk --dir both --conns 4 --duration 2s)"
expect_ok "sockgate rr" "$(client "$gw" --mode rr --conns 4 --duration 1s)" trans_per_s
expect_ok "sockgate crr" "$(client "$gw" --mode crr --conns 8 --duration 1s)" conn_per_s
expect_ok "sockgate idle" "$(client "$gw" --mode idle --conns 300 --hold 1s)" setup_s

# A hello the backend does not expect: the backend refuses it, the client fails.
if out=$(client "$gw" --mode rr --conns 1 --duration 1s --sni other.example 2>&1); then
	e2e_fail "a run with an unrouted SNI passed: $out"
fi
printf 'ok - a ClientHello for another name fails the run\n'
e2e__stop_pids "$sg_pid"

# The backend checked exactly the bytes the passing clients sent (its summary at exit).
e2e__stop_pids "$srv_pid"
summary=$(grep '"role":"server"' "$srv_log")
e2e_assert_eq "$sent_up" "$(json_get "$summary" bytes_up)" "the backend verified every byte the clients sent"
e2e_assert_eq 0 "$(json_get "$summary" failures)" "no check failed on the backend"

# ---- a broken relay is caught ----------------------------------------------------------------

e2e_bg "$SG_NS_BE" "$srv_log" "$BENCH" server --listen "$BE_IP:9000"
srv_pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_BE" "$srv_pid" "$BE_IP" 9000 || e2e_fail "bench server did not restart"
OFF=100000
port=7000
# relay_case MODE DIR EXPECT: one client run through the relay; EXPECT "ok" or a fixed
# substring of the client's or backend's FAIL line.
relay_case() {
	local mode=$1 dir=$2 want=$3 out rc=0 rpid before
	port=$((port + 1))
	e2e_bg "$SG_NS_GW" "$tmp/relay-$mode-$dir.log" python3 "$RELAY" "$GW_IP_CLI" "$port" \
		"$BE_IP" 9000 "$mode" "$dir" "$OFF"
	rpid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$rpid" "$GW_IP_CLI" "$port" || e2e_fail "relay did not start"
	before=$(wc -l <"$srv_log")
	out=$(client "$GW_IP_CLI:$port" --mode bulk --dir both --conns 1 --threads 1 --duration 1s 2>&1) || rc=$?
	e2e__stop_pids "$rpid" || true # its status is that of a TERM
	if [ "$want" = ok ]; then
		[ "$rc" -eq 0 ] || e2e_fail "relay $mode $dir: the intact stream failed: $out"
	else
		[ "$rc" -eq 1 ] || e2e_fail "relay $mode $dir: exit $rc, expected 1: $out"
		# The backend's lines of this run only: an earlier case's must not count.
		e2e_assert_contains "$out
$(tail -n +$((before + 1)) "$srv_log")" "$want" "relay $mode $dir: the run failed: $want"
	fi
}

relay_case pass down ok
printf 'ok - the relay itself passes an intact stream\n'
relay_case flip down "downstream byte $OFF differs from the pattern"
relay_case drop down "downstream byte $OFF differs from the pattern"
relay_case dup down "downstream byte $((OFF + 1)) differs from the pattern"
relay_case swap down "downstream byte $OFF differs from the pattern"
relay_case truncate down "end of stream with"
relay_case flip up "upstream byte"
relay_case drop up "upstream byte"
relay_case dup up "upstream byte"
relay_case swap up "upstream byte"
relay_case truncate up "end of stream before END"

# ---- the generated ClientHello against real TLS servers -------------------------------------

e2e_nginx_backend "$SG_NS_BE" "$BE_IP" 443 "$(e2e_tmpdir nginx)"
e2e_gw_forwarding on
out=$(e2e_exec "$SG_NS_CLI" "$BENCH" probe --connect "$BE_IP:443" --sni sample.aliyun.com --alpn h2,http/1.1)
e2e_assert_contains "$out" '"server_hello":true' "the user's NGINX answers the generated ClientHello: $out"

e2e_bg "$SG_NS_BE" "$tmp/s_server.log" openssl s_server -accept "$BE_IP:4433" -tls1_3 -quiet \
	-cert "$SG_E2E_CERTS/sample.aliyun.com.crt" -key "$SG_E2E_CERTS/sample.aliyun.com.key"
e2e_wait_port "$SG_NS_BE" "$BE_IP" 4433 10 || e2e_fail "openssl s_server did not start"
out=$(e2e_exec "$SG_NS_CLI" "$BENCH" probe --connect "$BE_IP:4433" --sni sample.aliyun.com)
e2e_assert_contains "$out" '"version":"TLSv1.3","cipher":"0x1301"' \
	"openssl s_server -tls1_3 answers with a TLS 1.3 ServerHello (x25519 key share accepted)"

e2e_pass "sockgate-bench checks every byte and count, and real TLS servers answer its hello"
