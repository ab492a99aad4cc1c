/*
 * maildir_keywords - IMAP keywords in maildir file names, as Dovecot keeps
 * them: the folder's `dovecot-keywords` file maps a number (0..25) to a
 * keyword ("0 Junk"), and a message with keyword N carries the letter
 * 'a' + N after ":2," in its name. A keyword not in the file yet is added
 * the way Dovecot adds one: the whole file rewritten into the dotlock
 * `dovecot-keywords.lock`, which is then renamed over it, so Dovecot
 * reading the file, or adding a keyword of its own, sees it whole.
 */
#ifndef LOFT_MAILDIR_KEYWORDS_H
#define LOFT_MAILDIR_KEYWORDS_H

#include <stddef.h>

/* maildir_keywords_letters - the letters of keywords in the folder dir,
   adding the missing ones; a keyword that does not fit (26 in use, or a
   name with blanks or control characters) gets none. letters: sorted, NUL
   terminated (size >= 27). 0, or -1 with *error_r (the file could not be
   read or written: the caller saves without keywords) */
int maildir_keywords_letters(const char *dir, char *const *keywords,
			     size_t count, char *letters, size_t size,
			     const char **error_r);

#endif
