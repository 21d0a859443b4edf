/*
 * sink_disk: keeps capture files under the capture root.
 *
 * Every destination is resolved relative to a directory handle on the root,
 * one component at a time with O_NOFOLLOW, so no string trick and no symlink
 * planted anywhere on the path (by a user of the host, say) can make the
 * worker write outside the root: ".." is refused, absolute paths are
 * accepted only when they name a place under the root, and a symlink at any
 * component is refused. Missing directories are created with mode 0750. An
 * existing file is never replaced.
 */
#ifndef SINK_DISK_H
#define SINK_DISK_H

#include <stddef.h>

#include "fc_err.h"
#include "sink.h"

struct sink_disk_config {
	const char *root; /* the capture root; must exist */
};

struct sink_disk;

/* Opens the root. Returns NULL with err set when it is not a directory. */
struct sink_disk *sink_disk_open(const struct sink_disk_config *config, struct fc_err *err);

void sink_disk_close(struct sink_disk *disk);

/*
 * Resolves path under the root: opens (creating what is missing) the
 * directory that will hold it and returns its fd in *dirfd (the caller
 * closes it) and the file name in name. Returns 0, or -1 with err
 * (FC_ERR_INVALID when the path is refused).
 */
int sink_disk_resolve(struct sink_disk *disk, const char *path, int *dirfd, char *name,
		      size_t name_len, struct fc_err *err);

/*
 * Delivers src to path under the root: a hard link when both are on one file
 * system, else a copy written as NAME.part, fsync-ed and renamed. Fails when
 * the destination exists. Writes the absolute destination into location.
 */
int sink_disk_put(struct sink_disk *disk, const char *src, const char *path, char *location,
		  size_t location_len, struct fc_err *err);

/* The sink_ops of the disk sink; its ctx is a struct sink_disk. */
extern const struct sink_ops sink_disk_ops;

#endif
