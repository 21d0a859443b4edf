/*
 * scheduler_bench.h: what the parts of fleetcap-bench-scheduler share
 * (scheduler.c runs the contenders and measures, scheduler_io.c feeds their
 * input topics and reads their outputs).
 */
#ifndef SCHEDULER_BENCH_H
#define SCHEDULER_BENCH_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "fc_kafka.h"

struct bench {
	const char *brokers;
	long commands, keys, rate, seconds, partitions, batch;
	rd_kafka_t *producer;
	rd_kafka_t *feeder; /* transactional: a whole input appears at once */
};

void bench_die(const char *what);
double bench_drain_rate(struct bench *b, const char *prefix, rd_kafka_t *out, int status);
rd_kafka_t *bench_output_reader(struct bench *b, const char *prefix, enum fc_topic t);
void bench_prefix_for(char *out, size_t len, const char *what);
void bench_send_create(struct bench *b, const char *prefix, long i);
void bench_send_create_with(rd_kafka_t *rk, struct bench *b, const char *prefix, long i,
			    const char *request);
void bench_setup_topics(struct bench *b, const char *prefix);
void bench_topic(const char *prefix, enum fc_topic t, char *out);
int64_t bench_wait_outputs(rd_kafka_t *rk, long n, int status, const char *request);

#endif
