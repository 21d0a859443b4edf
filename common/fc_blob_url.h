/*
 * fc_blob_url: Azure Blob URLs (docs/ARCHITECTURE.md §1, §5, §8).
 *
 * Two host styles:
 *   https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB   (any Azure cloud's
 *       blob.* domain: the account is the host's first label)
 *   http://127.0.0.1:PORT/ACCOUNT/CONTAINER/BLOB           (a local emulator:
 *       when the host is an IP address or "localhost", the account is the
 *       first path segment)
 * Plain http is refused except for such local hosts, so that an account key
 * or SAS token is never sent in clear over a network. A query string or a
 * fragment is refused: a SAS token travels separately (blob_sas,
 * --blob-sas), never inside the URL that lands in status and results.
 */
#ifndef FC_BLOB_URL_H
#define FC_BLOB_URL_H

#include <stddef.h>

#define FC_BLOB_URL_MAX	 2048
#define FC_BLOB_NAME_MAX 1024

struct fc_blob_url {
	int https;
	int path_style;	  /* account is the first path segment (emulator) */
	char host[256];	  /* without port; IPv6 keeps its brackets */
	unsigned port;	  /* 0 = scheme default */
	char account[25]; /* 3-24 lowercase letters and digits */
	char container[64];
	char blob[FC_BLOB_NAME_MAX + 1]; /* as in the URL (percent-encoding kept) */
	/* scheme://host[:port][/account]: the URL of the account's endpoint */
	char endpoint[320];
};

/*
 * Parses and checks url. Returns 0, or -1 with why saying what is wrong and
 * what was expected (why never quotes the URL, the caller does).
 */
int fc_blob_url_parse(const char *url, struct fc_blob_url *out, char *why, size_t why_len);

/*
 * The upload endpoints a fleet daemon accepts: https to the public clouds'
 * blob domains (*.blob.core.windows.net, *.blob.core.usgovcloudapi.net,
 * *.blob.core.chinacloudapi.cn), and any origin listed in endpoints (the
 * config key blob.endpoints: "scheme://host[:port]" items, comma-separated:
 * an emulator, a private endpoint, a sovereign cloud; plain http only when
 * listed so). Returns 0, or -1 with why naming the URL's origin and what is
 * allowed. An account key or a SAS token is never sent anywhere else.
 */
int fc_blob_url_allowed(const struct fc_blob_url *u, const char *endpoints, char *why,
			size_t why_len);

/*
 * Checks the form of a SAS token (a query string with sig=, no '?', '#' or
 * white space). Returns 0, or -1 with why, which never quotes the token: it
 * is a secret.
 */
int fc_blob_sas_check(const char *sas, char *why, size_t why_len);

#endif
