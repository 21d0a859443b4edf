/*
 * fleetcap upload (sinks/azblob) end to end, the binary against Azurite and
 * against a small HTTP server of the test's own:
 *   - files of 1 KiB (one Put Blob), 9 MiB and 300 MiB (blocks) come back
 *     byte-identical, with SharedKey and with a SAS token of sp=cw;
 *   - a second run finds the blob there and reuses every block;
 *   - a wrong key fails at once, with no retry, saying why;
 *   - Azurite killed in the middle of a 300 MiB upload and started again
 *     3 s later: the same command completes, the blob is identical;
 *   - 503 with Retry-After: the retries happen and wait at least that long;
 *     403: one request, no retry; 503 for ever: it gives up after the
 *     retry window;
 *   - no output of any run ever holds the account key or a SAS signature.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "it_azurite.h"
#include "it_env.h"
#include "it_proc.h"

#define MIB (1024ull * 1024)

static const char *endpoint;
static char dir[128], container[64], key_file[192], wrong_key_file[192], big[256];
static char sas_cw[256];

/* Fails the test if any output holds a secret: the key, or a signature. */
static void assert_no_secret(const struct it_proc *p, const char *sas)
{
	const char *outputs[] = {p->out, p->err};
	char sig[128] = "";
	const char *s = sas ? strstr(sas, "sig=") : NULL;

	if (s)
		snprintf(sig, sizeof(sig), "%.*s", (int)strcspn(s + 4, "&"), s + 4);
	for (size_t i = 0; i < 2; i++) {
		if (strstr(outputs[i], IT_AZURITE_KEY) || strstr(outputs[i], "KBHBeksoGMGw"))
			fail_msg("the account key appears in the output:\n%s", outputs[i]);
		if (sig[0] && strstr(outputs[i], sig))
			fail_msg("the SAS signature appears in the output:\n%s", outputs[i]);
	}
}

/*
 * Runs fleetcap upload FILE --blob-url URL CRED_OPT CRED [EXTRA...] --json
 * with debug logging (the most output there is) and waits for it.
 */
static int upload(struct it_proc *p, const char *file, const char *url, const char *cred_opt,
		  const char *cred, ...)
{
	char *argv[24] = {FLEETCAP_BIN, "upload",	  (char *)file, "--blob-url",
			  (char *)url,	(char *)cred_opt, (char *)cred, "--json"};
	size_t n = 8;
	va_list ap;
	const char *extra;

	va_start(ap, cred);
	while ((extra = va_arg(ap, const char *)) != NULL && n < 23)
		argv[n++] = (char *)extra;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(it_proc_start(p, argv), 0);
	int status = it_proc_wait(p);
	assert_no_secret(p, strcmp(cred_opt, "--blob-sas") == 0 ? cred : NULL);
	return status;
}

static void url_of(char *out, size_t len, const char *ep, const char *blob)
{
	snprintf(out, len, "%s/%s/%s", ep, container, blob);
}

/* The blob matches the file, and the JSON says so. */
static void assert_blob_is(const char *ep, const char *blob, const char *file,
			   const struct it_proc *p)
{
	char want[65], got[65], field[96];
	uint64_t size = 0;
	struct stat st;

	assert_int_equal(it_file_sha256(file, want), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(it_azurite_blob_sha256(ep, container, blob, got, &size), 200);
	assert_int_equal(size, (uint64_t)st.st_size);
	assert_string_equal(got, want);
	snprintf(field, sizeof(field), "\"sha256\":\"%s\"", want);
	assert_non_null(strstr(p->out, field));
	assert_non_null(strstr(p->out, "\"status\":\"Uploaded\""));
}

static void test_sizes_come_back_identical(void **state)
{
	static const struct {
		const char *name;
		uint64_t size;
		const char *blocks;
	} files[] = {
		{"one-kib.pcap", 1024, "\"blocks\":0"},
		{"nine-mib.pcap", 9 * MIB, "\"blocks\":2"},
		{"big.pcap", 300 * MIB + 12345, "\"blocks\":38"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256], url[512];
		struct it_proc p;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if (files[i].size > 100 * MIB)
			snprintf(big, sizeof(big), "%s", path);
		assert_int_equal(it_make_file(path, files[i].size, (uint32_t)i + 7), 0);
		url_of(url, sizeof(url), endpoint, files[i].name);
		/* The key creates the container on the first upload. */
		assert_int_equal(upload(&p, path, url, "--blob-key-file", key_file, NULL), 0);
		assert_blob_is(endpoint, files[i].name, path, &p);
		assert_non_null(strstr(p.out, files[i].blocks));
		it_proc_free(&p);
	}
}

static void test_sas_write_only(void **state)
{
	char path[256], url[512];
	struct it_proc p;
	(void)state;

	snprintf(path, sizeof(path), "%s/nine-mib.pcap", dir);
	url_of(url, sizeof(url), endpoint, "with-sas/nine-mib.pcap");
	assert_int_equal(upload(&p, path, url, "--blob-sas", sas_cw, NULL), 0);
	assert_blob_is(endpoint, "with-sas/nine-mib.pcap", path, &p);
	it_proc_free(&p);
}

static void test_second_run_reuses_every_block(void **state)
{
	char url[512];
	struct it_proc p;
	(void)state;

	url_of(url, sizeof(url), endpoint, "big.pcap");
	assert_int_equal(upload(&p, big, url, "--blob-key-file", key_file, NULL), 0);
	assert_non_null(strstr(p.out, "\"blocksReused\":38"));
	assert_non_null(strstr(p.out, "\"alreadyUploaded\":true"));
	it_proc_free(&p);

	/* Another file at that name is refused, and the blob is unchanged. */
	char small[256];
	snprintf(small, sizeof(small), "%s/one-kib.pcap", dir);
	assert_int_equal(upload(&p, small, url, "--blob-key-file", key_file, NULL), 1);
	assert_non_null(strstr(p.err, "never overwritten"));
	it_proc_free(&p);
	char want[65], got[65];
	uint64_t size;
	assert_int_equal(it_file_sha256(big, want), 0);
	assert_int_equal(it_azurite_blob_sha256(endpoint, container, "big.pcap", got, &size), 200);
	assert_string_equal(got, want);
}

static void test_wrong_key_fails_at_once(void **state)
{
	char path[256], url[512];
	struct it_proc p;
	(void)state;

	snprintf(path, sizeof(path), "%s/nine-mib.pcap", dir);
	url_of(url, sizeof(url), endpoint, "wrong-key.pcap");
	assert_int_equal(upload(&p, path, url, "--blob-key-file", wrong_key_file, NULL), 1);
	assert_non_null(strstr(p.err, "HTTP 403"));
	assert_non_null(strstr(p.err, "authentication or permission refused"));
	assert_non_null(strstr(p.out, "\"retries\":0"));
	it_proc_free(&p);
}

static void test_bad_arguments_hide_the_token(void **state)
{
	char url[512];
	struct it_proc p;
	(void)state;

	url_of(url, sizeof(url), endpoint, "x.pcap");
	/* A token with a space is malformed: exit 2, and the value is not echoed. */
	assert_int_equal(upload(&p, big, url, "--blob-sas", "sv=1&sig=TOPSECRETVALUE x", NULL), 2);
	assert_null(strstr(p.err, "TOPSECRETVALUE"));
	assert_non_null(strstr(p.err, "--blob-sas"));
	it_proc_free(&p);
	assert_int_equal(upload(&p, big, "http://example.com/c/b", "--blob-sas", sas_cw, NULL), 2);
	assert_non_null(strstr(p.err, "--blob-url"));
	it_proc_free(&p);
}

static void test_storage_restart_mid_upload(void **state)
{
	char data[192], url[512];
	struct it_azurite az;
	struct it_proc p;
	(void)state;

	snprintf(data, sizeof(data), "%s/azurite", dir);
	mkdir(data, 0700);
	assert_int_equal(it_azurite_start(&az, data, 0), 0);
	url_of(url, sizeof(url), az.endpoint, "restart/big.pcap");

	char *argv[] = {FLEETCAP_BIN,	   "upload", big,      "--blob-url",   url,
			"--blob-key-file", key_file, "--json", "--block-size", "4194304",
			"--parallel",	   "2",	     NULL};
	assert_int_equal(it_proc_start(&p, argv), 0);
	/* Some blocks are stored, most are not: kill the storage there. */
	assert_int_equal(it_proc_wait_stderr(&p, "block 10 of 76", 120), 0);
	it_azurite_kill(&az, SIGKILL);
	sleep(3);
	assert_int_equal(it_azurite_start(&az, data, az.port), 0);
	int status = it_proc_wait(&p);
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "%s%s", p.out, p.err);
	assert_int_equal(status, 0);
	assert_no_secret(&p, NULL);
	assert_blob_is(az.endpoint, "restart/big.pcap", big, &p);
	assert_null(strstr(p.out, "\"retries\":0,"));
	it_proc_free(&p);
	it_azurite_kill(&az, SIGTERM);
}

/* A one-connection-per-request HTTP server that answers from a script. */
struct fake {
	int fd;
	unsigned port;
	int status;	 /* answer to the first n_status requests */
	int n_status;	 /* then 201 */
	int retry_after; /* seconds, 0 = no header */
	int requests;
	double at[16]; /* arrival of each request, monotonic */
	pthread_t thread;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_request(int c)
{
	char buf[65536];
	size_t have = 0;
	long body = 0;
	char *end = NULL;

	while (!end && have < sizeof(buf) - 1) {
		ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	char *cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl && cl < end)
		body = strtol(cl + 17, NULL, 10);
	long left = body - (long)(have - (size_t)(end + 4 - buf));
	while (left > 0) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			return;
		left -= n;
	}
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	int c;

	while ((c = accept(f->fd, NULL, NULL)) >= 0) {
		char answer[256];
		read_request(c);
		if (f->requests < 16)
			f->at[f->requests] = now_s();
		int status = f->requests < f->n_status ? f->status : 201;
		f->requests++;
		int n = snprintf(answer, sizeof(answer),
				 "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n",
				 status);
		if (status == 503)
			n += snprintf(answer + n, sizeof(answer) - (size_t)n,
				      "x-ms-error-code: ServerBusy\r\n");
		if (status == 403)
			n += snprintf(answer + n, sizeof(answer) - (size_t)n,
				      "x-ms-error-code: AuthenticationFailed\r\n");
		if (f->retry_after && status != 201)
			n += snprintf(answer + n, sizeof(answer) - (size_t)n, "Retry-After: %d\r\n",
				      f->retry_after);
		n += snprintf(answer + n, sizeof(answer) - (size_t)n, "\r\n");
		if (write(c, answer, (size_t)n) != n)
			break;
		close(c);
	}
	return NULL;
}

static void fake_start(struct fake *f, int status, int n_status, int retry_after)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->status = status;
	f->n_status = n_status;
	f->retry_after = retry_after;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->fd, 8), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->fd);
}

/* Uploads a 1 KiB file to the fake server with a made-up SAS token. */
static int upload_to_fake(struct fake *f, struct it_proc *p, const char *window)
{
	char path[256], url[256];
	snprintf(path, sizeof(path), "%s/one-kib.pcap", dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/devstoreaccount1/fake/blob.pcap", f->port);
	return upload(p, path, url, "--blob-sas", "sv=2021-08-06&sp=cw&sig=FAKESIGNATURE0123456789",
		      "--retry-window", window, NULL);
}

static void test_retry_after_is_honoured(void **state)
{
	struct fake f;
	struct it_proc p;
	(void)state;

	fake_start(&f, 503, 3, 2);
	assert_int_equal(upload_to_fake(&f, &p, "60"), 0);
	fake_stop(&f);
	assert_int_equal(f.requests, 4);
	for (int i = 1; i < 4; i++)
		if (f.at[i] - f.at[i - 1] < 1.95) /* the server asked for 2 s */
			fail_msg("retry %d came %.3f s after the 503 with Retry-After: 2", i,
				 f.at[i] - f.at[i - 1]);
	assert_non_null(strstr(p.out, "\"retries\":3"));
	it_proc_free(&p);
}

static void test_forbidden_is_not_retried(void **state)
{
	struct fake f;
	struct it_proc p;
	(void)state;

	fake_start(&f, 403, 100, 0);
	assert_int_equal(upload_to_fake(&f, &p, "60"), 1);
	fake_stop(&f);
	assert_int_equal(f.requests, 1);
	assert_non_null(strstr(p.err, "authentication or permission refused"));
	assert_non_null(strstr(p.err, "SAS token"));
	it_proc_free(&p);
}

static void test_gives_up_after_the_retry_window(void **state)
{
	struct fake f;
	struct it_proc p;
	(void)state;

	fake_start(&f, 503, 1000, 0);
	assert_int_equal(upload_to_fake(&f, &p, "3"), 1);
	fake_stop(&f);
	assert_true(f.requests >= 2);
	assert_non_null(strstr(p.err, "no request succeeded for 3 s"));
	assert_non_null(strstr(p.err, "HTTP 503 ServerBusy"));
	it_proc_free(&p);
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int setup(void **state)
{
	(void)state;
	endpoint = it_require_env("FLEETCAP_AZURITE");
	it_require_env("FLEETCAP_AZURITE_BIN");
	snprintf(dir, sizeof(dir), "/var/tmp/fleetcap-it-upload-%ld", (long)getpid());
	if (mkdir(dir, 0700) != 0)
		return -1;
	it_unique(container, sizeof(container), "it-upload-");
	snprintf(key_file, sizeof(key_file), "%s/key", dir);
	snprintf(wrong_key_file, sizeof(wrong_key_file), "%s/wrong-key", dir);
	/* The wrong key: the right one with its first four characters changed. */
	char wrong[sizeof(IT_AZURITE_KEY)];
	snprintf(wrong, sizeof(wrong), "AAAA%s", IT_AZURITE_KEY + 4);
	if (write_text(key_file, IT_AZURITE_KEY "\n") != 0 ||
	    write_text(wrong_key_file, wrong) != 0)
		return -1;
	it_azurite_sas(container, "cw", sas_cw, sizeof(sas_cw));
	setenv("FLEETCAP_LOG_LEVEL", "debug", 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_come_back_identical),
		cmocka_unit_test(test_sas_write_only),
		cmocka_unit_test(test_second_run_reuses_every_block),
		cmocka_unit_test(test_wrong_key_fails_at_once),
		cmocka_unit_test(test_bad_arguments_hide_the_token),
		cmocka_unit_test(test_retry_after_is_honoured),
		cmocka_unit_test(test_forbidden_is_not_retried),
		cmocka_unit_test(test_gives_up_after_the_retry_window),
		cmocka_unit_test(test_storage_restart_mid_upload),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
