/*
 * api_rate: each token's bucket holds rate.burst requests, refills at
 * rate.per_token a second, and says how long to wait when empty; tokens do
 * not share; a rate of 0 limits nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api_rate.h"

static void test_bucket(void **state)
{
	struct api_rate *r = api_rate_new(2, 2.0, 3.0); /* 2 a second, 3 at once */
	unsigned wait = 0;
	(void)state;

	for (int i = 0; i < 3; i++)
		assert_int_equal(api_rate_take(r, 0, 1000, &wait), 0);
	assert_int_equal(api_rate_take(r, 0, 1000, &wait), -1);
	assert_int_equal(wait, 1);				/* half a second, rounded up */
	assert_int_equal(api_rate_take(r, 1, 1000, &wait), 0);	/* its own bucket */
	assert_int_equal(api_rate_take(r, 0, 1400, &wait), -1); /* 0.8 of one */
	assert_int_equal(api_rate_take(r, 0, 1500, &wait), 0);	/* one more */
	assert_int_equal(api_rate_take(r, 0, 1500, &wait), -1);
	/* Long idle: back to the burst, not beyond. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(api_rate_take(r, 0, 100000, &wait), 0);
	assert_int_equal(api_rate_take(r, 0, 100000, &wait), -1);
	api_rate_free(r);

	struct api_rate *slow = api_rate_new(1, 0.1, 1.0); /* one every 10 s */
	assert_int_equal(api_rate_take(slow, 0, 0, &wait), 0);
	assert_int_equal(api_rate_take(slow, 0, 1, &wait), -1);
	assert_int_equal(wait, 10);
	api_rate_free(slow);

	struct api_rate *off = api_rate_new(1, 0, 1);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(api_rate_take(off, 0, 5, &wait), 0);
	api_rate_free(off);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
