/*
 * The names users see for the proto's enums (fc_names.c) against the schema
 * itself, value by value through the generated descriptors: every value of
 * CaptureState, StopReason, ErrorCode and Severity has its name, spelled as
 * the proto name's CamelCase ("STOP_REASON_TIME_EXCEEDED" → "TimeExceeded"),
 * so a value added to the proto without a name fails here, not in a status
 * that says "Unknown". Value 0 is the default of every enum
 * (proto/README.md rule 4); NONE has the empty name.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fc_names.h"
#include "fleetcap.pb-c.h"

/* "STOP_REASON_TIME_EXCEEDED" without "STOP_REASON_" → "TimeExceeded". */
static void camel(const char *proto_name, size_t prefix_len, char *out, size_t len)
{
	size_t n = 0;
	int upper = 1;

	for (const char *c = proto_name + prefix_len; *c && n + 1 < len; c++) {
		if (*c == '_') {
			upper = 1;
			continue;
		}
		out[n++] = upper ? *c : (char)tolower((unsigned char)*c);
		upper = 0;
	}
	out[n] = '\0';
}

static void check_enum(const ProtobufCEnumDescriptor *d, const char *prefix,
		       const char *(*name_of)(int), const char *none)
{
	char expected[64];

	assert_int_equal(d->values[0].value, 0);
	for (unsigned i = 0; i < d->n_values; i++) {
		const ProtobufCEnumValue *v = &d->values[i];
		assert_int_equal(strncmp(v->name, prefix, strlen(prefix)), 0);
		if (none && strcmp(v->name + strlen(prefix), none) == 0)
			snprintf(expected, sizeof(expected), "%s", "");
		else
			camel(v->name, strlen(prefix), expected, sizeof(expected));
		if (strcmp(name_of(v->value), expected) != 0)
			fail_msg("%s (%d): named \"%s\", expected \"%s\"", v->name, v->value,
				 name_of(v->value), expected);
	}
	assert_string_equal(name_of((int)d->n_values + 100), "Unknown");
	assert_string_equal(name_of(-1), "Unknown");
}

static void test_states(void **state)
{
	(void)state;
	check_enum(&fleetcap__v1__capture_state__descriptor, "CAPTURE_STATE_", fc_state_name, NULL);
}

static void test_stop_reasons(void **state)
{
	(void)state;
	check_enum(&fleetcap__v1__stop_reason__descriptor, "STOP_REASON_", fc_stop_reason_name,
		   "NONE");
}

static void test_error_codes(void **state)
{
	(void)state;
	check_enum(&fleetcap__v1__error_code__descriptor, "ERROR_CODE_", fc_error_code_name,
		   "NONE");
}

/* Severities are read from alerts in any case; each proto value but
 * UNSPECIFIED (0, an alert that says none) has one. */
static void test_severities(void **state)
{
	const ProtobufCEnumDescriptor *d = &fleetcap__v1__severity__descriptor;
	char name[64];

	(void)state;
	camel(d->values[0].name, strlen("SEVERITY_"), name, sizeof(name));
	assert_int_equal(fc_severity_parse(name), -1);
	for (unsigned i = 1; i < d->n_values; i++) {
		camel(d->values[i].name, strlen("SEVERITY_"), name, sizeof(name));
		assert_int_equal(fc_severity_parse(name), d->values[i].value);
		for (char *c = name; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		assert_int_equal(fc_severity_parse(name), d->values[i].value);
	}
	assert_int_equal(fc_severity_parse("Warn"), -1);
	assert_int_equal(fc_severity_parse(""), -1);
}

/* Value 0 is the default of every enum of the schema (proto/README.md rule 4). */
static void test_enum_zero_is_default(void **state)
{
	const ProtobufCEnumDescriptor *const enums[] = {
		&fleetcap__v1__protocol__descriptor,	 &fleetcap__v1__capture_state__descriptor,
		&fleetcap__v1__stop_reason__descriptor,	 &fleetcap__v1__error_code__descriptor,
		&fleetcap__v1__severity__descriptor,	 &fleetcap__v1__origin_kind__descriptor,
		&fleetcap__v1__command_kind__descriptor, &fleetcap__v1__job_kind__descriptor,
		&fleetcap__v1__report_kind__descriptor,
	};
	(void)state;
	for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++)
		assert_int_equal(enums[i]->values[0].value, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_stop_reasons),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_severities),
		cmocka_unit_test(test_enum_zero_is_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
