/* fc_spec: building specs from text (see fc_spec.h); validation is in fc_spec_validate.c. */
#include "fc_spec.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "fc_filter.h"
#include "fc_json.h"
#include "fc_parse.h"

#define FC_SPEC_TEXT_MAX 4096 /* longest text value fc_spec_set stores */

fc_spec_t *fc_spec_new(void)
{
	fc_spec_t *spec = malloc(sizeof(*spec));
	if (spec)
		fleetcap__v1__capture_spec__init(spec);
	return spec;
}

void fc_spec_free(fc_spec_t *spec)
{
	if (spec)
		protobuf_c_message_free_unpacked(&spec->base, NULL);
}

int fc_spec_digest(const fc_spec_t *spec, uint8_t out[FC_SPEC_DIGEST_LEN])
{
	/* Cast away const only to blank the secret while packing; restored below. */
	fc_spec_t *s = (fc_spec_t *)spec;
	char *sas = s->blob_sas;
	Fleetcap__V1__SealedSecret *sealed = s->blob_sas_sealed;
	size_t len;
	uint8_t *buf;

	s->blob_sas = (char *)"";
	s->blob_sas_sealed = NULL; /* sealed afresh each time: never part of the digest */
	len = protobuf_c_message_get_packed_size(&s->base);
	buf = malloc(len ? len : 1);
	if (buf)
		protobuf_c_message_pack(&s->base, buf);
	s->blob_sas = sas;
	s->blob_sas_sealed = sealed;
	if (!buf)
		return -1;
	SHA256(buf, len, out);
	free(buf);
	return 0;
}

static int set_str(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	if (*slot && *slot != protobuf_c_empty_string)
		free(*slot);
	*slot = copy;
	return 0;
}

static int append_str(char ***items, size_t *n, const char *value)
{
	char *copy = strdup(value);
	char **grown = copy ? realloc(*items, (*n + 1) * sizeof(**items)) : NULL;
	if (!grown) {
		free(copy);
		return -1;
	}
	grown[(*n)++] = copy;
	*items = grown;
	return 0;
}

/* Appends the instance ids of a comma-separated list to scope.include or
 * scope.exclude; fc_spec_validate() checks them. */
static int add_scope(fc_spec_t *spec, int include, const char *list)
{
	if (!spec->scope) {
		if (!(spec->scope = malloc(sizeof(*spec->scope))))
			return -1;
		fleetcap__v1__scope__init(spec->scope);
	}
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		char item[FC_SPEC_TEXT_MAX + 1];
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		if (include ? append_str(&spec->scope->include, &spec->scope->n_include, item)
			    : append_str(&spec->scope->exclude, &spec->scope->n_exclude, item))
			return -1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static Fleetcap__V1__RingBuffer *ring_of(fc_spec_t *spec)
{
	if (!spec->ring) {
		spec->ring = malloc(sizeof(*spec->ring));
		if (spec->ring)
			fleetcap__v1__ring_buffer__init(spec->ring);
	}
	return spec->ring;
}

/* The numeric options, with the §1 bounds that text input is held to. */
struct number_key {
	const char *key;
	long long min, max;
	int in_ring;
	size_t offset; /* into fc_spec_t or, when in_ring, into the RingBuffer */
};

static const struct number_key number_keys[] = {
	{"bytes-per-packet", 0, UINT32_MAX, 0, offsetof(fc_spec_t, bytes_per_packet)},
	{"bytes-per-session", 0, UINT32_MAX, 0, offsetof(fc_spec_t, bytes_per_session)},
	{"time-limit", 0, FC_TIME_LIMIT_MAX, 0, offsetof(fc_spec_t, time_limit_s)},
	{"queue-timeout", 0, FC_QUEUE_TIMEOUT_MAX, 0, offsetof(fc_spec_t, queue_timeout_s)},
	{"file-count", 1, FC_FILE_COUNT_MAX, 1, offsetof(Fleetcap__V1__RingBuffer, file_count)},
	{"file-size", 1, UINT32_MAX, 1, offsetof(Fleetcap__V1__RingBuffer, file_size)},
	{"session-time-limit", 1, FC_SESSION_TIME_LIMIT_MAX, 1,
	 offsetof(Fleetcap__V1__RingBuffer, session_time_limit_s)},
};

struct string_key {
	const char *key;
	size_t offset;
};

static const struct string_key string_keys[] = {
	{"name", offsetof(fc_spec_t, name)},
	{"subscription", offsetof(fc_spec_t, subscription)},
	{"region", offsetof(fc_spec_t, region)},
	{"target", offsetof(fc_spec_t, target)},
	{"file-path", offsetof(fc_spec_t, file_path)},
	{"blob-url", offsetof(fc_spec_t, blob_url)},
	{"blob-sas", offsetof(fc_spec_t, blob_sas)},
	{"storage-id", offsetof(fc_spec_t, storage_id)},
};

static int set_number(fc_spec_t *spec, const struct number_key *k, const char *value,
		      struct fc_field_errors *errs)
{
	char shown[FC_QUOTE_MAX];
	long long v;
	void *base = spec;

	if (fc_parse_ll(value, k->min, k->max, &v) != FC_PARSE_OK) {
		fc_field_errors_add(errs, k->key,
				    "%s is not valid: expected an integer from %lld to %lld",
				    fc_quote(value, shown, sizeof(shown)), k->min, k->max);
		return -1;
	}
	if (k->in_ring && !(base = ring_of(spec)))
		goto nomem;
	*(uint32_t *)((char *)base + k->offset) = (uint32_t)v;
	return 0;
nomem:
	fc_field_errors_add(errs, k->key, "out of memory");
	return -1;
}

int fc_spec_set(fc_spec_t *spec, const char *key, const char *value, struct fc_field_errors *errs)
{
	if (strcmp(key, "filter") == 0)
		return fc_spec_add_filter(spec, value, errs);
	if (strlen(value) > FC_SPEC_TEXT_MAX) {
		fc_field_errors_add(errs, key, "value longer than %d characters", FC_SPEC_TEXT_MAX);
		return -1;
	}
	for (size_t i = 0; i < sizeof(number_keys) / sizeof(number_keys[0]); i++)
		if (strcmp(key, number_keys[i].key) == 0)
			return set_number(spec, &number_keys[i], value, errs);
	for (size_t i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++) {
		if (strcmp(key, string_keys[i].key) != 0)
			continue;
		/* A SAS token is often pasted with its leading '?'. */
		if (strcmp(key, "blob-sas") == 0 && value[0] == '?')
			value++;
		if (set_str((char **)((char *)spec + string_keys[i].offset), value) != 0)
			goto nomem;
		return 0;
	}
	if (strcmp(key, "interface") == 0) {
		if (append_str(&spec->interfaces, &spec->n_interfaces, value) != 0)
			goto nomem;
		return 0;
	}
	if (strcmp(key, "target-group") == 0) {
		if (set_str(&spec->target, value) != 0)
			goto nomem;
		spec->target_type = FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP;
		return 0;
	}
	if (strcmp(key, "include") == 0 || strcmp(key, "exclude") == 0) {
		if (add_scope(spec, key[0] == 'i', value) != 0)
			goto nomem;
		return 0;
	}
	fc_field_errors_add(errs, key, "unknown capture option");
	return -1;
nomem:
	fc_field_errors_add(errs, key, "out of memory");
	return -1;
}

static fc_filter_t *append_filter(fc_spec_t *spec)
{
	fc_filter_t *f = malloc(sizeof(*f));
	fc_filter_t **grown =
		f ? realloc(spec->filters, (spec->n_filters + 1) * sizeof(*grown)) : NULL;

	if (!grown) {
		free(f);
		return NULL;
	}
	fleetcap__v1__filter__init(f);
	grown[spec->n_filters++] = f;
	spec->filters = grown;
	return f;
}

/* Where each textual filter key lands in the Filter message. */
struct filter_key {
	const char *cli;  /* --filter SPEC key */
	const char *json; /* cloud API JSON key */
	size_t offset;	  /* 0 for protocol */
};

static const struct filter_key filter_keys[] = {
	{"protocol", "protocol", 0},
	{"local-ip", "localIPAddress", offsetof(fc_filter_t, local_ip)},
	{"remote-ip", "remoteIPAddress", offsetof(fc_filter_t, remote_ip)},
	{"local-port", "localPort", offsetof(fc_filter_t, local_port)},
	{"remote-port", "remotePort", offsetof(fc_filter_t, remote_port)},
};

#define N_FILTER_KEYS (sizeof(filter_keys) / sizeof(filter_keys[0]))

/* Stores value under filter key k; field is the name used in errors. */
static int filter_put(fc_filter_t *f, const struct filter_key *k, const char *value,
		      const char *field, struct fc_field_errors *errs)
{
	char shown[FC_QUOTE_MAX];

	if (value[0] == '\0') {
		fc_field_errors_add(errs, field, "empty value: leave the key out to match any");
		return -1;
	}
	if (k->offset == 0) {
		int proto;
		if (fc_protocol_parse(value, &proto) != 0) {
			fc_field_errors_add(errs, field,
					    "unknown protocol %s: expected TCP, UDP or Any",
					    fc_quote(value, shown, sizeof(shown)));
			return -1;
		}
		f->protocol = (Fleetcap__V1__Protocol)proto;
		return 0;
	}
	if (strlen(value) > FC_FILTER_TEXT_MAX) {
		fc_field_errors_add(errs, field, "longer than %d characters", FC_FILTER_TEXT_MAX);
		return -1;
	}
	if (set_str((char **)((char *)f + k->offset), value) != 0) {
		fc_field_errors_add(errs, field, "out of memory");
		return -1;
	}
	return 0;
}

int fc_spec_add_filter(fc_spec_t *spec, const char *text, struct fc_field_errors *errs)
{
	char field[64], shown[FC_QUOTE_MAX];
	unsigned seen = 0;
	const char *p = text;
	fc_filter_t *f;
	size_t index = spec->n_filters;

	if (index >= FC_FILTERS_MAX) {
		fc_field_errors_add(errs, "filter", "more than %d filters", FC_FILTERS_MAX);
		return -1;
	}
	if (!(f = append_filter(spec))) {
		fc_field_errors_add(errs, "filter", "out of memory");
		return -1;
	}
	if (text[0] == '\0')
		return 0; /* an empty SPEC matches everything, like an empty filter */
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		char key[32], value[FC_FILTER_TEXT_MAX + 1];
		size_t i;

		if (!eq || fc_trim_copy(p, (size_t)(eq - p), key, sizeof(key)) != 0 ||
		    fc_trim_copy(eq + 1, n - (size_t)(eq - p) - 1, value, sizeof(value)) != 0) {
			char item[FC_FILTER_TEXT_MAX + 1];
			fc_trim_copy(p, n < FC_FILTER_TEXT_MAX ? n : FC_FILTER_TEXT_MAX, item,
				     sizeof(item));
			snprintf(field, sizeof(field), "filters[%zu]", index);
			fc_field_errors_add(errs, field,
					    "%s is not key=value: expected keys protocol, "
					    "local-ip, remote-ip, local-port, remote-port",
					    fc_quote(item, shown, sizeof(shown)));
			return -1;
		}
		for (i = 0; i < N_FILTER_KEYS && strcmp(key, filter_keys[i].cli) != 0; i++)
			;
		snprintf(field, sizeof(field), "filters[%zu].%s", index, key);
		if (i == N_FILTER_KEYS) {
			fc_field_errors_add(errs, field,
					    "unknown filter key: expected protocol, local-ip, "
					    "remote-ip, local-port or remote-port");
			return -1;
		}
		if (seen & (1u << i)) {
			fc_field_errors_add(errs, field,
					    "given twice in one filter; use a ';' list");
			return -1;
		}
		seen |= 1u << i;
		if (filter_put(f, &filter_keys[i], value, field, errs) != 0)
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int fc_spec_add_filters_json(fc_spec_t *spec, const char *json, struct fc_field_errors *errs)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	char field[96];
	int rc = -1;

	if (!root) {
		char reason[JSON_ERROR_TEXT_LENGTH];
		fc_field_errors_add(errs, "filters", "not valid JSON at line %d column %d: %s",
				    jerr.line, jerr.column,
				    fc_json_error_reason(&jerr, reason, sizeof(reason)));
		return -1;
	}
	if (!json_is_array(root)) {
		fc_field_errors_add(errs, "filters", "expected a JSON array of filter objects");
		goto out;
	}
	if (spec->n_filters + json_array_size(root) > FC_FILTERS_MAX) {
		fc_field_errors_add(errs, "filters", "more than %d filters", FC_FILTERS_MAX);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(root); i++) {
		json_t *obj = json_array_get(root, i);
		size_t index = spec->n_filters;
		const char *key;
		json_t *value;
		fc_filter_t *f;

		if (!json_is_object(obj)) {
			snprintf(field, sizeof(field), "filters[%zu]", index);
			fc_field_errors_add(errs, field, "expected a JSON object");
			goto out;
		}
		if (!(f = append_filter(spec))) {
			fc_field_errors_add(errs, "filters", "out of memory");
			goto out;
		}
		json_object_foreach(obj, key, value)
		{
			char text[32];
			const char *s;
			size_t k;

			for (k = 0; k < N_FILTER_KEYS && strcmp(key, filter_keys[k].json) != 0; k++)
				;
			snprintf(field, sizeof(field), "filters[%zu].%.40s", index, key);
			if (k == N_FILTER_KEYS) {
				fc_field_errors_add(
					errs, field,
					"unknown key: expected protocol, localIPAddress, "
					"remoteIPAddress, localPort or remotePort");
				goto out;
			}
			if (json_is_string(value)) {
				s = json_string_value(value);
			} else if (json_is_integer(value) && strstr(key, "Port")) {
				snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
					 json_integer_value(value));
				s = text;
			} else {
				fc_field_errors_add(errs, field, "expected a string");
				goto out;
			}
			if (filter_put(f, &filter_keys[k], s, field, errs) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
