/* sched_config: fleetcap-scheduler's configuration keys (docs/ARCHITECTURE.md §8). */
#ifndef SCHED_CONFIG_H
#define SCHED_CONFIG_H

#include "fc_config.h"

struct sched_config {
	char *brokers;
	char *instance_id;
	char *topics_prefix;
	char *group_id;
	long long quota_default;
	struct fc_kv_list quota; /* quota.SUBSCRIPTION */
	long long lease_grace_s;
	char *alerts_rules;
	long long workers_stale_factor;
	long long finished_max;
	long long batch_max;
	long long batch_ms;
	long long tick_ms;
	char *seal_key;
	char *blob_endpoints;
	char *metrics_address;
	long long metrics_port;
	char *log_level;
	struct fc_kv_list kafka;
};

/* The table; ends with a NULL key. */
extern const struct fc_cfg_def sched_config_defs[];

#endif
