/* fc_summary_json: a summary's JSON and its verdicts; see fc_summary.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_summary_int.h"

#define VERDICT_KEYS   256
#define VERDICTS_SHOWN 12

static const char *protocol_name(uint8_t p)
{
	switch (p) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	default:
		return NULL;
	}
}

static void addr_text(int family, const uint8_t *a, char *out, size_t len)
{
	if (!inet_ntop(family, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/* "198.18.0.2:443", "[fd00::2]:443", or the address alone without a port. */
static void endpoint_text(int family, const uint8_t *a, uint16_t port, int with_port, char *out,
			  size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	addr_text(family, a, addr, sizeof(addr));
	if (!with_port)
		snprintf(out, len, "%s", addr);
	else if (family == AF_INET6)
		snprintf(out, len, "[%s]:%u", addr, (unsigned)port);
	else
		snprintf(out, len, "%s:%u", addr, (unsigned)port);
}

static json_t *flow_json(const struct flow *f)
{
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
	const char *name = protocol_name(f->ends.protocol);
	json_t *j;

	addr_text(f->ends.family, f->ends.src, local, sizeof(local));
	addr_text(f->ends.family, f->ends.dst, remote, sizeof(remote));
	j = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "protocol",
		      name ? name : "other", "localAddress", local, "localPort",
		      (json_int_t)f->ends.sport, "remoteAddress", remote, "remotePort",
		      (json_int_t)f->ends.dport, "packetsOut", (json_int_t)f->packets[FLOW_OUT],
		      "bytesOut", (json_int_t)f->bytes[FLOW_OUT], "packetsIn",
		      (json_int_t)f->packets[FLOW_IN], "bytesIn", (json_int_t)f->bytes[FLOW_IN],
		      "firstUs", (json_int_t)f->first_us, "lastUs", (json_int_t)f->last_us,
		      "icmpErrors", (json_int_t)f->icmp_errors);
	if (j && !name)
		json_object_set_new(j, "ipProtocol", json_integer(f->ends.protocol));
	if (j && f->ends.protocol == 6) {
		json_t *t = json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "synOut",
			(json_int_t)f->syn[FLOW_OUT], "synIn", (json_int_t)f->syn[FLOW_IN],
			"synAckOut", (json_int_t)f->synack[FLOW_OUT], "synAckIn",
			(json_int_t)f->synack[FLOW_IN], "finOut", (json_int_t)f->fin[FLOW_OUT],
			"finIn", (json_int_t)f->fin[FLOW_IN], "rstOut",
			(json_int_t)f->rst[FLOW_OUT], "rstIn", (json_int_t)f->rst[FLOW_IN],
			"retransmissionsOut", (json_int_t)f->retrans[FLOW_OUT], "retransmissionsIn",
			(json_int_t)f->retrans[FLOW_IN], "zeroWindowOut",
			(json_int_t)f->zero_window[FLOW_OUT], "zeroWindowIn",
			(json_int_t)f->zero_window[FLOW_IN]);
		json_object_set_new(j, "tcp", t);
	}
	return j;
}

static uint64_t flow_bytes(const struct flow *f)
{
	return f->bytes[FLOW_OUT] + f->bytes[FLOW_IN];
}

static int by_bytes(const void *a, const void *b)
{
	const struct flow *x = *(const struct flow *const *)a, *y = *(const struct flow *const *)b;
	uint64_t bx = flow_bytes(x), by = flow_bytes(y);
	if (bx != by)
		return bx < by ? 1 : -1;
	return x->first_us < y->first_us ? -1 : x->first_us > y->first_us;
}

/* Verdict counters: one per kind and subject ("never answered" per
 * endpoint, RSTs per address, …), merged by key. */
enum kind { UNANSWERED, REFUSED, RESETS, ZERO_WINDOW, ICMP, KINDS };

struct verdict {
	enum kind kind;
	char subject[INET6_ADDRSTRLEN + 10];
	uint64_t count;
};

struct verdicts {
	size_t n;
	struct verdict items[VERDICT_KEYS];
};

static void count(struct verdicts *v, enum kind kind, const char *subject, uint64_t n)
{
	if (!n)
		return;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i].kind == kind && strcmp(v->items[i].subject, subject) == 0) {
			v->items[i].count += n;
			return;
		}
	if (v->n == VERDICT_KEYS)
		return; /* past 256 subjects, a new one is not counted: memory stays bounded */
	v->items[v->n].kind = kind;
	snprintf(v->items[v->n].subject, sizeof(v->items[v->n].subject), "%.*s",
		 (int)sizeof(v->items[v->n].subject) - 1, subject);
	v->items[v->n++].count = n;
}

static void flow_verdicts(const struct flow *f, struct verdicts *v)
{
	const struct fc_packet_ends *e = &f->ends;
	char who[2][INET6_ADDRSTRLEN + 10], host[2][INET6_ADDRSTRLEN + 10];

	endpoint_text(e->family, e->src, e->sport, 1, who[FLOW_OUT], sizeof(who[0]));
	endpoint_text(e->family, e->dst, e->dport, 1, who[FLOW_IN], sizeof(who[0]));
	endpoint_text(e->family, e->src, 0, 0, host[FLOW_OUT], sizeof(host[0]));
	endpoint_text(e->family, e->dst, 0, 0, host[FLOW_IN], sizeof(host[0]));
	if (e->protocol == 6)
		for (int d = 0; d < 2; d++) {
			int other = 1 - d;
			/* SYNs from d; the other side never answered, or reset. */
			if (f->syn[d] && !f->synack[other] && !f->rst[other] && !f->packets[other])
				count(v, UNANSWERED, who[other], f->syn[d]);
			else if (f->syn[d] && !f->synack[other] && f->rst[other])
				count(v, REFUSED, who[other], 1);
			else if (f->rst[other])
				count(v, RESETS, host[other], 1);
			count(v, ZERO_WINDOW, host[d], f->zero_window[d]);
		}
	count(v, ICMP, who[FLOW_IN], f->icmp_errors);
}

static int by_count(const void *a, const void *b)
{
	const struct verdict *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->subject, y->subject);
}

static void add_verdicts(const struct fc_summary *s, json_t *list)
{
	struct verdicts *v = calloc(1, sizeof(*v));
	uint64_t segments = 0, retrans = 0, drops = 0;
	char line[200];

	if (!v)
		return;
	for (size_t i = 0; i < s->slots; i++) {
		const struct flow *f = &s->flows[i];
		if (!f->used)
			continue;
		flow_verdicts(f, v);
		segments += f->segments[0] + f->segments[1];
		retrans += f->retrans[0] + f->retrans[1];
	}
	/* The largest first. */
	qsort(v->items, v->n, sizeof(v->items[0]), by_count);
	for (size_t i = 0; i < v->n && i < VERDICTS_SHOWN; i++) {
		const char *subject = v->items[i].subject;
		unsigned long long n = (unsigned long long)v->items[i].count;
		switch (v->items[i].kind) {
		case UNANSWERED:
			snprintf(line, sizeof(line), "%s never answered %llu SYN%s", subject, n,
				 n == 1 ? "" : "s");
			break;
		case REFUSED:
			snprintf(line, sizeof(line), "%s refused %llu connection%s (RST to SYN)",
				 subject, n, n == 1 ? "" : "s");
			break;
		case RESETS:
			snprintf(line, sizeof(line), "RST from %s ended %llu connection%s", subject,
				 n, n == 1 ? "" : "s");
			break;
		case ZERO_WINDOW:
			snprintf(line, sizeof(line), "%s advertised a zero window %llu time%s",
				 subject, n, n == 1 ? "" : "s");
			break;
		default:
			snprintf(line, sizeof(line), "%llu ICMP error%s about traffic to %s", n,
				 n == 1 ? "" : "s", subject);
			break;
		}
		json_array_append_new(list, json_string(line));
	}
	free(v);
	if (retrans) {
		snprintf(line, sizeof(line), "%.1f %% of TCP segments retransmitted (%llu of %llu)",
			 100.0 * (double)retrans / (double)segments, (unsigned long long)retrans,
			 (unsigned long long)segments);
		json_array_append_new(list, json_string(line));
	}
	for (size_t i = 0; i < s->seconds; i++)
		drops += s->series[i].drops;
	if (drops) {
		snprintf(line, sizeof(line), "the kernel dropped %llu packets",
			 (unsigned long long)drops);
		json_array_append_new(list, json_string(line));
	}
	if (s->ports_unseen) {
		snprintf(line, sizeof(line),
			 "ports not captured for %llu packets (bytes-per-packet too small)",
			 (unsigned long long)s->ports_unseen);
		json_array_append_new(list, json_string(line));
	}
}

json_t *fc_summary_json(const struct fc_summary *s)
{
	const struct flow **sorted = calloc(s->tracked + 1, sizeof(*sorted));
	json_t *flows = json_array(), *series = json_array(), *verdicts = json_array();
	uint64_t other_packets = s->untracked_packets, other_bytes = s->untracked_bytes;
	size_t n = 0, other_flows = 0;

	if (!sorted || !flows || !series || !verdicts) {
		free(sorted);
		json_decref(flows);
		json_decref(series);
		json_decref(verdicts);
		return NULL;
	}
	for (size_t i = 0; i < s->slots; i++)
		if (s->flows[i].used)
			sorted[n++] = &s->flows[i];
	qsort(sorted, n, sizeof(*sorted), by_bytes);
	for (size_t i = 0; i < n; i++) {
		if (i < s->config.top_n) {
			json_array_append_new(flows, flow_json(sorted[i]));
			continue;
		}
		other_flows++;
		other_packets += sorted[i]->packets[0] + sorted[i]->packets[1];
		other_bytes += flow_bytes(sorted[i]);
	}
	free(sorted);
	for (size_t i = 0; i < s->seconds; i++)
		json_array_append_new(series,
				      json_pack("{s:I, s:I, s:I, s:I}", "second", (json_int_t)i,
						"packets", (json_int_t)s->series[i].packets,
						"bytes", (json_int_t)s->series[i].bytes, "drops",
						(json_int_t)s->series[i].drops));
	add_verdicts(s, verdicts);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I}, "
			 "s:o, s:o}",
			 "packets", (json_int_t)s->packets, "bytes", (json_int_t)s->bytes,
			 "startUs", (json_int_t)s->start_us, "endUs", (json_int_t)s->end_us,
			 "flowsTracked", (json_int_t)s->tracked, "notIp", (json_int_t)s->not_ip,
			 "headerCut", (json_int_t)s->truncated, "portsUnseen",
			 (json_int_t)s->ports_unseen, "flows", flows, "other", "flows",
			 (json_int_t)other_flows, "packets", (json_int_t)other_packets, "bytes",
			 (json_int_t)other_bytes, "untrackedPackets",
			 (json_int_t)s->untracked_packets, "series", series, "verdicts", verdicts);
}
