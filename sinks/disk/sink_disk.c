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

#include "fc_file.h"

#define DIR_MODE  0750
#define FILE_MODE 0640

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

/* Copies src into dirfd/name via name.part, never replacing name. */
static int copy_into(const char *src, int dirfd, const char *name, const char *path,
		     struct fc_err *err)
{
	char part[NAME_MAX + 8], buf[1 << 16];
	int in = -1, out = -1;
	ssize_t n;

	snprintf(part, sizeof(part), "%s.part", name);
	in = open(src, O_RDONLY | O_CLOEXEC);
	out = openat(dirfd, part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
	if (in < 0 || out < 0) {
		fc_err_set(err, FC_ERR_FATAL, "file_path \"%.200s\": cannot copy %s: %s", path, src,
			   strerror(errno));
		goto fail;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			fc_err_set(err, FC_ERR_FATAL, "file_path \"%.200s\": copy failed: %s", path,
				   strerror(errno));
			goto fail;
		}
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		fc_err_set(err, FC_ERR_FATAL, "file_path \"%.200s\": fsync failed: %s", path,
			   strerror(errno));
		goto fail;
	}
	out = -1;
	if (fc_rename_noreplace(dirfd, part, name) != 0) {
		fc_err_set(err, errno == EEXIST ? FC_ERR_INVALID : FC_ERR_FATAL,
			   "file_path \"%.200s\": %s", path,
			   errno == EEXIST ? "already exists: files are never overwritten"
					   : strerror(errno));
		goto fail;
	}
	close(in);
	return 0;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	unlinkat(dirfd, part, 0);
	return -1;
}

int sink_disk_put(struct sink_disk *d, const char *src, const char *path, char *location,
		  size_t location_len, struct fc_err *err)
{
	char name[NAME_MAX + 1], rel[PATH_MAX];
	int dirfd, rc = -1;

	if (relative_path(d, path, rel, sizeof(rel), err) != 0 ||
	    sink_disk_resolve(d, path, &dirfd, name, sizeof(name), err) != 0)
		return -1;
	if (linkat(AT_FDCWD, src, dirfd, name, 0) == 0) {
		rc = 0;
	} else if (errno == EEXIST) {
		fc_err_set(err, FC_ERR_INVALID,
			   "file_path \"%.200s\" already exists: files are never overwritten",
			   path);
	} else if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP) {
		rc = copy_into(src, dirfd, name, path, err); /* another file system */
	} else {
		fc_err_set(err, FC_ERR_FATAL, "file_path \"%.200s\": cannot link %s: %s", path, src,
			   strerror(errno));
	}
	if (rc == 0) {
		fsync(dirfd); /* the new name survives a crash */
		snprintf(location, location_len, "%s%s%s", d->root,
			 strcmp(d->root, "/") == 0 ? "" : "/", rel);
	}
	close(dirfd);
	return rc;
}

static int ops_put(void *ctx, const char *local_path, const char *dest, char *location,
		   size_t location_len, struct fc_err *err)
{
	return sink_disk_put(ctx, local_path, dest, location, location_len, err);
}

static void ops_destroy(void *ctx)
{
	sink_disk_close(ctx);
}

const struct sink_ops sink_disk_ops = {
	.name = "disk",
	.put = ops_put,
	.destroy = ops_destroy,
};
