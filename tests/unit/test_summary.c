/*
 * fc_summary on hand-made packets, for what summary_vs_tshark does not
 * cover: ICMP errors charged to the flow they quote, zero windows, flows
 * oriented by the local addresses, Linux cooked and VLAN-tagged frames, the
 * bounded flow table (a flow past it counts in "other"), kernel drops in the
 * per-second series, and the verdicts' wording.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>
#include <sys/socket.h>

#include "fc_summary.h"

#define T0 1700000000000000LL

static size_t ip4(uint8_t *p, int proto, const uint8_t src[4], const uint8_t dst[4], size_t l4_len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)((20 + l4_len) >> 8);
	p[3] = (uint8_t)(20 + l4_len);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	return 20;
}

static size_t udp(uint8_t *p, uint16_t sport, uint16_t dport, size_t payload)
{
	memset(p, 0, 8 + payload);
	p[0] = (uint8_t)(sport >> 8);
	p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	p[5] = (uint8_t)(8 + payload);
	return 8 + payload;
}

static size_t tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags, uint16_t window)
{
	memset(p, 0, 20);
	p[0] = (uint8_t)(sport >> 8);
	p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	p[12] = 5 << 4;
	p[13] = flags;
	p[14] = (uint8_t)(window >> 8);
	p[15] = (uint8_t)window;
	return 20;
}

static const uint8_t A[4] = {198, 18, 0, 1}, B[4] = {198, 18, 0, 2}, R[4] = {198, 18, 0, 254};

/* A raw-IP UDP packet a → b. */
static size_t udp_packet(uint8_t *buf, const uint8_t *a, const uint8_t *b, uint16_t sp, uint16_t dp)
{
	size_t n = ip4(buf, 17, a, b, 8 + 10);
	return n + udp(buf + n, sp, dp, 10);
}

static json_t *flow(json_t *j, size_t i)
{
	return json_array_get(json_object_get(j, "flows"), i);
}

static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static int has_verdict(json_t *j, const char *text)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(j, "verdicts"), i,
			   v) if (strstr(json_string_value(v), text)) return 1;
	return 0;
}

static int local_is_b(void *opaque, int family, const uint8_t addr[16])
{
	(void)opaque;
	return family == AF_INET && memcmp(addr, B, 4) == 0;
}

static void test_icmp_error_and_orientation(void **state)
{
	struct fc_summary_config c = {.linktype = DLT_RAW, .top_n = 10, .is_local = local_is_b};
	struct fc_summary *s = fc_summary_new(&c);
	uint8_t buf[200];
	size_t n;
	(void)state;

	/* a:5000 → b:53 first: b is local, so the flow is b:53 → a:5000. */
	n = udp_packet(buf, A, B, 5000, 53);
	fc_summary_packet(s, T0, buf, n, (uint32_t)n);
	n = udp_packet(buf, B, A, 53, 5000);
	fc_summary_packet(s, T0 + 1000, buf, n, (uint32_t)n);
	/* A router's port unreachable quoting b:53 → a:5000. */
	uint8_t quoted[40]; /* the ICMP error quotes its first 28 bytes */
	udp_packet(quoted, B, A, 53, 5000);
	n = ip4(buf, 1, R, B, 8 + 28);
	memset(buf + n, 0, 8);
	buf[n] = 3; /* destination unreachable */
	buf[n + 1] = 3;
	memcpy(buf + n + 8, quoted, 28);
	n += 36;
	fc_summary_packet(s, T0 + 2000, buf, n, (uint32_t)n);
	json_t *j = fc_summary_json(s);
	json_t *f = NULL;
	for (size_t i = 0; (f = flow(j, i)); i++)
		if (strcmp(json_string_value(json_object_get(f, "protocol")), "udp") == 0)
			break;
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "localAddress")), "198.18.0.2");
	assert_int_equal(num(f, "localPort"), 53);
	assert_int_equal(num(f, "packetsOut"), 1);
	assert_int_equal(num(f, "packetsIn"), 1);
	assert_int_equal(num(f, "icmpErrors"), 1);
	assert_true(has_verdict(j, "1 ICMP error about traffic to 198.18.0.1:5000"));
	json_decref(j);
	fc_summary_free(s);
}

static void test_zero_window_cooked_and_vlan(void **state)
{
	uint8_t buf[200];
	size_t n;
	(void)state;

	/* Linux cooked v1: 16 bytes, the protocol at 14. */
	struct fc_summary_config c = {.linktype = DLT_LINUX_SLL, .top_n = 10};
	struct fc_summary *s = fc_summary_new(&c);
	memset(buf, 0, 16);
	buf[14] = 0x08;
	n = 16 + ip4(buf + 16, 6, A, B, 20);
	n += tcp(buf + n, 40000, 443, 0x10, 0); /* ACK, window 0 */
	fc_summary_packet(s, T0, buf, n, (uint32_t)n);
	fc_summary_packet(s, T0 + 10, buf, n, (uint32_t)n);
	json_t *j = fc_summary_json(s);
	json_t *t = json_object_get(flow(j, 0), "tcp");
	assert_int_equal(num(t, "zeroWindowOut"), 2);
	assert_true(has_verdict(j, "198.18.0.1 advertised a zero window 2 times"));
	json_decref(j);
	fc_summary_free(s);

	/* Ethernet with two VLAN tags. */
	c.linktype = DLT_EN10MB;
	s = fc_summary_new(&c);
	memset(buf, 0, 22);
	buf[12] = 0x88, buf[13] = 0xa8, buf[16] = 0x81, buf[17] = 0x00, buf[20] = 0x08;
	n = 22 + udp_packet(buf + 22, A, B, 1234, 5353);
	fc_summary_packet(s, T0, buf, n, (uint32_t)n);
	j = fc_summary_json(s);
	assert_int_equal(num(flow(j, 0), "remotePort"), 5353);
	assert_int_equal(num(j, "notIp"), 0);
	json_decref(j);
	fc_summary_free(s);
}

static void test_bounded_table_and_drops(void **state)
{
	struct fc_summary_config c = {.linktype = DLT_RAW, .top_n = 2};
	struct fc_summary *s = fc_summary_new(&c);
	uint8_t buf[200];
	(void)state;

	/* 1,500 flows: 1,024 tracked (16 x 2 is less), the rest in "other". */
	for (int i = 0; i < 1500; i++) {
		size_t n = udp_packet(buf, A, B, (uint16_t)(10000 + i), 53);
		fc_summary_packet(s, T0 + i * 1000LL, buf, n, (uint32_t)n);
	}
	fc_summary_drops(s, T0 + 1200000, 7);
	json_t *j = fc_summary_json(s);
	assert_int_equal(num(j, "flowsTracked"), 1024);
	assert_int_equal(json_array_size(json_object_get(j, "flows")), 2);
	json_t *other = json_object_get(j, "other");
	assert_int_equal(num(other, "flows"), 1022);
	assert_int_equal(num(other, "packets"), 1500 - 2);
	assert_int_equal(num(other, "untrackedPackets"), 1500 - 1024);
	/* 1.5 s of packets: seconds 0 and 1; the drops in second 1. */
	json_t *series = json_object_get(j, "series");
	assert_int_equal(json_array_size(series), 2);
	assert_int_equal(num(json_array_get(series, 0), "packets") +
				 num(json_array_get(series, 1), "packets"),
			 1500);
	assert_int_equal(num(json_array_get(series, 1), "drops"), 7);
	assert_true(has_verdict(j, "the kernel dropped 7 packets"));
	json_decref(j);
	fc_summary_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_error_and_orientation),
		cmocka_unit_test(test_zero_window_cooked_and_vlan),
		cmocka_unit_test(test_bounded_table_and_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
