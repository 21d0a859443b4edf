/*
 * fc_command: the requests every front door sends to the scheduler
 * (docs/ARCHITECTURE.md §2, topic `commands`): `fleetcap create|stop|delete` and
 * fleetcap-api build them here, so both send the very same records.
 */
#ifndef FC_COMMAND_H
#define FC_COMMAND_H

#include <stddef.h>

#include "fc_spec.h"
#include "fleetcap.pb-c.h"

#define FC_REQUEST_ID_LEN  32
#define FC_COMMAND_KEY_MAX (FC_TENANT_MAX * 2 + 2)

/* A fresh request id: 32 hex digits, random. */
void fc_request_id(char out[FC_REQUEST_ID_LEN + 1]);

/*
 * Fills cmd for a create of spec (validated by the caller; cmd points at
 * it), or a stop or delete (FLEETCAP__V1__COMMAND_KIND__…) of sub/region/name,
 * with a fresh id in request_id, and writes the record's Kafka key,
 * "SUB/REGION", to key.
 */
void fc_command_create(Fleetcap__V1__Command *cmd, fc_spec_t *spec,
		       char request_id[FC_REQUEST_ID_LEN + 1], char key[FC_COMMAND_KEY_MAX]);
void fc_command_name(Fleetcap__V1__Command *cmd, int kind, const char *sub, const char *region,
		     const char *name, char request_id[FC_REQUEST_ID_LEN + 1],
		     char key[FC_COMMAND_KEY_MAX]);

#endif
