/*
 * sched_state_secret: the SAS token of a capture on the topics
 * (docs/ARCHITECTURE.md §2, "Secrets on the topics").
 *
 * A create brings blob_sas in clear (on `commands`, which only the API and
 * the CLI write). At admission the state machine seals it for the
 * schedulers' own key (policy.seal_key) and keeps only that in the ledger
 * entry, bound to the capture's key "subscription/region/name", so any
 * scheduler instance holding the key can dispatch it after a takeover. Each
 * START job gets a copy sealed again for the target worker's key (from its
 * heartbeat), bound to the job's session id: another worker, reading the
 * same `jobs` partition, cannot open it. Statuses carry neither.
 *
 * Without policy.seal_key (unit tests that are not about secrets) the token
 * stays as it came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fc_log.h"
#include "fc_seal.h"
#include "fc_spec.h"
#include "sched_state_int.h"

static void capture_aad(const struct sched_key *k, const fc_spec_t *spec, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", k->key, spec->name);
}

int ss_secret_keep(struct sched_state *st, const struct sched_key *k, fc_spec_t *spec)
{
	char aad[STATUS_KEY];
	struct fc_err err;
	fc_sealed_t *s;

	if (!st->policy.seal_key || !*spec->blob_sas)
		return 0;
	capture_aad(k, spec, aad, sizeof(aad));
	if (!(s = fc_seal(fc_seal_key_public(st->policy.seal_key), aad, spec->blob_sas,
			  strlen(spec->blob_sas), &err)))
		return -1;
	if (spec->blob_sas_sealed)
		protobuf_c_message_free_unpacked(&spec->blob_sas_sealed->base, NULL);
	spec->blob_sas_sealed = s;
	free(spec->blob_sas);
	spec->blob_sas = (char *)protobuf_c_empty_string;
	return 0;
}

int ss_secret_check(const struct sched_state *st, const fc_spec_t *spec, const char *host,
		    char *why, size_t len)
{
	uint8_t key[FC_SEAL_KEY_LEN];

	if (!st->policy.seal_key || (!*spec->blob_sas && !spec->blob_sas_sealed))
		return 0;
	if (st->policy.host_key && st->policy.host_key(st->policy.target_opaque, host, key) == 0)
		return 0;
	snprintf(why, len,
		 "worker %s announces no key to seal the SAS token for (a worker older than "
		 "sealed secrets): the token is never sent in clear; upgrade the worker, or "
		 "leave the SAS out to use its account key",
		 host);
	return -1;
}

int ss_secret_for_job(struct sched_state *st, const struct sched_key *k, fc_spec_t *job_spec,
		      const char *host, const char *session_id)
{
	uint8_t key[FC_SEAL_KEY_LEN];
	char aad[STATUS_KEY], *plain = NULL;
	struct fc_err err;
	fc_sealed_t *s = NULL;

	if (!job_spec->blob_sas_sealed)
		return 0;
	capture_aad(k, job_spec, aad, sizeof(aad));
	if (!st->policy.seal_key ||
	    fc_seal_open(st->policy.seal_key, aad, job_spec->blob_sas_sealed, &plain, &err) != 0) {
		FC_ERROR("sched",
			 "%s: the SAS token does not open with this scheduler's seal.key "
			 "(every instance needs the same key file): %s",
			 aad, st->policy.seal_key ? err.msg : "no key");
		return -1;
	}
	if (!st->policy.host_key || st->policy.host_key(st->policy.target_opaque, host, key) != 0 ||
	    !(s = fc_seal(key, session_id, plain, strlen(plain), &err))) {
		FC_ERROR("sched", "%s: no key of worker %s to seal the SAS token for", aad, host);
		OPENSSL_cleanse(plain, strlen(plain));
		free(plain);
		return -1;
	}
	OPENSSL_cleanse(plain, strlen(plain));
	free(plain);
	protobuf_c_message_free_unpacked(&job_spec->blob_sas_sealed->base, NULL);
	job_spec->blob_sas_sealed = s;
	return 0;
}
