/* fc_filter: see fc_filter.h. */
#include "fc_filter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fc_err.h"
#include "fc_parse.h"
#include "fleetcap.pb-c.h"

/*
 * Calls item_fn on each ';'-separated item of text, trimmed, and counts the
 * items it accepts in *count (which item_fn uses as the index to fill).
 * Checks list-level rules (length, empty items, item count) and stops at the
 * first error.
 */
static int for_each_item(const char *text,
			 int (*item_fn)(const char *item, void *set, char *why, size_t why_len),
			 void *set, size_t *count, char *why, size_t why_len)
{
	char item[128], shown[FC_QUOTE_MAX];
	size_t position = 0;
	const char *p = text;

	if (strlen(text) > FC_FILTER_TEXT_MAX) {
		snprintf(why, why_len, "list longer than %d characters", FC_FILTER_TEXT_MAX);
		return -1;
	}
	if (*text == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		position++;
		if (fc_trim_copy(p, n, item, sizeof(item)) != 0) {
			snprintf(why, why_len, "item %zu is longer than %zu characters", position,
				 sizeof(item) - 1);
			return -1;
		}
		if (item[0] == '\0') {
			snprintf(why, why_len, "item %zu of the ';' list is empty", position);
			return -1;
		}
		if (*count == FC_FILTER_ITEMS_MAX) {
			snprintf(why, why_len, "more than %d items in the list",
				 FC_FILTER_ITEMS_MAX);
			return -1;
		}
		if (item_fn(item, set, why, why_len) != 0) {
			if (!strchr(text, ';'))
				return -1;
			/* Prefix the item so the user sees which one in a long list. */
			char detail[256];
			snprintf(detail, sizeof(detail), "%s", why);
			snprintf(why, why_len, "item %s: %s", fc_quote(item, shown, sizeof(shown)),
				 detail);
			return -1;
		}
		(*count)++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int parse_port(const char *s, uint16_t *out, char *why, size_t why_len)
{
	long long v;

	switch (fc_parse_ll(s, 0, 65535, &v)) {
	case FC_PARSE_OK:
		*out = (uint16_t)v;
		return 0;
	case FC_PARSE_RANGE:
		snprintf(why, why_len, "port %s is out of range: expected 0-65535", s);
		return -1;
	default:
		snprintf(why, why_len,
			 "not a port number: expected 0-65535, a range a-b, or a ';' list");
		return -1;
	}
}

static int port_item(const char *item, void *set_arg, char *why, size_t why_len)
{
	struct fc_port_set *set = set_arg;
	struct fc_port_range *r = &set->items[set->count];
	const char *dash = strchr(item, '-');
	char lo[64], hi[64];

	if (!dash) {
		if (parse_port(item, &r->lo, why, why_len) != 0)
			return -1;
		r->hi = r->lo;
		return 0;
	}
	if (fc_trim_copy(item, (size_t)(dash - item), lo, sizeof(lo)) != 0 ||
	    fc_trim_copy(dash + 1, strlen(dash + 1), hi, sizeof(hi)) != 0 || !lo[0] || !hi[0]) {
		snprintf(why, why_len, "a range needs two ports: expected a-b");
		return -1;
	}
	if (parse_port(lo, &r->lo, why, why_len) != 0 || parse_port(hi, &r->hi, why, why_len) != 0)
		return -1;
	if (r->lo > r->hi) {
		snprintf(why, why_len, "reversed range: %u is greater than %u", r->lo, r->hi);
		return -1;
	}
	return 0;
}

int fc_port_set_parse(const char *text, struct fc_port_set *out, char *why, size_t why_len)
{
	out->count = 0;
	return for_each_item(text, port_item, out, &out->count, why, why_len);
}

/* Parses one address of either family. Returns the family or 0. */
static int parse_addr(const char *s, unsigned char out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int cidr_item(const char *item, const char *slash, struct fc_addr_item *a, char *why,
		     size_t why_len)
{
	char addr[64];
	long long prefix;
	int bits;

	if (fc_trim_copy(item, (size_t)(slash - item), addr, sizeof(addr)) != 0 ||
	    !(a->family = parse_addr(addr, a->lo))) {
		snprintf(why, why_len, "not an IPv4 or IPv6 network: expected ADDRESS/PREFIX");
		return -1;
	}
	bits = addr_len(a->family) * 8;
	if (fc_parse_ll(slash + 1, 0, bits, &prefix) != FC_PARSE_OK) {
		snprintf(why, why_len, "bad prefix length: expected 0-%d for %s", bits,
			 a->family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	a->kind = FC_ADDR_CIDR;
	a->prefix = (unsigned)prefix;
	memcpy(a->hi, a->lo, 16);
	for (int i = (int)prefix; i < bits; i++) {
		unsigned char mask = (unsigned char)(0x80u >> (i % 8));
		if (a->lo[i / 8] & mask) {
			char net[INET6_ADDRSTRLEN];
			unsigned char clean[16];
			memcpy(clean, a->lo, 16);
			for (int j = (int)prefix; j < bits; j++)
				clean[j / 8] &= (unsigned char)~(0x80u >> (j % 8));
			inet_ntop(a->family, clean, net, sizeof(net));
			snprintf(why, why_len,
				 "host bits are set: expected a network address such as %s/%lld",
				 net, prefix);
			return -1;
		}
		a->hi[i / 8] |= mask;
	}
	return 0;
}

static int addr_item(const char *item, void *set_arg, char *why, size_t why_len)
{
	struct fc_addr_set *set = set_arg;
	struct fc_addr_item *a = &set->items[set->count];
	const char *slash = strchr(item, '/');
	const char *dash = strchr(item, '-');

	memset(a, 0, sizeof(*a));
	if (slash) {
		if (cidr_item(item, slash, a, why, why_len) != 0)
			return -1;
	} else if (dash) {
		char lo[64], hi[64];
		int hi_family;
		if (fc_trim_copy(item, (size_t)(dash - item), lo, sizeof(lo)) != 0 ||
		    fc_trim_copy(dash + 1, strlen(dash + 1), hi, sizeof(hi)) != 0 ||
		    !(a->family = parse_addr(lo, a->lo)) || !(hi_family = parse_addr(hi, a->hi))) {
			snprintf(why, why_len,
				 "a range needs two IPv4 or IPv6 addresses: expected a-b");
			return -1;
		}
		if (a->family != hi_family) {
			snprintf(why, why_len, "a range cannot mix IPv4 and IPv6");
			return -1;
		}
		if (memcmp(a->lo, a->hi, (size_t)addr_len(a->family)) > 0) {
			snprintf(why, why_len, "reversed range: %s is greater than %s", lo, hi);
			return -1;
		}
		a->kind = FC_ADDR_RANGE;
	} else {
		if (!(a->family = parse_addr(item, a->lo))) {
			snprintf(why, why_len,
				 "not an IPv4 or IPv6 address: expected an address, a range a-b, a "
				 "CIDR block or a ';' list");
			return -1;
		}
		memcpy(a->hi, a->lo, 16);
		a->kind = FC_ADDR_ONE;
	}
	return 0;
}

int fc_addr_set_parse(const char *text, struct fc_addr_set *out, char *why, size_t why_len)
{
	out->count = 0;
	return for_each_item(text, addr_item, out, &out->count, why, why_len);
}

int fc_protocol_parse(const char *text, int *out)
{
	if (strcasecmp(text, "tcp") == 0)
		*out = FLEETCAP__V1__PROTOCOL__PROTOCOL_TCP;
	else if (strcasecmp(text, "udp") == 0)
		*out = FLEETCAP__V1__PROTOCOL__PROTOCOL_UDP;
	else if (strcasecmp(text, "any") == 0)
		*out = FLEETCAP__V1__PROTOCOL__PROTOCOL_ANY;
	else
		return -1;
	return 0;
}

const char *fc_protocol_name(int protocol)
{
	switch (protocol) {
	case FLEETCAP__V1__PROTOCOL__PROTOCOL_ANY:
		return "Any";
	case FLEETCAP__V1__PROTOCOL__PROTOCOL_TCP:
		return "TCP";
	case FLEETCAP__V1__PROTOCOL__PROTOCOL_UDP:
		return "UDP";
	}
	return NULL;
}

unsigned fc_addr_set_families(const struct fc_addr_set *set)
{
	unsigned mask = 0;
	for (size_t i = 0; i < set->count; i++)
		mask |= set->items[i].family == AF_INET ? FC_FAMILY_V4 : FC_FAMILY_V6;
	return mask;
}
