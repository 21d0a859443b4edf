/*
 * it_fleet: a test harness around fleetcap-scheduler on the real broker.
 *
 *  - topics under a prefix unique to the run;
 *  - scheduler processes (fork/exec, stderr to a log file so that a chatty
 *    scheduler never blocks on a full pipe);
 *  - a producer for commands, alerts, heartbeats and reports;
 *  - a fake worker thread that reads every job (read_committed) and reports
 *    like a worker: STARTED for a START job unless the host's id begins with
 *    "silent", FINISHED with the job's reason for a STOP job unless it begins
 *    with "silent" or "mute", and FINISHED/TimeExceeded right after STARTED
 *    when auto_finish is set; hosts whose id begins with "real" are left to
 *    a real fleetcap-worker;
 *  - a status thread that keeps every status record (read_committed), in the
 *    order of each partition, for the tests to search and wait on.
 *
 * Every wait has a generous timeout that only guards against a hang.
 */
#ifndef IT_FLEET_H
#define IT_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fc_kafka.h"
#include "fleetcap.pb-c.h"

typedef Fleetcap__V1__CaptureStatus it_status_t;

struct it_fleet;

/* Creates the topics (partitions each) and starts the threads. */
struct it_fleet *it_fleet_start(const char *brokers, const char *prefix, int partitions);
/* Adds origin ("http://127.0.0.1:PORT") to the blob.endpoints of the
 * schedulers and workers started afterwards (besides $FLEETCAP_AZURITE's). */
void it_fleet_allow_endpoint(struct it_fleet *f, const char *origin);

/* The key every stand-in host announces in its heartbeats (jobs' secrets open with it). */
struct fc_seal_key;
const struct fc_seal_key *it_fleet_seal_key(const struct it_fleet *f);

/* 1 when a record of topic, committed or not (read_uncommitted: aborted
 * transactions too), holds text in its value bytes. */
int it_fleet_topic_holds(struct it_fleet *f, enum fc_topic topic, const char *text);

void it_fleet_stop(struct it_fleet *f);

const char *it_fleet_prefix(const struct it_fleet *f);

/* Worker behaviour: finish every session right after it starts. */
void it_fleet_auto_finish(struct it_fleet *f, int on);

/* A heartbeat of host in sub/region, age_ms old. */
void it_fleet_heartbeat(struct it_fleet *f, const char *host, const char *sub, const char *region,
			int64_t age_ms);

/* The same from a host of group with instance id instance ("" = none). */
void it_fleet_heartbeat_in_group(struct it_fleet *f, const char *host, const char *sub,
				 const char *region, const char *group, const char *instance,
				 int64_t age_ms);

/* Sends a create; request_id (33 bytes) gets the id used. */
void it_fleet_create(struct it_fleet *f, const char *sub, const char *region, const char *name,
		     const char *target, unsigned time_limit_s, unsigned queue_timeout_s,
		     char *request_id);

/* The same with a blob URL (NULL = none). */
void it_fleet_create_blob(struct it_fleet *f, const char *sub, const char *region, const char *name,
			  const char *target, unsigned time_limit_s, unsigned queue_timeout_s,
			  const char *blob_url, char *request_id);

/* Sends a create of spec (name, subscription, region and target set). */
void it_fleet_create_spec(struct it_fleet *f, Fleetcap__V1__CaptureSpec *spec, char *request_id);

/* Sends a stop or delete (FLEETCAP__V1__COMMAND_KIND__…). */
void it_fleet_command(struct it_fleet *f, int kind, const char *sub, const char *region,
		      const char *name);

void it_fleet_alert(struct it_fleet *f, const char *sub, const char *region, const char *target,
		    const char *rule, const char *alert_id, int severity);

/* Waits until every record produced so far has been delivered. */
void it_fleet_flush(struct it_fleet *f);

/*
 * The first status answering request_id, as a copy to free with
 * fleetcap__v1__capture_status__free_unpacked; NULL after timeout_s.
 */
it_status_t *it_fleet_answer(struct it_fleet *f, const char *request_id, int timeout_s);

/* The first status of sub/region/name in state (after any earlier ones); NULL after timeout_s. */
it_status_t *it_fleet_wait_state(struct it_fleet *f, const char *key, int state, int timeout_s);

/* START (or STOP) jobs seen so far whose session or spec names name (NULL = all). */
size_t it_fleet_jobs(struct it_fleet *f, int kind, const char *name);

/* Reports of kind (FLEETCAP__V1__REPORT_KIND__…) for the capture name seen in results so far. */
size_t it_fleet_reports(struct it_fleet *f, const char *name, int kind);

/* Copies of every status record / job seen so far (caller frees the array only). */
size_t it_fleet_statuses(struct it_fleet *f, it_status_t ***out);
size_t it_fleet_all_jobs(struct it_fleet *f, Fleetcap__V1__Job ***out);

/* Reads the whole ledger topic (read_committed) and calls fn per record. */
void it_fleet_read_ledger(struct it_fleet *f,
			  void (*fn)(void *opaque, const Fleetcap__V1__LedgerState *ls),
			  void *opaque);

/* A scheduler process with "-X" settings (NULL-terminated "key=value" list). */
pid_t it_sched_start(struct it_fleet *f, const char *instance, const char *const *settings,
		     char *log_path, size_t log_len);

/* Another daemon (the worker): bin with brokers, prefix and settings, run
 * through wrapper (argv prefix, NULL-ended; NULL = none); logs to
 * /tmp/PREFIXname.log. */
pid_t it_daemon_start(struct it_fleet *f, const char *const *wrapper, const char *bin,
		      const char *name, const char *const *settings, char *log_path,
		      size_t log_len);

/* Waits until the log file holds text (the scheduler's readiness lines). 0 when found. */
int it_sched_wait_log(const char *log_path, const char *text, int timeout_s);

/* SIGTERM (graceful) or SIGKILL; returns the exit status. */
int it_sched_stop(pid_t pid, int sig);

#endif
