/* api_auth: bearer tokens; see api_auth.h. */
#include "api_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "fc_log.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 512
#define SUBS_MAX  1024

struct token {
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char subscriptions[SUBS_MAX]; /* ",a,b," or "*" */
};

struct api_auth {
	struct token *tokens;
	unsigned count;
};

struct api_auth *api_auth_load(const char *path, struct fc_err *err)
{
	struct api_auth *a = calloc(1, sizeof(*a));
	FILE *f = fopen(path, "r");
	char line[TOKEN_MAX + SUBS_MAX + 16];
	unsigned lineno = 0, cap = 0;

	if (!a || !f) {
		fc_err_set(err, FC_ERR_INVALID, "auth.tokens: cannot read %s", path);
		goto fail;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
		FC_WARN("api",
			"auth.tokens: %s is mode %04o: others can read the tokens (chmod 600)",
			path, (unsigned)(st.st_mode & 07777));
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *token, *subs;
		lineno++;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		token = strtok_r(p, " \t\r\n", &save);
		subs = strtok_r(NULL, " \t\r\n", &save);
		if (!token || !subs || strtok_r(NULL, " \t\r\n", &save)) {
			fc_err_set(err, FC_ERR_INVALID,
				   "auth.tokens: %s:%u: expected TOKEN SUBSCRIPTIONS", path,
				   lineno);
			goto fail;
		}
		if (strlen(token) < TOKEN_MIN || strlen(token) > TOKEN_MAX) {
			/* The token itself is never echoed. */
			fc_err_set(err, FC_ERR_INVALID,
				   "auth.tokens: %s:%u: a token of %zu characters: expected %d to "
				   "%d",
				   path, lineno, strlen(token), TOKEN_MIN, TOKEN_MAX);
			goto fail;
		}
		if (a->count == cap) {
			cap = cap ? cap * 2 : 8;
			struct token *grown = realloc(a->tokens, cap * sizeof(*grown));
			if (!grown) {
				fc_err_set(err, FC_ERR_FATAL, "out of memory");
				goto fail;
			}
			a->tokens = grown;
		}
		struct token *t = &a->tokens[a->count++];
		SHA256((const unsigned char *)token, strlen(token), t->digest);
		OPENSSL_cleanse(token, strlen(token));
		if (strcmp(subs, "*") == 0)
			snprintf(t->subscriptions, sizeof(t->subscriptions), "*");
		else
			snprintf(t->subscriptions, sizeof(t->subscriptions), ",%s,", subs);
	}
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	return a;
fail:
	if (f)
		fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	api_auth_free(a);
	return NULL;
}

void api_auth_free(struct api_auth *a)
{
	if (!a)
		return;
	free(a->tokens);
	free(a);
}

unsigned api_auth_count(const struct api_auth *a)
{
	return a->count;
}

static int allows(const struct token *t, const char *subscription)
{
	char needle[80];

	if (strcmp(t->subscriptions, "*") == 0)
		return 1;
	snprintf(needle, sizeof(needle), ",%.64s,", subscription);
	return strstr(t->subscriptions, needle) != NULL;
}

void api_auth_token_id(const struct api_auth *a, int token, char out[20])
{
	if (token < 0 || (unsigned)token >= a->count) {
		snprintf(out, 20, "-");
		return;
	}
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 6; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", a->tokens[token].digest[i]);
}

enum api_auth_result api_auth_check(const struct api_auth *a, const char *authorization,
				    const char *subscription, int *token_index)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const struct token *match = NULL;

	if (token_index)
		*token_index = -1;
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return API_AUTH_MISSING;
	const char *token = authorization + 7;
	while (*token == ' ')
		token++;
	if (!*token)
		return API_AUTH_MISSING;
	SHA256((const unsigned char *)token, strlen(token), digest);
	/* Every entry is compared, whatever matched before: constant time. */
	for (unsigned i = 0; i < a->count; i++)
		if (CRYPTO_memcmp(digest, a->tokens[i].digest, sizeof(digest)) == 0)
			match = &a->tokens[i];
	if (!match)
		return API_AUTH_UNKNOWN;
	if (token_index)
		*token_index = (int)(match - a->tokens);
	return allows(match, subscription) ? API_AUTH_OK : API_AUTH_FORBIDDEN;
}
