/*
 * wk_agent: the worker agent's core (docs/ARCHITECTURE.md §4): heartbeats to
 * `workers`, the jobs of this host from `jobs`, one capture thread per
 * session, and reports (started, progress, exactly one final) to `results`.
 *
 * Jobs: the agent reads only the partition its host id maps to, and ignores
 * jobs for other hosts. Its position is the committed offset of its own
 * group (fleetcap-worker-HOST), or, for a host that never ran, the end of the
 * partition as of start-up; the first heartbeat is sent only after that
 * position is fixed, so no job sent to a freshly registered host is missed.
 * A START job runs a wk_session writing under capture.root (the path
 * resolved by the disk sink, which refuses "..", absolute paths and
 * symlinks); a STOP job ends it within a second. With a blob URL each file
 * is uploaded as soon as it is finished (wk_uploader.h; the request's SAS
 * token, else the worker's key of the URL's account), and the final report,
 * sent once the uploads are done, carries each file's local path, blob URL
 * (no secret), size and sha256. A failed upload makes it FAILED with
 * StorageFailed, the files still listed.
 *
 * With state.dir, the journal (wk_journal.h) lets a restart finish the
 * uploads a crash interrupted, report the other interrupted sessions
 * Stopped/AgentRestarted, and ignore a START delivered again.
 */
#ifndef WK_AGENT_H
#define WK_AGENT_H

#include <stdatomic.h>
#include <signal.h>

#include "fc_err.h"
#include "wk_config.h"

struct wk_agent;

/* Connects and fixes the jobs position. NULL with err set. */
struct wk_agent *wk_agent_new(const struct wk_config *config, struct fc_err *err);

/*
 * Runs until *stop is set: then every session is stopped, its final report
 * sent, and 0 returned. -1 with err on a fatal Kafka error.
 */
int wk_agent_run(struct wk_agent *agent, atomic_int *stop, struct fc_err *err);

/* 1 once the first heartbeat is in Kafka: a create for this host is admitted. */
int wk_agent_ready(const struct wk_agent *agent);

void wk_agent_destroy(struct wk_agent *agent);

#endif
