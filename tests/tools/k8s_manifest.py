#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Reads deploy/kubernetes/ for the tests, so that they follow the manifests.

  k8s_manifest.py command DAEMONSET          the container's command and args, one a line
  k8s_manifest.py caps DAEMONSET             capabilities added, one a line (as written)
  k8s_manifest.py probe DAEMONSET KIND       readiness|liveness: "host port path timeout"
  k8s_manifest.py mounts DAEMONSET           "mountPath type source" (configMap NAME,
                                             hostPath PATH), one mount a line
  k8s_manifest.py configmap CONFIGMAP DIR    writes each data key to DIR/KEY
  k8s_manifest.py check DAEMONSET CONFIGMAP  the fields tests/e2e/test_k8s_manifests.sh
                                             asserts; "ok - ..." lines, exit 1 at the first
                                             that does not hold
"""
import os
import sys

import yaml


def load(path, kind):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    found = [d for d in docs if d.get("kind") == kind]
    if len(found) != 1:
        sys.exit(f"{path}: expected one {kind}, found {len(found)}")
    return found[0]


def container(ds):
    cs = ds["spec"]["template"]["spec"]["containers"]
    if len(cs) != 1:
        sys.exit(f"expected one container, found {len(cs)}")
    return cs[0]


def probe(ds, kind):
    p = container(ds)[kind + "Probe"]["httpGet"]
    timeout = container(ds)[kind + "Probe"].get("timeoutSeconds", 1)
    return p.get("host", ""), p["port"], p["path"], timeout


def mounts(ds):
    vols = {v["name"]: v for v in ds["spec"]["template"]["spec"].get("volumes", [])}
    out = []
    for m in container(ds).get("volumeMounts", []):
        v = vols.get(m["name"])
        if v is None:
            sys.exit(f"volumeMount {m['name']} names no volume")
        if "configMap" in v:
            out.append((m["mountPath"], "configMap", v["configMap"]["name"], m))
        elif "hostPath" in v:
            out.append((m["mountPath"], "hostPath", v["hostPath"]["path"], m))
        else:
            out.append((m["mountPath"], "other", m["name"], m))
    return out


def arg_value(args, flag):
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


class Check:
    def __init__(self):
        self.n = 0

    def __call__(self, cond, what, detail=""):
        if not cond:
            print(f"FAIL: {what}" + (f": {detail}" if detail else ""), file=sys.stderr)
            sys.exit(1)
        print(f"ok - {what}")
        self.n += 1


def check(ds, cm):
    ok = Check()
    pod = ds["spec"]["template"]["spec"]
    c = container(ds)
    args = c.get("args", [])
    ok(pod.get("hostNetwork") is True, "hostNetwork: true")
    ok(pod.get("dnsPolicy") == "ClusterFirstWithHostNet",
       "dnsPolicy ClusterFirstWithHostNet (cluster DNS names from the host network)")
    upd = ds["spec"].get("updateStrategy", {})
    ok(upd.get("type") == "RollingUpdate" and
       upd.get("rollingUpdate", {}).get("maxUnavailable") not in (None, 0, "0", "0%"),
       "RollingUpdate with maxUnavailable set", str(upd))
    sel = ds["spec"]["selector"]["matchLabels"]
    labels = ds["spec"]["template"]["metadata"]["labels"]
    ok(all(labels.get(k) == v for k, v in sel.items()), "the selector matches the pod labels")
    sc = c.get("securityContext", {})
    ok(not sc.get("privileged", False), "not privileged")
    ok(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    ok(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities: drop ALL")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    ok(grace > 10, "terminationGracePeriodSeconds above the agent's 10 s drain", str(grace))

    for kind in ("readiness", "liveness"):
        host, port, _, _ = probe(ds, kind)
        metrics = arg_value(args, "--metrics")
        ok(metrics == [f"{host}:{port}"],
           f"the {kind} probe asks the --metrics listener", f"{metrics} vs {host}:{port}")

    ms = mounts(ds)
    paths = [m[0] for m in ms]
    ok(len(paths) == len(set(paths)), "no mountPath twice")
    cms = [m for m in ms if m[1] == "configMap"]
    ok(len(cms) == 1 and cms[0][2] == cm["metadata"]["name"],
       "the ConfigMap volume names the ConfigMap", str(cms))
    ok(cms[0][3].get("readOnly") is True and "subPath" not in cms[0][3],
       "the ConfigMap is mounted read-only and whole (a subPath mount is never updated)")
    ok(arg_value(args, "--config") == [cms[0][0]], "--config is the ConfigMap's mountPath",
       str(arg_value(args, "--config")))
    ok(cm["metadata"].get("namespace") == ds["metadata"].get("namespace"),
       "ConfigMap and DaemonSet in one namespace")
    hosts = {m[2]: m for m in ms if m[1] == "hostPath"}
    ok(set(hosts) == {"/sys/fs/bpf", "/run/sockgate"},
       "hostPath volumes: the host's bpffs and /run/sockgate, nothing else", str(sorted(hosts)))
    ok(hosts["/sys/fs/bpf"][0] == "/sys/fs/bpf", "bpffs mounted where the host has it")
    bpffs = arg_value(args, "--bpffs")
    ok(len(bpffs) == 1 and bpffs[0].startswith("/sys/fs/bpf/"),
       "--bpffs inside the host's bpffs", str(bpffs))
    ctl = arg_value(args, "--control") or ["/run/sockgate/sockgate.sock"]
    ok(os.path.dirname(ctl[0]) == hosts["/run/sockgate"][0],
       "the control socket is in the /run/sockgate hostPath", ctl[0])
    print(f"{ok.n} checks")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == "configmap":
        cm = load(path, "ConfigMap")
        os.makedirs(argv[3], exist_ok=True)
        for key, value in cm["data"].items():
            with open(os.path.join(argv[3], key), "w", encoding="utf-8") as f:
                f.write(value)
        return
    ds = load(path, "DaemonSet")
    if cmd == "command":
        c = container(ds)
        print("\n".join(c["command"] + c.get("args", [])))
    elif cmd == "caps":
        print("\n".join(container(ds)["securityContext"]["capabilities"]["add"]))
    elif cmd == "probe":
        print(*probe(ds, argv[3]))
    elif cmd == "mounts":
        for m in mounts(ds):
            print(m[0], m[1], m[2])
    elif cmd == "check":
        check(ds, load(argv[3], "ConfigMap"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
