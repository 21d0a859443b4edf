/*
 * fleetcap topics create: creates the topics of docs/ARCHITECTURE.md §2 with the
 * admin API (compacted where §2 says so). Safe to run again: existing topics
 * are kept, and a broken co-partitioning is reported.
 *
 * fleetcap topics acls: grants each role its ACLs on those topics (fc_acls.h).
 *
 * Both find Kafka as the fleet commands do (cli_fleet.h), kafka.* settings of
 * the config file included, so they run with an admin's credentials.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fleet.h"
#include "fc_acls.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_parse.h"

static void topics_usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcap topics create [--brokers HOST:PORT,...] [--prefix P] [--config "
		"F]\n"
		"                              [--partitions N] [--replication N]\n"
		"       fleetcap topics acls   [--brokers HOST:PORT,...] [--prefix P] [--config "
		"F]\n"
		"                              [--scheduler USER] [--worker USER] [--client USER]\n"
		"                              [--consumer USER]\n"
		"  --prefix       topic name prefix (default " FC_TOPIC_PREFIX_DEFAULT ")\n"
		"  --partitions   partitions per topic, 1-10000 (default 12)\n"
		"  --replication  replication factor, 1-32 (default 1)\n"
		"  --scheduler, --worker, --client, --consumer\n"
		"                 the Kafka user of each role (default: the role's name;\n"
		"                 \"-\" grants that role nothing)\n"
		"brokers come from --brokers, else FLEETCAP_BROKERS, else the config file\n"
		"(--config, else FLEETCAP_CONFIG), whose kafka.* keys set the credentials\n");
}

static int parse_int_option(const char *option, const char *value, long long min, long long max,
			    long long *out)
{
	if (fc_parse_ll(value, min, max, out) == FC_PARSE_OK)
		return 0;
	fprintf(stderr, "fleetcap topics: --%s \"%.64s\": expected an integer from %lld to %lld\n",
		option, value, min, max);
	return -1;
}

/* "User:NAME" for a role's option value, NULL for "-". */
static const char *principal(const char *user, char *buf, size_t len)
{
	if (strcmp(user, "-") == 0)
		return NULL;
	snprintf(buf, len, "User:%s", user);
	return buf;
}

static int grant(rd_kafka_t *rk, const char *prefix, const char *const users[4])
{
	char p[4][300];
	struct fc_acl_principals who = {
		principal(users[0], p[0], sizeof(p[0])), principal(users[1], p[1], sizeof(p[1])),
		principal(users[2], p[2], sizeof(p[2])), principal(users[3], p[3], sizeof(p[3]))};
	struct fc_err err;
	int n = fc_acls_grant(rk, prefix, &who, 30000, &err);

	if (n < 0) {
		fprintf(stderr, "fleetcap topics acls: %s\n", err.msg);
		return err.action == FC_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	printf("%d ACLs granted on %s*\n", n, prefix);
	if (who.scheduler)
		printf("the scheduler's transactional ids need one more ACL, which librdkafka "
		       "cannot create:\n  " FC_ACLS_TXN_HINT "\n(SCHEDULER: %s)\n",
		       who.scheduler);
	return CLI_EXIT_OK;
}

int cli_topics(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_FLEET_OPTIONS,
		{"partitions", required_argument, NULL, 'n'},
		{"replication", required_argument, NULL, 'r'},
		{"scheduler", required_argument, NULL, 's'},
		{"worker", required_argument, NULL, 'w'},
		{"client", required_argument, NULL, 'c'},
		{"consumer", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_fleet_args fargs = {0};
	const char *users[4] = {"scheduler", "worker", "client", "consumer"};
	long long partitions = 12, replication = 1;
	struct cli_fleet f;
	struct fc_err err;
	char errstr[512];
	int c, acls;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		topics_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "acls") != 0)) {
		topics_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	acls = strcmp(argv[1], "acls") == 0;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_fleet_arg(&fargs, c, optarg))
			continue;
		switch (c) {
		case 'n':
			if (parse_int_option("partitions", optarg, 1, 10000, &partitions))
				return CLI_EXIT_USAGE;
			break;
		case 'r':
			if (parse_int_option("replication", optarg, 1, 32, &replication))
				return CLI_EXIT_USAGE;
			break;
		case 's':
		case 'w':
		case 'c':
		case 'u':
			if (!*optarg || strlen(optarg) > 200 || strpbrk(optarg, " \t\n")) {
				fprintf(stderr,
					"fleetcap topics acls: user \"%.64s\": expected a name of "
					"1 "
					"to 200 characters without spaces, or \"-\"\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			users[c == 's' ? 0 : c == 'w' ? 1 : c == 'c' ? 2 : 3] = optarg;
			break;
		case 'h':
			topics_usage(stdout);
			return CLI_EXIT_OK;
		default:
			topics_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleetcap topics %s: unexpected argument \"%.64s\"\n", argv[0],
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	int rc = cli_fleet_open(&f, acls ? "topics acls" : "topics create", &fargs);
	if (rc != 0)
		return rc;
	rd_kafka_conf_t *conf = fc_kafka_conf_new(f.brokers, &f.kafka, &err);
	rd_kafka_t *rk = NULL;
	if (!conf) {
		fprintf(stderr, "fleetcap topics: %s\n", err.msg);
		cli_fleet_close(&f);
		return CLI_EXIT_USAGE;
	}
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "fleetcap topics: %s\n", errstr);
		cli_fleet_close(&f);
		return CLI_EXIT_FAILURE;
	}
	if (acls) {
		rc = grant(rk, f.prefix, users);
	} else if (fc_topics_create(rk, f.prefix, (int)partitions, (int)replication, 30000, &err) !=
		   0) {
		fprintf(stderr, "fleetcap topics create: %s\n", err.msg);
		rc = err.action == FC_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	} else {
		printf("topics ready: %s{commands,alerts,results,ledger,status,jobs,workers}, %lld "
		       "partitions\n",
		       f.prefix, partitions);
		rc = CLI_EXIT_OK;
	}
	rd_kafka_destroy(rk);
	cli_fleet_close(&f);
	return rc;
}
