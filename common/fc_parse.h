/*
 * fc_parse: strict parsing of numbers and words from user text.
 * Shared by the config loader, the spec setter and the CLI so that
 * "12abc", " 12", "", "+1" and out-of-range values are refused the same way
 * everywhere.
 */
#ifndef FC_PARSE_H
#define FC_PARSE_H

#include <stddef.h>

enum fc_parse_result {
	FC_PARSE_OK = 0,
	FC_PARSE_MALFORMED = -1, /* not a decimal integer */
	FC_PARSE_RANGE = -2,	 /* a number, outside [min, max] */
};

/*
 * Parses a whole string as a decimal integer in [min, max]: digits only, an
 * optional leading '-' when min < 0, no spaces, no sign '+', no suffix.
 */
enum fc_parse_result fc_parse_ll(const char *s, long long min, long long max, long long *out);

/* Parses true/false, yes/no, on/off, 1/0 (any case). Returns 0 or -1. */
int fc_parse_bool(const char *s, int *out);

/* Copies s without leading and trailing spaces and tabs into out. -1 if too long. */
int fc_trim_copy(const char *s, size_t n, char *out, size_t out_len);

#endif
