/* fc_command: the commands of every front door; see fc_command.h. */
#include "fc_command.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fc_hex.h"
#include "fc_kafka.h"

void fc_request_id(char out[FC_REQUEST_ID_LEN + 1])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* Not a secret, only unique: time and pid will do. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(out, FC_REQUEST_ID_LEN + 1, "%016llx%08x%08lx",
			 (unsigned long long)ts.tv_sec, (unsigned)getpid(),
			 (unsigned long)ts.tv_nsec);
		return;
	}
	fc_hex_encode(r, sizeof(r), out);
}

static void init(Fleetcap__V1__Command *cmd, int kind, const char *sub, const char *region,
		 char request_id[FC_REQUEST_ID_LEN + 1], char key[FC_COMMAND_KEY_MAX])
{
	fleetcap__v1__command__init(cmd);
	fc_request_id(request_id);
	cmd->kind = kind;
	cmd->request_id = request_id;
	cmd->time_ms = fc_wall_ms();
	snprintf(key, FC_COMMAND_KEY_MAX, "%s/%s", sub, region);
}

void fc_command_create(Fleetcap__V1__Command *cmd, fc_spec_t *spec,
		       char request_id[FC_REQUEST_ID_LEN + 1], char key[FC_COMMAND_KEY_MAX])
{
	init(cmd, FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE, spec->subscription, spec->region,
	     request_id, key);
	cmd->spec = spec;
}

void fc_command_name(Fleetcap__V1__Command *cmd, int kind, const char *sub, const char *region,
		     const char *name, char request_id[FC_REQUEST_ID_LEN + 1],
		     char key[FC_COMMAND_KEY_MAX])
{
	init(cmd, kind, sub, region, request_id, key);
	cmd->subscription = (char *)sub;
	cmd->region = (char *)region;
	cmd->name = (char *)name;
}
