/*
 * fleetcap stop | delete | alert: one record to Kafka, returned once Kafka
 * has it (docs/ARCHITECTURE.md §8). stop and delete name a capture; the scheduler
 * sends the worker a stop job, and the capture ends as Stopped/StoppedByUser
 * (or disappears, for delete) once the worker's final report arrives. alert
 * sends an AlertEvent as a monitoring system would, for testing rules.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fleet.h"
#include "fc_command.h"
#include "fc_names.h"
#include "fc_spec.h"

static int bad(const char *command, const char *option, const char *value, const char *expected)
{
	fprintf(stderr, "fleetcap %s: %s \"%.80s\": expected %s\n", command, option,
		value ? value : "", expected);
	return CLI_EXIT_USAGE;
}

static int stop_or_delete(int argc, char **argv, const char *command, int kind)
{
	static const struct option options[] = {
		CLI_FLEET_OPTIONS,
		{"subscription", required_argument, NULL, 's'},
		{"region", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_fleet_args fargs = {0};
	struct cli_fleet f;
	const char *sub = NULL, *region = NULL;
	char request_id[33], key[FC_TENANT_MAX * 2 + 2];
	int c, json = 0, rc;

	while ((c = getopt_long(argc, argv, "s:r:h", options, NULL)) != -1) {
		if (cli_fleet_arg(&fargs, c, optarg))
			continue;
		switch (c) {
		case 's':
			sub = optarg;
			break;
		case 'r':
			region = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: fleetcap %s NAME -s SUBSCRIPTION -r REGION [--json]\n",
			       command);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return bad(command, "NAME", optind < argc ? argv[optind] : "", "one capture name");
	const char *name = argv[optind];
	if (!fc_valid_name(name))
		return bad(command, "NAME", name, "[A-Za-z0-9][A-Za-z0-9_.-]{0,79}");
	if (!sub || !fc_valid_tenant(sub))
		return bad(command, "-s", sub, "[A-Za-z0-9_.-]{1,64}");
	if (!region || !fc_valid_tenant(region))
		return bad(command, "-r", region, "[A-Za-z0-9_.-]{1,64}");
	if ((rc = cli_fleet_open(&f, command, &fargs)) != 0)
		return rc;

	Fleetcap__V1__Command cmd;
	fc_command_name(&cmd, kind, sub, region, name, request_id, key);
	rc = cli_fleet_send(&f, FC_TOPIC_COMMANDS, key, &cmd.base);
	if (rc == 0) {
		if (json)
			cli_json_print(json_pack("{ssss}", "requestId", request_id, "name", name));
		else
			printf("%s %s/%s sent (request %s)\n", command, key, name, request_id);
	}
	cli_fleet_close(&f);
	return rc;
}

int cli_stop(int argc, char **argv)
{
	return stop_or_delete(argc, argv, "stop", FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_STOP);
}

int cli_delete(int argc, char **argv)
{
	return stop_or_delete(argc, argv, "delete",
			      FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_DELETE);
}

int cli_alert(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_FLEET_OPTIONS,
		{"subscription", required_argument, NULL, 's'},
		{"region", required_argument, NULL, 'r'},
		{"target", required_argument, NULL, 't'},
		{"rule", required_argument, NULL, 'R'},
		{"id", required_argument, NULL, 'I'},
		{"severity", required_argument, NULL, 'S'},
		{"description", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_fleet_args fargs = {0};
	struct cli_fleet f;
	Fleetcap__V1__AlertEvent ev = FLEETCAP__V1__ALERT_EVENT__INIT;
	char id[33], key[FC_TENANT_MAX * 2 + 2];
	int c, rc;

	ev.severity = FLEETCAP__V1__SEVERITY__SEVERITY_WARNING;
	while ((c = getopt_long(argc, argv, "s:r:t:h", options, NULL)) != -1) {
		if (cli_fleet_arg(&fargs, c, optarg))
			continue;
		switch (c) {
		case 's':
			ev.subscription = optarg;
			break;
		case 'r':
			ev.region = optarg;
			break;
		case 't':
			ev.target = optarg;
			break;
		case 'R':
			ev.rule = optarg;
			break;
		case 'I':
			ev.alert_id = optarg;
			break;
		case 'D':
			ev.description = optarg;
			break;
		case 'S':
			if ((c = fc_severity_parse(optarg)) < 0)
				return bad("alert", "--severity", optarg,
					   "Info, Warning, Error or Critical");
			ev.severity = c;
			break;
		case 'h':
			printf("usage: fleetcap alert -s SUBSCRIPTION -r REGION -t HOST --rule "
			       "RULE "
			       "[--id ID]\n"
			       "                      [--severity Info|Warning|Error|Critical] "
			       "[--description TEXT]\n"
			       "Sends an alert as a monitoring system would; the scheduler's rule "
			       "RULE\n"
			       "decides whether it becomes a capture (named after the alert id; a "
			       "random\n"
			       "id is chosen without --id).\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return bad("alert", "argument", argv[optind], "options only");
	if (!ev.subscription || !fc_valid_tenant(ev.subscription))
		return bad("alert", "-s", ev.subscription, "[A-Za-z0-9_.-]{1,64}");
	if (!ev.region || !fc_valid_tenant(ev.region))
		return bad("alert", "-r", ev.region, "[A-Za-z0-9_.-]{1,64}");
	if (!ev.target || !fc_valid_target(ev.target))
		return bad("alert", "-t", ev.target, "a host id");
	if (!ev.rule || !*ev.rule || strlen(ev.rule) > 64)
		return bad("alert", "--rule", ev.rule, "a rule name of 1-64 characters");
	if (ev.alert_id && (!*ev.alert_id || strlen(ev.alert_id) > FC_ALERT_ID_MAX))
		return bad("alert", "--id", ev.alert_id, "1-128 characters");
	if (!ev.alert_id) {
		fc_request_id(id);
		ev.alert_id = id;
	}
	if ((rc = cli_fleet_open(&f, "alert", &fargs)) != 0)
		return rc;
	ev.time_ms = fc_wall_ms();
	snprintf(key, sizeof(key), "%s/%s", ev.subscription, ev.region);
	rc = cli_fleet_send(&f, FC_TOPIC_ALERTS, key, &ev.base);
	if (rc == 0)
		printf("alert %s sent for %s on %s (rule %s)\n", ev.alert_id, key, ev.target,
		       ev.rule);
	cli_fleet_close(&f);
	return rc;
}
