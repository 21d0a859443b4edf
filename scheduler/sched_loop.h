/*
 * sched_loop: the exactly-once consume–transform–produce loop of
 * docs/ARCHITECTURE.md §3, in the shape of librdkafka's examples/transactions.c.
 *
 * One consumer in the scheduler group reads commands, alerts and results;
 * one transactional producer writes everything the transform emits. Each
 * batch (at most batch_max records, or what arrived within batch_ms of the
 * first) is one transaction: apply every record, run the timers when due,
 * flush the state (the ledger records), send the consumed offsets, commit.
 * An abortable error aborts the transaction, rolls the state back and seeks
 * the consumer back to the committed offsets; a fatal one (fenced) ends the
 * run with -1 so that the process exits non-zero and is restarted.
 *
 * The group uses the range assignor, not cooperative-sticky: range gives the
 * same partition numbers of co-partitioned topics to the same member, which
 * is what makes one instance the sole owner of a quota key (commands/p,
 * alerts/p, results/p and ledger/p together). cooperative-sticky balances
 * every topic-partition on its own and would split them, and librdkafka has
 * no pluggable assignor. The transform sees assignments through on_assign
 * (called before the partitions are consumed: the ledger replay) and
 * on_revoke (its state is dropped).
 *
 * The transform is a struct of callbacks so that the benchmark's
 * pass-through baseline runs this very loop with no logic in it.
 */
#ifndef SCHED_LOOP_H
#define SCHED_LOOP_H

#include <stdatomic.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_config.h"
#include "fc_err.h"
#include "fc_kafka.h"

struct sched_loop;

struct sched_loop_ops {
	void *opaque;
	/* The loop now owns these input partition numbers; load their state.
	 * Returns 0, or -1 with err (the run then ends with -1). */
	int (*on_assign)(void *opaque, const int32_t *partitions, size_t count, struct fc_err *err);
	void (*on_revoke)(void *opaque, const int32_t *partitions, size_t count);
	/* One input record; emits through sched_loop_emit(). */
	void (*apply)(void *opaque, enum fc_topic topic, const rd_kafka_message_t *msg,
		      int64_t now_ms);
	void (*tick)(void *opaque, int64_t now_ms);  /* may be NULL */
	void (*flush)(void *opaque, int64_t now_ms); /* before commit; may be NULL */
	/* 1 when the batch may commit, else it is aborted; may be NULL. */
	int (*sound)(void *opaque);
	void (*committed)(void *opaque); /* may be NULL */
	/* The transaction aborted. 0, or -1 with err: the run ends. May be NULL. */
	int (*aborted)(void *opaque, struct fc_err *err);
	void (*idle)(void *opaque); /* every round; may be NULL */
};

struct sched_loop_config {
	const char *brokers;
	const struct fc_kv_list *kafka_props; /* "kafka." keys, applied last */
	const char *topic_prefix;
	const char *group_id;
	const char *transactional_id;
	long long batch_max; /* records per transaction */
	long long batch_ms;  /* wait for more records after the first */
	long long tick_ms;   /* timer period */
	/* The inputs: commands, alerts, results (the scheduler), or a subset. */
	const enum fc_topic *inputs;
	size_t input_count;
};

/* Creates the clients and joins nothing yet. NULL with err set. */
struct sched_loop *sched_loop_new(const struct sched_loop_config *config,
				  const struct sched_loop_ops *ops, struct fc_err *err);

/*
 * Runs until *stop is set (then the open batch is finished and committed and
 * the group left) or a fatal error. Returns 0 after a stop, -1 with err.
 */
int sched_loop_run(struct sched_loop *loop, atomic_int *stop, struct fc_err *err);

void sched_loop_destroy(struct sched_loop *loop);

/* A sched_emit_fn: produces one record in the open transaction (opened on
 * first use). opaque is the loop. */
void sched_loop_emit(void *opaque, enum fc_topic topic, int32_t partition, const char *key,
		     const void *value, size_t len);

/* The name of topic with the loop's prefix. */
const char *sched_loop_topic(const struct sched_loop *loop, enum fc_topic topic);

/* Transactions committed and aborted so far. */
uint64_t sched_loop_commits(const struct sched_loop *loop);
uint64_t sched_loop_aborts(const struct sched_loop *loop);

#endif
