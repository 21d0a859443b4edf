/*
 * it_checks: the exactly-once and quota invariants that the scheduler's
 * fault tests (test_scheduler_failover, test_cluster_faults) check on what
 * the schedulers committed, read back from Kafka (read_committed) by
 * it_fleet. Each check fails the cmocka test with a message naming the
 * request, session or key that breaks it.
 */
#ifndef IT_CHECKS_H
#define IT_CHECKS_H

#include <stddef.h>

#include "it_fleet.h"

/* A request id as it_fleet_create writes it. */
typedef char it_request_id[33];

/*
 * Counts the final answers (Stopped or Error) of each of the n requests in
 * the status records all[0..n_all): finals[r] gets request r's count.
 * Returns how many requests have at least one.
 */
size_t it_count_finals(it_status_t *const *all, size_t n_all, const it_request_id *requests,
		       size_t n, int *finals);

/* Of the n requests, how many were admitted: answered Stopped (not Error). */
size_t it_count_admitted(it_status_t *const *all, size_t n_all, const it_request_id *requests,
			 size_t n);

/*
 * Fails when two START jobs carry one session id, or one capture name on one
 * host (a group capture has one START per instance, each on its own host).
 * Returns the number of captures with a START job whose name begins with
 * prefix.
 */
size_t it_check_one_start_each(struct it_fleet *f, const char *prefix);

/*
 * Fails when an instance of a group capture that ended Stopped has no START
 * job, or more than one, for its session on its host, or did not stop.
 * Returns the number of such group captures among the statuses.
 */
size_t it_check_instances_started(struct it_fleet *f, it_status_t *const *all, size_t n_all);

/*
 * Fails when a key (subscription/region) has more than quota sessions at
 * any moment of the status history: admissions (a session's first Running)
 * and ends (its final status), ordered by the scheduler's clock.
 */
void it_check_quota_history(it_status_t *const *all, size_t n_all, int quota);

/* Fails when a committed ledger record holds more than quota active
 * sessions; returns the number of records read. */
size_t it_check_ledger_quota(struct it_fleet *f, int quota);

#endif
