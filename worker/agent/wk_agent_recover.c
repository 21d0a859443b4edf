/*
 * wk_agent_recover: after a restart, what the journal says was left undone:
 * final reports Kafka never acknowledged are sent again, interrupted uploads
 * finished, other interrupted sessions reported Stopped/AgentRestarted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_names.h"
#include "fc_spec.h"
#include "sink_azblob.h"
#include "sink_disk.h"
#include "wk_journal.h"
#include "wk_metrics.h"
#include "wk_uploader.h"
#include "wk_session.h"
#include "wk_agent_int.h"

static struct wk_job *resumed_job(struct wk_agent *a, const struct wk_journal_entry *e,
				  const uint8_t *agent_report, size_t report_len, int with_spec)
{
	struct wk_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->agent = a;
	snprintf(job->session_id, sizeof(job->session_id), "%s", e->session_id);
	job->start_ms = e->start_ms;
	job->seq = UINT64_MAX / 4; /* its progress is newer than the first run's */
	job->resume = fleetcap__v1__capture_report__unpack(NULL, report_len, agent_report);
	struct fc_err err;
	if (with_spec &&
	    (job->spec = fleetcap__v1__capture_spec__unpack(NULL, e->spec_len, e->spec)) &&
	    agent_open_secret(a, e->session_id, job->spec, &err) != 0) {
		FC_ERROR("worker", "session %s: its SAS token does not open: %s", e->session_id,
			 err.msg);
		agent_free_job(job);
		return NULL;
	}
	if (!job->resume || (with_spec && !job->spec) || !job->resume->session_id ||
	    !job->resume->subscription || !job->resume->region ||
	    strcmp(job->resume->session_id, e->session_id) != 0) {
		agent_free_job(job);
		return NULL;
	}
	return job;
}

/* Starts the upload a restart interrupted (see run_resume). 0, or -1 when
 * the journal's record does not parse or no thread starts. */
static int resume_upload(struct wk_agent *a, const struct wk_journal_entry *e)
{
	struct wk_job *job = resumed_job(a, e, e->report, e->report_len, 1);

	if (!job || agent_launch(a, job, agent_run_resume) != 0) {
		agent_free_job(job);
		return -1;
	}
	return 0;
}

/* After a restart: sends again the final report Kafka never acknowledged. */
static void *run_resend(void *opaque)
{
	struct wk_job *job = opaque;

	FC_INFO("worker", "session %s: sending again the final report a restart interrupted",
		job->session_id);
	agent_finish_session(job, job->resume, 1);
	atomic_store(&job->finished, 1);
	return NULL;
}

/* Starts run_resend for e. 0, or -1 when the report does not parse or no
 * thread starts. */
static int resend_report(struct wk_agent *a, const struct wk_journal_entry *e)
{
	struct wk_job *job = resumed_job(a, e, e->unsent, e->unsent_len, 0);

	if (!job || agent_launch(a, job, run_resend) != 0) {
		agent_free_job(job);
		return -1;
	}
	return 0;
}

/*
 * Sessions the journal saw start and never end: a final report not yet
 * acknowledged is sent again; an upload under way is
 * finished; any other session was cut short: Stopped/AgentRestarted.
 */
void agent_report_interrupted(struct wk_agent *a)
{
	const struct wk_journal_entry *e;
	size_t n = a->journal ? wk_journal_interrupted(a->journal, &e) : 0;
	struct delivery *sent = calloc(n + 1, sizeof(*sent));
	unsigned char *queued = calloc(n + 1, 1); /* a report is on its way here */
	char key[FC_TENANT_MAX * 2 + 2], why[1400], part[1100];
	struct fc_err err;

	for (size_t i = 0; i < n; i++) {
		if (e[i].unsent && resend_report(a, &e[i]) == 0)
			continue;
		if (e[i].report && resume_upload(a, &e[i]) == 0)
			continue;
		if (!sent || !queued)
			continue; /* out of memory: the next start reports it */
		Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
		snprintf(part, sizeof(part), "%s.part", e[i].path);
		snprintf(why, sizeof(why), "the worker restarted during the capture%s%s%s",
			 access(part, F_OK) == 0 ? "; the partial file " : "",
			 access(part, F_OK) == 0 ? part : "",
			 access(part, F_OK) == 0 ? " is kept" : "");
		r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED;
		r.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_AGENT_RESTARTED;
		r.session_id = e[i].session_id;
		r.subscription = e[i].subscription;
		r.region = e[i].region;
		r.name = e[i].name;
		r.host_id = a->config->host_id;
		r.time_ms = fc_wall_ms();
		r.capture_start_time_ms = e[i].start_ms;
		r.error_message = why;
		r.seq = UINT64_MAX / 2; /* above any report of the interrupted run */
		snprintf(key, sizeof(key), "%s/%s", e[i].subscription, e[i].region);
		queued[i] = agent_produce_tracked(a, FC_TOPIC_RESULTS, key, &r.base, &sent[i]) == 0;
		FC_WARN("worker", "session %s was interrupted by a restart: Stopped/AgentRestarted",
			e[i].session_id);
	}
	/* Every queued report gets its delivery report within message.timeout.ms;
	 * sent[] must outlive them all. */
	for (size_t i = 0; queued && i < n; i++)
		while (queued[i] && atomic_load(&sent[i].state) == DELIVERY_PENDING)
			rd_kafka_poll(a->producer, 100);
	/* Final only once Kafka has the report; else the next start sends it. */
	for (size_t i = 0; queued && i < n; i++) {
		if (!queued[i])
			continue;
		if (atomic_load(&sent[i].state) != DELIVERY_DONE)
			FC_ERROR("worker",
				 "session %s: its report is not in Kafka (%s); the next "
				 "start sends it",
				 e[i].session_id, rd_kafka_err2str(sent[i].err));
		else if (wk_journal_finished(a->journal, e[i].session_id, &err) != 0)
			FC_ERROR("worker", "%s", err.msg);
	}
	free(sent);
	free(queued);
}
