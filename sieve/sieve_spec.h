/*
 * sieve_spec - what the language knows: the extensions loft implements,
 * every command and test with the extension it needs, the positional
 * arguments it takes and the tags it allows, and every tag with the type
 * of its argument. The validator checks a parsed script against these
 * tables; nothing else names a command or tag by its string.
 */
#ifndef LOFT_SIEVE_SPEC_H
#define LOFT_SIEVE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

enum sieve_ext {
	SIEVE_EXT_CORE,			/* no require needed */
	SIEVE_EXT_FILEINTO,
	SIEVE_EXT_ENVELOPE,
	SIEVE_EXT_ENCODED_CHARACTER,
	SIEVE_EXT_VARIABLES,
	SIEVE_EXT_SUBADDRESS,
	SIEVE_EXT_COPY,
	SIEVE_EXT_IMAP4FLAGS,
	SIEVE_EXT_MAILBOX,
	SIEVE_EXT_REJECT,
	SIEVE_EXT_EREJECT,
	SIEVE_EXT_RELATIONAL,
	SIEVE_EXT_NUMERIC,		/* comparator-i;ascii-numeric */
	SIEVE_EXT_BODY,
	SIEVE_EXT_VACATION,
	SIEVE_EXT_VACATION_SECONDS,
	SIEVE_EXT_DATE,
	SIEVE_EXT_INDEX,
	SIEVE_EXT_DUPLICATE,
	SIEVE_EXT_EDITHEADER,
	SIEVE_EXT_INCLUDE,
	SIEVE_EXT_COUNT,
};

enum sieve_id {
	/* commands */
	SIEVE_CMD_REQUIRE, SIEVE_CMD_IF, SIEVE_CMD_ELSIF, SIEVE_CMD_ELSE,
	SIEVE_CMD_STOP, SIEVE_CMD_KEEP, SIEVE_CMD_DISCARD, SIEVE_CMD_FILEINTO,
	SIEVE_CMD_REDIRECT, SIEVE_CMD_REJECT, SIEVE_CMD_EREJECT,
	SIEVE_CMD_VACATION, SIEVE_CMD_SET, SIEVE_CMD_ADDFLAG,
	SIEVE_CMD_SETFLAG, SIEVE_CMD_REMOVEFLAG, SIEVE_CMD_ADDHEADER,
	SIEVE_CMD_DELETEHEADER, SIEVE_CMD_INCLUDE, SIEVE_CMD_RETURN,
	SIEVE_CMD_GLOBAL,
	/* tests */
	SIEVE_TEST_ADDRESS, SIEVE_TEST_ENVELOPE, SIEVE_TEST_HEADER,
	SIEVE_TEST_EXISTS, SIEVE_TEST_SIZE, SIEVE_TEST_ALLOF,
	SIEVE_TEST_ANYOF, SIEVE_TEST_NOT, SIEVE_TEST_TRUE, SIEVE_TEST_FALSE,
	SIEVE_TEST_STRING, SIEVE_TEST_HASFLAG, SIEVE_TEST_BODY,
	SIEVE_TEST_DATE, SIEVE_TEST_CURRENTDATE, SIEVE_TEST_DUPLICATE,
	SIEVE_TEST_MAILBOXEXISTS,
};

enum sieve_tag {
	SIEVE_TAG_COMPARATOR, SIEVE_TAG_IS, SIEVE_TAG_CONTAINS,
	SIEVE_TAG_MATCHES, SIEVE_TAG_COUNT_, SIEVE_TAG_VALUE, SIEVE_TAG_ALL,
	SIEVE_TAG_LOCALPART, SIEVE_TAG_DOMAIN, SIEVE_TAG_USER,
	SIEVE_TAG_DETAIL, SIEVE_TAG_OVER, SIEVE_TAG_UNDER, SIEVE_TAG_COPY,
	SIEVE_TAG_CREATE, SIEVE_TAG_FLAGS, SIEVE_TAG_DAYS, SIEVE_TAG_SECONDS,
	SIEVE_TAG_SUBJECT, SIEVE_TAG_FROM, SIEVE_TAG_ADDRESSES,
	SIEVE_TAG_MIME, SIEVE_TAG_HANDLE, SIEVE_TAG_LOWER, SIEVE_TAG_UPPER,
	SIEVE_TAG_LOWERFIRST, SIEVE_TAG_UPPERFIRST, SIEVE_TAG_QUOTEWILDCARD,
	SIEVE_TAG_LENGTH, SIEVE_TAG_RAW, SIEVE_TAG_CONTENT, SIEVE_TAG_TEXT,
	SIEVE_TAG_ZONE, SIEVE_TAG_ORIGINALZONE, SIEVE_TAG_INDEX,
	SIEVE_TAG_LAST, SIEVE_TAG_HEADER, SIEVE_TAG_UNIQUEID,
	SIEVE_TAG_PERSONAL, SIEVE_TAG_GLOBAL, SIEVE_TAG_ONCE,
	SIEVE_TAG_OPTIONAL,
	SIEVE_TAG_COUNT,
};

/* tags that exclude each other within a node */
enum sieve_tag_group {
	SIEVE_GROUP_NONE, SIEVE_GROUP_MATCH, SIEVE_GROUP_ADDRPART,
	SIEVE_GROUP_SIZE, SIEVE_GROUP_BODY, SIEVE_GROUP_ZONE,
	SIEVE_GROUP_DUPID, SIEVE_GROUP_TIME, SIEVE_GROUP_LOCATION,
};

enum sieve_match { SIEVE_MATCH_IS, SIEVE_MATCH_CONTAINS,
		   SIEVE_MATCH_MATCHES, SIEVE_MATCH_COUNT,
		   SIEVE_MATCH_VALUE };
enum sieve_relop { SIEVE_REL_GT, SIEVE_REL_GE, SIEVE_REL_LT, SIEVE_REL_LE,
		   SIEVE_REL_EQ, SIEVE_REL_NE };
enum sieve_comparator { SIEVE_CMP_CASEMAP, SIEVE_CMP_OCTET,
			SIEVE_CMP_NUMERIC };
enum sieve_addrpart { SIEVE_ADDR_ALL, SIEVE_ADDR_LOCALPART,
		      SIEVE_ADDR_DOMAIN, SIEVE_ADDR_USER, SIEVE_ADDR_DETAIL };

#define SIEVE_TAGBIT(t) ((uint64_t)1 << (t))
#define SIEVE_TAGS_MATCH (SIEVE_TAGBIT(SIEVE_TAG_COMPARATOR) | \
	SIEVE_TAGBIT(SIEVE_TAG_IS) | SIEVE_TAGBIT(SIEVE_TAG_CONTAINS) | \
	SIEVE_TAGBIT(SIEVE_TAG_MATCHES) | SIEVE_TAGBIT(SIEVE_TAG_COUNT_) | \
	SIEVE_TAGBIT(SIEVE_TAG_VALUE))
#define SIEVE_TAGS_ADDRPART (SIEVE_TAGBIT(SIEVE_TAG_ALL) | \
	SIEVE_TAGBIT(SIEVE_TAG_LOCALPART) | SIEVE_TAGBIT(SIEVE_TAG_DOMAIN) | \
	SIEVE_TAGBIT(SIEVE_TAG_USER) | SIEVE_TAGBIT(SIEVE_TAG_DETAIL))
#define SIEVE_TAGS_INDEX (SIEVE_TAGBIT(SIEVE_TAG_INDEX) | \
	SIEVE_TAGBIT(SIEVE_TAG_LAST))

struct sieve_tag_spec {
	const char *name;
	enum sieve_ext ext;
	char arg;		/* 0 none, 's' string, 'l' string list, 'n' number */
	enum sieve_tag_group group;
};

struct sieve_spec {
	const char *name;
	enum sieve_id id;
	bool is_test;
	enum sieve_ext ext;
	/* positional arguments: 's' string, 'l' string list, 'n' number;
	   the first min_pos are required, optional ones come first (the
	   flag commands' variable name) */
	const char *pos;
	unsigned int min_pos;
	uint64_t tags;
	/* 0 no test, 1 one test, 2 a test list */
	unsigned int tests;
	bool block;
};

extern const struct sieve_tag_spec sieve_tags[SIEVE_TAG_COUNT];

const char *sieve_ext_name(enum sieve_ext ext);
/* sieve_ext_find - the extension for a `require` name, false if unknown;
   *ext_r is SIEVE_EXT_CORE for the always-present comparators */
bool sieve_ext_find(const char *name, enum sieve_ext *ext_r);
const struct sieve_spec *sieve_spec_find(const char *name, bool is_test);
int sieve_tag_find(const char *name);

#endif
