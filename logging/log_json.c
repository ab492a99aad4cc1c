/*
 * log_json - the JSON line: one object per line, keys in a fixed order
 * (ts, level, service, pid, session, user, event, msg, then the delivery
 * fields). Built with json-c, which escapes quotes, backslashes and control
 * characters; bytes that are not valid UTF-8 (raw 8-bit headers) are
 * replaced with '?' so that every line is valid JSON.
 */
#include "log_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static const char *const log_json_level_names[LOG_LEVEL_COUNT] = {
	"debug", "info", "warning", "error", "fatal", "panic",
};

/* log_json_utf8_seq_len - length of the valid UTF-8 sequence at p, or 0 */
static size_t log_json_utf8_seq_len(const unsigned char *p)
{
	unsigned int cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		/* a NUL terminator fails this test, so we never read past it */
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* log_json_new_string - a json-c string of str with invalid UTF-8 bytes
   replaced by '?', or JSON null when str is NULL */
static struct json_object *log_json_new_string(const char *str)
{
	const unsigned char *p = (const unsigned char *)str;
	struct json_object *obj;
	struct strbuf buf;
	size_t n;

	if (str == NULL)
		return NULL;
	while (*p != '\0' && (n = log_json_utf8_seq_len(p)) > 0)
		p += n;
	if (*p == '\0')
		return json_object_new_string(str);

	strbuf_init(&buf, strlen(str) + 1);
	strbuf_append(&buf, str, (size_t)(p - (const unsigned char *)str));
	while (*p != '\0') {
		n = log_json_utf8_seq_len(p);
		if (n == 0) {
			strbuf_putc(&buf, '?');
			p++;
		} else {
			strbuf_append(&buf, p, n);
			p += n;
		}
	}
	obj = json_object_new_string_len(buf.data, (int)buf.len);
	strbuf_free(&buf);
	return obj;
}

/* log_json_add_string - obj[key] = str (null when NULL) */
static void log_json_add_string(struct json_object *obj, const char *key,
				const char *str)
{
	json_object_object_add(obj, key, log_json_new_string(str));
}

/* log_json_timestamp - RFC 3339 UTC with microseconds into buf */
static void log_json_timestamp(char *buf, size_t size,
			       const struct timespec *now)
{
	struct tm tm;
	char date[32];

	if (gmtime_r(&now->tv_sec, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		date[0] = '\0';
	snprintf(buf, size, "%s.%06ldZ", date, (long)(now->tv_nsec / 1000));
}

/* log_json_add_delivery - the delivery record's fields */
static void log_json_add_delivery(struct json_object *obj,
				  const struct log_delivery *rec)
{
	double ms = isfinite(rec->duration_ms) && rec->duration_ms > 0 ?
		rec->duration_ms : 0.0;
	char duration[64];

	log_json_add_string(obj, "msgid", rec->msgid);
	log_json_add_string(obj, "from", rec->from);
	log_json_add_string(obj, "rcpt", rec->rcpt);
	log_json_add_string(obj, "orig_rcpt", rec->orig_rcpt);
	log_json_add_string(obj, "mailbox", rec->mailbox);
	json_object_object_add(obj, "size",
			       json_object_new_uint64(rec->size));
	json_object_object_add(obj, "vsize",
			       json_object_new_uint64(rec->vsize));
	log_json_add_string(obj, "result", rec->result);
	json_object_object_add(obj, "code", json_object_new_int(rec->code));
	log_json_add_string(obj, "enhanced_code", rec->enhanced_code);
	/* a fixed 3 decimals instead of json-c's %.17g noise */
	snprintf(duration, sizeof(duration), "%.3f", ms);
	json_object_object_add(obj, "duration_ms",
			       json_object_new_double_s(ms, duration));
	log_json_add_string(obj, "subject", rec->subject);
	log_json_add_string(obj, "envelope_from", rec->envelope_from);
}

void log_json_format(struct strbuf *dest, const struct log_line *line)
{
	struct json_object *obj = json_object_new_object();
	char ts[80];

	log_json_timestamp(ts, sizeof(ts), &line->now);
	json_object_object_add(obj, "ts", json_object_new_string(ts));
	json_object_object_add(obj, "level", json_object_new_string(
		(unsigned int)line->level < LOG_LEVEL_COUNT ?
		log_json_level_names[line->level] : "unknown"));
	log_json_add_string(obj, "service", line->service);
	json_object_object_add(obj, "pid", json_object_new_int64(line->pid));
	log_json_add_string(obj, "session", line->session);
	log_json_add_string(obj, "user", line->user);
	log_json_add_string(obj, "event",
			    line->event != NULL ? line->event : "log");
	log_json_add_string(obj, "msg", line->msg);
	if (line->delivery != NULL)
		log_json_add_delivery(obj, line->delivery);

	strbuf_append_str(dest, json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}
