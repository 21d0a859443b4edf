/*
 * azblob_blocks: how a file is cut into blocks, what each block is called,
 * and the two block-list XML documents (Put Block List, Get Block List).
 *
 * A block id is base64("IIIII-MD5HEX"): the block's index and the MD5 of its
 * bytes, 38 bytes before encoding, so every id of a blob has the same length
 * (the service requires it) and names exactly one content. That is what makes
 * resuming safe: a block the service already holds under an id is the block
 * this file would send, so it is reused, never re-sent, and never wrong.
 */
#ifndef AZBLOB_BLOCKS_H
#define AZBLOB_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"

#define AZBLOB_MAX_BLOCKS     50000u		     /* per blob, a service limit */
#define AZBLOB_MAX_BLOCK_SIZE (256ull * 1024 * 1024) /* ours; the service allows 4000 MiB */
#define AZBLOB_MIN_BLOCK_SIZE (64ull * 1024)
#define AZBLOB_BLOCK_ID_LEN   52   /* base64 of 38 bytes */
#define AZBLOB_BLOCK_ALIGN    4096 /* block sizes are multiples: blocks are read with O_DIRECT */

struct azblob_plan {
	uint64_t size;
	uint64_t block_size; /* may be larger than asked: see azblob_plan_make */
	uint32_t n_blocks;   /* 0 when single_put */
	int single_put;	     /* one Put Blob: size <= single_put_max */
};

/*
 * Plans the upload of size bytes. block_size is raised (to a whole MiB) when
 * the file would need more than AZBLOB_MAX_BLOCKS blocks. Returns 0, or -1
 * with err (FC_ERR_INVALID) when block_size is out of bounds or not a
 * multiple of AZBLOB_BLOCK_ALIGN, or the file is
 * too large even for the largest block.
 */
int azblob_plan_make(uint64_t size, uint64_t block_size, uint64_t single_put_max,
		     struct azblob_plan *plan, struct fc_err *err);

/* Offset and length of block i of plan. */
uint64_t azblob_plan_offset(const struct azblob_plan *plan, uint32_t i);
uint64_t azblob_plan_length(const struct azblob_plan *plan, uint32_t i);

/* Writes the block id of block index with the given MD5 (NUL-terminated). */
void azblob_block_id(uint32_t index, const unsigned char md5[16],
		     char out[AZBLOB_BLOCK_ID_LEN + 1]);

/*
 * Writes the Put Block List body naming ids[0..n) (each AZBLOB_BLOCK_ID_LEN
 * long) as <Latest>. Returns the length written, or 0 if out is too small.
 */
size_t azblob_block_list_xml(const char (*ids)[AZBLOB_BLOCK_ID_LEN + 1], uint32_t n, char *out,
			     size_t out_len);

/* Bytes azblob_block_list_xml needs for n blocks, NUL included. */
size_t azblob_block_list_xml_size(uint32_t n);

/*
 * Calls found(name, size) for every <Block> of a Get Block List answer,
 * committed or not. Returns the number of blocks, or -1 if the document is
 * malformed (a block without a name or a size, an unterminated element).
 */
int azblob_block_list_parse(const char *xml, size_t len,
			    void (*found)(void *arg, const char *name, uint64_t size), void *arg);

#endif
