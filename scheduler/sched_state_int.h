/*
 * sched_state_int.h: what the parts of the state machine share (sched_state*.c).
 * Not for use outside them: the interface is sched_state.h. Functions named
 * ss_* are internal to these files.
 */
#ifndef SCHED_STATE_INT_H
#define SCHED_STATE_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "fc_table.h"
#include "sched_state.h"

typedef Fleetcap__V1__LedgerState ledger_t;
typedef Fleetcap__V1__LedgerEntry entry_t;
typedef Fleetcap__V1__LedgerTombstone finished_t;
typedef Fleetcap__V1__CaptureStatus status_t;
typedef Fleetcap__V1__InstanceState inst_t;

#define KEY_MAX	    (FC_TENANT_MAX * 2 + 2)
#define STATUS_KEY  (KEY_MAX + FC_NAME_MAX + 2)
#define SESSION_MAX (STATUS_KEY + 24)

struct sched_key {
	char key[KEY_MAX];
	int32_t partition;
	ledger_t *ls;
	/* Batch bookkeeping: the touched list; whether the key existed before
	 * the batch; and, once the batch first changes it (ss_mutate()), its
	 * packed state from before, for a rollback. */
	int touched;
	int existed;
	int mutated;
	uint8_t *before;
	size_t before_len;
	struct fc_table_node node; /* in sched_state.keys, under key */
	struct sched_key *next_touched;
};

struct sched_state {
	struct sched_policy policy;
	struct fc_table keys; /* of struct sched_key */
	struct sched_key *touched;
	size_t emitted;
	/* This batch dropped a record or a decision on out-of-memory: it must
	 * not commit (see sched_state_sound). */
	int lost;
	struct sched_stats stats, pending; /* committed; this batch's */
};

static inline void ss_count(uint64_t *table, int code)
{
	table[code >= 0 && code < SCHED_CODES ? code : 0]++;
}

/* The quota key of a node of sched_state.keys. */
static inline struct sched_key *ss_key_of(struct fc_table_node *n)
{
	return n ? FC_CONTAINER_OF(n, struct sched_key, node) : NULL;
}

/* What a status says, beyond the entry and its spec (ss_build_status). */
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

/* sched_state.c */
struct sched_key *ss_find_key(struct sched_state *st, const char *key);
void ss_free_entry(entry_t *e);
void ss_mutate(struct sched_key *k);
int ss_push(void *array_ptr, size_t *n, void *item);
void *ss_take(void *array_ptr, size_t *n, size_t i);
struct sched_key *ss_touch_key(struct sched_state *st, int32_t partition, const char *key);

/* sched_state_admit.c */
void ss_admit_queued(struct sched_state *st, struct sched_key *k, int64_t now);
void ss_create(struct sched_state *st, struct sched_key *k, Fleetcap__V1__CaptureSpec *spec,
	       const char *request_id, int64_t now);
ssize_t ss_find_finished(const ledger_t *ls, const char *name);
ssize_t ss_find_named(entry_t **entries, size_t n, const char *name);
ssize_t ss_find_session(const ledger_t *ls, const char *session_id);
void ss_finish_entry(struct sched_state *st, struct sched_key *k, entry_t *e,
		     const struct answer *a, int remember, int64_t now);
long long ss_quota_of(const struct sched_state *st, const struct sched_key *k);
void ss_reject(struct sched_state *st, struct sched_key *k, Fleetcap__V1__CaptureSpec *spec,
	       const char *request_id, int error, const char *field, const char *message,
	       int64_t now);
int64_t ss_time_limit_ms(const Fleetcap__V1__CaptureSpec *spec);

/* sched_state_apply.c */
void ss_extend_lease(struct sched_state *st, entry_t *e, int report_kind, int64_t now);

/* sched_state_group.c */
int ss_check_target(struct sched_state *st, const struct sched_key *k,
		    const Fleetcap__V1__CaptureSpec *spec, int64_t now, inst_t ***out,
		    size_t *n_out, char *field, size_t field_len, char *why, size_t why_len);
void ss_free_instances(inst_t **items, size_t n);
int ss_group_due(const struct sched_state *st, const entry_t *e, int64_t now);
inst_t *ss_group_instance(const entry_t *e, const char *session_id);
void ss_group_report(struct sched_state *st, struct sched_key *k, size_t i,
		     Fleetcap__V1__CaptureReport *r, int64_t now);
int ss_group_select(struct sched_state *st, const struct sched_key *k,
		    const Fleetcap__V1__CaptureSpec *spec, int64_t now, inst_t ***out,
		    size_t *n_out, char *field, size_t field_len, char *why, size_t why_len);
void ss_group_start(struct sched_state *st, const struct sched_key *k, entry_t *e, int64_t now);
void ss_group_stop(struct sched_state *st, const entry_t *e, int stop_reason, int64_t now);
int ss_group_tick(struct sched_state *st, struct sched_key *k, size_t i, int64_t now);

/* sched_state_secret.c */
int ss_secret_check(const struct sched_state *st, const Fleetcap__V1__CaptureSpec *spec,
		    const char *host, char *why, size_t len);
int ss_secret_for_job(struct sched_state *st, const struct sched_key *k,
		      Fleetcap__V1__CaptureSpec *job_spec, const char *host,
		      const char *session_id);
int ss_secret_keep(struct sched_state *st, const struct sched_key *k,
		   Fleetcap__V1__CaptureSpec *spec);

/* sched_state_tick.c */
int ss_host_alive(const struct sched_state *st, const char *host_id, int64_t now);

/* sched_state_alert.c */
void ss_apply_alert(struct sched_state *st, struct sched_key *k, const Fleetcap__V1__AlertEvent *ev,
		    int64_t now);

/* sched_state_emit.c */
void ss_build_status(status_t *s, const struct sched_key *k, const entry_t *e,
		     const Fleetcap__V1__CaptureSpec *spec, const struct answer *a, int64_t now);
void *ss_dup_message(const ProtobufCMessage *msg);
void ss_emit_job(struct sched_state *st, const struct sched_key *k, const entry_t *e, int kind,
		 int stop_reason, int64_t now);
void ss_emit_kept_status(struct sched_state *st, const struct sched_key *k, status_t *kept,
			 const char *request_id, int rejected, const char *rejected_message,
			 int64_t now);
void ss_emit_message(struct sched_state *st, enum fc_topic topic, int32_t partition,
		     const char *key, const ProtobufCMessage *msg);
void ss_emit_status(struct sched_state *st, const struct sched_key *k, const entry_t *e,
		    Fleetcap__V1__CaptureSpec *spec, const struct answer *a, int64_t now);
void ss_emit_status_tombstone(struct sched_state *st, const struct sched_key *k, const char *name);
void ss_lose(struct sched_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
