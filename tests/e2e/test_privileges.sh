#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Least privilege without systemd: sockgated started as root keeps only CAP_BPF,
# CAP_PERFMON, CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (CapEff 000000c000001400) in every
# thread, with no_new_privs, and still does everything a running agent does. Run twice:
# as root with no flag, and with --user (a throwaway system user this test creates and
# removes). Each run checks /proc/PID/status of the agent and of each of its threads, then
# on the dropped agent: the reference scenario (the user's gateway.yaml, nginx and curl,
# sockmap), a reload through `sockgate reload` adding a listener on port 853 and a route,
# a SIGHUP reload that loads the XDP guard, `sockgate guard deny add|del`, and a reload
# attaching the guard to one more interface. The --user run also has the access log
# reopened after a rename and the control socket removed at stop. A third run starts the
# agent as systemd does (already the user, exactly the four capabilities, bounding and
# ambient, no_new_privs; splice, as the user has no delegated cgroup here): the drop must
# not fail there, and `sockgate upgrade` of that agent starts one that holds the same four
# and serves. --keep-privileges keeps everything.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl openssl nginx useradd userdel setpriv
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
WELCOME='Welcome to aliyun.com without TLS Termination!'
NAME=sample.aliyun.com
KEPT=000000c000001400 # CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39)

e2e_topology_up
e2e_bpffs
e2e_certs
be_dir=$(e2e_tmpdir nginx-be)
e2e_nginx_backend "$SG_NS_BE" "$BE_IP,$BE_IP6" 443 "$be_dir"
e2e_hosts_file "$SG_NS_GW" mynginxapp.default.svc.cluster.local "$BE_IP"

# The throwaway user of the second run; nothing of the host runs as it.
SG_USER=sgpriv$$
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
	--user-group "$SG_USER" || e2e_fail "useradd $SG_USER"
e2e_on_cleanup "userdel $SG_USER"
SG_UID=$(id -u "$SG_USER")
SG_GID=$(id -g "$SG_USER")
# The agent as that user re-reads the configuration and reopens its access log: the
# scratch directory becomes traversable; what is in it keeps its own modes.
chmod 0711 "$SG_E2E_TMP"

# curl_gw PORT: the user's check from the client namespace, against the gateway.
curl_gw() {
	e2e_exec "$SG_NS_CLI" curl -sS --max-time 5 --cacert "$SG_CA" \
		--resolve "$NAME:$1:$GW_IP_CLI" "https://$NAME:$1" 2>"$SG_E2E_TMP/curl.err"
}
# status PID FIELD: a field of /proc/PID/status ("CapEff", "Uid"), tabs as spaces.
status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr '\t' ' '; }

# check_dropped PID WHAT UID: the agent and every one of its threads hold exactly KEPT.
check_dropped() {
	local pid=$1 what=$2 uid=$3 t n=0
	e2e_assert_eq "$KEPT" "$(status "$pid" CapEff)" "$what: CapEff is exactly $KEPT"
	e2e_assert_eq "$KEPT" "$(status "$pid" CapPrm)" "$what: CapPrm is the same (nothing to raise)"
	e2e_assert_eq "$KEPT" "$(status "$pid" CapBnd)" "$what: CapBnd is reduced to it"
	e2e_assert_eq 0000000000000000 "$(status "$pid" CapInh)" "$what: CapInh is empty"
	e2e_assert_eq 0000000000000000 "$(status "$pid" CapAmb)" "$what: CapAmb is empty"
	e2e_assert_eq 1 "$(status "$pid" NoNewPrivs)" "$what: NoNewPrivs is 1"
	e2e_assert_eq "$uid $uid $uid $uid" "$(status "$pid" Uid)" "$what: real, effective, saved uid $uid"
	for t in /proc/"$pid"/task/*; do
		n=$((n + 1))
		[ "$(status "$pid/task/${t##*/}" CapEff)" = "$KEPT" ] ||
			e2e_fail "$what: thread ${t##*/} holds $(status "$pid/task/${t##*/}" CapEff)"
		[ "$(status "$pid/task/${t##*/}" NoNewPrivs)" = 1 ] || e2e_fail "$what: thread ${t##*/}: no NoNewPrivs"
	done
	[ "$n" -ge 3 ] || e2e_fail "$what: $n threads, expected the loop, the access log writer and the resolver"
	printf 'ok - %s: all %d threads hold exactly %s with NoNewPrivs\n' "$what" "$n" "$KEPT"
}

# run_case WHAT UID [SOCKGATED OPTIONS...]: one agent, checked and exercised; started
# through RUN_WRAP (a command prefix) with --dataplane RUN_DP.
RUN_WRAP=()
RUN_DP=sockmap
run_case() {
	local what=$1 uid=$2 dir log extra pid rc
	shift 2
	dir=$(e2e_tmpdir "$what")
	chmod 0755 "$dir"
	log=$dir/sockgated.log
	extra=$dir/extra.yaml
	printf '# the reloads below fill this in\n' >"$extra"
	e2e_bg "$SG_NS_GW" "$log" "${RUN_WRAP[@]}" "$SOCKGATED" \
		--config "$ROOT/tests/data/scenario/gateway.yaml" --config "$extra" \
		--dataplane "$RUN_DP" --bpffs "$BPFFS" "$@"
	pid=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 ||
		e2e_fail "$what: sockgated is not listening: $(cat "$log")"
	e2e_assert_contains "$(cat "$log")" "privileges: kept CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_PERFMON CAP_BPF" \
		"$what: the agent says what it kept"
	e2e_assert_contains "$(cat "$log")" "dataplane: $RUN_DP" "$what: the $RUN_DP dataplane came up"
	check_dropped "$pid" "$what" "$uid"

	e2e_assert_eq "$WELCOME" "$(curl_gw 443)" "$what: the user's curl through the dropped agent"

	# A listener below 1024 and a route, through the control socket.
	cat >"$extra" <<YAML
listeners:
  - name: dot
    address: "$GW_IP_CLI:853"
routes:
  - name: dot-sample
    listeners: [dot]
    sni: [$NAME]
    backends:
      - address: "$BE_IP:443"
YAML
	rc=0
	out=$("$SOCKGATE" reload 2>&1) || rc=$?
	e2e_assert_eq 0 "$rc" "$what: sockgate reload adding a listener on port 853 ($out)"
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" "$GW_IP_CLI" 853 ||
		e2e_fail "$what: no listener on 853: $(tail -5 "$log")"
	e2e_assert_eq "$WELCOME" "$(curl_gw 853)" "$what: the new route on the new port < 1024 serves"

	# The guard, loaded on demand by a SIGHUP reload: BPF load and XDP attach.
	cat >>"$extra" <<YAML
guard:
  interfaces: [$GW_IF_CLI]
YAML
	kill -HUP "$pid"
	e2e_poll 10 grep -q "guard: attached to $GW_IF_CLI" "$log" ||
		e2e_fail "$what: the guard did not attach: $(tail -5 "$log")"
	printf 'ok - %s: a reload loads the guard and attaches it to %s\n' "$what" "$GW_IF_CLI"
	out=$("$SOCKGATE" guard deny add "$CLI_IP/32" 2>&1) || e2e_fail "$what: guard deny add: $out"
	curl_gw 443 >/dev/null && e2e_fail "$what: a denied client still connects"
	printf 'ok - %s: sockgate guard deny add takes effect\n' "$what"
	out=$("$SOCKGATE" guard deny del "$CLI_IP/32" 2>&1) || e2e_fail "$what: guard deny del: $out"
	e2e_assert_eq "$WELCOME" "$(curl_gw 443)" "$what: after guard deny del the client connects again"
	sed -i "s/^  interfaces: \[$GW_IF_CLI\]/  interfaces: [$GW_IF_CLI, $GW_IF_BE]/" "$extra"
	out=$("$SOCKGATE" reload 2>&1) || e2e_fail "$what: reload adding $GW_IF_BE to the guard: $out"
	e2e_poll 10 grep -q "guard: attached to $GW_IF_BE" "$log" ||
		e2e_fail "$what: the guard did not attach to $GW_IF_BE: $(tail -5 "$log")"
	printf 'ok - %s: a reload attaches the guard to one more interface\n' "$what"
	e2e_assert_eq "$WELCOME" "$(curl_gw 443)" "$what: the user's curl with both links guarded"
	check_dropped "$pid" "$what, after the reloads" "$uid"
	RUN_PID=$pid
	RUN_LOG=$log
}

# stop PID WHAT: SIGTERM, exit 0.
stop() {
	kill -TERM "$1"
	e2e_poll 15 bash -c "! kill -0 $1 2>/dev/null" || e2e_fail "$2: sockgated ignored SIGTERM"
	rc=0
	wait "$1" || rc=$?
	e2e_assert_eq 0 "$rc" "$2: sockgated exits 0 on SIGTERM"
}

# --- as root, no flag -----------------------------------------------------------------------
run_case root 0
stop "$RUN_PID" root
e2e_assert_contains "$(cat "$RUN_LOG")" "guard: detached from" "root: the guard detached at stop"

# --- --user ---------------------------------------------------------------------------------
udir=$(e2e_tmpdir user-files)
chmod 0755 "$udir"
install -d -o "$SG_USER" -g "$SG_USER" -m 0750 "$udir/logs"
export SOCKGATE_CONTROL=$udir/run/sockgate.sock # a directory the agent makes
access=$udir/logs/access.log
run_case user "$SG_UID" --user "$SG_USER" --access-log "$access" --control "$SOCKGATE_CONTROL"
e2e_assert_eq "$SG_GID $SG_GID $SG_GID $SG_GID" "$(status "$RUN_PID" Gid)" "user: every gid is the user's group"
e2e_assert_eq "$SG_USER" "$(stat -c %U "$SOCKGATE_CONTROL")" "user: the control socket is the user's"
e2e_assert_eq "$SG_USER" "$(stat -c %U "$udir/run")" "user: ... and its directory, which the agent made"
e2e_assert_eq "$SG_USER" "$(stat -c %U "$access")" "user: the access log file is the user's"
e2e_poll 10 grep -Eq "sni=$NAME .*dataplane=(express|sockmap)" "$access" ||
	e2e_fail "user: no access line: $(cat "$access")"
printf 'ok - user: the access log has the connections the kernel carried (express or sockmap)\n'
# logrotate: rename, SIGHUP; the agent, now the user, creates the new file.
mv "$access" "$access.1"
kill -HUP "$RUN_PID"
e2e_poll 10 grep -q "access log $access reopened" "$RUN_LOG" ||
	e2e_fail "user: the access log was not reopened: $(tail -5 "$RUN_LOG")"
e2e_assert_eq "$WELCOME" "$(curl_gw 443)" "user: the user's curl after the reopen"
e2e_poll 10 grep -q "sni=$NAME" "$access" || e2e_fail "user: nothing in the reopened access log"
printf 'ok - user: after a rename and SIGHUP the agent writes a new access log\n'
stop "$RUN_PID" user
[ ! -e "$SOCKGATE_CONTROL" ] || e2e_fail "user: the control socket is left behind"
printf 'ok - user: the control socket is removed at stop\n'

# --- as systemd starts it ---------------------------------------------------------------------
caps=+bpf,+perfmon,+net_admin,+net_bind_service
RUN_WRAP=(setpriv --reuid "$SG_UID" --regid "$SG_GID" --init-groups --bounding-set="-all,$caps"
	--inh-caps="-all,$caps" --ambient-caps="-all,$caps" --no-new-privs)
RUN_DP=splice
run_case systemd "$SG_UID" --control "$SOCKGATE_CONTROL"
e2e_assert_not_contains "$(cat "$RUN_LOG")" "started without" "systemd: no capability is missing"
# sockgate upgrade: the agent starts the next one itself, as its user; the four
# capabilities reach it as ambient ones for that child alone, and it drops them again.
rc=0
out=$("$SOCKGATE" upgrade 2>&1) || rc=$?
[ "$rc" = 0 ] || e2e_fail "systemd: sockgate upgrade exited $rc: $out; $(tail -3 "$RUN_LOG")"
next=$(sed -n 's/^upgraded: pid \([0-9]*\) serves.*/\1/p' <<<"$out")
[ -n "$next" ] || e2e_fail "systemd: sockgate upgrade named no new agent: $out"
e2e_track_pid "$next"
rc=0
e2e_poll 15 bash -c "! kill -0 $RUN_PID 2>/dev/null" || e2e_fail "systemd: the old agent did not exit"
wait "$RUN_PID" || rc=$?
e2e_assert_eq 0 "$rc" "systemd: the old agent drained and exited 0"
check_dropped "$next" "systemd, upgraded" "$SG_UID"
e2e_assert_eq "$WELCOME" "$(curl_gw 443)" "systemd, upgraded: the user's curl through the new agent"
e2e_assert_eq "$WELCOME" "$(curl_gw 853)" "systemd, upgraded: ... and on the listener a reload added"
kill -TERM "$next"
e2e_poll 15 bash -c "! kill -0 $next 2>/dev/null" || e2e_fail "systemd, upgraded: SIGTERM ignored"
RUN_WRAP=()

# --- --user with a name that does not exist: nothing starts ----------------------------------
rc=0
out=$(ip netns exec "$SG_NS_GW" "$SOCKGATED" --config "$ROOT/tests/data/scenario/gateway.yaml" \
	--bpffs "$BPFFS" --user "nosuch$$" 2>&1) || rc=$?
e2e_assert_eq 1 "$rc" "an unknown --user fails the start"
e2e_assert_contains "$out" "privileges: user nosuch$$: no such user" "... and says why"
e2e_assert_not_contains "$out" "dataplane:" "... before the dataplane is touched"

# --- --keep-privileges: the opt-out ----------------------------------------------------------
log=$(e2e_tmpdir keep)/sockgated.log
e2e_bg "$SG_NS_GW" "$log" "$SOCKGATED" --config "$ROOT/tests/data/scenario/gateway.yaml" \
	--bpffs "$BPFFS" --keep-privileges
pid=$E2E_BG_PID
e2e_poll 10 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 || e2e_fail "keep: not listening: $(cat "$log")"
e2e_assert_eq "$(status $$ CapEff)" "$(status "$pid" CapEff)" "--keep-privileges: the caller's capabilities stay"
e2e_assert_contains "$(cat "$log")" "privileges: --keep-privileges" "... with a warning"
e2e_assert_eq "$WELCOME" "$(curl_gw 443)" "--keep-privileges: the user's curl"
stop "$pid" keep
e2e_pass "the agent keeps $KEPT with no_new_privs in every thread, as root and as a user; scenario, reloads and guard work"
