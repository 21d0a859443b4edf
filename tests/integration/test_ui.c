/*
 * The web page, end to end: fleetcap-api (serving api/web) with the real
 * scheduler and a real fleetcap-worker capturing on lo, driven in headless
 * Chromium by tests/browser/ui.cjs (playwright-core). The script signs in,
 * sees a field error next to its field, creates a capture from the form and
 * watches it go Running then Stopped with packets, uploads one to Azurite
 * and follows its blob link (the blob checked here to be the file), stops
 * another with its button, and saves a screenshot, checked here to be a PNG. Needs root (the
 * worker captures on lo), FLEETCAP_PLAYWRIGHT and chromium.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_azurite.h"
#include "it_env.h"
#include "it_fleet.h"
#include "it_metrics.h"
#include "it_proc.h"
#include "it_testhost.h"

#define TOKEN "token-ui-0123456789abcdef"

static struct it_fleet *fleet;
static pid_t scheduler, worker, api;
static char sched_log[256], worker_log[256], api_log[256], root[128], tokens[160];
static char rootx[160], statex[160], tokensx[200];

static int setup(void **state)
{
	char prefix[64];
	(void)state;

	if (geteuid() != 0) {
		fprintf(stderr, "test_ui: the worker captures on lo: root is needed\n");
		return -1;
	}
	it_unique(prefix, sizeof(prefix), "it-ui-");
	strcat(prefix, ".");
	const char *brokers = it_require_env("FLEETCAP_BROKERS");
	it_require_env("FLEETCAP_PLAYWRIGHT");
	it_require_env("FLEETCAP_AZURITE");
	fleet = it_fleet_start(brokers, prefix, 3);
	snprintf(root, sizeof(root), "/tmp/%sroot", prefix);
	it_sh("mkdir -p %s/captures %s/state", root, root);
	snprintf(tokens, sizeof(tokens), "%s/tokens", root);
	it_sh("echo '%s sub-ui' > %s && chmod 600 %s", TOKEN, tokens, tokens);

	static const char *sched_settings[] = {"lease.grace.s=30", "tick.ms=100", NULL};
	scheduler = it_sched_start(fleet, "one", sched_settings, sched_log, sizeof(sched_log));
	snprintf(rootx, sizeof(rootx), "capture.root=%s/captures", root);
	snprintf(statex, sizeof(statex), "state.dir=%s/state", root);
	const char *worker_settings[] = {"host.id=real-ui",
					 "subscription=sub-ui",
					 "region=r1",
					 "interfaces=lo",
					 rootx,
					 statex,
					 "progress.s=1",
					 "heartbeat.s=2",
					 "blob.key." IT_AZURITE_ACCOUNT "=" IT_AZURITE_KEY,
					 NULL};
	worker = it_daemon_start(fleet, NULL, FLEETCAP_WORKER_BIN, "worker", worker_settings,
				 worker_log, sizeof(worker_log));
	snprintf(tokensx, sizeof(tokensx), "auth.tokens=%s", tokens);
	/* The page over https, with a certificate of a test CA; Chromium trusts
	 * exactly that key (its pin, FLEETCAP_UI_SPKI, read by ui.cjs). */
	char cmd[512], pin[128] = "", certx[200], keyx[200];
	snprintf(cmd, sizeof(cmd), "%s %s api", FLEETCAP_TEST_CERT, root);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(pin, sizeof(pin), p) || pclose(p) != 0)
		fail_msg("%s failed", cmd);
	pin[strcspn(pin, "\n")] = '\0';
	setenv("FLEETCAP_UI_SPKI", pin, 1);
	snprintf(certx, sizeof(certx), "tls.cert=%s/api.pem", root);
	snprintf(keyx, sizeof(keyx), "tls.key=%s/api.key", root);
	const char *api_settings[] = {
		tokensx, "listen.port=0", "web.root=" FLEETCAP_WEB_ROOT, certx, keyx, NULL};
	api = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api", api_settings, api_log,
			      sizeof(api_log));
	if (it_sched_wait_log(sched_log, "ledger replayed", 120) != 0 ||
	    it_sched_wait_log(worker_log, "capturing under", 60) != 0 ||
	    it_sched_wait_log(api_log, "listening on", 120) != 0)
		fail_msg("the daemons did not start; see %s, %s and %s", sched_log, worker_log,
			 api_log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	it_sched_stop(api, SIGTERM);
	it_sched_stop(worker, SIGTERM);
	it_sched_stop(scheduler, SIGTERM);
	it_fleet_stop(fleet);
	it_sh("rm -rf %s", root);
	return 0;
}

static void test_page(void **state)
{
	char base[128], port[16], blob[256], hex[65], path[300], local[65], container[64];
	uint64_t size;
	struct it_proc p;
	unsigned char magic[8] = {0};
	(void)state;

	assert_int_equal(it_log_url(api_log, "listening on ", base, sizeof(base)), 0);
	assert_int_equal(strncmp(base, "https://", 8), 0);
	snprintf(port, sizeof(port), "%s", strrchr(base, ':') + 1);
	unlink(FLEETCAP_UI_SCREENSHOT);
	snprintf(container, sizeof(container), "ui-%ld", (long)getpid());
	snprintf(blob, sizeof(blob), "%s/%s/ui3.pcap", it_require_env("FLEETCAP_AZURITE"),
		 container);
	char *argv[] = {"/usr/bin/node",
			FLEETCAP_UI_SCRIPT,
			base,
			TOKEN,
			"sub-ui",
			"r1",
			"real-ui",
			port,
			FLEETCAP_UI_SCREENSHOT,
			blob,
			NULL};
	assert_int_equal(it_proc_start(&p, argv), 0);
	if (it_proc_wait(&p) != 0)
		fail_msg("the browser test failed:\n%s%s\n(see %s, %s, %s)", p.out, p.err, api_log,
			 worker_log, sched_log);
	assert_non_null(strstr(p.out, "ok"));
	it_proc_free(&p);

	/* The blob the page links to is the file the worker wrote. */
	assert_int_equal(it_azurite_blob_sha256(it_require_env("FLEETCAP_AZURITE"), container,
						"ui3.pcap", hex, &size),
			 200);
	snprintf(path, sizeof(path), "%s/captures/ui/ui3.pcap", root);
	assert_int_equal(it_file_sha256(path, local), 0);
	assert_string_equal(hex, local);

	FILE *f = fopen(FLEETCAP_UI_SCREENSHOT, "rb");
	struct stat st;
	assert_non_null(f);
	assert_int_equal(fread(magic, 1, sizeof(magic), f), sizeof(magic));
	fclose(f);
	assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(stat(FLEETCAP_UI_SCREENSHOT, &st), 0);
	assert_true(st.st_size > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
