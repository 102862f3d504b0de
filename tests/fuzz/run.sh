#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS (default 60), seeded from
# tests/data, and prints one summary line per target:
#   fuzz_clienthello: 1234567 runs in 60 s, 0 crashes, corpus 321 inputs
# A crash leaves its input in build/fuzz/artifacts/ and fails the run.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
status=0
mkdir -p build/fuzz/artifacts

seed_dir() {
	case $1 in
	fuzz_clienthello) echo tests/data/clienthellos ;;
	fuzz_config) echo tests/data/configs ;;
	*) echo tests/data ;;
	esac
}

for bin in "$@"; do
	name=$(basename "$bin")
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	seeds=$(seed_dir "$name")
	find "$seeds" -type f \( -name '*.bin' -o -name '*.yaml' \) -exec cp -n {} "$corpus/" \;
	log=build/fuzz/$name.log
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	crashes=$(ls build/fuzz/artifacts/ 2>/dev/null | grep -c "^$name-" || true)
	inputs=$(ls "$corpus" | wc -l)
	echo "$name: ${runs:-?} runs in $((end - start)) s, $crashes crashes, corpus $inputs inputs (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		status=1
		tail -n 40 "$log"
	fi
done
exit $status
