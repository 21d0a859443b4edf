/*
 * fleetcap workers: the hosts registered in a subscription (and region),
 * from the compacted `workers` topic (the heartbeats, key: host id), read
 * to its end as of the call: group, instance, interfaces, version, running
 * sessions and capacity, and the last heartbeat. A host is stale when it
 * has sent no heartbeat for 3 of the intervals it announces (10 s when it
 * announces none), the scheduler's rule: captures cannot target it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_scope.h"
#include "fc_heartbeat.h"

typedef Fleetcap__V1__WorkerHeartbeat heartbeat_t;

struct hosts {
	const struct cli_scope_args *a;
	size_t count, cap;
	heartbeat_t **items;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: fleetcap workers -s SUBSCRIPTION [-r REGION] [--json]\n"
		     "       [--brokers B] [--prefix P] [--config FILE]\n"
		     "The hosts registered in the subscription (and region), stale ones marked.\n");
}

/* Keeps the latest heartbeat of each host of the subscription (and region). */
static int collect(void *opaque, int32_t partition, int64_t offset, const char *key, size_t key_len,
		   const void *value, size_t len)
{
	struct hosts *h = opaque;
	heartbeat_t *hb;
	size_t i;

	(void)partition;
	(void)offset;
	if (!key)
		return 0;
	for (i = 0; i < h->count; i++)
		if (strlen(h->items[i]->host_id) == key_len &&
		    memcmp(h->items[i]->host_id, key, key_len) == 0)
			break;
	if (i < h->count) { /* a newer record of the host (or its tombstone) */
		fleetcap__v1__worker_heartbeat__free_unpacked(h->items[i], NULL);
		h->items[i] = h->items[--h->count];
	}
	hb = value && len ? fleetcap__v1__worker_heartbeat__unpack(NULL, len, value) : NULL;
	if (!hb)
		return 0;
	if (strcmp(hb->subscription, h->a->subscription) != 0 ||
	    (h->a->region && strcmp(hb->region, h->a->region) != 0)) {
		fleetcap__v1__worker_heartbeat__free_unpacked(hb, NULL);
		return 0;
	}
	if (cli_push((void ***)&h->items, &h->count, &h->cap, hb) != 0) {
		fleetcap__v1__worker_heartbeat__free_unpacked(hb, NULL);
		return -1;
	}
	return 0;
}

static int by_host(const void *a, const void *b)
{
	const heartbeat_t *x = *(heartbeat_t *const *)a, *y = *(heartbeat_t *const *)b;
	int c = strcmp(x->region, y->region);
	if (!c)
		c = strcmp(x->group, y->group);
	return c ? c : strcmp(x->host_id, y->host_id);
}

static void print_table(struct hosts *h, int64_t now)
{
	printf("%-24s %-14s %-16s %-16s %-12s %-9s %-16s %s\n", "HOST", "REGION", "GROUP",
	       "INSTANCE", "VERSION", "SESSIONS", "INTERFACES", "LAST HEARTBEAT");
	for (size_t i = 0; i < h->count; i++) {
		const heartbeat_t *hb = h->items[i];
		char sessions[32], age[48];
		snprintf(sessions, sizeof(sessions), "%u/%u", hb->active_sessions, hb->capacity);
		snprintf(age, sizeof(age), "%.1f s ago%s", (double)(now - hb->time_ms) / 1000.0,
			 fc_heartbeat_stale(hb, now) ? " (stale)" : "");
		printf("%-24s %-14s %-16s %-16s %-12s %-9s %-16s %s\n", hb->host_id, hb->region,
		       *hb->group ? hb->group : "-", fc_heartbeat_instance(hb), hb->version,
		       sessions, hb->n_interfaces ? hb->interfaces[0] : "-", age);
	}
}

int cli_workers(int argc, char **argv)
{
	struct cli_scope_args a = {0};
	struct hosts h = {.a = &a};
	struct cli_fleet f;
	struct fc_err err;
	char topic[FC_TOPIC_NAME_MAX + 1];
	int rc = cli_scope_parse("workers", argc, argv, 0, usage, &a);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_fleet_open(&f, "workers", &a.fleet)) != 0)
		return rc;
	rd_kafka_t *reader = cli_fleet_reader(&f);
	cli_fleet_topic(&f, FC_TOPIC_WORKERS, topic, sizeof(topic));
	int count = reader ? fc_topic_partition_count(reader, topic, 30000, &err) : -1;
	int32_t *all = count > 0 ? calloc((size_t)count, sizeof(*all)) : NULL;
	for (int32_t p = 0; all && p < count; p++)
		all[p] = p;
	if (!all || fc_kafka_read_to_end(reader, topic, all, (size_t)count, 60000, collect, &h,
					 &err) != 0) {
		if (reader)
			fprintf(stderr, "fleetcap workers: %s\n",
				count <= 0 ? err.msg
				: all	   ? err.msg
					   : "out of memory");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	int64_t now = fc_wall_ms();
	qsort(h.items, h.count, sizeof(*h.items), by_host);
	if (a.json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < h.count; i++)
			json_array_append_new(arr, fc_heartbeat_json(h.items[i], now));
		cli_json_print(arr);
	} else {
		print_table(&h, now);
	}
out:
	free(all);
	for (size_t i = 0; i < h.count; i++)
		fleetcap__v1__worker_heartbeat__free_unpacked(h.items[i], NULL);
	free(h.items);
	cli_fleet_close(&f);
	return rc;
}
