/*
 * fc_metrics: counters and gauges in the Prometheus text format
 * (docs/ARCHITECTURE.md §6, /metrics on the scheduler, the worker and the API).
 *
 *   struct fc_metric *admitted = fc_metrics_counter(m, "fleetcap_sched_admissions_total",
 *                                                   "Requests admitted.", "reason");
 *   fc_metric_add(admitted, 1, "Running");
 *
 * A family has up to FC_METRIC_LABELS label names (comma-separated, NULL for
 * none) and a series per set of label values, made on first use. Updates
 * are thread-safe. fc_metrics_serve() answers GET /metrics over HTTP.
 */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include <stdint.h>

#include "fc_err.h"

#define FC_METRIC_LABELS 3

/* The two config keys of a daemon's endpoint, for its fc_cfg_def table; the
 * daemon's config struct has char *metrics_address, long long metrics_port. */
/* clang-format off */
#define FC_METRICS_CFG_DEFS(type)                                                       \
	{"metrics.address", FC_CFG_STR, "127.0.0.1", 1, 64, offsetof(type, metrics_address), \
	 0, NULL, 0, "IPv4 address of the /metrics endpoint (Prometheus text format)"},       \
	{"metrics.port", FC_CFG_INT, "-1", -1, 65535, offsetof(type, metrics_port),           \
	 0, NULL, 0, "port of /metrics: -1 = no endpoint, 0 = any free port (logged)"}
/* clang-format on */

struct fc_metrics;
struct fc_metric;

struct fc_metrics *fc_metrics_new(void);
void fc_metrics_free(struct fc_metrics *m);

struct fc_metric *fc_metrics_counter(struct fc_metrics *m, const char *name, const char *help,
				     const char *labels);
struct fc_metric *fc_metrics_gauge(struct fc_metrics *m, const char *name, const char *help,
				   const char *labels);

/* Adds v to / sets the series of the given label values (one per label
 * name). f may be NULL (no metrics configured): then nothing happens. */
void fc_metric_add(struct fc_metric *f, double v, ...);
void fc_metric_set(struct fc_metric *f, double v, ...);

/* The whole registry in the text format, malloc'd; NULL when out of memory. */
char *fc_metrics_text(struct fc_metrics *m);

/* Serves GET /metrics on address:port (port 0 = any free one) and logs
 * "metrics on http://ADDRESS:PORT/metrics". */
struct fc_metrics_server;
struct fc_metrics_server *fc_metrics_serve(struct fc_metrics *m, const char *address, uint16_t port,
					   struct fc_err *err);
uint16_t fc_metrics_server_port(const struct fc_metrics_server *s);
void fc_metrics_server_stop(struct fc_metrics_server *s);

#endif
