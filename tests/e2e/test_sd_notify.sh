#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# sockgated's systemd notifications (Type=notify) to a $NOTIFY_SOCKET of the test's own:
# READY=1 only once the listener accepts and the guard is attached; RELOADING=1 with
# MONOTONIC_USEC then READY=1 around a SIGHUP reload, also around a rejected one; and
# STOPPING=1 on SIGTERM.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_sockgate_env
tmp=$(e2e_tmpdir)
e2e_topology_up
e2e_bpffs

sock=$tmp/notify.sock
msgs=$tmp/notify.log
# The receiver appends each datagram as one line, newlines as '|', and on READY=1 also
# whether the listener was accepting at that moment (+listening or +not-listening).
python3 - "$sock" "$msgs" "$SG_NS_GW" "$GW_IP_CLI" <<'PY' &
import socket, subprocess, sys
path, out, ns, ip = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out + ".ready", "w").close()
while True:
    m = s.recv(4096).decode().replace("\n", "|")
    if m.startswith("READY=1"):
        ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn", "src", ip + ":443"],
                            capture_output=True, text=True).stdout
        m += " +listening" if ss.strip() else " +not-listening"
    with open(out, "a") as f:
        f.write(m + "\n")
PY
e2e_track_pid $!
e2e_poll 10 test -e "$msgs.ready" || e2e_fail "the notify receiver did not start"

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
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" env NOTIFY_SOCKET="$sock" "$SOCKGATED" -c "$cfg" --bpffs "$BPFFS"
pid=$E2E_BG_PID
lines() { [ -e "$msgs" ] && [ "$(wc -l <"$msgs")" -ge "$1" ]; }
e2e_poll 10 lines 1 || e2e_fail "no notification after start: $(cat "$log")"
e2e_assert_eq "READY=1|STATUS=serving +listening" "$(sed -n 1p "$msgs")" "READY=1 once the listener accepts"
grep -q "guard: attached" "$log" || e2e_fail "READY=1 before the guard was attached"

kill -HUP "$pid"
e2e_poll 10 lines 3 || e2e_fail "no RELOADING/READY after SIGHUP: $(cat "$msgs")"
e2e_assert_contains "$(sed -n 2p "$msgs")" "RELOADING=1|MONOTONIC_USEC=" "SIGHUP: RELOADING=1 with MONOTONIC_USEC"
usec=$(sed -n 2p "$msgs" | sed 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/')
now=$(python3 -c 'import time; print(int(time.monotonic() * 1e6))')
{ [ "$usec" -gt $((now - 10000000)) ] && [ "$usec" -le "$now" ]; } || e2e_fail "MONOTONIC_USEC=$usec is not CLOCK_MONOTONIC (now ~$now)"
e2e_assert_eq "READY=1|STATUS=serving +listening" "$(sed -n 3p "$msgs")" "... then READY=1"

printf 'routes: [\n' >>"$cfg"
kill -HUP "$pid"
e2e_poll 10 lines 5 || e2e_fail "no RELOADING/READY after a rejected reload: $(cat "$msgs")"
e2e_assert_contains "$(sed -n 4p "$msgs")" "RELOADING=1" "a rejected reload: RELOADING=1"
e2e_assert_contains "$(sed -n 5p "$msgs")" "READY=1|STATUS=reload rejected" "... then READY=1, saying so"

kill -TERM "$pid"
e2e_poll 10 lines 6 || e2e_fail "no STOPPING=1 after SIGTERM: $(cat "$msgs")"
e2e_assert_eq "STOPPING=1" "$(sed -n 6p "$msgs")" "SIGTERM: STOPPING=1"
e2e_pass "READY after listeners, BPF and guard; RELOADING/READY around reloads; STOPPING"
