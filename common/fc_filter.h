/*
 * fc_filter: the value syntax of filter fields (docs/ARCHITECTURE.md §1).
 *
 * A field is one item, a range "a-b", or a list "a;b;c" whose items may be
 * ranges or, for addresses, CIDR blocks; IPv4 and IPv6. Spaces around items
 * are ignored. An empty item, a reversed range, a port above 65535, a bad
 * address, mixed families in one range or a CIDR block with host bits set is
 * an error: a filter never silently matches nothing.
 *
 * The parsed sets are what the capture engine compiles into BPF.
 */
#ifndef FC_FILTER_H
#define FC_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define FC_FILTER_ITEMS_MAX 64	 /* items in one field's list */
#define FC_FILTER_TEXT_MAX  2048 /* characters in one field */

struct fc_port_range {
	uint16_t lo, hi; /* lo == hi for a single port */
};

struct fc_port_set {
	size_t count;
	struct fc_port_range items[FC_FILTER_ITEMS_MAX];
};

enum fc_addr_kind {
	FC_ADDR_ONE,   /* a single address: lo == hi */
	FC_ADDR_CIDR,  /* network/prefix: lo = network, hi = last address */
	FC_ADDR_RANGE, /* lo-hi */
};

struct fc_addr_item {
	int family; /* AF_INET or AF_INET6 */
	enum fc_addr_kind kind;
	unsigned prefix;      /* FC_ADDR_CIDR */
	unsigned char lo[16]; /* network byte order; IPv4 uses the first 4 bytes */
	unsigned char hi[16];
};

struct fc_addr_set {
	size_t count;
	struct fc_addr_item items[FC_FILTER_ITEMS_MAX];
};

/*
 * Parses a port field ("80", "8000-8080", "80;443;8000-8080"). Returns 0, or
 * -1 with why saying what was wrong with which item and what was expected.
 * An empty text gives an empty set (any port).
 */
int fc_port_set_parse(const char *text, struct fc_port_set *out, char *why, size_t why_len);

/* Parses an address field: addresses, a-b ranges and CIDR blocks, v4 and v6. */
int fc_addr_set_parse(const char *text, struct fc_addr_set *out, char *why, size_t why_len);

/* The families a set holds: FC_FAMILY_V4 | FC_FAMILY_V6 bits (0 when empty). */
#define FC_FAMILY_V4 1u
#define FC_FAMILY_V6 2u
unsigned fc_addr_set_families(const struct fc_addr_set *set);

/* Parses "tcp", "udp" or "any" (any case) into the proto enum value. -1 if unknown. */
int fc_protocol_parse(const char *text, int *out);

/* "TCP", "UDP", "Any", or NULL for an unknown value. */
const char *fc_protocol_name(int protocol);

#endif
