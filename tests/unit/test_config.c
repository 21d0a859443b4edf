/*
 * The config loader (common/fc_config.c): defaults, files, environment and
 * -X precedence, prefixes, bounds, and the errors that stop start-up.
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

#include "fc_config.h"

struct test_conf {
	char *brokers;
	char *host_id;
	long long sessions_max;
	long long quota_default;
	int debug;
	struct fc_kv_list kafka;
	struct fc_kv_list quota;
	struct fc_kv_list blob_keys;
};

#define OFF(f) offsetof(struct test_conf, f)

static const struct fc_cfg_def defs[] = {
	{"brokers", FC_CFG_STR, NULL, 0, 0, OFF(brokers), FC_CFG_REQUIRED, "FLEETCAP_BROKERS", 0,
	 "Kafka bootstrap servers"},
	{"host.id", FC_CFG_STR, NULL, 1, 128, OFF(host_id), FC_CFG_REQUIRED, NULL, 0,
	 "this host's id"},
	{"sessions.max", FC_CFG_INT, "4", 1, 64, OFF(sessions_max), 0, NULL, 0,
	 "concurrent sessions"},
	{"quota.default", FC_CFG_INT, "10", 0, 100000, OFF(quota_default), 0, NULL, 0,
	 "default quota"},
	{"debug", FC_CFG_BOOL, "false", 0, 0, OFF(debug), 0, NULL, 0, "debug mode"},
	{"kafka.", FC_CFG_MAP, NULL, 0, 0, OFF(kafka), 0, NULL, FC_CFG_STR,
	 "librdkafka properties"},
	{"quota.", FC_CFG_MAP, NULL, 0, 100000, OFF(quota), 0, NULL, FC_CFG_INT,
	 "quota per subscription"},
	{"blob.key.", FC_CFG_MAP, NULL, 0, 0, OFF(blob_keys), FC_CFG_SECRET, NULL, FC_CFG_STR,
	 "account keys"},
	{NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, NULL},
};

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/fc_test_config_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int teardown(void **state)
{
	(void)state;
	if (path[0])
		unlink(path);
	path[0] = '\0';
	unsetenv("FLEETCAP_BROKERS");
	return 0;
}

static void test_defaults(void **state)
{
	struct test_conf c;
	struct fc_err err;
	char *xargs[] = {"brokers=127.0.0.1:9092", "host.id=h1"};
	(void)state;

	assert_int_equal(fc_config_load(defs, &c, NULL, xargs, 2, &err), 0);
	assert_int_equal(c.sessions_max, 4);
	assert_int_equal(c.quota_default, 10);
	assert_int_equal(c.debug, 0);
	assert_int_equal(c.kafka.count, 0);
	assert_string_equal(c.brokers, "127.0.0.1:9092");
	fc_config_free(defs, &c);
}

static void test_file_env_and_overrides(void **state)
{
	struct test_conf c;
	struct fc_err err;
	char *xargs[] = {"sessions.max=8", "kafka.linger.ms=5"};
	(void)state;

	write_file("# worker config\n"
		   "\n"
		   "   # indented comment\n"
		   "brokers = file-broker:9092\n"
		   "host.id=  vm-17  \n"
		   "sessions.max = 2\n"
		   "debug = yes\n"
		   "kafka.linger.ms = 100\n"
		   "kafka.sasl.password = pa#ss\n"
		   "quota.default = 20\n"
		   "quota.sub-a = 3\n"
		   "quota.sub-a = 4\n"
		   "blob.key.acct1 = c2VjcmV0\r\n");
	setenv("FLEETCAP_BROKERS", "env-broker:9092", 1);
	assert_int_equal(fc_config_load(defs, &c, path, xargs, 2, &err), 0);
	assert_string_equal(c.brokers, "env-broker:9092"); /* env beats the file */
	assert_string_equal(c.host_id, "vm-17");
	assert_int_equal(c.sessions_max, 8); /* -X beats the file */
	assert_int_equal(c.debug, 1);
	assert_int_equal(c.quota_default, 20);			/* the exact key, not the prefix */
	assert_string_equal(fc_kv_get(&c.quota, "sub-a"), "4"); /* last one wins */
	assert_null(fc_kv_get(&c.quota, "default"));
	assert_string_equal(fc_kv_get(&c.kafka, "linger.ms"), "5");
	assert_string_equal(fc_kv_get(&c.kafka, "sasl.password"), "pa#ss");
	assert_string_equal(fc_kv_get(&c.blob_keys, "acct1"), "c2VjcmV0");
	fc_config_free(defs, &c);

	/* -X beats the environment too. */
	char *xb[] = {"brokers=x-broker:1"};
	assert_int_equal(fc_config_load(defs, &c, path, xb, 1, &err), 0);
	assert_string_equal(c.brokers, "x-broker:1");
	fc_config_free(defs, &c);
}

/* Loads text and expects failure with every needle in the message. */
static void expect_failure(const char *text, char **xargs, size_t n, const char *const *needles)
{
	struct test_conf c;
	struct fc_err err;

	write_file(text);
	assert_int_equal(fc_config_load(defs, &c, path, xargs, n, &err), -1);
	assert_int_equal(err.action, FC_ERR_INVALID);
	for (; *needles; needles++) {
		if (!strstr(err.msg, *needles))
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, *needles);
	}
	fc_config_free(defs, &c);
	unlink(path);
}

static void test_errors(void **state)
{
	(void)state;
	expect_failure("brokers=b\nhost.id=h\nsesions.max=3\n", NULL, 0,
		       (const char *[]){":3", "unknown config key", "sesions.max", NULL});
	expect_failure("brokers=b\nhost.id=h\nsessions.max=65\n", NULL, 0,
		       (const char *[]){":3", "sessions.max", "\"65\"", "1 to 64", NULL});
	expect_failure("brokers=b\nhost.id=h\nsessions.max=0\n", NULL, 0,
		       (const char *[]){"sessions.max", "\"0\"", NULL});
	expect_failure("brokers=b\nhost.id=h\nsessions.max=4x\n", NULL, 0,
		       (const char *[]){"sessions.max", "\"4x\"", NULL});
	expect_failure("brokers=b\nhost.id=h\ndebug=maybe\n", NULL, 0,
		       (const char *[]){"debug", "\"maybe\"", "true or false", NULL});
	expect_failure("brokers=b\nhost.id\n", NULL, 0, (const char *[]){":2", "no '='", NULL});
	expect_failure("brokers=b\n= value\n", NULL, 0, (const char *[]){":2", "key", NULL});
	expect_failure("brokers=b\n", NULL, 0,
		       (const char *[]){"missing required config key host.id", NULL});
	expect_failure("host.id=h\n", NULL, 0,
		       (const char *[]){"brokers", "FLEETCAP_BROKERS", NULL});
	expect_failure("brokers=b\nhost.id=h\nquota.sub-a=-1\n", NULL, 0,
		       (const char *[]){"quota.sub-a", "\"-1\"", NULL});
	expect_failure("brokers=b\nhost.id=h\nkafka.=1\n", NULL, 0,
		       (const char *[]){"unknown config key", "\"kafka.\"", NULL});
	expect_failure("brokers=b\nhost.id=h\n", (char *[]){"sessions.max"}, 1,
		       (const char *[]){"-X", "key=value", NULL});
	expect_failure("brokers=b\nhost.id=h\n", (char *[]){"nope=1"}, 1,
		       (const char *[]){"-X", "nope", NULL});
	/* host.id has a length bound of 128. */
	char text[512];
	snprintf(text, sizeof(text), "brokers=b\nhost.id=%0129d\n", 0);
	expect_failure(text, NULL, 0, (const char *[]){"host.id", "at most 128", NULL});
}

static void test_secret_never_echoed(void **state)
{
	struct test_conf c;
	struct fc_err err;
	char big[6000];
	(void)state;

	memset(big, 'K', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *xargs[1];
	char arg[6100];
	snprintf(arg, sizeof(arg), "blob.key.acct1=%s", big);
	xargs[0] = arg;
	write_file("brokers=b\nhost.id=h\n");
	assert_int_equal(fc_config_load(defs, &c, path, xargs, 1, &err), -1);
	assert_non_null(strstr(err.msg, "blob.key.acct1"));
	assert_non_null(strstr(err.msg, "value hidden"));
	assert_null(strstr(err.msg, "KKKK"));
	fc_config_free(defs, &c);
}

static void test_missing_file(void **state)
{
	struct test_conf c;
	struct fc_err err;
	(void)state;

	assert_int_equal(fc_config_load(defs, &c, "/nonexistent/fleetcap.conf", NULL, 0, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/fleetcap.conf"));
	fc_config_free(defs, &c);
}

static void test_help_lists_every_key(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	(void)state;

	fc_config_print_help(defs, out);
	fclose(out);
	for (const struct fc_cfg_def *d = defs; d->key; d++)
		assert_non_null(strstr(buf, d->key));
	assert_non_null(strstr(buf, "1..64, default 4"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_file_env_and_overrides, teardown),
		cmocka_unit_test_teardown(test_errors, teardown),
		cmocka_unit_test_teardown(test_secret_never_echoed, teardown),
		cmocka_unit_test_teardown(test_missing_file, teardown),
		cmocka_unit_test_teardown(test_help_lists_every_key, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
