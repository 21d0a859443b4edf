/* wk_filter: see wk_filter.h. */
#include "wk_filter.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetcap.pb-c.h"

/* A growable string; on allocation failure it remembers and stops growing. */
struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		char *grown = realloc(b->p, cap);
		if (!grown) {
			b->failed = 1;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
}

typedef unsigned __int128 u128;

static u128 to_u128(const unsigned char *a, int family)
{
	u128 v = 0;
	for (int i = 0; i < (family == AF_INET ? 4 : 16); i++)
		v = v << 8 | a[i];
	return v;
}

static void from_u128(u128 v, int family, unsigned char *out)
{
	int n = family == AF_INET ? 4 : 16;
	memset(out, 0, 16);
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (unsigned char)v;
		v >>= 8;
	}
}

static void put_net(struct sbuf *b, const char *dir, int family, const unsigned char *addr,
		    unsigned prefix, int *first)
{
	char text[INET6_ADDRSTRLEN];
	unsigned bits = family == AF_INET ? 32 : 128;

	inet_ntop(family, addr, text, sizeof(text));
	if (prefix == bits)
		sb_printf(b, "%s%s host %s", *first ? "" : " or ", dir, text);
	else
		sb_printf(b, "%s%s net %s/%u", *first ? "" : " or ", dir, text, prefix);
	*first = 0;
}

/* The low n bits set, n from 0 to 128 (a shift by 128 would be undefined). */
static u128 low_bits(unsigned n)
{
	return n >= 128 ? ~(u128)0 : ((u128)1 << n) - 1;
}

/* Writes lo..hi as the fewest CIDR blocks that cover exactly that range. */
static void put_range(struct sbuf *b, const char *dir, const struct fc_addr_item *a, int *first)
{
	unsigned bits = a->family == AF_INET ? 32 : 128;
	u128 lo = to_u128(a->lo, a->family), hi = to_u128(a->hi, a->family);
	unsigned char net[16];

	for (;;) {
		unsigned size_bits = 0;
		/* Grow the block while lo stays aligned to it and it ends within hi. */
		while (size_bits < bits) {
			u128 mask = low_bits(size_bits + 1);
			if ((lo & mask) != 0 || lo + mask > hi)
				break;
			size_bits++;
		}
		from_u128(lo, a->family, net);
		put_net(b, dir, a->family, net, bits - size_bits, first);
		u128 last = lo + low_bits(size_bits);
		if (size_bits == bits || last >= hi)
			break;
		lo = last + 1;
	}
}

/* "(src host A or src net B/p ...)" for an address set. */
static void put_addrs(struct sbuf *b, const char *dir, const struct fc_addr_set *set)
{
	int first = 1;

	sb_printf(b, "(");
	for (size_t i = 0; i < set->count; i++) {
		const struct fc_addr_item *a = &set->items[i];
		if (a->kind == FC_ADDR_RANGE)
			put_range(b, dir, a, &first);
		else
			put_net(b, dir, a->family, a->lo,
				a->kind == FC_ADDR_CIDR ? a->prefix
							: (a->family == AF_INET ? 32 : 128),
				&first);
	}
	sb_printf(b, ")");
}

static void put_ports(struct sbuf *b, const char *dir, const struct fc_port_set *set)
{
	sb_printf(b, "(");
	for (size_t i = 0; i < set->count; i++) {
		const struct fc_port_range *r = &set->items[i];
		if (r->lo == r->hi)
			sb_printf(b, "%s%s port %u", i ? " or " : "", dir, r->lo);
		else
			sb_printf(b, "%s%s portrange %u-%u", i ? " or " : "", dir, r->lo, r->hi);
	}
	sb_printf(b, ")");
}

struct parsed_filter {
	const struct fc_addr_set *local_ip; /* the filter's, or the interfaces' */
	struct fc_addr_set local_own, remote_ip;
	struct fc_port_set local_port, remote_port;
};

/* One direction: the local endpoint is `l` ("src" or "dst"), the remote one `r`. */
static void put_direction(struct sbuf *b, const struct parsed_filter *f, const char *l,
			  const char *r)
{
	sb_printf(b, "(");
	put_addrs(b, l, f->local_ip);
	if (f->local_port.count) {
		sb_printf(b, " and ");
		put_ports(b, l, &f->local_port);
	}
	if (f->remote_ip.count) {
		sb_printf(b, " and ");
		put_addrs(b, r, &f->remote_ip);
	}
	if (f->remote_port.count) {
		sb_printf(b, " and ");
		put_ports(b, r, &f->remote_port);
	}
	sb_printf(b, ")");
}

static int parse_filter(const fc_filter_t *in, size_t index, const struct fc_addr_set *local,
			struct parsed_filter *out, struct fc_err *err)
{
	char why[320];

#define PARSE(fn, text, set, name)                                                                 \
	if (fn(text, set, why, sizeof(why)) != 0) {                                                \
		fc_err_set(err, FC_ERR_INVALID, "filters[%zu]." name ": %s", index, why);          \
		return -1;                                                                         \
	}
	PARSE(fc_addr_set_parse, in->local_ip, &out->local_own, "local_ip");
	PARSE(fc_addr_set_parse, in->remote_ip, &out->remote_ip, "remote_ip");
	PARSE(fc_port_set_parse, in->local_port, &out->local_port, "local_port");
	PARSE(fc_port_set_parse, in->remote_port, &out->remote_port, "remote_port");
#undef PARSE
	if (out->local_own.count) {
		out->local_ip = &out->local_own;
	} else if (local && local->count) {
		out->local_ip = local;
	} else {
		fc_err_set(err, FC_ERR_INVALID,
			   "filters[%zu]: no local_ip and the captured interfaces have no address "
			   "to stand for the local side: give local_ip",
			   index);
		return -1;
	}
	/* A packet's two ends are of one family: such a filter would match nothing. */
	if (out->remote_ip.count &&
	    !(fc_addr_set_families(out->local_ip) & fc_addr_set_families(&out->remote_ip))) {
		fc_err_set(err, FC_ERR_INVALID,
			   "filters[%zu].remote_ip: %s only, and the local side (%s) has no "
			   "address of that family: no packet can match; give a local_ip of the "
			   "same family",
			   index,
			   fc_addr_set_families(&out->remote_ip) == FC_FAMILY_V4 ? "IPv4" : "IPv6",
			   out->local_own.count ? "local_ip" : "the captured interfaces");
		return -1;
	}
	return 0;
}

char *wk_filter_expression(fc_filter_t *const *filters, size_t n, const struct fc_addr_set *local,
			   struct fc_err *err)
{
	struct sbuf b = {NULL, 0, 0, 0};
	struct parsed_filter *f = malloc(sizeof(*f));

	if (!f)
		goto nomem;
	sb_printf(&b, "%s", "");
	for (size_t i = 0; i < n; i++) {
		memset(f, 0, sizeof(*f));
		if (parse_filter(filters[i], i, local, f, err) != 0) {
			free(f);
			free(b.p);
			return NULL;
		}
		int ports = f->local_port.count || f->remote_port.count;
		const char *proto = NULL;
		switch (filters[i]->protocol) {
		case FLEETCAP__V1__PROTOCOL__PROTOCOL_TCP:
			proto = "tcp";
			break;
		case FLEETCAP__V1__PROTOCOL__PROTOCOL_UDP:
			proto = "udp";
			break;
		case FLEETCAP__V1__PROTOCOL__PROTOCOL_ANY:
			proto = ports ? "(tcp or udp)" : NULL;
			break;
		default:
			fc_err_set(
				err, FC_ERR_INVALID,
				"filters[%zu].protocol: unknown value %d: expected TCP, UDP or Any",
				i, (int)filters[i]->protocol);
			free(f);
			free(b.p);
			return NULL;
		}
		sb_printf(&b, "%s(", i ? " or " : "");
		if (proto)
			sb_printf(&b, "%s and ", proto);
		sb_printf(&b, "(");
		put_direction(&b, f, "src", "dst");
		sb_printf(&b, " or ");
		put_direction(&b, f, "dst", "src");
		sb_printf(&b, "))");
	}
	free(f);
	if (b.failed)
		goto nomem;
	return b.p;
nomem:
	free(b.p);
	fc_err_set(err, FC_ERR_FATAL, "out of memory building the capture filter");
	return NULL;
}

int wk_filter_compile(pcap_t *p, struct bpf_program *prog, const char *expr)
{
	return pcap_compile(p, prog, expr, 0 /* no optimizer: see wk_filter.h */,
			    PCAP_NETMASK_UNKNOWN);
}
