/*
 * fleetcap-worker: the agent on each host (docs/ARCHITECTURE.md §4).
 *
 *   fleetcap-worker -c FILE [-X key=value]...
 *
 * Exit codes: 0 after SIGTERM or SIGINT (every capture is stopped and its
 * final report sent), 1 on a fatal error, 2 on a bad configuration.
 */
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "fc_daemon.h"
#include "wk_agent.h"
#include "wk_config.h"

static atomic_int stop; /* set by a signal handler: lock-free atomic */

#define USAGE                                                                                      \
	"usage: fleetcap-worker -c FILE [-X key=value]...\n"                                       \
	"       fleetcap-worker --help-config\n\n"                                                 \
	"Captures on this host what the scheduler asks for.\n"                                     \
	"Exit codes: 0 after SIGTERM/SIGINT, 1 on a fatal error, 2 on a bad configuration.\n"

int main(int argc, char **argv)
{
	struct wk_config config = {0};
	struct wk_agent *agent;
	struct fc_err err;
	int rc = fc_daemon_start(argc, argv, "fleetcap-worker", USAGE, wk_config_defs, &config,
				 &config.log_level, &stop);

	if (rc >= 0)
		return rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fc_err_clear(&err);
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
