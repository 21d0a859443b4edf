/* azblob_auth: see azblob_auth.h. */
#include "azblob_auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int azblob_key_init(struct azblob_key *key, const char *account, const char *base64,
		    struct fc_err *err)
{
	unsigned char decoded[sizeof(key->secret) + 3];
	size_t n, pad = 0;
	int len;

	memset(key, 0, sizeof(*key));
	snprintf(key->account, sizeof(key->account), "%s", account);
	while (*base64 && isspace((unsigned char)*base64))
		base64++;
	n = strlen(base64);
	while (n && isspace((unsigned char)base64[n - 1]))
		n--;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(decoded)) {
		fc_err_set(err, FC_ERR_INVALID,
			   "account key for %s is not valid base64 of at most %zu bytes",
			   key->account, sizeof(key->secret));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base64[i];
		if (!(isalnum(c) || c == '+' || c == '/' || (c == '=' && i >= n - 2))) {
			fc_err_set(err, FC_ERR_INVALID,
				   "account key for %s is not valid base64 (bad character at "
				   "offset %zu)",
				   key->account, i);
			return -1;
		}
	}
	len = EVP_DecodeBlock(decoded, (const unsigned char *)base64, (int)n);
	if (len < 0) {
		fc_err_set(err, FC_ERR_INVALID, "account key for %s is not valid base64",
			   key->account);
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	pad = (base64[n - 1] == '=') + (base64[n - 2] == '=');
	key->secret_len = (size_t)len - pad;
	memcpy(key->secret, decoded, key->secret_len);
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return 0;
}

int azblob_key_load_file(struct azblob_key *key, const char *account, const char *path,
			 struct fc_err *err)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	size_t n;
	int rc;

	if (!f) {
		fc_err_set(err, FC_ERR_INVALID, "cannot open key file %s: %s", path,
			   strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n == sizeof(buf) - 1) {
		fc_err_set(err, FC_ERR_INVALID, "key file %s is larger than a base64 account key",
			   path);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	buf[n] = '\0';
	rc = azblob_key_init(key, account, buf, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

void azblob_key_clear(struct azblob_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

/* The standard headers in the order the string to sign lists them. */
static const char *const standard_headers[] = {
	"Content-Encoding",
	"Content-Language",
	"Content-Length",
	"Content-MD5",
	"Content-Type",
	"Date",
	"If-Modified-Since",
	"If-Match",
	"If-None-Match",
	"If-Unmodified-Since",
	"Range",
};

static const char *header_value(const struct azblob_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

struct out_buf {
	char *p;
	size_t len, used;
	int overflow;
};

static void put(struct out_buf *b, const char *s, size_t n)
{
	if (b->used + n + 1 > b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->used, s, n);
	b->used += n;
	b->p[b->used] = '\0';
}

static void puts_(struct out_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_lower(struct out_buf *b, const char *s)
{
	for (; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		put(b, &c, 1);
	}
}

static int cmp_pair_ci(const void *a, const void *b)
{
	const struct azblob_pair *x = *(const struct azblob_pair *const *)a;
	const struct azblob_pair *y = *(const struct azblob_pair *const *)b;
	return strcasecmp(x->name, y->name);
}

/* Sorts pointers to the pairs selected by keep() by lowercase name. */
static size_t sorted(const struct azblob_pair *pairs, size_t n,
		     int (*keep)(const struct azblob_pair *), const struct azblob_pair **out,
		     size_t out_max)
{
	size_t m = 0;
	for (size_t i = 0; i < n && m < out_max; i++)
		if (!keep || keep(&pairs[i]))
			out[m++] = &pairs[i];
	qsort(out, m, sizeof(*out), cmp_pair_ci);
	return m;
}

static int is_ms_header(const struct azblob_pair *h)
{
	return strncasecmp(h->name, "x-ms-", 5) == 0;
}

int azblob_string_to_sign(const char *account, const struct azblob_request *req, char *out,
			  size_t out_len)
{
	struct out_buf b = {out, out_len, 0, 0};
	const struct azblob_pair *list[64];
	size_t n;

	if (out_len == 0 || req->n_headers > 64 || req->n_query > 64)
		return -1;
	out[0] = '\0';
	puts_(&b, req->method);
	puts_(&b, "\n");
	for (size_t i = 0; i < sizeof(standard_headers) / sizeof(standard_headers[0]); i++) {
		const char *v = header_value(req, standard_headers[i]);
		/* Since 2015-02-21 a zero Content-Length is signed as empty. */
		if (v && !(strcasecmp(standard_headers[i], "Content-Length") == 0 &&
			   strcmp(v, "0") == 0))
			puts_(&b, v);
		puts_(&b, "\n");
	}
	n = sorted(req->headers, req->n_headers, is_ms_header, list, 64);
	for (size_t i = 0; i < n; i++) {
		put_lower(&b, list[i]->name);
		puts_(&b, ":");
		puts_(&b, list[i]->value);
		puts_(&b, "\n");
	}
	puts_(&b, "/");
	puts_(&b, account);
	puts_(&b, req->path);
	n = sorted(req->query, req->n_query, NULL, list, 64);
	for (size_t i = 0; i < n; i++) {
		puts_(&b, "\n");
		put_lower(&b, list[i]->name);
		puts_(&b, ":");
		puts_(&b, list[i]->value);
	}
	return b.overflow ? -1 : (int)b.used;
}

int azblob_authorization(const struct azblob_key *key, const struct azblob_request *req, char *out,
			 size_t out_len)
{
	char sts[8192];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char sig[64];
	int n = azblob_string_to_sign(key->account, req, sts, sizeof(sts));

	if (n < 0)
		return -1;
	if (!HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (const unsigned char *)sts,
		  (size_t)n, mac, &mac_len))
		return -1;
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)mac_len);
	n = snprintf(out, out_len, "SharedKey %s:%s", key->account, sig);
	return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

void azblob_http_date(char *out, size_t out_len)
{
	time_t now = time(NULL);
	struct tm tm;
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

	gmtime_r(&now, &tm);
	/* Spelled out: strftime's %a and %b follow the locale. */
	snprintf(out, out_len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
