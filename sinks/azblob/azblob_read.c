/*
 * azblob_read: a file's bytes for the upload: aligned O_DIRECT reads (plain
 * reads where the file system refuses them), MD5 per block, the SHA-256 of
 * the whole file in order, and the check that a block read again is the same.
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

int up_read_range(struct upload *u, unsigned char *buf, uint64_t off, size_t len)
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
int up_load_block(struct upload *u, struct slot *s, uint32_t i)
{
	struct block *b = &u->blocks[i];
	unsigned char md5[16];
	uint64_t off = azblob_plan_offset(&u->plan, i);

	s->len = (size_t)azblob_plan_length(&u->plan, i);
	if (up_read_range(u, s->buf, off, s->len) != 0)
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
