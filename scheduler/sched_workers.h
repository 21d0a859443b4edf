/*
 * sched_workers: the scheduler's copy of the whole `workers` table (host id →
 * latest WorkerHeartbeat), read from the beginning at start and then kept
 * live (docs/ARCHITECTURE.md §3.4).
 *
 * A target is accepted only when its latest heartbeat names the same
 * subscription and region as the request and is fresh: younger than
 * stale_factor heartbeat intervals (the interval the worker announces,
 * 10 s when it announces none). Before refusing a target the table catches
 * up on the target's partition, so a worker that registered a moment before
 * the create is found.
 */
#ifndef SCHED_WORKERS_H
#define SCHED_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "fc_config.h"
#include "fc_err.h"
#include "sched_state.h"

struct sched_workers;

/* A table reading topic. Returns NULL with err set. */
struct sched_workers *sched_workers_new(const char *brokers, const struct fc_kv_list *kafka_props,
					const char *topic, long long stale_factor,
					struct fc_err *err);

void sched_workers_destroy(struct sched_workers *w);

/* Reads every partition to its end. 0, or -1 with err. */
int sched_workers_load(struct sched_workers *w, int timeout_ms, struct fc_err *err);

/* Applies whatever heartbeats have arrived, without waiting. */
void sched_workers_poll(struct sched_workers *w);

/* A sched_target_fn (sched_state.h); opaque is the table. */
int sched_workers_check(void *opaque, const char *target, const char *subscription,
			const char *region, int64_t now_ms, char *why, size_t len);

/* A sched_alive_fn: 1 while target's last heartbeat is within the stale
 * window plus grace_ms (no catch-up: it is asked on every tick). */
int sched_workers_alive(void *opaque, const char *target, int64_t now_ms, int64_t grace_ms);

/* A sched_group_fn (sched_state.h); opaque is the table. */
size_t sched_workers_group(void *opaque, const char *group, const char *subscription,
			   const char *region, int64_t now_ms, int refresh,
			   struct sched_member *out, size_t max);

/* A sched_host_key_fn: host's announced seal key; opaque is the table. */
int sched_workers_key(void *opaque, const char *host, uint8_t out[32]);

size_t sched_workers_count(const struct sched_workers *w);

#endif
