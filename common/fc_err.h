/*
 * fc_err: error values.
 *
 * struct fc_err carries a message and what the caller should do about it
 * (retry, abort the transaction, exit), in the manner of librdkafka's error
 * objects. struct fc_field_errors collects validation errors, one per bad
 * field, each naming the field, the value and what was expected.
 */
#ifndef FC_ERR_H
#define FC_ERR_H

#include <stddef.h>

enum fc_err_action {
	FC_ERR_NONE = 0, /* no error */
	FC_ERR_RETRY,	 /* transient: try the same thing again later */
	FC_ERR_ABORT,	 /* abort the current transaction or batch, then go on */
	FC_ERR_FATAL,	 /* the process cannot go on: exit non-zero */
	FC_ERR_INVALID,	 /* bad input: report it, never retry */
};

struct fc_err {
	enum fc_err_action action;
	char msg[512];
};

void fc_err_clear(struct fc_err *err);

/* Sets action and message; err may be NULL. */
void fc_err_set(struct fc_err *err, enum fc_err_action action, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *fc_err_action_name(enum fc_err_action action);

#define FC_FIELD_ERRORS_MAX 32

struct fc_field_error {
	char field[64];	   /* e.g. "filters[1].remote_port" */
	char message[384]; /* names the value and what was expected */
};

struct fc_field_errors {
	size_t count;
	size_t dropped; /* errors past FC_FIELD_ERRORS_MAX */
	struct fc_field_error items[FC_FIELD_ERRORS_MAX];
};

void fc_field_errors_init(struct fc_field_errors *errs);

/* Appends one error. The message should say value and expectation. */
void fc_field_errors_add(struct fc_field_errors *errs, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when errs holds an error for exactly this field name. */
int fc_field_errors_has(const struct fc_field_errors *errs, const char *field);

/*
 * Formats all errors as "field: message; field: message" into buf.
 * Returns buf.
 */
const char *fc_field_errors_format(const struct fc_field_errors *errs, char *buf, size_t len);

/*
 * Quotes a user-supplied value for an error message: wraps it in double
 * quotes, escapes control and non-ASCII bytes as \xNN and cuts it at about
 * 60 characters with "...". Returns out. Never pass a secret.
 */
const char *fc_quote(const char *value, char *out, size_t len);

#define FC_QUOTE_MAX 256

#endif
