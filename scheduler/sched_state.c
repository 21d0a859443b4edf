/*
 * sched_state: the per-quota-key state machine's keys table and batches; the
 * design is in sched_state.h, the parts in sched_state_int.h.
 *
 * A key's whole state is one LedgerState message (active and queued entries,
 * finished names, alert cooldowns), kept unpacked in memory and mutated in
 * place. A batch remembers each key it changes, packed as it was before, so
 * that a rollback restores it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fc_log.h"
#include "fc_spec.h"
#include "sched_alerts.h"
#include "sched_state_int.h"

int ss_push(void *array_ptr, size_t *n, void *item)
{
	void ***array = array_ptr;
	void **grown = realloc(*array, (*n + 1) * sizeof(void *));

	if (!grown)
		return -1;
	grown[(*n)++] = item;
	*array = grown;
	return 0;
}

/* Removes item i, keeping the order (queues are FIFO). */
void *ss_take(void *array_ptr, size_t *n, size_t i)
{
	void **array = *(void ***)array_ptr;
	void *item = array[i];

	memmove(&array[i], &array[i + 1], (*n - i - 1) * sizeof(void *));
	(*n)--;
	return item;
}

void ss_free_entry(entry_t *e)
{
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
}

/* ---------------------------------------------------------------- keys */

struct sched_key *ss_find_key(struct sched_state *st, const char *key)
{
	return ss_key_of(fc_table_find(&st->keys, key, strlen(key)));
}

static ledger_t *new_ledger(const char *key)
{
	ledger_t *ls = calloc(1, sizeof(*ls));
	const char *slash = strchr(key, '/');

	if (!ls)
		return NULL;
	fleetcap__v1__ledger_state__init(ls);
	ls->subscription = strndup(key, (size_t)(slash - key));
	ls->region = strdup(slash + 1);
	if (!ls->subscription || !ls->region) {
		protobuf_c_message_free_unpacked(&ls->base, NULL);
		return NULL;
	}
	return ls;
}

/* Finds or creates the key (which must hold one '/') and puts it on the
 * batch's touched list. NULL when out of memory. */
struct sched_key *ss_touch_key(struct sched_state *st, int32_t partition, const char *key)
{
	struct sched_key *k = ss_find_key(st, key);

	if (!k) {
		if (strlen(key) >= KEY_MAX || !(k = calloc(1, sizeof(*k))))
			return NULL;
		snprintf(k->key, sizeof(k->key), "%s", key);
		k->partition = partition;
		if (!(k->ls = new_ledger(key)) ||
		    fc_table_insert(&st->keys, &k->node, k->key, strlen(k->key)) != 0) {
			if (k->ls)
				protobuf_c_message_free_unpacked(&k->ls->base, NULL);
			free(k);
			return NULL;
		}
		k->touched = 1;
		k->existed = 0;
		k->next_touched = st->touched;
		st->touched = k;
		return k;
	}
	if (!k->touched) {
		k->existed = 1;
		k->touched = 1;
		k->next_touched = st->touched;
		st->touched = k;
	}
	return k;
}

/*
 * Called before the batch first changes k: keeps its packed state for a
 * rollback and marks it for the ledger. Most inputs (a create rejected at
 * quota, a report of an unknown session) change nothing and never get here,
 * which spares packing the whole state of every key a batch reads.
 */
void ss_mutate(struct sched_key *k)
{
	if (k->mutated)
		return;
	k->mutated = 1;
	if (!k->existed)
		return;
	k->before_len = protobuf_c_message_get_packed_size(&k->ls->base);
	k->before = malloc(k->before_len ? k->before_len : 1);
	if (k->before)
		protobuf_c_message_pack(&k->ls->base, k->before);
	else /* only an abort needs the copy: sched_state_rollback then fails */
		FC_ERROR("sched", "out of memory: an abort of this batch cannot restore %s",
			 k->key);
}

static void unlink_key(struct sched_state *st, struct sched_key *k)
{
	fc_table_remove(&st->keys, &k->node);
}

static void free_key(struct sched_key *k)
{
	if (!k)
		return;
	if (k->ls)
		protobuf_c_message_free_unpacked(&k->ls->base, NULL);
	free(k->before);
	free(k);
}

struct sched_state *sched_state_new(const struct sched_policy *policy)
{
	struct sched_state *st = calloc(1, sizeof(*st));

	if (st)
		st->policy = *policy;
	return st;
}

void sched_state_destroy(struct sched_state *st)
{
	if (!st)
		return;
	for (struct fc_table_node *n = fc_table_first(&st->keys), *next; n; n = next) {
		next = fc_table_next(&st->keys, n);
		free_key(ss_key_of(n));
	}
	fc_table_clear(&st->keys);
	free(st);
}

int sched_state_load(struct sched_state *st, int32_t partition, const char *key, const void *value,
		     size_t len)
{
	struct sched_key *k = ss_find_key(st, key);
	ledger_t *ls = NULL;

	if (value && len) {
		ls = fleetcap__v1__ledger_state__unpack(NULL, len, value);
		if (!ls) {
			FC_ERROR("sched", "ledger record for %.130s does not parse; key left empty",
				 key);
			return -1;
		}
	}
	if (k) {
		unlink_key(st, k);
		free_key(k);
	}
	if (!ls || !strchr(key, '/') || strlen(key) >= KEY_MAX) {
		if (ls)
			protobuf_c_message_free_unpacked(&ls->base, NULL);
		return 0;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		protobuf_c_message_free_unpacked(&ls->base, NULL);
		return -1;
	}
	snprintf(k->key, sizeof(k->key), "%s", key);
	k->partition = partition;
	k->ls = ls;
	if (fc_table_insert(&st->keys, &k->node, k->key, strlen(k->key)) != 0) {
		free_key(k);
		return -1;
	}
	return 0;
}

void sched_state_renew_leases(struct sched_state *st, const int32_t *partitions, size_t count,
			      int64_t now_ms)
{
	int64_t floor = now_ms + st->policy.lease_grace_ms;

	for (struct fc_table_node *n = fc_table_first(&st->keys); n;
	     n = fc_table_next(&st->keys, n)) {
		struct sched_key *k = ss_key_of(n);
		size_t i = 0;
		while (i < count && partitions[i] != k->partition)
			i++;
		if (i == count)
			continue;
		for (size_t a = 0; a < k->ls->n_active; a++) {
			entry_t *e = k->ls->active[a];
			if (e->lease_deadline_ms && e->lease_deadline_ms < floor)
				e->lease_deadline_ms = floor;
		}
	}
}

void sched_state_drop_partition(struct sched_state *st, int32_t partition)
{
	sched_state_commit(st); /* no batch is open across a revocation */
	for (struct fc_table_node *n = fc_table_first(&st->keys), *next; n; n = next) {
		struct sched_key *k = ss_key_of(n);
		next = fc_table_next(&st->keys, n);
		if (k->partition == partition) {
			unlink_key(st, k);
			free_key(k);
		}
	}
}

size_t sched_state_key_count(const struct sched_state *st)
{
	return st->keys.count;
}

size_t sched_state_active_count(const struct sched_state *st, const char *key)
{
	struct sched_key *k = ss_find_key((struct sched_state *)st, key);
	return k ? k->ls->n_active : 0;
}

/* ----------------------------------------------------------------- batch */

static int key_empty(const ledger_t *ls)
{
	return !ls->n_active && !ls->n_queued && !ls->n_finished && !ls->n_cooldowns;
}

size_t sched_state_flush(struct sched_state *st, int64_t now_ms)
{
	size_t n = 0;

	for (struct sched_key *k = st->touched; k; k = k->next_touched) {
		if (!k->mutated)
			continue; /* nothing changed: no ledger record */
		n++;
		if (key_empty(k->ls) && !k->ls->session_counter) {
			ss_emit_message(st, FC_TOPIC_LEDGER, k->partition, k->key, NULL);
			continue;
		}
		k->ls->updated_time_ms = now_ms;
		ss_emit_message(st, FC_TOPIC_LEDGER, k->partition, k->key, &k->ls->base);
	}
	return n;
}

/* Takes k off the batch: its copy from before is no longer needed. */
static void end_batch(struct sched_key *k)
{
	free(k->before);
	k->before = NULL;
	k->before_len = 0;
	k->touched = 0;
	k->mutated = 0;
	k->next_touched = NULL;
}

static void add_stats(struct sched_stats *to, const struct sched_stats *from)
{
	to->admitted += from->admitted;
	to->queued += from->queued;
	to->repeated += from->repeated;
	for (int i = 0; i < SCHED_CODES; i++) {
		to->rejected[i] += from->rejected[i];
		to->ended[i] += from->ended[i];
		to->failed[i] += from->failed[i];
	}
}

void sched_state_stats(const struct sched_state *st, struct sched_stats *out)
{
	*out = st->stats;
	out->active = out->waiting = 0;
	for (struct fc_table_node *n = fc_table_first(&st->keys); n;
	     n = fc_table_next(&st->keys, n)) {
		out->active += ss_key_of(n)->ls->n_active;
		out->waiting += ss_key_of(n)->ls->n_queued;
	}
}

int sched_state_sound(const struct sched_state *st)
{
	return !st->lost;
}

void sched_state_commit(struct sched_state *st)
{
	st->lost = 0;
	add_stats(&st->stats, &st->pending);
	memset(&st->pending, 0, sizeof(st->pending));
	for (struct sched_key *k = st->touched, *next; k; k = next) {
		next = k->next_touched;
		end_batch(k);
	}
	st->touched = NULL;
}

int sched_state_rollback(struct sched_state *st)
{
	int restored = 1;

	st->lost = 0;
	memset(&st->pending, 0, sizeof(st->pending));
	for (struct sched_key *k = st->touched, *next; k; k = next) {
		next = k->next_touched;
		if (!k->existed) {
			unlink_key(st, k);
			free_key(k);
			continue;
		}
		if (k->mutated) {
			ledger_t *ls = k->before ? fleetcap__v1__ledger_state__unpack(
							   NULL, k->before_len, k->before)
						 : NULL;
			if (ls) {
				protobuf_c_message_free_unpacked(&k->ls->base, NULL);
				k->ls = ls;
			} else {
				FC_ERROR("sched", "cannot restore %s after an abort", k->key);
				restored = 0;
			}
		}
		end_batch(k);
	}
	st->touched = NULL;
	return restored ? 0 : -1;
}
