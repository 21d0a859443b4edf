/*
 * api_tls: the API's certificate chain and key (PEM files tls.cert and
 * tls.key), loaded at start and again on SIGHUP. libmicrohttpd asks for them
 * at every handshake (MHD_OPTION_HTTPS_CERT_CALLBACK, api_tls_retrieve), so a
 * renewed certificate takes effect without a restart and without dropping a
 * connection.
 *
 * A load checks that the key matches the certificate and that the key file
 * is not readable by others; a failed reload keeps the certificate in use.
 * Every loaded generation stays in memory until api_tls_free(), because a
 * handshake in progress may still hold the previous one (a few KiB per
 * reload).
 */
#ifndef API_TLS_H
#define API_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "fc_err.h"

struct api_tls;

/* Loads cert_path and key_path; NULL with err naming the file and why. Only
 * one may be loaded per process (the callback has no user pointer). */
struct api_tls *api_tls_load(const char *cert_path, const char *key_path, struct fc_err *err);

/* Loads the files again and uses them from the next handshake on. 0, or -1
 * with err (the previous certificate stays in use). */
int api_tls_reload(struct api_tls *t, struct fc_err *err);

/* The certificate's subject and expiry, for the log ("CN=...; expires ..."). */
const char *api_tls_describe(const struct api_tls *t);

/* libmicrohttpd's certificate callback (gnutls_certificate_retrieve_function2). */
int api_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		     gnutls_pcert_st **pcert, unsigned int *pcert_length,
		     gnutls_privkey_t *privkey);

void api_tls_free(struct api_tls *t);

#endif
