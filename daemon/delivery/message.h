/*
 * message - the incoming message, spooled once and written to any number of
 * mailboxes.
 *
 * Bytes are appended as they arrive (LDA: stdin; LMTP: after dot
 * unstuffing). CRLF is stored as LF on the way in; a message larger than
 * the memory threshold spills to an unlinked file in mail_temp_dir, so
 * client input never grows memory without bound. message_finish() parses the
 * header: Message-ID, Subject, From, existing Return-Path lines (dropped
 * when written) and a leading mbox "From " line (its sender is kept, the
 * line is dropped).
 */
#ifndef LOFT_MESSAGE_H
#define LOFT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct message;

/* message_create - temp_dir for the spill file (NULL: /tmp) */
struct message *message_create(const char *temp_dir);
void message_free(struct message **msg);

/* message_append - raw bytes; 0 or -1 with *error_r (spill I/O error) */
int message_append(struct message *msg, const void *data, size_t size,
		   const char **error_r);
/* message_keep_return_path - before message_finish: write the message's
   own Return-Path lines instead of dropping them (loft-lda, which like
   dovecot-lda adds no header and keeps what the MTA prepended) */
void message_keep_return_path(struct message *msg);
/* message_finish - end of input: parse the header. 0 or -1 with *error_r */
int message_finish(struct message *msg, const char **error_r);

/* Header values (unfolded, trimmed), or NULL when absent. */
const char *message_msgid(const struct message *msg);
const char *message_subject(const struct message *msg);
const char *message_from(const struct message *msg);
/* message_header - first value of any header name (case-insensitive) */
const char *message_header(const struct message *msg, const char *name);
/* message_mbox_sender - the sender of a leading "From sender date" line */
const char *message_mbox_sender(const struct message *msg);

/* Size of what message_write() writes with an empty prefix: LF-only bytes,
   and the virtual size counting each LF as CRLF. */
uint64_t message_size(const struct message *msg);
uint64_t message_vsize(const struct message *msg);
/* raw input size in bytes, as received */
uint64_t message_input_size(const struct message *msg);

/* message_write - write prefix (extra header lines, LF endings) and the
   message without its leading From line and (unless kept) its Return-Path
   lines to fd at
   its current offset. mbox_escape: ">From " quoting of lines starting with
   "From " and a guaranteed trailing LF. *size_r: bytes written. 0, or -1
   with errno kept from the failing write (ENOSPC, EDQUOT, EFBIG...) and
   *error_r. */
int message_write(struct message *msg, const char *prefix, size_t prefix_len,
		  int fd, bool mbox_escape, uint64_t *size_r,
		  const char **error_r);

/* where message_write_smtp_data puts its bytes (a connection, perhaps
   TLS): all of data, 0, or -1 with errno; its caller knows the details */
typedef int message_output_callback_t(const void *data, size_t len,
				      void *context);
/* message_write_smtp_data - the same bytes as SMTP DATA content to
   output: CRLF line ends, leading dots doubled, and the final "." line
   (prefix too: LF endings). 0, or -1 with errno and *error_r. */
int message_write_smtp_data(struct message *msg, const char *prefix,
			    size_t prefix_len, message_output_callback_t *output,
			    void *context, uint64_t *size_r,
			    const char **error_r);

struct strbuf;
/* message_render - the bytes message_write() writes (no mbox quoting),
   appended to out in memory (the Sieve filter reads the message whole).
   0, or -1 with *error_r (the spill file could not be read). */
int message_render(struct message *msg, const char *prefix, size_t prefix_len,
		   struct strbuf *out, const char **error_r);

/* message_count_lf - LFs in a buffer (for W= of prefixes) */
uint64_t message_count_lf(const char *data, size_t len);

#endif
