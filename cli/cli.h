/* cli: the fleetcap commands, one function per command (see main.c). */
#ifndef CLI_H
#define CLI_H

/* Exit codes of docs/ARCHITECTURE.md §8. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* runtime failure, e.g. Kafka unreachable */
	CLI_EXIT_USAGE = 2,   /* invalid arguments */
	CLI_EXIT_REJECTED = 3,
	CLI_EXIT_TIMEOUT = 4,
};

#include <jansson.h>

#include "fc_err.h"

/* Prints o as one compact line of JSON on stdout and releases it (NULL, from
 * a failed allocation, prints nothing). Every --json output goes through it. */
void cli_json_print(json_t *o);

/*
 * Prints one line per error to stderr, naming the option each field came
 * from ("--time-limit", "filter #2 remote-port"); file_path_option is how
 * this command spells the output path ("-o" or "--file-path").
 */
void cli_print_field_errors(const char *command, const struct fc_field_errors *errs,
			    const char *file_path_option);

int cli_topics(int argc, char **argv);
int cli_capture(int argc, char **argv);
int cli_upload(int argc, char **argv);
int cli_create(int argc, char **argv);
int cli_show(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_workers(int argc, char **argv);
int cli_watch(int argc, char **argv);
int cli_wait(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_delete(int argc, char **argv);
int cli_alert(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_summarize(int argc, char **argv);

#endif
