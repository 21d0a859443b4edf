/*
 * fleetcap-worker: the agent on each host (ARCHITECTURE §4).
 *
 *   fleetcap-worker -c FILE [-X key=value]...
 *
 * Exit codes: 0 after SIGTERM or SIGINT (every capture is stopped and its
 * final report sent), 1 on a fatal error, 2 on a bad configuration.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "fc_log.h"
#include "wk_agent.h"
#include "wk_config.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"help-config", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct wk_config config = {0};
	char **xargs = calloc((size_t)argc + 1, sizeof(*xargs));
	size_t n_x = 0;
	const char *path = NULL;
	struct fc_err err;
	enum fc_log_level level;
	struct wk_agent *agent;
	int c, rc = 1;

	while (xargs && (c = getopt_long(argc, argv, "c:X:h", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'X')
			xargs[n_x++] = optarg;
		else {
			if (c == 'H')
				fc_config_print_help(wk_config_defs, stdout);
			else
				fprintf(c == 'h' ? stdout : stderr,
					"usage: fleetcap-worker -c FILE [-X key=value]...\n"
					"       fleetcap-worker --help-config\n");
			free(xargs);
			return c == 'h' || c == 'H' ? 0 : 2;
		}
	}
	if (!xargs || optind < argc) {
		fprintf(stderr, "usage: fleetcap-worker -c FILE [-X key=value]...\n");
		free(xargs);
		return 2;
	}
	fc_err_clear(&err);
	if (fc_config_load(wk_config_defs, &config, path, xargs, n_x, &err) != 0 ||
	    fc_log_level_parse(config.log_level, &level) != 0) {
		fprintf(stderr, "fleetcap-worker: %s\n",
			err.msg[0] ? err.msg : "log.level: expected error, warn, info or debug");
		fc_config_free(wk_config_defs, &config);
		free(xargs);
		return 2;
	}
	free(xargs);
	fc_log_set_level(level);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(agent = wk_agent_new(&config, &err))) {
		fprintf(stderr, "fleetcap-worker: %s\n", err.msg);
		rc = err.action == FC_ERR_INVALID ? 2 : 1;
	} else {
		rc = wk_agent_run(agent, &stop, &err) == 0 ? 0 : 1;
		if (rc)
			fprintf(stderr, "fleetcap-worker: %s\n", err.msg);
		wk_agent_destroy(agent);
	}
	fc_config_free(wk_config_defs, &config);
	curl_global_cleanup();
	return rc;
}
