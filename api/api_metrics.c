/* api_metrics: fleetcap-api's /metrics; see api_metrics.h. */
#include "api_metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "api_view.h"
#include "fc_metrics.h"
#include "fc_names.h"

struct api_metrics {
	struct fc_metrics *registry;
	struct api_view *view;
	struct fc_metric *requests, *send_failures, *captures, *view_entries;
};

struct api_metrics *api_metrics_new(struct api_view *view)
{
	struct api_metrics *m = calloc(1, sizeof(*m));

	if (!m || !(m->registry = fc_metrics_new())) {
		free(m);
		return NULL;
	}
	m->view = view;
	m->requests = fc_metrics_counter(m->registry, "fleetcap_api_requests_total",
					 "API requests answered, by method, route and status code.",
					 "method,route,code");
	m->send_failures = fc_metrics_counter(m->registry, "fleetcap_api_kafka_send_failures_total",
					      "Commands Kafka did not take (answered 503).", NULL);
	m->captures = fc_metrics_gauge(m->registry, "fleetcap_api_captures",
				       "Captures in the status view, by status.", "status");
	m->view_entries =
		fc_metrics_gauge(m->registry, "fleetcap_api_view_entries",
				 "Statuses held in memory: one per capture not deleted.", NULL);
	return m;
}

void api_metrics_free(struct api_metrics *m)
{
	if (!m)
		return;
	fc_metrics_free(m->registry);
	free(m);
}

void api_metrics_request(struct api_metrics *m, const char *method, const char *route, int status)
{
	char code[8];

	if (!m)
		return;
	snprintf(code, sizeof(code), "%d", status);
	fc_metric_add(m->requests, 1, method, route, code);
}

void api_metrics_send_failed(struct api_metrics *m)
{
	if (m)
		fc_metric_add(m->send_failures, 1);
}

char *api_metrics_text(void *opaque)
{
	struct api_metrics *m = opaque;
	size_t counts[5];

	if (!m)
		return NULL;
	api_view_count_states(m->view, counts);
	for (int s = 0; s < 5; s++)
		fc_metric_set(m->captures, (double)counts[s], fc_state_name(s));
	fc_metric_set(m->view_entries, (double)api_view_entries(m->view));
	return fc_metrics_text(m->registry);
}
