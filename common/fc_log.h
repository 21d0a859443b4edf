/*
 * fc_log: leveled logging with a component tag, to stderr.
 *
 *   FC_INFO("sched", "admitted %s", name);
 *
 * Every component (and librdkafka and libcurl, through their callbacks) logs
 * through these macros so that one level setting governs all output. Never
 * format a secret (account key, SAS token) into a log line.
 */
#ifndef FC_LOG_H
#define FC_LOG_H

enum fc_log_level {
	FC_LOG_ERROR = 0,
	FC_LOG_WARN = 1,
	FC_LOG_INFO = 2,
	FC_LOG_DEBUG = 3,
};

/* The current threshold; messages above it are skipped before formatting. */
extern enum fc_log_level fc_log_threshold;

void fc_log_set_level(enum fc_log_level level);

/* Parses "error", "warn", "info" or "debug". Returns 0, or -1 if unknown. */
int fc_log_level_parse(const char *name, enum fc_log_level *out);

const char *fc_log_level_name(enum fc_log_level level);

/* Writes one line. Thread-safe: each line is written with a single write. */
void fc_log_write(enum fc_log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define FC_LOG(level, component, ...)                                                              \
	do {                                                                                       \
		if ((level) <= fc_log_threshold)                                                   \
			fc_log_write((level), (component), __VA_ARGS__);                           \
	} while (0)

#define FC_ERROR(component, ...) FC_LOG(FC_LOG_ERROR, component, __VA_ARGS__)
#define FC_WARN(component, ...)	 FC_LOG(FC_LOG_WARN, component, __VA_ARGS__)
#define FC_INFO(component, ...)	 FC_LOG(FC_LOG_INFO, component, __VA_ARGS__)
#define FC_DEBUG(component, ...) FC_LOG(FC_LOG_DEBUG, component, __VA_ARGS__)

/*
 * Maps a syslog level (librdkafka passes syslog levels to its log callback)
 * to ours.
 */
enum fc_log_level fc_log_level_from_syslog(int syslog_level);

#endif
