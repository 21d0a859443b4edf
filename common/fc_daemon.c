/* fc_daemon: the daemons' shared start-up; see fc_daemon.h. */
#include "fc_daemon.h"

#include <stdatomic.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "fc_log.h"

static atomic_int *stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_flag)
		*stop_flag = 1;
}

int fc_daemon_start(int argc, char **argv, const char *name, const char *usage,
		    const struct fc_cfg_def *defs, void *config, char *const *log_level,
		    atomic_int *stop)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"help-config", no_argument, NULL, 'H'},
		{NULL, 0, NULL, 0},
	};
	char **xargs = calloc((size_t)argc + 1, sizeof(*xargs));
	const char *path = NULL;
	enum fc_log_level level;
	struct fc_err err;
	size_t n_x = 0;
	int c, rc = -1;

	while (rc < 0 && xargs && (c = getopt_long(argc, argv, "c:X:h", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'X')
			xargs[n_x++] = optarg;
		else if (c == 'h')
			rc = (fputs(usage, stdout), 0);
		else if (c == 'H')
			rc = (fc_config_print_help(defs, stdout), 0);
		else
			rc = (fputs(usage, stderr), 2);
	}
	if (rc < 0 && (!xargs || optind < argc))
		rc = (fputs(usage, stderr), 2);
	if (rc < 0) {
		fc_err_clear(&err);
		if (fc_config_load(defs, config, path, xargs, n_x, &err) != 0 ||
		    fc_log_level_parse(*log_level, &level) != 0) {
			fprintf(stderr, "%s: %s\n", name,
				err.msg[0] ? err.msg
					   : "log.level: expected error, warn, info or debug");
			fc_config_free(defs, config);
			rc = 2;
		}
	}
	free(xargs);
	if (rc >= 0)
		return rc;
	fc_log_set_level(level);
	stop_flag = stop;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit fails the write (EFBIG) that passes it, which the
	 * daemon reports, rather than killing it mid-capture. */
	signal(SIGXFSZ, SIG_IGN);
	return -1;
}
