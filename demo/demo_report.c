/*
 * report: what fleetcap-demo shows: every state change and the live
 * counters of both captures as the status topic tells them, then the files,
 * read back with tcpdump when it is installed.
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

/* ------------------------------------------------------------- follow */

static uint64_t packets_of(const cli_status_t *s)
{
	return s->counters ? s->counters->packets : 0;
}

static int same_progress(const cli_status_t *a, const cli_status_t *b)
{
	const Fleetcap__V1__Counters none = FLEETCAP__V1__COUNTERS__INIT;
	const Fleetcap__V1__Counters *ca, *cb;

	if (!a || !b)
		return 0;
	ca = a->counters ? a->counters : &none;
	cb = b->counters ? b->counters : &none;
	return a->state == b->state && a->stop_reason == b->stop_reason &&
	       ca->packets == cb->packets && ca->bytes == cb->bytes &&
	       ca->kernel_drops == cb->kernel_drops && a->n_files == b->n_files;
}

/* Prints every change of the demo's captures until both are final. */
int demo_follow(struct demo *d)
{
	struct fc_err err;
	char topic[FC_TOPIC_NAME_MAX + 1];
	const char *names[2] = {DEMO_MANUAL, d->alert_capture};
	cli_status_t *last[2] = {NULL, NULL};
	rd_kafka_t *reader = fc_kafka_reader_new(d->brokers, NULL, &err);
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(DEMO_PARTITIONS);
	int64_t deadline = fc_mono_ms() + DEMO_WATCH_MS;
	int rc = CLI_EXIT_TIMEOUT;

	if (!reader) {
		rd_kafka_topic_partition_list_destroy(parts);
		return demo_fail("status reader", &err);
	}
	if (!d->json)
		printf("\nFollowing the status topic (live counters from the worker's progress "
		       "reports):\n");
	fc_topic_name(DEMO_PREFIX, FC_TOPIC_STATUS, topic, sizeof(topic));
	for (int32_t p = 0; p < DEMO_PARTITIONS; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(reader, parts);
	rd_kafka_topic_partition_list_destroy(parts);

	while (!demo_interrupted && fc_mono_ms() < deadline) {
		if (d->final[0] && d->final[1]) {
			rc = CLI_EXIT_OK;
			break;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, 200);
		if (!m)
			continue;
		cli_status_t *s =
			m->err || !m->payload
				? NULL
				: fleetcap__v1__capture_status__unpack(NULL, m->len, m->payload);
		rd_kafka_message_destroy(m);
		if (!s)
			continue;
		for (int i = 0; i < 2; i++) {
			/* Once final, a capture's status is kept as it is (the
			 * summary's); anything later about it is dropped. */
			if (!s->name || strcmp(s->name, names[i]) != 0 || d->final[i] ||
			    same_progress(last[i], s))
				continue;
			if (!d->json) {
				char stamp[32];
				int64_t ms = fc_wall_ms();
				time_t secs = (time_t)(ms / 1000);
				struct tm tm;
				strftime(stamp, sizeof(stamp), "%H:%M:%S", gmtime_r(&secs, &tm));
				printf("  %s.%03d  ", stamp, (int)(ms % 1000));
				cli_status_print_line(s, stdout);
				fflush(stdout);
			}
			if (last[i])
				fleetcap__v1__capture_status__free_unpacked(last[i], NULL);
			last[i] = s;
			if (cli_status_final(s))
				d->final[i] = s;
			s = NULL;
			break;
		}
		if (s)
			fleetcap__v1__capture_status__free_unpacked(s, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (last[i] && last[i] != d->final[i])
			fleetcap__v1__capture_status__free_unpacked(last[i], NULL);
	rd_kafka_destroy(reader);
	if (rc == CLI_EXIT_TIMEOUT)
		fprintf(stderr, "fleetcap demo: %s before both captures ended\n",
			demo_interrupted ? "interrupted" : "gave up waiting");
	return rc;
}

/* ------------------------------------------------------------ summary */

/* Shows the first lines tcpdump reads from path, when tcpdump is here. */
static void show_tcpdump(const char *path)
{
	int fds[2];
	pid_t pid;
	char line[512];
	int lines = 0, shown = 0;

	if (pipe(fds) != 0)
		return;
	if ((pid = fork()) == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("tcpdump", "tcpdump", "-qnr", path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *in = pid > 0 ? fdopen(fds[0], "r") : NULL;
	if (!in) {
		close(fds[0]);
		return;
	}
	while (fgets(line, sizeof(line), in)) {
		if (strncmp(line, "reading from", 12) == 0)
			continue;
		if (shown < 3) {
			printf("      %s", line);
			shown++;
		}
		lines++;
	}
	fclose(in);
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		printf("      (tcpdump is not installed)\n");
	else
		printf("      … %d packets read by tcpdump -qnr %s\n", lines, path);
}

int demo_summary(struct demo *d)
{
	int ok = 1;

	for (int i = 0; i < 2; i++) {
		const cli_status_t *s = d->final[i];
		ok &= s && s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED &&
		      s->n_files > 0 && packets_of(s) > 0;
	}
	if (d->json) {
		json_t *out = json_pack("{s:s, s:s, s:b, s:{s:i, s:i, s:i}, s:[o,o]}", "dir",
					d->dir, "brokers", d->brokers, "ok", ok, "traffic",
					"tcpPort", d->ports.tcp, "udpPort", d->ports.udp,
					"udpOtherPort", d->ports.udp_other, "captures",
					cli_status_json(d->final[0]), cli_status_json(d->final[1]));
		json_dumpf(out, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(out);
		return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	}
	printf("\nSummary (everything is under %s):\n", d->dir);
	for (int i = 0; i < 2; i++) {
		const cli_status_t *s = d->final[i];
		printf("  ");
		cli_status_print_line(s, stdout);
		for (size_t f = 0; f < s->n_files; f++)
			show_tcpdump(s->files[f]->local_path);
		if (s->state != FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED &&
		    s->error_message && strstr(s->error_message, "ermission"))
			printf("  (capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN)\n");
	}
	printf("\n%s\n", ok ? "Both captures ran to their time limit and wrote their files."
			    : "fleetcap demo: a capture did not end as expected (see above).");
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
