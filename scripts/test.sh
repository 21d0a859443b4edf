#!/usr/bin/env bash
# The whole test suite from a fresh machine: installs the dependencies, runs
# the unit tests under ASan + UBSan, replays the fuzz corpora (tests/fuzz),
# builds the release and a ThreadSanitizer build, starts Kafka 4.4.0 and
# Azurite (scripts/services.sh), runs the unit tests, test_worker, test_demo
# and test_wk_agent under ThreadSanitizer (any report fails the run), then
# every test on the release build; then the integration tests again on Kafka
# 3.9.1 secured (SASL_SSL with SCRAM-SHA-512 users and ACLs per role: every
# daemon, the CLI and the tests' own clients log in as their role), and the
# fault tests (label "cluster") on a three-node Kafka 4.4.0
# cluster; and stops the services.
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

echo "== fuzz corpora replayed under AddressSanitizer + UndefinedBehaviorSanitizer"
fuzz=$(bash scripts/build.sh --fuzz)
(cd "$fuzz" && ctest -L fuzz --output-on-failure)

echo "== release build"
build=$(bash scripts/build.sh)

echo "== ThreadSanitizer build"
tsan=$(bash scripts/build.sh --tsan)

echo "== services"
services_log="$root/build/services.log"
stop_services() { bash "$root/scripts/services.sh" stop >>"$services_log" 2>&1 || true; }
trap stop_services EXIT
# start_services [--kafka VERSION] [--cluster]: a fresh set, exported here.
start_services() {
	stop_services
	# The version of the previous start is exported: without this, a start
	# with no --kafka would reuse it instead of the default.
	unset FLEETCAP_KAFKA_VERSION
	eval "$(bash scripts/services.sh start "$@" 2>>"$services_log")" || {
		cat "$services_log" >&2
		exit 1
	}
	echo "Kafka $FLEETCAP_KAFKA_VERSION ($FLEETCAP_KAFKA_NODES node(s)) at $FLEETCAP_BROKERS" \
		"${FLEETCAP_KAFKA_SECURE:+(SASL_SSL, ACLs) }Azurite at $FLEETCAP_AZURITE"
}
start_services

echo "== unit tests, test_worker, test_demo and test_wk_agent under ThreadSanitizer"
reports="$root/build/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
chmod 1777 "$reports" # the worker under test runs as nobody
# log_path: every process (the tests, and the daemons and CLI they start)
# writes its reports to a file of its own, checked below.
export TSAN_OPTIONS="log_path=$reports/report suppressions=$root/tests/tsan.supp"
(cd "$tsan" && ctest --output-on-failure -L unit &&
	ctest --output-on-failure --timeout 900 -R '^(test_worker|test_demo|test_wk_agent)$')
unset TSAN_OPTIONS
if compgen -G "$reports/report*" >/dev/null; then
	echo "ThreadSanitizer reported:" >&2
	cat "$reports"/report* >&2
	exit 1
fi
echo "ThreadSanitizer: no report"

echo "== all tests"
(cd "$build" && ctest --output-on-failure --timeout 600)

echo "== integration tests on Kafka 3.9.1, secured"
start_services --kafka 3.9.1 --secure
(cd "$build" && ctest --output-on-failure --timeout 600 -L integration)

echo "== fault tests on a three-node Kafka 4.4.0 cluster"
start_services --cluster
(cd "$build" && ctest --output-on-failure -L cluster)
