/*
 * api_routes: fleetcap-api's routes, apart from HTTP (api_http.c carries
 * them), so that each is one function from a request to a response:
 *
 *   PUT    /subscriptions/S/regions/R/packetCaptures/N             create
 *   GET    /subscriptions/S/regions/R/packetCaptures/N             the resource
 *   DELETE /subscriptions/S/regions/R/packetCaptures/N             stop and remove
 *   POST   /subscriptions/S/regions/R/packetCaptures/N/queryStatus the status
 *   POST   /subscriptions/S/regions/R/packetCaptures/N/stop        stop
 *   GET    /subscriptions/S/regions/R/packetCaptures               list
 *
 * Reads come from the status view; writes send the same Commands as the
 * CLI (fc_command.c) and wait up to wait.ms for the scheduler's answer,
 * else answer 202 with a Location to poll. Status codes and error bodies
 * are listed in api/openapi.json.
 */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include <stddef.h>

#include "api_auth.h"
#include "api_metrics.h"
#include "api_send.h"
#include "api_view.h"
#include "fc_kafka.h"

struct api_ctx {
	struct api_view *view;
	struct api_workers *workers;
	struct api_metrics *metrics; /* may be NULL */
	struct api_auth *auth;
	struct api_rate *rate; /* may be NULL: no limit */
	struct api_send *send;
	char commands_topic[FC_TOPIC_NAME_MAX + 1];
	int wait_ms;
};

struct api_request {
	const char *method;
	const char *path;
	const char *body;
	size_t body_len;
	const char *authorization; /* the header's value, or NULL */
	const char *api_version;   /* the api-version query parameter, or NULL */
};

struct api_response {
	int status;
	char *body; /* JSON, malloc'd; NULL for none */
	char location[640];
	const char *allow;    /* 405: the methods the route takes */
	int challenge;	      /* 401: send WWW-Authenticate */
	unsigned retry_after; /* 429: seconds, sent as Retry-After */
};

/* 1 when path is one of the routes above (whatever the method). */
int api_is_route(const char *path);

/* Fills res for req. */
void api_route(const struct api_ctx *ctx, const struct api_request *req, struct api_response *res);

#endif
