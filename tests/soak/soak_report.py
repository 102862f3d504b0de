#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""soak_report.py: the verdict of a soak run (tests/soak/soak.sh), from sgflow's own reports.

  soak_report.py RUN --requested N --dataplanes LIST --seconds S [--seed X]
  soak_report.py --check-complete RUN     exit 0 once every client stream has its server line

Every stream has a unique seed; the client prints one `conn ... seed=S ... result=...
local=IP:PORT` line per stream, the backend one `conn peer=... seed=S ... result=...` line.
A stream passes only if both ends report result=ok. bytes_checked adds, per end, the bytes
that end verified and reported ok (the client the reply: down=, the server the upload: up=).
A client process that reported fewer streams than it was asked to run counts the missing
ones as failures. The closing line is
  soak: streams=N bytes_checked=B failures=F dataplanes=... promoted=P seconds=S
Exit 0 only if F == 0 and N >= 95% of the requested streams.
"""
import argparse
import collections
import glob
import os
import re
import sys

CLI_RE = re.compile(r"^conn (\d+) seed=(\d+) up=(\d+) down=(\d+) result=(\S+) ms=(\d+)(?: local=(\S+))?")
SRV_RE = re.compile(r"^conn peer=(\S+) seed=(\S+) up=(\S+) down=(\S+) result=(\S+)")
SUM_RE = re.compile(r"^client: (\d+) connections")


def read_lines(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def load_rounds(run):
    rounds = []
    for line in read_lines(os.path.join(run, "rounds.tsv")):
        f = line.split("\t")
        if len(f) == 5:
            rounds.append({"n": int(f[0]), "dp": f[1], "what": f[2],
                           "agent_log": os.path.join(run, f[3]), "dir": os.path.join(run, f[4])})
    return rounds


def load_servers(run):
    by_seed = collections.defaultdict(list)
    stray = []  # lines without a usable seed: a header that never arrived intact
    for path in sorted(glob.glob(os.path.join(run, "server-*.log"))):
        for line in read_lines(path):
            m = SRV_RE.match(line)
            if not m:
                continue
            if m.group(5) == "empty":
                continue
            if m.group(2).isdigit():
                by_seed[int(m.group(2))].append((os.path.basename(path), line, m))
            else:
                stray.append((os.path.basename(path), line))
    return by_seed, stray


def load_clients(rnd):
    """Per client process: (path, requested streams, args, stream lines, output)."""
    out = []
    for meta in sorted(glob.glob(os.path.join(rnd["dir"], "client-*.out.meta")),
                       key=lambda p: int(re.search(r"client-(\d+)", p).group(1))):
        path = meta[: -len(".meta")]
        ml = read_lines(meta)
        conns, args = (ml[0].split("\t", 1) + [""])[:2] if ml else ("0", "")
        lines = read_lines(path)
        streams = [(l, CLI_RE.match(l)) for l in lines if CLI_RE.match(l)]
        out.append((path, int(conns), args, streams, lines))
    return out


def access_lines(agent_log, local):
    """The agent's access lines for client IP:PORT, each followed by its other log lines
    about that connection (warnings, errors: "conn=N ...")."""
    if not local or local == "-":
        return []
    key = " client=%s " % local
    lines = read_lines(agent_log)
    out = []
    for l in lines:
        if l.startswith("access ") and key in l:
            out.append(l)
            m = re.search(r" conn=(\d+) ", l)
            if m:
                tag = " conn=%s " % m.group(1)
                out += ["  " + x for x in lines if tag in x and not x.startswith("access ")]
    return out


def stall_lines(rdir, local):
    """The client's socket in the round's stall snapshots (soak.sh snapshot), with the
    agent's end of it: the lines naming local IP:PORT and the ss -i line after each."""
    out = []
    if not local or local == "-":
        return out
    for snap in sorted(glob.glob(os.path.join(rdir, "stall-*.txt"))):
        lines = read_lines(snap)
        hits = []
        for i, l in enumerate(lines):
            if re.search(re.escape(local) + r"(\s|$)", l):
                hits.append(l)
                if i + 1 < len(lines) and lines[i + 1][:1] in ("\t", " "):
                    hits.append(lines[i + 1])
        out.append("  snapshot %s: %s" % (snap, "its sockets:" if hits else "not in it"))
        out += ["    " + h.strip() for h in hits]
    return out


MISMATCH_RE = re.compile(r"(up|down)-mismatch:offset=(\d+):want=\S+?:got=\S+?:got-is-offset=(\d+|none)")


def mismatch_notes(lines):
    """What sgflow's got-is-offset says: bytes skipped, repeated, or not from this stream."""
    out = []
    for l in lines:
        m = MISMATCH_RE.search(l)
        if not m:
            continue
        d, off, at = m.group(1), int(m.group(2)), m.group(3)
        if at == "none":
            out.append("  => %s: the bytes from offset %d are not this stream's (altered or foreign)" % (d, off))
        elif int(at) > off:
            out.append("  => %s: %d bytes skipped at offset %d (missing from the stream)" % (d, int(at) - off, off))
        else:
            out.append("  => %s: %d bytes repeated at offset %d (sent again)" % (d, off - int(at), off))
    return out


def counters(path):
    out = {}
    for l in read_lines(path):
        f = l.split()
        if len(f) == 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


def counter_delta(agent_log):
    """The BPF counters' change during the agent's life ("stats" at start and stop)."""
    base = agent_log[: -len(".log")]
    start, stop = counters(base + ".stats-start"), counters(base + ".stats")
    return {k: v - start.get(k, 0) for k, v in stop.items()}


# Counters that are 0 on a healthy dataplane: the report names them whenever they move.
SUSPECT = re.compile(r"failed|missing|lost|trimmed")


def check_complete(run):
    servers, _ = load_servers(run)
    for rnd in load_rounds(run):
        for _, _, _, streams, _ in load_clients(rnd):
            for _, m in streams:
                if m.group(5) == "ok" and int(m.group(2)) not in servers:
                    return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--check-complete", action="store_true")
    ap.add_argument("--requested", type=int, default=0)
    ap.add_argument("--dataplanes", default="")
    ap.add_argument("--min-promoted", type=int, default=0)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--seed", default="-")
    a = ap.parse_args()
    if a.check_complete:
        return check_complete(a.run)

    servers, stray = load_servers(a.run)
    rounds = load_rounds(a.run)
    seen_seeds = set()
    total_streams = total_bytes = total_fail = 0
    failures = []  # (round, text block)
    for rnd in rounds:
        r_streams = r_bytes = r_fail = 0
        for path, conns, args, streams, lines in load_clients(rnd):
            for line, m in streams:
                seed, up, down, res, local = int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5), m.group(7)
                seen_seeds.add(seed)
                r_streams += 1
                srv = servers.get(seed, [])
                if res == "ok":
                    r_bytes += down
                srv_ok = [s for s in srv if s[2].group(5) == "ok"]
                for s in srv_ok:
                    r_bytes += int(s[2].group(3))
                why = None
                if res != "ok":
                    why = "client " + res
                elif not srv:
                    why = "no server report"
                elif len(srv) > 1:
                    why = "%d server reports for one seed" % len(srv)
                elif not srv_ok:
                    why = "server " + srv[0][2].group(5)
                if why:
                    r_fail += 1
                    blk = ["stream seed=%d (%s; client %s: %s)" % (seed, why, os.path.basename(path), args),
                           "  client: " + line]
                    blk += ["  server (%s): %s" % (s[0], s[1]) for s in srv] or ["  server: no line"]
                    blk += mismatch_notes([line] + [s[1] for s in srv])
                    acc = access_lines(rnd["agent_log"], local)
                    blk += ["  agent: " + l for l in acc] or ["  agent: no access line with client=%s" % local]
                    blk += stall_lines(rnd["dir"], local)
                    failures.append((rnd, blk))
            missing = conns - len(streams)
            if missing > 0:
                r_fail += missing
                blk = ["%d streams of %s never reported (asked %d, got %d; %s)" %
                       (missing, os.path.basename(path), conns, len(streams), args)]
                blk += ["  output: " + l for l in lines if not CLI_RE.match(l)][-10:]
                failures.append((rnd, blk))
        print("round %d %s %s: streams=%d bytes_checked=%d failures=%d" %
              (rnd["n"], rnd["dp"], rnd["what"], r_streams, r_bytes, r_fail))
        total_streams += r_streams
        total_bytes += r_bytes
        total_fail += r_fail

    # Server reports no client stream explains: a FAIL there is a failure too.
    for seed, lst in sorted(servers.items()):
        if seed in seen_seeds:
            continue
        for name, line, m in lst:
            if m.group(5) != "ok":
                total_fail += 1
                failures.append((None, ["server report of no client stream (%s): %s" % (name, line)]))
    for name, line in stray:
        total_fail += 1
        failures.append((None, ["server report without a header (%s): %s" % (name, line)]))
    for line in read_lines(os.path.join(a.run, "agent-failures")):
        total_fail += 1
        failures.append((None, [line]))

    # What the agents saw: how their connections ended, per dataplane; and how many
    # pairs the copy promoted mid-stream (promoted_ms= in their access line).
    total_promoted = 0
    for log in sorted(glob.glob(os.path.join(a.run, "agent-*.log")),
                      key=lambda p: int(re.search(r"agent-(\d+)", p).group(1))):
        ends = collections.Counter()
        dps = collections.Counter()
        for l in read_lines(log):
            if l.startswith("access "):
                m = re.search(r" end=(\S+)", l)
                ends[m.group(1) if m else "?"] += 1
                m = re.search(r" dataplane=(\S+)", l)
                dps[m.group(1) if m else "?"] += 1
                if " promoted_ms=" in l:
                    total_promoted += 1
        delta = counter_delta(log)
        suspect = " ".join("%s=%d" % (k, v) for k, v in sorted(delta.items()) if v and SUSPECT.search(k))
        print("%s: access lines by end: %s; by dataplane: %s; bpf counters moved: %s" % (
            os.path.basename(log), " ".join("%s=%d" % kv for kv in sorted(ends.items())) or "none",
            " ".join("%s=%d" % kv for kv in sorted(dps.items())) or "none",
            suspect or "no failure counter" if delta else "no stats"))

    if failures:
        print("\nFAILURES (first 50):")
        shown_stats = set()
        for rnd, blk in failures[:50]:
            if rnd:
                print("round %d %s %s, agent log %s:" % (rnd["n"], rnd["dp"], rnd["what"], rnd["agent_log"]))
            for l in blk:
                print("  " + l)
            if rnd and rnd["agent_log"] not in shown_stats:
                shown_stats.add(rnd["agent_log"])
                delta = counter_delta(rnd["agent_log"])
                if delta:
                    print("  bpf counters during this agent's life (sockgate stats, stop - start):")
                    for k, v in delta.items():
                        print("    %s %d" % (k, v))
                for ext in (".metrics",):
                    p = rnd["agent_log"][: -len(".log")] + ext
                    body = [l for l in read_lines(p) if not l.startswith("#") and "_bucket{" not in l]
                    if body:
                        print("  %s:" % os.path.basename(p))
                        for l in body[:120]:
                            print("    " + l)
        if len(failures) > 50:
            print("  ... %d more" % (len(failures) - 50))
        print()
    short = total_streams < a.requested * 0.95
    if short:
        print("soak: only %d of %d requested streams ran (at least 95%% must)" % (total_streams, a.requested))
    few = total_promoted < a.min_promoted
    if few:
        print("soak: only %d pairs were promoted mid-stream (at least %d must)" %
              (total_promoted, a.min_promoted))
    print("soak: SOAK_SEED=%s reproduces this mix of streams" % a.seed)
    print("soak: streams=%d bytes_checked=%d failures=%d dataplanes=%s promoted=%d seconds=%d" %
          (total_streams, total_bytes, total_fail, a.dataplanes, total_promoted, a.seconds))
    return 0 if total_fail == 0 and not short and not few else 1


if __name__ == "__main__":
    sys.exit(main())
