/*
 * Filter field parsing (common/fc_filter.c): the parsed sets the capture
 * engine compiles into BPF hold exactly the ports and addresses given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "fc_filter.h"

static void test_ports(void **state)
{
	struct fc_port_set set;
	char why[256];
	(void)state;

	assert_int_equal(fc_port_set_parse("80; 443 ;8000-8080;0;65535", &set, why, sizeof(why)),
			 0);
	assert_int_equal(set.count, 5);
	assert_int_equal(set.items[0].lo, 80);
	assert_int_equal(set.items[0].hi, 80);
	assert_int_equal(set.items[1].lo, 443);
	assert_int_equal(set.items[2].lo, 8000);
	assert_int_equal(set.items[2].hi, 8080);
	assert_int_equal(set.items[3].hi, 0);
	assert_int_equal(set.items[4].lo, 65535);

	assert_int_equal(fc_port_set_parse("", &set, why, sizeof(why)), 0);
	assert_int_equal(set.count, 0);

	/* 64 items are allowed, 65 are not. */
	char list[1024] = "";
	for (int i = 1; i <= 65; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i > 1 ? ";" : "",
			 i);
	assert_int_equal(fc_port_set_parse(list, &set, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more than 64"));
	*strrchr(list, ';') = '\0';
	assert_int_equal(fc_port_set_parse(list, &set, why, sizeof(why)), 0);
	assert_int_equal(set.count, 64);

	assert_int_equal(fc_port_set_parse("80;8080-80", &set, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "\"8080-80\""));
	assert_non_null(strstr(why, "reversed"));
}

static void test_addresses(void **state)
{
	struct fc_addr_set set;
	char why[256], text[INET6_ADDRSTRLEN];
	(void)state;

	assert_int_equal(
		fc_addr_set_parse("198.18.0.0/15;fd00::1;198.18.1.1-198.18.1.5;fd00:1::/32", &set,
				  why, sizeof(why)),
		0);
	assert_int_equal(set.count, 4);

	assert_int_equal(set.items[0].family, AF_INET);
	assert_int_equal(set.items[0].kind, FC_ADDR_CIDR);
	assert_int_equal(set.items[0].prefix, 15);
	inet_ntop(AF_INET, set.items[0].hi, text, sizeof(text));
	assert_string_equal(text, "198.19.255.255");

	assert_int_equal(set.items[1].family, AF_INET6);
	assert_int_equal(set.items[1].kind, FC_ADDR_ONE);
	assert_memory_equal(set.items[1].lo, set.items[1].hi, 16);

	assert_int_equal(set.items[2].kind, FC_ADDR_RANGE);
	inet_ntop(AF_INET, set.items[2].lo, text, sizeof(text));
	assert_string_equal(text, "198.18.1.1");
	inet_ntop(AF_INET, set.items[2].hi, text, sizeof(text));
	assert_string_equal(text, "198.18.1.5");

	inet_ntop(AF_INET6, set.items[3].hi, text, sizeof(text));
	assert_string_equal(text, "fd00:1:ffff:ffff:ffff:ffff:ffff:ffff");

	/* Host bits set: the message proposes the network. */
	assert_int_equal(fc_addr_set_parse("198.18.0.1/24", &set, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "198.18.0.0/24"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
