/*
 * fleetcap-scheduler on the real broker (docs/ARCHITECTURE.md §3): quota, queueing
 * and queue timeout, idempotent create and Conflict, TargetNotFound for
 * unknown, stale and other-tenant hosts, alert dedupe and cooldown, lease
 * expiry, and a restarted scheduler that restores its state from the ledger.
 *
 * One scheduler serves every case; each case uses its own subscription, so
 * they do not share quota keys. The fake worker of it_fleet answers jobs.
 */
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
#include <jansson.h>

#include "fc_spec.h"
#include "it_env.h"
#include "it_fleet.h"
#include "it_proc.h"
#include "sched_alerts.h"

#define RUNNING	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING
#define QUEUED	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED
#define STOPPED	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED
#define ERROR	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR
#define E_QUOTA	   FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED
#define E_TARGET   FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND
#define E_CONFLICT FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT
#define E_AGENT	   FLEETCAP__V1__ERROR_CODE__ERROR_CODE_AGENT_STOPPED
#define JOB_START  FLEETCAP__V1__JOB_KIND__JOB_KIND_START
#define JOB_STOP   FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP
#define CMD_STOP   FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP
#define WARNING	   FLEETCAP__V1__SEVERITY__SEVERITY_WARNING

static struct it_fleet *fleet;
static pid_t scheduler;
static char log_path[256], rules_path[128];

static const char *settings[] = {
	"quota.default=10",
	"quota.sub-queue=1",
	"lease.grace.s=3",
	"tick.ms=100",
	NULL, /* alerts.rules=…, filled in by setup */
	NULL,
};
static char rules_setting[160];

static void start_scheduler(void)
{
	scheduler = it_sched_start(fleet, "one", settings, log_path, sizeof(log_path));
	if (it_sched_wait_log(log_path, "ledger replayed", 120) != 0)
		fail_msg("the scheduler did not get its partitions; see %s", log_path);
}

static int setup(void **state)
{
	char prefix[64];
	FILE *f;
	(void)state;

	it_unique(prefix, sizeof(prefix), "it-sched-");
	strcat(prefix, ".");
	fleet = it_fleet_start(it_require_env("FLEETCAP_BROKERS"), prefix, 3);
	snprintf(rules_path, sizeof(rules_path), "/tmp/%srules.json", prefix);
	f = fopen(rules_path, "w");
	fputs("{\"rules\": [{\"name\": \"retrans\", \"minSeverity\": \"Warning\", "
	      "\"cooldownSeconds\": 3, \"capture\": {\"time-limit\": 60, \"bytes-per-packet\": 96, "
	      "\"filter\": [\"protocol=tcp\"], \"file-path\": \"alerts/{name}.pcap\"}}]}\n",
	      f);
	fclose(f);
	snprintf(rules_setting, sizeof(rules_setting), "alerts.rules=%s", rules_path);
	settings[4] = rules_setting;
	start_scheduler();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (it_sched_stop(scheduler, SIGTERM) != 0)
		fprintf(stderr, "the scheduler did not exit 0 on SIGTERM; see %s\n", log_path);
	it_fleet_stop(fleet);
	unlink(rules_path);
	return 0;
}

static it_status_t *answer(const char *request_id)
{
	it_status_t *s = it_fleet_answer(fleet, request_id, 60);
	if (!s)
		fail_msg("no answer to %s; see %s", request_id, log_path);
	return s;
}

static void expect_answer(const char *request_id, int state, int error)
{
	it_status_t *s = answer(request_id);
	if ((int)s->state != state || (int)s->error != error)
		fail_msg("%s: state %d error %d (%s), expected state %d error %d", request_id,
			 s->state, s->error, s->error_message, state, error);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static void wait_state(const char *key, int state)
{
	it_status_t *s = it_fleet_wait_state(fleet, key, state, 60);
	if (!s)
		fail_msg("%s never reached state %d; see %s", key, state, log_path);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

/* The jobs of kind for name seen so far, once at least n are (or after 30 s:
 * the fake worker reads jobs in a thread of its own, a moment after the
 * status that announced them). */
static size_t jobs_reach(int kind, const char *name, size_t n)
{
	for (int i = 0; i < 300 && it_fleet_jobs(fleet, kind, name) < n; i++)
		usleep(100 * 1000);
	return it_fleet_jobs(fleet, kind, name);
}

/* A create answered (and its job read) only after everything sent before it
 * in the same key. */
static void barrier(const char *sub, const char *region, const char *host)
{
	char req[33], name[32];
	static int n;

	snprintf(name, sizeof(name), "marker-%d", n++);
	it_fleet_create(fleet, sub, region, name, host, 60, 0, req);
	it_status_t *s = answer(req);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	jobs_reach(JOB_START, name, 1);
}

static void test_quota(void **state)
{
	char req[13][33], name[16];
	int running = 0, rejected = 0;
	(void)state;

	it_fleet_heartbeat(fleet, "host-q", "sub-quota", "r1", 0);
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "q%02d", i);
		it_fleet_create(fleet, "sub-quota", "r1", name, "host-q", 600, 0, req[i]);
	}
	for (int i = 0; i < 12; i++) {
		it_status_t *s = answer(req[i]);
		running += s->state == RUNNING;
		rejected += s->state == ERROR && s->error == E_QUOTA;
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
	}
	assert_int_equal(running, 10);
	assert_int_equal(rejected, 2);
	assert_true(jobs_reach(JOB_START, NULL, 10) >= 10);

	/* Stop one: the worker reports the end, the slot frees, the next is admitted. */
	it_fleet_command(fleet, CMD_STOP, "sub-quota", "r1", "q00");
	wait_state("sub-quota/r1/q00", STOPPED);
	it_fleet_create(fleet, "sub-quota", "r1", "q12", "host-q", 600, 0, req[12]);
	expect_answer(req[12], RUNNING, 0);
	assert_int_equal(jobs_reach(JOB_START, "q12", 1), 1);
}

static void test_queue_and_timeout(void **state)
{
	char a[33], b[33], c[33];
	(void)state;

	it_fleet_heartbeat(fleet, "host-w", "sub-queue", "r1", 0);
	it_fleet_create(fleet, "sub-queue", "r1", "a", "host-w", 600, 0, a);
	it_fleet_create(fleet, "sub-queue", "r1", "b", "host-w", 600, 60, b);
	it_fleet_create(fleet, "sub-queue", "r1", "c", "host-w", 600, 2, c);
	expect_answer(a, RUNNING, 0);
	expect_answer(b, QUEUED, 0);
	expect_answer(c, QUEUED, 0);
	/* c's queue timeout passes: QuotaExceeded. b, with 60 s, waits on. */
	wait_state("sub-queue/r1/c", ERROR);
	assert_int_equal(it_fleet_jobs(fleet, JOB_START, "b"), 0);
	assert_int_equal(it_fleet_jobs(fleet, JOB_START, "c"), 0);
	it_fleet_command(fleet, CMD_STOP, "sub-queue", "r1", "a");
	wait_state("sub-queue/r1/b", RUNNING);
	assert_int_equal(jobs_reach(JOB_START, "b", 1), 1);
}

static void test_idempotent_and_conflict(void **state)
{
	char r1[33], r2[33], r3[33];
	(void)state;

	it_fleet_heartbeat(fleet, "host-i", "sub-idem", "r1", 0);
	it_fleet_create(fleet, "sub-idem", "r1", "x", "host-i", 600, 0, r1);
	it_fleet_create(fleet, "sub-idem", "r1", "x", "host-i", 600, 0, r2);
	it_fleet_create(fleet, "sub-idem", "r1", "x", "host-i", 30, 0, r3);
	expect_answer(r1, RUNNING, 0);
	expect_answer(r2, RUNNING, 0); /* a no-op: the same capture */
	it_status_t *s = answer(r3);
	assert_int_equal(s->state, RUNNING); /* untouched */
	assert_int_equal(s->rejected_error, E_CONFLICT);
	assert_int_equal(s->spec->time_limit_s, 600);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(jobs_reach(JOB_START, "x", 1), 1);
}

static void test_target_not_found(void **state)
{
	static const char *hosts[] = {"host-nobody", "host-stale", "host-other"};
	char req[3][33];
	(void)state;

	it_fleet_heartbeat(fleet, "host-stale", "sub-t", "r1", 3600 * 1000);
	it_fleet_heartbeat(fleet, "host-other", "sub-other", "r1", 0);
	for (int i = 0; i < 3; i++)
		it_fleet_create(fleet, "sub-t", "r1", hosts[i], hosts[i], 60, 0, req[i]);
	for (int i = 0; i < 3; i++) {
		it_status_t *s = answer(req[i]);
		assert_int_equal(s->state, ERROR);
		assert_int_equal(s->error, E_TARGET);
		assert_string_equal(s->error_field, "target");
		assert_null(strstr(s->error_message, "sub-other"));
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
	}
	assert_int_equal(it_fleet_jobs(fleet, JOB_START, "host-other"), 0);
	/* The same host registered in its own tenant is accepted. */
	it_fleet_create(fleet, "sub-other", "r1", "ok", "host-other", 60, 0, req[0]);
	expect_answer(req[0], RUNNING, 0);
}

static void test_alerts(void **state)
{
	char a1[FC_NAME_MAX + 1], a2[FC_NAME_MAX + 1], a3[FC_NAME_MAX + 1], a4[FC_NAME_MAX + 1],
		key[160];
	(void)state;

	it_fleet_heartbeat(fleet, "host-a", "sub-alert", "r1", 0);
	sched_alert_capture_name("a1", a1, sizeof(a1));
	sched_alert_capture_name("a2", a2, sizeof(a2));
	sched_alert_capture_name("a3", a3, sizeof(a3));
	sched_alert_capture_name("a4", a4, sizeof(a4));
	it_fleet_alert(fleet, "sub-alert", "r1", "host-a", "retrans", "a0",
		       FLEETCAP__V1__SEVERITY__SEVERITY_INFO); /* below the rule's minimum */
	it_fleet_alert(fleet, "sub-alert", "r1", "host-a", "retrans", "a1", WARNING);
	snprintf(key, sizeof(key), "sub-alert/r1/%s", a1);
	wait_state(key, RUNNING);
	it_fleet_alert(fleet, "sub-alert", "r1", "host-a", "retrans", "a1", WARNING); /* again */
	it_fleet_alert(fleet, "sub-alert", "r1", "host-a", "retrans", "a2", WARNING);
	barrier("sub-alert", "r1", "host-a");
	assert_int_equal(jobs_reach(JOB_START, a1, 1), 1);
	assert_int_equal(it_fleet_jobs(fleet, JOB_START, a2), 0);
	it_status_t *s = it_fleet_wait_state(fleet, key, RUNNING, 1);
	assert_string_equal(s->origin->alert_id, "a1");
	assert_string_equal(s->origin->rule, "retrans");
	fleetcap__v1__capture_status__free_unpacked(s, NULL);

	/* The capture ends; for 3 s no new one for this target and rule. */
	it_fleet_command(fleet, CMD_STOP, "sub-alert", "r1", a1);
	wait_state(key, STOPPED);
	it_fleet_alert(fleet, "sub-alert", "r1", "host-a", "retrans", "a3", WARNING);
	barrier("sub-alert", "r1", "host-a");
	assert_int_equal(it_fleet_jobs(fleet, JOB_START, a3), 0);
	sleep(4);
	it_fleet_alert(fleet, "sub-alert", "r1", "host-a", "retrans", "a4", WARNING);
	snprintf(key, sizeof(key), "sub-alert/r1/%s", a4);
	wait_state(key, RUNNING);
	assert_int_equal(jobs_reach(JOB_START, a4, 1), 1);
}

static void test_lease_expiry(void **state)
{
	char never[33], mute[33];
	(void)state;

	/* silent-1 never reports: after the grace (3 s) it is AgentStopped.
	 * mute-1 reports started only: after time limit (2 s) + grace. */
	it_fleet_heartbeat(fleet, "silent-1", "sub-lease", "r1", 0);
	it_fleet_heartbeat(fleet, "mute-1", "sub-lease", "r1", 0);
	it_fleet_create(fleet, "sub-lease", "r1", "never", "silent-1", 600, 0, never);
	it_fleet_create(fleet, "sub-lease", "r1", "mute", "mute-1", 2, 0, mute);
	expect_answer(never, RUNNING, 0);
	expect_answer(mute, RUNNING, 0);
	wait_state("sub-lease/r1/mute", RUNNING);
	it_status_t *s = it_fleet_wait_state(fleet, "sub-lease/r1/never", ERROR, 60);
	assert_non_null(s);
	assert_int_equal(s->error, E_AGENT);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	s = it_fleet_wait_state(fleet, "sub-lease/r1/mute", ERROR, 60);
	assert_non_null(s);
	assert_int_equal(s->error, E_AGENT);
	assert_true(s->updated_time_ms - s->capture_start_time_ms >= 5000 - 50);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* A stop job went to each host, in case the worker lives. */
	barrier("sub-lease", "r1", "mute-1");
	assert_int_equal(jobs_reach(JOB_STOP, "never", 1), 1);
	assert_int_equal(jobs_reach(JOB_STOP, "mute", 1), 1);
}

static void test_restart_restores_state(void **state)
{
	char req[12][33], again[33], name[16];
	(void)state;

	it_fleet_heartbeat(fleet, "host-r", "sub-restart", "r1", 0);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "s%02d", i);
		it_fleet_create(fleet, "sub-restart", "r1", name, "host-r", 600, 0, req[i]);
	}
	for (int i = 0; i < 10; i++)
		expect_answer(req[i], RUNNING, 0);

	assert_int_equal(it_sched_stop(scheduler, SIGTERM), 0);
	it_fleet_heartbeat(fleet, "host-r", "sub-restart", "r1", 0);
	start_scheduler();

	/* The ten sessions came back from the ledger: the key is full. */
	it_fleet_create(fleet, "sub-restart", "r1", "s10", "host-r", 600, 0, req[10]);
	expect_answer(req[10], ERROR, E_QUOTA);
	/* Their specs came back too: a repeated create is a no-op. */
	it_fleet_create(fleet, "sub-restart", "r1", "s03", "host-r", 600, 0, again);
	expect_answer(again, RUNNING, 0);
	assert_int_equal(jobs_reach(JOB_START, "s03", 1), 1);
	/* And their sessions: the worker's final report frees a slot. */
	it_fleet_command(fleet, CMD_STOP, "sub-restart", "r1", "s00");
	wait_state("sub-restart/r1/s00", STOPPED);
	it_fleet_create(fleet, "sub-restart", "r1", "s11", "host-r", 600, 0, req[11]);
	expect_answer(req[11], RUNNING, 0);
}

/* Runs the fleetcap CLI with args (NULL-ended) against the test's topics. */
static int cli(struct it_proc *p, const char *const *args)
{
	char *argv[40];
	size_t n = 0;
	static char brokers[256], prefix[80];

	snprintf(brokers, sizeof(brokers), "--brokers=%s", it_require_env("FLEETCAP_BROKERS"));
	snprintf(prefix, sizeof(prefix), "--prefix=%s", it_fleet_prefix(fleet));
	argv[n++] = (char *)FLEETCAP_BIN;
	argv[n++] = (char *)args[0];
	argv[n++] = brokers;
	argv[n++] = prefix;
	for (size_t i = 1; args[i] && n < 38; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	memset(p, 0, sizeof(*p));
	assert_int_equal(it_proc_start(p, argv), 0);
	return it_proc_wait(p);
}

static void expect_cli(const char *const *args, int code, const char *in_stdout,
		       const char *in_stderr)
{
	struct it_proc p;
	int rc = cli(&p, args);

	if (rc != code || (in_stdout && !strstr(p.out, in_stdout)) ||
	    (in_stderr && !strstr(p.err, in_stderr)))
		fail_msg("fleetcap %s: exit %d (expected %d)\nstdout: %s\nstderr: %s", args[0], rc,
			 code, p.out, p.err);
	it_proc_free(&p);
}

static void test_cli(void **state)
{
	(void)state;

	it_fleet_heartbeat(fleet, "host-c", "sub-cli", "r1", 0);
	expect_cli((const char *[]){"create", "cap1", "-s", "sub-cli", "-r", "r1", "-t", "host-c",
				    "--file-path", "caps/cap1.pcap", "--filter",
				    "protocol=tcp,remote-port=443", "--wait", NULL},
		   0, "sub-cli/r1/cap1: Running", NULL);
	expect_cli((const char *[]){"create", "cap2", "-s", "sub-cli", "-r", "r1", "-t",
				    "host-gone", "--file-path", "caps/cap2.pcap", "--wait", NULL},
		   3, "TargetNotFound", NULL);
	/* The same name with another spec: Conflict, exit 3; the same spec: 0. */
	expect_cli((const char *[]){"create", "cap1", "-s", "sub-cli", "-r", "r1", "-t", "host-c",
				    "--file-path", "caps/other.pcap", "--wait", NULL},
		   3, "Conflict", NULL);
	expect_cli((const char *[]){"create", "cap1", "-s", "sub-cli", "-r", "r1", "-t", "host-c",
				    "--file-path", "caps/cap1.pcap", "--filter",
				    "protocol=tcp,remote-port=443", "--wait", NULL},
		   0, "Running", NULL);
	expect_cli((const char *[]){"create", "cap3", "-s", "sub-cli", "-r", "r1", "-t", "host-c",
				    "--file-path", "caps/x.pcap", "--time-limit", "99999", NULL},
		   2, NULL, "--time-limit");

	expect_cli((const char *[]){"show", "cap1", "-s", "sub-cli", "-r", "r1", "--json", NULL}, 0,
		   "\"status\":\"Running\"", NULL);
	struct it_proc p;
	assert_int_equal(cli(&p, (const char *[]){"list", "-s", "sub-cli", "--json", NULL}), 0);
	json_error_t jerr;
	json_t *list = json_loads(p.out, 0, &jerr);
	it_proc_free(&p);
	assert_non_null(list);
	/* cap2 was refused: it left nothing behind. */
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
			    "cap1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "target")),
			    "host-c");
	json_decref(list);
	expect_cli((const char *[]){"show", "cap2", "-s", "sub-cli", "-r", "r1", NULL}, 1, NULL,
		   "no capture sub-cli/r1/cap2");

	/* The fleet's hosts: group and instance as announced, stale ones marked,
	 * other subscriptions and regions left out. */
	it_fleet_heartbeat_in_group(fleet, "web-a", "sub-cli", "r2", "web", "0", 0);
	it_fleet_heartbeat_in_group(fleet, "web-b", "sub-cli", "r2", "web", "1", 10 * 60 * 1000);
	it_fleet_heartbeat_in_group(fleet, "web-z", "sub-other", "r2", "web", "0", 0);
	assert_int_equal(
		cli(&p, (const char *[]){"workers", "-s", "sub-cli", "-r", "r2", "--json", NULL}),
		0);
	json_t *hosts = json_loads(p.out, 0, &jerr);
	it_proc_free(&p);
	assert_non_null(hosts);
	assert_int_equal(json_array_size(hosts), 2);
	json_t *a = json_array_get(hosts, 0), *b = json_array_get(hosts, 1);
	assert_string_equal(json_string_value(json_object_get(a, "host")), "web-a");
	assert_string_equal(json_string_value(json_object_get(a, "group")), "web");
	assert_string_equal(json_string_value(json_object_get(a, "instance")), "0");
	assert_false(json_is_true(json_object_get(a, "stale")));
	assert_string_equal(json_string_value(json_object_get(b, "host")), "web-b");
	assert_string_equal(json_string_value(json_object_get(b, "instance")), "1");
	assert_true(json_is_true(json_object_get(b, "stale")));
	json_decref(hosts);
	expect_cli((const char *[]){"workers", "-s", "sub-cli", NULL}, 0, "(stale)", NULL);
	expect_cli((const char *[]){"workers", NULL}, 2, NULL, "--subscription");

	/* watch: each change committed after it starts, one JSON object a line,
	 * until SIGINT (exit 0). */
	char *wargv[] = {(char *)FLEETCAP_BIN,
			 "watch",
			 "-s",
			 "sub-cli",
			 "-r",
			 "r1",
			 "--json",
			 NULL,
			 NULL,
			 NULL};
	char wbrokers[256], wprefix[80];
	snprintf(wbrokers, sizeof(wbrokers), "--brokers=%s", it_require_env("FLEETCAP_BROKERS"));
	snprintf(wprefix, sizeof(wprefix), "--prefix=%s", it_fleet_prefix(fleet));
	wargv[7] = wbrokers;
	wargv[8] = wprefix;
	struct it_proc watch = {0};
	assert_int_equal(it_proc_start(&watch, wargv), 0);
	if (it_proc_wait_stderr(&watch, "following", 60) != 0)
		fail_msg("fleetcap watch did not start: %s", watch.err);
	expect_cli((const char *[]){"create", "w1", "-s", "sub-cli", "-r", "r1", "-t", "host-c",
				    "--file-path", "caps/w1.pcap", "--wait", NULL},
		   0, "Running", NULL);
	expect_cli((const char *[]){"delete", "w1", "-s", "sub-cli", "-r", "r1", NULL}, 0, "sent",
		   NULL);
	sleep(3);
	kill(watch.pid, SIGINT);
	assert_int_equal(it_proc_wait(&watch), 0);
	printf("  fleetcap watch printed:\n%s", watch.out);
	assert_non_null(strstr(watch.out, "\"name\":\"w1\""));
	assert_non_null(strstr(watch.out, "\"status\":\"Running\""));
	assert_non_null(strstr(watch.out, "\"stopReason\":\"Deleted\""));
	assert_non_null(strstr(watch.out, "\"deleted\":true"));
	assert_null(strstr(watch.out, "cap1")); /* only what happened after it started */
	it_proc_free(&watch);

	expect_cli((const char *[]){"wait", "cap1", "-s", "sub-cli", "-r", "r1", "--for", "Stopped",
				    "--timeout", "1", NULL},
		   4, NULL, "did not reach Stopped");
	expect_cli((const char *[]){"stop", "cap1", "-s", "sub-cli", "-r", "r1", NULL}, 0, "sent",
		   NULL);
	expect_cli((const char *[]){"wait", "cap1", "-s", "sub-cli", "-r", "r1", "--for", "Stopped",
				    "--timeout", "60", NULL},
		   0, "Stopped (StoppedByUser)", NULL);
	expect_cli((const char *[]){"wait", "cap1", "-s", "sub-cli", "-r", "r1", "--for", "Running",
				    "--timeout", "60", NULL},
		   3, NULL, NULL);
	expect_cli((const char *[]){"delete", "cap1", "-s", "sub-cli", "-r", "r1", NULL}, 0, "sent",
		   NULL);
	barrier("sub-cli", "r1", "host-c");
	expect_cli((const char *[]){"show", "cap1", "-s", "sub-cli", "-r", "r1", NULL}, 1, NULL,
		   "no capture");

	expect_cli((const char *[]){"alert", "-s", "sub-cli", "-r", "r1", "-t", "host-c", "--rule",
				    "retrans", "--id", "cli-alert", NULL},
		   0, "sent", NULL);
	char name[FC_NAME_MAX + 1], key[160];
	sched_alert_capture_name("cli-alert", name, sizeof(name));
	snprintf(key, sizeof(key), "sub-cli/r1/%s", name);
	wait_state(key, RUNNING);
	expect_cli((const char *[]){"show", name, "-s", "sub-cli", "-r", "r1", NULL}, 0,
		   "alert cli-alert (rule retrans)", NULL);
	expect_cli((const char *[]){"create", "x", "-s", "sub-cli", "-r", "r1", "-t", "host-c",
				    "--file-path", "caps/x.pcap", "--brokers=127.0.0.1:1",
				    "--timeout", "2", NULL},
		   1, NULL, "Kafka did not take the request");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_queue_and_timeout),
		cmocka_unit_test(test_idempotent_and_conflict),
		cmocka_unit_test(test_target_not_found),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_lease_expiry),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_restart_restores_state),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
