/*
 * The worker's journal: what a restart learns from it (interrupted sessions,
 * uploads to finish, sessions already run), a line cut by a crash,
 * compaction, and a damaged file.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wk_journal.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fleetcap-journal-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];
	(void)state;
	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void append_raw(const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/journal", dir);
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_restart_sees_interrupted(void **state)
{
	struct fc_err err;
	const struct wk_journal_entry *e;
	(void)state;

	struct wk_journal *j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(wk_journal_interrupted(j, &e), 0);
	assert_int_equal(
		wk_journal_started(j, "s/r/a#1", "s", "r", "a", 1000, "/root/caps/a b.pcap", &err),
		0);
	assert_int_equal(
		wk_journal_started(j, "s/r/b#2", "s", "r", "b", 2000, "/root/b.pcap", &err), 0);
	assert_int_equal(wk_journal_finished(j, "s/r/a#1", &err), 0);
	assert_true(wk_journal_known(j, "s/r/a#1"));
	assert_false(wk_journal_known(j, "s/r/c#3"));
	wk_journal_close(j);

	/* A crash cut the last line short: it is dropped and repaired. */
	append_raw("start s/r/c#3 s r c 30");
	j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(wk_journal_interrupted(j, &e), 1);
	assert_string_equal(e[0].session_id, "s/r/b#2");
	assert_string_equal(e[0].name, "b");
	assert_int_equal(e[0].start_ms, 2000);
	assert_string_equal(e[0].path, "/root/b.pcap");
	assert_true(wk_journal_known(j, "s/r/a#1"));
	assert_false(wk_journal_known(j, "s/r/c#3"));
	assert_int_equal(wk_journal_finished(j, "s/r/b#2", &err), 0);
	wk_journal_close(j);

	j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(wk_journal_interrupted(j, &e), 0); /* the repair kept the file whole */
	wk_journal_close(j);

	/* A path with a blank survives the round trip. */
	append_raw("start s/r/d#4 s r d 40 /root/caps/a b.pcap\n");
	j = wk_journal_open(dir, &err);
	assert_int_equal(wk_journal_interrupted(j, &e), 1);
	assert_string_equal(e[0].path, "/root/caps/a b.pcap");
	wk_journal_close(j);
}

static const struct wk_journal_entry *find_interrupted(struct wk_journal *j, const char *id)
{
	const struct wk_journal_entry *e;
	size_t n = wk_journal_interrupted(j, &e);

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].session_id, id) == 0)
			return &e[i];
	return NULL;
}

static size_t journal_lines(void)
{
	char path[128], line[4096];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/journal", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* "captured": the report and spec come back byte for byte, across opens
 * (each of which rewrites the file), until the session is final. */
static void test_captured_round_trip(void **state)
{
	static const uint8_t report[] = {0x00, 0x01, 0xff, 0x10, 0x0a, 0x20};
	static const uint8_t spec[] = {'s', 'a', 's', '\n'};
	const struct wk_journal_entry *e;
	struct fc_err err;
	(void)state;

	struct wk_journal *j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(wk_journal_started(j, "s/r/e#5", "s", "r", "e", 50, "/root/e.pcap", &err),
			 0);
	assert_int_equal(
		wk_journal_captured(j, "s/r/e#5", report, sizeof(report), spec, sizeof(spec), &err),
		0);
	wk_journal_close(j);
	for (int round = 0; round < 2; round++) {
		j = wk_journal_open(dir, &err);
		assert_non_null(j);
		assert_non_null(e = find_interrupted(j, "s/r/e#5"));
		assert_int_equal(e->report_len, sizeof(report));
		assert_memory_equal(e->report, report, sizeof(report));
		assert_int_equal(e->spec_len, sizeof(spec));
		assert_memory_equal(e->spec, spec, sizeof(spec));
		assert_string_equal(e->path, "/root/e.pcap");
		wk_journal_close(j);
	}
	j = wk_journal_open(dir, &err);
	assert_int_equal(wk_journal_finished(j, "s/r/e#5", &err), 0);
	wk_journal_close(j);
	j = wk_journal_open(dir, &err);
	assert_null(find_interrupted(j, "s/r/e#5"));
	assert_true(wk_journal_known(j, "s/r/e#5"));
	wk_journal_close(j);
}

/* Opening drops all but the newest 1000 final sessions, never one that is
 * not final. */
static void test_compaction(void **state)
{
	struct fc_err err;
	char id[64];
	(void)state;

	struct wk_journal *j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(
		wk_journal_started(j, "s/r/open#1", "s", "r", "open", 1, "/root/o.pcap", &err), 0);
	for (int i = 0; i < 1500; i++) {
		snprintf(id, sizeof(id), "s/r/n%d#1", i);
		assert_int_equal(wk_journal_started(j, id, "s", "r", "n", i, "/root/n.pcap", &err),
				 0);
		assert_int_equal(wk_journal_finished(j, id, &err), 0);
	}
	wk_journal_close(j);
	assert_true(journal_lines() > 3000);

	j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_non_null(find_interrupted(j, "s/r/open#1"));
	assert_false(wk_journal_known(j, "s/r/n0#1"));
	assert_false(wk_journal_known(j, "s/r/n499#1"));
	assert_true(wk_journal_known(j, "s/r/n500#1"));
	assert_true(wk_journal_known(j, "s/r/n1499#1"));
	wk_journal_close(j);
	/* 1000 final sessions of two lines, and the open ones of one line each. */
	size_t open_lines = journal_lines() - 2000;
	assert_true(open_lines >= 1 && open_lines < 10);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = malloc(1 << 20);

	assert_non_null(f);
	*len = fread(data, 1, 1 << 20, f);
	fclose(f);
	return data;
}

/*
 * A compaction that cannot write the whole new file (here a 4 KiB file size
 * limit) keeps the old journal, byte for byte, and loses no session.
 */
static void test_failed_compaction_keeps_journal(void **state)
{
	struct fc_err err;
	struct rlimit old, small;
	const struct wk_journal_entry *e;
	char path[128], id[64];
	size_t before_len, after_len;
	(void)state;

	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	struct wk_journal *j = wk_journal_open(dir, &err);
	assert_non_null(j);
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "s/r/interrupted-%d#1", i);
		assert_int_equal(wk_journal_started(j, id, "s", "r", "interrupted", i,
						    "/root/captures/interrupted.pcap", &err),
				 0);
	}
	for (int i = 0; i < 1200; i++) { /* enough final ones for compaction to drop some */
		snprintf(id, sizeof(id), "s/r/final-%d#1", i);
		assert_int_equal(
			wk_journal_started(j, id, "s", "r", "final", i, "/root/f.pcap", &err), 0);
		assert_int_equal(wk_journal_finished(j, id, &err), 0);
	}
	wk_journal_close(j);
	unsigned char *before = slurp(path, &before_len);
	assert_true(before_len > 4096);

	signal(SIGXFSZ, SIG_IGN); /* as the daemons do: the write fails with EFBIG */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	j = wk_journal_open(dir, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_non_null(j);
	assert_int_equal(wk_journal_interrupted(j, &e), 200);
	wk_journal_close(j);

	unsigned char *after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	snprintf(path, sizeof(path), "%s/journal.new", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/journal", dir);
	free(before);
	free(after);

	/* With room again, compaction goes through and still loses nothing. */
	j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(wk_journal_interrupted(j, &e), 200);
	assert_false(wk_journal_known(j, "s/r/final-0#1"));
	assert_true(wk_journal_known(j, "s/r/final-1199#1"));
	wk_journal_close(j);
	unlink(path);
}

/* A journal that exists but cannot be read fails the open and is left as it is. */
static void test_unreadable_journal_is_refused(void **state)
{
	struct fc_err err;
	char path[128], target[128];
	(void)state;

	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	assert_int_equal(symlink("journal", path), 0); /* opening it loops: ELOOP */
	assert_null(wk_journal_open(dir, &err));
	assert_non_null(strstr(err.msg, "cannot read"));
	assert_non_null(strstr(err.msg, path));
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	assert_int_equal(n, 7); /* still the same symlink: nothing written over it */
	unlink(path);
}

/* An append that fails half-way is cut off, so the next line starts clean. */
static void test_partial_append_is_cut(void **state)
{
	struct fc_err err;
	struct rlimit old, small;
	const struct wk_journal_entry *e;
	char path[128], id[64], long_path[900];
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	struct wk_journal *j = wk_journal_open(dir, &err);
	assert_non_null(j);
	assert_int_equal(wk_journal_started(j, "s/r/a#1", "s", "r", "a", 1, "/root/a.pcap", &err),
			 0);
	assert_int_equal(stat(path, &st), 0);
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = (rlim_t)st.st_size + 100; /* room for part of the next line */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = wk_journal_started(j, "s/r/b#1", "s", "r", "b", 2, long_path, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(rc, -1);
	assert_int_equal(wk_journal_finished(j, "s/r/a#1", &err), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "s/r/c%d#1", i);
		assert_int_equal(wk_journal_started(j, id, "s", "r", "c", 3, "/root/c.pcap", &err),
				 0);
	}
	wk_journal_close(j);
	j = wk_journal_open(dir, &err); /* every line parses */
	assert_non_null(j);
	assert_int_equal(wk_journal_interrupted(j, &e), 3);
	wk_journal_close(j);
	unlink(path);
}

static void test_damaged_journal_is_refused(void **state)
{
	struct fc_err err;
	(void)state;

	append_raw("final s/r/unknown#9\n");
	assert_null(wk_journal_open(dir, &err));
	assert_non_null(strstr(err.msg, "journal:"));
	assert_non_null(strstr(err.msg, "not a journal line"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_sees_interrupted),
		cmocka_unit_test(test_captured_round_trip),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_failed_compaction_keeps_journal),
		cmocka_unit_test(test_unreadable_journal_is_refused),
		cmocka_unit_test(test_partial_append_is_cut),
		cmocka_unit_test(test_damaged_journal_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
