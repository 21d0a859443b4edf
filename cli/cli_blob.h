/*
 * cli_blob: the blob options `upload` and `capture` share — --blob-url with
 * --blob-sas or --blob-key-file — and an upload with a progress line.
 */
#ifndef CLI_BLOB_H
#define CLI_BLOB_H

#include <stdint.h>

#include "sink_azblob.h"

struct cli_blob {
	const char *command;
	struct sink_azblob *sink;
	struct azblob_upload_config upload;
	int progress; /* draw a progress line on stdout */
	double started;
	const char *current; /* file being uploaded, for the progress line */
};

/*
 * Checks url and exactly one of sas and key_file, loads the key, and opens
 * the sink with b->upload (set it first, e.g. with
 * azblob_upload_config_default). Prints what is wrong and returns
 * CLI_EXIT_USAGE, or returns 0.
 */
int cli_blob_open(struct cli_blob *b, const char *command, const char *url, const char *sas,
		  const char *key_file);

/* Uploads path to url (drawing the progress line when b->progress). */
int cli_blob_put(struct cli_blob *b, const char *path, const char *url, char *location,
		 size_t location_len, struct azblob_upload_result *res, struct fc_err *err);

void cli_blob_close(struct cli_blob *b);

/* Monotonic seconds, for rates and durations. */
double cli_now_s(void);

/* "12.5 MiB": n bytes for people. */
const char *cli_human_bytes(uint64_t n, char *buf, size_t len);

#endif
