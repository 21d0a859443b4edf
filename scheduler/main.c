/*
 * fleetcap-scheduler: admits capture requests under a quota per
 * (subscription, region) with exactly-once semantics (docs/ARCHITECTURE.md §3).
 *
 *   fleetcap-scheduler -c FILE [-X key=value]...
 *
 * The instance itself is scheduler.c. Exits 0 after SIGTERM or SIGINT (the open batch is committed
 * and the group left), 1 on a fatal error such as being fenced again and again, 2 on a bad
 * configuration.
 */
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>

#include "fc_daemon.h"
#include "sched_config.h"
#include "scheduler.h"

static atomic_int stop; /* set by a signal handler: lock-free atomic */

#define USAGE                                                                                      \
	"usage: fleetcap-scheduler -c FILE [-X key=value]...\n"                                    \
	"       fleetcap-scheduler --help-config\n\n"                                              \
	"Admits capture requests from Kafka under a quota per (subscription, region).\n"           \
	"Exit codes: 0 after SIGTERM/SIGINT, 1 on a fatal error, 2 on a bad configuration.\n"

int main(int argc, char **argv)
{
	struct sched_config config = {0};
	struct scheduler *s;
	struct fc_err err;
	int rc = fc_daemon_start(argc, argv, "fleetcap-scheduler", USAGE, sched_config_defs,
				 &config, &config.log_level, &stop);

	if (rc >= 0)
		return rc;
	fc_err_clear(&err);
	if (!(s = scheduler_new(&config, &err))) {
		fprintf(stderr, "fleetcap-scheduler: %s\n", err.msg);
		rc = err.action == FC_ERR_INVALID ? 2 : 1;
	} else if (scheduler_run(s, &stop, &err) == 0) {
		rc = 0;
	} else {
		fprintf(stderr, "fleetcap-scheduler: %s\n", err.msg);
		rc = 1;
	}
	scheduler_destroy(s);
	fc_config_free(sched_config_defs, &config);
	return rc;
}
