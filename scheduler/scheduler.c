/*
 * scheduler: one scheduler instance, wired from its parts: the config
 * (sched_config.c), the alert rules (sched_alerts.c), the workers table
 * (sched_workers.c), the state machine (sched_state*.c) and the transactional
 * loop (sched_loop.c). fleetcap-scheduler runs one; `fleetcap demo` runs one
 * in a thread next to a worker.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_seal.h"
#include "sched_alerts.h"
#include "sched_loop.h"
#include "sched_metrics.h"
#include "sched_state.h"
#include "sched_workers.h"
#include "scheduler.h"

struct scheduler {
	const struct sched_config *config;
	struct sched_alert_rules *rules;
	struct sched_workers *workers;
	struct sched_state *state;
	struct sched_loop *loop;
	struct sched_metrics *metrics;
	struct fc_seal_key *seal_key;
	rd_kafka_t *ledger_reader;
	char ledger_topic[FC_TOPIC_NAME_MAX + 1];
};

/* ------------------------------------------------------ loop callbacks */

static int load_ledger_record(void *opaque, int32_t partition, int64_t offset, const char *key,
			      size_t key_len, const void *value, size_t len)
{
	struct scheduler *s = opaque;
	char k[FC_TENANT_MAX * 2 + 2];

	(void)offset;
	if (!key || key_len >= sizeof(k))
		return 0; /* not a quota key: nothing of ours */
	memcpy(k, key, key_len);
	k[key_len] = '\0';
	sched_state_load(s->state, partition, k, value, len);
	return 0;
}

static int on_assign(void *opaque, const int32_t *partitions, size_t count, struct fc_err *err)
{
	struct scheduler *s = opaque;
	int64_t started = fc_mono_ms();

	/* Long enough for a dead instance's open transaction to time out on
	 * the broker (transaction.timeout.ms, 10 s by default here). */
	if (fc_kafka_read_to_end(s->ledger_reader, s->ledger_topic, partitions, count, 120000,
				 load_ledger_record, s, err) != 0)
		return -1;
	sched_state_renew_leases(s->state, partitions, count, fc_wall_ms());
	FC_INFO("sched", "ledger replayed: %zu partitions, %zu quota keys in %lld ms", count,
		sched_state_key_count(s->state), (long long)(fc_mono_ms() - started));
	return 0;
}

static void on_revoke(void *opaque, const int32_t *partitions, size_t count)
{
	struct scheduler *s = opaque;

	for (size_t i = 0; i < count; i++)
		sched_state_drop_partition(s->state, partitions[i]);
}

static void apply(void *opaque, enum fc_topic topic, const rd_kafka_message_t *m, int64_t now)
{
	struct scheduler *s = opaque;

	sched_state_apply(s->state, topic, m->partition, m->key, m->key_len, m->payload, m->len,
			  now);
}

static void tick(void *opaque, int64_t now)
{
	sched_state_tick(((struct scheduler *)opaque)->state, now);
}

static void flush(void *opaque, int64_t now)
{
	sched_state_flush(((struct scheduler *)opaque)->state, now);
}

static void update_metrics(struct scheduler *s, int committed)
{
	struct sched_stats stats;

	sched_metrics_transaction(s->metrics, committed);
	sched_state_stats(s->state, &stats);
	sched_metrics_update(s->metrics, &stats, sched_workers_count(s->workers),
			     sched_state_key_count(s->state));
}

static void committed(void *opaque)
{
	struct scheduler *s = opaque;

	sched_state_commit(s->state);
	update_metrics(s, 1);
}

static int sound(void *opaque)
{
	return sched_state_sound(((struct scheduler *)opaque)->state);
}

static int aborted(void *opaque, struct fc_err *err)
{
	struct scheduler *s = opaque;

	int rc = sched_state_rollback(s->state);
	update_metrics(s, 0);
	if (rc != 0)
		fc_err_set(err, FC_ERR_FATAL,
			   "an aborted batch could not be undone in memory: exiting, so that a "
			   "restart replays the ledger");
	return rc;
}

static void idle(void *opaque)
{
	sched_workers_poll(((struct scheduler *)opaque)->workers);
}

/* ------------------------------------------------------------ instance */

static int start(struct scheduler *s, struct fc_err *err)
{
	const struct sched_config *c = s->config;
	const char *brokers = c->brokers && *c->brokers ? c->brokers : NULL;
	char group[256], txn_id[128], workers_topic[FC_TOPIC_NAME_MAX + 1];
	static const enum fc_topic inputs[] = {FC_TOPIC_COMMANDS, FC_TOPIC_ALERTS,
					       FC_TOPIC_RESULTS};

	if (!brokers && !fc_kv_get(&c->kafka, "bootstrap.servers")) {
		fc_err_set(err, FC_ERR_INVALID,
			   "brokers: not set (set brokers, kafka.bootstrap.servers or "
			   "FLEETCAP_BROKERS)");
		return -1;
	}
	if (*c->alerts_rules && !(s->rules = sched_alert_rules_load(c->alerts_rules, err)))
		return -1;
	if (!(s->seal_key =
		      *c->seal_key ? fc_seal_key_open(c->seal_key, err) : fc_seal_key_new(err)))
		return -1;
	if (!*c->seal_key)
		FC_WARN("sched", "no seal.key: SAS tokens are sealed for a key of this process "
				 "only; another instance cannot send those it did not admit");
	if (fc_topic_name(c->topics_prefix, FC_TOPIC_LEDGER, s->ledger_topic,
			  sizeof(s->ledger_topic)) != 0 ||
	    fc_topic_name(c->topics_prefix, FC_TOPIC_WORKERS, workers_topic,
			  sizeof(workers_topic)) != 0) {
		fc_err_set(err, FC_ERR_INVALID, "topics.prefix \"%.64s\" is not valid",
			   c->topics_prefix);
		return -1;
	}
	snprintf(group, sizeof(group), "%s", *c->group_id ? c->group_id : "");
	if (!*group)
		snprintf(group, sizeof(group), "%sscheduler", c->topics_prefix);
	snprintf(txn_id, sizeof(txn_id), "fleetcap-scheduler-%s", c->instance_id);

	if (!(s->metrics = sched_metrics_new(c->metrics_address, c->metrics_port, err)))
		return -1;
	if (!(s->workers = sched_workers_new(brokers, &c->kafka, workers_topic,
					     c->workers_stale_factor, err)) ||
	    sched_workers_load(s->workers, 60000, err) != 0)
		return -1;
	if (!(s->ledger_reader = fc_kafka_reader_new(brokers, &c->kafka, err)))
		return -1;

	struct sched_policy policy = {
		.quota_default = c->quota_default,
		.quota_overrides = &c->quota,
		.lease_grace_ms = c->lease_grace_s * 1000,
		.finished_max = c->finished_max,
		.rules = s->rules,
		.target_check = sched_workers_check,
		.target_alive = sched_workers_alive,
		.group_members = sched_workers_group,
		.seal_key = s->seal_key,
		.blob_endpoints = c->blob_endpoints,
		.host_key = sched_workers_key,
		.target_opaque = s->workers,
		.emit = sched_loop_emit,
	};
	struct sched_loop_config lc = {
		.brokers = brokers,
		.kafka_props = &c->kafka,
		.topic_prefix = c->topics_prefix,
		.group_id = group,
		.transactional_id = txn_id,
		.batch_max = c->batch_max,
		.batch_ms = c->batch_ms,
		.tick_ms = c->tick_ms,
		.inputs = inputs,
		.input_count = sizeof(inputs) / sizeof(inputs[0]),
	};
	struct sched_loop_ops ops = {
		.opaque = s,
		.on_assign = on_assign,
		.on_revoke = on_revoke,
		.apply = apply,
		.tick = tick,
		.flush = flush,
		.sound = sound,
		.committed = committed,
		.aborted = aborted,
		.idle = idle,
	};
	/* The loop calls back only from sched_loop_run(), so the state that
	 * emits through it can be made after it. */
	if (!(s->loop = sched_loop_new(&lc, &ops, err)))
		return -1;
	policy.emit_opaque = s->loop;
	if (!(s->state = sched_state_new(&policy))) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	FC_INFO("sched", "instance %s in group %s, transactional id %s, %zu workers known",
		c->instance_id, group, txn_id, sched_workers_count(s->workers));
	return 0;
}

void scheduler_destroy(struct scheduler *s)
{
	if (!s)
		return;
	sched_loop_destroy(s->loop);
	sched_metrics_free(s->metrics);
	sched_state_destroy(s->state);
	sched_workers_destroy(s->workers);
	if (s->ledger_reader)
		rd_kafka_destroy(s->ledger_reader);
	sched_alert_rules_free(s->rules);
	fc_seal_key_free(s->seal_key);
	free(s);
}

struct scheduler *scheduler_new(const struct sched_config *config, struct fc_err *err)
{
	struct scheduler *s = calloc(1, sizeof(*s));

	if (!s) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	s->config = config;
	if (start(s, err) != 0) {
		scheduler_destroy(s);
		return NULL;
	}
	return s;
}

int scheduler_run(struct scheduler *s, atomic_int *stop, struct fc_err *err)
{
	return sched_loop_run(s->loop, stop, err);
}
