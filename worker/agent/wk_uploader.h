/*
 * wk_uploader: one session's uploads, file by file, while it still captures.
 *
 * The capture engine hands over each file as it is finished (a ring's file
 * when it rotates, the last one at the end); the uploader opens it at once,
 * so that the ring deleting its oldest file later cannot take the bytes
 * away, and a thread of its own uploads the queue in order, through
 * /proc/self/fd/N, to the blob named after the file (ring numbers carried
 * over, see sink_azblob_ring_url). So a day-long ring of 10 files puts every
 * file of the day in blob storage, not just the last 10, and the capture
 * never waits for the network.
 *
 * After the first failed upload the rest are skipped (the session ends
 * FAILED/StorageFailed, naming that file); what was uploaded stays listed.
 *
 * Files held open take disk space even once the ring deleted them, so the
 * bytes of the files waiting (besides the one being uploaded) are bounded by
 * held_bytes_max. When storage falls further behind (an outage, a slow link),
 * the oldest waiting file is dropped: closed, never uploaded, listed without
 * a blob URL, and the session ends FAILED/StorageFailed saying how many.
 */
#ifndef WK_UPLOADER_H
#define WK_UPLOADER_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"
#include "sink_azblob.h"
#include "wk_metrics.h"
#include "wk_pcapfile.h"

struct wk_uploader;

struct wk_uploader_config {
	const char *session_id; /* for the log; copied */
	const char *blob_url;	/* the spec's; copied */
	int ring;		/* name each blob after its ring file */
	const char *sas;	/* the spec's SAS token, or NULL; copied */
	const struct azblob_key *keys;
	size_t n_keys;
	struct wk_metrics *metrics; /* may be NULL */
	uint64_t held_bytes_max;    /* bytes of the files waiting; 0 = no bound */
	unsigned retry_window_s;    /* per upload; 0 = the default */
};

/* One file as it ends up: its local path, blob URL (no secret), size, sha256. */
struct wk_uploaded {
	char path[WK_PATH_MAX];
	char blob_url[FC_BLOB_URL_MAX + 1]; /* "" when not uploaded */
	uint64_t size;
	char sha256[65];
};

struct wk_uploader *wk_uploader_start(const struct wk_uploader_config *config, struct fc_err *err);

/* Queues a finished file (the capture thread's call; never blocks on the
 * network). */
void wk_uploader_add(struct wk_uploader *u, const struct wk_file *file);

/*
 * Waits until every queued file is uploaded (or skipped after a failure),
 * stops the thread, and gives the files in order. 0, or -1 with err naming
 * the first failure. The array stays owned by u.
 */
int wk_uploader_finish(struct wk_uploader *u, const struct wk_uploaded **files, size_t *n,
		       struct fc_err *err);

/* Files held open: waiting, or being uploaded. */
size_t wk_uploader_held(struct wk_uploader *u);

void wk_uploader_free(struct wk_uploader *u);

#endif
