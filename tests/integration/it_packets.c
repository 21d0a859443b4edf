/* it_packets: see it_packets.h. */
#include "it_packets.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char payload[] = "fleetcap-test-pkt";

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint16_t ip_checksum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t it_frame_build(const struct it_pkt *p, unsigned char *buf, size_t cap)
{
	/* Nobody owns the destination MAC, so neither kernel answers the frame. */
	static const unsigned char dst_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
	static const unsigned char src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	size_t l4 = p->proto == IT_PROTO_TCP ? 20 : 8; /* UDP and ICMP headers are 8 bytes */
	size_t l3 = p->family == 4 ? 20 : 40;
	size_t total = 14 + l3 + l4 + sizeof(payload);

	if (total > cap)
		return 0;
	memset(buf, 0, total);
	memcpy(buf, dst_mac, 6);
	memcpy(buf + 6, src_mac, 6);
	put16(buf + 12, p->family == 4 ? 0x0800 : 0x86dd);
	unsigned char *ip = buf + 14, *t = ip + l3;
	if (p->family == 4) {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned)(l3 + l4 + sizeof(payload)));
		ip[8] = 64;
		ip[9] = (unsigned char)p->proto;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
		put16(ip + 10, ip_checksum(ip, 20));
	} else {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(l4 + sizeof(payload)));
		ip[6] = (unsigned char)p->proto;
		ip[7] = 64;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
	}
	if (p->proto == IT_PROTO_TCP) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		t[12] = 5 << 4;
		t[13] = 0x10; /* ACK */
		put16(t + 14, 65535);
	} else if (p->proto == IT_PROTO_UDP) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put16(t + 4, (unsigned)(8 + sizeof(payload)));
	} else {
		t[0] = p->family == 4 ? 8 : 128; /* echo request */
	}
	memcpy(t + l4, payload, sizeof(payload));
	return total;
}

int it_pkt_set(struct it_pkt *p, int proto, const char *src, const char *dst, uint16_t sport,
	       uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	p->family = strchr(src, ':') ? 6 : 4;
	p->proto = proto;
	int af = p->family == 4 ? AF_INET : AF_INET6;
	if (inet_pton(af, src, p->src) != 1 || inet_pton(af, dst, p->dst) != 1)
		return -1;
	if (proto == IT_PROTO_TCP || proto == IT_PROTO_UDP) {
		p->sport = sport;
		p->dport = dport;
	}
	return 0;
}

int it_pkt_equal(const struct it_pkt *a, const struct it_pkt *b)
{
	return a->family == b->family && a->proto == b->proto && memcmp(a->src, b->src, 16) == 0 &&
	       memcmp(a->dst, b->dst, 16) == 0 && a->sport == b->sport && a->dport == b->dport;
}

const char *it_pkt_format(const struct it_pkt *p, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = p->family == 4 ? AF_INET : AF_INET6;

	if (p->family == 0) {
		snprintf(buf, len, "(not IP)");
		return buf;
	}
	inet_ntop(af, p->src, s, sizeof(s));
	inet_ntop(af, p->dst, d, sizeof(d));
	snprintf(buf, len, "proto %d %s:%u > %s:%u", p->proto, s, p->sport, d, p->dport);
	return buf;
}

unsigned it_pkt_ethertype(const struct it_pkt *p)
{
	return p->family == 4 ? 0x0800 : 0x86dd;
}

static unsigned parse(const unsigned char *b, size_t n, uint32_t linktype, struct it_pkt *p)
{
	size_t off;
	unsigned ethertype;

	memset(p, 0, sizeof(*p));
	if (linktype == 1 && n >= 14) { /* Ethernet */
		ethertype = get16(b + 12);
		off = 14;
	} else if (linktype == 113 && n >= 16) { /* Linux cooked (SLL) */
		ethertype = get16(b + 14);
		off = 16;
	} else {
		return 0;
	}
	const unsigned char *ip = b + off, *t;
	size_t left = n - off;
	if (ethertype == 0x0800 && left >= 20 && ip[0] >> 4 == 4) {
		size_t ihl = (size_t)(ip[0] & 15) * 4;
		p->family = 4;
		p->proto = ip[9];
		memcpy(p->src, ip + 12, 4);
		memcpy(p->dst, ip + 16, 4);
		t = ip + ihl;
		left = left > ihl ? left - ihl : 0;
	} else if (ethertype == 0x86dd && left >= 40 && ip[0] >> 4 == 6) {
		p->family = 6;
		p->proto = ip[6];
		memcpy(p->src, ip + 8, 16);
		memcpy(p->dst, ip + 24, 16);
		t = ip + 40;
		left -= 40;
	} else {
		return ethertype;
	}
	if ((p->proto == IT_PROTO_TCP || p->proto == IT_PROTO_UDP) && left >= 4) {
		p->sport = (uint16_t)get16(t);
		p->dport = (uint16_t)get16(t + 2);
	}
	return ethertype;
}

int it_pcap_read(const char *path, struct it_pcap *out)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	long size;
	uint32_t magic;

	memset(out, 0, sizeof(*out));
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 24 ||
	    fseek(f, 0, SEEK_SET) != 0 || !(data = malloc((size_t)size)) ||
	    fread(data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "it_pcap_read: %s: cannot read a pcap file\n", path);
		goto fail;
	}
	fclose(f);
	f = NULL;
	out->file_size = (size_t)size;
	memcpy(&magic, data, 4);
	if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		fprintf(stderr, "it_pcap_read: %s: bad magic %08x\n", path, magic);
		goto fail;
	}
	out->nano = magic == 0xa1b23c4d;
	memcpy(&out->snaplen, data + 16, 4);
	memcpy(&out->linktype, data + 20, 4);
	size_t cap = 0;
	for (size_t off = 24; off < (size_t)size;) {
		uint32_t h[4];
		if ((size_t)size - off < 16) {
			fprintf(stderr, "it_pcap_read: %s: truncated record header\n", path);
			goto fail;
		}
		memcpy(h, data + off, 16);
		if (h[2] > (size_t)size - off - 16 || h[2] > h[3] || h[2] > out->snaplen) {
			fprintf(stderr, "it_pcap_read: %s: bad record at %zu\n", path, off);
			goto fail;
		}
		if (out->count == cap) {
			cap = cap ? cap * 2 : 256;
			struct it_record *grown = realloc(out->records, cap * sizeof(*grown));
			if (!grown)
				goto fail;
			out->records = grown;
		}
		struct it_record *r = &out->records[out->count++];
		r->ts_ns = (uint64_t)h[0] * 1000000000u + (uint64_t)h[1] * (out->nano ? 1 : 1000);
		r->caplen = h[2];
		r->len = h[3];
		r->ethertype = parse(data + off + 16, h[2], out->linktype, &r->pkt);
		off += 16 + h[2];
	}
	free(data);
	return 0;
fail:
	if (f)
		fclose(f);
	free(data);
	it_pcap_free(out);
	return -1;
}

void it_pcap_free(struct it_pcap *pcap)
{
	free(pcap->records);
	pcap->records = NULL;
	pcap->count = 0;
}
