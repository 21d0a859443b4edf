/*
 * fleetcap summarize FILE.pcap: the summary a capture's result carries
 * (fc_summary.h), computed offline from any pcap file: the verdicts and the
 * top flows as text, or the whole summary with --json. Compare with
 * Wireshark's Statistics → Conversations.
 */
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fc_filter.h"
#include "fc_parse.h"
#include "fc_summary.h"

static void summarize_usage(FILE *out)
{
	fprintf(out, "usage: fleetcap summarize FILE.pcap [--top N] [--local ADDRESSES] [--json]\n"
		     "  --top N        flows listed by bytes, 1-10000 (default 10); the rest are "
		     "\"other\"\n"
		     "  --local A      this host's addresses (\"10.0.0.4\", "
		     "\"10.0.0.0/24;fd00::1\"): each\n"
		     "                 flow is oriented local -> remote; default: its first sender "
		     "is local\n"
		     "  --json         the whole summary as JSON (flows, series, verdicts)\n");
}

static int in_set(void *opaque, int family, const uint8_t addr[16])
{
	const struct fc_addr_set *set = opaque;
	size_t n = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < set->count; i++) {
		const struct fc_addr_item *it = &set->items[i];
		if (it->family == family && memcmp(addr, it->lo, n) >= 0 &&
		    memcmp(addr, it->hi, n) <= 0)
			return 1;
	}
	return 0;
}

/* "198.18.0.2:443" or "[fd00::2]:443" of a flow's side ("local", "remote"). */
static void endpoint(json_t *flow, const char *side, char *out, size_t len)
{
	char key[32];
	snprintf(key, sizeof(key), "%sAddress", side);
	const char *addr = json_string_value(json_object_get(flow, key));
	snprintf(key, sizeof(key), "%sPort", side);
	long long port = (long long)json_integer_value(json_object_get(flow, key));
	snprintf(out, len, strchr(addr, ':') ? "[%s]:%lld" : "%s:%lld", addr, port);
}

static void print_text(const char *path, json_t *j)
{
	json_t *v, *f;
	size_t i;
	double seconds = (double)(json_integer_value(json_object_get(j, "endUs")) -
				  json_integer_value(json_object_get(j, "startUs"))) /
			 1e6;

	printf("%s: %lld packets, %lld bytes over %.3f s; %lld flows\n", path,
	       (long long)json_integer_value(json_object_get(j, "packets")),
	       (long long)json_integer_value(json_object_get(j, "bytes")), seconds,
	       (long long)json_integer_value(json_object_get(j, "flowsTracked")));
	json_array_foreach(json_object_get(j, "verdicts"), i, v)
		printf("  - %s\n", json_string_value(v));
	printf("%-6s %-40s %-40s %8s %8s %10s %10s\n", "proto", "local", "remote", "pkts out",
	       "pkts in", "bytes out", "bytes in");
	json_array_foreach(json_object_get(j, "flows"), i, f)
	{
		char local[64], remote[64];
		endpoint(f, "local", local, sizeof(local));
		endpoint(f, "remote", remote, sizeof(remote));
		printf("%-6s %-40s %-40s %8lld %8lld %10lld %10lld\n",
		       json_string_value(json_object_get(f, "protocol")), local, remote,
		       (long long)json_integer_value(json_object_get(f, "packetsOut")),
		       (long long)json_integer_value(json_object_get(f, "packetsIn")),
		       (long long)json_integer_value(json_object_get(f, "bytesOut")),
		       (long long)json_integer_value(json_object_get(f, "bytesIn")));
	}
	json_t *o = json_object_get(j, "other");
	if (json_integer_value(json_object_get(o, "flows")) ||
	    json_integer_value(json_object_get(o, "packets")))
		printf("other: %lld flows, %lld packets, %lld bytes\n",
		       (long long)json_integer_value(json_object_get(o, "flows")),
		       (long long)json_integer_value(json_object_get(o, "packets")),
		       (long long)json_integer_value(json_object_get(o, "bytes")));
}

int cli_summarize(int argc, char **argv)
{
	static const struct option options[] = {
		{"top", required_argument, NULL, 't'},
		{"local", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct fc_addr_set local; /* large: not on the stack */
	long long top = 10;
	int json = 0, c, have_local = 0;
	char why[256], errbuf[PCAP_ERRBUF_SIZE];

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 't':
			if (fc_parse_ll(optarg, 1, 10000, &top) != FC_PARSE_OK) {
				fprintf(stderr,
					"fleetcap summarize: --top \"%.64s\": expected an integer "
					"from 1 to 10000\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'l':
			if (fc_addr_set_parse(optarg, &local, why, sizeof(why)) != 0 ||
			    !local.count) {
				fprintf(stderr, "fleetcap summarize: --local \"%.64s\": %s\n",
					optarg, local.count ? why : "expected one address or more");
				return CLI_EXIT_USAGE;
			}
			have_local = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			summarize_usage(stdout);
			return CLI_EXIT_OK;
		default:
			summarize_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		summarize_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *path = argv[optind];
	pcap_t *p =
		pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (!p) {
		fprintf(stderr, "fleetcap summarize: %s\n", errbuf); /* names the file */
		return CLI_EXIT_FAILURE;
	}
	struct fc_summary_config config = {.linktype = pcap_datalink(p),
					   .top_n = (unsigned)top,
					   .is_local = have_local ? in_set : NULL,
					   .opaque = &local};
	struct fc_summary *s = fc_summary_new(&config);
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!s) {
		pcap_close(p);
		fprintf(stderr, "fleetcap summarize: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		fc_summary_packet(s, (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec, data,
				  h->caplen, h->len);
	if (rc == PCAP_ERROR)
		fprintf(stderr, "fleetcap summarize: %s: %s (summarized up to there)\n", path,
			pcap_geterr(p));
	pcap_close(p);
	json_t *j = fc_summary_json(s);
	fc_summary_free(s);
	if (!j) {
		fprintf(stderr, "fleetcap summarize: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	if (json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_text(path, j);
	}
	json_decref(j);
	return rc == PCAP_ERROR ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
