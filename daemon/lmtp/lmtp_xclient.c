/*
 * lmtp_xclient - parsing and writing XCLIENT (see lmtp_xclient.h).
 */
#include "lmtp_xclient.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error_slot.h"
#include "strbuf.h"
#include "xalloc.h"

/* longest decoded value kept (ADDR, SESSION); others are only checked */
#define XCLIENT_VALUE_MAX 256

static __thread struct error_slot lmtp_xclient_error;

static const struct {
	const char *name;
	unsigned int flag;
} xclient_attrs[] = {
	{ "ADDR", LMTP_XCLIENT_ADDR },
	{ "PORT", LMTP_XCLIENT_PORT },
	{ "TTL", LMTP_XCLIENT_TTL },
	{ "SESSION", LMTP_XCLIENT_SESSION },
};

/* attr_flag - the LMTP_XCLIENT_* of name[0..len), or 0 */
static unsigned int attr_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(xclient_attrs) / sizeof(*xclient_attrs); i++) {
		if (strlen(xclient_attrs[i].name) == len &&
		    strncasecmp(xclient_attrs[i].name, name, len) == 0)
			return xclient_attrs[i].flag;
	}
	return 0;
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
		c - 'A' + 10 : -1;
}

/* xtext_decode - value[0..len) into out[0..size) (NUL-terminated; out
   NULL: only check); -1 for bytes that are no xtext, a NUL, or a value
   too long for out */
static int xtext_decode(const char *value, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '+') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = hex_value(value[i + 1]);
			lo = hex_value(value[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return -1;
		}
		if (out != NULL) {
			if (n + 1 >= size)
				return -1;
			out[n] = (char)c;
		}
		n++;
	}
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

/* session_valid - 1..SESSION_ID_BUFSIZE-1 of [A-Za-z0-9+/:] */
static bool session_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= SESSION_ID_BUFSIZE)
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/' &&
		    *s != ':')
			return false;
	}
	return true;
}

/* number - a decimal 0..max without sign or leading junk */
static bool number(const char *s, unsigned long max, unsigned int *value_r)
{
	unsigned long value = 0;

	if (*s == '\0' || strlen(s) > 10)
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		value = value * 10 + (unsigned long)(*s - '0');
	}
	if (value > max)
		return false;
	*value_r = (unsigned int)value;
	return true;
}

/* set_attr - one known attribute's decoded value into xc */
static int set_attr(struct lmtp_xclient *xc, unsigned int flag,
		    const char *value)
{
	unsigned char addr[16];
	const char *ip = value;

	if (strcasecmp(value, "[UNAVAILABLE]") == 0 ||
	    strcasecmp(value, "[TEMPUNAVAIL]") == 0)
		return 0;
	switch (flag) {
	case LMTP_XCLIENT_ADDR:
		if (strncasecmp(ip, "IPV6:", 5) == 0) {
			ip += 5;
			if (inet_pton(AF_INET6, ip, addr) != 1)
				return -1;
		} else if (inet_pton(AF_INET, ip, addr) != 1 &&
			   inet_pton(AF_INET6, ip, addr) != 1) {
			return -1;
		}
		if (strlen(ip) >= sizeof(xc->addr))
			return -1;
		snprintf(xc->addr, sizeof(xc->addr), "%s", ip);
		break;
	case LMTP_XCLIENT_PORT:
		if (!number(value, 65535, &xc->port) || xc->port == 0)
			return -1;
		break;
	case LMTP_XCLIENT_TTL:
		if (!number(value, 0xffffffffUL - 1, &xc->ttl))
			return -1;
		break;
	case LMTP_XCLIENT_SESSION:
		if (!session_valid(value))
			return -1;
		snprintf(xc->session, sizeof(xc->session), "%s", value);
		break;
	}
	xc->given |= flag;
	return 0;
}

int lmtp_xclient_parse(const char *params, struct lmtp_xclient *xc_r,
		       const char **error_r)
{
	char value[XCLIENT_VALUE_MAX];
	const char *p = params;
	bool any = false;

	memset(xc_r, 0, sizeof(*xc_r));
	while (*p != '\0') {
		const char *start = p, *eq, *end;
		unsigned int flag;

		if (*p == ' ') {
			p++;
			continue;
		}
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		p = end;
		eq = memchr(start, '=', (size_t)(end - start));
		if (eq == NULL || eq == start) {
			*error_r = "Invalid parameter";
			return -1;
		}
		for (const char *c = start; c < eq; c++) {
			if (!isalnum((unsigned char)*c) && *c != '-') {
				*error_r = "Invalid parameter";
				return -1;
			}
		}
		any = true;
		flag = attr_flag(start, (size_t)(eq - start));
		if (xtext_decode(eq + 1, (size_t)(end - eq - 1),
				 flag != 0 ? value : NULL, sizeof(value)) < 0 ||
		    (flag != 0 && set_attr(xc_r, flag, value) < 0)) {
			*error_r = error_slot_set(&lmtp_xclient_error,
						  "Invalid %.*s parameter",
						  (int)(eq - start > 32 ? 32 :
							eq - start), start);
			return -1;
		}
	}
	if (!any) {
		*error_r = "Syntax: XCLIENT attribute=value ...";
		return -1;
	}
	return 0;
}

/* xtext_append - value as xtext */
static void xtext_append(struct strbuf *buf, const char *value)
{
	for (const unsigned char *c = (const unsigned char *)value; *c != '\0'; c++) {
		if (*c < 33 || *c > 126 || *c == '+' || *c == '=')
			strbuf_appendf(buf, "+%02X", *c);
		else
			strbuf_putc(buf, (char)*c);
	}
}

char *lmtp_xclient_format(const struct lmtp_xclient *xc, unsigned int offered)
{
	unsigned int send = xc->given & offered;
	struct strbuf buf;

	if (send == 0)
		return NULL;
	strbuf_init(&buf, 128);
	strbuf_append_str(&buf, "XCLIENT");
	/* the client's address last, as Postfix advises */
	if ((send & LMTP_XCLIENT_SESSION) != 0) {
		strbuf_append_str(&buf, " SESSION=");
		xtext_append(&buf, xc->session);
	}
	if ((send & LMTP_XCLIENT_TTL) != 0) {
		strbuf_appendf(&buf, " TTL=%u", xc->ttl);
	}
	if ((send & LMTP_XCLIENT_PORT) != 0)
		strbuf_appendf(&buf, " PORT=%u", xc->port);
	if ((send & LMTP_XCLIENT_ADDR) != 0) {
		strbuf_append_str(&buf, " ADDR=");
		xtext_append(&buf, xc->addr);
	}
	return strbuf_detach(&buf);
}

unsigned int lmtp_xclient_offered(const char *text, unsigned int len)
{
	unsigned int mask = 0;
	size_t i = 7;

	if (len < 7 || strncasecmp(text, "XCLIENT", 7) != 0 ||
	    (len > 7 && text[7] != ' '))
		return 0;
	while (i < len) {
		size_t start;

		while (i < len && text[i] == ' ')
			i++;
		start = i;
		while (i < len && text[i] != ' ')
			i++;
		mask |= attr_flag(text + start, i - start);
	}
	return mask;
}
