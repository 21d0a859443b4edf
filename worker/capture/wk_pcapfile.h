/*
 * wk_pcapfile: one classic pcap file, written the way a capture must be.
 *
 * Records are copied into a large buffer and written in big chunks (no system
 * call per packet). The file lives under PATH.part until wk_pcapfile_finish()
 * flushes it, fsyncs it, renames it to PATH without ever replacing an
 * existing file, and fsyncs the directory, so PATH either does not exist or
 * holds a complete capture. The SHA-256 of the bytes is computed as they are
 * written, so finishing a file never reads it back.
 */
#ifndef WK_PCAPFILE_H
#define WK_PCAPFILE_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"

#define WK_PCAP_FILE_HEADER   24 /* bytes before the first record */
#define WK_PCAP_RECORD_HEADER 16 /* bytes before each record's data */

/* Longest path of a capture file (a capture root plus a §1 file_path). */
#define WK_PATH_MAX 1280

/* A finished file. */
struct wk_file {
	char path[WK_PATH_MAX];
	uint64_t size;
	char sha256[65]; /* lowercase hex */
	uint64_t packets;
};

struct wk_pcapfile;

/* How a file is written. */
struct wk_pcapfile_options {
	/* The directory that holds the file, or AT_FDCWD. With a directory
	 * handle the file is created, renamed and removed relative to it by the
	 * last component of path alone, so no rename or symlink of a directory
	 * on the way can move it elsewhere; path is then only its display name. */
	int dirfd;
	int linktype;	    /* DLT of every record */
	unsigned snaplen;   /* recorded in the file header */
	int nano;	    /* nanosecond timestamps (magic 0xa1b23c4d), else microseconds */
	size_t buffer_size; /* the write buffer (at least 640 KiB is used) */
	unsigned buffers;   /* write buffers in flight, 1-8; 0 = 8 */
};

/*
 * Creates PATH.part with the file header. Fails when PATH or PATH.part
 * exists. Returns NULL with err set on failure.
 */
struct wk_pcapfile *wk_pcapfile_create(const char *path, const struct wk_pcapfile_options *options,
				       struct fc_err *err);

/*
 * Appends one record; data holds hdr->caplen bytes. ts is taken as seconds
 * plus microseconds or nanoseconds, as the file was created. Returns 0, or
 * -1 with err set when a write fails.
 */
int wk_pcapfile_append(struct wk_pcapfile *file, const struct pcap_pkthdr *hdr,
		       const unsigned char *data, struct fc_err *err);

/* Bytes the file holds so far (header and records, buffered or written). */
uint64_t wk_pcapfile_size(const struct wk_pcapfile *file);

/*
 * Flushes, fsyncs, renames PATH.part to PATH and fills out. Frees file in
 * every case; on failure PATH.part is removed and err says why.
 */
int wk_pcapfile_finish(struct wk_pcapfile *file, struct wk_file *out, struct fc_err *err);

/* Removes PATH.part and frees file. Accepts NULL. */
void wk_pcapfile_discard(struct wk_pcapfile *file);

#endif
