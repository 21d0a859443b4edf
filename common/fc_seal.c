/* fc_seal: secrets sealed for one recipient; see fc_seal.h. */
#include "fc_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define NONCE_LEN 12
#define TAG_LEN	  16
#define AEAD_KEY  32
#define INFO	  "fleetcap seal v1"

struct fc_seal_key {
	EVP_PKEY *pkey;
	uint8_t pub[FC_SEAL_KEY_LEN];
};

static struct fc_seal_key *wrap(EVP_PKEY *pkey, struct fc_err *err)
{
	struct fc_seal_key *k = calloc(1, sizeof(*k));
	size_t len = FC_SEAL_KEY_LEN;

	if (!k || EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 || len != FC_SEAL_KEY_LEN) {
		fc_err_set(err, FC_ERR_FATAL, k ? "not an X25519 key" : "out of memory");
		free(k);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->pkey = pkey;
	return k;
}

struct fc_seal_key *fc_seal_key_new(struct fc_err *err)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");

	if (!pkey) {
		fc_err_set(err, FC_ERR_FATAL, "cannot make an X25519 key");
		return NULL;
	}
	return wrap(pkey, err);
}

/* Writes a new key to path, which must not exist, readable by its owner only. */
static struct fc_seal_key *create_at(const char *path, struct fc_err *err)
{
	struct fc_seal_key *k = fc_seal_key_new(err);
	int fd;
	FILE *f;

	if (!k)
		return NULL;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    !(f = fdopen(fd, "w"))) {
		fc_err_set(err, FC_ERR_FATAL, "%s: cannot create: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fc_seal_key_free(k);
		return NULL;
	}
	int ok = PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) == 1;
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	if (fclose(f) != 0 || !ok) {
		fc_err_set(err, FC_ERR_FATAL, "%s: cannot write the key", path);
		unlink(path);
		fc_seal_key_free(k);
		return NULL;
	}
	return k;
}

struct fc_seal_key *fc_seal_key_open(const char *path, struct fc_err *err)
{
	struct stat st;
	FILE *f;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return create_at(path, err);
		fc_err_set(err, FC_ERR_FATAL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		fc_err_set(err, FC_ERR_FATAL, "%s: readable by others (mode %03o): expected 0600",
			   path, (unsigned)(st.st_mode & 0777));
		return NULL;
	}
	if (!(f = fopen(path, "re"))) {
		fc_err_set(err, FC_ERR_FATAL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_X25519) {
		EVP_PKEY_free(pkey);
		fc_err_set(err, FC_ERR_FATAL, "%s: not an X25519 private key in PEM", path);
		return NULL;
	}
	return wrap(pkey, err);
}

void fc_seal_key_free(struct fc_seal_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

const uint8_t *fc_seal_key_public(const struct fc_seal_key *key)
{
	return key->pub;
}

/* The AEAD key of (ours, theirs): X25519, then HKDF-SHA256 salted with the
 * ephemeral and the recipient's public keys. */
static int derive(EVP_PKEY *ours, EVP_PKEY *theirs, const uint8_t eph[FC_SEAL_KEY_LEN],
		  const uint8_t recipient[FC_SEAL_KEY_LEN], uint8_t out[AEAD_KEY])
{
	uint8_t shared[32], salt[2 * FC_SEAL_KEY_LEN];
	size_t shared_len = sizeof(shared);
	EVP_PKEY_CTX *dctx = EVP_PKEY_CTX_new(ours, NULL);
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = dctx && kctx && EVP_PKEY_derive_init(dctx) == 1 &&
		 EVP_PKEY_derive_set_peer(dctx, theirs) == 1 &&
		 EVP_PKEY_derive(dctx, shared, &shared_len) == 1 && shared_len == sizeof(shared);

	memcpy(salt, eph, FC_SEAL_KEY_LEN);
	memcpy(salt + FC_SEAL_KEY_LEN, recipient, FC_SEAL_KEY_LEN);
	if (ok) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256",
							 0),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared, shared_len),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof(salt)),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (char *)INFO,
							  strlen(INFO)),
			OSSL_PARAM_construct_end()};
		ok = EVP_KDF_derive(kctx, out, AEAD_KEY, params) == 1;
	}
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(dctx);
	return ok ? 0 : -1;
}

/* AES-256-GCM of in (len bytes) into out; encrypt 1, or decrypt 0 (tag checked). */
static int aead(int encrypt, const uint8_t key[AEAD_KEY], const uint8_t nonce[NONCE_LEN],
		const char *aad, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	int ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) == 1 &&
		 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		 EVP_CipherInit_ex(c, NULL, NULL, key, nonce, encrypt) == 1 &&
		 EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
		 (len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)len) == 1);

	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + (len ? n : 0), &fin) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static int set_bytes(ProtobufCBinaryData *b, const void *data, size_t len)
{
	if (!(b->data = malloc(len ? len : 1)))
		return -1;
	memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

fc_sealed_t *fc_seal(const uint8_t pub[FC_SEAL_KEY_LEN], const char *aad, const void *plain,
		     size_t len, struct fc_err *err)
{
	EVP_PKEY *theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, FC_SEAL_KEY_LEN);
	struct fc_seal_key *eph = theirs ? fc_seal_key_new(err) : NULL;
	uint8_t key[AEAD_KEY], nonce[NONCE_LEN], *ct = malloc(len + TAG_LEN);
	fc_sealed_t *s = calloc(1, sizeof(*s));

	if (!theirs || !eph || !ct || !s) {
		if (!theirs || !ct || !s)
			fc_err_set(err, FC_ERR_FATAL,
				   "cannot seal: bad public key or out of memory");
		goto fail;
	}
	fleetcap__v1__sealed_secret__init(s);
	if (derive(eph->pkey, theirs, eph->pub, pub, key) != 0 ||
	    RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    aead(1, key, nonce, aad, plain, len, ct, ct + len) != 0 ||
	    set_bytes(&s->ephemeral_key, eph->pub, FC_SEAL_KEY_LEN) ||
	    set_bytes(&s->nonce, nonce, NONCE_LEN) ||
	    set_bytes(&s->ciphertext, ct, len + TAG_LEN) ||
	    set_bytes(&s->recipient_key, pub, FC_SEAL_KEY_LEN)) {
		fc_err_set(err, FC_ERR_FATAL, "cannot seal a secret");
		goto fail;
	}
	OPENSSL_cleanse(key, sizeof(key));
	free(ct);
	fc_seal_key_free(eph);
	EVP_PKEY_free(theirs);
	return s;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	free(ct);
	if (s)
		protobuf_c_message_free_unpacked(&s->base, NULL);
	fc_seal_key_free(eph);
	EVP_PKEY_free(theirs);
	return NULL;
}

int fc_seal_open(const struct fc_seal_key *key, const char *aad, const fc_sealed_t *s, char **out,
		 struct fc_err *err)
{
	uint8_t aead_key[AEAD_KEY];
	EVP_PKEY *eph = NULL;
	char *plain = NULL;
	size_t len;

	*out = NULL;
	if (s->ephemeral_key.len != FC_SEAL_KEY_LEN || s->nonce.len != NONCE_LEN ||
	    s->ciphertext.len < TAG_LEN) {
		fc_err_set(err, FC_ERR_INVALID, "a sealed secret is malformed");
		return -1;
	}
	if (s->recipient_key.len != FC_SEAL_KEY_LEN ||
	    memcmp(s->recipient_key.data, key->pub, FC_SEAL_KEY_LEN) != 0) {
		fc_err_set(err, FC_ERR_INVALID, "a sealed secret is for another key");
		return -1;
	}
	len = s->ciphertext.len - TAG_LEN;
	eph = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, s->ephemeral_key.data,
					  FC_SEAL_KEY_LEN);
	if (!eph || !(plain = malloc(len + 1)) ||
	    derive(key->pkey, eph, s->ephemeral_key.data, key->pub, aead_key) != 0 ||
	    aead(0, aead_key, s->nonce.data, aad, s->ciphertext.data, len, (uint8_t *)plain,
		 s->ciphertext.data + len) != 0) {
		fc_err_set(err, FC_ERR_INVALID,
			   "a sealed secret does not open: changed, or sealed for something else");
		OPENSSL_cleanse(aead_key, sizeof(aead_key));
		if (plain)
			OPENSSL_cleanse(plain, len);
		free(plain);
		EVP_PKEY_free(eph);
		return -1;
	}
	OPENSSL_cleanse(aead_key, sizeof(aead_key));
	EVP_PKEY_free(eph);
	plain[len] = '\0';
	if (strlen(plain) != len) { /* a secret is text */
		OPENSSL_cleanse(plain, len);
		free(plain);
		fc_err_set(err, FC_ERR_INVALID, "a sealed secret holds a NUL byte");
		return -1;
	}
	*out = plain;
	return 0;
}
