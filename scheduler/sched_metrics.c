/* sched_metrics: the scheduler's /metrics; see sched_metrics.h. */
#include "sched_metrics.h"

#include <stdlib.h>

#include "fc_metrics.h"
#include "fc_names.h"

struct sched_metrics {
	struct fc_metrics *registry;
	struct fc_metrics_server *server;
	struct fc_metric *sessions, *admissions, *rejections, *ended, *transactions, *workers,
		*keys;
};

struct sched_metrics *sched_metrics_new(const char *address, long long port, struct fc_err *err)
{
	struct sched_metrics *m = calloc(1, sizeof(*m));

	if (!m || !(m->registry = fc_metrics_new())) {
		free(m);
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	struct fc_metrics *r = m->registry;
	m->sessions = fc_metrics_gauge(r, "fleetcap_scheduler_sessions",
				       "Sessions holding a slot (Running) or waiting (Queued).",
				       "status");
	m->admissions = fc_metrics_counter(
		r, "fleetcap_scheduler_admissions_total",
		"Creates answered Running or Queued, or Repeated (the same create again).",
		"result");
	m->rejections = fc_metrics_counter(r, "fleetcap_scheduler_rejections_total",
					   "Creates refused, by error code.", "reason");
	m->ended = fc_metrics_counter(r, "fleetcap_scheduler_sessions_ended_total",
				      "Sessions ended, by status and stop reason or error code.",
				      "status,reason");
	m->transactions = fc_metrics_counter(r, "fleetcap_scheduler_transactions_total",
					     "Kafka transactions, committed or aborted.", "result");
	m->workers = fc_metrics_gauge(r, "fleetcap_scheduler_workers",
				      "Workers in the workers table (fresh or stale).", NULL);
	m->keys = fc_metrics_gauge(r, "fleetcap_scheduler_quota_keys",
				   "(subscription, region) keys this instance owns.", NULL);
	if (port >= 0) {
		if (!(m->server = fc_metrics_serve(r, address, (uint16_t)port, err))) {
			sched_metrics_free(m);
			return NULL;
		}
	}
	return m;
}

void sched_metrics_transaction(struct sched_metrics *m, int committed)
{
	if (m)
		fc_metric_add(m->transactions, 1, committed ? "committed" : "aborted");
}

void sched_metrics_update(struct sched_metrics *m, const struct sched_stats *s, size_t workers,
			  size_t keys)
{
	if (!m)
		return;
	fc_metric_set(m->sessions, (double)s->active, "Running");
	fc_metric_set(m->sessions, (double)s->waiting, "Queued");
	fc_metric_set(m->admissions, (double)s->admitted, "Running");
	fc_metric_set(m->admissions, (double)s->queued, "Queued");
	fc_metric_set(m->admissions, (double)s->repeated, "Repeated");
	for (int c = 1; c < SCHED_CODES; c++) {
		const char *code = fc_error_code_name(c);
		const char *reason = fc_stop_reason_name(c);
		if (s->rejected[c])
			fc_metric_set(m->rejections, (double)s->rejected[c], code);
		if (s->failed[c])
			fc_metric_set(m->ended, (double)s->failed[c], "Error", code);
		if (s->ended[c])
			fc_metric_set(m->ended, (double)s->ended[c], "Stopped", reason);
	}
	fc_metric_set(m->workers, (double)workers);
	fc_metric_set(m->keys, (double)keys);
}

void sched_metrics_free(struct sched_metrics *m)
{
	if (!m)
		return;
	fc_metrics_server_stop(m->server);
	fc_metrics_free(m->registry);
	free(m);
}
