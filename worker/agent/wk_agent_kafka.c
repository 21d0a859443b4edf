/*
 * wk_agent_kafka: what the agent sends to Kafka: capture reports, final
 * reports delivered until Kafka acknowledges them, and heartbeats.
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
#include "fc_seal.h"
#include "fc_spec.h"
#include "sink_azblob.h"
#include "sink_disk.h"
#include "wk_journal.h"
#include "wk_metrics.h"
#include "wk_uploader.h"
#include "wk_session.h"
#include "wk_agent_int.h"

void agent_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
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
rd_kafka_resp_err_t agent_produce_tracked(struct wk_agent *a, enum fc_topic topic, const char *key,
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
	agent_produce_tracked(a, topic, key, msg, NULL);
}

/*
 * Sends a final report and waits until Kafka has acknowledged it, sending it
 * again after each failure (Kafka away past message.timeout.ms) with a
 * growing pause, for as long as the agent runs. Returns 0 once delivered, -1
 * when the agent stops first: the journal still holds the report then, and
 * the next start sends it.
 */
int agent_deliver(struct wk_agent *a, const char *key, const ProtobufCMessage *msg,
		  const char *session_id)
{
	int64_t pause_ms = 1000;

	for (int attempt = 1;; attempt++) {
		struct delivery d = {.state = DELIVERY_PENDING};
		rd_kafka_resp_err_t e = agent_produce_tracked(a, FC_TOPIC_RESULTS, key, msg, &d);
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

void agent_heartbeat(struct wk_agent *a)
{
	Fleetcap__V1__WorkerHeartbeat hb = FLEETCAP__V1__WORKER_HEARTBEAT__INIT;
	const struct wk_config *c = a->config;

	fc_metric_add(a->metrics->heartbeats, 1);
	hb.host_id = c->host_id;
	hb.group = c->group;
	hb.instance = *c->instance ? c->instance : c->host_id;
	hb.seal_key.data = (uint8_t *)fc_seal_key_public(a->seal_key);
	hb.seal_key.len = FC_SEAL_KEY_LEN;
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
void agent_fill_report(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
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
	r->instance = *job->agent->config->instance ? job->agent->config->instance
						    : job->agent->config->host_id;
	r->time_ms = fc_wall_ms();
	r->capture_start_time_ms = job->start_ms;
	r->seq = __atomic_add_fetch(&job->seq, 1, __ATOMIC_SEQ_CST);
}

/* A report for job; counters and r's other fields as given. */
void agent_report(struct wk_job *job, Fleetcap__V1__CaptureReport *r,
		  const struct wk_counters *counters)
{
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;

	agent_fill_report(job, r, counters, &c);
	send_report(job->agent, r);
}

void agent_report_failed(struct wk_job *job, int error, const char *message)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;

	FC_WARN("worker", "session %s failed: %s: %s", job->session_id, fc_error_code_name(error),
		message);
	r.kind = FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
	r.error = error;
	r.error_message = (char *)message;
	r.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
	agent_report(job, &r, NULL);
}
