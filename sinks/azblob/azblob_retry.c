/* azblob_retry: see azblob_retry.h. */
#include "azblob_retry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

int azblob_status_retryable(long status)
{
	switch (status) {
	case 408:
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	default:
		return 0;
	}
}

double azblob_backoff_delay(const struct azblob_backoff *b, unsigned attempt, double retry_after_s,
			    uint32_t rnd)
{
	double d = b->base_s;
	for (unsigned i = 1; i < attempt && d < b->cap_s; i++)
		d *= 2;
	if (d > b->cap_s)
		d = b->cap_s;
	d = d / 2 + d / 2 * ((double)rnd / 4294967295.0);
	return retry_after_s > d ? retry_after_s : d;
}

double azblob_retry_after_parse(const char *value, time_t now)
{
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		unsigned long long s = strtoull(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end != '\0' || s > 86400)
			return -1;
		return (double)s;
	}
	time_t when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	return when > now ? (double)(when - now) : 0;
}
