/*
 * The whole path on the real broker, with a real fleetcap-worker capturing on
 * the root side of a veth pair whose other end is a test host in a network
 * namespace (needs root): create → the scheduler admits → the worker
 * captures the generated traffic → the final status is Stopped/TimeExceeded
 * with the file's size and sha256, and the file holds exactly the packets
 * sent; a stop mid-capture ends it as StoppedByUser with the data so far; a
 * capture with a blob URL is uploaded to Azurite with the worker's account
 * key, and the blob is byte for byte the local file; storage down for a few
 * seconds during an upload, and a worker killed during an upload and started
 * again, still end with the whole blob and the capture's own stop reason;
 * storage away for 60 s during a ring's uploads loses no file; a capture
 * root that fills up ends the session Error/LocalFileFailed naming the file,
 * with the files finished before whole, listed and uploaded;
 * an alert becomes a capture of what its rule selects; another subscription
 * or region cannot target the worker; a worker killed mid-capture and
 * started again reports the session Stopped/AgentRestarted and does not run
 * it again. The worker runs as "nobody" with CAP_NET_RAW and CAP_NET_ADMIN
 * only.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "fc_kafka.h"
#include "fc_spec.h"
#include "it_azurite.h"
#include "it_env.h"
#include "it_fleet.h"
#include "it_kafka.h"
#include "it_metrics.h"
#include "it_packets.h"
#include "it_proc.h"
#include "it_testhost.h"
#include "sched_alerts.h"

#define RUNNING FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING
#define STOPPED FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED
#define ERROR	FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR

static struct it_fleet *fleet;
static struct it_host host;
static pid_t scheduler, worker;
static char sched_log[256], worker_log[256], root[128];
static char ifs[64], rootx[160], statex[160], rulesx[200];
/* Storage of the test's own, to take down and bring back. */
static struct it_azurite storage;
/* t3's blob and sha256, for the Python consumer's test. */
static char t3_blob[512], t3_sha256[65];
static char storage_dir[200];
/* The worker runs as "nobody" with CAP_NET_RAW and CAP_NET_ADMIN only, as the
 * systemd unit of deploy/ runs it. */
static const char *const unprivileged[] = {
	"/usr/sbin/capsh",
	"--caps=cap_net_raw,cap_net_admin+eip cap_setuid,cap_setgid,cap_setpcap+ep",
	"--keep=1",
	"--user=nobody",
	"--addamb=cap_net_raw,cap_net_admin",
	"--",
	"-c",
	"grep -E '^Cap(Eff|Amb)' /proc/self/status >&2; exec \"$0\" \"$@\"",
	NULL};
static const char *worker_settings[] = {"host.id=real-1",
					"subscription=sub-w",
					"region=r1",
					ifs,
					rootx,
					statex,
					"progress.s=1",
					"heartbeat.s=2",
					"metrics.port=0",
					"blob.key." IT_AZURITE_ACCOUNT "=" IT_AZURITE_KEY,
					NULL};

static int setup(void **state)
{
	char prefix[64];
	(void)state;

	it_unique(prefix, sizeof(prefix), "it-worker-");
	strcat(prefix, ".");
	const char *brokers = it_require_env("FLEETCAP_BROKERS"); /* before anything to undo */
	it_require_env("FLEETCAP_AZURITE");
	it_require_env("FLEETCAP_AZURITE_BIN");
	if (it_host_create(&host, "wk") != 0)
		fail_msg("cannot create the test host (root is needed)");
	fleet = it_fleet_start(brokers, prefix, 3);
	/* The test's own Azurite (started when a test needs it) on a port the
	 * daemons allow (blob.endpoints). */
	char origin[64];
	storage.port = it_free_port();
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%u", storage.port);
	it_fleet_allow_endpoint(fleet, origin);
	snprintf(root, sizeof(root), "/tmp/%scaptures", prefix);
	mkdir(root, 0750);
	/* The alert rule of test_alert_to_capture: UDP to the root side's port 5354. */
	snprintf(rulesx, sizeof(rulesx), "alerts.rules=%s/rules.json", root);
	it_sh("printf '%%s' '{\"rules\": [{\"name\": \"udp-alert\", \"minSeverity\": "
	      "\"Warning\", \"capture\": {\"time-limit\": 2, \"filter\": "
	      "[\"protocol=udp,local-port=5354\"], \"file-path\": \"alerts/{name}.pcap\"}}]}' "
	      "> %s/rules.json",
	      root);
	/* The grace covers a worker's restart (tests that kill it start it
	 * again at once) with room for a slow machine. */
	static const char *sched_settings[] = {"lease.grace.s=15", "tick.ms=100", rulesx,
					       "metrics.port=0", NULL};
	scheduler = it_sched_start(fleet, "one", sched_settings, sched_log, sizeof(sched_log));
	snprintf(ifs, sizeof(ifs), "interfaces=%s", host.root_if);
	snprintf(rootx, sizeof(rootx), "capture.root=%s", root);
	snprintf(statex, sizeof(statex), "state.dir=%s/state", root);
	it_sh("mkdir -p %s/state && chown -R nobody %s", root, root);
	worker = it_daemon_start(fleet, unprivileged, FLEETCAP_WORKER_BIN, "worker",
				 worker_settings, worker_log, sizeof(worker_log));
	if (it_sched_wait_log(sched_log, "ledger replayed", 120) != 0 ||
	    it_sched_wait_log(worker_log, "capturing under", 60) != 0)
		fail_msg("the daemons did not start; see %s and %s", sched_log, worker_log);
	/* Only the two capabilities, effective and ambient (bits 12 and 13). */
	if (it_sched_wait_log(worker_log, "CapEff:\t0000000000003000", 1) != 0 ||
	    it_sched_wait_log(worker_log, "CapAmb:\t0000000000003000", 1) != 0)
		fail_msg("the worker does not run with CAP_NET_RAW and CAP_NET_ADMIN only; see %s",
			 worker_log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (worker && it_sched_stop(worker, SIGTERM) != 0)
		fprintf(stderr, "the worker did not exit 0 on SIGTERM; see %s\n", worker_log);
	it_sched_stop(scheduler, SIGTERM);
	it_fleet_stop(fleet);
	if (storage.pid)
		it_azurite_kill(&storage, SIGTERM);
	it_host_destroy(&host);
	it_sh("umount %s/full 2>/dev/null; rm -rf %s", root, root);
	return 0;
}

/* Lines of the log file holding text. */
static int log_count(const char *path, const char *text)
{
	FILE *log = fopen(path, "r");
	char line[4096];
	int n = 0;

	assert_non_null(log);
	while (fgets(line, sizeof(line), log))
		n += strstr(line, text) != NULL;
	fclose(log);
	return n;
}

static void send_udp(int count, uint16_t dport)
{
	assert_int_equal(it_host_send_udp(&host, count, dport), 0);
}

static void file_sha256(const char *path, char hex[65], long *size)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	FILE *f = fopen(path, "rb");
	static unsigned char buf[16 << 20]; /* the test's captures are small */

	assert_non_null(f);
	*size = (long)fread(buf, 1, sizeof(buf), f);
	assert_true(feof(f));
	fclose(f);
	SHA256(buf, (size_t)*size, digest);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* A capture of everything on real-1 into caps/NAME.pcap. */
static void create(const char *name, unsigned time_limit, char *req)
{
	it_fleet_create(fleet, "sub-w", "r1", name, "real-1", time_limit, 0, req);
}

/* A series of the worker's (or the scheduler's) /metrics; -1 when absent. */
static double worker_metric(const char *series)
{
	char url[128];

	assert_int_equal(it_log_url(worker_log, "metrics on ", url, sizeof(url)), 0);
	return it_metric_at(url, series);
}

static double sched_metric(const char *series)
{
	char url[128];

	assert_int_equal(it_log_url(sched_log, "metrics on ", url, sizeof(url)), 0);
	return it_metric_at(url, series);
}

#define W_PACKETS  "fleetcap_worker_captured_packets_total"
#define W_ENDED	   "fleetcap_worker_sessions_ended_total{kind=\"Finished\",reason=\"TimeExceeded\"}"
#define S_ADMITTED "fleetcap_scheduler_admissions_total{result=\"Running\"}"
#define S_COMMITS  "fleetcap_scheduler_transactions_total{result=\"committed\"}"

/* Waits (up to 60 s) for a status of name with a capture start time: the
 * scheduler has the worker's started report. 1 when seen. */
static int wait_started(const char *name)
{
	for (int i = 0; i < 600; i++) {
		it_status_t **all;
		size_t n = it_fleet_statuses(fleet, &all);
		int started = 0;
		for (size_t j = 0; j < n; j++)
			started |= strcmp(all[j]->name, name) == 0 && all[j]->capture_start_time_ms;
		free(all);
		if (started)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

static void test_capture_to_time_limit(void **state)
{
	char req[33], path[256], hex[65];
	long size;
	(void)state;

	double packets0 = worker_metric(W_PACKETS), ended0 = worker_metric(W_ENDED);
	double admitted0 = sched_metric(S_ADMITTED), commits0 = sched_metric(S_COMMITS);
	assert_true(packets0 >= 0);
	create("t1", 3, req);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t1", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* Running with a start time: the worker has begun capturing. */
	assert_true(wait_started("t1"));
	send_udp(25, 5353);
	s = it_fleet_wait_state(fleet, "sub-w/r1/t1", STOPPED, 60);
	if (!s)
		fail_msg("t1 did not stop; see %s and %s", worker_log, sched_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_int_equal(s->n_files, 1);
	snprintf(path, sizeof(path), "%s/caps/t1.pcap", root);
	assert_string_equal(s->files[0]->local_path, path);
	file_sha256(path, hex, &size);
	assert_string_equal(s->files[0]->sha256, hex);
	assert_int_equal(s->files[0]->size, (uint64_t)size);
	assert_non_null(s->counters);
	assert_true(s->counters->packets >= 25); /* no filter: the UDP packets and more */
	struct it_pcap pcap;
	assert_int_equal(it_pcap_read(path, &pcap), 0);
	size_t udp = 0;
	for (size_t i = 0; i < pcap.count; i++)
		udp += pcap.records[i].pkt.proto == IT_PROTO_UDP &&
		       pcap.records[i].pkt.dport == 5353;
	assert_int_equal(udp, 25);
	assert_int_equal(pcap.count, s->counters->packets);
	it_pcap_free(&pcap);
	/* /metrics moved with it: the packets, the session's end, the
	 * admission and the transactions behind it. */
	assert_true(worker_metric(W_PACKETS) == packets0 + (double)s->counters->packets);
	assert_true(worker_metric(W_ENDED) == (ended0 < 0 ? 0 : ended0) + 1);
	assert_true(sched_metric(S_ADMITTED) == (admitted0 < 0 ? 0 : admitted0) + 1);
	assert_true(sched_metric(S_COMMITS) > commits0);
	assert_true(sched_metric("fleetcap_scheduler_workers") >= 1);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static void test_stop_mid_capture(void **state)
{
	char req[33], path[256];
	(void)state;

	create("t2", 600, req);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t2", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	sleep(1);
	send_udp(10, 5353);
	sleep(1);
	it_fleet_command(fleet, FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP, "sub-w", "r1", "t2");
	s = it_fleet_wait_state(fleet, "sub-w/r1/t2", STOPPED, 60);
	if (!s)
		fail_msg("t2 did not stop; see %s and %s", worker_log, sched_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER);
	assert_int_equal(s->n_files, 1);
	snprintf(path, sizeof(path), "%s/caps/t2.pcap", root);
	struct it_pcap pcap;
	assert_int_equal(it_pcap_read(path, &pcap), 0);
	size_t udp = 0;
	for (size_t i = 0; i < pcap.count; i++)
		udp += pcap.records[i].pkt.proto == IT_PROTO_UDP;
	assert_true(udp >= 10);
	it_pcap_free(&pcap);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static void test_capture_to_blob(void **state)
{
	char req[33], url[512], container[64], hex[65], path[256];
	uint64_t size;
	(void)state;

	double uploads0 = worker_metric("fleetcap_worker_uploads_total{result=\"ok\"}");
	double bytes0 = worker_metric("fleetcap_worker_uploaded_bytes_total");

	/* A container name: lowercase letters, digits and '-'. */
	snprintf(container, sizeof(container), "wk-%ld", (long)getpid());
	snprintf(url, sizeof(url), "%s/%s/caps/t3.pcap", it_require_env("FLEETCAP_AZURITE"),
		 container);
	it_fleet_create_blob(fleet, "sub-w", "r1", "t3", "real-1", 2, 0, url, req);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t3", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	sleep(1);
	send_udp(7, 5353);
	s = it_fleet_wait_state(fleet, "sub-w/r1/t3", STOPPED, 120);
	if (!s)
		fail_msg("t3 did not stop; see %s", worker_log);
	assert_int_equal(s->n_files, 1);
	assert_string_equal(s->files[0]->blob_url, url);
	/* The blob holds the very bytes of the local file. */
	snprintf(path, sizeof(path), "%s/caps/t3.pcap", root);
	assert_int_equal(it_file_sha256(path, hex), 0);
	assert_string_equal(s->files[0]->sha256, hex);
	assert_int_equal(it_azurite_blob_sha256(it_require_env("FLEETCAP_AZURITE"), container,
						"caps/t3.pcap", hex, &size),
			 200);
	assert_string_equal(s->files[0]->sha256, hex);
	assert_int_equal(s->files[0]->size, size);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_true(worker_metric("fleetcap_worker_uploads_total{result=\"ok\"}") ==
		    (uploads0 < 0 ? 0 : uploads0) + 1);
	assert_true(worker_metric("fleetcap_worker_uploaded_bytes_total") == bytes0 + (double)size);

	/* The account key never reaches the worker's log. */
	assert_int_equal(log_count(worker_log, "Eby8vdM02x"), 0);
	snprintf(t3_blob, sizeof(t3_blob), "%s", url);
	snprintf(t3_sha256, sizeof(t3_sha256), "%s", hex);
}

/*
 * The results topic read from outside C: docs/consumer/results_consumer.py
 * (confluent-kafka, the schema compiled by protoc at start) finds t3's final
 * report with its blob URL and sha256, as the status says.
 */
/* A capture of 1 s on real-1 uploading to container/caps/NAME.pcap, with sas
 * (NULL: the worker's account key); its final status. */
static it_status_t *capture_with_sas(const char *container, const char *name, const char *sas)
{
	Fleetcap__V1__CaptureSpec spec = FLEETCAP__V1__CAPTURE_SPEC__INIT;
	char path[64], url[300], key[64], req[33];

	snprintf(path, sizeof(path), "caps/%s.pcap", name);
	snprintf(url, sizeof(url), "%s/%s/caps/%s.pcap", it_require_env("FLEETCAP_AZURITE"),
		 container, name);
	spec.name = (char *)name;
	spec.subscription = (char *)"sub-w";
	spec.region = (char *)"r1";
	spec.target = (char *)"real-1";
	spec.time_limit_s = 1;
	spec.file_path = path;
	spec.blob_url = url;
	spec.blob_sas = (char *)(sas ? sas : "");
	it_fleet_create_spec(fleet, &spec, req);
	snprintf(key, sizeof(key), "sub-w/r1/%s", name);
	it_status_t *s = NULL;
	for (int i = 0; i < 240 && !(s && (s->state == STOPPED || s->state == ERROR)); i++) {
		if (s)
			fleetcap__v1__capture_status__free_unpacked(s, NULL);
		s = it_fleet_wait_state(fleet, key, STOPPED, 1);
		if (!s)
			s = it_fleet_wait_state(fleet, key, ERROR, 0);
	}
	if (!s || (s->state != STOPPED && s->state != ERROR))
		fail_msg("%s did not end; see %s", name, worker_log);
	return s;
}

/*
 * A SAS token travels to the worker sealed for its key, and the worker uses
 * it: a read-only token fails the upload (the worker's account key would
 * have succeeded), a cw token uploads. No raw record of jobs, ledger,
 * status, results or workers holds its signature.
 */
static void test_sas_sealed_to_the_worker(void **state)
{
	char container[64], sas_r[256], sas_cw[256];
	(void)state;

	snprintf(container, sizeof(container), "wks-%ld", (long)getpid());
	it_status_t *s = capture_with_sas(container, "sk0", NULL); /* creates the container */
	assert_int_equal(s->state, STOPPED);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	it_azurite_sas(container, "r", sas_r, sizeof(sas_r));
	s = capture_with_sas(container, "sk1", sas_r);
	assert_int_equal(s->state, ERROR);
	assert_int_equal(s->error, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	it_azurite_sas(container, "cw", sas_cw, sizeof(sas_cw));
	s = capture_with_sas(container, "sk2", sas_cw);
	if (s->state != STOPPED)
		fail_msg("sk2: %s; see %s", s->error_message, worker_log);
	assert_int_equal(s->n_files, 1);
	assert_non_null(strstr(s->files[0]->blob_url, "/caps/sk2.pcap"));
	fleetcap__v1__capture_status__free_unpacked(s, NULL);

	const char *sig = strstr(sas_cw, "sig=");
	const char *sig_r = strstr(sas_r, "sig=");
	assert_non_null(sig);
	static const enum fc_topic clean[] = {FC_TOPIC_JOBS, FC_TOPIC_LEDGER, FC_TOPIC_STATUS,
					      FC_TOPIC_RESULTS, FC_TOPIC_WORKERS};
	for (size_t t = 0; t < sizeof(clean) / sizeof(clean[0]); t++)
		if (it_fleet_topic_holds(fleet, clean[t], sig) ||
		    it_fleet_topic_holds(fleet, clean[t], sig_r))
			fail_msg("the raw %s topic holds a SAS signature in clear",
				 fc_topic_suffix(clean[t]));
	/* And the worker's journal keeps it sealed too. */
	assert_int_not_equal(it_sh("grep -rqF '%s' %s/state", sig + 4, root), 0);
}

static void test_results_read_from_python(void **state)
{
	char brokers[300], prefix[96];
	const char *python = it_require_env("FLEETCAP_PYTHON");
	struct it_proc p = {0};
	(void)state;

	if (!*t3_blob)
		fail_msg("test_capture_to_blob did not run first");
	snprintf(brokers, sizeof(brokers), "%s", it_require_env("FLEETCAP_BROKERS"));
	snprintf(prefix, sizeof(prefix), "%s", it_fleet_prefix(fleet));
	char *argv[40] = {(char *)python,
			  FLEETCAP_SOURCE_DIR "/docs/consumer/results_consumer.py",
			  "--brokers",
			  brokers,
			  "--prefix",
			  prefix,
			  "--proto",
			  FLEETCAP_SOURCE_DIR "/proto/fleetcap.proto",
			  "--name",
			  "t3",
			  "--timeout",
			  "120",
			  NULL};
	/* Secured services: the consumer role's credentials ("kafka.K=V"). */
	size_t n = 12;
	for (const char *const *k = it_kafka_settings("consumer"); *k && n < 38; k++) {
		argv[n++] = (char *)"-X";
		argv[n++] = (char *)*k + strlen("kafka.");
	}
	argv[n] = NULL;
	assert_int_equal(it_proc_start(&p, argv), 0);
	int rc = it_proc_wait(&p);
	if (rc != 0)
		fail_msg("results_consumer.py exited %d: %s", rc, p.err);
	json_error_t jerr;
	json_t *r = json_loads(p.out, 0, &jerr);
	if (!r)
		fail_msg("results_consumer.py printed no JSON: %s", p.out);
	printf("  results_consumer.py: %s", p.out);
	assert_string_equal(json_string_value(json_object_get(r, "kind")), "FINISHED");
	assert_string_equal(json_string_value(json_object_get(r, "stopReason")), "TIME_EXCEEDED");
	json_t *f = json_array_get(json_object_get(r, "files"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "blobUrl")), t3_blob);
	assert_string_equal(json_string_value(json_object_get(f, "sha256")), t3_sha256);
	json_decref(r);
	it_proc_free(&p);
}

/* Lines of the log file holding both a and b. */
static int log_count2(const char *path, const char *a, const char *b)
{
	FILE *log = fopen(path, "r");
	char line[4096];
	int n = 0;

	assert_non_null(log);
	while (fgets(line, sizeof(line), log))
		n += strstr(line, a) && strstr(line, b);
	fclose(log);
	return n;
}

/* Waits until a line of the worker's log holds the session of name and text. */
static void wait_log(const char *log, const char *name, const char *text)
{
	char session[96];

	snprintf(session, sizeof(session), "/%s#", name);
	for (int i = 0; i < 600 && !log_count2(log, session, text); i++)
		usleep(100 * 1000);
	if (!log_count2(log, session, text))
		fail_msg("no \"%s\" for %s in %s", text, name, log);
}

/* Starts the test's own storage, to take down and bring back, once. */
static void own_storage(void)
{
	if (!storage.pid) {
		snprintf(storage_dir, sizeof(storage_dir), "%s/azurite", root);
		mkdir(storage_dir, 0700);
		assert_int_equal(it_azurite_start(&storage, storage_dir, storage.port), 0);
	}
}

/* A capture to a blob of the test's own storage; returns when it runs and
 * has seen some packets. */
static void create_on_storage(const char *name, char *url, size_t len)
{
	char req[33], key[64];

	own_storage();
	snprintf(url, len, "%s/wk-%s-%ld/caps/%s.pcap", storage.endpoint, name, (long)getpid(),
		 name);
	it_fleet_create_blob(fleet, "sub-w", "r1", name, "real-1", 3, 0, url, req);
	snprintf(key, sizeof(key), "sub-w/r1/%s", name);
	it_status_t *s = it_fleet_wait_state(fleet, key, RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	sleep(1);
	send_udp(9, 5353);
}

/* The capture ended by its time limit, and its blob is the local file. */
static void expect_uploaded(const char *name, const char *url, const char *log)
{
	char key[64], path[256], hex[65], blob[64], container[96];
	uint64_t size;

	snprintf(key, sizeof(key), "sub-w/r1/%s", name);
	it_status_t *s = it_fleet_wait_state(fleet, key, STOPPED, 120);
	if (!s)
		fail_msg("%s did not stop; see %s and %s", name, log, sched_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_int_equal(s->n_files, 1);
	assert_string_equal(s->files[0]->blob_url, url);
	snprintf(path, sizeof(path), "%s/caps/%s.pcap", root, name);
	assert_int_equal(it_file_sha256(path, hex), 0);
	assert_string_equal(s->files[0]->sha256, hex);
	snprintf(container, sizeof(container), "wk-%s-%ld", name, (long)getpid());
	snprintf(blob, sizeof(blob), "caps/%s.pcap", name);
	assert_int_equal(it_azurite_blob_sha256(storage.endpoint, container, blob, hex, &size),
			 200);
	assert_string_equal(s->files[0]->sha256, hex);
	assert_int_equal(s->files[0]->size, size);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static void test_storage_down_during_upload(void **state)
{
	char url[512];
	(void)state;

	create_on_storage("t7", url, sizeof(url));
	it_azurite_kill(&storage, SIGKILL); /* down before the capture ends */
	wait_log(worker_log, "t7", ": uploading");
	sleep(3); /* the worker retries meanwhile */
	assert_int_equal(it_azurite_start(&storage, storage_dir, storage.port), 0);
	expect_uploaded("t7", url, worker_log);
}

/* A ring of 2 files to a blob URL: every file the ring writes is uploaded as
 * it finishes, also those the ring then deletes, each blob its file. */
static void test_ring_uploaded_file_by_file(void **state)
{
	Fleetcap__V1__CaptureSpec spec = FLEETCAP__V1__CAPTURE_SPEC__INIT;
	Fleetcap__V1__RingBuffer ring = FLEETCAP__V1__RING_BUFFER__INIT;
	char req[33], url[512], container[64], hex[65], blob[128];
	uint64_t size;
	(void)state;

	snprintf(container, sizeof(container), "wk-ring-%ld", (long)getpid());
	snprintf(url, sizeof(url), "%s/%s/caps/t10.pcap", it_require_env("FLEETCAP_AZURITE"),
		 container);
	ring.file_count = 2;
	ring.file_size = 400;	       /* a few packets per file */
	ring.session_time_limit_s = 3; /* a ring's own limit (time_limit_s is not) */
	spec.name = (char *)"t10";
	spec.subscription = (char *)"sub-w";
	spec.region = (char *)"r1";
	spec.target = (char *)"real-1";
	spec.time_limit_s = 3;
	spec.file_path = (char *)"caps/t10.pcap";
	spec.blob_url = url;
	spec.ring = &ring;
	it_fleet_create_spec(fleet, &spec, req);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t10", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	sleep(1);
	send_udp(40, 5353);
	s = it_fleet_wait_state(fleet, "sub-w/r1/t10", STOPPED, 120);
	if (!s)
		fail_msg("t10 did not stop; see %s", worker_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_true(s->n_files >= 5);
	size_t gone = 0;
	for (size_t i = 0; i < s->n_files; i++) {
		const char *name = strrchr(s->files[i]->local_path, '/') + 1;
		snprintf(blob, sizeof(blob), "caps/%s", name);
		assert_non_null(strstr(s->files[i]->blob_url, blob));
		assert_int_equal(it_azurite_blob_sha256(it_require_env("FLEETCAP_AZURITE"),
							container, blob, hex, &size),
				 200);
		assert_string_equal(hex, s->files[i]->sha256);
		assert_int_equal(size, s->files[i]->size);
		gone += access(s->files[i]->local_path, F_OK) != 0;
	}
	/* The ring keeps 2 on disk; the others were uploaded before it deleted them. */
	assert_int_equal(gone, s->n_files - 2);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

/* A ring to a blob URL at endpoint/container: file_count files of
 * file_size bytes, for session_s seconds, under file_path. */
static void create_ring(const char *name, const char *file_path, const char *endpoint,
			const char *container, unsigned file_count, unsigned file_size,
			unsigned session_s)
{
	Fleetcap__V1__CaptureSpec spec = FLEETCAP__V1__CAPTURE_SPEC__INIT;
	Fleetcap__V1__RingBuffer ring = FLEETCAP__V1__RING_BUFFER__INIT;
	char req[33], url[512], key[64];

	snprintf(url, sizeof(url), "%s/%s/%s", endpoint, container, file_path);
	ring.file_count = file_count;
	ring.file_size = file_size;
	ring.session_time_limit_s = session_s;
	spec.name = (char *)name;
	spec.subscription = (char *)"sub-w";
	spec.region = (char *)"r1";
	spec.target = (char *)"real-1";
	spec.file_path = (char *)file_path;
	spec.blob_url = url;
	spec.ring = &ring;
	it_fleet_create_spec(fleet, &spec, req);
	snprintf(key, sizeof(key), "sub-w/r1/%s", name);
	it_status_t *s = it_fleet_wait_state(fleet, key, RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	sleep(1);
}

/* Every file the status lists is a whole pcap on disk (unless the ring
 * deleted it) and, when it has a blob URL, the same bytes in storage.
 * Returns how many have a blob. */
static size_t expect_files_whole(const it_status_t *s, const char *endpoint, const char *container,
				 const char *dir)
{
	size_t blobs = 0;

	for (size_t i = 0; i < s->n_files; i++) {
		const Fleetcap__V1__CaptureFile *f = s->files[i];
		char hex[65], blob[128];
		uint64_t size;
		if (access(f->local_path, F_OK) == 0) {
			struct it_pcap pcap;
			if (it_pcap_read(f->local_path, &pcap) != 0)
				fail_msg("%s is not a whole pcap file", f->local_path);
			assert_true(pcap.count > 0);
			assert_int_equal(pcap.file_size, f->size);
			it_pcap_free(&pcap);
			assert_int_equal(it_file_sha256(f->local_path, hex), 0);
			assert_string_equal(hex, f->sha256);
		}
		if (!*f->blob_url)
			continue;
		const char *name = strrchr(f->local_path, '/') + 1;
		snprintf(blob, sizeof(blob), "%s/%s", dir, name);
		assert_non_null(strstr(f->blob_url, blob));
		if (it_azurite_blob_sha256(endpoint, container, blob, hex, &size) != 200)
			fail_msg("%s is listed as uploaded but is not in storage", f->blob_url);
		assert_string_equal(hex, f->sha256);
		assert_int_equal(size, f->size);
		blobs++;
	}
	return blobs;
}

/*
 * The storage goes away for 60 s while a ring captures and uploads file by
 * file: the uploader holds the finished files (the ring deletes them from
 * the directory meanwhile) and uploads each once the storage is back; the
 * session ends at its limit and every file it lists is in storage.
 */
static void test_storage_away_60s_during_ring(void **state)
{
	char container[64];
	(void)state;

	own_storage();
	snprintf(container, sizeof(container), "wk-away-%ld", (long)getpid());
	create_ring("t14", "caps/t14.pcap", storage.endpoint, container, 2, 400, 6);
	send_udp(10, 5353);
	it_azurite_kill(&storage, SIGKILL);
	int64_t down = fc_mono_ms();
	for (int i = 0; i < 4; i++) { /* files keep rotating while it is away */
		send_udp(10, 5353);
		sleep(1);
	}
	while (fc_mono_ms() - down < 60000)
		sleep(1);
	assert_int_equal(it_azurite_start(&storage, storage_dir, storage.port), 0);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t14", STOPPED, 300);
	if (!s)
		fail_msg("t14 did not stop after the storage came back; see %s", worker_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_true(s->n_files >= 5);
	size_t blobs = expect_files_whole(s, storage.endpoint, container, "caps");
	printf("  t14: %zu files, %zu in storage after 60 s without it\n", s->n_files, blobs);
	assert_int_equal(blobs, s->n_files);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

/*
 * The capture root fills up in the middle of a ring (a 64 KiB tmpfs): the
 * session ends Error/LocalFileFailed saying the disk is full; the files
 * finished before are whole, listed and uploaded; no unfinished file stays.
 */
static void test_disk_full_mid_capture(void **state)
{
	char container[64], full[160];
	(void)state;

	snprintf(full, sizeof(full), "%s/full", root);
	mkdir(full, 0750);
	if (it_sh("mount -t tmpfs -o size=64k,mode=0750 fleetcap-full %s && chown nobody %s", full,
		  full) != 0)
		fail_msg("cannot mount a tmpfs on %s", full);
	snprintf(container, sizeof(container), "wk-full-%ld", (long)getpid());
	create_ring("t15", "full/t15.pcap", it_require_env("FLEETCAP_AZURITE"), container, 20, 8000,
		    60);
	for (int i = 0; i < 20; i++) /* 60-byte frames: about 100 KiB in all */
		send_udp(80, 5353);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t15", ERROR, 120);
	if (!s)
		fail_msg("t15 did not end in Error on a full disk; see %s", worker_log);
	assert_int_equal(s->error, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED);
	printf("  t15: %s; %zu files kept\n", s->error_message, s->n_files);
	assert_non_null(strstr(s->error_message, "No space left on device"));
	assert_true(s->n_files >= 2);
	assert_int_equal(
		expect_files_whole(s, it_require_env("FLEETCAP_AZURITE"), container, "full"),
		s->n_files);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(it_sh("ls %s | grep -c part$ | grep -qx 0", full), 0);
}

static void test_upload_resumed_after_crash(void **state)
{
	char url[512], resumed_log[256];
	(void)state;

	create_on_storage("t8", url, sizeof(url));
	it_azurite_kill(&storage, SIGKILL);
	wait_log(worker_log, "t8", ": uploading");
	sleep(1);
	assert_int_equal(it_sched_stop(worker, SIGKILL), 128 + SIGKILL);
	assert_int_equal(it_azurite_start(&storage, storage_dir, storage.port), 0);
	/* The journal says t8 was captured and its upload under way: the
	 * restarted worker finishes it and sends the real final report. */
	worker = it_daemon_start(fleet, unprivileged, FLEETCAP_WORKER_BIN, "worker-resumed",
				 worker_settings, resumed_log, sizeof(resumed_log));
	snprintf(worker_log, sizeof(worker_log), "%s", resumed_log); /* for teardown */
	expect_uploaded("t8", url, resumed_log);
	assert_int_equal(log_count2(resumed_log, "/t8#", "resuming the upload"), 1);
	assert_int_equal(log_count(resumed_log, "interrupted by a restart"), 0);
}

static void test_alert_to_capture(void **state)
{
	char name[FC_NAME_MAX + 1], key[128], path[256];
	struct it_pcap pcap;
	(void)state;

	it_fleet_alert(fleet, "sub-w", "r1", "real-1", "udp-alert", "e2e-udp-1",
		       FLEETCAP__V1__SEVERITY__SEVERITY_CRITICAL);
	sched_alert_capture_name("e2e-udp-1", name, sizeof(name));
	snprintf(key, sizeof(key), "sub-w/r1/%s", name);
	it_status_t *s = it_fleet_wait_state(fleet, key, RUNNING, 60);
	if (!s)
		fail_msg("the alert did not start a capture; see %s", sched_log);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	wait_log(worker_log, name, "started");
	sleep(1);
	send_udp(8, 5354); /* what the rule selects */
	send_udp(5, 5353); /* what it does not */
	s = it_fleet_wait_state(fleet, key, STOPPED, 60);
	if (!s)
		fail_msg("%s did not stop; see %s", name, worker_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_int_equal(s->origin->kind, FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT);
	snprintf(path, sizeof(path), "%s/alerts/%s.pcap", root, name);
	assert_string_equal(s->files[0]->local_path, path);
	assert_int_equal(it_pcap_read(path, &pcap), 0);
	assert_int_equal(pcap.count, 8);
	for (size_t i = 0; i < pcap.count; i++) {
		assert_int_equal(pcap.records[i].pkt.proto, IT_PROTO_UDP);
		assert_int_equal(pcap.records[i].pkt.dport, 5354);
	}
	it_pcap_free(&pcap);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

/* real-1 belongs to sub-w/r1: another tenant gets TargetNotFound, the same
 * answer as for a host that does not exist, and no job reaches the worker. */
static void test_other_tenant_cannot_target(void **state)
{
	static const char *const tenants[][2] = {{"sub-x", "r1"}, {"sub-w", "r2"}};
	char req[33];
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		it_fleet_create(fleet, tenants[i][0], tenants[i][1], "t9", "real-1", 5, 0, req);
		it_status_t *s = it_fleet_answer(fleet, req, 60);
		assert_non_null(s);
		assert_int_equal(s->state, ERROR);
		assert_int_equal(s->error, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND);
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
	}
	it_fleet_create(fleet, "sub-x", "r1", "t9-nohost", "no-such-host", 5, 0, req);
	it_status_t *s = it_fleet_answer(fleet, req, 60);
	assert_int_equal(s->error, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "t9"), 0);
	assert_int_equal(log_count(worker_log, "/t9"), 0);
}

/* Statuses of capture name that end it (Stopped or Error) seen so far. */
static size_t count_ends(const char *name)
{
	it_status_t **all;
	size_t n = it_fleet_statuses(fleet, &all), ends = 0;

	for (size_t i = 0; i < n; i++)
		ends += strcmp(all[i]->name, name) == 0 &&
			(all[i]->state == STOPPED ||
			 all[i]->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR);
	free(all);
	return ends;
}

/*
 * Kafka goes away (the broker paused) while a session ends: the final report
 * times out in the worker (message.timeout.ms 3 s), is not journaled final,
 * and is sent again until Kafka is back. The session ends TimeExceeded, not
 * AgentStopped, and ends exactly once.
 */
static void test_final_report_waits_for_kafka(void **state)
{
	const char *settings[32];
	char req[33], log[256];
	size_t n = 0;
	(void)state;

	pid_t kafka = (pid_t)atol(it_require_env("FLEETCAP_KAFKA_PID"));
	assert_true(kafka > 1);
	assert_int_equal(it_sched_stop(worker, SIGTERM), 0);
	for (; worker_settings[n]; n++)
		settings[n] = worker_settings[n];
	settings[n++] = "kafka.message.timeout.ms=3000";
	if (getenv("FLEETCAP_TEST_KAFKA_DEBUG")) {
		settings[n++] = "kafka.debug=eos,msg,broker,protocol,topic,metadata";
		settings[n++] = "log.level=debug";
	}
	settings[n] = NULL;
	worker = it_daemon_start(fleet, unprivileged, FLEETCAP_WORKER_BIN, "worker-kafka-away",
				 settings, log, sizeof(log));
	snprintf(worker_log, sizeof(worker_log), "%s", log); /* for teardown */
	if (it_sched_wait_log(log, "capturing under", 60) != 0)
		fail_msg("the worker did not start; see %s", log);

	create("t11", 3, req);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t11", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* Paused once the worker runs the session and its started report is out. */
	if (it_sched_wait_log(log, "/t11#", 60) != 0)
		fail_msg("the worker did not start t11; see %s", log);
	usleep(500 * 1000);
	assert_int_equal(kill(-kafka, SIGSTOP), 0);
	/* The session ends at its time limit; its report times out at least once. */
	int timed_out = it_sched_wait_log(log, "the final report is not in Kafka", 60);
	sleep(2);
	assert_int_equal(kill(-kafka, SIGCONT), 0);
	if (timed_out != 0)
		fail_msg("the final report of t11 never timed out; see %s", log);

	s = it_fleet_wait_state(fleet, "sub-w/r1/t11", STOPPED, 120);
	if (!s) {
		it_status_t **all;
		size_t n_all = it_fleet_statuses(fleet, &all);
		for (size_t i = 0; i < n_all; i++)
			if (strcmp(all[i]->name, "t11") == 0)
				fprintf(stderr, "t11: state %d, stop reason %d, error %d\n",
					all[i]->state, all[i]->stop_reason, all[i]->error);
		free(all);
		fail_msg("t11 did not end Stopped after Kafka came back; see %s and %s", log,
			 sched_log);
	}
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	assert_int_equal(s->n_files, 1);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* The report is in results, and the session ended once: a report sent
	 * again is never a second end (the scheduler acts on the first). */
	const int finished = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED;
	for (int i = 0; i < 300 && it_fleet_reports(fleet, "t11", finished) == 0; i++)
		usleep(100 * 1000);
	sleep(2);
	size_t reports = it_fleet_reports(fleet, "t11", finished);
	printf("  t11: %zu final report(s) in results, %zu end(s) in status\n", reports,
	       count_ends("t11"));
	assert_true(reports >= 1);
	assert_int_equal(count_ends("t11"), 1);
	/* Journaled final once delivered: a restart does not send it again. */
	assert_int_equal(it_sched_stop(worker, SIGTERM), 0);
	worker = it_daemon_start(fleet, unprivileged, FLEETCAP_WORKER_BIN, "worker-after-kafka",
				 worker_settings, worker_log, sizeof(worker_log));
	if (it_sched_wait_log(worker_log, "capturing under", 60) != 0)
		fail_msg("the worker did not start again; see %s", worker_log);
	sleep(2);
	assert_int_equal(log_count(worker_log, "t11#"), 0);
	assert_int_equal(it_fleet_reports(fleet, "t11", finished), reports);
	assert_int_equal(count_ends("t11"), 1);
}

static void test_worker_killed_and_restarted(void **state)
{
	char req[33], restarted_log[256];
	(void)state;

	create("t5", 600, req);
	for (int i = 0; i < 600 && !log_count(worker_log, "t5#"); i++)
		usleep(100 * 1000);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t5", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	sleep(1);
	assert_int_equal(it_sched_stop(worker, SIGKILL), 128 + SIGKILL);

	/* The restarted worker reads its journal: t5 started and never ended. */
	worker = it_daemon_start(fleet, unprivileged, FLEETCAP_WORKER_BIN, "worker-restarted",
				 worker_settings, restarted_log, sizeof(restarted_log));
	s = it_fleet_wait_state(fleet, "sub-w/r1/t5", STOPPED, 60);
	if (!s)
		fail_msg("t5 did not end after the restart; see %s", restarted_log);
	assert_int_equal(s->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_AGENT_RESTARTED);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(log_count(restarted_log, "t5#"), 1); /* the report, no second run */
	assert_int_equal(log_count(restarted_log, "interrupted by a restart"), 1);
	snprintf(worker_log, sizeof(worker_log), "%s", restarted_log); /* for teardown */
}

/* Is name active in the newest ledger record of sub-w/r1? */
struct ledger_probe {
	const char *name;
	int seen, active;
};

static void probe_ledger(void *opaque, const Fleetcap__V1__LedgerState *ls)
{
	struct ledger_probe *p = opaque;

	if (strcmp(ls->subscription, "sub-w") != 0 || strcmp(ls->region, "r1") != 0)
		return;
	p->seen = 1;
	p->active = 0; /* records come oldest first: the last one wins */
	for (size_t i = 0; i < ls->n_active; i++)
		p->active |= strcmp(ls->active[i]->name, p->name) == 0;
}

static void test_worker_killed_for_good(void **state)
{
	char req[33];
	(void)state;

	create("t6", 600, req);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-w/r1/t6", RUNNING, 60);
	assert_non_null(s);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* Killed once the scheduler has the worker's started report: the lease
	 * then runs to the time limit, and only the missing heartbeats end it.
	 * (Killed before, the session would end one grace after admission,
	 * "no final report in time", which a slow machine may show.) */
	assert_true(wait_started("t6"));
	assert_int_equal(it_sched_stop(worker, SIGKILL), 128 + SIGKILL);
	worker = 0;
	/* No heartbeat for 3 intervals (2 s) plus the grace (15 s): the session
	 * ends, long before its 600 s time limit, and frees its slot. */
	s = it_fleet_wait_state(fleet, "sub-w/r1/t6", ERROR, 60);
	if (!s)
		fail_msg("t6 did not end after its worker died; see %s", sched_log);
	assert_int_equal(s->error, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_AGENT_STOPPED);
	assert_non_null(strstr(s->error_message, "heartbeats"));
	assert_true(s->updated_time_ms - s->capture_start_time_ms < 60000);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* Its slot is free in the committed ledger. */
	struct ledger_probe probe = {.name = "t6"};
	it_fleet_read_ledger(fleet, probe_ledger, &probe);
	assert_true(probe.seen);
	assert_false(probe.active);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_to_time_limit),
		cmocka_unit_test(test_stop_mid_capture),
		cmocka_unit_test(test_capture_to_blob),
		cmocka_unit_test(test_sas_sealed_to_the_worker),
		cmocka_unit_test(test_results_read_from_python),
		cmocka_unit_test(test_storage_down_during_upload),
		cmocka_unit_test(test_ring_uploaded_file_by_file),
		cmocka_unit_test(test_storage_away_60s_during_ring),
		cmocka_unit_test(test_disk_full_mid_capture),
		cmocka_unit_test(test_upload_resumed_after_crash),
		cmocka_unit_test(test_alert_to_capture),
		cmocka_unit_test(test_other_tenant_cannot_target),
		cmocka_unit_test(test_final_report_waits_for_kafka),
		cmocka_unit_test(test_worker_killed_and_restarted),
		cmocka_unit_test(test_worker_killed_for_good),
	};
	/* FLEETCAP_TEST_FILTER=test_name runs one test (a pattern with * and ?). */
	if (getenv("FLEETCAP_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FLEETCAP_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
