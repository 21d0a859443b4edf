/* cli_blob: see cli_blob.h. */
#include "cli_blob.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fc_blob_url.h"
#include "fc_spec.h"

double cli_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

int cli_blob_open(struct cli_blob *b, const char *command, const char *url, const char *sas,
		  const char *key_file)
{
	struct sink_azblob_config config;
	struct fc_blob_url parsed;
	struct azblob_key key;
	struct fc_err err;
	char why[256], shown[FC_QUOTE_MAX];

	b->command = command;
	b->sink = NULL;
	if (fc_blob_url_parse(url, &parsed, why, sizeof(why)) != 0) {
		fprintf(stderr, "fleetcap %s: --blob-url: %s: %s\n", command,
			fc_quote(url, shown, sizeof(shown)), why);
		return CLI_EXIT_USAGE;
	}
	if (!sas == !key_file) {
		fprintf(stderr,
			"fleetcap %s: --blob-url needs exactly one of --blob-sas TOKEN and "
			"--blob-key-file FILE\n",
			command);
		return CLI_EXIT_USAGE;
	}
	if (sas && sas[0] == '?')
		sas++; /* often pasted with it */
	if (sas && (strlen(sas) > FC_SAS_MAX || fc_blob_sas_check(sas, why, sizeof(why)) != 0)) {
		if (strlen(sas) > FC_SAS_MAX)
			snprintf(why, sizeof(why), "longer than %d characters", FC_SAS_MAX);
		fprintf(stderr, "fleetcap %s: --blob-sas: %s\n", command, why);
		return CLI_EXIT_USAGE;
	}
	if (key_file && azblob_key_load_file(&key, parsed.account, key_file, &err) != 0) {
		fprintf(stderr, "fleetcap %s: --blob-key-file: %s\n", command, err.msg);
		return CLI_EXIT_USAGE;
	}
	config.keys = key_file ? &key : NULL;
	config.n_keys = key_file ? 1 : 0;
	config.sas = sas;
	config.upload = b->upload;
	b->sink = sink_azblob_open(&config, &err);
	if (key_file)
		azblob_key_clear(&key);
	if (!b->sink) {
		fprintf(stderr, "fleetcap %s: %s\n", command, err.msg);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

static void show_progress(void *arg, uint64_t done, uint64_t total)
{
	struct cli_blob *b = arg;
	double elapsed = cli_now_s() - b->started;
	double rate = elapsed > 0 ? (double)done / elapsed : 0;
	char d[32], t[32], eta[32] = "";

	if (rate > 0 && done < total)
		snprintf(eta, sizeof(eta), "  ETA %.0f s", (double)(total - done) / rate);
	/* \r and erase-to-end keep it one live line. */
	printf("\r%s: %s / %s  %.1f MiB/s%s\033[K", b->current, cli_human_bytes(done, d, sizeof(d)),
	       cli_human_bytes(total, t, sizeof(t)), rate / (1024 * 1024), eta);
	fflush(stdout);
}

int cli_blob_put(struct cli_blob *b, const char *path, const char *url, char *location,
		 size_t location_len, struct azblob_upload_result *res, struct fc_err *err)
{
	int rc;

	b->current = path;
	b->started = cli_now_s();
	/* The sink holds its own copy of the upload config: set the callback there. */
	if (b->progress)
		sink_azblob_set_progress(b->sink, show_progress, b);
	rc = sink_azblob_put(b->sink, path, url, location, location_len, res, err);
	if (b->progress)
		printf("\r\033[K");
	return rc;
}

void cli_blob_close(struct cli_blob *b)
{
	sink_azblob_close(b->sink);
	b->sink = NULL;
}
