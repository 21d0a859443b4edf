/* it_checks: invariants of the scheduler's fault tests; see it_checks.h. */
#include "it_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RUNNING FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING
#define STOPPED FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED
#define ERROR	FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR

static int final_state(const it_status_t *s)
{
	return s->state == STOPPED || s->state == ERROR;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of id in sorted[0..n) (pointers into requests), or -1. */
static long request_index(char *const *sorted, size_t n, const it_request_id *requests,
			  const char *id)
{
	char *const *hit = bsearch(&id, sorted, n, sizeof(*sorted), by_string);
	return hit ? (long)((const it_request_id *)*hit - requests) : -1;
}

static char **sorted_ids(const it_request_id *requests, size_t n)
{
	char **sorted = malloc((n + 1) * sizeof(*sorted));
	assert_non_null(sorted);
	for (size_t r = 0; r < n; r++)
		sorted[r] = (char *)requests[r];
	qsort(sorted, n, sizeof(*sorted), by_string);
	return sorted;
}

size_t it_count_finals(it_status_t *const *all, size_t n_all, const it_request_id *requests,
		       size_t n, int *finals)
{
	char **sorted = sorted_ids(requests, n);
	size_t answered = 0;

	memset(finals, 0, n * sizeof(*finals));
	for (size_t i = 0; i < n_all; i++) {
		if (!final_state(all[i]))
			continue;
		long r = request_index(sorted, n, requests, all[i]->request_id);
		if (r >= 0)
			answered += finals[r]++ == 0;
	}
	free(sorted);
	return answered;
}

size_t it_count_admitted(it_status_t *const *all, size_t n_all, const it_request_id *requests,
			 size_t n)
{
	char **sorted = sorted_ids(requests, n);
	size_t admitted = 0;

	for (size_t i = 0; i < n_all; i++)
		admitted += all[i]->state == STOPPED &&
			    request_index(sorted, n, requests, all[i]->request_id) >= 0;
	free(sorted);
	return admitted;
}

static int by_session_then_name(const void *a, const void *b)
{
	const Fleetcap__V1__Job *x = *(Fleetcap__V1__Job *const *)a;
	const Fleetcap__V1__Job *y = *(Fleetcap__V1__Job *const *)b;
	return strcmp(x->session_id, y->session_id);
}

static int by_name(const void *a, const void *b)
{
	const Fleetcap__V1__Job *x = *(Fleetcap__V1__Job *const *)a;
	const Fleetcap__V1__Job *y = *(Fleetcap__V1__Job *const *)b;
	int c = strcmp(x->spec->subscription, y->spec->subscription);
	if (!c)
		c = strcmp(x->spec->region, y->spec->region);
	return c ? c : strcmp(x->spec->name, y->spec->name);
}

/* By capture, then host: a group capture has one START per host. */
static int by_name_then_host(const void *a, const void *b)
{
	int c = by_name(a, b);
	return c ? c
		 : strcmp((*(Fleetcap__V1__Job *const *)a)->target,
			  (*(Fleetcap__V1__Job *const *)b)->target);
}

size_t it_check_one_start_each(struct it_fleet *f, const char *prefix)
{
	Fleetcap__V1__Job **jobs;
	size_t n_jobs = it_fleet_all_jobs(f, &jobs), starts = 0, matching = 0;

	for (size_t i = 0; i < n_jobs; i++)
		if (jobs[i]->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START && jobs[i]->spec)
			jobs[starts++] = jobs[i];
	qsort(jobs, starts, sizeof(*jobs), by_session_then_name);
	for (size_t i = 1; i < starts; i++)
		if (strcmp(jobs[i - 1]->session_id, jobs[i]->session_id) == 0)
			fail_msg("session %s has two START jobs", jobs[i]->session_id);
	qsort(jobs, starts, sizeof(*jobs), by_name_then_host);
	for (size_t i = 0; i < starts; i++) {
		if (i && by_name_then_host(&jobs[i - 1], &jobs[i]) == 0)
			fail_msg("capture %s has two sessions with a START job: %s and %s",
				 jobs[i]->spec->name, jobs[i - 1]->session_id, jobs[i]->session_id);
		/* Captures, not jobs: a group capture's instances count once. */
		if (!i || by_name(&jobs[i - 1], &jobs[i]) != 0)
			matching += strncmp(jobs[i]->spec->name, prefix, strlen(prefix)) == 0;
	}
	free(jobs);
	return matching;
}

size_t it_check_instances_started(struct it_fleet *f, it_status_t *const *all, size_t n_all)
{
	Fleetcap__V1__Job **jobs;
	size_t n_jobs = it_fleet_all_jobs(f, &jobs), groups = 0;

	for (size_t i = 0; i < n_all; i++) {
		const it_status_t *s = all[i];
		if (s->state != STOPPED || !s->n_instances)
			continue;
		groups++;
		for (size_t k = 0; k < s->n_instances; k++) {
			const Fleetcap__V1__InstanceState *in = s->instances[k];
			size_t found = 0;
			for (size_t j = 0; j < n_jobs; j++)
				found += jobs[j]->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START &&
					 strcmp(jobs[j]->session_id, in->session_id) == 0 &&
					 strcmp(jobs[j]->target, in->host_id) == 0;
			if (found != 1)
				fail_msg("instance %s of %s (session %s) has %zu START jobs",
					 in->instance, s->name, in->session_id, found);
			if (in->state != STOPPED)
				fail_msg("instance %s of stopped capture %s is in state %d",
					 in->instance, s->name, in->state);
		}
	}
	free(jobs);
	return groups;
}

struct event {
	const char *sub, *region;
	int64_t time;
	int delta; /* +1 admission, -1 end */
};

static int by_key_then_time(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int c = strcmp(x->sub, y->sub);
	if (!c)
		c = strcmp(x->region, y->region);
	if (c)
		return c;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->delta - y->delta; /* ends before admissions at the same ms */
}

void it_check_quota_history(it_status_t *const *all, size_t n_all, int quota)
{
	struct event *events = calloc(n_all + 1, sizeof(*events));
	it_status_t **seen = calloc(n_all + 1, sizeof(*seen));
	size_t n_events = 0, n_seen = 0;

	assert_true(events && seen);
	/* A session's first Running is its admission: sessions already seen
	 * Running are kept sorted by id. */
	for (size_t i = 0; i < n_all; i++) {
		it_status_t *s = all[i];
		if (!*s->session_id)
			continue;
		int first_running = 0;
		if (s->state == RUNNING) {
			size_t lo = 0, hi = n_seen;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				int c = strcmp(seen[mid]->session_id, s->session_id);
				if (c == 0) {
					lo = hi = mid;
					break;
				}
				if (c < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			first_running =
				lo >= n_seen || strcmp(seen[lo]->session_id, s->session_id) != 0;
			if (first_running) {
				memmove(seen + lo + 1, seen + lo, (n_seen - lo) * sizeof(*seen));
				seen[lo] = s;
				n_seen++;
			}
		}
		if (first_running || final_state(s))
			events[n_events++] =
				(struct event){s->subscription, s->region, s->updated_time_ms,
					       final_state(s) ? -1 : +1};
	}
	qsort(events, n_events, sizeof(*events), by_key_then_time);
	int active = 0;
	for (size_t i = 0; i < n_events; i++) {
		if (i && (strcmp(events[i].sub, events[i - 1].sub) != 0 ||
			  strcmp(events[i].region, events[i - 1].region) != 0))
			active = 0;
		active += events[i].delta;
		if (active > quota)
			fail_msg("key %s/%s has %d active sessions at %lld, quota %d",
				 events[i].sub, events[i].region, active, (long long)events[i].time,
				 quota);
	}
	free(seen);
	free(events);
}

struct ledger_check {
	int quota;
	size_t records;
};

static void check_ledger_record(void *opaque, const Fleetcap__V1__LedgerState *ls)
{
	struct ledger_check *c = opaque;

	c->records++;
	if (ls->n_active > (size_t)c->quota)
		fail_msg("ledger of %s/%s holds %zu active sessions, quota %d", ls->subscription,
			 ls->region, ls->n_active, c->quota);
}

size_t it_check_ledger_quota(struct it_fleet *f, int quota)
{
	struct ledger_check c = {quota, 0};

	it_fleet_read_ledger(f, check_ledger_record, &c);
	return c.records;
}
