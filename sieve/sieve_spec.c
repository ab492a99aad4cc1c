/*
 * sieve_spec - the tables of extensions, commands, tests and tags (see
 * sieve_spec.h). Signatures follow RFC 5228 and each extension's RFC.
 */
#include "sieve_spec.h"

#include <string.h>

#include "xalloc.h"

#define B(t) SIEVE_TAGBIT(SIEVE_TAG_##t)

static const char *const ext_names[SIEVE_EXT_COUNT] = {
	[SIEVE_EXT_CORE] = "",
	[SIEVE_EXT_FILEINTO] = "fileinto",
	[SIEVE_EXT_ENVELOPE] = "envelope",
	[SIEVE_EXT_ENCODED_CHARACTER] = "encoded-character",
	[SIEVE_EXT_VARIABLES] = "variables",
	[SIEVE_EXT_SUBADDRESS] = "subaddress",
	[SIEVE_EXT_COPY] = "copy",
	[SIEVE_EXT_IMAP4FLAGS] = "imap4flags",
	[SIEVE_EXT_MAILBOX] = "mailbox",
	[SIEVE_EXT_REJECT] = "reject",
	[SIEVE_EXT_EREJECT] = "ereject",
	[SIEVE_EXT_RELATIONAL] = "relational",
	[SIEVE_EXT_NUMERIC] = "comparator-i;ascii-numeric",
	[SIEVE_EXT_BODY] = "body",
	[SIEVE_EXT_VACATION] = "vacation",
	[SIEVE_EXT_VACATION_SECONDS] = "vacation-seconds",
	[SIEVE_EXT_DATE] = "date",
	[SIEVE_EXT_INDEX] = "index",
	[SIEVE_EXT_DUPLICATE] = "duplicate",
	[SIEVE_EXT_EDITHEADER] = "editheader",
	[SIEVE_EXT_INCLUDE] = "include",
};

const struct sieve_tag_spec sieve_tags[SIEVE_TAG_COUNT] = {
	[SIEVE_TAG_COMPARATOR] = { "comparator", SIEVE_EXT_CORE, 's', SIEVE_GROUP_NONE },
	[SIEVE_TAG_IS] = { "is", SIEVE_EXT_CORE, 0, SIEVE_GROUP_MATCH },
	[SIEVE_TAG_CONTAINS] = { "contains", SIEVE_EXT_CORE, 0, SIEVE_GROUP_MATCH },
	[SIEVE_TAG_MATCHES] = { "matches", SIEVE_EXT_CORE, 0, SIEVE_GROUP_MATCH },
	[SIEVE_TAG_COUNT_] = { "count", SIEVE_EXT_RELATIONAL, 's', SIEVE_GROUP_MATCH },
	[SIEVE_TAG_VALUE] = { "value", SIEVE_EXT_RELATIONAL, 's', SIEVE_GROUP_MATCH },
	[SIEVE_TAG_ALL] = { "all", SIEVE_EXT_CORE, 0, SIEVE_GROUP_ADDRPART },
	[SIEVE_TAG_LOCALPART] = { "localpart", SIEVE_EXT_CORE, 0, SIEVE_GROUP_ADDRPART },
	[SIEVE_TAG_DOMAIN] = { "domain", SIEVE_EXT_CORE, 0, SIEVE_GROUP_ADDRPART },
	[SIEVE_TAG_USER] = { "user", SIEVE_EXT_SUBADDRESS, 0, SIEVE_GROUP_ADDRPART },
	[SIEVE_TAG_DETAIL] = { "detail", SIEVE_EXT_SUBADDRESS, 0, SIEVE_GROUP_ADDRPART },
	[SIEVE_TAG_OVER] = { "over", SIEVE_EXT_CORE, 0, SIEVE_GROUP_SIZE },
	[SIEVE_TAG_UNDER] = { "under", SIEVE_EXT_CORE, 0, SIEVE_GROUP_SIZE },
	[SIEVE_TAG_COPY] = { "copy", SIEVE_EXT_COPY, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_CREATE] = { "create", SIEVE_EXT_MAILBOX, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_FLAGS] = { "flags", SIEVE_EXT_IMAP4FLAGS, 'l', SIEVE_GROUP_NONE },
	[SIEVE_TAG_DAYS] = { "days", SIEVE_EXT_VACATION, 'n', SIEVE_GROUP_TIME },
	[SIEVE_TAG_SECONDS] = { "seconds", SIEVE_EXT_CORE, 'n', SIEVE_GROUP_TIME },
	[SIEVE_TAG_SUBJECT] = { "subject", SIEVE_EXT_VACATION, 's', SIEVE_GROUP_NONE },
	[SIEVE_TAG_FROM] = { "from", SIEVE_EXT_VACATION, 's', SIEVE_GROUP_NONE },
	[SIEVE_TAG_ADDRESSES] = { "addresses", SIEVE_EXT_VACATION, 'l', SIEVE_GROUP_NONE },
	[SIEVE_TAG_MIME] = { "mime", SIEVE_EXT_VACATION, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_HANDLE] = { "handle", SIEVE_EXT_CORE, 's', SIEVE_GROUP_NONE },
	[SIEVE_TAG_LOWER] = { "lower", SIEVE_EXT_VARIABLES, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_UPPER] = { "upper", SIEVE_EXT_VARIABLES, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_LOWERFIRST] = { "lowerfirst", SIEVE_EXT_VARIABLES, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_UPPERFIRST] = { "upperfirst", SIEVE_EXT_VARIABLES, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_QUOTEWILDCARD] = { "quotewildcard", SIEVE_EXT_VARIABLES, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_LENGTH] = { "length", SIEVE_EXT_VARIABLES, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_RAW] = { "raw", SIEVE_EXT_BODY, 0, SIEVE_GROUP_BODY },
	[SIEVE_TAG_CONTENT] = { "content", SIEVE_EXT_BODY, 'l', SIEVE_GROUP_BODY },
	[SIEVE_TAG_TEXT] = { "text", SIEVE_EXT_BODY, 0, SIEVE_GROUP_BODY },
	[SIEVE_TAG_ZONE] = { "zone", SIEVE_EXT_DATE, 's', SIEVE_GROUP_ZONE },
	[SIEVE_TAG_ORIGINALZONE] = { "originalzone", SIEVE_EXT_DATE, 0, SIEVE_GROUP_ZONE },
	[SIEVE_TAG_INDEX] = { "index", SIEVE_EXT_INDEX, 'n', SIEVE_GROUP_NONE },
	[SIEVE_TAG_LAST] = { "last", SIEVE_EXT_CORE, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_HEADER] = { "header", SIEVE_EXT_DUPLICATE, 's', SIEVE_GROUP_DUPID },
	[SIEVE_TAG_UNIQUEID] = { "uniqueid", SIEVE_EXT_DUPLICATE, 's', SIEVE_GROUP_DUPID },
	[SIEVE_TAG_PERSONAL] = { "personal", SIEVE_EXT_INCLUDE, 0, SIEVE_GROUP_LOCATION },
	[SIEVE_TAG_GLOBAL] = { "global", SIEVE_EXT_INCLUDE, 0, SIEVE_GROUP_LOCATION },
	[SIEVE_TAG_ONCE] = { "once", SIEVE_EXT_INCLUDE, 0, SIEVE_GROUP_NONE },
	[SIEVE_TAG_OPTIONAL] = { "optional", SIEVE_EXT_INCLUDE, 0, SIEVE_GROUP_NONE },
};

#define MATCH_TAGS SIEVE_TAGS_MATCH
#define FILEINTO_TAGS (B(COPY) | B(CREATE) | B(FLAGS))

static const struct sieve_spec specs[] = {
	{ "require", SIEVE_CMD_REQUIRE, false, SIEVE_EXT_CORE, "l", 1, 0, 0, false },
	{ "if", SIEVE_CMD_IF, false, SIEVE_EXT_CORE, "", 0, 0, 1, true },
	{ "elsif", SIEVE_CMD_ELSIF, false, SIEVE_EXT_CORE, "", 0, 0, 1, true },
	{ "else", SIEVE_CMD_ELSE, false, SIEVE_EXT_CORE, "", 0, 0, 0, true },
	{ "stop", SIEVE_CMD_STOP, false, SIEVE_EXT_CORE, "", 0, 0, 0, false },
	{ "keep", SIEVE_CMD_KEEP, false, SIEVE_EXT_CORE, "", 0, B(FLAGS), 0, false },
	{ "discard", SIEVE_CMD_DISCARD, false, SIEVE_EXT_CORE, "", 0, 0, 0, false },
	{ "fileinto", SIEVE_CMD_FILEINTO, false, SIEVE_EXT_FILEINTO, "s", 1, FILEINTO_TAGS, 0, false },
	{ "redirect", SIEVE_CMD_REDIRECT, false, SIEVE_EXT_CORE, "s", 1, B(COPY), 0, false },
	{ "reject", SIEVE_CMD_REJECT, false, SIEVE_EXT_REJECT, "s", 1, 0, 0, false },
	{ "ereject", SIEVE_CMD_EREJECT, false, SIEVE_EXT_EREJECT, "s", 1, 0, 0, false },
	{ "vacation", SIEVE_CMD_VACATION, false, SIEVE_EXT_VACATION, "s", 1,
	  B(DAYS) | B(SECONDS) | B(SUBJECT) | B(FROM) | B(ADDRESSES) | B(MIME) | B(HANDLE), 0, false },
	{ "set", SIEVE_CMD_SET, false, SIEVE_EXT_VARIABLES, "ss", 2,
	  B(LOWER) | B(UPPER) | B(LOWERFIRST) | B(UPPERFIRST) | B(QUOTEWILDCARD) | B(LENGTH), 0, false },
	{ "addflag", SIEVE_CMD_ADDFLAG, false, SIEVE_EXT_IMAP4FLAGS, "sl", 1, 0, 0, false },
	{ "setflag", SIEVE_CMD_SETFLAG, false, SIEVE_EXT_IMAP4FLAGS, "sl", 1, 0, 0, false },
	{ "removeflag", SIEVE_CMD_REMOVEFLAG, false, SIEVE_EXT_IMAP4FLAGS, "sl", 1, 0, 0, false },
	{ "include", SIEVE_CMD_INCLUDE, false, SIEVE_EXT_INCLUDE, "s", 1,
	  B(PERSONAL) | B(GLOBAL) | B(ONCE) | B(OPTIONAL), 0, false },
	{ "return", SIEVE_CMD_RETURN, false, SIEVE_EXT_INCLUDE, "", 0, 0, 0, false },
	{ "global", SIEVE_CMD_GLOBAL, false, SIEVE_EXT_INCLUDE, "l", 1, 0, 0, false },
	{ "addheader", SIEVE_CMD_ADDHEADER, false, SIEVE_EXT_EDITHEADER, "ss", 2, B(LAST), 0, false },
	{ "deleteheader", SIEVE_CMD_DELETEHEADER, false, SIEVE_EXT_EDITHEADER, "sl", 1,
	  MATCH_TAGS | SIEVE_TAGS_INDEX, 0, false },

	{ "address", SIEVE_TEST_ADDRESS, true, SIEVE_EXT_CORE, "ll", 2,
	  MATCH_TAGS | SIEVE_TAGS_ADDRPART | SIEVE_TAGS_INDEX, 0, false },
	{ "envelope", SIEVE_TEST_ENVELOPE, true, SIEVE_EXT_ENVELOPE, "ll", 2,
	  MATCH_TAGS | SIEVE_TAGS_ADDRPART, 0, false },
	{ "header", SIEVE_TEST_HEADER, true, SIEVE_EXT_CORE, "ll", 2,
	  MATCH_TAGS | SIEVE_TAGS_INDEX, 0, false },
	{ "exists", SIEVE_TEST_EXISTS, true, SIEVE_EXT_CORE, "l", 1, 0, 0, false },
	{ "size", SIEVE_TEST_SIZE, true, SIEVE_EXT_CORE, "n", 1, B(OVER) | B(UNDER), 0, false },
	{ "allof", SIEVE_TEST_ALLOF, true, SIEVE_EXT_CORE, "", 0, 0, 2, false },
	{ "anyof", SIEVE_TEST_ANYOF, true, SIEVE_EXT_CORE, "", 0, 0, 2, false },
	{ "not", SIEVE_TEST_NOT, true, SIEVE_EXT_CORE, "", 0, 0, 1, false },
	{ "true", SIEVE_TEST_TRUE, true, SIEVE_EXT_CORE, "", 0, 0, 0, false },
	{ "false", SIEVE_TEST_FALSE, true, SIEVE_EXT_CORE, "", 0, 0, 0, false },
	{ "string", SIEVE_TEST_STRING, true, SIEVE_EXT_VARIABLES, "ll", 2, MATCH_TAGS, 0, false },
	{ "hasflag", SIEVE_TEST_HASFLAG, true, SIEVE_EXT_IMAP4FLAGS, "ll", 1, MATCH_TAGS, 0, false },
	{ "body", SIEVE_TEST_BODY, true, SIEVE_EXT_BODY, "l", 1,
	  MATCH_TAGS | B(RAW) | B(CONTENT) | B(TEXT), 0, false },
	{ "date", SIEVE_TEST_DATE, true, SIEVE_EXT_DATE, "ssl", 3,
	  MATCH_TAGS | B(ZONE) | B(ORIGINALZONE) | SIEVE_TAGS_INDEX, 0, false },
	{ "currentdate", SIEVE_TEST_CURRENTDATE, true, SIEVE_EXT_DATE, "sl", 2,
	  MATCH_TAGS | B(ZONE), 0, false },
	{ "duplicate", SIEVE_TEST_DUPLICATE, true, SIEVE_EXT_DUPLICATE, "", 0,
	  B(HANDLE) | B(HEADER) | B(UNIQUEID) | B(SECONDS) | B(LAST), 0, false },
	{ "mailboxexists", SIEVE_TEST_MAILBOXEXISTS, true, SIEVE_EXT_MAILBOX, "l", 1, 0, 0, false },
};

const char *sieve_ext_name(enum sieve_ext ext)
{
	return ext_names[ext];
}

bool sieve_ext_find(const char *name, enum sieve_ext *ext_r)
{
	if (strcmp(name, "comparator-i;octet") == 0 ||
	    strcmp(name, "comparator-i;ascii-casemap") == 0) {
		*ext_r = SIEVE_EXT_CORE;
		return true;
	}
	for (int i = 1; i < SIEVE_EXT_COUNT; i++) {
		if (strcmp(name, ext_names[i]) == 0) {
			*ext_r = (enum sieve_ext)i;
			return true;
		}
	}
	return false;
}

const struct sieve_spec *sieve_spec_find(const char *name, bool is_test)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(specs); i++) {
		if (specs[i].is_test == is_test && strcmp(specs[i].name, name) == 0)
			return &specs[i];
	}
	return NULL;
}

int sieve_tag_find(const char *name)
{
	for (int i = 0; i < SIEVE_TAG_COUNT; i++) {
		if (strcmp(sieve_tags[i].name, name) == 0)
			return i;
	}
	return -1;
}
