/*
 * wk_metrics: the worker's /metrics (metrics.port): sessions running and
 * ended, packets, bytes and drops captured (counted as the progress reports
 * go, so a long capture moves them), uploads, their bytes and retries, and
 * heartbeats.
 */
#ifndef WK_METRICS_H
#define WK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"
#include "fc_metrics.h"
#include "wk_session.h"

struct wk_metrics {
	struct fc_metrics *registry;
	struct fc_metrics_server *server;
	struct fc_metric *sessions, *sessions_ended, *packets, *bytes, *kernel_drops,
		*interface_drops, *uploads, *uploaded_bytes, *upload_retries, *heartbeats;
};

/* port -1: no endpoint (the counters are still kept); 0: any free port. */
struct wk_metrics *wk_metrics_new(const char *address, long long port, struct fc_err *err);

/* Adds what counters hold beyond *counted, then makes *counted = *counters. */
void wk_metrics_captured(struct wk_metrics *m, struct wk_counters *counted,
			 const struct wk_counters *counters);

void wk_metrics_free(struct wk_metrics *m);

#endif
