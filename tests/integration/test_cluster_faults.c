/*
 * Faults on a three-node Kafka cluster (scripts/services.sh start --cluster:
 * replication factor 3, min.insync.replicas 2), while two schedulers admit a
 * steady stream of creates (KEYS quota keys, QUOTA each, PER_ROUND creates
 * per key every second, so that the quota bites) and a real fleetcap-worker
 * captures on lo and reports. Three phases, one fault each:
 *
 *  1. SIGKILL of the leader of the busiest commands partition, and the node
 *     started again 12 s later;
 *  2. SIGKILL of the coordinator of scheduler a's transactions, and the node
 *     started again;
 *  3. SIGSTOP of the busiest partition's leader for 30 s, then SIGCONT.
 *
 * After each phase, in what the schedulers committed (read_committed):
 * every create of the phase has exactly one final answer; no session and no
 * capture name got two START jobs, and every admission has its START; no
 * key is over quota in any ledger record nor at any moment of the status
 * history; every real capture of the phase ended at its time limit with its
 * final report in results and its file on disk; and both schedulers and the
 * worker are the processes started at the beginning. Each phase prints a
 * "figure:" line, the source of RELIABILITY.md's figures.
 *
 * Skipped (77) unless the services run the cluster.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fc_kafka.h"
#include "it_checks.h"
#include "it_cluster.h"
#include "it_env.h"
#include "it_kafka.h"
#include "it_fleet.h"
#include "it_testhost.h"

#define KEYS	   20
#define PER_ROUND  3			       /* creates per key per round */
#define ROUNDS	   40			       /* one a second */
#define CREATES	   (KEYS * PER_ROUND * ROUNDS) /* per phase */
#define QUOTA	   2
#define PARTITIONS 6
#define REAL	   2 /* real captures per phase */
#define REAL_PORT  5399
#define REAL_S	   6 /* their time limit */

#define STOPPED FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED

enum fault { KILL_LEADER, KILL_COORDINATOR, STOP_BROKER, FAULTS };

static const char *const fault_names[FAULTS] = {
	"SIGKILL of the busiest partition's leader",
	"SIGKILL of the transaction coordinator",
	"SIGSTOP of a broker for 30 s",
};

static struct it_fleet *fleet;
static rd_kafka_t *meta; /* for metadata: leaders and coordinators */
static pid_t sched_a, sched_b, worker;
static char log_a[256], log_b[256], worker_log[256], root[128];
static pthread_t heartbeats, traffic;
static atomic_int running = 1;
static atomic_int round_done; /* rounds of the current phase sent */

static it_request_id requests[FAULTS][CREATES];
static it_request_id real_requests[FAULTS][REAL];

static void key_of(int k, char *region, size_t len)
{
	snprintf(region, len, "r%02d", k);
}

/* Every fake host says it is alive every 5 s. */
static void *heartbeats_main(void *opaque)
{
	(void)opaque;
	while (running) {
		for (int k = 0; k < KEYS; k++) {
			char host[32], region[8];
			snprintf(host, sizeof(host), "host-%02d", k);
			key_of(k, region, sizeof(region));
			it_fleet_heartbeat(fleet, host, "sub-f", region, 0);
		}
		for (int i = 0; i < 50 && running; i++)
			usleep(100 * 1000);
	}
	return NULL;
}

/* UDP to lo's REAL_PORT every 50 ms: what the real captures select. */
static void *traffic_main(void *opaque)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(REAL_PORT)};
	(void)opaque;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (running) {
		sendto(fd, "fleetcap", 8, 0, (struct sockaddr *)&to, sizeof(to));
		usleep(50 * 1000);
	}
	close(fd);
	return NULL;
}

/* The stream of one phase: PER_ROUND creates per key, a round a second. */
static void *stream_main(void *opaque)
{
	int phase = (int)(intptr_t)opaque, sent = 0;

	for (int round = 0; round < ROUNDS; round++) {
		for (int k = 0; k < KEYS; k++)
			for (int i = 0; i < PER_ROUND; i++, sent++) {
				char host[32], region[8], name[24];
				snprintf(host, sizeof(host), "host-%02d", k);
				key_of(k, region, sizeof(region));
				snprintf(name, sizeof(name), "p%d-%05d", phase, sent);
				it_fleet_create(fleet, "sub-f", region, name, host, 600, 0,
						requests[phase][sent]);
			}
		round_done = round + 1;
		sleep(1);
	}
	return NULL;
}

static void wait_rounds(int rounds)
{
	while (round_done < rounds)
		usleep(100 * 1000);
}

/* The commands partition that gets the most of the stream's keys. */
static int busiest_partition(void)
{
	int count[PARTITIONS] = {0}, best = 0;

	for (int k = 0; k < KEYS; k++) {
		char key[32];
		snprintf(key, sizeof(key), "sub-f/r%02d", k);
		count[fc_partition_for_key(key, strlen(key), PARTITIONS)]++;
	}
	for (int p = 1; p < PARTITIONS; p++)
		if (count[p] > count[best])
			best = p;
	return best;
}

static int busiest_leader(void)
{
	char topic[FC_TOPIC_NAME_MAX + 1];

	fc_topic_name(it_fleet_prefix(fleet), FC_TOPIC_COMMANDS, topic, sizeof(topic));
	return it_cluster_leader(meta, topic, busiest_partition());
}

static void real_captures(int phase)
{
	for (int i = 0; i < REAL; i++) {
		Fleetcap__V1__CaptureSpec spec = FLEETCAP__V1__CAPTURE_SPEC__INIT;
		Fleetcap__V1__Filter filter = FLEETCAP__V1__FILTER__INIT;
		Fleetcap__V1__Filter *filters[] = {&filter};
		char name[24], path[64], port[8];

		snprintf(name, sizeof(name), "real-%d-%d", phase, i);
		snprintf(path, sizeof(path), "caps/%s.pcap", name);
		snprintf(port, sizeof(port), "%d", REAL_PORT);
		filter.protocol = FLEETCAP__V1__PROTOCOL__PROTOCOL_UDP;
		filter.local_port = port;
		spec.name = name;
		spec.subscription = (char *)"sub-c";
		spec.region = (char *)"rc";
		spec.target = (char *)"real-1";
		spec.time_limit_s = REAL_S;
		spec.queue_timeout_s = 600;
		spec.file_path = path;
		spec.n_filters = 1;
		spec.filters = filters;
		it_fleet_create_spec(fleet, &spec, real_requests[phase][i]);
	}
}

/* Injects the phase's fault and undoes it; returns the node it hit. */
static int inject(enum fault fault)
{
	char txn_id[64];
	int node;

	switch (fault) {
	case KILL_LEADER:
	case KILL_COORDINATOR:
		wait_rounds(8);
		snprintf(txn_id, sizeof(txn_id), "fleetcap-scheduler-a");
		node = fault == KILL_LEADER ? busiest_leader()
					    : it_cluster_txn_coordinator(meta, txn_id);
		assert_in_range(node, 1, IT_CLUSTER_NODES);
		it_cluster_signal(node, SIGKILL);
		fprintf(stderr, "killed node %d after %d rounds\n", node, (int)round_done);
		sleep(12);
		it_cluster_restart(node);
		fprintf(stderr, "node %d is back after %d rounds\n", node, (int)round_done);
		return node;
	case STOP_BROKER:
	default:
		wait_rounds(5);
		node = busiest_leader();
		assert_in_range(node, 1, IT_CLUSTER_NODES);
		it_cluster_signal(node, SIGSTOP);
		fprintf(stderr, "stopped node %d after %d rounds\n", node, (int)round_done);
		sleep(30);
		it_cluster_signal(node, SIGCONT);
		fprintf(stderr, "node %d continues after %d rounds\n", node, (int)round_done);
		return node;
	}
}

static void assert_alive(pid_t pid, const char *what, const char *log)
{
	int status;
	if (waitpid(pid, &status, WNOHANG) != 0)
		fail_msg("%s exited (status %d); see %s", what, status, log);
}

/* The real captures of the phase: ended at their time limit, reported, on disk. */
static int check_real(int phase, it_status_t *const *all, size_t n_all)
{
	int ok = 0;

	for (int i = 0; i < REAL; i++) {
		char name[24], path[256];
		struct stat st;
		snprintf(name, sizeof(name), "real-%d-%d", phase, i);
		it_status_t *s = NULL;
		for (size_t j = 0; j < n_all && !s; j++)
			if (strcmp(all[j]->request_id, real_requests[phase][i]) == 0 &&
			    all[j]->state == STOPPED)
				s = all[j];
		if (!s)
			fail_msg("real capture %s did not end Stopped; see %s", name, worker_log);
		assert_int_equal(s->stop_reason,
				 FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
		const int finished = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED;
		for (int w = 0; w < 600 && it_fleet_reports(fleet, name, finished) == 0; w++)
			usleep(100 * 1000);
		if (it_fleet_reports(fleet, name, finished) == 0)
			fail_msg("no final report of %s in results; see %s", name, worker_log);
		snprintf(path, sizeof(path), "%s/caps/%s.pcap", root, name);
		if (stat(path, &st) != 0 || st.st_size <= 24)
			fail_msg("%s is missing or holds no packet", path);
		ok++;
	}
	return ok;
}

static void run_phase(enum fault fault)
{
	pthread_t stream;
	int *finals = calloc(CREATES, sizeof(int));

	if (it_cluster_wait_healthy(meta, 240) != 0)
		fail_msg("the cluster is not whole and in sync before phase %d", fault);
	round_done = 0;
	pthread_create(&stream, NULL, stream_main, (void *)(intptr_t)fault);
	wait_rounds(2);
	real_captures(fault);
	int node = inject(fault);
	pthread_join(stream, NULL);
	it_fleet_flush(fleet);

	/* Wait (a guard against a hang, not a bound) until all are answered. */
	it_status_t **all = NULL;
	size_t n = 0, answered = 0;
	for (int waited = 0; waited < 300; waited++) {
		free(all);
		n = it_fleet_statuses(fleet, &all);
		if ((answered = it_count_finals(all, n, requests[fault], CREATES, finals)) ==
		    CREATES)
			break;
		sleep(1);
	}
	if (answered < CREATES) {
		free(all);
		fail_msg("%s: %zu of %d creates answered; see %s and %s", fault_names[fault],
			 answered, CREATES, log_a, log_b);
	}
	sleep(2); /* a duplicate would come right behind */
	free(all);
	n = it_fleet_statuses(fleet, &all);
	it_count_finals(all, n, requests[fault], CREATES, finals);
	size_t duplicated = 0;
	for (int r = 0; r < CREATES; r++)
		duplicated += finals[r] > 1;
	if (duplicated)
		fail_msg("%s: %zu creates have more than one final answer", fault_names[fault],
			 duplicated);
	char prefix[8];
	snprintf(prefix, sizeof(prefix), "p%d-", fault);
	size_t starts = it_check_one_start_each(fleet, prefix);
	size_t admitted = it_count_admitted(all, n, requests[fault], CREATES);
	assert_int_equal(starts, admitted);
	assert_true(CREATES - admitted >= KEYS); /* the quota did bite */
	it_check_quota_history(all, n, QUOTA);
	size_t records = it_check_ledger_quota(fleet, QUOTA);
	int real = check_real(fault, all, n);
	free(all);
	assert_alive(sched_a, "scheduler a", log_a);
	assert_alive(sched_b, "scheduler b", log_b);
	assert_alive(worker, "the worker", worker_log);
	printf("figure: %s (node %d), Kafka %s, during %d creates: 0 lost, 0 duplicated, "
	       "0 over quota (%zu admitted, %zu rejected, %zu START jobs, %zu ledger records); "
	       "%d of %d real captures reported; schedulers and worker not restarted\n",
	       fault_names[fault], node, getenv("FLEETCAP_KAFKA_VERSION"), CREATES, admitted,
	       CREATES - admitted, starts, records, real, REAL);
	fflush(stdout);
	free(finals);
}

static void test_faults(void **state)
{
	(void)state;
	for (int fault = 0; fault < FAULTS; fault++)
		run_phase((enum fault)fault);
}

static int setup(void **state)
{
	char prefix[64], errstr[512], rootx[160], statex[160];
	static const char *sched_settings[] = {"quota.default=2", "lease.grace.s=60", "tick.ms=100",
					       "metrics.port=0", NULL};
	(void)state;

	it_unique(prefix, sizeof(prefix), "it-cluster-");
	strcat(prefix, ".");
	const char *brokers = it_require_env("FLEETCAP_BROKERS");
	rd_kafka_conf_t *conf = it_kafka_conf(brokers, "admin");
	if (!(meta = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		fail_msg("no metadata client: %s", errstr);
	fleet = it_fleet_start(brokers, prefix, PARTITIONS);
	it_fleet_auto_finish(fleet, 1);
	pthread_create(&heartbeats, NULL, heartbeats_main, NULL);
	pthread_create(&traffic, NULL, traffic_main, NULL);

	snprintf(root, sizeof(root), "/tmp/%scaptures", prefix);
	snprintf(rootx, sizeof(rootx), "capture.root=%s", root);
	snprintf(statex, sizeof(statex), "state.dir=%s/state", root);
	it_sh("mkdir -p %s/state", root);
	const char *worker_settings[] = {
		"host.id=real-1", "subscription=sub-c", "region=rc",	 "interfaces=lo",  rootx,
		statex,		  "progress.s=1",	"heartbeat.s=2", "metrics.port=0", NULL};
	sched_a = it_sched_start(fleet, "a", sched_settings, log_a, sizeof(log_a));
	sched_b = it_sched_start(fleet, "b", sched_settings, log_b, sizeof(log_b));
	worker = it_daemon_start(fleet, NULL, FLEETCAP_WORKER_BIN, "worker", worker_settings,
				 worker_log, sizeof(worker_log));
	if (it_sched_wait_log(log_a, "ledger replayed", 120) ||
	    it_sched_wait_log(log_b, "ledger replayed", 120) ||
	    it_sched_wait_log(worker_log, "capturing under", 60))
		fail_msg("the daemons did not start; see %s, %s and %s", log_a, log_b, worker_log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	running = 0;
	pthread_join(heartbeats, NULL);
	pthread_join(traffic, NULL);
	it_sched_stop(worker, SIGTERM);
	it_sched_stop(sched_a, SIGTERM);
	it_sched_stop(sched_b, SIGTERM);
	it_fleet_stop(fleet);
	rd_kafka_destroy(meta);
	it_sh("rm -rf %s", root);
	return 0;
}

int main(void)
{
	if (!it_cluster_present()) {
		fprintf(stderr,
			"skipped: needs the cluster of scripts/services.sh start --cluster\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
