/*
 * it_testhost: a test host for capture tests (see "Test services" in README.md) —
 * a network namespace joined to the root namespace by a veth pair, with
 * addresses from 198.18.0.0/15 and ULA IPv6, and raw sockets on both ends to
 * inject exact Ethernet frames in either direction.
 *
 * Root side ("local", where captures run): 198.18.0.1, 198.18.0.5, fd00:fc::1.
 * Namespace side ("remote"): 198.18.0.2, fd00:fc::2. Link-local IPv6, ARP
 * and multicast are off on both ends so the link carries (almost) nothing
 * but the frames a test sends. Frames carry a destination MAC that neither
 * end owns, so neither kernel answers them: the wire holds exactly what was
 * sent.
 */
#ifndef IT_TESTHOST_H
#define IT_TESTHOST_H

#include <stdint.h>

#include <stddef.h>

struct it_host {
	char ns[32];
	char root_if[16]; /* in the root namespace */
	char ns_if[16];	  /* in ns */
	int root_sock;	  /* AF_PACKET, sends out of root_if (captured as outgoing) */
	int ns_sock;	  /* AF_PACKET, sends out of ns_if (captured on root_if as incoming) */
};

/* Runs a shell command; returns its exit status (0 = success). */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Creates the host; tag makes the names unique ("cap" → fccap<pid>...). 0 or -1. */
int it_host_create(struct it_host *host, const char *tag);

/* Removes the namespace and the links. Safe on a half-created host. */
void it_host_destroy(struct it_host *host);

/* Sends one Ethernet frame: from_ns = 1 sends from the namespace side. */
int it_host_send(const struct it_host *host, int from_ns, const void *frame, size_t len);

/* Sends count UDP frames from the test host (198.18.0.2:40000) to the root
 * side (198.18.0.1:dport), out of the namespace; 0, or -1 on the first failure. */
int it_host_send_udp(const struct it_host *host, int count, uint16_t dport);

#endif
