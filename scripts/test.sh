#!/usr/bin/env bash
# The whole test suite from a fresh machine: installs the dependencies, runs
# the unit tests under ASan + UBSan, builds the release, starts Kafka and
# Azurite (scripts/services.sh), runs every test, and stops the services.
# Exits with ctest's status; ctest's summary is the last thing printed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/deps.sh

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
asan=$(bash scripts/build.sh --sanitize)
(cd "$asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest -L unit --output-on-failure)

echo "== release build"
build=$(bash scripts/build.sh)

echo "== services"
services_log="$root/build/services.log"
stop_services() { bash "$root/scripts/services.sh" stop >>"$services_log" 2>&1 || true; }
trap stop_services EXIT
eval "$(bash scripts/services.sh start 2>>"$services_log")" || {
	cat "$services_log" >&2
	exit 1
}
echo "FLEETCAP_BROKERS=$FLEETCAP_BROKERS FLEETCAP_AZURITE=$FLEETCAP_AZURITE"

echo "== all tests"
cd "$build"
ctest --output-on-failure --timeout 600
