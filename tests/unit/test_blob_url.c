/* Blob URL parsing (common/fc_blob_url.c) for both host styles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fc_blob_url.h"

static void test_azure_style(void **state)
{
	struct fc_blob_url u;
	char why[256];
	(void)state;

	assert_int_equal(fc_blob_url_parse(
				 "https://acct01.blob.core.windows.net/captures/2026/11/a%20b.pcap",
				 &u, why, sizeof(why)),
			 0);
	assert_true(u.https);
	assert_false(u.path_style);
	assert_string_equal(u.host, "acct01.blob.core.windows.net");
	assert_int_equal(u.port, 0);
	assert_string_equal(u.account, "acct01");
	assert_string_equal(u.container, "captures");
	assert_string_equal(u.blob, "2026/11/a%20b.pcap");
	assert_string_equal(u.endpoint, "https://acct01.blob.core.windows.net");
}

static void test_emulator_style(void **state)
{
	struct fc_blob_url u;
	char why[256];
	(void)state;

	assert_int_equal(fc_blob_url_parse("http://127.0.0.1:10000/devstoreaccount1/c01/x.pcap", &u,
					   why, sizeof(why)),
			 0);
	assert_false(u.https);
	assert_true(u.path_style);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 10000);
	assert_string_equal(u.account, "devstoreaccount1");
	assert_string_equal(u.container, "c01");
	assert_string_equal(u.blob, "x.pcap");
	assert_string_equal(u.endpoint, "http://127.0.0.1:10000/devstoreaccount1");

	assert_int_equal(fc_blob_url_parse("http://localhost/devstoreaccount1/c01/x.pcap", &u, why,
					   sizeof(why)),
			 0);
	assert_string_equal(u.account, "devstoreaccount1");
	assert_int_equal(fc_blob_url_parse("http://[::1]:8080/devstoreaccount1/c01/d/x.pcap", &u,
					   why, sizeof(why)),
			 0);
	assert_string_equal(u.host, "[::1]");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.blob, "d/x.pcap");
}

static void test_refusals(void **state)
{
	static const struct {
		const char *url;
		const char *why;
	} bad[] = {
		{"ftp://acct01.blob.core.windows.net/c01/x", "expected https://"},
		{"http://acct01.blob.core.windows.net/c01/x", "plain http"},
		{"https://acct01.blob.core.windows.net/c01/x?sv=1&sig=2", "SAS token"},
		{"https://acct01.blob.core.windows.net/c01/x#frag", "query string or fragment"},
		{"https://acct01.blob.core.windows.net", "no path"},
		{"https://acct01.blob.core.windows.net/c01", "no blob name"},
		{"https://acct01.blob.core.windows.net/c01/", "no blob name"},
		{"https://acct01.blob.core.windows.net/c01/a//b", "empty path segment"},
		{"https://acct01.blob.core.windows.net/a--b/x", "bad container"},
		{"https://acct01.blob.core.windows.net/-ab/x", "bad container"},
		{"https://acct01.blob.core.windows.net/ab/x", "bad container"},
		{"https://ACCT.blob.core.windows.net/c01/x", "bad host"},
		{"https://acct01.file.core.windows.net/c01/x", "bad host"},
		{"https://acct01.blob.core.windows.net:0/c01/x", "bad port"},
		{"https://acct01.blob.core.windows.net:65536/c01/x", "bad port"},
		{"http://127.0.0.1:10000/Dev/c01/x", "bad account"},
		{"http://127.0.0.1:10000/devstoreaccount1/c01/a b", "not allowed in a URL"},
	};
	struct fc_blob_url u;
	char why[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fc_blob_url_parse(bad[i].url, &u, why, sizeof(why)) != -1)
			fail_msg("%s was accepted", bad[i].url);
		if (!strstr(why, bad[i].why))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].url, why, bad[i].why);
	}
}

/* Where uploads may go: the public clouds over https, and listed origins only. */
static void test_allowed_endpoints(void **state)
{
	static const struct {
		const char *url, *endpoints;
		int allowed;
	} cases[] = {
		{"https://acct.blob.core.windows.net/c1c/x.pcap", NULL, 1},
		{"https://acct.BLOB.core.windows.net/c1c/x.pcap", "", 1},
		{"https://acct.blob.core.usgovcloudapi.net/c1c/x.pcap", "", 1},
		{"https://acct.blob.core.chinacloudapi.cn/c1c/x.pcap", "", 1},
		/* A host that only looks like one. */
		{"https://acct.blob.core.windows.net.evil.example/c1c/x.pcap", "", 0},
		{"https://acct.blob.evil.example/c1c/x.pcap", "", 0},
		{"https://acct.blob.evil.example/c1c/x.pcap", "https://acct.blob.evil.example", 1},
		/* An emulator: its exact origin, scheme and port included. */
		{"http://127.0.0.1:10000/devstoreaccount1/c1c/x.pcap", "", 0},
		{"http://127.0.0.1:10000/devstoreaccount1/c1c/x.pcap", "http://127.0.0.1:10000", 1},
		{"http://127.0.0.1:10000/devstoreaccount1/c1c/x.pcap",
		 " https://a.example , http://127.0.0.1:10000/ ", 1},
		{"http://127.0.0.1:10001/devstoreaccount1/c1c/x.pcap", "http://127.0.0.1:10000", 0},
		{"http://127.0.0.1:10000/devstoreaccount1/c1c/x.pcap", "https://127.0.0.1:10000",
		 0},
		{"https://127.0.0.1:10000/devstoreaccount1/c1c/x.pcap", "http://127.0.0.1:10000",
		 0},
		{"http://localhost:10000/devstoreaccount1/c1c/x.pcap", "http://127.0.0.1:10000", 0},
	};
	struct fc_blob_url u;
	char why[256];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (fc_blob_url_parse(cases[i].url, &u, why, sizeof(why)) != 0)
			fail_msg("%s: %s", cases[i].url, why);
		int got = fc_blob_url_allowed(&u, cases[i].endpoints, why, sizeof(why)) == 0;
		if (got != cases[i].allowed)
			fail_msg("%s with blob.endpoints \"%s\": %s", cases[i].url,
				 cases[i].endpoints ? cases[i].endpoints : "(none)",
				 got ? "allowed" : why);
		if (!got)
			assert_non_null(strstr(why, "blob.endpoints"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_azure_style),
		cmocka_unit_test(test_emulator_style),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_allowed_endpoints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
