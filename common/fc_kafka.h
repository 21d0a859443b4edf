/*
 * fc_kafka: librdkafka helpers shared by every fleetcap client.
 *
 *  - fc_kafka_conf_new(): a configuration with the brokers, the
 *    murmur2_random partitioner (docs/ARCHITECTURE.md §2), librdkafka's log routed
 *    through fc_log, and every "kafka.*" config key passed verbatim;
 *  - fc_kafka_err_from_error(): turns an rd_kafka_error_t into an fc_err whose
 *    action says whether to retry, abort the transaction or exit;
 *  - topic names and creation: fc_topics.c.
 */
#ifndef FC_KAFKA_H
#define FC_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "fc_config.h"
#include "fc_err.h"

/*
 * Returns a new configuration, or NULL with err naming the property that
 * librdkafka refused. brokers may be NULL when kafka_props sets
 * bootstrap.servers; kafka_props may be NULL. The caller owns the result
 * until it passes it to rd_kafka_new().
 */
rd_kafka_conf_t *fc_kafka_conf_new(const char *brokers, const struct fc_kv_list *kafka_props,
				   struct fc_err *err);

/* The same for a consumer: no partitioner (a producer property). */
rd_kafka_conf_t *fc_kafka_consumer_conf_new(const char *brokers,
					    const struct fc_kv_list *kafka_props,
					    struct fc_err *err);

/* Sets one property, with err naming it on failure. */
/*
 * The partition the configured partitioner (murmur2_random) gives key among
 * partition_cnt (> 0) partitions: the Java client's murmur2, so that clients
 * in any language agree. The scheduler maps quota keys to the ledger
 * partitions it owns with it, and a worker finds its jobs partition.
 */
int32_t fc_partition_for_key(const void *key, size_t len, int32_t partition_cnt);

int fc_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
		      struct fc_err *err);

/*
 * Classifies and consumes error (destroys it): fatal → FC_ERR_FATAL,
 * txn_requires_abort → FC_ERR_ABORT, retriable → FC_ERR_RETRY, anything
 * else → FC_ERR_FATAL. what names the failed operation. Returns the action.
 */
enum fc_err_action fc_kafka_err_from_error(rd_kafka_error_t *error, const char *what,
					   struct fc_err *err);

/* The topics of docs/ARCHITECTURE.md §2. */
enum fc_topic {
	FC_TOPIC_COMMANDS,
	FC_TOPIC_ALERTS,
	FC_TOPIC_RESULTS,
	FC_TOPIC_LEDGER,
	FC_TOPIC_STATUS,
	FC_TOPIC_JOBS,
	FC_TOPIC_WORKERS,
	FC_TOPIC_COUNT
};

#define FC_TOPIC_PREFIX_DEFAULT "fleetcap."
#define FC_TOPIC_NAME_MAX	249 /* Kafka's limit */

/* "commands", "alerts", … */
const char *fc_topic_suffix(enum fc_topic topic);

/* 1 for the compacted tables: ledger, status, workers. */
int fc_topic_compacted(enum fc_topic topic);

/* 1 for the co-partitioned inputs of the scheduler: commands, alerts, results, ledger. */
int fc_topic_copartitioned(enum fc_topic topic);

/* Writes prefix + suffix into buf. Returns 0, or -1 if it does not fit or is invalid. */
int fc_topic_name(const char *prefix, enum fc_topic topic, char *buf, size_t len);

/*
 * Creates every topic with the given partition count and replication factor
 * (cleanup.policy=compact for the compacted ones) through the admin API, and
 * waits until all are in the metadata. Topics that already exist are kept;
 * if their co-partitioned group has unequal partition counts the call fails,
 * since the scheduler's ownership of quota keys depends on it.
 */
int fc_topics_create(rd_kafka_t *rk, const char *prefix, int partitions, int replication,
		     int timeout_ms, struct fc_err *err);

/* The partition count of topic, or -1 with err set. */
int fc_topic_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, struct fc_err *err);

/*
 * Called for each record read by fc_kafka_read_to_end(); value NULL is a
 * tombstone. Returns 0 to go on, -1 to stop the read with an error.
 */
typedef int (*fc_kafka_record_fn)(void *opaque, int32_t partition, int64_t offset, const char *key,
				  size_t key_len, const void *value, size_t len);

/*
 * Reads the given partitions of topic from the beginning up to their high
 * watermark as of the call, with consumer (a handle without a subscription,
 * created with enable.partition.eof=true; isolation.level as the caller
 * wants). With read_committed the read also waits until every transaction
 * below that watermark is resolved, so the caller has seen every committed
 * record that existed when it asked. The partitions are unassigned again at
 * the end. Returns 0, or -1 with err (FC_ERR_RETRY on a timeout).
 */
int fc_kafka_read_to_end(rd_kafka_t *consumer, const char *topic, const int32_t *partitions,
			 size_t count, int timeout_ms, fc_kafka_record_fn fn, void *opaque,
			 struct fc_err *err);

/* The low and high watermarks of a partition, asking again on transient
 * errors until timeout_ms. 0, or -1 with err. */
int fc_kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t *lo,
			int64_t *hi, int timeout_ms, struct fc_err *err);

/* Assigns every partition of topic to rk at offset (RD_KAFKA_OFFSET_BEGINNING,
 * …). The partition count, or -1 with err. */
int fc_kafka_assign_all(rd_kafka_t *rk, const char *topic, int64_t offset, struct fc_err *err);

/*
 * rd_kafka_committed for the consumer's group, asking again on errors (the
 * group coordinator moving after a broker is lost) until timeout_ms; also
 * fails on a partition's own error. 0, or -1 with err (FC_ERR_RETRY).
 */
int fc_kafka_committed(rd_kafka_t *consumer, rd_kafka_topic_partition_list_t *list, int timeout_ms,
		       struct fc_err *err);

/* A consumer for fc_kafka_read_to_end (no group, read_committed, EOF events). */
rd_kafka_t *fc_kafka_reader_new(const char *brokers, const struct fc_kv_list *kafka_props,
				struct fc_err *err);

/* Milliseconds of CLOCK_MONOTONIC and of the wall clock. */
int64_t fc_mono_ms(void);
int64_t fc_wall_ms(void);

#endif
