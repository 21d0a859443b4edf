/*
 * azblob_request: one request to the service on a slot, its answer sorted
 * (done, retry, create the container, exists, failed), and the retry loop
 * with backoff for requests that are not blocks.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "azblob_blocks.h"
#include "fc_hex.h"
#include "fc_log.h"
#include "azblob_upload_int.h"

static const char *const op_names[] = {
	"Create Container", "Put Blob",	      "Get Block List",
	"Put Block",	    "Put Block List", "Get Blob Properties",
};

static size_t commit_headers(const struct upload *u, struct azblob_pair *h)
{
	h[0] = (struct azblob_pair){"x-ms-blob-content-type", up_content_type(u->path)};
	h[1] = (struct azblob_pair){"x-ms-meta-sha256", u->sha256_hex};
	h[2] = (struct azblob_pair){"If-None-Match", "*"};
	return 3;
}

/* Prepares the slot's handle for op (the slot's buffer holds any block body). */
int up_setup(struct upload *u, struct slot *s, enum op op, const char *body, size_t body_len)
{
	struct azblob_pair q[3], h[6];
	size_t nq = 0, nh = 0, body_max = ERROR_BODY_MAX;
	enum azblob_scope scope = AZBLOB_BLOB;
	const char *method = "PUT";
	const void *out = NULL;
	size_t out_len = 0;
	unsigned char md5[16];
	char list_md5[32];

	s->op = op;
	switch (op) {
	case OP_CREATE_CONTAINER:
		scope = AZBLOB_CONTAINER;
		q[nq++] = (struct azblob_pair){"restype", "container"};
		break;
	case OP_PUT_BLOB:
		h[nh++] = (struct azblob_pair){"x-ms-blob-type", "BlockBlob"};
		h[nh++] = (struct azblob_pair){"Content-MD5", s->md5_b64};
		nh += commit_headers(u, h + nh);
		out = s->buf;
		out_len = s->len;
		break;
	case OP_PUT_BLOCK_LIST:
		q[nq++] = (struct azblob_pair){"comp", "blocklist"};
		EVP_Digest(body, body_len, md5, NULL, EVP_md5(), NULL);
		EVP_EncodeBlock((unsigned char *)list_md5, md5, 16);
		h[nh++] = (struct azblob_pair){"Content-MD5", list_md5};
		nh += commit_headers(u, h + nh);
		out = body;
		out_len = body_len;
		break;
	case OP_PUT_BLOCK:
		q[nq++] = (struct azblob_pair){"comp", "block"};
		q[nq++] = (struct azblob_pair){"blockid", u->blocks[s->block].id};
		h[nh++] = (struct azblob_pair){"Content-MD5", s->md5_b64};
		out = s->buf;
		out_len = s->len;
		break;
	case OP_GET_BLOCK_LIST:
		method = "GET";
		q[nq++] = (struct azblob_pair){"comp", "blocklist"};
		q[nq++] = (struct azblob_pair){"blocklisttype", "all"};
		body_max = GET_BLOCK_LIST_MAX;
		break;
	case OP_GET_PROPERTIES:
		method = "HEAD";
		break;
	}
	return azblob_call_setup(&s->call, s->easy, op_names[op], u->url, u->cred, method, scope, q,
				 nq, h, nh, out, out_len, body_max, u->err);
}

enum outcome up_classify(enum op op, long status, const char *error_code, int with_key)
{
	if (status >= 200 && status < 300)
		return DONE;
	if (status == 0 || azblob_status_retryable(status))
		return RETRY;
	if (status == 404 && strcmp(error_code, "ContainerNotFound") == 0)
		return with_key ? CREATE_CONTAINER : FAILED;
	if (op == OP_CREATE_CONTAINER && status == 409)
		return DONE; /* ContainerAlreadyExists: someone else made it */
	if ((op == OP_PUT_BLOB || op == OP_PUT_BLOCK_LIST) && (status == 409 || status == 412))
		return EXISTS;
	return FAILED;
}

/* Sorts an answer into what to do next; for RETRY and FAILED, err says why. */
enum outcome up_judge(struct upload *u, struct slot *s, CURLcode rc)
{
	const struct azblob_answer *a = &s->call.answer;
	char what[FC_BLOB_URL_MAX + 256];

	azblob_call_finish(&s->call, rc);
	enum outcome o = up_classify(s->op, a->status, a->error_code, u->cred->key != NULL);
	if (o != DONE)
		azblob_call_describe(&s->call, u->url, rc, what, sizeof(what));
	if (o == RETRY) {
		FC_DEBUG("azblob", "%s: will retry", what);
		fc_err_set(u->err, FC_ERR_RETRY, "%s", what);
	} else if (o == FAILED && (a->status == 401 || a->status == 403)) {
		fc_err_set(u->err, FC_ERR_FATAL, "%s: authentication or permission refused: %s",
			   what,
			   u->cred->key ? "check the account key for this account"
					: "check the SAS token's signature, expiry and permissions "
					  "(uploads need sp=cw)");
	} else if (o == FAILED && a->status == 404 &&
		   strcmp(a->error_code, "ContainerNotFound") == 0) {
		fc_err_set(u->err, FC_ERR_FATAL,
			   "%s: the container does not exist, and a SAS token cannot create it",
			   what);
	} else if (o == FAILED) {
		fc_err_set(u->err, FC_ERR_FATAL, "%s", what);
	}
	return o;
}

/*
 * Schedules another attempt after a transient failure. Returns the delay, or
 * -1 when the retry window has run out (err already names the last failure).
 */
double up_backoff(struct upload *u, unsigned attempt, const struct slot *s)
{
	double delay = azblob_backoff_delay(&u->cfg->backoff, attempt, s->call.answer.retry_after_s,
					    up_next_random(u));
	if (up_now_s() + delay - u->last_success > u->cfg->retry_window_s) {
		char last[sizeof(u->err->msg)];
		snprintf(last, sizeof(last), "%s", u->err->msg);
		fc_err_set(u->err, FC_ERR_RETRY,
			   "no request succeeded for %u s (the retry window); last failure: %s",
			   u->cfg->retry_window_s, last);
		return -1;
	}
	u->res->retries++;
	return delay;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Runs the prepared transfer of s alone and returns its result. */
static CURLcode perform(struct upload *u, struct slot *s)
{
	CURLcode rc = CURLE_OK;
	int running = 1;
	CURLMsg *m;
	int left;

	curl_multi_add_handle(u->multi, s->easy);
	while (running) {
		curl_multi_perform(u->multi, &running);
		if (running)
			curl_multi_poll(u->multi, NULL, 0, 1000, NULL);
	}
	while ((m = curl_multi_info_read(u->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == s->easy)
			rc = m->data.result;
	curl_multi_remove_handle(u->multi, s->easy);
	return rc;
}

/*
 * Sends one request (not a block) until it is answered or refused, retrying
 * transient failures and creating a missing container on the way.
 */
enum outcome up_request(struct upload *u, struct slot *s, enum op op, const char *body,
			size_t body_len)
{
	for (unsigned attempt = 1;; attempt++) {
		if (up_setup(u, s, op, body, body_len) != 0)
			return FAILED;
		enum outcome o = up_judge(u, s, perform(u, s));
		if (o == RETRY) {
			double delay = up_backoff(u, attempt, s);
			azblob_call_release(&s->call);
			if (delay < 0)
				return FAILED;
			sleep_s(delay);
			continue;
		}
		if (o == CREATE_CONTAINER && op == OP_CREATE_CONTAINER) {
			fc_err_set(u->err, FC_ERR_FATAL,
				   "%s: container not found while creating it", op_names[op]);
			return FAILED;
		}
		if (o == CREATE_CONTAINER) {
			azblob_call_release(&s->call);
			if (up_create_container(u, s) != 0)
				return FAILED;
			attempt = 0;
			continue;
		}
		if (o == DONE)
			u->last_success = up_now_s();
		return o; /* the caller reads the answer, then releases the call */
	}
}

int up_create_container(struct upload *u, struct slot *s)
{
	FC_INFO("azblob", "creating container %s in account %s", u->url->container,
		u->url->account);
	enum outcome o = up_request(u, s, OP_CREATE_CONTAINER, NULL, 0);
	azblob_call_release(&s->call);
	return o == DONE ? 0 : -1;
}

/* The blob exists already: done if it holds this file, refused otherwise. */
int up_check_existing(struct upload *u, struct slot *s)
{
	enum outcome o = up_request(u, s, OP_GET_PROPERTIES, NULL, 0);
	const struct azblob_answer *a = &s->call.answer;
	int same = o == DONE && strcmp(a->meta_sha256, u->sha256_hex) == 0 &&
		   a->content_length == (int64_t)u->plan.size;

	if (o == DONE && !same)
		fc_err_set(u->err, FC_ERR_FATAL,
			   "%s/%s/%s already exists with other content; a blob is never "
			   "overwritten",
			   u->url->endpoint, u->url->container, u->url->blob);
	else if (o == FAILED && (a->status == 401 || a->status == 403 || a->status == 404))
		fc_err_set(u->err, FC_ERR_FATAL,
			   "%s/%s/%s already exists and cannot be read to compare it (a SAS token "
			   "needs sp=r for that); a blob is never overwritten",
			   u->url->endpoint, u->url->container, u->url->blob);
	azblob_call_release(&s->call);
	if (same)
		u->res->already_uploaded = 1;
	return same ? 0 : -1;
}
