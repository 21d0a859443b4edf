/*
 * The disk sink keeps files under the capture root, on the worker's own path:
 * sink_disk_resolve() gives a directory handle, and the capture engine
 * (wk_output) writes the file relative to it. Each escape attempt (.., an
 * absolute path elsewhere, a symlink in the middle or at the end) is refused
 * without touching anything outside, missing directories appear with mode
 * 0750, nothing is overwritten, and the file holds the record written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sink_disk.h"
#include "wk_output.h"

static char base[64], root[128], outside[128];
static struct sink_disk *disk;

/*
 * What the worker does with a session's file_path: resolve it under the root,
 * then let the engine write one 20-byte record there, relative to the
 * directory handle. 0, or -1 with err from either step.
 */
static int place(const char *path, struct fc_err *err)
{
	char name[256];
	unsigned char data[20] = "captured bytes";
	struct pcap_pkthdr h = {.caplen = sizeof(data), .len = sizeof(data)};
	struct wk_output_config c = {.linktype = 1, .snaplen = 262144};
	int dirfd, rc = -1;

	if (sink_disk_resolve(disk, path, &dirfd, name, sizeof(name), err) != 0)
		return -1;
	c.path = name;
	c.dirfd = dirfd;
	struct wk_output *o = wk_output_open(&c, err);
	if (o && wk_output_write(o, &h, data, err) == WK_WRITE_OK && wk_output_close(o, err) == 0)
		rc = 0;
	wk_output_destroy(o);
	close(dirfd);
	return rc;
}

/* The file at root/rel holds exactly the record place() writes. */
static void assert_placed(const char *rel)
{
	char path[256];
	unsigned char buf[128];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, 24 + 16 + 20); /* file header, record header, the bytes */
	assert_memory_equal(buf + 40, "captured bytes", 14);
}

static void expect_refused(const char *path, const char *needle)
{
	struct fc_err err;
	fc_err_clear(&err);
	assert_int_equal(place(path, &err), -1);
	assert_int_equal(err.action, FC_ERR_INVALID);
	if (!strstr(err.msg, needle))
		fail_msg("refusing \"%s\": expected \"%s\" in \"%s\"", path, needle, err.msg);
}

static void test_places_and_creates_directories(void **state)
{
	char path[256];
	struct fc_err err;
	struct stat st;

	(void)state;
	assert_int_equal(place("a/b/c.pcap", &err), 0);
	assert_placed("a/b/c.pcap");
	snprintf(path, sizeof(path), "%s/a/b", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);

	/* "a//./d.pcap" is a/d.pcap; an absolute path under the root is accepted. */
	assert_int_equal(place("a//./d.pcap", &err), 0);
	assert_placed("a/d.pcap");
	snprintf(path, sizeof(path), "%s/abs.pcap", root);
	assert_int_equal(place(path, &err), 0);
	assert_placed("abs.pcap");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_never_overwrites(void **state)
{
	char path[256], buf[64] = "";
	(void)state;

	snprintf(path, sizeof(path), "%s/keep.pcap", root);
	write_file(path, "older capture");
	expect_refused("keep.pcap", "already exists");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "older capture");
}

static void test_escapes_are_refused(void **state)
{
	char path[256], target[256];
	struct stat st;
	(void)state;

	expect_refused("../escape.pcap", "\"..\"");
	expect_refused("a/../../escape.pcap", "\"..\"");
	snprintf(path, sizeof(path), "%s/abs.pcap", outside);
	expect_refused(path, "outside the capture root");
	expect_refused("", "expected a file name");
	expect_refused("dir/", "expected a file name");

	/* A symlink in the middle of the path, pointing outside. */
	snprintf(path, sizeof(path), "%s/link", root);
	assert_int_equal(symlink(outside, path), 0);
	expect_refused("link/x.pcap", "symbolic link");
	snprintf(path, sizeof(path), "%s/x.pcap", outside);
	assert_int_equal(stat(path, &st), -1);

	/* A symlink as the file name itself: never followed, never replaced. */
	snprintf(target, sizeof(target), "%s/target.pcap", outside);
	snprintf(path, sizeof(path), "%s/final.pcap", root);
	assert_int_equal(symlink(target, path), 0);
	expect_refused("final.pcap", "already exists");
	assert_int_equal(stat(target, &st), -1);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A regular file where a directory should be. */
	snprintf(path, sizeof(path), "%s/plain", root);
	write_file(path, "x");
	expect_refused("plain/x.pcap", "not a directory");
}

static int setup(void **state)
{
	struct sink_disk_config config;
	struct fc_err err;
	(void)state;

	snprintf(base, sizeof(base), "/var/tmp/fleetcap-sink-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	if (mkdir(root, 0750) != 0 || mkdir(outside, 0750) != 0)
		return -1;
	config.root = root;
	disk = sink_disk_open(&config, &err);
	return disk ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	sink_disk_close(disk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_places_and_creates_directories),
		cmocka_unit_test(test_never_overwrites),
		cmocka_unit_test(test_escapes_are_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
