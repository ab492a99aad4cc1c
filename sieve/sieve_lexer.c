/*
 * sieve_lexer - tokens of RFC 5228 section 2 (see sieve_lexer.h).
 */
#include "sieve_lexer.h"

#include <stdbool.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

void sieve_lexer_init(struct sieve_lexer *lex, const char *text, size_t len)
{
	lex->p = text;
	lex->end = text + len;
	lex->line = 1;
}

const char *sieve_token_name(enum sieve_token_type type)
{
	switch (type) {
	case SIEVE_TOK_EOF: return "end of script";
	case SIEVE_TOK_IDENT: return "identifier";
	case SIEVE_TOK_TAG: return "tag";
	case SIEVE_TOK_NUMBER: return "number";
	case SIEVE_TOK_STRING: return "string";
	case SIEVE_TOK_LBRACKET: return "'['";
	case SIEVE_TOK_RBRACKET: return "']'";
	case SIEVE_TOK_LPAREN: return "'('";
	case SIEVE_TOK_RPAREN: return "')'";
	case SIEVE_TOK_LBRACE: return "'{'";
	case SIEVE_TOK_RBRACE: return "'}'";
	case SIEVE_TOK_COMMA: return "','";
	case SIEVE_TOK_SEMICOLON: return "';'";
	}
	return "token";
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* skip_space - white space and comments; -1 on an unterminated comment */
static int skip_space(struct sieve_lexer *lex, const char **error_r)
{
	while (lex->p < lex->end) {
		char c = *lex->p;

		if (c == '\n') {
			lex->line++;
			lex->p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lex->p++;
		} else if (c == '#') {
			while (lex->p < lex->end && *lex->p != '\n')
				lex->p++;
		} else if (c == '/' && lex->p + 1 < lex->end && lex->p[1] == '*') {
			lex->p += 2;
			for (;;) {
				if (lex->p + 1 >= lex->end) {
					*error_r = "unterminated comment";
					return -1;
				}
				if (lex->p[0] == '*' && lex->p[1] == '/')
					break;
				if (*lex->p == '\n')
					lex->line++;
				lex->p++;
			}
			lex->p += 2;
		} else {
			break;
		}
	}
	return 0;
}

static int lex_quoted(struct sieve_lexer *lex, struct sieve_token *tok,
		      const char **error_r)
{
	struct strbuf buf;

	strbuf_init(&buf, 32);
	lex->p++;
	for (;;) {
		if (lex->p >= lex->end) {
			strbuf_free(&buf);
			*error_r = "unterminated string";
			return -1;
		}
		char c = *lex->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (lex->p >= lex->end)
				continue;
			c = *lex->p++;
		}
		if (c == '\n')
			lex->line++;
		strbuf_putc(&buf, c);
	}
	tok->type = SIEVE_TOK_STRING;
	tok->len = buf.len;
	tok->text = strbuf_detach(&buf);
	return 0;
}

/* lex_multiline - "text:" [ws] [comment] CRLF *line "." CRLF; lines
   keep CRLF endings, a leading ".." loses one dot */
static int lex_multiline(struct sieve_lexer *lex, struct sieve_token *tok,
			 const char **error_r)
{
	struct strbuf buf;

	lex->p += 5;
	while (lex->p < lex->end && (*lex->p == ' ' || *lex->p == '\t'))
		lex->p++;
	if (lex->p < lex->end && *lex->p == '#') {
		while (lex->p < lex->end && *lex->p != '\n')
			lex->p++;
	}
	if (lex->p < lex->end && *lex->p == '\r')
		lex->p++;
	if (lex->p >= lex->end || *lex->p != '\n') {
		*error_r = "text: must be followed by a line break";
		return -1;
	}
	lex->p++;
	lex->line++;
	strbuf_init(&buf, 64);
	for (;;) {
		const char *eol = memchr(lex->p, '\n', (size_t)(lex->end - lex->p));
		const char *line = lex->p;
		size_t len;

		if (eol == NULL) {
			strbuf_free(&buf);
			*error_r = "unterminated multi-line string";
			return -1;
		}
		len = (size_t)(eol - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		lex->p = eol + 1;
		lex->line++;
		if (len == 1 && line[0] == '.')
			break;
		if (len > 0 && line[0] == '.') {
			line++;
			len--;
		}
		strbuf_append(&buf, line, len);
		strbuf_append(&buf, "\r\n", 2);
	}
	tok->type = SIEVE_TOK_STRING;
	tok->len = buf.len;
	tok->text = strbuf_detach(&buf);
	return 0;
}

static int lex_number(struct sieve_lexer *lex, struct sieve_token *tok,
		      const char **error_r)
{
	uint64_t n = 0;
	unsigned int shift = 0;

	while (lex->p < lex->end && *lex->p >= '0' && *lex->p <= '9') {
		unsigned int digit = (unsigned int)(*lex->p - '0');

		if (n > (UINT64_MAX - digit) / 10) {
			*error_r = "number too large";
			return -1;
		}
		n = n * 10 + digit;
		lex->p++;
	}
	if (lex->p < lex->end) {
		switch (*lex->p) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
		if (shift != 0) {
			lex->p++;
			if (n > (UINT64_MAX >> shift)) {
				*error_r = "number too large";
				return -1;
			}
			n <<= shift;
		}
	}
	if (lex->p < lex->end && is_ident_char(*lex->p)) {
		*error_r = "invalid number";
		return -1;
	}
	tok->type = SIEVE_TOK_NUMBER;
	tok->number = n;
	return 0;
}

int sieve_lexer_next(struct sieve_lexer *lex, struct sieve_token *tok,
		     const char **error_r)
{
	memset(tok, 0, sizeof(*tok));
	if (skip_space(lex, error_r) < 0) {
		tok->line = lex->line;
		return -1;
	}
	tok->line = lex->line;
	if (lex->p >= lex->end) {
		tok->type = SIEVE_TOK_EOF;
		return 0;
	}
	char c = *lex->p;
	switch (c) {
	case '[': tok->type = SIEVE_TOK_LBRACKET; lex->p++; return 0;
	case ']': tok->type = SIEVE_TOK_RBRACKET; lex->p++; return 0;
	case '(': tok->type = SIEVE_TOK_LPAREN; lex->p++; return 0;
	case ')': tok->type = SIEVE_TOK_RPAREN; lex->p++; return 0;
	case '{': tok->type = SIEVE_TOK_LBRACE; lex->p++; return 0;
	case '}': tok->type = SIEVE_TOK_RBRACE; lex->p++; return 0;
	case ',': tok->type = SIEVE_TOK_COMMA; lex->p++; return 0;
	case ';': tok->type = SIEVE_TOK_SEMICOLON; lex->p++; return 0;
	case '"': return lex_quoted(lex, tok, error_r);
	}
	if (c >= '0' && c <= '9')
		return lex_number(lex, tok, error_r);
	if (c == ':' || is_ident_start(c)) {
		const char *start = lex->p + (c == ':' ? 1 : 0);
		const char *q = start;

		if (q >= lex->end || !is_ident_start(*q)) {
			*error_r = "invalid tag";
			return -1;
		}
		while (q < lex->end && is_ident_char(*q))
			q++;
		if (c != ':' && (size_t)(q - start) == 4 &&
		    strncasecmp(start, "text", 4) == 0 &&
		    q < lex->end && *q == ':')
			return lex_multiline(lex, tok, error_r);
		tok->type = c == ':' ? SIEVE_TOK_TAG : SIEVE_TOK_IDENT;
		tok->len = (size_t)(q - start);
		tok->text = xstrndup(start, tok->len);
		for (size_t i = 0; i < tok->len; i++) {
			char ch = tok->text[i];
			if (ch >= 'A' && ch <= 'Z')
				tok->text[i] = (char)(ch - 'A' + 'a');
		}
		lex->p = q;
		return 0;
	}
	*error_r = "unexpected character";
	return -1;
}
