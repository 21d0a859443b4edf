/*
 * fc_config: the daemons' configuration (docs/ARCHITECTURE.md §8).
 *
 * Each daemon describes its keys in one table of struct fc_cfg_def (type,
 * default, bounds, help, and where the value lives in the daemon's own config
 * struct), in the manner of redis' config table and fluent-bit's config maps.
 * Values come, later winning over earlier, from: the defaults in the table, a
 * flat "key = value" file, the environment variable named by the key (only
 * FLEETCAP_BROKERS today), and -X key=value overrides.
 *
 * File syntax: one "key = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored; spaces around key and value are
 * trimmed; a '#' later in a line is part of the value (passwords may hold
 * one). A key given twice keeps its last value.
 *
 * Keys that end in '.' in the table are prefixes: "kafka." takes every
 * "kafka.X" key and stores (X, value) in a struct fc_kv_list. Any other
 * unknown key, a bad value, or a missing required key stops start-up with an
 * error that names the key, where it came from, the value and what was
 * expected. Values of keys flagged FC_CFG_SECRET are never echoed.
 */
#ifndef FC_CONFIG_H
#define FC_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "fc_err.h"

enum fc_cfg_type {
	FC_CFG_STR,  /* char * (owned, malloc'd); max = maximum length, 0 = 4096 */
	FC_CFG_INT,  /* long long in [min, max] */
	FC_CFG_BOOL, /* int, 0 or 1 */
	FC_CFG_MAP,  /* struct fc_kv_list; values typed by map_type, min, max */
};

enum {
	FC_CFG_REQUIRED = 1 << 0, /* no default: start-up fails without it */
	FC_CFG_SECRET = 1 << 1,	  /* value never appears in a message */
};

struct fc_kv {
	char *key; /* the part after the prefix */
	char *value;
};

struct fc_kv_list {
	size_t count;
	struct fc_kv *items;
};

/* Returns the value for key, or NULL. list may be NULL. */
const char *fc_kv_get(const struct fc_kv_list *list, const char *key);

struct fc_cfg_def {
	const char *key;
	enum fc_cfg_type type;
	const char *def; /* default as text; NULL = none */
	long long min, max;
	size_t offset; /* offsetof(daemon config struct, field) */
	unsigned flags;
	const char *env;	   /* environment variable that sets it, or NULL */
	enum fc_cfg_type map_type; /* FC_CFG_MAP: type of each value */
	const char *help;
};

/* Applies the defaults. defs ends with an entry whose key is NULL. */
int fc_config_init(const struct fc_cfg_def *defs, void *obj, struct fc_err *err);

/*
 * Sets one key. origin says where the value came from for messages
 * ("worker.conf:12", "-X", "FLEETCAP_BROKERS"). Returns 0 or -1 with err set.
 */
int fc_config_set(const struct fc_cfg_def *defs, void *obj, const char *key, const char *value,
		  const char *origin, struct fc_err *err);

/* Reads a config file. Returns 0 or -1 with err naming file and line. */
int fc_config_load_file(const struct fc_cfg_def *defs, void *obj, const char *path,
			struct fc_err *err);

/* Applies the environment variables named in defs. */
int fc_config_load_env(const struct fc_cfg_def *defs, void *obj, struct fc_err *err);

/* Applies one "-X key=value" argument. */
int fc_config_set_arg(const struct fc_cfg_def *defs, void *obj, const char *arg,
		      struct fc_err *err);

/* Fails naming the first required key with no value. */
int fc_config_check_required(const struct fc_cfg_def *defs, const void *obj, struct fc_err *err);

/*
 * The whole start-up sequence: init, file (when path is not NULL), env, each
 * of the n -X args, then the required check.
 */
int fc_config_load(const struct fc_cfg_def *defs, void *obj, const char *path, char *const *xargs,
		   size_t n_xargs, struct fc_err *err);

/*
 * The config of a program that runs a daemon in-process (fleetcap demo, the
 * tests): init, then each key and value of the NULL-terminated pairs kv
 * (errors say they came from origin), then the required check.
 */
int fc_config_from_pairs(const struct fc_cfg_def *defs, void *obj, const char *const *kv,
			 const char *origin, struct fc_err *err);

/* Frees the strings and maps that the loader allocated in obj. */
void fc_config_free(const struct fc_cfg_def *defs, void *obj);

/* Prints every key with its type, default, bounds and help. */
void fc_config_print_help(const struct fc_cfg_def *defs, FILE *out);

#endif
