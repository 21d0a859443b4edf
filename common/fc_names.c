/* fc_names: see fc_names.h. */
#include "fc_names.h"

#include <stdio.h>
#include <time.h>

#include <stddef.h>
#include <strings.h>

#include "fleetcap.pb-c.h"

#define NAME_OF(table, v)                                                                          \
	((v) >= 0 && (size_t)(v) < sizeof(table) / sizeof(table[0]) && table[v] ? table[v]         \
										: "Unknown")

static const char *const states[] = {
	[FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_NOT_STARTED] = "NotStarted",
	[FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_QUEUED] = "Queued",
	[FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_RUNNING] = "Running",
	[FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_STOPPED] = "Stopped",
	[FLEETCAP__V1__CAPTURE_STATE__CAPTURE_STATE_ERROR] = "Error",
};

static const char *const stop_reasons[] = {
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_NONE] = "",
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_TIME_EXCEEDED] = "TimeExceeded",
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_SESSION_BYTES_EXCEEDED] = "SessionBytesExceeded",
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_STOPPED_BY_USER] = "StoppedByUser",
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_DELETED] = "Deleted",
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_AGENT_RESTARTED] = "AgentRestarted",
	[FLEETCAP__V1__STOP_REASON__STOP_REASON_ERROR] = "Error",
};

static const char *const error_codes[] = {
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_NONE] = "",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INTERNAL_ERROR] = "InternalError",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_AGENT_STOPPED] = "AgentStopped",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CAPTURE_FAILED] = "CaptureFailed",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_LOCAL_FILE_FAILED] = "LocalFileFailed",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_STORAGE_FAILED] = "StorageFailed",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_QUOTA_EXCEEDED] = "QuotaExceeded",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_TARGET_NOT_FOUND] = "TargetNotFound",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_INVALID_REQUEST] = "InvalidRequest",
	[FLEETCAP__V1__ERROR_CODE__ERROR_CODE_CONFLICT] = "Conflict",
};

const char *fc_state_name(int capture_state)
{
	return NAME_OF(states, capture_state);
}

const char *fc_stop_reason_name(int stop_reason)
{
	return NAME_OF(stop_reasons, stop_reason);
}

const char *fc_error_code_name(int error_code)
{
	return NAME_OF(error_codes, error_code);
}

static const char *const severities[] = {
	[FLEETCAP__V1__SEVERITY__SEVERITY_INFO] = "Info",
	[FLEETCAP__V1__SEVERITY__SEVERITY_WARNING] = "Warning",
	[FLEETCAP__V1__SEVERITY__SEVERITY_ERROR] = "Error",
	[FLEETCAP__V1__SEVERITY__SEVERITY_CRITICAL] = "Critical",
};

int fc_severity_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
		if (severities[i] && strcasecmp(name, severities[i]) == 0)
			return (int)i;
	return -1;
}

const char *fc_time_iso(int64_t ms, char *buf)
{
	char whole[24];
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(whole, sizeof(whole), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, FC_TIME_ISO_LEN, "%.20s.%03dZ", whole, (int)(ms % 1000));
	return buf;
}
