/* fc_log: see fc_log.h. */
#include "fc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum fc_log_level fc_log_threshold = FC_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void fc_log_set_level(enum fc_log_level level)
{
	fc_log_threshold = level;
}

int fc_log_level_parse(const char *name, enum fc_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum fc_log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *fc_log_level_name(enum fc_log_level level)
{
	if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[level];
	return "?";
}

enum fc_log_level fc_log_level_from_syslog(int syslog_level)
{
	if (syslog_level <= 3)
		return FC_LOG_ERROR;
	if (syslog_level == 4)
		return FC_LOG_WARN;
	if (syslog_level <= 6)
		return FC_LOG_INFO;
	return FC_LOG_DEBUG;
}

void fc_log_write(enum fc_log_level level, const char *component, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s [%s] ",
			      ts.tv_nsec / 1000000L, fc_log_level_name(level), component);
	if (n < sizeof(line)) {
		va_start(ap, fmt);
		int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += (size_t)m;
	}
	/* Truncated lines keep their newline. */
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line keeps lines whole when threads log at once. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}
