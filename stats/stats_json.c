/*
 * stats_json - capped UTF-8-clean string copies, RFC 3339 timestamps and
 * level names for loft-stats' JSON outputs (see stats_json.h).
 *
 * UTF-8 validity follows the well-formed byte sequence table of RFC 3629
 * section 4: the lead byte fixes the length and the allowed range of the
 * second byte (which rules out overlong forms, surrogates and code points
 * above U+10FFFF); the remaining bytes are plain continuation bytes.
 */
#include "stats_json.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "settings.h"
#include "strbuf.h"

static const char *const stats_json_level_names[LOG_LEVEL_COUNT] = {
	"debug", "info", "warning", "error", "fatal", "panic",
};

/* stats_json_utf8_len - bytes of the well-formed UTF-8 sequence starting
   at p (at most avail bytes available), or 0 when it is not one */
static size_t stats_json_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;		/* no overlong 3-byte forms */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* no UTF-16 surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;		/* no overlong 4-byte forms */
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* nothing above U+10FFFF */
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

char *stats_json_strdup(const char *str, size_t max_len)
{
	const unsigned char *p = (const unsigned char *)str;
	struct strbuf buf;
	size_t avail, n;

	if (str == NULL)
		return NULL;
	avail = strlen(str);
	strbuf_init(&buf, (avail < max_len ? avail : max_len) + 1);
	while (avail > 0) {
		n = stats_json_utf8_len(p, avail);
		if (buf.len + (n == 0 ? 1 : n) > max_len)
			break;
		if (n == 0) {
			strbuf_putc(&buf, '?');
			n = 1;
		} else {
			strbuf_append(&buf, p, n);
		}
		p += n;
		avail -= n;
	}
	return strbuf_detach(&buf);
}

void stats_json_format_ts(uint64_t usecs, char buf[STATS_JSON_TS_SIZE])
{
	time_t secs = (time_t)(usecs / 1000000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(buf, STATS_JSON_TS_SIZE, "1970-01-01T00:00:00.000000Z");
		return;
	}
	snprintf(buf, STATS_JSON_TS_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned int)(usecs % 1000000));
}

json_object *stats_json_ts(uint64_t usecs)
{
	char buf[STATS_JSON_TS_SIZE];

	stats_json_format_ts(usecs, buf);
	return json_object_new_string(buf);
}

json_object *stats_json_string(const char *str)
{
	return str == NULL ? NULL : json_object_new_string(str);
}

const char *stats_json_level_name(enum log_level level)
{
	return (unsigned int)level < LOG_LEVEL_COUNT ?
		stats_json_level_names[level] : "unknown";
}

bool stats_json_level_parse(const char *name, enum log_level *level_r)
{
	unsigned int i;

	for (i = 0; i < LOG_LEVEL_COUNT; i++) {
		if (strcasecmp(name, stats_json_level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void stats_json_array_append(json_object *dst, json_object *src,
			     size_t limit)
{
	size_t i, n = json_object_array_length(src);

	for (i = 0; i < n && json_object_array_length(dst) < limit; i++)
		json_object_array_add(dst, json_object_get(
			json_object_array_get_idx(src, i)));
}

int stats_json_parse_ago(const char *duration, uint64_t *usecs_r,
			 const char **error_r)
{
	uint64_t msecs, now;

	*usecs_r = 0;
	if (duration == NULL || *duration == '\0')
		return 0;
	if (settings_parse_time(duration, &msecs, error_r) < 0)
		return -1;
	now = clock_realtime_usecs();
	/* compared in msecs: msecs * 1000 may wrap */
	*usecs_r = msecs >= now / 1000 ? 1 : now - msecs * 1000;
	return 0;
}
