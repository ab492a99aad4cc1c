/*
 * lmtp_command - the LMTP command-line parser. It follows the steps of
 * Dovecot 2.3's lib-smtp so that every reply code and text matches: first
 * the line syntax (alphabetic verb of at most 32 letters, one SP, textstr
 * or valid UTF-8 parameters, trailing white space trimmed; anything else is
 * "500 5.5.2 Invalid command syntax"), then the verb lookup ("500 5.5.1
 * Unknown command"), then the per-command grammar of RFC 5321/2033 with
 * Dovecot's error texts. Deliberate leniencies: white space is allowed
 * after "FROM:"/"TO:" (Postfix sends none, some clients do), and 8-bit
 * UTF-8 is accepted in the local part and domain of MAIL/RCPT paths.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lmtp_command.h"
#include "lmtp_syntax.h"
#include "strbuf.h"
#include "xalloc.h"

#define LMTP_COMMAND_MAX_VERB_LEN 32

/* the prefix a reason is reported under */
enum reason_prefix {
	PREFIX_FROM,
	PREFIX_TO,
	PREFIX_STRING,
	PREFIX_MAIL_PARAM,
	PREFIX_RCPT_PARAM,
	PREFIX_COUNT
};

#define LMTP_REASON_TEXT(P, id, text) [LMTP_REASON_##id] = P text,
static const char *const reason_texts[PREFIX_COUNT][LMTP_REASON_COUNT] = {
	[PREFIX_FROM] = { LMTP_REASONS(LMTP_REASON_TEXT, "Invalid FROM: ") },
	[PREFIX_TO] = { LMTP_REASONS(LMTP_REASON_TEXT, "Invalid TO: ") },
	[PREFIX_STRING] = {
		LMTP_REASONS(LMTP_REASON_TEXT, "Invalid string parameter: ") },
	[PREFIX_MAIL_PARAM] = {
		LMTP_REASONS(LMTP_REASON_TEXT, "Invalid MAIL parameter: ") },
	[PREFIX_RCPT_PARAM] = {
		LMTP_REASONS(LMTP_REASON_TEXT, "Invalid RCPT parameter: ") },
};

/* one esmtp-param: keyword [ "=" value ] */
struct esmtp_param {
	const char *keyword;
	size_t keyword_len;
	const char *value;	/* NULL when there is no "=" */
};

typedef int lmtp_verb_parse_t(struct lmtp_command *cmd, const char *params,
			      struct lmtp_command_error *error_r);

struct verb_def {
	const char *name;
	enum lmtp_verb verb;
	lmtp_verb_parse_t *parse;
};

static lmtp_verb_parse_t parse_lhlo, parse_mail, parse_rcpt,
	parse_no_params, parse_bdat, parse_noop, parse_vrfy, parse_any;

static const struct verb_def verb_defs[] = {
	{ "LHLO", LMTP_VERB_LHLO, parse_lhlo },
	{ "MAIL", LMTP_VERB_MAIL, parse_mail },
	{ "RCPT", LMTP_VERB_RCPT, parse_rcpt },
	{ "DATA", LMTP_VERB_DATA, parse_no_params },
	{ "BDAT", LMTP_VERB_BDAT, parse_bdat },
	{ "RSET", LMTP_VERB_RSET, parse_no_params },
	{ "NOOP", LMTP_VERB_NOOP, parse_noop },
	{ "VRFY", LMTP_VERB_VRFY, parse_vrfy },
	{ "QUIT", LMTP_VERB_QUIT, parse_no_params },
	{ "STARTTLS", LMTP_VERB_STARTTLS, parse_any },
	{ "AUTH", LMTP_VERB_AUTH, parse_any },
	{ "XCLIENT", LMTP_VERB_XCLIENT, parse_any },
};

/*
 * Errors
 */

/* set_error - fill *error_r and return -1 */
static int set_error(struct lmtp_command_error *error_r, int code,
		     const char *enhanced, const char *text)
{
	error_r->code = code;
	error_r->enhanced = enhanced;
	error_r->text = text;
	error_r->invalid = (code == 500 || code == 501);
	return -1;
}

/* reason_error - a 501 5.5.4 whose text is prefix + reason */
static int reason_error(struct lmtp_command_error *error_r,
			enum reason_prefix prefix,
			enum lmtp_syntax_reason reason)
{
	return set_error(error_r, 501, "5.5.4", reason_texts[prefix][reason]);
}

static int syntax_error(struct lmtp_command_error *error_r)
{
	return set_error(error_r, 500, "5.5.2", "Invalid command syntax");
}

static int invalid_params(struct lmtp_command_error *error_r)
{
	return set_error(error_r, 501, "5.5.4", "Invalid parameters");
}

static int unsupported_params(struct lmtp_command_error *error_r)
{
	return set_error(error_r, 555, "5.5.4", "Unsupported parameters");
}

/* path_store - move the parsed path into cmd->path/localpart/domain */
static void path_store(struct lmtp_command *cmd, struct lmtp_path *path)
{
	struct strbuf enc;
	size_t i;

	if (path->null_path) {
		cmd->path = xstrdup("");
		return;
	}
	strbuf_init(&enc, path->localpart.len + 64);
	if (lmtp_syntax_localpart_needs_quotes(path->localpart.data,
					       path->localpart.len)) {
		strbuf_putc(&enc, '"');
		for (i = 0; i < path->localpart.len; i++) {
			char c = path->localpart.data[i];

			if (c == '"' || c == '\\')
				strbuf_putc(&enc, '\\');
			strbuf_putc(&enc, c);
		}
		strbuf_putc(&enc, '"');
	} else {
		strbuf_append(&enc, path->localpart.data, path->localpart.len);
	}
	if (path->domain != NULL) {
		size_t dlen = (size_t)(path->domain_end - path->domain);

		cmd->domain = xstrndup((const char *)path->domain, dlen);
		strbuf_putc(&enc, '@');
		strbuf_append(&enc, path->domain, dlen);
	}
	cmd->path = strbuf_detach(&enc);
	cmd->localpart = strbuf_detach(&path->localpart);
}

/* parse_path_arg - "FROM:"/"TO:" keyword, optional white space, path and
   the single SP before the parameters; returns the parameters in
   *params_r. 0 ok, -1 error */
static int parse_path_arg(struct lmtp_command *cmd, const char *params,
			  const char *keyword, enum reason_prefix prefix,
			  bool allow_empty, bool allow_localpart,
			  const char **params_r,
			  struct lmtp_command_error *error_r)
{
	size_t klen = strlen(keyword);
	struct lmtp_syntax p;
	struct lmtp_path path;
	int ret;

	if (strncasecmp(params, keyword, klen) != 0)
		return invalid_params(error_r);
	params += klen;
	params += strspn(params, " \t");

	memset(&path, 0, sizeof(path));
	strbuf_init(&path.localpart, 64);
	lmtp_syntax_init(&p, params);
	ret = lmtp_syntax_path(&p, allow_empty, allow_localpart, &path);
	if (ret == 0 && p.cur < p.end && *p.cur != ' ') {
		p.reason = LMTP_REASON_PATH_CHAR;
		ret = -1;
	}
	if (ret < 0) {
		strbuf_free(&path.localpart);
		return reason_error(error_r, prefix, p.reason);
	}
	path_store(cmd, &path);
	strbuf_free(&path.localpart);
	*params_r = (const char *)(p.cur < p.end ? p.cur + 1 : p.cur);
	return 0;
}

/*
 * ESMTP parameters
 */

/* parse_esmtp_param - esmtp-keyword ["=" esmtp-value] over [text, end);
   0 ok, -1 with *reason_r */
static int parse_esmtp_param(const char *text, const char *end,
			     struct esmtp_param *param_r,
			     enum lmtp_syntax_reason *reason_r)
{
	const char *p = text;

	if (p == end) {
		*reason_r = LMTP_REASON_PARAM_EMPTY;
		return -1;
	}
	if (!lmtp_syntax_is_alnum((unsigned char)*p)) {
		*reason_r = LMTP_REASON_PARAM_KEYWORD;
		return -1;
	}
	while (p < end &&
	       (lmtp_syntax_is_alnum((unsigned char)*p) || *p == '-'))
		p++;
	param_r->keyword = text;
	param_r->keyword_len = (size_t)(p - text);
	param_r->value = NULL;
	if (p == end)
		return 0;
	if (*p != '=') {
		*reason_r = LMTP_REASON_PARAM_KEYWORD;
		return -1;
	}
	param_r->value = ++p;
	while (p < end && lmtp_syntax_is_esmtp_value((unsigned char)*p))
		p++;
	if (p < end) {
		*reason_r = LMTP_REASON_PARAM_VALUE;
		return -1;
	}
	return 0;
}

static bool param_is(const struct esmtp_param *param, const char *keyword)
{
	return param->keyword_len == strlen(keyword) &&
		strncasecmp(param->keyword, keyword, param->keyword_len) == 0;
}

/* param_value_is - the value [value, end) equals str, ignoring case */
static bool param_value_is(const char *value, const char *end,
			   const char *str)
{
	size_t len = (size_t)(end - value);

	return len == strlen(str) && strncasecmp(value, str, len) == 0;
}

/* parse_u64 - 1*DIGIT over [p, end) without overflow; 0 ok, -1 not */
static int parse_u64(const char *p, const char *end, uint64_t *value_r)
{
	uint64_t value = 0;

	if (p == end)
		return -1;
	for (; p < end; p++) {
		unsigned int digit = (unsigned char)*p - '0';

		if (digit > 9 || value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*value_r = value;
	return 0;
}

typedef int lmtp_param_func_t(struct lmtp_command *cmd,
			      const struct esmtp_param *param, const char *end,
			      struct lmtp_command_error *error_r);

/* parse_params - split the parameters at each SP and hand each to func;
   a syntax error is reported under prefix */
static int parse_params(struct lmtp_command *cmd, const char *params,
			enum reason_prefix prefix, lmtp_param_func_t *func,
			struct lmtp_command_error *error_r)
{
	const char *p = params, *end;
	struct esmtp_param param;
	enum lmtp_syntax_reason reason;

	if (*params == '\0')
		return 0;
	for (;;) {
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if (parse_esmtp_param(p, end, &param, &reason) < 0)
			return reason_error(error_r, prefix, reason);
		if (func(cmd, &param, end, error_r) < 0)
			return -1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/* mail_param - SIZE= and BODY=; everything else is unsupported */
static int mail_param(struct lmtp_command *cmd, const struct esmtp_param *param,
		      const char *end, struct lmtp_command_error *error_r)
{
	if (param_is(param, "BODY")) {
		if (cmd->body != LMTP_BODY_NONE)
			return set_error(error_r, 501, "5.5.4",
					 "Duplicate BODY= parameter");
		if (param->value == NULL)
			return set_error(error_r, 501, "5.5.4",
					 "Missing BODY= parameter value");
		if (param_value_is(param->value, end, "7BIT"))
			cmd->body = LMTP_BODY_7BIT;
		else if (param_value_is(param->value, end, "8BITMIME"))
			cmd->body = LMTP_BODY_8BITMIME;
		else
			return set_error(error_r, 555, "5.5.4",
					 "Unsupported mail BODY type");
		return 0;
	}
	if (param_is(param, "SIZE")) {
		if (cmd->has_size)
			return set_error(error_r, 501, "5.5.4",
					 "Duplicate SIZE= parameter");
		if (param->value == NULL)
			return set_error(error_r, 501, "5.5.4",
					 "Missing SIZE= parameter value");
		if (parse_u64(param->value, end, &cmd->size) < 0 ||
		    cmd->size > INT64_MAX)
			return set_error(error_r, 555, "5.5.4",
					 "Unsupported SIZE parameter value");
		cmd->has_size = true;
		return 0;
	}
	return unsupported_params(error_r);
}

/* xtext_hex - value of an upper-case hex digit, -1 if c is none */
static int xtext_hex(unsigned char c)
{
	if (lmtp_syntax_is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xtext_decode - RFC 3461 xtext over [p, end) into out; 0 ok, -1 with a
   static error text */
static int xtext_decode(const char *p, const char *end, struct strbuf *out,
			const char **error_r)
{
	if (p == end) {
		*error_r = "Invalid ORCPT= parameter: Empty address value";
		return -1;
	}
	while (p < end) {
		int hi, lo;

		if (lmtp_syntax_is_xtext((unsigned char)*p)) {
			strbuf_putc(out, *p++);
			continue;
		}
		if (*p != '+') {
			*error_r = "Invalid ORCPT= parameter: "
				"Invalid character in xtext";
			return -1;
		}
		hi = end - p > 1 ? xtext_hex((unsigned char)p[1]) : -1;
		lo = end - p > 2 ? xtext_hex((unsigned char)p[2]) : -1;
		if (hi < 0 || lo < 0) {
			*error_r = "Invalid ORCPT= parameter: "
				"Invalid hexchar after '+' in xtext";
			return -1;
		}
		strbuf_putc(out, (char)(hi * 16 + lo));
		p += 3;
	}
	return 0;
}

/* parse_orcpt - ORCPT=addr-type;xtext (RFC 3461 section 4.2) */
static int parse_orcpt(struct lmtp_command *cmd, const char *value,
		       const char *end, struct lmtp_command_error *error_r)
{
	const char *semi = memchr(value, ';', (size_t)(end - value));
	const char *p, *error;
	struct strbuf addr;
	bool rfc822;

	p = value;
	while (p < end && lmtp_syntax_is_atext((unsigned char)*p))
		p++;
	if (p == value || p != semi)
		return set_error(error_r, 501, "5.5.4",
				 "Invalid addr-type for ORCPT= parameter");
	rfc822 = param_value_is(value, semi, "rfc822");

	strbuf_init(&addr, (size_t)(end - semi));
	if (xtext_decode(semi + 1, end, &addr, &error) < 0) {
		strbuf_free(&addr);
		return set_error(error_r, 501, "5.5.4", error);
	}
	for (p = addr.data; p < addr.data + addr.len; p++) {
		if (!lmtp_syntax_is_textstr((unsigned char)*p)) {
			strbuf_free(&addr);
			return set_error(error_r, 501, "5.5.4",
				"Invalid ORCPT= address value: "
				"Contains non-printable characters");
		}
	}
	if (rfc822 && !lmtp_syntax_rfc822_address_valid(addr.data)) {
		strbuf_free(&addr);
		return set_error(error_r, 501, "5.5.4",
			"Invalid ORCPT= address value: Invalid RFC822 address");
	}
	if (rfc822)
		cmd->orcpt = strbuf_detach(&addr);
	strbuf_free(&addr);
	return 0;
}

/* rcpt_param - ORCPT=; everything else (NOTIFY= too) is unsupported */
static int rcpt_param(struct lmtp_command *cmd, const struct esmtp_param *param,
		      const char *end, struct lmtp_command_error *error_r)
{
	if (!param_is(param, "ORCPT"))
		return unsupported_params(error_r);
	if (cmd->has_orcpt)
		return set_error(error_r, 501, "5.5.4",
				 "Duplicate ORCPT= parameter");
	if (param->value == NULL)
		return set_error(error_r, 501, "5.5.4",
				 "Missing ORCPT= parameter value");
	cmd->has_orcpt = true;
	return parse_orcpt(cmd, param->value, end, error_r);
}

/*
 * Verbs
 */

static int parse_lhlo(struct lmtp_command *cmd, const char *params,
		      struct lmtp_command_error *error_r)
{
	struct lmtp_syntax p;

	if (*params == '\0')
		return set_error(error_r, 501, "", "Missing hostname");
	lmtp_syntax_init(&p, params);
	cmd->helo_valid = lmtp_syntax_domain_or_literal(&p) > 0 &&
		(p.cur == p.end || *p.cur == ' ');
	cmd->param = cmd->helo_valid ?
		xstrndup(params, (size_t)((const char *)p.cur - params)) :
		xstrdup(params);
	return 0;
}

static int parse_mail(struct lmtp_command *cmd, const char *params,
		      struct lmtp_command_error *error_r)
{
	if (parse_path_arg(cmd, params, "FROM:", PREFIX_FROM, true, false,
			   &params, error_r) < 0)
		return -1;
	return parse_params(cmd, params, PREFIX_MAIL_PARAM, mail_param,
			    error_r);
}

static int parse_rcpt(struct lmtp_command *cmd, const char *params,
		      struct lmtp_command_error *error_r)
{
	if (parse_path_arg(cmd, params, "TO:", PREFIX_TO, false, true,
			   &params, error_r) < 0)
		return -1;
	return parse_params(cmd, params, PREFIX_RCPT_PARAM, rcpt_param,
			    error_r);
}

/* parse_no_params - DATA, RSET, QUIT take no parameters */
static int parse_no_params(struct lmtp_command *cmd, const char *params,
			   struct lmtp_command_error *error_r)
{
	return *params == '\0' ? 0 : invalid_params(error_r);
}

/* parse_any - STARTTLS, AUTH, XCLIENT: the session refuses them whatever
   their parameters are */
static int parse_any(struct lmtp_command *cmd, const char *params,
		     struct lmtp_command_error *error_r)
{
	if (*params != '\0')
		cmd->param = xstrdup(params);
	return 0;
}

/* parse_bdat - chunk-size [SP "LAST"] (RFC 3030) */
static int parse_bdat(struct lmtp_command *cmd, const char *params,
		      struct lmtp_command_error *error_r)
{
	const char *sp = strchr(params, ' ');
	const char *size_end = sp != NULL ? sp : params + strlen(params);
	uint64_t size;

	if (parse_u64(params, size_end, &size) < 0)
		return set_error(error_r, 501, "5.5.4",
				 "Invalid chunk size parameter");
	cmd->chunk_size = size;
	if (sp == NULL)
		return 0;
	error_r->bdat_skip = size;
	if (strchr(sp + 1, ' ') != NULL)
		return invalid_params(error_r);
	if (strcasecmp(sp + 1, "LAST") != 0)
		return set_error(error_r, 501, "5.5.4",
				 "Invalid end marker parameter");
	error_r->bdat_skip = 0;
	cmd->last = true;
	return 0;
}

/* parse_string_param - String = Atom / Quoted-string, the whole of
   params, into cmd->param */
static int parse_string_param(struct lmtp_command *cmd, const char *params,
			      struct lmtp_command_error *error_r)
{
	struct strbuf value;
	struct lmtp_syntax p;
	int ret;

	strbuf_init(&value, strlen(params) + 1);
	lmtp_syntax_init(&p, params);
	ret = lmtp_syntax_quoted_string(&p, false, &value);
	if (ret == 0)
		(void)lmtp_syntax_run(&p, lmtp_syntax_is_atext, &value);
	if (ret >= 0 && p.cur < p.end) {
		p.reason = LMTP_REASON_STRING_CHAR;
		ret = -1;
	}
	if (ret < 0) {
		strbuf_free(&value);
		return reason_error(error_r, PREFIX_STRING, p.reason);
	}
	cmd->param = strbuf_detach(&value);
	strbuf_free(&value);
	return 0;
}

static int parse_noop(struct lmtp_command *cmd, const char *params,
		      struct lmtp_command_error *error_r)
{
	if (*params == '\0')
		return 0;
	return parse_string_param(cmd, params, error_r);
}

static int parse_vrfy(struct lmtp_command *cmd, const char *params,
		      struct lmtp_command_error *error_r)
{
	if (*params == '\0')
		return invalid_params(error_r);
	return parse_string_param(cmd, params, error_r);
}

/*
 * The command line
 */

/* params_valid - textstr or valid multi-byte UTF-8, as Dovecot accepts */
static bool params_valid(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		size_t n = 1;

		if (*p >= 0x80) {
			if ((n = lmtp_syntax_utf8_char_len(p, end)) == 0)
				return false;
		} else if (!lmtp_syntax_is_textstr(*p)) {
			return false;
		}
		p += n;
	}
	return true;
}

/* verb_lookup - the definition of a verb, NULL when unknown */
static const struct verb_def *verb_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < LOFT_N_ELEMENTS(verb_defs); i++) {
		if (strlen(verb_defs[i].name) == len &&
		    strncasecmp(verb_defs[i].name, name, len) == 0)
			return &verb_defs[i];
	}
	return NULL;
}

int lmtp_command_parse(const char *line, size_t len,
		       struct lmtp_command *cmd_r,
		       struct lmtp_command_error *error_r)
{
	const unsigned char *ul = (const unsigned char *)line;
	const struct verb_def *def;
	size_t verb_len = 0, pstart, pend;
	char *params;
	int ret;

	memset(cmd_r, 0, sizeof(*cmd_r));
	memset(error_r, 0, sizeof(*error_r));

	while (verb_len < len && lmtp_syntax_is_alpha(ul[verb_len]))
		verb_len++;
	if (verb_len > LMTP_COMMAND_MAX_VERB_LEN)
		return syntax_error(error_r);
	if (verb_len < len && ul[verb_len] != ' ')
		return syntax_error(error_r);
	pstart = verb_len < len ? verb_len + 1 : len;
	if (!params_valid(ul + pstart, ul + len))
		return syntax_error(error_r);
	pend = len;
	while (pend > pstart && lmtp_syntax_is_wsp(ul[pend - 1]))
		pend--;
	if (pend > pstart && ul[pstart] == ' ')
		return syntax_error(error_r);

	if ((def = verb_lookup(line, verb_len)) == NULL)
		return set_error(error_r, 500, "5.5.1", "Unknown command");

	cmd_r->verb = def->verb;
	error_r->verb = def->verb;
	error_r->verb_known = true;
	params = xstrndup(line + pstart, pend - pstart);
	ret = def->parse(cmd_r, params, error_r);
	free(params);
	if (ret < 0)
		lmtp_command_clear(cmd_r);
	return ret;
}

void lmtp_command_clear(struct lmtp_command *cmd)
{
	free(cmd->param);
	free(cmd->path);
	free(cmd->localpart);
	free(cmd->domain);
	free(cmd->orcpt);
	memset(cmd, 0, sizeof(*cmd));
}

const char *lmtp_verb_name(enum lmtp_verb verb)
{
	size_t i;

	for (i = 0; i < LOFT_N_ELEMENTS(verb_defs); i++) {
		if (verb_defs[i].verb == verb)
			return verb_defs[i].name;
	}
	return "UNKNOWN";
}

