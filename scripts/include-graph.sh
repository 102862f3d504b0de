#!/usr/bin/env bash
# The include graph of the agent (user/agent/), by module and by folder.
#   scripts/include-graph.sh         report import cycles; exit 1 when there is one
#   scripts/include-graph.sh --dot   print the module graph in DOT (folders as clusters)
#
# A module is a .c and its .h of the same stem (a lone .c or .h is a module of
# its own). Module A depends on module B when A.c or A.h has `#include "B.h"`.
# Headers outside user/agent/ (user/common, user/core, include/, build/) are
# not modules here and are ignored. A folder is a directory under user/agent/
# ("." for user/agent/ itself); folder F depends on folder G when a module of F
# depends on a module of G. A cycle is a strongly connected component of more
# than one module (or folder); each is printed with one closed path through it
# and, for modules, every include edge inside it.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=report
case "${1:-}" in
"") ;;
--dot) mode=dot ;;
-h | --help)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [--dot]" >&2
	exit 2
	;;
esac

exec python3 - "$mode" <<'EOF'
import os, re, signal, sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)

mode = sys.argv[1]
root = "user/agent"
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

files = []  # (path relative to root)
for d, _, names in os.walk(root):
    for n in names:
        if n.endswith((".c", ".h")):
            files.append(os.path.relpath(os.path.join(d, n), root))
files.sort()

module_of_file = {}  # rel path -> module name
folder_of = {}  # module -> folder
header_module = {}  # bare header name -> module
for f in files:
    folder = os.path.dirname(f) or "."
    stem = os.path.splitext(os.path.basename(f))[0]
    m = stem
    module_of_file[f] = m
    if m in folder_of and folder_of[m] != folder:
        sys.exit("include-graph: module %s in both %s and %s" % (m, folder_of[m], folder))
    folder_of[m] = folder
    if f.endswith(".h"):
        header_module[os.path.basename(f)] = m

edges = {m: set() for m in folder_of}
why = {}  # (a, b) -> "file includes header"
for f in files:
    a = module_of_file[f]
    with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
        for line in fh:
            mt = inc.match(line)
            if not mt:
                continue
            b = header_module.get(os.path.basename(mt.group(1)))
            if b is None or b == a:
                continue
            edges[a].add(b)
            why.setdefault((a, b), "%s includes %s" % (f, mt.group(1)))

fedges = {fo: set() for fo in set(folder_of.values())}
fwhy = {}
for a in sorted(edges):
    for b in sorted(edges[a]):
        fa, fb = folder_of[a], folder_of[b]
        if fa != fb:
            fedges[fa].add(fb)
            fwhy.setdefault((fa, fb), "%s -> %s" % (a, b))


def sccs(g):
    """Tarjan, iterative; components of more than one node, sorted."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out, key=lambda c: (-len(c), c))


def one_cycle(g, comp):
    """A closed path through comp's first node (BFS back to it inside comp)."""
    inside = set(comp)
    s = comp[0]
    prev = {}
    q = [s]
    seen = {s}
    while q:
        v = q.pop(0)
        for w in sorted(g[v]):
            if w not in inside:
                continue
            if w == s:
                path = [v]
                while path[-1] != s:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [s]
            if w not in seen:
                seen.add(w)
                prev[w] = v
                q.append(w)
    return [s]


if mode == "dot":
    print("digraph agent_includes {")
    print("\trankdir=LR;")
    print("\tnode [shape=box, fontsize=10];")
    bad = {m for c in sccs(edges) for m in c}
    for i, fo in enumerate(sorted(fedges)):
        print('\tsubgraph "cluster_%d" {' % i)
        print('\t\tlabel="%s";' % ("user/agent" if fo == "." else "user/agent/" + fo))
        for m in sorted(x for x in folder_of if folder_of[x] == fo):
            attr = ", color=red" if m in bad else ""
            print('\t\t"%s" [label="%s"%s];' % (m, m, attr))
        print("\t}")
    for a in sorted(edges):
        for b in sorted(edges[a]):
            attr = " [color=red]" if a in bad and b in bad else ""
            print('\t"%s" -> "%s"%s;' % (a, b, attr))
    print("}")
    sys.exit(0)

mc = sccs(edges)
fc = sccs(fedges)
n_edges = sum(len(v) for v in edges.values())
print("agent modules: %d, include edges: %d, folders: %d" % (len(edges), n_edges, len(fedges)))
if not mc:
    print("module cycles: none")
for c in mc:
    print("module cycle (%d modules): %s" % (len(c), " ".join(c)))
    path = one_cycle(edges, c)
    print("  one closed path:")
    for a, b in zip(path, path[1:]):
        print("    %s -> %s   (%s)" % (a, b, why[(a, b)]))
    inside = set(c)
    print("  every edge inside it:")
    for a in c:
        for b in sorted(edges[a] & inside):
            print("    %s -> %s   (%s)" % (a, b, why[(a, b)]))
if not fc:
    print("folder cycles: none")
for c in fc:
    print("folder cycle (%d folders): %s" % (len(c), " ".join(c)))
    path = one_cycle(fedges, c)
    print("  one closed path:")
    for a, b in zip(path, path[1:]):
        print("    %s -> %s   (e.g. %s)" % (a, b, fwhy[(a, b)]))
sys.exit(1 if mc or fc else 0)
EOF
