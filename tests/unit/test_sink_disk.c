/*
 * The disk sink keeps files under the capture root: each escape attempt
 * (.., an absolute path elsewhere, a symlink in the middle or at the end) is
 * refused without touching anything outside, missing directories appear with
 * mode 0750, nothing is overwritten, and what lands is byte-identical —
 * linked on one file system, copied across two.
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

static char base[64], root[128], outside[128], src[160];
static struct sink_disk *disk;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void assert_content(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, text);
}

static void expect_refused(const char *path, const char *needle)
{
	char location[256];
	struct fc_err err;
	fc_err_clear(&err);
	assert_int_equal(sink_disk_put(disk, src, path, location, sizeof(location), &err), -1);
	assert_int_equal(err.action, FC_ERR_INVALID);
	if (!strstr(err.msg, needle))
		fail_msg("refusing \"%s\": expected \"%s\" in \"%s\"", path, needle, err.msg);
}

static void test_put_creates_directories(void **state)
{
	char location[256], expected[256];
	struct fc_err err;
	struct stat st;

	(void)state;
	assert_int_equal(sink_disk_put(disk, src, "a/b/c.pcap", location, sizeof(location), &err),
			 0);
	snprintf(expected, sizeof(expected), "%s/a/b/c.pcap", root);
	assert_string_equal(location, expected);
	assert_content(expected, "captured bytes");
	snprintf(expected, sizeof(expected), "%s/a/b", root);
	assert_int_equal(stat(expected, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);

	/* "a//./b.pcap" is a/b.pcap; an absolute path under the root is accepted. */
	assert_int_equal(sink_disk_put(disk, src, "a//./d.pcap", location, sizeof(location), &err),
			 0);
	snprintf(expected, sizeof(expected), "%s/a/d.pcap", root);
	assert_string_equal(location, expected);
	snprintf(expected, sizeof(expected), "%s/abs.pcap", root);
	assert_int_equal(sink_disk_put(disk, src, expected, location, sizeof(location), &err), 0);
	assert_string_equal(location, expected);
}

static void test_never_overwrites(void **state)
{
	char path[256];
	(void)state;

	snprintf(path, sizeof(path), "%s/keep.pcap", root);
	write_file(path, "older capture");
	expect_refused("keep.pcap", "already exists");
	assert_content(path, "older capture");
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

	/* A regular file where a directory should be. */
	snprintf(path, sizeof(path), "%s/plain", root);
	write_file(path, "x");
	expect_refused("plain/x.pcap", "not a directory");
}

static void test_copy_across_file_systems(void **state)
{
	char shm_src[128], location[256];
	struct fc_err err;
	struct stat a, b;
	(void)state;

	snprintf(shm_src, sizeof(shm_src), "/dev/shm/fleetcap-sink-%ld.pcap", (long)getpid());
	if (stat("/dev/shm", &a) != 0 || stat(root, &b) != 0 || a.st_dev == b.st_dev) {
		/* No second file system to cross: the link path above is what runs. */
		printf("  /dev/shm is missing or on the root's file system: copy path not run\n");
		return;
	}
	write_file(shm_src, "bytes from another file system");
	assert_int_equal(
		sink_disk_put(disk, shm_src, "copied/c.pcap", location, sizeof(location), &err), 0);
	assert_content(location, "bytes from another file system");
	strcat(location, ".part");
	assert_int_equal(access(location, F_OK), -1);
	unlink(shm_src);
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
	snprintf(src, sizeof(src), "%s/spool.pcap", base);
	if (mkdir(root, 0750) != 0 || mkdir(outside, 0750) != 0)
		return -1;
	write_file(src, "captured bytes");
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
		cmocka_unit_test(test_put_creates_directories),
		cmocka_unit_test(test_never_overwrites),
		cmocka_unit_test(test_escapes_are_refused),
		cmocka_unit_test(test_copy_across_file_systems),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
