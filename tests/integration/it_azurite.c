/* it_azurite: see it_azurite.h. */
#include "it_azurite.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SAS_VERSION "2021-08-06"
#define SAS_EXPIRY  "2099-01-01T00:00:00Z"

void it_azurite_sas(const char *container, const char *perms, char *out, size_t len)
{
	unsigned char key[128], mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char sts[512], sig[64], esc[128];
	int key_len = EVP_DecodeBlock(key, (const unsigned char *)IT_AZURITE_KEY,
				      (int)strlen(IT_AZURITE_KEY)) -
		      2; /* two '=' of padding */
	size_t e = 0;

	/* Service SAS, version 2020-12-06 and later: 16 fields, sr=c. */
	snprintf(sts, sizeof(sts), "%s\n\n%s\n/blob/%s/%s\n\n\n\n%s\nc\n\n\n\n\n\n\n", perms,
		 SAS_EXPIRY, IT_AZURITE_ACCOUNT, container, SAS_VERSION);
	HMAC(EVP_sha256(), key, key_len, (const unsigned char *)sts, strlen(sts), mac, &mac_len);
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)mac_len);
	for (const char *c = sig; *c; c++) {
		if (*c == '+' || *c == '/' || *c == '=')
			e += (size_t)sprintf(esc + e, "%%%02X", (unsigned char)*c);
		else
			esc[e++] = *c;
	}
	esc[e] = '\0';
	snprintf(out, len, "sv=%s&sr=c&sp=%s&se=2099-01-01T00%%3A00%%3A00Z&sig=%s", SAS_VERSION,
		 perms, esc);
}

struct digest {
	EVP_MD_CTX *ctx;
	uint64_t size;
};

static size_t hash_body(char *data, size_t size, size_t n, void *arg)
{
	struct digest *d = arg;
	EVP_DigestUpdate(d->ctx, data, size * n);
	d->size += size * n;
	return size * n;
}

static void to_hex(const unsigned char *md, char hex[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

long it_azurite_blob_sha256(const char *endpoint, const char *container, const char *blob,
			    char hex[65], uint64_t *size)
{
	char sas[256], url[1024];
	unsigned char md[32];
	struct digest d = {EVP_MD_CTX_new(), 0};
	long status = 0;
	CURL *curl = curl_easy_init();

	it_azurite_sas(container, "r", sas, sizeof(sas));
	snprintf(url, sizeof(url), "%s/%s/%s?%s", endpoint, container, blob, sas);
	EVP_DigestInit_ex(d.ctx, EVP_sha256(), NULL);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, hash_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	EVP_DigestFinal_ex(d.ctx, md, NULL);
	to_hex(md, hex);
	*size = d.size;
	EVP_MD_CTX_free(d.ctx);
	curl_easy_cleanup(curl);
	return status;
}

int it_file_sha256(const char *path, char hex[65])
{
	unsigned char buf[1 << 16], md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	fclose(f);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	to_hex(md, hex);
	return 0;
}

int it_make_file(const char *path, uint64_t size, uint32_t seed)
{
	static uint32_t buf[1 << 18]; /* 1 MiB */
	FILE *f = fopen(path, "wb");
	uint32_t x = seed | 1;

	if (!f)
		return -1;
	while (size) {
		size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		for (size_t i = 0; i < (n + 3) / 4; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = x;
		}
		if (fwrite(buf, 1, n, f) != n) {
			fclose(f);
			return -1;
		}
		size -= n;
	}
	return fclose(f);
}

unsigned it_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int answers(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

int it_azurite_start(struct it_azurite *a, const char *dir, unsigned port)
{
	const char *bin = getenv("FLEETCAP_AZURITE_BIN");
	char port_s[16], log[300];

	if (!bin || !*bin) {
		fprintf(stderr, "FLEETCAP_AZURITE_BIN is not set: run eval \"$(scripts/services.sh "
				"start)\" first\n");
		return -1;
	}
	a->port = port ? port : it_free_port();
	snprintf(a->dir, sizeof(a->dir), "%s", dir);
	snprintf(a->endpoint, sizeof(a->endpoint), "http://127.0.0.1:%u/%s", a->port,
		 IT_AZURITE_ACCOUNT);
	snprintf(port_s, sizeof(port_s), "%u", a->port);
	snprintf(log, sizeof(log), "%s.log", dir);
	a->pid = fork();
	if (a->pid < 0)
		return -1;
	if (a->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(bin, bin, "--location", dir, "--blobHost", "127.0.0.1", "--blobPort", port_s,
		      "--disableTelemetry", (char *)NULL);
		_exit(127);
	}
	/* A guard against a hang, not a performance bound. */
	for (int i = 0; i < 600; i++) {
		if (answers(a->port))
			return 0;
		if (waitpid(a->pid, NULL, WNOHANG) == a->pid)
			return -1;
		usleep(100 * 1000);
	}
	return -1;
}

void it_azurite_kill(struct it_azurite *a, int sig)
{
	if (a->pid > 0) {
		kill(a->pid, sig);
		waitpid(a->pid, NULL, 0);
		a->pid = 0;
	}
}
