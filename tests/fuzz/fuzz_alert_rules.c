/*
 * The scheduler's alert rules file (sched_alerts.c). Invariants: a file is
 * loaded or refused with a message; every rule of a loaded file makes, for
 * an alert on a valid host, a spec the validator accepts.
 */
#include <unistd.h>

#include "fc_spec.h"
#include "fuzz.h"
#include "sched_alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], name[FC_NAME_MAX + 1];
	struct fc_err err;

	snprintf(path, sizeof(path), "/tmp/fleetcap-fuzz-rules-%d", (int)getpid());
	fuzz_write(path, data, size);
	struct sched_alert_rules *rules = sched_alert_rules_load(path, &err);
	unlink(path);
	if (!rules) {
		FUZZ_REQUIRE(err.msg[0], "refused without a message");
		return 0;
	}
	for (size_t i = 0; i < rules->count; i++) {
		const struct sched_alert_rule *rule = &rules->items[i];
		sched_alert_capture_name("alert-1", name, sizeof(name));
		fc_spec_t *spec =
			sched_alert_spec(rule, name, "sub-a", "r1", "host-1", "alert-1", &err);
		if (!spec)
			continue; /* a path too long once {name} is filled: said in err */
		struct fc_field_errors errs;
		char why[1024];
		fc_field_errors_init(&errs);
		if (fc_spec_validate(spec, FC_SPEC_FLEET, &errs) != 0) {
			fc_field_errors_format(&errs, why, sizeof(why));
			FUZZ_REQUIRE(0, "rule %zu of a loaded file makes an invalid spec: %s", i,
				     why);
		}
		fc_spec_free(spec);
	}
	sched_alert_rules_free(rules);
	return 0;
}
