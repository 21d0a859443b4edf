/*
 * sched_state_alert: an alert event becomes a create under its rule, unless
 * the rule is cooling down for the target or already running there.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fc_log.h"
#include "fc_spec.h"
#include "sched_alerts.h"
#include "sched_state_int.h"

static int cooling_down(const ledger_t *ls, const char *target, const char *rule, int64_t now)
{
	for (size_t i = 0; i < ls->n_cooldowns; i++)
		if (ls->cooldowns[i]->until_ms > now &&
		    strcmp(ls->cooldowns[i]->target, target) == 0 &&
		    strcmp(ls->cooldowns[i]->rule, rule) == 0)
			return 1;
	return 0;
}

static int rule_running(entry_t **entries, size_t n, const char *target, const char *rule)
{
	for (size_t i = 0; i < n; i++) {
		const Fleetcap__V1__Origin *o = entries[i]->spec->origin;
		if (o && o->kind == FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT &&
		    strcmp(o->rule, rule) == 0 && strcmp(entries[i]->spec->target, target) == 0)
			return 1;
	}
	return 0;
}

void ss_apply_alert(struct sched_state *st, struct sched_key *k, const Fleetcap__V1__AlertEvent *ev,
		    int64_t now)
{
	const struct sched_alert_rule *rule = sched_alert_rule_find(st->policy.rules, ev->rule);
	ledger_t *ls = k->ls;
	char name[FC_NAME_MAX + 1], request_id[FC_ALERT_ID_MAX + 8];
	struct fc_err err;
	fc_spec_t *spec;
	const char *target;

	if (!rule) {
		FC_WARN("sched", "alert %.128s for %s: no rule \"%.64s\"; ignored", ev->alert_id,
			k->key, ev->rule);
		return;
	}
	if ((int)ev->severity < rule->min_severity) {
		FC_DEBUG("sched", "alert %.128s: severity %d below the rule's %d; ignored",
			 ev->alert_id, ev->severity, rule->min_severity);
		return;
	}
	sched_alert_capture_name(ev->alert_id, name, sizeof(name));
	if (ss_find_named(ls->active, ls->n_active, name) >= 0 ||
	    ss_find_named(ls->queued, ls->n_queued, name) >= 0 || ss_find_finished(ls, name) >= 0) {
		FC_DEBUG("sched", "alert %.128s delivered again: %s exists", ev->alert_id, name);
		return;
	}
	/* A rule whose capture targets a group captures that whole group,
	 * whichever of its hosts raised the alert: one capture at a time. */
	target = rule->tmpl->target_type == FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP
			 ? rule->tmpl->target
			 : ev->target;
	if (rule_running(ls->active, ls->n_active, target, ev->rule) ||
	    rule_running(ls->queued, ls->n_queued, target, ev->rule)) {
		FC_INFO("sched", "alert %.128s: a capture for rule %s on %s is already running",
			ev->alert_id, ev->rule, target);
		return;
	}
	if (cooling_down(ls, target, ev->rule, now)) {
		FC_INFO("sched", "alert %.128s: rule %s on %s is cooling down", ev->alert_id,
			ev->rule, target);
		return;
	}
	spec = sched_alert_spec(rule, name, ls->subscription, ls->region, target, ev->alert_id,
				&err);
	if (!spec) {
		FC_ERROR("sched", "alert %.128s: %s", ev->alert_id, err.msg);
		return;
	}
	snprintf(request_id, sizeof(request_id), "alert:%s", ev->alert_id);
	struct fc_field_errors errs;
	fc_field_errors_init(&errs);
	if (fc_spec_validate(spec, FC_SPEC_FLEET, &errs) != 0) {
		ss_reject(st, k, spec, request_id,
			  FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST, errs.items[0].field,
			  errs.items[0].message, now);
		fc_spec_free(spec);
		return;
	}
	ss_create(st, k, spec, request_id, now);
}
