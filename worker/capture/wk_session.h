/*
 * wk_session: one capture session — the engine behind the worker's jobs and
 * `fleetcap capture`.
 *
 * wk_session_create() opens a pcap handle per interface (pcap_create, whole
 * packets: see WK_MATCH_SNAPLEN, a large kernel ring, TPACKET_V3 without immediate mode, nanosecond
 * timestamps where the kernel has them), compiles the spec's filters into one
 * BPF program, activates, and opens the output. wk_session_run() then polls
 * the handles and dispatches whole ring blocks into wk_output until the time
 * limit (monotonic clock), the session byte limit, or wk_session_stop().
 *
 * On a time limit or a stop the packets the kernel captured before that
 * moment are still in a ring block that has not been handed over yet; the
 * session drains them (for at most two block timeouts) and keeps exactly the
 * packets time-stamped up to the stop, so a stop loses nothing that came
 * before it.
 */
#ifndef WK_SESSION_H
#define WK_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"
#include "fc_spec.h"
#include "wk_pcapfile.h" /* pcap/pcap.h */

#define WK_BUFFER_DEFAULT	 (32u << 20) /* kernel ring per interface */
#define WK_WRITE_BUFFER_DEFAULT	 (1u << 20)
#define WK_BLOCK_TIMEOUT_DEFAULT 200	/* ms before the kernel hands over a partial block */
#define WK_SNAPLEN_MAX		 262144 /* libpcap's largest snap length */

/*
 * The snap length of every pcap handle, whatever the session's: the filter
 * must see whole packets. libpcap filters the first ring blocks after
 * pcap_setfilter() in this process, on the bytes the kernel stored; had the
 * kernel cut them to a small snap length (34 bytes: the IPv4 header), a
 * filter on an IPv6 address or a port would reject packets it selects. So
 * the kernel stores whole packets, and the session's snap length cuts each
 * record as it is written (wk_session_cut).
 */
#define WK_MATCH_SNAPLEN WK_SNAPLEN_MAX

/* The record stored for a packet: hdr with caplen cut to snaplen. */
static inline struct pcap_pkthdr wk_session_cut(const struct pcap_pkthdr *hdr, unsigned snaplen)
{
	struct pcap_pkthdr cut = *hdr;
	if (cut.caplen > snaplen)
		cut.caplen = snaplen;
	return cut;
}

struct wk_counters {
	uint64_t packets;	  /* records written */
	uint64_t bytes;		  /* bytes written to the files (see wk_output.h) */
	uint64_t kernel_drops;	  /* pcap_stats ps_drop: the kernel ring was full */
	uint64_t interface_drops; /* pcap_stats ps_ifdrop: dropped by the interface */
};

struct wk_session_config {
	const fc_spec_t *spec; /* borrowed during create: interfaces, limits, filters, ring */
	const char *path;      /* the output file (or ring name pattern) on this host */
	int dirfd;	       /* the directory holding path's last component (borrowed), or -1 */
	uint32_t buffer_bytes; /* kernel ring per interface; 0 = WK_BUFFER_DEFAULT */
	size_t write_buffer;   /* 0 = WK_WRITE_BUFFER_DEFAULT */
	unsigned block_timeout_ms; /* 0 = WK_BLOCK_TIMEOUT_DEFAULT */
	unsigned progress_ms;	   /* how often on_progress is called; 0 = never */
	void (*on_progress)(void *opaque, const struct wk_counters *counters, double elapsed_s);
	void (*on_file)(void *opaque, const struct wk_file *file); /* each finished file */
	void *opaque;
};

struct wk_result {
	int stop_reason; /* Fleetcap__V1__StopReason */
	int error;	 /* Fleetcap__V1__ErrorCode; ERROR_CODE_NONE unless run failed */
	struct wk_counters counters;
	int64_t start_time_ns; /* wall clock when capture began */
	double elapsed_s;
};

struct wk_session;

/*
 * Prepares a session. On failure returns NULL with err set: FC_ERR_INVALID
 * for a bad request (no such interface, a filter that cannot apply, an
 * existing output file), FC_ERR_FATAL for a failure of this host (no
 * permission to capture, out of memory).
 */
struct wk_session *wk_session_create(const struct wk_session_config *config, struct fc_err *err);

/*
 * Captures until a limit or a stop, finishes the output and fills result.
 * Returns 0, or -1 with result->error (CaptureFailed or LocalFileFailed) and
 * err set; files finished before a failure are kept.
 */
int wk_session_run(struct wk_session *session, struct wk_result *result, struct fc_err *err);

/*
 * Asks a running session to stop (StoppedByUser). Safe from any thread and
 * from a signal handler (it only writes to an eventfd).
 */
void wk_session_stop(struct wk_session *session);

/* The eventfd wk_session_stop() writes to, for signal handlers. */
int wk_session_stop_fd(const struct wk_session *session);

/* The linktype (DLT) and snap length written to the files. */
int wk_session_linktype(const struct wk_session *session);
unsigned wk_session_snaplen(const struct wk_session *session);

/* After run: the finished files that exist, oldest first. */
size_t wk_session_file_count(const struct wk_session *session);
const struct wk_file *wk_session_file(const struct wk_session *session, size_t i);

/* Closes the handles and frees session. Accepts NULL. */
void wk_session_destroy(struct wk_session *session);

#endif
