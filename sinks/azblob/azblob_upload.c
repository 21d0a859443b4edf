/*
 * azblob_upload: one file to one blob (see azblob_upload.h): the checks, the
 * file and the curl handles, and the choice between one Put Blob and the
 * block pipeline; the parts are in azblob_upload_int.h.
 */
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
#include "azblob_upload_int.h"

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

double up_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint32_t up_next_random(struct upload *u)
{
	/* xorshift32: jitter needs spread, not secrecy. */
	u->rnd ^= u->rnd << 13;
	u->rnd ^= u->rnd >> 17;
	u->rnd ^= u->rnd << 5;
	return u->rnd;
}

void up_progress(struct upload *u)
{
	if (u->cfg->on_progress)
		u->cfg->on_progress(u->cfg->progress_arg, u->done_bytes, u->plan.size);
}

const char *up_content_type(const char *path)
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
static int put_single(struct upload *u)
{
	struct slot *s = &u->slots[0];
	unsigned char md5[16];
	enum outcome o;

	s->len = (size_t)u->plan.size;
	if (up_read_range(u, s->buf, 0, s->len) != 0)
		return -1;
	EVP_Digest(s->buf, s->len, md5, NULL, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)s->md5_b64, md5, 16);
	EVP_DigestUpdate(u->sha, s->buf, s->len);
	EVP_DigestFinal_ex(u->sha, u->sha256, NULL);
	fc_hex_encode(u->sha256, 32, u->sha256_hex);
	o = up_request(u, s, OP_PUT_BLOB, NULL, 0);
	azblob_call_release(&s->call);
	if (o == EXISTS)
		return up_check_existing(u, s);
	return o == DONE ? 0 : -1;
}

/* Asks which blocks the service holds (committed or not) into u->held. */
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
	u.last_success = up_now_s();
	res->size = size;
	rc = u.plan.single_put ? put_single(&u) : up_put_blocks(&u);
	if (rc == 0) {
		u.done_bytes = size;
		up_progress(&u);
	}
	memcpy(res->sha256, u.sha256_hex, sizeof(res->sha256)); /* "" if never computed */
out:
	cleanup(&u);
	return rc;
}
