/* cli_fleet: Kafka access and status printing for the fleet commands; see cli_fleet.h. */
#include "cli_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fc_config.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_names.h"

#define DEFAULT_CONFIG	"/etc/fleetcap/fleetcap.conf"
#define SEND_TIMEOUT_MS 30000

struct file_config {
	char *brokers;
	char *prefix;
	struct fc_kv_list kafka;
};

#define OFF(f) offsetof(struct file_config, f)
static const struct fc_cfg_def file_defs[] = {
	{"brokers", FC_CFG_STR, "", 0, 0, OFF(brokers), 0, NULL, 0, "Kafka bootstrap servers"},
	{"topics.prefix", FC_CFG_STR, FC_TOPIC_PREFIX_DEFAULT, 0, 200, OFF(prefix), 0, NULL, 0,
	 "topic name prefix"},
	{"kafka.", FC_CFG_MAP, NULL, 0, 0, OFF(kafka), 0, NULL, FC_CFG_STR,
	 "librdkafka properties"},
	{NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, NULL},
};

int cli_fleet_arg(struct cli_fleet_args *args, int c, const char *value)
{
	switch (c) {
	case 'B':
		args->brokers = value;
		return 1;
	case 'P':
		args->prefix = value;
		return 1;
	case 'C':
		args->config = value;
		return 1;
	default:
		return 0;
	}
}

static const char *first_set(const char *a, const char *b, const char *c)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	return c && *c ? c : NULL;
}

int cli_fleet_open(struct cli_fleet *f, const char *command, const struct cli_fleet_args *args)
{
	struct file_config fc = {0};
	const char *path = first_set(args->config, getenv("FLEETCAP_CONFIG"), NULL);
	struct fc_err err;

	memset(f, 0, sizeof(*f));
	f->command = command;
	f->send_timeout_ms = SEND_TIMEOUT_MS;
	if (!path && access(DEFAULT_CONFIG, R_OK) == 0)
		path = DEFAULT_CONFIG;
	if (fc_config_load(file_defs, &fc, path, NULL, 0, &err) != 0) {
		fprintf(stderr, "fleetcap %s: %s\n", command, err.msg);
		fc_config_free(file_defs, &fc);
		return CLI_EXIT_USAGE;
	}
	const char *brokers = first_set(args->brokers, getenv("FLEETCAP_BROKERS"), fc.brokers);
	const char *prefix = first_set(args->prefix, getenv("FLEETCAP_TOPICS_PREFIX"), fc.prefix);
	char probe[FC_TOPIC_NAME_MAX + 1];
	if (!brokers) {
		fprintf(stderr,
			"fleetcap %s: no brokers: give --brokers, set FLEETCAP_BROKERS, or set "
			"brokers in %s\n",
			command, path ? path : DEFAULT_CONFIG);
		fc_config_free(file_defs, &fc);
		return CLI_EXIT_USAGE;
	}
	if (!prefix)
		prefix = "";
	if (fc_topic_name(prefix, FC_TOPIC_STATUS, probe, sizeof(probe)) != 0) {
		fprintf(stderr,
			"fleetcap %s: --prefix \"%.64s\": expected letters, digits, '.', '_' or "
			"'-'\n",
			command, prefix);
		fc_config_free(file_defs, &fc);
		return CLI_EXIT_USAGE;
	}
	f->brokers = strdup(brokers);
	f->prefix = strdup(prefix);
	f->kafka = fc.kafka; /* now owned by f */
	fc.kafka.count = 0;
	fc.kafka.items = NULL;
	fc_config_free(file_defs, &fc);
	if (!f->brokers || !f->prefix) {
		fprintf(stderr, "fleetcap %s: out of memory\n", command);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

void cli_fleet_close(struct cli_fleet *f)
{
	if (f->producer)
		rd_kafka_destroy(f->producer);
	if (f->reader)
		rd_kafka_destroy(f->reader);
	for (size_t i = 0; i < f->kafka.count; i++) {
		free(f->kafka.items[i].key);
		free(f->kafka.items[i].value);
	}
	free(f->kafka.items);
	free(f->brokers);
	free(f->prefix);
	memset(f, 0, sizeof(*f));
}

const char *cli_fleet_topic(const struct cli_fleet *f, enum fc_topic topic, char *buf, size_t len)
{
	if (fc_topic_name(f->prefix, topic, buf, len) != 0)
		snprintf(buf, len, "?");
	return buf;
}

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	rd_kafka_resp_err_t *result = m->_private;

	(void)rk;
	(void)opaque;
	if (result)
		*result = m->err;
}

int cli_fleet_send(struct cli_fleet *f, enum fc_topic topic, const char *key,
		   const ProtobufCMessage *msg)
{
	char name[FC_TOPIC_NAME_MAX + 1], errstr[512];
	rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__IN_PROGRESS, e;
	struct fc_err err;
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return CLI_EXIT_FAILURE;
	protobuf_c_message_pack(msg, buf);
	if (!f->producer) {
		rd_kafka_conf_t *conf = fc_kafka_conf_new(f->brokers, &f->kafka, &err);
		if (!conf || fc_kafka_conf_set(conf, "enable.idempotence", "true", &err) != 0) {
			fprintf(stderr, "fleetcap %s: %s\n", f->command, err.msg);
			if (conf)
				rd_kafka_conf_destroy(conf);
			free(buf);
			return CLI_EXIT_USAGE;
		}
		rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
		f->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		if (!f->producer) {
			rd_kafka_conf_destroy(conf);
			fprintf(stderr, "fleetcap %s: %s\n", f->command, errstr);
			free(buf);
			return CLI_EXIT_FAILURE;
		}
	}
	e = rd_kafka_producev(f->producer,
			      RD_KAFKA_V_TOPIC(cli_fleet_topic(f, topic, name, sizeof(name))),
			      RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
			      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&result),
			      RD_KAFKA_V_END);
	free(buf);
	if (!e) {
		rd_kafka_flush(f->producer, f->send_timeout_ms);
		e = result == RD_KAFKA_RESP_ERR__IN_PROGRESS ? RD_KAFKA_RESP_ERR__TIMED_OUT
							     : result;
	}
	if (e) {
		fprintf(stderr, "fleetcap %s: Kafka did not take the request (topic %s): %s\n",
			f->command, name, rd_kafka_err2str(e));
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

rd_kafka_t *cli_fleet_reader(struct cli_fleet *f)
{
	struct fc_err err;

	if (!f->reader && !(f->reader = fc_kafka_reader_new(f->brokers, &f->kafka, &err)))
		fprintf(stderr, "fleetcap %s: %s\n", f->command, err.msg);
	return f->reader;
}

int32_t cli_status_partition(struct cli_fleet *f, const char *key, int32_t *count)
{
	char topic[FC_TOPIC_NAME_MAX + 1];
	struct fc_err err;
	rd_kafka_t *rk = cli_fleet_reader(f);
	int n;

	if (!rk)
		return -1;
	n = fc_topic_partition_count(rk, cli_fleet_topic(f, FC_TOPIC_STATUS, topic, sizeof(topic)),
				     15000, &err);
	if (n < 0) {
		fprintf(stderr, "fleetcap %s: %s\n", f->command, err.msg);
		return -1;
	}
	if (count)
		*count = n;
	return key ? fc_partition_for_key(key, strlen(key), n) : 0;
}

struct latest {
	const char *key;
	cli_status_t *status;
};

static int keep_latest(void *opaque, int32_t partition, int64_t offset, const char *key,
		       size_t key_len, const void *value, size_t len)
{
	struct latest *l = opaque;

	(void)partition;
	(void)offset;
	if (!key || key_len != strlen(l->key) || memcmp(key, l->key, key_len) != 0)
		return 0;
	if (l->status)
		fleetcap__v1__capture_status__free_unpacked(l->status, NULL);
	l->status = value && len ? fleetcap__v1__capture_status__unpack(NULL, len, value) : NULL;
	if (l->status && l->status->deleted) {
		fleetcap__v1__capture_status__free_unpacked(l->status, NULL);
		l->status = NULL;
	}
	return 0;
}

int cli_status_end_offset(struct cli_fleet *f, const char *key, int64_t *end_offset)
{
	char topic[FC_TOPIC_NAME_MAX + 1];
	int32_t p = cli_status_partition(f, key, NULL);
	int64_t lo, hi;
	struct fc_err err;

	if (p < 0)
		return CLI_EXIT_FAILURE;
	cli_fleet_topic(f, FC_TOPIC_STATUS, topic, sizeof(topic));
	if (fc_kafka_watermarks(f->reader, topic, p, &lo, &hi, 15000, &err) != 0) {
		fprintf(stderr, "fleetcap %s: %s\n", f->command, err.msg);
		return CLI_EXIT_FAILURE;
	}
	*end_offset = hi;
	return 0;
}

int cli_status_get(struct cli_fleet *f, const char *key, cli_status_t **out)
{
	char topic[FC_TOPIC_NAME_MAX + 1];
	struct latest l = {.key = key};
	struct fc_err err;
	int32_t p = cli_status_partition(f, key, NULL);

	*out = NULL;
	if (p < 0)
		return CLI_EXIT_FAILURE;
	cli_fleet_topic(f, FC_TOPIC_STATUS, topic, sizeof(topic));
	if (fc_kafka_read_to_end(f->reader, topic, &p, 1, 30000, keep_latest, &l, &err) != 0) {
		fprintf(stderr, "fleetcap %s: %s\n", f->command, err.msg);
		if (l.status)
			fleetcap__v1__capture_status__free_unpacked(l.status, NULL);
		return CLI_EXIT_FAILURE;
	}
	*out = l.status;
	return 0;
}

int cli_status_watch(struct cli_fleet *f, const char *key, int64_t offset, int timeout_ms,
		     int (*fn)(void *opaque, const cli_status_t *s), void *opaque)
{
	char topic[FC_TOPIC_NAME_MAX + 1];
	int32_t p = cli_status_partition(f, key, NULL);
	int64_t deadline = fc_mono_ms() + timeout_ms;
	rd_kafka_topic_partition_list_t *list;
	int rc = -1;

	if (p < 0)
		return CLI_EXIT_FAILURE;
	list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(
		list, cli_fleet_topic(f, FC_TOPIC_STATUS, topic, sizeof(topic)), p)
		->offset = offset;
	rd_kafka_assign(f->reader, list);
	rd_kafka_topic_partition_list_destroy(list);
	while (rc < 0) {
		if (timeout_ms > 0 && fc_mono_ms() >= deadline) {
			rc = CLI_EXIT_TIMEOUT;
			break;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(f->reader, 200);
		if (!m)
			continue;
		if (!m->err && m->key && m->key_len == strlen(key) &&
		    memcmp(m->key, key, m->key_len) == 0) {
			cli_status_t *s = m->payload && m->len
						  ? fleetcap__v1__capture_status__unpack(
							    NULL, m->len, m->payload)
						  : NULL;
			rc = fn(opaque, s);
			if (s)
				fleetcap__v1__capture_status__free_unpacked(s, NULL);
		} else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			fprintf(stderr, "fleetcap %s: %s\n", f->command,
				rd_kafka_message_errstr(m));
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_assign(f->reader, NULL);
	return rc;
}

int cli_status_final(const cli_status_t *s)
{
	return s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED ||
	       s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR;
}

static json_t *time_json(int64_t ms)
{
	char buf[FC_TIME_ISO_LEN];

	return ms ? json_string(fc_time_iso(ms, buf)) : json_null();
}

static json_t *text_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *files_json(Fleetcap__V1__CaptureFile *const *files, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o, s:o, s:I, s:s}", "path",
						     text_or_null(files[i]->local_path), "blobUrl",
						     text_or_null(files[i]->blob_url), "size",
						     (json_int_t)files[i]->size, "sha256",
						     files[i]->sha256));
	return arr;
}

/* Packets, bytes and drops of c (NULL: zeros) into o. */
static void counters_json(json_t *o, const Fleetcap__V1__Counters *c)
{
	json_object_set_new(o, "packets", json_integer(c ? (json_int_t)c->packets : 0));
	json_object_set_new(o, "bytes", json_integer(c ? (json_int_t)c->bytes : 0));
	json_object_set_new(
		o, "drops",
		json_integer(c ? (json_int_t)(c->kernel_drops + c->interface_drops) : 0));
}

static json_t *strings_json(char *const *items, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(items[i]));
	return arr;
}

/* A group capture's targetType, scope and per-instance breakdown into o. */
static void group_json(json_t *o, const cli_status_t *s)
{
	const Fleetcap__V1__Scope *sc = s->spec ? s->spec->scope : NULL;
	json_t *arr = json_array();

	json_object_set_new(o, "targetType", json_string("group"));
	json_object_set_new(
		o, "scope",
		json_pack("{s:o, s:o}", "include",
			  strings_json(sc ? sc->include : NULL, sc ? sc->n_include : 0), "exclude",
			  strings_json(sc ? sc->exclude : NULL, sc ? sc->n_exclude : 0)));
	for (size_t i = 0; i < s->n_instances; i++) {
		const Fleetcap__V1__InstanceState *in = s->instances[i];
		json_t *x = json_object();
		json_object_set_new(x, "instance", json_string(in->instance));
		json_object_set_new(x, "host", json_string(in->host_id));
		json_object_set_new(x, "status", json_string(fc_state_name(in->state)));
		json_object_set_new(x, "stopReason",
				    text_or_null(fc_stop_reason_name(in->stop_reason)));
		json_object_set_new(x, "error", text_or_null(fc_error_code_name(in->error)));
		json_object_set_new(x, "errorMessage", text_or_null(in->error_message));
		json_object_set_new(x, "captureStartTime", time_json(in->capture_start_time_ms));
		counters_json(x, in->counters);
		json_object_set_new(x, "files", files_json(in->files, in->n_files));
		json_object_set_new(x, "sessionId", text_or_null(in->session_id));
		json_array_append_new(arr, x);
	}
	json_object_set_new(o, "instances", arr);
}

int cli_status_is_group(const cli_status_t *s)
{
	return s->spec && s->spec->target_type == FLEETCAP__V1__TARGET_TYPE__TARGET_TYPE_GROUP;
}

json_t *cli_status_json(const cli_status_t *s)
{
	json_t *files = files_json(s->files, s->n_files), *origin = json_object();
	json_t *o = json_object();

	if (s->origin && s->origin->kind == FLEETCAP__V1__ORIGIN_KIND__ORIGIN_KIND_ALERT) {
		json_object_set_new(origin, "kind", json_string("alert"));
		json_object_set_new(origin, "alertId", json_string(s->origin->alert_id));
		json_object_set_new(origin, "rule", json_string(s->origin->rule));
	} else {
		json_object_set_new(origin, "kind", json_string("manual"));
	}
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "subscription", json_string(s->subscription));
	json_object_set_new(o, "region", json_string(s->region));
	json_object_set_new(o, "target", json_string(s->target));
	if (cli_status_is_group(s))
		group_json(o, s);
	else
		json_object_set_new(o, "targetType", json_string("host"));
	json_object_set_new(o, "status", json_string(fc_state_name(s->state)));
	json_object_set_new(o, "stopReason", text_or_null(fc_stop_reason_name(s->stop_reason)));
	json_object_set_new(o, "error", text_or_null(fc_error_code_name(s->error)));
	json_object_set_new(o, "errorMessage", text_or_null(s->error_message));
	json_object_set_new(o, "errorField", text_or_null(s->error_field));
	json_object_set_new(o, "captureStartTime", time_json(s->capture_start_time_ms));
	counters_json(o, s->counters);
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "origin", origin);
	json_object_set_new(o, "sessionId", text_or_null(s->session_id));
	json_object_set_new(o, "requestId", text_or_null(s->request_id));
	json_object_set_new(o, "updatedTime", time_json(s->updated_time_ms));
	if (s->rejected_error) {
		json_object_set_new(o, "rejectedError",
				    json_string(fc_error_code_name(s->rejected_error)));
		json_object_set_new(o, "rejectedMessage", text_or_null(s->rejected_message));
	}
	return o;
}

void cli_status_print_line(const cli_status_t *s, FILE *out)
{
	const Fleetcap__V1__Counters *c = s->counters;

	fprintf(out, "%s/%s/%s: %s", s->subscription, s->region, s->name, fc_state_name(s->state));
	if (s->stop_reason && s->state == FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED)
		fprintf(out, " (%s)", fc_stop_reason_name(s->stop_reason));
	if (s->error)
		fprintf(out, " %s: %s", fc_error_code_name(s->error), s->error_message);
	if (c && (c->packets || c->bytes))
		fprintf(out, ", %llu packets, %llu bytes, %llu drops",
			(unsigned long long)c->packets, (unsigned long long)c->bytes,
			(unsigned long long)(c->kernel_drops + c->interface_drops));
	if (s->n_instances) {
		fputs(" [", out);
		for (size_t i = 0; i < s->n_instances; i++)
			fprintf(out, "%s%s %s", i ? ", " : "", s->instances[i]->instance,
				fc_state_name(s->instances[i]->state));
		fputc(']', out);
	}
	for (size_t i = 0; i < s->n_files; i++)
		fprintf(out, "\n  file %s%s%s (%llu bytes, sha256 %s)", s->files[i]->local_path,
			*s->files[i]->blob_url ? " → " : "", s->files[i]->blob_url,
			(unsigned long long)s->files[i]->size, s->files[i]->sha256);
	fputc('\n', out);
}
