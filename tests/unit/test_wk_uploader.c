/*
 * The worker's uploader holds a bounded amount of files: with storage away
 * (a closed port on 127.0.0.1) and a ring that keeps finishing files, no more
 * than held_bytes_max bytes of files wait open besides the one being
 * uploaded, so the disk a ring takes stays bounded; the session then ends
 * with an upload failure and every file listed, none with a blob URL.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wk_uploader.h"

/* Descriptors of this process open on files of dir, deleted or not. */
static size_t open_in(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[300], target[512];
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += strncmp(target, dir, strlen(dir)) == 0;
	}
	closedir(d);
	return n;
}

static void test_held_files_are_bounded(void **state)
{
	char dir[] = "/tmp/fleetcap-uploader-XXXXXX";
	const size_t files = 12, held_max = 3;
	struct fc_err err;
	(void)state;

	assert_non_null(mkdtemp(dir));
	struct wk_uploader_config c = {
		.session_id = "s/r/ring#1",
		/* Nothing listens on the discard port: every attempt is refused. */
		.blob_url = "http://127.0.0.1:9/devstoreaccount1/caps/ring.pcap",
		.ring = 1,
		.sas = "sv=2021-08-06&sp=cw&sig=bm90LWEtc2lnbmF0dXJl",
		.held_bytes_max = held_max * 1000, /* three of the 1000-byte files */
		.retry_window_s = 2,
	};
	struct wk_uploader *u = wk_uploader_start(&c, &err);
	assert_non_null(u);
	for (size_t i = 1; i <= files; i++) {
		struct wk_file f = {.size = 1000};
		snprintf(f.path, sizeof(f.path), "%s/ring_%05zu.pcap", dir, i);
		snprintf(f.sha256, sizeof(f.sha256), "%064zu", i);
		FILE *out = fopen(f.path, "w");
		assert_non_null(out);
		for (int k = 0; k < 1000; k++)
			fputc('x', out);
		fclose(out);
		wk_uploader_add(u, &f);
		unlink(f.path); /* as the ring does: only the uploader's fd keeps it */
		assert_true(wk_uploader_held(u) <= held_max + 1);
		/* The file being uploaded is open twice: held, and read for the upload. */
		assert_true(open_in(dir) <= held_max + 2);
	}

	const struct wk_uploaded *up;
	size_t n;
	assert_int_equal(wk_uploader_finish(u, &up, &n, &err), -1);
	assert_int_equal(n, files);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(up[i].blob_url, ""); /* none reached storage */
	assert_int_equal(wk_uploader_held(u), 0);
	assert_int_equal(open_in(dir), 0); /* the disk space is given back */
	wk_uploader_free(u);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_files_are_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
