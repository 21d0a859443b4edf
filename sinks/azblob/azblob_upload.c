/* azblob_upload: see azblob_upload.h. */
#define _GNU_SOURCE
#include "azblob_upload.h"

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

#define GET_BLOCK_LIST_MAX (16u * 1024 * 1024) /* 50,000 blocks of ~120 bytes fit */
#define ERROR_BODY_MAX	   4096
#define COMMIT_ROUNDS	   3 /* Put Block List after blocks the service lost */

enum op {
	OP_CREATE_CONTAINER,
	OP_PUT_BLOB,
	OP_GET_BLOCK_LIST,
	OP_PUT_BLOCK,
	OP_PUT_BLOCK_LIST,
	OP_GET_PROPERTIES,
};

static const char *const op_names[] = {
	"Create Container", "Put Blob",	      "Get Block List",
	"Put Block",	    "Put Block List", "Get Blob Properties",
};

enum block_state { BLOCK_NEW, BLOCK_WAITING, BLOCK_SENDING, BLOCK_DONE };

struct block {
	unsigned char md5[16];
	char id[AZBLOB_BLOCK_ID_LEN + 1];
	enum block_state state;
	double not_before; /* monotonic seconds, for BLOCK_WAITING */
};

struct slot {
	CURL *easy;
	struct azblob_call call;
	int busy;
	enum op op;
	uint32_t block;
	unsigned char *buf;
	size_t len;
	char md5_b64[32];
};

/* A block the service already holds (Get Block List). */
struct held {
	char name[AZBLOB_BLOCK_ID_LEN + 1];
	uint64_t size;
};

struct upload {
	const struct azblob_upload_config *cfg;
	const struct fc_blob_url *url;
	const struct azblob_cred *cred;
	const char *path;
	int fd;
	int direct; /* fd has O_DIRECT */
	struct azblob_plan plan;
	CURLM *multi;
	struct slot *slots;
	unsigned n_slots;
	struct block *blocks;
	uint32_t next_unread; /* blocks below have been read and hashed once */
	uint32_t n_done, n_waiting;
	int need_container; /* a Put Block found the container gone */
	/*
	 * After a failed block no block starts before pause_until: during an
	 * outage one probe at a time goes out, not every block of the file.
	 * failures counts the bursts since the last success (the backoff step).
	 */
	double pause_until;
	unsigned failures;
	EVP_MD_CTX *sha;
	unsigned char sha256[32];
	char sha256_hex[65];
	struct held *held;
	size_t n_held, held_cap;
	double last_success;
	uint64_t done_bytes;
	uint32_t rnd;
	struct azblob_upload_result *res;
	struct fc_err *err;
};

void azblob_upload_config_default(struct azblob_upload_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->block_size = AZBLOB_DEFAULT_BLOCK_SIZE;
	cfg->single_put_max = AZBLOB_DEFAULT_SINGLE_PUT_MAX;
	cfg->parallel = AZBLOB_DEFAULT_PARALLEL;
	cfg->retry_window_s = AZBLOB_DEFAULT_RETRY_WINDOW_S;
	cfg->backoff.base_s = 0.5;
	cfg->backoff.cap_s = 30;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t next_random(struct upload *u)
{
	/* xorshift32: jitter needs spread, not secrecy. */
	u->rnd ^= u->rnd << 13;
	u->rnd ^= u->rnd >> 17;
	u->rnd ^= u->rnd << 5;
	return u->rnd;
}

static void progress(struct upload *u)
{
	if (u->cfg->on_progress)
		u->cfg->on_progress(u->cfg->progress_arg, u->done_bytes, u->plan.size);
}

static const char *content_type(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && strcmp(path + n - 5, ".pcap") == 0 ? "application/vnd.tcpdump.pcap"
							   : "application/octet-stream";
}

/*
 * Reads [off, off+len) of the file into buf (aligned, with room for len
 * rounded up to AZBLOB_BLOCK_ALIGN). With O_DIRECT the bytes go from the disk
 * to buf without a copy through the page cache: capture files were written
 * with O_DIRECT and are not cached anyway. A file system that refuses it gets
 * plain reads.
 */
static int read_range(struct upload *u, unsigned char *buf, uint64_t off, size_t len)
{
	size_t got = 0;
	while (got < len) {
		size_t want = len - got;
		if (u->direct) /* whole sectors; the read stops at the end of the file */
			want = (want + AZBLOB_BLOCK_ALIGN - 1) / AZBLOB_BLOCK_ALIGN *
			       AZBLOB_BLOCK_ALIGN;
		ssize_t n = pread(u->fd, buf + got, want, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && u->direct) {
			fcntl(u->fd, F_SETFL, fcntl(u->fd, F_GETFL) & ~O_DIRECT);
			u->direct = 0;
			continue;
		}
		if (n > 0 && (size_t)n > len - got)
			n = (ssize_t)(len - got);
		if (n <= 0) {
			fc_err_set(u->err, FC_ERR_FATAL, "%s: read failed at offset %llu: %s",
				   u->path, (unsigned long long)(off + got),
				   n == 0 ? "file shrank while uploading" : strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/*
 * Reads block i into the slot's buffer and computes its MD5. The first read
 * of each block happens in order, so the file's SHA-256 is computed here
 * too; a second read (a retry) must find the same MD5.
 */
static int load_block(struct upload *u, struct slot *s, uint32_t i)
{
	struct block *b = &u->blocks[i];
	unsigned char md5[16];
	uint64_t off = azblob_plan_offset(&u->plan, i);

	s->len = (size_t)azblob_plan_length(&u->plan, i);
	if (read_range(u, s->buf, off, s->len) != 0)
		return -1;
	EVP_Digest(s->buf, s->len, md5, NULL, EVP_md5(), NULL);
	if (i == u->next_unread) {
		EVP_DigestUpdate(u->sha, s->buf, s->len);
		memcpy(b->md5, md5, sizeof(md5));
		azblob_block_id(i, md5, b->id);
		u->next_unread++;
	} else if (memcmp(b->md5, md5, sizeof(md5)) != 0) {
		fc_err_set(u->err, FC_ERR_FATAL, "%s: block %u changed while uploading", u->path,
			   i);
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)s->md5_b64, md5, 16);
	s->block = i;
	return 0;
}

static int held_cmp(const void *a, const void *b)
{
	return strcmp(((const struct held *)a)->name, ((const struct held *)b)->name);
}

static void held_add(void *arg, const char *name, uint64_t size)
{
	struct upload *u = arg;
	if (strlen(name) != AZBLOB_BLOCK_ID_LEN)
		return; /* not one of ours */
	if (u->n_held == u->held_cap) {
		size_t cap = u->held_cap ? 2 * u->held_cap : 64;
		struct held *grown = realloc(u->held, cap * sizeof(*grown));
		if (!grown)
			return; /* fewer blocks reused, nothing wrong sent */
		u->held = grown;
		u->held_cap = cap;
	}
	memcpy(u->held[u->n_held].name, name, AZBLOB_BLOCK_ID_LEN + 1);
	u->held[u->n_held++].size = size;
}

static int is_held(const struct upload *u, const struct block *b, uint64_t len)
{
	struct held key, *found;
	if (!u->n_held)
		return 0;
	memcpy(key.name, b->id, sizeof(key.name));
	found = bsearch(&key, u->held, u->n_held, sizeof(key), held_cmp);
	return found && found->size == len;
}

/*
 * The headers of the request that makes the blob exist (Put Blob or Put
 * Block List): its type, its SHA-256, and never over an existing blob.
 */
static size_t commit_headers(const struct upload *u, struct azblob_pair *h)
{
	h[0] = (struct azblob_pair){"x-ms-blob-content-type", content_type(u->path)};
	h[1] = (struct azblob_pair){"x-ms-meta-sha256", u->sha256_hex};
	h[2] = (struct azblob_pair){"If-None-Match", "*"};
	return 3;
}

/* Prepares the slot's handle for op (the slot's buffer holds any block body). */
static int setup(struct upload *u, struct slot *s, enum op op, const char *body, size_t body_len)
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

enum outcome { DONE, RETRY, CREATE_CONTAINER, EXISTS, FAILED };

/* Sorts an answer into what to do next; for FAILED, err says why. */
static enum outcome judge(struct upload *u, struct slot *s, CURLcode rc)
{
	const struct azblob_answer *a = &s->call.answer;
	char what[FC_BLOB_URL_MAX + 256];

	azblob_call_finish(&s->call, rc);
	azblob_call_describe(&s->call, u->url, rc, what, sizeof(what));
	if (a->status >= 200 && a->status < 300)
		return DONE;
	if (a->status == 0 || azblob_status_retryable(a->status)) {
		FC_DEBUG("azblob", "%s: will retry", what);
		fc_err_set(u->err, FC_ERR_RETRY, "%s", what);
		return RETRY;
	}
	if (a->status == 401 || a->status == 403) {
		fc_err_set(u->err, FC_ERR_FATAL, "%s: authentication or permission refused: %s",
			   what,
			   u->cred->key ? "check the account key for this account"
					: "check the SAS token's signature, expiry and permissions "
					  "(uploads need sp=cw)");
		return FAILED;
	}
	if (a->status == 404 && strcmp(a->error_code, "ContainerNotFound") == 0) {
		if (u->cred->key)
			return CREATE_CONTAINER;
		fc_err_set(u->err, FC_ERR_FATAL,
			   "%s: the container does not exist, and a SAS token cannot create it",
			   what);
		return FAILED;
	}
	if (s->op == OP_CREATE_CONTAINER && a->status == 409)
		return DONE; /* ContainerAlreadyExists: someone else made it */
	if ((s->op == OP_PUT_BLOB || s->op == OP_PUT_BLOCK_LIST) &&
	    (a->status == 409 || a->status == 412))
		return EXISTS;
	fc_err_set(u->err, FC_ERR_FATAL, "%s", what);
	return FAILED;
}

/*
 * Schedules another attempt after a transient failure. Returns the delay, or
 * -1 when the retry window has run out (err already names the last failure).
 */
static double backoff(struct upload *u, unsigned attempt, const struct slot *s)
{
	double delay = azblob_backoff_delay(&u->cfg->backoff, attempt, s->call.answer.retry_after_s,
					    next_random(u));
	if (now_s() + delay - u->last_success > u->cfg->retry_window_s) {
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

static int create_container(struct upload *u, struct slot *s);

/*
 * Sends one request (not a block) until it is answered or refused, retrying
 * transient failures and creating a missing container on the way.
 */
static enum outcome request(struct upload *u, struct slot *s, enum op op, const char *body,
			    size_t body_len)
{
	for (unsigned attempt = 1;; attempt++) {
		if (setup(u, s, op, body, body_len) != 0)
			return FAILED;
		enum outcome o = judge(u, s, perform(u, s));
		if (o == RETRY) {
			double delay = backoff(u, attempt, s);
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
			if (create_container(u, s) != 0)
				return FAILED;
			attempt = 0;
			continue;
		}
		if (o == DONE)
			u->last_success = now_s();
		return o; /* the caller reads the answer, then releases the call */
	}
}

static int create_container(struct upload *u, struct slot *s)
{
	FC_INFO("azblob", "creating container %s in account %s", u->url->container,
		u->url->account);
	enum outcome o = request(u, s, OP_CREATE_CONTAINER, NULL, 0);
	azblob_call_release(&s->call);
	return o == DONE ? 0 : -1;
}

/* The blob exists already: done if it holds this file, refused otherwise. */
static int check_existing(struct upload *u, struct slot *s)
{
	enum outcome o = request(u, s, OP_GET_PROPERTIES, NULL, 0);
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

static int put_single(struct upload *u)
{
	struct slot *s = &u->slots[0];
	unsigned char md5[16];
	enum outcome o;

	s->len = (size_t)u->plan.size;
	if (read_range(u, s->buf, 0, s->len) != 0)
		return -1;
	EVP_Digest(s->buf, s->len, md5, NULL, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)s->md5_b64, md5, 16);
	EVP_DigestUpdate(u->sha, s->buf, s->len);
	EVP_DigestFinal_ex(u->sha, u->sha256, NULL);
	fc_hex_encode(u->sha256, 32, u->sha256_hex);
	o = request(u, s, OP_PUT_BLOB, NULL, 0);
	azblob_call_release(&s->call);
	if (o == EXISTS)
		return check_existing(u, s);
	return o == DONE ? 0 : -1;
}

/* Asks which blocks the service holds (committed or not) into u->held. */
static int get_block_list(struct upload *u)
{
	struct slot *s = &u->slots[0];
	enum outcome o = request(u, s, OP_GET_BLOCK_LIST, NULL, 0);
	const struct azblob_answer *a = &s->call.answer;
	int rc = 0;

	u->n_held = 0;
	if (o == DONE) {
		if (azblob_block_list_parse(a->body ? a->body : "", a->body_len, held_add, u) < 0) {
			FC_WARN("azblob",
				"Get Block List answer is malformed; sending every block");
			u->n_held = 0;
		}
		qsort(u->held, u->n_held, sizeof(*u->held), held_cmp);
	} else if (a->status == 404 || (a->status == 403 && u->cred->sas)) {
		/* No blob yet; or a write-only SAS (sp=cw) that may not read the list. */
		FC_DEBUG("azblob", "no block list to resume from (HTTP %ld %s)", a->status,
			 a->error_code);
	} else {
		rc = -1;
	}
	azblob_call_release(&s->call);
	FC_DEBUG("azblob", "the service holds %zu blocks", u->n_held);
	return rc;
}

/* Picks the next block to send: a retry that is due, else the next unread one. */
static int next_block(struct upload *u, double now, uint32_t *out)
{
	for (uint32_t i = 0; u->n_waiting && i < u->next_unread; i++) {
		if (u->blocks[i].state == BLOCK_WAITING && u->blocks[i].not_before <= now) {
			*out = i;
			u->n_waiting--;
			return 1;
		}
	}
	if (u->need_container)
		return 0; /* retries first: they find out whether the container is back */
	if (u->next_unread < u->plan.n_blocks) {
		*out = u->next_unread;
		return 1;
	}
	return 0;
}

static void block_done(struct upload *u, uint32_t i)
{
	u->blocks[i].state = BLOCK_DONE;
	u->n_done++;
	u->done_bytes += azblob_plan_length(&u->plan, i);
	FC_DEBUG("azblob", "block %u of %u stored (%u done)", i + 1, u->plan.n_blocks, u->n_done);
	progress(u);
}

/* Starts as many blocks as there are free slots. Returns -1 on a read failure. */
static int start_blocks(struct upload *u)
{
	double now = now_s();
	if (now < u->pause_until)
		return 0;
	for (unsigned k = 0; k < u->n_slots; k++) {
		struct slot *s = &u->slots[k];
		uint32_t i;
		while (!s->busy && next_block(u, now, &i)) {
			int first = i == u->next_unread;
			if (load_block(u, s, i) != 0)
				return -1;
			if (first && is_held(u, &u->blocks[i], s->len)) {
				u->res->blocks_reused++;
				block_done(u, i);
				continue;
			}
			if (setup(u, s, OP_PUT_BLOCK, NULL, 0) != 0)
				return -1;
			u->blocks[i].state = BLOCK_SENDING;
			curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
			s->busy = 1;
			curl_multi_add_handle(u->multi, s->easy);
		}
	}
	return 0;
}

/* Milliseconds until the earliest waiting retry is due (capped at 1 s). */
static int wait_ms(const struct upload *u)
{
	double now = now_s(), next = now + 1;
	if (u->pause_until > now && u->pause_until < next)
		next = u->pause_until;
	for (uint32_t i = 0; u->n_waiting && i < u->next_unread; i++)
		if (u->blocks[i].state == BLOCK_WAITING && u->blocks[i].not_before < next)
			next = u->blocks[i].not_before;
	return next <= now ? 0 : (int)((next - now) * 1000) + 1;
}

/* Handles one finished Put Block. Returns -1 when the upload must stop. */
static int block_finished(struct upload *u, struct slot *s, CURLcode rc)
{
	struct block *b = &u->blocks[s->block];
	enum outcome o = judge(u, s, rc);
	int ret = 0;

	curl_multi_remove_handle(u->multi, s->easy);
	s->busy = 0;
	if (o == DONE) {
		u->last_success = now_s();
		u->failures = 0;
		block_done(u, s->block);
	} else if (o == RETRY) {
		double now = now_s();
		b->state = BLOCK_WAITING;
		u->n_waiting++;
		/* A failure during a pause belongs to the burst that started it. */
		if (now >= u->pause_until) {
			double delay = backoff(u, ++u->failures, s);
			if (delay < 0)
				ret = -1;
			else
				u->pause_until = now + delay;
		} else {
			u->res->retries++;
		}
		b->not_before = u->pause_until;
	} else if (o == CREATE_CONTAINER) {
		/*
		 * The service lost the container (an emulator restarted empty).
		 * send_blocks creates it once no transfer is running.
		 */
		b->state = BLOCK_WAITING;
		b->not_before = 0;
		u->n_waiting++;
		u->need_container = 1;
	} else {
		ret = -1;
	}
	azblob_call_release(&s->call);
	return ret;
}

static int pending_blocks(const struct upload *u)
{
	return u->n_done < u->plan.n_blocks;
}

static int transfers_running(const struct upload *u)
{
	for (unsigned k = 0; k < u->n_slots; k++)
		if (u->slots[k].busy)
			return 1;
	return 0;
}

static void cancel_transfers(struct upload *u)
{
	for (unsigned k = 0; k < u->n_slots; k++) {
		if (u->slots[k].busy) {
			curl_multi_remove_handle(u->multi, u->slots[k].easy);
			azblob_call_release(&u->slots[k].call);
			u->slots[k].busy = 0;
		}
	}
}

/* Sends every block not yet held by the service, `parallel` at a time. */
static int send_blocks(struct upload *u)
{
	while (pending_blocks(u)) {
		int running;
		CURLMsg *m;
		int left;

		if (u->need_container && !transfers_running(u)) {
			if (create_container(u, &u->slots[0]) != 0)
				goto fail;
			u->need_container = 0;
		}
		if (start_blocks(u) != 0)
			goto fail;
		curl_multi_perform(u->multi, &running);
		while ((m = curl_multi_info_read(u->multi, &left)) != NULL) {
			struct slot *s = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			if (block_finished(u, s, m->data.result) != 0)
				goto fail;
		}
		if (pending_blocks(u))
			curl_multi_poll(u->multi, NULL, 0, wait_ms(u), NULL);
	}
	return 0;
fail:
	cancel_transfers(u);
	return -1;
}

/* Commits the blocks. Returns 0, 1 when the service lost blocks, or -1. */
static int put_block_list(struct upload *u)
{
	struct slot *s = &u->slots[0];
	size_t cap = azblob_block_list_xml_size(u->plan.n_blocks), len;
	char(*ids)[AZBLOB_BLOCK_ID_LEN + 1] = malloc(u->plan.n_blocks * sizeof(*ids));
	char *xml = malloc(cap);
	enum outcome o = FAILED;
	int rc = -1;

	if (!ids || !xml) {
		fc_err_set(u->err, FC_ERR_FATAL, "out of memory for the block list");
		goto out;
	}
	for (uint32_t i = 0; i < u->plan.n_blocks; i++)
		memcpy(ids[i], u->blocks[i].id, sizeof(ids[i]));
	len = azblob_block_list_xml(ids, u->plan.n_blocks, xml, cap);
	o = request(u, s, OP_PUT_BLOCK_LIST, xml, len);
	if (o == DONE)
		rc = 0;
	else if (o == FAILED && s->call.answer.status == 400 &&
		 strcmp(s->call.answer.error_code, "InvalidBlockList") == 0)
		rc = 1;
	azblob_call_release(&s->call);
	if (o == EXISTS)
		rc = check_existing(u, s);
out:
	free(ids);
	free(xml);
	return rc;
}

static int put_blocks(struct upload *u)
{
	u->blocks = calloc(u->plan.n_blocks, sizeof(*u->blocks));
	if (!u->blocks) {
		fc_err_set(u->err, FC_ERR_FATAL, "out of memory for %u blocks", u->plan.n_blocks);
		return -1;
	}
	u->res->blocks = u->plan.n_blocks;
	if (get_block_list(u) != 0 || send_blocks(u) != 0)
		return -1;
	EVP_DigestFinal_ex(u->sha, u->sha256, NULL);
	fc_hex_encode(u->sha256, 32, u->sha256_hex);

	for (int round = 1;; round++) {
		int rc = put_block_list(u);
		if (rc <= 0)
			return rc;
		if (round == COMMIT_ROUNDS)
			return -1; /* err: InvalidBlockList */
		/* Blocks we sent are gone (a storage restart): send what is missing. */
		FC_WARN("azblob", "the service lost uploaded blocks; sending them again");
		if (get_block_list(u) != 0)
			return -1;
		u->done_bytes = 0;
		u->n_done = 0;
		for (uint32_t i = 0; i < u->plan.n_blocks; i++) {
			uint64_t len = azblob_plan_length(&u->plan, i);
			if (is_held(u, &u->blocks[i], len)) {
				u->done_bytes += len;
				u->n_done++;
			} else {
				u->blocks[i].state = BLOCK_WAITING;
				u->blocks[i].not_before = 0;
				u->n_waiting++;
			}
		}
		if (send_blocks(u) != 0)
			return -1;
	}
}

static int check_config(const struct azblob_upload_config *cfg, struct fc_err *err)
{
	if (cfg->parallel < 1 || cfg->parallel > AZBLOB_MAX_PARALLEL) {
		fc_err_set(err, FC_ERR_INVALID, "parallel %u: expected 1 to %u", cfg->parallel,
			   AZBLOB_MAX_PARALLEL);
		return -1;
	}
	if (cfg->retry_window_s < 1 || cfg->retry_window_s > 86400) {
		fc_err_set(err, FC_ERR_INVALID, "retry window %u s: expected 1 to 86400",
			   cfg->retry_window_s);
		return -1;
	}
	return 0;
}

static int open_file(struct upload *u, uint64_t *size)
{
	struct stat st;
	u->fd = open(u->path, O_RDONLY | O_CLOEXEC | O_DIRECT);
	u->direct = u->fd >= 0;
	if (u->fd < 0 && errno == EINVAL) /* tmpfs and others */
		u->fd = open(u->path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0 || fstat(u->fd, &st) != 0) {
		fc_err_set(u->err, FC_ERR_INVALID, "%s: %s", u->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fc_err_set(u->err, FC_ERR_INVALID, "%s: not a regular file", u->path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int make_slots(struct upload *u)
{
	u->n_slots = u->plan.single_put ? 1 : u->cfg->parallel;
	u->slots = calloc(u->n_slots, sizeof(*u->slots));
	if (!u->slots)
		return -1;
	for (unsigned k = 0; k < u->n_slots; k++) {
		u->slots[k].easy = curl_easy_init();
		/* Aligned for O_DIRECT, a whole sector more (an empty file too). */
		size_t cap =
			((size_t)u->plan.block_size / AZBLOB_BLOCK_ALIGN + 1) * AZBLOB_BLOCK_ALIGN;
		void *buf = NULL;
		if (!u->slots[k].easy || posix_memalign(&buf, AZBLOB_BLOCK_ALIGN, cap) != 0)
			return -1;
		u->slots[k].buf = buf;
	}
	return 0;
}

static void cleanup(struct upload *u)
{
	for (unsigned k = 0; u->slots && k < u->n_slots; k++) {
		if (u->slots[k].easy)
			curl_easy_cleanup(u->slots[k].easy);
		free(u->slots[k].buf);
	}
	free(u->slots);
	if (u->multi)
		curl_multi_cleanup(u->multi);
	free(u->blocks);
	free(u->held);
	EVP_MD_CTX_free(u->sha);
	if (u->fd >= 0)
		close(u->fd);
}

int azblob_upload_file(const char *local_path, const struct fc_blob_url *url,
		       const struct azblob_cred *cred, const struct azblob_upload_config *cfg,
		       struct azblob_upload_result *res, struct fc_err *err)
{
	struct upload u = {.cfg = cfg,
			   .url = url,
			   .cred = cred,
			   .path = local_path,
			   .fd = -1,
			   .res = res,
			   .err = err};
	uint64_t size = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (check_config(cfg, err) != 0 || open_file(&u, &size) != 0 ||
	    azblob_plan_make(size, cfg->block_size, cfg->single_put_max, &u.plan, err) != 0)
		goto out;
	if (getrandom(&u.rnd, sizeof(u.rnd), 0) != sizeof(u.rnd) || u.rnd == 0)
		u.rnd = (uint32_t)time(NULL) | 1;
	u.multi = curl_multi_init();
	u.sha = EVP_MD_CTX_new();
	if (!u.multi || !u.sha || make_slots(&u) != 0 ||
	    !EVP_DigestInit_ex(u.sha, EVP_sha256(), NULL)) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory for the upload");
		goto out;
	}
	curl_multi_setopt(u.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)u.n_slots);
	u.last_success = now_s();
	res->size = size;
	rc = u.plan.single_put ? put_single(&u) : put_blocks(&u);
	if (rc == 0) {
		u.done_bytes = size;
		progress(&u);
	}
	memcpy(res->sha256, u.sha256_hex, sizeof(res->sha256)); /* "" if never computed */
out:
	cleanup(&u);
	return rc;
}
