/*
 * mail_location - parse `mail_location` into a storage type and paths, and
 * map mailbox names to directories or files.
 *
 * maildir:PATH[:LAYOUT=fs][:INBOX=PATH] and mbox:PATH[:INBOX=FILE]; other
 * Dovecot keys (INDEX=, CONTROL=, ...) are accepted and have no effect on
 * delivery. `~/` is the user's home. Mailbox names use '/' as hierarchy
 * separator; a leading "INBOX/" is stripped; Maildir++ stores Work/Projects
 * as .Work.Projects, LAYOUT=fs as Work/Projects, mbox as PATH/Work/Projects.
 */
#ifndef LOFT_MAIL_LOCATION_H
#define LOFT_MAIL_LOCATION_H

#include <stdbool.h>

enum mail_storage_type { MAIL_STORAGE_MAILDIR, MAIL_STORAGE_MBOX };

struct mail_location {
	enum mail_storage_type type;
	char *root;		/* maildir root / mbox folder dir (expanded) */
	char *inbox;		/* maildir INBOX dir or mbox INBOX file */
	bool layout_fs;
};

/* mail_location_parse - location already variable-expanded; home may be
   NULL (then "~/" is an error). 0 or -1 with *error_r. */
int mail_location_parse(const char *location, const char *home,
			struct mail_location *loc_r, const char **error_r);
void mail_location_free(struct mail_location *loc);

/* mail_location_mailbox_path - the directory (maildir) or file (mbox) of a
   mailbox name. 0, or -1 with *error_r for invalid names ("..", empty
   components, names starting with '.' in Maildir++). */
int mail_location_mailbox_path(const struct mail_location *loc,
			       const char *mailbox, char **path_r,
			       const char **error_r);
/* mail_location_is_inbox - "INBOX" in any case, or "" */
bool mail_location_is_inbox(const char *mailbox);
/* mail_location_normalize - strip a leading "INBOX/" and map "inbox" to
   "INBOX"; returns a new string */
char *mail_location_normalize(const char *mailbox);

#endif
