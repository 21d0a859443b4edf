/* wk_config: fleetcap-worker's configuration keys (docs/ARCHITECTURE.md §8). */
#ifndef WK_CONFIG_H
#define WK_CONFIG_H

#include "fc_config.h"

struct wk_config {
	char *brokers;
	char *host_id;
	char *group;	/* "" = none */
	char *instance; /* "" = host_id */
	char *subscription;
	char *region;
	char *interfaces; /* comma-separated; the default of a job that names none */
	char *capture_root;
	char *state_dir;
	char *blob_endpoints; /* allowed besides the public clouds (fc_blob_url_allowed) */
	long long sessions_max;
	long long heartbeat_s;
	long long progress_s;
	char *topics_prefix;
	char *metrics_address;
	long long metrics_port;
	char *log_level;
	struct fc_kv_list blob_keys; /* blob.key.ACCOUNT (secret) */
	struct fc_kv_list kafka;
};

extern const struct fc_cfg_def wk_config_defs[];

#endif
