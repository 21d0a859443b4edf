/*
 * cli_spec_opts: the capture options that `capture` and `create` share
 * (docs/ARCHITECTURE.md §8), mapped one to one onto fc_spec_set keys, so both
 * commands spell and check them the same way.
 */
#ifndef CLI_SPEC_OPTS_H
#define CLI_SPEC_OPTS_H

#include <getopt.h>

#include "fc_spec.h"

enum {
	CLI_OPT_FILTER = 256,
	CLI_OPT_FILTERS_JSON,
	CLI_OPT_BYTES_PER_PACKET,
	CLI_OPT_BYTES_PER_SESSION,
	CLI_OPT_TIME_LIMIT,
	CLI_OPT_FILE_COUNT,
	CLI_OPT_FILE_SIZE,
	CLI_OPT_SESSION_TIME_LIMIT,
	CLI_OPT_BLOB_URL,
	CLI_OPT_BLOB_SAS,
	CLI_OPT_FIRST_FREE, /* commands number their own options from here */
};

#define CLI_SPEC_OPTIONS                                                                           \
	{"interface", required_argument, NULL, 'i'},                                               \
		{"filter", required_argument, NULL, CLI_OPT_FILTER},                               \
		{"filters-json", required_argument, NULL, CLI_OPT_FILTERS_JSON},                   \
		{"bytes-per-packet", required_argument, NULL, CLI_OPT_BYTES_PER_PACKET},           \
		{"bytes-per-session", required_argument, NULL, CLI_OPT_BYTES_PER_SESSION},         \
		{"time-limit", required_argument, NULL, CLI_OPT_TIME_LIMIT},                       \
		{"file-count", required_argument, NULL, CLI_OPT_FILE_COUNT},                       \
		{"file-size", required_argument, NULL, CLI_OPT_FILE_SIZE},                         \
		{"session-time-limit", required_argument, NULL, CLI_OPT_SESSION_TIME_LIMIT},       \
		{"blob-url", required_argument, NULL, CLI_OPT_BLOB_URL},                           \
	{                                                                                          \
		"blob-sas", required_argument, NULL, CLI_OPT_BLOB_SAS                              \
	}

/*
 * Applies option c with value to spec when it is one of CLI_SPEC_OPTIONS;
 * errors go to errs. Returns 1 when c was one of them, else 0.
 */
int cli_spec_option(fc_spec_t *spec, int c, const char *value, struct fc_field_errors *errs);

#endif
