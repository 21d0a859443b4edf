/*
 * demo.h: what the parts of fleetcap-demo share (demo.c runs it,
 * demo_report.c shows it).
 */
#ifndef DEMO_H
#define DEMO_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli_fleet.h"
#include "demo_traffic.h"
#include "fc_err.h"
#include "fc_spec.h"
#include "sched_config.h"
#include "wk_config.h"

#define DEMO_PREFIX	"fleetcap."
#define DEMO_SUB	"demo"
#define DEMO_REGION	"local"
#define DEMO_HOST	"demo-host"
#define DEMO_PARTITIONS 3
#define DEMO_MANUAL	"web"
#define DEMO_RULE	"udp-loss"
#define DEMO_ALERT_ID	"udp-loss-on-demo-host"
#define DEMO_WATCH_MS	120000

/* Set by SIGINT or SIGTERM: the demo ends early. */
extern volatile sig_atomic_t demo_interrupted;

struct demo_thread {
	pthread_t thread;
	atomic_int stop; /* read by the thread, set by main */
	int started, rc;
	struct fc_err err;
};

struct demo {
	int time_limit, json;
	char dir[1024], captures[1100], state[1100], rules[1100];
	struct demo_traffic_ports ports;
	struct demo_traffic *traffic;
	rd_kafka_t *mock_owner;
	rd_kafka_mock_cluster_t *mock;
	char brokers[256];
	struct sched_config sched_config;
	struct scheduler *scheduler;
	struct demo_thread sched_thread;
	struct wk_config wk_config;
	struct wk_agent *agent;
	struct demo_thread wk_thread;
	char alert_capture[FC_NAME_MAX + 1];
	cli_status_t *final[2]; /* the manual capture's and the alert's */
};

/* Prints what failed and why; returns exit code 1. */
int demo_fail(const char *what, const struct fc_err *err);
/* Follows the status topic until both captures are final, printing each change. */
int demo_follow(struct demo *d);
/* The files of both captures, read back with tcpdump when it is installed. */
int demo_summary(struct demo *d);

#endif
