#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The agent run as deploy/kubernetes/daemonset.yaml runs it, without a cluster: the
# container's args read from the manifest (only the binary's path is the build's), the
# ConfigMap laid out as the kubelet lays it out, the volumes bound where the manifest
# mounts them (the host's bpffs: here the test's own), the container's own cgroup mounted
# read-only in a cgroup namespace as the runtime mounts it, and only the manifest's
# capabilities (setpriv, as root, as the container runs). The gateway namespace stands
# for the node's network (hostNetwork). The agent must run on sockmap with exactly those
# capabilities, answer the manifest's probes, and pass the user's curl to the user's
# NGINX behind mynginxapp.default.svc.cluster.local (the ClusterIP a cluster DNS gives).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl nginx python3 setpriv unshare capsh
python3 -c 'import yaml' 2>/dev/null || e2e_skip "needs python3-yaml (scripts/install-deps.sh installs it)"
e2e_sockgate_env
SOCKGATE=$ROOT/build/sockgate
[ -x "$SOCKGATE" ] || e2e_fail "$SOCKGATE not built (run make)"
DS=$ROOT/deploy/kubernetes/daemonset.yaml
CM=$ROOT/deploy/kubernetes/configmap.yaml
manifest() { python3 "$ROOT/tests/tools/k8s_manifest.py" "$@"; }
WELCOME='Welcome to aliyun.com without TLS Termination!'
tmp=$(e2e_tmpdir)

e2e_topology_up
e2e_bpffs
e2e_nginx_backend "$SG_NS_BE" "$BE_IP" 443 "$(e2e_tmpdir be)"
e2e_hosts_file "$SG_NS_GW" mynginxapp.default.svc.cluster.local "$BE_IP"

# The ConfigMap volume.
payload=$(e2e_tmpdir payload)
manifest configmap "$CM" "$payload"
volume=$(e2e_tmpdir configmap)
e2e_configmap_publish "$volume" 2026_12_07_18_00_00.000 "$payload"
run=$(e2e_tmpdir run-sockgate)

# What stands for each of the manifest's volumes on this host.
binds=()
while read -r path type source; do
	case $type:$source in
	configMap:*) src=$volume ro=1 ;;
	hostPath:/sys/fs/bpf) src=$(dirname "$BPFFS") ro=0 ;;
	hostPath:/run/sockgate) src=$run ro=0 ;;
	*) e2e_fail "the test has no stand-in for the volume $type $source at $path" ;;
	esac
	binds+=("$src" "$path" "$ro")
	# A mount point outside /run (which the pod gets fresh) must exist on the host; made
	# here and removed at cleanup, as lib.sh does with /etc/netns.
	if [[ $path != /run/* ]] && [ ! -d "$path" ]; then
		mkdir "$path"
		made_mountpoint=$path
	fi
done < <(manifest mounts "$DS")

# The pod's cgroup, below the test's own in the host's cgroup2.
cgmnt=$(e2e_tmpdir cgroup2)
mount -t cgroup2 cgroup2 "$cgmnt" || e2e_fail "cannot mount cgroup2 on $cgmnt"
e2e_on_cleanup "umount $cgmnt"
self=$(sed -n 's/^0:://p' /proc/self/cgroup)
pod_cg=$cgmnt${self%/}/sg$$-pod
mkdir "$pod_cg"

# The container runtime, in two stages: join the pod's cgroup and hide the host's
# cgroup2, then in a new cgroup namespace mount the container's cgroup read-only, a
# fresh /run, and the volumes, and exec the command with the manifest's capabilities
# only (root keeps its uid; inheritable and ambient empty, bounding = the list) and an
# empty environment.
cat >"$tmp/pod.sh" <<'SH'
set -euo pipefail
if [ "$1" = runtime ]; then
	echo $$ >"$2/cgroup.procs"
	umount "$3"
	shift 3
	exec unshare --cgroup bash "$0" container "$@"
fi
shift
caps=$1
shift
mount -t cgroup2 -o ro,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run
while [ "$1" != -- ]; do
	mkdir -p "$2"
	mount --bind "$1" "$2"
	[ "$3" = 1 ] && mount -o remount,bind,ro "$2"
	shift 3
done
shift
# The container's environment is the image's and the manifest's (none), not the test's.
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$caps" -- "$@"
SH

mapfile -t cmd < <(manifest command "$DS")
mapfile -t caps < <(manifest caps "$DS")
setcaps=$(printf '+%s,' "${caps[@],,}")
log=$tmp/sockgated.log
e2e_bg "$SG_NS_GW" "$log" bash "$tmp/pod.sh" runtime "$pod_cg" "$cgmnt" "${setcaps%,}" \
	"${binds[@]}" -- "$SOCKGATED" "${cmd[@]:1}"
pid=$E2E_BG_PID
e2e_on_cleanup "e2e__stop_pids $pid; rmdir $pod_cg ${made_mountpoint:-}"
export SOCKGATE_CONTROL=$run/sockgate.sock

e2e_poll 20 e2e__listens "$SG_NS_GW" "$pid" 0.0.0.0 443 ||
	e2e_fail "sockgated does not listen on 0.0.0.0:443: $(cat "$log")"

# The probes as the kubelet sends them: HTTP GET host:port/path within timeoutSeconds,
# success for 200-399.
probe() { # KIND: prints the status, 0 when the kubelet would count it a success
	local host port path to code
	read -r host port path to <<<"$(manifest probe "$DS" "$1")"
	code=$(timeout $((to + 2)) ip netns exec "$SG_NS_GW" curl -s -o "$tmp/$1.body" \
		-w '%{http_code}' --max-time "$to" "http://$host:$port$path") || true
	printf '%s\n' "$code"
	[ "$code" -ge 200 ] 2>/dev/null && [ "$code" -lt 400 ]
}
e2e_poll 10 probe readiness >/dev/null || e2e_fail "readiness probe: $(probe readiness): $(cat "$log")"
e2e_assert_eq 200 "$(probe readiness)" "the readiness probe (/ready) passes"
e2e_assert_contains "$(cat "$tmp/readiness.body")" "sockmap dataplane" "ready on sockmap"
e2e_assert_eq 200 "$(probe liveness)" "the liveness probe (/healthz) passes"
e2e_assert_eq ok "$(cat "$tmp/liveness.body")" "/healthz says ok"

# Exactly the manifest's capabilities, and the sockmap dataplane with them.
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")
got=$(capsh --decode="$eff" | sed 's/^[^=]*=//' | tr ',' '\n' | sort | tr '\n' ' ')
want=$(printf 'cap_%s\n' "${caps[@],,}" | sort | tr '\n' ' ')
e2e_assert_eq "$want" "$got" "the agent's effective capabilities are the manifest's ($eff)"
e2e_assert_contains "$(cat "$log")" "promoted to sockmap (maps pinned under /sys/fs/bpf/sockgate)" \
	"sockmap, maps pinned in the host's bpffs"
[ -e "$BPFFS/sg_flows" ] || e2e_fail "no sg_flows pinned in the host's bpffs"
e2e_assert_contains "$(cat "$log")" "(cgroup /sys/fs/cgroup)" \
	"the pause program is on the container's own (read-only) cgroup"
e2e_assert_eq "0::${self%/}/sg$$-pod" "$(grep '^0::' "/proc/$pid/cgroup")" \
	"the agent stays in the pod's cgroup"

out=$(e2e_exec "$SG_NS_CLI" curl -sS --cacert "$SG_CA" \
	--resolve "sample.aliyun.com:443:$GW_IP_CLI" https://sample.aliyun.com)
e2e_assert_eq "$WELCOME" "$out" "the user's curl through the DaemonSet's agent"
e2e_assert_contains "$(timeout 10 "$SOCKGATE" routes)" "sample.aliyun.com" \
	"sockgate routes on the node through the /run/sockgate hostPath"

kill -TERM "$pid"
wait "$pid" || e2e_fail "sockgated exit status: $(tail -5 "$log")"
e2e_pass "the agent runs as the DaemonSet runs it: four capabilities, sockmap, probes, the user's curl"
