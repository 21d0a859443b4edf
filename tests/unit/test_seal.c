/*
 * fc_seal: a secret sealed for a key opens with that key and the same
 * associated data only; another key, other associated data, or any changed
 * byte of the sealed value is refused; a key file is made 0600, read back
 * the same, and refused when others can read it. Sealing is randomised: the
 * same secret sealed twice differs, and the secret never appears in the
 * sealed bytes.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fc_seal.h"

#define SECRET "sv=2024-05-04&sr=c&sp=cw&se=2030-01-01&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"

static uint8_t *packed(const fc_sealed_t *s, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(&s->base);
	uint8_t *buf = malloc(*len);
	protobuf_c_message_pack(&s->base, buf);
	return buf;
}

static void test_round_trip_and_refusals(void **state)
{
	struct fc_err err;
	struct fc_seal_key *worker = fc_seal_key_new(&err), *other = fc_seal_key_new(&err);
	char *out = NULL;
	(void)state;

	assert_non_null(worker);
	assert_non_null(other);
	fc_sealed_t *s =
		fc_seal(fc_seal_key_public(worker), "sub/r/cap#1", SECRET, strlen(SECRET), &err);
	assert_non_null(s);
	assert_int_equal(fc_seal_open(worker, "sub/r/cap#1", s, &out, &err), 0);
	assert_string_equal(out, SECRET);
	free(out);

	/* Another worker's key, another session: refused, with no secret said. */
	assert_int_equal(fc_seal_open(other, "sub/r/cap#1", s, &out, &err), -1);
	assert_null(out);
	assert_null(strstr(err.msg, "sig="));
	assert_int_equal(fc_seal_open(worker, "sub/r/cap#2", s, &out, &err), -1);
	/* Even told it is for other's key, other's key cannot open it. */
	memcpy(s->recipient_key.data, fc_seal_key_public(other), FC_SEAL_KEY_LEN);
	assert_int_equal(fc_seal_open(other, "sub/r/cap#1", s, &out, &err), -1);
	memcpy(s->recipient_key.data, fc_seal_key_public(worker), FC_SEAL_KEY_LEN);

	/* Every byte of the nonce and the ciphertext (with its tag) is checked. */
	ProtobufCBinaryData *parts[] = {&s->nonce, &s->ciphertext, &s->ephemeral_key};
	for (size_t p = 0; p < 3; p++)
		for (size_t i = 0; i < parts[p]->len; i++) {
			parts[p]->data[i] ^= 0x01;
			if (fc_seal_open(worker, "sub/r/cap#1", s, &out, &err) == 0)
				fail_msg("part %zu byte %zu changed, and it still opened", p, i);
			parts[p]->data[i] ^= 0x01;
		}
	assert_int_equal(fc_seal_open(worker, "sub/r/cap#1", s, &out, &err), 0);
	free(out);

	/* Randomised, and the secret is nowhere in the bytes on the wire. */
	fc_sealed_t *again =
		fc_seal(fc_seal_key_public(worker), "sub/r/cap#1", SECRET, strlen(SECRET), &err);
	size_t a_len, b_len;
	uint8_t *a = packed(s, &a_len), *b = packed(again, &b_len);
	assert_int_equal(a_len, b_len);
	assert_memory_not_equal(a, b, a_len);
	assert_null(memmem(a, a_len, "sig=", 4));
	assert_null(memmem(a, a_len, "c2VjcmV0", 8));
	free(a);
	free(b);
	protobuf_c_message_free_unpacked(&again->base, NULL);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	fc_seal_key_free(worker);
	fc_seal_key_free(other);
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/fleetcap-seal-XXXXXX", path[64];
	struct fc_err err;
	struct stat st;
	char *out;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/seal.key", dir);
	struct fc_seal_key *made = fc_seal_key_open(path, &err);
	assert_non_null(made);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct fc_seal_key *read = fc_seal_key_open(path, &err);
	assert_non_null(read);
	assert_memory_equal(fc_seal_key_public(made), fc_seal_key_public(read), FC_SEAL_KEY_LEN);
	fc_sealed_t *s = fc_seal(fc_seal_key_public(made), "x", "secret", 6, &err);
	assert_int_equal(fc_seal_open(read, "x", s, &out, &err), 0); /* after a restart */
	assert_string_equal(out, "secret");
	free(out);
	protobuf_c_message_free_unpacked(&s->base, NULL);

	chmod(path, 0644);
	assert_null(fc_seal_key_open(path, &err));
	assert_non_null(strstr(err.msg, "readable by others"));
	FILE *f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_null(fc_seal_key_open(path, &err));
	assert_non_null(strstr(err.msg, "not an X25519"));
	fc_seal_key_free(made);
	fc_seal_key_free(read);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_refusals),
		cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
