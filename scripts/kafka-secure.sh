# shellcheck shell=bash
# Sourced by services.sh: what "start --secure" adds to Kafka.
#
# The broker then has one client listener, SASL_SSL (also used between
# brokers), and a controller listener with SASL/PLAIN; nothing on it answers
# without a password. StandardAuthorizer is on, no ACL means no access, and
# "admin" is the only super user.
#
# The mechanism is SCRAM-SHA-512 on Kafka 3.x (users created at format
# time) and PLAIN, over the same TLS, on 4.x: Kafka 4 checks the SCRAM nonce
# strictly, and librdkafka before 2.6.1 (Debian 12 has 2.0.2) sends it
# twice, so its SCRAM logins are refused by a 4.x broker.
#
# Made at start, under $run/secure (0711; ca.pem 0644, the rest 0600):
#   ca.pem, broker.pem        a test CA and the broker's key and certificate
#                             (SAN 127.0.0.1), made with openssl
#   ROLE.conf                 fleetcap config lines (kafka.security.protocol,
#                             kafka.sasl.*, kafka.ssl.ca.location) for the
#                             users admin, scheduler, worker, client, consumer
#                             (random passwords)
# The ACLs of each role are granted per topic prefix by
# "fleetcap topics acls" (or fc_acls_grant() in the tests), not here.

secure_dir() { echo "$run/secure"; }
secure_roles="admin scheduler worker client consumer"

secure_mechanism() {
	case $kafka_version in
	3.*) echo SCRAM-SHA-512 ;;
	*) echo PLAIN ;;
	esac
}

secure_password() { sed -n 's/^kafka.sasl.password=//p' "$(secure_dir)/$1.conf"; }

# secure_prepare: the CA, the broker's certificate and the users' passwords.
secure_prepare() {
	local dir role password
	dir=$(secure_dir)
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 711 "$dir" # the worker under test, run as nobody, reads ca.pem
	(
		cd "$dir"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fleetcap test CA" \
			-keyout ca.key -out ca.pem
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout broker.key -out broker.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
		openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -extfile broker.ext -out broker.crt
		# Kafka's PEM key store: a PKCS#8 key, then the certificate.
		openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
		cat broker.pk8 broker.crt >broker.pem
		rm -f broker.key broker.csr broker.ext broker.pk8 ca.srl
	) >"$dir/openssl.log" 2>&1 || die "openssl could not make the test certificates: $(cat "$dir/openssl.log")"
	chmod 644 "$dir/ca.pem"
	for role in $secure_roles; do
		password=$(openssl rand -hex 16)
		cat >"$dir/$role.conf" <<CONF
kafka.security.protocol=SASL_SSL
kafka.sasl.mechanisms=$(secure_mechanism)
kafka.sasl.username=$role
kafka.sasl.password=$password
kafka.ssl.ca.location=$dir/ca.pem
CONF
		chmod 600 "$dir/$role.conf"
	done
}

# secure_format_args: the storage format's arguments that create the users.
secure_format_args() {
	local role
	[[ $(secure_mechanism) == PLAIN ]] && return 0
	for role in $secure_roles; do
		printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$role" "$(secure_password "$role")"
	done
}

# secure_listener_props PORT CPORT: server.properties lines for the
# listeners, TLS and the authorizer.
secure_listener_props() {
	local port=$1 cport=$2 dir admin mechanism clients_jaas role users=""
	dir=$(secure_dir)
	admin=$(secure_password admin)
	mechanism=$(secure_mechanism)
	if [[ $mechanism == PLAIN ]]; then
		for role in $secure_roles; do users+=" user_$role=\"$(secure_password "$role")\""; done
		clients_jaas="listener.name.clients.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$admin\"$users;"
	else
		clients_jaas="listener.name.clients.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin\";"
	fi
	cat <<PROPS
listeners=CLIENTS://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=CLIENTS://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENTS:SASL_SSL
inter.broker.listener.name=CLIENTS
sasl.mechanism.inter.broker.protocol=$mechanism
sasl.mechanism.controller.protocol=PLAIN
listener.name.clients.sasl.enabled.mechanisms=$mechanism
$clients_jaas
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin";
ssl.keystore.type=PEM
ssl.keystore.location=$dir/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
PROPS
}

# kcat_args: what kcat needs to talk to the broker (none when plain).
kcat_args() {
	[[ -f $run/kafka.secure ]] || return 0
	local line
	while IFS= read -r line; do
		printf -- '-X\n%s\n' "${line#kafka.}"
	done <"$(secure_dir)/admin.conf"
}

# secure_grant_transactions BROKERS: the scheduler role's ACL on its
# transactional ids (prefixed fleetcap-scheduler-), which librdkafka 2.0.2
# cannot create, with the venv's confluent-kafka (a newer librdkafka) as admin.
secure_grant_transactions() {
	local dir
	dir=$(secure_dir)
	"$python_dir/bin/python" - "$1" "$(secure_mechanism)" "$(secure_password admin)" \
		"$dir/ca.pem" >"$dir/acls.log" 2>&1 <<'PY' ||
import sys
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient,
                                   ResourcePatternType, ResourceType)
brokers, mechanism, password, ca = sys.argv[1:]
admin = AdminClient({"bootstrap.servers": brokers, "security.protocol": "SASL_SSL",
                     "sasl.mechanisms": mechanism, "sasl.username": "admin",
                     "sasl.password": password, "ssl.ca.location": ca})
acls = [AclBinding(ResourceType.TRANSACTIONAL_ID, "fleetcap-scheduler-",
                   ResourcePatternType.PREFIXED, "User:scheduler", "*", op,
                   AclPermissionType.ALLOW)
        for op in (AclOperation.WRITE, AclOperation.DESCRIBE)]
for f in admin.create_acls(acls, request_timeout=30).values():
    f.result()
PY
		die "could not grant the scheduler its transactional ids: $(cat "$dir/acls.log")"
}
