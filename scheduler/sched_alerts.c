/* sched_alerts: alert rules and the captures they make; see sched_alerts.h. */
#include "sched_alerts.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_json.h"
#include "fc_names.h"

/* One "capture" value as the text fc_spec_set takes. */
static int value_text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return snprintf(buf, len, "%s", json_string_value(v)) < (int)len ? 0 : -1;
	if (json_is_integer(v))
		return snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < (int)len
			       ? 0
			       : -1;
	return -1;
}

static int load_template(json_t *capture, fc_spec_t *spec, const char *rule, struct fc_err *err)
{
	struct fc_field_errors errs;
	const char *key;
	json_t *value;
	char text[FC_PATH_MAX + 1], msg[512];

	fc_field_errors_init(&errs);
	json_object_foreach(capture, key, value)
	{
		size_t n = json_is_array(value) ? json_array_size(value) : 1;
		for (size_t i = 0; i < n; i++) {
			json_t *item = json_is_array(value) ? json_array_get(value, i) : value;
			if (value_text(item, text, sizeof(text)) != 0) {
				fc_err_set(err, FC_ERR_INVALID,
					   "rule %s: capture.%s: expected a string or an integer",
					   rule, key);
				return -1;
			}
			if (fc_spec_set(spec, key, text, &errs) != 0)
				goto invalid;
		}
	}
	if (fc_spec_validate(spec, FC_SPEC_TEMPLATE, &errs) == 0)
		return 0;
invalid:
	fc_err_set(err, FC_ERR_INVALID, "rule %s: capture: %s", rule,
		   fc_field_errors_format(&errs, msg, sizeof(msg)));
	return -1;
}

static int load_rule(json_t *obj, struct sched_alert_rule *rule, size_t index, struct fc_err *err)
{
	const char *name = json_string_value(json_object_get(obj, "name"));
	json_t *sev = json_object_get(obj, "minSeverity");
	json_t *cooldown = json_object_get(obj, "cooldownSeconds");
	json_t *capture = json_object_get(obj, "capture");
	const char *key;
	json_t *value;

	/* A rule's name is carried in each capture's origin, which the validator
	 * checks like a capture name: a name it refuses would load, and then
	 * every alert's capture would be refused (found by fuzz_alert_rules). */
	if (!json_is_object(obj) || !name || strlen(name) > 64 || !fc_valid_name(name)) {
		fc_err_set(err, FC_ERR_INVALID,
			   "rules[%zu].name: expected 1-64 letters, digits, '_', '.' or '-', "
			   "starting with a letter or a digit",
			   index);
		return -1;
	}
	json_object_foreach(obj, key, value)
	{
		if (strcmp(key, "name") && strcmp(key, "minSeverity") &&
		    strcmp(key, "cooldownSeconds") && strcmp(key, "capture")) {
			fc_err_set(err, FC_ERR_INVALID,
				   "rule %s: unknown key \"%.64s\" (expected name, minSeverity, "
				   "cooldownSeconds, capture)",
				   name, key);
			return -1;
		}
	}
	rule->name = strdup(name);
	rule->min_severity = FLEETCAP__V1__SEVERITY__SEVERITY_INFO;
	if (sev && (!json_is_string(sev) ||
		    (rule->min_severity = fc_severity_parse(json_string_value(sev))) < 0)) {
		fc_err_set(err, FC_ERR_INVALID,
			   "rule %s: minSeverity: expected Info, Warning, Error or Critical", name);
		return -1;
	}
	if (cooldown && (!json_is_integer(cooldown) || json_integer_value(cooldown) < 0 ||
			 json_integer_value(cooldown) > 604800)) {
		fc_err_set(err, FC_ERR_INVALID, "rule %s: cooldownSeconds: expected 0-604800",
			   name);
		return -1;
	}
	rule->cooldown_ms = cooldown ? (int64_t)json_integer_value(cooldown) * 1000 : 0;
	if (!json_is_object(capture)) {
		fc_err_set(err, FC_ERR_INVALID, "rule %s: capture: expected an object", name);
		return -1;
	}
	if (!rule->name || !(rule->tmpl = fc_spec_new())) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	return load_template(capture, rule->tmpl, name, err);
}

struct sched_alert_rules *sched_alert_rules_load(const char *path, struct fc_err *err)
{
	struct sched_alert_rules *rules = calloc(1, sizeof(*rules));
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	json_t *list = root ? json_object_get(root, "rules") : NULL;

	if (!rules)
		goto oom;
	if (!root) {
		char reason[JSON_ERROR_TEXT_LENGTH];
		fc_err_set(err, FC_ERR_INVALID, "alerts.rules: %s:%d: %s", path, jerr.line,
			   fc_json_error_reason(&jerr, reason, sizeof(reason)));
		goto fail;
	}
	if (!json_is_array(list)) {
		fc_err_set(err, FC_ERR_INVALID, "alerts.rules: %s: expected {\"rules\": [...]}",
			   path);
		goto fail;
	}
	rules->items = calloc(json_array_size(list) + 1, sizeof(*rules->items));
	if (!rules->items)
		goto oom;
	for (size_t i = 0; i < json_array_size(list); i++) {
		struct sched_alert_rule *rule = &rules->items[rules->count++];
		if (load_rule(json_array_get(list, i), rule, i, err) != 0)
			goto fail;
		if (sched_alert_rule_find(rules, rule->name) != rule) {
			fc_err_set(err, FC_ERR_INVALID, "alerts.rules: rule %s is defined twice",
				   rule->name);
			goto fail;
		}
	}
	json_decref(root);
	return rules;
oom:
	fc_err_set(err, FC_ERR_FATAL, "out of memory");
fail:
	json_decref(root);
	sched_alert_rules_free(rules);
	return NULL;
}

void sched_alert_rules_free(struct sched_alert_rules *rules)
{
	if (!rules)
		return;
	for (size_t i = 0; i < rules->count; i++) {
		free(rules->items[i].name);
		fc_spec_free(rules->items[i].tmpl);
	}
	free(rules->items);
	free(rules);
}

const struct sched_alert_rule *sched_alert_rule_find(const struct sched_alert_rules *rules,
						     const char *name)
{
	for (size_t i = 0; rules && name && i < rules->count; i++)
		if (rules->items[i].name && strcmp(rules->items[i].name, name) == 0)
			return &rules->items[i];
	return NULL;
}

void sched_alert_capture_name(const char *alert_id, char *out, size_t len)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	/* "alert-" + id + "-" + 8 hex digits stays within FC_NAME_MAX. */
	size_t keep = FC_NAME_MAX - 6 - 9, n;

	SHA256((const unsigned char *)alert_id, strlen(alert_id), digest);
	n = strlen(alert_id) < keep ? strlen(alert_id) : keep;
	snprintf(out, len, "alert-%.*s-%02x%02x%02x%02x", (int)n, alert_id, digest[0], digest[1],
		 digest[2], digest[3]);
	for (char *c = out + 6; *c && c < out + 6 + n; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			*c = '-';
}

/* Replaces "{name}" in *slot (owned) by name. */
static int fill_name(char **slot, const char *name, const char *field, struct fc_err *err)
{
	const char *at = *slot ? strstr(*slot, "{name}") : NULL;
	char buf[FC_PATH_MAX + 1];
	char *copy;

	if (!at)
		return 0;
	if ((size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - *slot), *slot, name,
			     at + 6) >= sizeof(buf)) {
		fc_err_set(err, FC_ERR_INVALID, "%s is too long with the name filled in", field);
		return -1;
	}
	if (!(copy = strdup(buf))) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_owned(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	if (*slot != protobuf_c_empty_string)
		free(*slot);
	*slot = copy;
	return 0;
}

fc_spec_t *sched_alert_spec(const struct sched_alert_rule *rule, const char *name,
			    const char *subscription, const char *region, const char *target,
			    const char *alert_id, struct fc_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(&rule->tmpl->base);
	uint8_t *buf = malloc(len ? len : 1);
	fc_spec_t *spec = NULL;
	Fleetcap__V1__Origin *origin = NULL;

	if (!buf)
		goto oom;
	protobuf_c_message_pack(&rule->tmpl->base, buf);
	spec = fleetcap__v1__capture_spec__unpack(NULL, len, buf);
	free(buf);
	if (!spec || !(origin = calloc(1, sizeof(*origin))))
		goto oom;
	fleetcap__v1__origin__init(origin);
	spec->origin = origin;
	origin->kind = FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT;
	if (set_owned(&origin->alert_id, alert_id) || set_owned(&origin->rule, rule->name) ||
	    set_owned(&spec->name, name) || set_owned(&spec->subscription, subscription) ||
	    set_owned(&spec->region, region) || set_owned(&spec->target, target))
		goto oom;
	if (fill_name(&spec->file_path, name, "file-path", err) != 0 ||
	    fill_name(&spec->blob_url, name, "blob-url", err) != 0) {
		fc_spec_free(spec);
		return NULL;
	}
	return spec;
oom:
	fc_err_set(err, FC_ERR_FATAL, "out of memory");
	fc_spec_free(spec);
	return NULL;
}
