/* cli_scope: arguments of the subscription-wide commands; see cli_scope.h. */
#include "cli_scope.h"

#include <getopt.h>
#include <stdlib.h>

#include "cli.h"

enum { OPT_JSON = 256, OPT_FROM_BEGINNING };

int cli_scope_parse(const char *command, int argc, char **argv, int takes_from_beginning,
		    void (*usage)(FILE *out), struct cli_scope_args *a)
{
	static const struct option options[] = {
		CLI_FLEET_OPTIONS,
		{"subscription", required_argument, NULL, 's'},
		{"region", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, OPT_JSON},
		{"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:r:h", options, NULL)) != -1) {
		if (cli_fleet_arg(&a->fleet, c, optarg))
			continue;
		switch (c) {
		case 's':
			a->subscription = optarg;
			break;
		case 'r':
			a->region = optarg;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case OPT_FROM_BEGINNING:
			if (!takes_from_beginning)
				goto bad;
			a->from_beginning = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleetcap %s: unexpected argument \"%.64s\"\n", command,
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (!a->subscription || !*a->subscription) {
		fprintf(stderr, "fleetcap %s: --subscription (-s) is required\n", command);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return 0;
bad:
	usage(stderr);
	return CLI_EXIT_USAGE;
}

void cli_scope_key_prefix(const struct cli_scope_args *a, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s", a->subscription, a->region ? a->region : "",
		 a->region ? "/" : "");
}

int cli_push(void ***items, size_t *count, size_t *cap, void *item)
{
	if (*count == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 64;
		void **grown = realloc(*items, grown_cap * sizeof(*grown));
		if (!grown)
			return -1;
		*items = grown;
		*cap = grown_cap;
	}
	(*items)[(*count)++] = item;
	return 0;
}
