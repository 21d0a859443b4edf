/* it_cluster: the three-node test cluster; see it_cluster.h. */
#include "it_cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "it_env.h"

static pid_t pids[IT_CLUSTER_NODES + 1];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "it_cluster: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

int it_cluster_present(void)
{
	const char *n = getenv("FLEETCAP_KAFKA_NODES");
	return n && atoi(n) == IT_CLUSTER_NODES;
}

static pid_t node_pid(int node)
{
	if (node < 1 || node > IT_CLUSTER_NODES)
		die("no node %d: nodes are 1-3", node);
	if (!pids[node]) {
		const char *list = it_require_env("FLEETCAP_KAFKA_PIDS");
		char *end;
		for (int n = 1; n <= IT_CLUSTER_NODES; n++, list = end) {
			pids[n] = (pid_t)strtol(list, &end, 10);
			if (end == list || pids[n] <= 1)
				die("FLEETCAP_KAFKA_PIDS is \"%s\"; expected three pids",
				    getenv("FLEETCAP_KAFKA_PIDS"));
		}
	}
	return pids[node];
}

void it_cluster_signal(int node, int sig)
{
	if (kill(-node_pid(node), sig) != 0)
		die("cannot signal the node: %s", strerror(errno));
}

void it_cluster_restart(int node)
{
	char cmd[512], out[32] = "";

	node_pid(node);
	snprintf(cmd, sizeof(cmd), "'%s' restart-node %d", it_require_env("FLEETCAP_SERVICES"),
		 node);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(out, sizeof(out), p) || pclose(p) != 0 || atol(out) <= 1)
		die("%s failed", cmd);
	pids[node] = (pid_t)atol(out);
}

int it_cluster_leader(rd_kafka_t *rk, const char *topic, int partition)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	int leader = -1;

	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && partition < md->topics[0].partition_cnt &&
		    !md->topics[0].partitions[partition].err)
			leader = md->topics[0].partitions[partition].leader;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return leader;
}

int it_cluster_txn_coordinator(rd_kafka_t *rk, const char *transactional_id)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "__transaction_state", NULL);
	int partitions = 0;
	int32_t hash = 0;

	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && !md->topics[0].err)
			partitions = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	if (partitions <= 0)
		return -1;
	/* String.hashCode over UTF-16 code units; ids here are ASCII. */
	for (const char *c = transactional_id; *c; c++)
		hash = (int32_t)((uint32_t)hash * 31u + (unsigned char)*c);
	return it_cluster_leader(rk, "__transaction_state",
				 (int)((hash & 0x7fffffff) % partitions));
}

/* 1 when every partition of every topic is led and fully in sync. */
static int healthy(rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md;
	int ok = 1;

	if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	ok = md->broker_cnt == IT_CLUSTER_NODES;
	for (int t = 0; ok && t < md->topic_cnt; t++)
		for (int p = 0; ok && p < md->topics[t].partition_cnt; p++) {
			const struct rd_kafka_metadata_partition *mp = &md->topics[t].partitions[p];
			ok = !mp->err && mp->leader >= 1 && mp->isr_cnt == IT_CLUSTER_NODES;
		}
	rd_kafka_metadata_destroy(md);
	return ok;
}

int it_cluster_wait_healthy(rd_kafka_t *rk, int timeout_s)
{
	for (int waited = 0; waited < timeout_s * 2; waited++) {
		if (healthy(rk))
			return 0;
		usleep(500 * 1000);
	}
	return -1;
}
