/*
 * fleetcap topics create: creates the topics of docs/ARCHITECTURE.md §2 with the
 * admin API (compacted where §2 says so). Safe to run again: existing topics
 * are kept, and a broken co-partitioning is reported.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fc_kafka.h"
#include "fc_log.h"
#include "fc_parse.h"

static void topics_usage(FILE *out)
{
	fprintf(out, "usage: fleetcap topics create [--brokers HOST:PORT,...] [--prefix P]\n"
		     "                              [--partitions N] [--replication N]\n"
		     "  --prefix       topic name prefix (default " FC_TOPIC_PREFIX_DEFAULT ")\n"
		     "  --partitions   partitions per topic, 1-10000 (default 12)\n"
		     "  --replication  replication factor, 1-32 (default 1)\n"
		     "brokers come from --brokers, else FLEETCAP_BROKERS\n");
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

int cli_topics(int argc, char **argv)
{
	static const struct option options[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"prefix", required_argument, NULL, 'p'},
		{"partitions", required_argument, NULL, 'n'},
		{"replication", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *brokers_opt = NULL, *prefix = FC_TOPIC_PREFIX_DEFAULT;
	long long partitions = 12, replication = 1;
	struct fc_err err;
	char errstr[512];
	int c;

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		topics_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "b:h", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			brokers_opt = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'n':
			if (parse_int_option("partitions", optarg, 1, 10000, &partitions))
				return CLI_EXIT_USAGE;
			break;
		case 'r':
			if (parse_int_option("replication", optarg, 1, 32, &replication))
				return CLI_EXIT_USAGE;
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
		fprintf(stderr, "fleetcap topics create: unexpected argument \"%.64s\"\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	const char *brokers = cli_brokers(brokers_opt);
	if (!brokers) {
		fprintf(stderr, "fleetcap topics create: no brokers: give --brokers or set "
				"FLEETCAP_BROKERS\n");
		return CLI_EXIT_USAGE;
	}
	rd_kafka_conf_t *conf = fc_kafka_conf_new(brokers, NULL, &err);
	if (!conf) {
		fprintf(stderr, "fleetcap topics create: %s\n", err.msg);
		return CLI_EXIT_USAGE;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "fleetcap topics create: %s\n", errstr);
		return CLI_EXIT_FAILURE;
	}
	conf = NULL; /* now owned by rk */
	int rc = fc_topics_create(rk, prefix, (int)partitions, (int)replication, 30000, &err);
	rd_kafka_destroy(rk);
	if (rc != 0) {
		fprintf(stderr, "fleetcap topics create: %s\n", err.msg);
		return err.action == FC_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	printf("topics ready: %s{commands,alerts,results,ledger,status,jobs,workers}, %lld "
	       "partitions\n",
	       prefix, partitions);
	return CLI_EXIT_OK;
}
