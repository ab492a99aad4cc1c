/*
 * sieve_body - MIME walking for the body test (see sieve_body.h).
 */
#include "sieve_body.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

struct body_out {
	struct sieve_values values;
	size_t parts;
	const struct sieve_arg *types;	/* NULL: "text" */
};

/* header_get - the first value of name among a part's headers */
static const char *header_get(const struct sieve_message *part, const char *name)
{
	for (size_t i = 0; i < part->nheaders; i++) {
		if (strcasecmp(part->headers[i].name, name) == 0)
			return part->headers[i].value;
	}
	return NULL;
}

/* content_type - "type/subtype" lower-cased into type (default
   text/plain) and the boundary parameter, if any, into boundary */
static void content_type(const char *value, struct strbuf *type,
			 struct strbuf *boundary)
{
	const char *p;

	strbuf_reset(type);
	strbuf_reset(boundary);
	if (value == NULL) {
		strbuf_append_str(type, "text/plain");
		return;
	}
	for (p = value; *p != '\0' && *p != ';' && !isspace((unsigned char)*p); p++)
		strbuf_putc(type, (char)tolower((unsigned char)*p));
	if (strchr(type->data, '/') == NULL) {
		strbuf_reset(type);
		strbuf_append_str(type, "text/plain");
	}
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (strncasecmp(p, "boundary", 8) != 0)
			continue;
		p += 8;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				strbuf_putc(boundary, *p);
		} else {
			for (; *p != '\0' && *p != ';' && !isspace((unsigned char)*p); p++)
				strbuf_putc(boundary, *p);
		}
		return;
	}
}

static bool type_wanted(const struct body_out *out, const char *type)
{
	const char *slash = strchr(type, '/');
	size_t major = (size_t)(slash - type);

	if (out->types == NULL)
		return strncmp(type, "text/", 5) == 0;
	for (size_t i = 0; i < out->types->nstrs; i++) {
		const char *want = out->types->strs[i].data;

		if (*want == '\0' || strcasecmp(want, type) == 0 ||
		    (strchr(want, '/') == NULL && strlen(want) == major &&
		     strncasecmp(want, type, major) == 0))
			return true;
	}
	return false;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* decode - a part's content after its transfer encoding */
static void decode(const char *encoding, const char *data, size_t len,
		   struct strbuf *out)
{
	strbuf_reset(out);
	if (encoding != NULL && strncasecmp(encoding, "base64", 6) == 0) {
		unsigned char *buf = xmalloc(len + 1);
		size_t n = 0;

		if (sieve_base64_decode(data, len, buf, &n) == 0)
			strbuf_append(out, buf, n);
		else
			strbuf_append(out, data, len);
		free(buf);
		return;
	}
	if (encoding != NULL && strncasecmp(encoding, "quoted-printable", 16) == 0) {
		for (size_t i = 0; i < len; i++) {
			if (data[i] != '=') {
				strbuf_putc(out, data[i]);
			} else if (i + 2 < len + 0 && hexv(data[i + 1]) >= 0 &&
				   hexv(data[i + 2]) >= 0) {
				strbuf_putc(out, (char)(hexv(data[i + 1]) * 16 + hexv(data[i + 2])));
				i += 2;
			} else if (i + 1 < len && data[i + 1] == '\n') {
				i++;
			} else if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n') {
				i += 2;
			} else {
				strbuf_putc(out, data[i]);
			}
		}
		return;
	}
	strbuf_append(out, data, len);
}

/* find_line - the next occurrence of "--boundary" at a line start in
   [p, end), or NULL */
static const char *find_delimiter(const char *p, const char *end,
				  const char *boundary, size_t blen,
				  const char *start)
{
	while (p + 2 + blen <= end) {
		const char *hit = memmem(p, (size_t)(end - p), "--", 2);

		if (hit == NULL || hit + 2 + blen > end)
			return NULL;
		if ((hit == start || hit[-1] == '\n') &&
		    memcmp(hit + 2, boundary, blen) == 0)
			return hit;
		p = hit + 1;
	}
	return NULL;
}

static int walk(const char *data, size_t size, unsigned int depth,
		struct body_out *out)
{
	struct sieve_message part;
	struct strbuf type, boundary, decoded;
	int ret = 0;

	if (depth > SIEVE_BODY_MAX_DEPTH || ++out->parts > SIEVE_BODY_MAX_PARTS)
		return -1;
	sieve_message_parse(&part, data, size);
	strbuf_init(&type, 32);
	strbuf_init(&boundary, 32);
	strbuf_init(&decoded, 256);
	content_type(header_get(&part, "Content-Type"), &type, &boundary);
	if (strncmp(type.data, "multipart/", 10) == 0 && boundary.len > 0) {
		const char *body = data + part.body_offset, *end = data + size;
		const char *p = find_delimiter(body, end, boundary.data,
					       boundary.len, body);

		while (p != NULL && ret == 0) {
			const char *start = memchr(p, '\n', (size_t)(end - p));
			const char *next;

			if (p + 2 + boundary.len + 2 <= end &&
			    memcmp(p + 2 + boundary.len, "--", 2) == 0)
				break;	/* the closing delimiter */
			if (start == NULL)
				break;
			start++;
			next = find_delimiter(start, end, boundary.data,
					      boundary.len, body);
			const char *stop = next == NULL ? end : next;
			/* the line break before a delimiter belongs to it */
			if (stop > start && stop[-1] == '\n')
				stop--;
			if (stop > start && stop[-1] == '\r')
				stop--;
			ret = walk(start, (size_t)(stop - start), depth + 1, out);
			p = next;
		}
	} else if (type_wanted(out, type.data)) {
		decode(header_get(&part, "Content-Transfer-Encoding"),
		       data + part.body_offset, size - part.body_offset, &decoded);
		sieve_values_add(&out->values, decoded.data, decoded.len);
	}
	strbuf_free(&type);
	strbuf_free(&boundary);
	strbuf_free(&decoded);
	sieve_message_free(&part);
	return ret;
}

int sieve_body_values(const struct sieve_message *msg,
		      const struct sieve_node *node,
		      struct sieve_values *values_r)
{
	struct body_out out;
	int ret = 0;

	memset(&out, 0, sizeof(out));
	if ((node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_RAW)) != 0) {
		sieve_values_add(&out.values, msg->data + msg->body_offset,
			msg->size - msg->body_offset);
	} else {
		out.types = node->r.tag_arg[SIEVE_TAG_CONTENT];
		ret = walk(msg->data, msg->size, 0, &out);
	}
	*values_r = out.values;
	return ret;
}
