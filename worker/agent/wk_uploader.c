/* wk_uploader: a session's uploads as its files finish; see wk_uploader.h. */
#include "wk_uploader.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fc_log.h"

struct item {
	struct wk_uploaded file;
	int fd; /* holds the bytes even once the ring deletes the file */
};

struct wk_uploader {
	struct wk_uploader_config config;
	char blob_url[FC_BLOB_URL_MAX + 1];
	char session_id[256];
	char *sas;
	struct sink_azblob *sink;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct item *items;
	size_t count, cap, next;  /* next: the first not yet uploaded */
	struct wk_uploaded *done; /* what finish hands out */
	int closing, failed;
	struct fc_err err;   /* the first failure */
	size_t held;	     /* items with an open fd */
	uint64_t held_bytes; /* their sizes */
	size_t dropped;	     /* files closed unuploaded to respect held_bytes_max */
};

/* Uploads item; called without the lock. 0, or -1 with err. */
static int upload(struct wk_uploader *u, struct item *it, struct fc_err *err)
{
	char url[FC_BLOB_URL_MAX + 1], via[64];
	struct azblob_upload_result res;
	int rc;

	if (it->fd < 0) {
		fc_err_set(err, FC_ERR_FATAL, "%s: could not be opened for upload", it->file.path);
		return -1;
	}
	if (sink_azblob_ring_url(u->blob_url, u->config.ring ? it->file.path : "", url,
				 sizeof(url)) != 0) {
		fc_err_set(err, FC_ERR_INVALID, "blob_url: too long for file %s", it->file.path);
		return -1;
	}
	snprintf(via, sizeof(via), "/proc/self/fd/%d", it->fd);
	FC_INFO("worker", "session %s: uploading %s", u->session_id, it->file.path);
	memset(&res, 0, sizeof(res));
	rc = sink_azblob_put(u->sink, via, url, it->file.blob_url, sizeof(it->file.blob_url), &res,
			     err);
	if (u->config.metrics) {
		fc_metric_add(u->config.metrics->uploads, 1, rc == 0 ? "ok" : "failed");
		fc_metric_add(u->config.metrics->upload_retries, res.retries);
		if (rc == 0)
			fc_metric_add(u->config.metrics->uploaded_bytes, (double)res.size);
	}
	if (rc != 0)
		it->file.blob_url[0] = '\0';
	return rc;
}

static void *run(void *opaque)
{
	struct wk_uploader *u = opaque;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		while (u->next == u->count && !u->closing)
			pthread_cond_wait(&u->changed, &u->lock);
		if (u->next == u->count)
			break; /* closing, and nothing left */
		struct item it = u->items[u->next];
		int skip = u->failed || it.fd == -2; /* -2: dropped, see drop_oldest */
		pthread_mutex_unlock(&u->lock);
		struct fc_err err;
		int rc = skip ? 0 : upload(u, &it, &err);
		if (skip)
			it.file.blob_url[0] = '\0';
		if (it.fd >= 0)
			close(it.fd);
		pthread_mutex_lock(&u->lock);
		u->items[u->next].file = it.file;
		u->items[u->next].fd = -1;
		if (it.fd >= 0) {
			u->held--;
			u->held_bytes -= it.file.size;
		}
		u->next++;
		if (rc != 0 && !u->failed) {
			u->failed = 1;
			u->err = err;
			FC_WARN("worker", "upload of %s failed: %s", it.file.path, err.msg);
		}
		pthread_cond_broadcast(&u->changed);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

struct wk_uploader *wk_uploader_start(const struct wk_uploader_config *config, struct fc_err *err)
{
	struct wk_uploader *u = calloc(1, sizeof(*u));
	struct sink_azblob_config sc = {.keys = config->keys, .n_keys = config->n_keys};

	if (!u || (config->sas && !(u->sas = strdup(config->sas)))) {
		free(u);
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	u->config = *config;
	snprintf(u->blob_url, sizeof(u->blob_url), "%s", config->blob_url);
	snprintf(u->session_id, sizeof(u->session_id), "%s", config->session_id);
	sc.sas = u->sas;
	azblob_upload_config_default(&sc.upload);
	if (config->retry_window_s)
		sc.upload.retry_window_s = config->retry_window_s;
	if (!(u->sink = sink_azblob_open(&sc, err))) {
		free(u->sas);
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->changed, NULL);
	if (pthread_create(&u->thread, NULL, run, u) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "cannot start an upload thread");
		sink_azblob_close(u->sink);
		pthread_cond_destroy(&u->changed);
		pthread_mutex_destroy(&u->lock);
		free(u->sas);
		free(u);
		return NULL;
	}
	return u;
}

/* Bytes of the files waiting: held, less the one being uploaded. Called
 * with the lock held. */
static uint64_t waiting_bytes(const struct wk_uploader *u)
{
	uint64_t bytes = u->held_bytes;

	if (u->next < u->count && u->items[u->next].fd >= 0)
		bytes -= u->items[u->next].file.size;
	return bytes;
}

/*
 * Closes the oldest file still waiting (not the one being uploaded). 0, or
 * -1 when none waits. Called with the lock held.
 */
static int drop_oldest(struct wk_uploader *u)
{
	for (size_t i = u->next + 1; i < u->count; i++) {
		struct item *it = &u->items[i];
		if (it->fd < 0)
			continue;
		close(it->fd);
		it->fd = -2;
		u->held--;
		u->held_bytes -= it->file.size;
		if (u->dropped++ == 0)
			FC_WARN("worker",
				"session %s: storage is more than %llu bytes behind: %s and any "
				"later file dropped this way are not uploaded",
				u->session_id, (unsigned long long)u->config.held_bytes_max,
				it->file.path);
		return 0;
	}
	return -1;
}

void wk_uploader_add(struct wk_uploader *u, const struct wk_file *file)
{
	struct item it = {.fd = open(file->path, O_RDONLY | O_CLOEXEC)};

	snprintf(it.file.path, sizeof(it.file.path), "%s", file->path);
	it.file.size = file->size;
	memcpy(it.file.sha256, file->sha256, sizeof(it.file.sha256));
	if (it.fd < 0)
		FC_WARN("worker", "%s: cannot open for upload", file->path);
	pthread_mutex_lock(&u->lock);
	if (u->count == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct item *grown = realloc(u->items, cap * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&u->lock);
			if (it.fd >= 0)
				close(it.fd);
			FC_ERROR("worker", "%s: out of memory: not uploaded", file->path);
			return;
		}
		u->items = grown;
		u->cap = cap;
	}
	u->items[u->count++] = it;
	if (it.fd >= 0) {
		u->held++;
		u->held_bytes += it.file.size;
	}
	/* items[next] is being uploaded (or is about to be): the rest wait. */
	while (u->config.held_bytes_max && waiting_bytes(u) > u->config.held_bytes_max &&
	       drop_oldest(u) == 0)
		;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
}

size_t wk_uploader_held(struct wk_uploader *u)
{
	pthread_mutex_lock(&u->lock);
	size_t held = u->held;
	pthread_mutex_unlock(&u->lock);
	return held;
}

int wk_uploader_finish(struct wk_uploader *u, const struct wk_uploaded **files, size_t *n,
		       struct fc_err *err)
{
	static struct wk_uploaded none;

	pthread_mutex_lock(&u->lock);
	u->closing = 1;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	u->closing = 2; /* joined */
	free(u->done);
	if ((u->done = calloc(u->count + 1, sizeof(*u->done))))
		for (size_t i = 0; i < u->count; i++)
			u->done[i] = u->items[i].file;
	*files = u->done ? u->done : &none;
	*n = u->done ? u->count : 0;
	if (u->failed)
		*err = u->err;
	else if (u->dropped)
		fc_err_set(err, FC_ERR_FATAL,
			   "%zu of %zu files were not uploaded: storage fell more than %llu bytes "
			   "behind the capture, and the worker holds no more than that",
			   u->dropped, u->count, (unsigned long long)u->config.held_bytes_max);
	return u->failed || u->dropped ? -1 : 0;
}

void wk_uploader_free(struct wk_uploader *u)
{
	if (!u)
		return;
	if (u->closing != 2) {
		struct fc_err err;
		const struct wk_uploaded *files;
		size_t n;
		wk_uploader_finish(u, &files, &n, &err);
	}
	free(u->items);
	free(u->done);
	sink_azblob_close(u->sink);
	pthread_cond_destroy(&u->changed);
	pthread_mutex_destroy(&u->lock);
	if (u->sas) {
		OPENSSL_cleanse(u->sas, strlen(u->sas)); /* a secret */
		free(u->sas);
	}
	free(u);
}
