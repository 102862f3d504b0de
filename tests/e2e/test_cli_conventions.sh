#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Operator conventions of both binaries: `sockgated -t -c FILE` (as nginx -t), `--version`,
# `sockgate help CMD` and `CMD --help` for every command, -j/--json and -p (indented JSON)
# on every show command against a running agent, and the documented exit codes with no
# agent: 3 for the control socket and for a missing pinned map, 2 for a bad CIDR.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
tmp=$(e2e_tmpdir)

# run CMD...: sets rc, out, err.
run() {
	rc=0
	out=$("$@" 2>"$tmp/err") || rc=$?
	err=$(cat "$tmp/err")
}
shape() {
	python3 -c '
import json, sys
def z(v):
    if isinstance(v, dict): return {k: z(x) for k, x in v.items()}
    if isinstance(v, list): return [z(x) for x in v]
    return 0 if isinstance(v, (int, float)) and not isinstance(v, bool) else v
print(json.dumps(z(json.loads(sys.argv[1])), sort_keys=True))' "$1"
}
is_json() { python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$1"; }

# --- sockgated -----------------------------------------------------------------------------
cfg=$tmp/gw.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: web
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
guard:
  interfaces: [$GW_IF_CLI]
  deny: [192.0.2.0/24]
YAML
run "$SOCKGATED" -t -c "$cfg"
e2e_assert_eq 0 "$rc" "sockgated -t -c FILE: a good file exits 0"
e2e_assert_contains "$out" "configuration ok: 1 listener, 1 route" "... and says so"
run "$SOCKGATED" --check --config "$cfg"
e2e_assert_eq 0 "$rc" "--check --config is the same"
run "$SOCKGATED" -t -c "$ROOT/tests/data/configs/bad/multiple-errors.yaml"
e2e_assert_eq 1 "$rc" "sockgated -t on a bad file exits 1"
e2e_assert_contains "$err" "multiple-errors.yaml:5:13:" "... with file:line:column"
run "$SOCKGATED" -t
e2e_assert_eq 2 "$rc" "sockgated -t without -c is a usage error"
run "$SOCKGATED" --version
e2e_assert_eq "0 sockgated 0.1.0" "$rc $out" "sockgated --version"
run "$SOCKGATED" -V
e2e_assert_eq "0 sockgated 0.1.0" "$rc $out" "sockgated -V"
run "$SOCKGATED" -h
e2e_assert_contains "$out" "-t, --check" "sockgated -h lists -t"

# --- sockgate without an agent --------------------------------------------------------------
export SOCKGATE_CONTROL=$tmp/none.sock
run "$SOCKGATE" --version
e2e_assert_eq "0 sockgate 0.1.0" "$rc $out" "sockgate --version"
run "$SOCKGATE" -V
e2e_assert_eq "0 sockgate 0.1.0" "$rc $out" "sockgate -V"
cmds=$("$SOCKGATE" help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z]*\).*/\1/p')
[ "$(wc -w <<<"$cmds")" -ge 10 ] || e2e_fail "sockgate help lists too few commands: $cmds"
for c in $cmds; do
	run "$SOCKGATE" help "$c"
	e2e_assert_eq 0 "$rc" "sockgate help $c exits 0"
	e2e_assert_contains "$out" "usage: sockgate $c" "sockgate help $c shows its usage"
	help_out=$out
	run "$SOCKGATE" "$c" --help
	e2e_assert_eq "0 $help_out" "$rc $out" "sockgate $c --help is sockgate help $c"
done
run "$SOCKGATE" help bogus
e2e_assert_eq 2 "$rc" "help for an unknown command exits 2"
for c in routes backends status; do
	run "$SOCKGATE" "$c" -j
	e2e_assert_eq 3 "$rc" "$c -j with no agent exits 3"
done
run "$SOCKGATE" --bpffs "$tmp/nomaps" flows -j
e2e_assert_eq 3 "$rc" "flows with no pinned map (no agent) exits 3"
run "$SOCKGATE" --bpffs "$tmp/nomaps" stats -p
e2e_assert_eq 3 "$rc" "stats with no pinned map (no agent) exits 3"
run "$SOCKGATE" guard deny add 10.1.2.3/8
e2e_assert_eq 2 "$rc" "a CIDR with host bits is a usage error (2) with no agent"
e2e_assert_contains "$err" "did you mean 10.0.0.0/8?" "... with the fix"
run "$SOCKGATE" guard allow del not-an-ip
e2e_assert_eq 2 "$rc" "a non-address is a usage error (2) with no agent"
run "$SOCKGATE" guard deny add ::ffff:10.0.0.1
e2e_assert_eq 2 "$rc" "an IPv4-mapped address is a usage error (2)"
run "$SOCKGATE" guard deny add 10.0.0.0/8
e2e_assert_eq 3 "$rc" "a good CIDR with no agent exits 3"
run "$SOCKGATE" version -j
e2e_assert_eq 2 "$rc" "-j on a command that is not a show command exits 2"

# --- with an agent: -j and -p on every show command ------------------------------------------
e2e_topology_up
e2e_bpffs
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" -c "$cfg" --bpffs "$BPFFS"
e2e_poll 10 e2e__listens "$SG_NS_GW" "$E2E_BG_PID" "$GW_IP_CLI" 443 ||
	e2e_fail "sockgated did not start: $(cat "$log")"
# One flow, so that flows -p usually has an element to indent.
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLOS/crafted-baseline.bin"
e2e_routed "$HELLOS/crafted-baseline.bin" || e2e_fail "the route does not work"
for show in routes backends status flows stats "guard show" guard; do
	# shellcheck disable=SC2086 # "guard show" is two words
	run "$SOCKGATE" --bpffs "$BPFFS" $show -j
	e2e_assert_eq 0 "$rc" "$show -j exits 0"
	is_json "$out" || e2e_fail "$show -j is not JSON: $out"
	compact=$out
	# shellcheck disable=SC2086
	run "$SOCKGATE" --bpffs "$BPFFS" -p $show
	e2e_assert_eq 0 "$rc" "-p $show exits 0"
	is_json "$out" || e2e_fail "-p $show is not JSON: $out"
	# An empty list stays one line: "[]" (a short flow may be relayed, not in the map).
	if [ "$compact" != "[]" ]; then
		[ "$(wc -l <<<"$out")" -gt 1 ] || e2e_fail "-p $show is not indented: $out"
	fi
	# Ages, uptimes and counters move between the two calls: numbers compare as 0.
	e2e_assert_eq "$(shape "$compact")" "$(shape "$out")" "-p $show holds the same JSON as -j"
done
run "$SOCKGATE" guard deny add 10.199.9.9/16
e2e_assert_eq 2 "$rc" "a CIDR with host bits exits 2 with an agent too"
run "$SOCKGATE" guard deny add 198.51.100.0/24
e2e_assert_eq 0 "$rc" "a good CIDR is added"
e2e_pass "sockgated -t, --version, help CMD, CMD --help, -j/-p on every show command, exit codes"
