/*
 * The REST API's PUT body (api_spec_from_body). Invariants: a body is either
 * a spec the validator accepts or errors, each naming its JSON path and why;
 * the SAS token of a storagePath never appears in an error.
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>

#include "api_json.h"
#include "fuzz.h"

/* The query of properties.storageLocation.storagePath, when the body has
 * one of 8 characters or more (shorter ones match by accident) and nothing
 * else in the body holds it (an error may echo a key), else NULL. */
static char *sas_of(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	const char *url = json_string_value(json_object_get(
		json_object_get(json_object_get(root, "properties"), "storageLocation"),
		"storagePath"));
	const char *q = url ? strchr(url, '?') : NULL;
	char *sas = q && strlen(q + 1) >= 8 ? strdup(q + 1) : NULL;
	size_t seen = 0;

	json_decref(root);
	for (const uint8_t *p = data;
	     sas && (p = memmem(p, size - (size_t)(p - data), sas, strlen(sas))) != NULL; p++)
		seen++;
	if (seen != 1) {
		free(sas);
		return NULL;
	}
	return sas;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_field_errors errs;
	fc_spec_t *spec = api_spec_from_body((const char *)data, size, "sub-a", "r1", "cap", &errs);

	if (spec) {
		struct fc_field_errors again;
		fc_field_errors_init(&again);
		FUZZ_REQUIRE(fc_spec_validate(spec, FC_SPEC_FLEET, &again) == 0,
			     "a spec from a body fails the validator");
		fc_spec_free(spec);
		return 0;
	}
	FUZZ_REQUIRE(errs.count > 0 || errs.dropped, "refused without an error");
	char *sas = sas_of(data, size);
	for (size_t i = 0; i < errs.count; i++) {
		FUZZ_REQUIRE(errs.items[i].field[0] && errs.items[i].message[0],
			     "an error without a field or a message");
		FUZZ_REQUIRE(!sas || !strstr(errs.items[i].message, sas),
			     "an error shows the SAS token: %s", errs.items[i].message);
	}
	free(sas);
	return 0;
}
