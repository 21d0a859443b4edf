/* api_workers: the live view of `workers`; see api_workers.h. */
#include "api_workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_table.h"

struct host {
	struct fc_table_node node; /* in api_workers.hosts, under its id */
	char *id;
	uint8_t *value; /* packed heartbeat */
	size_t len;
};

struct api_workers {
	rd_kafka_t *consumer;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	struct fc_table hosts;
};

static struct host *host_of(struct fc_table_node *n)
{
	return n ? FC_CONTAINER_OF(n, struct host, node) : NULL;
}

static void drop(struct api_workers *w, struct host *h)
{
	fc_table_remove(&w->hosts, &h->node);
	free(h->id);
	free(h->value);
	free(h);
}

/* Keeps the record as its host's latest (a tombstone forgets the host). */
static void apply(struct api_workers *w, const rd_kafka_message_t *m)
{
	struct host *h;

	if (!m->key || !m->key_len)
		return;
	h = host_of(fc_table_find(&w->hosts, m->key, m->key_len));
	if (!m->payload || !m->len) {
		if (h)
			drop(w, h);
		return;
	}
	uint8_t *value = malloc(m->len);
	if (!value)
		return;
	memcpy(value, m->payload, m->len);
	if (!h) {
		if (!(h = calloc(1, sizeof(*h))) || !(h->id = strndup(m->key, m->key_len)) ||
		    fc_table_insert(&w->hosts, &h->node, h->id, m->key_len) != 0) {
			if (h)
				free(h->id);
			free(h);
			free(value);
			return;
		}
	}
	free(h->value);
	h->value = value;
	h->len = m->len;
}

static void *run(void *opaque)
{
	struct api_workers *w = opaque;

	while (!atomic_load(&w->stop)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(w->consumer, 200);
		if (!m)
			continue;
		if (!m->err) {
			pthread_mutex_lock(&w->lock);
			apply(w, m);
			pthread_mutex_unlock(&w->lock);
		} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			FC_WARN("api", "workers: %s", rd_kafka_message_errstr(m));
		}
		rd_kafka_message_destroy(m);
	}
	return NULL;
}

struct api_workers *api_workers_start(const char *brokers, const struct fc_kv_list *kafka,
				      const char *topic, struct fc_err *err)
{
	struct api_workers *w = calloc(1, sizeof(*w));

	if (!w) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	if (!(w->consumer = fc_kafka_reader_new(brokers, kafka, err)) ||
	    fc_kafka_assign_all(w->consumer, topic, RD_KAFKA_OFFSET_BEGINNING, err) < 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "cannot start the workers thread");
		goto fail;
	}
	return w;
fail:
	if (w->consumer)
		rd_kafka_destroy(w->consumer);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

static int by_host(const void *a, const void *b)
{
	return strcmp((*(api_heartbeat_t *const *)a)->host_id,
		      (*(api_heartbeat_t *const *)b)->host_id);
}

size_t api_workers_list(struct api_workers *w, const char *sub, const char *region,
			api_heartbeat_t ***out)
{
	size_t n = 0, cap = 0;
	api_heartbeat_t **list = NULL;

	pthread_mutex_lock(&w->lock);
	for (struct fc_table_node *node = fc_table_first(&w->hosts); node;
	     node = fc_table_next(&w->hosts, node)) {
		struct host *h = host_of(node);
		api_heartbeat_t *hb =
			fleetcap__v1__worker_heartbeat__unpack(NULL, h->len, h->value);
		if (!hb)
			continue;
		if (strcmp(hb->subscription, sub) != 0 || strcmp(hb->region, region) != 0) {
			api_heartbeat_free(hb);
			continue;
		}
		if (n == cap) {
			api_heartbeat_t **grown =
				realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*grown));
			if (!grown) {
				api_heartbeat_free(hb);
				break;
			}
			list = grown;
		}
		list[n++] = hb;
	}
	pthread_mutex_unlock(&w->lock);
	qsort(list, n, sizeof(*list), by_host);
	*out = list;
	return n;
}

void api_heartbeat_free(api_heartbeat_t *hb)
{
	fleetcap__v1__worker_heartbeat__free_unpacked(hb, NULL);
}

void api_workers_stop(struct api_workers *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, 1);
	pthread_join(w->thread, NULL);
	rd_kafka_destroy(w->consumer);
	for (struct fc_table_node *n = fc_table_first(&w->hosts), *next; n; n = next) {
		struct host *h = host_of(n);
		next = fc_table_next(&w->hosts, n);
		free(h->id);
		free(h->value);
		free(h);
	}
	fc_table_clear(&w->hosts);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
