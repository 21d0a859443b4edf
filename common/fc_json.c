/* fc_json: see fc_json.h. */
#include "fc_json.h"

#include <stdio.h>
#include <string.h>

const char *fc_json_error_reason(const json_error_t *e, char *out, size_t len)
{
	snprintf(out, len, "%s", e->text);
	char *near = strstr(out, " near ");
	if (near)
		*near = '\0';
	return out;
}
