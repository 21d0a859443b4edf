/*
 * A group capture end to end, on the real broker: three real
 * fleetcap-workers of group "web" (instances 0, 1 and 2, each with its own
 * capture root) capture on a test host's veth, with the real scheduler and
 * fleetcap-api. `fleetcap create -g web --exclude 1` with a UDP port filter
 * and a blob URL; the test host sends matching and other packets; `fleetcap
 * stop`; then:
 *
 *  - the CLI (show --json) reports the capture Stopped with the sum of its
 *    instances and a breakdown of 0 and 2, each Stopped with its own counts;
 *  - instances 0 and 2 each wrote one pcap under their root, in a directory
 *    named after the instance, holding exactly the matching packets, and
 *    uploaded it to Azurite under the same name (same sha256); instance 1
 *    got no job and wrote nothing;
 *  - the API's queryStatus answers the same breakdown;
 *  - the web page shows it, one row per instance (tests/browser/group.cjs),
 *    and a screenshot is saved.
 *
 * Needs root (test host), FLEETCAP_AZURITE, FLEETCAP_PLAYWRIGHT and chromium.
 */
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_azurite.h"
#include "it_env.h"
#include "it_fleet.h"
#include "it_metrics.h"
#include "it_packets.h"
#include "it_proc.h"
#include "it_testhost.h"

#define TOKEN	 "token-group-0123456789abcdef"
#define WORKERS	 3
#define MATCHING 30
#define PORT	 5353
#define OTHER	 5354

static struct it_fleet *fleet;
static struct it_host host;
static pid_t scheduler, api, workers[WORKERS];
static char sched_log[256], api_log[256], worker_log[WORKERS][256], root[128], tokens[160];
static char brokers[256], prefix[64], container[64];

static int setup(void **state)
{
	static char ifs[64], tokensx[200];
	(void)state;

	it_unique(prefix, sizeof(prefix), "it-group-");
	strcat(prefix, ".");
	snprintf(brokers, sizeof(brokers), "%s", it_require_env("FLEETCAP_BROKERS"));
	it_require_env("FLEETCAP_AZURITE");
	it_require_env("FLEETCAP_PLAYWRIGHT");
	if (it_host_create(&host, "gr") != 0)
		fail_msg("cannot create the test host (root is needed)");
	fleet = it_fleet_start(brokers, prefix, 3);
	snprintf(root, sizeof(root), "/tmp/%sroot", prefix);
	snprintf(container, sizeof(container), "group-%ld", (long)getpid());
	snprintf(tokens, sizeof(tokens), "%s/tokens", root);
	it_sh("mkdir -p %s && echo '%s sub-g' > %s && chmod 600 %s", root, TOKEN, tokens, tokens);

	static const char *sched_settings[] = {"lease.grace.s=30", "tick.ms=100", NULL};
	scheduler = it_sched_start(fleet, "one", sched_settings, sched_log, sizeof(sched_log));
	snprintf(ifs, sizeof(ifs), "interfaces=%s", host.root_if);
	for (int i = 0; i < WORKERS; i++) {
		static char hostx[WORKERS][32], instx[WORKERS][32], rootx[WORKERS][200],
			statex[WORKERS][200];
		snprintf(hostx[i], sizeof(hostx[i]), "host.id=real-g%d", i);
		snprintf(instx[i], sizeof(instx[i]), "instance=%d", i);
		snprintf(rootx[i], sizeof(rootx[i]), "capture.root=%s/w%d", root, i);
		snprintf(statex[i], sizeof(statex[i]), "state.dir=%s/s%d", root, i);
		it_sh("mkdir -p %s/w%d %s/s%d", root, i, root, i);
		const char *settings[] = {hostx[i],
					  "subscription=sub-g",
					  "region=r1",
					  "group=web",
					  instx[i],
					  ifs,
					  rootx[i],
					  statex[i],
					  "progress.s=1",
					  "heartbeat.s=2",
					  "blob.key." IT_AZURITE_ACCOUNT "=" IT_AZURITE_KEY,
					  NULL};
		char tag[16];
		snprintf(tag, sizeof(tag), "worker-%d", i);
		workers[i] = it_daemon_start(fleet, NULL, FLEETCAP_WORKER_BIN, tag, settings,
					     worker_log[i], sizeof(worker_log[i]));
	}
	snprintf(tokensx, sizeof(tokensx), "auth.tokens=%s", tokens);
	const char *api_settings[] = {tokensx, "listen.port=0", "web.root=" FLEETCAP_WEB_ROOT,
				      NULL};
	api = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api", api_settings, api_log,
			      sizeof(api_log));
	if (it_sched_wait_log(sched_log, "ledger replayed", 120) != 0 ||
	    it_sched_wait_log(api_log, "listening on", 120) != 0)
		fail_msg("the daemons did not start; see %s and %s", sched_log, api_log);
	for (int i = 0; i < WORKERS; i++)
		if (it_sched_wait_log(worker_log[i], "capturing under", 60) != 0)
			fail_msg("worker %d did not start; see %s", i, worker_log[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	it_sched_stop(api, SIGTERM);
	for (int i = 0; i < WORKERS; i++)
		it_sched_stop(workers[i], SIGTERM);
	it_sched_stop(scheduler, SIGTERM);
	it_fleet_stop(fleet);
	it_host_destroy(&host);
	it_sh("rm -rf %s", root);
	return 0;
}

/* Runs the fleetcap CLI with args (NULL-terminated) and the test's Kafka;
 * returns its exit status, with its stdout in *out (to free). */
static int cli(char **out, ...)
{
	char *argv[40] = {FLEETCAP_BIN};
	int n = 1;
	va_list ap;
	struct it_proc p;

	va_start(ap, out);
	for (char *a; (a = va_arg(ap, char *)) && n < 34;)
		argv[n++] = a;
	va_end(ap);
	argv[n++] = "--brokers";
	argv[n++] = brokers;
	argv[n++] = "--prefix";
	argv[n++] = prefix;
	argv[n] = NULL;
	assert_int_equal(it_proc_start(&p, argv), 0);
	int rc = it_proc_wait(&p);
	fprintf(stderr, "$ fleetcap %s ... -> %d\n%s%s", argv[1], rc, p.out, p.err);
	*out = strdup(p.out);
	it_proc_free(&p);
	return rc;
}

/* The capture's status as `fleetcap show --json` prints it. */
static json_t *show(void)
{
	char *out;
	json_error_t e;

	assert_int_equal(cli(&out, "show", "gcap", "-s", "sub-g", "-r", "r1", "--json", NULL), 0);
	json_t *s = json_loads(out, 0, &e);
	if (!s)
		fail_msg("show --json: %s: %s", e.text, out);
	free(out);
	return s;
}

static json_int_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static const char *text(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (!v)
		fail_msg("\"%s\" is not a string", key);
	return v;
}

static void send_udp(int count, uint16_t dport)
{
	assert_int_equal(it_host_send_udp(&host, count, dport), 0);
}

/* Instance id's pcap: exactly the matching packets. */
static void expect_file(int id)
{
	char path[300];
	struct it_pcap pcap;

	snprintf(path, sizeof(path), "%s/w%d/caps/%d/gcap.pcap", root, id, id);
	if (it_pcap_read(path, &pcap) != 0)
		fail_msg("instance %d: no pcap at %s", id, path);
	assert_int_equal(pcap.count, MATCHING);
	for (size_t i = 0; i < pcap.count; i++) {
		assert_int_equal(pcap.records[i].pkt.proto, IT_PROTO_UDP);
		assert_int_equal(pcap.records[i].pkt.dport, PORT);
	}
	it_pcap_free(&pcap);

	/* The blob carries the instance in its name too, and is the file. */
	char blob[64], hex[65], local[65];
	uint64_t size;
	snprintf(blob, sizeof(blob), "caps/%d/gcap.pcap", id);
	assert_int_equal(it_azurite_blob_sha256(it_require_env("FLEETCAP_AZURITE"), container, blob,
						hex, &size),
			 200);
	assert_int_equal(it_file_sha256(path, local), 0);
	assert_string_equal(hex, local);
}

static void test_group_capture(void **state)
{
	char url[300], *out;
	(void)state;

	snprintf(url, sizeof(url), "%s/%s/caps/gcap.pcap", it_require_env("FLEETCAP_AZURITE"),
		 container);
	int rc = cli(&out, "create", "gcap", "-s", "sub-g", "-r", "r1", "-g", "web", "--exclude",
		     "1", "--filter", "protocol=udp,local-port=5353", "--time-limit", "300",
		     "--file-path", "caps/gcap.pcap", "--blob-url", url, "--wait", "--json", NULL);
	if (rc != 0)
		fail_msg("fleetcap create -g web: exit %d: %s (see %s)", rc, out, sched_log);
	assert_non_null(strstr(out, "\"instances\""));
	free(out);

	/* Every selected instance captures before the traffic is sent. */
	int started = 0;
	for (int waited = 0; waited < 300 && started < 2; waited++) {
		json_t *s = show(), *inst = json_object_get(s, "instances");
		assert_int_equal(json_array_size(inst), 2);
		started = 0;
		for (size_t i = 0; i < 2; i++)
			started += json_is_string(
				json_object_get(json_array_get(inst, i), "captureStartTime"));
		json_decref(s);
		if (started < 2)
			usleep(200 * 1000);
	}
	if (started < 2)
		fail_msg("the instances did not start; see %s, %s, %s", worker_log[0],
			 worker_log[2], sched_log);
	send_udp(MATCHING, PORT);
	send_udp(20, OTHER);
	/* The workers write what they read; progress shows when they have. */
	for (int waited = 0; waited < 300; waited++) {
		json_t *s = show();
		json_int_t packets = num(s, "packets");
		json_decref(s);
		if (packets >= 2 * MATCHING)
			break;
		usleep(200 * 1000);
	}
	assert_int_equal(cli(&out, "stop", "gcap", "-s", "sub-g", "-r", "r1", NULL), 0);
	free(out);
	rc = cli(&out, "wait", "gcap", "-s", "sub-g", "-r", "r1", "--for", "Stopped", "--timeout",
		 "120", NULL);
	if (rc != 0)
		fail_msg("the group capture did not stop: %s (see %s)", out, sched_log);
	free(out);

	/* The CLI: the whole and its instances. */
	json_t *s = show();
	assert_string_equal(text(s, "status"), "Stopped");
	assert_string_equal(text(s, "stopReason"), "StoppedByUser");
	assert_string_equal(text(s, "targetType"), "group");
	assert_int_equal(num(s, "packets"), 2 * MATCHING);
	assert_int_equal(num(s, "drops"), 0);
	assert_int_equal(json_array_size(json_object_get(s, "files")), 2);
	json_t *inst = json_object_get(s, "instances");
	assert_int_equal(json_array_size(inst), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_array_get(inst, i);
		assert_string_equal(text(x, "instance"), i ? "2" : "0");
		assert_string_equal(text(x, "host"), i ? "real-g2" : "real-g0");
		assert_string_equal(text(x, "status"), "Stopped");
		assert_int_equal(num(x, "packets"), MATCHING);
		assert_int_equal(json_array_size(json_object_get(x, "files")), 1);
	}
	json_decref(s);
	assert_int_equal(cli(&out, "show", "gcap", "-s", "sub-g", "-r", "r1", NULL), 0);
	assert_non_null(strstr(out, "instances:"));
	free(out);

	/* The files: one per selected instance, none for the excluded one. */
	expect_file(0);
	expect_file(2);
	assert_int_not_equal(it_sh("test -e %s/w1/caps", root), 0);
	assert_int_equal(it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "gcap"), 2);

	/* The API: queryStatus with the same breakdown. */
	char base[128], api_url[400];
	assert_int_equal(it_log_url(api_log, "listening on ", base, sizeof(base)), 0);
	snprintf(api_url, sizeof(api_url),
		 "%s/subscriptions/sub-g/regions/r1/packetCaptures/gcap/queryStatus", base);
	char *curl[] = {"/usr/bin/curl", "-s", "-X", "POST", "-H", "Authorization: Bearer " TOKEN,
			api_url,	 NULL};
	struct it_proc p;
	json_error_t e;
	assert_int_equal(it_proc_start(&p, curl), 0);
	assert_int_equal(it_proc_wait(&p), 0);
	json_t *q = json_loads(p.out, 0, &e);
	if (!q)
		fail_msg("queryStatus: %s", p.out);
	it_proc_free(&p);
	assert_string_equal(text(q, "packetCaptureStatus"), "Stopped");
	assert_int_equal(num(q, "packetsCaptured"), 2 * MATCHING);
	inst = json_object_get(q, "instances");
	assert_int_equal(json_array_size(inst), 2);
	assert_string_equal(text(json_array_get(inst, 1), "target"), "real-g2");
	assert_int_equal(num(json_array_get(inst, 1), "packetsCaptured"), MATCHING);
	json_decref(q);

	/* The page. */
	char packets[16];
	snprintf(packets, sizeof(packets), "%d", MATCHING);
	char *node[] = {"/usr/bin/node",
			FLEETCAP_GROUP_SCRIPT,
			base,
			TOKEN,
			"sub-g",
			"r1",
			"gcap",
			"0,2",
			packets,
			FLEETCAP_GROUP_SCREENSHOT,
			NULL};
	unlink(FLEETCAP_GROUP_SCREENSHOT);
	assert_int_equal(it_proc_start(&p, node), 0);
	if (it_proc_wait(&p) != 0)
		fail_msg("the browser test failed:\n%s%s\n(see %s, %s)", p.out, p.err, api_log,
			 sched_log);
	assert_non_null(strstr(p.out, "ok"));
	it_proc_free(&p);
	assert_int_equal(it_sh("test -s %s", FLEETCAP_GROUP_SCREENSHOT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_capture),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
