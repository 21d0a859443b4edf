/* wk_journal: the worker's journal; see wk_journal.h. */
#include "wk_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc_hex.h"
#include "fc_log.h"

/* A "captured" line carries a report with every file of a ring. */
#define LINE_MAX_LEN (256 * 1024)
/* Final sessions kept at compaction: a START delivered again after a
 * restart is recognised as long as its session is among them. */
#define JOURNAL_KEEP_FINAL 1000
/* "start" and "final": ids, tenants, a name and a path. */
#define SHORT_LINE_MAX 8192

struct wk_journal {
	int fd;
	char path[1100];
	pthread_mutex_t lock;
	struct wk_journal_entry *entries;
	size_t count, cap;
	/* Snapshot at open of the entries without "final". */
	struct wk_journal_entry *interrupted;
	size_t n_interrupted;
};

static struct wk_journal_entry *find(const struct wk_journal *j, const char *session_id)
{
	for (size_t i = j->count; i-- > 0;)
		if (strcmp(j->entries[i].session_id, session_id) == 0)
			return &j->entries[i];
	return NULL;
}

static int add(struct wk_journal *j, const struct wk_journal_entry *e)
{
	if (j->count == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		struct wk_journal_entry *grown = realloc(j->entries, cap * sizeof(*grown));
		if (!grown)
			return -1;
		j->entries = grown;
		j->cap = cap;
	}
	j->entries[j->count] = *e;
	if (!(j->entries[j->count].session_id = strdup(e->session_id)) ||
	    !(j->entries[j->count].subscription = strdup(e->subscription)) ||
	    !(j->entries[j->count].region = strdup(e->region)) ||
	    !(j->entries[j->count].name = strdup(e->name)) ||
	    !(j->entries[j->count].path = strdup(e->path)))
		return -1;
	j->count++;
	return 0;
}

static void entry_free(struct wk_journal_entry *e)
{
	free(e->session_id);
	free(e->subscription);
	free(e->region);
	free(e->name);
	free(e->path);
	free(e->report);
	free(e->spec);
	free(e->unsent);
}

/* Decodes lowercase hex into a new buffer; NULL when hex is not that (or out of memory). */
static uint8_t *from_hex(const char *hex, size_t *len)
{
	uint8_t *out = malloc(strlen(hex) / 2 + 1);
	long n = out ? fc_hex_decode(hex, out) : -1;

	if (n < 0) {
		free(out);
		return NULL;
	}
	*len = (size_t)n;
	return out;
}

static int parse_captured(struct wk_journal *j, char **save)
{
	char *id = strtok_r(NULL, " ", save);
	char *report = strtok_r(NULL, " ", save);
	char *spec = strtok_r(NULL, " \n", save);
	struct wk_journal_entry *have = id ? find(j, id) : NULL;

	if (!have || !report || !spec || have->report)
		return -1;
	if (!(have->report = from_hex(report, &have->report_len)) ||
	    !(have->spec = from_hex(spec, &have->spec_len)))
		return -1;
	return 0;
}

static int parse_report(struct wk_journal *j, char **save)
{
	char *id = strtok_r(NULL, " ", save);
	char *report = strtok_r(NULL, " \n", save);
	struct wk_journal_entry *have = id ? find(j, id) : NULL;
	uint8_t *bytes;
	size_t len;

	if (!have || !report || !(bytes = from_hex(report, &len)))
		return -1;
	free(have->unsent); /* a later report replaces an earlier one */
	have->unsent = bytes;
	have->unsent_len = len;
	return 0;
}

/* Parses one line into the table. 0, or -1 when it is malformed. */
static int parse_line(struct wk_journal *j, char *line)
{
	char *save = NULL, *kind = strtok_r(line, " ", &save);
	struct wk_journal_entry e = {0};

	if (!kind)
		return -1;
	if (strcmp(kind, "final") == 0) {
		char *id = strtok_r(NULL, " \n", &save);
		struct wk_journal_entry *have = id ? find(j, id) : NULL;
		if (!have)
			return -1;
		have->final = 1;
		return 0;
	}
	if (strcmp(kind, "captured") == 0)
		return parse_captured(j, &save);
	if (strcmp(kind, "report") == 0)
		return parse_report(j, &save);
	if (strcmp(kind, "start") != 0)
		return -1;
	e.session_id = strtok_r(NULL, " ", &save);
	e.subscription = strtok_r(NULL, " ", &save);
	e.region = strtok_r(NULL, " ", &save);
	e.name = strtok_r(NULL, " ", &save);
	char *ms = strtok_r(NULL, " ", &save);
	e.path = strtok_r(NULL, "\n", &save);
	if (!e.session_id || !e.subscription || !e.region || !e.name || !ms || !e.path)
		return -1;
	e.start_ms = strtoll(ms, NULL, 10);
	return add(j, &e);
}

/* The lines that recreate e, into out (LINE_MAX_LEN * 3). 0, or -1 when too long. */
static int format_entry(const struct wk_journal_entry *e, char *out)
{
	int n = snprintf(out, LINE_MAX_LEN, "start %s %s %s %s %lld %s\n", e->session_id,
			 e->subscription, e->region, e->name, (long long)e->start_ms, e->path);

	if (n < 0 || n >= LINE_MAX_LEN)
		return -1;
	out += n;
	if (e->report) {
		if (2 * (e->report_len + e->spec_len) + strlen(e->session_id) + 16 >= LINE_MAX_LEN)
			return -1;
		out += sprintf(out, "captured %s ", e->session_id);
		out = fc_hex_encode(e->report, e->report_len, out);
		*out++ = ' ';
		out = fc_hex_encode(e->spec, e->spec_len, out);
		*out++ = '\n';
		*out = '\0';
	}
	if (e->unsent) {
		if (2 * e->unsent_len + strlen(e->session_id) + 16 >= LINE_MAX_LEN)
			return -1;
		out += sprintf(out, "report %s ", e->session_id);
		out = fc_hex_encode(e->unsent, e->unsent_len, out);
		*out++ = '\n';
		*out = '\0';
	}
	if (e->final)
		sprintf(out, "final %s\n", e->session_id);
	return 0;
}

/* Writes all of buf, through short writes and EINTR. 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sync_dir_of(const char *path)
{
	char dir[1100];
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

/* Writes every entry to tmp and syncs it. 0, or -1 with errno (tmp may remain). */
static int write_entries(const struct wk_journal *j, const char *tmp, char *buf)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < j->count; i++) {
		if (format_entry(&j->entries[i], buf) != 0) {
			errno = ENAMETOOLONG; /* each line was read within the limit */
			goto fail;
		}
		if (write_all(fd, buf, strlen(buf)) != 0)
			goto fail;
	}
	if (fsync(fd) != 0)
		goto fail;
	return close(fd);
fail:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Keeps the sessions that are not final and the newest JOURNAL_KEEP_FINAL
 * final ones, and rewrites the file with only those: written to a new file,
 * synced, then renamed over the old one, so a crash leaves one or the other.
 * When any step fails (a full disk, a file size limit) the old journal stays
 * as it is, whole, and err says why.
 */
static int compact(struct wk_journal *j, struct fc_err *err)
{
	char tmp[1200], *buf = malloc(3 * LINE_MAX_LEN);
	size_t finals = 0, kept = 0;

	if (!buf) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < j->count; i++)
		finals += j->entries[i].final;
	for (size_t i = 0; i < j->count; i++) {
		struct wk_journal_entry *e = &j->entries[i];
		if (e->final && finals-- > JOURNAL_KEEP_FINAL)
			entry_free(e); /* the oldest final sessions go */
		else
			j->entries[kept++] = *e;
	}
	j->count = kept;
	snprintf(tmp, sizeof(tmp), "%s.new", j->path);
	int rc = write_entries(j, tmp, buf);
	free(buf);
	if (rc != 0 || rename(tmp, j->path) != 0) {
		fc_err_set(err, FC_ERR_FATAL,
			   "state.dir: cannot rewrite %s (%s): the journal is kept as it was",
			   j->path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	sync_dir_of(j->path); /* the rename itself is durable once the directory is */
	return 0;
}

/*
 * Reads the journal; a line cut by a crash (the last) is dropped. A missing
 * journal is an empty one; any other failure to read it is an error, never
 * an empty journal, which compaction would then write over the real one.
 */
static int load(struct wk_journal *j, struct fc_err *err)
{
	char *line = malloc(LINE_MAX_LEN);
	unsigned lineno = 0;
	FILE *f = fopen(j->path, "re");
	int rc = 0;

	if (!f && errno == ENOENT) {
		free(line);
		return 0;
	}
	if (!f || !line) {
		fc_err_set(err, FC_ERR_FATAL, "state.dir: cannot read %s: %s", j->path,
			   line ? strerror(errno) : "out of memory");
		if (f)
			fclose(f);
		free(line);
		return -1;
	}
	while (fgets(line, LINE_MAX_LEN, f)) {
		lineno++;
		if (!strchr(line, '\n'))
			break; /* cut by a crash: the rewrite leaves it out */
		if (parse_line(j, line) != 0) {
			fc_err_set(err, FC_ERR_INVALID, "state.dir: %s:%u: not a journal line",
				   j->path, lineno);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		fc_err_set(err, FC_ERR_FATAL, "state.dir: cannot read %s: %s", j->path,
			   strerror(errno));
		rc = -1;
	}
	fclose(f);
	free(line);
	return rc;
}

struct wk_journal *wk_journal_open(const char *dir, struct fc_err *err)
{
	struct wk_journal *j = calloc(1, sizeof(*j));
	struct fc_err compact_err;

	if (!j) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	j->fd = -1;
	pthread_mutex_init(&j->lock, NULL);
	snprintf(j->path, sizeof(j->path), "%s/journal", dir);
	if (load(j, err) != 0) {
		wk_journal_close(j);
		return NULL;
	}
	if (compact(j, &compact_err) != 0) /* the journal is whole: it only stays larger */
		FC_WARN("worker", "%s", compact_err.msg);
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		fc_err_set(err, FC_ERR_INVALID, "state.dir: cannot open %s: %s", j->path,
			   strerror(errno));
		wk_journal_close(j);
		return NULL;
	}
	for (size_t i = 0; i < j->count; i++)
		if (!j->entries[i].final)
			j->n_interrupted++;
	j->interrupted = calloc(j->n_interrupted + 1, sizeof(*j->interrupted));
	for (size_t i = 0, k = 0; j->interrupted && i < j->count; i++)
		if (!j->entries[i].final)
			j->interrupted[k++] = j->entries[i]; /* borrows the strings */
	return j;
}

void wk_journal_close(struct wk_journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->count; i++)
		entry_free(&j->entries[i]);
	free(j->entries);
	free(j->interrupted);
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

size_t wk_journal_interrupted(const struct wk_journal *j, const struct wk_journal_entry **out)
{
	*out = j->interrupted;
	return j->interrupted ? j->n_interrupted : 0;
}

int wk_journal_known(const struct wk_journal *j, const char *session_id)
{
	struct wk_journal *w = (struct wk_journal *)j;
	int known;

	pthread_mutex_lock(&w->lock);
	known = find(w, session_id) != NULL;
	pthread_mutex_unlock(&w->lock);
	return known;
}

/*
 * Appends line and makes it durable. Called with the lock held. A line only
 * partly written (a full disk) is cut off again, so the next line does not
 * start in the middle of it.
 */
static int append(struct wk_journal *j, const char *line, struct fc_err *err)
{
	off_t end = lseek(j->fd, 0, SEEK_END);

	if (write_all(j->fd, line, strlen(line)) != 0 || fdatasync(j->fd) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "journal %s: %s", j->path, strerror(errno));
		if (end >= 0 && ftruncate(j->fd, end) != 0)
			FC_WARN("worker", "journal %s: cannot cut a partial line: %s", j->path,
				strerror(errno));
		return -1;
	}
	return 0;
}

int wk_journal_started(struct wk_journal *j, const char *session_id, const char *subscription,
		       const char *region, const char *name, int64_t start_ms, const char *path,
		       struct fc_err *err)
{
	struct wk_journal_entry e = {.session_id = (char *)session_id,
				     .subscription = (char *)subscription,
				     .region = (char *)region,
				     .name = (char *)name,
				     .start_ms = start_ms,
				     .path = (char *)path};
	char line[SHORT_LINE_MAX];
	int rc;

	if (strpbrk(session_id, " \n") || strchr(path, '\n') ||
	    (size_t)snprintf(line, sizeof(line), "start %s %s %s %s %lld %s\n", session_id,
			     subscription, region, name, (long long)start_ms,
			     path) >= sizeof(line)) {
		fc_err_set(err, FC_ERR_INVALID, "journal: session %.64s cannot be recorded",
			   session_id);
		return -1;
	}
	pthread_mutex_lock(&j->lock);
	rc = append(j, line, err);
	if (rc == 0 && add(j, &e) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		rc = -1;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int wk_journal_captured(struct wk_journal *j, const char *session_id, const uint8_t *report,
			size_t report_len, const uint8_t *spec, size_t spec_len, struct fc_err *err)
{
	size_t need = strlen(session_id) + 2 * (report_len + spec_len) + 16;
	char *line = need < LINE_MAX_LEN ? malloc(need) : NULL;
	int rc;

	if (!line) {
		fc_err_set(err, FC_ERR_INVALID,
			   "journal: session %.64s: the report is too large to record", session_id);
		return -1;
	}
	char *p = line + sprintf(line, "captured %s ", session_id);
	p = fc_hex_encode(report, report_len, p);
	*p++ = ' ';
	p = fc_hex_encode(spec, spec_len, p);
	strcpy(p, "\n");
	pthread_mutex_lock(&j->lock);
	rc = append(j, line, err);
	struct wk_journal_entry *e = find(j, session_id);
	if (rc == 0 && e && !e->report) {
		e->report = malloc(report_len + 1);
		e->spec = malloc(spec_len + 1);
		if (e->report && e->spec) {
			memcpy(e->report, report, report_len);
			memcpy(e->spec, spec, spec_len);
			e->report_len = report_len;
			e->spec_len = spec_len;
		} else { /* on disk all the same; only the next open needs it */
			free(e->report);
			free(e->spec);
			e->report = e->spec = NULL;
		}
	}
	pthread_mutex_unlock(&j->lock);
	free(line);
	return rc;
}

int wk_journal_report(struct wk_journal *j, const char *session_id, const uint8_t *report,
		      size_t report_len, struct fc_err *err)
{
	size_t need = strlen(session_id) + 2 * report_len + 16;
	char *line = need < LINE_MAX_LEN ? malloc(need) : NULL;
	uint8_t *copy = malloc(report_len + 1);
	int rc;

	if (!line || !copy) {
		fc_err_set(err, FC_ERR_INVALID,
			   "journal: session %.64s: the report is too large to record", session_id);
		free(line);
		free(copy);
		return -1;
	}
	char *p = line + sprintf(line, "report %s ", session_id);
	p = fc_hex_encode(report, report_len, p);
	strcpy(p, "\n");
	memcpy(copy, report, report_len);
	pthread_mutex_lock(&j->lock);
	rc = append(j, line, err);
	struct wk_journal_entry *e = find(j, session_id);
	if (rc == 0 && e) {
		free(e->unsent);
		e->unsent = copy;
		e->unsent_len = report_len;
		copy = NULL;
	}
	pthread_mutex_unlock(&j->lock);
	free(copy);
	free(line);
	return rc;
}

int wk_journal_finished(struct wk_journal *j, const char *session_id, struct fc_err *err)
{
	char line[SHORT_LINE_MAX];
	int rc;

	snprintf(line, sizeof(line), "final %s\n", session_id);
	pthread_mutex_lock(&j->lock);
	rc = append(j, line, err);
	struct wk_journal_entry *e = find(j, session_id);
	if (e)
		e->final = 1;
	pthread_mutex_unlock(&j->lock);
	return rc;
}
