/* wk_pcapfile: see wk_pcapfile.h. */
#define _GNU_SOURCE /* O_DIRECT */
#include "wk_pcapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc_file.h"
#include "fc_hex.h"
#include "wk_writer.h"

/* Room for two of the largest records (262144 + 16 bytes) and an unaligned tail. */
#define MIN_BUFFER (640u * 1024)
/* Records are hashed in slices this size while they are still in the CPU's
 * cache from being copied in, rather than all at once before the write. */
#define HASH_SLICE (32u * 1024)

struct wk_pcapfile {
	int fd;
	int dirfd;   /* borrowed: the directory of name, or AT_FDCWD */
	int direct;  /* O_DIRECT: only whole aligned blocks go to the writer */
	int created; /* part is ours to remove until it is renamed */
	struct wk_writer *writer;
	unsigned char *buf; /* the buffer being filled */
	size_t len, cap;
	size_t hashed; /* buf[0..hashed) is in the digest already */
	uint64_t size; /* bytes appended, buffered or not */
	uint64_t packets;
	EVP_MD_CTX *sha;
	char path[WK_PATH_MAX];	    /* for messages and the finished file's record */
	char part[WK_PATH_MAX + 8]; /* for messages */
	const char *name;	    /* path's last component, or path for AT_FDCWD */
	char part_name[WK_PATH_MAX + 8];
};

static int hash_pending(struct wk_pcapfile *f)
{
	if (f->len > f->hashed &&
	    EVP_DigestUpdate(f->sha, f->buf + f->hashed, f->len - f->hashed) != 1)
		return -1;
	f->hashed = f->len;
	return 0;
}

/* Puts the file's name before a writer's error ("write failed: No space
 * left on device"), so that the message says which file. */
static void name_the_file(const struct wk_pcapfile *f, struct fc_err *err)
{
	char msg[sizeof(err->msg)];

	snprintf(msg, sizeof(msg), "%s", err->msg);
	fc_err_set(err, err->action, "%s: %s", f->part, msg);
}

/*
 * Hands the buffer's whole blocks to the writer and carries the unaligned
 * tail (already hashed) over to the start of the next buffer.
 */
static int hand_over(struct wk_pcapfile *f, struct fc_err *err)
{
	size_t whole = f->direct ? f->len & ~(size_t)(WK_WRITER_ALIGN - 1) : f->len;
	unsigned char *next;

	if (hash_pending(f) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: SHA-256 update failed", f->part);
		return -1;
	}
	next = wk_writer_submit(f->writer, f->buf, whole, err);
	if (!next) {
		name_the_file(f, err);
		return -1;
	}
	/* next may be f->buf itself, already written: the tail then moves down
	 * within it, which memmove allows. */
	memmove(next, f->buf + whole, f->len - whole);
	f->buf = next;
	f->len = f->hashed = f->len - whole;
	return 0;
}

static void put32(unsigned char *p, uint32_t v)
{
	/* Host byte order, as every pcap writer does; readers detect it from the magic. */
	memcpy(p, &v, 4);
}

static void put16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* Creates name in dirfd exclusively, with O_DIRECT where the file system allows it. */
static int create_file(int dirfd, const char *name, int *direct)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
	/* Captures hold other people's traffic: readable by owner and group only. */
	int fd = openat(dirfd, name, flags | O_DIRECT, 0640);

	*direct = fd >= 0;
	if (fd < 0 && errno == EINVAL) {
		/* Some file systems (tmpfs on older kernels) refuse O_DIRECT, and
		 * may have created the file before refusing: it is ours to remove. */
		unlinkat(dirfd, name, 0);
		fd = openat(dirfd, name, flags, 0640);
	}
	return fd;
}

struct wk_pcapfile *wk_pcapfile_create(const char *path, const struct wk_pcapfile_options *o,
				       struct fc_err *err)
{
	struct wk_pcapfile *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	f->fd = -1;
	if (strlen(path) >= sizeof(f->path)) {
		fc_err_set(err, FC_ERR_INVALID, "output path is longer than %zu bytes",
			   sizeof(f->path) - 1);
		goto fail;
	}
	strcpy(f->path, path);
	snprintf(f->part, sizeof(f->part), "%s.part", path);
	f->dirfd = o->dirfd;
	f->name = f->path;
	if (o->dirfd != AT_FDCWD && strrchr(f->path, '/'))
		f->name = strrchr(f->path, '/') + 1;
	snprintf(f->part_name, sizeof(f->part_name), "%s.part", f->name);
	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		fc_err_set(err, FC_ERR_INVALID,
			   "%s already exists: fleetcap never overwrites a file", path);
		goto fail;
	}
	f->cap = o->buffer_size < MIN_BUFFER ? MIN_BUFFER : o->buffer_size;
	f->cap = (f->cap + WK_WRITER_ALIGN - 1) & ~(size_t)(WK_WRITER_ALIGN - 1);
	f->sha = EVP_MD_CTX_new();
	if (!f->sha || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		goto fail;
	}
	f->fd = create_file(f->dirfd, f->part_name, &f->direct);
	if (f->fd < 0) {
		fc_err_set(err, errno == ENOENT || errno == EEXIST ? FC_ERR_INVALID : FC_ERR_FATAL,
			   "%s: cannot create: %s", f->part, strerror(errno));
		goto fail;
	}
	f->created = 1;
	f->writer = wk_writer_create(f->fd, f->cap, o->buffers, err);
	if (!f->writer)
		goto fail;
	f->buf = wk_writer_first_buffer(f->writer);

	unsigned char *h = f->buf;
	put32(h, o->nano ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(h + 4, 2); /* version 2.4 */
	put16(h + 6, 4);
	put32(h + 8, 0);  /* thiszone */
	put32(h + 12, 0); /* sigfigs */
	put32(h + 16, o->snaplen);
	put32(h + 20, (uint32_t)o->linktype);
	f->len = f->size = WK_PCAP_FILE_HEADER;
	return f;
fail:
	wk_pcapfile_discard(f);
	return NULL;
}

int wk_pcapfile_append(struct wk_pcapfile *f, const struct pcap_pkthdr *hdr,
		       const unsigned char *data, struct fc_err *err)
{
	size_t need = WK_PCAP_RECORD_HEADER + hdr->caplen;

	if (need > MIN_BUFFER / 2) { /* above any snap length libpcap allows */
		fc_err_set(err, FC_ERR_FATAL, "%s: a %u-byte record is too large", f->part,
			   hdr->caplen);
		return -1;
	}
	if (f->len + need > f->cap && hand_over(f, err) != 0)
		return -1;
	unsigned char *p = f->buf + f->len;
	/* pcap_pkthdr.ts.tv_usec holds nanoseconds when the handle's precision is nano. */
	put32(p, (uint32_t)hdr->ts.tv_sec);
	put32(p + 4, (uint32_t)hdr->ts.tv_usec);
	put32(p + 8, hdr->caplen);
	put32(p + 12, hdr->len);
	memcpy(p + WK_PCAP_RECORD_HEADER, data, hdr->caplen);
	f->len += need;
	f->size += need;
	f->packets++;
	if (f->len - f->hashed >= HASH_SLICE && hash_pending(f) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: SHA-256 update failed", f->part);
		return -1;
	}
	return 0;
}

uint64_t wk_pcapfile_size(const struct wk_pcapfile *f)
{
	return f->size;
}

static void sync_dir(const struct wk_pcapfile *f)
{
	char copy[WK_PATH_MAX];
	int dfd;

	if (f->dirfd != AT_FDCWD) {
		fsync(f->dirfd); /* best effort: some file systems refuse fsync on a directory */
		return;
	}
	snprintf(copy, sizeof(copy), "%s", f->path);
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

/* Writes the last, unaligned bytes through the page cache. */
static int write_tail(struct wk_pcapfile *f, struct fc_err *err)
{
	const unsigned char *p = f->buf;
	size_t left = f->len;

	if (f->direct && fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_DIRECT) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: fcntl: %s", f->part, strerror(errno));
		return -1;
	}
	while (left > 0) {
		ssize_t n = write(f->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fc_err_set(err, FC_ERR_FATAL, "%s: write failed: %s", f->part,
				   n < 0 ? strerror(errno) : "no progress");
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	f->len = 0;
	return 0;
}

int wk_pcapfile_finish(struct wk_pcapfile *f, struct wk_file *out, struct fc_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;

	if (hand_over(f, err) != 0)
		goto fail;
	if (wk_writer_finish(f->writer, err) != 0) {
		name_the_file(f, err);
		goto fail;
	}
	if (write_tail(f, err) != 0)
		goto fail;
	if (fsync(f->fd) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: fsync failed: %s", f->part, strerror(errno));
		goto fail;
	}
	if (close(f->fd) != 0) {
		f->fd = -1;
		fc_err_set(err, FC_ERR_FATAL, "%s: close failed: %s", f->part, strerror(errno));
		goto fail;
	}
	f->fd = -1;
	if (fc_rename_noreplace(f->dirfd, f->part_name, f->name) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: cannot rename to %s: %s", f->part, f->path,
			   strerror(errno));
		goto fail;
	}
	sync_dir(f);
	f->created = 0; /* renamed: nothing to clean up any more */
	if (EVP_DigestFinal_ex(f->sha, md, &md_len) != 1) {
		fc_err_set(err, FC_ERR_FATAL, "%s: SHA-256 failed", f->path);
		goto fail;
	}
	memcpy(out->path, f->path, sizeof(out->path));
	out->size = f->size;
	out->packets = f->packets;
	fc_hex_encode(md, md_len < 32 ? md_len : 32, out->sha256);
	wk_pcapfile_discard(f);
	return 0;
fail:
	wk_pcapfile_discard(f);
	return -1;
}

void wk_pcapfile_discard(struct wk_pcapfile *f)
{
	if (!f)
		return;
	wk_writer_destroy(f->writer); /* first: its thread may be writing to fd */
	if (f->fd >= 0)
		close(f->fd);
	if (f->created)
		unlinkat(f->dirfd, f->part_name, 0);
	EVP_MD_CTX_free(f->sha);
	free(f);
}
