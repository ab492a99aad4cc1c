/*
 * log_delivery - the delivery line. The text is deliver_log_format
 * expanded with Dovecot's variables (%$ status, %m msgid, %s subject,
 * %f from, %e envelope sender, %p size, %w vsize, and the long forms
 * %{msgid} %{subject} %{from} %{from_envelope} %{size} %{vsize}
 * %{to_envelope} %{delivery_time}, %% a percent sign); unknown variables
 * stay in the text literally. The JSON line carries the same text as msg
 * plus every field of the record.
 */
#include "log_private.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What Dovecot logs when the mail has no Message-ID header. */
#define LOG_DELIVERY_NO_MSGID "unspecified"
/* Dovecot's default deliver_log_format, used when the caller passes NULL. */
#define LOG_DELIVERY_DEFAULT_FORMAT "msgid=%m: %$"

enum log_delivery_var {
	LOG_DELIVERY_VAR_STATUS,
	LOG_DELIVERY_VAR_MSGID,
	LOG_DELIVERY_VAR_SUBJECT,
	LOG_DELIVERY_VAR_FROM,
	LOG_DELIVERY_VAR_FROM_ENVELOPE,
	LOG_DELIVERY_VAR_SIZE,
	LOG_DELIVERY_VAR_VSIZE,
	LOG_DELIVERY_VAR_TO_ENVELOPE,
	LOG_DELIVERY_VAR_DELIVERY_TIME,
};

struct log_delivery_var_def {
	char key;		/* short form, '\0' for long-only */
	const char *long_key;	/* NULL for short-only */
	enum log_delivery_var var;
};

static const struct log_delivery_var_def log_delivery_vars[] = {
	{ '$', NULL, LOG_DELIVERY_VAR_STATUS },
	{ 'm', "msgid", LOG_DELIVERY_VAR_MSGID },
	{ 's', "subject", LOG_DELIVERY_VAR_SUBJECT },
	{ 'f', "from", LOG_DELIVERY_VAR_FROM },
	{ 'e', "from_envelope", LOG_DELIVERY_VAR_FROM_ENVELOPE },
	{ 'p', "size", LOG_DELIVERY_VAR_SIZE },
	{ 'w', "vsize", LOG_DELIVERY_VAR_VSIZE },
	{ '\0', "to_envelope", LOG_DELIVERY_VAR_TO_ENVELOPE },
	{ '\0', "delivery_time", LOG_DELIVERY_VAR_DELIVERY_TIME },
};

/* log_delivery_find_short - the variable %key, or NULL */
static const struct log_delivery_var_def *log_delivery_find_short(char key)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(log_delivery_vars); i++) {
		if (log_delivery_vars[i].key == key && key != '\0')
			return &log_delivery_vars[i];
	}
	return NULL;
}

/* log_delivery_find_long - the variable %{name} (name of len bytes), or NULL */
static const struct log_delivery_var_def *
log_delivery_find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(log_delivery_vars); i++) {
		const char *long_key = log_delivery_vars[i].long_key;

		if (long_key != NULL && strlen(long_key) == len &&
		    memcmp(long_key, name, len) == 0)
			return &log_delivery_vars[i];
	}
	return NULL;
}

/* log_delivery_append_str - append str, nothing when NULL */
static void log_delivery_append_str(struct strbuf *dest, const char *str)
{
	if (str != NULL)
		strbuf_append_str(dest, str);
}

/* log_delivery_append_var - append the value of var from rec */
static void log_delivery_append_var(struct strbuf *dest,
				    enum log_delivery_var var,
				    const struct log_delivery *rec)
{
	switch (var) {
	case LOG_DELIVERY_VAR_STATUS:
		log_delivery_append_str(dest, rec->status);
		break;
	case LOG_DELIVERY_VAR_MSGID:
		strbuf_append_str(dest, rec->msgid != NULL ? rec->msgid :
				  LOG_DELIVERY_NO_MSGID);
		break;
	case LOG_DELIVERY_VAR_SUBJECT:
		log_delivery_append_str(dest, rec->subject);
		break;
	case LOG_DELIVERY_VAR_FROM:
		log_delivery_append_str(dest, rec->from);
		break;
	case LOG_DELIVERY_VAR_FROM_ENVELOPE:
		log_delivery_append_str(dest, rec->envelope_from);
		break;
	case LOG_DELIVERY_VAR_SIZE:
		strbuf_appendf(dest, "%" PRIu64, rec->size);
		break;
	case LOG_DELIVERY_VAR_VSIZE:
		strbuf_appendf(dest, "%" PRIu64, rec->vsize);
		break;
	case LOG_DELIVERY_VAR_TO_ENVELOPE:
		log_delivery_append_str(dest, rec->rcpt);
		break;
	case LOG_DELIVERY_VAR_DELIVERY_TIME:
		/* whole milliseconds, truncated like Dovecot's timeval diff */
		strbuf_appendf(dest, "%" PRIu64,
			       isfinite(rec->duration_ms) &&
			       rec->duration_ms > 0 ?
			       (uint64_t)rec->duration_ms : 0);
		break;
	}
}

void log_delivery_expand(struct strbuf *dest, const char *format,
			 const struct log_delivery *rec)
{
	const char *p = format;

	while (*p != '\0') {
		const char *pct = strchr(p, '%');
		const struct log_delivery_var_def *def = NULL;
		size_t consumed = 0;

		if (pct == NULL) {
			strbuf_append_str(dest, p);
			break;
		}
		strbuf_append(dest, p, (size_t)(pct - p));
		if (pct[1] == '%') {
			strbuf_putc(dest, '%');
			p = pct + 2;
			continue;
		}
		if (pct[1] == '{') {
			const char *end = strchr(pct + 2, '}');

			if (end != NULL) {
				def = log_delivery_find_long(pct + 2,
					(size_t)(end - (pct + 2)));
				consumed = (size_t)(end + 1 - pct);
			}
		} else if (pct[1] != '\0') {
			def = log_delivery_find_short(pct[1]);
			consumed = 2;
		}
		if (def == NULL) {
			/* unknown or incomplete: keep the '%' literally and
			   go on with what follows it */
			strbuf_putc(dest, '%');
			p = pct + 1;
			continue;
		}
		log_delivery_append_var(dest, def->var, rec);
		p = pct + consumed;
	}
}

char *log_format_delivery(const char *deliver_log_format,
			  const struct log_delivery *rec)
{
	struct strbuf buf;
	char *text;

	strbuf_init(&buf, 128);
	log_delivery_expand(&buf, deliver_log_format != NULL ?
			    deliver_log_format : LOG_DELIVERY_DEFAULT_FORMAT,
			    rec);
	text = strbuf_detach(&buf);
	strbuf_free(&buf);
	return text;
}

/* log_delivery_level - error for tempfail, info for saved and rejected */
static enum log_level log_delivery_level(const struct log_delivery *rec)
{
	if (rec->result != NULL && strcmp(rec->result, "tempfail") == 0)
		return LOG_LEVEL_ERROR;
	return LOG_LEVEL_INFO;
}

void log_delivery(const char *deliver_log_format,
		  const struct log_delivery *rec)
{
	char *text = log_format_delivery(deliver_log_format, rec);

	log_emit(log_delivery_level(rec), "delivery", text, rec);
	free(text);
}
