#!/usr/bin/env bash
# Runs the test suites and prints one closing line "tests: N passed, N failed, N skipped".
#   tests/run.sh            unit + bpf + e2e
#   tests/run.sh unit|bpf|e2e
# Unit tests need no root; bpf and e2e tests need root and skip visibly without it.
set -uo pipefail
cd "$(dirname "$0")/.."

B=build
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit bpf e2e)
passed=0 failed=0 skipped=0
failures=()

# Criterion prints "Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C".
run_criterion() {
	local name=$1 bin=$2 out
	shift 2
	if [ ! -x "$bin" ]; then
		echo "== $name: $bin missing (build it first)"
		failed=$((failed + 1)); failures+=("$name: not built")
		return
	fi
	echo "== $name: $bin"
	out=$(mktemp)
	"$bin" "$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]}
	local line p f c s
	line=$(grep -a 'Synthesis:' "$out" | tail -n1)
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
	s=$(sed -n 's/.*Skipped: \([0-9]*\).*/\1/p' <<<"$line")
	rm -f "$out"
	if [ -z "$p" ]; then
		failed=$((failed + 1)); failures+=("$name: no Criterion summary (rc=$rc)")
		return
	fi
	passed=$((passed + p)); failed=$((failed + f + c)); skipped=$((skipped + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ $((f + c)) -eq 0 ]; then
		failed=$((failed + 1)); failures+=("$name: exit $rc")
	fi
	[ $((f + c)) -gt 0 ] && failures+=("$name: $f failing, $c crashing")
}

run_scripts() {
	local dir=$1 t rc log why
	for t in "$dir"/test_*.sh; do
		[ -e "$t" ] || continue
		echo "== $t"
		# The output is kept so that a failure's reason is repeated in the summary:
		# CI shows only the end of a long run.
		log=$(mktemp)
		timeout --kill-after=10 600 bash "$t" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		case $rc in
		0) passed=$((passed + 1)); echo "-- PASS $t" ;;
		77) skipped=$((skipped + 1)); echo "-- SKIP $t" ;;
		*)
			failed=$((failed + 1))
			why=$(grep -a -E '^(FAIL|not ok)' "$log" | head -n 3 | cut -c1-400 | tr '\n' ' ')
			failures+=("$t: exit $rc${why:+: $why}")
			echo "-- FAIL $t (exit $rc)" ;;
		esac
		rm -f "$log"
	done
}

for s in "${suites[@]}"; do
	case $s in
	unit) run_criterion unit "$B/test/unit-tests" ;;
	bpf)
		if [ "$(id -u)" -ne 0 ]; then
			echo "== bpf: skipped (needs root)"; skipped=$((skipped + 1))
		else
			run_criterion bpf "$B/test/bpf-tests"
		fi ;;
	e2e)
		if [ "$(id -u)" -ne 0 ]; then
			echo "== e2e: skipped (needs root)"; skipped=$((skipped + 1))
		else
			run_scripts tests/e2e
		fi ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done

echo
for f in "${failures[@]+"${failures[@]}"}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
