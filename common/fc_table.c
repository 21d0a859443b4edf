/* fc_table: see fc_table.h. */
#include "fc_table.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_BUCKETS 64

/* FNV-1a: short keys, no adversary choosing them beyond a tenant's own. */
static uint32_t hash_of(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Moves every node into n_buckets new buckets; keeps the old ones on failure. */
static void resize(struct fc_table *t, size_t n_buckets)
{
	struct fc_table_node **buckets = calloc(n_buckets, sizeof(*buckets));

	if (!buckets)
		return;
	for (size_t b = 0; b < t->n_buckets; b++)
		for (struct fc_table_node *n = t->buckets[b], *next; n; n = next) {
			next = n->next;
			n->next = buckets[n->hash & (n_buckets - 1)];
			buckets[n->hash & (n_buckets - 1)] = n;
		}
	free(t->buckets);
	t->buckets = buckets;
	t->n_buckets = n_buckets;
}

struct fc_table_node *fc_table_find(const struct fc_table *t, const void *key, size_t len)
{
	uint32_t h = hash_of(key, len);

	if (!t->n_buckets)
		return NULL;
	for (struct fc_table_node *n = t->buckets[h & (t->n_buckets - 1)]; n; n = n->next)
		if (n->hash == h && n->key_len == len && memcmp(n->key, key, len) == 0)
			return n;
	return NULL;
}

int fc_table_insert(struct fc_table *t, struct fc_table_node *n, const void *key, size_t len)
{
	if (!t->n_buckets)
		resize(t, FIRST_BUCKETS);
	else if (t->count >= t->n_buckets * 2)
		resize(t, t->n_buckets * 2); /* on failure, chains just grow */
	if (!t->n_buckets)
		return -1;
	n->key = key;
	n->key_len = len;
	n->hash = hash_of(key, len);
	struct fc_table_node **bucket = &t->buckets[n->hash & (t->n_buckets - 1)];
	n->next = *bucket;
	*bucket = n;
	t->count++;
	return 0;
}

void fc_table_remove(struct fc_table *t, struct fc_table_node *n)
{
	struct fc_table_node **p = &t->buckets[n->hash & (t->n_buckets - 1)];

	while (*p && *p != n)
		p = &(*p)->next;
	if (*p) {
		*p = n->next;
		n->next = NULL;
		t->count--;
	}
}

/* The first node in bucket b or after it. */
static struct fc_table_node *from_bucket(const struct fc_table *t, size_t b)
{
	for (; b < t->n_buckets; b++)
		if (t->buckets[b])
			return t->buckets[b];
	return NULL;
}

struct fc_table_node *fc_table_first(const struct fc_table *t)
{
	return from_bucket(t, 0);
}

struct fc_table_node *fc_table_next(const struct fc_table *t, const struct fc_table_node *n)
{
	return n->next ? n->next : from_bucket(t, (n->hash & (t->n_buckets - 1)) + 1);
}

void fc_table_clear(struct fc_table *t)
{
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}
