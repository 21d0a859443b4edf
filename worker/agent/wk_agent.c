/*
 * wk_agent: the worker agent's core (see wk_agent.h): set-up, the run loop,
 * and the jobs it reads from Kafka; the parts are in wk_agent_int.h.
 */
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

/* The key the scheduler seals this host's secrets for: kept in state.dir,
 * so that jobs sealed before a restart still open after it. */
static int open_seal_key(struct wk_agent *a, struct fc_err *err)
{
	char path[1100];

	if (!*a->config->state_dir) {
		FC_WARN("worker", "no state.dir: the seal key lives in memory, and a SAS token "
				  "sealed before a restart will not open after it");
		a->seal_key = fc_seal_key_new(err);
	} else if (snprintf(path, sizeof(path), "%s/seal.key", a->config->state_dir) <
		   (int)sizeof(path)) {
		a->seal_key = fc_seal_key_open(path, err);
	} else {
		fc_err_set(err, FC_ERR_INVALID, "state.dir: too long");
	}
	return a->seal_key ? 0 : -1;
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
	struct wk_job *job = agent_find_job(a, msg->session_id);
	pthread_mutex_unlock(&a->lock);
	if (msg->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START && msg->spec && !job &&
	    a->journal && wk_journal_known(a->journal, msg->session_id))
		FC_INFO("worker", "session %s was already run here: START ignored",
			msg->session_id); /* delivered again after a restart */
	else if (msg->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START && msg->spec && !job)
		agent_start_job(a, msg);
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
		agent_report(j, &r, NULL);
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
		agent_free_job(job);
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
		rd_kafka_conf_set_dr_msg_cb(conf, agent_on_delivery);
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
	rd_kafka_resp_err_t e;
	int rc = -1;

	if (fc_kafka_committed(a->consumer, list, 60000, err) != 0)
		goto out;
	if (tp->offset < 0) {
		if (fc_kafka_watermarks(a->consumer, topic, a->partition, &lo, &hi, 30000, err) !=
		    0)
			goto out;
		tp->offset = hi;
	}
	if ((e = rd_kafka_assign(a->consumer, list))) {
		fc_err_set(err, FC_ERR_FATAL, "%s [%d]: %s", topic, a->partition,
			   rd_kafka_err2str(e));
		goto out;
	}
	FC_INFO("worker", "reading jobs from %s [%d] at offset %lld", topic, a->partition,
		(long long)tp->offset);
	rc = 0;
out:
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
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
	/* Group and instance ids are names, as capture names are. */
	if ((*config->group && !fc_valid_name(config->group)) ||
	    (*config->instance && !fc_valid_name(config->instance))) {
		int bad_group = *config->group && !fc_valid_name(config->group);
		fc_err_set(err, FC_ERR_INVALID,
			   "%s \"%.80s\" is not valid: expected 1-80 of A-Z a-z 0-9 _ . -, "
			   "beginning with a letter or digit",
			   bad_group ? "group" : "instance",
			   bad_group ? config->group : config->instance);
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
	if (open_seal_key(a, err) != 0)
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
	fc_seal_key_free(a->seal_key);
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
int wk_agent_run(struct wk_agent *a, atomic_int *stop, struct fc_err *err)
{
	int64_t next_heartbeat;

	/* Registered once Kafka has the first heartbeat: from then on a create
	 * for this host is admitted, so the line below means "ready". */
	agent_heartbeat(a);
	rd_kafka_flush(a->producer, 30000);
	next_heartbeat = fc_mono_ms() + a->config->heartbeat_s * 1000;
	atomic_store(&a->ready, 1);
	FC_INFO("worker", "host %s in %s/%s, capturing under %s, %zu storage account keys",
		a->config->host_id, a->config->subscription, a->config->region,
		a->config->capture_root, a->n_keys);
	agent_report_interrupted(a);
	while (!*stop) {
		if (fc_mono_ms() >= next_heartbeat) {
			agent_heartbeat(a);
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
