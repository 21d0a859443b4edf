/* it_kafka: the roles' Kafka credentials in secured test runs; see it_kafka.h. */
#include "it_kafka.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_acls.h"
#include "fc_kafka.h"

#define ROLES	  5
#define PROPS_MAX 16

static const char *const role_names[ROLES] = {"admin", "scheduler", "worker", "client", "consumer"};
static struct role {
	struct fc_kv_list props;
	struct fc_kv items[PROPS_MAX];
	char *settings[PROPS_MAX + 1];
} roles[ROLES];
static int loaded, secured;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void die(const char *what)
{
	fprintf(stderr, "it_kafka: %s\n", what);
	exit(1);
}

static void load_role(const char *dir, int r)
{
	char path[512], line[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.conf", dir, role_names[r]);
	if (!(fp = fopen(path, "r")))
		die(path);
	while (fgets(line, sizeof(line), fp)) {
		char *eq = strchr(line, '=');
		size_t n = roles[r].props.count;
		line[strcspn(line, "\n")] = '\0';
		if (!eq || strncmp(line, "kafka.", 6) != 0)
			continue;
		if (n == PROPS_MAX)
			die("too many settings in a role's file");
		roles[r].settings[n] = strdup(line);
		*eq = '\0';
		roles[r].items[n].key = strdup(line + 6);
		roles[r].items[n].value = strdup(eq + 1);
		roles[r].props.count = n + 1;
	}
	fclose(fp);
	roles[r].props.items = roles[r].items;
}

static struct role *role_of(const char *role)
{
	pthread_mutex_lock(&lock);
	if (!loaded) {
		const char *dir = getenv("FLEETCAP_KAFKA_SECURE");
		secured = dir && *dir;
		for (int r = 0; secured && r < ROLES; r++)
			load_role(dir, r);
		loaded = 1;
	}
	pthread_mutex_unlock(&lock);
	for (int r = 0; r < ROLES; r++)
		if (strcmp(role, role_names[r]) == 0)
			return &roles[r];
	die(role);
	return NULL;
}

const struct fc_kv_list *it_kafka_props(const char *role)
{
	struct role *r = role_of(role);
	return secured ? &r->props : NULL;
}

const char *const *it_kafka_settings(const char *role)
{
	return (const char *const *)role_of(role)->settings;
}

rd_kafka_conf_t *it_kafka_conf(const char *brokers, const char *role)
{
	struct fc_err err;
	rd_kafka_conf_t *conf = fc_kafka_conf_new(brokers, it_kafka_props(role), &err);
	if (!conf)
		die(err.msg);
	return conf;
}

void it_kafka_grant(rd_kafka_t *admin, const char *prefix)
{
	struct fc_acl_principals who = {"User:scheduler", "User:worker", "User:client",
					"User:consumer"};
	struct fc_err err;

	if (it_kafka_props("admin") && fc_acls_grant(admin, prefix, &who, 30000, &err) < 0)
		die(err.msg);
}
