/*
 * sched_state_tick: what time alone decides: leases past their deadline,
 * sessions of workers that stopped heartbeating, queue timeouts.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fc_log.h"
#include "fc_spec.h"
#include "sched_alerts.h"
#include "sched_state_int.h"

/* 0 when host_id has stopped heartbeating for longer than the grace. */
int ss_host_alive(const struct sched_state *st, const char *host_id, int64_t now)
{
	return !st->policy.target_alive ||
	       st->policy.target_alive(st->policy.target_opaque, host_id, now,
				       st->policy.lease_grace_ms);
}

/* 0 when the entry's worker has stopped heartbeating (a group: any of its
 * running instances' workers). */
static int target_alive(const struct sched_state *st, const entry_t *e, int64_t now)
{
	if (e->n_instances)
		return !ss_group_due(st, e, now);
	return ss_host_alive(st, e->spec->target, now);
}

static int key_has_due(const struct sched_state *st, const struct sched_key *k, int64_t now)
{
	const ledger_t *ls = k->ls;

	/* A free slot with requests waiting: the quota was raised by a restart. */
	if (ls->n_queued && (long long)ls->n_active < ss_quota_of(st, k))
		return 1;
	for (size_t i = 0; i < ls->n_active; i++)
		if ((ls->active[i]->lease_deadline_ms && ls->active[i]->lease_deadline_ms <= now) ||
		    !target_alive(st, ls->active[i], now))
			return 1;
	for (size_t i = 0; i < ls->n_queued; i++)
		if (ls->queued[i]->queue_deadline_ms <= now)
			return 1;
	for (size_t i = 0; i < ls->n_cooldowns; i++)
		if (ls->cooldowns[i]->until_ms <= now)
			return 1;
	return 0;
}

static void tick_key(struct sched_state *st, struct sched_key *k, int64_t now)
{
	ledger_t *ls = k->ls;
	char why[320];

	ss_mutate(k); /* only called when something is due */

	for (size_t i = 0; i < ls->n_active;) {
		entry_t *e = ls->active[i];
		if (e->n_instances) { /* each instance on its own */
			if (!ss_group_tick(st, k, i, now))
				i++;
			continue;
		}
		int alive = target_alive(st, e, now);
		if (alive && (!e->lease_deadline_ms || e->lease_deadline_ms > now)) {
			i++;
			continue;
		}
		snprintf(why, sizeof(why),
			 alive ? "no final report from worker %.64s in time"
			       : "worker %.64s stopped sending heartbeats",
			 e->spec->target);
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
				   .stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
				   .error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_AGENT_STOPPED,
				   .message = why,
				   .request_id = e->request_id};
		FC_WARN("sched", "%s/%s: lease expired: Error/AgentStopped", k->key, e->spec->name);
		if (!e->stopping) /* in case the worker lives and is only silent */
			ss_emit_job(st, k, e, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP,
				    FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR, now);
		ss_take(&ls->active, &ls->n_active, i);
		ss_finish_entry(st, k, e, &a, 1, now);
	}
	for (size_t i = 0; i < ls->n_queued;) {
		entry_t *e = ls->queued[i];
		if (e->queue_deadline_ms > now) {
			i++;
			continue;
		}
		snprintf(why, sizeof(why),
			 "no session of %s became free within the queue timeout of %u s", k->key,
			 e->spec->queue_timeout_s);
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
				   .stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
				   .error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED,
				   .message = why,
				   .request_id = e->request_id};
		ss_take(&ls->queued, &ls->n_queued, i);
		ss_finish_entry(st, k, e, &a, 0, now);
	}
	for (size_t i = 0; i < ls->n_cooldowns;) {
		if (ls->cooldowns[i]->until_ms > now) {
			i++;
			continue;
		}
		Fleetcap__V1__AlertCooldown *c = ss_take(&ls->cooldowns, &ls->n_cooldowns, i);
		protobuf_c_message_free_unpacked(&c->base, NULL);
	}
	ss_admit_queued(st, k, now);
}

size_t sched_state_tick(struct sched_state *st, int64_t now_ms)
{
	size_t before = st->emitted;

	for (struct fc_table_node *n = fc_table_first(&st->keys); n;
	     n = fc_table_next(&st->keys, n)) {
		struct sched_key *k = ss_key_of(n);
		if (key_has_due(st, k, now_ms) && ss_touch_key(st, k->partition, k->key))
			tick_key(st, k, now_ms);
	}
	return st->emitted - before;
}
