/* sched_workers: the live workers table; see sched_workers.h. */
#include "sched_workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_heartbeat.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_spec.h"
#include "fc_table.h"
#include "fleetcap.pb-c.h"

#define CATCH_UP_TIMEOUT_MS 2000

struct host {
	struct fc_table_node node; /* in sched_workers.hosts, under host_id */
	char *host_id;
	Fleetcap__V1__WorkerHeartbeat *hb;
};

struct sched_workers {
	rd_kafka_t *rk;
	char *topic;
	int32_t partitions;
	long long stale_factor;
	struct fc_table hosts; /* of struct host */
};

static struct host *find_host(const struct sched_workers *w, const char *id, size_t len)
{
	struct fc_table_node *n = fc_table_find(&w->hosts, id, len);
	return n ? FC_CONTAINER_OF(n, struct host, node) : NULL;
}

/* A heartbeat (or a tombstone: the host left) for key. */
static void apply_record(struct sched_workers *w, const rd_kafka_message_t *m)
{
	Fleetcap__V1__WorkerHeartbeat *hb = NULL;
	struct host *h;

	if (!m->key || !m->key_len || m->key_len > FC_TARGET_MAX)
		return;
	if (m->payload && m->len) {
		hb = fleetcap__v1__worker_heartbeat__unpack(NULL, m->len, m->payload);
		if (!hb || strlen(hb->host_id) != m->key_len ||
		    memcmp(hb->host_id, m->key, m->key_len) != 0) {
			FC_WARN("sched", "workers record for %.*s is malformed: ignored",
				(int)m->key_len, (const char *)m->key);
			if (hb)
				fleetcap__v1__worker_heartbeat__free_unpacked(hb, NULL);
			return;
		}
	}
	h = find_host(w, m->key, m->key_len);
	if (!h) {
		if (!hb || !(h = calloc(1, sizeof(*h))) ||
		    !(h->host_id = strndup(m->key, m->key_len)) ||
		    fc_table_insert(&w->hosts, &h->node, h->host_id, m->key_len) != 0) {
			if (h)
				free(h->host_id);
			free(h);
			if (hb)
				fleetcap__v1__worker_heartbeat__free_unpacked(hb, NULL);
			return;
		}
	}
	if (h->hb)
		fleetcap__v1__worker_heartbeat__free_unpacked(h->hb, NULL);
	h->hb = hb; /* NULL after a tombstone: the host is unknown again */
}

struct sched_workers *sched_workers_new(const char *brokers, const struct fc_kv_list *kafka_props,
					const char *topic, long long stale_factor,
					struct fc_err *err)
{
	struct sched_workers *w = calloc(1, sizeof(*w));

	if (!w || !(w->topic = strdup(topic))) {
		free(w);
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	w->stale_factor = stale_factor;
	if (!(w->rk = fc_kafka_reader_new(brokers, kafka_props, err)))
		goto fail;
	if ((w->partitions = fc_topic_partition_count(w->rk, topic, 30000, err)) < 0)
		goto fail;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(w->partitions);
	for (int32_t p = 0; p < w->partitions; p++)
		rd_kafka_topic_partition_list_add(list, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t e = rd_kafka_assign(w->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (e) {
		fc_err_set(err, FC_ERR_FATAL, "%s: cannot assign: %s", topic, rd_kafka_err2str(e));
		goto fail;
	}
	return w;
fail:
	sched_workers_destroy(w);
	return NULL;
}

void sched_workers_destroy(struct sched_workers *w)
{
	if (!w)
		return;
	for (struct fc_table_node *n = fc_table_first(&w->hosts), *next; n; n = next) {
		struct host *h = FC_CONTAINER_OF(n, struct host, node);
		next = fc_table_next(&w->hosts, n);
		if (h->hb)
			fleetcap__v1__worker_heartbeat__free_unpacked(h->hb, NULL);
		free(h->host_id);
		free(h);
	}
	fc_table_clear(&w->hosts);
	if (w->rk) {
		rd_kafka_consumer_close(w->rk);
		rd_kafka_destroy(w->rk);
	}
	free(w->topic);
	free(w);
}

/* Polls until each partition in [first, last] has been read up to its end. */
static int catch_up(struct sched_workers *w, int32_t first, int32_t last, int timeout_ms,
		    struct fc_err *err)
{
	int64_t deadline = fc_mono_ms() + timeout_ms;

	for (int32_t p = first; p <= last; p++) {
		int64_t lo, hi;
		if (fc_kafka_watermarks(w->rk, w->topic, p, &lo, &hi, timeout_ms, err) != 0)
			return -1;
		for (;;) {
			rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
			rd_kafka_topic_partition_list_add(pos, w->topic, p);
			rd_kafka_position(w->rk, pos);
			int64_t at = pos->elems[0].offset;
			rd_kafka_topic_partition_list_destroy(pos);
			if (hi <= lo || at >= hi)
				break;
			if (fc_mono_ms() > deadline) {
				fc_err_set(err, FC_ERR_RETRY,
					   "%s [%d]: not read to the end within %d ms", w->topic, p,
					   timeout_ms);
				return -1;
			}
			rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, 100);
			if (m) {
				if (!m->err)
					apply_record(w, m);
				rd_kafka_message_destroy(m);
			}
		}
	}
	return 0;
}

int sched_workers_load(struct sched_workers *w, int timeout_ms, struct fc_err *err)
{
	if (catch_up(w, 0, w->partitions - 1, timeout_ms, err) != 0)
		return -1;
	FC_INFO("sched", "workers table: %zu hosts", w->hosts.count);
	return 0;
}

void sched_workers_poll(struct sched_workers *w)
{
	rd_kafka_message_t *m;

	while ((m = rd_kafka_consumer_poll(w->rk, 0))) {
		if (!m->err)
			apply_record(w, m);
		rd_kafka_message_destroy(m);
	}
}

size_t sched_workers_count(const struct sched_workers *w)
{
	return w->hosts.count;
}

/* 0 when h is a fresh registration in subscription/region, else -1 with why. */
static int judge(const struct sched_workers *w, const struct host *h, const char *target,
		 const char *subscription, const char *region, int64_t now_ms, char *why,
		 size_t len)
{
	const Fleetcap__V1__WorkerHeartbeat *hb = h ? h->hb : NULL;

	/* An unknown host and another tenant's host get the same answer: a
	 * request never learns what exists outside its own tenant. */
	if (!hb || strcmp(hb->subscription, subscription) != 0 || strcmp(hb->region, region) != 0) {
		snprintf(why, len, "host \"%s\" is not registered in %s/%s", target, subscription,
			 region);
		return -1;
	}
	int64_t age = now_ms - hb->time_ms,
		stale_ms = fc_heartbeat_stale_after_ms(hb, w->stale_factor);
	if (age > stale_ms) {
		snprintf(why, len,
			 "host \"%s\" has not sent a heartbeat for %lld s (stale after %lld s)",
			 target, (long long)(age / 1000), (long long)(stale_ms / 1000));
		return -1;
	}
	return 0;
}

int sched_workers_alive(void *opaque, const char *target, int64_t now_ms, int64_t grace_ms)
{
	const struct sched_workers *w = opaque;
	const struct host *h = find_host(w, target, strlen(target));
	const Fleetcap__V1__WorkerHeartbeat *hb = h ? h->hb : NULL;

	if (!hb)
		return 0; /* deregistered (tombstone) */
	return now_ms - hb->time_ms <= fc_heartbeat_stale_after_ms(hb, w->stale_factor) + grace_ms;
}

int sched_workers_check(void *opaque, const char *target, const char *subscription,
			const char *region, int64_t now_ms, char *why, size_t len)
{
	struct sched_workers *w = opaque;
	struct fc_err err;
	size_t n = strlen(target);

	if (judge(w, find_host(w, target, n), target, subscription, region, now_ms, why, len) == 0)
		return 0;
	int32_t p = fc_partition_for_key(target, n, w->partitions);
	if (catch_up(w, p, p, CATCH_UP_TIMEOUT_MS, &err) != 0)
		FC_WARN("sched", "workers table: %s", err.msg);
	return judge(w, find_host(w, target, n), target, subscription, region, now_ms, why, len);
}

size_t sched_workers_group(void *opaque, const char *group, const char *subscription,
			   const char *region, int64_t now_ms, int refresh,
			   struct sched_member *out, size_t max)
{
	struct sched_workers *w = opaque;
	struct fc_err err;
	size_t n = 0;
	char why[8];

	if (refresh && catch_up(w, 0, w->partitions - 1, CATCH_UP_TIMEOUT_MS, &err) != 0)
		FC_WARN("sched", "workers table: %s", err.msg);
	for (struct fc_table_node *node = fc_table_first(&w->hosts); node;
	     node = fc_table_next(&w->hosts, node)) {
		const struct host *h = FC_CONTAINER_OF(node, struct host, node);
		if (!h->hb || strcmp(h->hb->group, group) != 0 ||
		    judge(w, h, h->host_id, subscription, region, now_ms, why, sizeof(why)) != 0)
			continue;
		if (n < max) {
			out[n].instance = fc_heartbeat_instance(h->hb);
			out[n].host_id = h->host_id;
		}
		n++;
	}
	return n;
}

int sched_workers_key(void *opaque, const char *host, uint8_t out[32])
{
	const struct sched_workers *w = opaque;
	const struct host *h = find_host(w, host, strlen(host));

	if (!h || !h->hb || h->hb->seal_key.len != 32)
		return -1;
	memcpy(out, h->hb->seal_key.data, 32);
	return 0;
}
