/*
 * The worker's journal as a crash or a full disk may leave it (wk_journal.c),
 * read at start-up. Invariants: a journal opens or is refused with a
 * message; the sessions it reports interrupted are known to it, each named;
 * and a journal that opened takes a new session and reads back the same
 * after a reopen (the rewrite at start-up keeps what it kept).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "wk_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[64], path[96];
	struct fc_err err;
	const struct wk_journal_entry *e;

	snprintf(dir, sizeof(dir), "/tmp/fleetcap-fuzz-journal-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/journal", dir);
	mkdir(dir, 0700);
	unlink(path);
	fuzz_write(path, data, size);
	struct wk_journal *j = wk_journal_open(dir, &err);
	if (!j) {
		FUZZ_REQUIRE(err.msg[0], "refused without a message");
		return 0;
	}
	size_t n = wk_journal_interrupted(j, &e);
	for (size_t i = 0; i < n; i++) {
		FUZZ_REQUIRE(e[i].session_id && e[i].session_id[0], "an unnamed session");
		FUZZ_REQUIRE(wk_journal_known(j, e[i].session_id),
			     "an interrupted session unknown");
	}
	FUZZ_REQUIRE(
		wk_journal_started(j, "sub/r/fuzz#1", "sub", "r", "fuzz", 1, "/x.pcap", &err) == 0,
		"a new session: %s", err.msg);
	wk_journal_close(j);
	j = wk_journal_open(dir, &err);
	FUZZ_REQUIRE(j, "a journal that opened does not reopen: %s", err.msg);
	FUZZ_REQUIRE(wk_journal_known(j, "sub/r/fuzz#1"), "the new session is lost after a reopen");
	wk_journal_close(j);
	unlink(path);
	return 0;
}
