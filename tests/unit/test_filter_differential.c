/*
 * The capture engine's filter, proved against an independent implementation
 * on generated cases.
 *
 * Random filter specs (protocol, local and remote addresses and ports; single
 * items, ranges, CIDR blocks and lists; IPv4 and IPv6; one to three filters
 * OR-ed) are written as the text a user types, parsed by fleetcap, turned into
 * one expression (wk_filter_expression) and compiled by libpcap. Random IPv4
 * and IPv6 TCP, UDP and ICMP packets in both directions then go through:
 *   - the BPF program on the whole packet (what the kernel runs);
 *   - the engine's own path: the program on the bytes the handle keeps
 *     (WK_MATCH_SNAPLEN, what libpcap filters in this process) and the record
 *     cut to the session's snap length (wk_session_cut), at snap lengths from
 *     14 to 262144;
 *   - a reference matcher of the local/remote rule written here from the
 *     filter's own fields, not from fleetcap's parser.
 * All three must agree on every case. The run is seeded (FLEETCAP_SEED, else
 * the clock) and the seed is printed, so a failure can be replayed.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "wk_filter.h"
#include "wk_session.h"

enum { TCP = 6, UDP = 17, ICMP = 1, ICMPV6 = 58 };

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, fast, and the same sequence on every machine. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* ------------------------------------------------ the reference filter */

/* Addresses are 16 bytes; IPv4 uses the first 4. */
struct ref_addr {
	int family;
	unsigned char lo[16], hi[16];
};

struct ref_port {
	uint16_t lo, hi;
};

struct ref_filter {
	int proto; /* TCP, UDP, or 0 for any */
	size_t n_local, n_remote, n_lport, n_rport;
	struct ref_addr local[3], remote[3];
	struct ref_port lport[3], rport[3];
};

struct pkt {
	int family;
	int proto;
	unsigned char src[16], dst[16];
	uint16_t sport, dport;
	size_t payload;
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int addr_in(const struct ref_addr *set, size_t n, int family, const unsigned char *a)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].family == family && memcmp(set[i].lo, a, addr_len(family)) <= 0 &&
		    memcmp(a, set[i].hi, addr_len(family)) <= 0)
			return 1;
	return 0;
}

static int port_in(const struct ref_port *set, size_t n, uint16_t port)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (set[i].lo <= port && port <= set[i].hi)
			return 1;
	return 0;
}

/* The capturing host's interface addresses: the local side of a filter without local_ip. */
static struct ref_addr host_addrs[2];

static int side(const struct ref_filter *f, const struct pkt *p, const unsigned char *l,
		uint16_t lport, const unsigned char *r, uint16_t rport)
{
	const struct ref_addr *local = f->n_local ? f->local : host_addrs;
	size_t n_local = f->n_local ? f->n_local : 2;

	return addr_in(local, n_local, p->family, l) &&
	       (f->n_remote == 0 || addr_in(f->remote, f->n_remote, p->family, r)) &&
	       port_in(f->lport, f->n_lport, lport) && port_in(f->rport, f->n_rport, rport);
}

static int ref_match(const struct ref_filter *f, const struct pkt *p)
{
	int ports = f->n_lport || f->n_rport;

	if (f->proto && p->proto != f->proto)
		return 0;
	if (ports && p->proto != TCP && p->proto != UDP)
		return 0;
	return side(f, p, p->src, p->sport, p->dst, p->dport) ||
	       side(f, p, p->dst, p->dport, p->src, p->sport);
}

/* ------------------------------------------------------ generating */

/* Addresses come from a small pool so that filters and packets meet often:
 * 198.18.0.0-15 and fd00:fc::0-15, the host being .1 and ::1. */
static void pool_addr(int family, unsigned last, unsigned char out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		out[0] = 198;
		out[1] = 18;
		out[3] = (unsigned char)last;
	} else {
		out[0] = 0xfd;
		out[3] = 0xfc;
		out[15] = (unsigned char)last;
	}
}

static const uint16_t port_pool[] = {53, 80, 443, 8000, 8001, 8002, 8003, 40000, 40001, 65535};
#define N_PORTS (sizeof(port_pool) / sizeof(port_pool[0]))

static void put_text(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put_text(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void addr_text(int family, const unsigned char *a, char *out)
{
	inet_ntop(family, a, out, INET6_ADDRSTRLEN);
}

/* One address item: a single address, a range a-b or a CIDR block. */
static void gen_addr(struct ref_addr *item, char *text, size_t len)
{
	int family = below(2) ? AF_INET : AF_INET6;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	unsigned lo = below(16), hi = lo + below(16 - lo);

	item->family = family;
	switch (below(3)) {
	case 0:
		pool_addr(family, lo, item->lo);
		pool_addr(family, lo, item->hi);
		addr_text(family, item->lo, a);
		put_text(text, len, "%s", a);
		break;
	case 1:
		pool_addr(family, lo, item->lo);
		pool_addr(family, hi, item->hi);
		addr_text(family, item->lo, a);
		addr_text(family, item->hi, b);
		put_text(text, len, "%s-%s", a, b);
		break;
	default: {
		unsigned host_bits = below(5); /* blocks of 1 to 16 addresses */
		unsigned first = lo & ~((1u << host_bits) - 1);
		pool_addr(family, first, item->lo);
		pool_addr(family, first + (1u << host_bits) - 1, item->hi);
		addr_text(family, item->lo, a);
		put_text(text, len, "%s/%u", a, (family == AF_INET ? 32 : 128) - host_bits);
	}
	}
}

static void gen_port(struct ref_port *item, char *text, size_t len)
{
	unsigned lo = below(N_PORTS), hi = lo + below((unsigned)N_PORTS - lo);

	item->lo = port_pool[lo];
	item->hi = below(2) ? port_pool[lo] : port_pool[hi];
	if (item->lo == item->hi)
		put_text(text, len, "%u", item->lo);
	else
		put_text(text, len, "%u-%u", item->lo, item->hi);
}

static unsigned ref_families(const struct ref_addr *set, size_t n)
{
	unsigned mask = 0;
	for (size_t i = 0; i < n; i++)
		mask |= set[i].family == AF_INET ? 1u : 2u;
	return mask;
}

/*
 * A filter: each field present or not, lists of one to three items. Local and
 * remote addresses of no common family are drawn again: fleetcap refuses such
 * a filter, which no packet could match (test_spec_validate).
 */
static void gen_filter(struct ref_filter *f, char *text, size_t len)
{
	static const char *const names[] = {"local-ip", "remote-ip", "local-port", "remote-port"};

	memset(f, 0, sizeof(*f));
	text[0] = '\0';
	switch (below(3)) {
	case 0:
		f->proto = TCP;
		put_text(text, len, "protocol=tcp");
		break;
	case 1:
		f->proto = UDP;
		put_text(text, len, "protocol=udp");
		break;
	default:
		put_text(text, len, "protocol=any");
	}
	for (int field = 0; field < 4; field++) {
		size_t *n = field == 0	 ? &f->n_local
			    : field == 1 ? &f->n_remote
			    : field == 2 ? &f->n_lport
					 : &f->n_rport;
		if (below(5) < 3)
			continue;
		put_text(text, len, ",%s=", names[field]);
		*n = 1 + below(3);
		for (size_t i = 0; i < *n; i++) {
			if (i)
				put_text(text, len, ";");
			if (field == 0)
				gen_addr(&f->local[i], text, len);
			else if (field == 1)
				gen_addr(&f->remote[i], text, len);
			else if (field == 2)
				gen_port(&f->lport[i], text, len);
			else
				gen_port(&f->rport[i], text, len);
		}
	}
	if (f->n_local && f->n_remote &&
	    !(ref_families(f->local, f->n_local) & ref_families(f->remote, f->n_remote)))
		gen_filter(f, text, len);
}

static void gen_packet(struct pkt *p)
{
	static const int protos[] = {TCP, UDP, ICMP};

	memset(p, 0, sizeof(*p));
	p->family = below(2) ? AF_INET : AF_INET6;
	p->proto = protos[below(3)];
	if (p->proto == ICMP && p->family == AF_INET6)
		p->proto = ICMPV6;
	/* One end is often the host, in either direction. */
	unsigned a = below(3) ? 1 : below(16), b = below(16);
	if (below(2)) {
		unsigned t = a;
		a = b;
		b = t;
	}
	pool_addr(p->family, a, p->src);
	pool_addr(p->family, b, p->dst);
	if (p->proto == TCP || p->proto == UDP) {
		p->sport = port_pool[below(N_PORTS)];
		p->dport = port_pool[below(N_PORTS)];
	}
	p->payload = below(4) ? below(64) : below(1400);
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Builds the Ethernet frame of p; returns its length. */
static size_t build(const struct pkt *p, unsigned char *buf)
{
	size_t l4 = p->proto == TCP ? 20 : 8, l3 = p->family == AF_INET ? 20 : 40;
	unsigned char *ip = buf + 14, *t = ip + l3;

	memset(buf, 0, 14 + l3 + l4);
	buf[0] = 0x02; /* locally administered MACs */
	buf[6] = 0x02;
	buf[11] = 1;
	if (p->family == AF_INET) {
		put16(buf + 12, 0x0800);
		ip[0] = 0x45;
		put16(ip + 2, (unsigned)(l3 + l4 + p->payload));
		ip[8] = 64;
		ip[9] = (unsigned char)p->proto;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
	} else {
		put16(buf + 12, 0x86dd);
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(l4 + p->payload));
		ip[6] = (unsigned char)p->proto;
		ip[7] = 64;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
	}
	if (p->proto == TCP || p->proto == UDP) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		if (p->proto == TCP)
			t[12] = 0x50;
		else
			put16(t + 4, (unsigned)(8 + p->payload));
	} else {
		t[0] = p->proto == ICMP ? 8 : 128; /* echo request */
	}
	for (size_t i = 0; i < p->payload; i++)
		t[l4 + i] = (unsigned char)(i * 7);
	return 14 + l3 + l4 + p->payload;
}

static const char *pkt_text(const struct pkt *p, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	addr_text(p->family, p->src, s);
	addr_text(p->family, p->dst, d);
	snprintf(out, len, "proto %d %s:%u > %s:%u, %zu bytes of payload", p->proto, s, p->sport, d,
		 p->dport, p->payload);
	return out;
}

/* ------------------------------------------------------------ the test */

#define FILTER_SETS	 1500
#define PACKETS_PER_SET	 40
#define SNAPS_PER_PACKET 3
#define FILTER_TEXT_MAX	 512

static const unsigned fixed_snaps[] = {14, 20, 34, 40, 54, 58, 62, 74, 96, 1514, 65535, 262144};

static unsigned gen_snap(void)
{
	if (below(2))
		return fixed_snaps[below(sizeof(fixed_snaps) / sizeof(fixed_snaps[0]))];
	return 14 + below(262144 - 14 + 1);
}

static void test_engine_agrees_with_reference(void **state)
{
	const char *seed_env = getenv("FLEETCAP_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	struct fc_addr_set local;
	char why[256], texts[3][FILTER_TEXT_MAX], shown[256];
	unsigned char frame[1600];
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, WK_MATCH_SNAPLEN);
	size_t cases = 0, matched = 0;

	(void)state;
	printf("  seed %llu (FLEETCAP_SEED=%llu replays this run)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	rng_state = seed ? seed : 1;
	pool_addr(AF_INET, 1, host_addrs[0].lo);
	pool_addr(AF_INET, 1, host_addrs[0].hi);
	host_addrs[0].family = AF_INET;
	pool_addr(AF_INET6, 1, host_addrs[1].lo);
	pool_addr(AF_INET6, 1, host_addrs[1].hi);
	host_addrs[1].family = AF_INET6;
	assert_int_equal(fc_addr_set_parse("198.18.0.1;fd00:fc::1", &local, why, sizeof(why)), 0);

	for (unsigned set = 0; set < FILTER_SETS; set++) {
		struct ref_filter refs[3];
		struct fc_field_errors errs;
		struct fc_err err;
		struct bpf_program prog;
		fc_spec_t *spec = fc_spec_new();
		size_t n = below(4); /* 0 = no filter: everything */

		fc_field_errors_init(&errs);
		for (size_t i = 0; i < n; i++) {
			gen_filter(&refs[i], texts[i], sizeof(texts[i]));
			if (fc_spec_add_filter(spec, texts[i], &errs) != 0)
				fail_msg("seed %llu: fleetcap refused \"%s\": %s",
					 (unsigned long long)seed, texts[i],
					 fc_field_errors_format(&errs, why, sizeof(why)));
		}
		char *expr = wk_filter_expression(spec->filters, spec->n_filters, &local, &err);
		if (!expr)
			fail_msg("seed %llu: %s", (unsigned long long)seed, err.msg);
		if (expr[0] && wk_filter_compile(dead, &prog, expr) != 0)
			fail_msg("seed %llu: pcap_compile(\"%s\"): %s", (unsigned long long)seed,
				 expr, pcap_geterr(dead));
		for (unsigned k = 0; k < PACKETS_PER_SET; k++) {
			struct pkt p;
			gen_packet(&p);
			size_t len = build(&p, frame);
			int want = n == 0;
			for (size_t i = 0; i < n; i++)
				want |= ref_match(&refs[i], &p);
			struct pcap_pkthdr whole = {{0, 0}, (bpf_u_int32)len, (bpf_u_int32)len};
			int bpf = !expr[0] || pcap_offline_filter(&prog, &whole, frame);
			for (unsigned s = 0; s < SNAPS_PER_PACKET; s++) {
				unsigned snap = gen_snap();
				/* What libpcap filters in this process: the bytes the kernel kept.
				 */
				struct pcap_pkthdr kept = whole;
				if (kept.caplen > WK_MATCH_SNAPLEN)
					kept.caplen = WK_MATCH_SNAPLEN;
				int engine = !expr[0] || pcap_offline_filter(&prog, &kept, frame);
				struct pcap_pkthdr stored = wk_session_cut(&kept, snap);
				cases++;
				if (bpf != want || engine != want) {
					/* In full, on stderr: fail_msg cuts long messages. */
					fprintf(stderr,
						"filters: %s | %s | %s (%zu)\nexpression: %s\n",
						n > 0 ? texts[0] : "-", n > 1 ? texts[1] : "-",
						n > 2 ? texts[2] : "-", n, expr);
					fail_msg("seed %llu: %s at snap length %u: reference %d, "
						 "BPF "
						 "on the whole packet %d, engine %d (filters and "
						 "expression above)",
						 (unsigned long long)seed,
						 pkt_text(&p, shown, sizeof(shown)), snap, want,
						 bpf, engine);
				}
				assert_int_equal(stored.caplen, len < snap ? len : snap);
				assert_int_equal(stored.len, len);
			}
			matched += (size_t)want;
		}
		if (expr[0])
			pcap_freecode(&prog);
		free(expr);
		fc_spec_free(spec);
	}
	pcap_close(dead);
	printf("  %zu cases agree (%zu of %u packets selected)\n", cases, matched,
	       FILTER_SETS * PACKETS_PER_SET);
	/* Generated cases that never or always match would prove little. */
	assert_true(matched > FILTER_SETS * PACKETS_PER_SET / 20);
	assert_true(matched < FILTER_SETS * PACKETS_PER_SET * 19 / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_agrees_with_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
