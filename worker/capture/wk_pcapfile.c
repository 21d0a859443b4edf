/* wk_pcapfile: see wk_pcapfile.h. */
#define _GNU_SOURCE /* renameat2 */
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

#define MIN_BUFFER (64u * 1024)
/* Records are hashed in slices this size while they are still in the CPU's
 * cache from being copied in, rather than all at once before the write. */
#define HASH_SLICE (32u * 1024)

struct wk_pcapfile {
	int fd;
	unsigned char *buf;
	size_t len, cap;
	size_t hashed; /* buf[0..hashed) is in the digest already */
	uint64_t size; /* bytes appended, buffered or not */
	uint64_t packets;
	EVP_MD_CTX *sha;
	char path[WK_PATH_MAX];
	char part[WK_PATH_MAX + 8];
};

/* Writes all of buf[0..len) to fd, retrying short writes and EINTR. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int hash_pending(struct wk_pcapfile *f)
{
	if (f->len > f->hashed && EVP_DigestUpdate(f->sha, f->buf + f->hashed, f->len - f->hashed) != 1)
		return -1;
	f->hashed = f->len;
	return 0;
}

static int flush(struct wk_pcapfile *f, struct fc_err *err)
{
	if (f->len == 0)
		return 0;
	if (hash_pending(f) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: SHA-256 update failed", f->part);
		return -1;
	}
	if (write_all(f->fd, f->buf, f->len) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: write failed: %s", f->part, strerror(errno));
		return -1;
	}
	f->len = f->hashed = 0;
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

struct wk_pcapfile *wk_pcapfile_create(const char *path, int linktype, unsigned snaplen, int nano,
				       size_t buffer_size, struct fc_err *err)
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
	if (lstat(path, &st) == 0) {
		fc_err_set(err, FC_ERR_INVALID,
			   "%s already exists: fleetcap never overwrites a file", path);
		goto fail;
	}
	f->cap = buffer_size < MIN_BUFFER ? MIN_BUFFER : buffer_size;
	f->buf = malloc(f->cap);
	f->sha = EVP_MD_CTX_new();
	if (!f->buf || !f->sha || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		goto fail;
	}
	/* Captures hold other people's traffic: readable by owner and group only. */
	f->fd = open(f->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (f->fd < 0) {
		fc_err_set(err, errno == ENOENT || errno == EEXIST ? FC_ERR_INVALID : FC_ERR_FATAL,
			   "%s: cannot create: %s", f->part, strerror(errno));
		goto fail;
	}

	unsigned char *h = f->buf;
	put32(h, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(h + 4, 2); /* version 2.4 */
	put16(h + 6, 4);
	put32(h + 8, 0);  /* thiszone */
	put32(h + 12, 0); /* sigfigs */
	put32(h + 16, snaplen);
	put32(h + 20, (uint32_t)linktype);
	f->len = f->size = WK_PCAP_FILE_HEADER;
	return f;
fail:
	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->part);
	}
	EVP_MD_CTX_free(f->sha);
	free(f->buf);
	free(f);
	return NULL;
}

int wk_pcapfile_append(struct wk_pcapfile *f, const struct pcap_pkthdr *hdr,
		       const unsigned char *data, struct fc_err *err)
{
	size_t need = WK_PCAP_RECORD_HEADER + hdr->caplen;

	if (f->len + need > f->cap) {
		if (flush(f, err) != 0)
			return -1;
		if (need > f->cap) { /* larger than the buffer: write it through */
			unsigned char rh[WK_PCAP_RECORD_HEADER];
			put32(rh, (uint32_t)hdr->ts.tv_sec);
			put32(rh + 4, (uint32_t)hdr->ts.tv_usec);
			put32(rh + 8, hdr->caplen);
			put32(rh + 12, hdr->len);
			if (EVP_DigestUpdate(f->sha, rh, sizeof(rh)) != 1 ||
			    EVP_DigestUpdate(f->sha, data, hdr->caplen) != 1 ||
			    write_all(f->fd, rh, sizeof(rh)) != 0 ||
			    write_all(f->fd, data, hdr->caplen) != 0) {
				fc_err_set(err, FC_ERR_FATAL, "%s: write failed: %s", f->part,
					   strerror(errno));
				return -1;
			}
			f->size += need;
			f->packets++;
			return 0;
		}
	}
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

static void sync_parent_dir(const char *path)
{
	char copy[WK_PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* best effort: some file systems refuse fsync on a directory */
		close(dfd);
	}
}

/* Renames part to path, failing rather than replacing an existing path. */
static int rename_noreplace(const char *part, const char *path)
{
	if (renameat2(AT_FDCWD, part, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The file system lacks RENAME_NOREPLACE: link() refuses to replace too. */
	if (link(part, path) != 0)
		return -1;
	unlink(part);
	return 0;
}

int wk_pcapfile_finish(struct wk_pcapfile *f, struct wk_file *out, struct fc_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;

	if (flush(f, err) != 0)
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
	if (rename_noreplace(f->part, f->path) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: cannot rename to %s: %s", f->part, f->path,
			   strerror(errno));
		goto fail;
	}
	sync_parent_dir(f->path);
	if (EVP_DigestFinal_ex(f->sha, md, &md_len) != 1) {
		fc_err_set(err, FC_ERR_FATAL, "%s: SHA-256 failed", f->path);
		goto fail_renamed;
	}
	memcpy(out->path, f->path, sizeof(out->path));
	out->size = f->size;
	out->packets = f->packets;
	for (unsigned i = 0; i < md_len && i < 32; i++)
		snprintf(out->sha256 + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(f->sha);
	free(f->buf);
	free(f);
	return 0;
fail_renamed:
	/* The file is complete on disk; only its digest failed. Keep the data. */
	f->part[0] = '\0';
fail:
	wk_pcapfile_discard(f);
	return -1;
}

void wk_pcapfile_discard(struct wk_pcapfile *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->part[0])
		unlink(f->part);
	EVP_MD_CTX_free(f->sha);
	free(f->buf);
	free(f);
}
