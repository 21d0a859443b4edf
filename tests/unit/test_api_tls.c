/*
 * api_tls: a matching pair loads and is described; a key of another
 * certificate, a key others can read, a missing file and a file that is not
 * PEM are refused naming the file; a reload swaps in a renewed pair and a bad
 * one keeps the pair in use (what the certificate callback hands out).
 * Certificates come from tests/tls/test-cert.sh (openssl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_tls.h"

static char dir[] = "/tmp/fleetcap-test-tls-XXXXXX";
static char path[4][300];

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

static const char *file(int i, const char *name)
{
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static int setup(void **state)
{
	char cmd[600];
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s %s one >/dev/null && %s %s two >/dev/null",
		 FLEETCAP_TEST_CERT, dir, FLEETCAP_TEST_CERT, dir);
	return sh(cmd);
}

static int teardown(void **state)
{
	char cmd[400];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return sh(cmd);
}

/* The first certificate the callback hands out, as DER. */
static gnutls_datum_t served(void)
{
	gnutls_pcert_st *pcert = NULL;
	unsigned int n = 0;
	gnutls_privkey_t key = NULL;
	assert_int_equal(api_tls_retrieve(NULL, NULL, 0, NULL, 0, &pcert, &n, &key), 0);
	assert_true(n >= 1);
	assert_non_null(key);
	return pcert[0].cert;
}

static void test_load_and_reload(void **state)
{
	struct fc_err err;
	char cmd[700];
	(void)state;

	struct api_tls *t = api_tls_load(file(0, "one.pem"), file(1, "one.key"), &err);
	assert_non_null(t);
	assert_non_null(strstr(api_tls_describe(t), "CN=one"));
	gnutls_datum_t first = served();

	/* Renewed in place. */
	snprintf(cmd, sizeof(cmd), "cp %s/two.pem %s/one.pem && cp -p %s/two.key %s/one.key", dir,
		 dir, dir, dir);
	assert_int_equal(sh(cmd), 0);
	assert_int_equal(api_tls_reload(t, &err), 0);
	assert_non_null(strstr(api_tls_describe(t), "CN=two"));
	gnutls_datum_t second = served();
	assert_false(first.size == second.size && memcmp(first.data, second.data, first.size) == 0);

	/* A key others can read: refused, "two" stays. */
	snprintf(cmd, sizeof(cmd), "chmod 644 %s/one.key", dir);
	assert_int_equal(sh(cmd), 0);
	assert_int_equal(api_tls_reload(t, &err), -1);
	assert_non_null(strstr(err.msg, "mode 644 lets others read it"));
	assert_non_null(strstr(err.msg, "one.key"));
	gnutls_datum_t still = served();
	assert_int_equal(still.size, second.size);
	assert_memory_equal(still.data, second.data, still.size);
	api_tls_free(t);
}

static void test_refusals(void **state)
{
	struct fc_err err;
	char cmd[400];
	(void)state;

	assert_null(api_tls_load(file(0, "two.pem"), file(1, "missing.key"), &err));
	assert_non_null(strstr(err.msg, "tls.key"));
	assert_non_null(strstr(err.msg, "missing.key"));

	/* A key of another certificate. */
	snprintf(cmd, sizeof(cmd), "cd %s && cp -p ca.key other.key && chmod 600 other.key", dir);
	assert_int_equal(sh(cmd), 0);
	assert_null(api_tls_load(file(0, "two.pem"), file(1, "other.key"), &err));
	assert_non_null(strstr(err.msg, "does not match the first certificate"));

	/* Not PEM. */
	snprintf(cmd, sizeof(cmd), "echo hello > %s/junk.pem", dir);
	assert_int_equal(sh(cmd), 0);
	assert_null(api_tls_load(file(0, "junk.pem"), file(1, "two.key"), &err));
	assert_non_null(strstr(err.msg, "tls.cert"));
	assert_null(api_tls_load(file(0, "two.pem"), file(1, "junk.pem"), &err));
	assert_non_null(strstr(err.msg, "tls.key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_reload),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
