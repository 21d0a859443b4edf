/*
 * cli_fleet: what the fleet commands (create, show, list, stop, delete,
 * wait, alert) share: finding Kafka and the topic prefix, sending one record
 * and waiting until Kafka has it, reading status, and printing a status.
 *
 * Kafka is found through --brokers, then FLEETCAP_BROKERS, then the
 * "brokers" key of the config file (--config, else FLEETCAP_CONFIG, else
 * /etc/fleetcap/fleetcap.conf when it exists); the topic prefix through
 * --prefix, then FLEETCAP_TOPICS_PREFIX, then the file's "topics.prefix".
 */
#ifndef CLI_FLEET_H
#define CLI_FLEET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_kafka.h"
#include "fleetcap.pb-c.h"

typedef Fleetcap__V1__CaptureStatus cli_status_t;

struct cli_fleet {
	const char *command; /* for messages: "create", "show", … */
	char *brokers;
	char *prefix;
	struct fc_kv_list kafka; /* kafka.* keys of the config file */
	rd_kafka_t *producer;
	rd_kafka_t *reader;
	int send_timeout_ms; /* how long cli_fleet_send waits for Kafka (30 s) */
};

/* The long options every fleet command takes, and their values. */
#define CLI_FLEET_OPTIONS                                                                          \
	{"brokers", required_argument, NULL, 'B'}, {"prefix", required_argument, NULL, 'P'},       \
	{                                                                                          \
		"config", required_argument, NULL, 'C'                                             \
	}

struct cli_fleet_args {
	const char *brokers, *prefix, *config;
};

/* Handles 'B', 'P' and 'C'; returns 1 when c was one of them. */
int cli_fleet_arg(struct cli_fleet_args *args, int c, const char *value);

/* Resolves brokers and prefix. Returns 0, or an exit code after printing why. */
int cli_fleet_open(struct cli_fleet *f, const char *command, const struct cli_fleet_args *args);
void cli_fleet_close(struct cli_fleet *f);

/* Produces msg to topic under key and waits until Kafka has it. 0 or exit code 1. */
int cli_fleet_send(struct cli_fleet *f, enum fc_topic topic, const char *key,
		   const ProtobufCMessage *msg);

/* The full topic name. */
const char *cli_fleet_topic(const struct cli_fleet *f, enum fc_topic topic, char *buf, size_t len);

/* The reader (created on first use), or NULL after printing why. */
rd_kafka_t *cli_fleet_reader(struct cli_fleet *f);

/* The status partition of "sub/region/name", or -1 after printing why. */
int32_t cli_status_partition(struct cli_fleet *f, const char *key, int32_t *count);

/* Reads the latest status of key (NULL when none or deleted). 0, or exit code 1. */
int cli_status_get(struct cli_fleet *f, const char *key, cli_status_t **out);

/* The end offset of key's status partition now. 0, or exit code 1. */
int cli_status_end_offset(struct cli_fleet *f, const char *key, int64_t *end_offset);

/*
 * Follows key's status partition from offset, calling fn with every status
 * of key (NULL for a tombstone) until fn returns an exit code (>= 0; a
 * negative value means "go on"), which is then returned; CLI_EXIT_TIMEOUT
 * when timeout_ms (> 0) passes first.
 */
int cli_status_watch(struct cli_fleet *f, const char *key, int64_t offset, int timeout_ms,
		     int (*fn)(void *opaque, const cli_status_t *s), void *opaque);

/* 1 when s is a group capture's status. */
int cli_status_is_group(const cli_status_t *s);

/* The status as the JSON object of §8 (show --json); a group capture's has
 * "scope" and "instances" too. */
json_t *cli_status_json(const cli_status_t *s);

/* One human line: "sub/region/name: Running, 12 packets, …". */
void cli_status_print_line(const cli_status_t *s, FILE *out);

/* A final state: Stopped or Error. */
int cli_status_final(const cli_status_t *s);

#endif
