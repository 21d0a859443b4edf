/*
 * azblob_upload: one local file to one block blob, verified and resumable.
 *
 * A file up to single_put_max goes in one Put Blob. A larger one is cut into
 * blocks (azblob_blocks.h) sent with Put Block, `parallel` at a time over a
 * curl multi handle, each with its Content-MD5 so the service refuses a
 * damaged block; then one Put Block List commits them. Before sending, Get
 * Block List tells which blocks the service already holds from an earlier,
 * interrupted attempt (same index and MD5, so the same bytes): those are not
 * sent again.
 *
 * Nothing is overwritten: the final Put Blob or Put Block List carries
 * If-None-Match: * and the file's SHA-256 as metadata (x-ms-meta-sha256). If
 * the blob already exists with that SHA-256 and size, the upload had already
 * happened (a retried commit, a re-run) and counts as done; with other
 * content it is refused.
 *
 * Failures: see azblob_retry.h for what is retried and how long. 401 and 403
 * stop at once with a message naming the cause. A missing container is
 * created when authenticating with a key (a SAS token cannot create one).
 */
#ifndef AZBLOB_UPLOAD_H
#define AZBLOB_UPLOAD_H

#include <stdint.h>

#include "azblob_call.h"
#include "azblob_retry.h"
#include "fc_blob_url.h"
#include "fc_err.h"

#define AZBLOB_DEFAULT_BLOCK_SIZE     (8ull * 1024 * 1024)
#define AZBLOB_DEFAULT_SINGLE_PUT_MAX (8ull * 1024 * 1024)
#define AZBLOB_DEFAULT_PARALLEL	      4u
#define AZBLOB_MAX_PARALLEL	      64u
#define AZBLOB_DEFAULT_RETRY_WINDOW_S 300u

struct azblob_upload_config {
	uint64_t block_size;
	uint64_t single_put_max;
	unsigned parallel;	 /* blocks in flight */
	unsigned retry_window_s; /* give up after this long without a success */
	struct azblob_backoff backoff;
	/* Called as bytes are acknowledged by the service (may be NULL). */
	void (*on_progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

struct azblob_upload_result {
	uint64_t size;
	char sha256[65];
	uint32_t blocks;	/* 0 for a single Put Blob */
	uint32_t blocks_reused; /* held by the service already: not sent */
	unsigned retries;	/* requests sent again after a transient failure */
	int already_uploaded;	/* the blob was there with this content */
};

void azblob_upload_config_default(struct azblob_upload_config *cfg);

/*
 * Uploads local_path to url. Returns 0, or -1 with err: FC_ERR_INVALID for a
 * bad file or config, FC_ERR_RETRY when the retry window ran out (running the
 * same upload again resumes it), FC_ERR_FATAL for a refusal (authentication,
 * permission, an existing different blob). err never holds a secret.
 */
int azblob_upload_file(const char *local_path, const struct fc_blob_url *url,
		       const struct azblob_cred *cred, const struct azblob_upload_config *cfg,
		       struct azblob_upload_result *res, struct fc_err *err);

#endif
