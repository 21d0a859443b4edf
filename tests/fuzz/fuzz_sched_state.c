/*
 * The scheduler's state machine (sched_state*.c) fed arbitrary sequences of
 * inputs: create (of a host or a group), stop and delete commands, alert
 * events, capture reports of the sessions it started, raw records of any bytes, timer ticks,
 * batches that commit or abort, and a replay of a partition from the committed ledger (a failover).
 * The input bytes are read as a program of such steps.
 *
 * After each committed batch, on what a consumer of the topics would see:
 *   - no committed LedgerState has more active sessions than the quota;
 *   - no session gets a START job twice, and every active session of the
 *     committed ledger got exactly one (a group capture: each instance);
 *   - every InvalidRequest answer names a field;
 *   - no record of any topic holds the SAS token in clear (it is sealed for
 *     the schedulers' key in the ledger, and for the worker's in jobs).
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>
#include <unistd.h>

#include "fc_kafka.h"
#include "fc_seal.h"
#include "fc_spec.h"
#include "fleetcap.pb-c.h"
#include "fuzz.h"
#include "sched_alerts.h"
#include "sched_state.h"

#define QUOTA  2
#define KEYS   3
#define LEDGER KEYS

struct record {
	enum fc_topic topic;
	char key[160];
	uint8_t *value;
	size_t len;
};

static struct sched_alert_rules *rules;
static struct record *batch; /* this batch's records, grown as needed */
static size_t n_batch, batch_cap;
static struct session {
	char id[160];
	unsigned starts;
} * sessions; /* every session a START named, grown as needed */
static size_t n_sessions, sessions_cap;
static struct {
	char key[160];
	uint8_t *value;
	size_t len;
} ledger[LEDGER];

static const char *const key_names[KEYS] = {"sub-0/r1", "sub-1/r1", "sub-2/r2"};

static void emit(void *opaque, enum fc_topic topic, int32_t partition, const char *key,
		 const void *value, size_t len)
{
	(void)opaque;
	(void)partition;
	if (n_batch == batch_cap) {
		batch_cap = batch_cap ? 2 * batch_cap : 64;
		FUZZ_REQUIRE((batch = realloc(batch, batch_cap * sizeof(*batch))), "out of memory");
	}
	struct record *r = &batch[n_batch++];
	r->topic = topic;
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->value = NULL;
	r->len = len;
	if (value) {
		r->value = malloc(len ? len : 1);
		memcpy(r->value, value, len);
	}
}

static int target_check(void *opaque, const char *target, const char *sub, const char *region,
			int64_t now_ms, char *why, size_t len)
{
	(void)opaque;
	(void)sub;
	(void)region;
	(void)now_ms;
	if (strncmp(target, "host-", 5) == 0)
		return 0;
	snprintf(why, len, "no worker %s", target);
	return -1;
}

/* Group "grp": instances 0-2 on host-0..host-2, in every key. */
static size_t group_members(void *opaque, const char *group, const char *sub, const char *region,
			    int64_t now_ms, int refresh, struct sched_member *out, size_t max)
{
	static const char *const ids[] = {"0", "1", "2"}, *const hosts[] = {"host-0", "host-1",
									    "host-2"};
	(void)opaque;
	(void)sub;
	(void)region;
	(void)now_ms;
	(void)refresh;
	if (strcmp(group, "grp") != 0)
		return 0;
	for (size_t i = 0; i < 3 && i < max; i++) {
		out[i].instance = ids[i];
		out[i].host_id = hosts[i];
	}
	return 3;
}

/* Keys: the schedulers', and the one every host-N announces. */
static struct fc_seal_key *scheduler_key, *hosts_key;

static int host_key(void *opaque, const char *host, uint8_t out[32])
{
	(void)opaque;
	if (strncmp(host, "host-", 5) != 0)
		return -1;
	memcpy(out, fc_seal_key_public(hosts_key), FC_SEAL_KEY_LEN);
	return 0;
}

static int alive_flag = 1;

static int target_alive(void *opaque, const char *target, int64_t now_ms, int64_t grace_ms)
{
	(void)opaque;
	(void)target;
	(void)now_ms;
	(void)grace_ms;
	return alive_flag;
}

static void forget_batch(void)
{
	for (size_t i = 0; i < n_batch; i++)
		free(batch[i].value);
	n_batch = 0;
}

static size_t session_index(const char *id)
{
	for (size_t i = 0; i < n_sessions; i++)
		if (strcmp(sessions[i].id, id) == 0)
			return i;
	if (n_sessions == sessions_cap) {
		sessions_cap = sessions_cap ? 2 * sessions_cap : 64;
		FUZZ_REQUIRE((sessions = realloc(sessions, sessions_cap * sizeof(*sessions))),
			     "out of memory");
	}
	snprintf(sessions[n_sessions].id, sizeof(sessions[0].id), "%s", id);
	sessions[n_sessions].starts = 0;
	return n_sessions++;
}

static void check_status(const struct record *r)
{
	Fleetcap__V1__CaptureStatus *s =
		fleetcap__v1__capture_status__unpack(NULL, r->len, r->value);
	FUZZ_REQUIRE(s, "a status record does not parse");
	if (s->error == FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST)
		FUZZ_REQUIRE(s->error_field && s->error_field[0],
			     "InvalidRequest for %s without a field", r->key);
	FUZZ_REQUIRE(!s->spec || !s->spec->blob_sas || !s->spec->blob_sas[0],
		     "a status holds the SAS token");
	fleetcap__v1__capture_status__free_unpacked(s, NULL);
}

static void check_ledger(const struct record *r)
{
	for (size_t k = 0; k < LEDGER; k++) {
		if (strcmp(key_names[k], r->key) != 0)
			continue;
		free(ledger[k].value);
		ledger[k].value = NULL;
		ledger[k].len = r->len;
		if (r->value) {
			ledger[k].value = malloc(r->len ? r->len : 1);
			memcpy(ledger[k].value, r->value, r->len);
		}
	}
	if (!r->value)
		return;
	Fleetcap__V1__LedgerState *ls = fleetcap__v1__ledger_state__unpack(NULL, r->len, r->value);
	FUZZ_REQUIRE(ls, "a ledger record does not parse");
	FUZZ_REQUIRE(ls->n_active <= QUOTA, "%s: %zu active sessions, quota %d", r->key,
		     ls->n_active, QUOTA);
	fleetcap__v1__ledger_state__free_unpacked(ls, NULL);
}

/* The batch committed: what it emitted is now what consumers read. */
static void commit(struct sched_state *st, int64_t now)
{
	sched_state_flush(st, now);
	if (!sched_state_sound(st)) {
		forget_batch();
		FUZZ_REQUIRE(sched_state_rollback(st) == 0, "a rollback failed");
		return;
	}
	sched_state_commit(st);
	for (size_t i = 0; i < n_batch; i++) {
		struct record *r = &batch[i];
		FUZZ_REQUIRE(!r->value || !memmem(r->value, r->len, "SECRET", 6),
			     "a %s record holds the SAS token in clear", fc_topic_suffix(r->topic));
		if (r->topic == FC_TOPIC_STATUS && r->value)
			check_status(r);
		else if (r->topic == FC_TOPIC_LEDGER)
			check_ledger(r);
		else if (r->topic == FC_TOPIC_JOBS && r->value) {
			Fleetcap__V1__Job *j = fleetcap__v1__job__unpack(NULL, r->len, r->value);
			FUZZ_REQUIRE(j, "a job does not parse");
			if (j->kind == FLEETCAP__V1__JOB_KIND__JOB_KIND_START) {
				size_t s = session_index(j->session_id); /* may grow sessions */
				FUZZ_REQUIRE(++sessions[s].starts == 1, "a second START for %s",
					     j->session_id);
			}
			fleetcap__v1__job__free_unpacked(j, NULL);
		}
	}
	forget_batch();
	/* Every active session of the committed ledger got its START. */
	for (size_t k = 0; k < LEDGER; k++) {
		if (!ledger[k].value)
			continue;
		Fleetcap__V1__LedgerState *ls =
			fleetcap__v1__ledger_state__unpack(NULL, ledger[k].len, ledger[k].value);
		for (size_t a = 0; a < ls->n_active; a++) {
			const Fleetcap__V1__LedgerEntry *e = ls->active[a];
			/* A group capture: each of its instances got its own START. */
			for (size_t i = 0; i < (e->n_instances ? e->n_instances : 1); i++) {
				const char *id = e->n_instances ? e->instances[i]->session_id
								: e->session_id;
				size_t s = session_index(id); /* may grow sessions */
				FUZZ_REQUIRE(sessions[s].starts == 1, "active %s without a START",
					     id);
			}
		}
		fleetcap__v1__ledger_state__free_unpacked(ls, NULL);
	}
}

/* ------------------------------------------------- the input program */

struct program {
	const uint8_t *p;
	size_t left;
};

static unsigned next(struct program *pr)
{
	if (!pr->left)
		return 0;
	pr->left--;
	return *pr->p++;
}

static void apply(struct sched_state *st, enum fc_topic topic, const char *key,
		  const ProtobufCMessage *msg, int64_t now)
{
	uint8_t buf[8192];
	size_t len = protobuf_c_message_get_packed_size(msg);
	if (len > sizeof(buf))
		return;
	protobuf_c_message_pack(msg, buf);
	sched_state_apply(st, topic, 0, key, strlen(key), buf, len, now);
}

static void step_command(struct sched_state *st, struct program *pr, int64_t now)
{
	static const char *const time_limits[] = {"1", "5", "60", "0", "99999"};
	unsigned k = next(pr) % KEYS, kind = next(pr) % 4, name_i = next(pr) % 5;
	char sub[16], region[8], name[16], target[16], request[24];
	Fleetcap__V1__Command cmd = FLEETCAP__V1__COMMAND__INIT;
	struct fc_field_errors errs;
	fc_spec_t *spec = NULL;

	sscanf(key_names[k], "%15[^/]/%7s", sub, region);
	snprintf(name, sizeof(name), "cap-%u", name_i);
	snprintf(request, sizeof(request), "req-%u", next(pr));
	cmd.kind = kind; /* 0 is UNSPECIFIED: a malformed command */
	cmd.request_id = request;
	cmd.time_ms = now;
	cmd.subscription = sub;
	cmd.region = region;
	cmd.name = name;
	if (kind == FLEETCAP__V1__COMMAND_KIND__COMMAND_KIND_CREATE) {
		unsigned flags = next(pr);
		fc_field_errors_init(&errs);
		spec = fc_spec_new();
		snprintf(target, sizeof(target), flags & 1 ? "gone-%u" : "host-%u", next(pr) % 3);
		fc_spec_set(spec, "name", name, &errs);
		fc_spec_set(spec, "subscription", sub, &errs);
		fc_spec_set(spec, "region", region, &errs);
		fc_spec_set(spec, "target", target, &errs);
		if (flags & 32) { /* a group, narrowed by a scope of 0-2 ids */
			static const char *const scopes[] = {"0", "1,2", "0,1,2", "3", "0,0"};
			fc_spec_set(spec, "target-group", flags & 1 ? "none" : "grp", &errs);
			if (flags & 64)
				fc_spec_set(spec, flags & 128 ? "include" : "exclude",
					    scopes[next(pr) % 5], &errs);
		}
		fc_spec_set(spec, "time-limit", time_limits[next(pr) % 5], &errs);
		fc_spec_set(spec, "file-path", flags & 2 ? "../up.pcap" : "caps/x.pcap", &errs);
		if (flags & 4)
			fc_spec_set(spec, "queue-timeout", "30", &errs);
		if (flags & 8)
			fc_spec_add_filter(spec, "protocol=udp,remote-port=53", &errs);
		if (flags & 16) {
			fc_spec_set(spec, "blob-url", "https://acct.blob.core.windows.net/c/x.pcap",
				    &errs);
			fc_spec_set(spec, "blob-sas", "sv=1&sig=SECRET", &errs);
		}
		cmd.spec = spec;
	}
	apply(st, FC_TOPIC_COMMANDS, key_names[k], &cmd.base, now);
	if (spec)
		fc_spec_free(spec);
}

static void step_report(struct sched_state *st, struct program *pr, int64_t now)
{
	Fleetcap__V1__CaptureReport r = FLEETCAP__V1__CAPTURE_REPORT__INIT;
	Fleetcap__V1__Counters c = FLEETCAP__V1__COUNTERS__INIT;
	char sub[16], region[8];

	if (!n_sessions)
		return;
	const char *id = sessions[next(pr) % n_sessions].id;
	/* The key is the session id's "sub/region/" prefix. */
	if (sscanf(id, "%15[^/]/%7[^/]", sub, region) != 2)
		return;
	r.kind = next(pr) % 5;
	r.session_id = (char *)id;
	r.subscription = sub;
	r.region = region;
	r.host_id = "host-0";
	r.time_ms = now;
	r.seq = next(pr);
	c.packets = next(pr);
	r.counters = &c;
	r.stop_reason = next(pr) % 7;
	r.error = r.kind == FLEETCAP__V1__REPORT_KIND__REPORT_KIND_FAILED ? 1 + next(pr) % 5 : 0;
	char key[40];
	snprintf(key, sizeof(key), "%s/%s", sub, region);
	apply(st, FC_TOPIC_RESULTS, key, &r.base, now);
}

static void step_alert(struct sched_state *st, struct program *pr, int64_t now)
{
	Fleetcap__V1__AlertEvent ev = FLEETCAP__V1__ALERT_EVENT__INIT;
	unsigned k = next(pr) % KEYS;
	char sub[16], region[8], id[16], target[16];

	sscanf(key_names[k], "%15[^/]/%7s", sub, region);
	snprintf(id, sizeof(id), "alert-%u", next(pr) % 4);
	snprintf(target, sizeof(target), "host-%u", next(pr) % 3);
	ev.alert_id = id;
	ev.subscription = sub;
	ev.region = region;
	ev.target = target;
	ev.rule = next(pr) % 4 ? "udp" : "nosuch";
	ev.severity = next(pr) % 5;
	ev.time_ms = now;
	apply(st, FC_TOPIC_ALERTS, key_names[k], &ev.base, now);
}

static void step_raw(struct sched_state *st, struct program *pr, int64_t now)
{
	static const enum fc_topic topics[] = {FC_TOPIC_COMMANDS, FC_TOPIC_ALERTS,
					       FC_TOPIC_RESULTS};
	enum fc_topic topic = topics[next(pr) % 3];
	const char *key = key_names[next(pr) % KEYS];
	size_t len = next(pr);
	if (len > pr->left)
		len = pr->left;
	sched_state_apply(st, topic, 0, key, strlen(key), pr->p, len, now);
	pr->p += len;
	pr->left -= len;
}

/* A failover: the partition's state is read again from the committed ledger. */
static void step_replay(struct sched_state *st, int64_t now)
{
	int32_t partition = 0;

	sched_state_drop_partition(st, 0);
	for (size_t k = 0; k < LEDGER; k++)
		if (ledger[k].value)
			FUZZ_REQUIRE(sched_state_load(st, 0, key_names[k], ledger[k].value,
						      ledger[k].len) == 0,
				     "a committed ledger record does not load");
	sched_state_renew_leases(st, &partition, 1, now);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];
	struct fc_err err;
	static const char text[] =
		"{\"rules\": [{\"name\": \"udp\", \"minSeverity\": \"Warning\", "
		"\"cooldownSeconds\": 60, \"capture\": {\"time-limit\": 5, \"queue-timeout\": 30, "
		"\"file-path\": \"alerts/{name}.pcap\"}}]}";

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/fleetcap-fuzz-sched-rules-%d", (int)getpid());
	fuzz_write(path, (const uint8_t *)text, strlen(text));
	rules = sched_alert_rules_load(path, &err);
	unlink(path);
	FUZZ_REQUIRE(rules, "the rules: %s", err.msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_err err;
	if (!scheduler_key) {
		FUZZ_REQUIRE((scheduler_key = fc_seal_key_new(&err)), "%s", err.msg);
		FUZZ_REQUIRE((hosts_key = fc_seal_key_new(&err)), "%s", err.msg);
	}
	struct sched_policy policy = {
		.quota_default = QUOTA,
		.lease_grace_ms = 30000,
		.finished_max = 8,
		.rules = rules,
		.target_check = target_check,
		.target_alive = target_alive,
		.group_members = group_members,
		.seal_key = scheduler_key,
		.host_key = host_key,
		.emit = emit,
	};
	struct program pr = {data, size};
	struct sched_state *st = sched_state_new(&policy);
	int64_t now = 1800000000000;

	n_sessions = 0;
	alive_flag = 1;
	for (size_t k = 0; k < LEDGER; k++) {
		free(ledger[k].value);
		ledger[k].value = NULL;
	}
	while (pr.left) {
		switch (next(&pr) % 9) {
		case 0:
		case 1:
			step_command(st, &pr, now);
			break;
		case 2:
			step_report(st, &pr, now);
			break;
		case 3:
			step_alert(st, &pr, now);
			break;
		case 4:
			now += (int64_t)next(&pr) * 1000;
			alive_flag = next(&pr) % 4 != 0;
			sched_state_tick(st, now);
			break;
		case 5:
			commit(st, now);
			break;
		case 6: /* the transaction aborts */
			forget_batch();
			FUZZ_REQUIRE(sched_state_rollback(st) == 0, "a rollback failed");
			break;
		case 7:
			commit(st, now);
			step_replay(st, now);
			break;
		case 8:
			step_raw(st, &pr, now);
			break;
		}
	}
	commit(st, now);
	sched_state_destroy(st);
	return 0;
}
