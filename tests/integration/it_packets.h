/*
 * it_packets: exact test packets — building Ethernet frames from a 5-tuple,
 * and reading a pcap file back into 5-tuples, independently of the capture
 * engine (its own parser, not libpcap's).
 */
#ifndef IT_PACKETS_H
#define IT_PACKETS_H

#include <stddef.h>
#include <stdint.h>

#define IT_PROTO_ICMP	1
#define IT_PROTO_TCP	6
#define IT_PROTO_UDP	17
#define IT_PROTO_ICMPV6 58

struct it_pkt {
	int family; /* 4 or 6; 0 when the record is not IP */
	int proto;
	unsigned char src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;		/* TCP and UDP only */
};

/* Builds an Ethernet frame for p into buf; returns its length, or 0 if it does not fit. */
size_t it_frame_build(const struct it_pkt *p, unsigned char *buf, size_t cap);

/* The Ethernet type of a frame carrying p. */
unsigned it_pkt_ethertype(const struct it_pkt *p);

/* Fills p from text addresses; returns 0, or -1 on a bad address. */
int it_pkt_set(struct it_pkt *p, int proto, const char *src, const char *dst, uint16_t sport,
	       uint16_t dport);

/* Same 5-tuple. */
int it_pkt_equal(const struct it_pkt *a, const struct it_pkt *b);

/* "UDP 198.18.0.1:53 > 198.18.0.2:40000" into buf. */
const char *it_pkt_format(const struct it_pkt *p, char *buf, size_t len);

struct it_record {
	uint64_t ts_ns;
	uint32_t caplen, len;
	unsigned ethertype; /* 0 when the record is too short for one */
	struct it_pkt pkt;  /* parsed from the captured bytes */
};

struct it_pcap {
	int nano;
	uint32_t snaplen;
	uint32_t linktype;
	size_t count;
	struct it_record *records;
	size_t file_size;
};

/* Reads a classic pcap file (Ethernet or Linux cooked); 0, or -1 with a message on stderr. */
int it_pcap_read(const char *path, struct it_pcap *out);
void it_pcap_free(struct it_pcap *pcap);

#endif
