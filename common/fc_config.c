/* fc_config: see fc_config.h. */
#include "fc_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fc_parse.h"

#define FC_CFG_STR_MAX_DEFAULT 4096
#define FC_CFG_LINE_MAX	       8192
#define FC_CFG_MAP_MAX	       1024

const char *fc_kv_get(const struct fc_kv_list *list, const char *key)
{
	for (size_t i = 0; list && i < list->count; i++)
		if (strcmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	return NULL;
}

static void *field(void *obj, const struct fc_cfg_def *d)
{
	return (char *)obj + d->offset;
}

static size_t prefix_len(const struct fc_cfg_def *d)
{
	size_t n = strlen(d->key);
	return n && d->key[n - 1] == '.' ? n : 0;
}

/* Exact keys win over prefixes, so "quota.default" and "quota." can coexist. */
static const struct fc_cfg_def *find_def(const struct fc_cfg_def *defs, const char *key)
{
	const struct fc_cfg_def *prefix_match = NULL;

	for (const struct fc_cfg_def *d = defs; d->key; d++) {
		size_t p = prefix_len(d);
		if (d->type != FC_CFG_MAP && strcmp(d->key, key) == 0)
			return d;
		if (d->type == FC_CFG_MAP && p && strncmp(d->key, key, p) == 0 && key[p] != '\0')
			prefix_match = d;
	}
	return prefix_match;
}

/*
 * Checks value against type and bounds. On failure writes what was expected
 * to why and returns -1.
 */
static int check_value(enum fc_cfg_type type, long long min, long long max, const char *value,
		       long long *num, char *why, size_t why_len)
{
	switch (type) {
	case FC_CFG_STR:
	case FC_CFG_MAP: {
		size_t limit = max > 0 ? (size_t)max : FC_CFG_STR_MAX_DEFAULT;
		if (strlen(value) > limit) {
			snprintf(why, why_len, "a string of at most %zu characters", limit);
			return -1;
		}
		if (min > 0 && strlen(value) < (size_t)min) {
			snprintf(why, why_len, "a string of at least %lld characters", min);
			return -1;
		}
		return 0;
	}
	case FC_CFG_INT:
		if (fc_parse_ll(value, min, max, num) != FC_PARSE_OK) {
			snprintf(why, why_len, "an integer from %lld to %lld", min, max);
			return -1;
		}
		return 0;
	case FC_CFG_BOOL: {
		int b;
		if (fc_parse_bool(value, &b) != 0) {
			snprintf(why, why_len, "true or false");
			return -1;
		}
		*num = b;
		return 0;
	}
	}
	return -1;
}

static int map_put(struct fc_kv_list *list, const char *key, const char *value)
{
	char *k, *v;

	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i].key, key) == 0) {
			v = strdup(value);
			if (!v)
				return -1;
			free(list->items[i].value);
			list->items[i].value = v;
			return 0;
		}
	}
	if (list->count == FC_CFG_MAP_MAX)
		return -1;
	struct fc_kv *items = realloc(list->items, (list->count + 1) * sizeof(*items));
	if (!items)
		return -1;
	list->items = items;
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	items[list->count].key = k;
	items[list->count].value = v;
	list->count++;
	return 0;
}

int fc_config_set(const struct fc_cfg_def *defs, void *obj, const char *key, const char *value,
		  const char *origin, struct fc_err *err)
{
	const struct fc_cfg_def *d = find_def(defs, key);
	char why[128], shown[FC_QUOTE_MAX];
	long long num = 0;

	if (!d) {
		fc_err_set(err, FC_ERR_INVALID, "%s: unknown config key %s", origin,
			   fc_quote(key, shown, sizeof(shown)));
		return -1;
	}
	enum fc_cfg_type vtype = d->type == FC_CFG_MAP ? d->map_type : d->type;
	if (check_value(vtype, d->min, d->max, value, &num, why, sizeof(why)) != 0) {
		if (d->flags & FC_CFG_SECRET)
			fc_err_set(err, FC_ERR_INVALID,
				   "%s: bad value for %s (value hidden): expected %s", origin, key,
				   why);
		else
			fc_err_set(err, FC_ERR_INVALID, "%s: bad value %s for %s: expected %s",
				   origin, fc_quote(value, shown, sizeof(shown)), key, why);
		return -1;
	}

	switch (d->type) {
	case FC_CFG_STR: {
		char **slot = field(obj, d);
		char *copy = strdup(value);
		if (!copy)
			goto nomem;
		free(*slot);
		*slot = copy;
		break;
	}
	case FC_CFG_INT:
		*(long long *)field(obj, d) = num;
		break;
	case FC_CFG_BOOL:
		*(int *)field(obj, d) = (int)num;
		break;
	case FC_CFG_MAP:
		if (map_put(field(obj, d), key + prefix_len(d), value) != 0) {
			fc_err_set(err, FC_ERR_INVALID,
				   "%s: cannot store %s: out of memory or over %d keys", origin,
				   key, FC_CFG_MAP_MAX);
			return -1;
		}
		break;
	}
	return 0;
nomem:
	fc_err_set(err, FC_ERR_FATAL, "%s: out of memory setting %s", origin, key);
	return -1;
}

int fc_config_init(const struct fc_cfg_def *defs, void *obj, struct fc_err *err)
{
	/* Empty every owned field first, so fc_config_free() is safe whatever fails. */
	for (const struct fc_cfg_def *d = defs; d->key; d++) {
		if (d->type == FC_CFG_MAP) {
			struct fc_kv_list *list = field(obj, d);
			list->count = 0;
			list->items = NULL;
		} else if (d->type == FC_CFG_STR) {
			*(char **)field(obj, d) = NULL;
		}
	}
	for (const struct fc_cfg_def *d = defs; d->key; d++)
		if (d->def && fc_config_set(defs, obj, d->key, d->def, "default", err) != 0)
			return -1;
	return 0;
}

int fc_config_load_file(const struct fc_cfg_def *defs, void *obj, const char *path,
			struct fc_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	int rc = -1;
	unsigned lineno = 0;

	if (!f) {
		fc_err_set(err, FC_ERR_INVALID, "cannot open config file %s: %s", path,
			   strerror(errno));
		return -1;
	}
	line = malloc(FC_CFG_LINE_MAX);
	if (!line) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory reading %s", path);
		goto out;
	}
	while (fgets(line, FC_CFG_LINE_MAX, f)) {
		char origin[512], key[256], value[FC_CFG_LINE_MAX];
		size_t len = strlen(line);

		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (len == FC_CFG_LINE_MAX - 1 && line[len - 1] != '\n') {
			fc_err_set(err, FC_ERR_INVALID, "%s: line longer than %d bytes", origin,
				   FC_CFG_LINE_MAX - 2);
			goto out;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		const char *p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		const char *eq = strchr(p, '=');
		if (!eq) {
			fc_err_set(err, FC_ERR_INVALID,
				   "%s: expected \"key = value\", found no '='", origin);
			goto out;
		}
		if (fc_trim_copy(p, (size_t)(eq - p), key, sizeof(key)) != 0 || key[0] == '\0') {
			fc_err_set(err, FC_ERR_INVALID,
				   "%s: expected a key of 1 to %zu characters before '='", origin,
				   sizeof(key) - 1);
			goto out;
		}
		fc_trim_copy(eq + 1, strlen(eq + 1), value, sizeof(value));
		if (fc_config_set(defs, obj, key, value, origin, err) != 0)
			goto out;
	}
	if (ferror(f)) {
		fc_err_set(err, FC_ERR_INVALID, "error reading %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

int fc_config_load_env(const struct fc_cfg_def *defs, void *obj, struct fc_err *err)
{
	for (const struct fc_cfg_def *d = defs; d->key; d++) {
		const char *v = d->env ? getenv(d->env) : NULL;
		if (v && *v && fc_config_set(defs, obj, d->key, v, d->env, err) != 0)
			return -1;
	}
	return 0;
}

int fc_config_set_arg(const struct fc_cfg_def *defs, void *obj, const char *arg, struct fc_err *err)
{
	const char *eq = strchr(arg, '=');
	char key[256], shown[FC_QUOTE_MAX];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		fc_err_set(err, FC_ERR_INVALID, "-X %s: expected key=value",
			   fc_quote(arg, shown, sizeof(shown)));
		return -1;
	}
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	return fc_config_set(defs, obj, key, eq + 1, "-X", err);
}

int fc_config_check_required(const struct fc_cfg_def *defs, const void *obj, struct fc_err *err)
{
	for (const struct fc_cfg_def *d = defs; d->key; d++) {
		if (!(d->flags & FC_CFG_REQUIRED))
			continue;
		if (d->type == FC_CFG_STR) {
			const char *const *slot = (const void *)((const char *)obj + d->offset);
			if (*slot && **slot)
				continue;
		} else {
			continue; /* numbers and bools always have their default */
		}
		fc_err_set(err, FC_ERR_INVALID, "missing required config key %s (%s)%s%s", d->key,
			   d->help, d->env ? "; it can also come from " : "", d->env ? d->env : "");
		return -1;
	}
	return 0;
}

int fc_config_load(const struct fc_cfg_def *defs, void *obj, const char *path, char *const *xargs,
		   size_t n_xargs, struct fc_err *err)
{
	if (fc_config_init(defs, obj, err) != 0)
		return -1;
	if (path && fc_config_load_file(defs, obj, path, err) != 0)
		return -1;
	if (fc_config_load_env(defs, obj, err) != 0)
		return -1;
	for (size_t i = 0; i < n_xargs; i++)
		if (fc_config_set_arg(defs, obj, xargs[i], err) != 0)
			return -1;
	return fc_config_check_required(defs, obj, err);
}

void fc_config_free(const struct fc_cfg_def *defs, void *obj)
{
	for (const struct fc_cfg_def *d = defs; d->key; d++) {
		if (d->type == FC_CFG_STR) {
			char **slot = field(obj, d);
			free(*slot);
			*slot = NULL;
		} else if (d->type == FC_CFG_MAP) {
			struct fc_kv_list *list = field(obj, d);
			for (size_t i = 0; i < list->count; i++) {
				free(list->items[i].key);
				free(list->items[i].value);
			}
			free(list->items);
			list->items = NULL;
			list->count = 0;
		}
	}
}

static const char *type_name(enum fc_cfg_type t)
{
	switch (t) {
	case FC_CFG_STR:
		return "string";
	case FC_CFG_INT:
		return "integer";
	case FC_CFG_BOOL:
		return "bool";
	case FC_CFG_MAP:
		return "map";
	}
	return "?";
}

void fc_config_print_help(const struct fc_cfg_def *defs, FILE *out)
{
	for (const struct fc_cfg_def *d = defs; d->key; d++) {
		fprintf(out, "  %s%s (%s", d->key, d->type == FC_CFG_MAP ? "NAME" : "",
			type_name(d->type == FC_CFG_MAP ? d->map_type : d->type));
		if ((d->type == FC_CFG_MAP ? d->map_type : d->type) == FC_CFG_INT)
			fprintf(out, " %lld..%lld", d->min, d->max);
		if (d->def)
			fprintf(out, ", default %s", d->def);
		if (d->flags & FC_CFG_REQUIRED)
			fprintf(out, ", required");
		if (d->env)
			fprintf(out, ", env %s", d->env);
		fprintf(out, ")\n      %s\n", d->help);
	}
}

int fc_config_from_pairs(const struct fc_cfg_def *defs, void *obj, const char *const *kv,
			 const char *origin, struct fc_err *err)
{
	if (fc_config_init(defs, obj, err) != 0)
		return -1;
	for (; *kv; kv += 2)
		if (fc_config_set(defs, obj, kv[0], kv[1], origin, err) != 0)
			return -1;
	return fc_config_check_required(defs, obj, err);
}
