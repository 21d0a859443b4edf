/*
 * sink: where a finished capture file goes (docs/ARCHITECTURE.md §5).
 *
 * A sink is a struct of callbacks plus a context built from its own typed
 * config (struct sink_disk_config, struct sink_azblob_config); put()
 * delivers one finished local file and leaves the source in place. Each sink
 * exports its ops (sink_disk_ops, sink_azblob_ops), which the tests drive.
 *
 * How files flow today, without going through these ops: the worker asks
 * the disk sink to resolve the capture path under the capture root
 * (sink_disk_resolve) and the capture engine writes the files there itself,
 * relative to the directory handle it returns; each finished file goes to
 * the session's uploader (worker/agent/wk_uploader.c), which calls
 * sink_azblob_put(). `fleetcap upload` and `fleetcap capture --blob-url` call
 * sink_azblob_put() too.
 */
#ifndef SINK_H
#define SINK_H

#include <stddef.h>

#include "fc_err.h"

struct sink_ops {
	const char *name; /* "disk", "azblob" */
	/*
	 * Delivers the file at local_path to dest (a path under the capture
	 * root for disk, a blob URL for azblob). Writes where it went, without
	 * any secret, into location. Returns 0, or -1 with err: FC_ERR_INVALID
	 * for a destination that is refused, FC_ERR_RETRY for a failure worth
	 * trying again later, FC_ERR_FATAL otherwise.
	 */
	int (*put)(void *ctx, const char *local_path, const char *dest, char *location,
		   size_t location_len, struct fc_err *err);
	void (*destroy)(void *ctx); /* accepts NULL */
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;
};

#endif
