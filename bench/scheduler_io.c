/*
 * scheduler_io: the benchmark's two ends on the broker: its topics, the
 * create commands fed to a contender (in one transaction, or one by one at a
 * rate), and the reading of what comes out (jobs, status answers).
 */
#include <stdatomic.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fc_kafka.h"
#include "fc_log.h"
#include "fleetcap.pb-c.h"
#include "sched_loop.h"
#include "scheduler_bench.h"

void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

void bench_prefix_for(char *out, size_t len, const char *what)
{
	snprintf(out, len, "bench-%s-%ld-%ld.", what, (long)getpid(), (long)time(NULL) % 100000);
}

void bench_topic(const char *prefix, enum fc_topic t, char *out)
{
	fc_topic_name(prefix, t, out, FC_TOPIC_NAME_MAX + 1);
}

static void produce_with(rd_kafka_t *rk, const char *prefix, enum fc_topic t, const char *key,
			 const ProtobufCMessage *msg)
{
	char name[FC_TOPIC_NAME_MAX + 1];
	uint8_t buf[1024];
	size_t len = protobuf_c_message_pack(msg, buf);
	rd_kafka_resp_err_t e;

	bench_topic(prefix, t, name);
	while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(name), RD_KAFKA_V_KEY(key, strlen(key)),
				      RD_KAFKA_V_VALUE(buf, len),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(rk, 10);
	if (e)
		bench_die(rd_kafka_err2str(e));
	rd_kafka_poll(rk, 0);
}

static void produce(struct bench *b, const char *prefix, enum fc_topic t, const char *key,
		    const ProtobufCMessage *msg)
{
	produce_with(b->producer, prefix, t, key, msg);
}

void bench_setup_topics(struct bench *b, const char *prefix)
{
	struct fc_err err;

	if (fc_topics_create(b->producer, prefix, (int)b->partitions, 1, 30000, &err) != 0)
		bench_die(err.msg);
	for (long k = 0; k < b->keys; k++) {
		Fleetcap__V1__WorkerHeartbeat hb = FLEETCAP__V1__WORKER_HEARTBEAT__INIT;
		char host[32], region[24];
		snprintf(host, sizeof(host), "host-%04ld", k);
		snprintf(region, sizeof(region), "r%04ld", k);
		hb.host_id = host;
		hb.subscription = (char *)"bench";
		hb.region = region;
		hb.time_ms = fc_wall_ms() + 3600 * 1000; /* fresh for the whole run */
		hb.interval_s = 10;
		produce(b, prefix, FC_TOPIC_WORKERS, host, &hb.base);
	}
}

/* Command i: a create of "c<i>" in key i % keys, for that key's host. */
void bench_send_create_with(rd_kafka_t *rk, struct bench *b, const char *prefix, long i,
			    const char *request)
{
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;
	Fleetcap__V1__CaptureSpec spec = FLEETCAP__V1__CAPTURE_SPEC__INIT;
	char name[32], host[32], region[24], key[40], req[32], path[48];
	long k = i % b->keys;

	snprintf(name, sizeof(name), "c%07ld", i);
	snprintf(host, sizeof(host), "host-%04ld", k);
	snprintf(region, sizeof(region), "r%04ld", k);
	snprintf(key, sizeof(key), "bench/%s", region);
	snprintf(req, sizeof(req), "%s-%07ld", request, i);
	snprintf(path, sizeof(path), "caps/%s.pcap", name);
	spec.name = name;
	spec.subscription = (char *)"bench";
	spec.region = region;
	spec.target = host;
	spec.time_limit_s = 300;
	spec.bytes_per_packet = 96;
	spec.file_path = path;
	cmd.kind = FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE;
	cmd.request_id = req;
	cmd.time_ms = fc_wall_ms();
	cmd.spec = &spec;
	produce_with(rk, prefix, FC_TOPIC_COMMANDS, key, &cmd.base);
}

void bench_send_create(struct bench *b, const char *prefix, long i)
{
	bench_send_create_with(b->producer, b, prefix, i, "req");
}

/* All N commands in one transaction: they appear to the loop at once, at the
 * returned time, so the measure is the loop's drain time and nothing else. */
static int64_t feed(struct bench *b, const char *prefix)
{
	rd_kafka_error_t *error = rd_kafka_begin_transaction(b->feeder);

	if (error)
		bench_die(rd_kafka_error_string(error));
	for (long i = 0; i < b->commands; i++)
		bench_send_create_with(b->feeder, b, prefix, i, "req");
	if ((error = rd_kafka_commit_transaction(b->feeder, -1)))
		bench_die(rd_kafka_error_string(error));
	return fc_mono_ms();
}

/* ------------------------------------------------------- output side */

/* A read_committed consumer of every partition of prefix's topic t. */
rd_kafka_t *bench_output_reader(struct bench *b, const char *prefix, enum fc_topic t)
{
	struct fc_err err;
	char name[FC_TOPIC_NAME_MAX + 1];
	/* A reader that wants records as they come, as a latency-minded
	 * downstream consumer would be configured. */
	struct fc_kv prompt = {(char *)"fetch.wait.max.ms", (char *)"10"};
	struct fc_kv_list props = {1, &prompt};
	rd_kafka_t *rk = fc_kafka_reader_new(b->brokers, &props, &err);

	if (!rk)
		bench_die(err.msg);
	bench_topic(prefix, t, name);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)b->partitions);
	for (int p = 0; p < b->partitions; p++)
		rd_kafka_topic_partition_list_add(l, name, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	return rk;
}

/* The request id behind an output record: a status's, or a job's session
 * (the pass-through names sessions after requests). "" when not ours. */
static int output_request(const rd_kafka_message_t *m, int status, const char *request)
{
	int match = 0;

	if (m->err || !m->len)
		return 0;
	if (status) {
		Fleetcap__V1__CaptureStatus *s =
			fleetcap__v1__capture_status__unpack(NULL, m->len, m->payload);
		/* The admission answer (Running or Error), once per request. */
		match = s && strncmp(s->request_id, request, strlen(request)) == 0 &&
			s->capture_start_time_ms == 0;
		if (s)
			fleetcap__v1__capture_status__free_unpacked(s, NULL);
	} else {
		Fleetcap__V1__Job *j = fleetcap__v1__job__unpack(NULL, m->len, m->payload);
		match = j && strncmp(j->session_id, request, strlen(request)) == 0;
		if (j)
			fleetcap__v1__job__free_unpacked(j, NULL);
	}
	return match;
}

/* Reads outputs until n of request's; returns the time of the n-th (mono ms). */
int64_t bench_wait_outputs(rd_kafka_t *rk, long n, int status, const char *request)
{
	int64_t deadline = fc_mono_ms() + 600000;
	long seen = 0;

	while (seen < n && fc_mono_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m)
			continue;
		seen += output_request(m, status, request);
		rd_kafka_message_destroy(m);
	}
	if (seen < n)
		bench_die("the output did not arrive within 10 minutes");
	return fc_mono_ms();
}

/* Warms the loop up with one command, feeds N at once, returns commands/s. */
double bench_drain_rate(struct bench *b, const char *prefix, rd_kafka_t *out, int status)
{
	bench_send_create_with(b->producer, b, prefix, b->commands + 1, "warm");
	rd_kafka_flush(b->producer, 10000);
	bench_wait_outputs(out, 1, status, "warm");
	int64_t start = feed(b, prefix);
	int64_t end = bench_wait_outputs(out, b->commands, status, "req");
	return (double)b->commands * 1000.0 / (double)(end - start ? end - start : 1);
}
