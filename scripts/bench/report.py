#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""report.py: turns the harness's raw.jsonl into results.json (raw records and the
aggregates), results.md (the summary table with ratios to direct, the leader of each
column, and per-workload detail with median [min-max]) and PNG charts drawn by gnuplot.
Only runs that passed every check are aggregated; a contender whose runs failed shows
FAIL and why."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

CONTENDER_ORDER = ["direct", "sockgate", "sockgate-express", "sockgate-sockmap", "sockgate-splice", "haproxy", "nginx",
                   "sniproxy"]
GIB = float(1 << 30)


def cpu_total(rec):
    """CPU seconds of the whole stack under test: client (its rusage includes the softirq
    work run in its context), backends, contender and kernel worker threads."""
    cpu, res = rec.get("cpu", {}), rec["result"]
    return (res.get("cpu_user_s", 0) + res.get("cpu_sys_s", 0) + cpu.get("backend_s", 0) +
            cpu.get("proxy_s", 0) + cpu.get("kthread_s", 0))


def machine_busy(rec):
    cpu = rec.get("cpu", {})
    return sum(cpu.get(k, 0) for k in ("machine_user_s", "machine_system_s",
                                          "machine_softirq_s", "machine_irq_s"))


def per(value, amount):
    return value / amount if amount > 0 else None


# Rate workloads: (rate metric and field, count field, unit of the per-1000 CPU figures,
# latency quantiles reported)
RATE_WORKLOADS = {
    "rr": ("trans_per_s", "transactions", "trans", ("p50", "p99", "p999")),
    "crr": ("conn_per_s", "conns_completed", "conns", ("p50", "p99", "p999", "max")),
    "tls": ("hs_per_s", "handshakes", "hs", ("p50", "p99", "p999")),
}


def cpu_figures(m, rec, amount, suffix):
    """CPU-seconds per amount: the whole stack, the gateway alone, kernel workers and the
    machine-wide /proc/stat view."""
    cpu = rec.get("cpu", {})
    m["cpu_s_per_" + suffix] = per(cpu_total(rec), amount)
    m["proxy_cpu_s_per_" + suffix] = per(cpu.get("proxy_s", 0), amount)
    m["kthread_cpu_s_per_" + suffix] = per(cpu.get("kthread_s", 0), amount)
    m["machine_cpu_s_per_" + suffix] = per(machine_busy(rec), amount)


def metrics(rec):
    """The figures one run yields, by name."""
    w, res = rec["workload"], rec["result"]
    m = {}
    if w == "iperf3":
        m["gbit_s"] = res["gbit_s"]
    elif w in ("bulk-1", "bulk-16"):
        m["gbit_s"] = res["gbit_s"]
        cpu_figures(m, rec, (res["bytes_up"] + res["bytes_down"]) / GIB, "gib")
    elif w in RATE_WORKLOADS:
        rate, count, unit, qs = RATE_WORKLOADS[w]
        m[rate] = res[rate]
        for q in qs:
            m["lat_" + q + "_us"] = res["latency_us"][q]
        cpu_figures(m, rec, res[count] / 1000, "1k_" + unit)
        sc = rec.get("syscalls")
        if w == "crr" and sc and sc.get("conns"):
            m["syscalls_per_conn"] = sc["calls"] / sc["conns"]
    elif w == "idle":
        mem = rec.get("mem", {})
        m["setup_s"] = res["setup_s"]
        m["proxy_kib_per_conn"] = mem.get("proxy_pss_kib_per_conn")
        m["slab_kib_per_conn"] = mem.get("slab_kib_per_conn")
        m["tcp_mem_kib_per_conn"] = mem.get("tcp_mem_kib_per_conn")
        m["mem_available_drop_kib_per_conn"] = mem.get("mem_available_drop_kib_per_conn")
        m["connect_p99_us"] = res["latency_us"]["p99"]
    return {k: v for k, v in m.items() if v is not None}


def aggregate(records):
    """{(contender, workload): {"metrics": {name: {median,min,max,n}}, "errors": [...]}}"""
    groups = {}
    for rec in records:
        if rec["workload"] in ("probe", "skipped"):
            continue
        g = groups.setdefault((rec["contender"], rec["workload"]), {"values": {}, "errors": []})
        if not rec["result"].get("ok") or rec.get("backend_error"):
            why = [rec["result"].get("error"), rec.get("backend_error"), rec.get("gateway_log")]
            g["errors"].append("rep %d: %s" % (rec["rep"], "; ".join(w for w in why if w)))
            continue
        for k, v in metrics(rec).items():
            g["values"].setdefault(k, []).append(v)
    out = {}
    for key, g in groups.items():
        out[key] = {
            "metrics": {k: {"median": statistics.median(v), "min": min(v), "max": max(v),
                            "n": len(v)} for k, v in g["values"].items()},
            "errors": g["errors"],
        }
    return out


# Summary columns: (header, workload, metric, scale, digits, higher_is_better)
SUMMARY = [
    ("bulk 1 flow Gbit/s", "bulk-1", "gbit_s", 1, 1, True),
    ("bulk 16 flows Gbit/s", "bulk-16", "gbit_s", 1, 1, True),
    ("CPU-s/GiB (16 flows)", "bulk-16", "cpu_s_per_gib", 1, 2, False),
    ("rr k trans/s", "rr", "trans_per_s", 1e-3, 1, True),
    ("rr p99 µs", "rr", "lat_p99_us", 1, 0, False),
    ("crr conn/s", "crr", "conn_per_s", 1, 0, True),
    ("crr p99 ms", "crr", "lat_p99_us", 1e-3, 2, False),
    ("CPU-s/1k conns (crr)", "crr", "cpu_s_per_1k_conns", 1, 3, False),
    ("gateway CPU-s/1k conns", "crr", "proxy_cpu_s_per_1k_conns", 1, 3, False),
    ("gateway syscalls/conn", "crr", "syscalls_per_conn", 1, 1, False),
    ("TLS handshakes/s", "tls", "hs_per_s", 1, 0, True),
    ("TLS p99 ms", "tls", "lat_p99_us", 1e-3, 1, False),
    ("idle: gateway KiB/conn", "idle", "proxy_kib_per_conn", 1, 1, False),
    ("idle: slab KiB/conn", "idle", "slab_kib_per_conn", 1, 1, False),
]

DETAIL_NAMES = {
    "gbit_s": "Gbit/s", "trans_per_s": "transactions/s", "conn_per_s": "connections/s",
    "hs_per_s": "handshakes/s", "lat_p50_us": "p50 µs", "lat_p99_us": "p99 µs",
    "lat_p999_us": "p99.9 µs", "lat_max_us": "max µs", "syscalls_per_conn": "gateway syscalls/conn",
    "setup_s": "seconds to open and check all", "proxy_kib_per_conn": "gateway PSS KiB/conn",
    "slab_kib_per_conn": "kernel slab KiB/conn", "tcp_mem_kib_per_conn": "TCP memory KiB/conn",
    "mem_available_drop_kib_per_conn": "MemAvailable drop KiB/conn",
    "connect_p99_us": "first exchange p99 µs",
}
for _unit, _name in (("gib", "GiB"), ("1k_trans", "1000 transactions"), ("1k_conns", "1000 conns"),
                     ("1k_hs", "1000 handshakes")):
    DETAIL_NAMES["cpu_s_per_" + _unit] = "CPU-s/%s, whole stack" % _name
    DETAIL_NAMES["proxy_cpu_s_per_" + _unit] = "CPU-s/%s, gateway" % _name
    DETAIL_NAMES["kthread_cpu_s_per_" + _unit] = "CPU-s/%s, kernel workers" % _name
    DETAIL_NAMES["machine_cpu_s_per_" + _unit] = "CPU-s/%s, machine-wide" % _name

WORKLOAD_TITLES = {
    "bulk-1": "bulk, 1 connection, download",
    "bulk-16": "bulk, 16 connections, both directions",
    "rr": "rr, 16 persistent connections, 64-byte request and response",
    "crr": "crr, 32 concurrent connect-request-response-close loops, 64 bytes each way",
    "tls": "tls, 16 concurrent full TLS handshakes + one HTTPS request each (NGINX backend)",
    "idle": "idle, connections opened, checked once and held",
}


def fmt(v, scale=1, digits=1):
    if v is None:
        return "–"
    return "{:,.{d}f}".format(v * scale, d=digits)


def contenders_in(records):
    seen = {r["contender"] for r in records}
    return [c for c in CONTENDER_ORDER if c in seen] + sorted(seen - set(CONTENDER_ORDER))


def skip_reasons(records):
    out = {}
    for r in records:
        if r["workload"] == "skipped":
            out.setdefault(r["contender"], r["result"].get("error", "skipped"))
    return out


def cell(agg, c, w, m):
    g = agg.get((c, w))
    if not g:
        return None, None
    if g["errors"] and not g["metrics"]:
        return None, "FAIL"
    s = g["metrics"].get(m)
    return (s["median"] if s else None), ("FAIL" if g["errors"] else None)


def summary_table(agg, contenders, skipped):
    lines = ["| contender | " + " | ".join(col[0] for col in SUMMARY) + " |",
             "|---|" + "---:|" * len(SUMMARY)]
    leaders = {}
    for col in SUMMARY:
        best = None
        for c in contenders:
            if c == "direct":
                continue
            v, flag = cell(agg, c, col[1], col[2])
            if v is None or flag:
                continue
            if best is None or (v > best[1] if col[5] else v < best[1]):
                best = (c, v)
        leaders[col[0]] = best
    for c in contenders:
        if c in skipped and not any(k[0] == c for k in agg):
            lines.append("| %s | %s |" % (c, " | ".join(["skipped"] * len(SUMMARY))))
            continue
        cells = []
        for head, w, m, scale, digits, _ in SUMMARY:
            v, flag = cell(agg, c, w, m)
            if flag == "FAIL" and v is None:
                cells.append("**FAIL**")
                continue
            d, _ = cell(agg, "direct", w, m)
            if c == "direct" and m.startswith("proxy_"):
                v = None  # no gateway process on the direct path
            text = fmt(v, scale, digits)
            if v is not None and d and c != "direct":
                text += " (%.2f×)" % (v / d)
            if leaders.get(head) and leaders[head][0] == c:
                text = "**" + text + "**"
            if flag == "FAIL":
                text += " FAIL"
            cells.append(text)
        lines.append("| %s | %s |" % (c, " | ".join(cells)))
    lead_lines = ["", "Leader of each column among the gateways (direct is the reference, not a gateway):", ""]
    for head, *_ in SUMMARY:
        b = leaders.get(head)
        lead_lines.append("- %s: %s" % (head, b[0] if b else "–"))
    return lines + lead_lines


def detail_tables(agg, contenders):
    out = []
    for w, title in WORKLOAD_TITLES.items():
        names = []
        for c in contenders:
            for m in (agg.get((c, w)) or {}).get("metrics", {}):
                if m not in names:
                    names.append(m)
        if not names:
            continue
        out += ["", "### " + title, "",
                "| contender | " + " | ".join(DETAIL_NAMES.get(n, n) for n in names) + " |",
                "|---|" + "---:|" * len(names)]
        for c in contenders:
            g = agg.get((c, w))
            if not g:
                continue
            cells = []
            for n in names:
                s = g["metrics"].get(n)
                if not s:
                    cells.append("–")
                    continue
                digits = 3 if s["median"] < 10 else 1 if s["median"] < 1000 else 0
                cells.append("%s [%s–%s]" % (fmt(s["median"], 1, digits), fmt(s["min"], 1, digits),
                                             fmt(s["max"], 1, digits)))
            lines = "| %s | %s |" % (c, " | ".join(cells))
            out.append(lines)
            for e in g["errors"]:
                out.append("| %s | **FAIL** %s |%s" % (c, e.replace("|", "/"), " |" * (len(names) - 1)))
    return out


def probe_lines(records):
    out = ["", "### Correctness probes", "",
           "| contender | curl through it | generated ClientHello answered by NGINX |", "|---|---|---|"]
    seen = set()
    for r in records:
        if r["workload"] != "probe" or r["contender"] in seen:
            continue
        seen.add(r["contender"])
        p = r["result"].get("probe") or {}
        ans = ("ServerHello %s %s" % (p.get("version"), p.get("cipher"))) if p.get("server_hello") else (
            "no: " + str(p.get("error", r["result"].get("error"))))
        out.append("| %s | %s | %s |" % (r["contender"], "ok" if r.get("curl_ok") else "FAIL", ans))
    return out


# ---- charts --------------------------------------------------------------------------------

def gnuplot(out_dir, name, script, data):
    dat = os.path.join(out_dir, name + ".dat")
    with open(dat, "w") as f:
        f.write(data)
    full = ("set terminal pngcairo size 900,480 noenhanced font 'sans,10'\n"
            "set output '%s'\nset style fill solid 0.8 border -1\nset grid ytics\n"
            "set key top right\nset xtics rotate by -20\n" % os.path.join(out_dir, name + ".png"))
    full += script.replace("DATA", "'%s'" % dat)
    r = subprocess.run(["gnuplot"], input=full.encode(), capture_output=True)
    os.unlink(dat)
    if r.returncode != 0:
        # A chart is an extra: a subset of workloads can leave gnuplot nothing to draw
        # (a log scale with every value undefined); the tables still stand.
        print("report: no %s chart: %s" % (name, r.stderr.decode(errors="replace").strip()[-200:]),
              file=sys.stderr)
        return False
    return True


def stat_cols(agg, c, w, m, scale=1.0):
    g = agg.get((c, w))
    s = g["metrics"].get(m) if g else None
    if not s:
        return "NaN NaN NaN"  # no bar (gnuplot: undefined), also on log scales
    return "%g %g %g" % (s["median"] * scale, s["min"] * scale, s["max"] * scale)


def charts(agg, contenders, out_dir):
    if not shutil.which("gnuplot"):
        print("report: gnuplot not found, no charts (scripts/install-deps.sh --bench)", file=sys.stderr)
        return []
    made = []
    bars = "set style data histogram\nset style histogram errorbars gap 2 lw 1\n"

    def clustered(name, title, ylabel, series, log=False):
        if not any(agg.get((c, w), {}).get("metrics", {}).get(m) for c in contenders
                   for _, w, m, _ in series):
            return  # none of these workloads ran
        data = "".join('"%s" %s\n' % (c, " ".join(stat_cols(agg, c, w, m, sc) for _, w, m, sc in series))
                       for c in contenders)
        plot = ", ".join("DATA using %d:%d:%d%s title '%s'" % (2 + 3 * i, 3 + 3 * i, 4 + 3 * i,
                                                               ":xtic(1)" if i == 0 else "", t)
                         for i, (t, *_) in enumerate(series))
        if gnuplot(out_dir, name, "set title '%s'\nset ylabel '%s'\n%s%splot %s\n" % (
                title, ylabel, bars, "set logscale y\n" if log else "set yrange [0:*]\n", plot), data):
            made.append(name + ".png")

    clustered("throughput", "Bulk throughput (median, bars: min-max)", "Gbit/s",
              [("1 connection, down", "bulk-1", "gbit_s", 1), ("16 connections, both ways", "bulk-16", "gbit_s", 1)])
    def vs_direct(w, m):
        """Scale that turns a figure into its ratio to direct's median (1 without direct)."""
        s = (agg.get(("direct", w)) or {}).get("metrics", {}).get(m)
        return 1.0 / s["median"] if s and s["median"] else 1.0

    rate_series = [("rr transactions/s", "rr", "trans_per_s"), ("crr connections/s", "crr", "conn_per_s"),
                   ("TLS handshakes/s", "tls", "hs_per_s")]
    clustered("rates", "Request rates relative to direct (median, bars: min-max)", "ratio to direct",
              [(t, w, m, vs_direct(w, m)) for t, w, m in rate_series])
    clustered("latency", "p99 latency (median of runs, bars: min-max; log scale)", "microseconds",
              [("rr", "rr", "lat_p99_us", 1), ("crr", "crr", "lat_p99_us", 1), ("TLS", "tls", "lat_p99_us", 1)],
              log=True)
    clustered("memory", "Memory per idle connection (median, bars: min-max)", "KiB per connection",
              [("gateway processes (PSS)", "idle", "proxy_kib_per_conn", 1),
               ("kernel slab, machine-wide", "idle", "slab_kib_per_conn", 1)])
    clustered("cpu", "CPU cost of the whole stack (median, bars: min-max)", "CPU-seconds",
              [("per GiB, 16 flows", "bulk-16", "cpu_s_per_gib", 1),
               ("per 1000 connections, crr", "crr", "cpu_s_per_1k_conns", 1)])
    return made


def harness_check(agg):
    """The load generator must not be the bottleneck: its direct bulk-1 figure
    beside iperf3's between the same namespaces, in the same run."""
    ours = agg.get(("direct", "bulk-1"), {}).get("metrics", {}).get("gbit_s")
    ref = agg.get(("direct", "iperf3"), {}).get("metrics", {}).get("gbit_s")
    if not ours or not ref:
        return []
    return ["", "Harness check: direct bulk-1 with sockgate-bench %.1f Gbit/s, iperf3 between "
            "the same namespaces %.1f Gbit/s (%.2f×, medians of %d and %d runs)." %
            (ours["median"], ref["median"], ours["median"] / ref["median"], ours["n"], ref["n"])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--machine")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(a.raw) as f:
        records = [json.loads(line) for line in f if line.strip()]
    # crr's shape is a command-line choice (--crr-conns, --crr-size): title it as run.
    for r in records:
        res = r.get("result") or {}
        if r.get("workload") == "crr" and res.get("connections"):
            WORKLOAD_TITLES["crr"] = ("crr, %d concurrent connect-request-response-close loops, "
                                      "%d-byte request, %d-byte response" %
                                      (res["connections"], res.get("req_bytes", 0),
                                       res.get("resp_bytes", 0)))
            break
    agg = aggregate(records)
    contenders = contenders_in(records)
    skipped = skip_reasons(records)
    made = charts(agg, contenders, a.out)
    machine = open(a.machine).read().strip().splitlines() if a.machine else []

    md = ["# sockgate-bench results", ""] + ["- " + l for l in machine] + [
        "", "Cells: median of the repeats (ratio to direct). Bold: the best gateway in the column.", ""]
    md += summary_table(agg, contenders, skipped)
    md += harness_check(agg)
    if skipped:
        md += ["", "Skipped contenders:", ""] + ["- %s: %s" % kv for kv in skipped.items()]
    md += ["", "## Detail (median [min–max] over the repeats)"] + detail_tables(agg, contenders)
    md += probe_lines(records)
    if made:
        md += ["", "## Charts", ""] + ["![%s](%s)" % (m[:-4], m) for m in made]
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"machine": machine, "records": records,
                   "aggregates": [{"contender": c, "workload": w, **v} for (c, w), v in sorted(agg.items())]},
                  f, indent=1)


if __name__ == "__main__":
    main()
