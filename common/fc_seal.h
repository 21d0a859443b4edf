/*
 * fc_seal: secrets sealed for one recipient (docs/ARCHITECTURE.md §2,
 * "Secrets on the topics").
 *
 * A secret (a SAS token) travels on Kafka only as a SealedSecret that one
 * key pair can open: X25519 between a fresh ephemeral key and the
 * recipient's public key, HKDF-SHA256 over the shared secret (salt: both
 * public keys, info "fleetcap seal v1"), AES-256-GCM with a random 96-bit
 * nonce and the caller's associated data (what the secret belongs to: a
 * session or a capture), so a sealed value copied to another session or
 * another worker does not open. All of it is OpenSSL's.
 */
#ifndef FC_SEAL_H
#define FC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "fc_err.h"
#include "fleetcap.pb-c.h"

#define FC_SEAL_KEY_LEN 32 /* an X25519 public key */

typedef Fleetcap__V1__SealedSecret fc_sealed_t;

struct fc_seal_key;

/*
 * The key pair kept at path (PKCS#8 PEM, mode 0600): read when the file
 * exists, else made and written there (the directory must exist). NULL with
 * err when the file cannot be read or written, or is not an X25519 key, or
 * is readable by others.
 */
struct fc_seal_key *fc_seal_key_open(const char *path, struct fc_err *err);

/* A new key pair held in memory only (tests). */
struct fc_seal_key *fc_seal_key_new(struct fc_err *err);

void fc_seal_key_free(struct fc_seal_key *key);

/* The public half. */
const uint8_t *fc_seal_key_public(const struct fc_seal_key *key);

/*
 * Seals len bytes of plain for the holder of public key pub, bound to aad.
 * Returns a new message (free with protobuf_c_message_free_unpacked), or
 * NULL with err.
 */
fc_sealed_t *fc_seal(const uint8_t pub[FC_SEAL_KEY_LEN], const char *aad, const void *plain,
		     size_t len, struct fc_err *err);

/*
 * Opens s with key and aad into a new NUL-terminated string (*out, to free).
 * 0, or -1 with err when s is not for this key, was changed, or belongs to
 * other associated data. Never puts any part of the secret in err.
 */
int fc_seal_open(const struct fc_seal_key *key, const char *aad, const fc_sealed_t *s, char **out,
		 struct fc_err *err);

#endif
