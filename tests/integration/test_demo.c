/*
 * `fleetcap demo` (docs/ARCHITECTURE.md §7), run as a user would: one process, no
 * external service. Checks what it promises: both captures end
 * Stopped/TimeExceeded, each file is where the status says with its size
 * and sha256, holds exactly the packets its filter selects (read with our
 * own pcap parser and with tcpdump), and none of the traffic no filter
 * selects. Needs root (or CAP_NET_RAW) to capture on lo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "it_azurite.h"
#include "it_packets.h"
#include "it_proc.h"

static char dir[] = "/tmp/fleetcap-test-demo-XXXXXX";

static int count_tcpdump_lines(const char *path)
{
	char cmd[1200], line[512];
	int n = 0;

	snprintf(cmd, sizeof(cmd), "tcpdump -nr '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		n++;
	assert_int_equal(pclose(p), 0);
	return n;
}

/* The file is where the status says, as big as it says, with its sha256. */
static const char *check_file(json_t *capture)
{
	json_t *file = json_array_get(json_object_get(capture, "files"), 0);
	const char *path = json_string_value(json_object_get(file, "path"));
	struct stat st;
	char sha[65];

	assert_int_equal(json_array_size(json_object_get(capture, "files")), 1);
	assert_non_null(path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, json_integer_value(json_object_get(file, "size")));
	assert_int_equal(it_file_sha256(path, sha), 0);
	assert_string_equal(sha, json_string_value(json_object_get(file, "sha256")));
	assert_int_equal(count_tcpdump_lines(path),
			 json_integer_value(json_object_get(capture, "packets")));
	return path;
}

static void check_final(json_t *capture, const char *name_prefix)
{
	assert_non_null(capture);
	assert_memory_equal(json_string_value(json_object_get(capture, "name")), name_prefix,
			    strlen(name_prefix));
	assert_string_equal(json_string_value(json_object_get(capture, "status")), "Stopped");
	assert_string_equal(json_string_value(json_object_get(capture, "stopReason")),
			    "TimeExceeded");
	assert_true(json_integer_value(json_object_get(capture, "packets")) > 0);
}

static void test_demo_captures(void **state)
{
	char run_dir[128];
	struct it_proc p;
	json_error_t jerr;
	struct it_pcap pcap;
	(void)state;

	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	char *argv[] = {FLEETCAP_BIN, "demo",  "--json", "--time-limit",
			"3",	      "--dir", run_dir,	 NULL};
	assert_int_equal(it_proc_start(&p, argv), 0);
	if (it_proc_wait(&p) != 0)
		fprintf(stderr, "demo stderr:\n%s\n", p.err);
	assert_int_equal(p.status, 0);
	json_t *out = json_loads(p.out, 0, &jerr);
	assert_non_null(out);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_int_t tcp =
		json_integer_value(json_object_get(json_object_get(out, "traffic"), "tcpPort"));
	json_int_t udp =
		json_integer_value(json_object_get(json_object_get(out, "traffic"), "udpPort"));
	json_int_t other = json_integer_value(
		json_object_get(json_object_get(out, "traffic"), "udpOtherPort"));
	json_t *manual = json_array_get(json_object_get(out, "captures"), 0);
	json_t *alert = json_array_get(json_object_get(out, "captures"), 1);

	/* The manual capture: TCP to and from the server's port, both ways. */
	check_final(manual, "web");
	assert_int_equal(it_pcap_read(check_file(manual), &pcap), 0);
	assert_int_equal(pcap.count, json_integer_value(json_object_get(manual, "packets")));
	size_t to_server = 0, from_server = 0;
	for (size_t i = 0; i < pcap.count; i++) {
		const struct it_pkt *k = &pcap.records[i].pkt;
		assert_int_equal(k->proto, IT_PROTO_TCP);
		assert_true(k->dport == tcp || k->sport == tcp);
		to_server += k->dport == tcp;
		from_server += k->sport == tcp;
		assert_true(pcap.records[i].caplen <= 96); /* --bytes-per-packet 96 */
	}
	assert_true(to_server > 0 && from_server > 0);
	it_pcap_free(&pcap);

	/* The alert's capture: its rule's UDP port only, not the other one. */
	check_final(alert, "alert-udp-loss");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(alert, "origin"), "kind")),
		"alert");
	assert_int_equal(it_pcap_read(check_file(alert), &pcap), 0);
	for (size_t i = 0; i < pcap.count; i++) {
		assert_int_equal(pcap.records[i].pkt.proto, IT_PROTO_UDP);
		assert_int_equal(pcap.records[i].pkt.dport, udp);
		assert_int_not_equal(pcap.records[i].pkt.dport, other);
	}
	it_pcap_free(&pcap);
	json_decref(out);
	it_proc_free(&p);
}

/* A directory from an earlier run is refused: its journal would take the
 * new sessions for ones already run. */
static void test_demo_refuses_used_dir(void **state)
{
	char run_dir[128];
	struct it_proc p;
	(void)state;

	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	char *argv[] = {FLEETCAP_BIN, "demo", "--dir", run_dir, NULL};
	assert_int_equal(it_proc_start(&p, argv), 0);
	assert_int_equal(it_proc_wait(&p), 2);
	assert_non_null(strstr(p.err, "--dir"));
	assert_non_null(strstr(p.err, "expected a new or empty directory"));
	it_proc_free(&p);

	char *bad[] = {FLEETCAP_BIN, "demo", "--time-limit", "61", NULL};
	assert_int_equal(it_proc_start(&p, bad), 0);
	assert_int_equal(it_proc_wait(&p), 2);
	assert_non_null(strstr(p.err, "--time-limit \"61\": expected seconds from 1 to 60"));
	it_proc_free(&p);
}

static int setup(void **state)
{
	(void)state;
	/* The demo's Kafka is in-process and plain: the CLI must not bring the
	 * secured services' credentials (FLEETCAP_CONFIG) to it. */
	unsetenv("FLEETCAP_CONFIG");
	if (geteuid() != 0) {
		fprintf(stderr, "test_demo: capturing on lo needs root\n");
		return -1;
	}
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_captures),
		cmocka_unit_test(test_demo_refuses_used_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
