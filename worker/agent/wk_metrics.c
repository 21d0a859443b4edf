/* wk_metrics: the worker's /metrics; see wk_metrics.h. */
#include "wk_metrics.h"

#include <stdlib.h>

struct wk_metrics *wk_metrics_new(const char *address, long long port, struct fc_err *err)
{
	struct wk_metrics *m = calloc(1, sizeof(*m));

	if (!m || !(m->registry = fc_metrics_new())) {
		free(m);
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	struct fc_metrics *r = m->registry;
	m->sessions =
		fc_metrics_gauge(r, "fleetcap_worker_sessions",
				 "Sessions running on this host (capturing or uploading).", NULL);
	m->sessions_ended = fc_metrics_counter(
		r, "fleetcap_worker_sessions_ended_total",
		"Final reports sent, by kind (Finished, Failed) and reason or error code.",
		"kind,reason");
	m->packets = fc_metrics_counter(r, "fleetcap_worker_captured_packets_total",
					"Packets written to capture files.", NULL);
	m->bytes = fc_metrics_counter(r, "fleetcap_worker_captured_bytes_total",
				      "Bytes written to capture files.", NULL);
	m->kernel_drops =
		fc_metrics_counter(r, "fleetcap_worker_kernel_drops_total",
				   "Packets the kernel dropped (capture ring full).", NULL);
	m->interface_drops = fc_metrics_counter(r, "fleetcap_worker_interface_drops_total",
						"Packets the interface dropped.", NULL);
	m->uploads = fc_metrics_counter(r, "fleetcap_worker_uploads_total",
					"Files uploaded to blob storage, by result (ok, failed).",
					"result");
	m->uploaded_bytes = fc_metrics_counter(r, "fleetcap_worker_uploaded_bytes_total",
					       "Bytes of the files uploaded.", NULL);
	m->upload_retries =
		fc_metrics_counter(r, "fleetcap_worker_upload_retries_total",
				   "Requests sent again after a transient storage failure.", NULL);
	m->heartbeats = fc_metrics_counter(r, "fleetcap_worker_heartbeats_total",
					   "Heartbeats sent to the workers topic.", NULL);
	if (port >= 0) {
		if (!(m->server = fc_metrics_serve(r, address, (uint16_t)port, err))) {
			wk_metrics_free(m);
			return NULL;
		}
	}
	return m;
}

static void add_delta(struct fc_metric *f, uint64_t *counted, uint64_t now)
{
	if (now > *counted)
		fc_metric_add(f, (double)(now - *counted));
	*counted = now;
}

void wk_metrics_captured(struct wk_metrics *m, struct wk_counters *counted,
			 const struct wk_counters *counters)
{
	if (!m || !counters)
		return;
	add_delta(m->packets, &counted->packets, counters->packets);
	add_delta(m->bytes, &counted->bytes, counters->bytes);
	add_delta(m->kernel_drops, &counted->kernel_drops, counters->kernel_drops);
	add_delta(m->interface_drops, &counted->interface_drops, counters->interface_drops);
}

void wk_metrics_free(struct wk_metrics *m)
{
	if (!m)
		return;
	fc_metrics_server_stop(m->server);
	fc_metrics_free(m->registry);
	free(m);
}
