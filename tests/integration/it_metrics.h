/*
 * it_metrics: reading a daemon's /metrics (Prometheus text format) the way a
 * scraper would: the URL from the daemon's "metrics on …" or "listening on
 * …" log line, then one series' value.
 */
#ifndef IT_METRICS_H
#define IT_METRICS_H

#include <stddef.h>

/* The "http://…" or "https://…" after text in the log at path (e.g. "metrics on "); 0
 * when found. */
int it_log_url(const char *log_path, const char *text, char *url, size_t len);

/* GET url; the body (malloc'd) or NULL. */
char *it_http_get(const char *url);

/* The value of series (name{labels} exactly as exposed) in text; -1 when absent. */
double it_metric(const char *text, const char *series);

/* Fetches url and returns the series' value (-1 when absent or unreachable). */
double it_metric_at(const char *url, const char *series);

#endif
