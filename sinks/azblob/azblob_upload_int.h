/*
 * azblob_upload_int.h: what the parts of an upload share (azblob_upload.c,
 * azblob_request.c, azblob_pipeline.c, azblob_read.c). Not for use outside
 * them: the interface is azblob_upload.h. Functions named up_* are internal.
 */
#ifndef AZBLOB_UPLOAD_INT_H
#define AZBLOB_UPLOAD_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "azblob_blocks.h"
#include "azblob_call.h"
#include "azblob_upload.h"

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

/* What to do after an answer (up_classify). */
enum outcome { DONE, RETRY, CREATE_CONTAINER, EXISTS, FAILED };

/* azblob_pipeline.c */
/*
 * The block of slot s was answered o at monotonic time now: DONE stores it;
 * RETRY makes it wait, and the first failure of a burst sets the pause (one
 * backoff step for the burst, not one per block); CREATE_CONTAINER makes it
 * wait for the container. -1 when the upload must stop (FAILED, or the
 * retry window has run out).
 */
int up_block_answer(struct upload *u, struct slot *s, enum outcome o, double now);
int up_put_blocks(struct upload *u);

/* azblob_read.c */
int up_load_block(struct upload *u, struct slot *s, uint32_t i);
int up_read_range(struct upload *u, unsigned char *buf, uint64_t off, size_t len);

/* azblob_request.c */
/*
 * What to do with an answer to op: HTTP status (0: none came, a connection or
 * transfer error), x-ms-error-code, and whether the upload signs with an
 * account key (which can create a container; a SAS token cannot).
 */
enum outcome up_classify(enum op op, long status, const char *error_code, int with_key);
double up_backoff(struct upload *u, unsigned attempt, const struct slot *s);
int up_check_existing(struct upload *u, struct slot *s);
int up_create_container(struct upload *u, struct slot *s);
enum outcome up_judge(struct upload *u, struct slot *s, CURLcode rc);
enum outcome up_request(struct upload *u, struct slot *s, enum op op, const char *body,
			size_t body_len);
int up_setup(struct upload *u, struct slot *s, enum op op, const char *body, size_t body_len);

/* azblob_upload.c */
const char *up_content_type(const char *path);
uint32_t up_next_random(struct upload *u);
double up_now_s(void);
void up_progress(struct upload *u);

#endif
