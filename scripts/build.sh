#!/usr/bin/env bash
# Configures and builds fleetcap into build/release (or build/asan with
# --sanitize: ASan + UBSan, Debug). Prints the build folder on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

dir="$root/build/release"
args=(-DCMAKE_BUILD_TYPE=Release)
if [[ ${1:-} == --sanitize ]]; then
	dir="$root/build/asan"
	args=(-DCMAKE_BUILD_TYPE=Debug -DFLEETCAP_SANITIZE=ON)
fi
cmake -S "$root" -B "$dir" "${args[@]}" >&2
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
