/* fc_acls: the Kafka ACLs of each fleetcap role on one topic prefix; see fc_acls.h. */
#include "fc_acls.h"

#include <stdio.h>
#include <string.h>

#include "fc_kafka.h"

enum role { SCHEDULER, WORKER, CLIENT, CONSUMER };
enum name_kind {
	TOPIC,	      /* the topic of .topic under the prefix */
	UNDER_PREFIX, /* prefix + .name */
	ABSOLUTE,     /* .name as is */
};

static const struct rule {
	enum role role;
	rd_kafka_ResourceType_t type;
	enum name_kind kind;
	enum fc_topic topic;
	const char *name;
	rd_kafka_ResourcePatternType_t pattern;
	rd_kafka_AclOperation_t op;
} rules[] = {
#define TOPIC_ACL(r, t, o)                                                                         \
	{                                                                                          \
		r, RD_KAFKA_RESOURCE_TOPIC, TOPIC, t, NULL, RD_KAFKA_RESOURCE_PATTERN_LITERAL,     \
			RD_KAFKA_ACL_OPERATION_##o                                                 \
	}
#define GROUP_ACL(r, k, n, p)                                                                      \
	{                                                                                          \
		r, RD_KAFKA_RESOURCE_GROUP, k, 0, n, RD_KAFKA_RESOURCE_PATTERN_##p,                \
			RD_KAFKA_ACL_OPERATION_READ                                                \
	}
	TOPIC_ACL(SCHEDULER, FC_TOPIC_COMMANDS, READ),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_ALERTS, READ),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_RESULTS, READ),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_LEDGER, READ),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_WORKERS, READ),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_JOBS, WRITE),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_LEDGER, WRITE),
	TOPIC_ACL(SCHEDULER, FC_TOPIC_STATUS, WRITE),
	GROUP_ACL(SCHEDULER, UNDER_PREFIX, "scheduler", LITERAL),
	GROUP_ACL(SCHEDULER, ABSOLUTE, "fleetcap-reader", LITERAL),
	TOPIC_ACL(WORKER, FC_TOPIC_JOBS, READ),
	TOPIC_ACL(WORKER, FC_TOPIC_RESULTS, WRITE),
	TOPIC_ACL(WORKER, FC_TOPIC_WORKERS, WRITE),
	GROUP_ACL(WORKER, UNDER_PREFIX, "worker-", PREFIXED),
	TOPIC_ACL(CLIENT, FC_TOPIC_COMMANDS, WRITE),
	TOPIC_ACL(CLIENT, FC_TOPIC_ALERTS, WRITE),
	TOPIC_ACL(CLIENT, FC_TOPIC_STATUS, READ),
	TOPIC_ACL(CLIENT, FC_TOPIC_WORKERS, READ),
	GROUP_ACL(CLIENT, ABSOLUTE, "fleetcap-reader", LITERAL),
	TOPIC_ACL(CONSUMER, FC_TOPIC_RESULTS, READ),
	TOPIC_ACL(CONSUMER, FC_TOPIC_STATUS, READ),
	GROUP_ACL(CONSUMER, UNDER_PREFIX, "consumer-", PREFIXED),
	GROUP_ACL(CONSUMER, ABSOLUTE, "fleetcap-reader", LITERAL),
#undef TOPIC_ACL
#undef GROUP_ACL
};
#define RULES (sizeof(rules) / sizeof(rules[0]))

static const char *principal_of(const struct fc_acl_principals *who, enum role role)
{
	switch (role) {
	case SCHEDULER:
		return who->scheduler;
	case WORKER:
		return who->worker;
	case CLIENT:
		return who->client;
	default:
		return who->consumer;
	}
}

/* The bindings of rules for who, in acls[]; their count, or -1. */
static int make_bindings(const char *prefix, const struct fc_acl_principals *who,
			 rd_kafka_AclBinding_t **acls, struct fc_err *err)
{
	int n = 0;

	for (size_t i = 0; i < RULES; i++) {
		const struct rule *r = &rules[i];
		const char *principal = principal_of(who, r->role);
		char name[FC_TOPIC_NAME_MAX + 64], errstr[256];

		if (!principal)
			continue;
		if (strncmp(principal, "User:", 5) != 0 || !principal[5]) {
			fc_err_set(err, FC_ERR_INVALID, "principal \"%.64s\": expected User:NAME",
				   principal);
			goto fail;
		}
		if (r->kind == TOPIC) {
			if (fc_topic_name(prefix, r->topic, name, sizeof(name)) != 0) {
				fc_err_set(err, FC_ERR_INVALID, "prefix \"%.64s\" is not valid",
					   prefix);
				goto fail;
			}
		} else {
			snprintf(name, sizeof(name), "%s%s", r->kind == UNDER_PREFIX ? prefix : "",
				 r->name);
		}
		acls[n] = rd_kafka_AclBinding_new(r->type, name, r->pattern, principal, "*", r->op,
						  RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr,
						  sizeof(errstr));
		if (!acls[n]) {
			fc_err_set(err, FC_ERR_INVALID, "ACL on \"%s\" for %s: %s", name, principal,
				   errstr);
			goto fail;
		}
		n++;
	}
	return n;
fail:
	while (n > 0)
		rd_kafka_AclBinding_destroy(acls[--n]);
	return -1;
}

static int check_results(rd_kafka_event_t *ev, struct fc_err *err)
{
	const rd_kafka_CreateAcls_result_t *res = rd_kafka_event_CreateAcls_result(ev);
	const rd_kafka_acl_result_t **results;
	size_t cnt = 0;

	if (rd_kafka_event_error(ev) || !res) {
		fc_err_set(err, FC_ERR_RETRY, "CreateAcls: %s",
			   rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev)
							   : "no result");
		return -1;
	}
	results = rd_kafka_CreateAcls_result_acls(res, &cnt);
	for (size_t i = 0; i < cnt; i++) {
		const rd_kafka_error_t *e = rd_kafka_acl_result_error(results[i]);
		if (e) {
			fc_err_set(err, FC_ERR_FATAL, "CreateAcls: binding %zu: %s", i,
				   rd_kafka_error_string(e));
			return -1;
		}
	}
	return (int)cnt;
}

int fc_acls_grant(rd_kafka_t *rk, const char *prefix, const struct fc_acl_principals *who,
		  int timeout_ms, struct fc_err *err)
{
	rd_kafka_AclBinding_t *acls[RULES];
	rd_kafka_AdminOptions_t *options = NULL;
	rd_kafka_queue_t *queue = NULL;
	rd_kafka_event_t *ev = NULL;
	int n = make_bindings(prefix, who, acls, err), rc = -1;

	if (n <= 0)
		return n;
	options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATEACLS);
	if (!options ||
	    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, NULL, 0) != 0) {
		fc_err_set(err, FC_ERR_FATAL, "CreateAcls: cannot set its options");
		goto out;
	}
	queue = rd_kafka_queue_new(rk);
	rd_kafka_CreateAcls(rk, acls, (size_t)n, options, queue);
	ev = rd_kafka_queue_poll(queue, timeout_ms + 5000);
	if (!ev)
		fc_err_set(err, FC_ERR_RETRY, "CreateAcls: no answer within %d ms", timeout_ms);
	else
		rc = check_results(ev, err);
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (queue)
		rd_kafka_queue_destroy(queue);
	if (options)
		rd_kafka_AdminOptions_destroy(options);
	while (n > 0)
		rd_kafka_AclBinding_destroy(acls[--n]);
	return rc;
}
