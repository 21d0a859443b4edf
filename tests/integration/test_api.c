/*
 * fleetcap-api on the real broker, with the real scheduler and the
 * harness's stand-in workers: every route, status code and error body the
 * API documents; bearer tokens (401 without or with an unknown one, 403 for
 * another subscription, never logged); 40 malformed bodies, each answered
 * 400 naming its field; a SAS token that never comes back; and /metrics
 * moving as requests and captures go.
 */
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <curl/curl.h>
#include <jansson.h>

#include "it_env.h"
#include "fc_seal.h"
#include "it_fleet.h"
#include "it_metrics.h"
#include "it_testhost.h"

#define TOKEN_A	   "token-a-0123456789abcdef"	 /* sub-a */
#define TOKEN_B	   "token-b-fedcba9876543210"	 /* sub-b */
#define TOKEN_ALL  "token-all-00112233445566778" /* every subscription */
#define SAS_SECRET "sig=TopSecretSignature123"

static struct it_fleet *fleet;
static pid_t scheduler, api;
static char sched_log[256], api_log[256], base[128], tokens_path[128];

struct http {
	long status;
	char *body;
	size_t len;
	char location[512], allow[128], www_auth[128], retry_after[32];
	json_t *json;
};

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
	struct http *h = opaque;
	char *grown = realloc(h->body, h->len + size * n + 1);

	assert_non_null(grown);
	memcpy(grown + h->len, p, size * n);
	h->body = grown;
	h->len += size * n;
	h->body[h->len] = '\0';
	return size * n;
}

static void header_value(const char *line, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);
	if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
		const char *v = line + n + 2;
		size_t vlen = strcspn(v, "\r\n");
		if (vlen >= len)
			vlen = len - 1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *opaque)
{
	struct http *h = opaque;
	char line[1024];

	snprintf(line, sizeof(line), "%.*s", (int)(size * n), p);
	header_value(line, "Location", h->location, sizeof(h->location));
	header_value(line, "Allow", h->allow, sizeof(h->allow));
	header_value(line, "WWW-Authenticate", h->www_auth, sizeof(h->www_auth));
	header_value(line, "Retry-After", h->retry_after, sizeof(h->retry_after));
	return size * n;
}

/* One request; path is below base; token and body may be NULL. */
static void call(const char *method, const char *path, const char *token, const char *body,
		 struct http *h)
{
	CURL *c = curl_easy_init();
	struct curl_slist *headers = NULL;
	char url[1024], auth[256];

	memset(h, 0, sizeof(*h));
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	h->json = h->body ? json_loads(h->body, 0, NULL) : NULL;
}

static void done(struct http *h)
{
	json_decref(h->json);
	free(h->body);
}

static const char *str(json_t *o, const char *path)
{
	/* "a.b.c" */
	char buf[128], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_string_value(o);
}

/* The error body of every failure: {"error": {"code", "message", "target"}}. */
static void expect_error(struct http *h, long status, const char *code, const char *target)
{
	if (h->status != status)
		fail_msg("expected %ld, got %ld: %s", status, h->status, h->body);
	assert_non_null(h->json);
	assert_string_equal(str(h->json, "error.code"), code);
	assert_non_null(str(h->json, "error.message"));
	assert_true(strlen(str(h->json, "error.message")) > 0);
	if (target) {
		if (!str(h->json, "error.target") || strcmp(str(h->json, "error.target"), target))
			fail_msg("expected target %s: %s", target, h->body);
	}
}

#define CAPS	    "/subscriptions/sub-a/regions/r1/packetCaptures"
#define API_VERSION "?api-version=2024-05-01"
#define GOOD                                                                                       \
	"{\"properties\":{\"target\":\"host-1\",\"timeLimitInSeconds\":60,"                        \
	"\"bytesToCapturePerPacket\":96,\"storageLocation\":{\"filePath\":\"caps/x.pcap\"},"       \
	"\"filters\":[{\"protocol\":\"TCP\",\"remoteIPAddress\":\"198.18.0.2\","                   \
	"\"remotePort\":\"443\"}]}}"

/* The stand-in hosts register (again: a heartbeat is stale after 30 s, and
 * the tests that create late run past that on a busy machine). */
static void heartbeat_hosts(void)
{
	it_fleet_heartbeat(fleet, "host-1", "sub-a", "r1", 0);
	it_fleet_heartbeat(fleet, "silent-1", "sub-a", "r1", 0);
	it_fleet_heartbeat(fleet, "host-q", "sub-q", "r1", 0);
	it_fleet_heartbeat_in_group(fleet, "host-g", "sub-a", "r1", "web", "7", 0);
	it_fleet_heartbeat_in_group(fleet, "host-q7", "sub-q", "r1", "web", "8", 0);
	it_fleet_flush(fleet);
}

static int setup(void **state)
{
	char prefix[64], tokensx[160];
	(void)state;

	it_unique(prefix, sizeof(prefix), "it-api-");
	strcat(prefix, ".");
	const char *brokers = it_require_env("FLEETCAP_BROKERS");
	fleet = it_fleet_start(brokers, prefix, 3);
	snprintf(tokens_path, sizeof(tokens_path), "/tmp/%stokens", prefix);
	FILE *f = fopen(tokens_path, "w");
	assert_non_null(f);
	fprintf(f, "# test tokens\n%s sub-a\n%s sub-b,sub-q\n%s *\n", TOKEN_A, TOKEN_B, TOKEN_ALL);
	fclose(f);
	chmod(tokens_path, 0600);
	static const char *sched_settings[] = {"quota.sub-q=1", "lease.grace.s=60", NULL};
	scheduler = it_sched_start(fleet, "one", sched_settings, sched_log, sizeof(sched_log));
	snprintf(tokensx, sizeof(tokensx), "auth.tokens=%s", tokens_path);
	/* The tests call fast: test_rate_and_audit has its own API for the limit. */
	const char *api_settings[] = {tokensx,
				      "listen.port=0",
				      "wait.ms=5000",
				      "rate.per_token=100000",
				      "rate.burst=100000",
				      NULL};
	api = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api", api_settings, api_log,
			      sizeof(api_log));
	if (it_sched_wait_log(sched_log, "ledger replayed", 120) != 0 ||
	    it_sched_wait_log(api_log, "listening on", 120) != 0)
		fail_msg("the daemons did not start; see %s and %s", sched_log, api_log);
	FILE *log = fopen(api_log, "r");
	char line[512];
	while (log && fgets(line, sizeof(line), log))
		if (strstr(line, "listening on http://"))
			sscanf(strstr(line, "http://"), "%127[^ ]", base);
	if (log)
		fclose(log);
	assert_true(strlen(base) > 10);
	heartbeat_hosts();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (api && it_sched_stop(api, SIGTERM) != 0)
		fprintf(stderr, "fleetcap-api did not exit 0 on SIGTERM; see %s\n", api_log);
	it_sched_stop(scheduler, SIGTERM);
	it_fleet_stop(fleet);
	unlink(tokens_path);
	return 0;
}

static void test_auth(void **state)
{
	struct http h;
	(void)state;

	call("GET", CAPS, NULL, NULL, &h);
	expect_error(&h, 401, "Unauthorized", NULL);
	assert_non_null(strstr(h.www_auth, "Bearer"));
	done(&h);
	call("GET", CAPS, "token-nobody-has-0000000000", NULL, &h);
	expect_error(&h, 401, "Unauthorized", NULL);
	done(&h);
	call("GET", CAPS, TOKEN_B, NULL, &h); /* B may use sub-b only */
	expect_error(&h, 403, "Forbidden", "subscription");
	done(&h);
	call("GET", CAPS, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_true(json_is_array(json_object_get(h.json, "value")));
	done(&h);
	call("GET", CAPS, TOKEN_ALL, NULL, &h);
	assert_int_equal(h.status, 200);
	done(&h);
	/* Tokens never reach the log. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "grep -c -e token-a- -e token-nobody %s", api_log);
	FILE *p = popen(cmd, "r");
	char out[32] = "";
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	assert_int_equal(atoi(out), 0);
}

static void test_create_read_list(void **state)
{
	struct http h;
	(void)state;

	call("PUT", CAPS "/web1", TOKEN_A, GOOD, &h);
	if (h.status != 201)
		fail_msg("expected 201: %s", h.body);
	assert_string_equal(str(h.json, "id"), CAPS "/web1");
	assert_string_equal(str(h.json, "name"), "web1");
	assert_string_equal(str(h.json, "properties.target"), "host-1");
	assert_string_equal(str(h.json, "properties.packetCaptureStatus"), "Running");
	assert_string_equal(str(h.json, "properties.provisioningState"), "Succeeded");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(h.json, "properties"),
							    "timeLimitInSeconds")),
			 60);
	json_t *f0 = json_array_get(
		json_object_get(json_object_get(h.json, "properties"), "filters"), 0);
	assert_string_equal(json_string_value(json_object_get(f0, "remotePort")), "443");
	done(&h);

	/* The same again: 200, and no second START job. The harness reads jobs
	 * on its own thread: wait until it has the first. */
	for (int i = 0;
	     i < 300 && !it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "web1"); i++)
		usleep(100 * 1000);
	assert_int_equal(it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "web1"), 1);
	call("PUT", CAPS "/web1", TOKEN_A, GOOD, &h);
	assert_int_equal(h.status, 200);
	assert_string_equal(str(h.json, "name"), "web1");
	done(&h);
	sleep(1);
	assert_int_equal(it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "web1"), 1);

	/* Another spec under the name: 409. */
	call("PUT", CAPS "/web1", TOKEN_A,
	     "{\"properties\":{\"target\":\"host-1\",\"timeLimitInSeconds\":30,"
	     "\"storageLocation\":{\"filePath\":\"caps/y.pcap\"}}}",
	     &h);
	expect_error(&h, 409, "Conflict", "name");
	done(&h);

	call("GET", CAPS "/web1", TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_string_equal(str(h.json, "properties.storageLocation.filePath"), "caps/x.pcap");
	done(&h);
	call("POST", CAPS "/web1/queryStatus", TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_string_equal(str(h.json, "packetCaptureStatus"), "Running");
	assert_true(json_is_array(json_object_get(h.json, "packetCaptureError")));
	assert_true(json_is_integer(json_object_get(h.json, "packetsCaptured")));
	done(&h);
	call("GET", CAPS, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	int found = 0;
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(h.json, "value"), i, v) found |=
		strcmp(json_string_value(json_object_get(v, "name")), "web1") == 0;
	assert_true(found);
	done(&h);

	call("GET", CAPS "/nothing-here", TOKEN_A, NULL, &h);
	expect_error(&h, 404, "NotFound", "name");
	done(&h);
	call("POST", CAPS "/nothing-here/queryStatus", TOKEN_A, NULL, &h);
	expect_error(&h, 404, "NotFound", "name");
	done(&h);
	call("POST", CAPS "/nothing-here/stop", TOKEN_A, NULL, &h);
	expect_error(&h, 404, "NotFound", "name");
	done(&h);
}

/* fleetcap_api_view_entries from /metrics. */
static double view_entries(void)
{
	struct http h;

	call("GET", "/metrics", NULL, NULL, &h);
	assert_int_equal(h.status, 200);
	double n = it_metric(h.body, "fleetcap_api_view_entries");
	done(&h);
	return n;
}

static void test_stop_and_delete(void **state)
{
	struct http h;
	(void)state;

	double entries = view_entries();
	assert_true(entries >= 0);
	call("PUT", CAPS "/web2", TOKEN_A, GOOD, &h);
	assert_int_equal(h.status, 201);
	done(&h);
	call("POST", CAPS "/web2/stop", TOKEN_A, NULL, &h);
	if (h.status != 200)
		fail_msg("stop: %ld %s", h.status, h.body);
	assert_string_equal(str(h.json, "packetCaptureStatus"), "Stopped");
	assert_string_equal(str(h.json, "stopReason"), "StoppedByUser");
	done(&h);
	call("POST", CAPS "/web2/stop", TOKEN_A, NULL, &h); /* already stopped: as it is */
	assert_int_equal(h.status, 200);
	done(&h);
	call("DELETE", CAPS "/web2", TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	done(&h);
	call("GET", CAPS "/web2", TOKEN_A, NULL, &h);
	expect_error(&h, 404, "NotFound", "name");
	done(&h);
	call("DELETE", CAPS "/web2", TOKEN_A, NULL, &h); /* nothing left: done */
	assert_int_equal(h.status, 204);
	done(&h);
	/* The deleted capture's status is freed, not kept in memory. */
	assert_true(view_entries() == entries);
}

/* continuousCapture: a ring of the given settings, or of the defaults. */
static void test_continuous_capture(void **state)
{
	static const struct {
		const char *name, *settings;
		json_int_t files;
	} cases[] = {{"ring1", "{}", 10}, {"ring2", "{\"fileCount\":3}", 3}};
	char body[512], path[128];
	struct http h;
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		snprintf(body, sizeof(body),
			 "{\"properties\":{\"target\":\"host-1\",\"storageLocation\":{"
			 "\"filePath\":\"%s.pcap\"},\"continuousCapture\":true,"
			 "\"captureSettings\":%s}}",
			 cases[i].name, cases[i].settings);
		snprintf(path, sizeof(path), CAPS "/%s", cases[i].name);
		call("PUT", path, TOKEN_A, body, &h);
		if (h.status != 201)
			fail_msg("%s: %ld %s", cases[i].name, h.status, h.body);
		json_t *p = json_object_get(h.json, "properties");
		assert_true(json_is_true(json_object_get(p, "continuousCapture")));
		assert_int_equal(json_integer_value(json_object_get(
					 json_object_get(p, "captureSettings"), "fileCount")),
				 cases[i].files);
		done(&h);
	}
}

/* No answer within wait.ms (the worker never reports): 202 and a Location. */
static void test_accepted(void **state)
{
	struct http h;
	(void)state;

	call("PUT", CAPS "/slow", TOKEN_A,
	     "{\"properties\":{\"target\":\"silent-1\",\"storageLocation\":{\"filePath\":\"s."
	     "pcap\"}}}",
	     &h);
	assert_int_equal(h.status, 201); /* admitted: Running */
	done(&h);
	call("POST", CAPS "/slow/stop", TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 202);
	assert_string_equal(h.location, CAPS "/slow");
	assert_string_equal(str(h.json, "status"), "Accepted");
	done(&h);
	call("GET", CAPS "/slow", TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	done(&h);
}

static void test_rejections(void **state)
{
	struct http h;
	(void)state;

	call("PUT", CAPS "/nohost", TOKEN_A,
	     "{\"properties\":{\"target\":\"no-such-host\",\"storageLocation\":{\"filePath\":"
	     "\"n.pcap\"}}}",
	     &h);
	expect_error(&h, 400, "TargetNotFound", "properties.target");
	done(&h);
	/* An upload endpoint the scheduler does not allow: refused at admission. */
	call("PUT", CAPS "/elsewhere", TOKEN_A,
	     "{\"properties\":{\"target\":\"host-1\",\"storageLocation\":{\"filePath\":"
	     "\"e.pcap\",\"storagePath\":\"https://acct.blob.attacker.example/caps/e.pcap\"}}}",
	     &h);
	expect_error(&h, 400, "InvalidRequest", "properties.storageLocation.storagePath");
	assert_non_null(strstr(h.body, "not an allowed upload endpoint"));
	done(&h);
	/* sub-q's quota is 1. */
	const char *q = "{\"properties\":{\"target\":\"host-q\",\"storageLocation\":{\"filePath\":"
			"\"q.pcap\"}}}";
	call("PUT", "/subscriptions/sub-q/regions/r1/packetCaptures/q1", TOKEN_B, q, &h);
	assert_int_equal(h.status, 201);
	done(&h);
	call("PUT", "/subscriptions/sub-q/regions/r1/packetCaptures/q2", TOKEN_B, q, &h);
	expect_error(&h, 429, "QuotaExceeded", NULL);
	done(&h);
	/* A refused create leaves nothing behind: neither it nor nohost is
	 * listed or found (the scheduler follows the answer with a tombstone). */
	sleep(1);
	call("GET", "/subscriptions/sub-q/regions/r1/packetCaptures/q2", TOKEN_B, NULL, &h);
	expect_error(&h, 404, "NotFound", "name");
	done(&h);
	call("GET", CAPS "/nohost", TOKEN_A, NULL, &h);
	expect_error(&h, 404, "NotFound", "name");
	done(&h);
	call("GET", "/subscriptions/sub-q/regions/r1/packetCaptures", TOKEN_B, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_int_equal(json_array_size(json_object_get(h.json, "value")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(h.json, "value"), 0), "name")),
			    "q1");
	done(&h);
}

/* The region's hosts, as fleetcap workers lists them; tenancy as for captures. */
static void test_workers_list(void **state)
{
	struct http h;
	(void)state;

	size_t hosts = 0;
	for (int i = 0; i < 300 && hosts < 3; i++) {
		call("GET", "/subscriptions/sub-a/regions/r1/workers" API_VERSION, TOKEN_A, NULL,
		     &h);
		assert_int_equal(h.status, 200);
		hosts = json_array_size(json_object_get(h.json, "value"));
		if (hosts < 3) {
			done(&h);
			usleep(100 * 1000);
		}
	}
	assert_int_equal(hosts, 3); /* host-1, host-g, silent-1: sorted by host */
	json_t *g = json_array_get(json_object_get(h.json, "value"), 1);
	assert_string_equal(str(g, "host"), "host-g");
	assert_string_equal(str(g, "group"), "web");
	assert_string_equal(str(g, "instance"), "7");
	assert_false(json_is_true(json_object_get(g, "stale")));
	done(&h);
	call("GET", "/subscriptions/sub-a/regions/r1/workers", TOKEN_B, NULL, &h);
	expect_error(&h, 403, "Forbidden", "subscription");
	done(&h);
	call("POST", "/subscriptions/sub-a/regions/r1/workers", TOKEN_A, "{}", &h);
	expect_error(&h, 405, "MethodNotAllowed", NULL);
	assert_string_equal(h.allow, "GET");
	done(&h);
}

/*
 * The public REST spec's own example of a create (NetworkWatcherPacketCaptureCreate.json,
 * api-version 2024-05-01), with only the target (a host id) and the storage
 * (this deployment's blob URL and a file path on the host) adapted, and then
 * get, query status, stop, list and delete with api-version as cloud clients
 * send it: the codes and the cloud's response shapes.
 */
#define STORAGE_ID                                                                                 \
	"/subscriptions/subid/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/"     \
	"pcstore"

static void expect_example_properties(json_t *p)
{
	assert_non_null(p);
	assert_string_equal(str(p, "target"), "host-1");
	assert_string_equal(str(p, "targetType"), "AzureVM");
	assert_int_equal(json_integer_value(json_object_get(p, "bytesToCapturePerPacket")), 10000);
	assert_int_equal(json_integer_value(json_object_get(p, "totalBytesPerSession")), 100000);
	assert_int_equal(json_integer_value(json_object_get(p, "timeLimitInSeconds")), 100);
	assert_string_equal(str(p, "storageLocation.storageId"), STORAGE_ID);
	assert_string_equal(str(p, "storageLocation.storagePath"),
			    "https://pcstore.blob.core.windows.net/capture/pc1.cap");
	assert_string_equal(str(p, "storageLocation.filePath"), "capture/pc1.cap");
	json_t *f = json_array_get(json_object_get(p, "filters"), 0);
	assert_string_equal(str(f, "protocol"), "TCP");
	assert_string_equal(str(f, "localIPAddress"), "10.0.0.4");
	assert_string_equal(str(f, "localPort"), "80");
	assert_non_null(str(p, "provisioningState"));
}

static void test_cloud_example_bodies(void **state)
{
	static const char example[] =
		"{\"properties\": {\"target\": \"host-1\", \"bytesToCapturePerPacket\": 10000, "
		"\"totalBytesPerSession\": 100000, \"timeLimitInSeconds\": 100, "
		"\"storageLocation\": {\"storageId\": \"" STORAGE_ID "\", \"storagePath\": "
		"\"https://pcstore.blob.core.windows.net/capture/pc1.cap\", \"filePath\": "
		"\"capture/pc1.cap\"}, \"filters\": [{\"protocol\": \"TCP\", \"localIPAddress\": "
		"\"10.0.0.4\", \"localPort\": \"80\"}]}}";
	struct http h;
	(void)state;

	call("PUT", CAPS "/pc1" API_VERSION, TOKEN_A, example, &h);
	if (h.status != 201)
		fail_msg("the spec's example: %ld %s", h.status, h.body);
	assert_string_equal(str(h.json, "name"), "pc1");
	assert_non_null(strstr(str(h.json, "id"), "/packetCaptures/pc1"));
	expect_example_properties(json_object_get(h.json, "properties"));
	done(&h);
	call("GET", CAPS "/pc1" API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	expect_example_properties(json_object_get(h.json, "properties"));
	done(&h);
	call("POST", CAPS "/pc1/queryStatus" API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_string_equal(str(h.json, "packetCaptureStatus"), "Running");
	assert_true(json_is_array(json_object_get(h.json, "packetCaptureError")));
	assert_non_null(json_object_get(h.json, "stopReason"));
	assert_non_null(json_object_get(h.json, "captureStartTime")); /* null until started */
	done(&h);
	call("POST", CAPS "/pc1/stop" API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_string_equal(str(h.json, "stopReason"), "StoppedByUser");
	done(&h);
	call("GET", CAPS API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	int listed = 0;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(h.json, "value"), i, item) listed +=
		strcmp(json_string_value(json_object_get(item, "name")), "pc1") == 0;
	assert_int_equal(listed, 1);
	done(&h);
	call("DELETE", CAPS "/pc1" API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	done(&h);

	/* The continuous-capture body with localPath (the file on the host). */
	call("PUT", CAPS "/pc2" API_VERSION, TOKEN_A,
	     "{\"properties\": {\"target\": \"host-1\", \"targetType\": \"AzureVM\", "
	     "\"scope\": {\"include\": [], \"exclude\": []}, \"storageLocation\": "
	     "{\"localPath\": \"capture/pc2.cap\"}, \"continuousCapture\": true, "
	     "\"captureSettings\": {\"fileCount\": 2, \"fileSizeInBytes\": 100000, "
	     "\"sessionTimeLimitInSeconds\": 60}}}",
	     &h);
	if (h.status != 201)
		fail_msg("continuous capture with localPath: %ld %s", h.status, h.body);
	assert_string_equal(str(h.json, "properties.storageLocation.localPath"), "capture/pc2.cap");
	done(&h);
	call("DELETE", CAPS "/pc2", TOKEN_A, NULL, &h);
	done(&h);

	/* A scale set: targetType AzureVMSS, target the group, scope its instances. */
	call("PUT", CAPS "/pc3" API_VERSION, TOKEN_A,
	     "{\"properties\": {\"target\": \"web\", \"targetType\": \"AzureVMSS\", "
	     "\"scope\": {\"include\": [\"7\"], \"exclude\": []}, \"storageLocation\": "
	     "{\"filePath\": \"capture/pc3.cap\"}}}",
	     &h);
	if (h.status != 201)
		fail_msg("AzureVMSS create: %ld %s", h.status, h.body);
	assert_string_equal(str(h.json, "properties.targetType"), "AzureVMSS");
	assert_string_equal(str(h.json, "properties.target"), "web");
	json_t *inc = json_object_get(
		json_object_get(json_object_get(h.json, "properties"), "scope"), "include");
	assert_int_equal(json_array_size(inc), 1);
	assert_string_equal(json_string_value(json_array_get(inc, 0)), "7");
	done(&h);
	call("POST", CAPS "/pc3/queryStatus" API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	json_t *inst = json_array_get(json_object_get(h.json, "instances"), 0);
	assert_non_null(inst);
	assert_string_equal(str(inst, "instance"), "7");
	assert_string_equal(str(inst, "target"), "host-g");
	done(&h);
	call("DELETE", CAPS "/pc3" API_VERSION, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	done(&h);
	/* An instance of the group in another tenant is as unknown as none. */
	call("PUT", CAPS "/pc4" API_VERSION, TOKEN_A,
	     "{\"properties\": {\"target\": \"web\", \"targetType\": \"AzureVMSS\", "
	     "\"scope\": {\"include\": [\"7\", \"8\"], \"exclude\": []}, "
	     "\"storageLocation\": {\"filePath\": \"capture/pc4.cap\"}}}",
	     &h);
	expect_error(&h, 400, "TargetNotFound", "properties.scope.include[1]");
	done(&h);
	call("GET", CAPS "?api-version=latest", TOKEN_A, NULL, &h);
	expect_error(&h, 400, "InvalidRequest", "api-version");
	done(&h);
}

static void test_routes_and_methods(void **state)
{
	struct http h;
	(void)state;

	call("GET", "/subscriptions/sub-a/regions/r1/somethingElse", TOKEN_A, NULL, &h);
	expect_error(&h, 404, "NotFound", NULL);
	done(&h);
	call("PATCH", CAPS "/web1", TOKEN_A, "{}", &h);
	expect_error(&h, 405, "MethodNotAllowed", NULL);
	assert_string_equal(h.allow, "GET, PUT, DELETE");
	done(&h);
	call("GET", CAPS "/web1/stop", TOKEN_A, NULL, &h);
	expect_error(&h, 405, "MethodNotAllowed", NULL);
	assert_string_equal(h.allow, "POST");
	done(&h);
	call("POST", CAPS, TOKEN_A, "{}", &h);
	expect_error(&h, 405, "MethodNotAllowed", NULL);
	assert_string_equal(h.allow, "GET");
	done(&h);
	char *big = malloc(70 * 1024);
	memset(big, ' ', 70 * 1024 - 1);
	big[70 * 1024 - 1] = '\0';
	call("PUT", CAPS "/big", TOKEN_A, big, &h);
	expect_error(&h, 413, "PayloadTooLarge", NULL);
	done(&h);
	free(big);
	call("PUT", "/subscriptions/sub-a/regions/r%20x/packetCaptures/a", TOKEN_A, GOOD, &h);
	expect_error(&h, 400, "InvalidRequest", "region");
	done(&h);
	call("PUT", CAPS "/-bad-name", TOKEN_A, GOOD, &h);
	expect_error(&h, 400, "InvalidRequest", "name");
	done(&h);
}

/* Malformed bodies: each is a 400 whose error names the field at fault. */
static void test_malformed_bodies(void **state)
{
#define P(x) "{\"properties\":{" x "}}"
#define T    "\"target\":\"host-1\","
#define S    "\"storageLocation\":{\"filePath\":\"m.pcap\"}"
	static const struct {
		const char *body, *target;
	} cases[] = {
		{"", "body"},
		{"not json", "body"},
		{"[]", "body"},
		{"\"text\"", "body"},
		{"{}", "properties"},
		{"{\"properties\":5}", "properties"},
		{"{\"props\":{}}", "body"},
		{P(""), "properties.target"},
		{P("\"target\":5," S), "properties.target"},
		{P("\"target\":\"host/1\"," S), "properties.target"},
		{P(T S ",\"timeLimitInSeconds\":\"60\""), "properties.timeLimitInSeconds"},
		{P(T S ",\"timeLimitInSeconds\":18001"), "properties.timeLimitInSeconds"},
		{P(T S ",\"timeLimitInSeconds\":-1"), "properties.timeLimitInSeconds"},
		{P(T S ",\"timeLimitInSeconds\":1.5"), "properties.timeLimitInSeconds"},
		{P(T S ",\"bytesToCapturePerPacket\":-5"), "properties.bytesToCapturePerPacket"},
		{P(T S ",\"bytesToCapturePerPacket\":4294967296"),
		 "properties.bytesToCapturePerPacket"},
		{P(T S ",\"totalBytesPerSession\":\"x\""), "properties.totalBytesPerSession"},
		{P(T S ",\"queueTimeoutInSeconds\":86401"), "properties.queueTimeoutInSeconds"},
		{P("\"target\":\"host-1\""), "properties.storageLocation.filePath"},
		{P(T "\"storageLocation\":\"x\""), "properties.storageLocation"},
		{P(T "\"storageLocation\":{\"filePath\":5}"),
		 "properties.storageLocation.filePath"},
		{P(T "\"storageLocation\":{\"filePath\":\"../x.pcap\"}"),
		 "properties.storageLocation.filePath"},
		{P(T "\"storageLocation\":{\"filePath\":\"x.txt\"}"),
		 "properties.storageLocation.filePath"},
		{P(T "\"storageLocation\":{\"storagePath\":\"ftp://a/b/c.pcap\"}"),
		 "properties.storageLocation.storagePath"},
		{P(T "\"storageLocation\":{\"filePath\":\"m.pcap\",\"container\":\"c\"}"),
		 "properties.storageLocation"},
		{P(T S ",\"filters\":{}"), "properties.filters"},
		{P(T S ",\"filters\":[5]"), "properties.filters[0]"},
		{P(T S ",\"filters\":[{\"protocol\":\"ICMP\"}]"), "properties.filters[0].protocol"},
		{P(T S ",\"filters\":[{\"remotePort\":\"70000\"}]"),
		 "properties.filters[0].remotePort"},
		{P(T S ",\"filters\":[{\"localIPAddress\":\"1.2.3.999\"}]"),
		 "properties.filters[0].localIPAddress"},
		{P(T S ",\"filters\":[{\"protocol\":\"TCP\"},{\"remoteIPAddress\":\"x\"}]"),
		 "properties.filters[1].remoteIPAddress"},
		{P(T S ",\"filters\":[{\"color\":\"red\"}]"), "properties.filters[0].color"},
		{P(T S ",\"continuousCapture\":\"yes\""), "properties.continuousCapture"},
		{P(T S ",\"captureSettings\":{\"fileCount\":3}"), "properties.captureSettings"},
		{P(T S ",\"continuousCapture\":true,\"captureSettings\":{\"fileCount\":0}"),
		 "properties.captureSettings.fileCount"},
		{P(T S ",\"continuousCapture\":true,\"captureSettings\":{\"fileCount\":10001}"),
		 "properties.captureSettings.fileCount"},
		{P(T S ",\"continuousCapture\":true,\"captureSettings\":{"
		       "\"sessionTimeLimitInSeconds\":604801}"),
		 "properties.captureSettings.sessionTimeLimitInSeconds"},
		{P(T S ",\"continuousCapture\":true,\"captureSettings\":{\"files\":2}"),
		 "properties.captureSettings"},
		{P(T S ",\"priority\":1"), "properties"},
		{"{\"properties\":{\"target\":\"a\",\"target\":\"b\"}}", "body"},
	};
	struct http h;
	(void)state;

	assert_true(sizeof(cases) / sizeof(cases[0]) >= 30);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call("PUT", CAPS "/malformed", TOKEN_A, cases[i].body, &h);
		if (h.status != 400 || !str(h.json, "error.target") ||
		    strcmp(str(h.json, "error.target"), cases[i].target) != 0)
			fail_msg("case %zu %s: expected 400 naming %s, got %ld %s", i,
				 cases[i].body, cases[i].target, h.status, h.body);
		assert_string_equal(str(h.json, "error.code"), "InvalidRequest");
		assert_true(json_array_size(json_object_get(json_object_get(h.json, "error"),
							    "details")) >= 1);
		done(&h);
	}
	/* None of them reached the scheduler. */
	assert_int_equal(it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "malformed"),
			 0);
#undef P
#undef T
#undef S
}

/* A SAS token in storagePath goes to the worker, and never comes back. */
static void test_sas_never_echoed(void **state)
{
	struct http h;
	(void)state;

	heartbeat_hosts();
	call("PUT", CAPS "/sas1", TOKEN_A,
	     "{\"properties\":{\"target\":\"host-1\",\"storageLocation\":{\"storagePath\":"
	     "\"https://acct.blob.core.windows.net/caps/sas1.pcap?sv=2022-11-02&sp=cw&" SAS_SECRET
	     "\"}}}",
	     &h);
	assert_int_equal(h.status, 201);
	assert_null(strstr(h.body, "TopSecret"));
	assert_string_equal(str(h.json, "properties.storageLocation.storagePath"),
			    "https://acct.blob.core.windows.net/caps/sas1.pcap");
	done(&h);
	call("GET", CAPS "/sas1", TOKEN_A, NULL, &h);
	assert_null(strstr(h.body, "TopSecret"));
	done(&h);
	call("GET", CAPS, TOKEN_A, NULL, &h);
	assert_null(strstr(h.body, "TopSecret"));
	done(&h);
	call("POST", CAPS "/sas1/queryStatus", TOKEN_A, NULL, &h);
	assert_null(strstr(h.body, "TopSecret"));
	done(&h);
	/* The job carries it to the worker, sealed for the worker's key. It
	 * was committed with the answer, but the harness's reader may not have
	 * it yet. */
	for (int i = 0;
	     i < 600 && !it_fleet_jobs(fleet, FLEETCAP__V1__JOB_KIND__JOB_KIND_START, "sas1"); i++)
		usleep(100 * 1000);
	Fleetcap__V1__Job **jobs;
	size_t n = it_fleet_all_jobs(fleet, &jobs);
	int carried = 0;
	for (size_t i = 0; i < n; i++) {
		char *plain = NULL;
		struct fc_err err;
		if (!jobs[i]->spec || strcmp(jobs[i]->spec->name, "sas1") != 0)
			continue;
		assert_string_equal(jobs[i]->spec->blob_sas, "");
		assert_non_null(jobs[i]->spec->blob_sas_sealed);
		if (fc_seal_open(it_fleet_seal_key(fleet), jobs[i]->session_id,
				 jobs[i]->spec->blob_sas_sealed, &plain, &err) == 0)
			carried |= strstr(plain, "TopSecret") != NULL;
		free(plain);
	}
	free(jobs);
	assert_true(carried);
	/* No raw record of the topics a worker reads or writes holds it. */
	static const enum fc_topic clean[] = {FC_TOPIC_JOBS, FC_TOPIC_LEDGER, FC_TOPIC_STATUS,
					      FC_TOPIC_RESULTS, FC_TOPIC_WORKERS};
	for (size_t t = 0; t < sizeof(clean) / sizeof(clean[0]); t++)
		if (it_fleet_topic_holds(fleet, clean[t], "TopSecret"))
			fail_msg("the raw %s topic holds the SAS signature in clear",
				 fc_topic_suffix(clean[t]));
	char cmd[300], out[32] = "";
	snprintf(cmd, sizeof(cmd), "grep -c TopSecret %s", api_log);
	FILE *p = popen(cmd, "r");
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	assert_int_equal(atoi(out), 0);
}

/*
 * Per-token limits: an API with rate.per_token 1 and rate.burst 3 answers a
 * token's fourth request at once with 429 and Retry-After, while another
 * token goes on. Audit: each mutating request made so far left one line
 * naming the token by its SHA-256 prefix (never the token), what, and the
 * answer.
 */
static void test_rate_and_audit(void **state)
{
	char tokensx[160], log[256], saved[128], url[128];
	struct http h;
	(void)state;

	snprintf(tokensx, sizeof(tokensx), "auth.tokens=%s", tokens_path);
	const char *settings[] = {tokensx, "listen.port=0", "rate.per_token=1", "rate.burst=3",
				  NULL};
	pid_t limited = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api-limited", settings, log,
					sizeof(log));
	if (it_sched_wait_log(log, "listening on", 120) != 0)
		fail_msg("the second API did not start; see %s", log);
	assert_int_equal(it_log_url(log, "listening on ", url, sizeof(url)), 0);
	snprintf(saved, sizeof(saved), "%s", base);
	snprintf(base, sizeof(base), "%s", url);
	for (int i = 0; i < 3; i++) {
		call("GET", CAPS, TOKEN_A, NULL, &h);
		assert_int_equal(h.status, 200);
		done(&h);
	}
	call("GET", CAPS, TOKEN_A, NULL, &h);
	expect_error(&h, 429, "TooManyRequests", NULL);
	assert_true(atoi(h.retry_after) >= 1);
	done(&h);
	call("GET", "/subscriptions/sub-b/regions/r1/packetCaptures", TOKEN_B, NULL, &h);
	assert_int_equal(h.status, 200); /* its own bucket */
	done(&h);
	snprintf(base, sizeof(base), "%s", saved);
	assert_int_equal(it_sched_stop(limited, SIGTERM), 0);

	/* The main API's audit lines: the creates of test_create_read_list, by
	 * TOKEN_A's id, and not one line with a token in it. */
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char id[20] = "sha256:", grep[512], out[64] = "";
	SHA256((const unsigned char *)TOKEN_A, strlen(TOKEN_A), digest);
	for (int i = 0; i < 6; i++)
		snprintf(id + 7 + 2 * i, 3, "%02x", digest[i]);
	snprintf(grep, sizeof(grep),
		 "grep -c 'audit.*token=%s method=PUT subscription=sub-a region=r1 capture=web1 -> "
		 "20' "
		 "%s",
		 id, api_log);
	FILE *p = popen(grep, "r");
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	if (atoi(out) < 1)
		fail_msg("no audit line for web1's create by %s in %s", id, api_log);
	snprintf(grep, sizeof(grep), "grep audit %s | grep -c -e '%s' -e '%s' -e '%s'", api_log,
		 TOKEN_A, TOKEN_B, TOKEN_ALL);
	p = popen(grep, "r");
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	assert_int_equal(atoi(out), 0);
}

/* The subject CN of the certificate the server at port presents now. */
static void served_cn(const char *dir, unsigned port, char *cn, size_t len)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "echo | openssl s_client -connect 127.0.0.1:%u -CAfile %s/ca.pem 2>/dev/null | "
		 "sed -n 's/^subject=.*CN *= *//p'",
		 port, dir);
	FILE *p = popen(cmd, "r");
	cn[0] = '\0';
	assert_non_null(p);
	if (fgets(cn, (int)len, p))
		cn[strcspn(cn, "\n")] = '\0';
	pclose(p);
}

/*
 * TLS built in: an API with tls.cert and tls.key serves https only (a
 * client that trusts the test CA gets its answers, one that does not is
 * refused, plain http gets none); SIGHUP loads a renewed certificate without
 * a restart, and a reload with a key that does not match keeps the one in
 * use. A mismatched pair, or a key others can read, stops the start (exit 2).
 */
static void test_tls(void **state)
{
	char dir[128], certx[200], keyx[200], tokensx[160], log[256], url[128], cn[128];
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/%stls", it_fleet_prefix(fleet));
	assert_int_equal(it_sh("mkdir -p %s && cd %s && %s . first >/dev/null && %s . second "
			       ">/dev/null && cp first.pem api.pem && cp -p first.key api.key",
			       dir, dir, FLEETCAP_TEST_CERT, FLEETCAP_TEST_CERT),
			 0);
	snprintf(certx, sizeof(certx), "tls.cert=%s/api.pem", dir);
	snprintf(keyx, sizeof(keyx), "tls.key=%s/api.key", dir);
	snprintf(tokensx, sizeof(tokensx), "auth.tokens=%s", tokens_path);
	const char *settings[] = {tokensx, "listen.port=0", certx, keyx, NULL};
	pid_t tls = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api-tls", settings, log,
				    sizeof(log));
	if (it_sched_wait_log(log, "listening on https://", 120) != 0)
		fail_msg("the https API did not start; see %s", log);
	assert_int_equal(it_log_url(log, "listening on ", url, sizeof(url)), 0);
	unsigned port = (unsigned)atoi(strrchr(url, ':') + 1);
	const char *curl =
		"curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " TOKEN_A "'";
	assert_int_equal(
		it_sh("test \"$(%s --cacert %s/ca.pem %s%s)\" = 200", curl, dir, url, CAPS), 0);
	assert_int_not_equal(it_sh("%s %s%s >/dev/null", curl, url, CAPS), 0); /* untrusted */
	char plain[128];
	snprintf(plain, sizeof(plain), "http://127.0.0.1:%u", port);
	assert_int_not_equal(it_sh("test \"$(%s %s%s)\" = 200", curl, plain, CAPS), 0);
	served_cn(dir, port, cn, sizeof(cn));
	assert_string_equal(cn, "first");

	/* Renewed: the new pair in place, then SIGHUP. */
	assert_int_equal(it_sh("cd %s && cp second.pem api.pem && cp -p second.key api.key", dir),
			 0);
	kill(tls, SIGHUP);
	if (it_sched_wait_log(log, "tls: reloaded: CN=second", 60) != 0)
		fail_msg("no reload after SIGHUP; see %s", log);
	served_cn(dir, port, cn, sizeof(cn));
	assert_string_equal(cn, "second");
	assert_int_equal(
		it_sh("test \"$(%s --cacert %s/ca.pem %s%s)\" = 200", curl, dir, url, CAPS), 0);

	/* A certificate with another key: refused, the one in use stays. */
	assert_int_equal(it_sh("cp %s/first.pem %s/api.pem", dir, dir), 0);
	kill(tls, SIGHUP);
	if (it_sched_wait_log(log, "reload refused", 60) != 0)
		fail_msg("a mismatched reload was not refused; see %s", log);
	served_cn(dir, port, cn, sizeof(cn));
	assert_string_equal(cn, "second");
	assert_int_equal(it_sched_stop(tls, SIGTERM), 0);

	/* At start, the same pair stops the API with exit 2, naming tls.key. */
	tls = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api-tls-bad", settings, log,
			      sizeof(log));
	int status;
	assert_int_equal(waitpid(tls, &status, 0), tls);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	assert_int_equal(it_sh("grep -q 'tls.key .*does not match the first certificate' %s", log),
			 0);
	/* A key file others can read, likewise. */
	assert_int_equal(it_sh("cd %s && cp second.pem api.pem && chmod 644 api.key", dir), 0);
	tls = it_daemon_start(fleet, NULL, FLEETCAP_API_BIN, "api-tls-open", settings, log,
			      sizeof(log));
	assert_int_equal(waitpid(tls, &status, 0), tls);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	assert_int_equal(it_sh("grep -q 'mode 644 lets others read it' %s", log), 0);
	it_sh("rm -rf %s", dir);
}

static void test_metrics(void **state)
{
	struct http h;
	(void)state;

	call("GET", "/metrics", NULL, NULL, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "# TYPE fleetcap_api_requests_total counter"));
	double created = it_metric(
		h.body,
		"fleetcap_api_requests_total{method=\"PUT\",route=\"create\",code=\"201\"}");
	double running = it_metric(h.body, "fleetcap_api_captures{status=\"Running\"}");
	assert_true(created >= 1);
	done(&h);
	call("PUT", CAPS "/metered", TOKEN_A, GOOD, &h);
	assert_int_equal(h.status, 201);
	done(&h);
	call("GET", "/metrics", NULL, NULL, &h);
	assert_true(it_metric(h.body, "fleetcap_api_requests_total{method=\"PUT\",route=\"create\","
				      "code=\"201\"}") == created + 1);
	assert_true(it_metric(h.body, "fleetcap_api_captures{status=\"Running\"}") == running + 1);
	done(&h);
}

/* Every route of api/openapi.json is called, and answers one of the codes
 * it documents for that route, with the error body on failure. */
static void test_openapi_routes(void **state)
{
	static const char *const order[] = {"put", "get", "post", "delete"};
	json_error_t jerr;
	json_t *doc = json_load_file(FLEETCAP_OPENAPI, 0, &jerr), *item, *op;
	const char *path, *method;
	size_t called = 0;
	(void)state;

	assert_non_null(doc);
	for (size_t o = 0; o < 4; o++)
		json_object_foreach(json_object_get(doc, "paths"), path, item)
		{
			json_object_foreach(item, method, op)
			{
				char url[512], upper[16];
				struct http h;
				if (strcmp(method, order[o]) != 0)
					continue;
				snprintf(url, sizeof(url), "%s", path);
				const char *from[] = {"{subscription}", "{region}", "{name}"};
				const char *to[] = {"sub-a", "r1", "openapi1"};
				for (int k = 0; k < 3; k++) {
					char *at = strstr(url, from[k]);
					if (!at)
						continue;
					char rest[512];
					snprintf(rest, sizeof(rest), "%s", at + strlen(from[k]));
					snprintf(at, sizeof(url) - (size_t)(at - url), "%s%s",
						 to[k], rest);
				}
				for (size_t k = 0; k <= strlen(method); k++)
					upper[k] = (char)toupper((unsigned char)method[k]);
				call(upper, url, TOKEN_A, strcmp(method, "put") == 0 ? GOOD : NULL,
				     &h);
				char code[8];
				snprintf(code, sizeof(code), "%ld", h.status);
				if (!json_object_get(json_object_get(op, "responses"), code))
					fail_msg("%s %s answered %ld, not documented: %s", upper,
						 url, h.status, h.body);
				if (h.status >= 400)
					assert_non_null(str(h.json, "error.code"));
				called++;
				done(&h);
			}
		}
	assert_int_equal(called, 7);
	json_decref(doc);
}

/* ------------------------------------------------------------ abuse */

/* The API process's resident memory, KiB. */
static long api_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)api);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* A TCP connection to the API, nothing sent. */
static int api_connect(void)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	unsigned port = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(sscanf(base, "http://127.0.0.1:%u", &port), 1);
	to.sin_port = htons((uint16_t)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

static void expect_list_answered(void)
{
	struct http h;
	call("GET", CAPS, TOKEN_A, NULL, &h);
	assert_int_equal(h.status, 200);
	done(&h);
}

/* 1,000 connections that send nothing: good requests are still answered,
 * and each costs the API little memory. */
static void test_abuse_thousand_idle_connections(void **state)
{
	enum { CONNS = 1000 };
	static int fds[CONNS];
	struct rlimit rl = {4096, 4096};
	(void)state;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
		rl.rlim_cur = 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	expect_list_answered();
	long before = api_rss_kib();
	for (int i = 0; i < CONNS; i++)
		fds[i] = api_connect();
	for (int i = 0; i < 5; i++)
		expect_list_answered();
	long during = api_rss_kib();
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
	printf("  %d idle connections: API RSS %ld KiB -> %ld KiB (%ld bytes each); good "
	       "requests answered\n",
	       CONNS, before, during, (during - before) * 1024 / CONNS);
	assert_true(during - before < CONNS * 128); /* KiB: under 128 KiB a connection */
	expect_list_answered();
}

/* Clients that send a byte a second are cut once request.timeout.s (10 s)
 * passes without a whole request, while good requests are answered. */
static void test_abuse_slow_clients(void **state)
{
	enum { SLOW = 20 };
	static const char line[] = "GET " CAPS " HTTP/1.1\r\nHost: x\r\nX-Slow: "
				   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	int fds[SLOW], cut = 0, seconds = 0;
	(void)state;

	for (int i = 0; i < SLOW; i++)
		fds[i] = api_connect();
	for (size_t at = 0; cut < SLOW && at < sizeof(line) - 1; at++, seconds++) {
		for (int i = 0; i < SLOW; i++) {
			if (fds[i] < 0)
				continue;
			char c;
			if (send(fds[i], line + at, 1, MSG_NOSIGNAL) != 1 ||
			    recv(fds[i], &c, 1, MSG_DONTWAIT) == 0) {
				close(fds[i]);
				fds[i] = -1;
				cut++;
			}
		}
		expect_list_answered();
		sleep(1);
	}
	printf("  %d clients sending a byte a second: %d cut after %d s; good requests "
	       "answered meanwhile\n",
	       SLOW, cut, seconds);
	for (int i = 0; i < SLOW; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	assert_int_equal(cut, SLOW);
}

/* A PUT of a body of len bytes (GOOD padded with spaces); the status, or 0
 * when the API closed the connection before answering. */
static long put_padded(const char *name, size_t len)
{
	char path[160];
	char *body = malloc(len + 1);
	struct http h;
	CURL *c = curl_easy_init();
	struct curl_slist *headers = NULL;
	char url[1024];
	long status = 0;

	assert_true(body && len >= strlen(GOOD));
	memset(body, ' ', len);
	memcpy(body, GOOD, strlen(GOOD));
	body[len] = '\0';
	snprintf(path, sizeof(path), CAPS "/%s", name);
	snprintf(url, sizeof(url), "%s%s", base, path);
	memset(&h, 0, sizeof(h));
	headers = curl_slist_append(headers, "Authorization: Bearer " TOKEN_A);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && status == 0)
		fprintf(stderr, "  PUT of %zu bytes: %s\n", len, curl_easy_strerror(rc));
	else if (status == 400)
		fprintf(stderr, "  PUT of %zu bytes: 400 %.400s\n", len, h.body ? h.body : "");
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	free(h.body);
	free(body);
	return status;
}

static void test_abuse_body_limits(void **state)
{
	(void)state;
	heartbeat_hosts();
	long at = put_padded("body-at-limit", 64 * 1024);
	long above = put_padded("body-above-limit", 64 * 1024 + 1);
	long far = put_padded("body-far-above", 16 * 1024 * 1024);
	printf("  bodies of 64 KiB: %ld, 64 KiB + 1: %ld, 16 MiB: %ld\n", at, above, far);
	assert_true(at == 201 || at == 202);
	assert_int_equal(above, 413);
	assert_int_equal(far, 413);
	expect_list_answered();
}

/* 10,000 requests with bad tokens: all 401, none logged, memory flat. */
static void test_abuse_bad_tokens(void **state)
{
	enum { BAD = 10000 };
	CURL *c = curl_easy_init();
	char url[1024], auth[128];
	struct http h = {0};
	int unauthorized = 0;
	(void)state;

	long before = api_rss_kib();
	snprintf(url, sizeof(url), "%s%s", base, CAPS);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	for (int i = 0; i < BAD; i++) {
		struct curl_slist *headers = NULL;
		long status = 0;
		snprintf(auth, sizeof(auth), "Authorization: Bearer badtoken-%08x-%d",
			 (unsigned)rand(), i);
		headers = curl_slist_append(headers, auth);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		assert_int_equal(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		unauthorized += status == 401;
		curl_slist_free_all(headers);
		free(h.body);
		memset(&h, 0, sizeof(h));
	}
	curl_easy_cleanup(c);
	long after = api_rss_kib();
	expect_list_answered();
	char cmd[512], out[32] = "";
	snprintf(cmd, sizeof(cmd), "grep -c badtoken- %s", api_log);
	FILE *p = popen(cmd, "r");
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	printf("  %d requests with bad tokens: %d answered 401, %d logged; API RSS %ld KiB -> "
	       "%ld KiB\n",
	       BAD, unauthorized, atoi(out), before, after);
	assert_int_equal(unauthorized, BAD);
	assert_int_equal(atoi(out), 0);
	assert_true(after - before < 16 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_create_read_list),
		cmocka_unit_test(test_stop_and_delete),
		cmocka_unit_test(test_continuous_capture),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_cloud_example_bodies),
		cmocka_unit_test(test_workers_list),
		cmocka_unit_test(test_routes_and_methods),
		cmocka_unit_test(test_malformed_bodies),
		cmocka_unit_test(test_sas_never_echoed),
		cmocka_unit_test(test_rate_and_audit),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_openapi_routes),
		cmocka_unit_test(test_abuse_thousand_idle_connections),
		cmocka_unit_test(test_abuse_slow_clients),
		cmocka_unit_test(test_abuse_body_limits),
		cmocka_unit_test(test_abuse_bad_tokens),
		cmocka_unit_test(test_tls),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
