/* fc_blob_url: see fc_blob_url.h. */
#include "fc_blob_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fc_parse.h"

static int is_local_host(const char *host)
{
	unsigned char buf[16];
	char v6[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, buf) == 1)
		return 1;
	if (n > 2 && n < sizeof(v6) + 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(v6, host + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, buf) == 1;
	}
	return 0;
}

/* Account names: 3-24 lowercase letters and digits. */
static int valid_account(const char *s, size_t n)
{
	if (n < 3 || n > 24)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
			return 0;
	return 1;
}

/* Container names: 3-63 of [a-z0-9-], starting with a letter or digit, no "--", no trailing '-'. */
static int valid_container(const char *s, size_t n)
{
	if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(islower(c) || isdigit(c) || c == '-'))
			return 0;
		if (c == '-' && s[i + 1] == '-')
			return 0;
	}
	return 1;
}

/* Characters that may appear unescaped in a URL path (RFC 3986 pchar and '/'). */
static int valid_path_char(unsigned char c)
{
	return isalnum(c) || strchr("-._~!$&'()*+,;=:@/%", c) != NULL;
}

int fc_blob_url_parse(const char *url, struct fc_blob_url *out, char *why, size_t why_len)
{
	const char *p, *host_end, *path;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strlen(url) > FC_BLOB_URL_MAX) {
		snprintf(why, why_len, "longer than %d characters", FC_BLOB_URL_MAX);
		return -1;
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		out->https = 1;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		snprintf(why, why_len,
			 "expected https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH");
		return -1;
	}
	if (strpbrk(url, "?#")) {
		snprintf(why, why_len,
			 "a query string or fragment is not allowed: give a SAS token separately "
			 "(--blob-sas), never inside the URL");
		return -1;
	}
	for (const char *c = p; *c; c++) {
		if (!valid_path_char((unsigned char)*c) && *c != '[' && *c != ']') {
			snprintf(why, why_len,
				 "character 0x%02x at offset %zu is not allowed in a URL; "
				 "percent-encode it",
				 (unsigned char)*c, (size_t)(c - url));
			return -1;
		}
	}

	/* host[:port] ends at the first '/' */
	path = strchr(p, '/');
	if (!path) {
		snprintf(why, why_len, "no path: expected /CONTAINER/PATH after the host");
		return -1;
	}
	host_end = path;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(path - p));
		if (!rb) {
			snprintf(why, why_len, "unterminated IPv6 address in the host");
			return -1;
		}
		host_end = rb + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(path - p));
		if (colon)
			host_end = colon;
	}
	n = (size_t)(host_end - p);
	if (n == 0 || n >= sizeof(out->host)) {
		snprintf(why, why_len, "missing or over-long host");
		return -1;
	}
	memcpy(out->host, p, n);
	out->host[n] = '\0';
	if (host_end < path) {
		char portbuf[8];
		long long port;
		n = (size_t)(path - host_end - 1);
		if (*host_end != ':' || n == 0 || n >= sizeof(portbuf)) {
			snprintf(why, why_len, "bad port: expected 1-65535 after ':'");
			return -1;
		}
		memcpy(portbuf, host_end + 1, n);
		portbuf[n] = '\0';
		if (fc_parse_ll(portbuf, 1, 65535, &port) != FC_PARSE_OK) {
			snprintf(why, why_len, "bad port: expected 1-65535 after ':'");
			return -1;
		}
		out->port = (unsigned)port;
	}

	out->path_style = is_local_host(out->host);
	if (!out->https && !out->path_style) {
		snprintf(why, why_len,
			 "plain http is allowed only for a local emulator (an IP address or "
			 "localhost); use https");
		return -1;
	}

	path++; /* past the '/' */
	if (out->path_style) {
		const char *slash = strchr(path, '/');
		n = slash ? (size_t)(slash - path) : strlen(path);
		if (!valid_account(path, n)) {
			snprintf(why, why_len,
				 "bad account in the first path segment: expected 3-24 lowercase "
				 "letters and digits");
			return -1;
		}
		memcpy(out->account, path, n);
		path = slash ? slash + 1 : path + n;
	} else {
		const char *dot = strchr(out->host, '.');
		if (!dot || strncasecmp(dot, ".blob.", 6) != 0 ||
		    !valid_account(out->host, (size_t)(dot - out->host))) {
			snprintf(why, why_len,
				 "bad host: expected ACCOUNT.blob.core.windows.net with an account "
				 "of 3-24 lowercase letters and digits");
			return -1;
		}
		memcpy(out->account, out->host, (size_t)(dot - out->host));
	}

	const char *slash = strchr(path, '/');
	n = slash ? (size_t)(slash - path) : strlen(path);
	if (!valid_container(path, n)) {
		snprintf(why, why_len,
			 "bad container: expected 3-63 lowercase letters, digits and single "
			 "hyphens");
		return -1;
	}
	memcpy(out->container, path, n);
	if (!slash || slash[1] == '\0') {
		snprintf(why, why_len,
			 "no blob name after the container: expected /CONTAINER/PATH");
		return -1;
	}
	const char *blob = slash + 1;
	n = strlen(blob);
	if (n > FC_BLOB_NAME_MAX) {
		snprintf(why, why_len, "blob name longer than %d characters", FC_BLOB_NAME_MAX);
		return -1;
	}
	if (blob[n - 1] == '/' || strstr(blob, "//")) {
		snprintf(why, why_len, "blob name has an empty path segment");
		return -1;
	}
	memcpy(out->blob, blob, n + 1);

	if (out->port)
		snprintf(out->endpoint, sizeof(out->endpoint), "%s://%s:%u%s%s",
			 out->https ? "https" : "http", out->host, out->port,
			 out->path_style ? "/" : "", out->path_style ? out->account : "");
	else
		snprintf(out->endpoint, sizeof(out->endpoint), "%s://%s%s%s",
			 out->https ? "https" : "http", out->host, out->path_style ? "/" : "",
			 out->path_style ? out->account : "");
	return 0;
}

int fc_blob_sas_check(const char *sas, char *why, size_t why_len)
{
	if (strncmp(sas, "sig=", 4) == 0 || strstr(sas, "&sig=")) {
		if (!strpbrk(sas, " \t\r\n?#"))
			return 0;
	}
	snprintf(why, why_len,
		 "(value hidden) is not a SAS token: expected a query string with sig=, without "
		 "'?', '#' or spaces");
	return -1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

int fc_blob_url_allowed(const struct fc_blob_url *u, const char *endpoints, char *why,
			size_t why_len)
{
	static const char *const clouds[] = {".blob.core.windows.net",
					     ".blob.core.usgovcloudapi.net",
					     ".blob.core.chinacloudapi.cn"};
	char origin[300];

	if (u->https)
		for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++)
			if (ends_with(u->host, clouds[i]))
				return 0;
	if (u->port)
		snprintf(origin, sizeof(origin), "%s://%s:%u", u->https ? "https" : "http", u->host,
			 u->port);
	else
		snprintf(origin, sizeof(origin), "%s://%s", u->https ? "https" : "http", u->host);
	for (const char *p = endpoints ? endpoints : ""; *p;) {
		size_t n = strcspn(p, ",");
		const char *item = p;
		while (n && (*item == ' ' || *item == '\t'))
			item++, n--;
		while (n && (item[n - 1] == ' ' || item[n - 1] == '\t' || item[n - 1] == '/'))
			n--;
		if (n == strlen(origin) && strncasecmp(item, origin, n) == 0)
			return 0;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	snprintf(why, why_len,
		 "%s is not an allowed upload endpoint: expected https to *.blob.core.windows.net "
		 "(or the US Government or China clouds), or an endpoint listed in the daemons' "
		 "blob.endpoints",
		 origin);
	return -1;
}
