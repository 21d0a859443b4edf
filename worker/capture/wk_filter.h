/*
 * wk_filter: capture-spec filters → one pcap filter expression (and so one
 * BPF program), with the semantics of docs/ARCHITECTURE.md §1.
 *
 * A filter matches a packet when one endpoint is local and satisfies the
 * local fields while the other endpoint satisfies the remote fields:
 *
 *   proto and ((src in L and sport in LP and dst in R and dport in RP) or
 *              (dst in L and dport in LP and src in R and sport in RP))
 *
 * L is the filter's local_ip, or else the captured interfaces' addresses;
 * R, LP and RP are "any" when absent. A filter with a port field matches
 * only TCP and UDP. Filters are OR-ed; no filter at all captures everything.
 * Address ranges a-b are split into the CIDR blocks that cover them exactly,
 * since pcap's language has no address range.
 */
#ifndef WK_FILTER_H
#define WK_FILTER_H

#include <pcap/pcap.h>
#include <stddef.h>

#include "fc_err.h"
#include "fc_filter.h"
#include "fc_spec.h"

/*
 * Returns the expression for the n filters as a malloc'd string ("" for all
 * traffic), or NULL with err naming the filter field at fault. local holds
 * the captured interfaces' addresses; it is used only by filters without
 * local_ip, and must then be non-empty.
 */
char *wk_filter_expression(fc_filter_t *const *filters, size_t n, const struct fc_addr_set *local,
			   struct fc_err *err);

/*
 * Compiles expr for p as the capture engine does: without libpcap's
 * optimizer, which in libpcap 1.10 drops branches of an OR whose IPv6 nets
 * have a prefix that is not a multiple of 32 ("(src net fd00::/124 and dst
 * port 80) or (src net fd00::/124 and src port 80)" loses its second half),
 * exactly the shape of every filter here. The program is longer, and right.
 * Returns pcap_compile()'s result.
 */
int wk_filter_compile(pcap_t *p, struct bpf_program *prog, const char *expr);

#endif
