/*
 * sched_state_group: group captures (CaptureSpec.target_type GROUP).
 *
 * The target names a group of workers (their config "group"), narrowed by
 * scope.include and scope.exclude (instance ids, config "instance"). The
 * selection is made when the capture is admitted, against the live workers
 * of the same tenant, and kept in the ledger entry as one InstanceState per
 * instance, so a replay restores every instance. The capture is one session
 * of its quota key however many instances it has (the cloud's rule); each
 * instance gets its own START job, its own session id (the capture's + "/" +
 * instance) and its own files: the instance id is a directory before the
 * file name, locally and in the blob name. The capture runs while any
 * instance runs and ends with the last one (docs/ARCHITECTURE.md §3.6).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_blob_url.h"
#include "fc_log.h"
#include "fc_spec.h"
#include "sched_state_int.h"

#define CAPTURE_STATE(x) FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_##x
#define ERROR_CODE(x)	 FLEETCAP__V1__ERROR_CODE__ERROR_CODE_##x

static int is_final(const inst_t *in)
{
	return in->state == CAPTURE_STATE(STOPPED) || in->state == CAPTURE_STATE(ERROR);
}

static int listed(char *const *items, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i], s) == 0)
			return 1;
	return 0;
}

/* By instance, then host: the choice between two claims of one instance is
 * the same in every process. */
static int by_instance(const void *a, const void *b)
{
	const struct sched_member *x = a, *y = b;
	int c = strcmp(x->instance, y->instance);
	return c ? c : strcmp(x->host_id, y->host_id);
}

void ss_free_instances(inst_t **items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		protobuf_c_message_free_unpacked(&items[i]->base, NULL);
	free(items);
}

/* path with "instance/" before its last segment; NULL when too long or OOM. */
static char *with_instance(const char *path, const char *instance, size_t max)
{
	const char *slash = strrchr(path, '/');
	size_t head = slash ? (size_t)(slash - path) + 1 : 0;
	size_t n_inst = strlen(instance), len = strlen(path) + n_inst + 1;
	char *out;

	if (len > max || !(out = malloc(len + 1)))
		return NULL;
	memcpy(out, path, head);
	memcpy(out + head, instance, n_inst);
	out[head + n_inst] = '/';
	strcpy(out + head + n_inst + 1, path + head);
	return out;
}

/* 1 when path (empty: no path) still fits max with instance in it. */
static int fits(const char *path, const char *instance, size_t max)
{
	return !*path || strlen(path) + strlen(instance) + 1 <= max;
}

/* The live members of spec's group, sorted by instance, each instance once. */
static struct sched_member *members(struct sched_state *st, const struct sched_key *k,
				    const fc_spec_t *spec, int refresh, int64_t now, size_t *n)
{
	const struct sched_policy *p = &st->policy;
	size_t total = p->group_members(p->target_opaque, spec->target, k->ls->subscription,
					k->ls->region, now, refresh, NULL, 0);
	struct sched_member *m = calloc(total ? total : 1, sizeof(*m));
	size_t got, kept = 0;

	if (!m)
		return NULL;
	got = p->group_members(p->target_opaque, spec->target, k->ls->subscription, k->ls->region,
			       now, 0, m, total);
	if (got > total)
		got = total;
	qsort(m, got, sizeof(*m), by_instance);
	/* Two live workers that claim one instance id: the smaller host id wins. */
	for (size_t i = 0; i < got; i++)
		if (kept == 0 || strcmp(m[kept - 1].instance, m[i].instance) != 0)
			m[kept++] = m[i];
		else
			FC_WARN("sched", "group %s: hosts %s and %s both claim instance %s",
				spec->target, m[kept - 1].host_id, m[i].host_id, m[i].instance);
	*n = kept;
	return m;
}

static ssize_t first_missing(const Fleetcap__V1__Scope *sc, const struct sched_member *m, size_t n)
{
	for (size_t i = 0; sc && i < sc->n_include; i++) {
		size_t j = 0;
		while (j < n && strcmp(m[j].instance, sc->include[i]) != 0)
			j++;
		if (j == n)
			return (ssize_t)i;
	}
	return -1;
}

/* Builds the InstanceState list of the selected members. 0, or -1 (OOM). */
static int build_selection(const struct sched_member *m, size_t n, const Fleetcap__V1__Scope *sc,
			   inst_t ***out, size_t *n_out)
{
	inst_t **items = calloc(n ? n : 1, sizeof(*items));
	size_t count = 0;

	if (!items)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (sc && sc->n_include && !listed(sc->include, sc->n_include, m[i].instance))
			continue;
		if (sc && listed(sc->exclude, sc->n_exclude, m[i].instance))
			continue;
		inst_t *in = calloc(1, sizeof(*in));
		if (!in)
			goto oom;
		fleetcap__v1__instance_state__init(in);
		items[count++] = in;
		if (!(in->instance = strdup(m[i].instance)) ||
		    !(in->host_id = strdup(m[i].host_id)))
			goto oom;
	}
	*out = items;
	*n_out = count;
	return 0;
oom:
	ss_free_instances(items, count);
	return -1;
}

int ss_group_select(struct sched_state *st, const struct sched_key *k, const fc_spec_t *spec,
		    int64_t now, inst_t ***out, size_t *n_out, char *field, size_t field_len,
		    char *why, size_t why_len)
{
	const Fleetcap__V1__Scope *sc = spec->scope;
	struct sched_member *m = NULL;
	size_t n = 0;
	ssize_t missing = -1;

	*out = NULL;
	*n_out = 0;
	if (!st->policy.group_members) {
		snprintf(field, field_len, "target_type");
		snprintf(why, why_len,
			 "group captures need the workers table, which this "
			 "scheduler does not have");
		return ERROR_CODE(TARGET_NOT_FOUND);
	}
	/* A worker that registered a moment ago is looked for before refusing. */
	for (int refresh = 0; refresh < 2; refresh++) {
		free(m);
		if (!(m = members(st, k, spec, refresh, now, &n)))
			return -1;
		missing = first_missing(sc, m, n);
		if (n > 0 && missing < 0)
			break;
	}
	int code = ERROR_CODE(TARGET_NOT_FOUND);
	if (n == 0) {
		snprintf(field, field_len, "target");
		snprintf(why, why_len, "group \"%s\" has no live worker in %s", spec->target,
			 k->key);
		goto refuse;
	}
	if (missing >= 0) {
		snprintf(field, field_len, "scope.include[%zd]", missing);
		snprintf(why, why_len, "instance \"%s\" is not a live worker of group \"%s\" in %s",
			 sc->include[missing], spec->target, k->key);
		goto refuse;
	}
	if (build_selection(m, n, sc, out, n_out) != 0) {
		free(m);
		return -1;
	}
	free(m);
	if (*n_out == 0) {
		snprintf(field, field_len, "scope.exclude");
		snprintf(why, why_len, "every live instance of group \"%s\" (%zu) is excluded",
			 spec->target, n);
		code = ERROR_CODE(TARGET_NOT_FOUND);
		goto drop;
	}
	code = ERROR_CODE(INVALID_REQUEST);
	if (*n_out > FC_GROUP_INSTANCES_MAX) {
		snprintf(field, field_len, "scope");
		snprintf(why, why_len,
			 "%zu live instances of group \"%s\" are selected: at most %d per "
			 "capture; narrow the scope with include or exclude",
			 *n_out, spec->target, FC_GROUP_INSTANCES_MAX);
		goto drop;
	}
	/* Each instance's paths must still fit once they carry its id. */
	for (size_t i = 0; i < *n_out; i++) {
		const char *id = (*out)[i]->instance;
		if (!fits(spec->file_path, id, FC_PATH_MAX)) {
			snprintf(field, field_len, "file_path");
			snprintf(why, why_len, "longer than %d characters with instance \"%s\"",
				 FC_PATH_MAX, id);
			goto drop;
		}
		if (!fits(spec->blob_url, id, FC_BLOB_URL_MAX)) {
			snprintf(field, field_len, "blob_url");
			snprintf(why, why_len, "longer than %d characters with instance \"%s\"",
				 FC_BLOB_URL_MAX, id);
			goto drop;
		}
	}
	return 0;
drop:
	ss_free_instances(*out, *n_out);
	*out = NULL;
	*n_out = 0;
	return code;
refuse:
	free(m);
	return code;
}

int ss_check_target(struct sched_state *st, const struct sched_key *k, const fc_spec_t *spec,
		    int64_t now, inst_t ***out, size_t *n_out, char *field, size_t field_len,
		    char *why, size_t why_len)
{
	int code;

	if (spec->target_type == FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP) {
		code = ss_group_select(st, k, spec, now, out, n_out, field, field_len, why,
				       why_len);
		/* Every selected worker must be able to receive the SAS token. */
		for (size_t i = 0; code == 0 && i < *n_out; i++)
			if (ss_secret_check(st, spec, (*out)[i]->host_id, why, why_len) != 0) {
				ss_free_instances(*out, *n_out);
				*out = NULL;
				*n_out = 0;
				snprintf(field, field_len, "blob_sas");
				code = ERROR_CODE(INVALID_REQUEST);
			}
		return code;
	}
	*out = NULL;
	*n_out = 0;
	snprintf(field, field_len, "target");
	if (st->policy.target_check(st->policy.target_opaque, spec->target, k->ls->subscription,
				    k->ls->region, now, why, why_len) != 0)
		return ERROR_CODE(TARGET_NOT_FOUND);
	if (ss_secret_check(st, spec, spec->target, why, why_len) != 0) {
		snprintf(field, field_len, "blob_sas");
		return ERROR_CODE(INVALID_REQUEST);
	}
	return 0;
}

/* ----------------------------------------------------------------- jobs */

/* The spec an instance's worker runs: one host, the instance's own paths. */
static fc_spec_t *instance_spec(const fc_spec_t *spec, const inst_t *in)
{
	fc_spec_t *c = ss_dup_message(&spec->base);
	char *host = strdup(in->host_id), *path = NULL, *url = NULL;

	if (!c || !host ||
	    (*spec->file_path &&
	     !(path = with_instance(spec->file_path, in->instance, FC_PATH_MAX))) ||
	    (*spec->blob_url &&
	     !(url = with_instance(spec->blob_url, in->instance, FC_BLOB_URL_MAX)))) {
		free(host);
		free(path);
		fc_spec_free(c);
		return NULL;
	}
	free(c->target);
	c->target = host;
	c->target_type = FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_HOST;
	if (c->scope)
		protobuf_c_message_free_unpacked(&c->scope->base, NULL);
	c->scope = NULL;
	if (path) {
		free(c->file_path);
		c->file_path = path;
	}
	if (url) {
		free(c->blob_url);
		c->blob_url = url;
	}
	return c;
}

/* k: the capture's key, needed for a START only. */
static void emit_instance_job(struct sched_state *st, const struct sched_key *k, const entry_t *e,
			      const inst_t *in, int kind, int stop_reason, int64_t now)
{
	Fleetcap__V1__Job job = FLEETCAP__V1__JOB__INIT;
	fc_spec_t *spec = NULL;

	job.kind = kind;
	job.session_id = in->session_id;
	job.target = in->host_id;
	job.time_ms = now;
	job.stop_reason = stop_reason;
	if (kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START) {
		if (!(spec = instance_spec(e->spec, in))) {
			ss_lose(st, "out of memory starting %s", in->session_id);
			return;
		}
		/* The worker needs the SAS, sealed for it; if that fails, the job
		 * keeps what the worker cannot open, and its session fails saying so. */
		ss_secret_for_job(st, k, spec, in->host_id, in->session_id);
		job.spec = spec;
	}
	ss_emit_message(st, FC_TOPIC_JOBS, -1, in->host_id, &job.base);
	fc_spec_free(spec);
}

void ss_group_start(struct sched_state *st, const struct sched_key *k, entry_t *e, int64_t now)
{
	for (size_t i = 0; i < e->n_instances; i++) {
		inst_t *in = e->instances[i];
		size_t len = strlen(e->session_id) + strlen(in->instance) + 2;
		if (in->session_id != protobuf_c_empty_string)
			free(in->session_id);
		if (!(in->session_id = malloc(len))) {
			in->session_id = (char *)protobuf_c_empty_string;
			ss_lose(st, "out of memory starting %s", e->session_id);
			return;
		}
		snprintf(in->session_id, len, "%s/%s", e->session_id, in->instance);
		in->state = CAPTURE_STATE(RUNNING);
		emit_instance_job(st, k, e, in, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, 0, now);
	}
}

void ss_group_stop(struct sched_state *st, const entry_t *e, int stop_reason, int64_t now)
{
	for (size_t i = 0; i < e->n_instances; i++)
		if (!is_final(e->instances[i]))
			emit_instance_job(st, NULL, e, e->instances[i],
					  FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP, stop_reason, now);
}

/* --------------------------------------------------------------- status */

inst_t *ss_group_instance(const entry_t *e, const char *session_id)
{
	for (size_t i = 0; i < e->n_instances; i++)
		if (strcmp(e->instances[i]->session_id, session_id) == 0)
			return e->instances[i];
	return NULL;
}

/* The capture's counters and start time from its instances'. */
static void sum_instances(struct sched_state *st, entry_t *e)
{
	Fleetcap__V1__Counters *c = e->counters;

	if (!c) {
		if (!(c = malloc(sizeof(*c)))) {
			ss_lose(st, "out of memory counting %s", e->session_id);
			return;
		}
		e->counters = c;
	}
	fleetcap__v1__counters__init(c);
	e->capture_start_time_ms = 0;
	for (size_t i = 0; i < e->n_instances; i++) {
		const inst_t *in = e->instances[i];
		if (in->counters) {
			c->packets += in->counters->packets;
			c->bytes += in->counters->bytes;
			c->kernel_drops += in->counters->kernel_drops;
			c->interface_drops += in->counters->interface_drops;
		}
		if (in->capture_start_time_ms &&
		    (!e->capture_start_time_ms ||
		     in->capture_start_time_ms < e->capture_start_time_ms))
			e->capture_start_time_ms = in->capture_start_time_ms;
	}
}

static int all_final(const entry_t *e)
{
	for (size_t i = 0; i < e->n_instances; i++)
		if (!is_final(e->instances[i]))
			return 0;
	return 1;
}

/*
 * Ends the capture at active[i] once its last instance ended (last). Its
 * files are every instance's; it is Error when any instance ended in error
 * (the first such instance, in instance order, gives the code and message),
 * else Stopped for the reason the last instance stopped.
 */
static void finish_group(struct sched_state *st, struct sched_key *k, size_t i, const inst_t *last,
			 int64_t now)
{
	ledger_t *ls = k->ls;
	entry_t *e = ls->active[i];
	struct answer a = {.state = CAPTURE_STATE(STOPPED),
			   .stop_reason = last->stop_reason,
			   .request_id = e->request_id};
	char message[640];
	size_t n_files = 0;

	for (size_t j = 0; j < e->n_instances; j++)
		n_files += e->instances[j]->n_files;
	if (n_files && !(a.files = malloc(n_files * sizeof(*a.files)))) {
		ss_lose(st, "out of memory ending %s", e->session_id);
		return;
	}
	for (size_t j = 0; j < e->n_instances; j++) {
		const inst_t *in = e->instances[j];
		if (in->n_files) {
			memcpy(a.files + a.n_files, in->files, in->n_files * sizeof(*a.files));
			a.n_files += in->n_files;
		}
		if (in->state == CAPTURE_STATE(ERROR) && a.state != CAPTURE_STATE(ERROR)) {
			a.state = CAPTURE_STATE(ERROR);
			a.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
			a.error = in->error ? (int)in->error : ERROR_CODE(INTERNAL_ERROR);
			snprintf(message, sizeof(message), "instance %s: %s", in->instance,
				 in->error_message);
			a.message = message;
		}
	}
	ss_take(&ls->active, &ls->n_active, i);
	ss_finish_entry(st, k, e, &a, 1, now);
	free(a.files);
	ss_admit_queued(st, k, now);
}

/* One instance ends: its state, reason, error and message. */
static void end_instance(inst_t *in, int state, int stop_reason, int error, const char *message)
{
	char *copy = strdup(message ? message : "");

	in->state = state;
	in->stop_reason = stop_reason;
	in->error = error;
	if (copy) {
		if (in->error_message != protobuf_c_empty_string)
			free(in->error_message);
		in->error_message = copy;
	}
}

static void emit_running(struct sched_state *st, const struct sched_key *k, const entry_t *e,
			 int64_t now)
{
	struct answer a = {.state = CAPTURE_STATE(RUNNING), .request_id = e->request_id};

	if (!e->deleted)
		ss_emit_status(st, k, e, e->spec, &a, now);
}

void ss_group_report(struct sched_state *st, struct sched_key *k, size_t i,
		     Fleetcap__V1__CaptureReport *r, int64_t now)
{
	entry_t *e = k->ls->active[i];
	inst_t *in = ss_group_instance(e, r->session_id);
	int final = r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED ||
		    r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;

	if (!in || is_final(in)) {
		FC_DEBUG("sched", "report for session %s, which has ended: ignored", r->session_id);
		return;
	}
	if (!final && r->kind != FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED &&
	    r->kind != FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS) {
		FC_WARN("sched", "report for session %s has unknown kind %d: ignored",
			r->session_id, r->kind);
		return;
	}
	if (!final && r->seq && r->seq <= in->report_seq)
		return; /* stale progress */
	if (!final)
		in->report_seq = r->seq;
	if (r->counters) {
		fleetcap__v1__counters__free_unpacked(in->counters, NULL);
		in->counters = r->counters; /* now owned by the instance */
		r->counters = NULL;
	}
	if (r->capture_start_time_ms)
		in->capture_start_time_ms = r->capture_start_time_ms;
	sum_instances(st, e);
	if (!final) {
		ss_extend_lease(st, e, r->kind, now);
		emit_running(st, k, e, now);
		return;
	}
	if (r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED)
		end_instance(in, CAPTURE_STATE(ERROR), FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
			     r->error ? (int)r->error : ERROR_CODE(INTERNAL_ERROR),
			     r->error_message);
	else
		end_instance(in, CAPTURE_STATE(STOPPED), r->stop_reason, 0, "");
	in->files = r->files; /* now owned by the instance */
	in->n_files = r->n_files;
	r->files = NULL;
	r->n_files = 0;
	if (all_final(e))
		finish_group(st, k, i, in, now);
	else
		emit_running(st, k, e, now);
}

/* ----------------------------------------------------------------- time */

int ss_group_due(const struct sched_state *st, const entry_t *e, int64_t now)
{
	for (size_t i = 0; i < e->n_instances; i++)
		if (!is_final(e->instances[i]) && !ss_host_alive(st, e->instances[i]->host_id, now))
			return 1;
	return 0;
}

int ss_group_tick(struct sched_state *st, struct sched_key *k, size_t i, int64_t now)
{
	entry_t *e = k->ls->active[i];
	int lease_out = e->lease_deadline_ms && e->lease_deadline_ms <= now;
	const inst_t *last = NULL;
	char why[320];

	for (size_t j = 0; j < e->n_instances; j++) {
		inst_t *in = e->instances[j];
		int alive;
		if (is_final(in) || ((alive = ss_host_alive(st, in->host_id, now)) && !lease_out))
			continue;
		snprintf(why, sizeof(why),
			 alive ? "no final report from worker %.64s in time"
			       : "worker %.64s stopped sending heartbeats",
			 in->host_id);
		FC_WARN("sched", "%s/%s: instance %s: %s: Error/AgentStopped", k->key,
			e->spec->name, in->instance, why);
		if (!e->stopping) /* in case the worker lives and is only silent */
			emit_instance_job(st, k, e, in, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP,
					  FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR, now);
		end_instance(in, CAPTURE_STATE(ERROR), FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
			     ERROR_CODE(AGENT_STOPPED), why);
		last = in;
	}
	if (!last)
		return 0;
	if (!all_final(e)) {
		emit_running(st, k, e, now);
		return 0;
	}
	finish_group(st, k, i, last, now);
	/* Out of memory leaves it in place (and the batch to be aborted). */
	return i >= k->ls->n_active || k->ls->active[i] != e;
}
