/*
 * fleetcap-api: the REST API and the web page (docs/ARCHITECTURE.md §6).
 *
 *   fleetcap-api -c FILE [-X key=value]...
 *
 * Reads come from a live view of `status` (api_view.c); writes send the
 * CLI's Commands (fc_command.c) and wait briefly for the scheduler's answer
 * (api_routes.c); api_http.c serves them, the page and /metrics, over https
 * when tls.cert and tls.key are set (api_tls.c; SIGHUP loads them again).
 * Exits 0 after SIGTERM or SIGINT, 1 on a fatal error, 2 on a bad
 * configuration.
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
#include "api_tls.h"
#include "api_workers.h"
#include "fc_daemon.h"
#include "fc_log.h"

static atomic_int stop;	  /* set by a signal handler: lock-free atomic */
static atomic_int reload; /* SIGHUP: load tls.cert and tls.key again */

static void on_sighup(int sig)
{
	(void)sig;
	reload = 1;
}

/* The certificate of tls.cert and tls.key, NULL when neither is set (then
 * *failed is 0) or on an error (then err says why and *failed is 1). */
static struct api_tls *tls_start(const struct api_config *c, int *failed, struct fc_err *err)
{
	struct api_tls *tls;

	*failed = 0;
	if (!*c->tls_cert && !*c->tls_key)
		return NULL;
	*failed = 1;
	if (!*c->tls_cert || !*c->tls_key) {
		fc_err_set(err, FC_ERR_INVALID, "%s is set but %s is not: expected both or neither",
			   *c->tls_cert ? "tls.cert" : "tls.key",
			   *c->tls_cert ? "tls.key" : "tls.cert");
		return NULL;
	}
	if (!(tls = api_tls_load(c->tls_cert, c->tls_key, err)))
		return NULL;
	*failed = 0;
	FC_INFO("api", "tls: %s", api_tls_describe(tls));
	return tls;
}

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
	struct api_tls *tls = NULL;
	int rc = -1, tls_failed;

	if (fc_topic_name(c->topics_prefix, FC_TOPIC_STATUS, status_topic, sizeof(status_topic)) ||
	    fc_topic_name(c->topics_prefix, FC_TOPIC_WORKERS, workers_topic,
			  sizeof(workers_topic)) ||
	    fc_topic_name(c->topics_prefix, FC_TOPIC_COMMANDS, ctx.commands_topic,
			  sizeof(ctx.commands_topic))) {
		fc_err_set(err, FC_ERR_INVALID, "topics.prefix \"%.64s\" is not valid",
			   c->topics_prefix);
		return -1;
	}
	signal(SIGHUP, on_sighup); /* a reload, never the end of the API */
	if (!(tls = tls_start(c, &tls_failed, err)) && tls_failed)
		return -1;
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
		.tls = tls != NULL,
		.metrics = api_metrics_text,
		.metrics_opaque = metrics,
	};
	ctx.metrics = metrics;
	if (!(http = api_http_start(&hc, &ctx, err))) {
		api_metrics_free(metrics);
		goto out;
	}
	FC_INFO("api", "listening on %s://%s:%u (%u tokens, status view ready)",
		tls ? "https" : "http", c->listen_address, (unsigned)api_http_port(http),
		api_auth_count(ctx.auth));
	while (!stop) {
		pause();
		if (reload && !tls) {
			reload = 0;
			FC_INFO("api", "SIGHUP: no tls.cert to reload");
		} else if (reload) {
			struct fc_err rerr;
			reload = 0;
			if (api_tls_reload(tls, &rerr) == 0)
				FC_INFO("api", "tls: reloaded: %s", api_tls_describe(tls));
			else
				FC_WARN("api",
					"tls: reload refused, the certificate in use stays: %s",
					rerr.msg);
		}
	}
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
	api_tls_free(tls);
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
