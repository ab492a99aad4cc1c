/*
 * sieve_message - the message and envelope a script is run on: the header
 * fields of a raw RFC 5322 message (unfolded, in order), its body, its
 * size, and the SMTP envelope. Also the helpers the tests need on header
 * values: RFC 2047 encoded-word decoding and address-list parsing.
 * The message is parsed from bytes in memory; header count is bounded.
 */
#ifndef LOFT_SIEVE_MESSAGE_H
#define LOFT_SIEVE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define SIEVE_MAX_HEADERS 10000

struct sieve_header {
	char *name;
	char *value;		/* unfolded, leading white space removed */
};

struct sieve_envelope {
	const char *mail_from;	/* "" for the null sender */
	const char *rcpt_to;
	const char *orig_rcpt_to;	/* NULL: rcpt_to */
};

struct sieve_message {
	const char *data;	/* the raw message (not owned) */
	size_t size;
	size_t body_offset;
	struct sieve_header *headers;
	size_t nheaders;
};

/* sieve_message_parse - headers of data (kept by pointer, not copied) */
void sieve_message_parse(struct sieve_message *msg, const char *data,
			 size_t size);
void sieve_message_free(struct sieve_message *msg);

/* sieve_decode_mime_words - value with RFC 2047 encoded-words decoded
   (charset names are not converted: UTF-8 and ASCII pass as they are)
   appended to out */
void sieve_decode_mime_words(struct strbuf *out, const char *value);

/* sieve_base64_decode - len base64 characters into out (room for len
   bytes); line breaks and blanks skipped; 0, or -1 on a bad character */
int sieve_base64_decode(const char *text, size_t len, unsigned char *out,
			size_t *outlen_r);

struct sieve_address {
	char *local;		/* NULL for an address that did not parse */
	char *domain;		/* NULL when there is no '@' */
	char *raw;		/* the whole address as written */
	char *name;		/* the display name before <...> (NULL: none) */
};

/* sieve_parse_addresses - the addresses of an address-list header value;
   *count_r of them (malloced array, free with sieve_addresses_free) */
struct sieve_address *sieve_parse_addresses(const char *value, size_t *count_r);
void sieve_addresses_free(struct sieve_address *addrs, size_t count);



/* sieve_address_valid - an addr-spec a redirect may go to */
bool sieve_address_valid(const char *addr);
/* sieve_mailbox_name_valid - a mailbox name fileinto accepts: non-empty
   UTF-8 without control characters */
bool sieve_mailbox_name_valid(const char *name);
#endif
