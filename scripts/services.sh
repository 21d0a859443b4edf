#!/usr/bin/env bash
# Starts and stops the real services fleetcap's tests run against:
#   - Apache Kafka 3.9 (KRaft, one combined broker+controller node), jars from
#     Maven Central through scripts/kafka/pom.xml;
#   - Azurite's blob service, from the npm registry;
# and fetches playwright-core (npm), which drives Debian's chromium in the
# web page's test (FLEETCAP_PLAYWRIGHT, FLEETCAP_CHROMIUM).
# Both listen on free loopback ports. Downloads are cached in .cache/ (ignored
# by git) so a second start needs no network.
#
#   eval "$(scripts/services.sh start)"   # prints export lines
#   scripts/services.sh stop              # leaves nothing running
#   scripts/services.sh status
#
# Works from any directory; start on a running set prints the same exports,
# stop on a stopped set does nothing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache"
kafka_lib="$cache/kafka-3.9.1/lib"
azurite_dir="$cache/azurite-3.37.0"
run="$cache/services"
azurite_version=3.37.0
playwright_version=1.65.1
playwright_dir="$cache/playwright-core-$playwright_version"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

fetch_kafka() {
	[[ -f $kafka_lib/.complete ]] && return 0
	log "fetching Kafka jars from Maven Central into $kafka_lib"
	rm -rf "$kafka_lib"
	mkdir -p "$kafka_lib"
	(cd "$root/scripts/kafka" && mvn -q -B dependency:copy-dependencies \
		-DoutputDirectory="$kafka_lib" >&2) || die "mvn could not fetch the Kafka jars"
	touch "$kafka_lib/.complete"
}

fetch_azurite() {
	[[ -x $azurite_dir/node_modules/.bin/azurite-blob ]] && return 0
	log "installing azurite@$azurite_version into $azurite_dir"
	mkdir -p "$azurite_dir"
	npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error \
		"azurite@$azurite_version" >&2 || die "npm could not install azurite@$azurite_version"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_until() {
	local limit=$1 what=$2
	shift 2
	local deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.3
	done
	log "$what is ready"
}

start_kafka() {
	if alive "$run/kafka.pid"; then
		return 0
	fi
	fetch_kafka
	local port cport dir
	port=$(free_port)
	cport=$(free_port)
	while [[ $cport == "$port" ]]; do cport=$(free_port); done
	dir="$run/kafka"
	rm -rf "$dir"
	mkdir -p "$dir/data"
	cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# A killed scheduler's open transaction is aborted once transaction.timeout.ms
# passes; check for such transactions every second instead of every 10 s, so
# that failover tests take seconds, not tens of seconds.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
PROPS
	cat >"$dir/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
	local cp="$kafka_lib/*" uuid
	uuid=$(java -cp "$cp" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool random-uuid)
	java -cp "$cp" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool \
		format -t "$uuid" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
		die "kafka storage format failed: $(cat "$dir/format.log")"
	setsid nohup java -Xmx512m -Xms256m -XX:+UseG1GC \
		-Dlog4j.configuration="file:$dir/log4j.properties" \
		-cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 </dev/null &
	echo $! >"$run/kafka.pid"
	echo "127.0.0.1:$port" >"$run/kafka.brokers"
	if ! wait_until 120 "kafka on 127.0.0.1:$port" kcat -L -m 2 -b "127.0.0.1:$port"; then
		tail -n 30 "$dir/kafka.log" >&2
		stop_one kafka
		die "kafka did not answer a metadata request within 120 s"
	fi
}

start_azurite() {
	if alive "$run/azurite.pid"; then
		return 0
	fi
	fetch_azurite
	local dir="$run/azurite"
	rm -rf "$dir"
	mkdir -p "$dir/data"
	setsid nohup "$azurite_dir/node_modules/.bin/azurite-blob" --location "$dir/data" \
		--blobHost 127.0.0.1 --blobPort 0 --disableTelemetry \
		>"$dir/azurite.log" 2>&1 </dev/null &
	echo $! >"$run/azurite.pid"
	local port=""
	local deadline=$((SECONDS + 60))
	while [[ -z $port ]]; do
		port=$(sed -n 's#.*listens on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$dir/azurite.log" | head -n 1)
		if [[ -z $port ]]; then
			if ((SECONDS >= deadline)) || ! alive "$run/azurite.pid"; then
				cat "$dir/azurite.log" >&2
				stop_one azurite
				die "azurite did not start"
			fi
			sleep 0.2
		fi
	done
	echo "http://127.0.0.1:$port/devstoreaccount1" >"$run/azurite.url"
	# Any HTTP answer (400 for a bare GET) means the blob service is up.
	wait_until 30 "azurite on 127.0.0.1:$port" curl -s -o /dev/null "http://127.0.0.1:$port/" ||
		die "azurite did not answer on port $port"
}

stop_one() {
	local name=$1 pidfile="$run/$1.pid"
	[[ -f $pidfile ]] || return 0
	local pid
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		# setsid made the service a process group leader: end the whole group.
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + 30))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		kill -KILL -- "-$pid" 2>/dev/null || true
		log "$name stopped"
	fi
	rm -f "$pidfile"
	rm -rf "${run:?}/$name"
}

fetch_playwright() {
	[[ -f $playwright_dir/node_modules/playwright-core/package.json ]] && return 0
	log "installing playwright-core@$playwright_version into $playwright_dir"
	mkdir -p "$playwright_dir"
	npm install --prefix "$playwright_dir" --no-audit --no-fund --loglevel=error \
		"playwright-core@$playwright_version" >&2 ||
		die "npm could not install playwright-core@$playwright_version"
}

print_exports() {
	echo "export FLEETCAP_BROKERS=$(cat "$run/kafka.brokers")"
	echo "export FLEETCAP_AZURITE=$(cat "$run/azurite.url")"
	# The broker's process group, for tests that pause Kafka (SIGSTOP).
	echo "export FLEETCAP_KAFKA_PID=$(cat "$run/kafka.pid")"
	# Tests that stop and restart a storage endpoint run their own instance.
	echo "export FLEETCAP_AZURITE_BIN=$azurite_dir/node_modules/.bin/azurite-blob"
	echo "export FLEETCAP_PLAYWRIGHT=$playwright_dir/node_modules/playwright-core"
	echo "export FLEETCAP_CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
}

mkdir -p "$run"
case "${1:-}" in
start)
	fetch_playwright
	start_kafka
	start_azurite
	print_exports
	;;
stop)
	stop_one azurite
	stop_one kafka
	;;
status)
	for s in kafka azurite; do
		if alive "$run/$s.pid"; then echo "$s: running"; else echo "$s: stopped"; fi
	done
	if alive "$run/kafka.pid" && alive "$run/azurite.pid"; then print_exports; fi
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
