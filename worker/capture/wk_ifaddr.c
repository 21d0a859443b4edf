/* wk_ifaddr: see wk_ifaddr.h. */
#include "wk_ifaddr.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static int wanted(const char *name, const char *const *ifnames, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ifnames[i], "any") == 0 || strcmp(ifnames[i], name) == 0)
			return 1;
	return 0;
}

static int already_in(const struct fc_addr_set *set, int family, const unsigned char *addr)
{
	size_t len = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < set->count; i++)
		if (set->items[i].family == family && memcmp(set->items[i].lo, addr, len) == 0)
			return 1;
	return 0;
}

int wk_ifaddr_local_set(const char *const *ifnames, size_t n, struct fc_addr_set *out,
			struct fc_err *err)
{
	struct ifaddrs *list, *ifa;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ifnames[i], "any") != 0 && if_nametoindex(ifnames[i]) == 0) {
			fc_err_set(err, FC_ERR_INVALID, "interface \"%.*s\" does not exist",
				   IF_NAMESIZE, ifnames[i]);
			return -1;
		}
	}
	if (getifaddrs(&list) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "cannot list the interface addresses");
		return -1;
	}
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		unsigned char addr[16] = {0};
		int family;

		if (!ifa->ifa_addr || !wanted(ifa->ifa_name, ifnames, n))
			continue;
		family = ifa->ifa_addr->sa_family;
		if (family == AF_INET)
			memcpy(addr, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr, 4);
		else if (family == AF_INET6)
			memcpy(addr, &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr,
			       16);
		else
			continue;
		if (already_in(out, family, addr))
			continue;
		if (out->count == FC_FILTER_ITEMS_MAX) {
			freeifaddrs(list);
			fc_err_set(err, FC_ERR_INVALID,
				   "the captured interfaces have more than %d addresses: give "
				   "local-ip in every filter",
				   FC_FILTER_ITEMS_MAX);
			return -1;
		}
		struct fc_addr_item *item = &out->items[out->count++];
		item->family = family;
		item->kind = FC_ADDR_ONE;
		item->prefix = family == AF_INET ? 32 : 128;
		memcpy(item->lo, addr, sizeof(addr));
		memcpy(item->hi, addr, sizeof(addr));
	}
	freeifaddrs(list);
	return 0;
}
