/*
 * The one request validator fed any CaptureSpec a producer could write to
 * Kafka (the bytes are a packed protobuf message). Invariants: every error
 * names a field and says why; the digest of an accepted spec is stable; an
 * accepted spec's filters compile to BPF as the capture engine compiles them.
 */
#include <pcap/pcap.h>

#include "fc_filter.h"
#include "fc_spec.h"
#include "fleetcap.pb-c.h"
#include "fuzz.h"
#include "wk_filter.h"
#include "wk_session.h"

static void check_compiles(const fc_spec_t *spec)
{
	struct fc_addr_set local;
	struct fc_err err;
	char why[128];

	FUZZ_REQUIRE(fc_addr_set_parse("198.18.0.1;fd00::1", &local, why, sizeof(why)) == 0,
		     "the local addresses");
	char *expr = wk_filter_expression(spec->filters, spec->n_filters, &local, &err);
	FUZZ_REQUIRE(expr, "an accepted spec has no filter expression: %s", err.msg);
	if (expr[0]) {
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, WK_MATCH_SNAPLEN);
		struct bpf_program prog;
		FUZZ_REQUIRE(wk_filter_compile(dead, &prog, expr) == 0,
			     "an accepted spec's filter does not compile: %s: %s", expr,
			     pcap_geterr(dead));
		pcap_freecode(&prog);
		pcap_close(dead);
	}
	free(expr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fc_spec_mode modes[] = {FC_SPEC_FLEET, FC_SPEC_LOCAL, FC_SPEC_TEMPLATE};
	fc_spec_t *spec = fleetcap__v1__capture_spec__unpack(NULL, size, data);
	struct fc_field_errors errs;

	if (!spec)
		return 0;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		fc_field_errors_init(&errs);
		int rc = fc_spec_validate(spec, modes[m], &errs);
		FUZZ_REQUIRE((rc == 0) == (errs.count == 0 && !errs.dropped),
			     "validate says %d with %zu errors", rc, errs.count);
		for (size_t i = 0; i < errs.count; i++)
			FUZZ_REQUIRE(errs.items[i].field[0] && errs.items[i].message[0],
				     "an error without a field or a message");
		if (rc == 0 && modes[m] == FC_SPEC_FLEET) {
			uint8_t a[FC_SPEC_DIGEST_LEN], b[FC_SPEC_DIGEST_LEN];
			FUZZ_REQUIRE(fc_spec_digest(spec, a) == 0 && fc_spec_digest(spec, b) == 0 &&
					     memcmp(a, b, sizeof(a)) == 0,
				     "the digest of an accepted spec is not stable");
			check_compiles(spec);
		}
	}
	fleetcap__v1__capture_spec__free_unpacked(spec, NULL);
	return 0;
}
