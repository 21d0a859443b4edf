/* wk_config: the worker's config table. */
#include "wk_config.h"

#include <stddef.h>

#include "fc_metrics.h"

#define OFF(f) offsetof(struct wk_config, f)

const struct fc_cfg_def wk_config_defs[] = {
	{"brokers", FC_CFG_STR, "", 0, 0, OFF(brokers), 0, "FLEETCAP_BROKERS", 0,
	 "Kafka bootstrap servers (also kafka.bootstrap.servers or FLEETCAP_BROKERS)"},
	{"host.id", FC_CFG_STR, NULL, 1, 128, OFF(host_id), FC_CFG_REQUIRED, NULL, 0,
	 "this host's id: the key of its jobs and heartbeats, the target of captures"},
	{"group", FC_CFG_STR, "", 0, 80, OFF(group), 0, NULL, 0,
	 "the group of hosts this one belongs to (e.g. web-frontends), in its heartbeats; "
	 "empty = none"},
	{"instance", FC_CFG_STR, "", 0, 80, OFF(instance), 0, NULL, 0,
	 "this host's instance id within its group; empty = host.id"},
	{"subscription", FC_CFG_STR, NULL, 1, 64, OFF(subscription), FC_CFG_REQUIRED, NULL, 0,
	 "the subscription this host belongs to; only its captures can target it"},
	{"region", FC_CFG_STR, NULL, 1, 64, OFF(region), FC_CFG_REQUIRED, NULL, 0,
	 "the region this host belongs to"},
	{"interfaces", FC_CFG_STR, "any", 1, 1024, OFF(interfaces), 0, NULL, 0,
	 "comma-separated interfaces captured when a request names none"},
	{"capture.root", FC_CFG_STR, NULL, 1, 1024, OFF(capture_root), FC_CFG_REQUIRED, NULL, 0,
	 "the only directory the worker writes captures under (must exist)"},
	{"state.dir", FC_CFG_STR, "", 0, 1024, OFF(state_dir), 0, NULL, 0,
	 "directory for the worker's journal (must exist); empty = no journal, so a restart cannot "
	 "report interrupted sessions or skip a job delivered again"},
	{"sessions.max", FC_CFG_INT, "4", 1, 256, OFF(sessions_max), 0, NULL, 0,
	 "captures run at once; a START job beyond it fails with CaptureFailed"},
	{"heartbeat.s", FC_CFG_INT, "10", 1, 3600, OFF(heartbeat_s), 0, NULL, 0,
	 "heartbeat period; the scheduler deems the host stale after a few missed"},
	{"progress.s", FC_CFG_INT, "5", 1, 3600, OFF(progress_s), 0, NULL, 0,
	 "period of progress reports (packets, bytes, drops) of a running capture"},
	{"topics.prefix", FC_CFG_STR, "fleetcap.", 0, 200, OFF(topics_prefix), 0, NULL, 0,
	 "prefix of every topic name"},
	FC_METRICS_CFG_DEFS(struct wk_config),
	{"log.level", FC_CFG_STR, "info", 0, 16, OFF(log_level), 0, NULL, 0,
	 "error, warn, info or debug"},
	{"blob.endpoints", FC_CFG_STR, "", 0, 4096, OFF(blob_endpoints), 0, NULL, 0,
	 "upload endpoints allowed besides https to the public clouds' blob domains: "
	 "scheme://host[:port] items, comma-separated (an emulator, a private endpoint, a "
	 "sovereign cloud); a job for any other blob_url fails before capturing"},
	{"blob.key.", FC_CFG_MAP, NULL, 0, 0, OFF(blob_keys), FC_CFG_SECRET, NULL, FC_CFG_STR,
	 "blob.key.ACCOUNT = base64 account key for SharedKey uploads to that account, used when a "
	 "request brings no SAS token"},
	{"kafka.", FC_CFG_MAP, NULL, 0, 0, OFF(kafka), 0, NULL, FC_CFG_STR,
	 "kafka.X = V passes librdkafka property X to every Kafka client"},
	{NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, NULL},
};
