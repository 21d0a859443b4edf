/* wk_agent: the worker agent's core; see wk_agent.h. */
#include "wk_agent.h"

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
#include "fc_murmur2.h"
#include "fc_names.h"
#include "fc_spec.h"
#include "sink_azblob.h"
#include "sink_disk.h"
#include "wk_journal.h"
#include "wk_metrics.h"
#include "wk_uploader.h"
#include "wk_session.h"

#define SESSION_ID_MAX 256

/* One capture: created by the main thread, run by its own. */
struct wk_job {
	struct wk_agent *agent;
	char session_id[SESSION_ID_MAX];
	fc_spec_t *spec; /* owned */
	char path[FC_PATH_MAX + 1024];
	struct wk_session *session;
	pthread_t thread;
	atomic_int stop_reason; /* requested by a STOP job; 0 = none */
	atomic_int finished;	/* the final report is sent; the thread can be joined */
	uint64_t seq;		/* of the reports */
	int64_t start_ms;
	Fleetcap__V1__CaptureReport *resume; /* an upload to finish after a restart */
	struct wk_uploader *uploader;	     /* with a blob URL: files uploaded as they finish */
	char upload_error[sizeof(((struct fc_err *)0)->msg)];
	atomic_int uploading;	    /* the main loop sends progress meanwhile */
	struct wk_counters counted; /* what /metrics has of this session */
	int64_t next_progress_ms;
	struct wk_job *next;
};

struct wk_agent {
	const struct wk_config *config;
	rd_kafka_t *producer, *consumer;
	struct sink_disk *root;
	char topics[FC_TOPIC_COUNT][FC_TOPIC_NAME_MAX + 1];
	int32_t partition;
	int64_t started_ms;
	struct wk_journal *journal; /* NULL without state.dir */
	struct wk_metrics *metrics;
	struct azblob_key *keys; /* blob.key.ACCOUNT, decoded */
	size_t n_keys;
	atomic_int ready;     /* the first heartbeat is in Kafka */
	atomic_int stopping;  /* the run loop is ending: final reports stop retrying */
	pthread_mutex_t lock; /* the jobs list */
	struct wk_job *jobs;
	size_t active;
};

/* ------------------------------------------------------------ produce */

/*
 * The outcome of one message whose delivery matters (a final report): the
 * delivery report callback sets it, on whichever thread polls the producer.
 */
struct delivery {
	atomic_int state; /* DELIVERY_PENDING, then _DONE or _FAILED */
	rd_kafka_resp_err_t err;
};

enum { DELIVERY_PENDING, DELIVERY_DONE, DELIVERY_FAILED };

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct delivery *d = m->_private;

	(void)rk;
	(void)opaque;
	if (!d)
		return; /* heartbeats and progress: the next one replaces a lost one */
	d->err = m->err;
	atomic_store(&d->state, m->err ? DELIVERY_FAILED : DELIVERY_DONE);
}

/* Queues msg; d (or NULL) learns its delivery. 0, or the error when Kafka
 * would not even queue it. */
static rd_kafka_resp_err_t produce_tracked(struct wk_agent *a, enum fc_topic topic, const char *key,
					   const ProtobufCMessage *msg, struct delivery *d)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	rd_kafka_resp_err_t e;

	if (!buf)
		return RD_KAFKA_RESP_ERR__FAIL; /* out of memory */
	protobuf_c_message_pack(msg, buf);
	/* The producer is idempotent and retries on its own until
	 * message.timeout.ms; a final report is sent again after that (see
	 * deliver). */
	while ((e = rd_kafka_producev(a->producer, RD_KAFKA_V_TOPIC(a->topics[topic]),
				      RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				      RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(a->producer, 10);
	if (e)
		FC_ERROR("worker", "cannot produce to %s: %s", a->topics[topic],
			 rd_kafka_err2str(e));
	free(buf);
	return e;
}

static void produce(struct wk_agent *a, enum fc_topic topic, const char *key,
		    const ProtobufCMessage *msg)
{
	produce_tracked(a, topic, key, msg, NULL);
}

/*
 * Sends a final report and waits until Kafka has acknowledged it, sending it
 * again after each failure (Kafka away past message.timeout.ms) with a
 * growing pause, for as long as the agent runs. Returns 0 once delivered, -1
 * when the agent stops first: the journal still holds the report then, and
 * the next start sends it.
 */
static int deliver(struct wk_agent *a, const char *key, const ProtobufCMessage *msg,
		   const char *session_id)
{
	int64_t pause_ms = 1000;

	for (int attempt = 1;; attempt++) {
		struct delivery d = {.state = DELIVERY_PENDING};
		rd_kafka_resp_err_t e = produce_tracked(a, FC_TOPIC_RESULTS, key, msg, &d);
		if (!e) {
			while (atomic_load(&d.state) == DELIVERY_PENDING)
				rd_kafka_poll(a->producer, 100);
			if (atomic_load(&d.state) == DELIVERY_DONE) {
				if (attempt > 1)
					FC_INFO("worker",
						"session %s: the final report is in Kafka "
						"(attempt %d)",
						session_id, attempt);
				return 0;
			}
			e = d.err;
		}
		if (atomic_load(&a->stopping)) {
			FC_ERROR("worker",
				 "session %s: the final report is not in Kafka (%s); the next "
				 "start sends it",
				 session_id, rd_kafka_err2str(e));
			return -1;
		}
		FC_WARN("worker",
			"session %s: the final report is not in Kafka (%s): sent again "
			"in %lld ms",
			session_id, rd_kafka_err2str(e), (long long)pause_ms);
		for (int64_t until = fc_mono_ms() + pause_ms;
		     fc_mono_ms() < until && !atomic_load(&a->stopping);)
			rd_kafka_poll(a->producer, 100);
		pause_ms = pause_ms * 2 > 30000 ? 30000 : pause_ms * 2;
	}
}

static void heartbeat(struct wk_agent *a)
{
	Fleetcap__V1__WorkerHeartbeat hb = FLEETCAP__V1__WORKER_HEARTBEAT__INIT;
	const struct wk_config *c = a->config;

	fc_metric_add(a->metrics->heartbeats, 1);
	hb.host_id = c->host_id;
	hb.subscription = c->subscription;
	hb.region = c->region;
	hb.version = (char *)FLEETCAP_VERSION;
	hb.capacity = (uint32_t)c->sessions_max;
	pthread_mutex_lock(&a->lock);
	hb.active_sessions = (uint32_t)a->active;
	pthread_mutex_unlock(&a->lock);
	hb.time_ms = fc_wall_ms();
	hb.interval_s = (uint32_t)c->heartbeat_s;
	hb.started_time_ms = a->started_ms;
	/* The interface list is informational; the first one is enough for a
	 * glance in `kcat`, the whole string goes in as one entry. */
	char *ifs = c->interfaces;
	hb.n_interfaces = 1;
	hb.interfaces = &ifs;
	produce(a, FC_TOPIC_WORKERS, c->host_id, &hb.base);
}

/* Sends r to results under its subscription/region. */
static void send_report(struct wk_agent *a, Fleetcap__V1__CaptureReport *r)
{
	char key[FC_TENANT_MAX * 2 + 2];

	snprintf(key, sizeof(key), "%s/%s", r->subscription, r->region);
	produce(a, FC_TOPIC_RESULTS, key, &r->base);
}

/* Fills r's identity, time and sequence number from job, and its counters
 * (kept in c) when given. */
static void fill_report(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
			const struct wk_counters *counters, Fleetcap__V1__Counters *c)
{
	if (counters) {
		c->packets = counters->packets;
		c->bytes = counters->bytes;
		c->kernel_drops = counters->kernel_drops;
		c->interface_drops = counters->interface_drops;
		r->counters = c;
	}
	r->session_id = job->session_id;
	r->subscription = job->spec->subscription;
	r->region = job->spec->region;
	r->name = job->spec->name;
	r->host_id = job->agent->config->host_id;
	r->time_ms = fc_wall_ms();
	r->capture_start_time_ms = job->start_ms;
	r->seq = __atomic_add_fetch(&job->seq, 1, __ATOMIC_SEQ_CST);
}

/* A report for job; counters and r's other fields as given. */
static void report(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
		   const struct wk_counters *counters)
{
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;

	fill_report(job, r, counters, &c);
	send_report(job->agent, r);
}

static void report_failed(struct wk_job *job, int error, const char *message)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;

	FC_WARN("worker", "session %s failed: %s: %s", job->session_id, fc_error_code_name(error),
		message);
	r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
	r.error = error;
	r.error_message = (char *)message;
	r.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
	report(job, &r, NULL);
}

/* ------------------------------------------------------------ sessions */

static void on_progress(void *opaque, const struct wk_counters *counters, double elapsed)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;

	struct wk_job *job = opaque;

	(void)elapsed;
	r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS;
	report(job, &r, counters);
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
			    const fc_spec_t *spec)
{
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
	free(rbuf);
	free(sbuf);
}

/*
 * The end of a session: r (its uploads done) is journaled, sent, and the
 * session recorded final only once Kafka has acknowledged r. A crash or a
 * stop before that sends r again at the next start (the scheduler ignores a
 * second final report); a report Kafka never took is never recorded final.
 * again: r is the journal's own, sent again after a restart.
 */
static void finish_session(struct wk_job *job, Fleetcap__V1__CaptureReport *r, int again)
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
	if (deliver(a, key, &r->base, r->session_id) != 0)
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
	fill_report(job, &r, &result.counters, &c);
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
	finish_session(job, &r, 0);
	free(all);
	free(all_pointers);
	free(files);
	free(pointers);
	atomic_store(&job->finished, 1);
	return NULL;
}

/* After a restart: the upload the journal says was under way, then the
 * session's final report as recorded before it. */
static void *run_resume(void *opaque)
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
	finish_session(job, r, 0);
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

static struct wk_job *find_job(struct wk_agent *a, const char *session_id)
{
	for (struct wk_job *j = a->jobs; j; j = j->next)
		if (strcmp(j->session_id, session_id) == 0)
			return j;
	return NULL;
}

static void free_job(struct wk_job *job)
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
static int launch(struct wk_agent *a, struct wk_job *job, void *(*fn)(void *))
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
static void start_job(struct wk_agent *a, Fleetcap__V1__Job *msg)
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
	if (fc_spec_validate(job->spec, FC_SPEC_FLEET, &errs) != 0) {
		report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED,
			      fc_field_errors_format(&errs, why, sizeof(why)));
		free_job(job);
		return;
	}
	if (a->active >= (size_t)a->config->sessions_max) {
		snprintf(why, sizeof(why),
			 "the worker already runs its %lld sessions (sessions.max)",
			 a->config->sessions_max);
		report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED, why);
		free_job(job);
		return;
	}
	if (resolve_path(a, job, &dirfd, &err) != 0) {
		report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED, err.msg);
		free_job(job);
		return;
	}
	if (*job->spec->blob_url && start_uploader(job, &err) != 0) {
		close(dirfd);
		report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED, err.msg);
		free_job(job);
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
		report_failed(job,
			      err.action == FC_ERR_INVALID
				      ? FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED
				      : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED,
			      err.msg);
		free_job(job);
		return;
	}
	job->start_ms = fc_wall_ms();
	if (a->journal && wk_journal_started(a->journal, job->session_id, job->spec->subscription,
					     job->spec->region, job->spec->name, job->start_ms,
					     job->path, &err) != 0) {
		report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR, err.msg);
		free_job(job);
		return;
	}
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED;
	report(job, &r, NULL);
	if (launch(a, job, run_job) != 0) {
		/* Without a thread the session cannot run: end it as failed. */
		report_failed(job, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR,
			      "cannot start a capture thread");
		free_job(job);
		return;
	}
	FC_INFO("worker", "session %s started: %s", job->session_id, job->path);
}

static void handle_job(struct wk_agent *a, const rd_kafka_message_t *m)
{
	Fleetcap__V1__Job *msg = fleetcap__v1__job__unpack(NULL, m->len, m->payload);

	if (!msg) {
		FC_WARN("worker", "jobs offset %lld does not parse: skipped", (long long)m->offset);
		return;
	}
	if (strcmp(msg->target, a->config->host_id) != 0) {
		fleetcap__v1__job__free_unpacked(msg, NULL);
		return; /* another host's job in the same partition */
	}
	pthread_mutex_lock(&a->lock);
	struct wk_job *job = find_job(a, msg->session_id);
	pthread_mutex_unlock(&a->lock);
	if (msg->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START && msg->spec && !job &&
	    a->journal && wk_journal_known(a->journal, msg->session_id))
		FC_INFO("worker", "session %s was already run here: START ignored",
			msg->session_id); /* delivered again after a restart */
	else if (msg->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START && msg->spec && !job)
		start_job(a, msg);
	else if (msg->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP && job &&
		 !atomic_load(&job->finished)) {
		atomic_store(&job->stop_reason,
			     msg->stop_reason
				     ? (int)msg->stop_reason
				     : FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER);
		if (job->session) /* else the upload after a restart: it goes on */
			wk_session_stop(job->session);
		FC_INFO("worker", "session %s: stop (%s)", job->session_id,
			fc_stop_reason_name(atomic_load(&job->stop_reason)));
	}
	fleetcap__v1__job__free_unpacked(msg, NULL);
}

/*
 * While a session uploads, a progress report every progress.s tells the
 * scheduler that the worker is still at it, which keeps the session's lease
 * from running out however long the upload takes.
 */
static void upload_progress(struct wk_agent *a)
{
	int64_t now = fc_mono_ms();

	pthread_mutex_lock(&a->lock);
	for (struct wk_job *j = a->jobs; j; j = j->next) {
		if (!atomic_load(&j->uploading) || now < j->next_progress_ms)
			continue;
		Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
		r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS;
		report(j, &r, NULL);
		j->next_progress_ms = now + a->config->progress_s * 1000;
	}
	pthread_mutex_unlock(&a->lock);
}

/* Joins and frees the sessions whose final report is sent. */
static void reap(struct wk_agent *a)
{
	pthread_mutex_lock(&a->lock);
	for (struct wk_job **p = &a->jobs; *p;) {
		struct wk_job *job = *p;
		if (!atomic_load(&job->finished)) {
			p = &job->next;
			continue;
		}
		*p = job->next;
		a->active--;
		fc_metric_set(a->metrics->sessions, (double)a->active);
		pthread_mutex_unlock(&a->lock);
		pthread_join(job->thread, NULL);
		free_job(job);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
}

/* -------------------------------------------------------------- set-up */

static rd_kafka_t *new_client(const struct wk_config *c, rd_kafka_type_t type,
			      const char *const *props, struct fc_err *err)
{
	const char *brokers = *c->brokers ? c->brokers : NULL;
	rd_kafka_conf_t *conf = type == RD_KAFKA_PRODUCER
					? fc_kafka_conf_new(brokers, NULL, err)
					: fc_kafka_consumer_conf_new(brokers, NULL, err);
	char errstr[512];
	rd_kafka_t *rk;

	if (!conf)
		return NULL;
	for (; *props; props += 2)
		if (fc_kafka_conf_set(conf, props[0], props[1], err) != 0)
			goto fail;
	for (size_t i = 0; i < c->kafka.count; i++)
		if (fc_kafka_conf_set(conf, c->kafka.items[i].key, c->kafka.items[i].value, err) !=
		    0)
			goto fail;
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if ((rk = rd_kafka_new(type, conf, errstr, sizeof(errstr))))
		return rk;
	fc_err_set(err, FC_ERR_FATAL, "cannot create a Kafka client: %s", errstr);
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Assigns the host's jobs partition at the committed offset, or at its end. */
static int assign_jobs(struct wk_agent *a, struct fc_err *err)
{
	const char *topic = a->topics[FC_TOPIC_JOBS];
	int count = fc_topic_partition_count(a->consumer, topic, 30000, err);
	int64_t lo, hi;

	if (count < 0)
		return -1;
	a->partition = fc_partition_for_key(a->config->host_id, strlen(a->config->host_id), count);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_t *tp =
		rd_kafka_topic_partition_list_add(list, topic, a->partition);
	rd_kafka_resp_err_t e = rd_kafka_committed(a->consumer, list, 30000);
	if (!e && tp->offset < 0) {
		if (fc_kafka_watermarks(a->consumer, topic, a->partition, &lo, &hi, 30000, err) !=
		    0) {
			rd_kafka_topic_partition_list_destroy(list);
			return -1;
		}
		tp->offset = hi;
	}
	if (!e)
		e = rd_kafka_assign(a->consumer, list);
	if (e)
		fc_err_set(err, FC_ERR_FATAL, "%s [%d]: %s", topic, a->partition,
			   rd_kafka_err2str(e));
	else
		FC_INFO("worker", "reading jobs from %s [%d] at offset %lld", topic, a->partition,
			(long long)tp->offset);
	rd_kafka_topic_partition_list_destroy(list);
	return e ? -1 : 0;
}

struct wk_agent *wk_agent_new(const struct wk_config *config, struct fc_err *err)
{
	struct wk_agent *a = calloc(1, sizeof(*a));
	char group[256];
	const char *producer_props[] = {"enable.idempotence", "true", "linger.ms", "5", NULL};
	const char *consumer_props[] = {"group.id",
					group,
					"isolation.level",
					"read_committed",
					"enable.auto.commit",
					"false",
					"enable.partition.eof",
					"false",
					NULL};

	if (!a) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	a->config = config;
	a->started_ms = fc_wall_ms();
	pthread_mutex_init(&a->lock, NULL);
	for (int t = 0; t < FC_TOPIC_COUNT; t++)
		if (fc_topic_name(config->topics_prefix, (enum fc_topic)t, a->topics[t],
				  sizeof(a->topics[t])) != 0) {
			fc_err_set(err, FC_ERR_INVALID, "topics.prefix \"%.64s\" is not valid",
				   config->topics_prefix);
			goto fail;
		}
	if (config->blob_keys.count &&
	    !(a->keys = calloc(config->blob_keys.count, sizeof(*a->keys)))) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < config->blob_keys.count; i++, a->n_keys++)
		if (azblob_key_init(&a->keys[i], config->blob_keys.items[i].key,
				    config->blob_keys.items[i].value, err) != 0) {
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			fc_err_set(err, FC_ERR_INVALID, "blob.key.%.64s: %s",
				   config->blob_keys.items[i].key, why);
			goto fail;
		}
	if (*config->state_dir && !(a->journal = wk_journal_open(config->state_dir, err)))
		goto fail;
	if (!(a->metrics = wk_metrics_new(config->metrics_address, config->metrics_port, err)))
		goto fail;
	if (!*config->state_dir)
		FC_WARN("worker", "no state.dir: a restart will not report interrupted sessions");
	struct sink_disk_config dc = {.root = config->capture_root};
	if (!(a->root = sink_disk_open(&dc, err))) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		fc_err_set(err, FC_ERR_INVALID, "capture.root: %s",
			   why); /* exit 2: configuration */
		goto fail;
	}
	snprintf(group, sizeof(group), "%sworker-%s", config->topics_prefix, config->host_id);
	if (!(a->producer = new_client(config, RD_KAFKA_PRODUCER, producer_props, err)) ||
	    !(a->consumer = new_client(config, RD_KAFKA_CONSUMER, consumer_props, err)) ||
	    assign_jobs(a, err) != 0)
		goto fail;
	return a;
fail:
	wk_agent_destroy(a);
	return NULL;
}

void wk_agent_destroy(struct wk_agent *a)
{
	if (!a)
		return;
	if (a->consumer) {
		rd_kafka_consumer_close(a->consumer);
		rd_kafka_destroy(a->consumer);
	}
	if (a->producer) {
		rd_kafka_flush(a->producer, 30000);
		rd_kafka_destroy(a->producer);
	}
	sink_disk_close(a->root);
	wk_journal_close(a->journal);
	wk_metrics_free(a->metrics);
	for (size_t i = 0; i < a->n_keys; i++)
		azblob_key_clear(&a->keys[i]);
	free(a->keys);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int wk_agent_ready(const struct wk_agent *a)
{
	return atomic_load(&((struct wk_agent *)a)->ready);
}

/*
 * A job that finishes after a restart what the journal's entry e left: its
 * report (packed, report_len bytes) and, for an upload, its spec. NULL when
 * they do not parse or name another session.
 */
static struct wk_job *resumed_job(struct wk_agent *a, const struct wk_journal_entry *e,
				  const uint8_t *report, size_t report_len, int with_spec)
{
	struct wk_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->agent = a;
	snprintf(job->session_id, sizeof(job->session_id), "%s", e->session_id);
	job->start_ms = e->start_ms;
	job->seq = UINT64_MAX / 4; /* its progress is newer than the first run's */
	job->resume = fleetcap__v1__capture_report__unpack(NULL, report_len, report);
	if (with_spec)
		job->spec = fleetcap__v1__capture_spec__unpack(NULL, e->spec_len, e->spec);
	if (!job->resume || (with_spec && !job->spec) || !job->resume->session_id ||
	    !job->resume->subscription || !job->resume->region ||
	    strcmp(job->resume->session_id, e->session_id) != 0) {
		free_job(job);
		return NULL;
	}
	return job;
}

/* Starts the upload a restart interrupted (see run_resume). 0, or -1 when
 * the journal's record does not parse or no thread starts. */
static int resume_upload(struct wk_agent *a, const struct wk_journal_entry *e)
{
	struct wk_job *job = resumed_job(a, e, e->report, e->report_len, 1);

	if (!job || launch(a, job, run_resume) != 0) {
		free_job(job);
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
	finish_session(job, job->resume, 1);
	atomic_store(&job->finished, 1);
	return NULL;
}

/* Starts run_resend for e. 0, or -1 when the report does not parse or no
 * thread starts. */
static int resend_report(struct wk_agent *a, const struct wk_journal_entry *e)
{
	struct wk_job *job = resumed_job(a, e, e->unsent, e->unsent_len, 0);

	if (!job || launch(a, job, run_resend) != 0) {
		free_job(job);
		return -1;
	}
	return 0;
}

/*
 * Sessions the journal saw start and never end: a final report not yet
 * acknowledged is sent again; an upload under way is
 * finished; any other session was cut short: Stopped/AgentRestarted.
 */
static void report_interrupted(struct wk_agent *a)
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
		queued[i] = produce_tracked(a, FC_TOPIC_RESULTS, key, &r.base, &sent[i]) == 0;
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

int wk_agent_run(struct wk_agent *a, atomic_int *stop, struct fc_err *err)
{
	int64_t next_heartbeat;

	/* Registered once Kafka has the first heartbeat: from then on a create
	 * for this host is admitted, so the line below means "ready". */
	heartbeat(a);
	rd_kafka_flush(a->producer, 30000);
	next_heartbeat = fc_mono_ms() + a->config->heartbeat_s * 1000;
	atomic_store(&a->ready, 1);
	FC_INFO("worker", "host %s in %s/%s, capturing under %s, %zu storage account keys",
		a->config->host_id, a->config->subscription, a->config->region,
		a->config->capture_root, a->n_keys);
	report_interrupted(a);
	while (!*stop) {
		if (fc_mono_ms() >= next_heartbeat) {
			heartbeat(a);
			next_heartbeat = fc_mono_ms() + a->config->heartbeat_s * 1000;
		}
		rd_kafka_poll(a->producer, 0);
		upload_progress(a);
		reap(a);
		rd_kafka_message_t *m = rd_kafka_consumer_poll(a->consumer, 200);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
			fc_err_set(err, FC_ERR_FATAL, "jobs consumer: %s",
				   rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			return -1;
		}
		if (!m->err) {
			handle_job(a, m);
			rd_kafka_commit_message(a->consumer, m, 1);
		}
		rd_kafka_message_destroy(m);
	}
	/* Shutdown: every session stops and sends its final report, once. */
	atomic_store(&a->stopping, 1);
	pthread_mutex_lock(&a->lock);
	for (struct wk_job *j = a->jobs; j; j = j->next)
		if (j->session)
			wk_session_stop(j->session);
	pthread_mutex_unlock(&a->lock);
	while (a->jobs) {
		reap(a);
		rd_kafka_poll(a->producer, 50);
	}
	FC_INFO("worker", "stopped");
	return 0;
}
