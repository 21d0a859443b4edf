/*
 * fleetcap-api: the REST API and the web page (docs/ARCHITECTURE.md §6).
 *
 *   fleetcap-api -c FILE [-X key=value]...
 *
 * Reads come from a live view of `status` (api_view.c); writes send the
 * CLI's Commands (fc_command.c) and wait briefly for the scheduler's answer
 * (api_routes.c); api_http.c serves them, the page and /metrics. Exits 0
 * after SIGTERM or SIGINT, 1 on a fatal error, 2 on a bad configuration.
 */
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "api_auth.h"
#include "api_config.h"
#include "api_http.h"
#include "api_metrics.h"
#include "api_rate.h"
#include "api_routes.h"
#include "api_workers.h"
#include "fc_daemon.h"
#include "fc_log.h"

static atomic_int stop; /* set by a signal handler: lock-free atomic */

#define USAGE                                                                                      \
	"usage: fleetcap-api -c FILE [-X key=value]...\n"                                          \
	"       fleetcap-api --help-config\n\n"                                                    \
	"Serves the packet-capture REST API, the web page and /metrics.\n"                         \
	"Exit codes: 0 after SIGTERM/SIGINT, 1 on a fatal error, 2 on a bad configuration.\n"

static int run(struct api_config *c, struct fc_err *err)
{
	const char *brokers = *c->brokers ? c->brokers : NULL;
	struct api_ctx ctx = {.wait_ms = (int)c->wait_ms};
	char status_topic[FC_TOPIC_NAME_MAX + 1], workers_topic[FC_TOPIC_NAME_MAX + 1];
	struct api_http *http = NULL;
	int rc = -1;

	if (fc_topic_name(c->topics_prefix, FC_TOPIC_STATUS, status_topic, sizeof(status_topic)) ||
	    fc_topic_name(c->topics_prefix, FC_TOPIC_WORKERS, workers_topic,
			  sizeof(workers_topic)) ||
	    fc_topic_name(c->topics_prefix, FC_TOPIC_COMMANDS, ctx.commands_topic,
			  sizeof(ctx.commands_topic))) {
		fc_err_set(err, FC_ERR_INVALID, "topics.prefix \"%.64s\" is not valid",
			   c->topics_prefix);
		return -1;
	}
	if (!(ctx.auth = api_auth_load(c->auth_tokens, err)) ||
	    !(ctx.rate = api_rate_new(api_auth_count(ctx.auth), (double)c->rate_per_token,
				      (double)c->rate_burst)) ||
	    !(ctx.send = api_send_new(brokers, &c->kafka, err)) ||
	    !(ctx.view = api_view_start(brokers, &c->kafka, status_topic, err)) ||
	    !(ctx.workers = api_workers_start(brokers, &c->kafka, workers_topic, err)))
		goto out;
	if (api_view_wait_ready(ctx.view, 120000) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: not read to its end within 120 s", status_topic);
		goto out;
	}
	struct api_metrics *metrics = api_metrics_new(ctx.view);
	struct api_http_config hc = {
		.address = c->listen_address,
		.port = (uint16_t)c->listen_port,
		.connections_max = (unsigned)c->connections_max,
		.request_timeout_s = (unsigned)c->request_timeout_s,
		.web_root = c->web_root,
		.metrics = api_metrics_text,
		.metrics_opaque = metrics,
	};
	ctx.metrics = metrics;
	if (!(http = api_http_start(&hc, &ctx, err))) {
		api_metrics_free(metrics);
		goto out;
	}
	FC_INFO("api", "listening on http://%s:%u (%u tokens, status view ready)",
		c->listen_address, (unsigned)api_http_port(http), api_auth_count(ctx.auth));
	while (!stop)
		pause();
	FC_INFO("api", "stopping");
	api_http_stop(http);
	api_metrics_free(metrics);
	rc = 0;
out:
	api_workers_stop(ctx.workers);
	api_view_stop(ctx.view);
	api_send_free(ctx.send);
	api_auth_free(ctx.auth);
	api_rate_free(ctx.rate);
	return rc;
}

int main(int argc, char **argv)
{
	struct api_config config = {0};
	struct fc_err err;
	int rc = fc_daemon_start(argc, argv, "fleetcap-api", USAGE, api_config_defs, &config,
				 &config.log_level, &stop);

	if (rc >= 0)
		return rc;
	fc_err_clear(&err);
	if (run(&config, &err) != 0) {
		fprintf(stderr, "fleetcap-api: %s\n", err.msg);
		rc = err.action == FC_ERR_INVALID ? 2 : 1;
	} else {
		rc = 0;
	}
	fc_config_free(api_config_defs, &config);
	return rc;
}
