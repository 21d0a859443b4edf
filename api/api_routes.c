/* api_routes: the REST API's routes; see api_routes.h. */
#include "api_routes.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "api_rate.h"
#include "api_workers.h"
#include "fc_command.h"
#include "fc_heartbeat.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_names.h"

#define SEGMENTS_MAX 8

/* A path split at '/': subscriptions S regions R packetCaptures [N [action]]. */
struct route {
	char buf[1024];
	char *seg[SEGMENTS_MAX];
	int n;
	const char *sub, *region, *name, *action;
	int workers; /* .../regions/R/workers */
	int token;   /* the caller's token (api_auth), -1 before or without one */
};

static int parse(const char *path, struct route *r)
{
	char *save = NULL;

	memset(r, 0, sizeof(*r));
	r->token = -1;
	if (strlen(path) >= sizeof(r->buf))
		return -1;
	snprintf(r->buf, sizeof(r->buf), "%s", path);
	for (char *s = strtok_r(r->buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (r->n == SEGMENTS_MAX)
			return -1;
		r->seg[r->n++] = s;
	}
	if (r->n < 5 || r->n > 7 || strcmp(r->seg[0], "subscriptions") != 0 ||
	    strcmp(r->seg[2], "regions") != 0)
		return -1;
	if (r->n == 5 && strcmp(r->seg[4], "workers") == 0) { /* the region's hosts */
		r->sub = r->seg[1];
		r->region = r->seg[3];
		r->workers = 1;
		return 0;
	}
	if (strcmp(r->seg[4], "packetCaptures") != 0)
		return -1;
	if (r->n == 7 && strcmp(r->seg[6], "queryStatus") != 0 && strcmp(r->seg[6], "stop") != 0)
		return -1;
	r->sub = r->seg[1];
	r->region = r->seg[3];
	r->name = r->n >= 6 ? r->seg[5] : NULL;
	r->action = r->n == 7 ? r->seg[6] : NULL;
	return 0;
}

int api_is_route(const char *path)
{
	struct route r;
	return parse(path, &r) == 0;
}

/* ------------------------------------------------------------ answers */

static void answer(struct api_response *res, int status, json_t *body)
{
	res->status = status;
	res->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
}

static void error(struct api_response *res, int status, const char *code, const char *target,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void error(struct api_response *res, int status, const char *code, const char *target,
		  const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	answer(res, status, api_error_json(code, message, target));
}

static void accepted(struct api_response *res, const struct route *r, const char *request_id)
{
	api_resource_id(r->sub, r->region, r->name, res->location, sizeof(res->location));
	answer(res, 202,
	       json_pack("{s:s, s:s, s:s}", "status", "Accepted", "requestId", request_id,
			 "location", res->location));
}

/* ------------------------------------------------------------- routes */

static int send_command(const struct api_ctx *ctx, struct api_response *res,
			Fleetcap__V1__Command *cmd, const char *key)
{
	struct fc_err err;

	if (api_send(ctx->send, ctx->commands_topic, key, &cmd->base, &err) == 0)
		return 0;
	FC_WARN("api", "%s", err.msg);
	api_metrics_send_failed(ctx->metrics);
	error(res, 503, "ServiceUnavailable", NULL, "the request could not be queued: %s", err.msg);
	return -1;
}

/* The scheduler refused the create: its error as an HTTP error. */
static void refused(struct api_response *res, const api_status_t *s)
{
	const char *code = fc_error_code_name((int)s->error);
	char field[64];

	snprintf(field, sizeof(field), "%s",
		 s->error_field && *s->error_field ? s->error_field : "target");
	api_field_path(field, sizeof(field));
	switch (s->error) {
	case FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED:
		error(res, 429, code, NULL, "%s", s->error_message);
		break;
	case FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND:
		error(res, 400, code, field, "%s", s->error_message);
		break;
	default:
		error(res, 400, code, s->error_field && *s->error_field ? field : NULL, "%s",
		      s->error_message);
	}
}

static void create(const struct api_ctx *ctx, const struct route *r, const struct api_request *req,
		   struct api_response *res, const char *key)
{
	struct fc_field_errors errs;
	fc_spec_t *spec =
		api_spec_from_body(req->body, req->body_len, r->sub, r->region, r->name, &errs);
	uint8_t want[FC_SPEC_DIGEST_LEN], have[FC_SPEC_DIGEST_LEN];
	char request_id[FC_REQUEST_ID_LEN + 1], ckey[FC_COMMAND_KEY_MAX];

	if (!spec) {
		answer(res, 400, api_field_errors_json(&errs));
		return;
	}
	/* The same capture again: nothing to send (the scheduler would answer
	 * the same). Another spec under the name is the scheduler's to refuse. */
	api_status_t *s = api_view_get(ctx->view, key);
	if (s && s->spec && fc_spec_digest(spec, want) == 0 && fc_spec_digest(s->spec, have) == 0 &&
	    memcmp(want, have, sizeof(want)) == 0) {
		answer(res, 200, api_resource_json(s));
		goto out;
	}
	Fleetcap__V1__Command cmd;
	fc_command_create(&cmd, spec, request_id, ckey);
	if (send_command(ctx, res, &cmd, ckey) != 0)
		goto out;
	api_status_free(s);
	if (!(s = api_view_wait_answer(ctx->view, request_id, ctx->wait_ms)))
		accepted(res, r, request_id);
	else if (s->rejected_error)
		error(res, 409, fc_error_code_name((int)s->rejected_error), "name", "%s",
		      s->rejected_message);
	else if (s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR)
		refused(res, s);
	else
		answer(res, 201, api_resource_json(s));
out:
	api_status_free(s);
	fc_spec_free(spec);
}

static int is_final(const api_status_t *s, void *arg)
{
	(void)arg;
	return s && (s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED ||
		     s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR);
}

static int is_gone(const api_status_t *s, void *arg)
{
	(void)arg;
	return s == NULL;
}

/* stop (kind STOP) or delete (kind DELETE). */
static void stop_or_delete(const struct api_ctx *ctx, const struct route *r,
			   struct api_response *res, const char *key, int kind)
{
	int deleting = kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_DELETE;
	char request_id[FC_REQUEST_ID_LEN + 1], ckey[FC_COMMAND_KEY_MAX];
	api_status_t *s = api_view_get(ctx->view, key);

	if (!s) {
		if (deleting)
			answer(res, 204, NULL); /* nothing there: deleting is done */
		else
			error(res, 404, "NotFound", "name", "no packet capture %s in %s/%s",
			      r->name, r->sub, r->region);
		return;
	}
	if (!deleting && is_final(s, NULL)) {
		answer(res, 200, api_query_status_json(s));
		api_status_free(s);
		return;
	}
	api_status_free(s);
	Fleetcap__V1__Command cmd;
	fc_command_name(&cmd, kind, r->sub, r->region, r->name, request_id, ckey);
	if (send_command(ctx, res, &cmd, ckey) != 0)
		return;
	if (!api_view_wait_until(ctx->view, key, deleting ? is_gone : is_final, NULL,
				 ctx->wait_ms)) {
		accepted(res, r, request_id);
		return;
	}
	if (deleting) {
		answer(res, 200, NULL);
		return;
	}
	s = api_view_get(ctx->view, key);
	if (s)
		answer(res, 200, api_query_status_json(s));
	else
		answer(res, 200, NULL); /* deleted meanwhile */
	api_status_free(s);
}

static void list(const struct api_ctx *ctx, const struct route *r, struct api_response *res)
{
	api_status_t **all;
	size_t n = api_view_list(ctx->view, r->sub, r->region, &all);
	json_t *value = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(value, api_resource_json(all[i]));
	api_statuses_free(all, n);
	answer(res, 200, json_pack("{s:o}", "value", value));
}

static void read_one(const struct api_ctx *ctx, const struct route *r, struct api_response *res,
		     const char *key, int query)
{
	api_status_t *s = api_view_get(ctx->view, key);

	if (!s) {
		error(res, 404, "NotFound", "name", "no packet capture %s in %s/%s", r->name,
		      r->sub, r->region);
		return;
	}
	answer(res, 200, query ? api_query_status_json(s) : api_resource_json(s));
	api_status_free(s);
}

/* Which methods a route takes, for 405's Allow. */
static const char *allowed(const struct route *r)
{
	return !r->name ? "GET" : r->action ? "POST" : "GET, PUT, DELETE";
}

static const char *route_name(const struct route *r, const char *method)
{
	if (r->workers)
		return "workers";
	if (!r->name)
		return "list";
	if (r->action)
		return r->action;
	return strcmp(method, "PUT") == 0      ? "create"
	       : strcmp(method, "DELETE") == 0 ? "delete"
	       : strcmp(method, "GET") == 0    ? "get"
					       : "resource";
}

static void dispatch(const struct api_ctx *ctx, const struct api_request *req,
		     struct api_response *res, struct route *rp);

/* GET .../regions/R/workers: the hosts registered there, as fleetcap workers shows them. */
static void list_workers(const struct api_ctx *ctx, const struct route *r, struct api_response *res)
{
	api_heartbeat_t **hosts = NULL;
	size_t n = ctx->workers ? api_workers_list(ctx->workers, r->sub, r->region, &hosts) : 0;
	int64_t now = fc_wall_ms();
	json_t *value = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(value, fc_heartbeat_json(hosts[i], now));
		api_heartbeat_free(hosts[i]);
	}
	free(hosts);
	answer(res, 200, json_pack("{s:o}", "value", value));
}

/* YYYY-MM-DD, optionally followed by -preview. */
static int valid_api_version(const char *v)
{
	static const char form[] = "dddd-dd-dd";

	for (size_t i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != form[i])
			return 0;
	return v[10] == '\0' || strcmp(v + 10, "-preview") == 0;
}

/* One line per request that changes something (create, stop, delete): who
 * (the token's id, never the token), what, and the answer. */
static void audit(const struct api_ctx *ctx, const struct api_request *req,
		  const struct api_response *res, const struct route *r)
{
	char who[20];

	if (strcmp(req->method, "PUT") != 0 && strcmp(req->method, "DELETE") != 0 &&
	    strcmp(req->method, "POST") != 0)
		return;
	if (strcmp(req->method, "POST") == 0 && (!r->action || strcmp(r->action, "stop") != 0))
		return; /* queryStatus reads */
	api_auth_token_id(ctx->auth, r->token, who);
	FC_INFO("audit",
		"token=%s method=%s subscription=%.64s region=%.64s capture=%.80s%s%s -> %d", who,
		req->method, r->n ? r->sub : "-", r->n ? r->region : "-", r->name ? r->name : "-",
		r->action ? " action=" : "", r->action ? r->action : "", res->status);
}

void api_route(const struct api_ctx *ctx, const struct api_request *req, struct api_response *res)
{
	struct route r;

	r.token = -1;
	dispatch(ctx, req, res, &r);
	audit(ctx, req, res, &r);
	api_metrics_request(ctx->metrics, req->method, r.n ? route_name(&r, req->method) : "none",
			    res->status);
}

static void dispatch(const struct api_ctx *ctx, const struct api_request *req,
		     struct api_response *res, struct route *rp)
{
	char key[FC_TENANT_MAX * 2 + FC_NAME_MAX + 3];
	const char *m = req->method;

	memset(res, 0, sizeof(*res));
	rp->n = 0;
	struct route *r = rp;
	if (parse(req->path, rp) != 0) {
		error(res, 404, "NotFound", NULL, "no such route: %.200s", req->path);
		return;
	}
	/* Cloud clients send api-version on every call: any dated version is
	 * served the same (docs/DECISIONS.md). */
	if (req->api_version && !valid_api_version(req->api_version)) {
		error(res, 400, "InvalidRequest", "api-version",
		      "\"%.40s\" is not valid: expected a date such as 2024-05-01, optionally "
		      "followed by -preview",
		      req->api_version);
		return;
	}
	switch (api_auth_check(ctx->auth, req->authorization, r->sub, &rp->token)) {
	case API_AUTH_OK:
		if (api_rate_take(ctx->rate, (unsigned)rp->token, fc_mono_ms(),
				  &res->retry_after) != 0) {
			error(res, 429, "TooManyRequests", NULL,
			      "this token's requests per second are over rate.per_token; retry "
			      "after %u s",
			      res->retry_after);
			return;
		}
		break;
	case API_AUTH_MISSING:
		res->challenge = 1;
		error(res, 401, "Unauthorized", NULL,
		      "expected an \"Authorization: Bearer TOKEN\" header");
		return;
	case API_AUTH_UNKNOWN:
		res->challenge = 1;
		error(res, 401, "Unauthorized", NULL, "the token is not valid");
		return;
	case API_AUTH_FORBIDDEN:
		error(res, 403, "Forbidden", "subscription",
		      "the token may not use subscription %.64s", r->sub);
		return;
	}
	if (!fc_valid_tenant(r->sub)) {
		error(res, 400, "InvalidRequest", "subscription",
		      "\"%.64s\" is not valid: expected [A-Za-z0-9_.-]{1,64}", r->sub);
		return;
	}
	if (!fc_valid_tenant(r->region)) {
		error(res, 400, "InvalidRequest", "region",
		      "\"%.64s\" is not valid: expected [A-Za-z0-9_.-]{1,64}", r->region);
		return;
	}
	if (r->name && !fc_valid_name(r->name)) {
		error(res, 400, "InvalidRequest", "name",
		      "\"%.80s\" is not valid: expected [A-Za-z0-9][A-Za-z0-9_.-]{0,79}", r->name);
		return;
	}
	snprintf(key, sizeof(key), "%s/%s/%s", r->sub, r->region, r->name ? r->name : "");
	if (r->workers && strcmp(m, "GET") == 0)
		list_workers(ctx, r, res);
	else if (!r->name && !r->workers && strcmp(m, "GET") == 0)
		list(ctx, r, res);
	else if (r->name && !r->action && strcmp(m, "GET") == 0)
		read_one(ctx, r, res, key, 0);
	else if (r->name && !r->action && strcmp(m, "PUT") == 0)
		create(ctx, r, req, res, key);
	else if (r->name && !r->action && strcmp(m, "DELETE") == 0)
		stop_or_delete(ctx, r, res, key, FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_DELETE);
	else if (r->action && strcmp(r->action, "queryStatus") == 0 && strcmp(m, "POST") == 0)
		read_one(ctx, r, res, key, 1);
	else if (r->action && strcmp(r->action, "stop") == 0 && strcmp(m, "POST") == 0)
		stop_or_delete(ctx, r, res, key, FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP);
	else {
		res->allow = allowed(r);
		error(res, 405, "MethodNotAllowed", NULL, "%.16s is not allowed here: expected %s",
		      m, res->allow);
	}
}
