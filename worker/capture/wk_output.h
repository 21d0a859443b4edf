/*
 * wk_output: where a session's records go — one file, or a ring of files.
 *
 * Single file: every record goes to PATH until the session byte limit.
 * Ring (continuous capture): records go to PATH-stem_NNNNN.ext files of at
 * most file_size bytes each; when a file is full it is finished (fsync,
 * rename, SHA-256) and the next one begins, and the oldest finished files are
 * deleted so that at most file_count files exist at any time.
 *
 * Bytes are counted as they land in the files: the 24-byte file header of
 * each file, and per record 16 bytes of record header plus the captured
 * bytes. The session byte limit bounds that count: the record that would
 * take it past the limit is not written and ends the session, so the files
 * never hold more than the limit and fall short of it by less than one
 * record. A ring has no session byte limit: file_count x file_size bounds it.
 */
#ifndef WK_OUTPUT_H
#define WK_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"
#include "wk_pcapfile.h"

struct wk_output_config {
	const char *path; /* the file, or the ring's name pattern */
	/* The directory holding path's last component, or -1: path as it is.
	 * With a directory, files are created and deleted relative to it (see
	 * wk_pcapfile.h); wk_output keeps its own duplicate. */
	int dirfd;
	int ring;		/* rotate files */
	uint32_t file_count;	/* ring: files kept, at least 1 */
	uint64_t file_size;	/* ring: bytes per file */
	uint64_t session_bytes; /* single file: limit; 0 = none */
	int linktype;		/* DLT of every record */
	unsigned snaplen;	/* recorded in the file header */
	int nano;		/* nanosecond timestamps */
	size_t write_buffer;	/* bytes buffered before a write */
	unsigned write_buffers; /* buffers in flight, 1-8; 0 = 8 */
	/* Called with each file once it is finished, before any later deletion. */
	void (*on_file)(void *opaque, const struct wk_file *file);
	void *opaque;
};

struct wk_output;

/* Opens the first file. Returns NULL with err set on failure. */
struct wk_output *wk_output_open(const struct wk_output_config *config, struct fc_err *err);

enum wk_write_result {
	WK_WRITE_OK = 0,
	WK_WRITE_LIMIT = 1,  /* the record would pass the session byte limit: not written */
	WK_WRITE_FULL = 2,   /* written, and the files now hold exactly the limit */
	WK_WRITE_ERROR = -1, /* err says why */
};

enum wk_write_result wk_output_write(struct wk_output *output, const struct pcap_pkthdr *hdr,
				     const unsigned char *data, struct fc_err *err);

/* Records and bytes written so far (bytes as counted above). */
uint64_t wk_output_packets(const struct wk_output *output);
uint64_t wk_output_bytes(const struct wk_output *output);

/* Finishes the current file. Returns 0 or -1 with err set. */
int wk_output_close(struct wk_output *output, struct fc_err *err);

/* The number of finished files that still exist, and the i-th, oldest first. */
size_t wk_output_file_count(const struct wk_output *output);
const struct wk_file *wk_output_file(const struct wk_output *output, size_t i);

/* Frees output, discarding an unfinished file. Accepts NULL. */
void wk_output_destroy(struct wk_output *output);

/*
 * Writes the name of ring file number seq for path into out:
 * "dir/cap.pcap", 7 → "dir/cap_00007.pcap". Returns 0, or -1 if it is too long.
 */
int wk_output_ring_name(const char *path, uint32_t seq, char *out, size_t len);

#endif
