/* fc_heartbeat: a worker's heartbeat, read the same everywhere; see fc_heartbeat.h. */
#include "fc_heartbeat.h"

int64_t fc_heartbeat_interval_ms(const Fleetcap__V1__WorkerHeartbeat *hb)
{
	return (hb->interval_s ? hb->interval_s : 10) * 1000LL;
}

int64_t fc_heartbeat_stale_after_ms(const Fleetcap__V1__WorkerHeartbeat *hb, long long factor)
{
	return fc_heartbeat_interval_ms(hb) * factor;
}

int fc_heartbeat_stale(const Fleetcap__V1__WorkerHeartbeat *hb, int64_t now_ms)
{
	return now_ms - hb->time_ms > fc_heartbeat_stale_after_ms(hb, FC_HEARTBEAT_STALE_FACTOR);
}

const char *fc_heartbeat_instance(const Fleetcap__V1__WorkerHeartbeat *hb)
{
	return *hb->instance ? hb->instance : hb->host_id;
}

json_t *fc_heartbeat_json(const Fleetcap__V1__WorkerHeartbeat *hb, int64_t now_ms)
{
	json_t *ifs = json_array();

	for (size_t i = 0; ifs && i < hb->n_interfaces; i++)
		json_array_append_new(ifs, json_string(hb->interfaces[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:b}", "host",
			 hb->host_id, "subscription", hb->subscription, "region", hb->region,
			 "group", hb->group, "instance", fc_heartbeat_instance(hb), "interfaces",
			 ifs ? ifs : json_null(), "version", hb->version, "activeSessions",
			 (json_int_t)hb->active_sessions, "capacity", (json_int_t)hb->capacity,
			 "lastHeartbeatMs", (json_int_t)hb->time_ms, "heartbeatAgeMs",
			 (json_int_t)(now_ms - hb->time_ms), "stale",
			 fc_heartbeat_stale(hb, now_ms));
}
