/*
 * api_http: fleetcap-api's HTTP server (libmicrohttpd, a thread per
 * connection, since a write waits for the scheduler's answer): the routes of
 * api_routes.c, the web page's files under web.root at /, and /metrics.
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <stdint.h>

#include "api_routes.h"
#include "fc_err.h"

struct api_http;

struct api_http_config {
	const char *address; /* IPv4 */
	uint16_t port;	     /* 0 = any free port */
	unsigned connections_max;
	unsigned request_timeout_s; /* a whole request within this, or the socket is shut */
	const char *web_root;	    /* "" = no page */
	int tls;		    /* https with api_tls's certificate (api_tls_load first) */
	/* Writes the Prometheus text of /metrics (malloc'd) or NULL. */
	char *(*metrics)(void *opaque);
	void *metrics_opaque;
};

struct api_http *api_http_start(const struct api_http_config *config, const struct api_ctx *ctx,
				struct fc_err *err);

/* The port it listens on. */
uint16_t api_http_port(const struct api_http *h);

void api_http_stop(struct api_http *h);

#endif
