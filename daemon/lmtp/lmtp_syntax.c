/*
 * lmtp_syntax - grammar pieces of LMTP commands, following Dovecot 2.3's
 * lib-smtp parser step by step so that errors carry the same reasons.
 * Deliberate leniency: 8-bit UTF-8 is accepted in paths' local parts and
 * domains (Dovecot accepts 8-bit MAIL FROM although it does not advertise
 * SMTPUTF8).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lmtp_syntax.h"
#include "xalloc.h"

/*
 * Character classes (RFC 5321 / 3461, as Dovecot's lookup table has them)
 */

/* lmtp_syntax_is_alpha - ASCII letter, independent of the locale */
bool lmtp_syntax_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool lmtp_syntax_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

bool lmtp_syntax_is_alnum(unsigned char c)
{
	return lmtp_syntax_is_alpha(c) || lmtp_syntax_is_digit(c);
}

/* lmtp_syntax_is_atext - RFC 5321 atext (printable ASCII except specials) */
bool lmtp_syntax_is_atext(unsigned char c)
{
	if (lmtp_syntax_is_alnum(c))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_qtext - qtextSMTP: printable ASCII and SP except '"' and '\' */
static bool is_qtext(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

/* is_qpair - what may follow '\' in a quoted string */
static bool is_qpair(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* lmtp_syntax_is_xtext - RFC 3461 xchar: '!'..'~' except '+' and '=' */
bool lmtp_syntax_is_xtext(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '+' && c != '=';
}

/* lmtp_syntax_is_esmtp_value - '!'..'~' except '=' */
bool lmtp_syntax_is_esmtp_value(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '=';
}

/* is_dcontent - address-literal content: '!'..'~' except '[', '\', ']' */
static bool is_dcontent(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '[' && c != '\\' && c != ']';
}

/* lmtp_syntax_is_textstr - HT and printable ASCII with SP */
bool lmtp_syntax_is_textstr(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c <= 0x7e);
}

/* is_domain_char - sub-domain character (Dovecot also allows '_' and a
   leading '-'; loft adds 8-bit UTF-8 for internationalized domains) */
static bool is_domain_char(unsigned char c)
{
	return lmtp_syntax_is_alnum(c) || c == '-' || c == '_' || c >= 0x80;
}

/* is_path_atext - atext of a path's local part, 8-bit included */
static bool is_path_atext(unsigned char c)
{
	return lmtp_syntax_is_atext(c) || c >= 0x80;
}

size_t lmtp_syntax_utf8_char_len(const unsigned char *p,
				 const unsigned char *end)
{
	uint32_t cp, min;
	size_t n, i;

	if (p[0] < 0xc2)
		return 0;
	if (p[0] < 0xe0) {
		n = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if (p[0] < 0xf0) {
		n = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if (p[0] < 0xf5) {
		n = 4; cp = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Lexical pieces
 */

void lmtp_syntax_init(struct lmtp_syntax *p, const char *text)
{
	p->cur = (const unsigned char *)text;
	p->end = p->cur + strlen(text);
	p->reason = LMTP_REASON_COUNT;
}

bool lmtp_syntax_peek(const struct lmtp_syntax *p, unsigned char c)
{
	return p->cur < p->end && *p->cur == c;
}

/* lmtp_syntax_quoted_string - DQUOTE *(qtext / quoted-pair) DQUOTE into out
   (unquoted); 8-bit text allowed when eightbit. 1 ok, 0 none, -1 error */
int lmtp_syntax_quoted_string(struct lmtp_syntax *p, bool eightbit,
			       struct strbuf *out)
{
	if (!lmtp_syntax_peek(p, '"'))
		return 0;
	p->cur++;
	while (p->cur < p->end) {
		unsigned char c = *p->cur;

		if (is_qtext(c) || (eightbit && c >= 0x80)) {
			strbuf_putc(out, (char)c);
			p->cur++;
			continue;
		}
		if (c != '\\')
			break;
		p->cur++;
		if (p->cur >= p->end || !is_qpair(*p->cur)) {
			p->reason = LMTP_REASON_QS_ESCAPE;
			return -1;
		}
		strbuf_putc(out, (char)*p->cur);
		p->cur++;
	}
	if (p->cur >= p->end) {
		p->reason = LMTP_REASON_QS_PREMATURE;
		return -1;
	}
	if (*p->cur != '"') {
		p->reason = LMTP_REASON_QS_CHAR;
		return -1;
	}
	p->cur++;
	return 1;
}

/* lmtp_syntax_run - consume a run of chars of a class into out (may be NULL);
   1 when at least one was consumed, else 0 */
int lmtp_syntax_run(struct lmtp_syntax *p, bool (*is_class)(unsigned char),
		     struct strbuf *out)
{
	const unsigned char *begin = p->cur;

	while (p->cur < p->end && is_class(*p->cur))
		p->cur++;
	if (out != NULL)
		strbuf_append(out, begin, (size_t)(p->cur - begin));
	return p->cur > begin ? 1 : 0;
}

/* is_dot_string_char - Dovecot's lenient Dot-string: atext and dots in any
   order (some Japanese addresses have dots at non-standard places) */
static bool is_dot_string_char(unsigned char c)
{
	return is_path_atext(c) || c == '.';
}

/* parse_domain - sub-domain *("." sub-domain); 1 ok, 0 none, -1 error */
static int parse_domain(struct lmtp_syntax *p)
{
	if (p->cur >= p->end || !is_domain_char(*p->cur))
		return 0;
	for (;;) {
		if (p->cur >= p->end || *p->cur == '.') {
			p->reason = LMTP_REASON_EMPTY_SUBDOMAIN;
			return -1;
		}
		if (!is_domain_char(*p->cur)) {
			p->reason = LMTP_REASON_DOMAIN_CHAR;
			return -1;
		}
		(void)lmtp_syntax_run(p, is_domain_char, NULL);
		if (!lmtp_syntax_peek(p, '.'))
			return 1;
		p->cur++;
	}
}

/* parse_snum - 1*DIGIT with a value of at most 255; 1 ok, 0 none, -1 */
static int parse_snum(struct lmtp_syntax *p)
{
	unsigned int value = 0;

	if (p->cur >= p->end || !lmtp_syntax_is_digit(*p->cur))
		return 0;
	while (p->cur < p->end && lmtp_syntax_is_digit(*p->cur)) {
		value = value * 10 + (unsigned int)(*p->cur - '0');
		if (value > 255)
			return -1;
		p->cur++;
	}
	return 1;
}

/* parse_ipv4_literal - Snum 3("." Snum); 1 ok, 0 not IPv4, -1 error */
static int parse_ipv4_literal(struct lmtp_syntax *p)
{
	int ret, i;

	if ((ret = parse_snum(p)) <= 0)
		return ret;
	for (i = 0; i < 3 && p->cur < p->end; i++) {
		if (*p->cur != '.')
			return -1;
		p->cur++;
		if (parse_snum(p) <= 0)
			return -1;
	}
	return 1;
}

/* parse_ldh_tag - Standardized-tag (Ldh-str ending in a letter/digit);
   returns its length, 0 when there is none */
static size_t parse_ldh_tag(struct lmtp_syntax *p)
{
	const unsigned char *begin = p->cur, *last_alnum = NULL;

	while (p->cur < p->end &&
	       (lmtp_syntax_is_alnum(*p->cur) || *p->cur == '-')) {
		if (lmtp_syntax_is_alnum(*p->cur))
			last_alnum = p->cur;
		p->cur++;
	}
	if (last_alnum == NULL) {
		p->cur = begin;
		return 0;
	}
	p->cur = last_alnum + 1;
	return (size_t)(p->cur - begin);
}

/* parse_general_literal - IPv6-address-literal or General-address-literal
   (tag ":" 1*dcontent) after the '['; 1 ok, -1 error */
static int parse_general_literal(struct lmtp_syntax *p)
{
	const unsigned char *tag = p->cur, *content;
	size_t tag_len = parse_ldh_tag(p);
	bool ipv6;

	if (tag_len == 0 || !lmtp_syntax_peek(p, ':')) {
		p->reason = LMTP_REASON_LITERAL;
		return -1;
	}
	ipv6 = tag_len == 4 && strncasecmp((const char *)tag, "IPv6", 4) == 0;
	p->cur++;
	content = p->cur;
	if (lmtp_syntax_run(p, is_dcontent, NULL) == 0) {
		p->reason = LMTP_REASON_LITERAL_EMPTY;
		return -1;
	}
	if (ipv6) {
		struct in6_addr addr;
		char *text = xstrndup((const char *)content,
				      (size_t)(p->cur - content));
		int ok = inet_pton(AF_INET6, text, &addr);

		free(text);
		if (ok != 1) {
			p->reason = LMTP_REASON_IPV6_LITERAL;
			return -1;
		}
	}
	return 1;
}

/* parse_address_literal - "[" (IPv4 / IPv6 / general) "]";
   1 ok, 0 none, -1 error */
static int parse_address_literal(struct lmtp_syntax *p)
{
	int ret;

	if (!lmtp_syntax_peek(p, '['))
		return 0;
	p->cur++;
	if ((ret = parse_ipv4_literal(p)) < 0) {
		p->reason = LMTP_REASON_IPV4_LITERAL;
		return -1;
	}
	if (ret == 0 && parse_general_literal(p) < 0)
		return -1;
	if (p->cur >= p->end) {
		p->reason = LMTP_REASON_LITERAL_BRACKET;
		return -1;
	}
	if (*p->cur != ']') {
		p->reason = LMTP_REASON_LITERAL_CHAR;
		return -1;
	}
	p->cur++;
	return 1;
}

/* lmtp_syntax_domain_or_literal - Domain / address-literal; 1, 0 or -1 */
int lmtp_syntax_domain_or_literal(struct lmtp_syntax *p)
{
	int ret = parse_domain(p);

	return ret != 0 ? ret : parse_address_literal(p);
}

/*
 * Paths (RFC 5321 section 4.1.2)
 */

/* parse_source_route - [ A-d-l ":" ], ignored; 1 ok, 0 none, -1 error */
static int parse_source_route(struct lmtp_syntax *p)
{
	if (!lmtp_syntax_peek(p, '@'))
		return 0;
	p->cur++;
	for (;;) {
		if (parse_domain(p) <= 0) {
			p->reason = LMTP_REASON_ROUTE_DOMAIN;
			return -1;
		}
		if (!lmtp_syntax_peek(p, ','))
			break;
		p->cur++;
		if (!lmtp_syntax_peek(p, '@')) {
			p->reason = LMTP_REASON_ROUTE_AT;
			return -1;
		}
		p->cur++;
	}
	if (!lmtp_syntax_peek(p, ':')) {
		p->reason = LMTP_REASON_ROUTE_COLON;
		return -1;
	}
	p->cur++;
	return 1;
}

/* at_path_end - at the end of the text or of the path (before '>') */
static bool at_path_end(const struct lmtp_syntax *p)
{
	return p->cur >= p->end || *p->cur == '>';
}

/* parse_mailbox - Local-part [ "@" (Domain / address-literal) ];
   the domain is optional when allow_localpart. 1 ok, 0 none, -1 error */
static int parse_mailbox(struct lmtp_syntax *p, bool allow_localpart,
			 struct lmtp_path *path)
{
	const unsigned char *domain;
	int ret;

	ret = lmtp_syntax_quoted_string(p, true, &path->localpart);
	if (ret == 0)
		ret = lmtp_syntax_run(p, is_dot_string_char, &path->localpart);
	if (ret <= 0)
		return ret;

	if (!lmtp_syntax_peek(p, '@')) {
		if (allow_localpart)
			return 1;
		p->reason = at_path_end(p) ? LMTP_REASON_MISSING_DOMAIN :
			LMTP_REASON_LOCALPART_CHAR;
		return -1;
	}
	p->cur++;
	domain = p->cur;
	if ((ret = lmtp_syntax_domain_or_literal(p)) == 0) {
		p->reason = at_path_end(p) ? LMTP_REASON_MISSING_DOMAIN_AT :
			LMTP_REASON_INVALID_DOMAIN;
		return -1;
	}
	if (ret < 0)
		return -1;
	path->domain = domain;
	path->domain_end = p->cur;
	return 1;
}

/* lmtp_syntax_path - "<" [ A-d-l ":" ] Mailbox ">", or "<>" when allow_empty;
   0 ok, -1 error with p->reason set */
int lmtp_syntax_path(struct lmtp_syntax *p, bool allow_empty,
		      bool allow_localpart, struct lmtp_path *path)
{
	int route, ret;

	if (p->cur >= p->end) {
		p->reason = LMTP_REASON_PATH_EMPTY;
		return -1;
	}
	if (*p->cur != '<') {
		p->reason = LMTP_REASON_MISSING_LT;
		return -1;
	}
	p->cur++;
	if ((route = parse_source_route(p)) < 0)
		return -1;
	if ((ret = parse_mailbox(p, allow_localpart, path)) < 0)
		return -1;
	if (ret == 0) {
		if (!lmtp_syntax_peek(p, '>'))
			p->reason = LMTP_REASON_LOCALPART_CHAR;
		else if (route > 0)
			p->reason = LMTP_REASON_ROUTE_ONLY;
		else if (!allow_empty)
			p->reason = LMTP_REASON_NULL_PATH;
		else
			path->null_path = true;
		if (!path->null_path)
			return -1;
	}
	if (!lmtp_syntax_peek(p, '>')) {
		p->reason = LMTP_REASON_MISSING_GT;
		return -1;
	}
	p->cur++;
	return 0;
}

/* lmtp_syntax_localpart_needs_quotes - whether the local part is not a plain
   dot-atom (empty, a leading/trailing/double dot, or a special) */
bool lmtp_syntax_localpart_needs_quotes(const char *lp, size_t len)
{
	size_t i;

	if (len == 0 || lp[0] == '.' || lp[len - 1] == '.')
		return true;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)lp[i];

		if (c == '.' ? lp[i - 1] == '.' : !is_path_atext(c))
			return true;
	}
	return false;
}

/* is_rfc822_atext - RFC 5322 atext, with dots (dot-atom, leniently) */
static bool is_rfc822_dot_atom(unsigned char c)
{
	return lmtp_syntax_is_atext(c) || c == '.';
}

/* is_rfc822_dtext - domain-literal text: printable except '[', '\', ']' */
static bool is_rfc822_dtext(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '[' && c != '\\' && c != ']';
}

bool lmtp_syntax_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

bool lmtp_syntax_rfc822_address_valid(const char *text)
{
	const char *lt = strchr(text, '<');
	struct strbuf scratch;
	struct lmtp_syntax p;
	bool ok;

	lmtp_syntax_init(&p, text);
	if (lt != NULL) {
		const char *gt = strchr(lt, '>');

		if (gt == NULL || strchr(gt + 1, '<') != NULL)
			return false;
		p.cur = (const unsigned char *)lt + 1;
		p.end = (const unsigned char *)gt;
		while (lmtp_syntax_is_wsp(gt[1]))
			gt++;
		if (gt[1] != '\0')
			return false;
	}
	while (p.cur < p.end && lmtp_syntax_is_wsp(*p.cur))
		p.cur++;
	while (p.end > p.cur && lmtp_syntax_is_wsp(p.end[-1]))
		p.end--;

	strbuf_init(&scratch, 64);
	ok = lmtp_syntax_quoted_string(&p, false, &scratch) > 0 ||
		lmtp_syntax_run(&p, is_rfc822_dot_atom, NULL) > 0;
	strbuf_free(&scratch);
	if (ok && lmtp_syntax_peek(&p, '@')) {
		p.cur++;
		if (lmtp_syntax_peek(&p, '[')) {
			p.cur++;
			(void)lmtp_syntax_run(&p, is_rfc822_dtext, NULL);
			if ((ok = lmtp_syntax_peek(&p, ']')))
				p.cur++;
		} else {
			ok = lmtp_syntax_run(&p, is_rfc822_dot_atom, NULL) > 0;
		}
	}
	return ok && p.cur == p.end;
}
