/*
 * outcome - build delivery outcomes and map them to names and exit codes
 * (see outcome.h).
 */
#include "outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static void outcome_vset(struct outcome *out, enum outcome_result result,
			 enum outcome_reason reason, int code,
			 const char *enhanced, const char *fmt, va_list args)
	LOFT_ATTR_FORMAT(6, 0);

static void outcome_vset(struct outcome *out, enum outcome_result result,
			 enum outcome_reason reason, int code,
			 const char *enhanced, const char *fmt, va_list args)
{
	out->result = result;
	out->reason = reason;
	out->code = code;
	snprintf(out->enhanced, sizeof(out->enhanced), "%s", enhanced);
	vsnprintf(out->text, sizeof(out->text), fmt, args);
	/* one line: the text ends an LMTP reply (a Sieve reject reason
	   with a CRLF in it would forge the replies that follow) */
	for (char *p = out->text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	/* filled by the Sieve plugin after the outcome is set */
	memset(&out->sieve, 0, sizeof(out->sieve));
}

void outcome_set(struct outcome *out, enum outcome_result result,
		 enum outcome_reason reason, int code, const char *enhanced,
		 const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	outcome_vset(out, result, reason, code, enhanced, fmt, args);
	va_end(args);
}

void outcome_saved(struct outcome *out, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	outcome_vset(out, OUTCOME_SAVED, OUTCOME_REASON_NONE, 250, "2.0.0",
		     fmt, args);
	va_end(args);
}

void outcome_tempfail(struct outcome *out, const char *enhanced,
		      const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	outcome_vset(out, OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER, 451,
		     enhanced == NULL ? "4.3.0" : enhanced, fmt, args);
	va_end(args);
}

const char *outcome_result_name(enum outcome_result result)
{
	switch (result) {
	case OUTCOME_SAVED:
		return "saved";
	case OUTCOME_REJECTED:
		return "rejected";
	case OUTCOME_TEMPFAIL:
		return "tempfail";
	}
	return "tempfail";
}

const char *outcome_reason_name(enum outcome_reason reason)
{
	switch (reason) {
	case OUTCOME_REASON_NONE:
		return "";
	case OUTCOME_REASON_UNKNOWN_USER:
		return "unknown_user";
	case OUTCOME_REASON_QUOTA:
		return "quota";
	case OUTCOME_REASON_SIZE:
		return "size";
	case OUTCOME_REASON_CONCURRENCY:
		return "concurrency";
	case OUTCOME_REASON_SYNTAX:
		return "syntax";
	case OUTCOME_REASON_OTHER:
		return "other";
	}
	return "other";
}

int outcome_exit_code(const struct outcome *out)
{
	switch (out->result) {
	case OUTCOME_SAVED:
		return EX_OK;
	case OUTCOME_TEMPFAIL:
		return EX_TEMPFAIL;
	case OUTCOME_REJECTED:
		break;
	}
	switch (out->reason) {
	case OUTCOME_REASON_UNKNOWN_USER:
		return EX_NOUSER;
	case OUTCOME_REASON_SYNTAX:
		return EX_USAGE;
	default:
		return EX_NOPERM;
	}
}
