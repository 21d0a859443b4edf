/* fc_topics: fleetcap's topic names and their creation (docs/ARCHITECTURE.md §2); see fc_kafka.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fc_kafka.h"
#include "fc_log.h"

static const struct {
	const char *suffix;
	int compacted;
	int copartitioned;
} topics[FC_TOPIC_COUNT] = {
	[FC_TOPIC_COMMANDS] = {"commands", 0, 1}, [FC_TOPIC_ALERTS] = {"alerts", 0, 1},
	[FC_TOPIC_RESULTS] = {"results", 0, 1},	  [FC_TOPIC_LEDGER] = {"ledger", 1, 1},
	[FC_TOPIC_STATUS] = {"status", 1, 0},	  [FC_TOPIC_JOBS] = {"jobs", 0, 0},
	[FC_TOPIC_WORKERS] = {"workers", 1, 0},
};

const char *fc_topic_suffix(enum fc_topic topic)
{
	return (unsigned)topic < FC_TOPIC_COUNT ? topics[topic].suffix : NULL;
}

int fc_topic_compacted(enum fc_topic topic)
{
	return (unsigned)topic < FC_TOPIC_COUNT && topics[topic].compacted;
}

int fc_topic_copartitioned(enum fc_topic topic)
{
	return (unsigned)topic < FC_TOPIC_COUNT && topics[topic].copartitioned;
}

int fc_topic_name(const char *prefix, enum fc_topic topic, char *buf, size_t len)
{
	const char *suffix = fc_topic_suffix(topic);
	int n;

	if (!suffix)
		return -1;
	/* Kafka allows [a-zA-Z0-9._-] in topic names. */
	for (const char *p = prefix; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return -1;
	n = snprintf(buf, len, "%s%s", prefix, suffix);
	return n < 0 || (size_t)n >= len || n > FC_TOPIC_NAME_MAX ? -1 : 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Partition count of a topic in md with all leaders elected, 0 if not ready. */
static int ready_partitions(const rd_kafka_metadata_t *md, const char *name)
{
	for (int i = 0; i < md->topic_cnt; i++) {
		const rd_kafka_metadata_topic_t *t = &md->topics[i];
		if (strcmp(t->topic, name) != 0)
			continue;
		if (t->err || t->partition_cnt == 0)
			return 0;
		for (int p = 0; p < t->partition_cnt; p++)
			if (t->partitions[p].err || t->partitions[p].leader < 0)
				return 0;
		return t->partition_cnt;
	}
	return 0;
}

int fc_topic_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, struct fc_err *err)
{
	const rd_kafka_metadata_t *md;
	rd_kafka_resp_err_t e;
	long long deadline = now_ms() + timeout_ms;
	int count;

	do {
		e = rd_kafka_metadata(rk, 1, NULL, &md, 5000);
		if (e) {
			fc_err_set(err, FC_ERR_RETRY, "metadata request failed: %s",
				   rd_kafka_err2str(e));
			return -1;
		}
		count = ready_partitions(md, topic);
		rd_kafka_metadata_destroy(md);
		if (count > 0)
			return count;
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	} while (now_ms() < deadline);
	fc_err_set(err, FC_ERR_RETRY, "topic %s is not ready after %d ms", topic, timeout_ms);
	return -1;
}

static int send_create(rd_kafka_t *rk, char names[FC_TOPIC_COUNT][FC_TOPIC_NAME_MAX + 1],
		       int partitions, int replication, int timeout_ms, struct fc_err *err)
{
	rd_kafka_NewTopic_t *newt[FC_TOPIC_COUNT] = {0};
	rd_kafka_AdminOptions_t *options = NULL;
	rd_kafka_queue_t *queue = NULL;
	rd_kafka_event_t *ev = NULL;
	char errstr[512];
	int rc = -1;

	for (int t = 0; t < FC_TOPIC_COUNT; t++) {
		newt[t] = rd_kafka_NewTopic_new(names[t], partitions, replication, errstr,
						sizeof(errstr));
		if (!newt[t]) {
			fc_err_set(err, FC_ERR_INVALID, "topic %s: %s", names[t], errstr);
			goto out;
		}
		if (fc_topic_compacted((enum fc_topic)t) &&
		    rd_kafka_NewTopic_set_config(newt[t], "cleanup.policy", "compact")) {
			fc_err_set(err, FC_ERR_FATAL, "topic %s: cannot set cleanup.policy",
				   names[t]);
			goto out;
		}
	}
	options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, errstr,
							sizeof(errstr)) ||
	    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr,
						      sizeof(errstr))) {
		fc_err_set(err, FC_ERR_INVALID, "admin options: %s", errstr);
		goto out;
	}
	queue = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, newt, FC_TOPIC_COUNT, options, queue);
	ev = rd_kafka_queue_poll(queue, timeout_ms + 5000);
	if (!ev) {
		fc_err_set(err, FC_ERR_RETRY, "CreateTopics: no answer within %d ms",
			   timeout_ms + 5000);
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		fc_err_set(err, FC_ERR_RETRY, "CreateTopics: %s", rd_kafka_event_error_string(ev));
		goto out;
	}
	size_t cnt;
	const rd_kafka_topic_result_t **res =
		rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
	for (size_t i = 0; i < cnt; i++) {
		rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			FC_INFO("kafka", "created topic %s", rd_kafka_topic_result_name(res[i]));
		else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			fc_err_set(err, FC_ERR_FATAL, "cannot create topic %s: %s",
				   rd_kafka_topic_result_name(res[i]),
				   rd_kafka_topic_result_error_string(res[i]));
			goto out;
		}
	}
	rc = 0;
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (queue)
		rd_kafka_queue_destroy(queue);
	if (options)
		rd_kafka_AdminOptions_destroy(options);
	for (int t = 0; t < FC_TOPIC_COUNT; t++)
		if (newt[t])
			rd_kafka_NewTopic_destroy(newt[t]);
	return rc;
}

int fc_topics_create(rd_kafka_t *rk, const char *prefix, int partitions, int replication,
		     int timeout_ms, struct fc_err *err)
{
	char names[FC_TOPIC_COUNT][FC_TOPIC_NAME_MAX + 1];
	int copartitions = 0;

	for (int t = 0; t < FC_TOPIC_COUNT; t++) {
		if (fc_topic_name(prefix, (enum fc_topic)t, names[t], sizeof(names[t])) != 0) {
			fc_err_set(err, FC_ERR_INVALID,
				   "topics.prefix \"%.64s\": expected letters, digits, '.', '_' or "
				   "'-', at most %d characters with the topic name",
				   prefix, FC_TOPIC_NAME_MAX);
			return -1;
		}
	}
	if (send_create(rk, names, partitions, replication, timeout_ms, err) != 0)
		return -1;
	for (int t = 0; t < FC_TOPIC_COUNT; t++) {
		int count = fc_topic_partition_count(rk, names[t], timeout_ms, err);
		if (count < 0)
			return -1;
		if (!fc_topic_copartitioned((enum fc_topic)t))
			continue;
		if (copartitions && count != copartitions) {
			fc_err_set(
				err, FC_ERR_FATAL,
				"topic %s has %d partitions but the other scheduler inputs have "
				"%d: commands, alerts, results and ledger must be co-partitioned",
				names[t], count, copartitions);
			return -1;
		}
		copartitions = count;
	}
	return 0;
}
