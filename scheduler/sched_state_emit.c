/*
 * sched_state_emit: the records the state machine sends out (status, jobs),
 * through the policy's emit callback. Records are packed from messages built
 * on the stack that borrow the entry's parts, so nothing is copied but the
 * final status kept for repeated creates.
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

/* ------------------------------------------------------------ messages */

/* Logs why the batch lost part of a decision and marks it to be aborted. */
void ss_lose(struct sched_state *st, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	FC_ERROR("sched", "%s: the batch will be aborted and its inputs read again", why);
	st->lost = 1;
}

void *ss_dup_message(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	void *copy;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(msg, buf);
	copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}

void ss_emit_message(struct sched_state *st, enum fc_topic topic, int32_t partition,
		     const char *key, const ProtobufCMessage *msg)
{
	size_t len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	uint8_t stack[4096], *buf = stack;

	if (msg && len > sizeof(stack) && !(buf = malloc(len))) {
		ss_lose(st, "out of memory packing a %s record", fc_topic_suffix(topic));
		return;
	}
	if (msg)
		protobuf_c_message_pack(msg, buf);
	st->policy.emit(st->policy.emit_opaque, topic, partition, key, msg ? buf : NULL, len);
	st->emitted++;
	if (buf != stack)
		free(buf);
}

static void status_key(const struct sched_key *k, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", k->key, name);
}

/* Fills status from the entry (borrowing its parts) and the answer. */
void ss_build_status(status_t *s, const struct sched_key *k, const entry_t *e,
		     const Fleetcap__V1__CaptureSpec *spec, const struct answer *a, int64_t now)
{
	fleetcap__v1__capture_status__init(s);
	s->subscription = k->ls->subscription;
	s->region = k->ls->region;
	s->name = spec->name;
	s->target = spec->target;
	s->state = a->state;
	s->stop_reason = a->stop_reason;
	s->error = a->error;
	s->error_message = (char *)(a->message ? a->message : "");
	s->error_field = (char *)(a->field ? a->field : "");
	s->origin = spec->origin;
	s->spec = (Fleetcap__V1__CaptureSpec *)spec;
	s->request_id = (char *)(a->request_id ? a->request_id : "");
	s->updated_time_ms = now;
	s->deleted = a->deleted;
	s->rejected_error = a->rejected_error;
	s->rejected_message = (char *)(a->rejected_message ? a->rejected_message : "");
	s->n_files = a->n_files;
	s->files = a->files;
	if (e) {
		s->session_id = e->session_id;
		s->capture_start_time_ms = e->capture_start_time_ms;
		s->counters = e->counters;
		s->n_instances = e->n_instances;
		s->instances = e->instances;
	}
	if (a->counters)
		s->counters = a->counters;
}

/* Emits the status; the spec's secret (clear or sealed) is blanked while packing. */
void ss_emit_status(struct sched_state *st, const struct sched_key *k, const entry_t *e,
		    Fleetcap__V1__CaptureSpec *spec, const struct answer *a, int64_t now)
{
	char key[STATUS_KEY];
	char *sas = spec->blob_sas;
	Fleetcap__V1__SealedSecret *sealed = spec->blob_sas_sealed;
	status_t s;

	ss_build_status(&s, k, e, spec, a, now);
	status_key(k, spec->name, key, sizeof(key));
	spec->blob_sas = (char *)"";
	spec->blob_sas_sealed = NULL;
	ss_emit_message(st, FC_TOPIC_STATUS, -1, key, &s.base);
	spec->blob_sas = sas;
	spec->blob_sas_sealed = sealed;
}

void ss_emit_status_tombstone(struct sched_state *st, const struct sched_key *k, const char *name)
{
	char key[STATUS_KEY];

	status_key(k, name, key, sizeof(key));
	ss_emit_message(st, FC_TOPIC_STATUS, -1, key, NULL);
}

/* Emits a previously kept status again, answering request_id. */
void ss_emit_kept_status(struct sched_state *st, const struct sched_key *k, status_t *kept,
			 const char *request_id, int rejected, const char *rejected_message,
			 int64_t now)
{
	char key[STATUS_KEY];
	char *saved_request = kept->request_id, *saved_message = kept->rejected_message;
	int saved_rejected = kept->rejected_error;
	int64_t saved_time = kept->updated_time_ms;

	kept->request_id = (char *)request_id;
	kept->rejected_error = rejected;
	kept->rejected_message = (char *)(rejected_message ? rejected_message : "");
	kept->updated_time_ms = now;
	status_key(k, kept->name, key, sizeof(key));
	ss_emit_message(st, FC_TOPIC_STATUS, -1, key, &kept->base);
	kept->request_id = saved_request;
	kept->rejected_error = saved_rejected;
	kept->rejected_message = saved_message;
	kept->updated_time_ms = saved_time;
}

/* ----------------------------------------------------------------- jobs */

void ss_emit_job(struct sched_state *st, const struct sched_key *k, const entry_t *e, int kind,
		 int stop_reason, int64_t now)
{
	Fleetcap__V1__Job job = FLEETCAP__V1__JOB__INIT;
	Fleetcap__V1__CaptureSpec *copy = NULL;

	job.kind = kind;
	job.session_id = e->session_id;
	job.target = e->spec->target;
	job.time_ms = now;
	job.stop_reason = stop_reason;
	if (kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START) {
		job.spec = e->spec;
		/* The worker needs the SAS, sealed for it (sched_state_secret.c). */
		if (e->spec->blob_sas_sealed) {
			if (!(copy = ss_dup_message(&e->spec->base))) {
				ss_lose(st, "out of memory starting %s", e->session_id);
				return;
			}
			ss_secret_for_job(st, k, copy, e->spec->target, e->session_id);
			job.spec = copy;
		}
	}
	ss_emit_message(st, FC_TOPIC_JOBS, -1, e->spec->target, &job.base);
	fc_spec_free(copy);
}
