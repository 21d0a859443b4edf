/*
 * fc_spec_validate: the one validator of capture specs (see fc_spec.h).
 *
 * It checks every field against docs/ARCHITECTURE.md §1 and reports all bad fields at
 * once, each by its proto name with the value and what was expected, so a
 * user fixes a request in one round trip. Specs arrive from users (CLI, REST)
 * and from Kafka (Commands, Jobs), so nothing here trusts an enum value or a
 * length.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h> /* AF_INET */

#include "fc_blob_url.h"
#include "fc_filter.h"
#include "fc_spec.h"

static int all_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

int fc_valid_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= FC_NAME_MAX && isalnum((unsigned char)s[0]) && all_chars(s, "_.-");
}

int fc_valid_tenant(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= FC_TENANT_MAX && all_chars(s, "_.-");
}

int fc_valid_target(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= FC_TARGET_MAX && isalnum((unsigned char)s[0]) && all_chars(s, "_.:-");
}

static void check_word(const char *field, const char *value, int (*valid)(const char *),
		       const char *expected, int required, struct fc_field_errors *errs)
{
	char shown[FC_QUOTE_MAX];

	if (value[0] == '\0') {
		if (required)
			fc_field_errors_add(errs, field, "required: expected %s", expected);
		return;
	}
	if (!valid(value))
		fc_field_errors_add(errs, field, "%s is not valid: expected %s",
				    fc_quote(value, shown, sizeof(shown)), expected);
}

static int valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > FC_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s <= ' ' || *s >= 0x7f)
			return 0;
	return 1;
}

static void check_interfaces(const fc_spec_t *spec, enum fc_spec_mode mode,
			     struct fc_field_errors *errs)
{
	char field[48], shown[FC_QUOTE_MAX];

	if (spec->n_interfaces > FC_INTERFACES_MAX) {
		fc_field_errors_add(errs, "interfaces", "%zu interfaces: expected at most %d",
				    spec->n_interfaces, FC_INTERFACES_MAX);
		return;
	}
	if (mode == FC_SPEC_LOCAL && spec->n_interfaces == 0)
		fc_field_errors_add(errs, "interfaces",
				    "required: name at least one interface (-i), or any");
	for (size_t i = 0; i < spec->n_interfaces; i++) {
		const char *name = spec->interfaces[i];
		snprintf(field, sizeof(field), "interfaces[%zu]", i);
		if (!valid_ifname(name)) {
			fc_field_errors_add(errs, field,
					    "%s is not an interface name: expected 1-%d characters "
					    "without '/' or spaces",
					    fc_quote(name, shown, sizeof(shown)), FC_IFNAME_MAX);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(spec->interfaces[j], name) == 0)
				fc_field_errors_add(errs, field, "%s is listed twice",
						    fc_quote(name, shown, sizeof(shown)));
	}
}

static void check_filter(const fc_filter_t *f, size_t index, struct fc_field_errors *errs)
{
	static const struct {
		const char *name;
		size_t offset;
		int is_port;
	} fields[] = {
		{"local_ip", offsetof(fc_filter_t, local_ip), 0},
		{"remote_ip", offsetof(fc_filter_t, remote_ip), 0},
		{"local_port", offsetof(fc_filter_t, local_port), 1},
		{"remote_port", offsetof(fc_filter_t, remote_port), 1},
	};
	char field[48], why[320], shown[FC_QUOTE_MAX];
	struct fc_addr_set addrs[2]; /* local_ip, remote_ip */
	int parsed[2] = {0, 0};

	if (!fc_protocol_name((int)f->protocol)) {
		snprintf(field, sizeof(field), "filters[%zu].protocol", index);
		fc_field_errors_add(errs, field,
				    "unknown protocol value %d: expected TCP, UDP or Any",
				    (int)f->protocol);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *text = *(char *const *)((const char *)f + fields[i].offset);
		int rc;

		if (!text || text[0] == '\0')
			continue;
		snprintf(field, sizeof(field), "filters[%zu].%s", index, fields[i].name);
		if (fields[i].is_port) {
			struct fc_port_set ports;
			rc = fc_port_set_parse(text, &ports, why, sizeof(why));
		} else {
			rc = fc_addr_set_parse(text, &addrs[i], why, sizeof(why));
			parsed[i] = rc == 0;
		}
		if (rc != 0)
			fc_field_errors_add(errs, field, "%s: %s",
					    fc_quote(text, shown, sizeof(shown)), why);
	}
	/* A packet's two ends are of one family: such a filter would match nothing. */
	if (parsed[0] && parsed[1] &&
	    !(fc_addr_set_families(&addrs[0]) & fc_addr_set_families(&addrs[1]))) {
		snprintf(field, sizeof(field), "filters[%zu].remote_ip", index);
		fc_field_errors_add(
			errs, field,
			"%s is %s only and local_ip is %s only: no packet has one end "
			"in each; expected addresses of one family on both sides",
			fc_quote(f->remote_ip, shown, sizeof(shown)),
			fc_addr_set_families(&addrs[1]) == FC_FAMILY_V4 ? "IPv4" : "IPv6",
			fc_addr_set_families(&addrs[0]) == FC_FAMILY_V4 ? "IPv4" : "IPv6");
	}
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

static void check_file_path(const char *path, enum fc_spec_mode mode, struct fc_field_errors *errs)
{
	char shown[FC_QUOTE_MAX];
	size_t n = strlen(path);

	if (n > FC_PATH_MAX) {
		fc_field_errors_add(errs, "file_path", "longer than %d characters", FC_PATH_MAX);
		return;
	}
	for (const char *c = path; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			fc_field_errors_add(errs, "file_path", "%s holds a control character",
					    fc_quote(path, shown, sizeof(shown)));
			return;
		}
	}
	if (!has_suffix(path, ".pcap") && !has_suffix(path, ".cap"))
		fc_field_errors_add(errs, "file_path",
				    "%s: expected a file name ending in .pcap or .cap",
				    fc_quote(path, shown, sizeof(shown)));
	/* On a fleet host the path stays under the capture root: no "..". The
	 * worker's disk sink enforces the root itself (and refuses symlinks);
	 * this catches the mistake at the door. */
	if (mode != FC_SPEC_LOCAL) {
		const char *p = path;
		while (p) {
			if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
				fc_field_errors_add(errs, "file_path",
						    "%s: a \"..\" component is not allowed: "
						    "expected a path under the capture root",
						    fc_quote(path, shown, sizeof(shown)));
				break;
			}
			p = strchr(p, '/');
			if (p)
				p++;
		}
	}
}

/* Matches the segment s (up to '/' or the end) against chars, n_min-n_max long. */
static const char *segment(const char *s, const char *chars, size_t n_min, size_t n_max)
{
	size_t n = strspn(s, chars);

	if (n < n_min || n > n_max || (s[n] && s[n] != '/'))
		return NULL;
	return s + n;
}

/*
 * storage_id, the cloud API's storageLocation.storageId: an ARM storage
 * account id, /subscriptions/SUB/resourceGroups/RG/providers/
 * Microsoft.Storage/storageAccounts/ACCOUNT (the fixed words in any case).
 * It has no effect here (blob_url says where files go), so it needs one.
 */
static void check_storage_id(const fc_spec_t *spec, struct fc_field_errors *errs)
{
	static const char alnum_dash[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789-";
	static const char rg_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-_.()";
	static const char account_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	const char *id = spec->storage_id, *p = id;
	char shown[FC_QUOTE_MAX];

	if (!id[0])
		return;
	if (strlen(id) > 512) {
		fc_field_errors_add(errs, "storage_id", "longer than 512 characters");
		return;
	}
	if (strncasecmp(p, "/subscriptions/", 15) != 0 ||
	    !(p = segment(p + 15, alnum_dash, 1, 64)) ||
	    strncasecmp(p, "/resourceGroups/", 16) != 0 ||
	    !(p = segment(p + 16, rg_chars, 1, 90)) || p[-1] == '.' ||
	    strncasecmp(p, "/providers/Microsoft.Storage/storageAccounts/", 45) != 0 ||
	    !(p = segment(p + 45, account_chars, 3, 24)) || *p) {
		fc_field_errors_add(
			errs, "storage_id",
			"%s: expected /subscriptions/SUB/resourceGroups/GROUP/providers/"
			"Microsoft.Storage/storageAccounts/ACCOUNT (ACCOUNT 3-24 lowercase "
			"letters and digits)",
			fc_quote(id, shown, sizeof(shown)));
		return;
	}
	if (!spec->blob_url[0])
		fc_field_errors_add(
			errs, "storage_id",
			"names a storage account, not a blob: give blob_url too, which is "
			"where the files are uploaded");
}

static void check_storage(const fc_spec_t *spec, enum fc_spec_mode mode,
			  struct fc_field_errors *errs)
{
	char why[256], shown[FC_QUOTE_MAX];
	struct fc_blob_url url;

	if (spec->file_path[0] == '\0' && spec->blob_url[0] == '\0') {
		if (mode == FC_SPEC_LOCAL)
			fc_field_errors_add(errs, "file_path",
					    "required: expected an output file (-o PATH)");
		else
			fc_field_errors_add(errs, "file_path",
					    "at least one of file_path and blob_url is required");
	}
	if (mode == FC_SPEC_LOCAL && spec->file_path[0] == '\0' && spec->blob_url[0] != '\0')
		fc_field_errors_add(errs, "file_path",
				    "required: expected an output file (-o PATH)");
	if (spec->file_path[0])
		check_file_path(spec->file_path, mode, errs);
	if (spec->blob_url[0] && fc_blob_url_parse(spec->blob_url, &url, why, sizeof(why)) != 0)
		fc_field_errors_add(errs, "blob_url", "%s: %s",
				    fc_quote(spec->blob_url, shown, sizeof(shown)), why);
	if (spec->blob_sas[0]) {
		size_t n = strlen(spec->blob_sas);
		if (spec->blob_url[0] == '\0')
			fc_field_errors_add(errs, "blob_sas", "given without blob_url");
		if (n > FC_SAS_MAX)
			fc_field_errors_add(errs, "blob_sas", "longer than %d characters",
					    FC_SAS_MAX);
		else if (fc_blob_sas_check(spec->blob_sas, why, sizeof(why)) != 0)
			fc_field_errors_add(errs, "blob_sas", "%s", why);
	}
	check_storage_id(spec, errs);
}

static void check_ring(const Fleetcap__V1__RingBuffer *ring, struct fc_field_errors *errs)
{
	if (ring->file_count > FC_FILE_COUNT_MAX)
		fc_field_errors_add(errs, "ring.file_count", "%u is too large: expected 1 to %d",
				    ring->file_count, FC_FILE_COUNT_MAX);
	if (ring->session_time_limit_s > FC_SESSION_TIME_LIMIT_MAX)
		fc_field_errors_add(errs, "ring.session_time_limit_s",
				    "%u is too large: expected 1 to %d", ring->session_time_limit_s,
				    FC_SESSION_TIME_LIMIT_MAX);
	/* file_size is a uint32: every value fits its 1-4294967295 bound (0 = default). */
}

static void check_origin(const Fleetcap__V1__Origin *origin, struct fc_field_errors *errs)
{
	char shown[FC_QUOTE_MAX];

	switch (origin->kind) {
	case FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_MANUAL:
		return;
	case FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT:
		if (origin->alert_id[0] == '\0' || strlen(origin->alert_id) > FC_ALERT_ID_MAX ||
		    !all_chars(origin->alert_id, "_.:-"))
			fc_field_errors_add(errs, "origin.alert_id",
					    "%s is not valid: expected 1-%d letters, digits, '_', "
					    "'.', ':' or '-'",
					    fc_quote(origin->alert_id, shown, sizeof(shown)),
					    FC_ALERT_ID_MAX);
		if (!fc_valid_name(origin->rule))
			fc_field_errors_add(
				errs, "origin.rule",
				"%s is not valid: expected a rule name like a capture name",
				fc_quote(origin->rule, shown, sizeof(shown)));
		return;
	default:
		fc_field_errors_add(errs, "origin.kind",
				    "unknown value %d: expected manual or alert",
				    (int)origin->kind);
	}
}

/* One scope list: instance ids, no repeats, at most FC_GROUP_INSTANCES_MAX. */
static void check_scope_list(const char *list, char **items, size_t n, struct fc_field_errors *errs)
{
	char shown[FC_QUOTE_MAX], field[40];

	if (n > FC_GROUP_INSTANCES_MAX) {
		snprintf(field, sizeof(field), "scope.%s", list);
		fc_field_errors_add(errs, field, "%zu instances: expected at most %d", n,
				    FC_GROUP_INSTANCES_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "scope.%s[%zu]", list, i);
		if (!fc_valid_target(items[i])) {
			fc_field_errors_add(errs, field,
					    "%s is not valid: expected an instance id "
					    "[A-Za-z0-9][A-Za-z0-9_.:-]{0,%d}",
					    fc_quote(items[i], shown, sizeof(shown)),
					    FC_TARGET_MAX - 1);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0) {
				fc_field_errors_add(errs, field, "%s is listed twice",
						    fc_quote(items[i], shown, sizeof(shown)));
				break;
			}
	}
}

/* target_type and scope; target itself is checked by the caller. */
static void check_target_type(const fc_spec_t *spec, struct fc_field_errors *errs)
{
	const Fleetcap__V1__Scope *sc = spec->scope;

	switch (spec->target_type) {
	case FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_HOST:
		if (sc && (sc->n_include || sc->n_exclude))
			fc_field_errors_add(errs, "scope",
					    "given for a single host: a scope selects "
					    "instances of a group target");
		return;
	case FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP:
		if (sc) {
			check_scope_list("include", sc->include, sc->n_include, errs);
			check_scope_list("exclude", sc->exclude, sc->n_exclude, errs);
		}
		return;
	default:
		fc_field_errors_add(errs, "target_type", "unknown value %d: expected host or group",
				    (int)spec->target_type);
	}
}

int fc_spec_validate(const fc_spec_t *spec, enum fc_spec_mode mode, struct fc_field_errors *errs)
{
	size_t before = errs->count + errs->dropped;
	int fleet = mode == FC_SPEC_FLEET;
	char name_expected[64], tenant_expected[64], target_expected[64];

	snprintf(name_expected, sizeof(name_expected), "[A-Za-z0-9][A-Za-z0-9_.-]{0,%d}",
		 FC_NAME_MAX - 1);
	snprintf(tenant_expected, sizeof(tenant_expected), "[A-Za-z0-9_.-]{1,%d}", FC_TENANT_MAX);
	snprintf(target_expected, sizeof(target_expected),
		 "a host id [A-Za-z0-9][A-Za-z0-9_.:-]{0,%d}", FC_TARGET_MAX - 1);

	if (mode != FC_SPEC_LOCAL) {
		check_word("name", spec->name, fc_valid_name, name_expected, fleet, errs);
		check_word("subscription", spec->subscription, fc_valid_tenant, tenant_expected,
			   fleet, errs);
		check_word("region", spec->region, fc_valid_tenant, tenant_expected, fleet, errs);
		if (spec->target_type == FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP)
			/* A group capture's template names its group: the alert's
			 * host does not choose it. */
			check_word("target", spec->target, fc_valid_name,
				   "a group name [A-Za-z0-9][A-Za-z0-9_.-]{0,79}", 1, errs);
		else
			check_word("target", spec->target, fc_valid_target, target_expected, fleet,
				   errs);
		check_target_type(spec, errs);
	}
	check_interfaces(spec, mode, errs);

	if (spec->time_limit_s > FC_TIME_LIMIT_MAX)
		fc_field_errors_add(errs, "time_limit_s",
				    "%u is too large: expected 0 to %d seconds", spec->time_limit_s,
				    FC_TIME_LIMIT_MAX);
	if (spec->queue_timeout_s > FC_QUEUE_TIMEOUT_MAX)
		fc_field_errors_add(errs, "queue_timeout_s",
				    "%u is too large: expected 0 to %d seconds",
				    spec->queue_timeout_s, FC_QUEUE_TIMEOUT_MAX);
	/* bytes_per_packet and bytes_per_session are uint32: every value is in range. */

	if (spec->n_filters > FC_FILTERS_MAX)
		fc_field_errors_add(errs, "filters", "%zu filters: expected at most %d",
				    spec->n_filters, FC_FILTERS_MAX);
	else
		for (size_t i = 0; i < spec->n_filters; i++)
			check_filter(spec->filters[i], i, errs);

	/* A template too: a rule without an output would load, and then every
	 * alert's capture would be refused (found by fuzz_alert_rules). */
	check_storage(spec, mode, errs);
	if (spec->ring)
		check_ring(spec->ring, errs);
	if (spec->origin)
		check_origin(spec->origin, errs);

	return errs->count + errs->dropped == before ? 0 : -1;
}
