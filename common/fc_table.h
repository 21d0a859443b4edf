/*
 * fc_table: a hash table of string keys that grows with what it holds, for
 * the tables fleetcap keeps per key: quota keys (scheduler), live workers
 * (scheduler), captures (API status view).
 *
 * Intrusive: the caller embeds a struct fc_table_node in its own struct,
 * points the node at the struct's key (which must live as long as the node
 * is in the table) and gets its struct back with FC_CONTAINER_OF. A zeroed
 * struct fc_table is empty and ready; buckets are allocated on the first
 * insert and doubled when chains grow past two on average. When doubling
 * fails the table keeps its size and chains grow; only a first insert can
 * fail, for want of any bucket.
 *
 *   struct host { struct fc_table_node node; char *id; ... };
 *   fc_table_insert(&t, &h->node, h->id, strlen(h->id));
 *   struct fc_table_node *n = fc_table_find(&t, id, len);
 *   struct host *h = n ? FC_CONTAINER_OF(n, struct host, node) : NULL;
 *   for (n = fc_table_first(&t); n; n = next) { next = fc_table_next(&t, n); ... }
 */
#ifndef FC_TABLE_H
#define FC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define FC_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct fc_table_node {
	struct fc_table_node *next;
	const char *key; /* the owner's; not necessarily NUL-terminated */
	size_t key_len;
	uint32_t hash;
};

struct fc_table {
	struct fc_table_node **buckets;
	size_t n_buckets; /* a power of two, or 0 before the first insert */
	size_t count;
};

/* The node with this key, or NULL. */
struct fc_table_node *fc_table_find(const struct fc_table *t, const void *key, size_t len);

/* Adds n under key (not already in t). 0, or -1 when t has no bucket and
 * cannot get one (out of memory). */
int fc_table_insert(struct fc_table *t, struct fc_table_node *n, const void *key, size_t len);

/* Takes n out of t; n is the caller's again. */
void fc_table_remove(struct fc_table *t, struct fc_table_node *n);

/* Every node once, in no particular order. Take next before removing n. */
struct fc_table_node *fc_table_first(const struct fc_table *t);
struct fc_table_node *fc_table_next(const struct fc_table *t, const struct fc_table_node *n);

/* Frees the buckets (the nodes are the caller's); t is empty again. */
void fc_table_clear(struct fc_table *t);

#endif
