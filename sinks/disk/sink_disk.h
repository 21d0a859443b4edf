/*
 * sink_disk: keeps capture files under the capture root.
 *
 * Every destination is resolved relative to a directory handle on the root,
 * one component at a time with O_NOFOLLOW, so no string trick and no symlink
 * planted anywhere on the path (by a user of the host, say) can make the
 * worker write outside the root: ".." is refused, absolute paths are
 * accepted only when they name a place under the root, and a symlink at any
 * component is refused. Missing directories are created with mode 0750.
 *
 * The sink places; the capture engine writes: the worker resolves a
 * session's file_path here and the engine creates its files relative to the
 * directory handle it gets (O_EXCL, never replacing a file), so nothing is
 * copied and no check can be raced between resolving and writing.
 */
#ifndef SINK_DISK_H
#define SINK_DISK_H

#include <stddef.h>

#include "fc_err.h"

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

#endif
