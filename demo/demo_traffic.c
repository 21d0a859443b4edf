/* demo_traffic: loopback TCP and UDP for `fleetcap demo`; see demo_traffic.h. */
#define _GNU_SOURCE /* accept4 */
#include "demo_traffic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fc_kafka.h" /* fc_mono_ms */

enum { S_LISTEN, S_SERVER, S_CLIENT, S_UDP_RECV, S_UDP_SEND, S_COUNT };

struct demo_traffic {
	int fd[S_COUNT];
	struct sockaddr_in udp_to, udp_other_to;
	pthread_t thread;
	atomic_int stop;
};

static int bound_socket(int type, struct sockaddr_in *addr, struct fc_err *err)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "demo traffic: socket on 127.0.0.1: %s",
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Reads whatever is there; the demo only needs the bytes on the wire. */
static void drain(int fd)
{
	char buf[2048];

	while (fd >= 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void *run(void *opaque)
{
	struct demo_traffic *t = opaque;
	static const char request[] = "GET /demo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char reply[300], datagram[64];
	int64_t next_tcp = 0, next_udp = 0;
	unsigned seq = 0;

	memset(reply, 'r', sizeof(reply));
	while (!atomic_load(&t->stop)) {
		struct pollfd p[S_COUNT];
		int64_t now = fc_mono_ms();

		for (int i = 0; i < S_COUNT; i++)
			p[i] = (struct pollfd){.fd = t->fd[i], .events = POLLIN};
		if (poll(p, S_COUNT, 10) > 0) {
			if (p[S_LISTEN].revents & POLLIN && t->fd[S_SERVER] < 0)
				t->fd[S_SERVER] =
					accept4(t->fd[S_LISTEN], NULL, NULL, SOCK_CLOEXEC);
			if (p[S_SERVER].revents & POLLIN) {
				drain(t->fd[S_SERVER]);
				(void)send(t->fd[S_SERVER], reply, sizeof(reply), MSG_NOSIGNAL);
			}
			if (p[S_CLIENT].revents & POLLIN)
				drain(t->fd[S_CLIENT]);
			if (p[S_UDP_RECV].revents & POLLIN)
				drain(t->fd[S_UDP_RECV]);
		}
		if (now >= next_tcp) {
			(void)send(t->fd[S_CLIENT], request, sizeof(request) - 1, MSG_NOSIGNAL);
			next_tcp = now + 50;
		}
		if (now >= next_udp) {
			memset(datagram, 0, sizeof(datagram));
			memcpy(datagram, &seq, sizeof(seq));
			seq++;
			(void)sendto(t->fd[S_UDP_SEND], datagram, sizeof(datagram), 0,
				     (struct sockaddr *)&t->udp_to, sizeof(t->udp_to));
			(void)sendto(t->fd[S_UDP_SEND], datagram, sizeof(datagram), 0,
				     (struct sockaddr *)&t->udp_other_to, sizeof(t->udp_other_to));
			next_udp = now + 100;
		}
	}
	return NULL;
}

struct demo_traffic *demo_traffic_start(struct demo_traffic_ports *ports, struct fc_err *err)
{
	struct demo_traffic *t = calloc(1, sizeof(*t));
	struct sockaddr_in tcp_addr, any;

	if (!t) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	for (int i = 0; i < S_COUNT; i++)
		t->fd[i] = -1;
	if ((t->fd[S_LISTEN] = bound_socket(SOCK_STREAM, &tcp_addr, err)) < 0 ||
	    (t->fd[S_UDP_RECV] = bound_socket(SOCK_DGRAM, &t->udp_to, err)) < 0 ||
	    (t->fd[S_UDP_SEND] = bound_socket(SOCK_DGRAM, &any, err)) < 0)
		goto fail;
	/* The other port: bound to learn a free one, then closed, so that each
	 * datagram to it also draws an ICMP port unreachable: more traffic
	 * that the demo's filters leave out. */
	int other_fd = bound_socket(SOCK_DGRAM, &t->udp_other_to, err);
	if (other_fd < 0)
		goto fail;
	close(other_fd);
	if (listen(t->fd[S_LISTEN], 1) != 0 ||
	    (t->fd[S_CLIENT] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(t->fd[S_CLIENT], (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "demo traffic: TCP on 127.0.0.1: %s",
			   strerror(errno));
		goto fail;
	}
	ports->tcp = ntohs(tcp_addr.sin_port);
	ports->udp = ntohs(t->udp_to.sin_port);
	ports->udp_other = ntohs(t->udp_other_to.sin_port);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "demo traffic: cannot start a thread");
		goto fail;
	}
	return t;
fail:
	for (int i = 0; i < S_COUNT; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	free(t);
	return NULL;
}

void demo_traffic_stop(struct demo_traffic *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, 1);
	pthread_join(t->thread, NULL);
	for (int i = 0; i < S_COUNT; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	free(t);
}
