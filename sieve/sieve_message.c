/*
 * sieve_message - header parsing, RFC 2047 decoding and address lists
 * (see sieve_message.h).
 */
#include "sieve_message.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* line_end - the end of the line at p (its LF, or end) */
static const char *line_end(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	return lf == NULL ? end : lf;
}

static void add_header(struct sieve_message *msg, size_t *cap,
		       const char *name, size_t name_len, struct strbuf *value)
{
	struct sieve_header *h;
	size_t start = 0, len = value->len;

	while (start < len && (value->data[start] == ' ' || value->data[start] == '\t'))
		start++;
	while (len > start && (value->data[len - 1] == ' ' || value->data[len - 1] == '\t'))
		len--;
	if (msg->nheaders == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		msg->headers = xreallocarray(msg->headers, *cap, sizeof(*msg->headers));
	}
	h = &msg->headers[msg->nheaders++];
	h->name = xstrndup(name, name_len);
	h->value = xstrndup(value->data + start, len - start);
}

void sieve_message_parse(struct sieve_message *msg, const char *data,
			 size_t size)
{
	const char *p = data, *end = data + size;
	struct strbuf value;
	size_t cap = 0;

	memset(msg, 0, sizeof(*msg));
	msg->data = data;
	msg->size = size;
	strbuf_init(&value, 128);
	/* an mbox "From " line is not a header */
	if (size >= 5 && memcmp(p, "From ", 5) == 0)
		p = line_end(p, end) + (line_end(p, end) < end ? 1 : 0);
	while (p < end) {
		const char *eol = line_end(p, end), *colon, *next;
		size_t len = (size_t)(eol - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			p = eol < end ? eol + 1 : end;
			break;
		}
		colon = memchr(p, ':', len);
		next = eol < end ? eol + 1 : end;
		if (colon == NULL || colon == p) {
			p = next;	/* not a header line: skip it */
			continue;
		}
		const char *name = p;
		size_t name_len = (size_t)(colon - p);
		while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
			name_len--;
		strbuf_reset(&value);
		strbuf_append(&value, colon + 1, len - (size_t)(colon + 1 - p));
		p = next;
		/* continuation lines */
		while (p < end && (*p == ' ' || *p == '\t')) {
			eol = line_end(p, end);
			len = (size_t)(eol - p);
			if (len > 0 && p[len - 1] == '\r')
				len--;
			strbuf_append(&value, p, len);
			p = eol < end ? eol + 1 : end;
		}
		if (msg->nheaders < SIEVE_MAX_HEADERS && name_len > 0)
			add_header(msg, &cap, name, name_len, &value);
	}
	msg->body_offset = (size_t)(p - data);
	strbuf_free(&value);
}

void sieve_message_free(struct sieve_message *msg)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	memset(msg, 0, sizeof(*msg));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int sieve_base64_decode(const char *text, size_t len, unsigned char *out,
			size_t *outlen_r)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64val(text[i]);

		if (text[i] == '=')
			break;
		if (v < 0) {
			if (text[i] == '\r' || text[i] == '\n' || text[i] == ' ' ||
			    text[i] == '\t')
				continue;
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen_r = n;
	return 0;
}

/* append_charset - bytes in charset appended as UTF-8; as they are when
   the charset is unknown or they do not convert */
static void append_charset(struct strbuf *out, const char *charset,
			   size_t charset_len, const char *data, size_t len)
{
	char name[64];
	iconv_t cd;
	size_t start = out->len;

	if (charset_len >= sizeof(name) || len == 0 ||
	    (charset_len == 5 && strncasecmp(charset, "utf-8", 5) == 0) ||
	    (charset_len == 8 && strncasecmp(charset, "us-ascii", 8) == 0)) {
		strbuf_append(out, data, len);
		return;
	}
	memcpy(name, charset, charset_len);
	name[charset_len] = '\0';
	/* RFC 2231 language suffix: "iso-8859-1*de" */
	name[strcspn(name, "*")] = '\0';
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
		strbuf_append(out, data, len);
		return;
	}
	char *in = (char *)data;
	size_t inleft = len;
	while (inleft > 0) {
		char buf[256], *o = buf;
		size_t oleft = sizeof(buf);

		if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 &&
		    errno != E2BIG) {
			strbuf_truncate(out, start);
			strbuf_append(out, data, len);
			break;
		}
		strbuf_append(out, buf, sizeof(buf) - oleft);
	}
	iconv_close(cd);
}

/* decode_word - one encoded-word "=?charset?E?text?=" at p; appended to
   out and the position after it returned, or NULL if not one */
static const char *decode_word(struct strbuf *out, const char *p)
{
	const char *charset = p + 2, *q1, *q2, *text, *stop;

	if ((q1 = strchr(charset, '?')) == NULL || q1[1] == '\0' || q1[2] != '?')
		return NULL;
	text = q1 + 3;
	if ((stop = strstr(text, "?=")) == NULL)
		return NULL;
	q2 = memchr(text, ' ', (size_t)(stop - text));
	if (q2 != NULL)
		return NULL;
	struct strbuf raw;
	strbuf_init(&raw, (size_t)(stop - text) + 1);
	switch (q1[1]) {
	case 'Q': case 'q':
		for (const char *c = text; c < stop; c++) {
			if (*c == '_') {
				strbuf_putc(&raw, ' ');
			} else if (*c == '=' && c + 2 < stop &&
				   hexval(c[1]) >= 0 && hexval(c[2]) >= 0) {
				strbuf_putc(&raw, (char)(hexval(c[1]) * 16 + hexval(c[2])));
				c += 2;
			} else {
				strbuf_putc(&raw, *c);
			}
		}
		break;
	case 'B': case 'b': {
		size_t len = (size_t)(stop - text);
		unsigned char *buf = xmalloc(len + 1);
		size_t outlen = 0;

		if (sieve_base64_decode(text, len, buf, &outlen) < 0) {
			free(buf);
			strbuf_free(&raw);
			return NULL;
		}
		strbuf_append(&raw, buf, outlen);
		free(buf);
		break;
	}
	default:
		strbuf_free(&raw);
		return NULL;
	}
	append_charset(out, charset, (size_t)(q1 - charset), raw.data, raw.len);
	strbuf_free(&raw);
	return stop + 2;
}

void sieve_decode_mime_words(struct strbuf *out, const char *value)
{
	const char *p = value;
	bool after_word = false;

	while (*p != '\0') {
		if (p[0] == '=' && p[1] == '?') {
			const char *next = decode_word(out, p);

			if (next != NULL) {
				p = next;
				after_word = true;
				continue;
			}
		}
		if (after_word && (*p == ' ' || *p == '\t')) {
			/* white space between two encoded-words is dropped */
			const char *q = p;

			while (*q == ' ' || *q == '\t')
				q++;
			if (q[0] == '=' && q[1] == '?') {
				size_t before = out->len;
				const char *next = decode_word(out, q);

				if (next != NULL) {
					p = next;
					continue;
				}
				strbuf_truncate(out, before);
			}
		}
		after_word = false;
		strbuf_putc(out, *p++);
	}
}

/* skip_comment - p at '('; past the matching ')' (nesting, quoting) */
static const char *skip_comment(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return p;
}

static char *trim_dup(const char *start, size_t len)
{
	while (len > 0 && isspace((unsigned char)*start)) {
		start++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)start[len - 1]))
		len--;
	return xstrndup(start, len);
}

/* addr_spec - the addr-spec text of one mailbox (comments dropped, a
   <...> part chosen, a source route removed); malloced */
static char *addr_spec(const char *start, size_t len)
{
	struct strbuf plain;
	const char *p = start, *end = start + len, *lt = NULL, *gt = NULL;
	bool quoted = false;
	char *spec;

	/* find <...> outside quotes and comments */
	for (const char *q = start; q < end; q++) {
		if (*q == '\\' && q + 1 < end) { q++; continue; }
		if (*q == '"') quoted = !quoted;
		else if (!quoted && *q == '(') {
			const char *after = skip_comment(q);
			q = (after > end ? end : after) - 1;
		} else if (!quoted && *q == '<' && lt == NULL) lt = q;
		else if (!quoted && *q == '>' && lt != NULL && gt == NULL) gt = q;
	}
	if (lt != NULL) {
		p = lt + 1;
		end = gt != NULL ? gt : end;
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (p < end && *p == '@' && colon != NULL)
			p = colon + 1;
	}
	strbuf_init(&plain, len + 1);
	quoted = false;
	for (const char *q = p; q < end; q++) {
		if (*q == '"') {
			quoted = !quoted;
			strbuf_putc(&plain, *q);
		} else if (!quoted && *q == '(') {
			const char *after = skip_comment(q);
			q = (after > end ? end : after) - 1;
		} else if (!quoted && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) {
			continue;
		} else {
			strbuf_putc(&plain, *q);
		}
	}
	spec = trim_dup(plain.data, plain.len);
	strbuf_free(&plain);
	return spec;
}

static void add_address(struct sieve_address **addrs, size_t *count,
			size_t *cap, const char *start, size_t len)
{
	struct sieve_address *a;
	char *spec, *at;

	/* a group's display name "name:" and its closing ';' */
	const char *colon = NULL;
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		if (start[i] == '"') quoted = !quoted;
		else if (!quoted && start[i] == '<') break;
		else if (!quoted && start[i] == ':') { colon = start + i; break; }
	}
	if (colon != NULL) {
		len -= (size_t)(colon + 1 - start);
		start = colon + 1;
	}
	while (len > 0 && (start[len - 1] == ';' || isspace((unsigned char)start[len - 1])))
		len--;
	spec = addr_spec(start, len);
	if (*spec == '\0') {
		free(spec);
		return;
	}
	/* the display name: what comes before an unquoted '<' */
	const char *lt = NULL;
	quoted = false;
	for (size_t i = 0; i < len && lt == NULL; i++) {
		if (start[i] == '"') quoted = !quoted;
		else if (!quoted && start[i] == '<') lt = start + i;
	}
	if (*count == *cap) {
		*cap = *cap == 0 ? 4 : *cap * 2;
		*addrs = xreallocarray(*addrs, *cap, sizeof(**addrs));
	}
	a = &(*addrs)[(*count)++];
	a->raw = spec;
	a->name = lt == NULL ? NULL : trim_dup(start, (size_t)(lt - start));
	at = strrchr(spec, '@');
	if (at == NULL || at == spec || at[1] == '\0') {
		a->local = NULL;
		a->domain = NULL;
		return;
	}
	a->local = xstrndup(spec, (size_t)(at - spec));
	a->domain = xstrdup(at + 1);
	/* an unquoted local part "a b" in quotes is compared without them */
	size_t llen = strlen(a->local);
	if (llen >= 2 && a->local[0] == '"' && a->local[llen - 1] == '"') {
		memmove(a->local, a->local + 1, llen - 2);
		a->local[llen - 2] = '\0';
	}
}

struct sieve_address *sieve_parse_addresses(const char *value, size_t *count_r)
{
	struct sieve_address *addrs = NULL;
	size_t count = 0, cap = 0;
	const char *start = value, *p = value;
	bool quoted = false, angle = false;

	for (; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (quoted) {
			continue;
		} else if (*p == '(') {
			p = skip_comment(p) - 1;
		} else if (*p == '<') {
			angle = true;
		} else if (*p == '>') {
			angle = false;
		} else if (!angle && (*p == ',' || *p == ';')) {
			add_address(&addrs, &count, &cap, start, (size_t)(p - start));
			start = p + 1;
		}
	}
	add_address(&addrs, &count, &cap, start, (size_t)(p - start));
	*count_r = count;
	return addrs;
}

void sieve_addresses_free(struct sieve_address *addrs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(addrs[i].local);
		free(addrs[i].domain);
		free(addrs[i].raw);
		free(addrs[i].name);
	}
	free(addrs);
}

bool sieve_address_valid(const char *addr)
{
	const char *at = strrchr(addr, '@');
	bool quoted = false;

	if (at == NULL || at == addr || at[1] == '\0')
		return false;
	for (const char *p = addr; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (c < 0x21 || c == 0x7f)
			return false;
		if (!quoted && strchr("()<>,;:\\[]", c) != NULL)
			return false;
	}
	if (quoted)
		return false;
	for (const char *p = at + 1; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_')
			return false;
	}
	return at[1] != '.';
}

bool sieve_mailbox_name_valid(const char *name)
{
	if (*name == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}
