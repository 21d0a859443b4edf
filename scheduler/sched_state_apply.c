/*
 * sched_state_apply: the inputs (commands, capture reports) applied to their
 * quota key: sched_state_apply() decodes a record and dispatches it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fc_log.h"
#include "fc_spec.h"
#include "sched_alerts.h"
#include "sched_state_int.h"

/* --------------------------------------------------------- stop, delete */

static void stop_active(struct sched_state *st, entry_t *e, int reason, int64_t now)
{
	if (e->stopping)
		return;
	e->stopping = 1;
	if (e->lease_deadline_ms > now + st->policy.lease_grace_ms)
		e->lease_deadline_ms = now + st->policy.lease_grace_ms;
	if (e->n_instances)
		ss_group_stop(st, e, reason, now);
	else
		ss_emit_job(st, NULL, e, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP, reason, now);
}

static void stop_or_delete(struct sched_state *st, struct sched_key *k, const char *name,
			   const char *request_id, int del, int64_t now)
{
	ledger_t *ls = k->ls;
	int reason = del ? FLEETCAP__V1__STOP_REASON__STOP_REASON_DELETED
			 : FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER;
	struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED,
			   .stop_reason = reason,
			   .request_id = request_id,
			   .deleted = del};
	ssize_t i;

	if ((i = ss_find_named(ls->active, ls->n_active, name)) >= 0) {
		entry_t *e = ls->active[i];
		ss_mutate(k);
		stop_active(st, e, reason, now);
		if (del) {
			ss_emit_status(st, k, e, e->spec, &a, now);
			ss_emit_status_tombstone(st, k, name);
			e->deleted = 1; /* keeps its slot until the worker's final report */
		}
		return;
	}
	if ((i = ss_find_named(ls->queued, ls->n_queued, name)) >= 0) {
		ss_mutate(k);
		entry_t *e = ss_take(&ls->queued, &ls->n_queued, (size_t)i);
		ss_finish_entry(st, k, e, &a, !del, now);
		if (del)
			ss_emit_status_tombstone(st, k, name);
		return;
	}
	if (!del)
		return; /* stopping a finished or unknown capture changes nothing */
	if ((i = ss_find_finished(ls, name)) >= 0) {
		ss_mutate(k);
		finished_t *f = ss_take(&ls->finished, &ls->n_finished, (size_t)i);
		protobuf_c_message_free_unpacked(&f->base, NULL);
	}
	/* Also clears the status of a rejected create, which has no ledger entry. */
	ss_emit_status_tombstone(st, k, name);
}

/* -------------------------------------------------------------- reports */

/* A started or progress report moves the entry's lease. */
void ss_extend_lease(struct sched_state *st, entry_t *e, int report_kind, int64_t now)
{
	if (report_kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED && !e->stopping)
		e->lease_deadline_ms = now + ss_time_limit_ms(e->spec) + st->policy.lease_grace_ms;
	/* Progress after the time limit or a stop (an upload that takes
	 * long) keeps the lease alive: the worker is still at it. */
	if (report_kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS &&
	    e->lease_deadline_ms && e->lease_deadline_ms < now + st->policy.lease_grace_ms)
		e->lease_deadline_ms = now + st->policy.lease_grace_ms;
}

static void apply_report(struct sched_state *st, struct sched_key *k,
			 Fleetcap__V1__CaptureReport *r, int64_t now)
{
	ledger_t *ls = k->ls;
	ssize_t i = ss_find_session(ls, r->session_id);
	entry_t *e;

	if (i < 0) {
		FC_DEBUG("sched", "report for session %s, which is not active: ignored",
			 r->session_id);
		return;
	}
	e = ls->active[i];
	ss_mutate(k);
	if (e->n_instances) {
		ss_group_report(st, k, (size_t)i, r, now);
		return;
	}
	if (r->counters) {
		fleetcap__v1__counters__free_unpacked(e->counters, NULL);
		e->counters = r->counters; /* now owned by the entry */
		r->counters = NULL;
	}
	switch (r->kind) {
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED:
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS: {
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING,
				   .request_id = e->request_id};
		if (r->seq && r->seq <= e->report_seq)
			return; /* stale progress */
		e->report_seq = r->seq;
		if (r->capture_start_time_ms)
			e->capture_start_time_ms = r->capture_start_time_ms;
		ss_extend_lease(st, e, r->kind, now);
		if (!e->deleted)
			ss_emit_status(st, k, e, e->spec, &a, now);
		return;
	}
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED:
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED: {
		int failed = r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
		struct answer a = {
			.state = failed ? FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR
					: FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED,
			.stop_reason = failed ? FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR
					      : (int)r->stop_reason,
			.error =
				failed ? (r->error
						  ? (int)r->error
						  : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR)
				       : 0,
			.message = r->error_message,
			.request_id = e->request_id,
			.files = r->files,
			.n_files = r->n_files};
		if (r->capture_start_time_ms)
			e->capture_start_time_ms = r->capture_start_time_ms;
		ss_take(&ls->active, &ls->n_active, (size_t)i);
		ss_finish_entry(st, k, e, &a, 1, now);
		ss_admit_queued(st, k, now);
		return;
	}
	default:
		FC_WARN("sched", "report for session %s has unknown kind %d: ignored",
			r->session_id, r->kind);
	}
}

/* ---------------------------------------------------------------- input */

static int valid_key(const char *sub, const char *region)
{
	return fc_valid_tenant(sub) && fc_valid_tenant(region);
}

static void apply_command(struct sched_state *st, int32_t partition, const char *msg_key,
			  Fleetcap__V1__Command *cmd, int64_t now)
{
	const char *sub = cmd->subscription, *region = cmd->region, *name = cmd->name;
	Fleetcap__V1__CaptureSpec *spec = cmd->spec;
	char key[KEY_MAX + 1];
	struct sched_key *k;

	if (cmd->kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE && !spec) {
		FC_WARN("sched", "create %.64s without a spec: ignored", cmd->request_id);
		return;
	}
	if (cmd->kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE) {
		sub = spec->subscription;
		region = spec->region;
		name = spec->name;
	}
	if (!valid_key(sub, region) || !fc_valid_name(name)) {
		FC_WARN("sched",
			"command %.64s without a valid subscription, region and name: "
			"ignored",
			cmd->request_id);
		return;
	}
	snprintf(key, sizeof(key), "%s/%s", sub, region);
	if (!(k = ss_touch_key(st, partition, key))) {
		ss_lose(st, "out of memory for key %s", key);
		return;
	}
	if (strcmp(key, msg_key) != 0) {
		char why[KEY_MAX * 2 + 96];
		snprintf(why, sizeof(why),
			 "the command's Kafka key \"%.130s\" is not its subscription/region "
			 "\"%s\"",
			 msg_key, key);
		if (cmd->kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE)
			ss_reject(st, k, spec, cmd->request_id,
				  FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST,
				  "subscription", why, now);
		else
			FC_WARN("sched", "%s: ignored", why);
		return;
	}
	switch (cmd->kind) {
	case FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE: {
		struct fc_field_errors errs;
		fc_field_errors_init(&errs);
		/* Only the scheduler seals: a create brings the token as given. */
		if (spec->blob_sas_sealed)
			fc_field_errors_add(&errs, "blob_sas_sealed",
					    "set by the scheduler only: give blob_sas");
		if (fc_spec_validate(spec, FC_SPEC_FLEET, &errs) != 0 || errs.count) {
			ss_reject(st, k, spec, cmd->request_id,
				  FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST,
				  errs.items[0].field, errs.items[0].message, now);
			return;
		}
		cmd->spec = NULL; /* now owned by ss_create() */
		ss_create(st, k, spec, cmd->request_id, now);
		return;
	}
	case FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP:
		stop_or_delete(st, k, name, cmd->request_id, 0, now);
		return;
	case FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_DELETE:
		stop_or_delete(st, k, name, cmd->request_id, 1, now);
		return;
	default:
		FC_WARN("sched", "command %.64s has unknown kind %d: ignored", cmd->request_id,
			cmd->kind);
	}
}

size_t sched_state_apply(struct sched_state *st, enum fc_topic topic, int32_t partition,
			 const char *key, size_t key_len, const void *value, size_t len,
			 int64_t now_ms)
{
	char msg_key[KEY_MAX + 1];
	size_t before = st->emitted;

	snprintf(msg_key, sizeof(msg_key), "%.*s", (int)(key_len < KEY_MAX ? key_len : KEY_MAX),
		 key ? key : "");
	switch (topic) {
	case FC_TOPIC_COMMANDS: {
		Fleetcap__V1__Command *cmd = fleetcap__v1__command__unpack(NULL, len, value);
		if (!cmd) {
			FC_WARN("sched", "a commands record (key %.130s) does not parse: skipped",
				msg_key);
			break;
		}
		apply_command(st, partition, msg_key, cmd, now_ms);
		fleetcap__v1__command__free_unpacked(cmd, NULL);
		break;
	}
	case FC_TOPIC_ALERTS: {
		Fleetcap__V1__AlertEvent *ev = fleetcap__v1__alert_event__unpack(NULL, len, value);
		char k[KEY_MAX + 1];
		struct sched_key *sk;
		if (!ev || !valid_key(ev->subscription, ev->region) ||
		    !fc_valid_target(ev->target) || !*ev->alert_id ||
		    strlen(ev->alert_id) > FC_ALERT_ID_MAX) {
			FC_WARN("sched", "an alerts record (key %.130s) is malformed: skipped",
				msg_key);
		} else {
			snprintf(k, sizeof(k), "%s/%s", ev->subscription, ev->region);
			if (strcmp(k, msg_key) != 0)
				FC_WARN("sched", "alert %.128s: key %s is not %s: skipped",
					ev->alert_id, msg_key, k);
			else if ((sk = ss_touch_key(st, partition, k)))
				ss_apply_alert(st, sk, ev, now_ms);
		}
		if (ev)
			fleetcap__v1__alert_event__free_unpacked(ev, NULL);
		break;
	}
	case FC_TOPIC_RESULTS: {
		Fleetcap__V1__CaptureReport *r =
			fleetcap__v1__capture_report__unpack(NULL, len, value);
		char k[KEY_MAX + 1];
		struct sched_key *sk;
		if (!r || !valid_key(r->subscription, r->region)) {
			FC_WARN("sched", "a results record (key %.130s) is malformed: skipped",
				msg_key);
		} else {
			snprintf(k, sizeof(k), "%s/%s", r->subscription, r->region);
			/* Reports only ever touch keys with state. */
			if (ss_find_key(st, k) && (sk = ss_touch_key(st, partition, k)))
				apply_report(st, sk, r, now_ms);
		}
		if (r)
			fleetcap__v1__capture_report__free_unpacked(r, NULL);
		break;
	}
	default:
		break;
	}
	return st->emitted - before;
}
