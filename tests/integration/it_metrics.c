/* it_metrics: /metrics for the tests; see it_metrics.h. */
#include "it_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

int it_log_url(const char *log_path, const char *text, char *url, size_t len)
{
	FILE *log = fopen(log_path, "r");
	char line[1024];
	int found = -1;

	while (log && fgets(line, sizeof(line), log)) {
		const char *at = strstr(line, text);
		if (!at || !(at = strstr(at, "http")) ||
		    (strncmp(at, "http://", 7) != 0 && strncmp(at, "https://", 8) != 0))
			continue;
		size_t n = strcspn(at, " \n");
		if (n < len) {
			memcpy(url, at, n);
			url[n] = '\0';
			found = 0;
		}
	}
	if (log)
		fclose(log);
	return found;
}

struct buf {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *opaque)
{
	struct buf *b = opaque;
	char *grown = realloc(b->data, b->len + size * n + 1);

	if (!grown)
		return 0;
	memcpy(grown + b->len, p, size * n);
	b->data = grown;
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

char *it_http_get(const char *url)
{
	CURL *c = curl_easy_init();
	struct buf b = {0};
	long status = 0;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
		free(b.data);
		b.data = NULL;
	}
	curl_easy_cleanup(c);
	return b.data;
}

double it_metric(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while (p && (p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

double it_metric_at(const char *url, const char *series)
{
	char *text = it_http_get(url);
	double v = text ? it_metric(text, series) : -1;

	free(text);
	return v;
}
