/*
 * Least privilege on the real, secured broker ("scripts/services.sh start
 * --secure"): after "fleetcap topics acls" (fc_acls_grant), each role's
 * credentials reach what its daemon needs and nothing else. Above all, a
 * compromised worker can neither write a command nor read the commands or
 * the ledger (where a create's SAS token passes), and an API or CLI token
 * can neither read jobs nor forge a status.
 *
 * Skipped when the services are plain (no FLEETCAP_KAFKA_SECURE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fc_kafka.h"
#include "it_env.h"
#include "it_kafka.h"

static const char *brokers;
static char prefix[64];

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	*(rd_kafka_resp_err_t *)m->_private = m->err;
}

/* The error of producing one record to topic as role (0 when Kafka has it). */
static rd_kafka_resp_err_t produce_as(const char *role, enum fc_topic topic)
{
	char name[FC_TOPIC_NAME_MAX + 1], errstr[512];
	rd_kafka_conf_t *conf = it_kafka_conf(brokers, role);
	rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__IN_PROGRESS;
	struct fc_err err;

	fc_topic_name(prefix, topic, name, sizeof(name));
	if (fc_kafka_conf_set(conf, "message.timeout.ms", "20000", &err))
		fail_msg("%s", err.msg);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk)
		fail_msg("%s", errstr);
	if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(name), RD_KAFKA_V_KEY("k", 1),
			      RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_OPAQUE(&result),
			      RD_KAFKA_V_END) != 0)
		fail_msg("producev to %s failed at once", name);
	while (result == RD_KAFKA_RESP_ERR__IN_PROGRESS)
		rd_kafka_poll(rk, 100);
	rd_kafka_destroy(rk);
	return result;
}

/* The error of reading topic from the start as role, in group (0 when it
 * reads to the end). A subscription, because librdkafka 2.0.2 passes a
 * refused fetch of an assign()ed partition to the application as nothing
 * at all. */
static rd_kafka_resp_err_t read_as(const char *role, enum fc_topic topic, const char *group)
{
	char name[FC_TOPIC_NAME_MAX + 1], errstr[512];
	rd_kafka_conf_t *conf = it_kafka_conf(brokers, role);
	rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__IN_PROGRESS;
	struct fc_err err;

	fc_topic_name(prefix, topic, name, sizeof(name));
	if (fc_kafka_conf_set(conf, "group.id", group, &err) ||
	    fc_kafka_conf_set(conf, "enable.partition.eof", "true", &err) ||
	    fc_kafka_conf_set(conf, "enable.auto.commit", "false", &err) ||
	    fc_kafka_conf_set(conf, "auto.offset.reset", "earliest", &err))
		fail_msg("%s", err.msg);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk)
		fail_msg("%s", errstr);
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(list, name, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(rk, list) != 0)
		fail_msg("subscribe to %s failed at once", name);
	rd_kafka_topic_partition_list_destroy(list);
	/* A guard against a hang, not a time limit on the broker. */
	for (int polls = 0; result == RD_KAFKA_RESP_ERR__IN_PROGRESS && polls < 600; polls++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			result = RD_KAFKA_RESP_ERR_NO_ERROR;
		else if (m->err)
			result = m->err;
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return result;
}

#define REFUSED RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED

static int setup(void **state)
{
	char errstr[512];
	struct fc_err err;
	(void)state;

	brokers = it_require_env("FLEETCAP_BROKERS");
	if (!it_kafka_props("admin"))
		return 0;
	it_unique(prefix, sizeof(prefix), "it-acls-");
	strcat(prefix, ".");
	rd_kafka_t *admin = rd_kafka_new(RD_KAFKA_PRODUCER, it_kafka_conf(brokers, "admin"), errstr,
					 sizeof(errstr));
	if (!admin || fc_topics_create(admin, prefix, 1, it_replication(), 30000, &err) != 0)
		fail_msg("cannot create the topics: %s", admin ? err.msg : errstr);
	it_kafka_grant(admin, prefix);
	rd_kafka_destroy(admin);
	return 0;
}

static void test_worker(void **state)
{
	char group[128];
	(void)state;
	if (!it_kafka_props("admin"))
		skip();
	snprintf(group, sizeof(group), "%sworker-h1", prefix);
	/* What a worker does. */
	assert_int_equal(produce_as("worker", FC_TOPIC_RESULTS), 0);
	assert_int_equal(produce_as("worker", FC_TOPIC_WORKERS), 0);
	assert_int_equal(read_as("worker", FC_TOPIC_JOBS, group), 0);
	/* What a compromised host would like to do. */
	assert_int_equal(produce_as("worker", FC_TOPIC_COMMANDS), REFUSED);
	assert_int_equal(produce_as("worker", FC_TOPIC_JOBS), REFUSED);
	assert_int_equal(produce_as("worker", FC_TOPIC_LEDGER), REFUSED);
	assert_int_equal(produce_as("worker", FC_TOPIC_STATUS), REFUSED);
	assert_int_equal(read_as("worker", FC_TOPIC_COMMANDS, group), REFUSED);
	assert_int_equal(read_as("worker", FC_TOPIC_LEDGER, group), REFUSED);
	assert_int_equal(read_as("worker", FC_TOPIC_STATUS, group), REFUSED);
	assert_int_equal(read_as("worker", FC_TOPIC_RESULTS, group), REFUSED);
}

static void test_client(void **state)
{
	(void)state;
	if (!it_kafka_props("admin"))
		skip();
	assert_int_equal(produce_as("client", FC_TOPIC_COMMANDS), 0);
	assert_int_equal(produce_as("client", FC_TOPIC_ALERTS), 0);
	assert_int_equal(read_as("client", FC_TOPIC_STATUS, "fleetcap-reader"), 0);
	assert_int_equal(read_as("client", FC_TOPIC_WORKERS, "fleetcap-reader"), 0);
	assert_int_equal(produce_as("client", FC_TOPIC_STATUS), REFUSED);
	assert_int_equal(produce_as("client", FC_TOPIC_JOBS), REFUSED);
	assert_int_equal(produce_as("client", FC_TOPIC_RESULTS), REFUSED);
	assert_int_equal(read_as("client", FC_TOPIC_JOBS, "fleetcap-reader"), REFUSED);
	assert_int_equal(read_as("client", FC_TOPIC_LEDGER, "fleetcap-reader"), REFUSED);
	assert_int_equal(read_as("client", FC_TOPIC_COMMANDS, "fleetcap-reader"), REFUSED);
}

static void test_consumer_and_scheduler(void **state)
{
	char group[128];
	(void)state;
	if (!it_kafka_props("admin"))
		skip();
	snprintf(group, sizeof(group), "%sconsumer-1", prefix);
	assert_int_equal(read_as("consumer", FC_TOPIC_RESULTS, group), 0);
	assert_int_equal(read_as("consumer", FC_TOPIC_STATUS, group), 0);
	assert_int_equal(read_as("consumer", FC_TOPIC_LEDGER, group), REFUSED);
	assert_int_equal(read_as("consumer", FC_TOPIC_COMMANDS, group), REFUSED);
	assert_int_equal(produce_as("consumer", FC_TOPIC_RESULTS), REFUSED);
	/* The scheduler reads what it admits and writes what it decides, and
	 * cannot pose as a worker or a client. */
	snprintf(group, sizeof(group), "%sscheduler", prefix);
	assert_int_equal(read_as("scheduler", FC_TOPIC_COMMANDS, group), 0);
	assert_int_equal(produce_as("scheduler", FC_TOPIC_JOBS), 0);
	assert_int_equal(produce_as("scheduler", FC_TOPIC_RESULTS), REFUSED);
	assert_int_equal(produce_as("scheduler", FC_TOPIC_COMMANDS), REFUSED);
	assert_int_equal(read_as("scheduler", FC_TOPIC_JOBS, group), REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_consumer_and_scheduler),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
