/*
 * fc_daemon: the start-up the daemons share (fleetcap-scheduler,
 * fleetcap-worker, fleetcap-api; docs/ARCHITECTURE.md §8):
 *
 *   NAME -c FILE [-X key=value]...      NAME --help      NAME --help-config
 *
 * loads the config table (defaults, file, environment, -X), applies the
 * config's log.level, makes SIGTERM and SIGINT set *stop, and ignores
 * SIGPIPE and SIGXFSZ.
 */
#ifndef FC_DAEMON_H
#define FC_DAEMON_H

#include <stdatomic.h>
#include <signal.h>

#include "fc_config.h"

/*
 * Returns -1 when the daemon should go on, else the exit code to return at
 * once: 0 after --help or --help-config, 2 on bad arguments or a bad
 * configuration (the message, naming the key, is printed). log_level points
 * at the config's log.level field. On 2 the config is already freed.
 */
int fc_daemon_start(int argc, char **argv, const char *name, const char *usage,
		    const struct fc_cfg_def *defs, void *config, char *const *log_level,
		    atomic_int *stop);

#endif
