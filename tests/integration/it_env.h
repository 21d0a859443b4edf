/* Helpers shared by the integration tests: the services of scripts/services.sh. */
#ifndef IT_ENV_H
#define IT_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Returns the variable's value, or ends the test run with a message saying how to get it. */
static inline const char *it_require_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		fprintf(stderr, "%s is not set: run eval \"$(scripts/services.sh start)\" first\n",
			name);
		exit(1);
	}
	return v;
}

/* The replication factor of the topics tests create: 3 on the cluster of
 * scripts/services.sh start --cluster, 1 on a single node. */
static inline int it_replication(void)
{
	const char *n = getenv("FLEETCAP_KAFKA_NODES");
	return n && atoi(n) >= 3 ? 3 : 1;
}

/* A name unique to this run, for topics and containers: PREFIX + pid + time. */
static inline void it_unique(char *out, size_t len, const char *prefix)
{
	snprintf(out, len, "%s%ld%ld", prefix, (long)getpid(), (long)time(NULL) % 100000);
}

#endif
