/*
 * fleetcap capture: a one-shot capture on this machine (docs/ARCHITECTURE.md §8),
 * with the same spec, validator and capture engine as a fleet job.
 *
 * Exit codes: 0 when a limit or SIGINT/SIGTERM ends the capture, 1 on a
 * runtime failure, 2 at once on invalid arguments.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_blob.h"
#include "cli_spec_opts.h"
#include "fc_log.h"
#include "fc_names.h"
#include "fc_parse.h"
#include "fc_spec.h"
#include "wk_session.h"

static void capture_usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcap capture -i IFACE [-i IFACE]... [--filter SPEC]... [--filters-json "
		"JSON]\n"
		"                        [--bytes-per-packet N] [--bytes-per-session N] "
		"[--time-limit S]\n"
		"                        [--file-count N --file-size N --session-time-limit S]\n"
		"                        -o PATH [--blob-url URL (--blob-sas TOKEN | "
		"--blob-key-file FILE)]\n"
		"                        [--json] [--quiet] [--buffer-mib N]\n"
		"\n"
		"Captures packets on this machine into a pcap file, like a fleet capture job.\n"
		"\n"
		"  -i, --interface IFACE      interface to capture on; repeat for several, or "
		"\"any\"\n"
		"      --filter SPEC          a 5-tuple filter; repeat to OR several. SPEC is "
		"key=value\n"
		"                             pairs joined by ',': protocol (tcp, udp, any), "
		"local-ip,\n"
		"                             remote-ip, local-port, remote-port. Values are one "
		"item,\n"
		"                             a range a-b, or a list a;b;c of items, ranges and "
		"(for\n"
		"                             addresses) CIDR blocks, IPv4 or IPv6. Local is this\n"
		"                             host's side; without local-ip it is the addresses of "
		"the\n"
		"                             captured interfaces. A filter with a port matches "
		"only\n"
		"                             TCP and UDP. Example:\n"
		"                             "
		"'protocol=tcp,remote-ip=198.18.0.2,remote-port=80;443'\n"
		"      --filters-json JSON    filters as the cloud API's JSON list:\n"
		"                             "
		"'[{\"protocol\":\"TCP\",\"remoteIPAddress\":\"198.18.0.2\"}]'\n"
		"      --bytes-per-packet N   snap length, 0-4294967295; 0 = whole packet "
		"(default);\n"
		"                             values above 262144 capture whole packets\n"
		"      --bytes-per-session N  stop before the file would pass N bytes (file "
		"header,\n"
		"                             record headers and packet bytes); 0 = 1073741824\n"
		"      --time-limit S         stop after S seconds, 0-18000; 0 = 18000 (default)\n"
		"      --file-count N         ring buffer: keep the newest N files, 1-10000 (10)\n"
		"      --file-size N          ring buffer: bytes per file, 1-4294967295 "
		"(104857600)\n"
		"      --session-time-limit S ring buffer: stop after S seconds, 1-604800 (86400)\n"
		"                             Any of the three turns on the ring buffer: files "
		"are\n"
		"                             named PATH-stem_00001.pcap, ...; --time-limit and\n"
		"                             --bytes-per-session do not apply to a ring.\n"
		"  -o, --output PATH          the pcap file to write, ending in .pcap or .cap; it "
		"is\n"
		"                             written as PATH.part and renamed when complete, and "
		"an\n"
		"                             existing file is never overwritten\n"
		"      --blob-url URL         also upload each finished file to this blob "
		"(see\n"
		"                             fleetcap upload --help); a ring's files go to the\n"
		"                             blob name with the same _NNNNN number\n"
		"      --blob-sas TOKEN       SAS token for the upload (sp=cw at least)\n"
		"      --blob-key-file FILE   the storage account's base64 key, for SharedKey\n"
		"      --json                 print one JSON object at the end\n"
		"  -q, --quiet                no progress line (it is shown only on a terminal)\n"
		"      --buffer-mib N         kernel capture ring per interface in MiB, 1-4096 "
		"(32)\n"
		"  -h, --help                 this help\n"
		"\n"
		"The capture ends on a limit (exit 0), on SIGINT or SIGTERM (exit 0, "
		"StoppedByUser),\n"
		"on a runtime failure (exit 1), or at once on invalid arguments (exit 2).\n");
}

static volatile sig_atomic_t stop_fd = -1;

static void on_signal(int sig)
{
	static const unsigned long long one = 1;
	ssize_t n;

	(void)sig;
	if (stop_fd >= 0)
		n = write(stop_fd, &one, sizeof(one)); /* async-signal-safe */
	(void)n;
}

static void show_progress(void *opaque, const struct wk_counters *c, double elapsed)
{
	char bytes[32];

	(void)opaque;
	/* \r and the erase-to-end keep it one live line on the terminal. */
	printf("\r%8.1f s  %12llu packets  %12s  %llu drops\033[K", elapsed,
	       (unsigned long long)c->packets, cli_human_bytes(c->bytes, bytes, sizeof(bytes)),
	       (unsigned long long)(c->kernel_drops + c->interface_drops));
	fflush(stdout);
}

static void format_time(int64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	char whole[32];

	gmtime_r(&sec, &tm);
	strftime(whole, sizeof(whole), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.20s.%03dZ", whole, (int)(ns / 1000000 % 1000));
}

static void print_json(const struct wk_session *s, const struct wk_result *r, const char *error,
		       char (*blob_urls)[FC_BLOB_URL_MAX + 1])
{
	json_t *files = json_array();
	char start[40];

	for (size_t i = 0; i < wk_session_file_count(s); i++) {
		const struct wk_file *f = wk_session_file(s, i);
		const char *blob = blob_urls && blob_urls[i][0] ? blob_urls[i] : NULL;
		json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:s?}", "path", f->path,
						       "size", (json_int_t)f->size, "sha256",
						       f->sha256, "blobUrl", blob));
	}
	format_time(r->start_time_ns, start, sizeof(start));
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:o}", "status",
		r->error || error ? "Error" : "Stopped", "stopReason",
		fc_stop_reason_name(r->stop_reason), "error",
		error && !r->error ? "StorageFailed" : fc_error_code_name(r->error), "errorMessage",
		error ? error : "", "captureStartTime", start, "elapsedSeconds", r->elapsed_s,
		"packets", (json_int_t)r->counters.packets, "bytes", (json_int_t)r->counters.bytes,
		"drops", (json_int_t)(r->counters.kernel_drops + r->counters.interface_drops),
		"kernelDrops", (json_int_t)r->counters.kernel_drops, "interfaceDrops",
		(json_int_t)r->counters.interface_drops, "files", files);
	cli_json_print(o);
}

static void print_summary(const struct wk_session *s, const struct wk_result *r,
			  char (*blob_urls)[FC_BLOB_URL_MAX + 1])
{
	char bytes[32];

	printf("%s: %s after %.1f s: %llu packets, %s, %llu kernel drops, %llu interface drops\n",
	       r->error ? "Error" : "Stopped",
	       r->error ? fc_error_code_name(r->error) : fc_stop_reason_name(r->stop_reason),
	       r->elapsed_s, (unsigned long long)r->counters.packets,
	       cli_human_bytes(r->counters.bytes, bytes, sizeof(bytes)),
	       (unsigned long long)r->counters.kernel_drops,
	       (unsigned long long)r->counters.interface_drops);
	for (size_t i = 0; i < wk_session_file_count(s); i++) {
		const struct wk_file *f = wk_session_file(s, i);
		printf("  %s  %llu bytes  sha256 %s\n", f->path, (unsigned long long)f->size,
		       f->sha256);
		if (blob_urls && blob_urls[i][0])
			printf("    uploaded to %s\n", blob_urls[i]);
	}
}

/*
 * Uploads every finished file; (*urls)[i] is file i's blob URL, or "" when
 * it was not uploaded. Stops at the first failure (err).
 */
static int upload_files(struct cli_blob *blob, const fc_spec_t *spec,
			const struct wk_session *session, char (**urls)[FC_BLOB_URL_MAX + 1],
			struct fc_err *err)
{
	size_t n = wk_session_file_count(session);
	char location[FC_BLOB_URL_MAX + 1];
	struct azblob_upload_result res;

	*urls = calloc(n ? n : 1, sizeof(**urls));
	if (!*urls) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct wk_file *f = wk_session_file(session, i);
		char url[FC_BLOB_URL_MAX + 1];
		/* A single file goes to the URL as given: the ring rule would too. */
		if (sink_azblob_ring_url(spec->blob_url, spec->ring ? f->path : "", url,
					 sizeof(url)) != 0) {
			fc_err_set(err, FC_ERR_INVALID, "blob URL for %s is too long", f->path);
			return -1;
		}
		if (cli_blob_put(blob, f->path, url, location, sizeof(location), &res, err) != 0)
			return -1;
		if (strcmp(res.sha256, f->sha256) != 0) {
			fc_err_set(err, FC_ERR_FATAL, "%s changed between capture and upload",
				   f->path);
			return -1;
		}
		snprintf((*urls)[i], sizeof((*urls)[i]), "%s", location);
	}
	return 0;
}

enum {
	OPT_JSON = CLI_OPT_FIRST_FREE,
	OPT_BUFFER_MIB,
	OPT_BLOB_KEY_FILE,
};

int cli_capture(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_SPEC_OPTIONS,
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, 'q'},
		{"buffer-mib", required_argument, NULL, OPT_BUFFER_MIB},
		{"blob-key-file", required_argument, NULL, OPT_BLOB_KEY_FILE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct fc_field_errors errs;
	struct wk_session_config config;
	struct wk_session *session = NULL;
	struct wk_result result;
	struct fc_err err;
	fc_spec_t *spec = fc_spec_new();
	struct cli_blob blob = {0};
	const char *key_file = NULL;
	char(*blob_urls)[FC_BLOB_URL_MAX + 1] = NULL;
	int json = 0, quiet = 0, usage_error = 0, c, rc = CLI_EXIT_FAILURE;
	long long buffer_mib = WK_BUFFER_DEFAULT >> 20;

	if (!spec) {
		fprintf(stderr, "fleetcap capture: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	fc_field_errors_init(&errs);
	fc_err_clear(&err);
	while ((c = getopt_long(argc, argv, "i:o:qh", options, NULL)) != -1) {
		if (cli_spec_option(spec, c, optarg, &errs))
			continue;
		switch (c) {
		case 'o':
			fc_spec_set(spec, "file-path", optarg, &errs);
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_BLOB_KEY_FILE:
			key_file = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_BUFFER_MIB:
			if (fc_parse_ll(optarg, 1, 4096, &buffer_mib) != FC_PARSE_OK)
				fc_field_errors_add(&errs, "buffer-mib",
						    "\"%.32s\" is not valid: expected an integer "
						    "from 1 to 4096",
						    optarg);
			break;
		case 'h':
			capture_usage(stdout);
			fc_spec_free(spec);
			return CLI_EXIT_OK;
		default:
			usage_error = 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleetcap capture: unexpected argument \"%.64s\"\n", argv[optind]);
		usage_error = 1;
	}
	if (!usage_error)
		fc_spec_validate(spec, FC_SPEC_LOCAL, &errs);
	if (errs.count || errs.dropped || usage_error) {
		cli_print_field_errors("capture", &errs, "-o");
		fprintf(stderr, "see fleetcap capture --help\n");
		fc_spec_free(spec);
		return CLI_EXIT_USAGE;
	}

	/* Credentials are checked before capturing, not after. */
	if (spec->blob_url[0]) {
		azblob_upload_config_default(&blob.upload);
		rc = cli_blob_open(&blob, "capture", spec->blob_url,
				   spec->blob_sas[0] ? spec->blob_sas : NULL, key_file);
		if (rc != 0) {
			fc_spec_free(spec);
			return rc;
		}
		blob.progress = !json && !quiet && isatty(STDOUT_FILENO);
	} else if (key_file) {
		fprintf(stderr, "fleetcap capture: --blob-key-file: given without --blob-url\n");
		fc_spec_free(spec);
		return CLI_EXIT_USAGE;
	}

	memset(&config, 0, sizeof(config));
	config.spec = spec;
	config.path = spec->file_path;
	config.dirfd = -1; /* the path as the user gave it */
	config.buffer_bytes = (uint32_t)(buffer_mib << 20);
	if (!json && !quiet && isatty(STDOUT_FILENO)) {
		config.progress_ms = 1000;
		config.on_progress = show_progress;
	}
	session = wk_session_create(&config, &err);
	if (!session) {
		fprintf(stderr, "fleetcap capture: %s\n", err.msg);
		rc = err.action == FC_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
		goto out;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_fd = wk_session_stop_fd(session);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Like tcpdump's "listening on": scripts wait for this line before sending. */
	fprintf(stderr,
		"fleetcap capture: capturing on %zu interface(s), link type %s, snap length %u\n",
		spec->n_interfaces, pcap_datalink_val_to_name(wk_session_linktype(session)),
		wk_session_snaplen(session));

	int run_rc = wk_session_run(session, &result, &err);
	if (config.on_progress)
		printf("\r\033[K");
	if (run_rc != 0)
		fprintf(stderr, "fleetcap capture: %s\n", err.msg);
	/* From here Ctrl-C ends the upload; the local files stay. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* What was captured is uploaded even after a capture failure. */
	struct fc_err upload_err;
	fc_err_clear(&upload_err);
	if (blob.sink && upload_files(&blob, spec, session, &blob_urls, &upload_err) != 0) {
		fprintf(stderr, "fleetcap capture: %s\n", upload_err.msg);
		if (run_rc == 0)
			err = upload_err;
		run_rc = -1;
	}
	if (json)
		print_json(session, &result, run_rc != 0 ? err.msg : NULL, blob_urls);
	else
		print_summary(session, &result, blob_urls);
	rc = run_rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
out:
	stop_fd = -1;
	free(blob_urls);
	cli_blob_close(&blob);
	wk_session_destroy(session);
	fc_spec_free(spec);
	return rc;
}
