/*
 * wk_journal: the worker's small journal in state.dir (ARCHITECTURE §4), so
 * that a crash or a restart neither leaves a session hanging nor runs a job
 * twice.
 *
 * One text file, STATE_DIR/journal, appended and fdatasync-ed before the
 * action it records is reported:
 *
 *   start SESSION_ID SUBSCRIPTION REGION NAME START_MS PATH
 *   final SESSION_ID
 *
 * (session ids, tenants and names hold no blank; the path is the rest of
 * the line). At start-up the agent reports every session with a "start" and
 * no "final" as Stopped/AgentRestarted, and never runs a START job whose
 * session is in the journal.
 */
#ifndef WK_JOURNAL_H
#define WK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"

struct wk_journal_entry {
	char *session_id;
	char *subscription;
	char *region;
	char *name;
	int64_t start_ms;
	char *path;
	int final;
};

struct wk_journal;

/* Opens (creating) dir/journal and reads it. NULL with err naming the file and line. */
struct wk_journal *wk_journal_open(const char *dir, struct fc_err *err);
void wk_journal_close(struct wk_journal *j);

/* The sessions started and never finished, as read at open. */
size_t wk_journal_interrupted(const struct wk_journal *j, const struct wk_journal_entry **out);

/* 1 when session_id was ever started on this host. */
int wk_journal_known(const struct wk_journal *j, const char *session_id);

/* Records a start / an end, durably. 0, or -1 with err. Thread-safe. */
int wk_journal_started(struct wk_journal *j, const char *session_id, const char *subscription,
		       const char *region, const char *name, int64_t start_ms, const char *path,
		       struct fc_err *err);
int wk_journal_finished(struct wk_journal *j, const char *session_id, struct fc_err *err);

#endif
