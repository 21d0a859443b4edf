/*
 * api_workers: the live view of the `workers` topic (every host's latest
 * heartbeat, read from the beginning and followed), for GET
 * /subscriptions/{sub}/regions/{region}/workers: the same list as
 * `fleetcap workers`.
 */
#ifndef API_WORKERS_H
#define API_WORKERS_H

#include <stddef.h>

#include "fc_config.h"
#include "fc_err.h"
#include "fleetcap.pb-c.h"

typedef Fleetcap__V1__WorkerHeartbeat api_heartbeat_t;

struct api_workers;

struct api_workers *api_workers_start(const char *brokers, const struct fc_kv_list *kafka,
				      const char *topic, struct fc_err *err);
void api_workers_stop(struct api_workers *w);

/* Copies of the heartbeats of sub/region's hosts, by host id; the caller
 * frees each with api_heartbeat_free and the array with free. */
size_t api_workers_list(struct api_workers *w, const char *sub, const char *region,
			api_heartbeat_t ***out);
void api_heartbeat_free(api_heartbeat_t *hb);

#endif
