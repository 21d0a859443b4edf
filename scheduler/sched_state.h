/*
 * sched_state: the scheduler's state machine, one per quota key
 * (subscription/region), with no Kafka in it (docs/ARCHITECTURE.md §1, §3).
 *
 * The Kafka loop (sched_loop.c) feeds it the inputs of the partitions it owns
 * and the ledger records it replays; everything the state machine decides
 * leaves through the emit callback as (topic, partition, key, value) records,
 * which the loop produces inside the batch's transaction:
 *
 *   create  → Running + a START job when the key is under quota,
 *             Queued when queue_timeout_s > 0, else Error/QuotaExceeded;
 *             the same name with the same spec answers the current status
 *             again (a no-op), a different spec answers Conflict without
 *             touching the capture; an unknown, stale or other-tenant target
 *             is Error/TargetNotFound; an invalid spec Error/InvalidRequest
 *             naming the field; a group target is resolved to its live
 *             instances (sched_state_group.c): one session of the quota,
 *             one START job per instance;
 *   stop    → a STOP job; the capture stays Running (and counts against the
 *             quota) until the worker's final report, or until lease.grace.s
 *             passes without one;
 *   delete  → as stop, and the status is marked deleted and tombstoned;
 *   reports → Running with the start time and counters, then the final
 *             Stopped/Error with the files; the slot goes to the oldest
 *             queued request;
 *   tick    → a lease past its deadline, or a session whose worker stopped
 *             heartbeating (stale plus lease.grace.s), ends as
 *             Error/AgentStopped (with a STOP job in case the worker is
 *             alive), a queued request past its queue timeout ends as
 *             Error/QuotaExceeded.
 *
 * Batches: every key touched since the last sched_state_commit() keeps a
 * packed copy of its state from before the batch. sched_state_flush() emits
 * the new LedgerState of each touched key; sched_state_rollback() restores
 * the copies when the transaction aborts, so an aborted batch leaves no trace.
 */
#ifndef SCHED_STATE_H
#define SCHED_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "fc_kafka.h"
#include "fleetcap.pb-c.h"

struct sched_alert_rules;

/* Produces one record; value NULL is a tombstone. partition -1 = by key. */
typedef void (*sched_emit_fn)(void *opaque, enum fc_topic topic, int32_t partition, const char *key,
			      const void *value, size_t len);

/*
 * 0 when target is registered in subscription/region with a fresh heartbeat;
 * else -1 with why filled (never naming another tenant).
 */
typedef int (*sched_target_fn)(void *opaque, const char *target, const char *subscription,
			       const char *region, int64_t now_ms, char *why, size_t len);

/*
 * 1 while target still heartbeats (its last heartbeat is within the stale
 * window plus grace_ms), else 0: its sessions are then ended.
 */
typedef int (*sched_alive_fn)(void *opaque, const char *target, int64_t now_ms, int64_t grace_ms);

/* A live worker of a group: borrowed strings, valid until the table changes. */
struct sched_member {
	const char *instance;
	const char *host_id;
};

/*
 * The live (fresh) workers of group registered in subscription/region: fills
 * up to max of them into out, in no particular order, and returns how many
 * there are. With refresh the table first reads the workers topic to its
 * end, so that a worker that registered a moment ago is seen.
 */
typedef size_t (*sched_group_fn)(void *opaque, const char *group, const char *subscription,
				 const char *region, int64_t now_ms, int refresh,
				 struct sched_member *out, size_t max);

/* 0 with host's X25519 public key (its heartbeat's seal_key) in out, or -1
 * when host announces none. */
typedef int (*sched_host_key_fn)(void *opaque, const char *host, uint8_t out[32]);

struct fc_seal_key;

struct sched_policy {
	long long quota_default;
	const struct fc_kv_list *quota_overrides; /* subscription → quota; borrowed */
	int64_t lease_grace_ms;		       /* start deadline and slack after the time limit */
	long long finished_max;		       /* finished names remembered per key */
	const struct sched_alert_rules *rules; /* borrowed, may be NULL */
	sched_target_fn target_check;
	sched_alive_fn target_alive;  /* may be NULL; called with target_opaque */
	sched_group_fn group_members; /* may be NULL: no group captures; target_opaque */
	/* The schedulers' key: SAS tokens are kept sealed for it in the ledger and
	 * sealed again for the worker's key (host_key) in each job. NULL: kept
	 * in clear (tests that are not about secrets). Borrowed. */
	const struct fc_seal_key *seal_key;
	sched_host_key_fn host_key; /* target_opaque */
	/* blob.endpoints (fc_blob_url_allowed); NULL = the public clouds only. */
	const char *blob_endpoints;
	void *target_opaque;
	sched_emit_fn emit;
	void *emit_opaque;
};

struct sched_state;

/*
 * What the state machine decided, as counts since start. Only committed
 * batches count: an aborted batch's decisions are rolled back with it.
 */
#define SCHED_CODES 16
struct sched_stats {
	uint64_t admitted; /* Running: at once or from the queue */
	uint64_t queued;
	uint64_t repeated;		/* the same create again: no-op */
	uint64_t rejected[SCHED_CODES]; /* by ErrorCode (Conflict too) */
	uint64_t ended[SCHED_CODES];	/* Stopped, by StopReason */
	uint64_t failed[SCHED_CODES];	/* Error, by ErrorCode */
	uint64_t active, waiting;	/* sessions now: Running, Queued */
};

/* The committed counts, with active and waiting summed over every key. */
void sched_state_stats(const struct sched_state *st, struct sched_stats *out);

/* Returns a new empty state; the policy is copied (its pointers are borrowed). */
struct sched_state *sched_state_new(const struct sched_policy *policy);
void sched_state_destroy(struct sched_state *st);

/*
 * Loads one ledger record (value NULL or len 0 = the key is empty) for a key
 * of partition. Returns 0, or -1 when the value does not parse (the key is
 * then left empty and the error logged).
 */
int sched_state_load(struct sched_state *st, int32_t partition, const char *key, const void *value,
		     size_t len);

/* Drops the state of every key of partition (revocation). */
void sched_state_drop_partition(struct sched_state *st, int32_t partition);

/*
 * After the keys of these partitions were loaded: every active session's
 * lease runs at least lease.grace.s from now. The new owner has not yet read
 * what the workers reported while nobody did (a failover, a rebalance, Kafka
 * itself away), so a lease that ran out meanwhile says nothing about them.
 */
void sched_state_renew_leases(struct sched_state *st, const int32_t *partitions, size_t count,
			      int64_t now_ms);

/*
 * Applies one input record of topic (commands, alerts or results) read from
 * partition. Malformed records are logged and skipped. Returns the number of
 * records emitted.
 */
size_t sched_state_apply(struct sched_state *st, enum fc_topic topic, int32_t partition,
			 const char *key, size_t key_len, const void *value, size_t len,
			 int64_t now_ms);

/* Runs the timers of every key. Returns the number of records emitted. */
size_t sched_state_tick(struct sched_state *st, int64_t now_ms);

/* Emits the LedgerState of every key touched since the last commit. */
size_t sched_state_flush(struct sched_state *st, int64_t now_ms);

/*
 * 1 when the batch may commit; 0 when it dropped a record or a decision (out
 * of memory): its transaction must then abort, so that no partial decision is
 * ever committed and its inputs are read again.
 */
int sched_state_sound(const struct sched_state *st);

/* The batch committed: forget the copies. */
void sched_state_commit(struct sched_state *st);

/*
 * The batch aborted: every touched key gets its state from before the batch.
 * Returns 0, or -1 when a key could not be restored (out of memory): the
 * state then differs from the ledger, and the instance must stop and replay
 * it rather than decide anything more.
 */
int sched_state_rollback(struct sched_state *st);

/* Counts for logs and tests. */
size_t sched_state_key_count(const struct sched_state *st);
size_t sched_state_active_count(const struct sched_state *st, const char *key);

#endif
