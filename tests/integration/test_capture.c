/*
 * fleetcap capture on a real test host: exact packet sets sent in both
 * directions over a veth pair, the output parsed back and compared, packet by
 * packet, with an independent implementation of the §1 filter rule. Also the
 * limits (snap length, session bytes, time), the ring buffer, signals, exit
 * codes, and that tcpdump and tshark read every file.
 *
 * Needs root (network namespaces and packet sockets), tcpdump and tshark.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fc_filter.h"
#include "it_packets.h"
#include "it_proc.h"
#include "it_testhost.h"

static struct it_host host;
static char dir[64];

/* ------------------------------------------------------- the packet set */

#define MAX_PKTS 1024
static struct it_pkt pkts[MAX_PKTS];
static int from_ns[MAX_PKTS]; /* 1: sent by the remote side (incoming on root_if) */
static size_t n_pkts;

static void add(int proto, const char *local, const char *remote, uint16_t lport, uint16_t rport)
{
	/* Once in each direction: local→remote leaves root_if, remote→local enters it. */
	assert_true(n_pkts + 2 <= MAX_PKTS);
	assert_int_equal(it_pkt_set(&pkts[n_pkts], proto, local, remote, lport, rport), 0);
	from_ns[n_pkts++] = 0;
	assert_int_equal(it_pkt_set(&pkts[n_pkts], proto, remote, local, rport, lport), 0);
	from_ns[n_pkts++] = 1;
}

static void build_packet_set(void)
{
	static const char *const local4[] = {"198.18.0.1", "198.18.0.5", "198.18.0.77"};
	static const char *const remote4[] = {"198.18.0.2", "198.18.0.3", "198.18.1.9",
					      "198.19.200.1"};
	static const char *const local6[] = {"fd00:fc::1", "fd00:fc::77"};
	static const char *const remote6[] = {"fd00:fc::2", "fd00:fc::3", "fd00:fd::9"};
	static const uint16_t ports[][2] = {{40000, 80},   {40001, 443},  {40002, 8000},
					    {40003, 8080}, {40004, 8081}, {53, 40005},
					    {8080, 40006}};

	n_pkts = 0;
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t nl = v6 ? 2 : 3, nr = v6 ? 3 : 4;
		for (size_t l = 0; l < nl; l++) {
			for (size_t r = 0; r < nr; r++) {
				const char *la = v6 ? local6[l] : local4[l];
				const char *ra = v6 ? remote6[r] : remote4[r];
				for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
					add(IT_PROTO_TCP, la, ra, ports[p][0], ports[p][1]);
					add(IT_PROTO_UDP, la, ra, ports[p][0], ports[p][1]);
				}
				add(v6 ? IT_PROTO_ICMPV6 : IT_PROTO_ICMP, la, ra, 0, 0);
			}
		}
	}
}

/* Sends pkts[first, first + count) in order; only_root sends all from the root side. */
static void send_packets(int only_root)
{
	unsigned char frame[256];
	for (size_t i = 0; i < n_pkts; i++) {
		if (only_root && from_ns[i])
			continue;
		size_t len = it_frame_build(&pkts[i], frame, sizeof(frame));
		assert_true(len > 0);
		assert_int_equal(it_host_send(&host, from_ns[i], frame, len), 0);
	}
}

/* ------------------------------------------- the §1 rule, independently */

struct ref_filter {
	int proto; /* 0 any */
	int has_local, has_remote, has_lport, has_rport;
	struct fc_addr_set local, remote;
	struct fc_port_set lport, rport;
};

static int in_addrs(const struct fc_addr_set *set, int family, const unsigned char *a)
{
	size_t len = family == 4 ? 4 : 16;
	for (size_t i = 0; i < set->count; i++) {
		const struct fc_addr_item *it = &set->items[i];
		if ((it->family == AF_INET) != (family == 4))
			continue;
		if (memcmp(a, it->lo, len) >= 0 && memcmp(a, it->hi, len) <= 0)
			return 1;
	}
	return 0;
}

static int in_ports(const struct fc_port_set *set, uint16_t port)
{
	for (size_t i = 0; i < set->count; i++)
		if (port >= set->items[i].lo && port <= set->items[i].hi)
			return 1;
	return 0;
}

/* The root side's addresses: the local side when a filter names no local-ip. */
static int is_interface_address(int family, const unsigned char *a)
{
	static struct fc_addr_set own;
	char why[128];
	if (own.count == 0)
		assert_int_equal(fc_addr_set_parse("198.18.0.1;198.18.0.5;fd00:fc::1", &own, why,
						   sizeof(why)),
				 0);
	return in_addrs(&own, family, a);
}

static int side_matches(const struct ref_filter *f, const struct it_pkt *p, int local_is_src)
{
	const unsigned char *l = local_is_src ? p->src : p->dst;
	const unsigned char *r = local_is_src ? p->dst : p->src;
	uint16_t lp = local_is_src ? p->sport : p->dport, rp = local_is_src ? p->dport : p->sport;

	if (f->has_local ? !in_addrs(&f->local, p->family, l) : !is_interface_address(p->family, l))
		return 0;
	if (f->has_remote && !in_addrs(&f->remote, p->family, r))
		return 0;
	if (f->has_lport && !in_ports(&f->lport, lp))
		return 0;
	if (f->has_rport && !in_ports(&f->rport, rp))
		return 0;
	return 1;
}

static int filter_matches(const struct ref_filter *f, const struct it_pkt *p)
{
	int tcp_udp = p->proto == IT_PROTO_TCP || p->proto == IT_PROTO_UDP;
	if (p->family == 0)
		return 0;
	if (f->proto && p->proto != f->proto)
		return 0;
	if ((f->has_lport || f->has_rport) && !tcp_udp)
		return 0;
	return side_matches(f, p, 1) || side_matches(f, p, 0);
}

/* Parses a --filter SPEC the simple way (the test's own reading of §8). */
static void ref_parse(const char *spec, struct ref_filter *f)
{
	char copy[512], why[128], *save = NULL;

	memset(f, 0, sizeof(*f));
	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		assert_non_null(v);
		*v++ = '\0';
		if (strcmp(kv, "protocol") == 0)
			f->proto = strcmp(v, "tcp") == 0   ? IT_PROTO_TCP
				   : strcmp(v, "udp") == 0 ? IT_PROTO_UDP
							   : 0;
		else if (strcmp(kv, "local-ip") == 0)
			f->has_local = fc_addr_set_parse(v, &f->local, why, sizeof(why)) == 0;
		else if (strcmp(kv, "remote-ip") == 0)
			f->has_remote = fc_addr_set_parse(v, &f->remote, why, sizeof(why)) == 0;
		else if (strcmp(kv, "local-port") == 0)
			f->has_lport = fc_port_set_parse(v, &f->lport, why, sizeof(why)) == 0;
		else if (strcmp(kv, "remote-port") == 0)
			f->has_rport = fc_port_set_parse(v, &f->rport, why, sizeof(why)) == 0;
		else
			fail_msg("test filter key %s", kv);
	}
}

struct rule {
	size_t n;
	struct ref_filter filters[4];
};

static int rule_matches(const struct rule *rule, const struct it_pkt *p)
{
	if (rule->n == 0)
		return 1;
	for (size_t i = 0; i < rule->n; i++)
		if (filter_matches(&rule->filters[i], p))
			return 1;
	return 0;
}

/* ---------------------------------------------------- running a capture */

struct run {
	struct it_proc proc;
	json_t *json;
	char path[128];
};

#define MAX_ARGS 32

/* Starts fleetcap capture on the root side with extra args, output dir/name. */
static void start_capture(struct run *run, const char *name, const char *const *extra)
{
	char *argv[MAX_ARGS];
	size_t n = 0;

	memset(run, 0, sizeof(*run));
	snprintf(run->path, sizeof(run->path), "%s/%s", dir, name);
	argv[n++] = (char *)FLEETCAP_BIN;
	argv[n++] = (char *)"capture";
	argv[n++] = (char *)"--json";
	argv[n++] = (char *)"-o";
	argv[n++] = run->path;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	assert_int_equal(it_proc_start(&run->proc, argv), 0);
	if (it_proc_wait_stderr(&run->proc, "capturing on", 60) != 0) {
		it_proc_wait(&run->proc);
		fail_msg("fleetcap capture did not start (exit %d): %s", run->proc.status,
			 run->proc.err);
	}
}

/* Waits for the end (after sending sig, unless 0) and parses the JSON. */
static void finish_capture(struct run *run, int sig)
{
	json_error_t jerr;

	if (sig)
		kill(run->proc.pid, sig);
	it_proc_wait(&run->proc);
	if (run->proc.status != 0)
		fail_msg("fleetcap capture exited %d: %s", run->proc.status, run->proc.err);
	run->json = json_loads(run->proc.out, 0, &jerr);
	if (!run->json)
		fail_msg("not JSON (%s): %s", jerr.text, run->proc.out);
}

static void free_run(struct run *run)
{
	json_decref(run->json);
	it_proc_free(&run->proc);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		fail_msg("JSON key %s is not a string", key);
	return json_string_value(v);
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("JSON key %s is not an integer", key);
	return json_integer_value(v);
}

static void sha256_file(const char *path, char out[65])
{
	unsigned char buf[65536], md[32];
	unsigned md_len = 0;
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n;

	assert_non_null(f);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	EVP_DigestFinal_ex(ctx, md, &md_len);
	EVP_MD_CTX_free(ctx);
	fclose(f);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The number of packets tool prints for path (one line each), or -1. */
static long count_lines(const char *command)
{
	FILE *p = popen(command, "r");
	char line[4096];
	long n = 0;

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		n++;
	return pclose(p) == 0 ? n : -1;
}

/* The file is what the JSON says, and tcpdump and tshark read all of it. */
static void check_file(json_t *file, const struct it_pcap *pcap)
{
	char cmd[512], sha[65];
	const char *path = jstr(file, "path");
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((long long)st.st_size, jint(file, "size"));
	sha256_file(path, sha);
	assert_string_equal(sha, jstr(file, "sha256"));
	snprintf(cmd, sizeof(cmd), "tcpdump -n -r '%s' 2>/dev/null", path);
	assert_int_equal(count_lines(cmd), (long)pcap->count);
	snprintf(cmd, sizeof(cmd), "tshark -n -r '%s' 2>/dev/null", path);
	assert_int_equal(count_lines(cmd), (long)pcap->count);
}

/* --------------------------------------------------- filter correctness */

struct filter_case {
	const char *name;
	const char *specs[4];  /* --filter SPECs, NULL-terminated; none = all traffic */
	const char *json;      /* when set: passed as --filters-json, equal to specs */
	const char *interface; /* NULL = the root side of the veth */
};

static const struct filter_case filter_cases[] = {
	{"no filter", {NULL}, NULL, NULL},
	{"protocol tcp", {"protocol=tcp"}, NULL, NULL},
	{"protocol udp", {"protocol=udp"}, NULL, NULL},
	{"remote ip", {"protocol=any,remote-ip=198.18.0.2"}, NULL, NULL},
	{"remote ip list with cidr", {"remote-ip=198.18.0.2;198.18.1.0/24"}, NULL, NULL},
	{"remote ip range", {"remote-ip=198.18.0.2-198.18.0.3"}, NULL, NULL},
	{"remote ip wide range", {"remote-ip=198.18.0.3-198.19.255.255"}, NULL, NULL},
	{"local ip", {"local-ip=198.18.0.5"}, NULL, NULL},
	{"local ip not on an interface", {"local-ip=198.18.0.77"}, NULL, NULL},
	{"local port", {"local-port=53"}, NULL, NULL},
	{"remote port list and range", {"remote-port=80;443;8000-8080"}, NULL, NULL},
	{"udp remote port", {"protocol=udp,remote-port=8080"}, NULL, NULL},
	{"local port range and remote cidr",
	 {"local-port=40000-40002,remote-ip=198.18.0.0/16"},
	 NULL,
	 NULL},
	{"all four fields",
	 {"protocol=tcp,local-ip=198.18.0.1,remote-ip=198.18.0.2,local-port=40001,remote-port=443"},
	 NULL,
	 NULL},
	{"ipv6 remote", {"remote-ip=fd00:fc::2"}, NULL, NULL},
	{"ipv6 cidr tcp", {"protocol=tcp,remote-ip=fd00:fc::/64"}, NULL, NULL},
	{"ipv6 range", {"remote-ip=fd00:fc::2-fd00:fc::3"}, NULL, NULL},
	{"ipv6 local", {"local-ip=fd00:fc::77,protocol=udp"}, NULL, NULL},
	{"mixed families", {"remote-ip=198.18.0.2;fd00:fd::/32"}, NULL, NULL},
	{"two filters",
	 {"protocol=tcp,remote-port=443", "protocol=udp,remote-ip=198.19.200.1"},
	 NULL,
	 NULL},
	{"three filters",
	 {"local-port=53", "remote-ip=fd00:fc::3,protocol=tcp", "remote-port=8081"},
	 NULL,
	 NULL},
	{"filters json",
	 {"protocol=udp,local-port=53", "remote-ip=fd00:fd::9"},
	 "[{\"protocol\":\"UDP\",\"localPort\":\"53\"},{\"remoteIPAddress\":\"fd00:fd::9\"}]",
	 NULL},
	{"interface any", {"remote-ip=198.18.0.2;fd00:fc::2"}, NULL, "any"},
};

static void run_filter_case(const struct filter_case *fc)
{
	const char *args[MAX_ARGS];
	struct rule rule = {0};
	struct run run;
	struct it_pcap pcap;
	char name[64], shown[160];
	size_t n = 0, expected = 0;

	args[n++] = "-i";
	args[n++] = fc->interface ? fc->interface : host.root_if;
	for (size_t i = 0; fc->specs[i]; i++) {
		ref_parse(fc->specs[i], &rule.filters[rule.n++]);
		if (!fc->json) {
			args[n++] = "--filter";
			args[n++] = fc->specs[i];
		}
	}
	if (fc->json) {
		args[n++] = "--filters-json";
		args[n++] = fc->json;
	}
	args[n] = NULL;
	for (size_t i = 0; i < n_pkts; i++)
		expected += rule_matches(&rule, &pkts[i]);
	/* A case that selects everything or nothing proves little. */
	if (rule.n > 0)
		assert_true(expected > 0 && expected < n_pkts);

	snprintf(name, sizeof(name), "filter-%zu.pcap", (size_t)(fc - filter_cases));
	start_capture(&run, name, args);
	send_packets(0);
	finish_capture(&run, SIGINT);

	assert_string_equal(jstr(run.json, "status"), "Stopped");
	assert_string_equal(jstr(run.json, "stopReason"), "StoppedByUser");
	assert_int_equal(it_pcap_read(run.path, &pcap), 0);
	assert_int_equal(pcap.linktype, fc->interface ? 113 : 1);
	assert_true(pcap.nano);

	/* Every record satisfies the rule: nothing extra, not even OS chatter. */
	for (size_t r = 0; r < pcap.count; r++)
		if (!rule_matches(&rule, &pcap.records[r].pkt))
			fail_msg("%s: captured a packet the rule excludes: %s", fc->name,
				 it_pkt_format(&pcap.records[r].pkt, shown, sizeof(shown)));
	/* Every sent packet the rule selects is there exactly once; no other. */
	for (size_t i = 0; i < n_pkts; i++) {
		size_t seen = 0;
		for (size_t r = 0; r < pcap.count; r++)
			seen += it_pkt_equal(&pcap.records[r].pkt, &pkts[i]);
		if (seen != (size_t)rule_matches(&rule, &pkts[i]))
			fail_msg("%s: %s sent %s: captured %zu times, expected %d", fc->name,
				 it_pkt_format(&pkts[i], shown, sizeof(shown)),
				 from_ns[i] ? "in" : "out", seen, rule_matches(&rule, &pkts[i]));
	}
	assert_int_equal(jint(run.json, "packets"), (long long)pcap.count);
	assert_int_equal(jint(run.json, "bytes"), (long long)pcap.file_size);
	json_t *files = json_object_get(run.json, "files");
	assert_int_equal(json_array_size(files), 1);
	check_file(json_array_get(files, 0), &pcap);
	printf("  %-34s %4zu of %zu packets, as the rule says\n", fc->name, expected, n_pkts);
	it_pcap_free(&pcap);
	free_run(&run);
}

static void test_filters(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++)
		run_filter_case(&filter_cases[i]);
}

/* ---------------------------------------------------------------- limits */

static size_t frame_len(const struct it_pkt *p)
{
	unsigned char frame[256];
	return it_frame_build(p, frame, sizeof(frame));
}

static void test_snaplen_34(void **state)
{
	const char *args[] = {"-i", host.root_if, "--bytes-per-packet", "34", NULL};
	struct run run;
	struct it_pcap pcap;
	size_t ours = 0;

	(void)state;
	start_capture(&run, "snap34.pcap", args);
	send_packets(0);
	finish_capture(&run, SIGINT);
	assert_int_equal(it_pcap_read(run.path, &pcap), 0);
	assert_int_equal(pcap.snaplen, 34);
	for (size_t r = 0; r < pcap.count; r++) {
		const struct it_record *rec = &pcap.records[r];
		assert_int_equal(rec->caplen, rec->len < 34 ? rec->len : 34);
		/* The original length survives the cut: match it to what was sent
		 * (34 bytes hold the IPv4 header, but not the IPv6 one). */
		for (size_t i = 0; i < n_pkts; i++) {
			if (rec->pkt.family == 0 && rec->ethertype == 0x86dd &&
			    it_pkt_ethertype(&pkts[i]) == 0x86dd &&
			    rec->len == frame_len(&pkts[i])) {
				ours++;
				break;
			}
			if (pkts[i].family == rec->pkt.family && pkts[i].proto == rec->pkt.proto &&
			    memcmp(pkts[i].src, rec->pkt.src, 16) == 0 &&
			    memcmp(pkts[i].dst, rec->pkt.dst, 16) == 0) {
				assert_int_equal(rec->len, frame_len(&pkts[i]));
				ours++;
				break;
			}
		}
	}
	assert_int_equal(ours, n_pkts);
	check_file(json_array_get(json_object_get(run.json, "files"), 0), &pcap);
	it_pcap_free(&pcap);
	free_run(&run);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * A small snap length cuts what is stored, never what is matched: with a
 * filter on the protocol, an IPv6 address or a port, every packet the rule
 * selects is captured at 14, 34 and 40 bytes too (the IPv6 header alone is 54
 * bytes with Ethernet's), each cut to the snap length with its original length.
 */
static void test_small_snaplen_matches_whole_packets(void **state)
{
	static const char *const specs[] = {"protocol=udp", "remote-ip=fd00:fc::2",
					    "remote-port=80;443",
					    "local-ip=fd00:fc::1,protocol=tcp"};
	static const char *const snaps[] = {"14", "34", "40", "54"};
	uint32_t want[MAX_PKTS], got[MAX_PKTS];

	(void)state;
	for (size_t f = 0; f < sizeof(specs) / sizeof(specs[0]); f++) {
		struct rule rule = {0};
		size_t expected = 0;

		ref_parse(specs[f], &rule.filters[rule.n++]);
		for (size_t i = 0; i < n_pkts; i++)
			if (rule_matches(&rule, &pkts[i]))
				want[expected++] = (uint32_t)frame_len(&pkts[i]);
		qsort(want, expected, sizeof(want[0]), cmp_u32);
		for (size_t k = 0; k < sizeof(snaps) / sizeof(snaps[0]); k++) {
			const char *args[] = {"-i",	host.root_if, "--bytes-per-packet",
					      snaps[k], "--filter",   specs[f],
					      NULL};
			unsigned snap = (unsigned)atoi(snaps[k]);
			char name[64];
			struct run run;
			struct it_pcap pcap;

			snprintf(name, sizeof(name), "small-snap-%zu-%s.pcap", f, snaps[k]);
			start_capture(&run, name, args);
			send_packets(0);
			finish_capture(&run, SIGINT);
			assert_int_equal(it_pcap_read(run.path, &pcap), 0);
			assert_int_equal(pcap.snaplen, snap);
			if (pcap.count != expected)
				fail_msg("%s at bytes-per-packet %u: captured %zu packets, the "
					 "rule selects %zu",
					 specs[f], snap, pcap.count, expected);
			for (size_t r = 0; r < pcap.count; r++) {
				const struct it_record *rec = &pcap.records[r];
				assert_int_equal(rec->caplen, rec->len < snap ? rec->len : snap);
				got[r] = rec->len;
			}
			qsort(got, pcap.count, sizeof(got[0]), cmp_u32);
			assert_memory_equal(got, want, expected * sizeof(got[0]));
			check_file(json_array_get(json_object_get(run.json, "files"), 0), &pcap);
			it_pcap_free(&pcap);
			free_run(&run);
		}
		printf("  %-34s %4zu of %zu packets at 14, 34, 40 and 54 bytes\n", specs[f],
		       expected, n_pkts);
	}
}

static void test_session_bytes_limit(void **state)
{
	const long long limit = 3000;
	const char *args[] = {"-i", host.root_if, "--bytes-per-session", "3000", NULL};
	struct run run;
	struct it_pcap pcap;
	size_t largest = 0, i = 0;
	char shown[160];

	(void)state;
	for (size_t k = 0; k < n_pkts; k++)
		if (frame_len(&pkts[k]) > largest)
			largest = frame_len(&pkts[k]);
	start_capture(&run, "bytes.pcap", args);
	send_packets(1);
	finish_capture(&run, 0); /* it stops by itself */
	assert_string_equal(jstr(run.json, "stopReason"), "SessionBytesExceeded");
	long long bytes = jint(run.json, "bytes");
	assert_true(bytes <= limit);
	assert_true(bytes > limit - (long long)(16 + largest));
	assert_int_equal(it_pcap_read(run.path, &pcap), 0);
	assert_int_equal((long long)pcap.file_size, bytes);
	/* The file holds the first packets sent, in order, none skipped. */
	for (size_t r = 0; r < pcap.count; r++, i++) {
		while (from_ns[i])
			i++;
		if (!it_pkt_equal(&pcap.records[r].pkt, &pkts[i]))
			fail_msg("record %zu is %s, expected packet %zu", r,
				 it_pkt_format(&pcap.records[r].pkt, shown, sizeof(shown)), i);
	}
	check_file(json_array_get(json_object_get(run.json, "files"), 0), &pcap);
	it_pcap_free(&pcap);
	free_run(&run);
}

static void test_time_limit(void **state)
{
	const char *args[] = {"-i", host.root_if, "--time-limit", "2", NULL};
	struct run run;

	(void)state;
	start_capture(&run, "time.pcap", args);
	finish_capture(&run, 0);
	assert_string_equal(jstr(run.json, "stopReason"), "TimeExceeded");
	double elapsed = json_real_value(json_object_get(run.json, "elapsedSeconds"));
	printf("  time limit 2 s: stopped after %.3f s\n", elapsed);
	assert_true(elapsed >= 2.0 && elapsed < 3.0);
	free_run(&run);
}

/* Names in dir that start with prefix. */
static size_t count_files(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void test_ring_keeps_file_count(void **state)
{
	const char *args[] = {"-i", host.root_if, "--file-count", "3", "--file-size", "2048", NULL};
	struct run run;
	struct it_pcap pcap[3];
	size_t total = 0, sent = 0;
	char shown[160];

	(void)state;
	start_capture(&run, "ring.pcap", args);
	send_packets(1);
	finish_capture(&run, SIGTERM);
	assert_string_equal(jstr(run.json, "stopReason"), "StoppedByUser");
	json_t *files = json_object_get(run.json, "files");
	assert_int_equal(json_array_size(files), 3);
	assert_int_equal(count_files("ring"), 3); /* no more on disk, no .part left */
	for (size_t f = 0; f < 3; f++) {
		json_t *file = json_array_get(files, f);
		assert_int_equal(it_pcap_read(jstr(file, "path"), &pcap[f]), 0);
		assert_true(pcap[f].file_size <= 2048);
		check_file(file, &pcap[f]);
		total += pcap[f].count;
	}
	/* The three files hold the newest packets, in order, without a gap. */
	for (size_t i = 0; i < n_pkts; i++)
		sent += !from_ns[i];
	assert_true(total > 0 && total < sent);
	size_t skip = sent - total, seen = 0, i = 0;
	for (size_t f = 0; f < 3; f++) {
		for (size_t r = 0; r < pcap[f].count; r++) {
			for (;; i++)
				if (!from_ns[i] && seen++ >= skip)
					break;
			if (!it_pkt_equal(&pcap[f].records[r].pkt, &pkts[i]))
				fail_msg("ring file %zu record %zu is %s", f, r,
					 it_pkt_format(&pcap[f].records[r].pkt, shown,
						       sizeof(shown)));
			i++;
		}
		it_pcap_free(&pcap[f]);
	}
	printf("  ring: 3 files kept, %zu newest of %zu packets\n", total, sent);
	free_run(&run);
}

/* ----------------------------------------------------- invalid arguments */

static void expect_usage_error(const char *const *extra, const char *needle)
{
	char *argv[MAX_ARGS];
	char path[128];
	struct it_proc proc;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/invalid.pcap", dir);
	argv[n++] = (char *)FLEETCAP_BIN;
	argv[n++] = (char *)"capture";
	for (size_t i = 0; extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	assert_int_equal(it_proc_start(&proc, argv), 0);
	it_proc_wait(&proc);
	if (proc.status != 2 || !strstr(proc.err, needle))
		fail_msg("expected exit 2 and \"%s\" on stderr; got %d: %s", needle, proc.status,
			 proc.err);
	assert_int_equal(access(path, F_OK), -1); /* nothing was written */
	it_proc_free(&proc);
}

static void test_invalid_arguments(void **state)
{
	char out[128], existing[128];
	(void)state;

	snprintf(out, sizeof(out), "%s/invalid.pcap", dir);
	const char *port[] = {"-i", host.root_if, "-o", out, "--filter", "remote-port=70000", NULL};
	expect_usage_error(port, "filter #1 remote-port: \"70000\"");
	const char *range[] = {"-i", host.root_if, "-o", out, "--filter", "local-port=90-80", NULL};
	expect_usage_error(range, "\"90-80\"");
	const char *addr[] = {"-i", host.root_if, "-o", out, "--filter", "remote-ip=198.18.0.300",
			      NULL};
	expect_usage_error(addr, "198.18.0.300");
	const char *proto[] = {"-i", host.root_if, "-o", out, "--filter", "protocol=sctp", NULL};
	expect_usage_error(proto, "sctp");
	const char *empty[] = {"-i",	   host.root_if,	  "-o", out,
			       "--filter", "remote-port=80;;443", NULL};
	expect_usage_error(empty, "remote-port");
	const char *time[] = {"-i", host.root_if, "-o", out, "--time-limit", "18001", NULL};
	expect_usage_error(time, "--time-limit: \"18001\"");
	const char *no_out[] = {"-i", host.root_if, NULL};
	expect_usage_error(no_out, "-o");
	const char *no_if[] = {"-i", "fcnosuchif0", "-o", out, NULL};
	expect_usage_error(no_if, "fcnosuchif0");

	/* An existing file is never overwritten. */
	snprintf(existing, sizeof(existing), "%s/existing.pcap", dir);
	FILE *f = fopen(existing, "w");
	assert_non_null(f);
	fputs("keep me", f);
	fclose(f);
	const char *exists[] = {"-i", host.root_if, "-o", existing, NULL};
	expect_usage_error(exists, "already exists");
	char buf[16] = "";
	f = fopen(existing, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me");
}

/* ------------------------------------------------------------------ main */

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_capture needs root: network namespaces and packet sockets\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/fleetcap-capture-XXXXXX");
	if (!mkdtemp(dir) || it_host_create(&host, "cap") != 0)
		return -1;
	build_packet_set();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	it_host_destroy(&host);
	it_sh("rm -rf '%s'", dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_snaplen_34),
		cmocka_unit_test(test_small_snaplen_matches_whole_packets),
		cmocka_unit_test(test_session_bytes_limit),
		cmocka_unit_test(test_time_limit),
		cmocka_unit_test(test_ring_keeps_file_count),
		cmocka_unit_test(test_invalid_arguments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
