/*
 * The one spec validator (common/fc_spec*.c) against a table of specs: every
 * §1 bound and its neighbour, filter syntax (lists, ranges, CIDR, IPv6, empty
 * items, reversed ranges), names, paths and blob URLs. Each row says whether
 * the spec is valid and, if not, which field the error must name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fc_spec.h"

#define OK NULL

struct vcase {
	const char *what;
	enum fc_spec_mode mode;
	const char *set[6]; /* "key=value", applied after the base spec */
	const char *field;  /* field the error must name; NULL = valid */
};

/* A valid fleet spec every row starts from (LOCAL and TEMPLATE rows do not). */
static const char *const fleet_base[] = {"name=cap1", "subscription=sub-1", "region=westeurope",
					 "target=host-1", "file-path=captures/a.pcap"};

static char long_name80[5 + 80 + 1], long_name81[5 + 81 + 1], tenant64[13 + 64 + 1],
	tenant65[13 + 65 + 1], path1025[10 + 1025 + 1];

/* One row per line reads best here. */
/* clang-format off */
static const struct vcase cases[] = {
	{"base spec", FC_SPEC_FLEET, {NULL}, OK},
	/* names */
	{"name of 1", FC_SPEC_FLEET, {"name=a"}, OK},
	{"name of 80", FC_SPEC_FLEET, {long_name80}, OK},
	{"name of 81", FC_SPEC_FLEET, {long_name81}, "name"},
	{"name starting with -", FC_SPEC_FLEET, {"name=-cap"}, "name"},
	{"name with /", FC_SPEC_FLEET, {"name=a/b"}, "name"},
	{"name with space", FC_SPEC_FLEET, {"name=a b"}, "name"},
	{"name missing", FC_SPEC_FLEET, {"name="}, "name"},
	{"name with _.-", FC_SPEC_FLEET, {"name=a_b.c-d"}, OK},
	{"subscription of 64", FC_SPEC_FLEET, {tenant64}, OK},
	{"subscription of 65", FC_SPEC_FLEET, {tenant65}, "subscription"},
	{"subscription missing", FC_SPEC_FLEET, {"subscription="}, "subscription"},
	{"region with space", FC_SPEC_FLEET, {"region=west europe"}, "region"},
	{"region missing", FC_SPEC_FLEET, {"region="}, "region"},
	{"target missing", FC_SPEC_FLEET, {"target="}, "target"},
	{"target with colon and dots", FC_SPEC_FLEET, {"target=vm:1.example"}, OK},
	{"target with /", FC_SPEC_FLEET, {"target=a/b"}, "target"},
	/* bytes per packet */
	{"bytes-per-packet 0", FC_SPEC_FLEET, {"bytes-per-packet=0"}, OK},
	{"bytes-per-packet 34", FC_SPEC_FLEET, {"bytes-per-packet=34"}, OK},
	{"bytes-per-packet max", FC_SPEC_FLEET, {"bytes-per-packet=4294967295"}, OK},
	{"bytes-per-packet max+1", FC_SPEC_FLEET, {"bytes-per-packet=4294967296"}, "bytes-per-packet"},
	{"bytes-per-packet -1", FC_SPEC_FLEET, {"bytes-per-packet=-1"}, "bytes-per-packet"},
	{"bytes-per-packet 12abc", FC_SPEC_FLEET, {"bytes-per-packet=12abc"}, "bytes-per-packet"},
	{"bytes-per-packet empty", FC_SPEC_FLEET, {"bytes-per-packet="}, "bytes-per-packet"},
	/* bytes per session */
	{"bytes-per-session max", FC_SPEC_FLEET, {"bytes-per-session=4294967295"}, OK},
	{"bytes-per-session max+1", FC_SPEC_FLEET, {"bytes-per-session=4294967296"}, "bytes-per-session"},
	/* time limit */
	{"time-limit 0", FC_SPEC_FLEET, {"time-limit=0"}, OK},
	{"time-limit 18000", FC_SPEC_FLEET, {"time-limit=18000"}, OK},
	{"time-limit 18001", FC_SPEC_FLEET, {"time-limit=18001"}, "time-limit"},
	/* queue timeout */
	{"queue-timeout 86400", FC_SPEC_FLEET, {"queue-timeout=86400"}, OK},
	{"queue-timeout 86401", FC_SPEC_FLEET, {"queue-timeout=86401"}, "queue-timeout"},
	/* ring buffer */
	{"file-count 1", FC_SPEC_FLEET, {"file-count=1"}, OK},
	{"file-count 0", FC_SPEC_FLEET, {"file-count=0"}, "file-count"},
	{"file-count 10000", FC_SPEC_FLEET, {"file-count=10000"}, OK},
	{"file-count 10001", FC_SPEC_FLEET, {"file-count=10001"}, "file-count"},
	{"file-size 1", FC_SPEC_FLEET, {"file-size=1"}, OK},
	{"file-size 0", FC_SPEC_FLEET, {"file-size=0"}, "file-size"},
	{"file-size max", FC_SPEC_FLEET, {"file-size=4294967295"}, OK},
	{"file-size max+1", FC_SPEC_FLEET, {"file-size=4294967296"}, "file-size"},
	{"session-time-limit 604800", FC_SPEC_FLEET, {"session-time-limit=604800"}, OK},
	{"session-time-limit 604801", FC_SPEC_FLEET, {"session-time-limit=604801"}, "session-time-limit"},
	/* ports */
	{"port 0", FC_SPEC_FLEET, {"filter=remote-port=0"}, OK},
	{"port 65535", FC_SPEC_FLEET, {"filter=remote-port=65535"}, OK},
	{"port 65536", FC_SPEC_FLEET, {"filter=remote-port=65536"}, "filters[0].remote_port"},
	{"port list with range", FC_SPEC_FLEET, {"filter=protocol=tcp,remote-port=80;443;8000-8080"}, OK},
	{"port reversed range", FC_SPEC_FLEET, {"filter=local-port=8080-8000"}, "filters[0].local_port"},
	{"port range to 65536", FC_SPEC_FLEET, {"filter=local-port=1-65536"}, "filters[0].local_port"},
	{"port empty item", FC_SPEC_FLEET, {"filter=remote-port=80;;443"}, "filters[0].remote_port"},
	{"port trailing ;", FC_SPEC_FLEET, {"filter=remote-port=80;"}, "filters[0].remote_port"},
	{"port bare dash", FC_SPEC_FLEET, {"filter=remote-port=-"}, "filters[0].remote_port"},
	{"port word", FC_SPEC_FLEET, {"filter=remote-port=http"}, "filters[0].remote_port"},
	{"port with spaces in list", FC_SPEC_FLEET, {"filter=remote-port= 80 ; 443 "}, OK},
	/* addresses */
	{"ipv4 address", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.2"}, OK},
	{"ipv4 octet 256", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.256"}, "filters[0].remote_ip"},
	{"ipv4 cidr /15", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.0/15"}, OK},
	{"ipv4 cidr /32", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.1/32"}, OK},
	{"ipv4 cidr /33", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.1/33"}, "filters[0].remote_ip"},
	{"ipv4 cidr host bits", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.1/24"}, "filters[0].remote_ip"},
	{"ipv4 range", FC_SPEC_FLEET, {"filter=local-ip=198.18.0.1-198.18.0.9"}, OK},
	{"ipv4 reversed range", FC_SPEC_FLEET, {"filter=local-ip=198.18.0.9-198.18.0.1"}, "filters[0].local_ip"},
	{"ipv6 address", FC_SPEC_FLEET, {"filter=remote-ip=fd00::2"}, OK},
	{"ipv4 local, ipv6 remote", FC_SPEC_FLEET,
	 {"filter=local-ip=198.18.0.0/28,remote-ip=fd00:fc::d"}, "filters[0].remote_ip"},
	{"ipv6 local, ipv4 remote list", FC_SPEC_FLEET,
	 {"filter=local-ip=fd00::1,remote-ip=198.18.0.2;198.18.0.3"}, "filters[0].remote_ip"},
	{"mixed local, ipv6 remote", FC_SPEC_FLEET,
	 {"filter=local-ip=198.18.0.1;fd00::1,remote-ip=fd00::2"}, OK},
	{"ipv6 cidr /8", FC_SPEC_FLEET, {"filter=remote-ip=fd00::/8"}, OK},
	{"ipv6 cidr /128", FC_SPEC_FLEET, {"filter=remote-ip=fd00::1/128"}, OK},
	{"ipv6 cidr /129", FC_SPEC_FLEET, {"filter=remote-ip=fd00::/129"}, "filters[0].remote_ip"},
	{"ipv6 range", FC_SPEC_FLEET, {"filter=remote-ip=fd00::1-fd00::ff"}, OK},
	{"ipv6 reversed range", FC_SPEC_FLEET, {"filter=remote-ip=fd00::ff-fd00::1"}, "filters[0].remote_ip"},
	{"ipv6 with zone", FC_SPEC_FLEET, {"filter=remote-ip=fe80::1%eth0"}, "filters[0].remote_ip"},
	{"range mixing families", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.1-fd00::1"}, "filters[0].remote_ip"},
	{"mixed address list", FC_SPEC_FLEET, {"filter=remote-ip=fd00::1;198.18.0.0/24;198.18.1.1-198.18.1.5"}, OK},
	{"address empty item", FC_SPEC_FLEET, {"filter=remote-ip=198.18.0.1;;198.18.0.2"}, "filters[0].remote_ip"},
	{"address hostname", FC_SPEC_FLEET, {"filter=remote-ip=example.com"}, "filters[0].remote_ip"},
	/* protocol and filter SPEC syntax */
	{"protocol tcp", FC_SPEC_FLEET, {"filter=protocol=tcp"}, OK},
	{"protocol UDP upper case", FC_SPEC_FLEET, {"filter=protocol=UDP,local-port=53"}, OK},
	{"protocol any", FC_SPEC_FLEET, {"filter=protocol=any"}, OK},
	{"protocol icmp", FC_SPEC_FLEET, {"filter=protocol=icmp"}, "filters[0].protocol"},
	{"protocol empty", FC_SPEC_FLEET, {"filter=protocol="}, "filters[0].protocol"},
	{"unknown filter key", FC_SPEC_FLEET, {"filter=port=80"}, "filters[0].port"},
	{"filter key twice", FC_SPEC_FLEET, {"filter=remote-port=80,remote-port=443"}, "filters[0].remote-port"},
	{"filter item without =", FC_SPEC_FLEET, {"filter=protocol=tcp,80"}, "filters[0]"},
	{"second filter bad", FC_SPEC_FLEET, {"filter=protocol=tcp", "filter=remote-ip=1.2.3"}, "filters[1].remote_ip"},
	{"all five fields", FC_SPEC_FLEET, {"filter=protocol=udp,local-ip=198.18.0.1,remote-ip=198.18.0.2,local-port=5000-5010,remote-port=53"}, OK},
	/* cloud-API JSON filters */
	{"json filters", FC_SPEC_FLEET, {"filters-json=[{\"protocol\":\"TCP\",\"remoteIPAddress\":\"198.18.0.2\",\"localPort\":\"80;443\"}]"}, OK},
	{"json port as integer", FC_SPEC_FLEET, {"filters-json=[{\"remotePort\":443}]"}, OK},
	{"json port out of range", FC_SPEC_FLEET, {"filters-json=[{\"localPort\":\"70000\"}]"}, "filters[0].local_port"},
	{"json unknown key", FC_SPEC_FLEET, {"filters-json=[{\"remoteIP\":\"198.18.0.2\"}]"}, "filters[0].remoteIP"},
	{"json not an array", FC_SPEC_FLEET, {"filters-json={\"protocol\":\"TCP\"}"}, "filters"},
	{"json syntax error", FC_SPEC_FLEET, {"filters-json=[{\"protocol\":}]"}, "filters"},
	{"json bad protocol", FC_SPEC_FLEET, {"filters-json=[{\"protocol\":\"SCTP\"}]"}, "filters[0].protocol"},
	/* file paths */
	{"file path .cap", FC_SPEC_FLEET, {"file-path=x/y.cap"}, OK},
	{"file path .txt", FC_SPEC_FLEET, {"file-path=x/y.txt"}, "file_path"},
	{"file path bare .pcap", FC_SPEC_FLEET, {"file-path=.pcap"}, "file_path"},
	{"file path ..", FC_SPEC_FLEET, {"file-path=../y.pcap"}, "file_path"},
	{"file path inner ..", FC_SPEC_FLEET, {"file-path=a/../../y.pcap"}, "file_path"},
	{"file path a..b", FC_SPEC_FLEET, {"file-path=a..b.pcap"}, OK},
	{"file path of 1025", FC_SPEC_FLEET, {path1025}, "file_path"},
	{"no storage at all", FC_SPEC_FLEET, {"file-path="}, "file_path"},
	/* blob URLs */
	{"blob only", FC_SPEC_FLEET, {"file-path=", "blob-url=https://acct1.blob.core.windows.net/captures/a/b.pcap"}, OK},
	{"blob plain http to azure", FC_SPEC_FLEET, {"blob-url=http://acct1.blob.core.windows.net/captures/a.pcap"}, "blob_url"},
	{"blob emulator url", FC_SPEC_FLEET, {"blob-url=http://127.0.0.1:10000/devstoreaccount1/captures/a.pcap"}, OK},
	{"blob url with query", FC_SPEC_FLEET, {"blob-url=https://acct1.blob.core.windows.net/captures/a.pcap?sig=x"}, "blob_url"},
	{"blob bad container", FC_SPEC_FLEET, {"blob-url=https://acct1.blob.core.windows.net/Ca/a.pcap"}, "blob_url"},
	{"blob without name", FC_SPEC_FLEET, {"blob-url=https://acct1.blob.core.windows.net/captures/"}, "blob_url"},
	{"blob bad account", FC_SPEC_FLEET, {"blob-url=https://AB.blob.core.windows.net/captures/a.pcap"}, "blob_url"},
	{"blob not a blob host", FC_SPEC_FLEET, {"blob-url=https://example.com/captures/a.pcap"}, "blob_url"},
	{"sas with url", FC_SPEC_FLEET, {"blob-url=https://acct1.blob.core.windows.net/c01/a.pcap", "blob-sas=?sv=2021-08-06&sp=cw&sig=abc%3D"}, OK},
	{"sas without url", FC_SPEC_FLEET, {"blob-sas=sv=2021&sig=abc"}, "blob_sas"},
	{"sas without sig", FC_SPEC_FLEET, {"blob-url=https://acct1.blob.core.windows.net/c01/a.pcap", "blob-sas=sv=2021&sp=cw"}, "blob_sas"},
	/* interfaces */
	{"interface any", FC_SPEC_FLEET, {"interface=any"}, OK},
	{"interface of 15", FC_SPEC_FLEET, {"interface=abcdefghijklmno"}, OK},
	{"interface of 16", FC_SPEC_FLEET, {"interface=abcdefghijklmnop"}, "interfaces[0]"},
	{"interface twice", FC_SPEC_FLEET, {"interface=eth0", "interface=eth0"}, "interfaces[1]"},
	{"interface with /", FC_SPEC_FLEET, {"interface=a/b"}, "interfaces[0]"},
	/* local capture and alert templates */
	{"local capture", FC_SPEC_LOCAL, {"interface=lo", "file-path=/tmp/x.pcap"}, OK},
	{"local may use ..", FC_SPEC_LOCAL, {"interface=lo", "file-path=../x.pcap"}, OK},
	{"local without interface", FC_SPEC_LOCAL, {"file-path=/tmp/x.pcap"}, "interfaces"},
	{"local without output", FC_SPEC_LOCAL, {"interface=lo"}, "file_path"},
	{"local with blob but no file", FC_SPEC_LOCAL, {"interface=lo", "blob-url=https://acct1.blob.core.windows.net/c01/a.pcap"}, "file_path"},
	{"template without names", FC_SPEC_TEMPLATE, {"filter=protocol=tcp,remote-port=443", "time-limit=300", "file-path=alerts/{name}.pcap"}, OK},
	{"template without output", FC_SPEC_TEMPLATE, {"time-limit=300"}, "file_path"},
	{"template with bad name", FC_SPEC_TEMPLATE, {"name=-x"}, "name"},
	{"unknown option", FC_SPEC_FLEET, {"colour=blue"}, "colour"},
};
/* clang-format on */

/* Applies "key=value" to spec, routing filters-json to the JSON parser. */
static int apply(fc_spec_t *spec, const char *setting, struct fc_field_errors *errs)
{
	char key[64];
	const char *eq = strchr(setting, '=');

	assert_non_null(eq);
	assert_true((size_t)(eq - setting) < sizeof(key));
	memcpy(key, setting, (size_t)(eq - setting));
	key[eq - setting] = '\0';
	if (strcmp(key, "filters-json") == 0)
		return fc_spec_add_filters_json(spec, eq + 1, errs);
	return fc_spec_set(spec, key, eq + 1, errs);
}

static void fill(char *buf, const char *prefix, size_t total, char c)
{
	size_t n = strlen(prefix);
	memcpy(buf, prefix, n);
	memset(buf + n, c, total - n);
	buf[total] = '\0';
}

static int setup_long_values(void **state)
{
	(void)state;
	fill(long_name80, "name=", 5 + 80, 'n');
	fill(long_name81, "name=", 5 + 81, 'n');
	fill(tenant64, "subscription=", 13 + 64, 's');
	fill(tenant65, "subscription=", 13 + 65, 's');
	fill(path1025, "file-path=", 10 + 1025 - 5, 'p');
	memcpy(path1025 + 10 + 1025 - 5, ".pcap", 6);
	return 0;
}

static void test_table(void **state)
{
	size_t failures = 0;
	(void)state;

	assert_true(sizeof(cases) / sizeof(cases[0]) >= 60);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct fc_field_errors errs;
		fc_spec_t *spec = fc_spec_new();
		char text[4096];

		fc_field_errors_init(&errs);
		if (c->mode == FC_SPEC_FLEET)
			for (size_t j = 0; j < sizeof(fleet_base) / sizeof(fleet_base[0]); j++)
				assert_int_equal(apply(spec, fleet_base[j], &errs), 0);
		for (size_t j = 0; j < 6 && c->set[j]; j++)
			apply(spec, c->set[j], &errs);
		if (errs.count == 0)
			fc_spec_validate(spec, c->mode, &errs);
		fc_field_errors_format(&errs, text, sizeof(text));

		int ok = c->field ? fc_field_errors_has(&errs, c->field) : errs.count == 0;
		if (!ok) {
			failures++;
			print_error("case %zu \"%s\": expected %s%s, got [%s]\n", i, c->what,
				    c->field ? "an error on " : "valid", c->field ? c->field : "",
				    text);
		}
		/* Every error message says something beyond the field name. */
		for (size_t e = 0; e < errs.count; e++)
			assert_true(strlen(errs.items[e].message) > 8);
		fc_spec_free(spec);
	}
	assert_int_equal(failures, 0);
}

/* Values that arrive in a protobuf message skip the text setter's bounds. */
static void test_proto_values(void **state)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = fc_spec_new();
	(void)state;

	fc_field_errors_init(&errs);
	for (size_t j = 0; j < sizeof(fleet_base) / sizeof(fleet_base[0]); j++)
		assert_int_equal(apply(spec, fleet_base[j], &errs), 0);
	assert_int_equal(fc_spec_add_filter(spec, "protocol=tcp", &errs), 0);
	assert_int_equal(fc_spec_validate(spec, FC_SPEC_FLEET, &errs), 0);

	spec->time_limit_s = 18001;
	spec->queue_timeout_s = 86401;
	spec->filters[0]->protocol = (Fleetcap__V1__Protocol)7;
	assert_int_equal(fc_spec_set(spec, "file-count", "5", &errs), 0);
	spec->ring->file_count = 10001;
	spec->ring->session_time_limit_s = 604801;
	spec->origin = malloc(sizeof(*spec->origin));
	fleetcap__v1__origin__init(spec->origin);
	spec->origin->kind = FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT;

	assert_int_equal(fc_spec_validate(spec, FC_SPEC_FLEET, &errs), -1);
	assert_true(fc_field_errors_has(&errs, "time_limit_s"));
	assert_true(fc_field_errors_has(&errs, "queue_timeout_s"));
	assert_true(fc_field_errors_has(&errs, "filters[0].protocol"));
	assert_true(fc_field_errors_has(&errs, "ring.file_count"));
	assert_true(fc_field_errors_has(&errs, "ring.session_time_limit_s"));
	assert_true(fc_field_errors_has(&errs, "origin.alert_id"));
	assert_true(fc_field_errors_has(&errs, "origin.rule"));
	fc_spec_free(spec);
}

/* Errors name the value and what was expected, and never echo a SAS token. */
static void test_messages(void **state)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = fc_spec_new();
	const char *secret = "sv=2021-08-06&sp=cw&se=2030 SECRETSIG";
	char text[4096];
	(void)state;

	fc_field_errors_init(&errs);
	assert_int_equal(fc_spec_add_filter(spec, "remote-port=80;70000", &errs), 0);
	assert_int_equal(fc_spec_set(spec, "blob-url",
				     "https://acct1.blob.core.windows.net/c01/a.pcap", &errs),
			 0);
	assert_int_equal(fc_spec_set(spec, "blob-sas", secret, &errs), 0);
	assert_int_equal(fc_spec_validate(spec, FC_SPEC_FLEET, &errs), -1);
	fc_field_errors_format(&errs, text, sizeof(text));
	assert_non_null(strstr(text, "filters[0].remote_port: \"80;70000\""));
	assert_non_null(strstr(text, "70000"));
	assert_non_null(strstr(text, "0-65535"));
	assert_non_null(strstr(text, "blob_sas"));
	assert_null(strstr(text, "SECRETSIG"));
	assert_null(strstr(text, "se=2030"));
	fc_spec_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_proto_values),
		cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, setup_long_values, NULL);
}
