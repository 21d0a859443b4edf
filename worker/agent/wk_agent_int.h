/*
 * wk_agent_int.h: what the parts of the worker agent share (wk_agent*.c).
 * Not for use outside them: the interface is wk_agent.h. Functions named
 * agent_* are internal to these files.
 */
#ifndef WK_AGENT_INT_H
#define WK_AGENT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "fc_spec.h"
#include "wk_agent.h"
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
	/* Opens the SAS tokens of this host's jobs (state.dir/seal.key, else in
	 * memory); its public half goes out in every heartbeat. */
	struct fc_seal_key *seal_key;
	struct wk_metrics *metrics;
	struct azblob_key *keys; /* blob.key.ACCOUNT, decoded */
	size_t n_keys;
	atomic_int ready;     /* the first heartbeat is in Kafka */
	atomic_int stopping;  /* the run loop is ending: final reports stop retrying */
	pthread_mutex_t lock; /* the jobs list */
	struct wk_job *jobs;
	size_t active;
};

/*
 * The outcome of one message whose delivery matters (a final report): the
 * delivery report callback sets it, on whichever thread polls the producer.
 */
struct delivery {
	atomic_int state; /* DELIVERY_PENDING, then _DONE or _FAILED */
	rd_kafka_resp_err_t err;
};

enum { DELIVERY_PENDING, DELIVERY_DONE, DELIVERY_FAILED };

/* wk_agent_job.c */
struct wk_job *agent_find_job(struct wk_agent *a, const char *session_id);
void agent_finish_session(struct wk_job *job, Fleetcap__V1__CaptureReport *r, int again);
void agent_free_job(struct wk_job *job);
int agent_launch(struct wk_agent *a, struct wk_job *job, void *(*fn)(void *));
void *agent_run_resume(void *opaque);
void agent_start_job(struct wk_agent *a, Fleetcap__V1__Job *msg);

/* Opens spec's sealed SAS token (sealed for this host, bound to session_id)
 * into spec->blob_sas, in memory only. 0 (also when there is none), or -1. */
int agent_open_secret(struct wk_agent *a, const char *session_id, fc_spec_t *spec,
		      struct fc_err *err);

/* wk_agent_kafka.c */
int agent_deliver(struct wk_agent *a, const char *key, const ProtobufCMessage *msg,
		  const char *session_id);
void agent_fill_report(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
		       const struct wk_counters *counters, Fleetcap__V1__Counters *c);
void agent_heartbeat(struct wk_agent *a);
void agent_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
rd_kafka_resp_err_t agent_produce_tracked(struct wk_agent *a, enum fc_topic topic, const char *key,
					  const ProtobufCMessage *msg, struct delivery *d);
void agent_report(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
		  const struct wk_counters *counters);
void agent_report_failed(struct wk_job *job, int error, const char *message);

/* wk_agent_recover.c */
void agent_report_interrupted(struct wk_agent *a);

#endif
