/*
 * cli_scope: the arguments of the commands that look at a whole subscription
 * (fleetcap workers, watch): -s SUBSCRIPTION [-r REGION] [--json], the
 * fleet options, and --from-beginning where the command follows a topic.
 */
#ifndef CLI_SCOPE_H
#define CLI_SCOPE_H

#include <stdio.h>

#include "cli_fleet.h"

struct cli_scope_args {
	struct cli_fleet_args fleet;
	const char *subscription, *region;
	int json;
	int from_beginning; /* only when the command takes it */
};

/*
 * Parses argv of command ("workers", "watch"); usage prints the command's
 * help. Returns 0, -1 after --help (exit 0), or an exit code after saying
 * what is wrong.
 */
int cli_scope_parse(const char *command, int argc, char **argv, int takes_from_beginning,
		    void (*usage)(FILE *out), struct cli_scope_args *a);

/* "SUB/" or "SUB/REGION/": the prefix of the keys of the scope's captures. */
void cli_scope_key_prefix(const struct cli_scope_args *a, char *out, size_t len);

/* Appends item to a growing array of pointers. 0, or -1 when out of memory. */
int cli_push(void ***items, size_t *count, size_t *cap, void *item);

#endif
