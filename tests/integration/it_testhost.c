/* it_testhost: see it_testhost.h. */
#define _GNU_SOURCE /* setns */
#include "it_testhost.h"
#include "it_packets.h"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int it_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "it_sh: \"%s\" exited with %d\n", cmd, WEXITSTATUS(rc));
	return rc == 0 ? 0 : -1;
}

/* Opens a send-only packet socket on ifname inside namespace ns (NULL = here). */
static int packet_socket(const char *ns, const char *ifname)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), sock = -1;
	char path[96];

	if (self < 0)
		return -1;
	if (ns) {
		snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
		int nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
			if (nsfd >= 0)
				close(nsfd);
			close(self);
			return -1;
		}
		close(nsfd);
	}
	/* Protocol 0: the socket sends and receives nothing. */
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_ifindex = (int)if_nametoindex(ifname)};
	if (sock >= 0 && (sll.sll_ifindex == 0 || bind(sock, (void *)&sll, sizeof(sll)) != 0)) {
		close(sock);
		sock = -1;
	}
	if (ns && setns(self, CLONE_NEWNET) != 0) {
		perror("setns back to the root namespace");
		abort();
	}
	close(self);
	return sock;
}

int it_host_create(struct it_host *h, const char *tag)
{
	long pid = (long)getpid();

	memset(h, 0, sizeof(*h));
	h->root_sock = h->ns_sock = -1;
	snprintf(h->ns, sizeof(h->ns), "fc%s%ld", tag, pid);
	snprintf(h->root_if, sizeof(h->root_if), "fc%.3s%ldr", tag, pid % 1000000);
	snprintf(h->ns_if, sizeof(h->ns_if), "fc%.3s%ldn", tag, pid % 1000000);
	if (it_sh("ip netns add %s", h->ns) ||
	    it_sh("ip link add %s type veth peer name %s netns %s", h->root_if, h->ns_if, h->ns) ||
	    it_sh("sysctl -qw net.ipv6.conf.%s.addr_gen_mode=1 net.ipv6.conf.%s.accept_ra=0",
		  h->root_if, h->root_if) ||
	    it_sh("ip netns exec %s sysctl -qw net.ipv6.conf.%s.addr_gen_mode=1", h->ns,
		  h->ns_if) ||
	    it_sh("ip link set %s arp off multicast off up", h->root_if) ||
	    it_sh("ip -n %s link set %s arp off multicast off up", h->ns, h->ns_if) ||
	    it_sh("ip addr add 198.18.0.1/24 dev %s && ip addr add 198.18.0.5/24 dev %s && "
		  "ip addr add fd00:fc::1/64 dev %s nodad",
		  h->root_if, h->root_if, h->root_if) ||
	    it_sh("ip -n %s addr add 198.18.0.2/24 dev %s && "
		  "ip -n %s addr add fd00:fc::2/64 dev %s nodad",
		  h->ns, h->ns_if, h->ns, h->ns_if))
		goto fail;
	h->root_sock = packet_socket(NULL, h->root_if);
	h->ns_sock = packet_socket(h->ns, h->ns_if);
	if (h->root_sock < 0 || h->ns_sock < 0) {
		fprintf(stderr, "it_host_create: cannot open the packet sockets\n");
		goto fail;
	}
	return 0;
fail:
	it_host_destroy(h);
	return -1;
}

void it_host_destroy(struct it_host *h)
{
	if (h->root_sock >= 0)
		close(h->root_sock);
	if (h->ns_sock >= 0)
		close(h->ns_sock);
	h->root_sock = h->ns_sock = -1;
	if (h->root_if[0])
		it_sh("ip link del %s 2>/dev/null || true", h->root_if);
	if (h->ns[0])
		it_sh("ip netns del %s 2>/dev/null || true", h->ns);
}

int it_host_send(const struct it_host *h, int from_ns, const void *frame, size_t len)
{
	ssize_t n = send(from_ns ? h->ns_sock : h->root_sock, frame, len, 0);
	return n == (ssize_t)len ? 0 : -1;
}

int it_host_send_udp(const struct it_host *host, int count, uint16_t dport)
{
	struct it_pkt p;
	unsigned char frame[256];

	if (it_pkt_set(&p, IT_PROTO_UDP, "198.18.0.2", "198.18.0.1", 40000, dport) != 0)
		return -1;
	size_t len = it_frame_build(&p, frame, sizeof(frame));
	for (int i = 0; i < count; i++)
		if (it_host_send(host, 1, frame, len) != 0)
			return -1;
	return 0;
}
