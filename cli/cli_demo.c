/*
 * fleetcap demo: runs fleetcap-demo (demo/), installed beside this binary.
 * The demo links the scheduler and the worker agent; keeping it a program of
 * its own keeps them out of every other command.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DEMO_PROGRAM "fleetcap-demo"

int cli_demo(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + sizeof(DEMO_PROGRAM) + 1];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)argc;
	argv[0] = "fleetcap demo";
	if (n > 0) {
		self[n] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dirname(self), DEMO_PROGRAM);
		execv(path, argv);
	}
	/* Not beside this binary (e.g. a copied binary): the PATH, as a shell would. */
	execvp(DEMO_PROGRAM, argv);
	fprintf(stderr, "fleetcap demo: cannot run %s (beside fleetcap or on the PATH): %s\n",
		DEMO_PROGRAM, strerror(errno));
	return CLI_EXIT_FAILURE;
}
