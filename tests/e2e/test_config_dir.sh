#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A --config directory is watched: dropping a file in applies it to new connections; an
# invalid file is rejected with its file:line:column and changes nothing; removing it
# reloads cleanly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
OLD_HELLO=$HELLOS/crafted-baseline.bin       # SNI sample.aliyun.com
NEW_HELLO=$HELLOS/crafted-sni-trailing-dot.bin # SNI www.example.com

e2e_topology_up
e2e_bpffs
e2e_sgflow_server "$(e2e_tmpdir)/server-old.log" 9000 "$OLD_HELLO"
e2e_sgflow_server "$(e2e_tmpdir)/server-new.log" 9001 "$NEW_HELLO"

dir=$(e2e_tmpdir conf.d)
cat >"$dir/10-base.yaml" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: old
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
# drop NAME: writes stdin into the directory the way tools should: a hidden temporary
# file (ignored by the watch and the loader), then an atomic rename.
drop() { cat >"$dir/.$1.tmp" && mv "$dir/.$1.tmp" "$dir/$1"; }

log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$dir" --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 443 || e2e_fail "no listener: $(cat "$log")"
e2e_routed "$OLD_HELLO" || e2e_fail "route old"
e2e_refused "$NEW_HELLO" || e2e_fail "www.example.com routed before its file exists"

drop 20-new.yaml <<YAML
routes:
  - name: new
    sni: [www.example.com]
    backends:
      - address: "$BE_IP:9001"
YAML
e2e_poll 10 grep -q 'reloaded: 1 listeners, 2 routes' "$log" || e2e_fail "no reload: $(tail -5 "$log")"
e2e_routed "$NEW_HELLO" || e2e_fail "the dropped-in route does not take connections"
e2e_routed "$OLD_HELLO" || e2e_fail "the existing route stopped working"
printf 'ok - a file dropped into the directory applies to new connections\n'

drop 30-bad.yaml <<YAML
routes:
  - name: bad
    sni: [bad..name]
    backends:
      - address: "$BE_IP:9002"
YAML
e2e_poll 10 grep -q 'reload rejected' "$log" || e2e_fail "the invalid file was not rejected"
e2e_assert_contains "$(cat "$log")" "$dir/30-bad.yaml:3:11: routes[0].sni[0]: bad SNI pattern" \
	"the invalid file is reported at file:line:column"
e2e_routed "$NEW_HELLO" && e2e_routed "$OLD_HELLO" || e2e_fail "the rejected file changed the running table"
printf 'ok - the rejected file changed nothing\n'

rm "$dir/30-bad.yaml"
e2e_poll 10 bash -c "[ \$(grep -c 'reloaded: 1 listeners, 2 routes' '$log') -ge 2 ]" ||
	e2e_fail "removing the invalid file did not reload"
printf 'ok - removing the invalid file reloads cleanly\n'
kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
e2e_pass "a watched --config directory applies dropped-in files and rejects bad ones alone"
