/*
 * wk_ifaddr: the local side of a capture when a filter names no local_ip —
 * the IPv4 and IPv6 addresses (link-local included) of the captured
 * interfaces, or of every interface for "any".
 */
#ifndef WK_IFADDR_H
#define WK_IFADDR_H

#include <stddef.h>

#include "fc_err.h"
#include "fc_filter.h"

/*
 * Fills out with the addresses of the n named interfaces. Fails with err when
 * an interface does not exist or there are more than FC_FILTER_ITEMS_MAX
 * addresses (then local_ip must be given). An interface without an address
 * contributes nothing; the filter compiler reports an empty local side.
 */
int wk_ifaddr_local_set(const char *const *ifnames, size_t n, struct fc_addr_set *out,
			struct fc_err *err);

#endif
