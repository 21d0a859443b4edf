/*
 * api_rate: requests per second per API token (docs/ARCHITECTURE.md §6): a
 * token bucket for each token of the tokens file, refilled at rate.per_token
 * a second up to rate.burst. A request over the limit is answered 429 with
 * Retry-After, before it reaches Kafka. Shared by the connection threads.
 */
#ifndef API_RATE_H
#define API_RATE_H

#include <stdint.h>

struct api_rate;

/* count buckets (one per token), full; per_second 0 = no limit. NULL when OOM. */
struct api_rate *api_rate_new(unsigned count, double per_second, double burst);
void api_rate_free(struct api_rate *r);

/*
 * Takes one request from token's bucket at now_ms. 0, or -1 when the bucket
 * is empty, with *retry_after_s the whole seconds until it holds one again.
 */
int api_rate_take(struct api_rate *r, unsigned token, int64_t now_ms, unsigned *retry_after_s);

#endif
