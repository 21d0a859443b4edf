/*
 * it_kafka: the Kafka credentials of each role when the services run
 * secured ("scripts/services.sh start --secure" exports FLEETCAP_KAFKA_SECURE,
 * a directory of ROLE.conf files: admin, scheduler, worker, client,
 * consumer). With plain services every function gives nothing, so a test
 * runs unchanged either way.
 *
 * The test's own clients (topic creation, stand-in hosts, raw readers) are
 * admin; each daemon gets its role's settings (it_fleet's spawn); the CLI
 * reads the client role's file through FLEETCAP_CONFIG.
 */
#ifndef IT_KAFKA_H
#define IT_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "fc_config.h"

/* The role's librdkafka properties, or NULL when the services are plain. */
const struct fc_kv_list *it_kafka_props(const char *role);

/* The same as "kafka.KEY=VALUE" settings for a daemon's -X, NULL-ended
 * (empty when plain). */
const char *const *it_kafka_settings(const char *role);

/* fc_kafka_conf_new() with the role's properties; dies on error. */
rd_kafka_conf_t *it_kafka_conf(const char *brokers, const char *role);

/* Grants the roles their ACLs on prefix's topics (fc_acls_grant) when
 * secured; dies on failure. */
void it_kafka_grant(rd_kafka_t *admin, const char *prefix);

#endif
