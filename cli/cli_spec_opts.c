/* cli_spec_opts: the shared capture options; see cli_spec_opts.h. */
#include "cli_spec_opts.h"

static const char *spec_key(int opt)
{
	switch (opt) {
	case 'i':
		return "interface";
	case CLI_OPT_FILTER:
		return "filter";
	case CLI_OPT_BYTES_PER_PACKET:
		return "bytes-per-packet";
	case CLI_OPT_BYTES_PER_SESSION:
		return "bytes-per-session";
	case CLI_OPT_TIME_LIMIT:
		return "time-limit";
	case CLI_OPT_FILE_COUNT:
		return "file-count";
	case CLI_OPT_FILE_SIZE:
		return "file-size";
	case CLI_OPT_SESSION_TIME_LIMIT:
		return "session-time-limit";
	case CLI_OPT_BLOB_URL:
		return "blob-url";
	case CLI_OPT_BLOB_SAS:
		return "blob-sas";
	default:
		return NULL;
	}
}

int cli_spec_option(fc_spec_t *spec, int c, const char *value, struct fc_field_errors *errs)
{
	const char *key = spec_key(c);

	if (c == CLI_OPT_FILTERS_JSON) {
		fc_spec_add_filters_json(spec, value, errs);
		return 1;
	}
	if (!key)
		return 0;
	fc_spec_set(spec, key, value, errs);
	return 1;
}
