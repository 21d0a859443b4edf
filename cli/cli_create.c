/*
 * fleetcap create: asks the scheduler for a capture on a fleet host
 * (docs/ARCHITECTURE.md §8). The spec is checked here with the one validator before
 * it is sent, so a typo is an exit-2 message naming the option instead of a
 * round trip; the scheduler checks it again, with the target and the quota.
 *
 * Without --wait it returns once Kafka has the command. With --wait it reads
 * the capture's status partition from its end as of before the send, prints
 * each status answering this request, and exits 0 when the request is
 * admitted (Running or Queued), 3 when it is rejected, 4 when no answer
 * comes within --timeout, 1 when Kafka cannot be reached.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fleet.h"
#include "cli_spec_opts.h"
#include "fc_command.h"
#include "fc_names.h"
#include "fc_parse.h"

static void create_usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcap create NAME -s SUBSCRIPTION -r REGION (-t HOST | -g GROUP\n"
		"                       [--include I,...] [--exclude I,...]) [capture options]\n"
		"                       [--file-path P] [--blob-url URL [--blob-sas TOKEN]]\n"
		"                       [--queue-timeout S] [--wait [--timeout S]] [--json]\n"
		"                       [--brokers B] [--prefix P] [--config FILE]\n"
		"\n"
		"Asks the scheduler for a capture on HOST (a registered worker of the same\n"
		"subscription and region), or on every live worker of GROUP.\n"
		"\n"
		"  -t, --target HOST         the worker's host id\n"
		"  -g, --target-group GROUP  the workers whose config names this group: one\n"
		"                            capture (one session of the quota), one file per\n"
		"                            instance, in a directory named after the instance\n"
		"      --include I,...       only these instance ids (each must be live)\n"
		"      --exclude I,...       never these instance ids\n"
		"  -i, --interface IFACE     interface on the host (repeat; default: the "
		"worker's)\n"
		"      --filter SPEC, --filters-json JSON, --bytes-per-packet N,\n"
		"      --bytes-per-session N, --time-limit S, --file-count N, --file-size N,\n"
		"      --session-time-limit S  as for fleetcap capture (see capture --help)\n"
		"      --file-path P         the pcap file, relative to the worker's capture root\n"
		"      --blob-url URL        upload destination; the worker's account key is used\n"
		"                            unless --blob-sas is given\n"
		"      --queue-timeout S     over quota: wait up to S seconds (0-86400) for a "
		"slot\n"
		"                            instead of failing with QuotaExceeded (default 0)\n"
		"      --wait                wait for the answer and print each state change\n"
		"      --timeout S           give up waiting for Kafka (default 30 s) and, with\n"
		"                            --wait, for the answer (default 60 s) after S "
		"seconds\n"
		"      --json                print the answer (or the request) as JSON\n"
		"\n"
		"Exit codes: 0 sent (or, with --wait, admitted: Running or Queued), 1 Kafka\n"
		"failure, 2 invalid arguments, 3 rejected (the error code is printed), 4 "
		"timeout.\n");
}

struct answer {
	const char *request_id;
	int json;
	int last_state;
};

/* Prints the statuses that answer our request; decides the exit code. */
static int on_status(void *opaque, const cli_status_t *s)
{
	struct answer *a = opaque;

	if (!s || strcmp(s->request_id, a->request_id) != 0)
		return -1;
	if (a->json) {
		cli_json_print(cli_status_json(s));
	} else if ((int)s->state != a->last_state || s->rejected_error) {
		cli_status_print_line(s, stdout);
	}
	a->last_state = s->state;
	if (s->rejected_error) {
		if (!a->json)
			printf("rejected: %s: %s\n", fc_error_code_name(s->rejected_error),
			       s->rejected_message);
		return CLI_EXIT_REJECTED;
	}
	return s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR ? CLI_EXIT_REJECTED
									    : CLI_EXIT_OK;
}

enum {
	OPT_FILE_PATH = CLI_OPT_FIRST_FREE,
	OPT_QUEUE_TIMEOUT,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_INCLUDE,
	OPT_EXCLUDE,
};

int cli_create(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_SPEC_OPTIONS,
		CLI_FLEET_OPTIONS,
		{"subscription", required_argument, NULL, 's'},
		{"region", required_argument, NULL, 'r'},
		{"target", required_argument, NULL, 't'},
		{"target-group", required_argument, NULL, 'g'},
		{"include", required_argument, NULL, OPT_INCLUDE},
		{"exclude", required_argument, NULL, OPT_EXCLUDE},
		{"file-path", required_argument, NULL, OPT_FILE_PATH},
		{"queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT},
		{"wait", no_argument, NULL, OPT_WAIT},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_fleet_args fargs = {0};
	struct cli_fleet fleet = {0};
	struct fc_field_errors errs;
	fc_spec_t *spec = fc_spec_new();
	long long timeout_s = 60;
	int timeout_given = 0, wait = 0, json = 0, usage_error = 0, c, rc;
	char request_id[33], key[FC_TENANT_MAX * 2 + 2];

	if (!spec)
		return CLI_EXIT_FAILURE;
	fc_field_errors_init(&errs);
	while ((c = getopt_long(argc, argv, "s:r:t:g:i:h", options, NULL)) != -1) {
		if (cli_spec_option(spec, c, optarg, &errs) || cli_fleet_arg(&fargs, c, optarg))
			continue;
		switch (c) {
		case 's':
			fc_spec_set(spec, "subscription", optarg, &errs);
			break;
		case 'r':
			fc_spec_set(spec, "region", optarg, &errs);
			break;
		case 't':
			fc_spec_set(spec, "target", optarg, &errs);
			break;
		case 'g':
			fc_spec_set(spec, "target-group", optarg, &errs);
			break;
		case OPT_INCLUDE:
			fc_spec_set(spec, "include", optarg, &errs);
			break;
		case OPT_EXCLUDE:
			fc_spec_set(spec, "exclude", optarg, &errs);
			break;
		case OPT_FILE_PATH:
			fc_spec_set(spec, "file-path", optarg, &errs);
			break;
		case OPT_QUEUE_TIMEOUT:
			fc_spec_set(spec, "queue-timeout", optarg, &errs);
			break;
		case OPT_WAIT:
			wait = 1;
			break;
		case OPT_TIMEOUT:
			timeout_given = 1;
			if (fc_parse_ll(optarg, 1, 86400, &timeout_s) != FC_PARSE_OK)
				fc_field_errors_add(
					&errs, "timeout",
					"\"%.32s\" is not valid: expected seconds from 1 "
					"to 86400",
					optarg);
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			create_usage(stdout);
			fc_spec_free(spec);
			return CLI_EXIT_OK;
		default:
			usage_error = 1;
		}
	}
	if (optind + 1 == argc)
		fc_spec_set(spec, "name", argv[optind], &errs);
	else if (!usage_error) {
		fprintf(stderr, "fleetcap create: expected one NAME, got %d arguments\n",
			argc - optind);
		usage_error = 1;
	}
	if (!usage_error)
		fc_spec_validate(spec, FC_SPEC_FLEET, &errs);
	if (errs.count || errs.dropped || usage_error) {
		cli_print_field_errors("create", &errs, "--file-path");
		fprintf(stderr, "see fleetcap create --help\n");
		fc_spec_free(spec);
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_fleet_open(&fleet, "create", &fargs)) != 0) {
		fc_spec_free(spec);
		return rc;
	}
	if (timeout_given)
		fleet.send_timeout_ms = (int)timeout_s * 1000;

	Fleetcap__V1__Command cmd;
	fc_command_create(&cmd, spec, request_id, key);

	int64_t from = 0;
	char status_key[sizeof(key) + FC_NAME_MAX + 1];
	snprintf(status_key, sizeof(status_key), "%s/%s", key, spec->name);
	/* Where the answer will be: after the partition's end as of now. */
	if (wait && (rc = cli_status_end_offset(&fleet, status_key, &from)) != 0)
		goto out;
	if ((rc = cli_fleet_send(&fleet, FC_TOPIC_COMMANDS, key, &cmd.base)) != 0)
		goto out;
	if (!wait) {
		if (json)
			cli_json_print(json_pack("{ssssssss}", "requestId", request_id, "name",
						 spec->name, "subscription", spec->subscription,
						 "region", spec->region));
		else
			printf("create %s sent (request %s)\n", status_key, request_id);
		goto out;
	}
	struct answer a = {.request_id = request_id, .json = json, .last_state = -1};
	rc = cli_status_watch(&fleet, status_key, from, (int)timeout_s * 1000, on_status, &a);
	if (rc == CLI_EXIT_TIMEOUT)
		fprintf(stderr,
			"fleetcap create: no answer from the scheduler within %lld s (the "
			"request is in Kafka and will still be processed)\n",
			timeout_s);
out:
	cli_fleet_close(&fleet);
	fc_spec_free(spec);
	return rc;
}
