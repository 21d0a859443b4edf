/*
 * api_json: fleetcap-api's JSON, in the shape of the cloud packet-capture
 * API (docs/ARCHITECTURE.md §6):
 *
 *   PUT body   {"properties": {"target", "bytesToCapturePerPacket",
 *               "totalBytesPerSession", "timeLimitInSeconds",
 *               "storageLocation": {"filePath", "storagePath"},
 *               "filters": [{"protocol", "localIPAddress", "remoteIPAddress",
 *                            "localPort", "remotePort"}],
 *               "continuousCapture", "captureSettings": {"fileCount",
 *               "fileSizeInBytes", "sessionTimeLimitInSeconds"},
 *               "queueTimeoutInSeconds"}}
 *
 * Every value is type-checked (numbers are JSON integers, never strings),
 * unknown keys are refused, and the spec is then checked by the one
 * validator every door shares; each error names its field as a JSON path
 * ("properties.filters[1].remotePort"). storagePath is the blob URL; a SAS
 * token may follow it as the query string, and is never echoed back.
 */
#ifndef API_JSON_H
#define API_JSON_H

#include <jansson.h>

#include "fc_err.h"
#include "fc_spec.h"
#include "fleetcap.pb-c.h"

typedef Fleetcap__V1__CaptureStatus api_status_t;

/*
 * The spec of a PUT body for sub/region/name. NULL with errs set (the
 * fields as JSON paths) when the body or a value is not valid.
 */
fc_spec_t *api_spec_from_body(const char *body, size_t len, const char *sub, const char *region,
			      const char *name, struct fc_field_errors *errs);

/* The resource of a GET or PUT: id, name, type, properties (the request as
 * admitted) and provisioningState. */
/* Rewrites a spec field name (as in CaptureStatus.error_field) in place to
 * the API's JSON path: "scope.include[1]" → "properties.scope.include[1]". */
void api_field_path(char *field, size_t size);

json_t *api_resource_json(const api_status_t *s);

/* The answer of queryStatus: packetCaptureStatus, stopReason,
 * packetCaptureError[], captureStartTime, counters and files. */
json_t *api_query_status_json(const api_status_t *s);

/* {"error": {"code", "message", "target"}}; target may be NULL. */
json_t *api_error_json(const char *code, const char *message, const char *target);

/* The same for field errors: the first names target and message, all are
 * listed in "details". */
json_t *api_field_errors_json(const struct fc_field_errors *errs);

/* "/subscriptions/S/regions/R/packetCaptures/N". */
void api_resource_id(const char *sub, const char *region, const char *name, char *out, size_t len);

#endif
