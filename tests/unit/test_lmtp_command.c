/*
 * test_lmtp_command - unit tests for daemon/lmtp/lmtp_command: every verb,
 * the line syntax (verb letters, spaces, control bytes, NUL, UTF-8), MAIL
 * and RCPT paths and parameters, and the exact Dovecot reply texts of the
 * reference transcripts; plus a random-bytes robustness loop.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp_command.h"
#include "strbuf.h"

struct parse_case {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	/* wanted error (code 0: success wanted) */
	int code;
	const char *enhanced;
	const char *text;
	uint64_t bdat_skip;
	/* wanted command on success */
	enum lmtp_verb verb;
	const char *param;
	const char *path;
	const char *localpart;
	const char *domain;
	const char *orcpt;
	bool helo_valid;
	bool has_size;
	uint64_t size;
	enum lmtp_body body;
	bool has_orcpt;
	uint64_t chunk_size;
	bool last;
};

#define ERR(l, c, e, t) { .line = (l), .code = (c), .enhanced = (e), .text = (t) }
#define UNKNOWN(l) ERR(l, 500, "5.5.1", "Unknown command")
#define BADSYNTAX(l) ERR(l, 500, "5.5.2", "Invalid command syntax")
#define E501(l, t) ERR(l, 501, "5.5.4", t)
#define E555(l, t) ERR(l, 555, "5.5.4", t)
#define UNSUPPORTED(l) E555(l, "Unsupported parameters")
#define OK(l, v) { .line = (l), .verb = (v) }
#define MAILOK(l, p, lp, d) { .line = (l), .verb = LMTP_VERB_MAIL, \
	.path = (p), .localpart = (lp), .domain = (d) }
#define RCPTOK(l, p, lp, d) { .line = (l), .verb = LMTP_VERB_RCPT, \
	.path = (p), .localpart = (lp), .domain = (d) }
#define STROK(l, v, prm) { .line = (l), .verb = (v), .param = (prm) }

static const struct parse_case parse_cases[] = {
	/* unknown commands and line syntax */
	UNKNOWN(""),
	UNKNOWN(" "),
	UNKNOWN(" NOOP"),
	UNKNOWN("HELO client.example.org"),
	UNKNOWN("EHLO client.example.org"),
	UNKNOWN("EXPN list@example.com"),
	UNKNOWN("HELP"),
	UNKNOWN("FOO bar"),
	UNKNOWN("BOGUS"),
	UNKNOWN("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"),
	BADSYNTAX("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG"),
	BADSYNTAX("NOOP1"),
	BADSYNTAX("M4IL FROM:<a@b>"),
	BADSYNTAX("RCPT2 TO:<x@y>"),
	BADSYNTAX("1"),
	BADSYNTAX("\t"),
	BADSYNTAX("NOOP\tx"),
	BADSYNTAX("NOOP  x"),
	BADSYNTAX("NOOP\r"),
	BADSYNTAX("NOOP a\rb"),
	BADSYNTAX("NOOP \x01"),
	BADSYNTAX("NOOP \x7f"),
	{ .line = "\0", .len = 1, .code = 500, .enhanced = "5.5.2",
	  .text = "Invalid command syntax" },
	{ .line = "NOOP\0", .len = 5, .code = 500, .enhanced = "5.5.2",
	  .text = "Invalid command syntax" },
	{ .line = "NOOP x\0y", .len = 8, .code = 500, .enhanced = "5.5.2",
	  .text = "Invalid command syntax" },
	{ .line = "FOO\0", .len = 4, .code = 500, .enhanced = "5.5.2",
	  .text = "Invalid command syntax" },
	BADSYNTAX("MAIL FROM:<s\xe9nder@example.org>"),
	BADSYNTAX("NOOP \xc3"),
	BADSYNTAX("NOOP \xc0\xaf"),
	BADSYNTAX("NOOP \xed\xa0\x80"),
	BADSYNTAX("NOOP \xf4\x90\x80\x80"),
	BADSYNTAX("NOOP \xff"),

	/* NOOP */
	OK("NOOP", LMTP_VERB_NOOP),
	OK("noop", LMTP_VERB_NOOP),
	OK("NOOP ", LMTP_VERB_NOOP),
	OK("NOOP \t ", LMTP_VERB_NOOP),
	STROK("NOOP argument", LMTP_VERB_NOOP, "argument"),
	STROK("NOOP \"quoted argument\"", LMTP_VERB_NOOP, "quoted argument"),
	STROK("NOOP \"a\\\"b\\\\c\"", LMTP_VERB_NOOP, "a\"b\\c"),
	STROK("NOOP arg   ", LMTP_VERB_NOOP, "arg"),
	E501("NOOP with an argument",
	     "Invalid string parameter: Invalid character in string"),
	E501("NOOP <x>", "Invalid string parameter: Invalid character in string"),
	E501("NOOP \"unterminated",
	     "Invalid string parameter: Premature end of quoted string"),
	E501("NOOP \"a\\",
	     "Invalid string parameter: "
	     "Invalid character after '\\' in quoted string"),
	E501("NOOP \"a\"b", "Invalid string parameter: Invalid character in string"),
	E501("NOOP \"caf\xc3\xa9\"",
	     "Invalid string parameter: Invalid character in quoted string"),
	E501("NOOP caf\xc3\xa9",
	     "Invalid string parameter: Invalid character in string"),

	/* VRFY */
	STROK("VRFY user0", LMTP_VERB_VRFY, "user0"),
	STROK("vrfy nosuchuser", LMTP_VERB_VRFY, "nosuchuser"),
	STROK("VRFY \"user0@example.com\"", LMTP_VERB_VRFY, "user0@example.com"),
	STROK("VRFY \"\"", LMTP_VERB_VRFY, ""),
	E501("VRFY user0@example.com",
	     "Invalid string parameter: Invalid character in string"),
	E501("VRFY nosuchuser@example.com",
	     "Invalid string parameter: Invalid character in string"),
	E501("VRFY <user0@example.com>",
	     "Invalid string parameter: Invalid character in string"),
	E501("VRFY", "Invalid parameters"),
	E501("VRFY ", "Invalid parameters"),

	/* LHLO */
	{ .line = "LHLO client.example.org", .verb = LMTP_VERB_LHLO,
	  .param = "client.example.org", .helo_valid = true },
	{ .line = "lhlo again.example.org", .verb = LMTP_VERB_LHLO,
	  .param = "again.example.org", .helo_valid = true },
	{ .line = "LHLO [127.0.0.1]", .verb = LMTP_VERB_LHLO,
	  .param = "[127.0.0.1]", .helo_valid = true },
	{ .line = "LHLO [IPv6:::1]", .verb = LMTP_VERB_LHLO,
	  .param = "[IPv6:::1]", .helo_valid = true },
	{ .line = "LHLO mx_1.example-host.org trailing words", .verb = LMTP_VERB_LHLO,
	  .param = "mx_1.example-host.org", .helo_valid = true },
	{ .line = "LHLO !bad", .verb = LMTP_VERB_LHLO, .param = "!bad" },
	{ .line = "LHLO a..b", .verb = LMTP_VERB_LHLO, .param = "a..b" },
	{ .line = "LHLO [1.2.3]", .verb = LMTP_VERB_LHLO, .param = "[1.2.3]" },
	{ .line = "LHLO host,x", .verb = LMTP_VERB_LHLO, .param = "host,x" },
	ERR("LHLO", 501, "", "Missing hostname"),
	ERR("LHLO  ", 501, "", "Missing hostname"),

	/* DATA, RSET, QUIT */
	OK("DATA", LMTP_VERB_DATA),
	OK("RSET", LMTP_VERB_RSET),
	OK("rset", LMTP_VERB_RSET),
	OK("QUIT", LMTP_VERB_QUIT),
	OK("QuIt ", LMTP_VERB_QUIT),
	E501("RSET extra", "Invalid parameters"),
	E501("DATA x", "Invalid parameters"),
	E501("QUIT now", "Invalid parameters"),

	/* STARTTLS, AUTH, XCLIENT parse; the session refuses them */
	OK("STARTTLS", LMTP_VERB_STARTTLS),
	STROK("STARTTLS now", LMTP_VERB_STARTTLS, "now"),
	STROK("AUTH PLAIN AHVzZXIwQGV4YW1wbGUuY29tAHBhc3Mw", LMTP_VERB_AUTH,
	      "PLAIN AHVzZXIwQGV4YW1wbGUuY29tAHBhc3Mw"),
	STROK("XCLIENT ADDR=192.0.2.1", LMTP_VERB_XCLIENT, "ADDR=192.0.2.1"),

	/* MAIL paths */
	MAILOK("MAIL FROM:<sender@example.org>", "sender@example.org",
	       "sender", "example.org"),
	MAILOK("mail from:<Sender@Example.ORG>", "Sender@Example.ORG",
	       "Sender", "Example.ORG"),
	MAILOK("MAIL FROM:<>", "", NULL, NULL),
	MAILOK("MAIL FROM: <a@b.c>", "a@b.c", "a", "b.c"),
	MAILOK("MAIL FROM:\t <a@b.c>", "a@b.c", "a", "b.c"),
	MAILOK("MAIL FROM:<@r1.example,@r2.example:a@b.c>", "a@b.c", "a", "b.c"),
	MAILOK("MAIL FROM:<\"john doe\"@example.org>", "\"john doe\"@example.org",
	       "john doe", "example.org"),
	MAILOK("MAIL FROM:<\"john\"@example.org>", "john@example.org",
	       "john", "example.org"),
	MAILOK("MAIL FROM:<\"a\\\"b\"@example.org>", "\"a\\\"b\"@example.org",
	       "a\"b", "example.org"),
	MAILOK("MAIL FROM:<a..b@example.org>", "\"a..b\"@example.org",
	       "a..b", "example.org"),
	MAILOK("MAIL FROM:<.a@example.org>", "\".a\"@example.org",
	       ".a", "example.org"),
	MAILOK("MAIL FROM:<s\xc3\xa9nder@example.org>",
	       "s\xc3\xa9nder@example.org", "s\xc3\xa9nder", "example.org"),
	MAILOK("MAIL FROM:<a@b\xc3\xbc.example>", "a@b\xc3\xbc.example",
	       "a", "b\xc3\xbc.example"),
	MAILOK("MAIL FROM:<a@[127.0.0.1]>", "a@[127.0.0.1]", "a", "[127.0.0.1]"),
	MAILOK("MAIL FROM:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]",
	       "a", "[IPv6:2001:db8::1]"),
	MAILOK("MAIL FROM:<a@[x-tag:some.thing]>", "a@[x-tag:some.thing]",
	       "a", "[x-tag:some.thing]"),
	MAILOK("MAIL FROM:<user+tag@example.org>", "user+tag@example.org",
	       "user+tag", "example.org"),
	E501("MAIL FROM:sender@example.org",
	     "Invalid FROM: Missing '<' at beginning of path"),
	E501("MAIL FROM:bad", "Invalid FROM: Missing '<' at beginning of path"),
	E501("MAIL", "Invalid parameters"),
	E501("MAIL TO:<a@b>", "Invalid parameters"),
	E501("MAIL FRO", "Invalid parameters"),
	E501("MAIL FROM:", "Invalid FROM: Path is empty string"),
	E501("MAIL FROM:<a@b", "Invalid FROM: Missing '>' at end of path"),
	E501("MAIL FROM:<user>", "Invalid FROM: Missing domain"),
	E501("MAIL FROM:<user", "Invalid FROM: Missing domain"),
	E501("MAIL FROM:<a b@c>", "Invalid FROM: Invalid character in localpart"),
	E501("MAIL FROM:<a@>", "Invalid FROM: Missing domain after '@'"),
	E501("MAIL FROM:<a@", "Invalid FROM: Missing domain after '@'"),
	E501("MAIL FROM:<a@!x>", "Invalid FROM: Invalid domain"),
	E501("MAIL FROM:<a@b..c>", "Invalid FROM: Empty sub-domain"),
	E501("MAIL FROM:<a@b.", "Invalid FROM: Empty sub-domain"),
	E501("MAIL FROM:<a@b.>", "Invalid FROM: Invalid character in domain"),
	E501("MAIL FROM:<a@b.!>", "Invalid FROM: Invalid character in domain"),
	E501("MAIL FROM:<a@b!>", "Invalid FROM: Missing '>' at end of path"),
	E501("MAIL FROM:<@r1:>", "Invalid FROM: Path only consists of source route"),
	E501("MAIL FROM:<@:a@b>",
	     "Invalid FROM: Missing domain after '@' in source route"),
	E501("MAIL FROM:<@r1,r2:a@b>",
	     "Invalid FROM: Missing '@' after ',' in source route"),
	E501("MAIL FROM:<@r1 a@b>",
	     "Invalid FROM: Missing ':' at end of source route"),
	E501("MAIL FROM:<(x)@b>", "Invalid FROM: Invalid character in localpart"),
	E501("MAIL FROM:<\"abc@b>",
	     "Invalid FROM: Premature end of quoted string"),
	E501("MAIL FROM:<\"a\\",
	     "Invalid FROM: Invalid character after '\\' in quoted string"),
	E501("MAIL FROM:<a@b>x", "Invalid FROM: Invalid character in path"),
	E501("MAIL FROM:<a@b>\tSIZE=1", "Invalid FROM: Invalid character in path"),
	E501("MAIL FROM:<a@[1.2.3]>", "Invalid FROM: Invalid IPv4 address literal"),
	E501("MAIL FROM:<a@[256.1.1.1]>",
	     "Invalid FROM: Invalid IPv4 address literal"),
	E501("MAIL FROM:<a@[1.2.3.4.5]>",
	     "Invalid FROM: Invalid character in address literal"),
	E501("MAIL FROM:<a@[1.2.3.4",
	     "Invalid FROM: Missing ']' at end of address literal"),
	E501("MAIL FROM:<a@[IPv6:zz]>",
	     "Invalid FROM: Invalid IPv6 address literal"),
	E501("MAIL FROM:<a@[:foo]>", "Invalid FROM: Invalid address literal"),
	E501("MAIL FROM:<a@[tag]>", "Invalid FROM: Invalid address literal"),
	E501("MAIL FROM:<a@[tag:]>", "Invalid FROM: Empty address literal"),

	/* MAIL parameters */
	{ .line = "MAIL FROM:<a@b> SIZE=1000", .verb = LMTP_VERB_MAIL,
	  .path = "a@b", .localpart = "a", .domain = "b",
	  .has_size = true, .size = 1000 },
	{ .line = "MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME", .verb = LMTP_VERB_MAIL,
	  .path = "a@b", .localpart = "a", .domain = "b",
	  .has_size = true, .size = 1000, .body = LMTP_BODY_8BITMIME },
	{ .line = "MAIL FROM:<> body=7bit size=0", .verb = LMTP_VERB_MAIL,
	  .path = "", .has_size = true, .size = 0, .body = LMTP_BODY_7BIT },
	{ .line = "MAIL FROM:<a@b> SIZE=99999999999", .verb = LMTP_VERB_MAIL,
	  .path = "a@b", .localpart = "a", .domain = "b",
	  .has_size = true, .size = 99999999999ULL },
	{ .line = "MAIL FROM:<a@b> SIZE=9223372036854775807", .verb = LMTP_VERB_MAIL,
	  .path = "a@b", .localpart = "a", .domain = "b",
	  .has_size = true, .size = 9223372036854775807ULL },
	E555("MAIL FROM:<a@b> SIZE=9223372036854775808",
	     "Unsupported SIZE parameter value"),
	E555("MAIL FROM:<a@b> SIZE=18446744073709551616",
	     "Unsupported SIZE parameter value"),
	E555("MAIL FROM:<a@b> SIZE=abc", "Unsupported SIZE parameter value"),
	E555("MAIL FROM:<a@b> SIZE=", "Unsupported SIZE parameter value"),
	E555("MAIL FROM:<a@b> SIZE=-1", "Unsupported SIZE parameter value"),
	E501("MAIL FROM:<a@b> SIZE", "Missing SIZE= parameter value"),
	E501("MAIL FROM:<a@b> SIZE=1 SIZE=2", "Duplicate SIZE= parameter"),
	E501("MAIL FROM:<a@b> SIZE=0 SIZE=2", "Duplicate SIZE= parameter"),
	E555("MAIL FROM:<a@b> BODY=BINARYMIME", "Unsupported mail BODY type"),
	E555("MAIL FROM:<a@b> BODY=8BIT", "Unsupported mail BODY type"),
	E501("MAIL FROM:<a@b> BODY=7BIT BODY=7BIT", "Duplicate BODY= parameter"),
	E501("MAIL FROM:<a@b> BODY", "Missing BODY= parameter value"),
	UNSUPPORTED("MAIL FROM:<sender@example.org> SMTPUTF8"),
	UNSUPPORTED("MAIL FROM:<sender@example.org> FOO=BAR"),
	UNSUPPORTED("MAIL FROM:<a@b> AUTH=<>"),
	UNSUPPORTED("MAIL FROM:<a@b> RET=FULL"),
	UNSUPPORTED("MAIL FROM:<a@b> ENVID=x"),
	UNSUPPORTED("MAIL FROM:<a@b> FOO=BAR SIZE=x"),
	UNSUPPORTED("MAIL FROM:<a@b> SIZE=1 X-Y"),
	E501("MAIL FROM:<a@b>  SIZE=1", "Invalid MAIL parameter: Parameter is empty"),
	E501("MAIL FROM:<a@b> SIZE=1  BODY=7BIT",
	     "Invalid MAIL parameter: Parameter is empty"),
	E501("MAIL FROM:<a@b> =x",
	     "Invalid MAIL parameter: Unexpected character in parameter keyword"),
	E501("MAIL FROM:<a@b> SI_ZE=1",
	     "Invalid MAIL parameter: Unexpected character in parameter keyword"),
	E501("MAIL FROM:<a@b> SIZE=1=2",
	     "Invalid MAIL parameter: Unexpected character in parameter value"),
	E501("MAIL FROM:<a@b> SIZE=1\tBODY=7BIT",
	     "Invalid MAIL parameter: Unexpected character in parameter value"),
	{ .line = "MAIL FROM:<a@b> SIZE=1\t", .verb = LMTP_VERB_MAIL,
	  .path = "a@b", .localpart = "a", .domain = "b",
	  .has_size = true, .size = 1 },
	E501("MAIL FROM:<a@b> X=caf\xc3\xa9",
	     "Invalid MAIL parameter: Unexpected character in parameter value"),

	/* RCPT */
	RCPTOK("RCPT TO:<user0@example.com>", "user0@example.com",
	       "user0", "example.com"),
	RCPTOK("rcpt to:<USER1@Example.COM>", "USER1@Example.COM",
	       "USER1", "Example.COM"),
	RCPTOK("RCPT TO:<user2+tag@example.com>", "user2+tag@example.com",
	       "user2+tag", "example.com"),
	RCPTOK("RCPT TO:<user3>", "user3", "user3", NULL),
	RCPTOK("RCPT TO:<\"odd user\">", "\"odd user\"", "odd user", NULL),
	RCPTOK("RCPT TO:  <u@e>", "u@e", "u", "e"),
	E501("RCPT TO:user0@example.com",
	     "Invalid TO: Missing '<' at beginning of path"),
	E501("RCPT TO:<>", "Invalid TO: Null path not allowed"),
	E501("RCPT", "Invalid parameters"),
	E501("RCPT FROM:<a@b>", "Invalid parameters"),
	E501("RCPT TO:<a b@c>", "Invalid TO: Missing '>' at end of path"),
	E501("RCPT TO:<a@b>>", "Invalid TO: Invalid character in path"),
	UNSUPPORTED("RCPT TO:<user0@example.com> NOTIFY=NEVER "
		    "ORCPT=rfc822;user0@example.com"),
	UNSUPPORTED("RCPT TO:<user0@example.com> FOO=BAR"),
	UNSUPPORTED("RCPT TO:<u@e> ORCPT=rfc822;a@b SIZE=1"),
	{ .line = "RCPT TO:<u@e> ORCPT=rfc822;user0@example.com",
	  .verb = LMTP_VERB_RCPT, .path = "u@e", .localpart = "u",
	  .domain = "e", .orcpt = "user0@example.com", .has_orcpt = true },
	{ .line = "RCPT TO:<u@e> orcpt=RFC822;a+2Bb@example.com",
	  .verb = LMTP_VERB_RCPT, .path = "u@e", .localpart = "u",
	  .domain = "e", .orcpt = "a+b@example.com", .has_orcpt = true },
	{ .line = "RCPT TO:<u@e> ORCPT=rfc822;Name+20<a@b>",
	  .verb = LMTP_VERB_RCPT, .path = "u@e", .localpart = "u",
	  .domain = "e", .orcpt = "Name <a@b>", .has_orcpt = true },
	{ .line = "RCPT TO:<u@e> ORCPT=rfc822;localonly",
	  .verb = LMTP_VERB_RCPT, .path = "u@e", .localpart = "u",
	  .domain = "e", .orcpt = "localonly", .has_orcpt = true },
	{ .line = "RCPT TO:<u@e> ORCPT=rfc822;a@[192.0.2.1]",
	  .verb = LMTP_VERB_RCPT, .path = "u@e", .localpart = "u",
	  .domain = "e", .orcpt = "a@[192.0.2.1]", .has_orcpt = true },
	{ .line = "RCPT TO:<u@e> ORCPT=x-local;whatever",
	  .verb = LMTP_VERB_RCPT, .path = "u@e", .localpart = "u",
	  .domain = "e", .has_orcpt = true },
	E501("RCPT TO:<u@e> ORCPT=rfc822;a+2b",
	     "Invalid ORCPT= parameter: Invalid hexchar after '+' in xtext"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a+",
	     "Invalid ORCPT= parameter: Invalid hexchar after '+' in xtext"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a+4",
	     "Invalid ORCPT= parameter: Invalid hexchar after '+' in xtext"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;",
	     "Invalid ORCPT= parameter: Empty address value"),
	E501("RCPT TO:<u@e> ORCPT=rfc822", "Invalid addr-type for ORCPT= parameter"),
	E501("RCPT TO:<u@e> ORCPT=;x", "Invalid addr-type for ORCPT= parameter"),
	E501("RCPT TO:<u@e> ORCPT=a<b;x", "Invalid addr-type for ORCPT= parameter"),
	E501("RCPT TO:<u@e> ORCPT", "Missing ORCPT= parameter value"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a@b ORCPT=rfc822;a@b",
	     "Duplicate ORCPT= parameter"),
	E501("RCPT TO:<u@e> ORCPT=x;a ORCPT=rfc822;a@b",
	     "Duplicate ORCPT= parameter"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a+00b",
	     "Invalid ORCPT= address value: Contains non-printable characters"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a+C3+A9@b",
	     "Invalid ORCPT= address value: Contains non-printable characters"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a+20b@c",
	     "Invalid ORCPT= address value: Invalid RFC822 address"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;a@b,c@d",
	     "Invalid ORCPT= address value: Invalid RFC822 address"),
	E501("RCPT TO:<u@e> ORCPT=rfc822;<a@b",
	     "Invalid ORCPT= address value: Invalid RFC822 address"),
	E501("RCPT TO:<u@e>  ORCPT=rfc822;a@b",
	     "Invalid RCPT parameter: Parameter is empty"),

	/* BDAT */
	{ .line = "BDAT 60", .verb = LMTP_VERB_BDAT, .chunk_size = 60 },
	{ .line = "BDAT 215 LAST", .verb = LMTP_VERB_BDAT, .chunk_size = 215,
	  .last = true },
	{ .line = "bdat 0 last", .verb = LMTP_VERB_BDAT, .chunk_size = 0,
	  .last = true },
	{ .line = "BDAT 18446744073709551615", .verb = LMTP_VERB_BDAT,
	  .chunk_size = UINT64_MAX },
	E501("BDAT xyz", "Invalid chunk size parameter"),
	E501("BDAT", "Invalid chunk size parameter"),
	E501("BDAT 18446744073709551616", "Invalid chunk size parameter"),
	E501("BDAT -1", "Invalid chunk size parameter"),
	E501("BDAT +5", "Invalid chunk size parameter"),
	E501("BDAT 5x LAST", "Invalid chunk size parameter"),
	{ .line = "BDAT 5 FOO", .code = 501, .enhanced = "5.5.4",
	  .text = "Invalid end marker parameter", .bdat_skip = 5 },
	{ .line = "BDAT 5 LAST X", .code = 501, .enhanced = "5.5.4",
	  .text = "Invalid parameters", .bdat_skip = 5 },
	{ .line = "BDAT 7  LAST", .code = 501, .enhanced = "5.5.4",
	  .text = "Invalid parameters", .bdat_skip = 7 },
};

/* str_null_eq - equal strings, or both NULL */
static bool str_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *null_str(const char *s)
{
	return s == NULL ? "(null)" : s;
}

#define CHECK_STR(field) \
	ck_assert_msg(str_null_eq(cmd.field, c->field), \
		      "%s: " #field " got %s, want %s", c->line, \
		      null_str(cmd.field), null_str(c->field))
#define CHECK_NUM(field) \
	ck_assert_msg(cmd.field == c->field, \
		      "%s: " #field " got %llu, want %llu", c->line, \
		      (unsigned long long)cmd.field, \
		      (unsigned long long)c->field)

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	size_t len = c->len != 0 ? c->len : strlen(c->line);
	struct lmtp_command cmd;
	struct lmtp_command_error error;
	int ret;

	ret = lmtp_command_parse(c->line, len, &cmd, &error);
	if (c->code != 0) {
		ck_assert_msg(ret == -1, "%s: got success, want %d %s",
			      c->line, c->code, c->text);
		ck_assert_msg(error.code == c->code, "%s: code got %d, want %d",
			      c->line, error.code, c->code);
		ck_assert_msg(strcmp(error.enhanced, c->enhanced) == 0,
			      "%s: enhanced got %s, want %s", c->line,
			      error.enhanced, c->enhanced);
		ck_assert_msg(strcmp(error.text, c->text) == 0,
			      "%s: text got %s, want %s", c->line,
			      error.text, c->text);
		ck_assert_msg(error.invalid == (c->code != 555),
			      "%s: invalid got %d", c->line, error.invalid);
		ck_assert_msg(error.verb_known == (error.code != 500),
			      "%s: verb_known got %d", c->line,
			      error.verb_known);
		ck_assert_msg(error.bdat_skip == c->bdat_skip,
			      "%s: bdat_skip got %llu, want %llu", c->line,
			      (unsigned long long)error.bdat_skip,
			      (unsigned long long)c->bdat_skip);
		ck_assert_msg(cmd.param == NULL && cmd.path == NULL &&
			      cmd.localpart == NULL && cmd.domain == NULL &&
			      cmd.orcpt == NULL,
			      "%s: command not cleared after an error", c->line);
		return;
	}
	ck_assert_msg(ret == 0, "%s: got %d %s %s, want success", c->line,
		      error.code, error.enhanced, error.text);
	CHECK_NUM(verb);
	CHECK_STR(param);
	CHECK_STR(path);
	CHECK_STR(localpart);
	CHECK_STR(domain);
	CHECK_STR(orcpt);
	CHECK_NUM(helo_valid);
	CHECK_NUM(has_size);
	CHECK_NUM(size);
	CHECK_NUM(body);
	CHECK_NUM(has_orcpt);
	CHECK_NUM(chunk_size);
	CHECK_NUM(last);
	lmtp_command_clear(&cmd);
	ck_assert_ptr_null(cmd.path);
}
END_TEST

/* parse_built - parse a line built at run time, expecting success */
static void parse_built(const struct strbuf *line, struct lmtp_command *cmd)
{
	struct lmtp_command_error error;

	ck_assert_msg(lmtp_command_parse(line->data, line->len, cmd, &error) == 0,
		      "%zu-byte line: got %d %s, want success", line->len,
		      error.code, error.text);
}

START_TEST(test_long_lines)
{
	static const size_t lengths[] = { 1000, 4091, 5000, 100000 };
	struct lmtp_command cmd;
	struct strbuf line, local;
	size_t i;

	strbuf_init(&line, 128);
	strbuf_init(&local, 128);
	for (i = 0; i < LOFT_N_ELEMENTS(lengths); i++) {
		strbuf_reset(&local);
		while (local.len < lengths[i])
			strbuf_putc(&local, 's');
		strbuf_reset(&line);
		strbuf_appendf(&line, "MAIL FROM:<%s@example.org>", local.data);
		parse_built(&line, &cmd);
		ck_assert_msg(strcmp(cmd.localpart, local.data) == 0,
			      "%zu-byte local part: got %zu bytes", lengths[i],
			      strlen(cmd.localpart));
		lmtp_command_clear(&cmd);

		strbuf_reset(&line);
		strbuf_appendf(&line, "NOOP %s", local.data);
		parse_built(&line, &cmd);
		ck_assert_str_eq(cmd.param, local.data);
		lmtp_command_clear(&cmd);
	}
	strbuf_free(&line);
	strbuf_free(&local);
}
END_TEST

START_TEST(test_verb_names)
{
	static const char *const lines[] = {
		"LHLO x", "MAIL FROM:<>", "RCPT TO:<x>", "DATA", "BDAT 1",
		"RSET", "NOOP", "VRFY x", "QUIT", "STARTTLS", "AUTH", "XCLIENT",
	};
	struct lmtp_command cmd;
	struct lmtp_command_error error;
	size_t i;

	for (i = 0; i < LOFT_N_ELEMENTS(lines); i++) {
		ck_assert_int_eq(lmtp_command_parse(lines[i], strlen(lines[i]),
						    &cmd, &error), 0);
		ck_assert_msg(strncmp(lines[i], lmtp_verb_name(cmd.verb),
				      strlen(lmtp_verb_name(cmd.verb))) == 0,
			      "%s: got verb name %s", lines[i],
			      lmtp_verb_name(cmd.verb));
		lmtp_command_clear(&cmd);
	}
}
END_TEST

/* next_random - a small deterministic xorshift generator */
static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

START_TEST(test_random_bytes)
{
	static const char *const prefixes[] = {
		"", "MAIL FROM:<", "RCPT TO:<", "RCPT TO:<a@b> ORCPT=rfc822;",
		"NOOP \"", "LHLO [", "BDAT ", "MAIL FROM:<a@b> ", "VRFY ",
	};
	static const char alphabet[] = "<>@.:,\"\\[] =+;ABab09\t\r\n\0\x80\xc3\xff";
	uint32_t state = 0x12345678u;
	char line[64];
	int i;

	for (i = 0; i < 50000; i++) {
		const char *prefix = prefixes[next_random(&state) %
					      LOFT_N_ELEMENTS(prefixes)];
		size_t plen = strlen(prefix), len, j;
		struct lmtp_command cmd;
		struct lmtp_command_error error;

		len = plen + next_random(&state) % (sizeof(line) - plen);
		memcpy(line, prefix, plen);
		for (j = plen; j < len; j++)
			line[j] = alphabet[next_random(&state) %
					   (sizeof(alphabet) - 1)];
		if (lmtp_command_parse(line, len, &cmd, &error) == 0) {
			lmtp_command_clear(&cmd);
			continue;
		}
		ck_assert_msg(error.code == 500 || error.code == 501 ||
			      error.code == 555, "got code %d", error.code);
		ck_assert_ptr_nonnull(error.text);
		ck_assert_ptr_nonnull(error.enhanced);
		ck_assert_ptr_null(cmd.path);
		ck_assert_ptr_null(cmd.param);
	}
}
END_TEST

static Suite *lmtp_command_suite(void)
{
	Suite *s = suite_create("lmtp_command");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, LOFT_N_ELEMENTS(parse_cases));
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_verb_names);
	tcase_add_test(tc, test_random_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lmtp_command_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
