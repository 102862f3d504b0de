#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The XDP guard in front of a running agent. The gateway listens on 0.0.0.0:443 and [::]:443
# and guards its client link (native XDP), its backend link and lo (generic XDP, one warning).
# The client namespace has four addresses of its own: .2 (allowed), .3 (denied by the
# configuration), .4 (the SYN burst) and .5 (runtime allow-list checks), and two IPv6 ones.
# Checked: a denied source cannot connect while an allowed one can, v4 and v6; the agent's
# own connections to its backend pass although the backend link is guarded; an unserved port
# is dropped while a port the host serves otherwise passes; `sockgate guard deny|allow
# add|del` takes effect for new connections and a runtime entry survives SIGHUP; a SYN burst
# from one source is cut at its burst while another source connects normally; a new address
# on a guarded interface is guarded without a reload; the counters of `sockgate guard show
# --json` and /metrics agree; the program is detached on exit. Every connection goes only to
# the test's own namespaces; every wait is bounded.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd python3 curl
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
SYNFLOOD=$ROOT/build/test/synflood
for b in "$SOCKGATE" "$SYNFLOOD"; do
	[ -x "$b" ] || e2e_fail "$b not built (run make test)"
done
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com

CLI_IP_DENIED=10.199.1.3
CLI_IP_BURST=10.199.1.4
CLI_IP_OTHER=10.199.1.5
CLI_IP6_DENIED=fd00:5ca1::1:3
BURST=40 # the configured burst; the SYN burst sends twice that
METRICS=127.0.0.1:9100 # inside the gateway namespace

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
for a in "$CLI_IP_DENIED" "$CLI_IP_BURST" "$CLI_IP_OTHER"; do
	ip -n "$SG_NS_CLI" addr add "$a/24" dev "$CLI_IF"
done
# Deprecated, so that only a socket bound to it uses it: the kernel's own choice stays CLI_IP6.
ip -n "$SG_NS_CLI" -6 addr add "$CLI_IP6_DENIED/112" dev "$CLI_IF" nodad preferred_lft 0
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO"

cfg=$tmp/gw.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls4
    address: "0.0.0.0:443"
  - name: tls6
    address: "[::]:443"
routes:
  - name: sample
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
guard:
  interfaces: [$GW_IF_CLI, $GW_IF_BE, lo]
  deny: ["$CLI_IP_DENIED/32", "$CLI_IP6_DENIED"]
  syn_rate: {per_second: 1, burst: $BURST}
YAML

# probe SRC DST PORT: one TCP connect from SRC in the client namespace, 2 s at most; prints
# ok, timeout (dropped on the way) or refused (an RST came back).
probe() {
	e2e_exec "$SG_NS_CLI" python3 -c '
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
s.bind((src, 0))
s.settimeout(2)
try:
    s.connect((dst, port))
    print("ok")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
' "$1" "$2" "$3"
}
# counter VERDICT REASON: the guard's packet counter, from `sockgate guard show --json`.
counter() {
	"$SOCKGATE" guard show --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["packets"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
# run_cli CMD...: sets rc, out, err.
run_cli() {
	rc=0
	out=$("$SOCKGATE" "$@" 2>"$tmp/cli.err") || rc=$?
	err=$(cat "$tmp/cli.err")
}
# assert_positive N MESSAGE
assert_positive() {
	[ "$1" -gt 0 ] || e2e_fail "$2: counter is $1"
	printf 'ok - %s\n' "$2"
}
routed6() {
	e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP6_CLI" 443 --hello "$HELLO" --up 64K \
		--down 64K --seed "$RANDOM" 2>/dev/null | grep -q '1 ok, 0 failed'
}

log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS" --metrics "$METRICS" \
	--log-level info
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 ||
	e2e_fail "sockgated did not start: $(cat "$log")"
e2e_poll 10 grep -q "guard: attached to lo" "$log" || e2e_fail "no guard on lo: $(cat "$log")"

# --- attachment ---------------------------------------------------------------------------
e2e_assert_contains "$(cat "$log")" "guard: attached to $GW_IF_CLI (native XDP)" \
	"the client link is guarded in native mode"
e2e_assert_contains "$(cat "$log")" "guard: lo: native XDP unavailable; attached in generic mode" \
	"lo refuses native XDP: generic, with one warning"
e2e_assert_eq 1 "$(grep -c 'native XDP unavailable' "$log")" "the fallback warns once"
link=$(ip -n "$SG_NS_GW" -d link show "$GW_IF_CLI")
e2e_assert_contains "$link" "prog/xdp id" "the kernel shows an XDP program on $GW_IF_CLI"
e2e_assert_not_contains "$link" "xdpgeneric" "... in driver mode"
e2e_assert_contains "$(ip -n "$SG_NS_GW" -d link show lo)" "xdpgeneric" "lo is in generic mode"
show=$("$SOCKGATE" guard show)
e2e_assert_contains "$show" "$GW_IP_CLI:443" "guard show lists the wildcard's client-link address"
e2e_assert_contains "$show" "[$GW_IP6_BE]:443" "... and its backend-link IPv6 address"
e2e_assert_contains "$show" "config $cfg:" "the configured deny entries name their file"

# --- deny from the configuration; the agent's backend connections pass ----------------------
e2e_routed "$HELLO" || e2e_fail "the allowed client's checked flow failed"
printf 'ok - an allowed IPv4 client completes a checked flow (backend link guarded too)\n'
routed6 || e2e_fail "the allowed client's IPv6 flow failed"
printf 'ok - an allowed IPv6 client completes a checked flow\n'
assert_positive "$(counter pass host_socket)" "the backend's replies to the agent passed as host_socket"
deny0=$(counter drop deny)
e2e_assert_eq timeout "$(probe "$CLI_IP_DENIED" "$GW_IP_CLI" 443)" "a denied IPv4 source cannot connect"
e2e_assert_eq timeout "$(probe "$CLI_IP6_DENIED" "$GW_IP6_CLI" 443)" "a denied IPv6 source cannot connect"
e2e_assert_eq ok "$(probe "$CLI_IP_OTHER" "$GW_IP_CLI" 443)" "another source of the same /24 can"
deny1=$(counter drop deny)
[ "$deny1" -ge $((deny0 + 2)) ] || e2e_fail "deny counter went from $deny0 to $deny1"
printf 'ok - the deny counter counted the dropped SYNs (%s -> %s)\n' "$deny0" "$deny1"

# --- ports ----------------------------------------------------------------------------------
closed0=$(counter drop port_closed)
e2e_assert_eq timeout "$(probe "$CLI_IP" "$GW_IP_CLI" 8080)" "an unserved port is dropped, not refused"
[ "$(counter drop port_closed)" -gt "$closed0" ] || e2e_fail "port_closed did not count"
e2e_bg "$SG_NS_GW" "$tmp/other.log" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 2222)); s.listen(8); time.sleep(120)'
e2e_poll 10 e2e__listens "$SG_NS_GW" "$E2E_BG_PID" 0.0.0.0 2222 || e2e_fail "helper listener"
e2e_assert_eq ok "$(probe "$CLI_IP" "$GW_IP_CLI" 2222)" "a port another host service listens on passes"

# --- runtime changes --------------------------------------------------------------------------
run_cli guard deny add "$CLI_IP/32"
e2e_assert_eq "0 deny $CLI_IP/32 added" "$rc $out" "guard deny add"
e2e_assert_eq timeout "$(probe "$CLI_IP" "$GW_IP_CLI" 443)" "a runtime deny takes effect for new connections"
reloads=$(grep -c 'info reloaded: ' "$log" || true)
kill -HUP "$pid"
e2e_poll 10 bash -c "[ \$(grep -c 'info reloaded: ' '$log') -gt $reloads ]" ||
	e2e_fail "no reload after SIGHUP: $(tail -5 "$log")"
e2e_assert_eq timeout "$(probe "$CLI_IP" "$GW_IP_CLI" 443)" "the runtime deny survives SIGHUP"
cp "$cfg" "$tmp/gw.good"
sed -i "s/^  interfaces: \[\(.*\)\]/  interfaces: [\1, nosuch0]/" "$cfg"
run_cli reload
e2e_assert_eq 1 "$rc" "a reload naming a missing interface is rejected"
e2e_assert_contains "$err" "guard: interface nosuch0: No such device" "... and says which"
cp "$tmp/gw.good" "$cfg"
e2e_assert_contains "$("$SOCKGATE" guard show)" \
	"interfaces: $GW_IF_CLI (native) $GW_IF_BE (native) lo (generic)" "the guard is unchanged"
e2e_assert_eq timeout "$(probe "$CLI_IP" "$GW_IP_CLI" 443)" "... the runtime deny too"
run_cli guard deny del "$CLI_IP/32"
e2e_assert_eq "0 deny $CLI_IP/32 deleted" "$rc $out" "guard deny del"
e2e_assert_eq ok "$(probe "$CLI_IP" "$GW_IP_CLI" 443)" "after del the source connects again"
run_cli guard deny del "$CLI_IP_DENIED/32"
e2e_assert_eq 1 "$rc" "deleting a configured entry at run time: exit 1"
e2e_assert_contains "$err" "only in the configuration" "... and says why"
run_cli guard deny add 10.199.1.9/24
e2e_assert_eq 2 "$rc" "a CIDR with host bits: exit 2"
e2e_assert_contains "$err" "did you mean 10.199.1.0/24?" "... with the fix"
run_cli guard deny frobnicate 10.0.0.0/8
e2e_assert_eq 2 "$rc" "an unknown subcommand: exit 2"

run_cli guard allow add "$CLI_IP/32"
e2e_assert_contains "$out" "from now on only its sources may connect" "the first allow entry says what it does"
e2e_assert_eq timeout "$(probe "$CLI_IP_OTHER" "$GW_IP_CLI" 443)" "with an allow list, others cannot connect"
e2e_assert_eq ok "$(probe "$CLI_IP" "$GW_IP_CLI" 443)" "... the listed source can"
[ "$(counter drop not_allowed)" -gt 0 ] || e2e_fail "not_allowed did not count"
run_cli guard allow del "$CLI_IP/32"
e2e_assert_contains "$out" "every source not denied may connect" "the last allow entry gone: open again"
e2e_assert_eq ok "$(probe "$CLI_IP_OTHER" "$GW_IP_CLI" 443)" "others connect again"

# --- a SYN burst above one source's limit -------------------------------------------------------
syn0=$(counter pass syn)
rate0=$(counter drop syn_rate)
burst=$(e2e_exec "$SG_NS_CLI" "$SYNFLOOD" "$CLI_IP_BURST" "$GW_IP_CLI" 443 --count $((2 * BURST)))
e2e_routed "$HELLO" || e2e_fail "another source could not connect right after the burst"
printf 'ok - another source completes a checked flow right after the burst\n'
passed=$(($(counter pass syn) - syn0))
limited=$(($(counter drop syn_rate) - rate0))
elapsed_us=${burst##*elapsed_us=}
# The bucket refills one SYN a second: the burst passes BURST SYNs plus one per second it took;
# the checked flow adds one SYN of its own.
[ $((passed + limited)) -eq $((2 * BURST + 1)) ] ||
	e2e_fail "SYNs judged: $passed passed + $limited limited, want $((2 * BURST + 1)) ($burst)"
if [ "$passed" -lt $((BURST + 1)) ] || [ "$passed" -gt $((BURST + 1 + elapsed_us / 1000000 + 1)) ]; then
	e2e_fail "$passed SYNs passed, want $BURST of the burst + 1 ($burst)"
fi
printf 'ok - the burst: %s of %s SYNs passed, %s cut (%s)\n' $((passed - 1)) $((2 * BURST)) \
	"$limited" "$burst"

# --- a new address on a guarded interface --------------------------------------------------------
ip -n "$SG_NS_GW" addr add 10.199.1.50/24 dev "$GW_IF_CLI"
e2e_poll 10 bash -c "'$SOCKGATE' guard show | grep -q '10.199.1.50:443'" ||
	e2e_fail "the new address is not guarded: $("$SOCKGATE" guard show | head -3)"
printf 'ok - an address added to a guarded interface is guarded without a reload\n'
e2e_assert_eq timeout "$(probe "$CLI_IP_DENIED" 10.199.1.50 443)" "... the deny list applies there"

# --- counters in /metrics and show agree -----------------------------------------------------------
json=$("$SOCKGATE" guard show --json)
metrics=$(e2e_exec "$SG_NS_GW" curl -sS --max-time 5 "http://$METRICS/metrics")
python3 - "$json" "$metrics" <<'PY' || e2e_fail "guard show --json and /metrics disagree"
import json, re, sys
show = json.loads(sys.argv[1])
prom = {}
for m in re.finditer(r'^sockgate_guard_packets_total\{verdict="(\w+)",reason="(\w+)"\} (\d+)$',
                     sys.argv[2], re.M):
    prom[(m[1], m[2])] = int(m[3])
want = {(v, r): n for v, rs in show["packets"].items() for r, n in rs.items()}
assert len(want) == 14 and set(prom) == set(want), (sorted(prom), sorted(want))
# /metrics was read after show: counters only grow, and nothing but not_ip/not_listener moves
for k, n in want.items():
    assert prom[k] >= n, (k, prom[k], n)
    if k[1] in ("deny", "syn_rate", "not_allowed", "port_closed"):
        assert prom[k] == n, (k, prom[k], n)
assert show["rules"] == [{"list": "deny", "cidr": "10.199.1.3/32", "config": show["rules"][0]["config"], "runtime": False},
                         {"list": "deny", "cidr": "fd00:5ca1::1:3/128", "config": show["rules"][1]["config"], "runtime": False}], show["rules"]
assert show["syn_rate"] == {"per_second": 1, "burst": 40}
assert [i["mode"] for i in show["interfaces"]] == ["native", "native", "generic"], show["interfaces"]
PY
printf 'ok - the counters of guard show --json and /metrics agree; rules and modes as configured\n'
e2e_assert_contains "$metrics" 'sockgate_guard_rules{list="deny",origin="config"} 2' "metrics count the rules"

kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
e2e_assert_not_contains "$(ip -n "$SG_NS_GW" -d link show "$GW_IF_CLI")" "prog/xdp" \
	"the XDP program is detached on exit"
e2e_assert_not_contains "$(ip -n "$SG_NS_GW" -d link show lo)" "prog/xdp" "... from lo too"
e2e_assert_eq ok "$(probe "$CLI_IP_DENIED" "$GW_IP_CLI" 2222)" "nothing is dropped after exit"
e2e_pass "deny/allow, unserved ports, runtime changes, SYN burst, address watch, metrics, detach"
