#!/usr/bin/env bash
# From a fresh machine: installs the dependencies, builds, and runs fleetcap's
# main job. Until the embedded demo lands that is `fleetcap --help`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bash "$root/scripts/deps.sh" >&2
build=$(bash "$root/scripts/build.sh")
"$build/cli/fleetcap" --help
