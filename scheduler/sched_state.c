/*
 * sched_state: the per-quota-key state machine; the design is in
 * sched_state.h.
 *
 * A key's whole state is one LedgerState message (active and queued entries,
 * finished names, alert cooldowns), kept unpacked in memory and mutated in
 * place. Entries own their specs. Records that leave are packed from
 * messages built on the stack that borrow the entry's parts, so nothing is
 * copied but the final status kept for repeated creates.
 */
#include "sched_state.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fc_log.h"
#include "fc_spec.h"
#include "sched_alerts.h"

typedef Fleetcap__V1__LedgerState ledger_t;
typedef Fleetcap__V1__LedgerEntry entry_t;
typedef Fleetcap__V1__LedgerTombstone finished_t;
typedef Fleetcap__V1__CaptureStatus status_t;

#define KEY_MAX	    (FC_TENANT_MAX * 2 + 2)
#define BUCKETS	    4096
#define STATUS_KEY  (KEY_MAX + FC_NAME_MAX + 2)
#define SESSION_MAX (STATUS_KEY + 24)

struct sched_key {
	char key[KEY_MAX];
	int32_t partition;
	ledger_t *ls;
	/* Batch bookkeeping: the touched list; whether the key existed before
	 * the batch; and, once the batch first changes it (mutate()), its
	 * packed state from before, for a rollback. */
	int touched;
	int existed;
	int mutated;
	uint8_t *before;
	size_t before_len;
	struct sched_key *next_in_bucket, *next_touched;
};

struct sched_state {
	struct sched_policy policy;
	struct sched_key *buckets[BUCKETS];
	struct sched_key *touched;
	size_t key_count;
	size_t emitted;
	/* This batch dropped a record or a decision on out-of-memory: it must
	 * not commit (see sched_state_sound). */
	int lost;
	struct sched_stats stats, pending; /* committed; this batch's */
};

static void count(uint64_t *table, int code)
{
	table[code >= 0 && code < SCHED_CODES ? code : 0]++;
}

/* ------------------------------------------------------------ messages */

/* Logs why the batch lost part of a decision and marks it to be aborted. */
static void lose(struct sched_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lose(struct sched_state *st, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	FC_ERROR("sched", "%s: the batch will be aborted and its inputs read again", why);
	st->lost = 1;
}

static void *dup_message(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	void *copy;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(msg, buf);
	copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}

static void emit_message(struct sched_state *st, enum fc_topic topic, int32_t partition,
			 const char *key, const ProtobufCMessage *msg)
{
	size_t len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	uint8_t stack[4096], *buf = stack;

	if (msg && len > sizeof(stack) && !(buf = malloc(len))) {
		lose(st, "out of memory packing a %s record", fc_topic_suffix(topic));
		return;
	}
	if (msg)
		protobuf_c_message_pack(msg, buf);
	st->policy.emit(st->policy.emit_opaque, topic, partition, key, msg ? buf : NULL, len);
	st->emitted++;
	if (buf != stack)
		free(buf);
}

static int push(void *array_ptr, size_t *n, void *item)
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
static void *take(void *array_ptr, size_t *n, size_t i)
{
	void **array = *(void ***)array_ptr;
	void *item = array[i];

	memmove(&array[i], &array[i + 1], (*n - i - 1) * sizeof(void *));
	(*n)--;
	return item;
}

static void free_entry(entry_t *e)
{
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
}

/* ---------------------------------------------------------------- keys */

static unsigned hash_key(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % BUCKETS;
}

static struct sched_key *find_key(struct sched_state *st, const char *key)
{
	for (struct sched_key *k = st->buckets[hash_key(key)]; k; k = k->next_in_bucket)
		if (strcmp(k->key, key) == 0)
			return k;
	return NULL;
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
static struct sched_key *touch_key(struct sched_state *st, int32_t partition, const char *key)
{
	struct sched_key *k = find_key(st, key);

	if (!k) {
		unsigned b = hash_key(key);
		if (strlen(key) >= KEY_MAX || !(k = calloc(1, sizeof(*k))))
			return NULL;
		snprintf(k->key, sizeof(k->key), "%s", key);
		k->partition = partition;
		if (!(k->ls = new_ledger(key))) {
			free(k);
			return NULL;
		}
		k->next_in_bucket = st->buckets[b];
		st->buckets[b] = k;
		st->key_count++;
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
static void mutate(struct sched_key *k)
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
	struct sched_key **p = &st->buckets[hash_key(k->key)];

	while (*p && *p != k)
		p = &(*p)->next_in_bucket;
	if (*p)
		*p = k->next_in_bucket;
	st->key_count--;
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
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sched_key *k = st->buckets[b], *next; k; k = next) {
			next = k->next_in_bucket;
			free_key(k);
		}
	free(st);
}

int sched_state_load(struct sched_state *st, int32_t partition, const char *key, const void *value,
		     size_t len)
{
	struct sched_key *k = find_key(st, key);
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
	k->next_in_bucket = st->buckets[hash_key(key)];
	st->buckets[hash_key(key)] = k;
	st->key_count++;
	return 0;
}

void sched_state_renew_leases(struct sched_state *st, const int32_t *partitions, size_t count,
			      int64_t now_ms)
{
	int64_t floor = now_ms + st->policy.lease_grace_ms;

	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sched_key *k = st->buckets[b]; k; k = k->next_in_bucket) {
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
	for (size_t b = 0; b < BUCKETS; b++) {
		struct sched_key **p = &st->buckets[b];
		while (*p) {
			struct sched_key *k = *p;
			if (k->partition == partition) {
				*p = k->next_in_bucket;
				st->key_count--;
				free_key(k);
			} else {
				p = &k->next_in_bucket;
			}
		}
	}
}

size_t sched_state_key_count(const struct sched_state *st)
{
	return st->key_count;
}

size_t sched_state_active_count(const struct sched_state *st, const char *key)
{
	struct sched_key *k = find_key((struct sched_state *)st, key);
	return k ? k->ls->n_active : 0;
}

/* -------------------------------------------------------------- status */

struct answer {
	int state;
	int stop_reason;
	int error;
	const char *message;
	const char *field;
	const char *request_id;
	Fleetcap__V1__Counters *counters;
	Fleetcap__V1__CaptureFile **files;
	size_t n_files;
	int rejected_error;
	const char *rejected_message;
	int deleted;
};

static void status_key(const struct sched_key *k, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", k->key, name);
}

/* Fills status from the entry (borrowing its parts) and the answer. */
static void build_status(status_t *s, const struct sched_key *k, const entry_t *e,
			 const Fleetcap__V1__CaptureSpec *spec, const struct answer *a, int64_t now)
{
	fleetcap__v1__capture_status__init(s);
	s->subscription = k->ls->subscription;
	s->region = k->ls->region;
	s->name = spec->name;
	s->target = spec->target;
	s->state = a->state;
	s->stop_reason = a->stop_reason;
	s->error = a->error;
	s->error_message = (char *)(a->message ? a->message : "");
	s->error_field = (char *)(a->field ? a->field : "");
	s->origin = spec->origin;
	s->spec = (Fleetcap__V1__CaptureSpec *)spec;
	s->request_id = (char *)(a->request_id ? a->request_id : "");
	s->updated_time_ms = now;
	s->deleted = a->deleted;
	s->rejected_error = a->rejected_error;
	s->rejected_message = (char *)(a->rejected_message ? a->rejected_message : "");
	s->n_files = a->n_files;
	s->files = a->files;
	if (e) {
		s->session_id = e->session_id;
		s->capture_start_time_ms = e->capture_start_time_ms;
		s->counters = e->counters;
	}
	if (a->counters)
		s->counters = a->counters;
}

/* Emits the status; the spec's secret is blanked while packing. */
static void emit_status(struct sched_state *st, const struct sched_key *k, const entry_t *e,
			Fleetcap__V1__CaptureSpec *spec, const struct answer *a, int64_t now)
{
	char key[STATUS_KEY];
	char *sas = spec->blob_sas;
	status_t s;

	build_status(&s, k, e, spec, a, now);
	status_key(k, spec->name, key, sizeof(key));
	spec->blob_sas = (char *)"";
	emit_message(st, FC_TOPIC_STATUS, -1, key, &s.base);
	spec->blob_sas = sas;
}

static void emit_status_tombstone(struct sched_state *st, const struct sched_key *k,
				  const char *name)
{
	char key[STATUS_KEY];

	status_key(k, name, key, sizeof(key));
	emit_message(st, FC_TOPIC_STATUS, -1, key, NULL);
}

/* Emits a previously kept status again, answering request_id. */
static void emit_kept_status(struct sched_state *st, const struct sched_key *k, status_t *kept,
			     const char *request_id, int rejected, const char *rejected_message,
			     int64_t now)
{
	char key[STATUS_KEY];
	char *saved_request = kept->request_id, *saved_message = kept->rejected_message;
	int saved_rejected = kept->rejected_error;
	int64_t saved_time = kept->updated_time_ms;

	kept->request_id = (char *)request_id;
	kept->rejected_error = rejected;
	kept->rejected_message = (char *)(rejected_message ? rejected_message : "");
	kept->updated_time_ms = now;
	status_key(k, kept->name, key, sizeof(key));
	emit_message(st, FC_TOPIC_STATUS, -1, key, &kept->base);
	kept->request_id = saved_request;
	kept->rejected_error = saved_rejected;
	kept->rejected_message = saved_message;
	kept->updated_time_ms = saved_time;
}

/* ----------------------------------------------------------------- jobs */

static void emit_job(struct sched_state *st, const entry_t *e, int kind, int stop_reason,
		     int64_t now)
{
	Fleetcap__V1__Job job = FLEETCAP__V1__JOB__INIT;

	job.kind = kind;
	job.session_id = e->session_id;
	job.target = e->spec->target;
	job.time_ms = now;
	job.stop_reason = stop_reason;
	if (kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START)
		job.spec = e->spec; /* the worker needs the SAS: jobs carry it */
	emit_message(st, FC_TOPIC_JOBS, -1, e->spec->target, &job.base);
}

/* ---------------------------------------------------------------- rules */

static long long quota_of(const struct sched_state *st, const struct sched_key *k)
{
	const char *v = fc_kv_get(st->policy.quota_overrides, k->ls->subscription);
	return v ? atoll(v) : st->policy.quota_default;
}

static int64_t time_limit_ms(const Fleetcap__V1__CaptureSpec *spec)
{
	int64_t s;

	if (spec->ring)
		s = spec->ring->session_time_limit_s ? spec->ring->session_time_limit_s
						     : FC_SESSION_TIME_LIMIT_DEFAULT;
	else
		s = spec->time_limit_s ? spec->time_limit_s : FC_TIME_LIMIT_DEFAULT;
	return s * 1000;
}

static ssize_t find_named(entry_t **entries, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!entries[i]->deleted && strcmp(entries[i]->spec->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t find_finished(const ledger_t *ls, const char *name)
{
	for (size_t i = 0; i < ls->n_finished; i++)
		if (strcmp(ls->finished[i]->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t find_session(const ledger_t *ls, const char *session_id)
{
	for (size_t i = 0; i < ls->n_active; i++)
		if (strcmp(ls->active[i]->session_id, session_id) == 0)
			return (ssize_t)i;
	return -1;
}

static int same_digest(const ProtobufCBinaryData *d, const uint8_t digest[FC_SPEC_DIGEST_LEN])
{
	return d->len == FC_SPEC_DIGEST_LEN && memcmp(d->data, digest, FC_SPEC_DIGEST_LEN) == 0;
}

/* Remembers a finished capture's name and final status; the oldest past
 * finished_max is forgotten (a create of that name is then new). */
static void remember_finished(struct sched_state *st, struct sched_key *k, const entry_t *e,
			      const status_t *final, int64_t now)
{
	finished_t *f = calloc(1, sizeof(*f));
	ledger_t *ls = k->ls;

	if (!f)
		goto oom;
	fleetcap__v1__ledger_tombstone__init(f);
	f->name = strdup(e->spec->name);
	f->spec_digest.data = malloc(FC_SPEC_DIGEST_LEN);
	f->status = dup_message(&final->base);
	if (!f->name || !f->spec_digest.data || !f->status ||
	    push(&ls->finished, &ls->n_finished, f))
		goto oom;
	f->spec_digest.len = FC_SPEC_DIGEST_LEN;
	memcpy(f->spec_digest.data, e->spec_digest.data, FC_SPEC_DIGEST_LEN);
	f->finished_time_ms = now;
	while (ls->n_finished > (size_t)st->policy.finished_max) {
		finished_t *old = take(&ls->finished, &ls->n_finished, 0);
		protobuf_c_message_free_unpacked(&old->base, NULL);
	}
	return;
oom:
	if (f) {
		f->spec_digest.len = f->spec_digest.data ? FC_SPEC_DIGEST_LEN : 0;
		protobuf_c_message_free_unpacked(&f->base, NULL);
	}
	lose(st, "out of memory keeping %s/%s for a repeated create", k->key, e->spec->name);
}

static void start_cooldown(struct sched_state *st, struct sched_key *k, const entry_t *e,
			   int64_t now)
{
	const Fleetcap__V1__Origin *o = e->spec->origin;
	const struct sched_alert_rule *rule;
	Fleetcap__V1__AlertCooldown *c;

	if (!o || o->kind != FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT)
		return;
	rule = sched_alert_rule_find(st->policy.rules, o->rule);
	if (!rule || rule->cooldown_ms <= 0)
		return;
	if (!(c = calloc(1, sizeof(*c))))
		return;
	fleetcap__v1__alert_cooldown__init(c);
	c->target = strdup(e->spec->target);
	c->rule = strdup(o->rule);
	c->until_ms = now + rule->cooldown_ms;
	if (!c->target || !c->rule || push(&k->ls->cooldowns, &k->ls->n_cooldowns, c))
		protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* Starts an entry: a START job and Running. The entry is already in active. */
static void start_entry(struct sched_state *st, struct sched_key *k, entry_t *e, int64_t now)
{
	struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING,
			   .request_id = e->request_id};

	st->pending.admitted++;
	e->admitted_time_ms = now;
	/* Until the worker says it started, the lease is the grace period. */
	e->lease_deadline_ms = now + st->policy.lease_grace_ms;
	emit_job(st, e, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, 0, now);
	emit_status(st, k, e, e->spec, &a, now);
}

/* Ends an entry that is no longer in any list: final status, memory. Takes e. */
static void finish_entry(struct sched_state *st, struct sched_key *k, entry_t *e,
			 const struct answer *a, int remember, int64_t now)
{
	status_t final;
	char *sas = e->spec->blob_sas;

	if (a->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR)
		count(st->pending.failed, a->error);
	else
		count(st->pending.ended, a->stop_reason);
	if (!e->deleted) {
		emit_status(st, k, e, e->spec, a, now);
		if (remember) {
			build_status(&final, k, e, e->spec, a, now);
			e->spec->blob_sas = (char *)"";
			remember_finished(st, k, e, &final, now);
			e->spec->blob_sas = sas;
		}
	}
	start_cooldown(st, k, e, now);
	free_entry(e);
}

static void reject(struct sched_state *st, struct sched_key *k, Fleetcap__V1__CaptureSpec *spec,
		   const char *request_id, int error, const char *field, const char *message,
		   int64_t now)
{
	struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
			   .stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
			   .error = error,
			   .field = field,
			   .message = message,
			   .request_id = request_id};

	FC_INFO("sched", "%s/%s: %s", k->key, spec->name, message);
	count(st->pending.rejected, error);
	emit_status(st, k, NULL, spec, &a, now);
}

/* Admits queued requests, oldest first, while the key is under quota. */
static void admit_queued(struct sched_state *st, struct sched_key *k, int64_t now)
{
	ledger_t *ls = k->ls;
	char why[256];

	while (ls->n_queued && (long long)ls->n_active < quota_of(st, k)) {
		mutate(k);
		entry_t *e = take(&ls->queued, &ls->n_queued, 0);
		if (st->policy.target_check(st->policy.target_opaque, e->spec->target,
					    ls->subscription, ls->region, now, why,
					    sizeof(why)) != 0) {
			struct answer a = {
				.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
				.stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
				.error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND,
				.message = why,
				.request_id = e->request_id};
			finish_entry(st, k, e, &a, 0, now);
			continue;
		}
		e->queue_deadline_ms = 0;
		if (push(&ls->active, &ls->n_active, e) != 0) {
			lose(st, "out of memory admitting %s/%s", k->key, e->spec->name);
			free_entry(e);
			continue;
		}
		start_entry(st, k, e, now);
	}
}

/* --------------------------------------------------------------- create */

/* Takes spec. Applies a create to key k. */
static void create(struct sched_state *st, struct sched_key *k, Fleetcap__V1__CaptureSpec *spec,
		   const char *request_id, int64_t now)
{
	ledger_t *ls = k->ls;
	uint8_t digest[FC_SPEC_DIGEST_LEN];
	char why[256];
	ssize_t i;
	entry_t *e = NULL;

	/* The digest is computed only when needed: most creates at a full key
	 * are rejected without it. */
	/* The same name: a no-op when the spec is the same, else Conflict. */
	if (((i = find_named(ls->active, ls->n_active, spec->name)) >= 0 ||
	     (i = find_named(ls->queued, ls->n_queued, spec->name)) >= 0) &&
	    fc_spec_digest(spec, digest) == 0) {
		int queued = find_named(ls->active, ls->n_active, spec->name) < 0;
		entry_t *have = queued ? ls->queued[i] : ls->active[i];
		int same = same_digest(&have->spec_digest, digest);
		struct answer a = {
			.state = queued ? FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED
					: FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING,
			.request_id = request_id,
			.rejected_error = same ? 0 : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT,
			.rejected_message =
				same ? NULL
				     : "a capture of this name exists with a different spec; "
				       "delete it first or choose another name"};
		if (same)
			st->pending.repeated++;
		else
			count(st->pending.rejected, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT);
		emit_status(st, k, have, have->spec, &a, now);
		goto done;
	}
	if ((i = find_finished(ls, spec->name)) >= 0 && ls->finished[i]->status &&
	    fc_spec_digest(spec, digest) == 0) {
		int same = same_digest(&ls->finished[i]->spec_digest, digest);
		if (same)
			st->pending.repeated++;
		else
			count(st->pending.rejected, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT);
		emit_kept_status(st, k, ls->finished[i]->status, request_id,
				 same ? 0 : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT,
				 same ? NULL
				      : "a finished capture of this name exists with a different "
					"spec; delete it first or choose another name",
				 now);
		goto done;
	}
	if (st->policy.target_check(st->policy.target_opaque, spec->target, ls->subscription,
				    ls->region, now, why, sizeof(why)) != 0) {
		reject(st, k, spec, request_id,
		       FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND, "target", why, now);
		goto done;
	}
	long long quota = quota_of(st, k);
	if ((long long)ls->n_active >= quota && spec->queue_timeout_s == 0) {
		snprintf(why, sizeof(why),
			 "%zu of %lld sessions of %s are active; retry later or set a queue "
			 "timeout",
			 ls->n_active, quota, k->key);
		reject(st, k, spec, request_id, FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED,
		       NULL, why, now);
		goto done;
	}

	if (fc_spec_digest(spec, digest) != 0 || !(e = calloc(1, sizeof(*e))))
		goto oom;
	mutate(k);
	fleetcap__v1__ledger_entry__init(e);
	char session[SESSION_MAX];
	snprintf(session, sizeof(session), "%s/%s#%" PRIu64, k->key, spec->name,
		 ++ls->session_counter);
	e->name = strdup(spec->name);
	e->session_id = strdup(session);
	e->request_id = strdup(request_id);
	e->spec_digest.data = malloc(FC_SPEC_DIGEST_LEN);
	if (!e->name || !e->session_id || !e->request_id || !e->spec_digest.data)
		goto oom;
	e->spec_digest.len = FC_SPEC_DIGEST_LEN;
	memcpy(e->spec_digest.data, digest, FC_SPEC_DIGEST_LEN);
	e->spec = spec; /* now owned by the entry */
	spec = NULL;
	e->enqueued_time_ms = now;
	if ((long long)ls->n_active < quota) {
		if (push(&ls->active, &ls->n_active, e) != 0)
			goto oom;
		start_entry(st, k, e, now);
	} else {
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED,
				   .request_id = e->request_id};
		e->queue_deadline_ms = now + (int64_t)e->spec->queue_timeout_s * 1000;
		if (push(&ls->queued, &ls->n_queued, e) != 0)
			goto oom;
		st->pending.queued++;
		emit_status(st, k, e, e->spec, &a, now);
	}
	return;
oom:
	lose(st, "out of memory admitting %s/%s", k->key, spec ? spec->name : "?");
	if (e && !e->spec_digest.data)
		e->spec_digest.len = 0;
	free_entry(e);
done:
	fc_spec_free(spec);
}

/* --------------------------------------------------------- stop, delete */

static void stop_active(struct sched_state *st, entry_t *e, int reason, int64_t now)
{
	if (e->stopping)
		return;
	e->stopping = 1;
	if (e->lease_deadline_ms > now + st->policy.lease_grace_ms)
		e->lease_deadline_ms = now + st->policy.lease_grace_ms;
	emit_job(st, e, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP, reason, now);
}

static void stop_or_delete(struct sched_state *st, struct sched_key *k, const char *name,
			   const char *request_id, int del, int64_t now)
{
	ledger_t *ls = k->ls;
	int reason = del ? FLEETCAP__V1__STOP_REASON__STOP_REASON_DELETED
			 : FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER;
	struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED,
			   .stop_reason = reason,
			   .request_id = request_id,
			   .deleted = del};
	ssize_t i;

	if ((i = find_named(ls->active, ls->n_active, name)) >= 0) {
		entry_t *e = ls->active[i];
		mutate(k);
		stop_active(st, e, reason, now);
		if (del) {
			emit_status(st, k, e, e->spec, &a, now);
			emit_status_tombstone(st, k, name);
			e->deleted = 1; /* keeps its slot until the worker's final report */
		}
		return;
	}
	if ((i = find_named(ls->queued, ls->n_queued, name)) >= 0) {
		mutate(k);
		entry_t *e = take(&ls->queued, &ls->n_queued, (size_t)i);
		finish_entry(st, k, e, &a, !del, now);
		if (del)
			emit_status_tombstone(st, k, name);
		return;
	}
	if (!del)
		return; /* stopping a finished or unknown capture changes nothing */
	if ((i = find_finished(ls, name)) >= 0) {
		mutate(k);
		finished_t *f = take(&ls->finished, &ls->n_finished, (size_t)i);
		protobuf_c_message_free_unpacked(&f->base, NULL);
	}
	/* Also clears the status of a rejected create, which has no ledger entry. */
	emit_status_tombstone(st, k, name);
}

/* -------------------------------------------------------------- reports */

static void apply_report(struct sched_state *st, struct sched_key *k,
			 Fleetcap__V1__CaptureReport *r, int64_t now)
{
	ledger_t *ls = k->ls;
	ssize_t i = find_session(ls, r->session_id);
	entry_t *e;

	if (i < 0) {
		FC_DEBUG("sched", "report for session %s, which is not active: ignored",
			 r->session_id);
		return;
	}
	e = ls->active[i];
	mutate(k);
	if (r->counters) {
		fleetcap__v1__counters__free_unpacked(e->counters, NULL);
		e->counters = r->counters; /* now owned by the entry */
		r->counters = NULL;
	}
	switch (r->kind) {
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED:
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS: {
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING,
				   .request_id = e->request_id};
		if (r->seq && r->seq <= e->report_seq)
			return; /* stale progress */
		e->report_seq = r->seq;
		if (r->capture_start_time_ms)
			e->capture_start_time_ms = r->capture_start_time_ms;
		if (r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED && !e->stopping)
			e->lease_deadline_ms =
				now + time_limit_ms(e->spec) + st->policy.lease_grace_ms;
		/* Progress after the time limit or a stop (an upload that takes
		 * long) keeps the lease alive: the worker is still at it. */
		if (r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_PROGRESS &&
		    e->lease_deadline_ms && e->lease_deadline_ms < now + st->policy.lease_grace_ms)
			e->lease_deadline_ms = now + st->policy.lease_grace_ms;
		if (!e->deleted)
			emit_status(st, k, e, e->spec, &a, now);
		return;
	}
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED:
	case FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED: {
		int failed = r->kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED;
		struct answer a = {
			.state = failed ? FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR
					: FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED,
			.stop_reason = failed ? FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR
					      : (int)r->stop_reason,
			.error =
				failed ? (r->error
						  ? (int)r->error
						  : FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR)
				       : 0,
			.message = r->error_message,
			.request_id = e->request_id,
			.files = r->files,
			.n_files = r->n_files};
		if (r->capture_start_time_ms)
			e->capture_start_time_ms = r->capture_start_time_ms;
		take(&ls->active, &ls->n_active, (size_t)i);
		finish_entry(st, k, e, &a, 1, now);
		admit_queued(st, k, now);
		return;
	}
	default:
		FC_WARN("sched", "report for session %s has unknown kind %d: ignored",
			r->session_id, r->kind);
	}
}

/* --------------------------------------------------------------- alerts */

static int cooling_down(const ledger_t *ls, const char *target, const char *rule, int64_t now)
{
	for (size_t i = 0; i < ls->n_cooldowns; i++)
		if (ls->cooldowns[i]->until_ms > now &&
		    strcmp(ls->cooldowns[i]->target, target) == 0 &&
		    strcmp(ls->cooldowns[i]->rule, rule) == 0)
			return 1;
	return 0;
}

static int rule_running(entry_t **entries, size_t n, const char *target, const char *rule)
{
	for (size_t i = 0; i < n; i++) {
		const Fleetcap__V1__Origin *o = entries[i]->spec->origin;
		if (o && o->kind == FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT &&
		    strcmp(o->rule, rule) == 0 && strcmp(entries[i]->spec->target, target) == 0)
			return 1;
	}
	return 0;
}

static void apply_alert(struct sched_state *st, struct sched_key *k,
			const Fleetcap__V1__AlertEvent *ev, int64_t now)
{
	const struct sched_alert_rule *rule = sched_alert_rule_find(st->policy.rules, ev->rule);
	ledger_t *ls = k->ls;
	char name[FC_NAME_MAX + 1], request_id[FC_ALERT_ID_MAX + 8];
	struct fc_err err;
	fc_spec_t *spec;

	if (!rule) {
		FC_WARN("sched", "alert %.128s for %s: no rule \"%.64s\"; ignored", ev->alert_id,
			k->key, ev->rule);
		return;
	}
	if ((int)ev->severity < rule->min_severity) {
		FC_DEBUG("sched", "alert %.128s: severity %d below the rule's %d; ignored",
			 ev->alert_id, ev->severity, rule->min_severity);
		return;
	}
	sched_alert_capture_name(ev->alert_id, name, sizeof(name));
	if (find_named(ls->active, ls->n_active, name) >= 0 ||
	    find_named(ls->queued, ls->n_queued, name) >= 0 || find_finished(ls, name) >= 0) {
		FC_DEBUG("sched", "alert %.128s delivered again: %s exists", ev->alert_id, name);
		return;
	}
	if (rule_running(ls->active, ls->n_active, ev->target, ev->rule) ||
	    rule_running(ls->queued, ls->n_queued, ev->target, ev->rule)) {
		FC_INFO("sched", "alert %.128s: a capture for rule %s on %s is already running",
			ev->alert_id, ev->rule, ev->target);
		return;
	}
	if (cooling_down(ls, ev->target, ev->rule, now)) {
		FC_INFO("sched", "alert %.128s: rule %s on %s is cooling down", ev->alert_id,
			ev->rule, ev->target);
		return;
	}
	spec = sched_alert_spec(rule, name, ls->subscription, ls->region, ev->target, ev->alert_id,
				&err);
	if (!spec) {
		FC_ERROR("sched", "alert %.128s: %s", ev->alert_id, err.msg);
		return;
	}
	snprintf(request_id, sizeof(request_id), "alert:%s", ev->alert_id);
	struct fc_field_errors errs;
	fc_field_errors_init(&errs);
	if (fc_spec_validate(spec, FC_SPEC_FLEET, &errs) != 0) {
		reject(st, k, spec, request_id,
		       FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST, errs.items[0].field,
		       errs.items[0].message, now);
		fc_spec_free(spec);
		return;
	}
	create(st, k, spec, request_id, now);
}

/* ---------------------------------------------------------------- input */

static int valid_key(const char *sub, const char *region)
{
	return fc_valid_tenant(sub) && fc_valid_tenant(region);
}

static void apply_command(struct sched_state *st, int32_t partition, const char *msg_key,
			  Fleetcap__V1__Command *cmd, int64_t now)
{
	const char *sub = cmd->subscription, *region = cmd->region, *name = cmd->name;
	Fleetcap__V1__CaptureSpec *spec = cmd->spec;
	char key[KEY_MAX + 1];
	struct sched_key *k;

	if (cmd->kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE && !spec) {
		FC_WARN("sched", "create %.64s without a spec: ignored", cmd->request_id);
		return;
	}
	if (cmd->kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE) {
		sub = spec->subscription;
		region = spec->region;
		name = spec->name;
	}
	if (!valid_key(sub, region) || !fc_valid_name(name)) {
		FC_WARN("sched",
			"command %.64s without a valid subscription, region and name: "
			"ignored",
			cmd->request_id);
		return;
	}
	snprintf(key, sizeof(key), "%s/%s", sub, region);
	if (!(k = touch_key(st, partition, key))) {
		lose(st, "out of memory for key %s", key);
		return;
	}
	if (strcmp(key, msg_key) != 0) {
		char why[KEY_MAX * 2 + 96];
		snprintf(why, sizeof(why),
			 "the command's Kafka key \"%.130s\" is not its subscription/region "
			 "\"%s\"",
			 msg_key, key);
		if (cmd->kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE)
			reject(st, k, spec, cmd->request_id,
			       FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST, "subscription",
			       why, now);
		else
			FC_WARN("sched", "%s: ignored", why);
		return;
	}
	switch (cmd->kind) {
	case FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE: {
		struct fc_field_errors errs;
		fc_field_errors_init(&errs);
		if (fc_spec_validate(spec, FC_SPEC_FLEET, &errs) != 0) {
			reject(st, k, spec, cmd->request_id,
			       FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST,
			       errs.items[0].field, errs.items[0].message, now);
			return;
		}
		cmd->spec = NULL; /* now owned by create() */
		create(st, k, spec, cmd->request_id, now);
		return;
	}
	case FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP:
		stop_or_delete(st, k, name, cmd->request_id, 0, now);
		return;
	case FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_DELETE:
		stop_or_delete(st, k, name, cmd->request_id, 1, now);
		return;
	default:
		FC_WARN("sched", "command %.64s has unknown kind %d: ignored", cmd->request_id,
			cmd->kind);
	}
}

size_t sched_state_apply(struct sched_state *st, enum fc_topic topic, int32_t partition,
			 const char *key, size_t key_len, const void *value, size_t len,
			 int64_t now_ms)
{
	char msg_key[KEY_MAX + 1];
	size_t before = st->emitted;

	snprintf(msg_key, sizeof(msg_key), "%.*s", (int)(key_len < KEY_MAX ? key_len : KEY_MAX),
		 key ? key : "");
	switch (topic) {
	case FC_TOPIC_COMMANDS: {
		Fleetcap__V1__Command *cmd = fleetcap__v1__command__unpack(NULL, len, value);
		if (!cmd) {
			FC_WARN("sched", "a commands record (key %.130s) does not parse: skipped",
				msg_key);
			break;
		}
		apply_command(st, partition, msg_key, cmd, now_ms);
		fleetcap__v1__command__free_unpacked(cmd, NULL);
		break;
	}
	case FC_TOPIC_ALERTS: {
		Fleetcap__V1__AlertEvent *ev = fleetcap__v1__alert_event__unpack(NULL, len, value);
		char k[KEY_MAX + 1];
		struct sched_key *sk;
		if (!ev || !valid_key(ev->subscription, ev->region) ||
		    !fc_valid_target(ev->target) || !*ev->alert_id ||
		    strlen(ev->alert_id) > FC_ALERT_ID_MAX) {
			FC_WARN("sched", "an alerts record (key %.130s) is malformed: skipped",
				msg_key);
		} else {
			snprintf(k, sizeof(k), "%s/%s", ev->subscription, ev->region);
			if (strcmp(k, msg_key) != 0)
				FC_WARN("sched", "alert %.128s: key %s is not %s: skipped",
					ev->alert_id, msg_key, k);
			else if ((sk = touch_key(st, partition, k)))
				apply_alert(st, sk, ev, now_ms);
		}
		if (ev)
			fleetcap__v1__alert_event__free_unpacked(ev, NULL);
		break;
	}
	case FC_TOPIC_RESULTS: {
		Fleetcap__V1__CaptureReport *r =
			fleetcap__v1__capture_report__unpack(NULL, len, value);
		char k[KEY_MAX + 1];
		struct sched_key *sk;
		if (!r || !valid_key(r->subscription, r->region)) {
			FC_WARN("sched", "a results record (key %.130s) is malformed: skipped",
				msg_key);
		} else {
			snprintf(k, sizeof(k), "%s/%s", r->subscription, r->region);
			/* Reports only ever touch keys with state. */
			if (find_key(st, k) && (sk = touch_key(st, partition, k)))
				apply_report(st, sk, r, now_ms);
		}
		if (r)
			fleetcap__v1__capture_report__free_unpacked(r, NULL);
		break;
	}
	default:
		break;
	}
	return st->emitted - before;
}

/* ---------------------------------------------------------------- timers */

/* 0 when the entry's worker has stopped heartbeating for longer than the grace. */
static int target_alive(const struct sched_state *st, const entry_t *e, int64_t now)
{
	return !st->policy.target_alive ||
	       st->policy.target_alive(st->policy.target_opaque, e->spec->target, now,
				       st->policy.lease_grace_ms);
}

static int key_has_due(const struct sched_state *st, const struct sched_key *k, int64_t now)
{
	const ledger_t *ls = k->ls;

	/* A free slot with requests waiting: the quota was raised by a restart. */
	if (ls->n_queued && (long long)ls->n_active < quota_of(st, k))
		return 1;
	for (size_t i = 0; i < ls->n_active; i++)
		if ((ls->active[i]->lease_deadline_ms && ls->active[i]->lease_deadline_ms <= now) ||
		    !target_alive(st, ls->active[i], now))
			return 1;
	for (size_t i = 0; i < ls->n_queued; i++)
		if (ls->queued[i]->queue_deadline_ms <= now)
			return 1;
	for (size_t i = 0; i < ls->n_cooldowns; i++)
		if (ls->cooldowns[i]->until_ms <= now)
			return 1;
	return 0;
}

static void tick_key(struct sched_state *st, struct sched_key *k, int64_t now)
{
	ledger_t *ls = k->ls;
	char why[320];

	mutate(k); /* only called when something is due */

	for (size_t i = 0; i < ls->n_active;) {
		entry_t *e = ls->active[i];
		int alive = target_alive(st, e, now);
		if (alive && (!e->lease_deadline_ms || e->lease_deadline_ms > now)) {
			i++;
			continue;
		}
		snprintf(why, sizeof(why),
			 alive ? "no final report from worker %.64s in time"
			       : "worker %.64s stopped sending heartbeats",
			 e->spec->target);
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
				   .stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
				   .error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_AGENT_STOPPED,
				   .message = why,
				   .request_id = e->request_id};
		FC_WARN("sched", "%s/%s: lease expired: Error/AgentStopped", k->key, e->spec->name);
		if (!e->stopping) /* in case the worker lives and is only silent */
			emit_job(st, e, FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP,
				 FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR, now);
		take(&ls->active, &ls->n_active, i);
		finish_entry(st, k, e, &a, 1, now);
	}
	for (size_t i = 0; i < ls->n_queued;) {
		entry_t *e = ls->queued[i];
		if (e->queue_deadline_ms > now) {
			i++;
			continue;
		}
		snprintf(why, sizeof(why),
			 "no session of %s became free within the queue timeout of %u s", k->key,
			 e->spec->queue_timeout_s);
		struct answer a = {.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR,
				   .stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR,
				   .error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED,
				   .message = why,
				   .request_id = e->request_id};
		take(&ls->queued, &ls->n_queued, i);
		finish_entry(st, k, e, &a, 0, now);
	}
	for (size_t i = 0; i < ls->n_cooldowns;) {
		if (ls->cooldowns[i]->until_ms > now) {
			i++;
			continue;
		}
		Fleetcap__V1__AlertCooldown *c = take(&ls->cooldowns, &ls->n_cooldowns, i);
		protobuf_c_message_free_unpacked(&c->base, NULL);
	}
	admit_queued(st, k, now);
}

size_t sched_state_tick(struct sched_state *st, int64_t now_ms)
{
	size_t before = st->emitted;

	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sched_key *k = st->buckets[b]; k; k = k->next_in_bucket)
			if (key_has_due(st, k, now_ms) && touch_key(st, k->partition, k->key))
				tick_key(st, k, now_ms);
	return st->emitted - before;
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
			emit_message(st, FC_TOPIC_LEDGER, k->partition, k->key, NULL);
			continue;
		}
		k->ls->updated_time_ms = now_ms;
		emit_message(st, FC_TOPIC_LEDGER, k->partition, k->key, &k->ls->base);
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
	for (size_t b = 0; b < BUCKETS; b++)
		for (const struct sched_key *k = st->buckets[b]; k; k = k->next_in_bucket) {
			out->active += k->ls->n_active;
			out->waiting += k->ls->n_queued;
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
