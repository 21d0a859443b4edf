/*
 * azblob_auth: SharedKey request signing for the Blob REST API.
 *
 * The string to sign is built exactly as the "Authorize with Shared Key" rules
 * for version 2009-09-19 and later say: the verb, eleven standard headers
 * (Content-Length empty when 0), the canonicalized x-ms-* headers, and the
 * canonicalized resource "/ACCOUNT/URI-PATH" followed by each query
 * parameter, lowercased and sorted. With an emulator-style URL the URI path
 * already starts with the account, so the account appears twice.
 *
 * The account key is a secret: it lives only in struct azblob_key, which
 * nothing prints, and is wiped by azblob_key_clear().
 */
#ifndef AZBLOB_AUTH_H
#define AZBLOB_AUTH_H

#include <stddef.h>

#include "fc_err.h"

#define AZBLOB_API_VERSION "2021-08-06"

struct azblob_key {
	char account[25];
	unsigned char secret[128]; /* decoded account key */
	size_t secret_len;
};

/*
 * Decodes a base64 account key (surrounding whitespace ignored). Returns 0, or
 * -1 with err saying what is wrong (never quoting the key).
 */
int azblob_key_init(struct azblob_key *key, const char *account, const char *base64,
		    struct fc_err *err);

/* Reads the base64 key from a file (--blob-key-file). */
int azblob_key_load_file(struct azblob_key *key, const char *account, const char *path,
			 struct fc_err *err);

/* Overwrites the secret. */
void azblob_key_clear(struct azblob_key *key);

struct azblob_pair {
	const char *name;
	const char *value;
};

struct azblob_request {
	const char *method;		 /* "PUT", "GET", … */
	const char *path;		 /* URI path as sent, percent-encoded, e.g. "/c/b" */
	const struct azblob_pair *query; /* decoded query parameters */
	size_t n_query;
	const struct azblob_pair *headers; /* every header that will be sent */
	size_t n_headers;
};

/*
 * Writes the string to sign for req into out. Returns its length, or -1 if
 * it does not fit or a header or parameter is malformed.
 */
int azblob_string_to_sign(const char *account, const struct azblob_request *req, char *out,
			  size_t out_len);

/*
 * Writes the Authorization header value "SharedKey ACCOUNT:SIGNATURE" into
 * out. Returns 0 or -1.
 */
int azblob_authorization(const struct azblob_key *key, const struct azblob_request *req, char *out,
			 size_t out_len);

/* Formats now as an RFC 1123 date for x-ms-date ("Sat, 28 Nov 2026 12:00:00 GMT"). */
void azblob_http_date(char *out, size_t out_len);

#endif
