/*
 * The daemons' config files (fc_config.c) through the three tables the
 * scheduler, the worker and the API load. Invariant: a file is loaded or
 * refused with a message naming the file; what is loaded is freed whole.
 */
#include <unistd.h>

#include "api_config.h"
#include "fc_config.h"
#include "fuzz.h"
#include "sched_config.h"
#include "wk_config.h"

static void load(const struct fc_cfg_def *defs, void *obj, const char *path)
{
	struct fc_err err;

	FUZZ_REQUIRE(fc_config_init(defs, obj, &err) == 0, "init: %s", err.msg);
	if (fc_config_load_file(defs, obj, path, &err) != 0)
		FUZZ_REQUIRE(strstr(err.msg, path), "an error without the file: %s", err.msg);
	fc_config_free(defs, obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct sched_config s;
	struct wk_config w;
	struct api_config a;

	snprintf(path, sizeof(path), "/tmp/fleetcap-fuzz-config-%d", (int)getpid());
	fuzz_write(path, data, size);
	load(sched_config_defs, &s, path);
	load(wk_config_defs, &w, path);
	load(api_config_defs, &a, path);
	unlink(path);
	return 0;
}
