/*
 * Protobuf round trips of every message in proto/fleetcap.proto.
 *
 * Each message is filled through its descriptor, so every field (and every
 * field added later) gets a distinct non-default value, repeated fields get
 * two elements and sub-messages are filled recursively. The message is
 * packed, unpacked and compared field by field with the original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fleetcap.pb-c.h"

static const ProtobufCMessageDescriptor *const messages[] = {
	&fleetcap__v1__filter__descriptor,
	&fleetcap__v1__ring_buffer__descriptor,
	&fleetcap__v1__origin__descriptor,
	&fleetcap__v1__capture_spec__descriptor,
	&fleetcap__v1__command__descriptor,
	&fleetcap__v1__alert_event__descriptor,
	&fleetcap__v1__job__descriptor,
	&fleetcap__v1__counters__descriptor,
	&fleetcap__v1__capture_file__descriptor,
	&fleetcap__v1__capture_report__descriptor,
	&fleetcap__v1__capture_status__descriptor,
	&fleetcap__v1__ledger_entry__descriptor,
	&fleetcap__v1__ledger_tombstone__descriptor,
	&fleetcap__v1__alert_cooldown__descriptor,
	&fleetcap__v1__ledger_state__descriptor,
	&fleetcap__v1__worker_heartbeat__descriptor,
};

static size_t element_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	fail_msg("unknown field type %d", f->type);
	return 0;
}

static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, unsigned seed);

/* Writes a value derived from the field number and seed into slot. */
static void set_value(const ProtobufCFieldDescriptor *f, void *slot, unsigned seed)
{
	unsigned v = f->id * 7u + seed; /* distinct and never 0 */
	char text[64];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)slot = -(int32_t)v;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = 0xfffff000u + v; /* exercise the high bit */
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		*(int *)slot = e->values[1 + v % (e->n_values - 1)].value;
		break;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)slot = 1700000000000LL + v;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)slot = 0xfffffffff0000000ull + v;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)slot = (float)v + 0.5f;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)slot = v + 0.25;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = 1;
		break;
	case PROTOBUF_C_TYPE_STRING:
		snprintf(text, sizeof(text), "%s-%u-\xc3\xa9", f->name, seed); /* UTF-8 too */
		*(char **)slot = strdup(text);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = slot;
		b->len = 32;
		b->data = malloc(b->len);
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(v + i * 31); /* includes 0 bytes */
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)slot = fill(f->descriptor, seed + 1);
		break;
	}
}

static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, unsigned seed)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);

	assert_non_null(m);
	d->message_init(m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *member = (char *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t size = element_size(f);
			char *array = calloc(2, size);
			assert_non_null(array);
			for (unsigned j = 0; j < 2; j++)
				set_value(f, array + j * size, seed + 100 * (j + 1));
			*(size_t *)((char *)m + f->quantifier_offset) = 2;
			*(void **)member = array;
		} else {
			set_value(f, member, seed);
		}
	}
	return m;
}

static void assert_same(const ProtobufCMessage *a, const ProtobufCMessage *b);

static void assert_same_value(const ProtobufCFieldDescriptor *f, const void *x, const void *y)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (strcmp(*(char *const *)x, *(char *const *)y) != 0)
			fail_msg("field %s: \"%s\" != \"%s\"", f->name, *(char *const *)x,
				 *(char *const *)y);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *p = x, *q = y;
		assert_int_equal(p->len, q->len);
		assert_memory_equal(p->data, q->data, p->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		if (!*(void *const *)x) {
			assert_null(*(void *const *)y);
			break;
		}
		assert_non_null(*(void *const *)y);
		assert_same(*(const ProtobufCMessage *const *)x,
			    *(const ProtobufCMessage *const *)y);
		break;
	default:
		if (memcmp(x, y, element_size(f)) != 0)
			fail_msg("field %s differs after the round trip", f->name);
	}
}

static void assert_same(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	const ProtobufCMessageDescriptor *d = a->descriptor;

	assert_ptr_equal(d, b->descriptor);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)a + f->quantifier_offset);
			size_t size = element_size(f);
			assert_int_equal(n,
					 *(const size_t *)((const char *)b + f->quantifier_offset));
			for (size_t j = 0; j < n; j++)
				assert_same_value(f, *(char *const *)x + j * size,
						  *(char *const *)y + j * size);
		} else {
			assert_same_value(f, x, y);
		}
	}
}

static void test_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		const ProtobufCMessageDescriptor *d = messages[i];
		ProtobufCMessage *m = fill(d, 1);
		size_t size = protobuf_c_message_get_packed_size(m);
		uint8_t *buf = malloc(size);

		assert_true(protobuf_c_message_check(m));
		assert_int_equal(protobuf_c_message_pack(m, buf), size);
		ProtobufCMessage *back = protobuf_c_message_unpack(d, NULL, size, buf);
		if (!back)
			fail_msg("%s: unpack failed", d->name);
		assert_same(m, back);

		/* A truncated record must be refused, never half-read. */
		assert_null(protobuf_c_message_unpack(d, NULL, size - 1, buf));

		protobuf_c_message_free_unpacked(back, NULL);
		protobuf_c_message_free_unpacked(m, NULL);
		free(buf);
	}
}

/* A zero-filled message packs to nothing and reads back as all defaults. */
static void test_empty_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		const ProtobufCMessageDescriptor *d = messages[i];
		ProtobufCMessage *m = calloc(1, d->sizeof_message);
		d->message_init(m);
		assert_int_equal(protobuf_c_message_get_packed_size(m), 0);
		ProtobufCMessage *back = protobuf_c_message_unpack(d, NULL, 0, (const uint8_t *)"");
		assert_non_null(back);
		assert_same(m, back);
		protobuf_c_message_free_unpacked(back, NULL);
		free(m);
	}
}

/* Enum value 0 is the default everywhere (proto/README.md rule 4). */
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
	assert_string_equal(protobuf_c_enum_descriptor_get_value(
				    &fleetcap__v1__stop_reason__descriptor,
				    FLEETCAP__V1__STOP_REASON__STOP_REASON_SESSION_BYTES_EXCEEDED)
				    ->name,
			    "STOP_REASON_SESSION_BYTES_EXCEEDED");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_empty_messages),
		cmocka_unit_test(test_enum_zero_is_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
