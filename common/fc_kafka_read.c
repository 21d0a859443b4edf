/*
 * fc_kafka_read: reading partitions to their end, as the scheduler does to
 * replay its ledger and load the workers table and as the CLI does to read
 * status; see fc_kafka.h.
 *
 * "The end" is the high watermark queried before reading. A partition is
 * done when the consumer has delivered the record just below it, or when an
 * end-of-partition event reports an offset at or past it. With
 * read_committed, end-of-partition comes at the last stable offset, which
 * stays below the watermark while a transaction is open; the read then waits
 * for the transaction to commit or abort (or time out on the broker), so a
 * scheduler taking over a partition never misses a committed ledger record.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_kafka.h"
#include "fc_log.h"

int64_t fc_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fc_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

rd_kafka_t *fc_kafka_reader_new(const char *brokers, const struct fc_kv_list *kafka_props,
				struct fc_err *err)
{
	rd_kafka_conf_t *conf = fc_kafka_consumer_conf_new(brokers, kafka_props, err);
	char errstr[512];
	rd_kafka_t *rk;

	if (!conf)
		return NULL;
	if (fc_kafka_conf_set(conf, "enable.partition.eof", "true", err) ||
	    fc_kafka_conf_set(conf, "enable.auto.commit", "false", err) ||
	    fc_kafka_conf_set(conf, "isolation.level", "read_committed", err)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	/* librdkafka 2.0.2 refuses assign() without a group.id; a reader
	 * never joins or commits, so any name will do. */
	rd_kafka_conf_set(conf, "group.id", "fleetcap-reader", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fc_err_set(err, FC_ERR_FATAL, "cannot create a Kafka reader: %s", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static void refresh_metadata(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

	if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(md);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
}

int fc_kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t *lo,
			int64_t *hi, int timeout_ms, struct fc_err *err)
{
	int64_t deadline = fc_mono_ms() + timeout_ms;
	rd_kafka_resp_err_t e;

	/* Right after a topic is created, or while leadership moves, the
	 * answer is "not leader" for a moment: ask again until the deadline. */
	for (;;) {
		e = rd_kafka_query_watermark_offsets(rk, topic, partition, lo, hi, timeout_ms);
		if (!e)
			return 0;
		if (fc_mono_ms() >= deadline)
			break;
		/* librdkafka asks the leader it has cached and does not refresh
		 * it on "not leader" here: ask for the topic's metadata, which
		 * updates the cache, once a broker was lost. */
		refresh_metadata(rk, topic);
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	fc_err_set(err, FC_ERR_RETRY, "%s [%d]: cannot read the end offset: %s", topic, partition,
		   rd_kafka_err2str(e));
	return -1;
}

int fc_kafka_assign_all(rd_kafka_t *rk, const char *topic, int64_t offset, struct fc_err *err)
{
	int n = fc_topic_partition_count(rk, topic, 30000, err);
	rd_kafka_resp_err_t e;

	if (n < 0)
		return -1;
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
	for (int32_t p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset = offset;
	e = rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (e) {
		fc_err_set(err, FC_ERR_FATAL, "cannot read %s: %s", topic, rd_kafka_err2str(e));
		return -1;
	}
	return n;
}

int fc_kafka_committed(rd_kafka_t *consumer, rd_kafka_topic_partition_list_t *list, int timeout_ms,
		       struct fc_err *err)
{
	int64_t deadline = fc_mono_ms() + timeout_ms;
	rd_kafka_resp_err_t e;

	/* While the group coordinator moves (a broker lost, __consumer_offsets
	 * still loading) the answer is "not coordinator" or "load in progress"
	 * for seconds: ask again until the deadline. */
	for (;;) {
		int64_t left = deadline - fc_mono_ms();
		e = rd_kafka_committed(consumer, list,
				       (int)(left < 10000 ? (left > 0 ? left : 1) : 10000));
		for (int i = 0; !e && i < list->cnt; i++)
			e = list->elems[i].err;
		if (!e)
			return 0;
		if (fc_mono_ms() >= deadline)
			break;
		FC_DEBUG("kafka", "committed offsets: %s; asking again", rd_kafka_err2str(e));
		struct timespec pause = {0, 200 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	fc_err_set(err, FC_ERR_RETRY, "cannot read the committed offsets of %s [%d]: %s",
		   list->cnt ? list->elems[0].topic : "?",
		   list->cnt ? list->elems[0].partition : -1, rd_kafka_err2str(e));
	return -1;
}

struct part {
	int32_t partition;
	int64_t end;
	int done;
};

static struct part *find_part(struct part *parts, size_t n, int32_t partition)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i].partition == partition)
			return &parts[i];
	return NULL;
}

int fc_kafka_read_to_end(rd_kafka_t *consumer, const char *topic, const int32_t *partitions,
			 size_t count, int timeout_ms, fc_kafka_record_fn fn, void *opaque,
			 struct fc_err *err)
{
	struct part *parts = calloc(count ? count : 1, sizeof(*parts));
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)count);
	int64_t deadline = fc_mono_ms() + timeout_ms;
	size_t remaining = 0;
	int rc = -1;

	if (!parts) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		int64_t lo, hi;
		if (fc_kafka_watermarks(consumer, topic, partitions[i], &lo, &hi, timeout_ms,
					err) != 0)
			goto out;
		parts[i].partition = partitions[i];
		parts[i].end = hi;
		parts[i].done = hi <= lo;
		FC_DEBUG("kafka", "%s [%d]: reading offsets %lld to %lld", topic, partitions[i],
			 (long long)lo, (long long)hi);
		if (!parts[i].done) {
			rd_kafka_topic_partition_list_add(list, topic, partitions[i])->offset =
				RD_KAFKA_OFFSET_BEGINNING;
			remaining++;
		}
	}
	if (!remaining) {
		rc = 0;
		goto out;
	}
	if (rd_kafka_assign(consumer, list)) {
		fc_err_set(err, FC_ERR_FATAL, "%s: cannot assign partitions", topic);
		goto out;
	}
	while (remaining) {
		int64_t left = deadline - fc_mono_ms();
		if (left <= 0) {
			fc_err_set(err, FC_ERR_RETRY,
				   "%s: not read to the end within %d ms (an open transaction "
				   "or an unreachable broker)",
				   topic, timeout_ms);
			goto unassign;
		}
		rd_kafka_message_t *m =
			rd_kafka_consumer_poll(consumer, left < 200 ? (int)left : 200);
		if (!m)
			continue;
		struct part *p = m->rkt && strcmp(rd_kafka_topic_name(m->rkt), topic) == 0
					 ? find_part(parts, count, m->partition)
					 : NULL;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			FC_DEBUG("kafka", "%s [%d]: end of partition at %lld", topic, m->partition,
				 (long long)m->offset);
			if (p && !p->done && m->offset >= p->end) {
				p->done = 1;
				remaining--;
			}
		} else if (m->err) {
			FC_WARN("kafka", "%s: %s", topic, rd_kafka_message_errstr(m));
		} else if (p && !p->done && m->offset < p->end) {
			if (fn(opaque, m->partition, m->offset, m->key, m->key_len, m->payload,
			       m->len) != 0) {
				fc_err_set(err, FC_ERR_FATAL, "%s [%d] offset %lld: record refused",
					   topic, m->partition, (long long)m->offset);
				rd_kafka_message_destroy(m);
				goto unassign;
			}
			if (m->offset + 1 >= p->end) {
				p->done = 1;
				remaining--;
			}
		}
		rd_kafka_message_destroy(m);
	}
	rc = 0;
unassign:
	rd_kafka_assign(consumer, NULL);
out:
	rd_kafka_topic_partition_list_destroy(list);
	free(parts);
	return rc;
}
