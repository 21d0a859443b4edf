#define _GNU_SOURCE /* memmem */
/* it_fleet: scheduler test harness on the real broker; see it_fleet.h. */
#include "it_fleet.h"

#include <stdatomic.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fc_kafka.h"
#include "fc_seal.h"
#include "it_env.h"
#include "it_kafka.h"

/* A thread that keeps every record of one topic, unpacked, in an array of f. */
struct keeper {
	struct it_fleet *f;
	enum fc_topic topic;
	const ProtobufCMessageDescriptor *descriptor;
	void ***array;
	size_t *n, *cap;
	pthread_t thread;
};

struct it_fleet {
	char brokers[256];
	char prefix[64];
	char topics[FC_TOPIC_COUNT][FC_TOPIC_NAME_MAX + 1];
	rd_kafka_t *producer;
	pthread_t worker_thread;
	struct keeper statuses_kept, reports_kept;
	atomic_int running;
	atomic_int auto_finish;
	pthread_mutex_t lock;
	it_status_t **statuses;
	size_t n_statuses, cap_statuses;
	Fleetcap__V1__Job **jobs;
	size_t n_jobs, cap_jobs;
	Fleetcap__V1__CaptureReport **reports; /* every report in results */
	size_t n_reports, cap_reports;
	uint64_t counter;
	struct fc_seal_key *seal_key; /* announced by every stand-in host */
	char endpoints[512];	      /* blob.endpoints beyond $FLEETCAP_AZURITE's */
};

static void die(const char *what)
{
	fprintf(stderr, "it_fleet: %s\n", what);
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

const char *it_fleet_prefix(const struct it_fleet *f)
{
	return f->prefix;
}

void it_fleet_auto_finish(struct it_fleet *f, int on)
{
	f->auto_finish = on;
}

static void produce(struct it_fleet *f, enum fc_topic topic, const char *key,
		    const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len + 1);
	rd_kafka_resp_err_t e;

	protobuf_c_message_pack(msg, buf);
	while ((e = rd_kafka_producev(f->producer, RD_KAFKA_V_TOPIC(f->topics[topic]),
				      RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(f->producer, 10);
	free(buf);
	if (e)
		die(rd_kafka_err2str(e));
	rd_kafka_poll(f->producer, 0);
}

void it_fleet_flush(struct it_fleet *f)
{
	rd_kafka_flush(f->producer, 30000);
}

/* A consumer of every partition of topic from the beginning, read_committed. */
static rd_kafka_t *reader_of(struct it_fleet *f, enum fc_topic topic)
{
	struct fc_err err;
	rd_kafka_t *rk = fc_kafka_reader_new(f->brokers, it_kafka_props("admin"), &err);
	int n;

	if (!rk)
		die(err.msg);
	if ((n = fc_topic_partition_count(rk, f->topics[topic], 30000, &err)) < 0)
		die(err.msg);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
	for (int p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(list, f->topics[topic], p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	return rk;
}

static void push(void ***array, size_t *n, size_t *cap, void *item)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*array = realloc(*array, *cap * sizeof(void *));
		if (!*array)
			die("out of memory");
	}
	(*array)[(*n)++] = item;
}

static void *keep_main(void *opaque)
{
	struct keeper *k = opaque;
	struct it_fleet *f = k->f;
	rd_kafka_t *rk = reader_of(f, k->topic);

	while (f->running) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (!m->err && m->payload && m->len) {
			ProtobufCMessage *msg =
				protobuf_c_message_unpack(k->descriptor, NULL, m->len, m->payload);
			if (msg) {
				pthread_mutex_lock(&f->lock);
				push(k->array, k->n, k->cap, msg);
				pthread_mutex_unlock(&f->lock);
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

/* Starts k, keeping topic's records (of descriptor) in array. */
static void keep(struct it_fleet *f, struct keeper *k, enum fc_topic topic,
		 const ProtobufCMessageDescriptor *descriptor, void ***array, size_t *n,
		 size_t *cap)
{
	k->f = f;
	k->topic = topic;
	k->descriptor = descriptor;
	k->array = array;
	k->n = n;
	k->cap = cap;
	pthread_create(&k->thread, NULL, keep_main, k);
}

size_t it_fleet_reports(struct it_fleet *f, const char *name, int kind)
{
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_reports; i++)
		n += (int)f->reports[i]->kind == kind && f->reports[i]->name &&
		     strcmp(f->reports[i]->name, name) == 0;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void report(struct it_fleet *f, const Fleetcap__V1__Job *job, int kind, int stop_reason,
		   uint64_t seq, const Fleetcap__V1__CaptureSpec *spec)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;
	char key[160];

	/* The session id is "sub/region/name#N". */
	char sub[80], region[80];
	if (sscanf(job->session_id, "%79[^/]/%79[^/]/", sub, region) != 2)
		return;
	c.packets = seq;
	r.kind = kind;
	r.session_id = job->session_id;
	r.subscription = sub;
	r.region = region;
	r.name = spec ? spec->name : (char *)"";
	r.host_id = job->target;
	r.time_ms = fc_wall_ms();
	r.capture_start_time_ms = fc_wall_ms();
	r.counters = &c;
	r.stop_reason = stop_reason;
	r.seq = seq;
	snprintf(key, sizeof(key), "%s/%s", sub, region);
	produce(f, FC_TOPIC_RESULTS, key, &r.base);
}

static void *worker_main(void *opaque)
{
	struct it_fleet *f = opaque;
	rd_kafka_t *rk = reader_of(f, FC_TOPIC_JOBS);

	while (f->running) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		Fleetcap__V1__Job *job =
			!m->err && m->payload ? fleetcap__v1__job__unpack(NULL, m->len, m->payload)
					      : NULL;
		rd_kafka_message_destroy(m);
		if (!job)
			continue;
		if (strncmp(job->target, "real", 4) == 0)
			goto keep; /* a real fleetcap-worker answers these */
		int silent = strncmp(job->target, "silent", 6) == 0;
		int mute = strncmp(job->target, "mute", 4) == 0;
		if (!silent && job->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START) {
			report(f, job, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_STARTED, 0, 1,
			       job->spec);
			if (f->auto_finish)
				report(f, job, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED,
				       FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED, 2,
				       job->spec);
		} else if (!silent && !mute && job->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_STOP) {
			report(f, job, FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FINISHED,
			       job->stop_reason, 3, NULL);
		}
	keep:
		pthread_mutex_lock(&f->lock);
		push((void ***)&f->jobs, &f->n_jobs, &f->cap_jobs, job);
		pthread_mutex_unlock(&f->lock);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

struct it_fleet *it_fleet_start(const char *brokers, const char *prefix, int partitions)
{
	struct it_fleet *f = calloc(1, sizeof(*f));
	struct fc_err err;
	char errstr[512];

	snprintf(f->brokers, sizeof(f->brokers), "%s", brokers);
	snprintf(f->prefix, sizeof(f->prefix), "%s", prefix);
	for (int t = 0; t < FC_TOPIC_COUNT; t++)
		fc_topic_name(prefix, (enum fc_topic)t, f->topics[t], sizeof(f->topics[t]));
	rd_kafka_conf_t *conf = it_kafka_conf(brokers, "admin");
	if (fc_kafka_conf_set(conf, "enable.idempotence", "true", &err) ||
	    fc_kafka_conf_set(conf, "linger.ms", "1", &err))
		die(err.msg);
	if (!(f->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		die(errstr);
	if (fc_topics_create(f->producer, prefix, partitions, it_replication(), 30000, &err) != 0)
		die(err.msg);
	it_kafka_grant(f->producer, prefix);
	pthread_mutex_init(&f->lock, NULL);
	struct fc_err kerr;
	if (!(f->seal_key = fc_seal_key_new(&kerr)))
		die(kerr.msg);
	f->running = 1;
	keep(f, &f->statuses_kept, FC_TOPIC_STATUS, &fleetcap__v1__capture_status__descriptor,
	     (void ***)&f->statuses, &f->n_statuses, &f->cap_statuses);
	keep(f, &f->reports_kept, FC_TOPIC_RESULTS, &fleetcap__v1__capture_report__descriptor,
	     (void ***)&f->reports, &f->n_reports, &f->cap_reports);
	pthread_create(&f->worker_thread, NULL, worker_main, f);
	return f;
}

void it_fleet_stop(struct it_fleet *f)
{
	f->running = 0;
	pthread_join(f->statuses_kept.thread, NULL);
	pthread_join(f->reports_kept.thread, NULL);
	pthread_join(f->worker_thread, NULL);
	for (size_t i = 0; i < f->n_reports; i++)
		fleetcap__v1__capture_report__free_unpacked(f->reports[i], NULL);
	free(f->reports);
	rd_kafka_flush(f->producer, 10000);
	rd_kafka_destroy(f->producer);
	for (size_t i = 0; i < f->n_statuses; i++)
		fleetcap__v1__capture_status__free_unpacked(f->statuses[i], NULL);
	for (size_t i = 0; i < f->n_jobs; i++)
		fleetcap__v1__job__free_unpacked(f->jobs[i], NULL);
	free(f->statuses);
	free(f->jobs);
	pthread_mutex_destroy(&f->lock);
	fc_seal_key_free(f->seal_key);
	free(f);
}

void it_fleet_allow_endpoint(struct it_fleet *f, const char *origin)
{
	size_t n = strlen(f->endpoints);
	snprintf(f->endpoints + n, sizeof(f->endpoints) - n, "%s%s", n ? "," : "", origin);
}

const struct fc_seal_key *it_fleet_seal_key(const struct it_fleet *f)
{
	return f->seal_key;
}

int it_fleet_topic_holds(struct it_fleet *f, enum fc_topic topic, const char *text)
{
	struct fc_err err;
	char errstr[256];
	rd_kafka_conf_t *conf = it_kafka_conf(f->brokers, "admin");
	int found = 0, eofs = 0;

	if (fc_kafka_conf_set(conf, "group.id", "it-raw", &err) ||
	    fc_kafka_conf_set(conf, "isolation.level", "read_uncommitted", &err) ||
	    fc_kafka_conf_set(conf, "enable.partition.eof", "true", &err) ||
	    fc_kafka_conf_set(conf, "enable.auto.commit", "false", &err))
		die(err.msg);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk)
		die(errstr);
	int32_t n = fc_topic_partition_count(rk, f->topics[topic], 30000, &err);
	if (n < 0)
		die(err.msg);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
	for (int32_t p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(list, f->topics[topic], p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	for (int64_t until = fc_mono_ms() + 60000; eofs < n && fc_mono_ms() < until;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eofs++;
		else if (!m->err && m->payload && memmem(m->payload, m->len, text, strlen(text)))
			found = 1;
		rd_kafka_message_destroy(m);
	}
	if (eofs < n)
		die("a raw topic was not read to its end within 60 s");
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return found;
}

void it_fleet_heartbeat(struct it_fleet *f, const char *host, const char *sub, const char *region,
			int64_t age_ms)
{
	it_fleet_heartbeat_in_group(f, host, sub, region, "", "", age_ms);
}

void it_fleet_heartbeat_in_group(struct it_fleet *f, const char *host, const char *sub,
				 const char *region, const char *group, const char *instance,
				 int64_t age_ms)
{
	Fleetcap__V1__WorkerHeartbeat hb = FLEETCAP__V1__WORKER_HEARTBEAT__INIT;

	hb.host_id = (char *)host;
	hb.group = (char *)group;
	hb.instance = (char *)instance;
	hb.subscription = (char *)sub;
	hb.region = (char *)region;
	hb.version = (char *)"it";
	hb.capacity = 100;
	hb.time_ms = fc_wall_ms() - age_ms;
	hb.interval_s = 10;
	hb.seal_key.data = (uint8_t *)fc_seal_key_public(f->seal_key);
	hb.seal_key.len = FC_SEAL_KEY_LEN;
	produce(f, FC_TOPIC_WORKERS, host, &hb.base);
	it_fleet_flush(f);
}

void it_fleet_create(struct it_fleet *f, const char *sub, const char *region, const char *name,
		     const char *target, unsigned time_limit_s, unsigned queue_timeout_s,
		     char *request_id)
{
	it_fleet_create_blob(f, sub, region, name, target, time_limit_s, queue_timeout_s, NULL,
			     request_id);
}

void it_fleet_create_spec(struct it_fleet *f, Fleetcap__V1__CaptureSpec *spec, char *request_id)
{
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;
	char key[160];

	snprintf(request_id, 33, "req-%d-%llu", (int)getpid(),
		 (unsigned long long)__atomic_add_fetch(&f->counter, 1, __ATOMIC_SEQ_CST));
	cmd.kind = FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE;
	cmd.request_id = request_id;
	cmd.time_ms = fc_wall_ms();
	cmd.spec = spec;
	snprintf(key, sizeof(key), "%s/%s", spec->subscription, spec->region);
	produce(f, FC_TOPIC_COMMANDS, key, &cmd.base);
}

void it_fleet_create_blob(struct it_fleet *f, const char *sub, const char *region, const char *name,
			  const char *target, unsigned time_limit_s, unsigned queue_timeout_s,
			  const char *blob_url, char *request_id)
{
	Fleetcap__V1__CaptureSpec spec = FLEETCAP__V1__CAPTURE_SPEC__INIT;
	char path[128];

	snprintf(path, sizeof(path), "caps/%s.pcap", name);
	spec.name = (char *)name;
	spec.subscription = (char *)sub;
	spec.region = (char *)region;
	spec.target = (char *)target;
	spec.time_limit_s = time_limit_s;
	spec.queue_timeout_s = queue_timeout_s;
	spec.file_path = path;
	if (blob_url)
		spec.blob_url = (char *)blob_url;
	it_fleet_create_spec(f, &spec, request_id);
}

void it_fleet_command(struct it_fleet *f, int kind, const char *sub, const char *region,
		      const char *name)
{
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;
	char key[160];

	cmd.kind = kind;
	cmd.request_id = (char *)"it-command";
	cmd.subscription = (char *)sub;
	cmd.region = (char *)region;
	cmd.name = (char *)name;
	snprintf(key, sizeof(key), "%s/%s", sub, region);
	produce(f, FC_TOPIC_COMMANDS, key, &cmd.base);
	it_fleet_flush(f);
}

void it_fleet_alert(struct it_fleet *f, const char *sub, const char *region, const char *target,
		    const char *rule, const char *alert_id, int severity)
{
	Fleetcap__V1__AlertEvent ev = FLEETCAP__V1__ALERT_EVENT__INIT;
	char key[160];

	ev.alert_id = (char *)alert_id;
	ev.subscription = (char *)sub;
	ev.region = (char *)region;
	ev.target = (char *)target;
	ev.rule = (char *)rule;
	ev.severity = severity;
	ev.time_ms = fc_wall_ms();
	snprintf(key, sizeof(key), "%s/%s", sub, region);
	produce(f, FC_TOPIC_ALERTS, key, &ev.base);
	it_fleet_flush(f);
}

static it_status_t *copy_status(const it_status_t *s)
{
	size_t len = fleetcap__v1__capture_status__get_packed_size(s);
	uint8_t *buf = malloc(len + 1);
	fleetcap__v1__capture_status__pack(s, buf);
	it_status_t *copy = fleetcap__v1__capture_status__unpack(NULL, len, buf);
	free(buf);
	return copy;
}

/* Waits for the first status that match() accepts. */
static it_status_t *wait_for(struct it_fleet *f, int (*match)(const it_status_t *, const void *),
			     const void *arg, int timeout_s)
{
	int64_t deadline = fc_mono_ms() + timeout_s * 1000LL;

	it_fleet_flush(f);
	do {
		it_status_t *found = NULL;
		pthread_mutex_lock(&f->lock);
		for (size_t i = 0; i < f->n_statuses && !found; i++)
			if (match(f->statuses[i], arg))
				found = copy_status(f->statuses[i]);
		pthread_mutex_unlock(&f->lock);
		if (found)
			return found;
		sleep_ms(50);
	} while (fc_mono_ms() < deadline);
	return NULL;
}

static int answers(const it_status_t *s, const void *arg)
{
	return strcmp(s->request_id, arg) == 0;
}

it_status_t *it_fleet_answer(struct it_fleet *f, const char *request_id, int timeout_s)
{
	return wait_for(f, answers, request_id, timeout_s);
}

struct key_state {
	const char *key;
	int state;
};

static int in_state(const it_status_t *s, const void *arg)
{
	const struct key_state *ks = arg;
	char key[256];

	snprintf(key, sizeof(key), "%s/%s/%s", s->subscription, s->region, s->name);
	return (int)s->state == ks->state && strcmp(key, ks->key) == 0;
}

it_status_t *it_fleet_wait_state(struct it_fleet *f, const char *key, int state, int timeout_s)
{
	struct key_state ks = {key, state};
	return wait_for(f, in_state, &ks, timeout_s);
}

size_t it_fleet_jobs(struct it_fleet *f, int kind, const char *name)
{
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_jobs; i++) {
		const Fleetcap__V1__Job *j = f->jobs[i];
		/* "sub/region/name#N", or "…#N/instance" for a group capture's. */
		const char *hash = strchr(j->session_id, '#'), *slash = NULL;
		for (const char *c = j->session_id; hash && c < hash; c++)
			if (*c == '/')
				slash = c;
		int named = !name || (slash && hash && (size_t)(hash - slash - 1) == strlen(name) &&
				      strncmp(slash + 1, name, strlen(name)) == 0);
		n += (int)j->kind == kind && named;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t it_fleet_statuses(struct it_fleet *f, it_status_t ***out)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n_statuses;
	*out = malloc((n + 1) * sizeof(**out));
	memcpy(*out, f->statuses, n * sizeof(**out));
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t it_fleet_all_jobs(struct it_fleet *f, Fleetcap__V1__Job ***out)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n_jobs;
	*out = malloc((n + 1) * sizeof(**out));
	memcpy(*out, f->jobs, n * sizeof(**out));
	pthread_mutex_unlock(&f->lock);
	return n;
}

struct ledger_cb {
	void (*fn)(void *, const Fleetcap__V1__LedgerState *);
	void *opaque;
};

static int on_ledger(void *opaque, int32_t partition, int64_t offset, const char *key,
		     size_t key_len, const void *value, size_t len)
{
	struct ledger_cb *cb = opaque;
	(void)partition;
	(void)offset;
	(void)key;
	(void)key_len;
	if (!value || !len)
		return 0;
	Fleetcap__V1__LedgerState *ls = fleetcap__v1__ledger_state__unpack(NULL, len, value);
	if (!ls)
		return -1;
	cb->fn(cb->opaque, ls);
	fleetcap__v1__ledger_state__free_unpacked(ls, NULL);
	return 0;
}

void it_fleet_read_ledger(struct it_fleet *f,
			  void (*fn)(void *opaque, const Fleetcap__V1__LedgerState *ls),
			  void *opaque)
{
	struct fc_err err;
	struct ledger_cb cb = {fn, opaque};
	rd_kafka_t *rk = fc_kafka_reader_new(f->brokers, it_kafka_props("admin"), &err);
	int n = rk ? fc_topic_partition_count(rk, f->topics[FC_TOPIC_LEDGER], 30000, &err) : -1;
	int32_t parts[256];

	if (n < 0 || n > 256)
		die(err.msg);
	for (int p = 0; p < n; p++)
		parts[p] = p;
	if (fc_kafka_read_to_end(rk, f->topics[FC_TOPIC_LEDGER], parts, (size_t)n, 120000,
				 on_ledger, &cb, &err) != 0)
		die(err.msg);
	rd_kafka_destroy(rk);
}

/* Starts bin with brokers, topics prefix, extra "-X" settings and one more
 * "-X first" (NULL for none); stdout and stderr go to log_path. */
static pid_t spawn(struct it_fleet *f, const char *const *wrapper, const char *bin,
		   const char *first, const char *const *settings, const char *log_path)
{
	char *argv[100];
	char x[4][1000];
	size_t n = 0;
	pid_t pid;

	for (; wrapper && *wrapper && n < 16; wrapper++)
		argv[n++] = (char *)*wrapper;
	argv[n++] = (char *)bin;
	snprintf(x[0], sizeof(x[0]), "brokers=%s", f->brokers);
	snprintf(x[1], sizeof(x[1]), "topics.prefix=%s", f->prefix);
	argv[n++] = (char *)"-X";
	argv[n++] = x[0];
	argv[n++] = (char *)"-X";
	argv[n++] = x[1];
	if (first) {
		snprintf(x[2], sizeof(x[2]), "%s", first);
		argv[n++] = (char *)"-X";
		argv[n++] = x[2];
	}
	/* The scheduler and the worker upload only to allowed endpoints: the
	 * test Azurite's origin, and those the test allowed. */
	const char *base = strrchr(bin, '/');
	base = base ? base + 1 : bin;
	if (strcmp(base, "fleetcap-scheduler") == 0 || strcmp(base, "fleetcap-worker") == 0) {
		const char *az = getenv("FLEETCAP_AZURITE"), *path = az ? strstr(az, "://") : NULL;
		path = path ? strchr(path + 3, '/') : NULL;
		snprintf(x[3], sizeof(x[3]), "blob.endpoints=%.*s%s%s", path ? (int)(path - az) : 0,
			 path ? az : "", path && *f->endpoints ? "," : "", f->endpoints);
		argv[n++] = (char *)"-X";
		argv[n++] = x[3];
	}
	/* Secured services: the daemon's role's credentials. */
	const char *role = strcmp(base, "fleetcap-scheduler") == 0 ? "scheduler"
			   : strcmp(base, "fleetcap-worker") == 0  ? "worker"
			   : strcmp(base, "fleetcap-api") == 0	   ? "client"
								   : NULL;
	for (const char *const *k = role ? it_kafka_settings(role) : NULL; k && *k && n < 60; k++) {
		argv[n++] = (char *)"-X";
		argv[n++] = (char *)*k;
	}
	for (; settings && *settings && n < 96; settings++) {
		argv[n++] = (char *)"-X";
		argv[n++] = (char *)*settings;
	}
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		execv(argv[0], argv);
		dprintf(fd, "cannot run %s\n", argv[0]);
		_exit(127);
	}
	return pid;
}

pid_t it_sched_start(struct it_fleet *f, const char *instance, const char *const *settings,
		     char *log_path, size_t log_len)
{
	char id[96];

	snprintf(log_path, log_len, "/tmp/%sscheduler-%s.log", f->prefix, instance);
	snprintf(id, sizeof(id), "instance.id=%s", instance);
	return spawn(f, NULL, FLEETCAP_SCHEDULER_BIN, id, settings, log_path);
}

pid_t it_daemon_start(struct it_fleet *f, const char *const *wrapper, const char *bin,
		      const char *name, const char *const *settings, char *log_path, size_t log_len)
{
	snprintf(log_path, log_len, "/tmp/%s%s.log", f->prefix, name);
	return spawn(f, wrapper, bin, NULL, settings, log_path);
}

int it_sched_wait_log(const char *log_path, const char *text, int timeout_s)
{
	int64_t deadline = fc_mono_ms() + timeout_s * 1000LL;
	char buf[1 << 16];

	do {
		FILE *fp = fopen(log_path, "r");
		if (fp) {
			int found = 0;
			while (!found && fgets(buf, sizeof(buf), fp))
				found = strstr(buf, text) != NULL;
			fclose(fp);
			if (found)
				return 0;
		}
		sleep_ms(100);
	} while (fc_mono_ms() < deadline);
	return -1;
}

int it_sched_stop(pid_t pid, int sig)
{
	int status;

	kill(pid, sig);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
