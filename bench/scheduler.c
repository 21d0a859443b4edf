/*
 * bench/scheduler: fleetcap-scheduler against the plain transactional loop
 * it is built on, on the real broker. The targets (BENCHMARKS.md): at least
 * 0.7x the pass-through throughput, p99 command-to-job latency <= 50 ms at
 * 1,000 commands per second.
 *
 *   fleetcap-bench-scheduler --brokers B [--commands N] [--keys K] [--partitions P]
 *                            [--batch B] [--rate R] [--seconds S]
 *
 * (a) pass-through: sched_loop (the very loop the scheduler runs) with no
 *     logic: every command is decoded and re-encoded as a START job for its
 *     target, in the same transactions;
 * (b) the scheduler: the fleetcap-scheduler binary with its state machine,
 *     ledger and status, quota 10 per key, one registered worker per key.
 * Each is started, warmed up with one command, then fed the same N create
 * commands over K keys in one transaction, so that all of them appear at
 * once; commands per second is N over the time from that commit to the N-th
 * output record (jobs for (a), status answers for (b)) at a read_committed
 * consumer.
 * (c), (d) latency: the pass-through, then the scheduler with a quota no key
 *     reaches, fed R creates a second for S seconds after 2 s of warm-up;
 *     per command, the time from the send to the arrival of its START job at
 *     a read_committed consumer; p50 and p99.
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

/* ---------------------------------------------------- (a) pass-through */

/* The command as a START job for its target: decode, re-encode, no decision. */
static void pass_apply(void *opaque, enum fc_topic t, const rd_kafka_message_t *m, int64_t now)
{
	Fleetcap__V1__Command *cmd = fleetcap__v1__command__unpack(NULL, m->len, m->payload);
	Fleetcap__V1__Job job = FLEETCAP__V1__JOB__INIT;
	uint8_t buf[2048];

	(void)t;
	if (!cmd || !cmd->spec)
		bench_die("pass-through: a command does not parse");
	job.kind = FLEETCAP__V1__JOB_KIND__JOB_KIND_START;
	job.session_id = cmd->request_id;
	job.target = cmd->spec->target;
	job.spec = cmd->spec;
	job.time_ms = now;
	size_t len = fleetcap__v1__job__pack(&job, buf);
	sched_loop_emit(*(struct sched_loop **)opaque, FC_TOPIC_JOBS, -1, job.target, buf, len);
	fleetcap__v1__command__free_unpacked(cmd, NULL);
}

static int pass_assign(void *opaque, const int32_t *p, size_t n, struct fc_err *err)
{
	(void)opaque, (void)p, (void)n, (void)err;
	return 0;
}

static void pass_revoke(void *opaque, const int32_t *p, size_t n)
{
	(void)opaque, (void)p, (void)n;
}

static atomic_int pass_stop;
static struct sched_loop *pass_loop;

static void *pass_main(void *arg)
{
	struct fc_err err;
	(void)arg;
	if (sched_loop_run(pass_loop, &pass_stop, &err) != 0)
		bench_die(err.msg);
	return NULL;
}

static pthread_t pass_thread;

static void start_pass_through(struct bench *b, const char *prefix)
{
	static const enum fc_topic inputs[] = {FC_TOPIC_COMMANDS};
	static char group[96];
	struct fc_err err;

	snprintf(group, sizeof(group), "%sgroup", prefix);
	struct sched_loop_config lc = {.brokers = b->brokers,
				       .topic_prefix = prefix,
				       .group_id = group,
				       .transactional_id = group,
				       .batch_max = b->batch,
				       .batch_ms = 5,
				       .tick_ms = 250,
				       .inputs = inputs,
				       .input_count = 1};
	/* apply emits through the loop, which it finds through this pointer. */
	struct sched_loop_ops ops = {.opaque = &pass_loop,
				     .on_assign = pass_assign,
				     .on_revoke = pass_revoke,
				     .apply = pass_apply};
	if (!(pass_loop = sched_loop_new(&lc, &ops, &err)))
		bench_die(err.msg);
	pass_stop = 0;
	pthread_create(&pass_thread, NULL, pass_main, NULL);
}

static void stop_pass_through(void)
{
	pass_stop = 1;
	pthread_join(pass_thread, NULL);
	sched_loop_destroy(pass_loop);
}

static double run_pass_through(struct bench *b)
{
	char prefix[64];

	bench_prefix_for(prefix, sizeof(prefix), "pass");
	bench_setup_topics(b, prefix);
	rd_kafka_flush(b->producer, 60000);
	rd_kafka_t *out = bench_output_reader(b, prefix, FC_TOPIC_JOBS);
	start_pass_through(b, prefix);
	double rate = bench_drain_rate(b, prefix, out, 0);
	stop_pass_through();
	rd_kafka_destroy(out);
	return rate;
}

/* ------------------------------------------------------ (b) scheduler */

static pid_t start_scheduler(struct bench *b, const char *prefix, const char *quota)
{
	char brokers[300], pre[96], q[64], batch[48];
	pid_t pid;

	snprintf(brokers, sizeof(brokers), "brokers=%s", b->brokers);
	snprintf(pre, sizeof(pre), "topics.prefix=%s", prefix);
	snprintf(q, sizeof(q), "quota.default=%s", quota);
	snprintf(batch, sizeof(batch), "batch.max=%ld", b->batch);
	if ((pid = fork()) == 0) {
		/* No worker answers in the bench: a long lease keeps admitted
		 * sessions from expiring (and answering twice) during the run. */
		char *argv[] = {(char *)FLEETCAP_SCHEDULER_BIN, "-X", brokers, "-X", pre, "-X", q,
				"-X", "instance.id=bench", "-X", "log.level=warn", "-X",
				"lease.grace.s=3600", "-X", batch, "-X",
				/* One more setting to try, e.g. BENCH_SCHED_X=kafka.linger.ms=5. */
				getenv("BENCH_SCHED_X") ? getenv("BENCH_SCHED_X") : "batch.ms=5",
				NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop_scheduler(pid_t pid)
{
	int status;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

static double run_scheduler(struct bench *b)
{
	char prefix[64];

	bench_prefix_for(prefix, sizeof(prefix), "sched");
	bench_setup_topics(b, prefix);
	rd_kafka_flush(b->producer, 60000);
	rd_kafka_t *out = bench_output_reader(b, prefix, FC_TOPIC_STATUS);
	pid_t pid = start_scheduler(b, prefix, "10");
	double rate = bench_drain_rate(b, prefix, out, 1);
	stop_scheduler(pid);
	rd_kafka_destroy(out);
	return rate;
}

/* -------------------------------------------------------- (c) latency */

struct latency {
	struct bench *b;
	const char *prefix;
	int64_t *sent_us;      /* per command, CLOCK_MONOTONIC */
	int64_t *sent_wall_ms; /* per command, the wall clock the scheduler also uses */
	double *ms;
	double *to_apply_ms;   /* send → the scheduler applies it (the job's time_ms) */
	double *to_visible_ms; /* applied → the job reaches a read_committed reader */
	long received;
	long total;
	long warm;	  /* the first commands, sent at the rate but not counted */
	atomic_int ready; /* the reader reached the end of every partition */
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *receive_jobs(void *arg)
{
	struct latency *l = arg;
	rd_kafka_t *rk = bench_output_reader(l->b, l->prefix, FC_TOPIC_JOBS);
	int64_t deadline = fc_mono_ms() + (l->b->seconds + 120) * 1000;
	int eofs = 0;

	while (l->received < l->total - l->warm && fc_mono_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		int64_t now = mono_us();
		/* Sending starts once the reader is fetching from every partition,
		 * so that its start-up is not counted as latency. */
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && ++eofs >= l->b->partitions)
			l->ready = 1;
		Fleetcap__V1__Job *job =
			!m->err && m->len ? fleetcap__v1__job__unpack(NULL, m->len, m->payload)
					  : NULL;
		rd_kafka_message_destroy(m);
		if (!job)
			continue;
		long i = job->spec ? atol(job->spec->name + 1) : -1;
		if (i >= l->warm && i < l->total && l->sent_us[i]) {
			l->to_apply_ms[l->received] = (double)(job->time_ms - l->sent_wall_ms[i]);
			l->to_visible_ms[l->received] = (double)(fc_wall_ms() - job->time_ms);
			l->ms[l->received++] = (double)(now - l->sent_us[i]) / 1000.0;
		}
		fleetcap__v1__job__free_unpacked(job, NULL);
	}
	rd_kafka_destroy(rk);
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void run_latency(struct bench *b, int pass_through, double *p50, double *p99, long *count)
{
	char prefix[64];
	pthread_t thread;
	/* Two seconds at the rate first: the clients' start-up (connections,
	 * the first transactions) is not the steady state being measured. */
	bench_prefix_for(prefix, sizeof(prefix), pass_through ? "latency-pass" : "latency");
	struct latency l = {
		.b = b, .prefix = prefix, .warm = 2 * b->rate, .total = b->rate * (b->seconds + 2)};

	bench_setup_topics(b, prefix);
	rd_kafka_flush(b->producer, 60000);
	l.sent_us = calloc((size_t)l.total, sizeof(*l.sent_us));
	l.ms = calloc((size_t)l.total, sizeof(*l.ms));
	l.sent_wall_ms = calloc((size_t)l.total, sizeof(*l.sent_wall_ms));
	l.to_apply_ms = calloc((size_t)l.total, sizeof(*l.to_apply_ms));
	l.to_visible_ms = calloc((size_t)l.total, sizeof(*l.to_visible_ms));
	pid_t pid = 0;
	if (pass_through) {
		start_pass_through(b, prefix);
	} else {
		pid = start_scheduler(b, prefix, "100000");
		/* The scheduler has joined and answers. */
		rd_kafka_t *status = bench_output_reader(b, prefix, FC_TOPIC_STATUS);
		bench_send_create_with(b->producer, b, prefix, l.total + 1, "warm");
		rd_kafka_flush(b->producer, 10000);
		bench_wait_outputs(status, 1, 1, "warm");
		rd_kafka_destroy(status);
	}
	pthread_create(&thread, NULL, receive_jobs, &l);
	while (!l.ready) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	int64_t start = mono_us(), gap = 1000000 / b->rate;
	for (long i = 0; i < l.total; i++) {
		int64_t due = start + i * gap, now = mono_us();
		if (due > now) {
			struct timespec ts = {0, (long)(due - now) * 1000};
			nanosleep(&ts, NULL);
		}
		l.sent_us[i] = mono_us();
		l.sent_wall_ms[i] = fc_wall_ms();
		bench_send_create(b, prefix, i); /* goes out after linger.ms (1 ms) */
	}
	rd_kafka_flush(b->producer, 10000);
	double sent_for = (double)(mono_us() - start) / 1e6;
	printf("    sent %ld commands in %.1f s (%.0f/s)\n", l.total, sent_for,
	       (double)l.total / sent_for);
	pthread_join(thread, NULL);
	if (pass_through)
		stop_pass_through();
	else
		stop_scheduler(pid);
	qsort(l.ms, (size_t)l.received, sizeof(double), by_value);
	*count = l.received;
	*p50 = l.received ? l.ms[l.received / 2] : -1;
	*p99 = l.received ? l.ms[(long)(l.received * 0.99)] : -1;
	qsort(l.to_apply_ms, (size_t)l.received, sizeof(double), by_value);
	if (l.received)
		printf("    of which send -> applied by the scheduler: p50 %.0f ms, p99 %.0f ms\n",
		       l.to_apply_ms[l.received / 2], l.to_apply_ms[(long)(l.received * 0.99)]);
	qsort(l.to_visible_ms, (size_t)l.received, sizeof(double), by_value);
	if (l.received)
		printf("    of which applied -> job visible to a reader: p50 %.0f ms, p99 %.0f "
		       "ms\n",
		       l.to_visible_ms[l.received / 2], l.to_visible_ms[(long)(l.received * 0.99)]);
	free(l.sent_wall_ms);
	free(l.to_apply_ms);
	free(l.to_visible_ms);
	free(l.sent_us);
	free(l.ms);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"commands", required_argument, NULL, 'n'},
		{"keys", required_argument, NULL, 'k'},
		{"rate", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 's'},
		{"partitions", required_argument, NULL, 'p'},
		{"batch", required_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	struct bench b = {.brokers = getenv("FLEETCAP_BROKERS"),
			  .commands = 50000,
			  .keys = 1000,
			  .rate = 1000,
			  .seconds = 30,
			  .partitions = 12,
			  .batch = 1000};
	struct fc_err err;
	char errstr[512];
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			b.brokers = optarg;
			break;
		case 'n':
			b.commands = atol(optarg);
			break;
		case 'k':
			b.keys = atol(optarg);
			break;
		case 'r':
			b.rate = atol(optarg);
			break;
		case 's':
			b.seconds = atol(optarg);
			break;
		case 'p':
			b.partitions = atol(optarg);
			break;
		case 'B':
			b.batch = atol(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!b.brokers || b.commands < 2 || b.keys < 1 || b.rate < 1 || b.seconds < 1 ||
	    b.partitions < 1 || b.partitions > 1000 || b.batch < 1)
		bench_die("usage: fleetcap-bench-scheduler --brokers B [--commands N] [--keys K] "
			  "[--rate R] [--seconds S] [--partitions P] [--batch B]");
	fc_log_set_level(FC_LOG_WARN);
	rd_kafka_conf_t *conf = fc_kafka_conf_new(b.brokers, NULL, &err);
	if (!conf || fc_kafka_conf_set(conf, "linger.ms", "1", &err) ||
	    fc_kafka_conf_set(conf, "enable.idempotence", "true", &err))
		bench_die(err.msg);
	if (!(b.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		bench_die(errstr);
	char feeder_id[64];
	snprintf(feeder_id, sizeof(feeder_id), "bench-feeder-%ld", (long)getpid());
	conf = fc_kafka_conf_new(b.brokers, NULL, &err);
	if (!conf || fc_kafka_conf_set(conf, "transactional.id", feeder_id, &err))
		bench_die(err.msg);
	if (!(b.feeder = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		bench_die(errstr);
	rd_kafka_error_t *error = rd_kafka_init_transactions(b.feeder, 60000);
	if (error)
		bench_die(rd_kafka_error_string(error));

	printf("%ld create commands over %ld keys, %ld partitions per topic, batches of up to "
	       "%ld\n",
	       b.commands, b.keys, b.partitions, b.batch);
	double pass = run_pass_through(&b);
	printf("(a) pass-through loop: %.0f commands/s\n", pass);
	fflush(stdout);
	double sched = run_scheduler(&b);
	printf("(b) fleetcap-scheduler: %.0f commands/s\n", sched);
	printf("ratio (b)/(a): %.2f (target >= 0.7)\n", sched / pass);
	fflush(stdout);
	double p50, p99;
	long count;
	run_latency(&b, 1, &p50, &p99, &count);
	printf("(c) pass-through loop, command-to-job latency at %ld commands/s for %ld s: %ld "
	       "jobs, p50 %.1f ms, p99 %.1f ms\n",
	       b.rate, b.seconds, count, p50, p99);
	fflush(stdout);
	run_latency(&b, 0, &p50, &p99, &count);
	printf("(d) fleetcap-scheduler, command-to-job latency at %ld commands/s for %ld s: %ld "
	       "jobs, p50 %.1f ms, p99 %.1f ms (target p99 <= 50 ms)\n",
	       b.rate, b.seconds, count, p50, p99);
	rd_kafka_destroy(b.producer);
	rd_kafka_destroy(b.feeder);
	return 0;
}
