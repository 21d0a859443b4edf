/* wk_session: see wk_session.h. */
#include "wk_session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fc_log.h"
#include "wk_filter.h"
#include "wk_ifaddr.h"
#include "wk_output.h"

struct wk_handle {
	pcap_t *pcap;
	char name[FC_IFNAME_MAX + 1];
	struct wk_session *session;
	int drained; /* drain: a packet after the stop was seen */
};

struct wk_session {
	struct wk_session_config config;
	struct wk_handle handles[FC_INTERFACES_MAX];
	size_t n_handles;
	struct wk_output *output;
	struct wk_output_config output_config;
	int stop_fd;
	int linktype;
	unsigned snaplen;
	int nano;
	uint64_t time_limit_ns;

	/* Set by the packet callback. */
	int limit_reached;
	int write_failed;
	struct fc_err write_err;
	int draining;
	uint64_t stop_ns; /* draining: keep packets time-stamped up to this */
};

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Opens, configures and activates one interface. */
static int open_handle(struct wk_session *s, struct wk_handle *h, const char *ifname,
		       struct fc_err *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int rc;

	snprintf(h->name, sizeof(h->name), "%s", ifname);
	h->session = s;
	h->pcap = pcap_create(ifname, errbuf);
	if (!h->pcap) {
		fc_err_set(err, FC_ERR_FATAL, "interface %s: %s", ifname, errbuf);
		return -1;
	}
	/* No immediate mode: the kernel fills whole TPACKET_V3 blocks and we are
	 * woken once per block, not once per packet. */
	if (pcap_set_snaplen(h->pcap, WK_MATCH_SNAPLEN) != 0 || pcap_set_promisc(h->pcap, 0) != 0 ||
	    pcap_set_timeout(h->pcap, (int)s->config.block_timeout_ms) != 0 ||
	    pcap_set_buffer_size(h->pcap, (int)s->config.buffer_bytes) != 0 ||
	    pcap_set_immediate_mode(h->pcap, 0) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "interface %s: cannot set capture options", ifname);
		return -1;
	}
	s->nano = pcap_set_tstamp_precision(h->pcap, PCAP_TSTAMP_PRECISION_NANO) == 0;
	rc = pcap_activate(h->pcap);
	if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
		fc_err_set(err, FC_ERR_INVALID, "interface \"%s\" does not exist", ifname);
		return -1;
	}
	if (rc == PCAP_ERROR_PERM_DENIED) {
		fc_err_set(err, FC_ERR_FATAL,
			   "interface %s: permission denied: capturing needs CAP_NET_RAW "
			   "(run as root, or see deploy/README.md)",
			   ifname);
		return -1;
	}
	if (rc < 0) {
		fc_err_set(err, FC_ERR_FATAL, "interface %s: %s: %s", ifname, pcap_statustostr(rc),
			   pcap_geterr(h->pcap));
		return -1;
	}
	if (rc > 0)
		FC_WARN("capture", "interface %s: %s: %s", ifname, pcap_statustostr(rc),
			pcap_geterr(h->pcap));
	if (s->nano && pcap_get_tstamp_precision(h->pcap) != PCAP_TSTAMP_PRECISION_NANO)
		s->nano = 0;
	if (pcap_setnonblock(h->pcap, 1, errbuf) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "interface %s: %s", ifname, errbuf);
		return -1;
	}
	if (pcap_get_selectable_fd(h->pcap) < 0) {
		fc_err_set(err, FC_ERR_FATAL, "interface %s: no selectable descriptor", ifname);
		return -1;
	}
	return 0;
}

static int apply_filter(struct wk_handle *h, const char *expr, struct fc_err *err)
{
	struct bpf_program prog;

	if (expr[0] == '\0')
		return 0;
	if (wk_filter_compile(h->pcap, &prog, expr) != 0) {
		fc_err_set(err, FC_ERR_INVALID, "filters: cannot compile for interface %s: %s",
			   h->name, pcap_geterr(h->pcap));
		return -1;
	}
	int rc = pcap_setfilter(h->pcap, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		fc_err_set(err, FC_ERR_FATAL, "filters: cannot apply on interface %s: %s", h->name,
			   pcap_geterr(h->pcap));
		return -1;
	}
	return 0;
}

static char *compile_expression(const fc_spec_t *spec, struct fc_err *err)
{
	struct fc_addr_set local;
	int need_local = 0;

	for (size_t i = 0; i < spec->n_filters; i++)
		if (spec->filters[i]->local_ip[0] == '\0')
			need_local = 1;
	memset(&local, 0, sizeof(local));
	/* Also proves every interface exists before pcap says it differently. */
	if (wk_ifaddr_local_set((const char *const *)spec->interfaces, spec->n_interfaces, &local,
				err) != 0 &&
	    (need_local || err->action == FC_ERR_INVALID))
		return NULL;
	return wk_filter_expression((fc_filter_t *const *)spec->filters, spec->n_filters, &local,
				    err);
}

struct wk_session *wk_session_create(const struct wk_session_config *config, struct fc_err *err)
{
	const fc_spec_t *spec = config->spec;
	struct wk_session *s = calloc(1, sizeof(*s));
	char *expr = NULL;

	if (!s) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	s->stop_fd = -1;
	s->config = *config;
	s->config.spec = NULL; /* borrowed only until we return */
	if (!s->config.buffer_bytes)
		s->config.buffer_bytes = WK_BUFFER_DEFAULT;
	if (!s->config.write_buffer)
		s->config.write_buffer = WK_WRITE_BUFFER_DEFAULT;
	if (!s->config.block_timeout_ms)
		s->config.block_timeout_ms = WK_BLOCK_TIMEOUT_DEFAULT;
	s->snaplen = spec->bytes_per_packet == 0 || spec->bytes_per_packet > WK_SNAPLEN_MAX
			     ? WK_SNAPLEN_MAX
			     : spec->bytes_per_packet;
	if (spec->ring)
		s->time_limit_ns = (uint64_t)(spec->ring->session_time_limit_s
						      ? spec->ring->session_time_limit_s
						      : FC_SESSION_TIME_LIMIT_DEFAULT) *
				   1000000000u;
	else
		s->time_limit_ns = (uint64_t)(spec->time_limit_s ? spec->time_limit_s
								 : FC_TIME_LIMIT_DEFAULT) *
				   1000000000u;
	if (spec->n_interfaces == 0 || spec->n_interfaces > FC_INTERFACES_MAX) {
		fc_err_set(err, FC_ERR_INVALID, "interfaces: expected 1 to %d, got %zu",
			   FC_INTERFACES_MAX, spec->n_interfaces);
		goto fail;
	}
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		fc_err_set(err, FC_ERR_FATAL, "eventfd: %s", strerror(errno));
		goto fail;
	}
	expr = compile_expression(spec, err);
	if (!expr)
		goto fail;
	FC_DEBUG("capture", "filter expression: %s", expr[0] ? expr : "(all traffic)");

	s->nano = 1;
	for (size_t i = 0; i < spec->n_interfaces; i++) {
		struct wk_handle *h = &s->handles[s->n_handles++];
		if (open_handle(s, h, spec->interfaces[i], err) != 0 ||
		    apply_filter(h, expr, err) != 0)
			goto fail;
		int linktype = pcap_datalink(h->pcap);
		if (i > 0 && linktype != s->linktype) {
			fc_err_set(err, FC_ERR_INVALID,
				   "interfaces: %s and %s have different link types (%s, %s); "
				   "one file holds one link type: capture them with -i any",
				   s->handles[0].name, h->name,
				   pcap_datalink_val_to_name(s->linktype),
				   pcap_datalink_val_to_name(linktype));
			goto fail;
		}
		s->linktype = linktype;
	}
	free(expr);
	expr = NULL;

	struct wk_output_config *oc = &s->output_config;
	oc->path = config->path;
	oc->dirfd = config->dirfd;
	oc->ring = spec->ring != NULL;
	if (spec->ring) {
		oc->file_count =
			spec->ring->file_count ? spec->ring->file_count : FC_FILE_COUNT_DEFAULT;
		oc->file_size =
			spec->ring->file_size ? spec->ring->file_size : FC_FILE_SIZE_DEFAULT;
	} else {
		oc->session_bytes = spec->bytes_per_session ? spec->bytes_per_session
							    : FC_BYTES_PER_SESSION_DEFAULT;
	}
	oc->linktype = s->linktype;
	oc->snaplen = s->snaplen;
	oc->nano = s->nano;
	oc->write_buffer = s->config.write_buffer;
	oc->on_file = config->on_file;
	oc->opaque = config->opaque;
	s->output = wk_output_open(oc, err);
	if (!s->output)
		goto fail;
	return s;
fail:
	free(expr);
	wk_session_destroy(s);
	return NULL;
}

static uint64_t packet_ns(const struct wk_session *s, const struct pcap_pkthdr *hdr)
{
	return (uint64_t)hdr->ts.tv_sec * 1000000000u +
	       (uint64_t)hdr->ts.tv_usec * (s->nano ? 1u : 1000u);
}

static void on_packet(unsigned char *user, const struct pcap_pkthdr *hdr, const unsigned char *data)
{
	struct wk_handle *h = (struct wk_handle *)user;
	struct wk_session *s = h->session;

	if (s->draining && packet_ns(s, hdr) > s->stop_ns) {
		/* This ring is in time order: everything before the stop is in. */
		h->drained = 1;
		pcap_breakloop(h->pcap);
		return;
	}
	struct pcap_pkthdr record = wk_session_cut(hdr, s->snaplen);

	switch (wk_output_write(s->output, &record, data, &s->write_err)) {
	case WK_WRITE_OK:
		return;
	case WK_WRITE_FULL:
	case WK_WRITE_LIMIT:
		s->limit_reached = 1;
		break;
	case WK_WRITE_ERROR:
		s->write_failed = 1;
		break;
	}
	pcap_breakloop(h->pcap);
}

static void read_stats(const struct wk_session *s, struct wk_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->packets = wk_output_packets(s->output);
	c->bytes = wk_output_bytes(s->output);
	for (size_t i = 0; i < s->n_handles; i++) {
		struct pcap_stat st;
		if (pcap_stats(s->handles[i].pcap, &st) == 0) {
			c->kernel_drops += st.ps_drop;
			c->interface_drops += st.ps_ifdrop;
		}
	}
}

/*
 * Waits up to timeout_ms for ring blocks (or a stop) and dispatches every
 * ready block. Returns 1 when a stop was requested, 0 otherwise, -1 on a
 * capture error (err set).
 */
static int poll_once(struct wk_session *s, int timeout_ms, struct fc_err *err)
{
	struct pollfd fds[FC_INTERFACES_MAX + 1];
	size_t n = 0;
	int stop = 0;

	for (size_t i = 0; i < s->n_handles; i++) {
		fds[n].fd = pcap_get_selectable_fd(s->handles[i].pcap);
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		n++;
	}
	fds[n].fd = s->stop_fd;
	fds[n].events = POLLIN;
	fds[n].revents = 0;
	if (poll(fds, n + 1, timeout_ms) < 0 && errno != EINTR) {
		fc_err_set(err, FC_ERR_FATAL, "poll: %s", strerror(errno));
		return -1;
	}
	if (fds[n].revents & POLLIN) {
		uint64_t v;
		if (read(s->stop_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			stop = 1;
	}
	for (size_t i = 0; i < s->n_handles; i++) {
		struct wk_handle *h = &s->handles[i];
		if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)) || h->drained)
			continue;
		int rc = pcap_dispatch(h->pcap, -1, on_packet, (unsigned char *)h);
		if (s->write_failed) {
			*err = s->write_err;
			return -1;
		}
		if (rc == PCAP_ERROR) {
			fc_err_set(err, FC_ERR_FATAL, "interface %s: %s", h->name,
				   pcap_geterr(h->pcap));
			return -1;
		}
		if (s->limit_reached)
			break;
	}
	return stop;
}

/* After a stop: hand over the packets still in partial ring blocks. */
static int drain(struct wk_session *s, struct fc_err *err)
{
	uint64_t deadline =
		now_ns(CLOCK_MONOTONIC) + (2ull * s->config.block_timeout_ms + 100) * 1000000u;

	s->draining = 1;
	s->stop_ns = now_ns(CLOCK_REALTIME);
	for (;;) {
		size_t pending = 0;
		for (size_t i = 0; i < s->n_handles; i++)
			pending += !s->handles[i].drained;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (pending == 0 || s->limit_reached || now >= deadline)
			return 0;
		if (poll_once(s, (int)((deadline - now) / 1000000u) + 1, err) < 0)
			return -1;
	}
}

int wk_session_run(struct wk_session *s, struct wk_result *result, struct fc_err *err)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	uint64_t deadline = start + s->time_limit_ns;
	uint64_t next_progress = start + (uint64_t)s->config.progress_ms * 1000000u;

	memset(result, 0, sizeof(*result));
	result->start_time_ns = (int64_t)now_ns(CLOCK_REALTIME);
	for (;;) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now >= deadline) {
			result->stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED;
			break;
		}
		if (s->config.on_progress && s->config.progress_ms && now >= next_progress) {
			struct wk_counters c;
			read_stats(s, &c);
			s->config.on_progress(s->config.opaque, &c, (double)(now - start) / 1e9);
			next_progress = now + (uint64_t)s->config.progress_ms * 1000000u;
		}
		uint64_t wake = deadline;
		if (s->config.on_progress && s->config.progress_ms && next_progress < wake)
			wake = next_progress;
		int rc = poll_once(s, (int)((wake - now + 999999u) / 1000000u), err);
		if (rc < 0)
			goto fail;
		if (s->limit_reached) {
			result->stop_reason =
				FLEETCAP__V1__STOP_REASON__STOP_REASON_SESSION_BYTES_EXCEEDED;
			break;
		}
		if (rc == 1) {
			result->stop_reason =
				FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER;
			break;
		}
	}
	if (!s->limit_reached && drain(s, err) != 0)
		goto fail;
	read_stats(s, &result->counters);
	result->elapsed_s = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	if (wk_output_close(s->output, err) != 0) {
		result->error = FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED;
		result->stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
		return -1;
	}
	return 0;
fail:
	read_stats(s, &result->counters);
	result->elapsed_s = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	result->stop_reason = FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR;
	result->error = s->write_failed ? FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED
					: FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED;
	/* Keep what was captured before a capture error; a write error has
	 * already lost the file's tail, so that file is discarded. */
	if (!s->write_failed) {
		struct fc_err close_err;
		if (wk_output_close(s->output, &close_err) != 0)
			FC_ERROR("capture", "%s", close_err.msg);
	}
	return -1;
}

void wk_session_stop(struct wk_session *s)
{
	uint64_t one = 1;
	ssize_t n = write(s->stop_fd, &one, sizeof(one));
	(void)n; /* the counter cannot overflow from stops */
}

int wk_session_stop_fd(const struct wk_session *s)
{
	return s->stop_fd;
}

int wk_session_linktype(const struct wk_session *s)
{
	return s->linktype;
}

unsigned wk_session_snaplen(const struct wk_session *s)
{
	return s->snaplen;
}

size_t wk_session_file_count(const struct wk_session *s)
{
	return wk_output_file_count(s->output);
}

const struct wk_file *wk_session_file(const struct wk_session *s, size_t i)
{
	return wk_output_file(s->output, i);
}

void wk_session_destroy(struct wk_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_handles; i++)
		if (s->handles[i].pcap)
			pcap_close(s->handles[i].pcap);
	wk_output_destroy(s->output);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
}
