/*
 * wk_agent_job: one job's life: its capture session on a thread of its own,
 * progress, the uploads of its files, and its final report.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "fc_blob_url.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_names.h"
#include "fc_seal.h"
#include "fc_spec.h"
#include "sink_azblob.h"
#include "sink_disk.h"
#include "wk_journal.h"
#include "wk_metrics.h"
#include "wk_uploader.h"
#include "wk_session.h"
#include "wk_agent_int.h"

/* ------------------------------------------------------------ sessions */

static void on_progress(void *opaque, const struct wk_counters *counters, double elapsed)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;

	struct wk_job *job = opaque;

	(void)elapsed;
	r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS;
	agent_report(job, &r, counters);
	wk_metrics_captured(job->agent->metrics, &job->counted, counters);
}

/*
 * What the uploader may hold of a ring's files that wait for storage (see
 * wk_uploader.h): as much again as the ring keeps on disk, file_count x
 * file_size, and at least WK_UPLOAD_HELD_MIN so that a burst through a small
 * ring does not outrun a healthy storage account. A single file needs no
 * bound: it is held once.
 */
#define WK_UPLOAD_HELD_MIN (64ull << 20)

static uint64_t held_bytes_max(const fc_spec_t *spec)
{
	if (!spec->ring)
		return 0;
	uint64_t count = spec->ring->file_count ? spec->ring->file_count : FC_FILE_COUNT_DEFAULT;
	uint64_t size = spec->ring->file_size ? spec->ring->file_size : FC_FILE_SIZE_DEFAULT;
	return count * size > WK_UPLOAD_HELD_MIN ? count * size : WK_UPLOAD_HELD_MIN;
}

/* The session's uploader (a blob URL names where its files go). 0, or -1 with err. */
static int start_uploader(struct wk_job *job, struct fc_err *err)
{
	struct wk_agent *a = job->agent;
	struct wk_uploader_config uc = {
		.session_id = job->session_id,
		.blob_url = job->spec->blob_url,
		.ring = job->spec->ring != NULL,
		.sas = *job->spec->blob_sas ? job->spec->blob_sas : NULL,
		.keys = a->keys,
		.n_keys = a->n_keys,
		.metrics = a->metrics,
		.held_bytes_max = held_bytes_max(job->spec),
	};

	job->uploader = wk_uploader_start(&uc, err);
	return job->uploader ? 0 : -1;
}

/* Journals r (files not yet uploaded) and spec, so that a restart finishes
 * the upload instead of reporting the session interrupted. */
static void record_captured(struct wk_agent *a, const Fleetcap__V1__CaptureReport *r,
			    fc_spec_t *spec)
{
	/* The journal keeps the SAS token as it came, sealed: opened again on resume. */
	char *sas = spec->blob_sas;
	if (spec->blob_sas_sealed)
		spec->blob_sas = (char *)"";
	size_t rlen = protobuf_c_message_get_packed_size(&r->base);
	size_t slen = protobuf_c_message_get_packed_size(&spec->base);
	uint8_t *rbuf = malloc(rlen + 1), *sbuf = malloc(slen + 1);
	struct fc_err err;

	if (!rbuf || !sbuf)
		fc_err_set(&err, FC_ERR_FATAL, "out of memory");
	if (!rbuf || !sbuf ||
	    wk_journal_captured(a->journal, r->session_id, rbuf,
				protobuf_c_message_pack(&r->base, rbuf), sbuf,
				protobuf_c_message_pack(&spec->base, sbuf), &err) != 0)
		FC_ERROR("worker", "session %s: a restart could not resume its upload: %s",
			 r->session_id, err.msg);
	spec->blob_sas = sas;
	free(rbuf);
	free(sbuf);
}

int agent_open_secret(struct wk_agent *a, const char *session_id, fc_spec_t *spec,
		      struct fc_err *err)
{
	char *plain;

	if (!spec->blob_sas_sealed)
		return 0;
	if (fc_seal_open(a->seal_key, session_id, spec->blob_sas_sealed, &plain, err) != 0)
		return -1;
	if (spec->blob_sas != protobuf_c_empty_string)
		free(spec->blob_sas);
	spec->blob_sas = plain; /* in memory only */
	return 0;
}

/*
 * The end of a session: r (its uploads done) is journaled, sent, and the
 * session recorded final only once Kafka has acknowledged r. A crash or a
 * stop before that sends r again at the next start (the scheduler ignores a
 * second final report); a report Kafka never took is never recorded final.
 * again: r is the journal's own, sent again after a restart.
 */
void agent_finish_session(struct wk_job *job, Fleetcap__V1__CaptureReport *r, int again)
{
	struct wk_agent *a = job->agent;
	char key[FC_TENANT_MAX * 2 + 2];
	struct fc_err jerr;

	if (!again)
		fc_metric_add(a->metrics->sessions_ended, 1,
			      r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED ? "Failed"
										       : "Finished",
			      r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED
				      ? fc_error_code_name((int)r->error)
				      : fc_stop_reason_name((int)r->stop_reason));
	if (a->journal && !again) {
		size_t len = protobuf_c_message_get_packed_size(&r->base);
		uint8_t *buf = malloc(len + 1);
		if (!buf)
			fc_err_set(&jerr, FC_ERR_FATAL, "out of memory");
		if (!buf || wk_journal_report(a->journal, r->session_id, buf,
					      protobuf_c_message_pack(&r->base, buf), &jerr) != 0)
			FC_ERROR("worker", "session %s: a restart could not send its report: %s",
				 r->session_id, jerr.msg);
		free(buf);
	}
	snprintf(key, sizeof(key), "%s/%s", r->subscription, r->region);
	if (agent_deliver(a, key, &r->base, r->session_id) != 0)
		return;
	if (a->journal && wk_journal_finished(a->journal, r->session_id, &jerr) != 0)
		FC_ERROR("worker", "%s", jerr.msg);
}

/* The capture engine finished a file: it goes to the uploader at once. */
static void on_file(void *opaque, const struct wk_file *file)
{
	struct wk_job *job = opaque;

	if (job->uploader)
		wk_uploader_add(job->uploader, file);
}

/* A capture that succeeded becomes FAILED with StorageFailed (a failed
 * capture keeps its own error). r->error_message then points into job. */
static void storage_failed(struct wk_job *job, Fleetcap__V1__CaptureReport *r, const char *why)
{
	if (r->kind != FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED)
		return;
	snprintf(job->upload_error, sizeof(job->upload_error), "%s", why);
	r->kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
	r->error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED;
	r->error_message = job->upload_error;
	r->stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
}

/*
 * Waits for the session's uploads; r then lists every file uploaded (a
 * ring's rotated-out files too, whose local copies the ring deleted), in
 * arrays given back in *files and *pointers for the caller to free. A failed
 * upload makes a successful capture FAILED with StorageFailed.
 */
static void wait_uploads(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
			 Fleetcap__V1__CaptureFile **files, Fleetcap__V1__CaptureFile ***pointers)
{
	const struct wk_uploaded *up;
	size_t n;
	struct fc_err e;

	atomic_store(&job->uploading, 1);
	int failed = wk_uploader_finish(job->uploader, &up, &n, &e) != 0;
	atomic_store(&job->uploading, 0);
	*files = calloc(n + 1, sizeof(**files));
	*pointers = calloc(n + 1, sizeof(**pointers));
	for (size_t i = 0; *files && *pointers && i < n; i++) {
		fleetcap__v1__capture_file__init(&(*files)[i]);
		(*files)[i].local_path = (char *)up[i].path;
		(*files)[i].blob_url = (char *)up[i].blob_url;
		(*files)[i].size = up[i].size;
		(*files)[i].sha256 = (char *)up[i].sha256;
		(*pointers)[i] = &(*files)[i];
	}
	if (*files && *pointers) {
		r->n_files = n;
		r->files = *pointers;
	}
	FC_INFO("worker", "session %s: %zu files uploaded%s", job->session_id, n,
		failed ? ", with a failure" : "");
	if (failed)
		storage_failed(job, r, e.msg);
}

static void *run_job(void *opaque)
{
	struct wk_job *job = opaque;
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;
	struct wk_result result;
	struct fc_err err;

	int rc = wk_session_run(job->session, &result, &err);
	size_t n = wk_session_file_count(job->session);
	Fleetcap__V1__CaptureFile *files = calloc(n + 1, sizeof(*files));
	Fleetcap__V1__CaptureFile **pointers = calloc(n + 1, sizeof(*pointers));

	for (size_t i = 0; files && pointers && i < n; i++) {
		const struct wk_file *f = wk_session_file(job->session, i);
		fleetcap__v1__capture_file__init(&files[i]);
		files[i].local_path = (char *)f->path;
		files[i].size = f->size;
		files[i].sha256 = (char *)f->sha256;
		pointers[i] = &files[i];
	}
	if (files && pointers) {
		r.n_files = n;
		r.files = pointers;
	}
	if (rc != 0) {
		r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
		r.error = result.error ? result.error
				       : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED;
		r.error_message = err.msg;
		r.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
	} else {
		r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED;
		/* A stop job says why: StoppedByUser or Deleted. */
		int asked = atomic_load(&job->stop_reason);
		r.stop_reason = asked ? asked : result.stop_reason;
	}
	agent_fill_report(job, &r, &result.counters, &c);
	wk_metrics_captured(job->agent->metrics, &job->counted, &result.counters);
	FC_INFO("worker", "session %s ended: %s, %llu packets, %zu files", job->session_id,
		rc ? err.msg : fc_stop_reason_name((int)r.stop_reason),
		(unsigned long long)result.counters.packets, n);
	/* What was captured is uploaded even after a capture failure. */
	if (*job->spec->blob_url && job->agent->journal)
		record_captured(job->agent, &r, job->spec);
	Fleetcap__V1__CaptureFile *all = NULL, **all_pointers = NULL;
	if (job->uploader)
		wait_uploads(job, &r, &all, &all_pointers);
	agent_finish_session(job, &r, 0);
	free(all);
	free(all_pointers);
	free(files);
	free(pointers);
	atomic_store(&job->finished, 1);
	return NULL;
}

/* After a restart: the upload the journal says was under way, then the
 * session's final report as recorded before it. */
void *agent_run_resume(void *opaque)
{
	struct wk_job *job = opaque;
	Fleetcap__V1__CaptureReport *r = job->resume;

	size_t n_files = r->n_files;
	Fleetcap__V1__CaptureFile **files = r->files; /* r's own: given back below */
	char *message = r->error_message;
	Fleetcap__V1__CaptureFile *all = NULL, **all_pointers = NULL;
	struct fc_err err;

	FC_INFO("worker", "session %s: resuming the upload a restart interrupted", job->session_id);
	r->time_ms = fc_wall_ms();
	r->seq = UINT64_MAX / 2; /* above any report of the interrupted run */
	if (start_uploader(job, &err) == 0) {
		/* Blobs already there with the same content count as uploaded. */
		for (size_t i = 0; i < n_files; i++) {
			struct wk_file f = {.size = files[i]->size};
			snprintf(f.path, sizeof(f.path), "%s", files[i]->local_path);
			snprintf(f.sha256, sizeof(f.sha256), "%s", files[i]->sha256);
			wk_uploader_add(job->uploader, &f);
		}
		wait_uploads(job, r, &all, &all_pointers);
	} else {
		storage_failed(job, r, err.msg);
	}
	agent_finish_session(job, r, 0);
	r->n_files = n_files;
	r->files = files;
	r->error_message = message;
	free(all);
	free(all_pointers);
	atomic_store(&job->finished, 1);
	return NULL;
}

/*
 * Resolves the spec's file path under the capture root, its directories
 * created: *dirfd is the directory that will hold the file (the caller closes
 * it), and job->path its display name, whose last component is the file's.
 */
static int resolve_path(struct wk_agent *a, struct wk_job *job, int *dirfd, struct fc_err *err)
{
	char name[256];

	*dirfd = -1;
	if (!*job->spec->file_path) {
		fc_err_set(err, FC_ERR_INVALID,
			   "file_path: empty (uploads without a local copy are not supported yet)");
		return -1;
	}
	if ((size_t)snprintf(job->path, sizeof(job->path), "%s/%s", a->config->capture_root,
			     job->spec->file_path) >= sizeof(job->path)) {
		fc_err_set(err, FC_ERR_INVALID, "file_path: too long under the capture root");
		return -1;
	}
	if (sink_disk_resolve(a->root, job->spec->file_path, dirfd, name, sizeof(name), err) != 0)
		return -1;
	return 0;
}

/* The worker's default interfaces for a spec that names none. */
static void default_interfaces(const struct wk_config *c, fc_spec_t *spec)
{
	struct fc_field_errors errs;
	char list[1025], *save = NULL;

	if (spec->n_interfaces)
		return;
	fc_field_errors_init(&errs);
	snprintf(list, sizeof(list), "%s", c->interfaces);
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		fc_spec_set(spec, "interface", tok, &errs);
}

struct wk_job *agent_find_job(struct wk_agent *a, const char *session_id)
{
	for (struct wk_job *j = a->jobs; j; j = j->next)
		if (strcmp(j->session_id, session_id) == 0)
			return j;
	return NULL;
}

void agent_free_job(struct wk_job *job)
{
	if (!job)
		return;
	wk_session_destroy(job->session);
	wk_uploader_free(job->uploader);
	fc_spec_free(job->spec);
	if (job->resume)
		fleetcap__v1__capture_report__free_unpacked(job->resume, NULL);
	free(job);
}

/* Adds job to the list and runs fn(job) in its own thread; 0, or -1 (job
 * not listed) when no thread starts. Main thread only. */
int agent_launch(struct wk_agent *a, struct wk_job *job, void *(*fn)(void *))
{
	pthread_mutex_lock(&a->lock);
	job->next = a->jobs;
	a->jobs = job;
	a->active++;
	fc_metric_set(a->metrics->sessions, (double)a->active);
	pthread_mutex_unlock(&a->lock);
	if (pthread_create(&job->thread, NULL, fn, job) == 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	a->jobs = job->next; /* still the head: only this thread adds */
	a->active--;
	pthread_mutex_unlock(&a->lock);
	return -1;
}

/* Takes job->spec. */
void agent_start_job(struct wk_agent *a, Fleetcap__V1__Job *msg)
{
	struct wk_job *job = calloc(1, sizeof(*job));
	struct fc_field_errors errs;
	struct wk_session_config sc;
	struct fc_err err;
	char why[600];
	int dirfd;

	if (!job)
		return;
	job->agent = a;
	snprintf(job->session_id, sizeof(job->session_id), "%s", msg->session_id);
	job->spec = msg->spec;
	msg->spec = NULL; /* now owned by the job */
	job->start_ms = 0;
	fc_field_errors_init(&errs);
	default_interfaces(a->config, job->spec);
	if (agent_open_secret(a, job->session_id, job->spec, &err) != 0) {
		snprintf(why, sizeof(why),
			 "blob_sas: %s (was this host's state.dir/seal.key replaced after the job "
			 "was made?)",
			 err.msg);
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED, why);
		agent_free_job(job);
		return;
	}
	if (fc_spec_validate(job->spec, FC_SPEC_FLEET, &errs) != 0) {
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED,
				    fc_field_errors_format(&errs, why, sizeof(why)));
		agent_free_job(job);
		return;
	}
	if (a->active >= (size_t)a->config->sessions_max) {
		snprintf(why, sizeof(why),
			 "the worker already runs its %lld sessions (sessions.max)",
			 a->config->sessions_max);
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED, why);
		agent_free_job(job);
		return;
	}
	if (resolve_path(a, job, &dirfd, &err) != 0) {
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED,
				    err.msg);
		agent_free_job(job);
		return;
	}
	struct fc_blob_url url;
	if (*job->spec->blob_url &&
	    (fc_blob_url_parse(job->spec->blob_url, &url, why, sizeof(why)) != 0 ||
	     fc_blob_url_allowed(&url, a->config->blob_endpoints, why, sizeof(why)) != 0)) {
		close(dirfd);
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED, why);
		agent_free_job(job);
		return;
	}
	if (*job->spec->blob_url && start_uploader(job, &err) != 0) {
		close(dirfd);
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED,
				    err.msg);
		agent_free_job(job);
		return;
	}
	memset(&sc, 0, sizeof(sc));
	sc.spec = job->spec;
	sc.on_file = on_file;
	sc.path = job->path;
	sc.dirfd = dirfd; /* the file is created in it, never re-resolved by name */
	sc.progress_ms = (unsigned)a->config->progress_s * 1000;
	sc.on_progress = on_progress;
	sc.opaque = job;
	job->session = wk_session_create(&sc, &err);
	close(dirfd);
	if (!job->session) {
		agent_report_failed(job,
				    err.action == FC_ERR_INVALID
					    ? FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED
					    : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED,
				    err.msg);
		agent_free_job(job);
		return;
	}
	job->start_ms = fc_wall_ms();
	if (a->journal && wk_journal_started(a->journal, job->session_id, job->spec->subscription,
					     job->spec->region, job->spec->name, job->start_ms,
					     job->path, &err) != 0) {
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR,
				    err.msg);
		agent_free_job(job);
		return;
	}
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED;
	agent_report(job, &r, NULL);
	if (agent_launch(a, job, run_job) != 0) {
		/* Without a thread the session cannot run: end it as failed. */
		agent_report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR,
				    "cannot start a capture thread");
		agent_free_job(job);
		return;
	}
	FC_INFO("worker", "session %s started: %s", job->session_id, job->path);
}
