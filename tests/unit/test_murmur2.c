/*
 * The murmur2 partitioner against the Java client's published vectors and
 * against librdkafka's own murmur2 partitioner, so that the partition fleetcap
 * computes for a key is the one every producer writes it to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "fc_murmur2.h"

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
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		if (fc_murmur2(vectors[i].key, strlen(vectors[i].key)) != vectors[i].hash)
			fail_msg("murmur2(\"%s\") = %d, expected %d", vectors[i].key,
				 fc_murmur2(vectors[i].key, strlen(vectors[i].key)),
				 vectors[i].hash);
}

static void test_matches_librdkafka(void **state)
{
	char key[96];
	(void)state;
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "sub-%d/region-%d%.*s", i, i % 7, i % 40,
				 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
		for (int32_t parts = 1; parts <= 64; parts *= 3) {
			int32_t ours = fc_partition_for_key(key, (size_t)n, parts);
			int32_t theirs = rd_kafka_msg_partitioner_murmur2(NULL, key, (size_t)n,
									  parts, NULL, NULL);
			if (ours != theirs)
				fail_msg("key %s, %d partitions: ours %d, librdkafka %d", key,
					 parts, ours, theirs);
			assert_true(ours >= 0 && ours < parts);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_java_vectors),
		cmocka_unit_test(test_matches_librdkafka),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
