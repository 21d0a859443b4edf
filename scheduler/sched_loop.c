/* sched_loop: the transactional consume–transform–produce loop; see sched_loop.h. */
#include "sched_loop.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_log.h"

#define TXN_TIMEOUT_MS_DEFAULT "10000"
#define SESSION_TIMEOUT_MS     "10000"
/* New producers after a fatal producer error (see replace_producer): at most
 * REPLACEMENTS_MAX in REPLACEMENTS_WINDOW_MS, else the process ends. */
#define REPLACEMENTS_MAX       5
#define REPLACEMENTS_WINDOW_MS (10 * 60 * 1000)

struct sched_loop {
	struct sched_loop_config config;
	struct sched_loop_ops ops;
	rd_kafka_t *consumer, *producer;
	char topics[FC_TOPIC_COUNT][FC_TOPIC_NAME_MAX + 1];
	/* The batch being collected: messages owned until commit or abort. */
	rd_kafka_message_t **batch;
	size_t batch_count;
	int txn_open;
	int batch_failed; /* a produce failed: abort instead of commit */
	int fatal;
	struct fc_err fatal_err;
	uint64_t commits, aborts;
	/* Copied: the producer is made again with it (replace_producer). */
	char transactional_id[256];
	int64_t replaced_ms[REPLACEMENTS_MAX]; /* the newest first */
};

const char *sched_loop_topic(const struct sched_loop *loop, enum fc_topic topic)
{
	return loop->topics[topic];
}

uint64_t sched_loop_commits(const struct sched_loop *loop)
{
	return loop->commits;
}

uint64_t sched_loop_aborts(const struct sched_loop *loop)
{
	return loop->aborts;
}

static int topic_of(const struct sched_loop *loop, const rd_kafka_message_t *m, enum fc_topic *out)
{
	const char *name = m->rkt ? rd_kafka_topic_name(m->rkt) : "";

	for (int t = 0; t < FC_TOPIC_COUNT; t++)
		if (strcmp(loop->topics[t], name) == 0) {
			*out = (enum fc_topic)t;
			return 0;
		}
	return -1;
}

static void drop_batch(struct sched_loop *loop)
{
	for (size_t i = 0; i < loop->batch_count; i++)
		rd_kafka_message_destroy(loop->batch[i]);
	loop->batch_count = 0;
}

/* -------------------------------------------------------------- clients */

/* defaults (key, value pairs, NULL-ended) first, then kafka.* from the config. */
static rd_kafka_conf_t *new_conf(const struct sched_loop_config *c, const char *const *defaults,
				 int producer, struct fc_err *err)
{
	rd_kafka_conf_t *conf = producer ? fc_kafka_conf_new(c->brokers, NULL, err)
					 : fc_kafka_consumer_conf_new(c->brokers, NULL, err);

	if (!conf)
		return NULL;
	for (; *defaults; defaults += 2)
		if (fc_kafka_conf_set(conf, defaults[0], defaults[1], err) != 0)
			goto fail;
	for (size_t i = 0; c->kafka_props && i < c->kafka_props->count; i++)
		if (fc_kafka_conf_set(conf, c->kafka_props->items[i].key,
				      c->kafka_props->items[i].value, err) != 0)
			goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* The distinct partition numbers of parts, a calloc'd array (NULL when out
 * of memory): commands/p, alerts/p and results/p all mean quota keys of
 * partition p. */
static int32_t *distinct_partitions(const rd_kafka_topic_partition_list_t *parts, size_t *n)
{
	int32_t *numbers = calloc((size_t)parts->cnt + 1, sizeof(*numbers));

	*n = 0;
	for (int i = 0; numbers && i < parts->cnt; i++) {
		size_t j = 0;
		while (j < *n && numbers[j] != parts->elems[i].partition)
			j++;
		if (j == *n)
			numbers[(*n)++] = parts->elems[i].partition;
	}
	return numbers;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct sched_loop *loop = opaque;
	size_t n;
	int32_t *numbers = distinct_partitions(parts, &n);

	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		FC_INFO("sched", "assigned %d input partitions (%zu quota-key partitions)",
			parts->cnt, n);
		if (!numbers ||
		    loop->ops.on_assign(loop->ops.opaque, numbers, n, &loop->fatal_err) != 0) {
			if (!numbers)
				fc_err_set(&loop->fatal_err, FC_ERR_FATAL, "out of memory");
			loop->fatal = 1;
		}
		rd_kafka_assign(rk, parts);
	} else {
		FC_INFO("sched", "revoked %d input partitions", parts->cnt);
		/* No transaction is open while polling: the batch collected so
		 * far is only dropped, and its records are read again by the new
		 * owner from the committed offsets. */
		drop_batch(loop);
		if (numbers)
			loop->ops.on_revoke(loop->ops.opaque, numbers, n);
		rd_kafka_assign(rk, NULL);
	}
	free(numbers);
}

static int check_assignor(rd_kafka_conf_t *conf, struct fc_err *err)
{
	char value[128];
	size_t len = sizeof(value);

	if (rd_kafka_conf_get(conf, "partition.assignment.strategy", value, &len) ==
		    RD_KAFKA_CONF_OK &&
	    strcmp(value, "range") != 0) {
		fc_err_set(err, FC_ERR_INVALID,
			   "kafka.partition.assignment.strategy \"%.64s\": the scheduler needs "
			   "\"range\", which keeps co-partitioned inputs on one instance",
			   value);
		return -1;
	}
	return 0;
}

/* The transactional producer, its transactions initialised: this fences any
 * earlier producer of the same transactional id. NULL with err set. */
static rd_kafka_t *producer_new(struct sched_loop *loop, struct fc_err *err)
{
	const char *defaults[] = {"transactional.id",
				  loop->transactional_id,
				  "transaction.timeout.ms",
				  TXN_TIMEOUT_MS_DEFAULT,
				  "linger.ms",
				  "2",
				  NULL};
	rd_kafka_conf_t *conf = new_conf(&loop->config, defaults, 1, err);
	rd_kafka_error_t *error;
	rd_kafka_t *rk;
	char errstr[512];

	if (!conf)
		return NULL;
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		fc_err_set(err, FC_ERR_FATAL, "cannot create the producer: %s", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	if ((error = rd_kafka_init_transactions(rk, 60000))) {
		fc_kafka_err_from_error(error, "init_transactions", err);
		rd_kafka_destroy(rk);
		return NULL;
	}
	return rk;
}

struct sched_loop *sched_loop_new(const struct sched_loop_config *config,
				  const struct sched_loop_ops *ops, struct fc_err *err)
{
	struct sched_loop *loop = calloc(1, sizeof(*loop));
	const char *consumer_defaults[] = {
		"group.id", config->group_id, "isolation.level", "read_committed",
		"enable.auto.commit", "false", "auto.offset.reset", "earliest",
		"partition.assignment.strategy", "range", "session.timeout.ms", SESSION_TIMEOUT_MS,
		/* librdkafka waits up to 500 ms for a fetch to
		 * fill; a command should not. */
		"fetch.wait.max.ms", "20", "enable.partition.eof", "false", NULL};
	rd_kafka_conf_t *conf = NULL;
	char errstr[512];

	if (!loop || !(loop->batch = calloc((size_t)config->batch_max, sizeof(*loop->batch)))) {
		free(loop);
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	loop->config = *config;
	loop->ops = *ops;
	if (snprintf(loop->transactional_id, sizeof(loop->transactional_id), "%s",
		     config->transactional_id) >= (int)sizeof(loop->transactional_id)) {
		fc_err_set(err, FC_ERR_INVALID, "transactional id \"%.64s...\" is too long",
			   config->transactional_id);
		goto fail;
	}
	for (int t = 0; t < FC_TOPIC_COUNT; t++)
		if (fc_topic_name(config->topic_prefix, (enum fc_topic)t, loop->topics[t],
				  sizeof(loop->topics[t])) != 0) {
			fc_err_set(err, FC_ERR_INVALID, "topics.prefix \"%.64s\" is not valid",
				   config->topic_prefix);
			goto fail;
		}

	/* Fences any earlier incarnation of this instance.id. */
	if (!(loop->producer = producer_new(loop, err)))
		goto fail;

	if (!(conf = new_conf(config, consumer_defaults, 0, err)) || check_assignor(conf, err) != 0)
		goto fail;
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_opaque(conf, loop);
	if (!(loop->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
		fc_err_set(err, FC_ERR_FATAL, "cannot create the consumer: %s", errstr);
		goto fail;
	}
	conf = NULL; /* now owned by the consumer */
	rd_kafka_poll_set_consumer(loop->consumer);

	rd_kafka_topic_partition_list_t *subs =
		rd_kafka_topic_partition_list_new((int)config->input_count);
	for (size_t i = 0; i < config->input_count; i++)
		rd_kafka_topic_partition_list_add(subs, loop->topics[config->inputs[i]],
						  RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(loop->consumer, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (e) {
		fc_err_set(err, FC_ERR_FATAL, "subscribe: %s", rd_kafka_err2str(e));
		goto fail;
	}
	return loop;
fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	sched_loop_destroy(loop);
	return NULL;
}

void sched_loop_destroy(struct sched_loop *loop)
{
	if (!loop)
		return;
	drop_batch(loop);
	if (loop->consumer)
		rd_kafka_destroy(loop->consumer);
	if (loop->producer)
		rd_kafka_destroy(loop->producer);
	free(loop->batch);
	free(loop);
}

/* ---------------------------------------------------------- transactions */

static int begin(struct sched_loop *loop)
{
	rd_kafka_error_t *error;

	if (loop->txn_open)
		return 0;
	if ((error = rd_kafka_begin_transaction(loop->producer))) {
		fc_kafka_err_from_error(error, "begin_transaction", &loop->fatal_err);
		loop->fatal = 1;
		return -1;
	}
	loop->txn_open = 1;
	return 0;
}

void sched_loop_emit(void *opaque, enum fc_topic topic, int32_t partition, const char *key,
		     const void *value, size_t len)
{
	struct sched_loop *loop = opaque;
	rd_kafka_resp_err_t e;

	if (loop->batch_failed || begin(loop) != 0)
		return;
	for (;;) {
		e = rd_kafka_producev(
			loop->producer, RD_KAFKA_V_TOPIC(loop->topics[topic]),
			RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
			RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)value, len),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(loop->producer, 10);
	}
	if (e) {
		FC_WARN("sched", "produce to %s failed: %s; the batch will be aborted",
			loop->topics[topic], rd_kafka_err2str(e));
		loop->batch_failed = 1;
	}
}

/* The offsets after the batch's last record of every input partition. */
static rd_kafka_topic_partition_list_t *batch_offsets(const struct sched_loop *loop)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);

	for (size_t i = 0; i < loop->batch_count; i++) {
		const rd_kafka_message_t *m = loop->batch[i];
		const char *topic = rd_kafka_topic_name(m->rkt);
		rd_kafka_topic_partition_t *tp =
			rd_kafka_topic_partition_list_find(list, topic, m->partition);
		if (!tp)
			tp = rd_kafka_topic_partition_list_add(list, topic, m->partition);
		if (m->offset + 1 > tp->offset)
			tp->offset = m->offset + 1;
	}
	return list;
}

#define REWIND_MS 180000 /* how long a rewind may take before the instance exits */

/* Seeks every assigned partition back to its committed offset. */
static int rewind_to_committed(struct sched_loop *loop, struct fc_err *err)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_error_t *error;
	rd_kafka_resp_err_t e = rd_kafka_assignment(loop->consumer, &parts);

	if (e) {
		fc_err_set(err, FC_ERR_FATAL, "cannot read the assignment: %s",
			   rd_kafka_err2str(e));
		return -1;
	}
	if (fc_kafka_committed(loop->consumer, parts, 60000, err) != 0) {
		rd_kafka_topic_partition_list_destroy(parts);
		return -1;
	}
	for (int i = 0; i < parts->cnt; i++)
		if (parts->elems[i].offset < 0)
			parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
	/* A seek times out while a broker is paused or a leader moves (seen on
	 * a three-node cluster with a broker SIGSTOPed): that passes, so the
	 * seek is tried again for up to REWIND_MS before the instance gives up. */
	int64_t deadline = fc_mono_ms() + REWIND_MS;
	for (;;) {
		rd_kafka_topic_partition_list_t *attempt =
			rd_kafka_topic_partition_list_copy(parts);
		error = rd_kafka_seek_partitions(loop->consumer, attempt, 30000);
		rd_kafka_topic_partition_list_destroy(attempt);
		if (!error || rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__TIMED_OUT ||
		    fc_mono_ms() >= deadline)
			break;
		FC_WARN("sched", "rewind to the committed offsets: %s: trying again",
			rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		struct timespec pause = {0, 500 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	rd_kafka_topic_partition_list_destroy(parts);
	if (error) {
		fc_err_set(err, FC_ERR_FATAL, "cannot rewind to the committed offsets: %s",
			   rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return -1;
	}
	return 0;
}

static int abort_batch(struct sched_loop *loop, const char *why, struct fc_err *err)
{
	rd_kafka_error_t *error;

	FC_WARN("sched", "aborting the transaction: %s", why);
	/* librdkafka 2.0.2 can fail the abort fatally while AddPartitionsToTxn
	 * is in flight (issue #4849): flush first. */
	rd_kafka_flush(loop->producer, 10000);
	/* A retriable failure (the coordinator away for longer than the
	 * timeout) is tried again, as librdkafka asks: for up to 5 minutes. */
	for (int attempt = 1;; attempt++) {
		error = rd_kafka_abort_transaction(loop->producer, 30000);
		if (fc_kafka_err_from_error(error, "abort_transaction", err) == FC_ERR_NONE)
			break;
		if (err->action != FC_ERR_RETRY || attempt == 10)
			return -1;
		FC_WARN("sched", "%s; trying again", err->msg);
	}
	loop->txn_open = 0;
	loop->batch_failed = 0;
	loop->aborts++;
	drop_batch(loop);
	if (loop->ops.aborted && loop->ops.aborted(loop->ops.opaque, err) != 0)
		return -1;
	return rewind_to_committed(loop, err);
}

/* Sends the offsets and commits. 0, or -1 when the run must end. */
static int commit_batch(struct sched_loop *loop, struct fc_err *err)
{
	rd_kafka_error_t *error = NULL;
	enum fc_err_action action;
	struct fc_err step;

	int64_t t0 = fc_mono_ms(), t1;

	if (loop->batch_failed)
		return abort_batch(loop, "a record could not be produced", err);
	if (loop->ops.sound && !loop->ops.sound(loop->ops.opaque))
		return abort_batch(loop, "the batch lost part of a decision", err);
	if (loop->batch_count) {
		rd_kafka_consumer_group_metadata_t *cgmd =
			rd_kafka_consumer_group_metadata(loop->consumer);
		rd_kafka_topic_partition_list_t *offsets = batch_offsets(loop);
		error = rd_kafka_send_offsets_to_transaction(loop->producer, offsets, cgmd, -1);
		rd_kafka_topic_partition_list_destroy(offsets);
		rd_kafka_consumer_group_metadata_destroy(cgmd);
		if (error) {
			action = fc_kafka_err_from_error(error, "send_offsets_to_transaction",
							 &step);
			if (action == FC_ERR_FATAL) {
				*err = step;
				return -1;
			}
			return abort_batch(loop, step.msg, err);
		}
	}
	t1 = fc_mono_ms();
	for (;;) {
		error = rd_kafka_commit_transaction(loop->producer, -1);
		action = fc_kafka_err_from_error(error, "commit_transaction", &step);
		if (action == FC_ERR_NONE)
			break;
		if (action == FC_ERR_RETRY)
			continue;
		if (action == FC_ERR_ABORT)
			return abort_batch(loop, step.msg, err);
		*err = step;
		return -1;
	}
	FC_DEBUG("sched", "transaction of %zu records: offsets %lld ms, commit %lld ms",
		 loop->batch_count, (long long)(t1 - t0), (long long)(fc_mono_ms() - t1));
	loop->txn_open = 0;
	loop->commits++;
	if (loop->ops.committed)
		loop->ops.committed(loop->ops.opaque);
	drop_batch(loop);
	return 0;
}

/* Drops what the assigned partitions hold in memory and reads their ledger
 * again, as a new owner would. */
static int replay_assigned(struct sched_loop *loop, struct fc_err *err)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_resp_err_t e = rd_kafka_assignment(loop->consumer, &parts);
	size_t n;
	int32_t *numbers;
	int rc;

	if (e) {
		fc_err_set(err, FC_ERR_FATAL, "cannot read the assignment: %s",
			   rd_kafka_err2str(e));
		return -1;
	}
	if (!(numbers = distinct_partitions(parts, &n))) {
		rd_kafka_topic_partition_list_destroy(parts);
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	rd_kafka_topic_partition_list_destroy(parts);
	loop->ops.on_revoke(loop->ops.opaque, numbers, n);
	rc = loop->ops.on_assign(loop->ops.opaque, numbers, n, err);
	free(numbers);
	return rc;
}

/*
 * A fatal error of the producer that is no zombie's: librdkafka 2.0.2 (no
 * KIP-588) reports a transaction that the coordinator aborted on its timeout
 * (a broker was lost, and the batch could not be written within
 * transaction.timeout.ms) as "fenced". The instance goes on with a new
 * producer of the same transactional id, which fences the old epoch: the
 * open transaction is dropped, the assigned partitions' ledger is read again
 * (a commit whose answer was lost may have landed, so memory is not merely
 * rolled back) and the inputs rewound to the committed offsets. A second
 * process with the same instance.id would fence this one again and again:
 * after REPLACEMENTS_MAX in REPLACEMENTS_WINDOW_MS the run ends. Returns 0
 * when the loop can go on.
 */
static int replace_producer(struct sched_loop *loop, struct fc_err *err)
{
	char why[512];
	int64_t now = fc_mono_ms();

	if (!rd_kafka_fatal_error(loop->producer, why, sizeof(why)))
		return -1; /* not the producer's: err says what */
	if (loop->replaced_ms[REPLACEMENTS_MAX - 1] &&
	    now - loop->replaced_ms[REPLACEMENTS_MAX - 1] < REPLACEMENTS_WINDOW_MS) {
		fc_err_set(err, FC_ERR_FATAL,
			   "producer: %s; %d new producers in %d minutes: does another scheduler "
			   "run with transactional id %s?",
			   why, REPLACEMENTS_MAX, REPLACEMENTS_WINDOW_MS / 60000,
			   loop->transactional_id);
		return -1;
	}
	memmove(loop->replaced_ms + 1, loop->replaced_ms,
		(REPLACEMENTS_MAX - 1) * sizeof(loop->replaced_ms[0]));
	loop->replaced_ms[0] = now;
	FC_WARN("sched",
		"producer: %s; the open transaction is lost: starting a new producer "
		"and reading the ledger again",
		why);
	rd_kafka_purge(loop->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_destroy(loop->producer);
	if (!(loop->producer = producer_new(loop, err)))
		return -1;
	loop->txn_open = 0;
	loop->batch_failed = 0;
	loop->fatal = 0;
	loop->aborts++;
	drop_batch(loop);
	if (loop->ops.aborted && loop->ops.aborted(loop->ops.opaque, err) != 0)
		return -1;
	if (replay_assigned(loop, err) != 0 || rewind_to_committed(loop, err) != 0)
		return -1;
	FC_INFO("sched", "a new producer took over; the ledger is read again");
	return 0;
}

/* ------------------------------------------------------------------ run */

/* Polls up to batch_max records: waits up to wait_ms for the first, then
 * batch_ms more for the rest. */
static void collect(struct sched_loop *loop, int wait_ms)
{
	int64_t until = 0;

	while (loop->batch_count < (size_t)loop->config.batch_max && !loop->fatal) {
		int64_t now = fc_mono_ms();
		int timeout = loop->batch_count ? (int)(until > now ? until - now : 0) : wait_ms;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(loop->consumer, timeout);
		if (!m)
			return; /* the wait is over, with or without records */
		if (m->err) {
			if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
				char why[256];
				rd_kafka_fatal_error(loop->consumer, why, sizeof(why));
				fc_err_set(&loop->fatal_err, FC_ERR_FATAL, "consumer: %s", why);
				loop->fatal = 1;
			} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				FC_WARN("sched", "consumer: %s", rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (!loop->batch_count)
			until = fc_mono_ms() + loop->config.batch_ms;
		loop->batch[loop->batch_count++] = m;
	}
}

int sched_loop_run(struct sched_loop *loop, atomic_int *stop, struct fc_err *err)
{
	int64_t last_tick = 0;
	int rc = 0;

	while (!*stop) {
		if (loop->ops.idle)
			loop->ops.idle(loop->ops.opaque);
		collect(loop, (int)loop->config.tick_ms);
		if (loop->fatal) {
			*err = loop->fatal_err;
			rc = -1;
			break;
		}
		int64_t mono = fc_mono_ms(), now = fc_wall_ms();
		int tick = loop->ops.tick && mono - last_tick >= loop->config.tick_ms;
		if (!loop->batch_count && !tick)
			continue;
		for (size_t i = 0; i < loop->batch_count; i++) {
			enum fc_topic topic;
			if (topic_of(loop, loop->batch[i], &topic) == 0)
				loop->ops.apply(loop->ops.opaque, topic, loop->batch[i], now);
		}
		if (tick) {
			loop->ops.tick(loop->ops.opaque, now);
			last_tick = mono;
		}
		if (!loop->txn_open && !loop->batch_count) {
			/* The timers emitted nothing: undo what they changed if they
			 * lost part of it, else keep it. */
			if (loop->ops.sound && !loop->ops.sound(loop->ops.opaque)) {
				if (loop->ops.aborted && loop->ops.aborted(loop->ops.opaque, err)) {
					rc = -1;
					break;
				}
			} else if (loop->ops.committed) {
				loop->ops.committed(loop->ops.opaque);
			}
			continue;
		}
		if (loop->ops.flush)
			loop->ops.flush(loop->ops.opaque, now);
		if (begin(loop) != 0 || commit_batch(loop, err) != 0) {
			if (loop->fatal)
				*err = loop->fatal_err;
			if (replace_producer(loop, err) == 0)
				continue;
			rc = -1;
			break;
		}
	}
	if (rc != 0) {
		FC_ERROR("sched", "fatal: %s", err->msg);
		return -1;
	}
	/* Graceful stop: the last batch is committed; leave the group. */
	rd_kafka_consumer_close(loop->consumer);
	rd_kafka_flush(loop->producer, 10000);
	FC_INFO("sched", "stopped after %llu transactions (%llu aborted)",
		(unsigned long long)loop->commits, (unsigned long long)loop->aborts);
	return 0;
}
