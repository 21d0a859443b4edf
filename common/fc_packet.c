/* fc_packet: header decoding for capture summaries; see fc_packet.h. */
#include "fc_packet.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The offset of the network header and its ethertype; -1 when not IP. */
static long link_layer(int linktype, const uint8_t *d, size_t len, uint16_t *type)
{
	size_t off;

	switch (linktype) {
	case DLT_EN10MB:
		off = 12;
		for (;;) {
			if (len < off + 2)
				return -1;
			*type = be16(d + off);
			if (*type != 0x8100 && *type != 0x88a8)
				break;
			off += 4; /* a VLAN tag */
		}
		return (long)off + 2;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		*type = be16(d + 14);
		return 16;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		*type = be16(d);
		return 20;
	case DLT_RAW:
	case 101: /* LINKTYPE_RAW, as a savefile may give it */
		if (len < 1)
			return -1;
		*type = (d[0] >> 4) == 6 ? ETH_IPV6 : ETH_IPV4;
		return 0;
	default:
		return -1;
	}
}

/* Decodes the IP packet at d (len bytes captured): ends, and the transport
 * header's offset and the payload length after the IP header (from the IP
 * length field, so a short capture still knows the wire size). Returns the
 * depth reached. */
static enum fc_packet_depth ip_layer(uint16_t type, const uint8_t *d, size_t len,
				     struct fc_packet_ends *e, size_t *l4, uint32_t *l4_len)
{
	memset(e, 0, sizeof(*e));
	if (type == ETH_IPV4) {
		if (len < 20 || (d[0] >> 4) != 4)
			return FC_PACKET_TRUNCATED;
		size_t ihl = (size_t)(d[0] & 0x0f) * 4;
		uint32_t total = be16(d + 2);
		e->family = AF_INET;
		e->protocol = d[9];
		memcpy(e->src, d + 12, 4);
		memcpy(e->dst, d + 16, 4);
		*l4 = ihl;
		*l4_len = total > ihl ? total - (uint32_t)ihl : 0;
		/* A fragment after the first has no transport header. */
		if (ihl < 20 || (be16(d + 6) & 0x1fff) != 0)
			return FC_PACKET_IP;
		return FC_PACKET_TRANSPORT;
	}
	if (type != ETH_IPV6 || len < 40 || (d[0] >> 4) != 6)
		return type == ETH_IPV6 ? FC_PACKET_TRUNCATED : FC_PACKET_NOT_IP;
	uint8_t next = d[6];
	size_t off = 40;
	uint32_t payload = be16(d + 4);
	e->family = AF_INET6;
	memcpy(e->src, d + 8, 16);
	memcpy(e->dst, d + 24, 16);
	for (;;) {
		if (next == 0 || next == 43 || next == 60) { /* hop-by-hop, routing, destination */
			if (len < off + 2) {
				e->protocol = next;
				return FC_PACKET_IP;
			}
			size_t ext = ((size_t)d[off + 1] + 1) * 8;
			next = d[off];
			off += ext;
			payload = payload > ext ? payload - (uint32_t)ext : 0;
			continue;
		}
		if (next == 44) { /* fragment */
			if (len < off + 8) {
				e->protocol = next;
				return FC_PACKET_IP;
			}
			int later = (be16(d + off + 2) & 0xfff8) != 0;
			next = d[off];
			off += 8;
			payload = payload > 8 ? payload - 8 : 0;
			if (later) {
				e->protocol = next;
				return FC_PACKET_IP;
			}
			continue;
		}
		break;
	}
	e->protocol = next;
	*l4 = off;
	*l4_len = payload;
	return FC_PACKET_TRANSPORT;
}

static int is_icmp_error(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == 3 || type == 11 || type == 12 || type == 4;
	return type >= 1 && type <= 4;
}

/* The ports (TCP, UDP) of the header at d, when captured. */
static int ports(const struct fc_packet_ends *e, const uint8_t *d, size_t len, uint16_t *sport,
		 uint16_t *dport)
{
	if (e->protocol != IPPROTO_TCP && e->protocol != IPPROTO_UDP) {
		*sport = *dport = 0;
		return 1;
	}
	if (len < 4)
		return 0;
	*sport = be16(d);
	*dport = be16(d + 2);
	return 1;
}

static void quoted(const uint8_t *d, size_t len, int family, struct fc_packet *out)
{
	size_t l4 = 0;
	uint32_t l4_len = 0;
	uint16_t type = family == AF_INET ? ETH_IPV4 : ETH_IPV6;

	out->icmp_error = 1;
	if (ip_layer(type, d, len, &out->quoted, &l4, &l4_len) == FC_PACKET_TRANSPORT &&
	    l4 <= len &&
	    ports(&out->quoted, d + l4, len - l4, &out->quoted.sport, &out->quoted.dport))
		out->quoted_ok = 1;
}

void fc_packet_decode(int linktype, const uint8_t *data, size_t caplen, struct fc_packet *out)
{
	uint16_t type = 0;
	long net = link_layer(linktype, data, caplen, &type);
	size_t l4 = 0;
	uint32_t l4_len = 0;

	memset(out, 0, sizeof(*out));
	if (net < 0 || (type != ETH_IPV4 && type != ETH_IPV6)) {
		out->depth = FC_PACKET_NOT_IP;
		return;
	}
	const uint8_t *d = data + net;
	size_t len = caplen - (size_t)net;
	out->depth = ip_layer(type, d, len, &out->ends, &l4, &l4_len);
	if (out->depth != FC_PACKET_TRANSPORT)
		return;
	const uint8_t *t = d + l4;
	size_t tl = l4 <= len ? len - l4 : 0;
	struct fc_packet_ends *e = &out->ends;
	switch (e->protocol) {
	case IPPROTO_TCP:
		if (tl < 16) {
			out->depth = FC_PACKET_IP;
			return;
		}
		e->sport = be16(t);
		e->dport = be16(t + 2);
		out->seq = be32(t + 4);
		out->tcp_flags = t[13];
		out->window = be16(t + 14);
		size_t doff = (size_t)(t[12] >> 4) * 4;
		out->payload = l4_len > doff ? l4_len - (uint32_t)doff : 0;
		return;
	case IPPROTO_UDP:
		if (tl < 4) {
			out->depth = FC_PACKET_IP;
			return;
		}
		e->sport = be16(t);
		e->dport = be16(t + 2);
		out->payload = l4_len > 8 ? l4_len - 8 : 0;
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (tl < 8) {
			out->depth = FC_PACKET_IP;
			return;
		}
		if (is_icmp_error(e->family, t[0]))
			quoted(t + 8, tl - 8, e->family, out);
		return;
	default:
		return;
	}
}
