/*
 * sink_azblob: the azblob sink — finished capture files to Azure Blob
 * Storage (azblob_upload.h does the work).
 *
 * Credentials: a SAS token given with the request (spec blob_sas,
 * --blob-sas) is used for every put; otherwise the SharedKey of the URL's
 * account (worker key blob.key.ACCOUNT, --blob-key-file). The sink copies
 * the keys and wipes them on close.
 */
#ifndef SINK_AZBLOB_H
#define SINK_AZBLOB_H

#include <stddef.h>

#include "azblob_auth.h"
#include "azblob_upload.h"
#include "fc_err.h"

struct sink_azblob_config {
	const struct azblob_key *keys; /* SharedKey per account */
	size_t n_keys;
	const char *sas; /* SAS token, or NULL */
	struct azblob_upload_config upload;
};

struct sink_azblob;

/* Returns NULL with err when out of memory. */
struct sink_azblob *sink_azblob_open(const struct sink_azblob_config *config, struct fc_err *err);

void sink_azblob_close(struct sink_azblob *sink);

/*
 * Uploads local_path to the blob url; writes the URL (never a secret) into
 * location and what happened into res. Returns 0, or -1 with err
 * (FC_ERR_INVALID for a URL or account it cannot serve, FC_ERR_RETRY when
 * the storage stayed unreachable for the retry window, FC_ERR_FATAL for a
 * refusal).
 */
int sink_azblob_put(struct sink_azblob *sink, const char *local_path, const char *url,
		    char *location, size_t location_len, struct azblob_upload_result *res,
		    struct fc_err *err);

/* Sets the progress callback of later puts (NULL for none). */
void sink_azblob_set_progress(struct sink_azblob *sink,
			      void (*on_progress)(void *arg, uint64_t done, uint64_t total),
			      void *arg);

/*
 * The blob URL for one file of a ring buffer: the number the capture engine
 * put in the local name ("cap_00007.pcap") goes into the blob name the same
 * way ("…/dir/x.pcap" → "…/dir/x_00007.pcap"). A local name without such a
 * number gives url unchanged. Returns 0, or -1 if it does not fit.
 */
int sink_azblob_ring_url(const char *url, const char *local_path, char *out, size_t out_len);

#endif
