/* api_json: the REST API's bodies; see api_json.h. */
#include "api_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_filter.h"
#include "fc_json.h"
#include "fc_names.h"

/* ------------------------------------------------------------ PUT body */

/* An integer property, checked against its §1 bounds by fc_spec_set. */
struct number_prop {
	const char *json;     /* key inside its object */
	const char *spec_key; /* fc_spec_set's key */
};

static const struct number_prop top_numbers[] = {
	{"bytesToCapturePerPacket", "bytes-per-packet"},
	{"totalBytesPerSession", "bytes-per-session"},
	{"timeLimitInSeconds", "time-limit"},
	{"queueTimeoutInSeconds", "queue-timeout"},
};

static const struct number_prop settings_numbers[] = {
	{"fileCount", "file-count"},
	{"fileSizeInBytes", "file-size"},
	{"sessionTimeLimitInSeconds", "session-time-limit"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Spec field names (fc_spec_validate's, fc_spec_set's) → JSON paths. */
static const struct {
	const char *field, *path;
} paths[] = {
	{"name", "name"},
	{"subscription", "subscription"},
	{"region", "region"},
	{"target", "properties.target"},
	{"target_type", "properties.targetType"},
	{"target-group", "properties.target"},
	{"bytes-per-packet", "properties.bytesToCapturePerPacket"},
	{"bytes-per-session", "properties.totalBytesPerSession"},
	{"time-limit", "properties.timeLimitInSeconds"},
	{"time_limit_s", "properties.timeLimitInSeconds"},
	{"queue-timeout", "properties.queueTimeoutInSeconds"},
	{"queue_timeout_s", "properties.queueTimeoutInSeconds"},
	{"file-path", "properties.storageLocation.filePath"},
	{"file_path", "properties.storageLocation.filePath"},
	{"blob-url", "properties.storageLocation.storagePath"},
	{"blob_url", "properties.storageLocation.storagePath"},
	{"blob-sas", "properties.storageLocation.storagePath"},
	{"blob_sas", "properties.storageLocation.storagePath"},
	{"storage-id", "properties.storageLocation.storageId"},
	{"storage_id", "properties.storageLocation.storageId"},
	{"file-count", "properties.captureSettings.fileCount"},
	{"ring.file_count", "properties.captureSettings.fileCount"},
	{"file-size", "properties.captureSettings.fileSizeInBytes"},
	{"session-time-limit", "properties.captureSettings.sessionTimeLimitInSeconds"},
	{"ring.session_time_limit_s", "properties.captureSettings.sessionTimeLimitInSeconds"},
	{"interfaces", "properties.interfaces"},
};

/* The validator's filter sub-fields → the API's. */
static const struct {
	const char *field, *json;
} filter_fields[] = {
	{"local_ip", "localIPAddress"}, {"remote_ip", "remoteIPAddress"},
	{"local_port", "localPort"},	{"remote_port", "remotePort"},
	{"protocol", "protocol"},
};

/* The spec's field names that messages mention → the API's names. */
static const struct {
	const char *spec, *api;
} words[] = {
	{"file_path", "filePath"},	  {"blob_url", "storagePath"},
	{"storage_id", "storageId"},	  {"local_ip", "localIPAddress"},
	{"remote_ip", "remoteIPAddress"}, {"local_port", "localPort"},
	{"remote_port", "remotePort"},
};

static int word_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Rewrites the spec's field names in msg (as whole words) to the API's, so
 * that a message names the fields a user of the API wrote. */
static void to_api_words(char *msg, size_t size)
{
	char out[sizeof(((struct fc_field_error *)0)->message)];
	size_t o = 0;

	for (const char *p = msg; *p && o + 1 < sizeof(out);) {
		size_t k = COUNT(words);
		if (p == msg || !word_char(p[-1]))
			for (k = 0; k < COUNT(words); k++) {
				size_t n = strlen(words[k].spec);
				if (strncmp(p, words[k].spec, n) == 0 && !word_char(p[n]))
					break;
			}
		if (k < COUNT(words)) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", words[k].api);
			if (o >= sizeof(out))
				o = sizeof(out) - 1;
			p += strlen(words[k].spec);
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	snprintf(msg, size, "%s", out);
}

void api_field_path(char *field, size_t size)
{
	char out[64];
	size_t index;
	int used;

	if (strncmp(field, "properties.", 11) == 0)
		return;
	if (sscanf(field, "filters[%zu]%n", &index, &used) == 1) {
		const char *sub = field[used] == '.' ? field + used + 1 : NULL;
		for (size_t k = 0; sub && k < COUNT(filter_fields); k++)
			if (strcmp(sub, filter_fields[k].field) == 0)
				sub = filter_fields[k].json;
		if (sub)
			snprintf(out, sizeof(out), "properties.filters[%zu].%s", index, sub);
		else
			snprintf(out, sizeof(out), "properties.filters[%zu]", index);
		snprintf(field, size, "%s", out);
		return;
	}
	if (strcmp(field, "filters") == 0 || strcmp(field, "filter") == 0) {
		snprintf(field, size, "properties.filters");
		return;
	}
	if (strncmp(field, "scope", 5) == 0 && (field[5] == '.' || field[5] == '\0')) {
		snprintf(out, sizeof(out), "properties.%s", field);
		snprintf(field, size, "%s", out);
		return;
	}
	for (size_t k = 0; k < COUNT(paths); k++)
		if (strcmp(field, paths[k].field) == 0) {
			snprintf(field, size, "%s", paths[k].path);
			return;
		}
}

/* Rewrites each error's field from the spec's name to its JSON path. */
static void to_json_paths(struct fc_field_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++) {
		to_api_words(errs->items[i].message, sizeof(errs->items[i].message));
		api_field_path(errs->items[i].field, sizeof(errs->items[i].field));
	}
}

/* Refuses any key of obj not in allowed (NULL-terminated). */
static int only_keys(json_t *obj, const char *path, const char *const *allowed,
		     struct fc_field_errors *errs)
{
	const char *key;
	json_t *value;
	int rc = 0;

	json_object_foreach(obj, key, value)
	{
		size_t k = 0;
		while (allowed[k] && strcmp(allowed[k], key) != 0)
			k++;
		if (allowed[k])
			continue;
		char list[400] = "";
		for (size_t j = 0; allowed[j]; j++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 j ? ", " : "", allowed[j]);
		fc_field_errors_add(errs, path, "unknown key \"%.64s\": expected one of %s", key,
				    list);
		rc = -1;
	}
	return rc;
}

/* An optional object member of the expected JSON type; -1 (error added)
 * when present with another type. */
static int member(json_t *obj, const char *key, const char *path, json_type type,
		  const char *expected, json_t **out, struct fc_field_errors *errs)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (json_typeof(v) != type) {
		fc_field_errors_add(errs, path, "expected %s", expected);
		return -1;
	}
	*out = v;
	return 0;
}

static void put_numbers(fc_spec_t *spec, json_t *obj, const char *prefix,
			const struct number_prop *props, size_t n, struct fc_field_errors *errs)
{
	for (size_t i = 0; i < n; i++) {
		char path[128], text[32];
		json_t *v;
		snprintf(path, sizeof(path), "%s.%s", prefix, props[i].json);
		if (member(obj, props[i].json, path, JSON_INTEGER, "an integer", &v, errs) != 0 ||
		    !v)
			continue;
		snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		fc_spec_set(spec, props[i].spec_key, text, errs);
	}
}

/*
 * storagePath: the blob URL, optionally with its SAS token as the query.
 * filePath and localPath both name the file on the host (the cloud API has
 * both); storageId is checked and echoed back (spec.storage_id).
 */
static void put_storage(fc_spec_t *spec, json_t *loc, struct fc_field_errors *errs)
{
	static const char *const keys[] = {"filePath", "localPath", "storagePath", "storageId",
					   NULL};
	json_t *file, *local, *blob, *id;

	if (only_keys(loc, "properties.storageLocation", keys, errs) != 0)
		return;
	if (member(loc, "filePath", "properties.storageLocation.filePath", JSON_STRING, "a string",
		   &file, errs) == 0 &&
	    file)
		fc_spec_set(spec, "file-path", json_string_value(file), errs);
	if (member(loc, "localPath", "properties.storageLocation.localPath", JSON_STRING,
		   "a string", &local, errs) == 0 &&
	    local) {
		if (!file)
			fc_spec_set(spec, "file-path", json_string_value(local), errs);
		else if (json_is_string(file) &&
			 strcmp(json_string_value(file), json_string_value(local)) != 0)
			fc_field_errors_add(
				errs, "properties.storageLocation.localPath",
				"differs from filePath: both name the file on the host; "
				"give one, or the same in both");
	}
	if (member(loc, "storageId", "properties.storageLocation.storageId", JSON_STRING,
		   "a string (a storage account's resource id)", &id, errs) == 0 &&
	    id)
		fc_spec_set(spec, "storage-id", json_string_value(id), errs);
	if (member(loc, "storagePath", "properties.storageLocation.storagePath", JSON_STRING,
		   "a string", &blob, errs) != 0 ||
	    !blob)
		return;
	const char *url = json_string_value(blob), *query = strchr(url, '?');
	char base[2048];
	if (query && (size_t)(query - url) < sizeof(base)) {
		memcpy(base, url, (size_t)(query - url));
		base[query - url] = '\0';
		fc_spec_set(spec, "blob-url", base, errs);
		fc_spec_set(spec, "blob-sas", query + 1, errs);
	} else {
		fc_spec_set(spec, "blob-url", url, errs);
	}
}

/* Each of scope's lists: an array of instance ids (strings), into spec. */
static void scope_list(fc_spec_t *spec, json_t *scope, const char *key,
		       struct fc_field_errors *errs)
{
	char path[64];
	json_t *list;

	snprintf(path, sizeof(path), "properties.scope.%s", key);
	if (member(scope, key, path, JSON_ARRAY, "an array of instance ids", &list, errs) != 0 ||
	    !list)
		return;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *item = json_array_get(list, i);
		if (!json_is_string(item)) {
			snprintf(path, sizeof(path), "properties.scope.%s[%zu]", key, i);
			fc_field_errors_add(errs, path, "expected an instance id (a string)");
			continue;
		}
		/* One item at a time: an id holding a comma is refused as such. */
		if (strchr(json_string_value(item), ',')) {
			snprintf(path, sizeof(path), "properties.scope.%s[%zu]", key, i);
			fc_field_errors_add(errs, path, "an instance id holds no comma");
			continue;
		}
		fc_spec_set(spec, key, json_string_value(item), errs);
	}
}

/*
 * targetType and scope: AzureVM (the default) targets one host; AzureVMSS a
 * group of workers (target names the group), narrowed by scope.include and
 * scope.exclude (instance ids). A scope that selects instances of one host
 * is refused by the validator.
 */
static void put_target_type(fc_spec_t *spec, json_t *p, struct fc_field_errors *errs)
{
	static const char *const scope_keys[] = {"include", "exclude", NULL};
	json_t *type, *scope;

	if (member(p, "targetType", "properties.targetType", JSON_STRING,
		   "\"AzureVM\" or \"AzureVMSS\"", &type, errs) == 0 &&
	    type) {
		const char *t = json_string_value(type);
		if (strcmp(t, "AzureVMSS") == 0)
			spec->target_type = FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP;
		else if (strcmp(t, "AzureVM") != 0)
			fc_field_errors_add(errs, "properties.targetType",
					    "\"%.64s\" is not valid: expected \"AzureVM\" (one "
					    "host) or \"AzureVMSS\" (a group)",
					    t);
	}
	if (member(p, "scope", "properties.scope", JSON_OBJECT, "an object", &scope, errs) != 0 ||
	    !scope || only_keys(scope, "properties.scope", scope_keys, errs) != 0)
		return;
	scope_list(spec, scope, "include", errs);
	scope_list(spec, scope, "exclude", errs);
}

static void put_properties(fc_spec_t *spec, json_t *p, struct fc_field_errors *errs)
{
	static const char *const keys[] = {"target",
					   "targetType",
					   "scope",
					   "bytesToCapturePerPacket",
					   "totalBytesPerSession",
					   "timeLimitInSeconds",
					   "storageLocation",
					   "filters",
					   "continuousCapture",
					   "captureSettings",
					   "queueTimeoutInSeconds",
					   NULL};
	static const char *const settings_keys[] = {"fileCount", "fileSizeInBytes",
						    "sessionTimeLimitInSeconds", NULL};
	json_t *v;

	if (only_keys(p, "properties", keys, errs) != 0)
		return;
	if (member(p, "target", "properties.target", JSON_STRING,
		   "a string (a host id, or a group with AzureVMSS)", &v, errs) == 0) {
		if (!v)
			fc_field_errors_add(errs, "properties.target",
					    "required: expected a host id, or a group with "
					    "targetType \"AzureVMSS\"");
		else
			fc_spec_set(spec, "target", json_string_value(v), errs);
	}
	put_target_type(spec, p, errs);
	put_numbers(spec, p, "properties", top_numbers, COUNT(top_numbers), errs);
	if (member(p, "storageLocation", "properties.storageLocation", JSON_OBJECT, "an object", &v,
		   errs) == 0 &&
	    v)
		put_storage(spec, v, errs);
	if (member(p, "filters", "properties.filters", JSON_ARRAY, "an array of filter objects", &v,
		   errs) == 0 &&
	    v) {
		char *text = json_dumps(v, JSON_COMPACT);
		if (text)
			fc_spec_add_filters_json(spec, text, errs);
		free(text);
	}
	json_t *cc = json_object_get(p, "continuousCapture"), *settings = NULL;
	int continuous = json_is_true(cc);
	if (cc && !json_is_boolean(cc))
		fc_field_errors_add(errs, "properties.continuousCapture", "expected true or false");
	if (member(p, "captureSettings", "properties.captureSettings", JSON_OBJECT, "an object",
		   &settings, errs) == 0 &&
	    settings) {
		if (!continuous)
			fc_field_errors_add(errs, "properties.captureSettings",
					    "given without \"continuousCapture\": true");
		else if (only_keys(settings, "properties.captureSettings", settings_keys, errs) ==
			 0)
			put_numbers(spec, settings, "properties.captureSettings", settings_numbers,
				    COUNT(settings_numbers), errs);
	}
	if (continuous && !spec->ring) { /* a ring of the defaults */
		char count[16];
		snprintf(count, sizeof(count), "%d", FC_FILE_COUNT_DEFAULT);
		fc_spec_set(spec, "file-count", count, errs);
	}
}

fc_spec_t *api_spec_from_body(const char *body, size_t len, const char *sub, const char *region,
			      const char *name, struct fc_field_errors *errs)
{
	static const char *const keys[] = {"properties", NULL};
	fc_spec_t *spec = fc_spec_new();
	json_error_t jerr;
	char reason[JSON_ERROR_TEXT_LENGTH];
	json_t *root = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	json_t *props;

	fc_field_errors_init(errs);
	if (!spec) {
		fc_field_errors_add(errs, "body", "out of memory");
		json_decref(root);
		return NULL;
	}
	fc_spec_set(spec, "name", name, errs);
	fc_spec_set(spec, "subscription", sub, errs);
	fc_spec_set(spec, "region", region, errs);
	if (!len)
		fc_field_errors_add(errs, "body",
				    "empty: expected a JSON object with \"properties\"");
	else if (!root)
		fc_field_errors_add(errs, "body", "not valid JSON at line %d column %d: %s",
				    jerr.line, jerr.column,
				    fc_json_error_reason(&jerr, reason, sizeof(reason)));
	else if (!json_is_object(root))
		fc_field_errors_add(errs, "body", "expected a JSON object with \"properties\"");
	else if (only_keys(root, "body", keys, errs) == 0 &&
		 member(root, "properties", "properties", JSON_OBJECT, "an object", &props, errs) ==
			 0) {
		if (!props)
			fc_field_errors_add(errs, "properties", "required: expected an object");
		else
			put_properties(spec, props, errs);
	}
	json_decref(root);
	if (!errs->count && !errs->dropped)
		fc_spec_validate(spec, FC_SPEC_FLEET, errs);
	if (errs->count || errs->dropped) {
		to_json_paths(errs);
		fc_spec_free(spec);
		return NULL;
	}
	return spec;
}

/* ----------------------------------------------------------- responses */

void api_resource_id(const char *sub, const char *region, const char *name, char *out, size_t len)
{
	snprintf(out, len, "/subscriptions/%s/regions/%s/packetCaptures/%s", sub, region, name);
}

static json_t *text_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
	char buf[FC_TIME_ISO_LEN];
	return ms ? json_string(fc_time_iso(ms, buf)) : json_null();
}

static json_t *filters_json(const fc_spec_t *spec)
{
	json_t *list = json_array();

	for (size_t i = 0; spec && i < spec->n_filters; i++) {
		const fc_filter_t *f = spec->filters[i];
		json_t *o = json_object();
		const char *proto = fc_protocol_name((int)f->protocol);
		json_object_set_new(o, "protocol", json_string(proto ? proto : "Any"));
		if (f->local_ip && *f->local_ip)
			json_object_set_new(o, "localIPAddress", json_string(f->local_ip));
		if (f->remote_ip && *f->remote_ip)
			json_object_set_new(o, "remoteIPAddress", json_string(f->remote_ip));
		if (f->local_port && *f->local_port)
			json_object_set_new(o, "localPort", json_string(f->local_port));
		if (f->remote_port && *f->remote_port)
			json_object_set_new(o, "remotePort", json_string(f->remote_port));
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *strings_json(char *const *items, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(items[i]));
	return arr;
}

/* The request as admitted (the SAS token is never in a status). */
static json_t *properties_json(const api_status_t *s)
{
	const fc_spec_t *spec = s->spec;
	json_t *p = json_object();
	const char *state = fc_state_name((int)s->state);

	json_object_set_new(p, "provisioningState",
			    json_string(s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR
						? "Failed"
						: "Succeeded"));
	const Fleetcap__V1__Scope *sc = spec ? spec->scope : NULL;
	json_object_set_new(p, "target", text_or_null(s->target));
	json_object_set_new(
		p, "targetType",
		json_string(spec && spec->target_type ==
						    FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP
				    ? "AzureVMSS"
				    : "AzureVM"));
	json_object_set_new(
		p, "scope",
		json_pack("{s:o, s:o}", "include",
			  strings_json(sc ? sc->include : NULL, sc ? sc->n_include : 0), "exclude",
			  strings_json(sc ? sc->exclude : NULL, sc ? sc->n_exclude : 0)));
	json_object_set_new(p, "packetCaptureStatus", json_string(state));
	if (!spec)
		return p;
	json_object_set_new(p, "bytesToCapturePerPacket", json_integer(spec->bytes_per_packet));
	json_object_set_new(p, "totalBytesPerSession",
			    json_integer(spec->bytes_per_session ? spec->bytes_per_session
								 : FC_BYTES_PER_SESSION_DEFAULT));
	json_object_set_new(
		p, "timeLimitInSeconds",
		json_integer(spec->time_limit_s ? spec->time_limit_s : FC_TIME_LIMIT_DEFAULT));
	json_object_set_new(p, "storageLocation",
			    json_pack("{s:o, s:o, s:o, s:o}", "filePath",
				      text_or_null(spec->file_path), "localPath",
				      text_or_null(spec->file_path), "storagePath",
				      text_or_null(spec->blob_url), "storageId",
				      text_or_null(spec->storage_id)));
	json_object_set_new(p, "filters", filters_json(spec));
	json_object_set_new(p, "continuousCapture", json_boolean(spec->ring != NULL));
	if (spec->ring)
		json_object_set_new(
			p, "captureSettings",
			json_pack("{s:I, s:I, s:I}", "fileCount",
				  (json_int_t)(spec->ring->file_count ? spec->ring->file_count
								      : FC_FILE_COUNT_DEFAULT),
				  "fileSizeInBytes",
				  (json_int_t)(spec->ring->file_size ? spec->ring->file_size
								     : FC_FILE_SIZE_DEFAULT),
				  "sessionTimeLimitInSeconds",
				  (json_int_t)(spec->ring->session_time_limit_s
						       ? spec->ring->session_time_limit_s
						       : FC_SESSION_TIME_LIMIT_DEFAULT)));
	json_object_set_new(p, "queueTimeoutInSeconds", json_integer(spec->queue_timeout_s));
	return p;
}

json_t *api_resource_json(const api_status_t *s)
{
	char id[512];

	api_resource_id(s->subscription, s->region, s->name, id, sizeof(id));
	return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", s->name, "type",
			 "fleetcap/packetCaptures", "properties", properties_json(s));
}

static json_t *files_json(Fleetcap__V1__CaptureFile *const *files, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr,
				      json_pack("{s:o, s:o, s:I, s:s}", "filePath",
						text_or_null(files[i]->local_path), "storagePath",
						text_or_null(files[i]->blob_url), "sizeInBytes",
						(json_int_t)files[i]->size, "sha256",
						files[i]->sha256 ? files[i]->sha256 : ""));
	return arr;
}

static json_t *errors_json(int error, const char *message)
{
	json_t *arr = json_array();

	if (error)
		json_array_append_new(arr,
				      json_pack("{s:s, s:s}", "code", fc_error_code_name(error),
						"message", message ? message : ""));
	return arr;
}

/* The state, outcome, counters and files shared by a capture and each of
 * its instances, in the shape of PacketCaptureQueryStatusResult. */
static json_t *outcome_json(int state, int stop_reason, int error, const char *message,
			    int64_t start_ms, const Fleetcap__V1__Counters *c,
			    Fleetcap__V1__CaptureFile *const *files, size_t n_files)
{
	return json_pack(
		"{s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:o}", "packetCaptureStatus",
		fc_state_name(state), "stopReason", text_or_null(fc_stop_reason_name(stop_reason)),
		"captureStartTime", time_or_null(start_ms), "packetCaptureError",
		errors_json(error, message), "packetsCaptured", (json_int_t)(c ? c->packets : 0),
		"bytesCaptured", (json_int_t)(c ? c->bytes : 0), "kernelDrops",
		(json_int_t)(c ? c->kernel_drops : 0), "files", files_json(files, n_files));
}

json_t *api_query_status_json(const api_status_t *s)
{
	char id[512];
	json_t *o =
		outcome_json((int)s->state, (int)s->stop_reason, (int)s->error, s->error_message,
			     s->capture_start_time_ms, s->counters, s->files, s->n_files);

	api_resource_id(s->subscription, s->region, s->name, id, sizeof(id));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "updatedTime", time_or_null(s->updated_time_ms));
	if (s->n_instances) {
		json_t *arr = json_array();
		for (size_t i = 0; i < s->n_instances; i++) {
			const Fleetcap__V1__InstanceState *in = s->instances[i];
			json_t *x =
				outcome_json((int)in->state, (int)in->stop_reason, (int)in->error,
					     in->error_message, in->capture_start_time_ms,
					     in->counters, in->files, in->n_files);
			json_object_set_new(x, "instance", json_string(in->instance));
			json_object_set_new(x, "target", json_string(in->host_id));
			json_array_append_new(arr, x);
		}
		json_object_set_new(o, "instances", arr);
	}
	return o;
}

json_t *api_error_json(const char *code, const char *message, const char *target)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

	json_object_set_new(e, "target", text_or_null(target));
	return json_pack("{s:o}", "error", e);
}

json_t *api_field_errors_json(const struct fc_field_errors *errs)
{
	json_t *details = json_array();

	for (size_t i = 0; i < errs->count; i++)
		json_array_append_new(
			details, json_pack("{s:s, s:s, s:s}", "code", "InvalidRequest", "message",
					   errs->items[i].message, "target", errs->items[i].field));
	json_t *out = api_error_json("InvalidRequest",
				     errs->count ? errs->items[0].message : "invalid request",
				     errs->count ? errs->items[0].field : NULL);
	json_object_set_new(json_object_get(out, "error"), "details", details);
	return out;
}
