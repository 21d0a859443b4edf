/*
 * The partition of a key, as fleetcap computes it (fc_partition_for_key),
 * against the Java client's published murmur2 vectors: the partition every
 * producer in any language writes that key to is toPositive(murmur2(key)) % n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fc_kafka.h"

static void test_java_vectors(void **state)
{
	/* From Kafka's UtilsTest.testMurmur2 and librdkafka's rdmurmur2.c. */
	static const struct {
		const char *key;
		int32_t hash;
	} vectors[] = {
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
		{"kafka", -798503068},
		{"1", -1993445489},
		{"12", 126087238},
		{"123", -267702483},
		{"1234", -1614185708},
		{"12345", -1188365604},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint32_t positive = (uint32_t)vectors[i].hash & 0x7fffffffu;
		for (int32_t n = 1; n <= 1000; n = n * 2 + 1) {
			int32_t got =
				fc_partition_for_key(vectors[i].key, strlen(vectors[i].key), n);
			if (got != (int32_t)(positive % (uint32_t)n))
				fail_msg("\"%s\" among %d partitions: %d, the Java client's %u",
					 vectors[i].key, n, got, positive % (uint32_t)n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_java_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
