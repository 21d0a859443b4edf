/* sink_disk: see sink_disk.h. */
#include "sink_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_MODE 0750

struct sink_disk {
	int root_fd;
	char root[PATH_MAX]; /* canonical */
};

struct sink_disk *sink_disk_open(const struct sink_disk_config *config, struct fc_err *err)
{
	struct sink_disk *d = calloc(1, sizeof(*d));

	if (!d) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	if (!realpath(config->root, d->root) ||
	    (d->root_fd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fc_err_set(err, FC_ERR_FATAL, "capture root %s: %s", config->root, strerror(errno));
		free(d);
		return NULL;
	}
	return d;
}

void sink_disk_close(struct sink_disk *d)
{
	if (!d)
		return;
	close(d->root_fd);
	free(d);
}

/*
 * Splits path into its components below the root (refusing "..", and an
 * absolute path that is not under the root) and writes them, joined by '/',
 * into rel. Returns 0, or -1 with err.
 */
static int relative_path(const struct sink_disk *d, const char *path, char *rel, size_t len,
			 struct fc_err *err)
{
	size_t root_len = strlen(d->root), used = 0;
	const char *p = path;

	if (path[0] == '/') {
		if (strncmp(path, d->root, root_len) != 0 ||
		    (path[root_len] != '/' && strcmp(d->root, "/") != 0)) {
			fc_err_set(err, FC_ERR_INVALID,
				   "file_path \"%.200s\": an absolute path outside the capture "
				   "root %s",
				   path, d->root);
			return -1;
		}
		p = path + root_len;
	}
	rel[0] = '\0';
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			fc_err_set(err, FC_ERR_INVALID,
				   "file_path \"%.200s\": a \"..\" component is not allowed", path);
			return -1;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (n > NAME_MAX || used + n + 2 > len) {
				fc_err_set(err, FC_ERR_INVALID, "file_path \"%.200s\" is too long",
					   path);
				return -1;
			}
			if (used)
				rel[used++] = '/';
			memcpy(rel + used, p, n);
			used += n;
			rel[used] = '\0';
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (used == 0 || (path[0] && path[strlen(path) - 1] == '/')) {
		fc_err_set(err, FC_ERR_INVALID, "file_path \"%.200s\": expected a file name", path);
		return -1;
	}
	return 0;
}

/* Opens directory component name in dirfd, creating it when missing. */
static int open_component(int dirfd, const char *name, const char *path, struct fc_err *err)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags);

	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(dirfd, name, DIR_MODE) != 0 && errno != EEXIST) {
			fc_err_set(err, FC_ERR_FATAL, "file_path \"%.200s\": cannot create %s: %s",
				   path, name, strerror(errno));
			return -1;
		}
		fd = openat(dirfd, name, flags);
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		fc_err_set(err, FC_ERR_INVALID,
			   "file_path \"%.200s\": \"%s\" is a symbolic link or not a directory; "
			   "symbolic links are refused",
			   path, name);
		return -1;
	}
	if (fd < 0)
		fc_err_set(err, FC_ERR_FATAL, "file_path \"%.200s\": cannot open %s: %s", path,
			   name, strerror(errno));
	return fd;
}

int sink_disk_resolve(struct sink_disk *d, const char *path, int *dirfd, char *name,
		      size_t name_len, struct fc_err *err)
{
	char rel[PATH_MAX], *component, *slash;
	int cur;

	if (relative_path(d, path, rel, sizeof(rel), err) != 0)
		return -1;
	cur = dup(d->root_fd);
	if (cur < 0) {
		fc_err_set(err, FC_ERR_FATAL, "dup: %s", strerror(errno));
		return -1;
	}
	for (component = rel; (slash = strchr(component, '/')); component = slash + 1) {
		*slash = '\0';
		int next = open_component(cur, component, path, err);
		close(cur);
		if (next < 0)
			return -1;
		cur = next;
	}
	if (strlen(component) >= name_len) {
		close(cur);
		fc_err_set(err, FC_ERR_INVALID, "file_path \"%.200s\": file name too long", path);
		return -1;
	}
	strcpy(name, component);
	*dirfd = cur;
	return 0;
}
