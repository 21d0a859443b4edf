/*
 * The worker's journal: what a restart learns from it (interrupted sessions,
 * sessions already run), a line cut by a crash, and a damaged file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		cmocka_unit_test(test_damaged_journal_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
