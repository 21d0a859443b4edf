/* cli_common: helpers the commands share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The option a spec field (as fc_spec_set and fc_spec_validate name it) came from. */
static const struct {
	const char *field;
	const char *option;
} field_options[] = {
	{"name", "NAME"},
	{"subscription", "-s"},
	{"region", "-r"},
	{"target", "-t"},
	{"interface", "-i"},
	{"interfaces", "-i"},
	{"time_limit_s", "--time-limit"},
	{"bytes_per_packet", "--bytes-per-packet"},
	{"bytes_per_session", "--bytes-per-session"},
	{"queue_timeout_s", "--queue-timeout"},
	{"blob_url", "--blob-url"},
	{"blob_sas", "--blob-sas"},
	{"ring.file_count", "--file-count"},
	{"ring.file_size", "--file-size"},
	{"ring.session_time_limit_s", "--session-time-limit"},
	{"filter", "--filter"},
	{"filters", "--filter"},
	{"scope", "--include/--exclude"},
	{"target_type", "--target-group"},
};

static const char *option_for(const char *field, const char *file_path_option, char *buf,
			      size_t len)
{
	unsigned index;
	int used = 0;

	if (strcmp(field, "file_path") == 0 || strcmp(field, "file-path") == 0)
		return file_path_option;
	for (size_t i = 0; i < sizeof(field_options) / sizeof(field_options[0]); i++)
		if (strcmp(field, field_options[i].field) == 0)
			return field_options[i].option;
	if (sscanf(field, "scope.include[%u]%n", &index, &used) == 1 && used > 0) {
		snprintf(buf, len, "--include item %u", index + 1);
	} else if (sscanf(field, "scope.exclude[%u]%n", &index, &used) == 1 && used > 0) {
		snprintf(buf, len, "--exclude item %u", index + 1);
	} else if (strncmp(field, "scope.", 6) == 0) {
		snprintf(buf, len, "--%s", field + 6);
	} else if (sscanf(field, "filters[%u]%n", &index, &used) == 1 && used > 0) {
		const char *key = field + used;
		snprintf(buf, len, "filter #%u%s%s", index + 1, *key == '.' ? " " : "",
			 *key == '.' ? key + 1 : key);
	} else {
		snprintf(buf, len, "--%s", field);
	}
	for (char *c = buf; *c; c++)
		if (*c == '_')
			*c = '-';
	return buf;
}

void cli_print_field_errors(const char *command, const struct fc_field_errors *errs,
			    const char *file_path_option)
{
	char buf[96];

	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "fleetcap %s: %s: %s\n", command,
			option_for(errs->items[i].field, file_path_option, buf, sizeof(buf)),
			errs->items[i].message);
	if (errs->dropped)
		fprintf(stderr, "fleetcap %s: ... and %zu more errors\n", command, errs->dropped);
}

void cli_json_print(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}
