/*
 * fc_packet: what a capture's summary reads of one packet: the link layer
 * (Ethernet with VLAN tags, Linux cooked v1 and v2, raw IP), IPv4 or IPv6
 * (extension headers skipped), and TCP, UDP or ICMP/ICMPv6 headers, as far
 * as the captured bytes go. An ICMP error's quoted packet is decoded too, so
 * that the error can be charged to the flow it refers to.
 *
 * Nothing here trusts a length in the packet: every read is bounded by the
 * captured length.
 */
#ifndef FC_PACKET_H
#define FC_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* How far decoding got. */
enum fc_packet_depth {
	FC_PACKET_NOT_IP,    /* ARP, LLDP, …: not counted in any flow */
	FC_PACKET_TRUNCATED, /* IP, but its header was not captured whole */
	FC_PACKET_IP,	     /* addresses; transport header not captured */
	FC_PACKET_TRANSPORT, /* addresses and ports (or ICMP type) */
};

struct fc_packet_ends {
	int family;		  /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint8_t protocol;	  /* IPPROTO_TCP, … */
	uint16_t sport, dport;	  /* TCP and UDP; 0 otherwise */
};

struct fc_packet {
	enum fc_packet_depth depth;
	struct fc_packet_ends ends;
	/* TCP (depth TRANSPORT) */
	uint8_t tcp_flags;
	uint32_t seq;
	uint16_t window;
	uint32_t payload; /* TCP or UDP payload bytes, from the IP length */
	/* ICMP errors (unreachable, time exceeded, …): the quoted packet's ends */
	int icmp_error;
	int quoted_ok; /* whether quoted holds addresses and ports */
	struct fc_packet_ends quoted;
};

#define FC_TCP_FIN 0x01
#define FC_TCP_SYN 0x02
#define FC_TCP_RST 0x04
#define FC_TCP_ACK 0x10

/* Decodes data (caplen bytes captured) of a capture of linktype (a DLT_
 * value). Unknown link types give FC_PACKET_NOT_IP. */
void fc_packet_decode(int linktype, const uint8_t *data, size_t caplen, struct fc_packet *out);

#endif
