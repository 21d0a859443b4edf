/*
 * wk_journal: the worker's small journal in state.dir (docs/ARCHITECTURE.md §4), so
 * that a crash or a restart neither leaves a session hanging nor runs a job
 * twice.
 *
 * One text file, STATE_DIR/journal, appended and fdatasync-ed before the
 * action it records is reported:
 *
 *   start SESSION_ID SUBSCRIPTION REGION NAME START_MS PATH
 *   captured SESSION_ID REPORT SPEC
 *   report SESSION_ID REPORT
 *   final SESSION_ID
 *
 * (session ids, tenants and names hold no blank; the path is the rest of
 * the line). "captured" is written when a capture has ended and its files
 * are about to be uploaded: REPORT is the final report as it will be sent
 * (files without blob URLs) and SPEC the session's CaptureSpec, both packed
 * protobuf in hex. The spec may hold the request's SAS token, which is why
 * the journal is mode 0600 in a state.dir only the worker reads. "report" is
 * written when the final report is ready (uploads done): REPORT is that
 * report, and "final" follows only once Kafka has acknowledged it.
 *
 * At start-up the agent sends again the report of every session with a
 * "report" and no "final", finishes the upload of every session with a
 * "captured" and no "final" and sends its report, reports every other
 * session with a "start" and no "final" as Stopped/AgentRestarted, and never
 * runs a START job whose session is in the journal.
 *
 * The journal is compacted at open: sessions that are final are dropped
 * (the newest JOURNAL_KEEP_FINAL of them are kept, so a START delivered
 * again soon after a restart is still recognised), and the rest rewritten
 * to a new file that replaces the old one atomically. A compaction that
 * fails (a full disk, a file size limit) leaves the old journal as it was and
 * is logged; a journal that exists but cannot be read fails the open, never
 * reads as empty. A line only partly appended is cut off again.
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
	uint8_t *report, *spec; /* "captured": packed protobuf, else NULL */
	size_t report_len, spec_len;
	uint8_t *unsent; /* "report": the final report not yet acknowledged, else NULL */
	size_t unsent_len;
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

/* Records a start / a capture ended, upload pending / an end, durably. 0, or -1 with err.
 * Thread-safe. */
int wk_journal_started(struct wk_journal *j, const char *session_id, const char *subscription,
		       const char *region, const char *name, int64_t start_ms, const char *path,
		       struct fc_err *err);
int wk_journal_captured(struct wk_journal *j, const char *session_id, const uint8_t *report,
			size_t report_len, const uint8_t *spec, size_t spec_len,
			struct fc_err *err);
/* Records the final report about to be sent (packed protobuf). */
int wk_journal_report(struct wk_journal *j, const char *session_id, const uint8_t *report,
		      size_t report_len, struct fc_err *err);
int wk_journal_finished(struct wk_journal *j, const char *session_id, struct fc_err *err);

#endif
