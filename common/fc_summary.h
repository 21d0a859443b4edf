/*
 * fc_summary: what happened in a capture, computed from the headers while
 * capturing (or offline from a pcap file by "fleetcap summarize"), so that a
 * result can say it without anyone opening the file:
 *
 *   - flows: one per 5-tuple, both directions joined and oriented local →
 *     remote (local: an address the is_local callback names, else the side
 *     that sent the flow's first packet); packets and bytes each way (bytes
 *     on the wire, whatever was captured), first and last time, TCP SYN,
 *     SYN-ACK, FIN and RST each way, retransmissions (a segment whose
 *     sequence range was seen before) and zero-window advertisements each
 *     way, and ICMP errors that quote the flow;
 *   - the top N flows by bytes; the rest as "other" with its totals. At most
 *     max(1024, 16 N) flows are tracked (bounded memory): a flow first seen
 *     once the table is full counts in "other" only;
 *   - a per-second series of packets, bytes and kernel drops;
 *   - what could not be seen: packets that are not IP, IP packets whose
 *     header was cut, and packets whose ports were not captured (a small
 *     bytes-per-packet), each counted;
 *   - verdicts a person can read ("198.18.0.2:443 never answered 37 SYNs").
 */
#ifndef FC_SUMMARY_H
#define FC_SUMMARY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct fc_summary;

struct fc_summary_config {
	int linktype;	/* DLT_ of the packets */
	unsigned top_n; /* flows listed by bytes; 1 to 10000 */
	/* Whether addr (family AF_INET/AF_INET6, IPv4 in the first 4 bytes) is
	 * this host's; NULL: the side that sent a flow's first packet is local. */
	int (*is_local)(void *opaque, int family, const uint8_t addr[16]);
	void *opaque;
};

struct fc_summary *fc_summary_new(const struct fc_summary_config *config);

/* One packet: its time (µs since the epoch), captured and wire lengths. */
void fc_summary_packet(struct fc_summary *s, int64_t time_us, const uint8_t *data, size_t caplen,
		       uint32_t wire_len);

/* Packets the kernel dropped, charged to the second of time_us. */
void fc_summary_drops(struct fc_summary *s, int64_t time_us, uint64_t drops);

/* The summary as JSON (docs/ARCHITECTURE.md, "Capture summary"); NULL when
 * out of memory. */
json_t *fc_summary_json(const struct fc_summary *s);

void fc_summary_free(struct fc_summary *s);

#endif
