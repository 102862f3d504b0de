#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# soak.sh: many checked streams through every dataplane of sockgated, under perturbations,
# to find rare data corruption (issue #14). Every byte of every stream is checked at both
# ends by build/test/sgflow; the closing line is
#   soak: streams=N bytes_checked=B failures=F dataplanes=auto,sockmap,splice promoted=P seconds=S
# and exit 0 means F=0, at least 95% of the requested streams ran, and with auto at least
# SOAK_MIN_PROMOTED pairs were promoted from the copy mid-stream. tests/soak/README.md
# has the details.
#
#   bash tests/soak/soak.sh            SOAK_STREAMS (100000) streams, SOAK_SECONDS cap
#   bash tests/soak/soak.sh --quick    5000 streams, at most ~4 minutes (make soak-quick)
#
# Rounds: for each cycle, for each dataplane, for each perturbation (none, loss, cpu, mem,
# all; reversed for every other dataplane) one round of short, medium and long streams.
# Odd cycles keep one agent for all the rounds of a dataplane (state reuse across many
# pairs), even cycles start a fresh agent per round. Everything it starts is tracked and stopped by lib.sh's cleanup trap; the
# namespaces carry this shell's pid.
# shellcheck disable=SC2317 # functions run from cleanup hooks and e2e_poll
set -euo pipefail
SOAK_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$SOAK_DIR/../e2e/lib.sh"
trap cleanup EXIT

quick=0
case ${1:-} in
"") ;;
--quick) quick=1 ;;
-h | --help)
	awk 'NR > 1 && !/^#/ { exit } NR > 2 && !/shellcheck/ { sub(/^# ?/, ""); print }' "$0"
	exit 0
	;;
*)
	echo "usage: soak.sh [--quick]" >&2
	exit 2
	;;
esac

if [ "$quick" -eq 1 ]; then
	: "${SOAK_STREAMS:=5000}" "${SOAK_SECONDS:=225}" "${SOAK_CYCLES:=1}"
	: "${SOAK_LONG_MIN_MB:=16}" "${SOAK_LONG_MAX_MB:=48}" "${SOAK_LONG_PER_ROUND:=1}"
else
	: "${SOAK_STREAMS:=100000}" "${SOAK_SECONDS:=3300}" "${SOAK_CYCLES:=2}"
	: "${SOAK_LONG_MIN_MB:=32}" "${SOAK_LONG_MAX_MB:=256}" "${SOAK_LONG_PER_ROUND:=2}"
fi
: "${SOAK_DATAPLANES:=auto sockmap splice}"
# auto: every pair starts in the user-space copy; these thresholds promote most medium
# and every long stream mid-stream, while the short ones finish in the copy.
: "${SOAK_PROMOTE_BYTES:=16K}" "${SOAK_PROMOTE_AFTER:=20ms}"
: "${SOAK_MIN_PROMOTED:=$((quick ? 300 : 5000))}" # fewer promotions fail the run (auto only)
: "${SOAK_PERTURBATIONS:=none loss cpu mem all}"
: "${SOAK_PAR:=4}"             # short/medium client processes at a time
: "${SOAK_LOSS_MAX:=3}"        # loss rounds drop 1..SOAK_LOSS_MAX % on every leg
: "${SOAK_HOG_PERCENT:=$((quick ? 25 : 60))}" # mem rounds: a process holds this much of MemAvailable
: "${SOAK_SEED:=$((RANDOM * 32768 + RANDOM))}"
: "${SOAK_FAILURES_DIR:=/tmp/soak-failures}"
: "${SOAK_STALL_SECS:=30}"     # clients running this long after the last start: snapshot
: "${SOAK_INJECT:=0}"          # self-test: this many streams go through a relay that flips a byte
RANDOM=$SOAK_SEED

e2e_require_root
e2e_require_cmd nft taskset python3
PYTHON=$(command -v /usr/bin/python3 python3 | head -n1) # not a shim: its pid is the hog's
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
HELLO=$HELLOS/crafted-baseline.bin   # SNI sample.aliyun.com -> the plain server
HELLO_HC=$HELLOS/openssl-tls12-sni.bin # SNI www.example.com -> the reply-after-eof server
export SG_E2E_CMD_TIMEOUT=60

read -r -a DATAPLANES <<<"$SOAK_DATAPLANES"
read -r -a PERTS <<<"$SOAK_PERTURBATIONS"
for dp in "${DATAPLANES[@]}"; do
	case $dp in auto | express | sockmap | splice) ;; *) e2e_fail "SOAK_DATAPLANES: unknown dataplane $dp" ;; esac
done
for p in "${PERTS[@]}"; do
	case $p in none | loss | mem | cpu | all) ;; *) e2e_fail "SOAK_PERTURBATIONS: unknown $p" ;; esac
done
nrounds=$((SOAK_CYCLES * ${#DATAPLANES[@]} * ${#PERTS[@]}))
[ "$nrounds" -gt 0 ] || e2e_fail "no rounds (SOAK_CYCLES, SOAK_DATAPLANES, SOAK_PERTURBATIONS)"

T0=$SECONDS
slog() { e2e_log "[$((SECONDS - T0))s] $*"; }
DEADLINE=$((T0 + SOAK_SECONDS))
RUN=$(e2e_tmpdir soak)
: >"$RUN/rounds.tsv"
slog "seed $SOAK_SEED: $SOAK_STREAMS streams in at most $SOAK_SECONDS s, $nrounds rounds" \
	"(${SOAK_CYCLES} cycles x ${DATAPLANES[*]} x ${PERTS[*]}), files in $RUN"

e2e_topology_up
e2e_bpffs

cfg=$RUN/sockgate.yaml
cat >"$cfg" <<YAML
listeners:
  - name: tls
    address: "$GW_IP_CLI:443"
  - name: tls6
    address: "[$GW_IP6_CLI]:443"
# connect_timeout covers five SYN attempts (0, 1, 3, 7, 15 s): with 3% loss per leg a
# backend connect then fails about once in a million, not once in a thousand.
routes:
  - name: plain
    sni: [sample.aliyun.com]
    connect_timeout: 20s
    connect_retries: 3
    backends:
      - address: "$BE_IP:9000"
  - name: halfclose
    sni: [www.example.com]
    connect_timeout: 20s
    connect_retries: 3
    backends:
      - address: "$BE_IP:9010"
YAML
if [ "$SOAK_INJECT" -gt 0 ]; then
	# Self-test of the harness: a route through a relay that flips one upload byte of
	# every stream; each must be reported as a failure (tests/e2e/test_soak_quick.sh).
	HELLO_INJ=$HELLOS/gnutls-tls12.bin # SNI a.b.c.example.org
	cat >>"$cfg" <<YAML
  - name: inject
    sni: [a.b.c.example.org]
    connect_timeout: 20s
    backends:
      - address: "$BE_IP:9020"
YAML
fi

# The backends run for the whole soak: one line per stream (seeds are unique in a run,
# so the report joins both ends by seed). --timeout is per connection.
e2e_sgflow_server "$RUN/server-plain.log" 9000 "$HELLO" --ignore-empty --timeout 600
e2e_sgflow_server "$RUN/server-hc.log" 9010 "$HELLO_HC" --ignore-empty --timeout 600 --reply-after-eof
if [ "$SOAK_INJECT" -gt 0 ]; then
	e2e_sgflow_server "$RUN/server-inject.log" 9021 "$HELLO_INJ" --ignore-empty --timeout 600
	e2e_bg "$SG_NS_BE" "$RUN/relay-inject.stderr" "$PYTHON" "$ROOT/tests/tools/faulty_relay.py" \
		"$BE_IP" 9020 "$BE_IP" 9021 flip up 5000
	e2e_poll 10 e2e__listens "$SG_NS_BE" "$E2E_BG_PID" "$BE_IP" 9020 ||
		e2e_fail "faulty relay did not start: $(cat "$RUN/relay-inject.stderr")"
fi

# The summary line is the last line of a failed run too (after cleanup's log tails).
SOAK_SUMMARY=
SOAK_RC=0
soak_final_line() { [ "$SOAK_RC" -eq 0 ] || [ -z "$SOAK_SUMMARY" ] || printf '%s\n' "$SOAK_SUMMARY"; }
e2e_on_cleanup soak_final_line

# ---- background jobs of this shell (clients); stopped by cleanup ---------------------------
SOAK_JOBS=()
soak_kill_jobs() {
	local p live=()
	for p in "${SOAK_JOBS[@]+"${SOAK_JOBS[@]}"}"; do
		e2e_alive "$p" && live+=("$p")
	done
	[ ${#live[@]} -eq 0 ] || e2e__stop_pids "${live[@]}" || true
	SOAK_JOBS=()
}
e2e_on_cleanup soak_kill_jobs
# Drop finished jobs from SOAK_JOBS; prints how many are still running.
soak_prune() {
	local p live=()
	for p in "${SOAK_JOBS[@]+"${SOAK_JOBS[@]}"}"; do
		if e2e_alive "$p"; then live+=("$p"); else wait "$p" 2>/dev/null || true; fi
	done
	SOAK_JOBS=("${live[@]+"${live[@]}"}")
}

# ---- the agent -------------------------------------------------------------------------------
AGENT_PID=
AGENT_LOG=
AGENT_N=0
agent_start() {
	local dp=$1
	AGENT_N=$((AGENT_N + 1))
	AGENT_LOG=$RUN/agent-$AGENT_N-$dp.log
	e2e_bg "$SG_NS_GW" "$AGENT_LOG" "$SOCKGATED" --config "$cfg" --dataplane "$dp" \
		--bpffs "$BPFFS" --metrics 127.0.0.1:9901 \
		--promote-bytes "$SOAK_PROMOTE_BYTES" --promote-after "$SOAK_PROMOTE_AFTER"
	AGENT_PID=$E2E_BG_PID
	e2e_poll 10 e2e__listens "$SG_NS_GW" "$AGENT_PID" "$GW_IP_CLI" 443 ||
		e2e_fail "$dp: sockgated did not start: $(cat "$AGENT_LOG"); sockets on :443: $(ip netns exec "$SG_NS_GW" ss -tanpe "( sport = :443 )" 2>&1 | head -n 8)"
	# The counters live in pinned maps, which the next agent of the run reuses: the
	# report shows what changed during this agent's life.
	timeout 10 "$SOCKGATE" --bpffs "$BPFFS" stats >"${AGENT_LOG%.log}.stats-start" 2>&1 || true
	slog "agent $AGENT_N ($dp) pid $AGENT_PID"
}
agent_gone() { ! e2e_alive "$AGENT_PID"; }
# Saves the dataplane counters and metrics next to the agent's log, stops it, and records a
# non-zero exit (a crash is a failure of the soak).
agent_stop() {
	local rc=0
	[ -n "$AGENT_PID" ] || return 0
	timeout 10 "$SOCKGATE" --bpffs "$BPFFS" stats >"${AGENT_LOG%.log}.stats" 2>&1 || true
	timeout 10 ip netns exec "$SG_NS_GW" curl -s http://127.0.0.1:9901/metrics \
		>"${AGENT_LOG%.log}.metrics" 2>&1 || true
	if ! e2e_alive "$AGENT_PID"; then
		wait "$AGENT_PID" || rc=$?
		echo "agent $AGENT_N died before its end (exit $rc)" >>"$RUN/agent-failures"
	else
		kill -TERM "$AGENT_PID"
		e2e_poll 20 agent_gone || true
		wait "$AGENT_PID" || rc=$?
		[ "$rc" -eq 0 ] || echo "agent $AGENT_N exited $rc on SIGTERM" >>"$RUN/agent-failures"
	fi
	AGENT_PID=
}

# ---- perturbations ---------------------------------------------------------------------------
# pert_set PERT (none|loss|mem|cpu|all) switches each of loss, mem and cpu on or off as PERT
# needs, leaving one that stays on running (the memory hog takes a while to fill), and sets
# PERT_WHAT. Processes are self-bounded to the soak's deadline and tracked for cleanup.
# Not in $(...).
LOSS_ON=0 MEM_ON=0 CPU_ON=0
HOG_PID=
CPU_PIDS=()
pert_loss_on() {
	local n=$1 ns
	# Every leg: client->gw and gw->client in the client namespace, gw->backend and
	# backend->gw in the backend namespace.
	for ns in "$SG_NS_CLI" "$SG_NS_BE"; do
		ip netns exec "$ns" nft -f - <<NFT || e2e_fail "nft in $ns"
table inet sgsoak {
	chain in { type filter hook input priority 0; policy accept; numgen random mod 100 < $n counter drop; }
	chain out { type filter hook output priority 0; policy accept; numgen random mod 100 < $n counter drop; }
}
NFT
	done
	LOSS_ON=$n
}
pert_loss_off() {
	local ns
	for ns in "$SG_NS_CLI" "$SG_NS_BE"; do
		# What was dropped (the rules count), into the log of the round that had it.
		if [ "$LOSS_ON" -gt 0 ]; then
			slog "loss $LOSS_ON% in $ns: dropped $(ip netns exec "$ns" nft list table inet sgsoak 2>/dev/null |
				grep -o 'packets [0-9]*' | awk '{s += $2} END {print s + 0}') packets"
		fi
		ip netns exec "$ns" nft delete table inet sgsoak 2>/dev/null || true
	done
	LOSS_ON=0
}
# Memory: net.ipv4.tcp_mem is global on this kernel (not in a network namespace), so it
# is never touched. Instead: small per-namespace socket buffers in our three namespaces,
# and a bounded process that holds SOAK_HOG_PERCENT of MemAvailable.
TCP_RMEM_DEFAULT=$(ip netns exec "$SG_NS_GW" sysctl -n net.ipv4.tcp_rmem)
TCP_WMEM_DEFAULT=$(ip netns exec "$SG_NS_GW" sysctl -n net.ipv4.tcp_wmem)
pert_mem_on() {
	local ns avail_kb hog_mb
	for ns in "$SG_NS_CLI" "$SG_NS_GW" "$SG_NS_BE"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 16384 65536" \
			net.ipv4.tcp_wmem="4096 8192 65536" >/dev/null
	done
	MEM_ON=1
	[ "$SOAK_HOG_PERCENT" -gt 0 ] || return 0
	avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	hog_mb=$((avail_kb * SOAK_HOG_PERCENT / 100 / 1024))
	# Writes every page, holds them until killed or the deadline (self-bounded).
	rm -f "$RUN/hog.ready"
	"$PYTHON" -c '
import mmap, sys, time
mb, secs, ready = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
end = time.time() + secs
m = mmap.mmap(-1, mb << 20)
chunk = b"\x5a" * (64 << 20)
for off in range(0, mb << 20, len(chunk)):
    m[off:off + len(chunk)] = chunk[: (mb << 20) - off]
    if time.time() > end:
        sys.exit(0)
open(ready, "w").close()
while time.time() < end:
    time.sleep(0.5)
' "$hog_mb" "$((DEADLINE - SECONDS + 30))" "$RUN/hog.ready" &
	HOG_PID=$!
	e2e_track_pid "$HOG_PID"
	# The streams start once the memory is really taken (bounded: 90 s).
	e2e_poll 90 test -e "$RUN/hog.ready" || slog "memory hog not full after 90 s; going on"
	slog "memory hog: $hog_mb MiB of $((avail_kb / 1024)) MiB available (pid $HOG_PID)," \
		"MemAvailable now $(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo) MiB"
}
pert_mem_off() {
	local ns
	for ns in "$SG_NS_CLI" "$SG_NS_GW" "$SG_NS_BE"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="$TCP_RMEM_DEFAULT" \
			net.ipv4.tcp_wmem="$TCP_WMEM_DEFAULT" >/dev/null
	done
	# (|| true: errexit is off inside; a stopped process's status is not an error)
	[ -z "$HOG_PID" ] || e2e__stop_pids "$HOG_PID" || true
	HOG_PID=
	MEM_ON=0
}
# CPU: one busy loop pinned to every CPU (self-bounded to the deadline).
pert_cpu_on() {
	local cpu
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		# shellcheck disable=SC2016 # expanded by the inner bash
		taskset -c "$cpu" bash -c 'end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do :; done' \
			_ "$((DEADLINE - SECONDS + 30))" &
		CPU_PIDS+=("$!")
		e2e_track_pid "$!"
	done
	CPU_ON=1
}
pert_cpu_off() {
	[ ${#CPU_PIDS[@]} -eq 0 ] || e2e__stop_pids "${CPU_PIDS[@]}" || true
	CPU_PIDS=()
	CPU_ON=0
}
pert_set() {
	local want_loss=0 want_mem=0 want_cpu=0
	case $1 in
	none) ;;
	loss) want_loss=1 ;;
	mem) want_mem=1 ;;
	cpu) want_cpu=1 ;;
	all) want_loss=1 want_mem=1 want_cpu=1 ;;
	esac
	# A new loss rate every round that has loss.
	pert_loss_off
	[ "$want_loss" -eq 0 ] || pert_loss_on $((1 + RANDOM % SOAK_LOSS_MAX))
	if [ "$want_mem" -ne "$MEM_ON" ]; then
		if [ "$want_mem" -eq 1 ]; then pert_mem_on; else pert_mem_off; fi
	fi
	if [ "$want_cpu" -ne "$CPU_ON" ]; then
		if [ "$want_cpu" -eq 1 ]; then pert_cpu_on; else pert_cpu_off; fi
	fi
	PERT_WHAT=
	[ "$LOSS_ON" -eq 0 ] || PERT_WHAT+=",loss=$LOSS_ON%"
	[ "$MEM_ON" -eq 0 ] || PERT_WHAT+=",mem=hog${SOAK_HOG_PERCENT}%+small-bufs"
	[ "$CPU_ON" -eq 0 ] || PERT_WHAT+=",cpu=$(nproc)x"
	PERT_WHAT=${PERT_WHAT#,}
	PERT_WHAT=${PERT_WHAT:-none}
}

# ---- streams ---------------------------------------------------------------------------------
SEED_NEXT=$((1 + SOAK_SEED % 1000000 * 1000))
STREAMS_STARTED=0
CLIENT_N=0
# client ROUNDDIR CONNS TIMEOUT ARGS...: one sgflow client process in the background with
# CONNS streams; seeds are taken from SEED_NEXT. Its output and a .meta line (how many
# streams it was asked for) go to ROUNDDIR.
client() {
	local dir=$1 conns=$2 t=$3 out
	shift 3
	# SOAK_SECONDS is a hard cap: no client outlives it by more than its kill margin.
	[ "$t" -le $((DEADLINE - SECONDS)) ] || t=$((DEADLINE - SECONDS))
	[ "$t" -ge 10 ] || t=10
	CLIENT_N=$((CLIENT_N + 1))
	out=$dir/client-$CLIENT_N.out
	printf '%s\t%s\n' "$conns" "$*" >"$out.meta"
	timeout --kill-after=5 $((t + 20)) ip netns exec "$SG_NS_CLI" "$SGFLOW" client \
		"$@" --conns "$conns" --seed "$SEED_NEXT" --timeout "$t" >"$out" 2>&1 </dev/null &
	SOAK_JOBS+=("$!")
	SEED_NEXT=$((SEED_NEXT + conns))
	STREAMS_STARTED=$((STREAMS_STARTED + conns))
}
# A random target (IPv4 or IPv6) and close mode: plain (FIN after the upload, the reply
# still coming: half-close), --fin-after-eof (FIN only after the whole reply), or strict
# half-close against the reply-after-eof backend. Sets TARGET_ARGS.
pick_target() {
	local ip=$GW_IP_CLI
	[ $((RANDOM % 4)) -eq 0 ] && ip=$GW_IP6_CLI
	case $((RANDOM % 3)) in
	0) TARGET_ARGS=("$ip" 443 --hello "$HELLO") ;;
	1) TARGET_ARGS=("$ip" 443 --hello "$HELLO" --fin-after-eof) ;;
	2) TARGET_ARGS=("$ip" 443 --hello "$HELLO_HC" --reply-after-eof-check) ;;
	esac
	[ $((RANDOM % 50)) -eq 0 ] && TARGET_ARGS+=(--bytewise-hello)
	return 0
}
rand_between() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }

# snapshot FILE: the TCP sockets of the three namespaces and the agent's view (status,
# flows), for a stream that does not finish.
snapshot() {
	local ns
	{
		echo "== $(date -u +%FT%TZ), $((SECONDS - T0)) s into the soak; clients still running:"
		ps -o pid,etimes,args -p "$(IFS=,; echo "${SOAK_JOBS[*]}")" 2>/dev/null
		for ns in "$SG_NS_CLI" "$SG_NS_GW" "$SG_NS_BE"; do
			echo "== $ns: ss -tnaiep (not listening)"
			timeout 10 ip netns exec "$ns" ss -tniep state all exclude listening 2>/dev/null
		done
		echo "== sockgate status"
		timeout 10 "$SOCKGATE" --bpffs "$BPFFS" status 2>&1
		echo "== sockgate flows (first 50)"
		timeout 10 "$SOCKGATE" --bpffs "$BPFFS" flows 2>&1 | head -n 51
	} >"$1" 2>&1 || true # head closing the pipe early is not a failure of the soak
	slog "clients still running after $((SECONDS - waited)) s: sockets and agent state in $1"
}

# round N DP PERT STREAMS SECONDS
round() {
	local n=$1 dp=$2 pert=$3 want=$4 secs=$5 dir started0 t0 what i conns up down left
	local long_t mb_up mb_down
	dir=$RUN/round-$n
	mkdir -p "$dir"
	started0=$STREAMS_STARTED
	pert_set "$pert"
	what=$PERT_WHAT
	t0=$SECONDS
	slog "round $n: $dp $what: $want streams, about $secs s"
	# Paths relative to RUN: a copy of the run (SOAK_OUT, SOAK_FAILURES_DIR) reports alike.
	printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$dp" "$what" "${AGENT_LOG##*/}" "${dir##*/}" >>"$RUN/rounds.tsv"

	# Long streams run through the whole round beside the short ones.
	long_t=$((secs + 120))
	for ((i = 0; i < SOAK_LONG_PER_ROUND && i < want; i++)); do
		mb_up=$(rand_between "$SOAK_LONG_MIN_MB" "$SOAK_LONG_MAX_MB")
		mb_down=$(rand_between "$SOAK_LONG_MIN_MB" "$SOAK_LONG_MAX_MB")
		case $pert in loss | all) mb_up=$SOAK_LONG_MIN_MB mb_down=$SOAK_LONG_MIN_MB ;; esac
		pick_target
		client "$dir" 1 "$long_t" "${TARGET_ARGS[@]}" --up "${mb_up}M" --down "${mb_down}M"
	done
	if [ "$n" -eq 1 ] && [ "$SOAK_INJECT" -gt 0 ]; then
		client "$dir" "$SOAK_INJECT" 120 "$GW_IP_CLI" 443 --hello "$HELLO_INJ" --up 64K --down 64K
	fi
	# Short (2 KiB..64 KiB each way) and medium (64 KiB..2 MiB) streams, many at a time.
	while [ $((STREAMS_STARTED - started0)) -lt "$want" ] && [ "$SECONDS" -lt $((t0 + secs * 3 / 2)) ] &&
		[ "$SECONDS" -lt $((DEADLINE - 10)) ]; do
		soak_prune
		if [ ${#SOAK_JOBS[@]} -ge $((SOAK_PAR + SOAK_LONG_PER_ROUND)) ]; then
			wait -n "${SOAK_JOBS[@]}" 2>/dev/null || true
			continue
		fi
		pick_target
		if [ $((RANDOM % 4)) -eq 0 ]; then
			conns=$(rand_between 20 200)
			up=$(rand_between 65536 2097152)
			down=$(rand_between 65536 2097152)
		else
			conns=$(rand_between 10 100)
			up=$(rand_between 2048 65536)
			down=$(rand_between 2048 65536)
		fi
		[ $((RANDOM % 20)) -eq 0 ] && up=0
		left=$((want - (STREAMS_STARTED - started0)))
		[ "$conns" -le "$left" ] || conns=$left
		client "$dir" "$conns" 120 "${TARGET_ARGS[@]}" --up "$up" --down "$down"
	done
	# Every client is bounded by its own --timeout (and timeout(1) around it). A client
	# still running SOAK_STALL_SECS (and 3 times that) after the last one started may be
	# a hung stream: the sockets and the agent's view are saved then, before the timeout.
	local waited=$SECONDS snaps=0
	while soak_prune && [ ${#SOAK_JOBS[@]} -gt 0 ]; do
		if { [ "$snaps" -eq 0 ] && [ $((SECONDS - waited)) -ge "$SOAK_STALL_SECS" ]; } ||
			{ [ "$snaps" -eq 1 ] && [ $((SECONDS - waited)) -ge $((3 * SOAK_STALL_SECS)) ]; }; then
			snaps=$((snaps + 1))
			snapshot "$dir/stall-$snaps.txt"
		fi
		sleep 1
	done
	slog "round $n: $((STREAMS_STARTED - started0)) streams in $((SECONDS - t0)) s"
}
# ---- main ------------------------------------------------------------------------------------
rounds_left=$nrounds
n=0
k=0
for ((cycle = 1; cycle <= SOAK_CYCLES; cycle++)); do
	for dp in "${DATAPLANES[@]}"; do
		# Every other dataplane runs the perturbations in reverse order, so that the
		# rounds with the memory hog follow each other and it fills once (it is slow).
		order=("${PERTS[@]}")
		if [ $((k++ % 2)) -eq 1 ]; then
			order=()
			for ((i = ${#PERTS[@]} - 1; i >= 0; i--)); do order+=("${PERTS[i]}"); done
		fi
		for pert in "${order[@]}"; do
			n=$((n + 1))
			if [ -z "$AGENT_PID" ] || [ $((cycle % 2)) -eq 0 ]; then
				agent_stop
				agent_start "$dp"
			fi
			left=$((SOAK_STREAMS - STREAMS_STARTED))
			[ "$left" -gt 0 ] || left=0
			want=$(((left + rounds_left - 1) / rounds_left))
			secs=$(((DEADLINE - SECONDS - 15) / rounds_left))
			[ "$secs" -gt 5 ] || secs=5
			round "$n" "$dp" "$pert" "$want" "$secs"
			rounds_left=$((rounds_left - 1))
		done
		agent_stop
	done
done
pert_set none

has_auto() { [[ " ${DATAPLANES[*]} " == *" auto "* || " ${DATAPLANES[*]} " == *" express "* ]]; }

# The servers print a stream's line when it ends; give the last ones a moment.
e2e_poll 30 python3 "$SOAK_DIR/soak_report.py" --check-complete "$RUN" || true
report_rc=0
python3 "$SOAK_DIR/soak_report.py" "$RUN" --requested "$SOAK_STREAMS" \
	--dataplanes "$(IFS=,; echo "${DATAPLANES[*]}")" --seconds $((SECONDS - T0)) \
	--seed "$SOAK_SEED" --min-promoted "$(has_auto && echo "$SOAK_MIN_PROMOTED" || echo 0)" \
	>"$RUN/report.txt" || report_rc=$?
if [ -n "${SOAK_OUT:-}" ]; then
	mkdir -p "$SOAK_OUT" && cp -a "$RUN/." "$SOAK_OUT/" && slog "run's files copied to $SOAK_OUT"
fi
if [ "$report_rc" -ne 0 ] && grep -q '^soak: .* failures=[1-9]' "$RUN/report.txt"; then
	keep=$SOAK_FAILURES_DIR/soak-$(date -u +%Y%m%dT%H%M%SZ)-$$
	mkdir -p "$keep" && cp -a "$RUN/." "$keep/" && slog "kept the run's files in $keep"
fi
cat "$RUN/report.txt"
SOAK_SUMMARY=$(tail -n 1 "$RUN/report.txt")
if [ "$report_rc" -ne 0 ]; then
	# For tests/run.sh's list of failures; cleanup then shows the logs' tails and, last,
	# the summary line again.
	printf 'FAIL: %s\n' "$(grep '^soak: ' "$RUN/report.txt" | grep -v SOAK_SEED | head -n 1)" >&2
	SOAK_RC=$report_rc
fi
exit "$report_rc"
