/* fc_err: see fc_err.h. */
#include "fc_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fc_err_clear(struct fc_err *err)
{
	if (!err)
		return;
	err->action = FC_ERR_NONE;
	err->msg[0] = '\0';
}

void fc_err_set(struct fc_err *err, enum fc_err_action action, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->action = action;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *fc_err_action_name(enum fc_err_action action)
{
	switch (action) {
	case FC_ERR_NONE:
		return "none";
	case FC_ERR_RETRY:
		return "retry";
	case FC_ERR_ABORT:
		return "abort";
	case FC_ERR_FATAL:
		return "fatal";
	case FC_ERR_INVALID:
		return "invalid";
	}
	return "?";
}

void fc_field_errors_init(struct fc_field_errors *errs)
{
	errs->count = 0;
	errs->dropped = 0;
}

void fc_field_errors_add(struct fc_field_errors *errs, const char *field, const char *fmt, ...)
{
	struct fc_field_error *e;
	va_list ap;

	if (errs->count == FC_FIELD_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	e = &errs->items[errs->count++];
	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

int fc_field_errors_has(const struct fc_field_errors *errs, const char *field)
{
	for (size_t i = 0; i < errs->count; i++)
		if (strcmp(errs->items[i].field, field) == 0)
			return 1;
	return 0;
}

const char *fc_field_errors_format(const struct fc_field_errors *errs, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < errs->count && n < len; i++) {
		int m = snprintf(buf + n, len - n, "%s%s: %s", i ? "; " : "", errs->items[i].field,
				 errs->items[i].message);
		if (m < 0)
			break;
		n += (size_t)m;
	}
	if (errs->dropped && n < len)
		snprintf(buf + n, len - n, "; and %zu more", errs->dropped);
	return buf;
}

const char *fc_quote(const char *value, char *out, size_t len)
{
	const size_t shown_max = 60;
	size_t n = 0, shown = 0;
	const unsigned char *p = (const unsigned char *)value;

	if (len < 16) {
		if (len)
			out[0] = '\0';
		return out;
	}
	out[n++] = '"';
	for (; *p && n + 8 < len; p++) {
		if (shown == shown_max) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			n += (size_t)snprintf(out + n, len - n, "\\x%02x", *p);
		else
			out[n++] = (char)*p;
		shown++;
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}
