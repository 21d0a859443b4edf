/*
 * The API's body mapping (api_json.c), both ways, on generated requests:
 * a random valid PUT body (any subset of the properties, filters, a ring,
 * a blob URL with or without its SAS token) becomes a spec that the one
 * validator accepts, and the resource the API answers for that spec holds the
 * very properties that were sent (the defaults where none was), with the SAS
 * token nowhere. Then every kind of bad value, one at a time, is refused with
 * its JSON path. FLEETCAP_SEED=N replays a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "api_json.h"

#define CASES 2000

static unsigned seed;

static long long pick(long long lo, long long hi)
{
	return lo + (long long)(((unsigned long long)rand() << 16 ^ (unsigned)rand()) %
				(unsigned long long)(hi - lo + 1));
}

static json_t *random_filter(void)
{
	static const char *const v4[] = {"198.18.0.2", "198.18.0.0/15", "198.18.0.1-198.18.0.9",
					 "198.18.0.2;198.18.0.3"};
	static const char *const v6[] = {"fd00::2", "fd00::/64", "fd00::1-fd00::9"};
	static const char *const ports[] = {"443", "1000-2000", "80;443", "0-65535"};
	static const char *const protocols[] = {"TCP", "UDP", "Any"};
	json_t *f = json_object();
	int six = rand() % 2;

	if (rand() % 4)
		json_object_set_new(f, "protocol", json_string(protocols[rand() % 3]));
	if (rand() % 2)
		json_object_set_new(f, "localIPAddress",
				    json_string(six ? v6[rand() % 3] : v4[rand() % 4]));
	if (rand() % 2)
		json_object_set_new(f, "remoteIPAddress",
				    json_string(six ? v6[rand() % 3] : v4[rand() % 4]));
	if (rand() % 2)
		json_object_set_new(f, "localPort", json_string(ports[rand() % 4]));
	if (rand() % 2)
		json_object_set_new(f, "remotePort", json_string(ports[rand() % 4]));
	return f;
}

/* A valid body; *sas gets the SAS token it carries, or "". */
static json_t *random_body(int i, char *sas, size_t sas_len)
{
	json_t *p = json_object(), *loc = json_object();
	char text[256];

	snprintf(text, sizeof(text), "host-%d", i);
	json_object_set_new(p, "target", json_string(text));
	if (rand() % 2)
		json_object_set_new(p, "bytesToCapturePerPacket", json_integer(pick(0, 300000)));
	if (rand() % 2)
		json_object_set_new(p, "totalBytesPerSession", json_integer(pick(1, 4294967295LL)));
	if (rand() % 2)
		json_object_set_new(p, "timeLimitInSeconds", json_integer(pick(1, 18000)));
	if (rand() % 2)
		json_object_set_new(p, "queueTimeoutInSeconds", json_integer(pick(0, 86400)));
	sas[0] = '\0';
	int where = rand() % 3; /* file, blob, both */
	if (where != 1) {	/* the cloud API's two names of the file on the host */
		snprintf(text, sizeof(text), "caps/c%d/x.pcap", i);
		int names = rand() % 3; /* filePath, localPath, both */
		if (names != 1)
			json_object_set_new(loc, "filePath", json_string(text));
		if (names != 0)
			json_object_set_new(loc, "localPath", json_string(text));
	}
	if (where != 0) {
		if (rand() % 2)
			snprintf(sas, sas_len, "sv=2022-11-02&sp=cw&sig=SECRET%dSIG", i);
		snprintf(text, sizeof(text),
			 "https://acct%d.blob.core.windows.net/caps/b%d.pcap%s%s", i % 7, i,
			 *sas ? "?" : "", sas);
		json_object_set_new(loc, "storagePath", json_string(text));
		if (rand() % 2) {
			snprintf(text, sizeof(text),
				 "/subscriptions/%08x-0000-4000-8000-00000000000%d/resourceGroups/"
				 "rg-%d/providers/Microsoft.Storage/storageAccounts/acct%d",
				 (unsigned)i, i % 10, i, i % 7);
			json_object_set_new(loc, "storageId", json_string(text));
		}
	}
	json_object_set_new(p, "storageLocation", loc);
	if (rand() % 2)
		json_object_set_new(p, "targetType", json_string("AzureVM"));
	if (rand() % 3 == 0)
		json_object_set_new(p, "scope", json_pack("{s:[], s:[]}", "include", "exclude"));
	if (rand() % 3) {
		json_t *filters = json_array();
		for (int n = (int)pick(1, 3); n > 0; n--)
			json_array_append_new(filters, random_filter());
		json_object_set_new(p, "filters", filters);
	}
	if (rand() % 3 == 0) {
		json_object_set_new(p, "continuousCapture", json_true());
		if (rand() % 2) {
			json_t *s = json_object();
			if (rand() % 2)
				json_object_set_new(s, "fileCount", json_integer(pick(1, 10000)));
			if (rand() % 2)
				json_object_set_new(s, "fileSizeInBytes",
						    json_integer(pick(1, 4294967295LL)));
			if (rand() % 2)
				json_object_set_new(s, "sessionTimeLimitInSeconds",
						    json_integer(pick(1, 604800)));
			json_object_set_new(p, "captureSettings", s);
		}
	} else if (rand() % 2) {
		json_object_set_new(p, "continuousCapture", json_false());
	}
	return json_pack("{s:o}", "properties", p);
}

static void set_default(json_t *o, const char *key, json_t *value)
{
	if (!json_object_get(o, key))
		json_object_set(o, key, value);
	json_decref(value);
}

/* What the resource must say of body's properties: the same, with defaults
 * for what was left out and the blob URL without its SAS token. */
static json_t *expected_properties(json_t *body)
{
	json_t *p = json_deep_copy(json_object_get(body, "properties"));
	json_t *loc = json_object_get(p, "storageLocation");
	json_t *blob = json_object_get(loc, "storagePath");

	set_default(p, "bytesToCapturePerPacket", json_integer(0));
	set_default(p, "totalBytesPerSession", json_integer(FC_BYTES_PER_SESSION_DEFAULT));
	set_default(p, "timeLimitInSeconds", json_integer(FC_TIME_LIMIT_DEFAULT));
	set_default(p, "queueTimeoutInSeconds", json_integer(0));
	set_default(p, "continuousCapture", json_false());
	set_default(p, "filters", json_array());
	set_default(p, "targetType", json_string("AzureVM"));
	set_default(p, "scope", json_pack("{s:[], s:[]}", "include", "exclude"));
	set_default(loc, "storageId", json_null());
	/* Either name of the file on the host gives both. */
	json_t *file = json_object_get(loc, "filePath");
	if (!file)
		file = json_object_get(loc, "localPath");
	json_object_set(loc, "filePath", file ? file : json_null());
	json_object_set(loc, "localPath", file ? file : json_null());
	if (blob) {
		char url[512];
		snprintf(url, sizeof(url), "%s", json_string_value(blob));
		if (strchr(url, '?'))
			*strchr(url, '?') = '\0';
		json_object_set_new(loc, "storagePath", json_string(url));
	} else {
		json_object_set_new(loc, "storagePath", json_null());
	}
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(p, "filters"), i, f)
		set_default(f, "protocol", json_string("Any"));
	if (json_is_true(json_object_get(p, "continuousCapture"))) {
		json_t *s = json_object_get(p, "captureSettings");
		if (!s)
			json_object_set_new(p, "captureSettings", s = json_object());
		set_default(s, "fileCount", json_integer(FC_FILE_COUNT_DEFAULT));
		set_default(s, "fileSizeInBytes", json_integer(FC_FILE_SIZE_DEFAULT));
		set_default(s, "sessionTimeLimitInSeconds",
			    json_integer(FC_SESSION_TIME_LIMIT_DEFAULT));
	}
	return p;
}

static void test_bodies_round_trip(void **state)
{
	char sas[128];

	(void)state;
	for (int i = 0; i < CASES; i++) {
		json_t *body = random_body(i, sas, sizeof(sas));
		char *text = json_dumps(body, JSON_COMPACT);
		struct fc_field_errors errs;
		char why[1024];
		fc_spec_t *spec =
			api_spec_from_body(text, strlen(text), "sub-a", "r1", "cap", &errs);
		if (!spec) {
			fc_field_errors_format(&errs, why, sizeof(why));
			fail_msg("seed %u case %d: %s refused: %s", seed, i, text, why);
		}
		assert_string_equal(spec->blob_sas, sas);

		api_status_t s = FLEETCAP__V1__CAPTURE_STATUS__INIT;
		s.subscription = "sub-a";
		s.region = "r1";
		s.name = "cap";
		s.target = spec->target;
		s.state = FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING;
		s.spec = spec;
		json_t *resource = api_resource_json(&s);
		json_t *got = json_deep_copy(json_object_get(resource, "properties"));
		json_object_del(got, "provisioningState");
		json_object_del(got, "packetCaptureStatus");
		json_t *expected = expected_properties(body);
		if (!json_equal(got, expected)) {
			char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
			char *e = json_dumps(expected, JSON_COMPACT | JSON_SORT_KEYS);
			fail_msg("seed %u case %d: %s\n  resource %s\n  expected %s", seed, i, text,
				 g, e);
		}
		char *dump = json_dumps(resource, JSON_COMPACT);
		if (*sas)
			assert_null(strstr(dump, "SECRET"));
		free(dump);
		json_decref(expected);
		json_decref(got);
		json_decref(resource);
		fc_spec_free(spec);
		free(text);
		json_decref(body);
	}
}

/* Takes a valid body, breaks one thing, and expects path in the errors. */
static void expect_refused(const char *body, const char *path, const char *needle)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = api_spec_from_body(body, strlen(body), "sub-a", "r1", "cap", &errs);

	if (spec)
		fail_msg("%s: accepted, expected an error at %s", body, path);
	for (size_t i = 0; i < errs.count; i++)
		if (strcmp(errs.items[i].field, path) == 0 && strstr(errs.items[i].message, needle))
			return;
	char why[1024];
	fc_field_errors_format(&errs, why, sizeof(why));
	fail_msg("%s: expected %s (\"%s\"), got %s", body, path, needle, why);
}

#define OK_LOC "\"storageLocation\": {\"filePath\": \"x.pcap\"}"

static void test_bad_values_name_their_path(void **state)
{
	(void)state;
	expect_refused("", "body", "empty");
	expect_refused("{\"properties\": ", "body", "not valid JSON");
	expect_refused("[1]", "body", "expected a JSON object");
	/* Malformed JSON around a SAS token: the reason never quotes the body
	 * (jansson's "near '...'" did; found by fuzz_api_body). */
	static const char sas_body[] =
		"{\"properties\": {\"storageLocation\": {\"storagePath\": "
		"\"https://acct.blob.core.windows.net/c/b?sv=1&sig=SECRETSIG\xff";
	struct fc_field_errors errs;
	assert_null(api_spec_from_body(sas_body, strlen(sas_body), "s", "r", "n", &errs));
	assert_int_equal(errs.count, 1);
	assert_non_null(strstr(errs.items[0].message, "not valid JSON"));
	if (strstr(errs.items[0].message, "SECRET"))
		fail_msg("the error quotes the SAS token: %s", errs.items[0].message);
	expect_refused("{\"props\": {}}", "body", "unknown key \"props\"");
	expect_refused("{}", "properties", "required");
	expect_refused("{\"properties\": {" OK_LOC "}}", "properties.target", "required");
	expect_refused("{\"properties\": {\"target\": 7, " OK_LOC "}}", "properties.target",
		       "a string");
	expect_refused(
		"{\"properties\": {\"target\": \"h\", \"timeLimitInSeconds\": \"60\", " OK_LOC "}}",
		"properties.timeLimitInSeconds", "an integer");
	expect_refused("{\"properties\": {\"target\": \"h\", \"timeLimitInSeconds\": 18001, " OK_LOC
		       "}}",
		       "properties.timeLimitInSeconds", "18001");
	expect_refused(
		"{\"properties\": {\"target\": \"h\", \"bytesToCapturePerPacket\": -1, " OK_LOC
		"}}",
		"properties.bytesToCapturePerPacket", "");
	expect_refused("{\"properties\": {\"target\": \"h\", \"colour\": 1, " OK_LOC "}}",
		       "properties", "unknown key \"colour\"");
	expect_refused(
		"{\"properties\": {\"target\": \"h\", \"storageLocation\": {\"path\": \"x\"}}}",
		"properties.storageLocation", "unknown key \"path\"");
	expect_refused(
		"{\"properties\": {\"target\": \"h\", \"storageLocation\": {\"storagePath\": "
		"\"http://example.com/a/b/c\"}}}",
		"properties.storageLocation.storagePath", "");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC
		       ", \"filters\": [{\"protocol\": \"TCP\"}, {\"remotePort\": \"70000\"}]}}",
		       "properties.filters[1].remotePort", "70000");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC
		       ", \"filters\": [{\"localIPAddress\": \"198.18.0.2\", \"remoteIPAddress\": "
		       "\"fd00::1\"}]}}",
		       "properties.filters[0].remoteIPAddress", "one family");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC ", \"filters\": {}}}",
		       "properties.filters", "an array");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC
		       ", \"captureSettings\": {\"fileCount\": 2}}}",
		       "properties.captureSettings", "continuousCapture");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC
		       ", \"continuousCapture\": true, \"captureSettings\": {\"fileCount\": 0}}}",
		       "properties.captureSettings.fileCount", "");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC
		       ", \"continuousCapture\": \"yes\"}}",
		       "properties.continuousCapture", "true or false");
	expect_refused("{\"properties\": {\"target\": \"h\", \"target\": \"g\", " OK_LOC "}}",
		       "body", "duplicate");
	/* The cloud API's fields: checked, not ignored. */
	expect_refused(
		"{\"properties\": {\"target\": \"h:1\", \"targetType\": \"AzureVMSS\", " OK_LOC
		"}}",
		"properties.target", "a group name");
	expect_refused("{\"properties\": {\"target\": \"g\", \"targetType\": \"AzureVMSS\", "
		       "\"scope\": {\"include\": [\"0\", \"1,2\"]}, " OK_LOC "}}",
		       "properties.scope.include[1]", "no comma");
	expect_refused("{\"properties\": {\"target\": \"g\", \"targetType\": \"AzureVMSS\", "
		       "\"scope\": {\"exclude\": [\"0\", \"0\"]}, " OK_LOC "}}",
		       "properties.scope.exclude[1]", "listed twice");
	expect_refused("{\"properties\": {\"target\": \"h\", \"targetType\": \"VM\", " OK_LOC "}}",
		       "properties.targetType", "\"VM\" is not valid");
	expect_refused(
		"{\"properties\": {\"target\": \"h\", \"scope\": {\"include\": [\"0\"]}, " OK_LOC
		"}}",
		"properties.scope", "instances of a group");
	expect_refused("{\"properties\": {\"target\": \"h\", \"scope\": {\"only\": []}, " OK_LOC
		       "}}",
		       "properties.scope", "unknown key \"only\"");
	expect_refused("{\"properties\": {\"target\": \"h\", \"scope\": {\"exclude\": [1]}, " OK_LOC
		       "}}",
		       "properties.scope.exclude[0]", "instance id");
	expect_refused("{\"properties\": {\"target\": \"h\", \"storageLocation\": {\"filePath\": "
		       "\"a.pcap\", \"localPath\": \"b.pcap\"}}}",
		       "properties.storageLocation.localPath", "differs from filePath");
	expect_refused("{\"properties\": {\"target\": \"h\", \"storageLocation\": {\"filePath\": "
		       "\"a.pcap\", \"storageId\": \"/subscriptions/s/resourceGroups/g/providers/"
		       "Microsoft.Storage/storageAccounts/acct\"}}}",
		       "properties.storageLocation.storageId", "give storagePath too");
	/* Messages name the API's fields, not the spec's. */
	expect_refused("{\"properties\": {\"target\": \"h\", \"storageLocation\": {}}}",
		       "properties.storageLocation.filePath",
		       "at least one of filePath and storagePath is required");
	expect_refused("{\"properties\": {\"target\": \"h\", " OK_LOC
		       ", \"filters\": [{\"localIPAddress\": \"198.18.0.2\", \"remoteIPAddress\": "
		       "\"fd00::1\"}]}}",
		       "properties.filters[0].remoteIPAddress", "localIPAddress is IPv4 only");
	expect_refused(
		"{\"properties\": {\"target\": \"h\", \"storageLocation\": {\"storagePath\": "
		"\"https://acct.blob.core.windows.net/c/b.pcap\", \"storageId\": "
		"\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/"
		"storageAccounts/Not_An_Account\"}}}",
		"properties.storageLocation.storageId", "3-24 lowercase");
}

int main(void)
{
	const char *env = getenv("FLEETCAP_SEED");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies_round_trip),
		cmocka_unit_test(test_bad_values_name_their_path),
	};

	seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	printf("FLEETCAP_SEED=%u\n", seed);
	srand(seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
