/* api_rate: requests per second per API token; see api_rate.h. */
#include "api_rate.h"

#include <pthread.h>
#include <stdlib.h>

struct bucket {
	double level;
	int64_t last_ms;
};

struct api_rate {
	pthread_mutex_t lock;
	double per_ms, burst;
	unsigned count;
	struct bucket *buckets;
};

struct api_rate *api_rate_new(unsigned count, double per_second, double burst)
{
	struct api_rate *r = calloc(1, sizeof(*r));

	if (!r || !(r->buckets = calloc(count ? count : 1, sizeof(*r->buckets)))) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->per_ms = per_second / 1000.0;
	r->burst = burst < 1 ? 1 : burst;
	r->count = count;
	for (unsigned i = 0; i < count; i++)
		r->buckets[i].level = r->burst;
	return r;
}

void api_rate_free(struct api_rate *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->buckets);
	free(r);
}

int api_rate_take(struct api_rate *r, unsigned token, int64_t now_ms, unsigned *retry_after_s)
{
	int rc = 0;

	if (!r || r->per_ms <= 0 || token >= r->count)
		return 0;
	pthread_mutex_lock(&r->lock);
	struct bucket *b = &r->buckets[token];
	if (b->last_ms && now_ms > b->last_ms)
		b->level += (double)(now_ms - b->last_ms) * r->per_ms;
	if (b->level > r->burst)
		b->level = r->burst;
	b->last_ms = now_ms;
	if (b->level >= 1) {
		b->level -= 1;
	} else {
		/* Whole seconds, rounded up, at least 1. */
		double wait_s = (1 - b->level) / r->per_ms / 1000.0;
		*retry_after_s = (unsigned)wait_s + ((double)(unsigned)wait_s < wait_s ? 1 : 0);
		if (*retry_after_s == 0)
			*retry_after_s = 1;
		rc = -1;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
