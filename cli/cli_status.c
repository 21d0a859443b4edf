/*
 * fleetcap show | list | wait: read the public status of captures from the
 * compacted `status` topic (docs/ARCHITECTURE.md §2, §8).
 *
 * show and wait read only the one partition that holds the capture's key
 * (murmur2 of "subscription/region/name"); list needs every capture of a
 * subscription, whose keys hash to every partition, so it reads them all.
 * Each is read to its end as of the call, with read_committed: only what
 * the scheduler committed is shown.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fleet.h"
#include "cli_scope.h"
#include "fc_names.h"
#include "fc_parse.h"
#include "fc_spec.h"

enum {
	OPT_JSON = 256,
	OPT_FOR,
	OPT_TIMEOUT,
};

struct args {
	const char *command;
	struct cli_fleet_args fleet;
	const char *name, *subscription, *region, *for_state;
	long long timeout_s;
	int json;
};

static void status_usage(const char *command, FILE *out)
{
	if (strcmp(command, "list") == 0)
		fprintf(out, "usage: fleetcap list -s SUBSCRIPTION [-r REGION] [--json]\n");
	else if (strcmp(command, "wait") == 0)
		fprintf(out, "usage: fleetcap wait NAME -s SUBSCRIPTION -r REGION --for "
			     "Running|Stopped|Error [--timeout S]\n"
			     "Exit codes: 0 the state is reached, 3 another final state, 4 timeout "
			     "(default 300 s).\n");
	else
		fprintf(out, "usage: fleetcap show NAME -s SUBSCRIPTION -r REGION [--json]\n");
	fprintf(out, "       [--brokers B] [--prefix P] [--config FILE]\n");
}

/* Parses the options of show, list and wait. Returns 0 or an exit code. */
static int parse(struct args *a, int argc, char **argv)
{
	static const struct option options[] = {
		CLI_FLEET_OPTIONS,
		{"subscription", required_argument, NULL, 's'},
		{"region", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, OPT_JSON},
		{"for", required_argument, NULL, OPT_FOR},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, list = strcmp(a->command, "list") == 0, wait = strcmp(a->command, "wait") == 0;

	a->timeout_s = 300;
	while ((c = getopt_long(argc, argv, "s:r:h", options, NULL)) != -1) {
		if (cli_fleet_arg(&a->fleet, c, optarg))
			continue;
		switch (c) {
		case 's':
			a->subscription = optarg;
			break;
		case 'r':
			a->region = optarg;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case OPT_FOR:
			a->for_state = optarg;
			break;
		case OPT_TIMEOUT:
			if (fc_parse_ll(optarg, 1, 86400 * 7, &a->timeout_s) != FC_PARSE_OK) {
				fprintf(stderr,
					"fleetcap wait: --timeout \"%.32s\": expected seconds from "
					"1 "
					"to 604800\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			status_usage(a->command, stdout);
			return -1;
		default:
			status_usage(a->command, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (!list && optind + 1 == argc)
		a->name = argv[optind];
	else if (optind != argc || !list) {
		fprintf(stderr, "fleetcap %s: expected %s\n", a->command,
			list ? "no arguments" : "one NAME");
		return CLI_EXIT_USAGE;
	}
	if (!a->subscription || !fc_valid_tenant(a->subscription)) {
		fprintf(stderr, "fleetcap %s: -s: \"%.64s\": expected [A-Za-z0-9_.-]{1,64}\n",
			a->command, a->subscription ? a->subscription : "");
		return CLI_EXIT_USAGE;
	}
	if ((!list || a->region) && (!a->region || !fc_valid_tenant(a->region))) {
		fprintf(stderr, "fleetcap %s: -r: \"%.64s\": expected [A-Za-z0-9_.-]{1,64}\n",
			a->command, a->region ? a->region : "");
		return CLI_EXIT_USAGE;
	}
	if (a->name && !fc_valid_name(a->name)) {
		fprintf(stderr,
			"fleetcap %s: NAME \"%.80s\": expected [A-Za-z0-9][A-Za-z0-9_.-]{0,79}\n",
			a->command, a->name);
		return CLI_EXIT_USAGE;
	}
	if (wait && (!a->for_state || (strcmp(a->for_state, "Running") != 0 &&
				       strcmp(a->for_state, "Stopped") != 0 &&
				       strcmp(a->for_state, "Error") != 0))) {
		fprintf(stderr,
			"fleetcap wait: --for \"%.32s\": expected Running, Stopped or Error\n",
			a->for_state ? a->for_state : "");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static void print_json(const cli_status_t *s)
{
	cli_json_print(cli_status_json(s));
}

/* A group capture's breakdown: one line per instance, then its files. */
static void print_instances(const cli_status_t *s)
{
	printf("  instances:\n    %-16s %-24s %-9s %-20s %12s %14s %8s\n", "INSTANCE", "HOST",
	       "STATUS", "REASON", "PACKETS", "BYTES", "DROPS");
	for (size_t i = 0; i < s->n_instances; i++) {
		const Fleetcap__V1__InstanceState *in = s->instances[i];
		const Fleetcap__V1__Counters *c = in->counters;
		const char *reason = in->error ? fc_error_code_name(in->error)
					       : fc_stop_reason_name(in->stop_reason);
		printf("    %-16s %-24s %-9s %-20s %12llu %14llu %8llu\n", in->instance,
		       in->host_id, fc_state_name(in->state), *reason ? reason : "-",
		       (unsigned long long)(c ? c->packets : 0),
		       (unsigned long long)(c ? c->bytes : 0),
		       (unsigned long long)(c ? c->kernel_drops + c->interface_drops : 0));
		if (*in->error_message)
			printf("      error: %s\n", in->error_message);
		for (size_t j = 0; j < in->n_files; j++)
			printf("      file %s%s%s\n", in->files[j]->local_path,
			       *in->files[j]->blob_url ? " → " : "", in->files[j]->blob_url);
	}
}

static void print_details(const cli_status_t *s)
{
	json_t *o = cli_status_json(s);
	const char *key;
	json_t *v;

	cli_status_print_line(s, stdout);
	json_object_foreach(o, key, v)
	{
		if (json_is_string(v))
			printf("  %-17s %s\n", key, json_string_value(v));
		else if (json_is_integer(v))
			printf("  %-17s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(v));
	}
	if (s->origin && s->origin->kind == FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT)
		printf("  %-17s alert %s (rule %s)\n", "origin", s->origin->alert_id,
		       s->origin->rule);
	else
		printf("  %-17s manual\n", "origin");
	json_decref(o);
	if (s->n_instances)
		print_instances(s);
}

int cli_show(int argc, char **argv)
{
	struct args a = {.command = "show"};
	struct cli_fleet f;
	cli_status_t *s = NULL;
	char key[FC_TENANT_MAX * 2 + FC_NAME_MAX + 3];
	int rc = parse(&a, argc, argv);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_fleet_open(&f, "show", &a.fleet)) != 0)
		return rc;
	snprintf(key, sizeof(key), "%s/%s/%s", a.subscription, a.region, a.name);
	if ((rc = cli_status_get(&f, key, &s)) == 0) {
		if (!s) {
			fprintf(stderr, "fleetcap show: no capture %s\n", key);
			rc = CLI_EXIT_FAILURE;
		} else if (a.json) {
			print_json(s);
		} else {
			print_details(s);
		}
	}
	if (s)
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
	cli_fleet_close(&f);
	return rc;
}

/* ------------------------------------------------------------------ list */

struct listing {
	char prefix[FC_TENANT_MAX * 2 + 3]; /* "sub/" or "sub/region/" */
	size_t count, cap;
	cli_status_t **items;
};

static int collect(void *opaque, int32_t partition, int64_t offset, const char *key, size_t key_len,
		   const void *value, size_t len)
{
	struct listing *l = opaque;
	size_t plen = strlen(l->prefix), i;
	cli_status_t *s;

	(void)partition;
	(void)offset;
	if (!key || key_len <= plen || memcmp(key, l->prefix, plen) != 0)
		return 0;
	s = value && len ? fleetcap__v1__capture_status__unpack(NULL, len, value) : NULL;
	/* The latest record per key wins; a key's records share a partition. */
	for (i = 0; i < l->count; i++) {
		const cli_status_t *have = l->items[i];
		size_t n =
			strlen(have->subscription) + strlen(have->region) + strlen(have->name) + 2;
		char k[FC_TENANT_MAX * 2 + FC_NAME_MAX + 3];
		snprintf(k, sizeof(k), "%s/%s/%s", have->subscription, have->region, have->name);
		if (n == key_len && memcmp(k, key, key_len) == 0)
			break;
	}
	if (i < l->count) {
		fleetcap__v1__capture_status__free_unpacked(l->items[i], NULL);
		l->items[i] = l->items[--l->count];
	}
	if (!s)
		return 0;
	if (s->deleted) {
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
		return 0;
	}
	if (cli_push((void ***)&l->items, &l->count, &l->cap, s) != 0) {
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
		return -1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const cli_status_t *x = *(cli_status_t *const *)a, *y = *(cli_status_t *const *)b;
	int c = strcmp(x->region, y->region);
	return c ? c : strcmp(x->name, y->name);
}

int cli_list(int argc, char **argv)
{
	struct args a = {.command = "list"};
	struct listing l = {0};
	struct cli_fleet f;
	struct fc_err err;
	char topic[FC_TOPIC_NAME_MAX + 1];
	int32_t count;
	int rc = parse(&a, argc, argv);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_fleet_open(&f, "list", &a.fleet)) != 0)
		return rc;
	snprintf(l.prefix, sizeof(l.prefix), "%s/%s%s", a.subscription, a.region ? a.region : "",
		 a.region ? "/" : "");
	if (cli_status_partition(&f, NULL, &count) < 0) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	int32_t *all = calloc((size_t)count, sizeof(*all));
	for (int32_t p = 0; all && p < count; p++)
		all[p] = p;
	if (!all || fc_kafka_read_to_end(f.reader,
					 cli_fleet_topic(&f, FC_TOPIC_STATUS, topic, sizeof(topic)),
					 all, (size_t)count, 60000, collect, &l, &err) != 0) {
		fprintf(stderr, "fleetcap list: %s\n", all ? err.msg : "out of memory");
		free(all);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	free(all);
	qsort(l.items, l.count, sizeof(*l.items), by_name);
	if (a.json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < l.count; i++)
			json_array_append_new(arr, cli_status_json(l.items[i]));
		cli_json_print(arr);
	} else {
		printf("%-24s %-16s %-32s %-9s %-20s %12s %14s\n", "NAME", "REGION", "TARGET",
		       "STATUS", "REASON", "PACKETS", "BYTES");
		for (size_t i = 0; i < l.count; i++) {
			const cli_status_t *s = l.items[i];
			const char *reason = s->error ? fc_error_code_name(s->error)
						      : fc_stop_reason_name(s->stop_reason);
			char target[FC_TARGET_MAX + 32];
			if (cli_status_is_group(s))
				snprintf(target, sizeof(target), "%s (%zu instances)", s->target,
					 s->n_instances);
			else
				snprintf(target, sizeof(target), "%s", s->target);
			printf("%-24s %-16s %-32s %-9s %-20s %12llu %14llu\n", s->name, s->region,
			       target, fc_state_name(s->state), *reason ? reason : "-",
			       (unsigned long long)(s->counters ? s->counters->packets : 0),
			       (unsigned long long)(s->counters ? s->counters->bytes : 0));
		}
	}
out:
	for (size_t i = 0; i < l.count; i++)
		fleetcap__v1__capture_status__free_unpacked(l.items[i], NULL);
	free(l.items);
	cli_fleet_close(&f);
	return rc;
}

/* ------------------------------------------------------------------ wait */

struct waiter {
	const char *want;
	int json;
	int last_state;
};

static int judge(void *opaque, const cli_status_t *s)
{
	struct waiter *w = opaque;

	if (!s)
		return -1; /* not there (yet) */
	if ((int)s->state != w->last_state && !w->json)
		cli_status_print_line(s, stdout);
	w->last_state = s->state;
	if (strcmp(fc_state_name(s->state), w->want) == 0) {
		if (w->json)
			print_json(s);
		return CLI_EXIT_OK;
	}
	if (cli_status_final(s)) {
		if (w->json)
			print_json(s);
		return CLI_EXIT_REJECTED;
	}
	return -1;
}

int cli_wait(int argc, char **argv)
{
	struct args a = {.command = "wait"};
	struct cli_fleet f;
	cli_status_t *s = NULL;
	char key[FC_TENANT_MAX * 2 + FC_NAME_MAX + 3];
	int64_t from = 0, deadline;
	int rc = parse(&a, argc, argv);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_fleet_open(&f, "wait", &a.fleet)) != 0)
		return rc;
	deadline = fc_mono_ms() + a.timeout_s * 1000;
	snprintf(key, sizeof(key), "%s/%s/%s", a.subscription, a.region, a.name);
	struct waiter w = {.want = a.for_state, .json = a.json, .last_state = -1};
	/* The end offset first, then the current status: nothing falls between. */
	if ((rc = cli_status_end_offset(&f, key, &from)) != 0 ||
	    (rc = cli_status_get(&f, key, &s)) != 0)
		goto out;
	rc = judge(&w, s);
	if (rc < 0) {
		int64_t left = deadline - fc_mono_ms();
		rc = left > 0 ? cli_status_watch(&f, key, from, (int)left, judge, &w)
			      : CLI_EXIT_TIMEOUT;
	}
	if (rc == CLI_EXIT_TIMEOUT)
		fprintf(stderr, "fleetcap wait: %s did not reach %s within %lld s\n", key,
			a.for_state, a.timeout_s);
out:
	if (s)
		fleetcap__v1__capture_status__free_unpacked(s, NULL);
	cli_fleet_close(&f);
	return rc;
}
