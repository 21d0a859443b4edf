/* azblob_blocks: see azblob_blocks.h. */
#include "azblob_blocks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fc_hex.h"

#define MIB (1024ull * 1024)

int azblob_plan_make(uint64_t size, uint64_t block_size, uint64_t single_put_max,
		     struct azblob_plan *plan, struct fc_err *err)
{
	memset(plan, 0, sizeof(*plan));
	plan->size = size;
	if (block_size < AZBLOB_MIN_BLOCK_SIZE || block_size > AZBLOB_MAX_BLOCK_SIZE ||
	    block_size % AZBLOB_BLOCK_ALIGN) {
		fc_err_set(err, FC_ERR_INVALID,
			   "block size %llu: expected a multiple of 4096 from %llu to %llu bytes",
			   (unsigned long long)block_size,
			   (unsigned long long)AZBLOB_MIN_BLOCK_SIZE,
			   (unsigned long long)AZBLOB_MAX_BLOCK_SIZE);
		return -1;
	}
	if (single_put_max > AZBLOB_MAX_BLOCK_SIZE) {
		fc_err_set(err, FC_ERR_INVALID,
			   "single-put limit %llu: expected at most %llu bytes",
			   (unsigned long long)single_put_max,
			   (unsigned long long)AZBLOB_MAX_BLOCK_SIZE);
		return -1;
	}
	if (size <= single_put_max) {
		plan->single_put = 1;
		plan->block_size = size;
		return 0;
	}
	if ((size + block_size - 1) / block_size > AZBLOB_MAX_BLOCKS) {
		uint64_t need = (size + AZBLOB_MAX_BLOCKS - 1) / AZBLOB_MAX_BLOCKS;
		block_size = (need + MIB - 1) / MIB * MIB;
		if (block_size > AZBLOB_MAX_BLOCK_SIZE) {
			fc_err_set(err, FC_ERR_INVALID,
				   "file of %llu bytes needs more than %u blocks of %llu bytes",
				   (unsigned long long)size, AZBLOB_MAX_BLOCKS,
				   (unsigned long long)AZBLOB_MAX_BLOCK_SIZE);
			return -1;
		}
	}
	plan->block_size = block_size;
	plan->n_blocks = (uint32_t)((size + block_size - 1) / block_size);
	return 0;
}

uint64_t azblob_plan_offset(const struct azblob_plan *plan, uint32_t i)
{
	return (uint64_t)i * plan->block_size;
}

uint64_t azblob_plan_length(const struct azblob_plan *plan, uint32_t i)
{
	uint64_t off = azblob_plan_offset(plan, i);
	if (off >= plan->size)
		return 0;
	return plan->size - off < plan->block_size ? plan->size - off : plan->block_size;
}

void azblob_block_id(uint32_t index, const unsigned char md5[16], char out[AZBLOB_BLOCK_ID_LEN + 1])
{
	char raw[40];
	int n = snprintf(raw, sizeof(raw), "%05u-", index % 100000u);
	n = (int)(fc_hex_encode(md5, 16, raw + n) - raw);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, n);
}

#define XML_HEAD  "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
#define XML_TAIL  "</BlockList>"
#define XML_OPEN  "<Latest>"
#define XML_CLOSE "</Latest>"

size_t azblob_block_list_xml_size(uint32_t n)
{
	return sizeof(XML_HEAD) - 1 + sizeof(XML_TAIL) - 1 +
	       (size_t)n * (sizeof(XML_OPEN) - 1 + AZBLOB_BLOCK_ID_LEN + sizeof(XML_CLOSE) - 1) + 1;
}

size_t azblob_block_list_xml(const char (*ids)[AZBLOB_BLOCK_ID_LEN + 1], uint32_t n, char *out,
			     size_t out_len)
{
	size_t used = 0;

	if (out_len < azblob_block_list_xml_size(n))
		return 0;
#define APPEND(s, len)                                                                             \
	do {                                                                                       \
		memcpy(out + used, (s), (len));                                                    \
		used += (len);                                                                     \
	} while (0)
	APPEND(XML_HEAD, sizeof(XML_HEAD) - 1);
	for (uint32_t i = 0; i < n; i++) {
		APPEND(XML_OPEN, sizeof(XML_OPEN) - 1);
		APPEND(ids[i], AZBLOB_BLOCK_ID_LEN);
		APPEND(XML_CLOSE, sizeof(XML_CLOSE) - 1);
	}
	APPEND(XML_TAIL, sizeof(XML_TAIL) - 1);
#undef APPEND
	out[used] = '\0';
	return used;
}

/* Finds "<tag>" in [p, end) and returns the text up to "</tag>", or NULL. */
static const char *element(const char *p, const char *end, const char *tag, size_t *text_len)
{
	char open[32], close[32];
	size_t lo = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
	size_t lc = (size_t)snprintf(close, sizeof(close), "</%s>", tag);

	for (; p + lo <= end; p++) {
		if (memcmp(p, open, lo) != 0)
			continue;
		const char *text = p + lo;
		for (const char *q = text; q + lc <= end; q++) {
			if (memcmp(q, close, lc) == 0) {
				*text_len = (size_t)(q - text);
				return text;
			}
		}
		return NULL;
	}
	return NULL;
}

int azblob_block_list_parse(const char *xml, size_t len,
			    void (*found)(void *arg, const char *name, uint64_t size), void *arg)
{
	const char *p = xml, *end = xml + len;
	size_t blen;
	int count = 0;

	while ((p = element(p, end, "Block", &blen)) != NULL) {
		const char *bend = p + blen, *v;
		size_t vlen;
		char name[128], num[24], *stop;

		v = element(p, bend, "Name", &vlen);
		if (!v || vlen == 0 || vlen >= sizeof(name))
			return -1;
		memcpy(name, v, vlen);
		name[vlen] = '\0';
		v = element(p, bend, "Size", &vlen);
		if (!v || vlen == 0 || vlen >= sizeof(num))
			return -1;
		memcpy(num, v, vlen);
		num[vlen] = '\0';
		unsigned long long size = strtoull(num, &stop, 10);
		if (*stop != '\0' || num[0] == '-')
			return -1;
		found(arg, name, size);
		count++;
		p = bend + sizeof("</Block>") - 1;
	}
	/* An opening tag with no end is a truncated answer, not a shorter list. */
	int opened = 0;
	for (const char *q = xml; q + 7 <= end; q++)
		opened += memcmp(q, "<Block>", 7) == 0;
	return opened == count ? count : -1;
}
