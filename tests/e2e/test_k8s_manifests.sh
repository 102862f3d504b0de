#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# deploy/kubernetes/ checked field by field, without a cluster (no root needed): host
# network, a rolling update with maxUnavailable, the capabilities equal to the set the
# systemd unit runs with and docs/KUBERNETES.md lists (measured: the agent needs no more),
# probes on the agent's --metrics listener at paths the agent serves, volumes and mounts
# that match the flags, and the container's command and args accepted by the agent:
# `sockgated ARGS --check` on the ConfigMap laid out as the kubelet lays it out. The
# ConfigMap's gateway.yaml is the reference scenario, byte for byte.
# tests/e2e/test_k8s_daemonset.sh runs the agent as the manifest does.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOCKGATED=$ROOT/build/sockgated
[ -x "$SOCKGATED" ] || e2e_fail "$SOCKGATED not built (run make)"
e2e_require_cmd python3
python3 -c 'import yaml' 2>/dev/null || e2e_skip "needs python3-yaml (scripts/install-deps.sh installs it)"
K8S=$ROOT/deploy/kubernetes
DS=$K8S/daemonset.yaml
CM=$K8S/configmap.yaml
manifest() { python3 "$ROOT/tests/tools/k8s_manifest.py" "$@"; }

out=$(manifest check "$DS" "$CM") || e2e_fail "manifest check: $out"
printf '%s\n' "$out"

# The capabilities: what the manifest adds, what the unit grants, what the page says.
caps=$(manifest caps "$DS" | sed 's/^/CAP_/' | sort | tr '\n' ' ')
unit=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/systemd/sockgated.service.in" | tr ' ' '\n' |
	sort | tr '\n' ' ')
e2e_assert_eq "$unit" "$caps" "the DaemonSet adds the capabilities the systemd unit has"
doc=$(cd "$ROOT" && grep '^The container adds exactly' docs/KUBERNETES.md | grep -o '`[A-Z_]*`' |
	tr -d '`' | sed 's/^/CAP_/' | sort | tr '\n' ' ')
e2e_assert_eq "$caps" "$doc" "docs/KUBERNETES.md lists the same capabilities"

# The probes' paths are the agent's own (test_k8s_daemonset.sh asks them live).
for kind in readiness liveness; do
	read -r _ _ path _ <<<"$(manifest probe "$DS" "$kind")"
	grep -qF "is_get(req, \"$path\")" "$ROOT/user/agent/control/metrics.c" ||
		e2e_fail "the $kind probe's path $path is not served by the agent"
	printf 'ok - the %s probe path %s is served by the agent\n' "$kind" "$path"
done

# The command: sockgated, with flags the agent accepts and a configuration it serves.
mapfile -t cmd < <(manifest command "$DS")
e2e_assert_eq sockgated "$(basename "${cmd[0]}")" "the container runs sockgated"
payload=$(e2e_tmpdir payload)
manifest configmap "$CM" "$payload"
e2e_assert_eq "$(cat "$SG_SCENARIO_DIR/gateway.yaml")" "$(cat "$payload/gateway.yaml")" \
	"the ConfigMap's gateway.yaml is the user's, unchanged"
volume=$(e2e_tmpdir configmap)
e2e_configmap_publish "$volume" 2026_12_07_18_00_00.000 "$payload"
args=("${cmd[@]:1}")
for i in "${!args[@]}"; do
	# The one path the check reads: the mounted ConfigMap.
	[ "${args[i]}" = /etc/sockgate ] && args[i]=$volume
done
out=$(timeout 60 "$SOCKGATED" "${args[@]}" --check 2>&1) ||
	e2e_fail "sockgated ${args[*]} --check: $out"
e2e_assert_contains "$out" "configuration ok: 1 listener, 1 route" \
	"the container's args with the ConfigMap pass sockgated --check"
e2e_assert_contains "$out" "sample.aliyun.com            -> istio-mynginx-customvirtualservice" \
	"the ConfigMap serves the user's SNI"
e2e_pass "the DaemonSet and ConfigMap agree with the agent, the unit and the docs"
