/* api_http: the HTTP server of fleetcap-api; see api_http.h. */
#include "api_http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api_tls.h"
#include "fc_log.h"

#define BODY_MAX (64 * 1024)
#define FILE_MAX (1024 * 1024)
/* Every connection has a thread; handlers wait for Kafka, not for deep
 * calls, so a small stack lets thousands of connections stay cheap. */
#define THREAD_STACK (256 * 1024)
/* No byte for this long closes a connection (libmicrohttpd's idle timeout). */
#define IDLE_TIMEOUT_S 30u

/*
 * A connection, for the reaper: a client must send a whole request (headers
 * and body) within request_timeout_ms of connecting or of its previous
 * answer, however slowly it trickles bytes, or its socket is shut down. A
 * request being handled (waiting for the scheduler) is never cut.
 */
struct conn {
	int fd;
	int64_t since_ms; /* connected, or answered last */
	int handling;
	struct conn *prev, *next;
};

struct api_http {
	struct MHD_Daemon *daemon;
	struct api_http_config config;
	const struct api_ctx *ctx;
	uint16_t port;
	pthread_mutex_t lock; /* conns, and each conn's since_ms and handling */
	pthread_cond_t wake;
	struct conn *conns;
	size_t n_conns;
	uint64_t reaped;
	int stopping;
	pthread_t reaper;
	int reaper_started;
};

/* One request's body, gathered across calls. */
struct upload {
	char *data;
	size_t len;
	int too_large;
};

static enum MHD_Result respond(struct MHD_Connection *c, int status, const char *type, char *body,
			       size_t len, const struct api_response *res)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body ? body : (char *)"",
								 body ? MHD_RESPMEM_MUST_FREE
								      : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (res && *res->location)
		MHD_add_response_header(r, "Location", res->location);
	if (res && res->allow)
		MHD_add_response_header(r, "Allow", res->allow);
	if (res && res->challenge)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"fleetcap\"");
	if (res && res->retry_after) {
		char seconds[16];
		snprintf(seconds, sizeof(seconds), "%u", res->retry_after);
		MHD_add_response_header(r, "Retry-After", seconds);
	}
	ok = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result json_error(struct MHD_Connection *c, int status, const char *code,
				  const char *message)
{
	json_t *e = api_error_json(code, message, NULL);
	char *body = json_dumps(e, JSON_COMPACT);

	json_decref(e);
	return respond(c, status, "application/json", body, body ? strlen(body) : 0, NULL);
}

/* ------------------------------------------------------- static files */

static const char *content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return "application/octet-stream";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".json") == 0)
		return "application/json";
	if (strcmp(dot, ".png") == 0)
		return "image/png";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return "application/octet-stream";
}

/* A file of web.root named in url ("/" is index.html): one plain name, no
 * directory, no dot first, so nothing outside web.root is reachable. */
static enum MHD_Result serve_file(struct api_http *h, struct MHD_Connection *c, const char *url)
{
	const char *name = strcmp(url, "/") == 0 ? "index.html" : url + 1;
	char path[4200];
	struct stat st;

	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return json_error(c, 404, "NotFound", "no such page");
	if (!*name || name[0] == '.' || !*h->config.web_root)
		return json_error(c, 404, "NotFound", "no such page");
	snprintf(path, sizeof(path), "%s/%s", h->config.web_root, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		if (fd >= 0)
			close(fd);
		return json_error(c, 404, "NotFound", "no such page");
	}
	char *body = malloc((size_t)st.st_size + 1);
	ssize_t n = body ? read(fd, body, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(body);
		return json_error(c, 500, "InternalError", "cannot read the page");
	}
	struct MHD_Response *r =
		MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", content_type(name));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* The page talks to this origin only. */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* ---------------------------------------------------------- connections */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct api_http *h = cls;
	struct conn *conn = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!info || !(conn = calloc(1, sizeof(*conn))))
			return; /* not reaped: the idle timeout still applies */
		conn->fd = info->connect_fd;
		pthread_mutex_lock(&h->lock);
		conn->since_ms = now_ms();
		conn->next = h->conns;
		if (h->conns)
			h->conns->prev = conn;
		h->conns = conn;
		h->n_conns++;
		pthread_mutex_unlock(&h->lock);
		*socket_context = conn;
	} else if (conn) { /* closed: before libmicrohttpd closes the socket */
		pthread_mutex_lock(&h->lock);
		if (conn->prev)
			conn->prev->next = conn->next;
		else
			h->conns = conn->next;
		if (conn->next)
			conn->next->prev = conn->prev;
		h->n_conns--;
		pthread_mutex_unlock(&h->lock);
		free(conn);
		*socket_context = NULL;
	}
}

/* A request is being handled (1), or was answered (0): the next one's clock starts. */
static void set_handling(struct api_http *h, struct MHD_Connection *c, int handling)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *conn = info ? info->socket_context : NULL;

	if (!conn)
		return;
	pthread_mutex_lock(&h->lock);
	conn->handling = handling;
	conn->since_ms = now_ms();
	pthread_mutex_unlock(&h->lock);
}

static void *reaper_main(void *opaque)
{
	struct api_http *h = opaque;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&h->wake, &h->lock, &until);
		int64_t now = now_ms();
		for (struct conn *conn = h->conns; conn; conn = conn->next)
			if (!conn->handling &&
			    now - conn->since_ms > (int64_t)h->config.request_timeout_s * 1000) {
				/* The connection's thread sees the end and closes
				 * it; the socket stays open until then. */
				shutdown(conn->fd, SHUT_RDWR);
				conn->since_ms = INT64_MAX / 2;
				h->reaped++;
			}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Room for connections_max sockets, the daemon's own and some to spare. */
static void raise_file_limit(unsigned connections_max)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)connections_max + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		FC_WARN("http",
			"connections.max %u: the open-file limit allows only %llu sockets; raise "
			"it "
			"(LimitNOFILE=)",
			connections_max, (unsigned long long)rl.rlim_cur);
}

/* ------------------------------------------------------------ requests */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api_http *h = cls;
	struct upload *u = *con_cls;

	(void)version;
	if (!u) { /* first call: headers only */
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (u->len + *upload_data_size > BODY_MAX) {
			/* Read and dropped (libmicrohttpd 0.9.75 cannot answer
			 * before the body ends); request.timeout.s bounds how
			 * long a huge body may take. */
			u->too_large = 1;
		} else {
			char *grown = realloc(u->data, u->len + *upload_data_size + 1);
			if (!grown)
				return MHD_NO;
			memcpy(grown + u->len, upload_data, *upload_data_size);
			u->data = grown;
			u->len += *upload_data_size;
			u->data[u->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (u->too_large)
		return json_error(c, 413, "PayloadTooLarge", "the body is larger than 64 KiB");
	set_handling(h, c, 1);
	if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0 && h->config.metrics) {
		char *text = h->config.metrics(h->config.metrics_opaque);
		return respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text,
			       text ? strlen(text) : 0, NULL);
	}
	if (!api_is_route(url)) {
		if (strcmp(method, "GET") == 0)
			return serve_file(h, c, url);
		return json_error(c, 404, "NotFound", "no such route");
	}
	struct api_request req = {
		.method = method,
		.path = url,
		.body = u->data ? u->data : "",
		.body_len = u->len,
		.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_AUTHORIZATION),
		.api_version = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api-version"),
	};
	struct api_response res;
	api_route(h->ctx, &req, &res);
	FC_DEBUG("api", "%s %s → %d", method, url, res.status);
	return respond(c, res.status, res.body ? "application/json" : NULL, res.body,
		       res.body ? strlen(res.body) : 0, &res);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)toe;
	set_handling(cls, c, 0);
	if (u) {
		free(u->data);
		free(u);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own messages; fmt is its printf format. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	FC_WARN("http", "%s", line);
}

struct api_http *api_http_start(const struct api_http_config *config, const struct api_ctx *ctx,
				struct fc_err *err)
{
	struct api_http *h = calloc(1, sizeof(*h));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(config->port)};

	if (!h) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	h->config = *config;
	h->ctx = ctx;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	if (inet_pton(AF_INET, config->address, &addr.sin_addr) != 1) {
		fc_err_set(err, FC_ERR_INVALID,
			   "listen.address \"%.64s\": expected an IPv4 address", config->address);
		api_http_stop(h);
		return NULL;
	}
	raise_file_limit(config->connections_max);
	/* TLS 1.2 and 1.3 only; the certificate comes from api_tls at each
	 * handshake, so that SIGHUP can replace it. */
	struct MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)api_tls_retrieve},
		{MHD_OPTION_HTTPS_PRIORITIES, 0,
		 (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
		{MHD_OPTION_END, 0, NULL},
	};
	h->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
			MHD_USE_ERROR_LOG | /* poll: select() stops at descriptor 1024 */
			(config->tls ? MHD_USE_TLS : 0),
		config->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
		NULL, MHD_OPTION_ARRAY, config->tls ? tls_options : tls_options + 2,
		MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT, config->connections_max,
		MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK, MHD_OPTION_END);
	if (!h->daemon) {
		fc_err_set(err, FC_ERR_INVALID, "listen: cannot listen on %s:%u", config->address,
			   (unsigned)config->port);
		api_http_stop(h);
		return NULL;
	}
	if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "cannot start the connection reaper");
		api_http_stop(h);
		return NULL;
	}
	h->reaper_started = 1;
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : config->port;
	return h;
}

uint16_t api_http_port(const struct api_http *h)
{
	return h->port;
}

void api_http_stop(struct api_http *h)
{
	if (!h)
		return;
	if (h->reaper_started) {
		pthread_mutex_lock(&h->lock);
		h->stopping = 1;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->reaper, NULL);
	}
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
