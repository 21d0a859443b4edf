/* api_config: fleetcap-api's config table, in the manner of redis' config.c. */
#include "api_config.h"

#include <stddef.h>

#define OFF(f) offsetof(struct api_config, f)

const struct fc_cfg_def api_config_defs[] = {
	{"brokers", FC_CFG_STR, "", 0, 0, OFF(brokers), 0, "FLEETCAP_BROKERS", 0,
	 "Kafka bootstrap servers (also kafka.bootstrap.servers or FLEETCAP_BROKERS)"},
	{"topics.prefix", FC_CFG_STR, "fleetcap.", 0, 200, OFF(topics_prefix), 0, NULL, 0,
	 "prefix of every topic name"},
	{"listen.address", FC_CFG_STR, "127.0.0.1", 1, 64, OFF(listen_address), 0, NULL, 0,
	 "IPv4 address to listen on"},
	{"listen.port", FC_CFG_INT, "8080", 0, 65535, OFF(listen_port), 0, NULL, 0,
	 "TCP port; 0 = any free port (the log line \"listening on\" names it)"},
	{"auth.tokens", FC_CFG_STR, NULL, 1, 4096, OFF(auth_tokens), FC_CFG_REQUIRED, NULL, 0,
	 "file of bearer tokens, one \"TOKEN SUB1,SUB2\" (or \"TOKEN *\") per line"},
	{"tls.cert", FC_CFG_STR, "", 0, 4096, OFF(tls_cert), 0, NULL, 0,
	 "PEM certificate chain: serve https (with tls.key; both reloaded on SIGHUP); empty = "
	 "plain http, for a TLS proxy in front"},
	{"tls.key", FC_CFG_STR, "", 0, 4096, OFF(tls_key), 0, NULL, 0,
	 "PEM private key of tls.cert, unencrypted, not readable by others"},
	{"web.root", FC_CFG_STR, "", 0, 4096, OFF(web_root), 0, NULL, 0,
	 "directory of the web page served at / (empty = no page)"},
	{"wait.ms", FC_CFG_INT, "3000", 0, 60000, OFF(wait_ms), 0, NULL, 0,
	 "how long a request waits for the scheduler's answer before 202 and a Location"},
	{"connections.max", FC_CFG_INT, "2048", 1, 100000, OFF(connections_max), 0, NULL, 0,
	 "concurrent HTTP connections (a thread each, with a 256 KiB stack)"},
	{"request.timeout.s", FC_CFG_INT, "10", 1, 3600, OFF(request_timeout_s), 0, NULL, 0,
	 "a client must send a whole request (headers and body) within this many seconds of "
	 "connecting or of its previous answer, else its connection is closed"},
	{"rate.per_token", FC_CFG_INT, "20", 0, 100000, OFF(rate_per_token), 0, NULL, 0,
	 "requests per second each token may make (0 = no limit); beyond, 429 with Retry-After"},
	{"rate.burst", FC_CFG_INT, "40", 1, 1000000, OFF(rate_burst), 0, NULL, 0,
	 "requests a token may make at once before rate.per_token applies"},
	{"log.level", FC_CFG_STR, "info", 0, 16, OFF(log_level), 0, NULL, 0,
	 "error, warn, info or debug"},
	{"kafka.", FC_CFG_MAP, NULL, 0, 0, OFF(kafka), 0, NULL, FC_CFG_STR,
	 "kafka.X = V passes librdkafka property X to every Kafka client"},
	{NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, NULL},
};
