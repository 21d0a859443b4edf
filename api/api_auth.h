/*
 * api_auth: fleetcap-api's bearer tokens (docs/ARCHITECTURE.md §6). The tokens file
 * holds one token per line with the subscriptions it may use:
 *
 *   # TOKEN                              SUBSCRIPTIONS ("*" = all)
 *   3b1f0c2e9d7a4c55b0e1f2a3c4d5e6f7     contoso-prod,contoso-test
 *
 * Tokens are at least 16 characters. Only their SHA-256 is kept in memory;
 * a presented token is hashed and compared with every entry in constant
 * time, so neither timing nor a log line ever reveals one.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include "fc_err.h"

struct api_auth;

/* Reads path. NULL with err naming the file and line. */
struct api_auth *api_auth_load(const char *path, struct fc_err *err);
void api_auth_free(struct api_auth *a);

enum api_auth_result {
	API_AUTH_OK,
	API_AUTH_MISSING,   /* no "Authorization: Bearer …" header: 401 */
	API_AUTH_UNKNOWN,   /* a token not in the file: 401 */
	API_AUTH_FORBIDDEN, /* a known token, another subscription: 403 */
};

/* Checks the Authorization header's value (NULL when absent) for subscription;
 * *token (may be NULL) gets the matching token's index, or -1. */
enum api_auth_result api_auth_check(const struct api_auth *a, const char *authorization,
				    const char *subscription, int *token);

/* A token's name for logs: "sha256:" and the first 12 hex digits of its
 * SHA-256 (an operator finds it with sha256sum; the token cannot be had from it). */
void api_auth_token_id(const struct api_auth *a, int token, char out[20]);

/* The number of tokens loaded. */
unsigned api_auth_count(const struct api_auth *a);

#endif
