#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The short soak (make soak-quick, tests/soak/README.md) as part of the e2e suite, after a
# self-test of the harness:
# 1. a tiny soak where 3 streams go through a relay that flips one upload byte each
#    (SOAK_INJECT=3) must fail, with failures=3 and each flipped byte found at its offset;
# 2. the quick soak itself: 5000 checked streams through both dataplanes under packet
#    loss, memory and CPU pressure, at most about 4 minutes. Its exit status (0 pass,
#    1 fail, 77 skip) is this test's.
# soak.sh brings its own namespaces and cleanup.
set -euo pipefail
SOAK=$(cd "$(dirname "$0")/../soak" && pwd)/soak.sh

kept=$(mktemp -d "${TMPDIR:-/tmp}/soak-selftest.XXXXXX")
trap 'rm -rf "$kept"' EXIT
rc=0
out=$(SOAK_STREAMS=200 SOAK_SECONDS=90 SOAK_INJECT=3 SOAK_PERTURBATIONS=none SOAK_HOG_PERCENT=0 \
	SOAK_FAILURES_DIR=$kept bash "$SOAK" --quick 2>&1) || rc=$?
[ "$rc" -eq 77 ] && exit 77
summary=$(grep '^soak: streams=' <<<"$out" | tail -n 1 || true)
# 5000 - 228 (the hello) - 24 (the header): the flipped byte's offset in the pattern.
flips=$(grep -c 'result=FAIL:up-mismatch:offset=4748:' <<<"$out" || true)
if [ "$rc" -ne 1 ] || [[ "$summary" != *" failures=3 "* ]] || [ "$flips" -lt 3 ] ||
	[ -z "$(find "$kept" -name report.txt)" ]; then
	printf 'FAIL: test_soak_quick: the soak did not report 3 injected corruptions' >&2
	printf ' (exit %s, %s flipped bytes found): %s\n' "$rc" "$flips" "${summary:-no summary}" >&2
	tail -n 60 <<<"$out" | sed 's/^/    | /' >&2
	exit 1
fi
echo "ok - self-test: 3 streams with one flipped byte each: exit 1, $summary"

exec bash "$SOAK" --quick
