/* fc_summary: flows, series and verdicts of a capture; see fc_summary.h. */
#include "fc_summary.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_packet.h"
#include "fc_summary_int.h"

#define FLOWS_MIN   1024
#define FLOWS_MAX   (1u << 18)
#define SECONDS_MAX 86400

struct fc_summary *fc_summary_new(const struct fc_summary_config *config)
{
	struct fc_summary *s = calloc(1, sizeof(*s));
	size_t want;

	if (!s)
		return NULL;
	s->config = *config;
	if (s->config.top_n < 1)
		s->config.top_n = 1;
	want = (size_t)s->config.top_n * 16;
	s->max_tracked = want < FLOWS_MIN ? FLOWS_MIN : want > FLOWS_MAX ? FLOWS_MAX : want;
	for (s->slots = 1; s->slots < s->max_tracked * 2; s->slots <<= 1)
		;
	if (!(s->flows = calloc(s->slots, sizeof(*s->flows)))) {
		free(s);
		return NULL;
	}
	return s;
}

void fc_summary_free(struct fc_summary *s)
{
	if (!s)
		return;
	free(s->flows);
	free(s->series);
	free(s);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* The same hash for both directions of a flow. */
static uint64_t flow_hash(const struct fc_packet_ends *e)
{
	uint64_t a = 1469598103934665603ull, b = 1469598103934665603ull;
	size_t n = addr_len(e->family);

	for (size_t i = 0; i < n; i++) {
		a = (a ^ e->src[i]) * 1099511628211ull;
		b = (b ^ e->dst[i]) * 1099511628211ull;
	}
	a = (a ^ e->sport) * 1099511628211ull;
	b = (b ^ e->dport) * 1099511628211ull;
	return (a ^ b) * 0x9e3779b97f4a7c15ull + e->protocol;
}

static int same(const struct fc_packet_ends *f, const struct fc_packet_ends *e, int reversed)
{
	size_t n = addr_len(e->family);
	const uint8_t *s = reversed ? e->dst : e->src, *d = reversed ? e->src : e->dst;
	uint16_t sp = reversed ? e->dport : e->sport, dp = reversed ? e->sport : e->dport;

	return f->family == e->family && f->protocol == e->protocol && f->sport == sp &&
	       f->dport == dp && memcmp(f->src, s, n) == 0 && memcmp(f->dst, d, n) == 0;
}

static void reverse(struct fc_packet_ends *e)
{
	uint8_t t[16];
	uint16_t p = e->sport;

	memcpy(t, e->src, 16);
	memcpy(e->src, e->dst, 16);
	memcpy(e->dst, t, 16);
	e->sport = e->dport;
	e->dport = p;
}

/* The flow of e and the packet's direction in it; a new flow when there is
 * room, else NULL. */
static struct flow *flow_of(struct fc_summary *s, const struct fc_packet_ends *e, int64_t t,
			    int *dir)
{
	size_t i = (size_t)flow_hash(e) & (s->slots - 1);

	for (;; i = (i + 1) & (s->slots - 1)) {
		struct flow *f = &s->flows[i];
		if (!f->used)
			break;
		if (same(&f->ends, e, 0)) {
			*dir = FLOW_OUT;
			return f;
		}
		if (same(&f->ends, e, 1)) {
			*dir = FLOW_IN;
			return f;
		}
	}
	if (s->tracked >= s->max_tracked)
		return NULL;
	struct flow *f = &s->flows[i];
	f->used = 1;
	f->ends = *e;
	f->first_us = t;
	*dir = FLOW_OUT;
	/* Local is the side the callback names; else the first sender. */
	if (s->config.is_local && !s->config.is_local(s->config.opaque, e->family, e->src) &&
	    s->config.is_local(s->config.opaque, e->family, e->dst)) {
		reverse(&f->ends);
		*dir = FLOW_IN;
	}
	s->tracked++;
	return f;
}

/* Serial-number comparison (RFC 1982): a after b. */
static int seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static void tcp_packet(struct flow *f, int dir, const struct fc_packet *p)
{
	uint8_t fl = p->tcp_flags;
	uint32_t len = p->payload + ((fl & FC_TCP_SYN) ? 1 : 0) + ((fl & FC_TCP_FIN) ? 1 : 0);
	uint32_t end = p->seq + len;

	f->segments[dir]++;
	if ((fl & FC_TCP_SYN) && (fl & FC_TCP_ACK))
		f->synack[dir]++;
	else if (fl & FC_TCP_SYN)
		f->syn[dir]++;
	if (fl & FC_TCP_FIN)
		f->fin[dir]++;
	if (fl & FC_TCP_RST)
		f->rst[dir]++;
	if (p->window == 0 && !(fl & (FC_TCP_SYN | FC_TCP_RST | FC_TCP_FIN)))
		f->zero_window[dir]++;
	if (fl & FC_TCP_RST)
		return;
	/* A segment with data (or SYN, FIN) wholly inside what was seen. */
	if (len > 0 && f->seq_known[dir] && !seq_after(end, f->seq_high[dir]))
		f->retrans[dir]++;
	if (!f->seq_known[dir] || seq_after(end, f->seq_high[dir])) {
		f->seq_high[dir] = end;
		f->seq_known[dir] = 1;
	}
}

static struct bucket *bucket_at(struct fc_summary *s, int64_t t)
{
	if (!s->started) {
		s->started = 1;
		s->start_us = s->end_us = t;
	}
	if (t > s->end_us)
		s->end_us = t;
	int64_t second = t / 1000000 - s->start_us / 1000000;
	size_t i = second < 0 ? 0 : second >= SECONDS_MAX ? SECONDS_MAX - 1 : (size_t)second;
	if (i >= s->seconds) {
		struct bucket *grown = realloc(s->series, (i + 1) * sizeof(*grown));
		if (!grown)
			return NULL;
		memset(grown + s->seconds, 0, (i + 1 - s->seconds) * sizeof(*grown));
		s->series = grown;
		s->seconds = i + 1;
	}
	return &s->series[i];
}

/* An ICMP error is charged to the flow of the packet it quotes. */
static void icmp_error(struct fc_summary *s, const struct fc_packet *p)
{
	int dir;
	size_t i;

	if (!p->quoted_ok)
		return;
	i = (size_t)flow_hash(&p->quoted) & (s->slots - 1);
	for (;; i = (i + 1) & (s->slots - 1)) {
		struct flow *f = &s->flows[i];
		if (!f->used)
			return;
		if (same(&f->ends, &p->quoted, 0) || same(&f->ends, &p->quoted, 1)) {
			f->icmp_errors++;
			return;
		}
	}
	(void)dir;
}

void fc_summary_packet(struct fc_summary *s, int64_t time_us, const uint8_t *data, size_t caplen,
		       uint32_t wire_len)
{
	struct fc_packet p;
	struct bucket *b = bucket_at(s, time_us);
	int dir;

	s->packets++;
	s->bytes += wire_len;
	if (b) {
		b->packets++;
		b->bytes += wire_len;
	}
	fc_packet_decode(s->config.linktype, data, caplen, &p);
	if (p.depth == FC_PACKET_NOT_IP) {
		s->not_ip++;
		return;
	}
	if (p.depth == FC_PACKET_TRUNCATED) {
		s->truncated++;
		return;
	}
	if (p.depth == FC_PACKET_IP && (p.ends.protocol == 6 || p.ends.protocol == 17 ||
					p.ends.protocol == 1 || p.ends.protocol == 58))
		s->ports_unseen++; /* its flow is the addresses' only */
	struct flow *f = flow_of(s, &p.ends, time_us, &dir);
	if (!f) {
		s->untracked_packets++;
		s->untracked_bytes += wire_len;
		return;
	}
	f->packets[dir]++;
	f->bytes[dir] += wire_len;
	if (time_us < f->first_us)
		f->first_us = time_us;
	if (time_us > f->last_us)
		f->last_us = time_us;
	if (p.depth == FC_PACKET_TRANSPORT && p.ends.protocol == 6)
		tcp_packet(f, dir, &p);
	if (p.icmp_error)
		icmp_error(s, &p);
}

void fc_summary_drops(struct fc_summary *s, int64_t time_us, uint64_t drops)
{
	struct bucket *b = drops ? bucket_at(s, time_us) : NULL;
	if (b)
		b->drops += drops;
}
