/*
 * The worker agent's job life cycle, in-process on librdkafka's mock cluster
 * (no external service; root, to capture on lo): jobs go in on `jobs` as the
 * scheduler writes them, and the reports that come out on `results` are what
 * is checked, with the files on disk.
 *
 *   START → STARTED, PROGRESS with live counters, STOP → exactly one
 *   FINISHED (StoppedByUser) listing the file, whose packets, size and sha256
 *   are what the report says; a time limit → FINISHED TimeExceeded; a START
 *   the capture cannot run → FAILED naming why; a START delivered again, a
 *   job for another host in the same partition, a STOP for an unknown
 *   session → nothing; a shutdown → every running session's final report;
 *   a restart on the same state.dir → finished sessions are not run again.
 *
 * Jobs are handled in order, so "nothing happened" is checked by a marker:
 * a job after the one under test whose own report proves that the one under
 * test was handled.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <openssl/evp.h>

#include "fc_hex.h"
#include "fc_kafka.h"
#include "fc_spec.h"
#include "it_packets.h"
#include "wk_agent.h"
#include "wk_config.h"

#define PREFIX "it-agent."
#define HOST   "agent-host"
#define WAIT_S 120 /* guards against a hang only */

typedef Fleetcap__V1__CaptureReport report_t;

static char dir[] = "/tmp/fleetcap-test-agent-XXXXXX", root[128], state_dir[128];
static rd_kafka_t *mock_owner, *producer, *results;
static rd_kafka_mock_cluster_t *mock;
static char brokers[256];
static report_t **reports;
static size_t n_reports;
static int sink = -1, receiver = -1;
static uint16_t port;

struct agent_thread {
	struct wk_config config;
	struct wk_agent *agent;
	pthread_t thread;
	atomic_int stop;
	int rc;
	struct fc_err err;
};
static struct agent_thread agent;

static void *run_agent(void *arg)
{
	struct agent_thread *t = arg;
	t->rc = wk_agent_run(t->agent, &t->stop, &t->err);
	return NULL;
}

static void start_agent(void)
{
	const char *kv[] = {"brokers",	    brokers,	   "topics.prefix",
			    PREFIX,	    "host.id",	   HOST,
			    "subscription", "sub-a",	   "region",
			    "r1",	    "interfaces",  "lo",
			    "capture.root", root,	   "state.dir",
			    state_dir,	    "heartbeat.s", "2",
			    "progress.s",   "1",	   NULL};
	struct fc_err err;

	memset(&agent, 0, sizeof(agent));
	if (fc_config_from_pairs(wk_config_defs, &agent.config, kv, "test", &err) != 0)
		fail_msg("worker config: %s", err.msg);
	if (!(agent.agent = wk_agent_new(&agent.config, &err)))
		fail_msg("wk_agent_new: %s", err.msg);
	assert_int_equal(pthread_create(&agent.thread, NULL, run_agent, &agent), 0);
	for (int i = 0; i < WAIT_S * 10 && !wk_agent_ready(agent.agent); i++)
		usleep(100 * 1000);
	assert_true(wk_agent_ready(agent.agent));
}

static void stop_agent(void)
{
	atomic_store(&agent.stop, 1);
	pthread_join(agent.thread, NULL);
	if (agent.rc != 0)
		fail_msg("the agent ended with an error: %s", agent.err.msg);
	wk_agent_destroy(agent.agent);
	fc_config_free(wk_config_defs, &agent.config);
}

/* ------------------------------------------------------------- jobs */

static fc_spec_t *spec_for(const char *name, const char *time_limit, const char *interface)
{
	fc_spec_t *spec = fc_spec_new();
	struct fc_field_errors errs;
	char filter[64], path[128];

	fc_field_errors_init(&errs);
	snprintf(filter, sizeof(filter), "protocol=udp,remote-port=%u", port);
	snprintf(path, sizeof(path), "%s/x.pcap", name);
	fc_spec_set(spec, "name", name, &errs);
	fc_spec_set(spec, "subscription", "sub-a", &errs);
	fc_spec_set(spec, "region", "r1", &errs);
	fc_spec_set(spec, "target", HOST, &errs);
	fc_spec_set(spec, "time-limit", time_limit, &errs);
	fc_spec_set(spec, "file-path", path, &errs);
	if (interface)
		fc_spec_set(spec, "interface", interface, &errs);
	fc_spec_add_filter(spec, filter, &errs);
	assert_int_equal(errs.count, 0);
	return spec;
}

static void send_job(int kind, const char *session, const char *target, fc_spec_t *spec)
{
	Fleetcap__V1__Job job = FLEETCAP__V1__JOB__INIT;
	uint8_t buf[8192];
	char topic[FC_TOPIC_NAME_MAX + 1];

	job.kind = kind;
	job.session_id = (char *)session;
	job.target = (char *)target;
	job.spec = spec;
	job.stop_reason = kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP
				  ? FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER
				  : 0;
	size_t len = fleetcap__v1__job__pack(&job, buf);
	fc_topic_name(PREFIX, FC_TOPIC_JOBS, topic, sizeof(topic));
	assert_int_equal(rd_kafka_producev(
				 producer, RD_KAFKA_V_TOPIC(topic),
				 RD_KAFKA_V_KEY(target, strlen(target)), RD_KAFKA_V_VALUE(buf, len),
				 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
			 0);
	assert_int_equal(rd_kafka_flush(producer, WAIT_S * 1000), 0);
}

static void start(const char *session, const char *name, const char *time_limit,
		  const char *interface)
{
	fc_spec_t *spec = spec_for(name, time_limit, interface);
	send_job(FLEETCAP__V1__JOB_KIND__JOB_KIND_START, session, HOST, spec);
	fc_spec_free(spec);
}

/* ---------------------------------------------------------- reports */

static void poll_reports(int timeout_ms)
{
	rd_kafka_message_t *m = rd_kafka_consumer_poll(results, timeout_ms);

	if (!m)
		return;
	if (!m->err) {
		report_t *r = fleetcap__v1__capture_report__unpack(NULL, m->len, m->payload);
		assert_non_null(r);
		reports = realloc(reports, (n_reports + 1) * sizeof(*reports));
		reports[n_reports++] = r;
	}
	rd_kafka_message_destroy(m);
}

static size_t count_reports(const char *session, int kind)
{
	size_t n = 0;
	for (size_t i = 0; i < n_reports; i++)
		if (strcmp(reports[i]->session_id, session) == 0 &&
		    (kind < 0 || (int)reports[i]->kind == kind))
			n++;
	return n;
}

static int is_final(const report_t *r)
{
	return r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED ||
	       r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
}

/* The first report of session that satisfies pred, waiting for it. */
static const report_t *wait_for(const char *session, int (*pred)(const report_t *),
				const char *what)
{
	for (int i = 0; i < WAIT_S * 5; i++) {
		for (size_t k = 0; k < n_reports; k++)
			if (strcmp(reports[k]->session_id, session) == 0 && pred(reports[k]))
				return reports[k];
		poll_reports(200);
	}
	fail_msg("session %s: no %s report", session, what);
	return NULL;
}

static int is_started(const report_t *r)
{
	return r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED;
}

static int has_20_packets(const report_t *r)
{
	return r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS && r->counters &&
	       r->counters->packets >= 20;
}

/* ------------------------------------------------------------ traffic */

static void send_udp(int n)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	char payload[64];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		snprintf(payload, sizeof(payload), "agent test datagram %d", i);
		assert_true(sendto(sink, payload, strlen(payload), 0, (struct sockaddr *)&to,
				   sizeof(to)) > 0);
	}
}

static void sha256_file(const char *path, char hex[65], size_t *size)
{
	unsigned char buf[65536], md[32];
	unsigned len;
	size_t n;
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_non_null(f);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	*size = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(ctx, buf, n);
		*size += n;
	}
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	fclose(f);
	fc_hex_encode(md, sizeof(md), hex);
}

/* -------------------------------------------------------------- tests */

static void test_start_progress_stop(void **state)
{
	char path[256], sha[65];
	size_t size;
	struct it_pcap pcap;

	(void)state;
	start("sub-a/r1/t1#1", "t1", "600", NULL);
	wait_for("sub-a/r1/t1#1", is_started, "STARTED");
	send_udp(20);
	const report_t *p = wait_for("sub-a/r1/t1#1", has_20_packets, "PROGRESS with 20 packets");
	assert_int_equal(p->counters->packets, 20);
	send_job(FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP, "sub-a/r1/t1#1", HOST, NULL);
	const report_t *r = wait_for("sub-a/r1/t1#1", is_final, "final");

	assert_int_equal(r->kind, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED);
	assert_int_equal(r->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER);
	assert_string_equal(r->host_id, HOST);
	assert_string_equal(r->name, "t1");
	assert_int_equal(r->counters->packets, 20);
	assert_int_equal(r->n_files, 1);
	snprintf(path, sizeof(path), "%s/t1/x.pcap", root);
	assert_string_equal(r->files[0]->local_path, path);
	sha256_file(path, sha, &size);
	assert_string_equal(r->files[0]->sha256, sha);
	assert_int_equal(r->files[0]->size, size);
	assert_int_equal(it_pcap_read(path, &pcap), 0);
	assert_int_equal(pcap.count, 20);
	for (size_t i = 0; i < pcap.count; i++)
		assert_int_equal(pcap.records[i].pkt.dport, port);
	it_pcap_free(&pcap);
}

static void test_time_limit_and_failure(void **state)
{
	(void)state;
	start("sub-a/r1/t2#2", "t2", "1", NULL);
	const report_t *r = wait_for("sub-a/r1/t2#2", is_final, "final");
	assert_int_equal(r->kind, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED);
	assert_int_equal(r->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_int_equal(r->n_files, 1);

	start("sub-a/r1/t3#3", "t3", "60", "nosuch0");
	r = wait_for("sub-a/r1/t3#3", is_final, "final");
	assert_int_equal(r->kind, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED);
	assert_int_not_equal(r->error, 0);
	if (!strstr(r->error_message, "nosuch0"))
		fail_msg("the failure does not name the interface: %s", r->error_message);
	assert_int_equal(count_reports("sub-a/r1/t3#3", -1), 1); /* no STARTED before it */
}

/* A host id other than HOST whose jobs land in HOST's partition. */
static void neighbour(char *out, size_t len)
{
	int32_t mine = fc_partition_for_key(HOST, strlen(HOST), 3);
	for (int i = 0;; i++) {
		snprintf(out, len, "neighbour-%d", i);
		if (fc_partition_for_key(out, strlen(out), 3) == mine)
			return;
	}
}

static void test_jobs_that_change_nothing(void **state)
{
	char other[64];
	size_t before = count_reports("sub-a/r1/t1#1", -1);

	(void)state;
	/* t1 again (delivered twice), a START for a neighbour in the same
	 * partition, a STOP for a session never seen; then the marker. */
	start("sub-a/r1/t1#1", "t1", "600", NULL);
	neighbour(other, sizeof(other));
	fc_spec_t *spec = spec_for("n1", "600", NULL);
	fc_spec_set(spec, "target", other, NULL);
	send_job(FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "sub-a/r1/n1#4", other, spec);
	fc_spec_free(spec);
	send_job(FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP, "sub-a/r1/none#5", HOST, NULL);
	start("sub-a/r1/marker#6", "marker", "60", "nosuch0");
	wait_for("sub-a/r1/marker#6", is_final, "final");

	assert_int_equal(count_reports("sub-a/r1/t1#1", -1), before);
	assert_int_equal(count_reports("sub-a/r1/n1#4", -1), 0);
	assert_int_equal(count_reports("sub-a/r1/none#5", -1), 0);
}

static void test_shutdown_and_restart(void **state)
{
	char path[256];
	struct stat st;

	(void)state;
	start("sub-a/r1/t7#7", "t7", "600", NULL);
	wait_for("sub-a/r1/t7#7", is_started, "STARTED");
	stop_agent(); /* a running session: stopped, its final report sent */
	const report_t *r = wait_for("sub-a/r1/t7#7", is_final, "final");
	assert_int_equal(r->kind, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED);
	snprintf(path, sizeof(path), "%s/t7/x.pcap", root);
	assert_int_equal(stat(path, &st), 0);

	/* The same state.dir: t1 and t7 delivered again do not run again. */
	start_agent();
	start("sub-a/r1/t1#1", "t1", "600", NULL);
	start("sub-a/r1/t7#7", "t7", "600", NULL);
	start("sub-a/r1/marker#8", "marker8", "60", "nosuch0");
	wait_for("sub-a/r1/marker#8", is_final, "final");
	for (int i = 0; i < 10; i++)
		poll_reports(100);
	assert_int_equal(
		count_reports("sub-a/r1/t7#7", FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED), 1);
	assert_int_equal(
		count_reports("sub-a/r1/t1#1", FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED), 1);
	size_t finals = 0;
	for (size_t i = 0; i < n_reports; i++)
		if (strcmp(reports[i]->session_id, "sub-a/r1/t7#7") == 0 && is_final(reports[i]))
			finals++;
	assert_int_equal(finals, 1);
}

/* ------------------------------------------------------------- set-up */

static int setup(void **state)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], topic[FC_TOPIC_NAME_MAX + 1];
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	struct fc_err err;

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_wk_agent captures on lo: run it as root\n");
		return -1;
	}
	if (!mkdtemp(dir))
		return -1;
	snprintf(root, sizeof(root), "%s/captures", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	if (mkdir(root, 0750) != 0 || mkdir(state_dir, 0700) != 0)
		return -1;
	/* The datagrams' destination, on a port the kernel picks. */
	receiver = socket(AF_INET, SOCK_DGRAM, 0);
	sink = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(receiver, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(receiver, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	port = ntohs(a.sin_port);

	rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
	if (!(mock_owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))) ||
	    !(mock = rd_kafka_mock_cluster_new(mock_owner, 1)))
		return -1;
	for (int t = 0; t < FC_TOPIC_COUNT; t++) {
		fc_topic_name(PREFIX, (enum fc_topic)t, topic, sizeof(topic));
		if (rd_kafka_mock_topic_create(mock, topic, 3, 1))
			return -1;
	}
	snprintf(brokers, sizeof(brokers), "%s", rd_kafka_mock_cluster_bootstraps(mock));
	if (!(conf = fc_kafka_conf_new(brokers, NULL, &err)) ||
	    !(producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		return -1;
	if (!(results = fc_kafka_reader_new(brokers, NULL, &err)))
		return -1;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(3);
	fc_topic_name(PREFIX, FC_TOPIC_RESULTS, topic, sizeof(topic));
	for (int32_t p = 0; p < 3; p++)
		rd_kafka_topic_partition_list_add(list, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(results, list);
	rd_kafka_topic_partition_list_destroy(list);
	start_agent();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (agent.agent)
		stop_agent();
	for (size_t i = 0; i < n_reports; i++)
		fleetcap__v1__capture_report__free_unpacked(reports[i], NULL);
	free(reports);
	if (results) {
		rd_kafka_consumer_close(results);
		rd_kafka_destroy(results);
	}
	if (producer)
		rd_kafka_destroy(producer);
	if (mock)
		rd_kafka_mock_cluster_destroy(mock);
	if (mock_owner)
		rd_kafka_destroy(mock_owner);
	close(sink);
	close(receiver);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_progress_stop),
		cmocka_unit_test(test_time_limit_and_failure),
		cmocka_unit_test(test_jobs_that_change_nothing),
		cmocka_unit_test(test_shutdown_and_restart),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
