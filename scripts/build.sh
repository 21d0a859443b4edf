#!/usr/bin/env bash
# Configures and builds fleetcap into build/release, or with --sanitize into
# build/asan (ASan + UBSan, Debug), or with --tsan into build/tsan
# (ThreadSanitizer, optimised with debug info), or with --fuzz into build/fuzz
# (the libFuzzer harnesses, clang, ASan + UBSan). Prints the build folder on
# stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

dir="$root/build/release"
args=(-DCMAKE_BUILD_TYPE=Release)
case ${1:-} in
--sanitize)
	dir="$root/build/asan"
	args=(-DCMAKE_BUILD_TYPE=Debug -DFLEETCAP_SANITIZE=address)
	;;
--tsan)
	dir="$root/build/tsan"
	args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLEETCAP_SANITIZE=thread)
	;;
--fuzz)
	# libFuzzer harnesses (tests/fuzz/) with ASan + UBSan, built by clang.
	dir="$root/build/fuzz"
	args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-16 -DFLEETCAP_FUZZ=ON
		-DFLEETCAP_TESTS=OFF)
	;;
esac
cmake -S "$root" -B "$dir" "${args[@]}" >&2
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
