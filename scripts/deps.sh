#!/usr/bin/env bash
# Installs the Debian 12 packages fleetcap builds, tests and benchmarks with.
# Idempotent: a package already installed is left alone, and with nothing
# missing the script makes no network call at all.
set -euo pipefail

packages=(
	build-essential cmake pkg-config
	librdkafka-dev libpcap-dev libprotobuf-c-dev protobuf-c-compiler
	libcurl4-openssl-dev libssl-dev libcmocka-dev libjansson-dev libmicrohttpd-dev libgnutls28-dev
	kcat tcpdump tshark netsniff-ng iproute2 clang-format curl ca-certificates
	clang-16 libclang-rt-16-dev
	libcap2-bin chromium python3-venv
)
# Runtimes for the test services (Kafka needs a JDK and Maven, Azurite needs
# Node.js); the machine may already have them from elsewhere than Debian.
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || packages+=(maven)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#packages[@]} packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
