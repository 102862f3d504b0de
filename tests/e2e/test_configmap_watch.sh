#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A --config directory laid out as the kubelet lays out a ConfigMap volume is watched:
# the files live in a timestamped hidden directory, "..data" points at it, and each
# visible name is a symlink through "..data". An update, done exactly as the kubelet's
# atomic writer does it (new timestamped directory, "..data_tmp" symlink renamed over
# "..data", old directory removed), changes no visible name; `sockgate routes` must still
# show the new route within 5 s, and it must take connections. A hidden file that changes
# nothing the YAML files resolve to makes no reload.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
OLD_HELLO=$HELLOS/crafted-baseline.bin         # SNI sample.aliyun.com
NEW_HELLO=$HELLOS/crafted-sni-trailing-dot.bin # SNI www.example.com

e2e_topology_up
e2e_bpffs
e2e_sgflow_server "$(e2e_tmpdir)/server-old.log" 9000 "$OLD_HELLO"
e2e_sgflow_server "$(e2e_tmpdir)/server-new.log" 9001 "$NEW_HELLO"

dir=$(e2e_tmpdir configmap)

# config ROUTE SNI PORT: the ConfigMap's one key, gateway.yaml.
config() {
	cat <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: $1
    sni: [$2]
    backends:
      - address: "$BE_IP:$3"
YAML
}

# publish TIMESTAMP: the kubelet's update of the volume, with stdin as gateway.yaml.
publish() {
	local payload
	payload=$(e2e_tmpdir "payload-$1")
	cat >"$payload/gateway.yaml"
	e2e_configmap_publish "$dir" "$1" "$payload"
}

config old sample.aliyun.com 9000 | publish 2026_12_07_18_00_00.123

log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$dir" --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
e2e_poll 10 grep -q "watching $dir" "$log" || e2e_fail "the directory is not watched: $(cat "$log")"
routes() { timeout --kill-after=2 10 "$SOCKGATE" routes; }
e2e_assert_contains "$(routes)" "old" "the first ConfigMap version is served"
e2e_routed "$OLD_HELLO" || e2e_fail "route old"

# Noise a ConfigMap mount never has but a directory might: no reload.
printf 'x' >"$dir/.editor.swp"
rm "$dir/.editor.swp"
sleep 1
e2e_assert_not_contains "$(cat "$log")" "reloading" "a hidden file that changes nothing makes no reload"

config new www.example.com 9001 | publish 2026_12_07_18_05_00.456
[ "$(readlink "$dir/gateway.yaml")" = ..data/gateway.yaml ] || e2e_fail "the visible symlink changed"
[ ! -e "$dir/..2026_12_07_18_00_00.123" ] || e2e_fail "the old directory is still there"
has_new() { routes | grep -q 'www.example.com'; }
e2e_poll 5 has_new || e2e_fail "sockgate routes still shows the old routes: $(routes) $(tail -5 "$log")"
e2e_assert_not_contains "$(routes)" "sample.aliyun.com" "the old route is gone"
e2e_routed "$NEW_HELLO" || e2e_fail "the updated ConfigMap's route does not take connections"
e2e_refused "$OLD_HELLO" || e2e_fail "the old route still takes connections"
e2e_assert_eq 1 "$(grep -c 'configuration directory changed: reloading' "$log")" \
	"one ConfigMap update is one reload"
printf 'ok - a ConfigMap update (..data swap) reloads within 5 s\n'

kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
e2e_pass "a ConfigMap-style --config directory follows the kubelet's ..data swaps"
