/* wk_journal: the worker's journal; see wk_journal.h. */
#include "wk_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

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

struct wk_journal *wk_journal_open(const char *dir, struct fc_err *err)
{
	struct wk_journal *j = calloc(1, sizeof(*j));
	char line[LINE_MAX_LEN];
	unsigned lineno = 0;
	FILE *f;

	if (!j) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	j->fd = -1;
	pthread_mutex_init(&j->lock, NULL);
	snprintf(j->path, sizeof(j->path), "%s/journal", dir);
	long complete = 0; /* bytes up to the end of the last whole line */
	int cut = 0;
	if ((f = fopen(j->path, "r"))) {
		while (fgets(line, sizeof(line), f)) {
			lineno++;
			/* A line cut by a crash is the last one: dropped below, so
			 * that the next line appended starts clean. */
			if (!strchr(line, '\n')) {
				cut = 1;
				break;
			}
			complete = ftell(f);
			if (parse_line(j, line) != 0) {
				fc_err_set(err, FC_ERR_INVALID,
					   "state.dir: %s:%u: not a journal line", j->path, lineno);
				fclose(f);
				wk_journal_close(j);
				return NULL;
			}
		}
		fclose(f);
	}
	if (cut && truncate(j->path, complete) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "state.dir: cannot repair %s: %s", j->path,
			   strerror(errno));
		wk_journal_close(j);
		return NULL;
	}
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
	for (size_t i = 0; i < j->count; i++) {
		free(j->entries[i].session_id);
		free(j->entries[i].subscription);
		free(j->entries[i].region);
		free(j->entries[i].name);
		free(j->entries[i].path);
	}
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

/* Appends line and makes it durable. Called with the lock held. */
static int append(struct wk_journal *j, const char *line, struct fc_err *err)
{
	size_t len = strlen(line);

	if (write(j->fd, line, len) != (ssize_t)len || fdatasync(j->fd) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "journal %s: %s", j->path, strerror(errno));
		return -1;
	}
	return 0;
}

int wk_journal_started(struct wk_journal *j, const char *session_id, const char *subscription,
		       const char *region, const char *name, int64_t start_ms, const char *path,
		       struct fc_err *err)
{
	struct wk_journal_entry e = {(char *)session_id,
				     (char *)subscription,
				     (char *)region,
				     (char *)name,
				     start_ms,
				     (char *)path,
				     0};
	char line[LINE_MAX_LEN];
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

int wk_journal_finished(struct wk_journal *j, const char *session_id, struct fc_err *err)
{
	char line[LINE_MAX_LEN];
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
