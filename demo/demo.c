/*
 * fleetcap-demo, run as `fleetcap demo` (docs/ARCHITECTURE.md §7): the whole
 * system in this one process,
 * with no external service: Kafka is the librdkafka mock cluster, then the
 * scheduler (scheduler.c) and a worker on the loopback interface
 * (wk_agent.c) each run in a thread, writing with the disk sink under a
 * fresh directory, while demo_traffic.c makes TCP and UDP on 127.0.0.1.
 *
 * It then does what an operator and a monitoring system would: runs
 * `fleetcap create` and `fleetcap alert` (the very same command functions,
 * in-process), follows the status topic printing every state change and the
 * live counters, and ends with a summary of the files, read back with
 * tcpdump when it is installed. The quota is 1, so the alert's capture
 * waits in the queue while the manual one runs.
 *
 * The mock cluster has no read_committed, fencing or compaction: the demo
 * shows the flow, the tests on a real broker back the guarantees.
 */
#include <stdatomic.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli.h"
#include "cli_fleet.h"
#include "demo_traffic.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_names.h"
#include "fc_parse.h"
#include "sched_alerts.h"
#include "sched_config.h"
#include "scheduler.h"
#include "wk_agent.h"
#include "wk_config.h"

#include "demo.h"

volatile sig_atomic_t demo_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	demo_interrupted = 1;
}

int demo_fail(const char *what, const struct fc_err *err)
{
	fprintf(stderr, "fleetcap demo: %s: %s\n", what, err->msg);
	return CLI_EXIT_FAILURE;
}

/* ------------------------------------------------------------- set-up */

/* A new directory, or an empty one given by --dir: a worker's journal
 * from an earlier run would take the new sessions for ones it already ran. */
static int make_dir(struct demo *d, const char *dir)
{
	if (!dir) {
		const char *tmp = getenv("TMPDIR");
		snprintf(d->dir, sizeof(d->dir), "%s/fleetcap-demo-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(d->dir)) {
			fprintf(stderr, "fleetcap demo: cannot create %s: %s\n", d->dir,
				strerror(errno));
			return CLI_EXIT_FAILURE;
		}
	} else {
		snprintf(d->dir, sizeof(d->dir), "%s", dir);
		if (mkdir(d->dir, 0750) != 0 &&
		    (errno != EEXIST || rmdir(d->dir) != 0 || mkdir(d->dir, 0750) != 0)) {
			fprintf(stderr,
				"fleetcap demo: --dir \"%s\": expected a new or empty directory "
				"(%s)\n",
				dir, strerror(errno));
			return CLI_EXIT_USAGE;
		}
	}
	snprintf(d->captures, sizeof(d->captures), "%s/captures", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->rules, sizeof(d->rules), "%s/alert-rules.json", d->dir);
	if (mkdir(d->captures, 0750) != 0 || mkdir(d->state, 0700) != 0) {
		fprintf(stderr, "fleetcap demo: cannot create %s: %s\n", d->captures,
			strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

/* The scheduler's rules: a Warning or worse on a host captures its UDP. */
static int write_rules(struct demo *d)
{
	char filter[64];

	snprintf(filter, sizeof(filter), "protocol=udp,remote-port=%u", d->ports.udp);
	json_t *rules = json_pack("{s:[{s:s, s:s, s:i, s:{s:i, s:i, s:[s], s:s}}]}", "rules",
				  "name", DEMO_RULE, "minSeverity", "Warning", "cooldownSeconds",
				  600, "capture", "time-limit", d->time_limit, "queue-timeout", 60,
				  "filter", filter, "file-path", "alerts/{name}.pcap");

	if (!rules || json_dump_file(rules, d->rules, JSON_INDENT(2)) != 0) {
		fprintf(stderr, "fleetcap demo: cannot write %s: %s\n", d->rules, strerror(errno));
		json_decref(rules);
		return CLI_EXIT_FAILURE;
	}
	json_decref(rules);
	return 0;
}

/* The in-process Kafka: one mock broker on 127.0.0.1 and fleetcap's topics. */
static int start_kafka(struct demo *d)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], topic[FC_TOPIC_NAME_MAX + 1];

	/* The owner of the mock cluster never connects anywhere; its only
	 * notice would be that it has no bootstrap.servers. */
	rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
	if (!(d->mock_owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "fleetcap demo: Kafka client: %s\n", errstr);
		return CLI_EXIT_FAILURE;
	}
	if (!(d->mock = rd_kafka_mock_cluster_new(d->mock_owner, 1))) {
		fprintf(stderr, "fleetcap demo: cannot start the mock Kafka cluster\n");
		return CLI_EXIT_FAILURE;
	}
	for (int t = 0; t < FC_TOPIC_COUNT; t++) {
		fc_topic_name(DEMO_PREFIX, (enum fc_topic)t, topic, sizeof(topic));
		if (rd_kafka_mock_topic_create(d->mock, topic, DEMO_PARTITIONS, 1)) {
			fprintf(stderr, "fleetcap demo: cannot create topic %s\n", topic);
			return CLI_EXIT_FAILURE;
		}
	}
	snprintf(d->brokers, sizeof(d->brokers), "%s", rd_kafka_mock_cluster_bootstraps(d->mock));
	return 0;
}

static int configure(struct demo *d, struct fc_err *err)
{
	char seal_key[1200];
	snprintf(seal_key, sizeof(seal_key), "%s/scheduler-seal.key", d->state);
	const char *sched[] = {"seal.key",
			       seal_key,
			       "brokers",
			       d->brokers,
			       "instance.id",
			       "demo",
			       "topics.prefix",
			       DEMO_PREFIX,
			       "quota.default",
			       "1",
			       "alerts.rules",
			       d->rules,
			       "lease.grace.s",
			       "30",
			       "tick.ms",
			       "100",
			       NULL};
	const char *worker[] = {"brokers",	d->brokers,    "topics.prefix",
				DEMO_PREFIX,	"host.id",     DEMO_HOST,
				"subscription", DEMO_SUB,      "region",
				DEMO_REGION,	"interfaces",  "lo",
				"capture.root", d->captures,   "state.dir",
				d->state,	"heartbeat.s", "2",
				"progress.s",	"1",	       NULL};

	return fc_config_from_pairs(sched_config_defs, &d->sched_config, sched, "demo", err) != 0 ||
			       fc_config_from_pairs(wk_config_defs, &d->wk_config, worker, "demo",
						    err) != 0
		       ? -1
		       : 0;
}

static void *run_scheduler(void *opaque)
{
	struct demo *d = opaque;

	d->sched_thread.rc =
		scheduler_run(d->scheduler, &d->sched_thread.stop, &d->sched_thread.err);
	return NULL;
}

static void *run_worker(void *opaque)
{
	struct demo *d = opaque;

	d->wk_thread.rc = wk_agent_run(d->agent, &d->wk_thread.stop, &d->wk_thread.err);
	return NULL;
}

static int start_thread(struct demo_thread *t, void *(*fn)(void *), struct demo *d)
{
	fc_err_clear(&t->err);
	t->started = pthread_create(&t->thread, NULL, fn, d) == 0;
	return t->started ? 0 : -1;
}

static void stop_thread(struct demo_thread *t)
{
	if (!t->started)
		return;
	t->stop = 1;
	pthread_join(t->thread, NULL);
	t->started = 0;
}

/* ---------------------------------------------------- the two requests */

/* Runs one fleetcap command in-process, showing it as a user would type it. */
static int run_command(struct demo *d, int (*fn)(int, char **), char **argv)
{
	char *args[40];
	int n = 0;

	if (!d->json) {
		printf("\n$ fleetcap");
		for (int i = 0; argv[i]; i++)
			printf(strpbrk(argv[i], ",; ") ? " '%s'" : " %s", argv[i]);
		printf("\n");
		fflush(stdout);
	}
	for (; argv[n] && n < 34; n++)
		args[n] = argv[n];
	args[n++] = "--brokers";
	args[n++] = d->brokers;
	args[n++] = "--prefix";
	args[n++] = DEMO_PREFIX;
	args[n] = NULL;
	optind = 0; /* getopt starts afresh for each command */
	if (d->json) {
		/* stdout is the JSON summary's alone. */
		int saved = dup(STDOUT_FILENO);
		fflush(stdout);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		int rc = fn(n, args);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		return rc;
	}
	return fn(n, args);
}

static int send_requests(struct demo *d)
{
	char filter[96], time_limit[16], udp_filter[96];
	int rc;

	snprintf(filter, sizeof(filter), "protocol=tcp,remote-ip=127.0.0.1,remote-port=%u",
		 d->ports.tcp);
	snprintf(time_limit, sizeof(time_limit), "%d", d->time_limit);
	char *create[] = {"create",
			  DEMO_MANUAL,
			  "-s",
			  DEMO_SUB,
			  "-r",
			  DEMO_REGION,
			  "-t",
			  DEMO_HOST,
			  "--filter",
			  filter,
			  "--bytes-per-packet",
			  "96",
			  "--time-limit",
			  time_limit,
			  "--file-path",
			  "web.pcap",
			  "--wait",
			  NULL};
	if ((rc = run_command(d, cli_create, create)) != 0)
		return rc;

	snprintf(udp_filter, sizeof(udp_filter), "UDP to port %u", d->ports.udp);
	char *alert[] = {"alert",	"-s",
			 DEMO_SUB,	"-r",
			 DEMO_REGION,	"-t",
			 DEMO_HOST,	"--rule",
			 DEMO_RULE,	"--id",
			 DEMO_ALERT_ID, "--severity",
			 "Critical",	"--description",
			 udp_filter,	NULL};
	sched_alert_capture_name(DEMO_ALERT_ID, d->alert_capture, sizeof(d->alert_capture));
	return run_command(d, cli_alert, alert);
}

/* --------------------------------------------------------------- main */

static void teardown(struct demo *d)
{
	demo_traffic_stop(d->traffic);
	stop_thread(&d->wk_thread); /* first: the final reports need Kafka */
	stop_thread(&d->sched_thread);
	wk_agent_destroy(d->agent);
	scheduler_destroy(d->scheduler);
	if (d->mock)
		rd_kafka_mock_cluster_destroy(d->mock);
	if (d->mock_owner)
		rd_kafka_destroy(d->mock_owner);
	for (int i = 0; i < 2; i++)
		if (d->final[i])
			fleetcap__v1__capture_status__free_unpacked(d->final[i], NULL);
	fc_config_free(sched_config_defs, &d->sched_config);
	fc_config_free(wk_config_defs, &d->wk_config);
}

static int start(struct demo *d)
{
	struct fc_err err;
	int rc;

	fc_err_clear(&err);
	if (!(d->traffic = demo_traffic_start(&d->ports, &err)))
		return demo_fail("traffic", &err);
	if ((rc = write_rules(d)) != 0 || (rc = start_kafka(d)) != 0)
		return rc;
	if (configure(d, &err) != 0)
		return demo_fail("configuration", &err);
	if (!(d->scheduler = scheduler_new(&d->sched_config, &err)))
		return demo_fail("scheduler", &err);
	if (!(d->agent = wk_agent_new(&d->wk_config, &err)))
		return demo_fail("worker", &err);
	if (start_thread(&d->sched_thread, run_scheduler, d) != 0 ||
	    start_thread(&d->wk_thread, run_worker, d) != 0) {
		fprintf(stderr, "fleetcap demo: cannot start a thread\n");
		return CLI_EXIT_FAILURE;
	}
	for (int64_t until = fc_mono_ms() + 30000; !wk_agent_ready(d->agent);) {
		if (fc_mono_ms() > until || !d->wk_thread.started || demo_interrupted) {
			fprintf(stderr, "fleetcap demo: the worker did not register\n");
			return CLI_EXIT_FAILURE;
		}
		usleep(20000);
	}
	if (!d->json)
		printf("fleetcap demo: Kafka (librdkafka mock cluster at %s), a scheduler (quota 1 "
		       "per subscription and region)\nand a worker (host %s, interface lo) run in "
		       "this process; files go under %s.\nTraffic on 127.0.0.1: TCP to port %u, "
		       "UDP to ports %u and %u.\n",
		       d->brokers, DEMO_HOST, d->captures, d->ports.tcp, d->ports.udp,
		       d->ports.udp_other);
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{"dir", required_argument, NULL, 'd'}, {"time-limit", required_argument, NULL, 'T'},
		{"verbose", no_argument, NULL, 'v'},   {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
	};
	struct demo d = {.time_limit = 5};
	const char *dir = NULL;
	long long v;
	int c, rc, verbose = 0;

	while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'T':
			if (fc_parse_ll(optarg, 1, 60, &v) != FC_PARSE_OK) {
				fprintf(stderr,
					"fleetcap demo: --time-limit \"%.32s\": expected seconds "
					"from 1 to 60\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			d.time_limit = (int)v;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'j':
			d.json = 1;
			break;
		case 'h':
			printf("usage: fleetcap demo [--dir DIR] [--time-limit S] [--verbose] "
			       "[--json]\n\n"
			       "Runs the whole system in this process (Kafka mock cluster, "
			       "scheduler, worker on lo)\n"
			       "with generated traffic: one manual capture and one alert-triggered "
			       "capture of S\n"
			       "seconds each (default 5). Files go under DIR (new or empty; "
			       "default "
			       "a new\n"
			       "directory in $TMPDIR or /tmp). Capturing needs root or "
			       "CAP_NET_RAW and CAP_NET_ADMIN.\n"
			       "Exit codes: 0 when both captures wrote their files, 1 "
			       "otherwise.\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "fleetcap demo: argument \"%.80s\": expected options only\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	fc_log_set_level(verbose ? FC_LOG_INFO : FC_LOG_WARN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((rc = make_dir(&d, dir)) != 0)
		return rc;
	if ((rc = start(&d)) == 0 && (rc = send_requests(&d)) == 0 && (rc = demo_follow(&d)) == 0)
		rc = demo_summary(&d);
	teardown(&d);
	return rc == CLI_EXIT_TIMEOUT ? CLI_EXIT_FAILURE : rc;
}

/* argv is `fleetcap demo`'s: argv[0] names the command, options follow. */
int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = run(argc, argv);
	curl_global_cleanup();
	return rc;
}
