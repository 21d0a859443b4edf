/* sink_azblob: see sink_azblob.h. */
#include "sink_azblob.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fc_blob_url.h"
#include "fc_log.h"

struct sink_azblob {
	struct azblob_key *keys;
	size_t n_keys;
	char *sas;
	struct azblob_upload_config upload;
};

struct sink_azblob *sink_azblob_open(const struct sink_azblob_config *config, struct fc_err *err)
{
	struct sink_azblob *s = calloc(1, sizeof(*s));

	if (!s)
		goto nomem;
	s->upload = config->upload;
	if (config->n_keys) {
		s->keys = calloc(config->n_keys, sizeof(*s->keys));
		if (!s->keys)
			goto nomem;
		memcpy(s->keys, config->keys, config->n_keys * sizeof(*s->keys));
		s->n_keys = config->n_keys;
	}
	if (config->sas && !(s->sas = strdup(config->sas)))
		goto nomem;
	return s;
nomem:
	sink_azblob_close(s);
	fc_err_set(err, FC_ERR_FATAL, "azblob sink: out of memory");
	return NULL;
}

void sink_azblob_close(struct sink_azblob *s)
{
	if (!s)
		return;
	if (s->keys)
		OPENSSL_cleanse(s->keys, s->n_keys * sizeof(*s->keys));
	free(s->keys);
	if (s->sas)
		OPENSSL_cleanse(s->sas, strlen(s->sas));
	free(s->sas);
	free(s);
}

int sink_azblob_put(struct sink_azblob *s, const char *local_path, const char *url, char *location,
		    size_t location_len, struct azblob_upload_result *res, struct fc_err *err)
{
	struct fc_blob_url parsed;
	struct azblob_cred cred = {NULL, s->sas};
	char why[256];

	if (fc_blob_url_parse(url, &parsed, why, sizeof(why)) != 0) {
		fc_err_set(err, FC_ERR_INVALID, "blob URL: %s", why);
		return -1;
	}
	for (size_t i = 0; !cred.sas && i < s->n_keys; i++)
		if (strcmp(s->keys[i].account, parsed.account) == 0)
			cred.key = &s->keys[i];
	if (!cred.sas && !cred.key) {
		fc_err_set(err, FC_ERR_INVALID,
			   "no credential for storage account %s: give a SAS token, or an account "
			   "key (blob.key.%s)",
			   parsed.account, parsed.account);
		return -1;
	}
	FC_DEBUG("azblob", "uploading %s to %s", local_path, url);
	if (azblob_upload_file(local_path, &parsed, &cred, &s->upload, res, err) != 0)
		return -1;
	snprintf(location, location_len, "%s", url);
	return 0;
}

void sink_azblob_set_progress(struct sink_azblob *s,
			      void (*on_progress)(void *arg, uint64_t done, uint64_t total),
			      void *arg)
{
	s->upload.on_progress = on_progress;
	s->upload.progress_arg = arg;
}

int sink_azblob_ring_url(const char *url, const char *local_path, char *out, size_t out_len)
{
	const char *base = strrchr(local_path, '/'), *under, *dot;
	const char *slash = strrchr(url, '/'), *url_dot;
	size_t digits = 0, n;

	base = base ? base + 1 : local_path;
	under = strrchr(base, '_');
	dot = strrchr(base, '.');
	if (under && (!dot || dot > under))
		for (const char *c = under + 1;
		     c < (dot ? dot : under + strlen(under)) && isdigit((unsigned char)*c); c++)
			digits++;
	if (!under || digits == 0 || under + 1 + digits != (dot ? dot : under + strlen(under))) {
		n = (size_t)snprintf(out, out_len, "%s", url);
		return n < out_len ? 0 : -1;
	}
	/* Insert "_NNNNN" before the blob name's extension, if it has one. */
	url_dot = strrchr(slash ? slash : url, '.');
	if (!url_dot)
		url_dot = url + strlen(url);
	n = (size_t)snprintf(out, out_len, "%.*s%.*s%s", (int)(url_dot - url), url,
			     (int)(digits + 1), under, url_dot);
	return n < out_len ? 0 : -1;
}
