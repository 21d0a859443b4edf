/*
 * The scheduler's state machine without Kafka: every decision of
 * docs/ARCHITECTURE.md §1 and §3 (quota, queue, idempotent create, Conflict, targets,
 * stop, delete, leases, alerts), checked on the records it emits, plus
 * rollback of an aborted batch and restore from its own ledger records.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fc_seal.h"
#include "fc_spec.h"
#include "sched_alerts.h"
#include "sched_state.h"

#define KEY "sub-a/westeurope"
#define T0  1700000000000LL

struct record {
	enum fc_topic topic;
	int32_t partition;
	char key[256];
	uint8_t *value;
	size_t len;
};

static struct record records[4096];
static size_t n_records;
static struct sched_alert_rules *rules;

/*
 * Allocation failures on demand (the test links with --wrap=malloc,calloc,
 * realloc): while armed, allocation number fail_at fails, counting from 0.
 */
static long fail_at = -1, allocations;
static int injected, emitting;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);

static int fail_now(void)
{
	if (fail_at < 0 || emitting)
		return 0;
	if (allocations++ != fail_at)
		return 0;
	injected = 1;
	return 1;
}

void *__wrap_malloc(size_t size);
void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}

static void emit(void *opaque, enum fc_topic topic, int32_t partition, const char *key,
		 const void *value, size_t len)
{
	struct record *r = &records[n_records++];

	(void)opaque;
	emitting = 1; /* the test's own copies never fail */
	assert_true(n_records < sizeof(records) / sizeof(records[0]));
	r->topic = topic;
	r->partition = partition;
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->value = value ? malloc(len ? len : 1) : NULL;
	if (value)
		memcpy(r->value, value, len);
	r->len = len;
	emitting = 0;
}

static void clear_records(void)
{
	for (size_t i = 0; i < n_records; i++)
		free(records[i].value);
	n_records = 0;
}

/* Registered: host-1 and host-2 in sub-a/westeurope; host-b in sub-b. */
static int target_check(void *opaque, const char *target, const char *sub, const char *region,
			int64_t now, char *why, size_t len)
{
	(void)opaque;
	(void)now;
	if ((strcmp(target, "host-1") == 0 || strcmp(target, "host-2") == 0) &&
	    strcmp(sub, "sub-a") == 0 && strcmp(region, "westeurope") == 0)
		return 0;
	if (strcmp(target, "host-b") == 0 && strcmp(sub, "sub-b") == 0)
		return 0;
	snprintf(why, len, "host \"%s\" is not registered in %s/%s", target, sub, region);
	return -1;
}

/* The host whose heartbeats stopped, for test_dead_worker; NULL = none. */
static const char *dead_host;

static int target_alive(void *opaque, const char *target, int64_t now, int64_t grace)
{
	(void)opaque;
	(void)now;
	(void)grace;
	return !dead_host || strcmp(target, dead_host) != 0;
}

/* Group "web": instances 0, 1, 2 on host-1, host-2, host-3 in sub-a/westeurope,
 * instance 9 on host-b in sub-b (another tenant, never seen from sub-a). */
static size_t group_members(void *opaque, const char *group, const char *sub, const char *region,
			    int64_t now, int refresh, struct sched_member *out, size_t max)
{
	static const struct {
		const char *sub, *instance, *host;
	} web[] = {{"sub-a", "2", "host-3"},
		   {"sub-b", "9", "host-b"},
		   {"sub-a", "0", "host-1"},
		   {"sub-a", "1", "host-2"}};
	size_t n = 0;

	(void)opaque;
	(void)now;
	(void)refresh;
	(void)region;
	if (strcmp(group, "web") != 0)
		return 0;
	for (size_t i = 0; i < sizeof(web) / sizeof(web[0]); i++) {
		if (strcmp(web[i].sub, sub) != 0)
			continue;
		if (n < max) {
			out[n].instance = web[i].instance;
			out[n].host_id = web[i].host;
		}
		n++;
	}
	return n;
}

/* Seal keys: the schedulers', and host-1's (host-2 announces none). */
static struct fc_seal_key *scheduler_key, *host1_key;

static int host_key(void *opaque, const char *host, uint8_t out[32])
{
	(void)opaque;
	if (!host1_key || strcmp(host, "host-1") != 0)
		return -1;
	memcpy(out, fc_seal_key_public(host1_key), FC_SEAL_KEY_LEN);
	return 0;
}

static struct sched_state *new_state(long long quota)
{
	struct sched_policy policy = {
		.quota_default = quota,
		.lease_grace_ms = 10000,
		.finished_max = 100,
		.rules = rules,
		.target_check = target_check,
		.target_alive = target_alive,
		.group_members = group_members,
		.seal_key = scheduler_key, /* NULL but in test_sealed_secrets */
		.host_key = host_key,
		.emit = emit,
	};
	clear_records();
	return sched_state_new(&policy);
}

/* ----------------------------------------------------------- inputs */

static void send_command(struct sched_state *st, Fleetcap__V1__Command *cmd, const char *key,
			 int64_t now)
{
	size_t len = protobuf_c_message_get_packed_size(&cmd->base);
	uint8_t *buf = malloc(len + 1);

	protobuf_c_message_pack(&cmd->base, buf);
	sched_state_apply(st, FC_TOPIC_COMMANDS, 0, key, strlen(key), buf, len, now);
	free(buf);
}

static fc_spec_t *make_spec(const char *name, const char *target, const char *time_limit)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = fc_spec_new();

	fc_field_errors_init(&errs);
	assert_int_equal(fc_spec_set(spec, "name", name, &errs), 0);
	assert_int_equal(fc_spec_set(spec, "subscription", "sub-a", &errs), 0);
	assert_int_equal(fc_spec_set(spec, "region", "westeurope", &errs), 0);
	assert_int_equal(fc_spec_set(spec, "target", target, &errs), 0);
	assert_int_equal(fc_spec_set(spec, "file-path", "caps/x.pcap", &errs), 0);
	assert_int_equal(fc_spec_set(spec, "time-limit", time_limit, &errs), 0);
	return spec;
}

static void create_spec(struct sched_state *st, fc_spec_t *spec, const char *request_id,
			int64_t now)
{
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;

	cmd.kind = FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE;
	cmd.request_id = (char *)request_id;
	cmd.spec = spec;
	send_command(st, &cmd, KEY, now);
	fc_spec_free(spec);
}

static void create(struct sched_state *st, const char *name, const char *request_id, int64_t now)
{
	create_spec(st, make_spec(name, "host-1", "60"), request_id, now);
}

static void name_command(struct sched_state *st, int kind, const char *name, int64_t now)
{
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;

	cmd.kind = kind;
	cmd.request_id = (char *)"r-name";
	cmd.subscription = (char *)"sub-a";
	cmd.region = (char *)"westeurope";
	cmd.name = (char *)name;
	send_command(st, &cmd, KEY, now);
}

static void report(struct sched_state *st, const char *session, int kind, uint64_t seq, int64_t now)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;
	uint8_t buf[1024];

	c.packets = seq * 10;
	r.kind = kind;
	r.session_id = (char *)session;
	r.subscription = (char *)"sub-a";
	r.region = (char *)"westeurope";
	r.seq = seq;
	r.counters = &c;
	r.capture_start_time_ms = T0;
	r.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED;
	size_t len = fleetcap__v1__capture_report__pack(&r, buf);
	sched_state_apply(st, FC_TOPIC_RESULTS, 0, KEY, strlen(KEY), buf, len, now);
}

/* ---------------------------------------------------------- records */

static size_t count_topic(enum fc_topic topic)
{
	size_t n = 0;
	for (size_t i = 0; i < n_records; i++)
		n += records[i].topic == topic;
	return n;
}

static Fleetcap__V1__CaptureStatus *last_status(void)
{
	for (size_t i = n_records; i-- > 0;)
		if (records[i].topic == FC_TOPIC_STATUS && records[i].value)
			return fleetcap__v1__capture_status__unpack(NULL, records[i].len,
								    records[i].value);
	return NULL;
}

/* The latest status of capture name (its key ends in "/name"). */
static Fleetcap__V1__CaptureStatus *status_of(const char *name)
{
	for (size_t i = n_records; i-- > 0;) {
		size_t kl = strlen(records[i].key), nl = strlen(name);
		if (records[i].topic == FC_TOPIC_STATUS && records[i].value && kl > nl &&
		    records[i].key[kl - nl - 1] == '/' &&
		    strcmp(records[i].key + kl - nl, name) == 0)
			return fleetcap__v1__capture_status__unpack(NULL, records[i].len,
								    records[i].value);
	}
	return NULL;
}

static Fleetcap__V1__Job *last_job(void)
{
	for (size_t i = n_records; i-- > 0;)
		if (records[i].topic == FC_TOPIC_JOBS)
			return fleetcap__v1__job__unpack(NULL, records[i].len, records[i].value);
	return NULL;
}

static void expect_last(int state, int error, const char *request_id)
{
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_non_null(s);
	assert_int_equal(s->state, state);
	assert_int_equal(s->error, error);
	if (request_id)
		assert_string_equal(s->request_id, request_id);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static char *last_session(void)
{
	Fleetcap__V1__Job *job = last_job();
	assert_non_null(job);
	char *id = strdup(job->session_id);
	fleetcap__v1__job__free_unpacked(job, NULL);
	return id;
}

/* Flushes and commits the batch; returns a copy of the ledger record it
 * emitted (as a replay would read it), its length in *len. */
static uint8_t *commit_and_keep_ledger(struct sched_state *st, int64_t now, size_t *len)
{
	sched_state_flush(st, now);
	sched_state_commit(st);
	struct record *ledger = &records[n_records - 1];
	assert_int_equal(ledger->topic, FC_TOPIC_LEDGER);
	uint8_t *value = malloc(ledger->len ? ledger->len : 1);
	memcpy(value, ledger->value, ledger->len);
	*len = ledger->len;
	return value;
}

#define RUNNING	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING
#define QUEUED	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED
#define STOPPED	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED
#define ERROR	   FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR
#define E_QUOTA	   FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED
#define E_TARGET   FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND
#define E_INVALID  FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST
#define E_CONFLICT FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT
#define E_AGENT	   FLEETCAP__V1__ERROR_CODE__ERROR_CODE_AGENT_STOPPED
#define R_STARTED  FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED
#define R_PROGRESS FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS
#define R_FINISHED FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED
#define CMD_STOP   FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP
#define CMD_DELETE FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_DELETE

/* ------------------------------------------------------------ tests */

static void test_quota(void **state)
{
	struct sched_state *st = new_state(10);
	char name[32], req[32];
	(void)state;

	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "cap-%02d", i);
		snprintf(req, sizeof(req), "req-%02d", i);
		create(st, name, req, T0 + i);
		expect_last(i < 10 ? RUNNING : ERROR, i < 10 ? 0 : E_QUOTA, req);
	}
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 10);
	assert_int_equal(sched_state_active_count(st, KEY), 10);
	sched_state_flush(st, T0 + 50);
	sched_state_commit(st);
	assert_int_equal(count_topic(FC_TOPIC_LEDGER), 1);
	/* A rejection changes nothing: no ledger record for it. */
	create(st, "cap-99", "req-99", T0 + 60);
	expect_last(ERROR, E_QUOTA, "req-99");
	sched_state_flush(st, T0 + 61);
	sched_state_commit(st);
	assert_int_equal(count_topic(FC_TOPIC_LEDGER), 1);
	char *session = last_session();
	report(st, session, R_FINISHED, 1, T0 + 100);
	free(session);
	expect_last(STOPPED, 0, "req-09");
	assert_int_equal(sched_state_active_count(st, KEY), 9);
	create(st, "cap-12", "req-12", T0 + 200);
	expect_last(RUNNING, 0, "req-12");
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 11);
	sched_state_destroy(st);
}

static void test_queue_and_timeout(void **state)
{
	struct sched_state *st = new_state(1);
	fc_spec_t *spec;
	struct fc_field_errors errs;
	(void)state;

	fc_field_errors_init(&errs);
	create(st, "first", "r1", T0);
	char *session = last_session();
	spec = make_spec("second", "host-1", "60");
	fc_spec_set(spec, "queue-timeout", "30", &errs);
	create_spec(st, spec, "r2", T0 + 1);
	expect_last(QUEUED, 0, "r2");
	spec = make_spec("third", "host-1", "60");
	fc_spec_set(spec, "queue-timeout", "2", &errs);
	create_spec(st, spec, "r3", T0 + 2);
	expect_last(QUEUED, 0, "r3");
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 1);

	/* third waits past its timeout: QuotaExceeded; second still waits. */
	sched_state_tick(st, T0 + 2003);
	expect_last(ERROR, E_QUOTA, "r3");
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 1);

	/* first ends: second, the oldest queued, is admitted. */
	report(st, session, R_FINISHED, 1, T0 + 3000);
	free(session);
	expect_last(RUNNING, 0, "r2");
	Fleetcap__V1__Job *job = last_job();
	assert_string_equal(job->spec->name, "second");
	fleetcap__v1__job__free_unpacked(job, NULL);
	sched_state_destroy(st);
}

static void test_idempotent_and_conflict(void **state)
{
	struct sched_state *st = new_state(10);
	(void)state;

	create(st, "cap", "r1", T0);
	char *session = last_session();
	create(st, "cap", "r2", T0 + 1);
	expect_last(RUNNING, 0, "r2");
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 1);

	create_spec(st, make_spec("cap", "host-1", "120"), "r3", T0 + 2);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->state, RUNNING); /* the capture is untouched */
	assert_int_equal(s->rejected_error, E_CONFLICT);
	assert_string_equal(s->request_id, "r3");
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 1);

	/* After the end, the same create answers the final status again. */
	report(st, session, R_FINISHED, 1, T0 + 10);
	free(session);
	create(st, "cap", "r4", T0 + 20);
	expect_last(STOPPED, 0, "r4");
	create_spec(st, make_spec("cap", "host-1", "120"), "r5", T0 + 21);
	s = last_status();
	assert_int_equal(s->state, STOPPED);
	assert_int_equal(s->rejected_error, E_CONFLICT);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 1);
	assert_int_equal(sched_state_active_count(st, KEY), 0);
	sched_state_destroy(st);
}

static void test_targets_and_invalid(void **state)
{
	struct sched_state *st = new_state(10);
	(void)state;

	create_spec(st, make_spec("a", "host-unknown", "60"), "r1", T0);
	expect_last(ERROR, E_TARGET, "r1");
	create_spec(st, make_spec("b", "host-b", "60"), "r2", T0);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->error, E_TARGET);
	assert_string_equal(s->error_field, "target");
	assert_null(strstr(s->error_message, "sub-b")); /* nothing about other tenants */
	fleetcap__v1__capture_status__free_unpacked(s, NULL);

	fc_spec_t *spec = make_spec("c", "host-1", "60");
	free(spec->file_path);
	spec->file_path = strdup("../etc/passwd");
	create_spec(st, spec, "r3", T0);
	s = last_status();
	assert_int_equal(s->error, E_INVALID);
	assert_string_equal(s->error_field, "file_path");
	fleetcap__v1__capture_status__free_unpacked(s, NULL);

	/* A command whose Kafka key is another tenant's is refused. */
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;
	cmd.kind = FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE;
	cmd.request_id = (char *)"r4";
	cmd.spec = make_spec("d", "host-1", "60");
	send_command(st, &cmd, "sub-b/westeurope", T0);
	fc_spec_free(cmd.spec);
	s = last_status();
	assert_int_equal(s->error, E_INVALID);
	assert_string_equal(s->error_field, "subscription");
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 0);
	sched_state_destroy(st);
}

static void test_stop_delete_and_leases(void **state)
{
	struct sched_state *st = new_state(2);
	(void)state;

	create(st, "a", "r1", T0);
	char *a = last_session();
	report(st, a, R_STARTED, 1, T0 + 500);
	expect_last(RUNNING, 0, "r1");
	/* Started: the lease runs to the time limit (60 s) plus grace (10 s). */
	assert_int_equal(sched_state_tick(st, T0 + 60000), 0);

	name_command(st, CMD_STOP, "a", T0 + 1000);
	Fleetcap__V1__Job *job = last_job();
	assert_int_equal(job->kind, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP);
	assert_int_equal(job->stop_reason, FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER);
	fleetcap__v1__job__free_unpacked(job, NULL);
	assert_int_equal(sched_state_active_count(st, KEY), 1); /* until the final report */
	report(st, a, R_PROGRESS, 2, T0 + 1500);
	report(st, a, R_PROGRESS, 1, T0 + 1600); /* stale: dropped */
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->counters->packets, 20);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* No final report within grace of the last progress (an upload after
	 * the stop would send more): AgentStopped. */
	assert_int_equal(sched_state_tick(st, T0 + 11001), 0);
	sched_state_tick(st, T0 + 11501);
	expect_last(ERROR, E_AGENT, "r1");
	assert_int_equal(sched_state_active_count(st, KEY), 0);
	report(st, a, R_FINISHED, 3, T0 + 12000); /* too late: ignored */
	expect_last(ERROR, E_AGENT, "r1");
	free(a);

	/* Never started: the lease is the grace period; a STOP job goes out. */
	create(st, "b", "r2", T0 + 20000);
	size_t jobs = count_topic(FC_TOPIC_JOBS);
	sched_state_tick(st, T0 + 30001);
	expect_last(ERROR, E_AGENT, "r2");
	assert_int_equal(count_topic(FC_TOPIC_JOBS), jobs + 1);

	/* Past its time limit, a session whose worker still reports progress
	 * (uploading) keeps its lease, up to the grace after the last report. */
	create(st, "d", "r4", T0 + 30000);
	char *d = last_session();
	report(st, d, R_STARTED, 1, T0 + 30000); /* lease: T0 + 100000 */
	report(st, d, R_PROGRESS, 2, T0 + 95000);
	assert_int_equal(sched_state_tick(st, T0 + 100001), 0);
	assert_int_equal(sched_state_active_count(st, KEY), 1);
	report(st, d, R_PROGRESS, 3, T0 + 104000);
	assert_int_equal(sched_state_tick(st, T0 + 113999), 0);
	sched_state_tick(st, T0 + 114001);
	expect_last(ERROR, E_AGENT, "r4");
	free(d);

	/* Delete while running: status deleted and tombstoned, slot kept. */
	create(st, "c", "r3", T0 + 40000);
	char *c = last_session();
	name_command(st, CMD_DELETE, "c", T0 + 40001);
	assert_non_null(records[n_records - 2].value);
	assert_null(records[n_records - 1].value);
	assert_string_equal(records[n_records - 1].key, KEY "/c");
	assert_int_equal(sched_state_active_count(st, KEY), 1);
	size_t statuses = count_topic(FC_TOPIC_STATUS);
	report(st, c, R_FINISHED, 1, T0 + 40500);
	free(c);
	assert_int_equal(sched_state_active_count(st, KEY), 0);
	assert_int_equal(count_topic(FC_TOPIC_STATUS), statuses); /* deleted: no more status */
	sched_state_destroy(st);
}

static void test_rollback_and_restore(void **state)
{
	struct sched_state *st = new_state(1);
	struct fc_field_errors errs;
	(void)state;

	fc_field_errors_init(&errs);
	create(st, "a", "r1", T0);
	char *a = last_session();
	fc_spec_t *spec = make_spec("b", "host-1", "60");
	fc_spec_set(spec, "queue-timeout", "600", &errs);
	create_spec(st, spec, "r2", T0 + 1);
	sched_state_flush(st, T0 + 2);
	sched_state_commit(st);
	/* The ledger record of the key, as a replay would read it. */
	struct record *ledger = &records[n_records - 1];
	assert_int_equal(ledger->topic, FC_TOPIC_LEDGER);
	assert_string_equal(ledger->key, KEY);
	size_t len = ledger->len;
	uint8_t *value = malloc(len);
	memcpy(value, ledger->value, len);

	/* An aborted batch leaves no trace. */
	report(st, a, R_FINISHED, 1, T0 + 3);
	assert_int_equal(sched_state_active_count(st, KEY), 1); /* b was admitted */
	create(st, "c", "r3", T0 + 4);
	sched_state_rollback(st);
	create(st, "c", "r3", T0 + 5);
	expect_last(ERROR, E_QUOTA, "r3"); /* a still holds the slot, b still queued */
	sched_state_destroy(st);

	/* A new instance restores a and the queued b from the ledger. */
	st = new_state(1);
	assert_int_equal(sched_state_load(st, 0, KEY, value, len), 0);
	free(value);
	assert_int_equal(sched_state_active_count(st, KEY), 1);
	report(st, a, R_FINISHED, 1, T0 + 10);
	expect_last(RUNNING, 0, "r2");
	Fleetcap__V1__Job *job = last_job();
	assert_string_equal(job->spec->name, "b");
	assert_string_not_equal(job->session_id, a);
	fleetcap__v1__job__free_unpacked(job, NULL);
	free(a);
	create(st, "a", "r1-again", T0 + 11);
	expect_last(STOPPED, 0, "r1-again"); /* a's end is remembered */
	sched_state_drop_partition(st, 0);
	assert_int_equal(sched_state_key_count(st), 0);
	sched_state_destroy(st);
}

/*
 * Out of memory at every allocation of a create, in turn: the batch either
 * holds the whole decision (status, job and ledger) or says it is not sound,
 * and then its rollback leaves the key as it was (or says it cannot, and the
 * scheduler exits). Never a committed half decision.
 */
static void test_out_of_memory_never_commits_half(void **state)
{
	int unsound = 0, complete = 0, diverged = 0;
	long n;
	(void)state;

	for (n = 0;; n++) {
		struct sched_state *st = new_state(2);
		create(st, "a", "r1", T0);
		sched_state_flush(st, T0 + 1);
		sched_state_commit(st);
		clear_records();

		/* The command is packed first: only the scheduler's allocations fail. */
		Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;
		cmd.kind = FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE;
		cmd.request_id = (char *)"r2";
		cmd.spec = make_spec("b", "host-1", "60");
		/* Filters long enough that the job and status records (over 4 KiB)
		 * are packed in allocated buffers too. */
		char filter[1024] = "remote-ip=";
		for (int i = 1; i <= 60; i++)
			snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter),
				 "%s198.18.1.%d", i > 1 ? ";" : "", i);
		struct fc_field_errors errs;
		fc_field_errors_init(&errs);
		for (int i = 0; i < 8; i++)
			assert_int_equal(fc_spec_add_filter(cmd.spec, filter, &errs), 0);
		size_t len = protobuf_c_message_get_packed_size(&cmd.base);
		uint8_t *buf = malloc(len + 1);
		protobuf_c_message_pack(&cmd.base, buf);
		fc_spec_free(cmd.spec);
		injected = 0;
		allocations = 0;
		fail_at = n;
		sched_state_apply(st, FC_TOPIC_COMMANDS, 0, KEY, strlen(KEY), buf, len, T0 + 2);
		sched_state_flush(st, T0 + 3);
		fail_at = -1;
		free(buf);
		if (!injected) { /* past the create's last allocation */
			sched_state_destroy(st);
			break;
		}
		if (sched_state_sound(st)) {
			complete++;
			expect_last(RUNNING, 0, "r2");
			assert_int_equal(count_topic(FC_TOPIC_JOBS), 1);
			assert_int_equal(count_topic(FC_TOPIC_LEDGER), 1);
			assert_int_equal(sched_state_active_count(st, KEY), 2);
			sched_state_commit(st);
		} else if (sched_state_rollback(st) == 0) {
			unsound++;
			assert_int_equal(sched_state_active_count(st, KEY), 1);
			clear_records(); /* the transaction aborted: they were never seen */
			create(st, "b", "r2", T0 + 4); /* read again */
			expect_last(RUNNING, 0, "r2");
			assert_int_equal(sched_state_active_count(st, KEY), 2);
		} else {
			diverged++;
		}
		sched_state_destroy(st);
	}
	printf("  %ld allocations failed in turn: %d batches whole, %d aborted and undone, %d "
	       "not undoable (exit)\n",
	       n, complete, unsound, diverged);
	assert_true(n >= 5);
	assert_true(unsound >= 3);
}

/*
 * A new owner of a key (failover, rebalance) gives every active session a
 * fresh lease.grace.s: a lease that ran out while nobody read the workers'
 * reports says nothing about them.
 */
static void test_leases_renewed_on_takeover(void **state)
{
	struct sched_state *st = new_state(1);
	const int32_t partitions[] = {0};
	(void)state;

	create(st, "a", "r1", T0); /* time limit 60 s: lease until T0 + 70 s */
	size_t len;
	uint8_t *value = commit_and_keep_ledger(st, T0 + 1, &len);
	sched_state_destroy(st);

	/* Taken over long after the lease ran out. */
	const int64_t later = T0 + 600000;
	st = new_state(1);
	assert_int_equal(sched_state_load(st, 0, KEY, value, len), 0);
	free(value);
	sched_state_renew_leases(st, partitions, 1, later);
	sched_state_tick(st, later + 9000);
	assert_int_equal(sched_state_active_count(st, KEY), 1);
	sched_state_tick(st, later + 10001); /* no word from the worker for the grace */
	assert_int_equal(sched_state_active_count(st, KEY), 0);
	expect_last(ERROR, E_AGENT, "r1");
	sched_state_destroy(st);
}

static void test_dead_worker(void **state)
{
	struct sched_state *st = new_state(10);
	(void)state;

	create(st, "a", "r1", T0);
	char *a = last_session();
	report(st, a, R_STARTED, 1, T0 + 100); /* lease: 60 s + grace */
	create_spec(st, make_spec("b", "host-2", "60"), "r2", T0 + 200);
	char *b = last_session();
	report(st, b, R_STARTED, 1, T0 + 300);
	assert_int_equal(sched_state_tick(st, T0 + 1000), 0);

	/* host-2 stops heartbeating: its session ends long before its lease. */
	dead_host = "host-2";
	sched_state_tick(st, T0 + 2000);
	dead_host = NULL;
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_string_equal(s->name, "b");
	assert_int_equal(s->state, ERROR);
	assert_int_equal(s->error, E_AGENT);
	assert_non_null(strstr(s->error_message, "heartbeats"));
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(sched_state_active_count(st, KEY), 1); /* a, on host-1, goes on */
	free(a);
	free(b);
	sched_state_destroy(st);
}

/* ------------------------------------------------------- group captures */

/* A create of group "web" in sub-a; scope lists are comma-separated or NULL. */
static void create_group(struct sched_state *st, const char *name, const char *include,
			 const char *exclude, const char *request_id, int64_t now)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = make_spec(name, "web", "60");

	fc_field_errors_init(&errs);
	assert_int_equal(fc_spec_set(spec, "target-group", "web", &errs), 0);
	assert_int_equal(fc_spec_set(spec, "blob-url",
				     "https://acct.blob.core.windows.net/caps/d/x.pcap", &errs),
			 0);
	if (include)
		assert_int_equal(fc_spec_set(spec, "include", include, &errs), 0);
	if (exclude)
		assert_int_equal(fc_spec_set(spec, "exclude", exclude, &errs), 0);
	create_spec(st, spec, request_id, now);
}

/* The START jobs emitted since record first, in order. */
static size_t start_jobs(size_t first, Fleetcap__V1__Job **out, size_t max)
{
	size_t n = 0;
	for (size_t i = first; i < n_records; i++) {
		if (records[i].topic != FC_TOPIC_JOBS)
			continue;
		Fleetcap__V1__Job *j =
			fleetcap__v1__job__unpack(NULL, records[i].len, records[i].value);
		if (j->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START && n < max)
			out[n++] = j;
		else
			fleetcap__v1__job__free_unpacked(j, NULL);
	}
	return n;
}

static void final_report(struct sched_state *st, const char *session, int failed, const char *file,
			 int64_t now)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;
	Fleetcap__V1__CaptureFile f = FLEETCAP__V1__CAPTURE_FILE__INIT, *files[1] = {&f};
	uint8_t buf[1024];

	c.packets = 7;
	c.bytes = 700;
	f.local_path = (char *)file;
	r.kind = failed ? FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED : R_FINISHED;
	r.session_id = (char *)session;
	r.subscription = (char *)"sub-a";
	r.region = (char *)"westeurope";
	r.counters = &c;
	r.files = files;
	r.n_files = 1;
	r.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED;
	r.error = failed ? FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED : 0;
	r.error_message = (char *)(failed ? "upload failed: storage away" : "");
	size_t len = fleetcap__v1__capture_report__pack(&r, buf);
	sched_state_apply(st, FC_TOPIC_RESULTS, 0, KEY, strlen(KEY), buf, len, now);
}

/*
 * One group capture over instances 0 and 2 (1 excluded): one session of the
 * quota, a START per instance with its own session, host and paths; the
 * status is Running until both ended, then Error because one instance lost
 * its storage, with both instances' files and summed counters.
 */
static void test_group_capture(void **state)
{
	struct sched_state *st = new_state(1);
	Fleetcap__V1__Job *jobs[8];
	(void)state;

	create_group(st, "g", NULL, "1", "r1", T0);
	expect_last(RUNNING, 0, "r1");
	assert_int_equal(start_jobs(0, jobs, 8), 2);
	assert_string_equal(jobs[0]->target, "host-1");
	assert_string_equal(jobs[1]->target, "host-3");
	assert_string_equal(jobs[0]->spec->target, "host-1");
	assert_int_equal(jobs[0]->spec->target_type, FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_HOST);
	assert_null(jobs[0]->spec->scope);
	assert_string_equal(jobs[0]->spec->file_path, "caps/0/x.pcap");
	assert_string_equal(jobs[1]->spec->file_path, "caps/2/x.pcap");
	assert_string_equal(jobs[1]->spec->blob_url,
			    "https://acct.blob.core.windows.net/caps/d/2/x.pcap");
	char *s0 = strdup(jobs[0]->session_id), *s2 = strdup(jobs[1]->session_id);
	assert_string_equal(s0 + strlen(s0) - 2, "/0");
	assert_string_not_equal(s0, s2);
	for (int i = 0; i < 2; i++)
		fleetcap__v1__job__free_unpacked(jobs[i], NULL);

	/* One session whatever its instance count. */
	create(st, "h", "r2", T0 + 1);
	expect_last(ERROR, E_QUOTA, "r2");
	/* A group capture that waits is resolved again when admitted. */
	struct fc_field_errors errs;
	fc_spec_t *q = make_spec("q", "web", "60");
	fc_field_errors_init(&errs);
	assert_int_equal(fc_spec_set(q, "target-group", "web", &errs), 0);
	assert_int_equal(fc_spec_set(q, "queue-timeout", "600", &errs), 0);
	assert_int_equal(fc_spec_set(q, "include", "1", &errs), 0);
	create_spec(st, q, "r3", T0 + 2);
	expect_last(QUEUED, 0, "r3");

	report(st, s0, R_STARTED, 1, T0 + 10);
	final_report(st, s0, 0, "caps/0/x.pcap", T0 + 20);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->state, RUNNING);
	assert_int_equal(s->n_instances, 2);
	assert_string_equal(s->instances[0]->instance, "0");
	assert_int_equal(s->instances[0]->state, STOPPED);
	assert_int_equal(s->instances[1]->state, RUNNING);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(sched_state_active_count(st, KEY), 1);

	final_report(st, s2, 1, "caps/2/x.pcap", T0 + 30);
	s = status_of("g");
	assert_string_equal(s->name, "g");
	assert_int_equal(s->state, ERROR);
	assert_int_equal(s->error, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED);
	assert_string_equal(s->error_message, "instance 2: upload failed: storage away");
	assert_int_equal(s->n_files, 2);
	assert_string_equal(s->files[1]->local_path, "caps/2/x.pcap");
	assert_int_equal(s->counters->packets, 14);
	assert_int_equal(s->instances[1]->error,
			 FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED);
	assert_int_equal(s->instances[0]->stop_reason,
			 FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* The slot went to q: its one instance started. */
	assert_int_equal(sched_state_active_count(st, KEY), 1);
	Fleetcap__V1__Job *qj = last_job();
	assert_string_equal(qj->target, "host-2");
	assert_string_equal(qj->spec->name, "q");
	fleetcap__v1__job__free_unpacked(qj, NULL);
	/* A late duplicate of a final report changes nothing. */
	size_t before = n_records;
	final_report(st, s2, 1, "caps/2/x.pcap", T0 + 40);
	assert_int_equal(n_records, before);
	free(s0);
	free(s2);
	sched_state_destroy(st);
}

static void expect_refused(const char *include, const char *exclude, const char *group, int error,
			   const char *field, const char *words)
{
	struct sched_state *st = new_state(10);
	struct fc_field_errors errs;
	fc_spec_t *spec = make_spec("g", group, "60");

	fc_field_errors_init(&errs);
	assert_int_equal(fc_spec_set(spec, "target-group", group, &errs), 0);
	if (include)
		assert_int_equal(fc_spec_set(spec, "include", include, &errs), 0);
	if (exclude)
		assert_int_equal(fc_spec_set(spec, "exclude", exclude, &errs), 0);
	create_spec(st, spec, "r", T0);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->state, ERROR);
	assert_int_equal(s->error, error);
	assert_string_equal(s->error_field, field);
	if (!strstr(s->error_message, words))
		fail_msg("\"%s\" does not say \"%s\"", s->error_message, words);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 0);
	assert_int_equal(sched_state_active_count(st, KEY), 0);
	sched_state_destroy(st);
}

static void test_group_scope_refused(void **state)
{
	(void)state;
	expect_refused("0,7", NULL, "web", E_TARGET, "scope.include[1]", "instance \"7\"");
	/* Another tenant's instance is as unknown as one that does not exist. */
	expect_refused("9", NULL, "web", E_TARGET, "scope.include[0]", "instance \"9\"");
	expect_refused(NULL, "0,1,2", "web", E_TARGET, "scope.exclude", "every live instance");
	expect_refused(NULL, NULL, "db", E_TARGET, "target", "group \"db\" has no live worker");
	expect_refused("0,0", NULL, "web", E_INVALID, "scope.include[1]", "listed twice");
}

/*
 * A restored group capture: a stop reaches every running instance; an
 * instance whose worker stops heartbeating ends alone; the capture ends with
 * the last instance.
 */
static void test_group_restore_stop_dead(void **state)
{
	struct sched_state *st = new_state(10);
	Fleetcap__V1__Job *jobs[8];
	char *sessions[3];
	(void)state;

	create_group(st, "g", NULL, NULL, "r1", T0);
	assert_int_equal(start_jobs(0, jobs, 8), 3);
	for (int i = 0; i < 3; i++) {
		sessions[i] = strdup(jobs[i]->session_id);
		fleetcap__v1__job__free_unpacked(jobs[i], NULL);
	}
	size_t len;
	uint8_t *value = commit_and_keep_ledger(st, T0 + 1, &len);
	sched_state_destroy(st);

	st = new_state(10);
	assert_int_equal(sched_state_load(st, 0, KEY, value, len), 0);
	free(value);
	for (int i = 0; i < 3; i++)
		report(st, sessions[i], R_STARTED, 1, T0 + 10);
	dead_host = "host-2";
	sched_state_tick(st, T0 + 2000);
	dead_host = NULL;
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->state, RUNNING);
	assert_int_equal(s->instances[1]->state, ERROR);
	assert_int_equal(s->instances[1]->error, E_AGENT);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);

	size_t first = n_records;
	name_command(st, CMD_STOP, "g", T0 + 3000);
	size_t stops = 0;
	for (size_t i = first; i < n_records; i++)
		if (records[i].topic == FC_TOPIC_JOBS) {
			Fleetcap__V1__Job *j =
				fleetcap__v1__job__unpack(NULL, records[i].len, records[i].value);
			assert_int_equal(j->kind, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP);
			assert_string_not_equal(j->target, "host-2"); /* it has ended */
			fleetcap__v1__job__free_unpacked(j, NULL);
			stops++;
		}
	assert_int_equal(stops, 2);
	final_report(st, sessions[0], 0, "caps/0/x.pcap", T0 + 3100);
	final_report(st, sessions[2], 0, "caps/2/x.pcap", T0 + 3200);
	s = last_status();
	assert_int_equal(s->state, ERROR);
	assert_int_equal(s->error, E_AGENT);
	assert_string_equal(s->error_message,
			    "instance 1: worker host-2 stopped sending heartbeats");
	assert_int_equal(s->n_files, 2);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(sched_state_active_count(st, KEY), 0);
	for (int i = 0; i < 3; i++)
		free(sessions[i]);
	sched_state_destroy(st);
}

/* Whether any record emitted so far holds text in its bytes. */
static int emitted_contains(const char *text)
{
	for (size_t i = 0; i < n_records; i++)
		if (records[i].value &&
		    memmem(records[i].value, records[i].len, text, strlen(text)))
			return 1;
	return 0;
}

/*
 * A SAS token is kept sealed for the schedulers' key in the ledger, sent
 * sealed for host-1's key in its START job, and is in no record in clear;
 * a worker without a key is refused the token at admission; another key
 * cannot open the job's; a restored ledger still dispatches it.
 */
static void test_sealed_secrets(void **state)
{
	static const char token[] = "sv=2024&sig=TOPSECRETSIGNATURE";
	struct fc_err err;
	struct fc_field_errors errs;
	char *plain;
	(void)state;

	scheduler_key = fc_seal_key_new(&err);
	host1_key = fc_seal_key_new(&err);
	struct fc_seal_key *stranger = fc_seal_key_new(&err);
	struct sched_state *st = new_state(1);
	fc_field_errors_init(&errs);

	fc_spec_t *spec = make_spec("s1", "host-1", "60");
	fc_spec_set(spec, "blob-url", "https://acct.blob.core.windows.net/caps/s1.pcap", &errs);
	fc_spec_set(spec, "blob-sas", token, &errs);
	create_spec(st, spec, "r1", T0);
	expect_last(RUNNING, 0, "r1");
	Fleetcap__V1__Job *job = last_job();
	assert_string_equal(job->spec->blob_sas, "");
	assert_non_null(job->spec->blob_sas_sealed);
	assert_int_equal(
		fc_seal_open(host1_key, job->session_id, job->spec->blob_sas_sealed, &plain, &err),
		0);
	assert_string_equal(plain, token);
	free(plain);
	assert_int_equal(
		fc_seal_open(stranger, job->session_id, job->spec->blob_sas_sealed, &plain, &err),
		-1);
	assert_int_equal(fc_seal_open(host1_key, "another-session", job->spec->blob_sas_sealed,
				      &plain, &err),
			 -1);
	char *session = strdup(job->session_id);
	fleetcap__v1__job__free_unpacked(job, NULL);

	/* Queued behind s1, then restored from the ledger by a new instance. */
	spec = make_spec("s2", "host-1", "60");
	fc_spec_set(spec, "blob-url", "https://acct.blob.core.windows.net/caps/s2.pcap", &errs);
	fc_spec_set(spec, "blob-sas", token, &errs);
	fc_spec_set(spec, "queue-timeout", "600", &errs);
	create_spec(st, spec, "r2", T0 + 1);
	expect_last(QUEUED, 0, "r2");
	size_t len;
	uint8_t *ledger = commit_and_keep_ledger(st, T0 + 2, &len);
	assert_false(emitted_contains("TOPSECRET"));
	sched_state_destroy(st);
	st = new_state(1);
	assert_int_equal(sched_state_load(st, 0, KEY, ledger, len), 0);
	free(ledger);
	report(st, session, R_FINISHED, 1, T0 + 10);
	job = last_job();
	assert_string_equal(job->spec->name, "s2");
	assert_int_equal(
		fc_seal_open(host1_key, job->session_id, job->spec->blob_sas_sealed, &plain, &err),
		0);
	assert_string_equal(plain, token);
	free(plain);
	fleetcap__v1__job__free_unpacked(job, NULL);
	free(session);

	/* host-2 announces no key: the token is refused rather than sent in clear. */
	spec = make_spec("s3", "host-2", "60");
	fc_spec_set(spec, "blob-url", "https://acct.blob.core.windows.net/caps/s3.pcap", &errs);
	fc_spec_set(spec, "blob-sas", token, &errs);
	create_spec(st, spec, "r3", T0 + 20);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->error, E_INVALID);
	assert_string_equal(s->error_field, "blob_sas");
	assert_non_null(strstr(s->error_message, "host-2"));
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	/* A create must not bring a sealed value of its own. */
	spec = make_spec("s4", "host-1", "60");
	spec->blob_sas_sealed = fc_seal(fc_seal_key_public(scheduler_key), "x", "y", 1, &err);
	create_spec(st, spec, "r4", T0 + 21);
	s = last_status();
	assert_string_equal(s->error_field, "blob_sas_sealed");
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_false(emitted_contains("TOPSECRET"));

	sched_state_destroy(st);
	fc_seal_key_free(scheduler_key);
	fc_seal_key_free(host1_key);
	fc_seal_key_free(stranger);
	scheduler_key = host1_key = NULL;
}

/* An upload endpoint outside the public clouds and blob.endpoints is refused
 * at admission, naming blob_url; the same create to the cloud is admitted. */
static void test_blob_endpoint_refused(void **state)
{
	struct sched_state *st = new_state(10);
	struct fc_field_errors errs;
	(void)state;

	fc_field_errors_init(&errs);
	fc_spec_t *spec = make_spec("e1", "host-1", "60");
	fc_spec_set(spec, "blob-url", "https://acct.blob.attacker.example/caps/e1.pcap", &errs);
	create_spec(st, spec, "r1", T0);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->error, E_INVALID);
	assert_string_equal(s->error_field, "blob_url");
	assert_non_null(strstr(s->error_message, "https://acct.blob.attacker.example"));
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	spec = make_spec("e2", "host-1", "60");
	fc_spec_set(spec, "blob-url", "http://127.0.0.1:10000/devstoreaccount1/caps/e2.pcap",
		    &errs);
	create_spec(st, spec, "r2", T0 + 1);
	expect_last(ERROR, E_INVALID, "r2"); /* an emulator, not listed */
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 0);
	spec = make_spec("e3", "host-1", "60");
	fc_spec_set(spec, "blob-url", "https://acct.blob.core.windows.net/caps/e3.pcap", &errs);
	create_spec(st, spec, "r3", T0 + 2);
	expect_last(RUNNING, 0, "r3");
	sched_state_destroy(st);
}

static void send_rule_alert(struct sched_state *st, const char *rule, const char *id,
			    const char *target, int severity, int64_t now)
{
	Fleetcap__V1__AlertEvent ev = FLEETCAP__V1__ALERT_EVENT__INIT;
	uint8_t buf[512];

	ev.alert_id = (char *)id;
	ev.subscription = (char *)"sub-a";
	ev.region = (char *)"westeurope";
	ev.target = (char *)target;
	ev.rule = (char *)rule;
	ev.severity = severity;
	size_t len = fleetcap__v1__alert_event__pack(&ev, buf);
	sched_state_apply(st, FC_TOPIC_ALERTS, 0, KEY, strlen(KEY), buf, len, now);
}

static void send_alert(struct sched_state *st, const char *id, const char *target, int severity,
		       int64_t now)
{
	send_rule_alert(st, "retransmits", id, target, severity, now);
}

/* A rule whose capture targets group web (but instance 1): an alert from any
 * host captures the group; another alert meanwhile adds nothing. */
static void test_alert_group_rule(void **state)
{
	struct sched_state *st = new_state(10);
	const int warning = FLEETCAP__V1__SEVERITY__SEVERITY_WARNING;
	Fleetcap__V1__Job *jobs[8];
	(void)state;

	send_rule_alert(st, "web-wide", "a-1", "host-2", warning, T0);
	Fleetcap__V1__CaptureStatus *s = last_status();
	assert_int_equal(s->state, RUNNING);
	assert_string_equal(s->target, "web");
	assert_int_equal(s->n_instances, 2);
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
	assert_int_equal(start_jobs(0, jobs, 8), 2);
	assert_string_equal(jobs[0]->target, "host-1");
	assert_string_equal(jobs[1]->target, "host-3");
	for (int i = 0; i < 2; i++)
		fleetcap__v1__job__free_unpacked(jobs[i], NULL);
	size_t before = n_records;
	send_rule_alert(st, "web-wide", "a-2", "host-3", warning, T0 + 1);
	assert_int_equal(n_records, before);
	sched_state_destroy(st);
}

static void test_alerts(void **state)
{
	struct sched_state *st = new_state(10);
	const int warning = FLEETCAP__V1__SEVERITY__SEVERITY_WARNING;
	char name[FC_NAME_MAX + 1];
	(void)state;

	send_alert(st, "alert-1", "host-1", FLEETCAP__V1__SEVERITY__SEVERITY_INFO, T0);
	assert_int_equal(n_records, 0); /* below the rule's minimum */
	send_alert(st, "alert-1", "host-1", warning, T0);
	Fleetcap__V1__Job *job = last_job();
	sched_alert_capture_name("alert-1", name, sizeof(name));
	assert_string_equal(job->spec->name, name);
	assert_int_equal(job->spec->origin->kind, FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT);
	assert_string_equal(job->spec->origin->alert_id, "alert-1");
	assert_int_equal(job->spec->time_limit_s, 30);
	char path[128];
	snprintf(path, sizeof(path), "alerts/%s.pcap", name);
	assert_string_equal(job->spec->file_path, path);
	char *session = strdup(job->session_id);
	fleetcap__v1__job__free_unpacked(job, NULL);
	size_t before = n_records;

	send_alert(st, "alert-1", "host-1", warning, T0 + 1); /* redelivered */
	send_alert(st, "alert-2", "host-1", warning, T0 + 2); /* same target and rule */
	assert_int_equal(n_records, before);
	send_alert(st, "alert-3", "host-2", warning, T0 + 3); /* another target */
	assert_int_equal(count_topic(FC_TOPIC_JOBS), 2);

	report(st, session, R_FINISHED, 1, T0 + 1000);
	free(session);
	before = n_records;
	send_alert(st, "alert-4", "host-1", warning, T0 + 2000); /* cooling down (60 s) */
	assert_int_equal(n_records, before);
	sched_state_tick(st, T0 + 62000); /* also ends alert-3's unstarted capture */
	size_t jobs = count_topic(FC_TOPIC_JOBS);
	send_alert(st, "alert-5", "host-1", warning, T0 + 62001);
	assert_int_equal(count_topic(FC_TOPIC_JOBS), jobs + 1);
	sched_state_destroy(st);
}

static void test_alert_names(void **state)
{
	char a[FC_NAME_MAX + 1], b[FC_NAME_MAX + 1], c[FC_NAME_MAX + 1];
	char long_id[FC_ALERT_ID_MAX + 1];
	(void)state;

	sched_alert_capture_name("ops/alert 1", a, sizeof(a));
	sched_alert_capture_name("ops-alert-1", b, sizeof(b));
	assert_true(fc_valid_name(a));
	assert_string_not_equal(a, b); /* same after sanitizing, different hashes */
	memset(long_id, 'x', FC_ALERT_ID_MAX);
	long_id[FC_ALERT_ID_MAX] = '\0';
	sched_alert_capture_name(long_id, c, sizeof(c));
	assert_true(fc_valid_name(c));
	assert_true(strlen(c) <= FC_NAME_MAX);
}

static int setup(void **state)
{
	char path[] = "/tmp/fleetcap-rules-XXXXXX";
	int fd = mkstemp(path);
	struct fc_err err;
	FILE *f = fdopen(fd, "w");
	(void)state;

	fputs("{\"rules\": [{\"name\": \"retransmits\", \"minSeverity\": \"Warning\",\n"
	      " \"cooldownSeconds\": 60,\n"
	      " \"capture\": {\"time-limit\": 30, \"filter\": [\"protocol=tcp\"],\n"
	      "             \"file-path\": \"alerts/{name}.pcap\"}},\n"
	      " {\"name\": \"web-wide\", \"capture\": {\"target-group\": \"web\",\n"
	      "  \"exclude\": \"1\", \"file-path\": \"alerts/{name}.pcap\"}}]}\n",
	      f);
	fclose(f);
	rules = sched_alert_rules_load(path, &err);
	unlink(path);
	if (!rules)
		fail_msg("%s", err.msg);
	return 0;
}

static void test_rules_errors(void **state)
{
	static const char *bad[][2] = {
		{"{\"rules\": [{\"name\": \"r\", \"capture\": {\"time-limit\": 99999}}]}", "time"},
		{"{\"rules\": [{\"name\": \"r\", \"minSeverity\": \"Loud\", \"capture\": {}}]}",
		 "minSeverity"},
		{"{\"rules\": [{\"name\": \"r\", \"colour\": 1, \"capture\": {}}]}", "colour"},
		{"{\"rules\": [{\"name\": \"r\", \"capture\": {\"filter\": "
		 "[\"remote-port=70000\"]}}]}",
		 "70000"},
		{"{\"rules\": [{\"name\": \"r\", \"capture\": {\"time-limit\": 60}}]}",
		 "at least one of file_path and blob_url"},
		{"{\"rules\": [{\"name\": \"ud near \", \"capture\": {\"file-path\": "
		 "\"a.pcap\"}}]}",
		 "rules[0].name"},
		{"{\"rules\": 3}", "rules"},
		{"{\"rules\": [", "alerts.rules"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[] = "/tmp/fleetcap-rules-XXXXXX";
		int fd = mkstemp(path);
		struct fc_err err;
		assert_true(write(fd, bad[i][0], strlen(bad[i][0])) > 0);
		close(fd);
		assert_null(sched_alert_rules_load(path, &err));
		unlink(path);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("rules %zu: \"%s\" does not mention %s", i, err.msg, bad[i][1]);
	}
}

static int teardown(void **state)
{
	(void)state;
	clear_records();
	sched_alert_rules_free(rules);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_queue_and_timeout),
		cmocka_unit_test(test_idempotent_and_conflict),
		cmocka_unit_test(test_targets_and_invalid),
		cmocka_unit_test(test_stop_delete_and_leases),
		cmocka_unit_test(test_dead_worker),
		cmocka_unit_test(test_sealed_secrets),
		cmocka_unit_test(test_blob_endpoint_refused),
		cmocka_unit_test(test_group_capture),
		cmocka_unit_test(test_group_scope_refused),
		cmocka_unit_test(test_group_restore_stop_dead),
		cmocka_unit_test(test_rollback_and_restore),
		cmocka_unit_test(test_out_of_memory_never_commits_half),
		cmocka_unit_test(test_leases_renewed_on_takeover),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_alert_names),
		cmocka_unit_test(test_alert_group_rule),
		cmocka_unit_test(test_rules_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
