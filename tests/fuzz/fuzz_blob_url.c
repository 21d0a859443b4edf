/*
 * Blob URLs and SAS tokens as users give them (fc_blob_url.c). Invariants:
 * a URL is parsed or refused with a reason; an accepted URL's parts fit their
 * bounds, its account is 3 to 24 lowercase letters and digits, and plain http
 * is accepted only for a local emulator; a SAS token is accepted or refused
 * with a reason that never repeats its signature.
 */
#include <ctype.h>

#include "fc_blob_url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), why[512];
	struct fc_blob_url url;

	why[0] = '\0';
	if (fc_blob_url_parse(text, &url, why, sizeof(why)) == 0) {
		size_t n = strlen(url.account);
		FUZZ_REQUIRE(n >= 3 && n <= 24, "account \"%s\"", url.account);
		for (size_t i = 0; i < n; i++)
			FUZZ_REQUIRE(islower((unsigned char)url.account[i]) ||
					     isdigit((unsigned char)url.account[i]),
				     "account \"%s\"", url.account);
		FUZZ_REQUIRE(url.https || url.path_style, "plain http to %s", url.host);
		FUZZ_REQUIRE(!strchr(text, '?'), "a URL with a query was accepted");
	} else {
		FUZZ_REQUIRE(why[0], "refused without a reason");
	}
	why[0] = '\0';
	if (fc_blob_sas_check(text, why, sizeof(why)) != 0) {
		FUZZ_REQUIRE(why[0], "SAS refused without a reason");
		const char *sig = strstr(text, "sig=");
		if (sig && strlen(sig) > 12)
			FUZZ_REQUIRE(!strstr(why, sig + 4), "the reason shows the signature");
	}
	free(text);
	return 0;
}
