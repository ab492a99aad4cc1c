/*
 * sieve_date - RFC 2822 dates and RFC 5260 date parts (see sieve_date.h).
 */
#include "sieve_date.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const months[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};
static const char *const weekdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		for (; *p != '\0'; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

static bool number(const char **p, int min_digits, int max_digits, int *value_r)
{
	int n = 0, digits = 0;

	while (isdigit((unsigned char)**p) && digits < max_digits) {
		n = n * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	*value_r = n;
	return digits >= min_digits;
}

/* obsolete zone names (RFC 2822 4.3) */
static bool named_zone(const char *p, int *minutes_r)
{
	static const struct { const char *name; int minutes; } zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
		{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	};
	size_t len = 0;

	while (isalpha((unsigned char)p[len]))
		len++;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strlen(zones[i].name) == len && strncasecmp(p, zones[i].name, len) == 0) {
			*minutes_r = zones[i].minutes;
			return true;
		}
	}
	*minutes_r = 0;	/* other military zones: treated as -0000 */
	return len > 0;
}

bool sieve_zone_parse(const char *zone, int *minutes_r)
{
	int hh, mm;

	if ((zone[0] != '+' && zone[0] != '-') || strlen(zone) != 5)
		return false;
	for (int i = 1; i < 5; i++) {
		if (!isdigit((unsigned char)zone[i]))
			return false;
	}
	hh = (zone[1] - '0') * 10 + (zone[2] - '0');
	mm = (zone[3] - '0') * 10 + (zone[4] - '0');
	if (mm > 59)
		return false;
	*minutes_r = (zone[0] == '-' ? -1 : 1) * (hh * 60 + mm);
	return true;
}

bool sieve_date_parse(const char *value, struct sieve_date *date_r)
{
	const char *semi = strrchr(value, ';');
	const char *p = skip_cfws(semi != NULL ? semi + 1 : value);
	struct tm tm;
	int day, year, hour, minute, second = 0, month = -1, zone = 0;

	memset(&tm, 0, sizeof(tm));
	/* optional day-of-week "Mon," */
	if (isalpha((unsigned char)*p)) {
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_cfws(p);
		if (*p != ',')
			return false;
		p = skip_cfws(p + 1);
	}
	if (!number(&p, 1, 2, &day))
		return false;
	p = skip_cfws(p);
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(p, months[i], 3) == 0 && !isalpha((unsigned char)p[3])) {
			month = i;
			break;
		}
	}
	if (month < 0)
		return false;
	p = skip_cfws(p + 3);
	const char *ystart = p;
	if (!number(&p, 2, 4, &year))
		return false;
	if (p - ystart == 2)
		year += year < 50 ? 2000 : 1900;
	else if (p - ystart == 3)
		year += 1900;
	p = skip_cfws(p);
	if (!number(&p, 1, 2, &hour) || *p++ != ':' || !number(&p, 2, 2, &minute))
		return false;
	if (*p == ':') {
		p++;
		if (!number(&p, 2, 2, &second))
			return false;
	}
	p = skip_cfws(p);
	if (*p == '+' || *p == '-') {
		char z[6];

		memcpy(z, p, 5);
		z[5] = '\0';
		if (strlen(z) != 5 || !sieve_zone_parse(z, &zone))
			return false;
	} else if (!named_zone(p, &zone)) {
		return false;
	}
	if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = month;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	date_r->when = timegm(&tm) - (time_t)zone * 60;
	date_r->zone = zone;
	return true;
}

int sieve_local_zone(time_t when)
{
	struct tm tm;

	localtime_r(&when, &tm);
	return (int)(tm.tm_gmtoff / 60);
}

bool sieve_date_part(const struct sieve_date *date, const char *part,
		     struct strbuf *out)
{
	time_t shifted = date->when + (time_t)date->zone * 60;
	int zabs = date->zone < 0 ? -date->zone : date->zone;
	char sign = date->zone < 0 ? '-' : '+';
	struct tm tm;

	if (gmtime_r(&shifted, &tm) == NULL)
		return false;
	strbuf_reset(out);
	if (strcasecmp(part, "year") == 0)
		strbuf_appendf(out, "%04d", tm.tm_year + 1900);
	else if (strcasecmp(part, "month") == 0)
		strbuf_appendf(out, "%02d", tm.tm_mon + 1);
	else if (strcasecmp(part, "day") == 0)
		strbuf_appendf(out, "%02d", tm.tm_mday);
	else if (strcasecmp(part, "date") == 0)
		strbuf_appendf(out, "%04d-%02d-%02d", tm.tm_year + 1900,
			       tm.tm_mon + 1, tm.tm_mday);
	else if (strcasecmp(part, "julian") == 0) {
		/* Modified Julian Day: days since 1858-11-17 */
		long long days = (long long)(shifted >= 0 ? shifted / 86400 :
					     (shifted - 86399) / 86400);
		strbuf_appendf(out, "%lld", days + 40587);
	} else if (strcasecmp(part, "hour") == 0)
		strbuf_appendf(out, "%02d", tm.tm_hour);
	else if (strcasecmp(part, "minute") == 0)
		strbuf_appendf(out, "%02d", tm.tm_min);
	else if (strcasecmp(part, "second") == 0)
		strbuf_appendf(out, "%02d", tm.tm_sec);
	else if (strcasecmp(part, "time") == 0)
		strbuf_appendf(out, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	else if (strcasecmp(part, "iso8601") == 0) {
		strbuf_appendf(out, "%04d-%02d-%02dT%02d:%02d:%02d",
			       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			       tm.tm_hour, tm.tm_min, tm.tm_sec);
		/* UTC is written "Z" (RFC 3339), as Pigeonhole does */
		if (date->zone == 0)
			strbuf_putc(out, 'Z');
		else
			strbuf_appendf(out, "%c%02d:%02d", sign, zabs / 60, zabs % 60);
	}
	else if (strcasecmp(part, "std11") == 0)
		strbuf_appendf(out, "%s, %d %c%s %04d %02d:%02d:%02d %c%02d%02d",
			       weekdays[tm.tm_wday], tm.tm_mday,
			       toupper((unsigned char)months[tm.tm_mon][0]),
			       months[tm.tm_mon] + 1, tm.tm_year + 1900,
			       tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
			       zabs / 60, zabs % 60);
	else if (strcasecmp(part, "zone") == 0)
		strbuf_appendf(out, "%c%02d%02d", sign, zabs / 60, zabs % 60);
	else if (strcasecmp(part, "weekday") == 0)
		strbuf_appendf(out, "%d", tm.tm_wday);
	else
		return false;
	return true;
}
