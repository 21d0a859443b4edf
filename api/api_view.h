/*
 * api_view: fleetcap-api's read side, a live view of the `status` topic
 * (docs/ARCHITECTURE.md §6). A thread reads every partition from the beginning
 * (read_committed) and keeps the newest status per capture; the API answers
 * GET, list and queryStatus from it, and waits on it for the scheduler's
 * answer to a request it sent.
 */
#ifndef API_VIEW_H
#define API_VIEW_H

#include <stddef.h>

#include "api_json.h"
#include "fc_config.h"
#include "fc_err.h"

struct api_view;

/* Starts reading topic. NULL with err set. */
struct api_view *api_view_start(const char *brokers, const struct fc_kv_list *kafka,
				const char *topic, struct fc_err *err);

/* 0 once every partition has been read to its end at least once; -1 after
 * timeout_ms. */
int api_view_wait_ready(struct api_view *v, int timeout_ms);

/* A copy of the newest status of "sub/region/name", NULL when there is
 * none or it is deleted. Free with api_status_free. */
api_status_t *api_view_get(struct api_view *v, const char *key);

/* Copies of the statuses of sub/region that are not deleted, sorted by
 * name; *out is an array the caller frees with api_statuses_free. */
size_t api_view_list(struct api_view *v, const char *sub, const char *region, api_status_t ***out);

/*
 * Waits up to timeout_ms for the status that answers request_id (a status
 * record carrying it) and returns a copy; NULL on timeout.
 */
api_status_t *api_view_wait_answer(struct api_view *v, const char *request_id, int timeout_ms);

/* Waits up to timeout_ms until key's status satisfies done (called with
 * NULL for no status) and returns 1, else 0. */
int api_view_wait_until(struct api_view *v, const char *key,
			int (*done)(const api_status_t *s, void *arg), void *arg, int timeout_ms);

/*
 * Statuses the view holds: one per capture not deleted (a deleted capture's
 * status is freed), so the view's memory follows the captures that exist.
 */
size_t api_view_entries(struct api_view *v);

/* Captures in the view, by state (index: CaptureState), for /metrics. */
void api_view_count_states(struct api_view *v, size_t counts[5]);

void api_status_free(api_status_t *s);
void api_statuses_free(api_status_t **list, size_t n);

void api_view_stop(struct api_view *v);

#endif
