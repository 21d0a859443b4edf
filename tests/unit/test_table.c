/*
 * fc_table against a plain array of the same keys, over many random inserts,
 * removals (some while iterating) and lookups through several doublings:
 * every key present is found, every key removed is gone, and iteration
 * visits each node exactly once. FLEETCAP_SEED=N replays a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fc_table.h"

#define KEYS 5000

struct item {
	struct fc_table_node node;
	char key[24];
	int in;	     /* in the table, by the reference */
	int visited; /* by the last iteration */
};

static struct item items[KEYS];

static void check_all(struct fc_table *t, unsigned seed)
{
	size_t in = 0, seen = 0;

	for (int i = 0; i < KEYS; i++) {
		struct fc_table_node *n = fc_table_find(t, items[i].key, strlen(items[i].key));
		if (items[i].in != (n != NULL) ||
		    (n && FC_CONTAINER_OF(n, struct item, node) != &items[i]))
			fail_msg("seed %u: key %s: in the table %d, found %s", seed, items[i].key,
				 items[i].in, n ? "a node" : "nothing");
		in += (size_t)items[i].in;
		items[i].visited = 0;
	}
	for (struct fc_table_node *n = fc_table_first(t); n; n = fc_table_next(t, n)) {
		struct item *it = FC_CONTAINER_OF(n, struct item, node);
		if (!it->in || it->visited++)
			fail_msg("seed %u: iteration met %s (in %d, visited %d)", seed, it->key,
				 it->in, it->visited);
		seen++;
	}
	assert_int_equal(seen, in);
	assert_int_equal(t->count, in);
}

static void test_against_reference(void **state)
{
	const char *env = getenv("FLEETCAP_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	struct fc_table t = {0};

	(void)state;
	printf("  FLEETCAP_SEED=%u\n", seed);
	srand(seed);
	for (int i = 0; i < KEYS; i++) {
		snprintf(items[i].key, sizeof(items[i].key), "sub-%d/r%d", rand() % 100000, i);
		items[i].in = 0;
	}
	for (int round = 0; round < 20; round++) {
		for (int op = 0; op < 2000; op++) {
			struct item *it = &items[rand() % KEYS];
			if (!it->in) {
				assert_int_equal(
					fc_table_insert(&t, &it->node, it->key, strlen(it->key)),
					0);
				it->in = 1;
			} else if (rand() % 3 == 0) {
				fc_table_remove(&t, &it->node);
				it->in = 0;
			}
		}
		/* Removal during iteration, as the scheduler drops a partition's keys. */
		for (struct fc_table_node *n = fc_table_first(&t), *next; n; n = next) {
			next = fc_table_next(&t, n);
			struct item *it = FC_CONTAINER_OF(n, struct item, node);
			if (rand() % 4 == 0) {
				fc_table_remove(&t, n);
				it->in = 0;
			}
		}
		check_all(&t, seed);
	}
	assert_true(t.n_buckets > 64); /* it grew */
	fc_table_clear(&t);
	assert_null(fc_table_first(&t));
	assert_null(fc_table_find(&t, "x", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
