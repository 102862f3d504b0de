#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The ClientHello limits of a listener: a hello that stops half-way is closed at
# hello_timeout; a hello larger than max_hello_bytes is closed as too large, while the
# same 10 KB hello passes on a listener with the default (64 KiB) limit.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
BIG=$HELLOS/crafted-sni-last-after-padding.bin    # 10005 bytes, valid, SNI sample.aliyun.com
PARTIAL=$HELLOS/crafted-trunc-0161-sni-name-mid.bin # 161 bytes of a hello, then nothing

e2e_topology_up
e2e_bpffs
e2e_sgflow_server "$(e2e_tmpdir)/server.log" 9000 "$BIG"
cfg=$(e2e_tmpdir)/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: strict
    address: "$GW_IP_CLI:443"
    hello_timeout: 1s
    max_hello_bytes: 4096
  - name: default
    address: "$GW_IP_CLI:8443"
routes:
  - name: r
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
YAML
log=$(e2e_tmpdir)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --bpffs "$BPFFS"
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 8443 || e2e_fail "no listener: $(cat "$log")"

# The gateway closes the half hello at 1 s, well inside the replay's 8 s wait.
line=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" replay "$GW_IP_CLI" 443 "$PARTIAL" --wait 8)
case $line in
*"received=0 end=eof" | *"received=0 end=reset") ;;
*) e2e_fail "half hello: $line" ;;
esac
e2e_poll 5 grep -q '^access .*listener=strict .*end=hello_timeout' "$log" ||
	e2e_fail "no hello_timeout access line: $(cat "$log")"
printf 'ok - a hello that stops half-way is closed at hello_timeout\n'

line=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" replay "$GW_IP_CLI" 443 "$BIG" --wait 5)
case $line in
*"received=0 end=eof" | *"received=0 end=reset") ;;
*) e2e_fail "big hello on the strict listener: $line" ;;
esac
e2e_poll 5 grep -q '^access .*listener=strict .*end=hello_too_large' "$log" ||
	e2e_fail "no hello_too_large access line: $(cat "$log")"
printf 'ok - a hello over max_hello_bytes is closed as too large\n'

out=$(e2e_exec "$SG_NS_CLI" "$SGFLOW" client "$GW_IP_CLI" 8443 --hello "$BIG" --up 1M --down 1M)
e2e_assert_contains "$out" "1 ok, 0 failed" "the same 10 KB hello passes under the default limit"
e2e_assert_eq 0 "$(grep -c 'result=FAIL' "$(e2e_tmpdir)/server.log" || true)" \
	"nothing refused ever reached the backend"
kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status"
e2e_pass "hello_timeout and max_hello_bytes close only the connections that break them"
