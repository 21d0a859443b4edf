#!/usr/bin/env bash
# Starts and stops the real services fleetcap's tests run against:
#   - Apache Kafka in KRaft mode, 4.4.0 by default or the version given
#     (3.9.x through kafka/pom-3.xml, 4.x through kafka/pom-4.xml; jars from
#     Maven Central): one combined broker+controller node, or with --cluster
#     three of them (replication factor 3, min.insync.replicas 2);
#     with --secure its only client listener is SASL_SSL with SCRAM users
#     and ACLs on (scripts/kafka-secure.sh);
#   - Azurite's blob service, from the npm registry;
# and fetches playwright-core (npm), which drives Debian's chromium in the
# web page's test (FLEETCAP_PLAYWRIGHT, FLEETCAP_CHROMIUM), and a Python venv
# with confluent-kafka for the downstream-consumer test (FLEETCAP_PYTHON).
# Everything listens on free loopback ports. Downloads are cached in .cache/
# (ignored by git) so a second start needs no network.
#
#   eval "$(scripts/services.sh start [--kafka VERSION] [--cluster] [--secure])"
#                                         # prints export lines
#   scripts/services.sh stop              # leaves nothing running
#   scripts/services.sh status
#   scripts/services.sh restart-node N    # starts Kafka node N again after a
#                                         # test killed it; prints its pid
#
# FLEETCAP_KAFKA_VERSION sets the version too. Works from any directory; start
# on a running set prints the same exports (and refuses a different version
# or shape: stop first), stop on a stopped set does nothing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache"
azurite_dir="$cache/azurite-3.37.0"
run="$cache/services"
kafka_version=${FLEETCAP_KAFKA_VERSION:-4.4.0}
kafka_nodes=1
kafka_secure=0
azurite_version=3.37.0
playwright_version=1.65.1
playwright_dir="$cache/playwright-core-$playwright_version"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/kafka-secure.sh
. "$root/scripts/kafka-secure.sh"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

kafka_lib() { echo "$cache/kafka-$kafka_version/lib"; }

fetch_kafka() {
	local lib pom
	lib=$(kafka_lib)
	[[ -f $lib/.complete ]] && return 0
	case $kafka_version in
	3.9.*) pom=pom-3.xml ;;
	4.*) pom=pom-4.xml ;;
	*) die "Kafka $kafka_version: expected 3.9.x or 4.x" ;;
	esac
	log "fetching Kafka $kafka_version jars from Maven Central into $lib"
	rm -rf "$lib"
	mkdir -p "$lib"
	(cd "$root/scripts/kafka" && mvn -q -B -f "$pom" -Dkafka.version="$kafka_version" \
		dependency:copy-dependencies -DoutputDirectory="$lib" >&2) ||
		die "mvn could not fetch the Kafka $kafka_version jars"
	touch "$lib/.complete"
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

# The JVM flags that point Kafka's logging at DIR's config: 3.x logs through
# reload4j (log4j 1 properties), 4.x through log4j2.
kafka_log_flags() {
	local dir=$1
	if [[ -f $dir/log4j2.properties ]]; then
		echo "-Dlog4j2.configurationFile=$dir/log4j2.properties"
	else
		echo "-Dlog4j.configuration=file:$dir/log4j.properties"
	fi
}

write_log_config() {
	local dir=$1
	case $kafka_version in
	3.*)
		cat >"$dir/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
		;;
	*)
		cat >"$dir/log4j2.properties" <<'PROPS'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
PROPS
		;;
	esac
}

# write_node_config N VOTERS: node N's server.properties; its ports are in
# $run/kafka-N.ports ("PORT CPORT").
write_node_config() {
	local n=$1 voters=$2 port cport dir
	dir="$run/kafka-$n"
	read -r port cport <"$dir/ports"
	local rf=$kafka_nodes isr=$((kafka_nodes > 1 ? 2 : 1))
	local listeners
	if [[ -f $run/kafka.secure ]]; then
		listeners=$(secure_listener_props "$port" "$cport")
	else
		listeners="listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT"
	fi
	cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
$listeners
log.dirs=$dir/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# A killed scheduler's open transaction is aborted once transaction.timeout.ms
# passes; check for such transactions every second instead of every 10 s, so
# that failover tests take seconds, not tens of seconds.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
PROPS
}

# start_node N: runs node N from its formatted directory (first start, or a
# restart after a test killed it) and waits until it answers metadata.
start_node() {
	local n=$1 dir lib port cport
	dir="$run/kafka-$n"
	lib=$(cat "$run/kafka.lib")
	read -r port cport <"$dir/ports"
	# shellcheck disable=SC2046 # kafka_log_flags prints one word
	setsid nohup java -Xmx512m -Xms256m -XX:+UseG1GC $(kafka_log_flags "$dir") \
		-cp "$lib/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null &
	echo $! >"$run/kafka-$n.pid"
	local kcat_x
	mapfile -t kcat_x < <(kcat_args)
	if ! wait_until 120 "kafka node $n on 127.0.0.1:$port" kcat "${kcat_x[@]}" -L -m 2 -b "127.0.0.1:$port"; then
		tail -n 30 "$dir/kafka.log" >&2
		return 1
	fi
}

kafka_running() {
	local n
	for n in 1 2 3; do alive "$run/kafka-$n.pid" && return 0; done
	return 1
}

start_kafka() {
	local want="$kafka_version nodes=$kafka_nodes secure=$kafka_secure"
	if kafka_running; then
		[[ $(cat "$run/kafka.mode") == "$want" ]] ||
			die "Kafka $(cat "$run/kafka.mode") is running; stop it before starting $want"
		return 0
	fi
	fetch_kafka
	local n voters="" brokers="" port cport lib
	lib=$(kafka_lib)
	echo "$lib" >"$run/kafka.lib"
	for ((n = 1; n <= kafka_nodes; n++)); do
		rm -rf "$run/kafka-$n"
		mkdir -p "$run/kafka-$n/data"
		port=$(free_port)
		cport=$(free_port)
		while [[ $cport == "$port" ]] || grep -qsw -e "$port" -e "$cport" "$run"/kafka-*/ports; do
			port=$(free_port)
			cport=$(free_port)
		done
		echo "$port $cport" >"$run/kafka-$n/ports"
		voters+="${voters:+,}$n@127.0.0.1:$cport"
		brokers+="${brokers:+,}127.0.0.1:$port"
	done
	echo "$want" >"$run/kafka.mode"
	echo "$brokers" >"$run/kafka.brokers"
	rm -f "$run/kafka.secure"
	local format_x=()
	if ((kafka_secure)); then
		secure_prepare
		touch "$run/kafka.secure"
		mapfile -t format_x < <(secure_format_args)
	fi
	local uuid dir
	write_log_config "$run/kafka-1"
	# shellcheck disable=SC2046
	uuid=$(java -cp "$lib/*" $(kafka_log_flags "$run/kafka-1") kafka.tools.StorageTool random-uuid)
	for ((n = 1; n <= kafka_nodes; n++)); do
		dir="$run/kafka-$n"
		write_log_config "$dir"
		write_node_config "$n" "$voters"
		# shellcheck disable=SC2046
		java -cp "$lib/*" $(kafka_log_flags "$dir") kafka.tools.StorageTool \
			format -t "$uuid" -c "$dir/server.properties" "${format_x[@]}" >"$dir/format.log" 2>&1 ||
			die "kafka storage format of node $n failed: $(cat "$dir/format.log")"
	done
	# A node of a cluster answers metadata only once the quorum has a leader,
	# so start them all before waiting on any.
	for ((n = 1; n <= kafka_nodes; n++)); do
		start_node "$n" &
	done
	local failed=0
	for ((n = 1; n <= kafka_nodes; n++)); do wait -n || failed=1; done
	if ((failed)); then
		stop_kafka
		die "Kafka $want did not answer a metadata request within 120 s"
	fi
	if ((kafka_nodes > 1)); then
		wait_until 120 "the cluster ($kafka_nodes brokers)" cluster_complete ||
			die "Kafka's metadata did not list $kafka_nodes brokers within 120 s"
	fi
	if ((kafka_secure)); then
		secure_grant_transactions "$brokers"
	fi
}

cluster_complete() {
	local kcat_x
	mapfile -t kcat_x < <(kcat_args)
	[[ $(kcat "${kcat_x[@]}" -L -m 2 -b "$(cat "$run/kafka.brokers")" | grep -c '^  broker ') -ge $kafka_nodes ]]
}

stop_kafka() {
	local n
	for n in 1 2 3; do stop_one "kafka-$n"; done
	rm -f "$run/kafka.mode" "$run/kafka.brokers" "$run/kafka.lib" "$run/kafka.secure"
	rm -rf "$(secure_dir)"
}

start_azurite() {
	if alive "$run/azurite.pid"; then
		return 0
	fi
	fetch_azurite
	local dir="$run/azurite"
	rm -rf "$dir"
	mkdir -p "$dir/data"
	: >"$dir/azurite.log" # read below before the background shell opens it
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

kafka_pids() {
	local n pids=""
	for ((n = 1; n <= kafka_nodes; n++)); do pids+="${pids:+ }$(cat "$run/kafka-$n.pid")"; done
	echo "$pids"
}

# The Python side of the downstream-consumer test (docs/consumer/): a venv
# with confluent-kafka and grpcio-tools (protoc for the schema) from PyPI.
python_dir="$cache/py-consumer"
fetch_python() {
	[[ -x $python_dir/bin/python && -f $python_dir/.complete ]] && return 0
	log "installing confluent-kafka and grpcio-tools into $python_dir"
	rm -rf "$python_dir"
	python3 -m venv "$python_dir" >&2 || die "python3 -m venv failed (python3-venv missing?)"
	"$python_dir/bin/pip" install -q --disable-pip-version-check confluent-kafka==2.16.1 \
		grpcio-tools==1.85.1 protobuf==7.36.2 >&2 || die "pip could not install the consumer's packages"
	touch "$python_dir/.complete"
}

print_exports() {
	kafka_nodes=$(sed -n 's/.*nodes=\([0-9]*\).*/\1/p' "$run/kafka.mode")
	echo "export FLEETCAP_BROKERS=$(cat "$run/kafka.brokers")"
	echo "export FLEETCAP_KAFKA_VERSION=${kafka_version}"
	echo "export FLEETCAP_KAFKA_NODES=$kafka_nodes"
	# Secured: each role's credentials (ROLE.conf, in fleetcap's config
	# syntax) and the test CA; the CLI reads the client role's.
	if [[ -f $run/kafka.secure ]]; then
		echo "export FLEETCAP_KAFKA_SECURE=$(secure_dir)"
		echo "export FLEETCAP_CONFIG=$(secure_dir)/client.conf"
	else
		echo "unset FLEETCAP_KAFKA_SECURE FLEETCAP_CONFIG"
	fi
	# Node 1's process group, for tests that pause the single broker (SIGSTOP);
	# every node's (in node id order), for the cluster's fault tests, which
	# start a killed node again with "$FLEETCAP_SERVICES restart-node N".
	echo "export FLEETCAP_KAFKA_PID=$(cat "$run/kafka-1.pid")"
	echo "export FLEETCAP_KAFKA_PIDS='$(kafka_pids)'"
	echo "export FLEETCAP_SERVICES=$root/scripts/services.sh"
	echo "export FLEETCAP_AZURITE=$(cat "$run/azurite.url")"
	# Tests that stop and restart a storage endpoint run their own instance.
	echo "export FLEETCAP_AZURITE_BIN=$azurite_dir/node_modules/.bin/azurite-blob"
	echo "export FLEETCAP_PLAYWRIGHT=$playwright_dir/node_modules/playwright-core"
	echo "export FLEETCAP_CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
	echo "export FLEETCAP_PYTHON=$python_dir/bin/python"
}

usage() {
	echo "usage: $0 start [--kafka VERSION] [--cluster] [--secure] | stop | status | restart-node N" >&2
	exit 2
}

mkdir -p "$run"
cmd=${1:-}
shift || true
case "$cmd" in
start)
	while (($#)); do
		case $1 in
		--kafka)
			[[ $# -ge 2 ]] || usage
			kafka_version=$2
			shift 2
			;;
		--cluster)
			kafka_nodes=3
			shift
			;;
		--secure)
			kafka_secure=1
			shift
			;;
		*) usage ;;
		esac
	done
	fetch_playwright
	fetch_python
	start_kafka
	start_azurite
	print_exports
	;;
stop)
	stop_one azurite
	stop_kafka
	;;
status)
	if kafka_running; then echo "kafka: running $(cat "$run/kafka.mode")"; else echo "kafka: stopped"; fi
	if alive "$run/azurite.pid"; then echo "azurite: running"; else echo "azurite: stopped"; fi
	if kafka_running && alive "$run/azurite.pid"; then
		kafka_version=$(cut -d' ' -f1 "$run/kafka.mode")
		print_exports
	fi
	;;
restart-node)
	[[ ${1:-} =~ ^[1-3]$ && -d $run/kafka-$1 ]] || usage
	alive "$run/kafka-$1.pid" && die "kafka node $1 is running"
	kafka_version=$(cut -d' ' -f1 "$run/kafka.mode")
	start_node "$1" || die "kafka node $1 did not come back within 120 s"
	cat "$run/kafka-$1.pid"
	;;
*) usage ;;
esac
