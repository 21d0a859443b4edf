/* wk_output: see wk_output.h. */
#include "wk_output.h"

#define _GNU_SOURCE /* F_DUPFD_CLOEXEC, AT_FDCWD */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc_log.h"

struct wk_output {
	struct wk_output_config config;
	char path[WK_PATH_MAX];
	struct wk_pcapfile *current;
	struct wk_pcapfile_options file_options;
	uint32_t seq; /* ring: number of the current file */
	uint64_t packets, bytes;
	/* Finished files still on disk: a circular buffer, oldest at head. */
	struct wk_file *files;
	size_t head, count, cap;
};

int wk_output_ring_name(const char *path, uint32_t seq, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash + 1 : path, '.');
	size_t stem = dot ? (size_t)(dot - path) : strlen(path);
	int n = snprintf(out, len, "%.*s_%05u%s", (int)stem, path, seq, dot ? dot : "");

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int open_next(struct wk_output *o, struct fc_err *err)
{
	char name[WK_PATH_MAX];
	const char *path = o->config.path;

	if (o->config.ring) {
		o->seq++;
		if (wk_output_ring_name(o->config.path, o->seq, name, sizeof(name)) != 0) {
			fc_err_set(err, FC_ERR_INVALID, "output path is too long");
			return -1;
		}
		path = name;
	}
	o->current = wk_pcapfile_create(path, &o->file_options, err);
	if (!o->current)
		return -1;
	o->bytes += WK_PCAP_FILE_HEADER;
	return 0;
}

/* Deletes the oldest finished file. */
static void drop_oldest(struct wk_output *o)
{
	struct wk_file *oldest = &o->files[o->head];

	const char *slash = strrchr(oldest->path, '/');
	int gone = o->file_options.dirfd == AT_FDCWD
			   ? unlink(oldest->path)
			   : unlinkat(o->file_options.dirfd, slash ? slash + 1 : oldest->path, 0);

	if (gone != 0 && errno != ENOENT)
		FC_WARN("capture", "%s: cannot delete the oldest ring file: %s", oldest->path,
			strerror(errno));
	o->head = (o->head + 1) % o->cap;
	o->count--;
}

static int keep_file(struct wk_output *o, const struct wk_file *file)
{
	if (o->count == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct wk_file *grown = malloc(cap * sizeof(*grown));
		if (!grown)
			return -1;
		for (size_t i = 0; i < o->count; i++)
			grown[i] = o->files[(o->head + i) % o->cap];
		free(o->files);
		o->files = grown;
		o->cap = cap;
		o->head = 0;
	}
	o->files[(o->head + o->count) % o->cap] = *file;
	o->count++;
	return 0;
}

static int finish_current(struct wk_output *o, struct fc_err *err)
{
	struct wk_file file;
	struct wk_pcapfile *current = o->current;

	o->current = NULL;
	if (wk_pcapfile_finish(current, &file, err) != 0)
		return -1;
	if (keep_file(o, &file) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	if (o->config.on_file)
		o->config.on_file(o->config.opaque, &file);
	return 0;
}

struct wk_output *wk_output_open(const struct wk_output_config *config, struct fc_err *err)
{
	struct wk_output *o = calloc(1, sizeof(*o));

	if (!o) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	if (strlen(config->path) >= sizeof(o->path)) {
		fc_err_set(err, FC_ERR_INVALID, "output path is longer than %d bytes",
			   WK_PATH_MAX - 1);
		free(o);
		return NULL;
	}
	o->config = *config;
	strcpy(o->path, config->path);
	o->config.path = o->path;
	if (o->config.ring && o->config.file_count == 0)
		o->config.file_count = 1;
	o->file_options = (struct wk_pcapfile_options){
		.dirfd = AT_FDCWD,
		.linktype = config->linktype,
		.snaplen = config->snaplen,
		.nano = config->nano,
		.buffer_size = config->write_buffer,
		.buffers = config->write_buffers,
	};
	if (config->dirfd >= 0) {
		o->file_options.dirfd = fcntl(config->dirfd, F_DUPFD_CLOEXEC, 3);
		if (o->file_options.dirfd < 0) {
			fc_err_set(err, FC_ERR_FATAL, "%s: cannot keep its directory: %s",
				   config->path, strerror(errno));
			free(o);
			return NULL;
		}
	}
	if (open_next(o, err) != 0) {
		wk_output_destroy(o);
		return NULL;
	}
	return o;
}

enum wk_write_result wk_output_write(struct wk_output *o, const struct pcap_pkthdr *hdr,
				     const unsigned char *data, struct fc_err *err)
{
	uint64_t need = WK_PCAP_RECORD_HEADER + (uint64_t)hdr->caplen;

	if (!o->current) {
		fc_err_set(err, FC_ERR_FATAL, "output is closed");
		return WK_WRITE_ERROR;
	}
	if (o->config.ring) {
		/* Rotate before a record that would overflow the file, unless the
		 * file holds no record yet (a record larger than file_size). */
		uint64_t size = wk_pcapfile_size(o->current);
		if (size + need > o->config.file_size && size > WK_PCAP_FILE_HEADER) {
			if (finish_current(o, err) != 0)
				return WK_WRITE_ERROR;
			while (o->count >= o->config.file_count)
				drop_oldest(o);
			if (open_next(o, err) != 0)
				return WK_WRITE_ERROR;
		}
	} else if (o->config.session_bytes && o->bytes + need > o->config.session_bytes) {
		return WK_WRITE_LIMIT;
	}
	if (wk_pcapfile_append(o->current, hdr, data, err) != 0)
		return WK_WRITE_ERROR;
	o->packets++;
	o->bytes += need;
	if (!o->config.ring && o->config.session_bytes && o->bytes == o->config.session_bytes)
		return WK_WRITE_FULL;
	return WK_WRITE_OK;
}

uint64_t wk_output_packets(const struct wk_output *o)
{
	return o->packets;
}

uint64_t wk_output_bytes(const struct wk_output *o)
{
	return o->bytes;
}

int wk_output_close(struct wk_output *o, struct fc_err *err)
{
	if (!o->current)
		return 0;
	return finish_current(o, err);
}

size_t wk_output_file_count(const struct wk_output *o)
{
	return o->count;
}

const struct wk_file *wk_output_file(const struct wk_output *o, size_t i)
{
	return i < o->count ? &o->files[(o->head + i) % o->cap] : NULL;
}

void wk_output_destroy(struct wk_output *o)
{
	if (!o)
		return;
	wk_pcapfile_discard(o->current);
	if (o->file_options.dirfd != AT_FDCWD)
		close(o->file_options.dirfd);
	free(o->files);
	free(o);
}
