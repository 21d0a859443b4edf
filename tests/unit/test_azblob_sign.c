/*
 * SharedKey signing against vectors computed independently: the strings to
 * sign were written out by hand from the Blob REST rules and signed with the
 * openssl command (tests/vectors/azblob_sharedkey.sh; its output is checked
 * in as azblob_sharedkey.txt). The requests here are built the way the
 * uploader builds them: headers in any order and case, query parameters
 * unsorted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azblob_auth.h"

#define DEV_KEY                                                                                    \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DATE "Sat, 28 Nov 2026 12:00:00 GMT"

struct vector {
	char name[64];
	char sts[2048]; /* with real newlines */
	char sig[128];
};

/* Finds case name in the vectors file. */
static void load(const char *name, struct vector *v)
{
	FILE *f = fopen(FLEETCAP_VECTORS_DIR "/azblob_sharedkey.txt", "r");
	char line[4096];
	int found = 0;

	assert_non_null(f);
	memset(v, 0, sizeof(*v));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "case ", 5) == 0) {
			found = strcmp(line + 5, name) == 0;
			if (found)
				snprintf(v->name, sizeof(v->name), "%s", name);
		} else if (found && strncmp(line, "sts ", 4) == 0) {
			size_t o = 0;
			for (const char *p = line + 4; *p && o + 1 < sizeof(v->sts); p++) {
				if (p[0] == '\\' && p[1] == 'n') {
					v->sts[o++] = '\n';
					p++;
				} else {
					v->sts[o++] = *p;
				}
			}
			v->sts[o] = '\0';
		} else if (found && strncmp(line, "sig ", 4) == 0) {
			snprintf(v->sig, sizeof(v->sig), "%.120s", line + 4);
			break;
		}
	}
	fclose(f);
	if (!v->sig[0])
		fail_msg("vector %s is missing", name);
}

static void check(const char *name, const char *account, const struct azblob_request *req)
{
	struct vector v;
	struct azblob_key key;
	struct fc_err err;
	char sts[2048], auth[256], expected[256];

	load(name, &v);
	assert_true(azblob_string_to_sign(account, req, sts, sizeof(sts)) > 0);
	assert_string_equal(sts, v.sts);
	assert_int_equal(azblob_key_init(&key, account, DEV_KEY, &err), 0);
	assert_int_equal(azblob_authorization(&key, req, auth, sizeof(auth)), 0);
	snprintf(expected, sizeof(expected), "SharedKey %s:%s", account, v.sig);
	assert_string_equal(auth, expected);
	azblob_key_clear(&key);
}

static void test_put_blob(void **state)
{
	const struct azblob_pair headers[] = {
		{"x-ms-version", AZBLOB_API_VERSION},
		{"Content-Type", "application/vnd.tcpdump.pcap"},
		{"x-ms-date", DATE},
		{"Content-Length", "1024"},
		{"x-ms-blob-type", "BlockBlob"},
	};
	const struct azblob_request req = {"PUT",   "/devstoreaccount1/captures/host-1/web.pcap",
					   NULL,    0,
					   headers, sizeof(headers) / sizeof(headers[0])};
	(void)state;
	check("put_blob", "devstoreaccount1", &req);
}

static void test_put_block(void **state)
{
	const struct azblob_pair headers[] = {
		{"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
		{"X-MS-Date", DATE},
		{"content-length", "4194304"},
		{"x-ms-version", AZBLOB_API_VERSION},
	};
	const struct azblob_pair query[] = {{"comp", "block"}, {"blockid", "MDAwMDAwMDAwMDAx"}};
	const struct azblob_request req = {"PUT",   "/devstoreaccount1/captures/big.pcap", query, 2,
					   headers, sizeof(headers) / sizeof(headers[0])};
	(void)state;
	check("put_block", "devstoreaccount1", &req);
}

static void test_get_block_list(void **state)
{
	const struct azblob_pair headers[] = {
		{"x-ms-date", DATE}, {"x-ms-version", AZBLOB_API_VERSION}, {"Content-Length", "0"}};
	const struct azblob_pair query[] = {{"comp", "blocklist"}, {"blocklisttype", "all"}};
	const struct azblob_request req = {
		"GET", "/devstoreaccount1/captures/big.pcap", query, 2, headers, 3};
	(void)state;
	check("get_block_list", "devstoreaccount1", &req);
}

static void test_put_block_list_host_style(void **state)
{
	const struct azblob_pair headers[] = {{"x-ms-version", AZBLOB_API_VERSION},
					      {"x-ms-date", DATE},
					      {"Content-Type", "application/xml"},
					      {"Content-Length", "150"}};
	const struct azblob_pair query[] = {{"comp", "blocklist"}};
	const struct azblob_request req = {"PUT", "/captures/big.pcap", query, 1, headers, 4};
	(void)state;
	check("put_block_list", "myaccount", &req);
}

static void test_create_container(void **state)
{
	const struct azblob_pair headers[] = {{"x-ms-date", DATE},
					      {"x-ms-version", AZBLOB_API_VERSION}};
	const struct azblob_pair query[] = {{"restype", "container"}};
	const struct azblob_request req = {"PUT", "/devstoreaccount1/captures", query, 1, headers,
					   2};
	(void)state;
	check("create_container", "devstoreaccount1", &req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_blob),
		cmocka_unit_test(test_put_block),
		cmocka_unit_test(test_get_block_list),
		cmocka_unit_test(test_put_block_list_host_style),
		cmocka_unit_test(test_create_container),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
