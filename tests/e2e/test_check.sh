#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `sockgated --check` as a CI linter (no network, no root needed): it exits 0 only for a
# configuration that loads and serves something, at least one listener and one route;
# a load that parses but serves nothing (a Gateway for another workload, listeners
# without routes) exits 1 with one line saying so. `--strict` makes any configuration
# warning fail the check, but not a host name the checking machine cannot resolve. The
# issue's exact case: `kubectl get gateway,virtualservice -A -o yaml` (one v1 List) is
# read, not reported as "0 listeners, 0 routes" with exit 0. For Gateway API objects,
# --check prints where each TLSRoute attached, and why not (--gateway-class).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOCKGATED=$ROOT/build/sockgated
[ -x "$SOCKGATED" ] || e2e_fail "$SOCKGATED not built (run make)"
GOOD=$ROOT/tests/data/configs/good
tmp=$(e2e_tmpdir)

# check EXPECTED_RC [ARGS...]: runs --check with ARGS, sets OUT (stdout and stderr).
check() {
	local want=$1 rc=0
	shift
	OUT=$(timeout 60 "$SOCKGATED" --check "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || e2e_fail "--check $*: exit $rc, want $want: $OUT"
}

check 0 --config "$GOOD/istio-scenario.yaml"
e2e_assert_contains "$OUT" "configuration ok: 1 listener, 1 route" "the scenario passes"

check 1 --config "$GOOD/istio-other-gateway.yaml"
e2e_assert_contains "$OUT" \
	"sockgated: configuration rejected: nothing would be served (0 listeners, 0 routes)" \
	"no listener: exit 1"
e2e_assert_not_contains "$OUT" "configuration ok" "no listener is not ok"

printf 'listeners:\n  - name: tls\n    address: "127.0.0.1:8443"\n' >"$tmp/no-routes.yaml"
check 1 --config "$tmp/no-routes.yaml"
e2e_assert_contains "$OUT" "nothing would be served (1 listener, 0 routes)" "no route: exit 1"

check 0 --config "$GOOD/istio-list.yaml"
e2e_assert_contains "$OUT" "configuration ok: 1 listener, 1 route" \
	"a kubectl List document is read"

check 0 --config "$GOOD/istio-full.yaml"
check 1 --strict --config "$GOOD/istio-full.yaml"
e2e_assert_contains "$OUT" "warning: AUTO_PASSTHROUGH is served as PASSTHROUGH" \
	"--strict shows the warnings"
e2e_assert_contains "$OUT" "sockgated: configuration rejected: 3 warnings with --strict" \
	"--strict counts configuration warnings, not failed lookups"

check 0 --strict --config "$GOOD/istio-scenario.yaml"
e2e_assert_contains "$OUT" "configuration ok" "--strict ignores a name this machine cannot resolve"

check 0 --strict --config "$GOOD/gateway-api-scenario.yaml"
e2e_assert_contains "$OUT" "spec.parentRefs[0]: attached to Gateway default/istio-mynginx-customingressgateway listener \"tls\" (port 443) as sample.aliyun.com" \
	"--check says where a TLSRoute attached"
check 1 --gateway-class other --config "$GOOD/gateway-api-scenario.yaml"
e2e_assert_contains "$OUT" "not attached: Gateway default/istio-mynginx-customingressgateway is of class \"istio\", not \"other\"" \
	"--check says why a TLSRoute did not attach"
e2e_assert_contains "$OUT" "nothing would be served (0 listeners, 0 routes)" \
	"a Gateway of another class serves nothing here"

rc=0
"$SOCKGATED" --strict --config "$GOOD/istio-scenario.yaml" >/dev/null 2>&1 || rc=$?
e2e_assert_eq 2 "$rc" "--strict without --check is a usage error"

e2e_pass "--check exits 1 when nothing would be served; --strict fails on warnings"
