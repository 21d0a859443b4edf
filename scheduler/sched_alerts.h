/*
 * sched_alerts: the alert rules of the scheduler's config (alerts.rules) and
 * the capture an alert turns into (docs/ARCHITECTURE.md §3.5).
 *
 * The rules file is JSON:
 *
 *   {"rules": [{"name": "tcp-retransmits", "minSeverity": "Warning",
 *               "cooldownSeconds": 600,
 *               "capture": {"time-limit": 60, "bytes-per-packet": 96,
 *                           "filter": ["protocol=tcp,remote-port=443"],
 *                           "file-path": "alerts/{name}.pcap"}}]}
 *
 * "capture" takes the keys of `fleetcap create` (the fc_spec_set keys), a
 * list for the repeatable ones; "{name}" in file-path and blob-url becomes
 * the capture's name. Each template is checked with the one spec validator
 * at load time, so a bad rule stops start-up instead of failing per alert.
 */
#ifndef SCHED_ALERTS_H
#define SCHED_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"
#include "fc_spec.h"

struct sched_alert_rule {
	char *name;
	int min_severity; /* Fleetcap__V1__Severity */
	int64_t cooldown_ms;
	fc_spec_t *tmpl; /* no name, tenant or target yet */
};

struct sched_alert_rules {
	size_t count;
	struct sched_alert_rule *items;
};

/* Loads path. Returns the rules, or NULL with err naming the rule and field. */
struct sched_alert_rules *sched_alert_rules_load(const char *path, struct fc_err *err);

void sched_alert_rules_free(struct sched_alert_rules *rules);

/* The rule called name, or NULL. rules may be NULL. */
const struct sched_alert_rule *sched_alert_rule_find(const struct sched_alert_rules *rules,
						     const char *name);

/*
 * The capture name for an alert: "alert-" + the alert id with every
 * character outside [A-Za-z0-9_.-] made '-', cut to fit, + "-" + 8 hex
 * digits of its sha256, so that two ids never share a name by accident and
 * a redelivered alert always maps to the same one. out needs FC_NAME_MAX + 1.
 */
void sched_alert_capture_name(const char *alert_id, char *out, size_t len);

/*
 * A new spec for the alert: a copy of the rule's template with name,
 * subscription, region, target, origin and "{name}" filled in. NULL when
 * out of memory or when a path gets too long (err says which).
 */
fc_spec_t *sched_alert_spec(const struct sched_alert_rule *rule, const char *name,
			    const char *subscription, const char *region, const char *target,
			    const char *alert_id, struct fc_err *err);

#endif
