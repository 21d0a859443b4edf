/* fc_metrics: Prometheus counters and gauges; see fc_metrics.h. */
#include "fc_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "fc_log.h"

#define NAME_MAX_LEN	  96
#define SERIES_LABELS_MAX 256

struct series {
	char labels[SERIES_LABELS_MAX]; /* rendered: a="x",b="y" */
	double value;
};

struct fc_metric {
	struct fc_metrics *registry;
	char name[NAME_MAX_LEN];
	char help[200];
	const char *type;
	char label_names[FC_METRIC_LABELS][32];
	int n_labels;
	struct series *series;
	size_t count, cap;
	struct fc_metric *next;
};

struct fc_metrics {
	pthread_mutex_t lock;
	struct fc_metric *first, *last;
};

struct fc_metrics *fc_metrics_new(void)
{
	struct fc_metrics *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void fc_metrics_free(struct fc_metrics *m)
{
	if (!m)
		return;
	for (struct fc_metric *f = m->first, *next; f; f = next) {
		next = f->next;
		free(f->series);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct fc_metric *family(struct fc_metrics *m, const char *name, const char *help,
				const char *labels, const char *type)
{
	struct fc_metric *f;
	char list[128], *save = NULL;

	if (!m || !(f = calloc(1, sizeof(*f))))
		return NULL;
	f->registry = m;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->help, sizeof(f->help), "%s", help);
	f->type = type;
	snprintf(list, sizeof(list), "%s", labels ? labels : "");
	for (char *t = strtok_r(list, ",", &save); t && f->n_labels < FC_METRIC_LABELS;
	     t = strtok_r(NULL, ",", &save))
		snprintf(f->label_names[f->n_labels++], sizeof(f->label_names[0]), "%s", t);
	pthread_mutex_lock(&m->lock);
	if (m->last)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	pthread_mutex_unlock(&m->lock);
	return f;
}

struct fc_metric *fc_metrics_counter(struct fc_metrics *m, const char *name, const char *help,
				     const char *labels)
{
	return family(m, name, help, labels, "counter");
}

struct fc_metric *fc_metrics_gauge(struct fc_metrics *m, const char *name, const char *help,
				   const char *labels)
{
	return family(m, name, help, labels, "gauge");
}

/* a="x",b="y" with the text format's escapes (\\, \", \n). */
static void render_labels(const struct fc_metric *f, va_list ap, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < f->n_labels; i++) {
		const char *v = va_arg(ap, const char *);
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s=\"", i ? "," : "",
				      f->label_names[i]);
		for (; v && *v && n + 3 < len; v++) {
			if (*v == '\\' || *v == '"')
				out[n++] = '\\';
			if (*v == '\n') {
				out[n++] = '\\';
				out[n++] = 'n';
				continue;
			}
			out[n++] = *v;
		}
		if (n + 2 < len) {
			out[n++] = '"';
			out[n] = '\0';
		}
	}
}

static void update(struct fc_metric *f, double v, int set, va_list ap)
{
	char labels[SERIES_LABELS_MAX];
	struct series *s = NULL;

	render_labels(f, ap, labels, sizeof(labels));
	pthread_mutex_lock(&f->registry->lock);
	for (size_t i = 0; i < f->count && !s; i++)
		if (strcmp(f->series[i].labels, labels) == 0)
			s = &f->series[i];
	if (!s && f->count == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		struct series *grown = realloc(f->series, cap * sizeof(*grown));
		if (grown) {
			f->series = grown;
			f->cap = cap;
		}
	}
	if (!s && f->count < f->cap) {
		s = &f->series[f->count++];
		snprintf(s->labels, sizeof(s->labels), "%s", labels);
		s->value = 0;
	}
	if (s)
		s->value = set ? v : s->value + v;
	pthread_mutex_unlock(&f->registry->lock);
}

void fc_metric_add(struct fc_metric *f, double v, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, v);
	update(f, v, 0, ap);
	va_end(ap);
}

void fc_metric_set(struct fc_metric *f, double v, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, v);
	update(f, v, 1, ap);
	va_end(ap);
}

/* Appends to a growing buffer. */
struct text {
	char *buf;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->buf && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
		char *grown = realloc(t->buf, cap);
		if (!grown)
			return;
		t->buf = grown;
		t->cap = cap;
	}
}

char *fc_metrics_text(struct fc_metrics *m)
{
	struct text t = {0};

	put(&t, "%s", "");
	pthread_mutex_lock(&m->lock);
	for (const struct fc_metric *f = m->first; f; f = f->next) {
		put(&t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
		if (!f->count && !f->n_labels)
			put(&t, "%s 0\n", f->name);
		for (size_t i = 0; i < f->count; i++)
			put(&t, "%s%s%s%s %.17g\n", f->name, *f->series[i].labels ? "{" : "",
			    f->series[i].labels, *f->series[i].labels ? "}" : "",
			    f->series[i].value);
	}
	pthread_mutex_unlock(&m->lock);
	return t.buf;
}

/* ------------------------------------------------------------- server */

struct fc_metrics_server {
	struct MHD_Daemon *daemon;
	struct fc_metrics *metrics;
	uint16_t port;
};

static enum MHD_Result on_scrape(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *data,
				 size_t *data_size, void **con_cls)
{
	struct fc_metrics_server *s = cls;
	struct MHD_Response *r;
	enum MHD_Result ok;
	int found = strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0;
	char *text = found ? fc_metrics_text(s->metrics) : NULL;

	(void)version;
	(void)data;
	(void)data_size;
	(void)con_cls;
	if (text)
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(10, (char *)"not found\n",
						    MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ok = MHD_queue_response(c, text ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
	MHD_destroy_response(r);
	return ok;
}

struct fc_metrics_server *fc_metrics_serve(struct fc_metrics *m, const char *address, uint16_t port,
					   struct fc_err *err)
{
	struct fc_metrics_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (!s || inet_pton(AF_INET, address, &addr.sin_addr) != 1) {
		fc_err_set(err, FC_ERR_INVALID,
			   "metrics.address \"%.64s\": expected an IPv4 address", address);
		free(s);
		return NULL;
	}
	s->metrics = m;
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, on_scrape,
				     s, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT,
				     16u, MHD_OPTION_END);
	if (!s->daemon) {
		fc_err_set(err, FC_ERR_INVALID, "metrics: cannot listen on %s:%u", address,
			   (unsigned)port);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	FC_INFO("metrics", "metrics on http://%s:%u/metrics", address, (unsigned)s->port);
	return s;
}

uint16_t fc_metrics_server_port(const struct fc_metrics_server *s)
{
	return s->port;
}

void fc_metrics_server_stop(struct fc_metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->daemon);
	free(s);
}
