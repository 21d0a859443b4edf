/* fc_murmur2: see fc_murmur2.h. Follows Kafka's Utils.murmur2 byte for byte. */
#include "fc_murmur2.h"

int32_t fc_murmur2(const void *data, size_t len)
{
	const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
	const unsigned char *p = data;
	uint32_t h = seed ^ (uint32_t)len;
	size_t i, blocks = len / 4;

	for (i = 0; i < blocks; i++, p += 4) {
		uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;
		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len & 3) {
	case 3:
		h ^= (uint32_t)p[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)p[1] << 8;
		/* fall through */
	case 1:
		h ^= p[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32_t)h;
}

int32_t fc_partition_for_key(const void *key, size_t len, int32_t partition_cnt)
{
	uint32_t positive = (uint32_t)fc_murmur2(key, len) & 0x7fffffffu;
	return (int32_t)(positive % (uint32_t)partition_cnt);
}
