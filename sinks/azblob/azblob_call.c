/* azblob_call: see azblob_call.h. */
#include "azblob_call.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azblob_retry.h"

static size_t read_body(char *buf, size_t size, size_t n, void *arg)
{
	struct azblob_call *c = arg;
	size_t left = c->out_len - c->out_pos, take = size * n < left ? size * n : left;
	memcpy(buf, c->out + c->out_pos, take);
	c->out_pos += take;
	return take;
}

/* Rewinds the body when curl has to send it again (a redirect, a reconnect). */
static int seek_body(void *arg, curl_off_t offset, int origin)
{
	struct azblob_call *c = arg;
	if (origin != SEEK_SET || offset < 0 || (size_t)offset > c->out_len)
		return CURL_SEEKFUNC_CANTSEEK;
	c->out_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t write_body(char *data, size_t size, size_t n, void *arg)
{
	struct azblob_answer *a = arg;
	size_t len = size * n, keep = len;

	if (a->body_len + keep > a->body_max)
		keep = a->body_max - a->body_len; /* keep what fits, drop the rest */
	if (keep) {
		char *grown = realloc(a->body, a->body_len + keep + 1);
		if (!grown)
			return 0;
		a->body = grown;
		memcpy(a->body + a->body_len, data, keep);
		a->body_len += keep;
		a->body[a->body_len] = '\0';
	}
	return len;
}

/* Copies a header's value (trimmed) into out when line is "name: value". */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t out_len)
{
	size_t n = strlen(name), v;
	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return 0;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	v = len < out_len - 1 ? len : out_len - 1;
	memcpy(out, line, v);
	out[v] = '\0';
	return 1;
}

static size_t read_header(char *line, size_t size, size_t n, void *arg)
{
	struct azblob_answer *a = arg;
	size_t len = size * n;
	char value[128];

	/* A new status line (after a 100 Continue, or a redirect) starts over. */
	if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
		a->error_code[0] = '\0';
		a->meta_sha256[0] = '\0';
		a->retry_after_s = -1;
	}
	header_value(line, len, "x-ms-error-code", a->error_code, sizeof(a->error_code));
	header_value(line, len, "x-ms-meta-sha256", a->meta_sha256, sizeof(a->meta_sha256));
	if (header_value(line, len, "Retry-After", value, sizeof(value)))
		a->retry_after_s = azblob_retry_after_parse(value, time(NULL));
	return len;
}

/* Appends s to the URL, percent-encoding all but RFC 3986 unreserved characters. */
static void encode(char *out, size_t *used, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-._~", ch)) {
			out[(*used)++] = (char)ch;
		} else {
			out[(*used)++] = '%';
			out[(*used)++] = hex[ch >> 4];
			out[(*used)++] = hex[ch & 15];
		}
	}
	out[*used] = '\0';
}

int azblob_call_setup(struct azblob_call *c, CURL *easy, const char *what,
		      const struct fc_blob_url *url, const struct azblob_cred *cred,
		      const char *method, enum azblob_scope scope, const struct azblob_pair *query,
		      size_t n_query, const struct azblob_pair *headers, size_t n_headers,
		      const void *body, size_t body_len, size_t body_max, struct fc_err *err)
{
	struct azblob_pair all[16];
	char date[64], length[32], path[FC_BLOB_URL_MAX], line[FC_BLOB_URL_MAX];
	size_t n = 0, cap, used;

	memset(c, 0, sizeof(*c));
	c->easy = easy;
	c->what = what;
	c->out = body;
	c->out_len = body ? body_len : 0;
	c->answer.retry_after_s = -1;
	c->answer.content_length = -1;
	c->answer.body_max = body_max;
	if (n_headers + 4 > sizeof(all) / sizeof(all[0])) {
		fc_err_set(err, FC_ERR_FATAL, "%s: too many headers", what);
		return -1;
	}

	/* The URI path as sent; emulator URLs carry the account first. */
	snprintf(path, sizeof(path), "%s%s/%s%s%s", url->path_style ? "/" : "",
		 url->path_style ? url->account : "", url->container,
		 scope == AZBLOB_BLOB ? "/" : "", scope == AZBLOB_BLOB ? url->blob : "");

	/* Room for the endpoint, the path, each parameter encoded (3x) and the SAS. */
	cap = strlen(url->endpoint) + strlen(path) + 2 + (cred->sas ? strlen(cred->sas) + 1 : 0);
	for (size_t i = 0; i < n_query; i++)
		cap += 3 * (strlen(query[i].name) + strlen(query[i].value)) + 2;
	c->url = malloc(cap + 1);
	if (!c->url) {
		fc_err_set(err, FC_ERR_FATAL, "%s: out of memory", what);
		return -1;
	}
	/* endpoint already ends with "/ACCOUNT" for emulator URLs: add the rest. */
	used = (size_t)sprintf(c->url, "%s%s", url->endpoint,
			       path + (url->path_style ? 1 + strlen(url->account) : 0));
	for (size_t i = 0; i < n_query; i++) {
		c->url[used++] = i ? '&' : '?';
		encode(c->url, &used, query[i].name);
		c->url[used++] = '=';
		encode(c->url, &used, query[i].value);
	}
	if (cred->sas)
		used += (size_t)sprintf(c->url + used, "%c%s", n_query ? '&' : '?', cred->sas);

	azblob_http_date(date, sizeof(date));
	all[n++] = (struct azblob_pair){"x-ms-date", date};
	all[n++] = (struct azblob_pair){"x-ms-version", AZBLOB_API_VERSION};
	if (strcmp(method, "PUT") == 0) {
		snprintf(length, sizeof(length), "%zu", c->out_len);
		all[n++] = (struct azblob_pair){"Content-Length", length};
	}
	for (size_t i = 0; i < n_headers; i++)
		all[n++] = headers[i];

	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s: %s", all[i].name, all[i].value);
		c->headers = curl_slist_append(c->headers, line);
	}
	if (cred->key) {
		struct azblob_request req = {method, path, query, n_query, all, n};
		char auth[256];
		if (azblob_authorization(cred->key, &req, auth, sizeof(auth)) != 0) {
			fc_err_set(err, FC_ERR_FATAL, "%s: cannot sign the request", what);
			azblob_call_release(c);
			return -1;
		}
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		c->headers = curl_slist_append(c->headers, line);
	}
	/* No "Expect: 100-continue" round trip before each block. */
	c->headers = curl_slist_append(c->headers, "Expect:");

	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, c->url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, c->curl_error);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A connection that moves less than 1 byte/s for 30 s is dead. */
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, read_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &c->answer);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &c->answer);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, c);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(easy, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(easy, CURLOPT_READDATA, c);
		curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, seek_body);
		curl_easy_setopt(easy, CURLOPT_SEEKDATA, c);
		curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->out_len);
		/* Larger writes than the 64 KiB default: fewer syscalls per block. */
		curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	}
	return 0;
}

void azblob_call_finish(struct azblob_call *c, CURLcode rc)
{
	curl_off_t len = -1;
	c->answer.status = 0;
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->answer.status);
	if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) == CURLE_OK)
		c->answer.content_length = len;
}

void azblob_call_release(struct azblob_call *c)
{
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	free(c->url);
	c->url = NULL;
	free(c->answer.body);
	c->answer.body = NULL;
	c->answer.body_len = 0;
}

void azblob_call_describe(const struct azblob_call *c, const struct fc_blob_url *url, CURLcode rc,
			  char *out, size_t out_len)
{
	char detail[CURL_ERROR_SIZE + 64];

	if (c->answer.status)
		snprintf(detail, sizeof(detail), "HTTP %ld%s%s", c->answer.status,
			 c->answer.error_code[0] ? " " : "", c->answer.error_code);
	else
		snprintf(detail, sizeof(detail), "connection failed: %s",
			 c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc));
	snprintf(out, out_len, "%s of %s/%s/%s: %s", c->what, url->endpoint, url->container,
		 url->blob, detail);
	azblob_redact(out);
}

void azblob_redact(char *s)
{
	static const char mask[] = "REDACTED";
	char *p = s;

	while ((p = strstr(p, "sig=")) != NULL) {
		char *v = p + 4, *end = v + strcspn(v, "& \t\r\n\"'");
		size_t rest = strlen(end);
		if ((size_t)(end - v) >= sizeof(mask) - 1) {
			memcpy(v, mask, sizeof(mask) - 1);
			memmove(v + sizeof(mask) - 1, end, rest + 1);
		} else {
			memset(v, '*', (size_t)(end - v));
		}
		p = v;
	}
}
