/*
 * fleetcap: the command-line client (docs/ARCHITECTURE.md §6, §8).
 *
 * main() dispatches on the first argument to one cli_* function per command;
 * each command lives in its own file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "fc_log.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"capture", cli_capture, "capture packets on this machine into a pcap file"},
	{"upload", cli_upload, "upload a file to Azure Blob Storage"},
	{"create", cli_create, "ask the scheduler for a capture on a fleet host"},
	{"show", cli_show, "show one capture's status"},
	{"list", cli_list, "list the captures of a subscription"},
	{"workers", cli_workers, "list the hosts registered in a subscription"},
	{"watch", cli_watch, "print status changes as they happen, until Ctrl-C"},
	{"wait", cli_wait, "wait until a capture is Running, Stopped or Error"},
	{"stop", cli_stop, "stop a capture"},
	{"delete", cli_delete, "stop a capture and remove it"},
	{"alert", cli_alert, "send an alert, as a monitoring system would"},
	{"summarize", cli_summarize, "what happened in a pcap file: flows, verdicts, per second"},
	{"demo", cli_demo, "run the whole system in this process, with generated traffic"},
	{"topics", cli_topics, "create fleetcap's Kafka topics (topics create --help)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: fleetcap COMMAND [OPTIONS]\n\n"
		     "fleetcap runs packet captures on demand across a fleet of Linux hosts.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-10s %s\n", "version", "print the version");
	fprintf(out,
		"\nexit codes: 0 success, 1 runtime failure, 2 invalid arguments, 3 rejected\n"
		"(create --wait, wait), 4 timeout (create --wait, wait)\n"
		"FLEETCAP_LOG_LEVEL=error|warn|info|debug sets how much is logged to stderr\n");
}

int main(int argc, char **argv)
{
	const char *level_name = getenv("FLEETCAP_LOG_LEVEL");
	enum fc_log_level level;

	if (level_name && fc_log_level_parse(level_name, &level) == 0)
		fc_log_set_level(level);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("fleetcap %s\n", FLEETCAP_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			int rc = commands[i].run(argc - 1, argv + 1);
			curl_global_cleanup();
			return rc;
		}
	}
	fprintf(stderr, "fleetcap: unknown command \"%.64s\"; see fleetcap --help\n", argv[1]);
	return CLI_EXIT_USAGE;
}
