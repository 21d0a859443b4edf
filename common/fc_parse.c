/* fc_parse: see fc_parse.h. */
#include "fc_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum fc_parse_result fc_parse_ll(const char *s, long long min, long long max, long long *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-' && min < 0)
		p++;
	if (*p < '0' || *p > '9')
		return FC_PARSE_MALFORMED;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return FC_PARSE_MALFORMED;
	if (errno == ERANGE || v < min || v > max)
		return FC_PARSE_RANGE;
	*out = v;
	return FC_PARSE_OK;
}

int fc_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int fc_trim_copy(const char *s, size_t n, char *out, size_t out_len)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= out_len)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}
