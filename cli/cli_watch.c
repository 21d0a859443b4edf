/*
 * fleetcap watch: follows the status changes of a subscription (and region)
 * as the scheduler commits them (read_committed, every partition of the
 * `status` topic, from its end or with --from-beginning from its start),
 * one line per change, or one JSON object per line with --json (show
 * --json's object, with "deleted": true when the capture was removed, or
 * {"key", "deleted": true} when only its removal is seen), for scripts
 * (`| jq`). Says on stderr when it is following; ends with 0 on SIGINT or
 * SIGTERM, 1 when Kafka fails.
 */
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_scope.h"
#include "fc_names.h"
#include "fc_spec.h"

static atomic_int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcap watch -s SUBSCRIPTION [-r REGION] [--json] [--from-beginning]\n"
		"       [--brokers B] [--prefix P] [--config FILE]\n"
		"Prints each status change as it is committed, until SIGINT.\n");
}

/*
 * Keys whose tombstone says nothing new: a capture whose last status was
 * already marked deleted, and a refused create (its Error status has no
 * session). The status and its tombstone come in one transaction, so the
 * newest few suffice.
 */
#define QUIET_KEYS 256
struct quiet {
	char keys[QUIET_KEYS][512]; /* as the keys read */
	unsigned next;
};

static int take_quiet(struct quiet *q, const char *key)
{
	for (unsigned i = 0; i < QUIET_KEYS; i++)
		if (strcmp(q->keys[i], key) == 0) {
			q->keys[i][0] = '\0';
			return 1;
		}
	return 0;
}

/* Prints one change of key: its new status, or (s NULL) its removal. */
static void print_change(const struct cli_scope_args *a, struct quiet *q, const char *key,
			 const cli_status_t *s)
{
	if (!s && take_quiet(q, key))
		return;
	if (s && (s->deleted || !*s->session_id))
		snprintf(q->keys[q->next++ % QUIET_KEYS], sizeof(q->keys[0]), "%s", key);
	if (a->json) {
		json_t *o = s ? cli_status_json(s) : json_pack("{s:s}", "key", key);
		if (o && (!s || s->deleted))
			json_object_set_new(o, "deleted", json_true());
		cli_json_print(o);
	} else if (!s) {
		printf("%s deleted\n", key);
	} else {
		const char *reason = s->error ? fc_error_code_name(s->error)
					      : fc_stop_reason_name(s->stop_reason);
		printf("%s %s%s%s packets=%llu bytes=%llu", key, fc_state_name(s->state),
		       *reason ? " " : "", reason,
		       (unsigned long long)(s->counters ? s->counters->packets : 0),
		       (unsigned long long)(s->counters ? s->counters->bytes : 0));
		/* A group capture: each instance's state, "instances=0:Running,2:Stopped". */
		for (size_t i = 0; i < s->n_instances; i++)
			printf("%s%s:%s", i ? "," : " instances=", s->instances[i]->instance,
			       fc_state_name(s->instances[i]->state));
		printf("%s\n", s->deleted ? " (deleted)" : "");
	}
	fflush(stdout);
}

/*
 * Assigns every partition of topic at its start, or at its end as of now:
 * the end is asked for before "following" is said (OFFSET_END would be
 * resolved later, and skip what is committed meanwhile). The reader is
 * read_committed, so the end is the last stable offset. 0, or -1 with err.
 */
static int assign_all(rd_kafka_t *rk, const char *topic, int from_beginning, struct fc_err *err)
{
	int count = fc_topic_partition_count(rk, topic, 30000, err);
	rd_kafka_resp_err_t e;
	int64_t lo, hi;

	if (count <= 0)
		return -1;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(count);
	for (int p = 0; p < count; p++) {
		if (!from_beginning &&
		    fc_kafka_watermarks(rk, topic, p, &lo, &hi, 30000, err) != 0) {
			rd_kafka_topic_partition_list_destroy(list);
			return -1;
		}
		rd_kafka_topic_partition_list_add(list, topic, p)->offset =
			from_beginning ? RD_KAFKA_OFFSET_BEGINNING : hi;
	}
	e = rd_kafka_assign(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (e) {
		fc_err_set(err, FC_ERR_FATAL, "%s: %s", topic, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

int cli_watch(int argc, char **argv)
{
	struct cli_scope_args a = {0};
	struct cli_fleet f;
	struct fc_err err;
	char topic[FC_TOPIC_NAME_MAX + 1], prefix[FC_TENANT_MAX * 2 + 3], key[512];
	int rc = cli_scope_parse("watch", argc, argv, 1, usage, &a);
	struct quiet *quiet;

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!(quiet = calloc(1, sizeof(*quiet)))) {
		fprintf(stderr, "fleetcap watch: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	if ((rc = cli_fleet_open(&f, "watch", &a.fleet)) != 0)
		return rc;
	cli_scope_key_prefix(&a, prefix, sizeof(prefix));
	rd_kafka_t *rk = cli_fleet_reader(&f);
	cli_fleet_topic(&f, FC_TOPIC_STATUS, topic, sizeof(topic));
	if (!rk || assign_all(rk, topic, a.from_beginning, &err) != 0) {
		if (rk)
			fprintf(stderr, "fleetcap watch: %s\n", err.msg);
		cli_fleet_close(&f);
		free(quiet);
		return CLI_EXIT_FAILURE;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "fleetcap watch: following %s%s (Ctrl-C ends)\n", prefix,
		a.from_beginning ? " from the beginning" : "");
	while (!stop && rc == CLI_EXIT_OK) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
			fprintf(stderr, "fleetcap watch: %s\n", rd_kafka_message_errstr(m));
			rc = CLI_EXIT_FAILURE;
		} else if (!m->err && m->key && m->key_len < sizeof(key) &&
			   m->key_len > strlen(prefix) &&
			   memcmp(m->key, prefix, strlen(prefix)) == 0) {
			memcpy(key, m->key, m->key_len);
			key[m->key_len] = '\0';
			cli_status_t *s = m->payload && m->len
						  ? fleetcap__v1__capture_status__unpack(
							    NULL, m->len, m->payload)
						  : NULL;
			if (s || !m->payload)
				print_change(&a, quiet, key, s);
			if (s)
				fleetcap__v1__capture_status__free_unpacked(s, NULL);
		}
		rd_kafka_message_destroy(m);
	}
	cli_fleet_close(&f);
	free(quiet);
	return rc;
}
