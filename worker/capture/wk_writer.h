/*
 * wk_writer: a background writer for capture files.
 *
 * The capture thread fills a buffer and submits it; a writer thread writes
 * submitted buffers in order while the capture thread fills the next one. A
 * few buffers circulate, so a slow disk is absorbed by them (and then by the
 * kernel's capture ring) instead of stalling the packet loop at each write.
 * Buffers are 4096-aligned, so the file can be opened with O_DIRECT: the
 * data then goes from the buffer to the device without being copied into the
 * page cache, which is most of what a buffered write costs the capturing
 * process (see BENCHMARKS.md).
 */
#ifndef WK_WRITER_H
#define WK_WRITER_H

#include <stddef.h>

#include "fc_err.h"

#define WK_WRITER_ALIGN	  4096
#define WK_WRITER_BUFFERS 8 /* the default, and the most a writer has */

struct wk_writer;

/*
 * Starts the writer thread for fd (borrowed; may be O_DIRECT), with `buffers`
 * buffers (1 to WK_WRITER_BUFFERS; 0 = WK_WRITER_BUFFERS) of buffer_size
 * bytes (a multiple of WK_WRITER_ALIGN). Returns NULL with err set on failure.
 */
struct wk_writer *wk_writer_create(int fd, size_t buffer_size, unsigned buffers,
				   struct fc_err *err);

/* The buffer to fill first. */
unsigned char *wk_writer_first_buffer(struct wk_writer *writer);

/*
 * Queues buf[0..len) for writing (len a multiple of WK_WRITER_ALIGN for an
 * O_DIRECT fd) and returns a free buffer to fill next, waiting for one if
 * all are queued. The buffer returned may be buf itself, once written (always
 * so with one buffer); buf[len..] is never written to the file and stays as
 * it was until the caller fills the returned buffer. Returns NULL with err
 * set when an earlier write failed.
 */
unsigned char *wk_writer_submit(struct wk_writer *writer, unsigned char *buf, size_t len,
				struct fc_err *err);

/*
 * Waits until every queued buffer is written and stops the thread. Returns 0,
 * or -1 with err set to the first write error. Buffers stay valid until
 * wk_writer_destroy().
 */
int wk_writer_finish(struct wk_writer *writer, struct fc_err *err);

/* Stops the thread if needed and frees the buffers. Accepts NULL. */
void wk_writer_destroy(struct wk_writer *writer);

#endif
