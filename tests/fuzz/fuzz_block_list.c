/*
 * The Get Block List answer of the blob service (azblob_block_list_parse),
 * which the upload trusts to skip blocks the service holds. Invariants: the
 * count returned is the number of blocks reported; every name reported is
 * within the document and no longer than it.
 */
#include "azblob_blocks.h"
#include "fuzz.h"

struct seen {
	size_t size, count;
};

static void found(void *arg, const char *name, uint64_t size)
{
	struct seen *s = arg;
	(void)size;
	FUZZ_REQUIRE(strlen(name) <= s->size, "a name longer than the document");
	s->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {size, 0};
	int n = azblob_block_list_parse((const char *)data, size, found, &s);

	FUZZ_REQUIRE(n < 0 || (size_t)n == s.count, "returned %d, reported %zu", n, s.count);
	return 0;
}
