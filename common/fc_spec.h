/*
 * fc_spec: building and validating capture specs (docs/ARCHITECTURE.md §1).
 *
 * This is the ONE validator: the CLI, the REST API, the scheduler (on every
 * Command and alert template) and the worker (on every Job) call
 * fc_spec_validate(), so a spec is judged the same way at every door.
 *
 * Specs are heap-allocated protobuf-c messages whose every part is malloc'd,
 * so fc_spec_free() (protobuf_c_message_free_unpacked with the system
 * allocator) frees both built and unpacked specs.
 */
#ifndef FC_SPEC_H
#define FC_SPEC_H

#include <stdint.h>

#include "fc_err.h"
#include "fleetcap.pb-c.h"

typedef Fleetcap__V1__CaptureSpec fc_spec_t;
typedef Fleetcap__V1__Filter fc_filter_t;

/* §1 bounds and defaults. */
#define FC_NAME_MAX		      80
#define FC_TENANT_MAX		      64 /* subscription, region */
#define FC_TARGET_MAX		      128
#define FC_INTERFACES_MAX	      16
#define FC_IFNAME_MAX		      15
#define FC_FILTERS_MAX		      64
#define FC_PATH_MAX		      1024
#define FC_SAS_MAX		      2048
#define FC_ALERT_ID_MAX		      128
#define FC_TIME_LIMIT_MAX	      18000
#define FC_TIME_LIMIT_DEFAULT	      18000
#define FC_BYTES_PER_SESSION_DEFAULT  1073741824u
#define FC_FILE_COUNT_MAX	      10000
#define FC_FILE_COUNT_DEFAULT	      10
#define FC_FILE_SIZE_DEFAULT	      104857600u
#define FC_SESSION_TIME_LIMIT_MAX     604800
#define FC_SESSION_TIME_LIMIT_DEFAULT 86400
#define FC_QUEUE_TIMEOUT_MAX	      86400
#define FC_GROUP_INSTANCES_MAX	      100 /* instances of one group capture; scope list length */

enum fc_spec_mode {
	/* A fleet request: name, subscription, region and target are required,
	 * file_path is relative to the worker's capture root. */
	FC_SPEC_FLEET,
	/* `fleetcap capture` on this machine: at least one interface and an
	 * output path are required; fleet fields are ignored. */
	FC_SPEC_LOCAL,
	/* An alert rule's capture template: no name, subscription, region or
	 * target yet (the alert brings them); an output is required. */
	FC_SPEC_TEMPLATE,
};

/* Returns a new empty spec, or NULL when out of memory. */
fc_spec_t *fc_spec_new(void);

/* Frees spec and everything it owns. Accepts NULL. */
void fc_spec_free(fc_spec_t *spec);

/*
 * Sets one field from text, as the CLI options spell it: name, subscription,
 * region, target, interface (appends), bytes-per-packet, bytes-per-session,
 * time-limit, file-path, blob-url, blob-sas, file-count, file-size,
 * session-time-limit, queue-timeout, filter (appends a filter SPEC),
 * target-group (target is then a group), include and exclude (append the
 * instance ids of a comma-separated list to the scope).
 * Numbers are checked against their §1 bounds here; everything else is
 * checked by fc_spec_validate(). Returns 0, or -1 with an error for key.
 */
int fc_spec_set(fc_spec_t *spec, const char *key, const char *value, struct fc_field_errors *errs);

/*
 * Appends the filter given as a CLI SPEC: comma-separated key=value with keys
 * protocol (tcp, udp, any), local-ip, remote-ip, local-port, remote-port.
 */
int fc_spec_add_filter(fc_spec_t *spec, const char *text, struct fc_field_errors *errs);

/*
 * Appends the filters of a JSON list in the cloud API's shape:
 * [{"protocol":"TCP","localIPAddress":"…","remoteIPAddress":"…","localPort":"…","remotePort":"…"}].
 * Ports may be strings or integers. Unknown keys are errors.
 */
int fc_spec_add_filters_json(fc_spec_t *spec, const char *json, struct fc_field_errors *errs);

/*
 * Validates every field of spec for mode. Appends one error per bad field
 * (field named as in the proto: "filters[1].remote_port", "ring.file_count")
 * and returns 0 when spec is valid, -1 otherwise. Never echoes blob_sas.
 */
int fc_spec_validate(const fc_spec_t *spec, enum fc_spec_mode mode, struct fc_field_errors *errs);

/*
 * sha256 of spec packed with blob_sas and blob_sas_sealed cleared: two requests for the same
 * capture have the same digest, whatever SAS token each carries. Packing is
 * deterministic (fields in number order), so the digest is stable across
 * processes of the same proto version.
 */
#define FC_SPEC_DIGEST_LEN 32
int fc_spec_digest(const fc_spec_t *spec, uint8_t out[FC_SPEC_DIGEST_LEN]);

/* Checks a name, subscription/region, or host id; 1 when valid. */
int fc_valid_name(const char *s);
int fc_valid_tenant(const char *s);
int fc_valid_target(const char *s);

#endif
