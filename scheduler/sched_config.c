/* sched_config: the scheduler's config table, in the manner of redis' config.c. */
#include "sched_config.h"

#include <stddef.h>

#include "fc_metrics.h"

#define OFF(f) offsetof(struct sched_config, f)

const struct fc_cfg_def sched_config_defs[] = {
	{"brokers", FC_CFG_STR, NULL, 0, 0, OFF(brokers), 0, "FLEETCAP_BROKERS", 0,
	 "Kafka bootstrap servers (also kafka.bootstrap.servers or FLEETCAP_BROKERS)"},
	{"instance.id", FC_CFG_STR, NULL, 1, 64, OFF(instance_id), FC_CFG_REQUIRED, NULL, 0,
	 "stable id of this instance; the transactional id is fleetcap-scheduler-ID, so a "
	 "restarted instance fences its previous incarnation. Two live instances must not "
	 "share it"},
	{"topics.prefix", FC_CFG_STR, "fleetcap.", 0, 200, OFF(topics_prefix), 0, NULL, 0,
	 "prefix of every topic name"},
	{"group.id", FC_CFG_STR, "", 0, 200, OFF(group_id), 0, NULL, 0,
	 "consumer group of the scheduler instances; empty = TOPICS_PREFIX + \"scheduler\""},
	{"quota.default", FC_CFG_INT, "10", 0, 100000, OFF(quota_default), 0, NULL, 0,
	 "active sessions allowed per (subscription, region)"},
	{"quota.", FC_CFG_MAP, NULL, 0, 100000, OFF(quota), 0, NULL, FC_CFG_INT,
	 "quota.SUBSCRIPTION = N overrides quota.default for that subscription"},
	{"lease.grace.s", FC_CFG_INT, "60", 1, 86400, OFF(lease_grace_s), 0, NULL, 0,
	 "a session with no started report this long after admission, or no final report this "
	 "long after its time limit or a stop, ends as Error/AgentStopped"},
	{"alerts.rules", FC_CFG_STR, "", 0, 4096, OFF(alerts_rules), 0, NULL, 0,
	 "JSON file of alert rules (see scheduler/README.md); empty = alerts are ignored"},
	{"workers.stale.factor", FC_CFG_INT, "3", 1, 1000, OFF(workers_stale_factor), 0, NULL, 0,
	 "a worker is stale after this many heartbeat intervals without one"},
	{"ledger.finished.max", FC_CFG_INT, "200", 0, 10000, OFF(finished_max), 0, NULL, 0,
	 "finished captures remembered per (subscription, region) so that a repeated create "
	 "is a no-op or a Conflict; older ones are forgotten"},
	{"batch.max", FC_CFG_INT, "1000", 1, 100000, OFF(batch_max), 0, NULL, 0,
	 "input records per transaction"},
	{"batch.ms", FC_CFG_INT, "5", 0, 10000, OFF(batch_ms), 0, NULL, 0,
	 "how long a batch waits for more records after its first"},
	{"seal.key", FC_CFG_STR, "", 0, 4096, OFF(seal_key), 0, NULL, 0,
	 "file of the schedulers' X25519 key (PEM, mode 0600; made at first start when "
	 "missing): SAS tokens are kept sealed for it in the ledger, so every instance needs "
	 "the same file. Empty = a key in memory for this process only (a takeover then "
	 "cannot send the SAS tokens of captures it did not admit)"},
	{"blob.endpoints", FC_CFG_STR, "", 0, 4096, OFF(blob_endpoints), 0, NULL, 0,
	 "upload endpoints allowed besides https to the public clouds' blob domains: "
	 "scheme://host[:port] items, comma-separated (an emulator, a private endpoint, a "
	 "sovereign cloud); a create for any other blob_url is InvalidRequest"},
	{"tick.ms", FC_CFG_INT, "250", 10, 60000, OFF(tick_ms), 0, NULL, 0,
	 "period of the lease and queue timers"},
	FC_METRICS_CFG_DEFS(struct sched_config),
	{"log.level", FC_CFG_STR, "info", 0, 16, OFF(log_level), 0, NULL, 0,
	 "error, warn, info or debug"},
	{"kafka.", FC_CFG_MAP, NULL, 0, 0, OFF(kafka), 0, NULL, FC_CFG_STR,
	 "kafka.X = V passes librdkafka property X to every Kafka client"},
	{NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, NULL},
};
