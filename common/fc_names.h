/*
 * fc_names: the names users see for the proto's enums, as docs/ARCHITECTURE.md §1
 * spells them ("Running", "TimeExceeded", "QuotaExceeded"), in JSON, tables
 * and the REST API alike.
 */
#ifndef FC_NAMES_H
#define FC_NAMES_H

#include <stdint.h>

/* Each returns the §1 name, or "Unknown" for a value outside the enum. */
const char *fc_state_name(int capture_state);
const char *fc_stop_reason_name(int stop_reason); /* "" for STOP_REASON_NONE */
const char *fc_error_code_name(int error_code);	  /* "" for ERROR_CODE_NONE */

/* "Info", "Warning", "Error", "Critical" (any case) → Severity; -1 when none. */
int fc_severity_parse(const char *name);

/* ms since the epoch as "2026-11-28T16:29:12.384Z" (UTC); buf needs 32 bytes. */
#define FC_TIME_ISO_LEN 32
const char *fc_time_iso(int64_t ms, char *buf);

#endif
