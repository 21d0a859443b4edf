/*
 * demo_traffic: a little loopback traffic for `fleetcap demo`: a TCP
 * client and server on 127.0.0.1 exchanging a request and a reply every
 * 50 ms, a UDP sender to a UDP port every 100 ms, and UDP to a second port
 * that no capture selects (so the filters visibly leave it out). Ports are
 * chosen by the kernel.
 */
#ifndef DEMO_TRAFFIC_H
#define DEMO_TRAFFIC_H

#include <stdint.h>

#include "fc_err.h"

struct demo_traffic;

struct demo_traffic_ports {
	uint16_t tcp;	    /* the server's port */
	uint16_t udp;	    /* the receiver's port */
	uint16_t udp_other; /* traffic no capture of the demo selects */
};

/* Binds the sockets and starts the thread. NULL with err set. */
struct demo_traffic *demo_traffic_start(struct demo_traffic_ports *ports, struct fc_err *err);

/* Stops the thread and closes everything; NULL is a no-op. */
void demo_traffic_stop(struct demo_traffic *t);

#endif
