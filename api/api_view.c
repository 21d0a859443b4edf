/* api_view: the live view of `status`; see api_view.h. */
#include "api_view.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_table.h"

/* Recent answers, newest last: enough for the requests waited on at once. */
#define ANSWERS 1024

struct entry {
	struct fc_table_node node; /* in api_view.entries, under key */
	char *key;
	uint8_t *value; /* packed CaptureStatus */
	size_t len;
	int state;
};

struct answer {
	char request_id[40];
	uint8_t *value;
	size_t len;
};

struct api_view {
	rd_kafka_t *consumer;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct fc_table entries; /* of struct entry: captures not deleted */
	struct answer answers[ANSWERS];
	size_t next_answer;
	int32_t partitions;
	unsigned char *at_end; /* per partition: its end was reached once */
	int32_t ended;
};

static struct entry *entry_of(struct fc_table_node *n)
{
	return n ? FC_CONTAINER_OF(n, struct entry, node) : NULL;
}

static struct entry *find(struct api_view *v, const char *key)
{
	return entry_of(fc_table_find(&v->entries, key, strlen(key)));
}

static uint8_t *copy(const void *p, size_t len)
{
	uint8_t *out = malloc(len ? len : 1);
	if (out)
		memcpy(out, p, len);
	return out;
}

/* Forgets key (a deleted capture), so the view holds only captures that
 * exist, as the compacted topic does. Called with the lock held. */
static void forget(struct api_view *v, const char *key)
{
	struct entry *e = find(v, key);

	if (!e)
		return;
	fc_table_remove(&v->entries, &e->node);
	free(e->key);
	free(e->value);
	free(e);
}

/* Stores one record; called with the lock held. */
static void apply(struct api_view *v, const rd_kafka_message_t *m)
{
	char key[512];
	struct entry *e;

	if (!m->key || m->key_len >= sizeof(key))
		return;
	memcpy(key, m->key, m->key_len);
	key[m->key_len] = '\0';
	if (!m->payload) { /* tombstone */
		forget(v, key);
		return;
	}
	api_status_t *s = fleetcap__v1__capture_status__unpack(NULL, m->len, m->payload);
	if (!s) {
		FC_WARN("api", "status offset %lld does not parse: skipped", (long long)m->offset);
		return;
	}
	e = find(v, key);
	if (s->deleted) { /* answers below still see it; the view does not */
		forget(v, key);
		e = NULL;
	} else if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strdup(key)) ||
		    fc_table_insert(&v->entries, &e->node, e->key, strlen(e->key)) != 0) {
			if (e)
				free(e->key);
			free(e);
			e = NULL;
		}
	}
	if (e) {
		uint8_t *value = copy(m->payload, m->len);
		if (value) {
			free(e->value);
			e->value = value;
			e->len = m->len;
			e->state = (int)s->state;
		}
	}
	if (s->request_id && *s->request_id) {
		struct answer *a = &v->answers[v->next_answer++ % ANSWERS];
		uint8_t *value = copy(m->payload, m->len);
		if (value) {
			free(a->value);
			a->value = value;
			a->len = m->len;
			snprintf(a->request_id, sizeof(a->request_id), "%s", s->request_id);
		}
	}
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static void *run(void *opaque)
{
	struct api_view *v = opaque;

	while (!atomic_load(&v->stop)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(v->consumer, 200);
		if (!m)
			continue;
		pthread_mutex_lock(&v->lock);
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < v->partitions &&
			    !v->at_end[m->partition]) {
				v->at_end[m->partition] = 1;
				v->ended++;
			}
		} else if (m->err) {
			FC_WARN("api", "status: %s", rd_kafka_message_errstr(m));
		} else {
			apply(v, m);
		}
		pthread_cond_broadcast(&v->changed);
		pthread_mutex_unlock(&v->lock);
		rd_kafka_message_destroy(m);
	}
	return NULL;
}

struct api_view *api_view_start(const char *brokers, const struct fc_kv_list *kafka,
				const char *topic, struct fc_err *err)
{
	struct api_view *v = calloc(1, sizeof(*v));
	int n;

	if (!v) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&v->changed, &attr);
	pthread_condattr_destroy(&attr);
	if (!(v->consumer = fc_kafka_reader_new(brokers, kafka, err)) ||
	    (n = fc_kafka_assign_all(v->consumer, topic, RD_KAFKA_OFFSET_BEGINNING, err)) < 0)
		goto fail;
	v->partitions = n;
	if (!(v->at_end = calloc((size_t)n + 1, 1))) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		goto fail;
	}
	if (pthread_create(&v->thread, NULL, run, v) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "cannot start the status thread");
		goto fail;
	}
	return v;
fail:
	if (v->consumer)
		rd_kafka_destroy(v->consumer);
	free(v->at_end);
	free(v);
	return NULL;
}

static void deadline_of(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int api_view_wait_ready(struct api_view *v, int timeout_ms)
{
	struct timespec until;
	int ready;

	deadline_of(&until, timeout_ms);
	pthread_mutex_lock(&v->lock);
	while (v->ended < v->partitions &&
	       pthread_cond_timedwait(&v->changed, &v->lock, &until) != ETIMEDOUT)
		;
	ready = v->ended >= v->partitions;
	pthread_mutex_unlock(&v->lock);
	return ready ? 0 : -1;
}

/* Called with the lock held. */
static api_status_t *unpack(const struct entry *e)
{
	if (!e || !e->value)
		return NULL;
	return fleetcap__v1__capture_status__unpack(NULL, e->len, e->value);
}

api_status_t *api_view_get(struct api_view *v, const char *key)
{
	pthread_mutex_lock(&v->lock);
	api_status_t *s = unpack(find(v, key));
	pthread_mutex_unlock(&v->lock);
	return s;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(api_status_t *const *)a)->name, (*(api_status_t *const *)b)->name);
}

size_t api_view_list(struct api_view *v, const char *sub, const char *region, api_status_t ***out)
{
	char prefix[200];
	size_t n = 0, cap = 16, plen;
	api_status_t **list = malloc(cap * sizeof(*list));

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/%s/", sub, region);
	pthread_mutex_lock(&v->lock);
	for (struct fc_table_node *node = list ? fc_table_first(&v->entries) : NULL; node;
	     node = fc_table_next(&v->entries, node)) {
		struct entry *e = entry_of(node);
		if (strncmp(e->key, prefix, plen) != 0)
			continue;
		api_status_t *s = unpack(e);
		if (!s)
			continue;
		if (n == cap) {
			api_status_t **grown = realloc(list, 2 * cap * sizeof(*list));
			if (!grown) {
				api_status_free(s);
				continue;
			}
			list = grown;
			cap *= 2;
		}
		list[n++] = s;
	}
	pthread_mutex_unlock(&v->lock);
	if (list)
		qsort(list, n, sizeof(*list), by_name);
	*out = list;
	return n;
}

/* The newest recorded answer to request_id; called with the lock held. */
static api_status_t *find_answer(struct api_view *v, const char *request_id)
{
	for (size_t i = 0; i < ANSWERS && i < v->next_answer; i++) {
		const struct answer *a = &v->answers[(v->next_answer - 1 - i) % ANSWERS];
		if (a->value && strcmp(a->request_id, request_id) == 0)
			return fleetcap__v1__capture_status__unpack(NULL, a->len, a->value);
	}
	return NULL;
}

api_status_t *api_view_wait_answer(struct api_view *v, const char *request_id, int timeout_ms)
{
	struct timespec until;
	api_status_t *s;

	deadline_of(&until, timeout_ms);
	pthread_mutex_lock(&v->lock);
	while (!(s = find_answer(v, request_id)) &&
	       pthread_cond_timedwait(&v->changed, &v->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&v->lock);
	return s;
}

int api_view_wait_until(struct api_view *v, const char *key,
			int (*done)(const api_status_t *s, void *arg), void *arg, int timeout_ms)
{
	struct timespec until;
	int ok;

	deadline_of(&until, timeout_ms);
	pthread_mutex_lock(&v->lock);
	for (;;) {
		api_status_t *s = unpack(find(v, key));
		ok = done(s, arg);
		api_status_free(s);
		if (ok || pthread_cond_timedwait(&v->changed, &v->lock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

size_t api_view_entries(struct api_view *v)
{
	pthread_mutex_lock(&v->lock);
	size_t n = v->entries.count;
	pthread_mutex_unlock(&v->lock);
	return n;
}

void api_view_count_states(struct api_view *v, size_t counts[5])
{
	memset(counts, 0, 5 * sizeof(counts[0]));
	pthread_mutex_lock(&v->lock);
	for (struct fc_table_node *n = fc_table_first(&v->entries); n;
	     n = fc_table_next(&v->entries, n)) {
		struct entry *e = entry_of(n);
		if (e->value && e->state >= 0 && e->state < 5)
			counts[e->state]++;
	}
	pthread_mutex_unlock(&v->lock);
}

void api_status_free(api_status_t *s)
{
	if (s)
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

void api_statuses_free(api_status_t **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		api_status_free(list[i]);
	free(list);
}

void api_view_stop(struct api_view *v)
{
	if (!v)
		return;
	atomic_store(&v->stop, 1);
	pthread_join(v->thread, NULL);
	rd_kafka_destroy(v->consumer);
	for (struct fc_table_node *n = fc_table_first(&v->entries), *next; n; n = next) {
		struct entry *e = entry_of(n);
		next = fc_table_next(&v->entries, n);
		free(e->key);
		free(e->value);
		free(e);
	}
	fc_table_clear(&v->entries);
	for (size_t i = 0; i < ANSWERS; i++)
		free(v->answers[i].value);
	free(v->at_end);
	pthread_cond_destroy(&v->changed);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
