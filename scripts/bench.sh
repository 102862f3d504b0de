#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench.sh: sockgate against the direct path and the other passthrough gateways.
# Builds client, gateway and backend namespaces (veth pairs, or one namespace on lo),
# starts the backends (build/sockgate-bench server and an NGINX HTTPS server with the
# reference scenario's certificate chain), then runs every contender in the gateway
# namespace on the same address and routes, one after the other, each workload several
# times. Writes raw.jsonl (one record per run), results.json, results.md and PNG charts.
# docs/BENCHMARKS.md explains the method and the figures. Run as root; `make bench`.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/bench.sh [--quick] [options]
  --quick              1 repeat, 2 s runs, 1000 idle connections (about 3 minutes)
  --reps N             repeats of every run (default 3)
  --duration S         seconds per load run (default 8)
  --idle-conns N       connections held by the idle run (default 3000)
  --crr-conns N        concurrent connect-request-response-close loops (default 32)
  --crr-size BYTES     crr request and response size (default 64)
  --contenders LIST    comma-separated subset of: direct,sockgate (the default
                       dataplane: copy, promoted), sockgate-express, sockgate-sockmap,
                       sockgate-splice,
                       haproxy,nginx,sniproxy
  --workloads LIST     comma-separated subset of: bulk-1,bulk-16,rr,crr,tls,idle
  --topology T         veth (default: client, gateway and backend namespaces) or loopback
  --out DIR            where results go (default build/bench/<topology>-<date>)
EOF
}

REPS=3
DURATION=8
IDLE_CONNS=3000
CRR_CONNS=32
CRR_SIZE=64
IDLE_HOLD=3
TOPOLOGY=veth
OUT=
CONTENDERS=direct,sockgate,sockgate-express,sockgate-sockmap,sockgate-splice,haproxy,nginx,sniproxy
WORKLOADS=bulk-1,bulk-16,rr,crr,tls,idle
while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPS=1 DURATION=2 IDLE_CONNS=1000 IDLE_HOLD=1 ;;
	--reps) REPS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--idle-conns) IDLE_CONNS=$2; shift ;;
	--crr-conns) CRR_CONNS=$2; shift ;;
	--crr-size) CRR_SIZE=$2; shift ;;
	--contenders) CONTENDERS=$2; shift ;;
	--workloads) WORKLOADS=$2; shift ;;
	--topology) TOPOLOGY=$2; shift ;;
	--out) OUT=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
for v in REPS DURATION IDLE_CONNS CRR_CONNS CRR_SIZE; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: ${v,,} must be a positive integer" >&2; exit 2; }
done
[ "$TOPOLOGY" = veth ] || [ "$TOPOLOGY" = loopback ] ||
	{ echo "bench.sh: --topology must be veth or loopback" >&2; exit 2; }

# shellcheck source-path=SCRIPTDIR source=../tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
. "$(dirname "$0")/bench/lib.sh"
trap cleanup EXIT

e2e_require_root
for b in "$BENCH_BIN" "$SOCKGATED"; do
	[ -x "$b" ] || e2e_fail "$b is not built (run make)"
done
e2e_require_cmd python3 curl nginx
NCPU=$(nproc)
OUT=${OUT:-$BENCH_ROOT/build/bench/$TOPOLOGY-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RAW=$OUT/raw.jsonl
: >"$RAW"
IFS=, read -r -a contenders <<<"$CONTENDERS"
IFS=, read -r -a workloads <<<"$WORKLOADS"

# ---- topology ---------------------------------------------------------------------------

if [ "$TOPOLOGY" = veth ]; then
	e2e_topology_up
	NS_CLIENT=$SG_NS_CLI NS_GW=$SG_NS_GW NS_BE=$SG_NS_BE
	GW_ADDR=$GW_IP_CLI BE_ADDR=$BE_IP
else
	ip netns add "$SG_NS_GW" || e2e_fail "ip netns add $SG_NS_GW"
	SG_E2E_NS_MADE+=("$SG_NS_GW")
	ip -n "$SG_NS_GW" link set lo up
	NS_CLIENT=$SG_NS_GW NS_GW=$SG_NS_GW NS_BE=$SG_NS_GW
	GW_ADDR=127.0.0.1 BE_ADDR=127.0.0.2
fi
# Many short connections: every port, TIME-WAIT reuse for outgoing connects, deep queues.
for ns in $(printf '%s\n' "$NS_CLIENT" "$NS_GW" "$NS_BE" | sort -u); do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" \
		net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192 >/dev/null
done
e2e_bpffs

# ---- backends ---------------------------------------------------------------------------

e2e_certs
be_dir=$(e2e_tmpdir backend)
e2e_bg "$NS_BE" "$be_dir/server.log" "$BENCH_BIN" server --listen "$BE_ADDR:$BENCH_PORT" \
	--expect-sni bench.sockgate.test
BENCH_SERVER_PID=$E2E_BG_PID
bench_render "$BENCH_DIR/nginx-backend.conf.in" "$be_dir/nginx.conf" "BE=$BE_ADDR" \
	"WEB_PORT=$WEB_PORT" "DIR=$be_dir" "CERTS=$SG_E2E_CERTS"
e2e_bg "$NS_BE" "$be_dir/nginx.stderr" nginx -c "$be_dir/nginx.conf" -p "$be_dir" -g "daemon off;"
BACKEND_PIDS=("$BENCH_SERVER_PID" "$E2E_BG_PID")
e2e_wait_port "$NS_BE" "$BE_ADDR" "$BENCH_PORT" 10 || e2e_fail "bench server did not start"
e2e_wait_port "$NS_BE" "$BE_ADDR" "$WEB_PORT" 10 || e2e_fail "NGINX backend did not start"

# ---- one run ------------------------------------------------------------------------------

# record CONTENDER WORKLOAD REP OK JSON-MEMBERS...: one line of raw.jsonl.
record() {
	local c=$1 w=$2 r=$3
	shift 3
	local IFS=,
	printf '{"contender":"%s","workload":"%s","rep":%d,"topology":"%s",%s}\n' "$c" "$w" "$r" \
		"$TOPOLOGY" "$*" >>"$RAW"
}

# The bench server must still be up and must not have failed a check during the run.
# Its FAIL lines are counted from the start of the run until the backend has no
# connection left: a run's late resets count against it, and the resets of a gateway
# being stopped after a failed run count against nobody.
server_fails_seen=0
server_fails() { grep -c 'FAIL' "$be_dir/server.log" || true; }
backend_conns() {
	ip netns exec "$NS_BE" ss -Htn state established "( sport = :$BENCH_PORT )" 2>/dev/null | wc -l
}
server_check() {
	local n i
	e2e_alive "$BENCH_SERVER_PID" || { echo "the bench server died"; return 1; }
	for ((i = 0; i < 150; i++)); do
		[ "$(backend_conns)" -eq 0 ] && break
		sleep 0.1
	done
	n=$(server_fails)
	if [ "$n" -gt "$server_fails_seen" ]; then
		grep 'FAIL' "$be_dir/server.log" | tail -n 1
		return 1
	fi
	return 0
}

# client_args WORKLOAD: the load generator's command line for a workload.
client_args() {
	local base=(--connect "$TARGET_ADDR:$TARGET_BENCH_PORT" --sni bench.sockgate.test
		--duration "${DURATION}s" --label "$1")
	case $1 in
	bulk-1) echo "client ${base[*]} --mode bulk --dir down --conns 1" ;;
	bulk-16) echo "client ${base[*]} --mode bulk --dir both --conns 16" ;;
	rr) echo "client ${base[*]} --mode rr --conns 16 --size 64" ;;
	crr) echo "client ${base[*]} --mode crr --conns $CRR_CONNS --size $CRR_SIZE" ;;
	idle) echo "client ${base[*]} --mode idle --conns $IDLE_CONNS --size 64 --hold ${IDLE_HOLD}s" ;;
	tls) echo "tls --connect $TARGET_ADDR:$TARGET_WEB_PORT --sni sample.aliyun.com --cafile $SG_CA" \
		"--expect Welcome --conns 16 --duration ${DURATION}s --label tls" ;;
	*) e2e_fail "unknown workload $1" ;;
	esac
}

# run_load CONTENDER WORKLOAD REP: one timed run with CPU (and, for idle, memory) deltas.
run_load() {
	local c=$1 w=$2 r=$3 d out err before after rc=0 js why="" m0 m1 i mem=()
	d=$(e2e_tmpdir "runs")
	out=$d/$c-$w-$r.out err=$d/$c-$w-$r.err before=$d/$c-$w-$r.cpu0 after=$d/$c-$w-$r.cpu1
	# shellcheck disable=SC2207 # the arguments are plain words
	local args=($(client_args "$w"))
	export SG_E2E_CMD_TIMEOUT=$((DURATION + IDLE_HOLD + 90))
	server_fails_seen=$(server_fails)
	bench_cpu_snapshot "$before"
	if [ "$w" = idle ]; then
		m0=$(bench_mem_snapshot)
		e2e_exec "$NS_CLIENT" "$BENCH_BIN" "${args[@]}" >"$out" 2>"$err" &
		local cpid=$!
		for ((i = 0; i < 600; i++)); do
			grep -q 'holding' "$err" 2>/dev/null && break
			e2e_alive "$cpid" || break
			sleep 0.1
		done
		m1=$(bench_mem_snapshot)
		wait "$cpid" || rc=$?
		grep -q 'holding' "$err" && mem=("\"mem\":{$(bench_mem_delta "$m0" "$m1" "$IDLE_CONNS")}")
	else
		e2e_exec "$NS_CLIENT" "$BENCH_BIN" "${args[@]}" >"$out" 2>"$err" || rc=$?
	fi
	bench_cpu_snapshot "$after"
	js=$(tail -n 1 "$out")
	[[ "$js" == "{"*"}" ]] || js="{\"ok\":false,\"error\":\"no result (exit $rc): $(tail -n 1 "$err" | bench_json_safe)\"}"
	local notes=()
	if ! why=$(server_check); then
		notes+=("\"backend_error\":\"$(bench_json_safe <<<"$why")\"")
		rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		# The gateway's own words (out of fds, refused, crashed) belong with the failure.
		notes+=("\"gateway_log\":\"$(bench_gateway_log)\"")
		printf '\n!!! %s %s rep %s FAILED: %s %s\n' "$c" "$w" "$r" "$(grep -h FAIL "$err" | head -n 2)" "$why" >&2
	fi
	local sc=()
	[ "$w" = crr ] && [ "$rc" -eq 0 ] && sc=($(count_syscalls "$d/$c-$w-$r"))
	record "$c" "$w" "$r" "\"cpu\":{$(bench_cpu_delta "$before" "$after")}" "${mem[@]}" "${notes[@]}" \
		"${sc[@]}" "\"result\":$js"
}

# count_syscalls PREFIX: after a crr run, a separate 2 s crr run with the gateway's
# syscalls counted (perf stat on raw_syscalls:sys_enter, every process and thread of the
# contender); prints one JSON member, or nothing for the direct path or without perf.
# Separate because counting costs each syscall a little, which must not touch the rates.
count_syscalls() {
	local pfx=$1 pids out calls conns ppid
	pids=$(bench_contender_pids | xargs | tr ' ' ',')
	[ -n "$pids" ] && command -v perf >/dev/null 2>&1 || return 0
	perf stat -x, -e raw_syscalls:sys_enter -p "$pids" -o "$pfx.perf" 2>/dev/null &
	ppid=$!
	sleep 0.3
	out=$(e2e_exec "$NS_CLIENT" "$BENCH_BIN" client --connect "$TARGET_ADDR:$TARGET_BENCH_PORT" \
		--sni bench.sockgate.test --mode crr --conns 32 --size 64 --duration 2s | tail -n 1) || true
	kill -INT "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null || true
	calls=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$pfx.perf" 2>/dev/null)
	conns=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["conns_completed"])' "$out" 2>/dev/null) || return 0
	[[ $calls =~ ^[0-9]+$ ]] && [ "$conns" -gt 0 ] || return 0
	printf '"syscalls":{"calls":%s,"conns":%s}\n' "$calls" "$conns"
}

# run_iperf REP: the harness check (docs/BENCHMARKS.md): iperf3 between the client and the
# backend namespaces over the direct path, as long as one bulk-1 run, recorded as the
# direct contender's workload "iperf3". Skipped (nothing recorded) without iperf3.
run_iperf() {
	local r=$1 d js gbit
	command -v iperf3 >/dev/null 2>&1 || return 0
	d=$(e2e_tmpdir "runs")
	e2e_bg "$NS_BE" "$d/iperf3-server-$r.log" iperf3 -s -1 -B "$BE_ADDR" -p 5201
	e2e_poll 5 e2e__listens "$NS_BE" "$E2E_BG_PID" "$BE_ADDR" 5201 || return 0
	js=$(e2e_exec "$NS_CLIENT" iperf3 -c "$BE_ADDR" -p 5201 -t "$DURATION" -J 2>/dev/null) || true
	gbit=$(python3 -c 'import json,sys; print("%.3f" % (json.loads(sys.stdin.read())["end"]["sum_received"]["bits_per_second"] / 1e9))' <<<"$js" 2>/dev/null) || gbit=""
	if [ -n "$gbit" ]; then
		record direct iperf3 "$r" "\"result\":{\"ok\":true,\"gbit_s\":$gbit}"
	else
		record direct iperf3 "$r" "\"result\":{\"ok\":false,\"error\":\"iperf3 gave no result\"}"
	fi
}

# probes CONTENDER: curl through the contender to NGINX, and the load generator's own
# ClientHello answered by NGINX with a ServerHello. Recorded; a failure skips the contender.
probes() {
	local c=$1 body pr ok=true why=""
	body=$(e2e_exec "$NS_CLIENT" curl -sS --max-time 10 --cacert "$SG_CA" \
		--resolve "sample.aliyun.com:$TARGET_WEB_PORT:$TARGET_ADDR" \
		"https://sample.aliyun.com:$TARGET_WEB_PORT/" 2>&1) || true
	[[ "$body" == *"Welcome to aliyun.com without TLS Termination!"* ]] ||
		{ ok=false why="curl: ${body:0:120}"; }
	pr=$(e2e_exec "$NS_CLIENT" "$BENCH_BIN" probe --connect "$TARGET_ADDR:$TARGET_WEB_PORT" \
		--sni sample.aliyun.com --alpn h2,http/1.1 2>/dev/null) || { ok=false why="${why:+$why; }probe: $pr"; }
	[[ "$pr" == "{"*"}" ]] || pr=null
	record "$c" probe 0 "\"curl_ok\":$([[ "$body" == *Welcome* ]] && echo true || echo false)" \
		"\"result\":{\"ok\":$ok,\"error\":\"$(bench_json_safe <<<"$why")\",\"probe\":${pr:-null}}"
	$ok
}

# ---- the schedule -------------------------------------------------------------------------

total=$((REPS * ${#contenders[@]} * ${#workloads[@]}))
step=0
t_begin=$SECONDS
progress() {
	local el=$((SECONDS - t_begin)) left="?"
	[ "$step" -gt 0 ] && left=$(((total - step) * el / step))
	[ "$step" -eq 0 ] && left=$((total * (DURATION + 3)))
	printf '[%3d/%d] %-17s %-8s rep %d/%d | %d:%02d elapsed, about %d:%02d left\n' \
		"$((step + 1))" "$total" "$1" "$2" "$3" "$REPS" $((el / 60)) $((el % 60)) \
		$((left / 60)) $((left % 60)) >&2
}

e2e_log "topology $TOPOLOGY, $REPS repeats of ${DURATION}s runs, idle $IDLE_CONNS connections; results in $OUT"
for ((r = 1; r <= REPS; r++)); do
	# Rotate the order each repeat, so slow drifts on a shared machine hit every contender.
	n=${#contenders[@]}
	for ((k = 0; k < n; k++)); do
		c=${contenders[$(((k + r - 1) % n))]}
		CONTENDER_WHY=""
		if ! command -v "${c%%-*}" >/dev/null 2>&1 && [[ $c != direct && $c != sockgate* ]]; then
			CONTENDER_WHY="$c is not installed (scripts/install-deps.sh --bench installs it)"
		elif ! bench_contender_start "$c"; then
			:
		elif ! probes "$c"; then
			CONTENDER_WHY="the correctness probes failed through $c"
		fi
		if [ -n "$CONTENDER_WHY" ]; then
			printf '!!! %s skipped: %s\n' "$c" "$CONTENDER_WHY" >&2
			record "$c" skipped "$r" "\"result\":{\"ok\":false,\"error\":\"$(bench_json_safe <<<"$CONTENDER_WHY")\"}"
			bench_contender_stop
			step=$((step + ${#workloads[@]}))
			continue
		fi
		for w in "${workloads[@]}"; do
			progress "$c" "$w" "$r"
			run_load "$c" "$w" "$r"
			step=$((step + 1))
		done
		[ "$c" = direct ] && [[ ",$WORKLOADS," == *,bulk-1,* ]] && run_iperf "$r"
		bench_contender_stop
	done
done

# ---- report ---------------------------------------------------------------------------------

{
	echo "kernel $(uname -r), $(nproc) CPUs: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "topology $TOPOLOGY, repeats $REPS, run ${DURATION}s, idle connections $IDLE_CONNS"
	for p in haproxy nginx sniproxy; do
		command -v $p >/dev/null && echo "$p $(dpkg-query -W -f='${Version}' $p 2>/dev/null)"
	done
} >"$OUT/machine.txt"
python3 "$BENCH_DIR/report.py" --raw "$RAW" --machine "$OUT/machine.txt" --out "$OUT" ||
	e2e_fail "report failed"
e2e_log "done in $(((SECONDS - t_begin) / 60)) min $(((SECONDS - t_begin) % 60)) s: $OUT/results.md"
cat "$OUT/results.md"
if grep -q -e '"ok":false' -e '"backend_error"' "$RAW"; then
	e2e_log "some runs FAILED: see the table and $RAW"
	exit 1
fi
