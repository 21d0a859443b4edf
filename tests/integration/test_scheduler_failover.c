/*
 * Exactly-once admission across a crash, on the real broker: two scheduler
 * instances in one group share 2,000 creates over 50 quota keys (quota 2,
 * sent in bursts so that the quota bites), and one instance is killed with
 * SIGKILL halfway through the stream. The survivor takes over its
 * partitions, replays their ledger, and goes on. Then, in what the two
 * committed (read_committed):
 *
 *  - every create has exactly one final answer (Stopped, or Error);
 *  - no session got two START jobs, and no capture name two sessions;
 *  - every admitted create has its START job, and nothing else has one;
 *  - no key is over quota in any ledger record, nor at any moment of the
 *    status history (admissions and ends ordered by the scheduler's clock);
 *  - every key of ten targets a group of three workers (every other create
 *    excludes one instance): each admitted group capture has exactly one
 *    START per selected instance, and all of them stopped.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_env.h"
#include "it_checks.h"
#include "it_fleet.h"
#include "fc_spec.h"

#define KEYS	   50
#define ROUNDS	   10
#define PER_ROUND  4 /* creates per key per round */
#define CREATES	   (KEYS * ROUNDS * PER_ROUND)
#define QUOTA	   2
#define PARTITIONS 6

static it_request_id requests[CREATES];
static char names[CREATES][24];

/* Keys whose captures target group "g" (instances 0, 1, 2) instead of a host. */
static int group_key(int k)
{
	return k % 5 == 0;
}

static void create_group(struct it_fleet *fleet, const char *region, const char *name, int exclude,
			 char *request_id)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = fc_spec_new();
	char path[64];

	fc_field_errors_init(&errs);
	snprintf(path, sizeof(path), "caps/%s.pcap", name);
	fc_spec_set(spec, "name", name, &errs);
	fc_spec_set(spec, "subscription", "sub-f", &errs);
	fc_spec_set(spec, "region", region, &errs);
	fc_spec_set(spec, "target-group", "g", &errs);
	fc_spec_set(spec, "time-limit", "600", &errs);
	fc_spec_set(spec, "file-path", path, &errs);
	if (exclude)
		fc_spec_set(spec, "exclude", "1", &errs);
	assert_int_equal(errs.count, 0);
	it_fleet_create_spec(fleet, spec, request_id);
	fc_spec_free(spec);
}

/* A create for key k: its host, or its group. */
static void create_for_key(struct it_fleet *fleet, int k, const char *name, int i, char *request_id)
{
	char host[32], region[8];

	snprintf(host, sizeof(host), "host-%02d", k);
	snprintf(region, sizeof(region), "r%02d", k);
	if (group_key(k))
		create_group(fleet, region, name, i % 2, request_id);
	else
		it_fleet_create(fleet, "sub-f", region, name, host, 600, 0, request_id);
}

static void test_failover(void **state)
{
	struct it_fleet *fleet;
	char prefix[64], log_a[256], log_b[256], host[32], region[8];
	static const char *settings[] = {"quota.default=2", "lease.grace.s=60", "tick.ms=100",
					 NULL};
	int *finals = calloc(CREATES, sizeof(int));
	(void)state;

	it_unique(prefix, sizeof(prefix), "it-failover-");
	strcat(prefix, ".");
	fleet = it_fleet_start(it_require_env("FLEETCAP_BROKERS"), prefix, PARTITIONS);
	it_fleet_auto_finish(fleet, 1);
	for (int k = 0; k < KEYS; k++) {
		snprintf(host, sizeof(host), "host-%02d", k);
		snprintf(region, sizeof(region), "r%02d", k);
		it_fleet_heartbeat(fleet, host, "sub-f", region, 0);
		for (int g = 0; group_key(k) && g < 3; g++) {
			char member[32], instance[4];
			snprintf(member, sizeof(member), "group-%02d-%d", k, g);
			snprintf(instance, sizeof(instance), "%d", g);
			it_fleet_heartbeat_in_group(fleet, member, "sub-f", region, "g", instance,
						    0);
		}
	}
	pid_t a = it_sched_start(fleet, "a", settings, log_a, sizeof(log_a));
	pid_t b = it_sched_start(fleet, "b", settings, log_b, sizeof(log_b));
	if (it_sched_wait_log(log_a, "ledger replayed", 120) ||
	    it_sched_wait_log(log_b, "ledger replayed", 120))
		fail_msg("the schedulers did not get partitions; see %s and %s", log_a, log_b);

	/* Warm-up: one capture per key, so that both instances have committed
	 * transactions of their own before the stream starts. */
	for (int k = 0; k < KEYS; k++) {
		char req[33], name[16];
		snprintf(region, sizeof(region), "r%02d", k);
		snprintf(name, sizeof(name), "warm-%02d", k);
		create_for_key(fleet, k, name, 0, req);
		it_status_t *s = it_fleet_answer(fleet, req, 120);
		if (!s)
			fail_msg("no answer to the warm-up create of %s; see %s and %s", region,
				 log_a, log_b);
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
	}

	int sent = 0;
	for (int round = 0; round < ROUNDS; round++) {
		for (int k = 0; k < KEYS; k++)
			for (int i = 0; i < PER_ROUND; i++, sent++) {
				snprintf(names[sent], sizeof(names[sent]), "c%04d", sent);
				create_for_key(fleet, k, names[sent], i, requests[sent]);
			}
		it_fleet_flush(fleet);
		if (round == ROUNDS / 2 - 1) {
			/* Kill a while both are busy: once a good part of what was
			 * sent is answered, and with more on its way. */
			size_t answered = 0;
			for (int waited = 0; waited < 600 && answered < (size_t)sent / 2;
			     waited++) {
				it_status_t **now;
				size_t n_now = it_fleet_statuses(fleet, &now);
				answered = it_count_finals(now, n_now, requests, CREATES, finals);
				free(now);
				struct timespec tick = {0, 100 * 1000 * 1000};
				nanosleep(&tick, NULL);
			}
			assert_int_equal(it_sched_stop(a, SIGKILL), 128 + SIGKILL);
			fprintf(stderr, "killed instance a after %d creates, %zu answered\n", sent,
				answered);
		}
		struct timespec pause = {0, 300 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}

	/* Wait (a guard against a hang, not a bound) until all are answered. */
	it_status_t **all = NULL;
	size_t n = 0, answered = 0;
	for (int waited = 0; waited < 240; waited++) {
		free(all);
		n = it_fleet_statuses(fleet, &all);
		if ((answered = it_count_finals(all, n, requests, CREATES, finals)) == CREATES)
			break;
		sleep(1);
	}
	fprintf(stderr, "%zu of %d creates answered, %zu status records\n", answered, CREATES, n);
	assert_int_equal(answered, CREATES);
	sleep(2); /* a duplicate would come right behind */
	free(all);
	n = it_fleet_statuses(fleet, &all);
	it_count_finals(all, n, requests, CREATES, finals);
	for (int r = 0; r < CREATES; r++)
		if (finals[r] != 1)
			fail_msg("create %s (%s) has %d final answers", requests[r], names[r],
				 finals[r]);

	/* Jobs: one START per session, one session per name, one per admission. */
	size_t starts = it_check_one_start_each(fleet, "c");
	int admitted = (int)it_count_admitted(all, n, requests, CREATES);
	fprintf(stderr, "%d admitted and stopped, %d rejected, %zu START jobs\n", admitted,
		CREATES - admitted, starts);
	assert_int_equal(starts, (size_t)admitted);
	assert_true(admitted >= KEYS * QUOTA);	 /* the stream was admitted ... */
	assert_true(CREATES - admitted >= KEYS); /* ... and the quota did bite */

	size_t groups = it_check_instances_started(fleet, all, n);
	fprintf(stderr, "%zu group captures admitted, each instance started once\n", groups);
	assert_true(groups >= 10 * QUOTA);

	it_check_quota_history(all, n, QUOTA);
	free(all);

	size_t records = it_check_ledger_quota(fleet, QUOTA);
	fprintf(stderr, "%zu ledger records checked\n", records);
	assert_true(records > 0);

	assert_int_equal(it_sched_stop(b, SIGTERM), 0);
	it_fleet_stop(fleet);
	free(finals);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
