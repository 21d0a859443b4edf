/*
 * The capture engine's output side, without packets from the network: what
 * lands in the file byte for byte (across many writer hand-overs, O_DIRECT
 * or not), the SHA-256, the session byte limit, the ring buffer's names and
 * file count, and the refusal to overwrite.
 */
#include <dirent.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wk_output.h"

static char dir[64];

static void sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Record i: caplen varies from 1 to 1500 bytes, its bytes derive from i. */
static void record(uint32_t i, struct pcap_pkthdr *h, unsigned char *data)
{
	h->ts.tv_sec = 1700000000 + i;
	h->ts.tv_usec = i % 1000000000;
	h->caplen = 1 + (i * 7919) % 1500;
	h->len = h->caplen + i % 3;
	for (uint32_t k = 0; k < h->caplen; k++)
		data[k] = (unsigned char)(i * 31 + k);
}

/* Checks that file holds the header and then records first..first+count-1. */
static void check_records(const unsigned char *file, size_t len, uint32_t first, size_t count)
{
	unsigned char data[1600];
	struct pcap_pkthdr h;
	size_t off = WK_PCAP_FILE_HEADER;
	uint32_t v;

	memcpy(&v, file, 4);
	assert_int_equal(v, 0xa1b23c4d);
	for (size_t i = 0; i < count; i++) {
		record(first + (uint32_t)i, &h, data);
		assert_true(off + 16 + h.caplen <= len);
		memcpy(&v, file + off, 4);
		assert_int_equal(v, (uint32_t)h.ts.tv_sec);
		memcpy(&v, file + off + 4, 4);
		assert_int_equal(v, (uint32_t)h.ts.tv_usec);
		memcpy(&v, file + off + 8, 4);
		assert_int_equal(v, h.caplen);
		memcpy(&v, file + off + 12, 4);
		assert_int_equal(v, h.len);
		assert_memory_equal(file + off + 16, data, h.caplen);
		off += 16 + h.caplen;
	}
	assert_int_equal(off, len);
}

static struct wk_output_config config(const char *path)
{
	struct wk_output_config c = {0};
	c.path = path;
	c.linktype = 1;
	c.snaplen = 262144;
	c.nano = 1;
	return c;
}

static void test_bytes_land_exactly(void **state)
{
	char path[128], sha[65];
	unsigned char data[1600];
	struct pcap_pkthdr h;
	struct fc_err err;
	size_t len;
	const uint32_t n = 20000; /* about 15 MiB: many buffer hand-overs */

	(void)state;
	snprintf(path, sizeof(path), "%s/exact.pcap", dir);
	struct wk_output_config c = config(path);
	struct wk_output *o = wk_output_open(&c, &err);
	assert_non_null(o);
	for (uint32_t i = 0; i < n; i++) {
		record(i, &h, data);
		assert_int_equal(wk_output_write(o, &h, data, &err), WK_WRITE_OK);
	}
	assert_int_equal(access(path, F_OK), -1); /* only PATH.part until finished */
	assert_int_equal(wk_output_close(o, &err), 0);
	assert_int_equal(wk_output_file_count(o), 1);
	const struct wk_file *f = wk_output_file(o, 0);
	unsigned char *file = read_file(path, &len);
	check_records(file, len, 0, n);
	sha256_hex(file, len, sha);
	assert_string_equal(f->sha256, sha);
	assert_int_equal(f->size, len);
	assert_int_equal(wk_output_bytes(o), len);
	assert_int_equal(wk_output_packets(o), n);
	free(file);
	wk_output_destroy(o);

	/* Never overwritten. */
	o = wk_output_open(&c, &err);
	assert_null(o);
	assert_int_equal(err.action, FC_ERR_INVALID);
	assert_non_null(strstr(err.msg, "already exists"));
}

static void test_session_byte_limit(void **state)
{
	char path[128];
	unsigned char data[1600];
	struct pcap_pkthdr h;
	struct fc_err err;
	size_t len;
	uint32_t i;
	enum wk_write_result rc = WK_WRITE_OK;

	(void)state;
	snprintf(path, sizeof(path), "%s/limit.pcap", dir);
	struct wk_output_config c = config(path);
	c.session_bytes = 100000;
	struct wk_output *o = wk_output_open(&c, &err);
	assert_non_null(o);
	for (i = 0; rc == WK_WRITE_OK; i++) {
		record(i, &h, data);
		rc = wk_output_write(o, &h, data, &err);
	}
	assert_int_equal(rc, WK_WRITE_LIMIT);
	/* The record that would pass the limit was not written. */
	assert_true(wk_output_bytes(o) <= c.session_bytes);
	assert_true(wk_output_bytes(o) + 16 + h.caplen > c.session_bytes);
	assert_int_equal(wk_output_packets(o), i - 1);
	assert_int_equal(wk_output_close(o, &err), 0);
	unsigned char *file = read_file(path, &len);
	assert_int_equal(len, wk_output_bytes(o));
	check_records(file, len, 0, i - 1);
	free(file);
	wk_output_destroy(o);

	/* A limit met exactly says so at once. */
	snprintf(path, sizeof(path), "%s/exact-limit.pcap", dir);
	c.path = path;
	record(0, &h, data);
	c.session_bytes = WK_PCAP_FILE_HEADER + 16 + h.caplen;
	o = wk_output_open(&c, &err);
	assert_int_equal(wk_output_write(o, &h, data, &err), WK_WRITE_FULL);
	assert_int_equal(wk_output_bytes(o), c.session_bytes);
	wk_output_destroy(o);
}

static size_t count_prefix(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void on_file(void *opaque, const struct wk_file *file)
{
	(*(size_t *)opaque)++;
	assert_true(file->size > WK_PCAP_FILE_HEADER);
}

static void test_ring(void **state)
{
	char path[128], name[160];
	unsigned char data[1600];
	struct pcap_pkthdr h;
	struct fc_err err;
	size_t finished = 0, len;
	const uint32_t n = 3000;

	(void)state;
	snprintf(path, sizeof(path), "%s/ring.pcap", dir);
	struct wk_output_config c = config(path);
	c.ring = 1;
	c.file_count = 4;
	c.file_size = 100000;
	c.on_file = on_file;
	c.opaque = &finished;
	struct wk_output *o = wk_output_open(&c, &err);
	assert_non_null(o);
	for (uint32_t i = 0; i < n; i++) {
		record(i, &h, data);
		assert_int_equal(wk_output_write(o, &h, data, &err), WK_WRITE_OK);
		assert_true(count_prefix("ring_") <= 4);
	}
	assert_int_equal(wk_output_close(o, &err), 0);
	assert_int_equal(count_prefix("ring_"), 4);
	assert_int_equal(wk_output_file_count(o), 4);
	assert_true(finished > 4);
	/* The kept files are the newest, consecutive, and end with the last record. */
	uint32_t next = n;
	for (size_t k = 4; k-- > 0;) {
		const struct wk_file *f = wk_output_file(o, k);
		wk_output_ring_name(path, (uint32_t)(finished - (3 - k)), name, sizeof(name));
		assert_string_equal(f->path, name);
		unsigned char *file = read_file(f->path, &len);
		assert_true(len <= c.file_size);
		assert_int_equal(f->size, len);
		check_records(file, len, next - (uint32_t)f->packets, f->packets);
		next -= (uint32_t)f->packets;
		free(file);
	}
	wk_output_destroy(o);
}

static void test_ring_names(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(wk_output_ring_name("dir/cap.pcap", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "dir/cap_00007.pcap");
	assert_int_equal(wk_output_ring_name("a.b/c", 123456, out, sizeof(out)), 0);
	assert_string_equal(out, "a.b/c_123456");
	assert_int_equal(wk_output_ring_name("x.cap", 1, out, 8), -1);
}

static int setup(void **state)
{
	(void)state;
	/* On disk, not tmpfs, so the O_DIRECT path is what runs. */
	snprintf(dir, sizeof(dir), "/var/tmp/fleetcap-output-XXXXXX");
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
		cmocka_unit_test(test_bytes_land_exactly),
		cmocka_unit_test(test_session_byte_limit),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_ring_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
