#!/usr/bin/env bash
# From a fresh machine (Debian 12, root): installs the dependencies, builds,
# and runs `fleetcap demo`: Kafka (librdkafka's mock cluster), the scheduler
# and a worker in one process, one manual and one alert-triggered capture of
# generated loopback traffic, and a summary of the pcap files (under a minute).
# Arguments are passed to the demo (fleetcap demo --help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bash "$root/scripts/deps.sh" >&2
build=$(bash "$root/scripts/build.sh")
exec "$build/cli/fleetcap" demo "$@"
