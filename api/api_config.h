/* api_config: fleetcap-api's configuration keys (docs/ARCHITECTURE.md §8). */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include "fc_config.h"

struct api_config {
	char *brokers;
	char *topics_prefix;
	char *listen_address;
	long long listen_port;
	char *auth_tokens;
	char *web_root;
	char *tls_cert, *tls_key;
	long long wait_ms;
	long long connections_max;
	long long request_timeout_s;
	long long rate_per_token;
	long long rate_burst;
	char *log_level;
	struct fc_kv_list kafka;
};

extern const struct fc_cfg_def api_config_defs[];

#endif
