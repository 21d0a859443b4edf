/*
 * The filter syntax (fc_filter.c, fc_spec.c): the text of one `--filter`
 * or a JSON filters array. Invariant: a filter the validator accepts compiles
 * to BPF as the capture engine compiles it, so no request admitted by the
 * validator fails at the worker.
 */
#include <pcap/pcap.h>

#include "fc_filter.h"
#include "fc_spec.h"
#include "fuzz.h"
#include "wk_filter.h"
#include "wk_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), why[256];
	struct fc_port_set ports;
	struct fc_addr_set addrs, local;
	struct fc_field_errors errs;
	struct fc_err err;
	int proto;
	fc_spec_t *spec = fc_spec_new();

	fc_port_set_parse(text, &ports, why, sizeof(why));
	fc_addr_set_parse(text, &addrs, why, sizeof(why));
	fc_protocol_parse(text, &proto);

	fc_field_errors_init(&errs);
	fc_spec_set(spec, "interface", "lo", &errs);
	fc_spec_set(spec, "file-path", "/tmp/x.pcap", &errs);
	int added = size && text[0] == '[' ? fc_spec_add_filters_json(spec, text, &errs)
					   : fc_spec_add_filter(spec, text, &errs);
	for (size_t i = 0; i < errs.count; i++)
		FUZZ_REQUIRE(errs.items[i].field[0] && errs.items[i].message[0],
			     "an error without a field or a message");
	if (added == 0 && fc_spec_validate(spec, FC_SPEC_LOCAL, &errs) == 0) {
		FUZZ_REQUIRE(fc_addr_set_parse("127.0.0.1;::1", &local, why, sizeof(why)) == 0,
			     "the local addresses");
		char *expr = wk_filter_expression(spec->filters, spec->n_filters, &local, &err);
		FUZZ_REQUIRE(expr, "accepted filter \"%s\" has no expression: %s", text, err.msg);
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, WK_MATCH_SNAPLEN);
		struct bpf_program prog;
		FUZZ_REQUIRE(!expr[0] || wk_filter_compile(dead, &prog, expr) == 0,
			     "accepted filter \"%s\" does not compile: %s: %s", text, expr,
			     pcap_geterr(dead));
		if (expr[0])
			pcap_freecode(&prog);
		pcap_close(dead);
		free(expr);
	}
	fc_spec_free(spec);
	free(text);
	return 0;
}
