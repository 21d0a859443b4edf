#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz for a given time each, one per
# core at a time, starting from the checked-in corpora.
#   bash bench/fuzz.sh [SECONDS] [HARNESS...]    (default 600 s, every harness)
# New inputs go to build/fuzz/work/HARNESS (not the checked-in corpus: add an
# input there by hand when it found something); a crash, a leak or a broken
# invariant leaves its input in build/fuzz/artifacts/ and fails the run.
# Each harness's summary (runs, coverage, corpus size) is printed at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-600}
shift || true
build=$(bash "$root/scripts/build.sh" --fuzz)
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
	for dir in "$root"/tests/fuzz/corpus/*/; do harnesses+=("$(basename "$dir")"); done
fi
mkdir -p "$build/work" "$build/artifacts" "$build/logs"
jobs=$(nproc)
failed=0
run_one() {
	local name=$1 work="$build/work/$1"
	mkdir -p "$work"
	set +e
	"$build/tests/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" \
		"$work" "$root/tests/fuzz/corpus/$name" >"$build/logs/$name.log" 2>&1
	echo $? >"$build/logs/$name.rc"
}
for name in "${harnesses[@]}"; do
	while (($(jobs -rp | wc -l) >= jobs)); do sleep 1; done
	echo "== $name: $seconds s" >&2
	rm -f "$build/logs/$name.rc"
	run_one "$name" &
done
wait
for name in "${harnesses[@]}"; do
	if [[ $(cat "$build/logs/$name.rc" 2>/dev/null) != 0 ]]; then
		echo "$name: FAILED, see $build/logs/$name.log" >&2
		failed=1
	fi
done
for name in "${harnesses[@]}"; do
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/logs/$name.log" |
		grep -o '[0-9]*$' || echo "?")
	cov=$(grep -o 'cov: [0-9]*' "$build/logs/$name.log" | tail -1 || true)
	echo "$name: $runs runs in $seconds s, $cov, corpus $(find "$build/work/$name" -type f | wc -l) new inputs"
done
exit "$failed"
