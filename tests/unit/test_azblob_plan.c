/*
 * The pure parts of the uploader: block planning, block ids, the block-list
 * documents, the retry policy, request URLs, redaction, and ring blob names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "azblob_blocks.h"
#include "azblob_call.h"
#include "azblob_retry.h"
#include "fc_blob_url.h"
#include "sink_azblob.h"

#define MIB (1024ull * 1024)

static void test_plan_single_and_blocks(void **state)
{
	struct azblob_plan p;
	struct fc_err err;
	(void)state;

	assert_int_equal(azblob_plan_make(0, 8 * MIB, 8 * MIB, &p, &err), 0);
	assert_true(p.single_put);
	assert_int_equal(azblob_plan_make(8 * MIB, 8 * MIB, 8 * MIB, &p, &err), 0);
	assert_true(p.single_put);
	assert_int_equal(azblob_plan_make(8 * MIB + 1, 8 * MIB, 8 * MIB, &p, &err), 0);
	assert_false(p.single_put);
	assert_int_equal(p.n_blocks, 2);
	assert_int_equal(azblob_plan_length(&p, 0), 8 * MIB);
	assert_int_equal(azblob_plan_length(&p, 1), 1);
	assert_int_equal(azblob_plan_offset(&p, 1), 8 * MIB);

	/* 300 MiB + 12345 in 8 MiB blocks: 37 full and one short. */
	assert_int_equal(azblob_plan_make(300 * MIB + 12345, 8 * MIB, 8 * MIB, &p, &err), 0);
	assert_int_equal(p.n_blocks, 38);
	uint64_t sum = 0;
	for (uint32_t i = 0; i < p.n_blocks; i++)
		sum += azblob_plan_length(&p, i);
	assert_int_equal(sum, 300 * MIB + 12345);
	assert_int_equal(azblob_plan_length(&p, 38), 0);
}

static void test_plan_raises_block_size_past_50000_blocks(void **state)
{
	struct azblob_plan p;
	struct fc_err err;
	(void)state;

	/* 1 TiB in 8 MiB blocks would be 131072 blocks. */
	assert_int_equal(azblob_plan_make(1024 * 1024 * MIB, 8 * MIB, 8 * MIB, &p, &err), 0);
	assert_true(p.n_blocks <= AZBLOB_MAX_BLOCKS);
	assert_int_equal(p.block_size % MIB, 0);
	assert_true((uint64_t)p.n_blocks * p.block_size >= 1024 * 1024 * MIB);
	/* Past 50,000 blocks of the largest size: refused, saying why. */
	assert_int_equal(azblob_plan_make(AZBLOB_MAX_BLOCKS * AZBLOB_MAX_BLOCK_SIZE + 1, 8 * MIB,
					  8 * MIB, &p, &err),
			 -1);
	assert_int_equal(err.action, FC_ERR_INVALID);
	assert_non_null(strstr(err.msg, "needs more than 50000 blocks"));
	assert_int_equal(azblob_plan_make(10, 1000, 0, &p, &err), -1);
	assert_non_null(strstr(err.msg, "block size 1000"));
}

static void test_block_ids_fixed_width_and_content_named(void **state)
{
	unsigned char md5[16], raw[64];
	char a[AZBLOB_BLOCK_ID_LEN + 1], b[AZBLOB_BLOCK_ID_LEN + 1];
	(void)state;

	memset(md5, 0xab, sizeof(md5));
	azblob_block_id(0, md5, a);
	azblob_block_id(49999, md5, b);
	assert_int_equal(strlen(a), AZBLOB_BLOCK_ID_LEN);
	assert_int_equal(strlen(b), AZBLOB_BLOCK_ID_LEN);
	assert_string_not_equal(a, b);
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b, AZBLOB_BLOCK_ID_LEN);
	assert_true(n >= 38);
	assert_memory_equal(raw, "49999-abababababababababababababababab", 38);
	md5[15] = 0;
	azblob_block_id(0, md5, b);
	assert_string_not_equal(a, b); /* other bytes, other id */
}

static void collect(void *arg, const char *name, uint64_t size)
{
	char *out = arg;
	sprintf(out + strlen(out), "%s=%llu;", name, (unsigned long long)size);
}

static void test_block_list_documents(void **state)
{
	char ids[2][AZBLOB_BLOCK_ID_LEN + 1];
	unsigned char md5[16] = {1, 2, 3};
	char xml[512], seen[512] = "";
	(void)state;

	azblob_block_id(0, md5, ids[0]);
	azblob_block_id(1, md5, ids[1]);
	size_t len = azblob_block_list_xml((const char(*)[AZBLOB_BLOCK_ID_LEN + 1]) ids, 2, xml,
					   sizeof(xml));
	assert_int_equal(len + 1, azblob_block_list_xml_size(2));
	assert_non_null(strstr(xml, "<BlockList><Latest>"));
	assert_int_equal(
		azblob_block_list_xml((const char(*)[AZBLOB_BLOCK_ID_LEN + 1]) ids, 2, xml, len),
		0); /* too small: nothing */

	/* An answer as Get Block List gives it, committed and uncommitted. */
	const char *answer =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><CommittedBlocks>"
		"<Block><Name>QUJD</Name><Size>8388608</Size></Block></CommittedBlocks>"
		"<UncommittedBlocks><Block><Name>REVG</Name><Size>17</Size></Block>"
		"</UncommittedBlocks></BlockList>";
	assert_int_equal(azblob_block_list_parse(answer, strlen(answer), collect, seen), 2);
	assert_string_equal(seen, "QUJD=8388608;REVG=17;");
	seen[0] = '\0';
	assert_int_equal(azblob_block_list_parse("<BlockList/>", 12, collect, seen), 0);

	static const char *const bad[] = {
		"<Block><Name>QUJD</Name><Size>12", /* cut short */
		"<Block><Name>QUJD</Name></Block>", /* no size */
		"<Block><Size>1</Size></Block>",    /* no name */
		"<Block><Name>QUJD</Name><Size>-1</Size></Block>",
		"<Block><Name>QUJD</Name><Size>1x</Size></Block>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(azblob_block_list_parse(bad[i], strlen(bad[i]), collect, seen),
				 -1);
}

static void test_backoff(void **state)
{
	struct azblob_backoff b = {0.5, 30};
	(void)state;

	/* Attempt k waits between half and all of min(30, 0.5 * 2^(k-1)). */
	assert_true(azblob_backoff_delay(&b, 1, -1, 0) >= 0.25);
	assert_true(azblob_backoff_delay(&b, 1, -1, UINT32_MAX) <= 0.5);
	assert_true(azblob_backoff_delay(&b, 4, -1, 0) >= 2);
	assert_true(azblob_backoff_delay(&b, 4, -1, UINT32_MAX) <= 4);
	assert_true(azblob_backoff_delay(&b, 40, -1, UINT32_MAX) <= 30);
	assert_true(azblob_backoff_delay(&b, 40, -1, 0) >= 15);
	/* Retry-After is a floor. */
	assert_true(azblob_backoff_delay(&b, 1, 7, UINT32_MAX) == 7);

	for (long s = 400; s < 600; s++)
		assert_int_equal(azblob_status_retryable(s), s == 408 || s == 429 || s == 500 ||
								     s == 502 || s == 503 ||
								     s == 504);
}

static void test_retry_after_values(void **state)
{
	(void)state;
	assert_true(azblob_retry_after_parse("2", 0) == 2);
	assert_true(azblob_retry_after_parse(" 120\r\n", 0) == 120);
	assert_true(azblob_retry_after_parse("-1", 0) < 0);
	assert_true(azblob_retry_after_parse("3x", 0) < 0);
	assert_true(azblob_retry_after_parse("99999999", 0) < 0);
	/* An HTTP date: Sun, 06 Nov 1994 08:49:37 GMT is 784111777. */
	assert_true(azblob_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111770) == 7);
	assert_true(azblob_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111800) == 0);
	assert_true(azblob_retry_after_parse("tomorrow-ish", 0) < 0);
}

static void test_request_url_encodes_block_ids_and_appends_sas(void **state)
{
	struct fc_blob_url url;
	struct azblob_call c;
	struct fc_err err;
	char why[128];
	struct azblob_pair q[] = {{"comp", "block"}, {"blockid", "ab+/=="}};
	struct azblob_cred sas = {NULL, "sv=2021-08-06&sp=cw&sig=abc%2B"};
	CURL *easy = curl_easy_init();
	(void)state;

	assert_int_equal(fc_blob_url_parse("http://127.0.0.1:10000/devstoreaccount1/cont/d/x.pcap",
					   &url, why, sizeof(why)),
			 0);
	assert_int_equal(azblob_call_setup(&c, easy, "Put Block", &url, &sas, "PUT", AZBLOB_BLOB, q,
					   2, NULL, 0, "x", 1, 0, &err),
			 0);
	assert_string_equal(c.url, "http://127.0.0.1:10000/devstoreaccount1/cont/d/x.pcap"
				   "?comp=block&blockid=ab%2B%2F%3D%3D"
				   "&sv=2021-08-06&sp=cw&sig=abc%2B");
	azblob_call_release(&c);
	assert_int_equal(azblob_call_setup(&c, easy, "Create Container", &url, &sas, "PUT",
					   AZBLOB_CONTAINER, q, 1, NULL, 0, NULL, 0, 0, &err),
			 0);
	assert_string_equal(c.url, "http://127.0.0.1:10000/devstoreaccount1/cont?comp=block"
				   "&sv=2021-08-06&sp=cw&sig=abc%2B");
	/* Messages name the blob, never the query. */
	char text[512];
	c.answer.status = 403;
	snprintf(c.answer.error_code, sizeof(c.answer.error_code), "AuthenticationFailed");
	azblob_call_describe(&c, &url, CURLE_OK, text, sizeof(text));
	assert_string_equal(text, "Create Container of http://127.0.0.1:10000/devstoreaccount1/"
				  "cont/d/x.pcap: HTTP 403 AuthenticationFailed");
	azblob_call_release(&c);
	curl_easy_cleanup(easy);
}

static void test_redact(void **state)
{
	char a[] = "GET /c/b?sv=1&sig=ABCDEFGHIJKLMNOP&se=2 failed";
	char b[] = "sig=abc and sig=";
	(void)state;

	azblob_redact(a);
	assert_string_equal(a, "GET /c/b?sv=1&sig=REDACTED&se=2 failed");
	azblob_redact(b);
	assert_string_equal(b, "sig=*** and sig=");
}

static void test_ring_blob_names(void **state)
{
	char out[256];
	(void)state;

	assert_int_equal(sink_azblob_ring_url("https://a01.blob.core.windows.net/c/d/x.pcap",
					      "/var/cap/cap_00007.pcap", out, sizeof(out)),
			 0);
	assert_string_equal(out, "https://a01.blob.core.windows.net/c/d/x_00007.pcap");
	/* No extension on the blob: the number goes at the end. */
	assert_int_equal(sink_azblob_ring_url("https://a01.blob.core.windows.net/c/d.x/cap",
					      "cap_00012.pcap", out, sizeof(out)),
			 0);
	assert_string_equal(out, "https://a01.blob.core.windows.net/c/d.x/cap_00012");
	/* A single file keeps the URL as given. */
	assert_int_equal(sink_azblob_ring_url("https://a01.blob.core.windows.net/c/x.pcap",
					      "/var/cap/my_file.pcap", out, sizeof(out)),
			 0);
	assert_string_equal(out, "https://a01.blob.core.windows.net/c/x.pcap");
	assert_int_equal(sink_azblob_ring_url("https://a01.blob.core.windows.net/c/x.pcap", "", out,
					      sizeof(out)),
			 0);
	assert_string_equal(out, "https://a01.blob.core.windows.net/c/x.pcap");
	assert_int_equal(sink_azblob_ring_url("https://a01.blob.core.windows.net/c/x.pcap",
					      "cap_00001.pcap", out, 20),
			 -1);
}

static void test_sas_form(void **state)
{
	char why[256];
	(void)state;

	assert_int_equal(fc_blob_sas_check("sv=2021-08-06&sp=cw&sig=abc%2B", why, sizeof(why)), 0);
	assert_int_equal(fc_blob_sas_check("sig=abc", why, sizeof(why)), 0);
	assert_int_equal(fc_blob_sas_check("sv=1&xsig=abc", why, sizeof(why)), -1);
	assert_int_equal(fc_blob_sas_check("sv=1&sig=SECRET x", why, sizeof(why)), -1);
	assert_null(strstr(why, "SECRET"));
	assert_int_equal(fc_blob_sas_check("sv=1&sig=a#b", why, sizeof(why)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_single_and_blocks),
		cmocka_unit_test(test_plan_raises_block_size_past_50000_blocks),
		cmocka_unit_test(test_block_ids_fixed_width_and_content_named),
		cmocka_unit_test(test_block_list_documents),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after_values),
		cmocka_unit_test(test_request_url_encodes_block_ids_and_appends_sas),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_ring_blob_names),
		cmocka_unit_test(test_sas_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
