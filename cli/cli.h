/* cli: the fleetcap commands, one function per command (see main.c). */
#ifndef CLI_H
#define CLI_H

/* Exit codes of ARCHITECTURE §8. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* runtime failure, e.g. Kafka unreachable */
	CLI_EXIT_USAGE = 2,   /* invalid arguments */
	CLI_EXIT_REJECTED = 3,
	CLI_EXIT_TIMEOUT = 4,
};

/* Resolves the brokers: the --brokers value, else FLEETCAP_BROKERS, else NULL. */
const char *cli_brokers(const char *option);

int cli_topics(int argc, char **argv);

#endif
