/*
 * azblob_retry: when a failed request is tried again.
 *
 * Transient failures (408, 429, 500, 502, 503, 504, and any connection or
 * transfer error) are retried with exponential backoff and "equal jitter":
 * attempt k waits between half and all of min(cap, base * 2^k), and never
 * less than the server's Retry-After. The caller gives up only when no request
 * has succeeded for the whole retry window, so a storage endpoint that
 * restarts, or an outage shorter than the window, does not lose the upload.
 */
#ifndef AZBLOB_RETRY_H
#define AZBLOB_RETRY_H

#include <stdint.h>
#include <time.h>

struct azblob_backoff {
	double base_s; /* first delay, before jitter */
	double cap_s;  /* largest delay, before Retry-After */
};

/* 1 for the HTTP statuses worth retrying. */
int azblob_status_retryable(long status);

/*
 * The delay before attempt number `attempt` (1 = first retry). rnd is a
 * uniform random 32-bit value; retry_after_s < 0 means none was given.
 */
double azblob_backoff_delay(const struct azblob_backoff *b, unsigned attempt, double retry_after_s,
			    uint32_t rnd);

/*
 * Parses a Retry-After value, delta-seconds or an HTTP date, relative to now.
 * Returns the seconds to wait (0 for a date in the past), or -1 if malformed.
 */
double azblob_retry_after_parse(const char *value, time_t now);

#endif
