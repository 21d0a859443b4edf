/* api_tls: the API's certificate, reloadable; see api_tls.h. */
#include "api_tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/x509.h>

#define CHAIN_MAX 8
#define FILE_MAX  (1 << 20)

struct generation {
	gnutls_pcert_st pcerts[CHAIN_MAX];
	unsigned int n;
	gnutls_privkey_t key;
	char describe[300];
	struct generation *older;
};

struct api_tls {
	char *cert_path, *key_path;
	pthread_mutex_t lock;
	struct generation *current; /* newest; ->older links the previous ones */
};

static struct api_tls *active; /* the one api_tls_retrieve serves */

/* Reads a whole file of at most FILE_MAX bytes into d (gnutls_free'd by the caller). */
static int read_file(const char *what, const char *path, gnutls_datum_t *d, struct fc_err *err)
{
	FILE *fp = fopen(path, "rb");
	long len;

	if (!fp) {
		fc_err_set(err, FC_ERR_INVALID, "%s \"%.200s\": %s", what, path, strerror(errno));
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || len > FILE_MAX ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		fc_err_set(err, FC_ERR_INVALID,
			   "%s \"%.200s\": expected a PEM file of at most 1 MiB", what, path);
		return -1;
	}
	d->data = gnutls_malloc((size_t)len + 1);
	d->size = (unsigned int)len;
	if (!d->data || fread(d->data, 1, (size_t)len, fp) != (size_t)len) {
		fclose(fp);
		gnutls_free(d->data);
		d->data = NULL;
		fc_err_set(err, FC_ERR_INVALID, "%s \"%.200s\": cannot read it", what, path);
		return -1;
	}
	d->data[len] = '\0';
	fclose(fp);
	return 0;
}

static void generation_free(struct generation *g)
{
	for (unsigned int i = 0; i < g->n; i++)
		gnutls_pcert_deinit(&g->pcerts[i]);
	if (g->key)
		gnutls_privkey_deinit(g->key);
	free(g);
}

/* Whether key signs what the certificate's public key verifies. */
static int key_matches(gnutls_privkey_t key, gnutls_pubkey_t pub)
{
	const gnutls_datum_t data = {(unsigned char *)"fleetcap-api", 12};
	gnutls_datum_t sig = {NULL, 0};
	int pk = gnutls_privkey_get_pk_algorithm(key, NULL);
	gnutls_sign_algorithm_t algo =
		gnutls_pk_to_sign((gnutls_pk_algorithm_t)pk, GNUTLS_DIG_SHA256);
	int ok = gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &data, &sig) == 0 &&
		 gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig) >= 0;

	gnutls_free(sig.data);
	return ok;
}

static void describe(struct generation *g)
{
	gnutls_x509_crt_t crt;
	char dn[200] = "?";
	size_t dn_len = sizeof(dn);
	char when[40] = "?";

	if (gnutls_x509_crt_init(&crt) != 0)
		return;
	if (gnutls_x509_crt_import(crt, &g->pcerts[0].cert, GNUTLS_X509_FMT_DER) == 0) {
		time_t t = gnutls_x509_crt_get_expiration_time(crt);
		struct tm tm;
		if (gnutls_x509_crt_get_dn(crt, dn, &dn_len) != 0)
			snprintf(dn, sizeof(dn), "?");
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	gnutls_x509_crt_deinit(crt);
	snprintf(g->describe, sizeof(g->describe), "%s; %u certificate(s); expires %s", dn, g->n,
		 when);
}

static struct generation *load(const char *cert_path, const char *key_path, struct fc_err *err)
{
	struct generation *g = calloc(1, sizeof(*g));
	gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
	struct stat st;
	int e;

	if (!g) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	if (stat(key_path, &st) == 0 && (st.st_mode & 0007)) {
		fc_err_set(err, FC_ERR_INVALID,
			   "tls.key \"%.200s\": mode %03o lets others read it; expected 0600 or "
			   "0640",
			   key_path, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if (read_file("tls.cert", cert_path, &cert, err) != 0 ||
	    read_file("tls.key", key_path, &key, err) != 0)
		goto fail;
	g->n = CHAIN_MAX;
	if ((e = gnutls_pcert_list_import_x509_raw(g->pcerts, &g->n, &cert, GNUTLS_X509_FMT_PEM,
						   0)) < 0) {
		g->n = 0;
		fc_err_set(err, FC_ERR_INVALID,
			   "tls.cert \"%.200s\": expected PEM certificates (at most %d): %s",
			   cert_path, CHAIN_MAX, gnutls_strerror(e));
		goto fail;
	}
	if ((e = gnutls_privkey_init(&g->key)) < 0 ||
	    (e = gnutls_privkey_import_x509_raw(g->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		fc_err_set(err, FC_ERR_INVALID,
			   "tls.key \"%.200s\": expected an unencrypted PEM private key: %s",
			   key_path, gnutls_strerror(e));
		goto fail;
	}
	if (!key_matches(g->key, g->pcerts[0].pubkey)) {
		fc_err_set(err, FC_ERR_INVALID,
			   "tls.key \"%.200s\" does not match the first certificate of tls.cert "
			   "\"%.200s\"",
			   key_path, cert_path);
		goto fail;
	}
	describe(g);
	gnutls_free(cert.data);
	gnutls_free(key.data);
	return g;
fail:
	gnutls_free(cert.data);
	gnutls_free(key.data);
	generation_free(g);
	return NULL;
}

struct api_tls *api_tls_load(const char *cert_path, const char *key_path, struct fc_err *err)
{
	struct api_tls *t = calloc(1, sizeof(*t));

	if (!t || !(t->cert_path = strdup(cert_path)) || !(t->key_path = strdup(key_path))) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		api_tls_free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	if (!(t->current = load(cert_path, key_path, err))) {
		api_tls_free(t);
		return NULL;
	}
	active = t;
	return t;
}

int api_tls_reload(struct api_tls *t, struct fc_err *err)
{
	struct generation *g = load(t->cert_path, t->key_path, err);

	if (!g)
		return -1;
	pthread_mutex_lock(&t->lock);
	g->older = t->current;
	t->current = g;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

const char *api_tls_describe(const struct api_tls *t)
{
	return t->current->describe;
}

int api_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		     gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct api_tls *t = active;

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!t)
		return -1;
	pthread_mutex_lock(&t->lock);
	*pcert = t->current->pcerts;
	*pcert_length = t->current->n;
	*privkey = t->current->key;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void api_tls_free(struct api_tls *t)
{
	if (!t)
		return;
	if (active == t)
		active = NULL;
	while (t->current) {
		struct generation *older = t->current->older;
		generation_free(t->current);
		t->current = older;
	}
	if (t->cert_path)
		pthread_mutex_destroy(&t->lock);
	free(t->cert_path);
	free(t->key_path);
	free(t);
}
