/*
 * fc_heartbeat: what a worker's heartbeat says about it, the same for every
 * reader (fleetcap workers, the API): stale or not, its instance id, and the
 * JSON object that shows it.
 */
#ifndef FC_HEARTBEAT_H
#define FC_HEARTBEAT_H

#include <jansson.h>
#include <stdint.h>

#include "fleetcap.pb-c.h"

/* Intervals without a heartbeat after which a host is stale (the
 * scheduler's workers.stale.factor default). */
#define FC_HEARTBEAT_STALE_FACTOR 3

/* The interval hb announces, in ms (10 s when it announces none). */
int64_t fc_heartbeat_interval_ms(const Fleetcap__V1__WorkerHeartbeat *hb);

/* How long after hb a host is stale: factor of its intervals. */
int64_t fc_heartbeat_stale_after_ms(const Fleetcap__V1__WorkerHeartbeat *hb, long long factor);

/* 1 when hb is older than FC_HEARTBEAT_STALE_FACTOR of its intervals at now_ms. */
int fc_heartbeat_stale(const Fleetcap__V1__WorkerHeartbeat *hb, int64_t now_ms);

/* The instance id: the announced one, else the host id. */
const char *fc_heartbeat_instance(const Fleetcap__V1__WorkerHeartbeat *hb);

/* {"host", "subscription", "region", "group", "instance", "interfaces",
 *  "version", "activeSessions", "capacity", "lastHeartbeatMs",
 *  "heartbeatAgeMs", "stale"}; NULL when out of memory. */
json_t *fc_heartbeat_json(const Fleetcap__V1__WorkerHeartbeat *hb, int64_t now_ms);

#endif
