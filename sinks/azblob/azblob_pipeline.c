/*
 * azblob_pipeline: a large file as blocks: what the service already holds
 * (Get Block List), blocks sent `parallel` at a time over the multi handle
 * with their own retries and one probe at a time during an outage, and the
 * commit (Put Block List).
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
static int get_block_list(struct upload *u)
{
	struct slot *s = &u->slots[0];
	enum outcome o = up_request(u, s, OP_GET_BLOCK_LIST, NULL, 0);
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
	up_progress(u);
}

/* Starts as many blocks as there are free slots. Returns -1 on a read failure. */
static int start_blocks(struct upload *u)
{
	double now = up_now_s();
	if (now < u->pause_until)
		return 0;
	for (unsigned k = 0; k < u->n_slots; k++) {
		struct slot *s = &u->slots[k];
		uint32_t i;
		while (!s->busy && next_block(u, now, &i)) {
			int first = i == u->next_unread;
			if (up_load_block(u, s, i) != 0)
				return -1;
			if (first && is_held(u, &u->blocks[i], s->len)) {
				u->res->blocks_reused++;
				block_done(u, i);
				continue;
			}
			if (up_setup(u, s, OP_PUT_BLOCK, NULL, 0) != 0)
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
	double now = up_now_s(), next = now + 1;
	if (u->pause_until > now && u->pause_until < next)
		next = u->pause_until;
	for (uint32_t i = 0; u->n_waiting && i < u->next_unread; i++)
		if (u->blocks[i].state == BLOCK_WAITING && u->blocks[i].not_before < next)
			next = u->blocks[i].not_before;
	return next <= now ? 0 : (int)((next - now) * 1000) + 1;
}

int up_block_answer(struct upload *u, struct slot *s, enum outcome o, double now)
{
	struct block *b = &u->blocks[s->block];

	if (o == DONE) {
		u->last_success = now;
		u->failures = 0;
		block_done(u, s->block);
		return 0;
	}
	if (o == RETRY) {
		b->state = BLOCK_WAITING;
		u->n_waiting++;
		/* A failure during a pause belongs to the burst that started it. */
		if (now >= u->pause_until) {
			double delay = up_backoff(u, ++u->failures, s);
			if (delay < 0)
				return -1;
			u->pause_until = now + delay;
		} else {
			u->res->retries++;
		}
		b->not_before = u->pause_until;
		return 0;
	}
	if (o == CREATE_CONTAINER) {
		/*
		 * The service lost the container (an emulator restarted empty).
		 * send_blocks creates it once no transfer is running.
		 */
		b->state = BLOCK_WAITING;
		b->not_before = 0;
		u->n_waiting++;
		u->need_container = 1;
		return 0;
	}
	return -1;
}

/* Handles one finished Put Block. Returns -1 when the upload must stop. */
static int block_finished(struct upload *u, struct slot *s, CURLcode rc)
{
	enum outcome o = up_judge(u, s, rc);

	curl_multi_remove_handle(u->multi, s->easy);
	s->busy = 0;
	int ret = up_block_answer(u, s, o, up_now_s());
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
			if (up_create_container(u, &u->slots[0]) != 0)
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
	o = up_request(u, s, OP_PUT_BLOCK_LIST, xml, len);
	if (o == DONE)
		rc = 0;
	else if (o == FAILED && s->call.answer.status == 400 &&
		 strcmp(s->call.answer.error_code, "InvalidBlockList") == 0)
		rc = 1;
	azblob_call_release(&s->call);
	if (o == EXISTS)
		rc = up_check_existing(u, s);
out:
	free(ids);
	free(xml);
	return rc;
}

int up_put_blocks(struct upload *u)
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
