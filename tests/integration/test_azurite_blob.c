/*
 * Against Azurite: a container is created and a blob written with
 * SharedKey-signed requests (sinks/azblob/azblob_auth.c), then read back
 * byte for byte; a request signed with a wrong key is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "azblob_auth.h"
#include "fc_blob_url.h"
#include "it_env.h"

/* Azurite's published development account key (not a secret). */
#define DEV_KEY                                                                                    \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define WRONG_KEY                                                                                  \
	"AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define BLOB_SIZE (1024 * 1024 + 17)

static const char *endpoint;
static char container[64];

struct body {
	const unsigned char *out; /* request body */
	size_t out_len, out_pos;
	unsigned char *in; /* response body, at most in_cap bytes */
	size_t in_len, in_cap;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t left = b->out_len - b->out_pos, take = size * n < left ? size * n : left;
	memcpy(buf, b->out + b->out_pos, take);
	b->out_pos += take;
	return take;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (b->in_len + len > b->in_cap)
		return 0; /* bounded: refuse more than expected */
	memcpy(b->in + b->in_len, data, len);
	b->in_len += len;
	return len;
}

/*
 * Sends one signed request for path (under the account's endpoint) and
 * returns the HTTP status. query holds the decoded query parameters.
 */
static long request(const char *key_b64, const char *method, const char *path,
		    const struct azblob_pair *query, size_t n_query, struct body *body,
		    const char *blob_type)
{
	struct fc_blob_url url;
	struct azblob_key key;
	struct fc_err err;
	char why[256], date[64], length[32], auth[256], line[512], full[1024], uri_path[512];
	struct azblob_pair headers[8];
	size_t nh = 0;
	struct curl_slist *list = NULL;
	long status = 0;

	/* Parse the endpoint with a placeholder blob to get account and host. */
	snprintf(full, sizeof(full), "%s/probe-container/probe-blob", endpoint);
	if (fc_blob_url_parse(full, &url, why, sizeof(why)) != 0)
		fail_msg("FLEETCAP_AZURITE %s: %s", endpoint, why);
	if (azblob_key_init(&key, url.account, key_b64, &err) != 0)
		fail_msg("%s", err.msg);

	azblob_http_date(date, sizeof(date));
	snprintf(length, sizeof(length), "%zu", body ? body->out_len : 0);
	headers[nh++] = (struct azblob_pair){"x-ms-date", date};
	headers[nh++] = (struct azblob_pair){"x-ms-version", AZBLOB_API_VERSION};
	if (strcmp(method, "PUT") == 0) {
		headers[nh++] = (struct azblob_pair){"Content-Length", length};
		if (blob_type) {
			headers[nh++] = (struct azblob_pair){"x-ms-blob-type", blob_type};
			headers[nh++] = (struct azblob_pair){"Content-Type",
							     "application/vnd.tcpdump.pcap"};
		}
	}
	/* Emulator URLs put the account first in the path. */
	snprintf(uri_path, sizeof(uri_path), "%s%s%s", url.path_style ? "/" : "",
		 url.path_style ? url.account : "", path);
	struct azblob_request req = {method, uri_path, query, n_query, headers, nh};
	assert_int_equal(azblob_authorization(&key, &req, auth, sizeof(auth)), 0);
	azblob_key_clear(&key);

	for (size_t i = 0; i < nh; i++) {
		snprintf(line, sizeof(line), "%s: %s", headers[i].name, headers[i].value);
		list = curl_slist_append(list, line);
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	list = curl_slist_append(list, line);
	list = curl_slist_append(list, "Expect:");

	snprintf(full, sizeof(full), "%s%s", endpoint, path);
	for (size_t i = 0; i < n_query; i++)
		snprintf(full + strlen(full), sizeof(full) - strlen(full), "%c%s=%s", i ? '&' : '?',
			 query[i].name, query[i].value);

	CURL *curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_URL, full);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(curl, CURLOPT_READDATA, body);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(body ? body->out_len : 0));
	}
	if (body && body->in) {
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	}
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(list);
	return status;
}

static int setup(void **state)
{
	(void)state;
	endpoint = it_require_env("FLEETCAP_AZURITE");
	it_unique(container, sizeof(container), "it-blob-");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

static void test_write_and_read_back(void **state)
{
	const struct azblob_pair restype[] = {{"restype", "container"}};
	char path[256];
	unsigned char *data = malloc(BLOB_SIZE), *back = malloc(BLOB_SIZE + 1);
	(void)state;

	/* Bytes that a text-mode or truncating path would damage: every value, 0 included. */
	for (size_t i = 0; i < BLOB_SIZE; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);

	snprintf(path, sizeof(path), "/%s", container);
	struct body empty = {(const unsigned char *)"", 0, 0, NULL, 0, 0};
	assert_int_equal(request(DEV_KEY, "PUT", path, restype, 1, &empty, NULL), 201);

	snprintf(path, sizeof(path), "/%s/dir/capture-1.pcap", container);
	struct body up = {data, BLOB_SIZE, 0, NULL, 0, 0};
	assert_int_equal(request(DEV_KEY, "PUT", path, NULL, 0, &up, "BlockBlob"), 201);

	struct body down = {NULL, 0, 0, back, 0, BLOB_SIZE + 1};
	assert_int_equal(request(DEV_KEY, "GET", path, NULL, 0, &down, NULL), 200);
	assert_int_equal(down.in_len, BLOB_SIZE);
	assert_memory_equal(back, data, BLOB_SIZE);
	free(data);
	free(back);
}

static void test_wrong_key_refused(void **state)
{
	char path[256];
	unsigned char sink[4096];
	(void)state;

	snprintf(path, sizeof(path), "/%s/dir/capture-1.pcap", container);
	struct body down = {NULL, 0, 0, sink, 0, sizeof(sink)};
	assert_int_equal(request(WRONG_KEY, "GET", path, NULL, 0, &down, NULL), 403);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_read_back),
		cmocka_unit_test(test_wrong_key_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
