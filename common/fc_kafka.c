/* fc_kafka: configuration and error helpers; see fc_kafka.h. */
#include "fc_kafka.h"

#include <stdio.h>
#include <string.h>

#include "fc_log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	enum fc_log_level ours = fc_log_level_from_syslog(level);

	if (ours <= fc_log_threshold)
		fc_log_write(ours, "rdkafka", "%s %s: %s", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

int fc_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, struct fc_err *err)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		/* librdkafka's message names the property; values may be secrets
		 * (sasl.password), so ours does not repeat the value. */
		fc_err_set(err, FC_ERR_INVALID, "kafka.%s: %s", key, errstr);
		return -1;
	}
	return 0;
}

static rd_kafka_conf_t *conf_new(const char *brokers, const struct fc_kv_list *kafka_props,
				 int producer, struct fc_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	rd_kafka_conf_set_log_cb(conf, log_cb);
	if (brokers && *brokers && fc_kafka_conf_set(conf, "bootstrap.servers", brokers, err) != 0)
		goto fail;
	/* Java-compatible partitioning, so clients in any language agree (§2). */
	if (producer && fc_kafka_conf_set(conf, "partitioner", "murmur2_random", err) != 0)
		goto fail;
	for (size_t i = 0; kafka_props && i < kafka_props->count; i++)
		if (fc_kafka_conf_set(conf, kafka_props->items[i].key, kafka_props->items[i].value,
				      err) != 0)
			goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

rd_kafka_conf_t *fc_kafka_conf_new(const char *brokers, const struct fc_kv_list *kafka_props,
				   struct fc_err *err)
{
	return conf_new(brokers, kafka_props, 1, err);
}

rd_kafka_conf_t *fc_kafka_consumer_conf_new(const char *brokers,
					    const struct fc_kv_list *kafka_props,
					    struct fc_err *err)
{
	return conf_new(brokers, kafka_props, 0, err);
}

enum fc_err_action fc_kafka_err_from_error(rd_kafka_error_t *error, const char *what,
					   struct fc_err *err)
{
	enum fc_err_action action;

	if (!error) {
		fc_err_clear(err);
		return FC_ERR_NONE;
	}
	if (rd_kafka_error_is_fatal(error))
		action = FC_ERR_FATAL;
	else if (rd_kafka_error_txn_requires_abort(error))
		action = FC_ERR_ABORT;
	else if (rd_kafka_error_is_retriable(error))
		action = FC_ERR_RETRY;
	else
		action = FC_ERR_FATAL;
	fc_err_set(err, action, "%s: %s (%s)", what, rd_kafka_error_string(error),
		   rd_kafka_error_name(error));
	rd_kafka_error_destroy(error);
	return action;
}

int32_t fc_partition_for_key(const void *key, size_t len, int32_t partition_cnt)
{
	/* librdkafka's own partitioner: it reads neither the topic nor the opaques. */
	return rd_kafka_msg_partitioner_murmur2(NULL, key, len, partition_cnt, NULL, NULL);
}
