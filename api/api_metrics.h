/*
 * api_metrics: fleetcap-api's /metrics: requests by route and status code,
 * Kafka send failures, and the captures of the status view by state.
 */
#ifndef API_METRICS_H
#define API_METRICS_H

struct api_view;
struct api_metrics;

struct api_metrics *api_metrics_new(struct api_view *view);
void api_metrics_free(struct api_metrics *m);

/* One answered request; route is the route's name ("create", "list", …). */
void api_metrics_request(struct api_metrics *m, const char *method, const char *route, int status);
void api_metrics_send_failed(struct api_metrics *m);

/* The text of /metrics (malloc'd); opaque is the struct api_metrics. */
char *api_metrics_text(void *opaque);

#endif
