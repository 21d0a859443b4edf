/*
 * The capture engine's output side, without packets from the network: what
 * lands in the file byte for byte (across many writer hand-overs, O_DIRECT
 * or not), the SHA-256, the session byte limit, the ring buffer's names and
 * file count, and the refusal to overwrite.
 */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* Shifts the record sizes, so the buffer tails fall at other offsets. */
static uint32_t size_salt;

/* Record i: caplen varies from 1 to 1500 bytes, its bytes derive from i. */
static void record(uint32_t i, struct pcap_pkthdr *h, unsigned char *data)
{
	h->ts.tv_sec = 1700000000 + i;
	h->ts.tv_usec = i % 1000000000;
	h->caplen = 1 + (i * 7919 + size_salt) % 1500;
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
	c.dirfd = -1;
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

/* Writes n records through a writer with `buffers` buffers and checks every byte. */
static void write_and_check(const char *name, unsigned buffers, uint32_t n)
{
	char path[128];
	unsigned char data[1600];
	struct pcap_pkthdr h;
	struct fc_err err;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct wk_output_config c = config(path);
	c.write_buffers = buffers;
	struct wk_output *o = wk_output_open(&c, &err);
	assert_non_null(o);
	for (uint32_t i = 0; i < n; i++) {
		record(i, &h, data);
		assert_int_equal(wk_output_write(o, &h, data, &err), WK_WRITE_OK);
	}
	assert_int_equal(wk_output_close(o, &err), 0);
	unsigned char *file = read_file(path, &len);
	check_records(file, len, 0, n);
	free(file);
	wk_output_destroy(o);
	unlink(path);
}

/*
 * With one buffer the writer hands back, at every hand-over, the very buffer
 * just written: the unaligned tail must move to its start. With 2 to 8 the
 * order of buffers varies. Several record-size patterns put the tails at
 * many offsets.
 */
static void test_every_buffer_count(void **state)
{
	char name[64];

	(void)state;
	for (unsigned buffers = 1; buffers <= 8; buffers++)
		for (size_salt = 0; size_salt < 3000; size_salt += 977) {
			snprintf(name, sizeof(name), "b%u-s%u.pcap", buffers, size_salt);
			write_and_check(name, buffers, 3000); /* about 2.3 MiB: 3 hand-overs */
		}
	size_salt = 0;
}

static atomic_int spinning;

static void *spin(void *arg)
{
	(void)arg;
	while (atomic_load(&spinning))
		;
	return NULL;
}

/* The same under CPU contention, where the writer thread and the capture
 * thread interleave in other orders. */
static void test_hand_over_under_contention(void **state)
{
	pthread_t threads[2];
	char name[64];

	(void)state;
	atomic_store(&spinning, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, spin, NULL), 0);
	for (unsigned round = 0; round < 24; round++) {
		size_salt = round * 131;
		snprintf(name, sizeof(name), "busy-%u.pcap", round);
		write_and_check(name, 1 + round % 3, 6000);
	}
	atomic_store(&spinning, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	size_salt = 0;
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

/*
 * With a directory handle, files (and a ring's deletions) stay in that
 * directory even when its path is renamed and replaced by a symlink to
 * somewhere else after it was resolved.
 */
static void test_files_stay_in_the_directory_handle(void **state)
{
	char held[128], moved[128], elsewhere[128], path[160], name[192];
	unsigned char data[1600];
	struct pcap_pkthdr h;
	struct fc_err err;

	(void)state;
	snprintf(held, sizeof(held), "%s/held", dir);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", dir);
	assert_int_equal(mkdir(held, 0750), 0);
	assert_int_equal(mkdir(elsewhere, 0750), 0);
	int dirfd = open(held, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dirfd >= 0);
	assert_int_equal(rename(held, moved), 0);
	assert_int_equal(symlink(elsewhere, held), 0);

	snprintf(path, sizeof(path), "%s/cap.pcap", held);
	struct wk_output_config c = config(path);
	c.dirfd = dirfd;
	c.ring = 1;
	c.file_count = 2;
	c.file_size = 20000;
	struct wk_output *o = wk_output_open(&c, &err);
	assert_non_null(o);
	close(dirfd); /* wk_output keeps its own */
	for (uint32_t i = 0; i < 200; i++) {
		record(i, &h, data);
		assert_int_equal(wk_output_write(o, &h, data, &err), WK_WRITE_OK);
	}
	assert_int_equal(wk_output_close(o, &err), 0);
	assert_true(wk_output_file_count(o) == 2);
	/* The reported path is the display name; the bytes are in moved/. */
	const struct wk_file *last = wk_output_file(o, 1);
	snprintf(name, sizeof(name), "%s/%s", moved, strrchr(last->path, '/') + 1);
	assert_int_equal(access(name, F_OK), 0);
	DIR *d = opendir(elsewhere);
	struct dirent *e;
	size_t n_elsewhere = 0, n_moved = 0;
	while ((e = readdir(d)))
		n_elsewhere += e->d_name[0] != '.';
	closedir(d);
	d = opendir(moved);
	while ((e = readdir(d)))
		n_moved += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n_elsewhere, 0);
	assert_int_equal(n_moved, 2); /* the ring deleted its older files there too */
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
		cmocka_unit_test(test_every_buffer_count),
		cmocka_unit_test(test_hand_over_under_contention),
		cmocka_unit_test(test_session_byte_limit),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_files_stay_in_the_directory_handle),
		cmocka_unit_test(test_ring_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
