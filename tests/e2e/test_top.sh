#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `sockgate top` under tmux. One checksummed flow streams up at 128 KiB/s through route
# "web" (sample.aliyun.com) for about 24 s; a second route with a 60-character name has
# no traffic. In a detached 160x40 tmux pane running a shell, `sockgate top` draws on the
# alternate screen with the cursor hidden; the captured screen shows the route, the backend
# endpoint, the flow's SNI and a non-zero byte rate in the route, backend and flow rows,
# and the long route name cut to fit. A later capture shows a later refresh and an older
# flow age; `s` switches the sort; `q` quits with status 0 and the pane is back on the
# shell's screen with its cursor. `top --once` and `--iterations 2` print plain frames
# (no escape codes, full names). With the agent stopped (SIGSTOP), `top --once` says the
# agent is not answering and still shows the flow moving, from the pinned map. The flow
# completes intact.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd tmux
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
HELLO=$HELLOS/crafted-baseline.bin # SNI sample.aliyun.com
LONG="route-with-a-name-much-longer-than-the-top-column-allows-xyz"
[ ${#LONG} -eq 60 ] || e2e_fail "the long route name is ${#LONG} characters, not 60"

e2e_topology_up
e2e_bpffs
tmp=$(e2e_tmpdir)
cfg=$tmp/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
routes:
  - name: web
    sni: [sample.aliyun.com]
    backends:
      - address: "$BE_IP:9000"
  - name: $LONG
    sni: [www.example.com]
    backends:
      - address: "$BE_IP:9001"
        weight: 3
YAML

# The backend answers only after the client's end of stream, so nothing comes down and
# the flow stays spliced while the client paces its 3 MiB up.
e2e_sgflow_server "$tmp/server.log" 9000 "$HELLO" --reply-after-eof --timeout 120
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$cfg" --dataplane sockmap --bpffs "$BPFFS"
agent=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$agent" "$GW_IP_CLI" 443 ||
	e2e_fail "sockgated did not start: $(cat "$log")"

client_out=$tmp/client.out
ip netns exec "$SG_NS_CLI" timeout --kill-after=5 90 "$SGFLOW" client "$GW_IP_CLI" 443 \
	--hello "$HELLO" --up 3M --up-rate 128K --down 64K --timeout 80 >"$client_out" 2>&1 &
client=$!
e2e_track_pid "$client"
flow_spliced() { timeout 5 "$SOCKGATE" --bpffs "$BPFFS" flows 2>/dev/null | grep -q ' spliced$'; }
e2e_poll 10 flow_spliced || e2e_fail "the flow never showed up spliced: $(cat "$client_out")"

# ---- checks of a frame's text (plain or captured) ------------------------------------------

# A byte count or rate as top prints it, greater than zero: "512", "128.0K", "1.5M".
nonzero() { [[ "$1" =~ ^[0-9]+(\.[0-9])?[KMGTPE]?$ && ! "$1" =~ ^0(\.0)?$ ]]; }

# assert_rows FRAME WHAT: the route, backend and flow rows of "web" in FRAME show the
# configured names, one connection and flow, and a non-zero rate up.
assert_rows() {
	local frame=$1 what=$2 row
	row=$(awk '$1 == "web" && NF == 6' <<<"$frame")
	[ -n "$row" ] || e2e_fail "$what: no route row for web in: $frame"
	read -r _ conns flows up _ sni <<<"$row"
	e2e_assert_eq "1 1 sample.aliyun.com" "$conns $flows $sni" \
		"$what: route web: 1 connection, 1 flow, its SNI pattern"
	nonzero "$up" || e2e_fail "$what: route web's UP/s is '$up': $row"
	printf 'ok - %s: route web moves %s/s up\n' "$what" "$up"

	row=$(awk -v be="$BE_IP:9000" '$1 == "web" && $2 == be && $3 == be' <<<"$frame")
	[ -n "$row" ] || e2e_fail "$what: no backend row $BE_IP:9000 for web in: $frame"
	read -r _ _ _ weight conns flows up _ <<<"$row"
	e2e_assert_eq "1 1 1" "$weight $conns $flows" \
		"$what: backend endpoint $BE_IP:9000: weight 1, 1 connection, 1 flow"
	nonzero "$up" || e2e_fail "$what: the backend's UP/s is '$up': $row"
	printf 'ok - %s: backend %s moves %s/s up\n' "$what" "$BE_IP:9000" "$up"

	row=$(awk -v c="^${CLI_IP//./\\.}:" '$1 ~ c' <<<"$frame")
	[ -n "$row" ] || e2e_fail "$what: no flow row from $CLI_IP in: $frame"
	read -r _ sni route backend _ up down _ _ state <<<"$row"
	e2e_assert_eq "sample.aliyun.com web $BE_IP:9000 0 spliced" \
		"$sni $route $backend $down $state" \
		"$what: the flow's SNI, route, backend, nothing down yet, spliced"
	nonzero "$up" || e2e_fail "$what: the flow's UP/s is '$up': $row"
	printf 'ok - %s: the flow moves %s/s up\n' "$what" "$up"
}

# ---- the full-screen view, in tmux -----------------------------------------------------------

# A tmux server of our own, its socket in the scratch directory that cleanup removes.
TMUX_SOCKET=$tmp/tmux.sock
tm() { timeout 10 tmux -S "$TMUX_SOCKET" "$@"; }
e2e_on_cleanup "timeout 10 tmux -S $TMUX_SOCKET kill-server 2>/dev/null"
screen() { tm capture-pane -p -t top; }
pane() { tm display-message -p -t top "$1"; }
# shellcheck disable=SC2016 # PS1 is the inner shell's
tm new-session -d -s top -x 160 -y 40 -e 'PS1=sg$ ' -e "SOCKGATE_CONTROL=$SOCKGATE_CONTROL" \
	bash --norc --noprofile
e2e_poll 10 bash -c "timeout 5 tmux -S $TMUX_SOCKET capture-pane -p -t top | grep -q 'sg\\$'" ||
	e2e_fail "the shell in tmux did not start"
e2e_assert_eq "160x40" "$(pane '#{pane_width}x#{pane_height}')" "the tmux pane is 160x40"
tm send-keys -t top "'$SOCKGATE' --bpffs '$BPFFS' top; echo top-exit=\$?" Enter

# refresh_no: the refresh number on the pane's first line, or nothing.
refresh_no() { screen | sed -n '1s/.*refresh #\([0-9]*\) .*/\1/p'; }
refreshed_past() { local n; n=$(refresh_no); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
e2e_poll 15 refreshed_past 1 || e2e_fail "top did not refresh twice: $(screen)"
frame1=$(screen)
n1=$(refresh_no)
e2e_assert_eq "1 0" "$(pane '#{alternate_on} #{cursor_flag}')" \
	"top draws on the alternate screen with the cursor hidden"
e2e_assert_contains "$frame1" "sockgate top - " "the frame has its header line"
e2e_assert_contains "$frame1" "sort: rate - keys: s sort, q quit" "the header names the keys"
e2e_assert_contains "$frame1" "agent: sockgated " "the agent answers"
e2e_assert_contains "$frame1" ", routes 2, " "the agent counts 2 routes"
assert_rows "$frame1" "tmux"
e2e_assert_contains "$frame1" "route-with-a-...n-allows-xyz" \
	"the 60-character route name is cut to 28 in the middle"
e2e_assert_not_contains "$frame1" "$LONG" "the whole long name is not on the screen"
long_ep=$(awk -v be="$BE_IP:9001" '$2 == be' <<<"$frame1" | tr -s ' ')
e2e_assert_eq "route-with-a-...n-allows-xyz $BE_IP:9001 $BE_IP:9001 3 0 0 0 0" \
	"$long_ep" "the idle route's backend row: weight 3, no connection, flow or bytes"
width=$(awk '{ if (length($0) > w) w = length($0) } END { print w }' <<<"$frame1")
[ "$width" -le 160 ] || e2e_fail "a line is $width characters wide"

age_of() { awk -v c="^${CLI_IP//./\\.}:" '$1 ~ c { print $5 }' <<<"$1"; }
e2e_poll 10 refreshed_past "$n1" || e2e_fail "top stopped refreshing after #$n1"
frame2=$(screen)
n2=$(refresh_no)
[ "$frame1" != "$frame2" ] || e2e_fail "the frame did not change between refreshes"
age1=$(age_of "$frame1")
age2=$(age_of "$frame2")
if [ -z "$age1" ] || [ "$age1" = "$age2" ]; then
	e2e_fail "the flow's age did not advance: '$age1' then '$age2'"
fi
printf 'ok - the frame changed: refresh #%s then #%s, flow age %s then %s\n' "$n1" "$n2" "$age1" "$age2"
assert_rows "$frame2" "tmux, later"

tm send-keys -t top s
sorted_by_bytes() { screen | head -n1 | grep -q 'sort: bytes'; }
e2e_poll 5 sorted_by_bytes || e2e_fail "s did not switch the sort: $(screen | head -n1)"
printf 'ok - s switches the sort to bytes\n'

# A 10-line terminal: no blank lines, and each table keeps its busiest rows.
tm resize-window -t top -x 160 -y 10
fits_small() {
	local f
	f=$(screen)
	grep -q "^${CLI_IP//./\\.}:.* spliced" <<<"$f" && ! grep -q "$BE_IP:9001" <<<"$f"
}
e2e_poll 5 fits_small || e2e_fail "top did not fit 10 lines: $(screen)"
small=$(screen)
e2e_assert_eq 10 "$(wc -l <<<"$small")" "the pane is 10 lines high"
e2e_assert_eq "CLIENT" "$(sed -n '9s/ .*//p' <<<"$small")" \
	"in 10 lines the flows table still shows its header and the busiest flow"
e2e_assert_contains "$small" "$BE_IP:9000" "the busy backend is shown, the idle one left out"

tm send-keys -t top q
top_exited() { screen | grep -q 'top-exit='; }
e2e_poll 10 top_exited || e2e_fail "top did not exit on q: $(screen)"
after=$(screen)
e2e_assert_contains "$after" "top-exit=0" "q exits with status 0"
e2e_assert_eq "0 1" "$(pane '#{alternate_on} #{cursor_flag}')" \
	"the terminal is restored: main screen, cursor visible"
e2e_assert_not_contains "$after" "sockgate top - " "the shell's screen shows no frame of top"
e2e_assert_contains "$after" "sg\$ " "the pane shows the shell's prompt"

# ---- plain frames ------------------------------------------------------------------------------

once=$(timeout 20 "$SOCKGATE" --bpffs "$BPFFS" top --once) || e2e_fail "top --once failed"
e2e_assert_not_contains "$once" $'\033' "top --once prints no escape codes"
e2e_assert_contains "$(head -n1 <<<"$once")" "refresh #1 every 1s - sort: rate" \
	"top --once prints one frame, measured over one interval"
e2e_assert_not_contains "$once" "keys:" "plain frames name no keys"
assert_rows "$once" "--once"
e2e_assert_contains "$once" "$LONG " "plain frames keep long names whole"

two=$(timeout 20 "$SOCKGATE" --bpffs "$BPFFS" top --iterations 2 --interval 0.5) ||
	e2e_fail "top --iterations 2 failed"
e2e_assert_eq "refresh #1 every 0.5s
refresh #2 every 0.5s" "$(grep -o 'refresh #[0-9]* every [0-9.]*s' <<<"$two")" \
	"--iterations 2 --interval 0.5 prints two frames"

# ---- the agent not answering --------------------------------------------------------------

kill -STOP "$agent"
e2e_on_cleanup "kill -CONT $agent 2>/dev/null"
stopped=$(timeout 20 "$SOCKGATE" --bpffs "$BPFFS" top --once) || e2e_fail "top --once with the agent stopped"
kill -CONT "$agent"
e2e_assert_contains "$stopped" "agent not answering: reading the reply: timed out" \
	"with the agent stopped, top says it is not answering"
row=$(awk -v c="^${CLI_IP//./\\.}:" '$1 ~ c' <<<"$stopped")
read -r _ sni route _ _ up _ <<<"$row"
e2e_assert_eq "sample.aliyun.com web" "$sni $route" "the flow is still listed, from the pinned map"
nonzero "$up" || e2e_fail "the flow's rate with the agent stopped: '$up': $row"
printf 'ok - the flow still moves %s/s up with the agent stopped\n' "$up"
e2e_assert_eq "web - 1" "$(awk '$1 == "web" && NF == 6 { print $1, $2, $3 }' <<<"$stopped")" \
	"route web is listed from its flow, its connection count unknown"

wait "$client" || e2e_fail "client failed: $(cat "$client_out")"
e2e_assert_contains "$(cat "$client_out")" "1 ok, 0 failed" "the paced 3 MiB flow arrived intact"
kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
e2e_assert_eq 0 "$rc" "sockgated exits 0 on SIGTERM"
e2e_pass "sockgate top shows routes, backends and live flows with rates, in tmux and plain"
