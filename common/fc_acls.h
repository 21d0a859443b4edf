/*
 * fc_acls: the Kafka ACLs of each fleetcap role on one topic prefix
 * (docs/ARCHITECTURE.md §2, "Roles and ACLs"), created with the admin API.
 *
 *   scheduler  reads commands, alerts, results, ledger, workers; writes
 *              jobs, ledger, status; group PREFIXscheduler
 *   worker     reads jobs; writes results, workers; groups PREFIXworker-*
 *   client     (API, CLI) writes commands, alerts; reads status, workers
 *   consumer   (downstream) reads results, status; groups PREFIXconsumer-*
 * and every reading role uses the group "fleetcap-reader" (assign only,
 * never a commit).
 *
 * Not here: the scheduler's transactional ids (prefixed
 * "fleetcap-scheduler-", WRITE and DESCRIBE). librdkafka 2.0.2 has no
 * TransactionalId resource type, so they are granted with Kafka's own
 * kafka-acls tool; FC_ACLS_TXN_HINT says how.
 */
#ifndef FC_ACLS_H
#define FC_ACLS_H

#include <librdkafka/rdkafka.h>

#include "fc_err.h"

/* Principals ("User:NAME"); NULL leaves that role without ACLs. */
struct fc_acl_principals {
	const char *scheduler, *worker, *client, *consumer;
};

#define FC_ACLS_TXN_ID_PREFIX "fleetcap-scheduler-"
#define FC_ACLS_TXN_HINT                                                                           \
	"kafka-acls.sh --add --allow-principal SCHEDULER --operation Write --operation Describe "  \
	"--transactional-id " FC_ACLS_TXN_ID_PREFIX " --resource-pattern-type prefixed"

/* Creates the ACLs (creating one that exists is no error). Returns the
 * number created, or -1 with err naming the first refused binding. */
int fc_acls_grant(rd_kafka_t *rk, const char *prefix, const struct fc_acl_principals *who,
		  int timeout_ms, struct fc_err *err);

#endif
