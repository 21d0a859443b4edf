/* fc_summary_int: the state fc_summary.c keeps and fc_summary_json.c reports. */
#ifndef FC_SUMMARY_INT_H
#define FC_SUMMARY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fc_packet.h"
#include "fc_summary.h"

enum { FLOW_OUT, FLOW_IN }; /* local → remote, remote → local */

struct flow {
	struct fc_packet_ends ends; /* src/sport = local */
	int used;
	uint64_t packets[2], bytes[2];
	int64_t first_us, last_us;
	uint32_t syn[2], synack[2], fin[2], rst[2], retrans[2], zero_window[2], icmp_errors;
	uint64_t segments[2]; /* TCP packets */
	int seq_known[2];
	uint32_t seq_high[2]; /* one past the highest sequence number seen */
};

struct bucket {
	uint64_t packets, bytes, drops;
};

struct fc_summary {
	struct fc_summary_config config;
	struct flow *flows;
	size_t slots, tracked, max_tracked;
	uint64_t packets, bytes, not_ip, truncated, ports_unseen;
	uint64_t untracked_packets, untracked_bytes; /* flows past the table */
	int64_t start_us, end_us;
	int started;
	struct bucket *series;
	size_t seconds; /* buckets in use */
};

#endif
