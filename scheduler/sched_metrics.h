/*
 * sched_metrics: the scheduler's /metrics (metrics.port): sessions by
 * status, admissions, rejections and ends by reason (committed decisions
 * only), transactions committed and aborted, workers and quota keys known.
 */
#ifndef SCHED_METRICS_H
#define SCHED_METRICS_H

#include <stddef.h>

#include "fc_err.h"
#include "sched_state.h"

struct sched_metrics;

/* port -1: no endpoint (the counters are still kept); 0: any free port. */
struct sched_metrics *sched_metrics_new(const char *address, long long port, struct fc_err *err);

/* After each transaction: its outcome, then the state's counts. */
void sched_metrics_transaction(struct sched_metrics *m, int committed);
void sched_metrics_update(struct sched_metrics *m, const struct sched_stats *s, size_t workers,
			  size_t keys);

void sched_metrics_free(struct sched_metrics *m);

#endif
