/*
 * azblob_call: one Blob REST request on a curl easy handle.
 *
 * It builds the URL (endpoint, container, blob, percent-encoded query, then
 * the SAS token when there is one), the x-ms-date and x-ms-version headers,
 * the SharedKey Authorization when there is a key, and collects what the
 * answer says: status, x-ms-error-code, Retry-After, x-ms-meta-sha256 and a
 * bounded body. The caller runs the handle (curl_easy_perform or a multi
 * handle) and reads the answer from struct azblob_answer.
 *
 * The URL holds the SAS token, so it is never logged and never copied into an
 * error: messages are built by azblob_call_describe(), which names the
 * operation and the blob URL without the query.
 */
#ifndef AZBLOB_CALL_H
#define AZBLOB_CALL_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "azblob_auth.h"
#include "fc_blob_url.h"
#include "fc_err.h"

struct azblob_cred {
	const struct azblob_key *key; /* SharedKey, or NULL */
	const char *sas;	      /* SAS token (query string without '?'), or NULL */
};

struct azblob_answer {
	long status;		/* 0 when no HTTP answer came */
	char error_code[64];	/* x-ms-error-code */
	double retry_after_s;	/* < 0 when absent */
	char meta_sha256[65];	/* x-ms-meta-sha256 */
	int64_t content_length; /* -1 when absent */
	char *body;
	size_t body_len, body_max;
};

struct azblob_call {
	CURL *easy;
	struct curl_slist *headers;
	char *url;
	const unsigned char *out; /* request body */
	size_t out_len, out_pos;
	struct azblob_answer answer;
	char curl_error[CURL_ERROR_SIZE];
	const char *what; /* operation name for messages: "Put Block", … */
};

/* What the request is about: the container or the blob. */
enum azblob_scope { AZBLOB_CONTAINER, AZBLOB_BLOB };

/*
 * Prepares easy (curl_easy_reset first) for one request. headers are the
 * operation's own (Content-MD5, x-ms-blob-type, …); body may be NULL.
 * body_max bounds the answer body kept (0 = discard it). Returns 0, or -1
 * with err.
 */
int azblob_call_setup(struct azblob_call *c, CURL *easy, const char *what,
		      const struct fc_blob_url *url, const struct azblob_cred *cred,
		      const char *method, enum azblob_scope scope, const struct azblob_pair *query,
		      size_t n_query, const struct azblob_pair *headers, size_t n_headers,
		      const void *body, size_t body_len, size_t body_max, struct fc_err *err);

/* Reads the status once the transfer is done (rc is its result). */
void azblob_call_finish(struct azblob_call *c, CURLcode rc);

/* Frees what setup allocated; the easy handle stays with the caller. */
void azblob_call_release(struct azblob_call *c);

/*
 * Writes "WHAT of URL: HTTP 403 AuthenticationFailed" or "WHAT of URL:
 * connection failed: …" — never the query string.
 */
void azblob_call_describe(const struct azblob_call *c, const struct fc_blob_url *url, CURLcode rc,
			  char *out, size_t out_len);

/* Replaces the value of every sig= parameter in s with "REDACTED", in place. */
void azblob_redact(char *s);

#endif
