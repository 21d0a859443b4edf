/* wk_writer: see wk_writer.h. */
#include "wk_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wk_writer {
	int fd;
	size_t buffer_size;
	unsigned n_buffers;
	unsigned char *buffers[WK_WRITER_BUFFERS];
	pthread_t thread;
	int started;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* Queued buffers, oldest first, and their lengths. */
	unsigned char *queue[WK_WRITER_BUFFERS];
	size_t queue_len[WK_WRITER_BUFFERS];
	size_t q_head, q_count;
	unsigned char *free_list[WK_WRITER_BUFFERS];
	size_t n_free;
	int closing;
	int error; /* errno of the first failed write */
};

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct wk_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->q_count == 0 && !w->closing)
			pthread_cond_wait(&w->changed, &w->lock);
		if (w->q_count == 0)
			break;
		unsigned char *buf = w->queue[w->q_head];
		size_t len = w->queue_len[w->q_head];
		int failed = w->error;
		pthread_mutex_unlock(&w->lock);

		/* After a failure the rest is dropped: the file is lost anyway. */
		int rc = failed ? 0 : write_all(w->fd, buf, len);

		pthread_mutex_lock(&w->lock);
		if (rc && !w->error)
			w->error = rc;
		w->q_head = (w->q_head + 1) % w->n_buffers;
		w->q_count--;
		w->free_list[w->n_free++] = buf;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct wk_writer *wk_writer_create(int fd, size_t buffer_size, unsigned buffers, struct fc_err *err)
{
	struct wk_writer *w;

	if (buffers > WK_WRITER_BUFFERS) {
		fc_err_set(err, FC_ERR_INVALID, "write buffers: %u, expected 1 to %d", buffers,
			   WK_WRITER_BUFFERS);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	w->fd = fd;
	w->buffer_size = buffer_size;
	w->n_buffers = buffers ? buffers : WK_WRITER_BUFFERS;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	for (size_t i = 0; i < w->n_buffers; i++) {
		void *p = NULL;
		if (posix_memalign(&p, WK_WRITER_ALIGN, buffer_size) != 0) {
			fc_err_set(err, FC_ERR_FATAL, "out of memory");
			wk_writer_destroy(w);
			return NULL;
		}
		w->buffers[i] = p;
		if (i > 0) /* buffers[0] is the first one handed out */
			w->free_list[w->n_free++] = p;
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "cannot start the writer thread");
		wk_writer_destroy(w);
		return NULL;
	}
	w->started = 1;
	return w;
}

unsigned char *wk_writer_first_buffer(struct wk_writer *w)
{
	return w->buffers[0];
}

unsigned char *wk_writer_submit(struct wk_writer *w, unsigned char *buf, size_t len,
				struct fc_err *err)
{
	unsigned char *next;
	size_t tail;

	if (len == 0)
		return buf; /* nothing to write: keep filling it */
	pthread_mutex_lock(&w->lock);
	tail = (w->q_head + w->q_count) % w->n_buffers;
	w->queue[tail] = buf;
	w->queue_len[tail] = len;
	w->q_count++;
	pthread_cond_broadcast(&w->changed);
	while (w->n_free == 0)
		pthread_cond_wait(&w->changed, &w->lock);
	next = w->free_list[--w->n_free];
	int error = w->error;
	pthread_mutex_unlock(&w->lock);
	if (error) {
		fc_err_set(err, FC_ERR_FATAL, "write failed: %s", strerror(error));
		return NULL;
	}
	return next;
}

int wk_writer_finish(struct wk_writer *w, struct fc_err *err)
{
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->closing = 1;
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
	if (w->error) {
		fc_err_set(err, FC_ERR_FATAL, "write failed: %s", strerror(w->error));
		return -1;
	}
	return 0;
}

void wk_writer_destroy(struct wk_writer *w)
{
	struct fc_err ignored;

	if (!w)
		return;
	wk_writer_finish(w, &ignored);
	for (size_t i = 0; i < WK_WRITER_BUFFERS; i++)
		free(w->buffers[i]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->changed);
	free(w);
}
