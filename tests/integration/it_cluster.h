/*
 * it_cluster: the three-node Kafka cluster of `scripts/services.sh start
 * --cluster`, for fault tests: which node leads a partition or coordinates
 * a transactional id, signals to a node's process group, and a killed node
 * started again (services.sh restart-node). Nodes are numbered 1-3, as their
 * node.id.
 */
#ifndef IT_CLUSTER_H
#define IT_CLUSTER_H

#include <librdkafka/rdkafka.h>

#define IT_CLUSTER_NODES 3

/* 1 when the services run the cluster (FLEETCAP_KAFKA_NODES=3). */
int it_cluster_present(void);

/* Sends sig to node's process group (SIGKILL, SIGSTOP, SIGCONT). */
void it_cluster_signal(int node, int sig);

/* Starts a killed node again and waits until it answers metadata. */
void it_cluster_restart(int node);

/* The node leading topic's partition, or -1 when none does (yet). */
int it_cluster_leader(rd_kafka_t *rk, const char *topic, int partition);

/*
 * The node that coordinates transactional_id's transactions: the leader of
 * its partition of __transaction_state (Java's String.hashCode of the id,
 * as the broker computes it, modulo the partition count).
 */
int it_cluster_txn_coordinator(rd_kafka_t *rk, const char *transactional_id);

/*
 * Waits (a guard against a hang, not a bound) until every partition of
 * every topic has a leader and all three replicas in sync; 0 when it does.
 */
int it_cluster_wait_healthy(rd_kafka_t *rk, int timeout_s);

#endif
