/*
 * sched_state_admit: the admission rules: quota, the queue, the end of an
 * entry and what is remembered of it, and the create command.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fc_blob_url.h"
#include "fc_log.h"
#include "fc_spec.h"
#include "sched_alerts.h"
#include "sched_state_int.h"

/* ---------------------------------------------------------------- rules */

long long ss_quota_of(const struct sched_state *st, const struct sched_key *k)
{
	const char *v = fc_kv_get(st->policy.quota_overrides, k->ls->subscription);
	return v ? atoll(v) : st->policy.quota_default;
}

int64_t ss_time_limit_ms(const Fleetcap__V1__CaptureSpec *spec)
{
	int64_t s;

	if (spec->ring)
		s = spec->ring->session_time_limit_s ? spec->ring->session_time_limit_s
						     : FC_SESSION_TIME_LIMIT_DEFAULT;
	else
		s = spec->time_limit_s ? spec->time_limit_s : FC_TIME_LIMIT_DEFAULT;
	return s * 1000;
}

ssize_t ss_find_named(entry_t **entries, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!entries[i]->deleted && strcmp(entries[i]->spec->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

ssize_t ss_find_finished(const ledger_t *ls, const char *name)
{
	for (size_t i = 0; i < ls->n_finished; i++)
		if (strcmp(ls->finished[i]->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

ssize_t ss_find_session(const ledger_t *ls, const char *session_id)
{
	for (size_t i = 0; i < ls->n_active; i++)
		if (strcmp(ls->active[i]->session_id, session_id) == 0 ||
		    ss_group_instance(ls->active[i], session_id))
			return (ssize_t)i;
	return -1;
}

static int same_digest(const ProtobufCBinaryData *d, const uint8_t digest[FC_SPEC_DIGEST_LEN])
{
	return d->len == FC_SPEC_DIGEST_LEN && memcmp(d->data, digest, FC_SPEC_DIGEST_LEN) == 0;
}

/* Remembers a finished capture's name and final status; the oldest past
 * finished_max is forgotten (a create of that name is then new). */
static void remember_finished(struct sched_state *st, struct sched_key *k, const entry_t *e,
			      const status_t *final, int64_t now)
{
	finished_t *f = calloc(1, sizeof(*f));
	ledger_t *ls = k->ls;

	if (!f)
		goto oom;
	fleetcap__v1__ledger_tombstone__init(f);
	f->name = strdup(e->spec->name);
	f->spec_digest.data = malloc(FC_SPEC_DIGEST_LEN);
	f->status = ss_dup_message(&final->base);
	if (!f->name || !f->spec_digest.data || !f->status ||
	    ss_push(&ls->finished, &ls->n_finished, f))
		goto oom;
	f->spec_digest.len = FC_SPEC_DIGEST_LEN;
	memcpy(f->spec_digest.data, e->spec_digest.data, FC_SPEC_DIGEST_LEN);
	f->finished_time_ms = now;
	while (ls->n_finished > (size_t)st->policy.finished_max) {
		finished_t *old = ss_take(&ls->finished, &ls->n_finished, 0);
		protobuf_c_message_free_unpacked(&old->base, NULL);
	}
	return;
oom:
	if (f) {
		f->spec_digest.len = f->spec_digest.data ? FC_SPEC_DIGEST_LEN : 0;
		protobuf_c_message_free_unpacked(&f->base, NULL);
	}
	ss_lose(st, "out of memory keeping %s/%s for a repeated create", k->key, e->spec->name);
}

static void start_cooldown(struct sched_state *st, struct sched_key *k, const entry_t *e,
			   int64_t now)
{
	const Fleetcap__V1__Origin *o = e->spec->origin;
	const struct sched_alert_rule *rule;
	Fleetcap__V1__AlertCooldown *c;

	if (!o || o->kind != FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT)
		return;
	rule = sched_alert_rule_find(st->policy.rules, o->rule);
	if (!rule || rule->cooldown_ms <= 0)
		return;
	if (!(c = calloc(1, sizeof(*c))))
		return;
	fleetcap__v1__alert_cooldown__init(c);
	c->target = strdup(e->spec->target);
	c->rule = strdup(o->rule);
	c->until_ms = now + rule->cooldown_ms;
	if (!c->target || !c->rule || ss_push(&k->ls->cooldowns, &k->ls->n_cooldowns, c))
		protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* Starts an entry: a START job and Running. The entry is already in active. */
static void start_entry(struct sched_state *st, struct sched_key *k, entry_t *e, int64_t now)
{
	struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING,
			   .request_id = e->request_id};

	st->pending.admitted++;
	e->admitted_time_ms = now;
	/* Until the worker says it started, the lease is the grace period. */
	e->lease_deadline_ms = now + st->policy.lease_grace_ms;
	if (e->n_instances)
		ss_group_start(st, k, e, now);
	else
		ss_emit_job(st, k, e, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, 0, now);
	ss_emit_status(st, k, e, e->spec, &a, now);
}

/* Ends an entry that is no longer in any list: final status, memory. Takes e. */
void ss_finish_entry(struct sched_state *st, struct sched_key *k, entry_t *e,
		     const struct answer *a, int remember, int64_t now)
{
	status_t final;
	char *sas = e->spec->blob_sas;

	if (a->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR)
		ss_count(st->pending.failed, a->error);
	else
		ss_count(st->pending.ended, a->stop_reason);
	if (!e->deleted) {
		ss_emit_status(st, k, e, e->spec, a, now);
		if (remember) {
			Fleetcap__V1__SealedSecret *sealed = e->spec->blob_sas_sealed;
			ss_build_status(&final, k, e, e->spec, a, now);
			e->spec->blob_sas = (char *)"";
			e->spec->blob_sas_sealed = NULL;
			remember_finished(st, k, e, &final, now);
			e->spec->blob_sas = sas;
			e->spec->blob_sas_sealed = sealed;
		}
	}
	start_cooldown(st, k, e, now);
	ss_free_entry(e);
}

void ss_reject(struct sched_state *st, struct sched_key *k, Fleetcap__V1__CaptureSpec *spec,
	       const char *request_id, int error, const char *field, const char *message,
	       int64_t now)
{
	struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
			   .stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
			   .error = error,
			   .field = field,
			   .message = message,
			   .request_id = request_id};

	FC_INFO("sched", "%s/%s: %s", k->key, spec->name, message);
	ss_count(st->pending.rejected, error);
	ss_emit_status(st, k, NULL, spec, &a, now);
	/* A refused create leaves nothing behind: the answer above is read by
	 * whoever waits for request_id, and the tombstone right after (same
	 * transaction) takes the name out of every view and of the compacted
	 * topic. Not when the name has an older capture whose status the
	 * topic may still hold. */
	if (ss_find_finished(k->ls, spec->name) < 0)
		ss_emit_status_tombstone(st, k, spec->name);
}

/* Admits queued requests, oldest first, while the key is under quota. */
void ss_admit_queued(struct sched_state *st, struct sched_key *k, int64_t now)
{
	ledger_t *ls = k->ls;
	char why[320], field[40];

	while (ls->n_queued && (long long)ls->n_active < ss_quota_of(st, k)) {
		ss_mutate(k);
		entry_t *e = ss_take(&ls->queued, &ls->n_queued, 0);
		/* A group is resolved now, against the workers live now. */
		int code = ss_check_target(st, k, e->spec, now, &e->instances, &e->n_instances,
					   field, sizeof(field), why, sizeof(why));
		if (code < 0) {
			ss_lose(st, "out of memory admitting %s/%s", k->key, e->spec->name);
			ss_free_entry(e);
			continue;
		}
		if (code) {
			struct answer a = {
				.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
				.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
				.error = code,
				.message = why,
				.field = field,
				.request_id = e->request_id};
			ss_finish_entry(st, k, e, &a, 0, now);
			continue;
		}
		e->queue_deadline_ms = 0;
		if (ss_push(&ls->active, &ls->n_active, e) != 0) {
			ss_lose(st, "out of memory admitting %s/%s", k->key, e->spec->name);
			ss_free_entry(e);
			continue;
		}
		start_entry(st, k, e, now);
	}
}

/* --------------------------------------------------------------- create */

/* Takes spec. Applies a create to key k. */
void ss_create(struct sched_state *st, struct sched_key *k, Fleetcap__V1__CaptureSpec *spec,
	       const char *request_id, int64_t now)
{
	ledger_t *ls = k->ls;
	uint8_t digest[FC_SPEC_DIGEST_LEN];
	char why[320], field[40];
	ssize_t i;
	entry_t *e = NULL;
	inst_t **selected = NULL;
	size_t n_selected = 0;
	int code;

	/* The digest is computed only when needed: most creates at a full key
	 * are rejected without it. */
	/* The same name: a no-op when the spec is the same, else Conflict. */
	if (((i = ss_find_named(ls->active, ls->n_active, spec->name)) >= 0 ||
	     (i = ss_find_named(ls->queued, ls->n_queued, spec->name)) >= 0) &&
	    fc_spec_digest(spec, digest) == 0) {
		int queued = ss_find_named(ls->active, ls->n_active, spec->name) < 0;
		entry_t *have = queued ? ls->queued[i] : ls->active[i];
		int same = same_digest(&have->spec_digest, digest);
		struct answer a = {
			.state = queued ? FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED
					: FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING,
			.request_id = request_id,
			.rejected_error = same ? 0 : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT,
			.rejected_message =
				same ? NULL
				     : "a capture of this name exists with a different spec; "
				       "delete it first or choose another name"};
		if (same)
			st->pending.repeated++;
		else
			ss_count(st->pending.rejected,
				 FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT);
		ss_emit_status(st, k, have, have->spec, &a, now);
		goto done;
	}
	if ((i = ss_find_finished(ls, spec->name)) >= 0 && ls->finished[i]->status &&
	    fc_spec_digest(spec, digest) == 0) {
		int same = same_digest(&ls->finished[i]->spec_digest, digest);
		if (same)
			st->pending.repeated++;
		else
			ss_count(st->pending.rejected,
				 FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT);
		ss_emit_kept_status(
			st, k, ls->finished[i]->status, request_id,
			same ? 0 : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT,
			same ? NULL
			     : "a finished capture of this name exists with a different "
			       "spec; delete it first or choose another name",
			now);
		goto done;
	}
	/* Uploads go to allowed endpoints only: refused here, not at upload time. */
	struct fc_blob_url url;
	if (*spec->blob_url && fc_blob_url_parse(spec->blob_url, &url, why, sizeof(why)) == 0 &&
	    fc_blob_url_allowed(&url, st->policy.blob_endpoints, why, sizeof(why)) != 0) {
		ss_reject(st, k, spec, request_id,
			  FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST, "blob_url", why,
			  now);
		goto done;
	}
	code = ss_check_target(st, k, spec, now, &selected, &n_selected, field, sizeof(field), why,
			       sizeof(why));
	if (code < 0)
		goto oom;
	if (code) {
		ss_reject(st, k, spec, request_id, code, field, why, now);
		goto done;
	}
	long long quota = ss_quota_of(st, k);
	if ((long long)ls->n_active >= quota && spec->queue_timeout_s == 0) {
		snprintf(why, sizeof(why),
			 "%zu of %lld sessions of %s are active; retry later or set a queue "
			 "timeout",
			 ls->n_active, quota, k->key);
		ss_reject(st, k, spec, request_id,
			  FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED, NULL, why, now);
		goto done;
	}

	if (fc_spec_digest(spec, digest) != 0 || !(e = calloc(1, sizeof(*e))))
		goto oom;
	ss_mutate(k);
	fleetcap__v1__ledger_entry__init(e);
	char session[SESSION_MAX];
	snprintf(session, sizeof(session), "%s/%s#%" PRIu64, k->key, spec->name,
		 ++ls->session_counter);
	e->name = strdup(spec->name);
	e->session_id = strdup(session);
	e->request_id = strdup(request_id);
	e->spec_digest.data = malloc(FC_SPEC_DIGEST_LEN);
	if (!e->name || !e->session_id || !e->request_id || !e->spec_digest.data)
		goto oom;
	e->spec_digest.len = FC_SPEC_DIGEST_LEN;
	memcpy(e->spec_digest.data, digest, FC_SPEC_DIGEST_LEN);
	/* The ledger keeps the SAS token sealed for the schedulers' key. */
	if (ss_secret_keep(st, k, spec) != 0)
		goto oom;
	e->spec = spec; /* now owned by the entry */
	spec = NULL;
	e->enqueued_time_ms = now;
	if ((long long)ls->n_active < quota) {
		if (ss_push(&ls->active, &ls->n_active, e) != 0)
			goto oom;
		e->instances = selected;
		e->n_instances = n_selected;
		selected = NULL;
		n_selected = 0;
		start_entry(st, k, e, now);
	} else {
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED,
				   .request_id = e->request_id};
		e->queue_deadline_ms = now + (int64_t)e->spec->queue_timeout_s * 1000;
		if (ss_push(&ls->queued, &ls->n_queued, e) != 0)
			goto oom;
		st->pending.queued++;
		ss_emit_status(st, k, e, e->spec, &a, now);
	}
	/* A queued group capture is resolved again when it is admitted. */
	ss_free_instances(selected, n_selected);
	return;
oom:
	ss_lose(st, "out of memory admitting %s/%s", k->key, spec ? spec->name : "?");
	if (e && !e->spec_digest.data)
		e->spec_digest.len = 0;
	ss_free_entry(e);
done:
	ss_free_instances(selected, n_selected);
	fc_spec_free(spec);
}
