# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# scripts/bench/lib.sh: the benchmark harness's helpers (sourced by scripts/bench.sh after
# tests/e2e/lib.sh, whose namespaces, bounded waits and cleanup it reuses). Owns: starting
# and stopping each contender from its template, CPU and memory snapshots, and one result
# record per run.

# shellcheck disable=SC2034 # BENCH_BIN and the ports are used by scripts/bench.sh
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BENCH_BIN=$BENCH_ROOT/build/sockgate-bench
SOCKGATED=$BENCH_ROOT/build/sockgated
BENCH_PORT=9000 # the bench server on the backend
WEB_PORT=443    # the NGINX HTTPS backend
CLK_TCK=$(getconf CLK_TCK)

# bench_render TEMPLATE OUT [KEY=VALUE...]: the template with @KEY@ replaced; fails if any
# @WORD@ placeholder is left over.
bench_render() {
	local tpl=$1 out=$2 kv k v
	shift 2
	cp "$tpl" "$out.tmp"
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		sed -i "s#@$k@#$v#g" "$out.tmp"
	done
	if grep -q '@[A-Z_]*@' "$out.tmp"; then
		e2e_fail "$tpl: placeholders left: $(grep -o '@[A-Z_]*@' "$out.tmp" | sort -u | tr '\n' ' ')"
	fi
	mv "$out.tmp" "$out"
}

# bench_json_safe: stdin without the characters that would end a JSON string (quotes,
# backslashes, control characters), for messages put inside one.
bench_json_safe() {
	# shellcheck disable=SC1003 # a backslash inside single quotes, on purpose
	tr -d '"\\[:cntrl:]'
}

# bench_descendants PID...: the PIDs and every process below them.
bench_descendants() {
	local p kids
	for p in "$@"; do
		[ -d "/proc/$p" ] || continue
		printf '%s\n' "$p"
		kids=$(ps -o pid= --ppid "$p" 2>/dev/null | tr -d ' ' || true)
		# shellcheck disable=SC2086 # one pid per word
		[ -n "$kids" ] && bench_descendants $kids
	done
	return 0
}

# ---- contenders -------------------------------------------------------------------------

# Every contender listens on $GW_ADDR:443 and routes bench.sockgate.test to the bench server
# and sample.aliyun.com to the NGINX backend; direct has the client talk to the backends.
bench_contender_start() {
	local name=$1 dir i
	dir=$(e2e_tmpdir "c-$name")
	CONTENDER_DIR=$dir
	CONTENDER_ROOT_PIDS=()
	TARGET_ADDR=$GW_ADDR
	TARGET_BENCH_PORT=443
	TARGET_WEB_PORT=443
	local subst=("GW=$GW_ADDR" "BE=$BE_ADDR" "BENCH_PORT=$BENCH_PORT" "WEB_PORT=$WEB_PORT" "DIR=$dir")
	case $name in
	direct)
		TARGET_ADDR=$BE_ADDR
		TARGET_BENCH_PORT=$BENCH_PORT
		TARGET_WEB_PORT=$WEB_PORT
		[ "$TOPOLOGY" = veth ] && e2e_gw_forwarding on 2>/dev/null
		return 0
		;;
	sockgate | sockgate-sockmap | sockgate-splice | sockgate-express)
		local dp=auto
		[ "$name" = sockgate ] || dp=${name#sockgate-}
		bench_render "$BENCH_DIR/sockgate.yaml.in" "$dir/sockgate.yaml" "${subst[@]}"
		e2e_bg "$NS_GW" "$dir/sockgated.log" env SOCKGATE_CONTROL="$dir/control.sock" \
			"$SOCKGATED" --config "$dir/sockgate.yaml" --dataplane "$dp" \
			--bpffs "$BPFFS" --access-log off --log-level warn
		CONTENDER_ROOT_PIDS+=("$E2E_BG_PID")
		;;
	haproxy)
		bench_render "$BENCH_DIR/haproxy.cfg.in" "$dir/haproxy.cfg" "${subst[@]}"
		e2e_exec "$NS_GW" haproxy -c -q -f "$dir/haproxy.cfg" >"$dir/check.log" 2>&1 ||
			{ CONTENDER_WHY="haproxy -c rejected the configuration: $(head -3 "$dir/check.log")"; return 1; }
		e2e_bg "$NS_GW" "$dir/haproxy.log" haproxy -db -f "$dir/haproxy.cfg"
		CONTENDER_ROOT_PIDS+=("$E2E_BG_PID")
		;;
	nginx)
		bench_render "$BENCH_DIR/nginx-stream.conf.in" "$dir/nginx.conf" "${subst[@]}"
		e2e_exec "$NS_GW" nginx -t -q -c "$dir/nginx.conf" -p "$dir" >"$dir/check.log" 2>&1 ||
			{ CONTENDER_WHY="nginx -t rejected the configuration: $(head -3 "$dir/check.log")"; return 1; }
		e2e_bg "$NS_GW" "$dir/nginx.stderr" nginx -c "$dir/nginx.conf" -p "$dir" -g "daemon off;"
		CONTENDER_ROOT_PIDS+=("$E2E_BG_PID")
		;;
	sniproxy)
		chmod 0755 "$dir"
		for ((i = 0; i < NCPU; i++)); do
			bench_render "$BENCH_DIR/sniproxy.conf.in" "$dir/sniproxy-$i.conf" "${subst[@]}" "INSTANCE=$i"
			e2e_bg "$NS_GW" "$dir/sniproxy-$i.stderr" sniproxy -f -c "$dir/sniproxy-$i.conf"
			CONTENDER_ROOT_PIDS+=("$E2E_BG_PID")
		done
		;;
	*)
		e2e_fail "unknown contender $name"
		;;
	esac
	local p
	if ! e2e_wait_port "$NS_CLIENT" "$TARGET_ADDR" 443 15; then
		CONTENDER_WHY="$name did not accept on $TARGET_ADDR:443 within 15 s: $(tail -n 3 "$dir"/*.log "$dir"/*.stderr 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	for p in "${CONTENDER_ROOT_PIDS[@]}"; do
		e2e_alive "$p" || {
			CONTENDER_WHY="$name exited at start: $(tail -n 3 "$dir"/*.log "$dir"/*.stderr 2>/dev/null | tr '\n' ' ')"
			return 1
		}
	done
	return 0
}

# The contender's processes now (nginx workers, sniproxy's binder included).
bench_contender_pids() {
	[ "${#CONTENDER_ROOT_PIDS[@]}" -gt 0 ] || return 0
	bench_descendants "${CONTENDER_ROOT_PIDS[@]}" | tr '\n' ' '
}

# bench_gateway_log: the last lines of the running contender's logs, JSON-string safe.
bench_gateway_log() {
	local f
	for f in "$CONTENDER_DIR"/*.log "$CONTENDER_DIR"/*.stderr; do
		[ -s "$f" ] && tail -n 2 "$f"
	done | tr "\n" " " | bench_json_safe | cut -c1-400
	return 0
}

bench_contender_stop() {
	local pids
	pids=$(bench_contender_pids)
	# shellcheck disable=SC2086 # one pid per word
	# "|| true": a stopped process's exit status (143) is not a failure of the harness.
	[ -n "$pids" ] && { e2e__stop_pids $pids || true; }
	CONTENDER_ROOT_PIDS=()
	[ "$TOPOLOGY" = veth ] && e2e_gw_forwarding off 2>/dev/null
	return 0
}

# ---- measurements -----------------------------------------------------------------------

# bench_cpu_snapshot FILE: machine-wide /proc/stat, then one "pid class ticks" line per
# kernel worker thread (kworker, ksoftirqd), contender process and backend process.
bench_cpu_snapshot() {
	local out=$1
	{
		head -n1 /proc/stat
		# shellcheck disable=SC2016 # awk program
		# Processes come and go while cat reads: a vanished one is not an error.
		{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v proxy=" $(bench_contender_pids) " \
			-v backend=" ${BACKEND_PIDS[*]} $(bench_descendants "${BACKEND_PIDS[@]}" | tr '\n' ' ') " '
		{
			i = index($0, "(")
			for (j = length($0); j > i && substr($0, j, 1) != ")"; j--)
				;
			comm = substr($0, i + 1, j - i - 1)
			n = split(substr($0, j + 2), f, " ")
			ticks = f[12] + f[13]
			if (index(proxy, " " $1 " "))
				print $1, "proxy", ticks
			else if (index(backend, " " $1 " "))
				print $1, "backend", ticks
			else if (comm ~ /^(kworker|ksoftirqd)/)
				print $1, "kthread", ticks
		}'
	} >"$out"
}

# bench_cpu_delta BEFORE AFTER: JSON members with CPU seconds spent between two snapshots.
# A process seen only in AFTER counts from zero; one that exited in between is lost.
bench_cpu_delta() {
	awk -v tck="$CLK_TCK" '
	FNR == 1 && $1 == "cpu" {
		if (FILENAME == ARGV[1]) { for (k = 2; k <= 9; k++) b[k] = $k }
		else { for (k = 2; k <= 9; k++) a[k] = $k }
		next
	}
	FILENAME == ARGV[1] { before[$1 " " $2] = $3; next }
	{ d = $3 - ((($1 " " $2) in before) ? before[$1 " " $2] : 0); if (d > 0) sum[$2] += d }
	END {
		printf "\"machine_user_s\":%.2f,\"machine_system_s\":%.2f,\"machine_softirq_s\":%.2f,",
			(a[2] + a[3] - b[2] - b[3]) / tck, (a[4] - b[4]) / tck, (a[8] - b[8]) / tck
		printf "\"machine_irq_s\":%.2f,\"machine_idle_s\":%.2f,", (a[7] - b[7]) / tck, (a[5] - b[5]) / tck
		printf "\"proxy_s\":%.2f,\"backend_s\":%.2f,\"kthread_s\":%.2f",
			sum["proxy"] / tck, sum["backend"] / tck, sum["kthread"] / tck
	}' "$1" "$2"
}

# bench_mem_snapshot: "slab_kb sunreclaim_kb available_kb tcp_mem_pages proxy_pss_kb".
bench_mem_snapshot() {
	local pss=0 p v
	for p in $(bench_contender_pids); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		pss=$((pss + ${v:-0}))
	done
	printf '%s %s %s %s %s\n' \
		"$(awk '/^Slab:/ {print $2}' /proc/meminfo)" \
		"$(awk '/^SUnreclaim:/ {print $2}' /proc/meminfo)" \
		"$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)" \
		"$(awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat)" \
		"$pss"
}

# bench_mem_delta "BEFORE" "AFTER" CONNS: JSON members, KiB per connection.
bench_mem_delta() {
	awk -v b="$1" -v a="$2" -v n="$3" -v page="$(getconf PAGESIZE)" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		printf "\"slab_kib_per_conn\":%.3f,\"sunreclaim_kib_per_conn\":%.3f,", (y[1] - x[1]) / n, (y[2] - x[2]) / n
		printf "\"mem_available_drop_kib_per_conn\":%.3f,\"tcp_mem_kib_per_conn\":%.3f,", (x[3] - y[3]) / n, (y[4] - x[4]) * page / 1024 / n
		printf "\"proxy_pss_kib_per_conn\":%.3f,\"proxy_pss_kib\":%d", (y[5] - x[5]) / n, y[5]
	}'
}
