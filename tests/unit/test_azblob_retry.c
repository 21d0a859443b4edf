/*
 * The upload's retry state machine, without a network: what each answer
 * leads to (up_classify), and how the block pipeline moves on answers
 * (up_block_answer): a burst of failed blocks takes one backoff step, not one
 * per block; every failed block waits out the pause; a success resets the
 * step; the upload gives up only when no request has succeeded for the retry
 * window, naming the last failure; a lost container makes the blocks wait
 * for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "azblob_upload_int.h"

static void test_classify(void **state)
{
	static const struct {
		enum op op;
		long status;
		const char *code;
		int with_key;
		enum outcome expected;
	} cases[] = {
		{OP_PUT_BLOCK, 201, "", 0, DONE},
		{OP_GET_BLOCK_LIST, 200, "", 1, DONE},
		{OP_PUT_BLOCK, 0, "", 1, RETRY}, /* no answer: connection refused, reset */
		{OP_PUT_BLOCK, 408, "", 1, RETRY},
		{OP_PUT_BLOCK, 429, "", 0, RETRY},
		{OP_PUT_BLOB, 500, "InternalError", 1, RETRY},
		{OP_PUT_BLOCK_LIST, 503, "ServerBusy", 1, RETRY},
		{OP_PUT_BLOCK, 504, "", 1, RETRY},
		{OP_PUT_BLOCK, 501, "", 1, FAILED},
		{OP_PUT_BLOCK, 401, "", 1, FAILED},
		{OP_PUT_BLOCK, 403, "AuthenticationFailed", 0, FAILED},
		{OP_PUT_BLOCK, 400, "InvalidBlockId", 1, FAILED},
		{OP_PUT_BLOCK, 404, "ContainerNotFound", 1, CREATE_CONTAINER},
		{OP_PUT_BLOCK, 404, "ContainerNotFound", 0, FAILED}, /* a SAS cannot create it */
		{OP_PUT_BLOB, 404, "BlobNotFound", 1, FAILED},
		{OP_CREATE_CONTAINER, 409, "ContainerAlreadyExists", 1, DONE},
		{OP_PUT_BLOB, 409, "BlobAlreadyExists", 1, EXISTS},
		{OP_PUT_BLOCK_LIST, 412, "ConditionNotMet", 0, EXISTS},
		{OP_PUT_BLOCK, 409, "", 1, FAILED},
		{OP_GET_PROPERTIES, 412, "", 1, FAILED},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum outcome o =
			up_classify(cases[i].op, cases[i].status, cases[i].code, cases[i].with_key);
		if (o != cases[i].expected)
			fail_msg("case %zu: op %d, status %ld %s, %s: outcome %d, expected %d", i,
				 cases[i].op, cases[i].status, cases[i].code,
				 cases[i].with_key ? "key" : "SAS", o, cases[i].expected);
	}
}

#define BLOCKS 8

struct fixture {
	struct azblob_upload_config cfg;
	struct azblob_upload_result res;
	struct fc_err err;
	struct block blocks[BLOCKS];
	struct slot slots[BLOCKS];
	struct upload u;
};

static void init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	azblob_upload_config_default(&f->cfg);
	f->u.cfg = &f->cfg;
	f->u.res = &f->res;
	f->u.err = &f->err;
	f->u.blocks = f->blocks;
	f->u.plan.size = BLOCKS * 1024;
	f->u.plan.block_size = 1024;
	f->u.plan.n_blocks = BLOCKS;
	f->u.next_unread = BLOCKS;
	f->u.rnd = 12345;
	f->u.last_success = up_now_s();
	for (uint32_t i = 0; i < BLOCKS; i++) {
		f->slots[i].block = i;
		f->blocks[i].state = BLOCK_SENDING;
		f->slots[i].call.answer.retry_after_s = -1;
	}
	fc_err_set(&f->err, FC_ERR_RETRY, "Put Block: 503 ServerBusy");
}

static void test_burst_takes_one_step(void **state)
{
	struct fixture f;
	double now = up_now_s();

	(void)state;
	init(&f);
	/* Four blocks in flight fail together: one step of backoff for all. */
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(up_block_answer(&f.u, &f.slots[i], RETRY, now), 0);
	assert_int_equal(f.u.failures, 1);
	assert_int_equal(f.u.n_waiting, 4);
	assert_int_equal(f.res.retries, 4);
	double pause = f.u.pause_until - now;
	assert_true(pause >= f.cfg.backoff.base_s / 2 && pause <= f.cfg.backoff.base_s);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(f.blocks[i].state, BLOCK_WAITING);
		assert_true(f.blocks[i].not_before == f.u.pause_until);
	}

	/* The probe after the pause fails too: the next step, about twice as long. */
	now = f.u.pause_until;
	assert_int_equal(up_block_answer(&f.u, &f.slots[4], RETRY, now), 0);
	assert_int_equal(f.u.failures, 2);
	pause = f.u.pause_until - now;
	assert_true(pause >= f.cfg.backoff.base_s && pause <= 2 * f.cfg.backoff.base_s);

	/* A success ends the outage: the next failure starts from the first step. */
	assert_int_equal(up_block_answer(&f.u, &f.slots[5], DONE, now), 0);
	assert_int_equal(f.u.failures, 0);
	assert_int_equal(f.u.n_done, 1);
	assert_int_equal(f.blocks[5].state, BLOCK_DONE);
	assert_int_equal(f.u.done_bytes, 1024);
	now = f.u.pause_until;
	assert_int_equal(up_block_answer(&f.u, &f.slots[6], RETRY, now), 0);
	assert_int_equal(f.u.failures, 1);
}

static void test_retry_after_is_a_floor(void **state)
{
	struct fixture f;
	double now = up_now_s();

	(void)state;
	init(&f);
	f.slots[0].call.answer.retry_after_s = 20;
	assert_int_equal(up_block_answer(&f.u, &f.slots[0], RETRY, now), 0);
	assert_true(f.u.pause_until - now >= 20);
}

static void test_gives_up_after_the_window(void **state)
{
	struct fixture f;
	double now = up_now_s();

	(void)state;
	init(&f);
	/* The last success was one minute ago: retries go on. */
	f.u.last_success = now - 60;
	assert_int_equal(up_block_answer(&f.u, &f.slots[0], RETRY, now), 0);
	/* The next step would end past the window (300 s since the last success). */
	f.u.last_success = now - f.cfg.retry_window_s + 0.1;
	now = f.u.pause_until;
	assert_int_equal(up_block_answer(&f.u, &f.slots[1], RETRY, now), -1);
	assert_int_equal(f.err.action, FC_ERR_RETRY);
	assert_non_null(strstr(f.err.msg, "no request succeeded for 300 s"));
	assert_non_null(strstr(f.err.msg, "503 ServerBusy"));
}

static void test_lost_container_and_refusal(void **state)
{
	struct fixture f;
	double now = up_now_s();

	(void)state;
	init(&f);
	assert_int_equal(up_block_answer(&f.u, &f.slots[0], CREATE_CONTAINER, now), 0);
	assert_int_equal(f.u.need_container, 1);
	assert_int_equal(f.blocks[0].state, BLOCK_WAITING);
	assert_true(f.blocks[0].not_before == 0); /* as soon as the container is back */
	assert_int_equal(f.u.failures, 0);
	assert_int_equal(up_block_answer(&f.u, &f.slots[1], FAILED, now), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_burst_takes_one_step),
		cmocka_unit_test(test_retry_after_is_a_floor),
		cmocka_unit_test(test_gives_up_after_the_window),
		cmocka_unit_test(test_lost_container_and_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
