/*
 * fleetcap upload: one local file to Azure Blob Storage (docs/ARCHITECTURE.md §8),
 * with the uploader the worker uses: verified blocks in parallel, retries,
 * resume from the blocks already uploaded when run again.
 *
 * Exit codes: 0 uploaded (or already there with the same content), 1 on a
 * failure, 2 on invalid arguments.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "azblob_blocks.h"
#include "cli_blob.h"
#include "fc_parse.h"

static void upload_usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcap upload FILE --blob-url URL (--blob-sas TOKEN | --blob-key-file "
		"FILE)\n"
		"                       [--json] [--quiet] [--block-size N] [--parallel N]\n"
		"                       [--retry-window S]\n"
		"\n"
		"Uploads FILE to a block blob in Azure Blob Storage.\n"
		"\n"
		"      --blob-url URL         "
		"https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH,\n"
		"                             or http://127.0.0.1:PORT/ACCOUNT/CONTAINER/PATH for "
		"a\n"
		"                             local emulator; no query string\n"
		"      --blob-sas TOKEN       a SAS token (the query string, sp=cw at least)\n"
		"      --blob-key-file FILE   a file holding the account's base64 key "
		"(SharedKey);\n"
		"                             with a key a missing container is created\n"
		"      --json                 print one JSON object at the end\n"
		"  -q, --quiet                no progress line (it is shown only on a terminal)\n"
		"      --block-size N         bytes per block, a multiple of 4096 from %llu to "
		"%llu\n"
		"                             (8388608); files up to"
		" one block go in a single Put Blob\n"
		"      --parallel N           blocks in flight, 1-%u (%u)\n"
		"      --retry-window S       give up after S seconds without a successful "
		"request,\n"
		"                             1-86400 (%u); running the same command again "
		"resumes\n"
		"  -h, --help                 this help\n"
		"\n"
		"Every block carries its Content-MD5; the blob gets the file's SHA-256 as "
		"metadata\n"
		"(sha256). An existing blob is never overwritten: if it holds this very file the\n"
		"upload counts as done, otherwise it fails. Secrets never appear in the output.\n",
		(unsigned long long)AZBLOB_MIN_BLOCK_SIZE,
		(unsigned long long)AZBLOB_MAX_BLOCK_SIZE, AZBLOB_MAX_PARALLEL,
		AZBLOB_DEFAULT_PARALLEL, AZBLOB_DEFAULT_RETRY_WINDOW_S);
}

static void print_result(int json, const char *url, const struct azblob_upload_result *r,
			 double seconds, const char *error)
{
	char size[32];

	if (!json) {
		if (error)
			return; /* already on stderr */
		printf("%s %s (%s, %.1f s, %.1f MiB/s, sha256 %s)\n",
		       r->already_uploaded ? "already uploaded:" : "uploaded", url,
		       cli_human_bytes(r->size, size, sizeof(size)), seconds,
		       seconds > 0 ? (double)r->size / seconds / (1024 * 1024) : 0, r->sha256);
		return;
	}
	json_t *o =
		json_pack("{s:s, s:s, s:I, s:s, s:f, s:I, s:I, s:I, s:b}", "status",
			  error ? "Error" : "Uploaded", "blobUrl", url, "size", (json_int_t)r->size,
			  "sha256", r->sha256, "seconds", seconds, "blocks", (json_int_t)r->blocks,
			  "blocksReused", (json_int_t)r->blocks_reused, "retries",
			  (json_int_t)r->retries, "alreadyUploaded", r->already_uploaded);
	if (o && error) {
		json_object_set_new(o, "error", json_string("StorageFailed"));
		json_object_set_new(o, "errorMessage", json_string(error));
	}
	cli_json_print(o);
}

enum {
	OPT_BLOB_URL = 256,
	OPT_BLOB_SAS,
	OPT_BLOB_KEY_FILE,
	OPT_JSON,
	OPT_BLOCK_SIZE,
	OPT_PARALLEL,
	OPT_RETRY_WINDOW,
};

/* Parses a bounded integer option; prints the error and returns -1 if bad. */
static int number(const char *option, const char *value, long long min, long long max,
		  long long *out)
{
	if (fc_parse_ll(value, min, max, out) == FC_PARSE_OK)
		return 0;
	fprintf(stderr,
		"fleetcap upload: %s: \"%.32s\" is not valid: expected an integer from "
		"%lld to %lld\n",
		option, value, min, max);
	return -1;
}

int cli_upload(int argc, char **argv)
{
	static const struct option options[] = {
		{"blob-url", required_argument, NULL, OPT_BLOB_URL},
		{"blob-sas", required_argument, NULL, OPT_BLOB_SAS},
		{"blob-key-file", required_argument, NULL, OPT_BLOB_KEY_FILE},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, 'q'},
		{"block-size", required_argument, NULL, OPT_BLOCK_SIZE},
		{"parallel", required_argument, NULL, OPT_PARALLEL},
		{"retry-window", required_argument, NULL, OPT_RETRY_WINDOW},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *url = NULL, *sas = NULL, *key_file = NULL;
	struct cli_blob blob = {0};
	struct azblob_upload_result res;
	struct fc_err err;
	char location[FC_BLOB_URL_MAX + 1];
	int json = 0, quiet = 0, bad = 0, c, rc;
	long long v = 0;

	azblob_upload_config_default(&blob.upload);
	while ((c = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
		switch (c) {
		case OPT_BLOB_URL:
			url = optarg;
			break;
		case OPT_BLOB_SAS:
			sas = optarg;
			break;
		case OPT_BLOB_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_BLOCK_SIZE:
			bad |= number("--block-size", optarg, (long long)AZBLOB_MIN_BLOCK_SIZE,
				      (long long)AZBLOB_MAX_BLOCK_SIZE, &v);
			if (v % AZBLOB_BLOCK_ALIGN) {
				fprintf(stderr,
					"fleetcap upload: --block-size: %lld is not a "
					"multiple of %d\n",
					v, AZBLOB_BLOCK_ALIGN);
				bad = 1;
			}
			blob.upload.block_size = blob.upload.single_put_max = (uint64_t)v;
			break;
		case OPT_PARALLEL:
			bad |= number("--parallel", optarg, 1, AZBLOB_MAX_PARALLEL, &v);
			blob.upload.parallel = (unsigned)v;
			break;
		case OPT_RETRY_WINDOW:
			bad |= number("--retry-window", optarg, 1, 86400, &v);
			blob.upload.retry_window_s = (unsigned)v;
			break;
		case 'h':
			upload_usage(stdout);
			return CLI_EXIT_OK;
		default:
			bad = 1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "fleetcap upload: expected exactly one FILE\n");
		bad = 1;
	} else if (!url) {
		fprintf(stderr, "fleetcap upload: --blob-url: required\n");
		bad = 1;
	}
	if (bad || (rc = cli_blob_open(&blob, "upload", url, sas, key_file)) != 0) {
		fprintf(stderr, "see fleetcap upload --help\n");
		return CLI_EXIT_USAGE;
	}
	blob.progress = !json && !quiet && isatty(STDOUT_FILENO);

	double started = cli_now_s();
	rc = cli_blob_put(&blob, argv[optind], url, location, sizeof(location), &res, &err);
	double seconds = cli_now_s() - started;
	if (rc != 0)
		fprintf(stderr, "fleetcap upload: %s\n", err.msg);
	print_result(json, url, &res, seconds, rc != 0 ? err.msg : NULL);
	cli_blob_close(&blob);
	if (rc != 0)
		return err.action == FC_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}
