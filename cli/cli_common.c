/* cli_common: helpers every fleet command shares. */
#include <stdlib.h>

#include "cli.h"

const char *cli_brokers(const char *option)
{
	const char *env = getenv("FLEETCAP_BROKERS");
	if (option && *option)
		return option;
	return env && *env ? env : NULL;
}
