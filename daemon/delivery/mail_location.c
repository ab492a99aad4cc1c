/*
 * mail_location - parse Dovecot's `mail_location` into a storage type, a
 * root and an INBOX path, and map mailbox names to directories or files.
 *
 * Syntax: TYPE:PATH[:KEY=VALUE|:FLAG]..., TYPE maildir or mbox, "::" is a
 * literal ':'. LAYOUT=fs / LAYOUT=maildir++ and INBOX= matter for delivery;
 * the other keys Dovecot knows (INDEX=, CONTROL=, VOLATILEDIR=, UTF-8, ...)
 * are accepted and ignored. Mailbox names use '/' as hierarchy separator and
 * are validated here so that no name can reach outside the mail root.
 */
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "error_slot.h"
#include "mail_location.h"
#include "strbuf.h"
#include "xalloc.h"

/* flags without a value that Dovecot accepts in mail_location */
static const char *const mail_location_flags[] = {
	"UTF-8", "UTF8", "ITERINDEX", "NO-NOSELECT", "LOSSY", "NOFSYNC",
};

static __thread struct error_slot mail_location_error;


/* location_next_field - the next ':'-separated field ("::" is ':');
   returns a new string and advances *p, NULL at the end */
static char *location_next_field(const char **p)
{
	struct strbuf field;
	const char *s = *p;

	if (s == NULL)
		return NULL;
	strbuf_init(&field, 64);
	for (;;) {
		if (*s == '\0') {
			*p = NULL;
			break;
		}
		if (*s == ':') {
			if (s[1] == ':') {
				strbuf_putc(&field, ':');
				s += 2;
				continue;
			}
			*p = s + 1;
			break;
		}
		strbuf_putc(&field, *s++);
	}
	return field.data;
}

/* location_expand_path - "~" and "~/" to home; the result must be an
   absolute path, trailing slashes removed */
static int location_expand_path(const char *path, const char *home,
				const char *what, char **path_r,
				const char **error_r)
{
	char *expanded;
	size_t len;

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		if (home == NULL || *home == '\0') {
			*error_r = error_slot_set(&mail_location_error, 
				"mail_location uses ~/ but the user has no home directory");
			return -1;
		}
		len = strlen(home);
		while (len > 1 && home[len - 1] == '/')
			len--;
		expanded = xasprintf("%.*s%s", (int)len, home, path + 1);
	} else {
		expanded = xstrdup(path);
	}
	if (expanded[0] != '/') {
		*error_r = error_slot_set(&mail_location_error, 
			"mail_location %s path is not absolute: %s", what, expanded);
		free(expanded);
		return -1;
	}
	len = strlen(expanded);
	while (len > 1 && expanded[len - 1] == '/')
		expanded[--len] = '\0';
	*path_r = expanded;
	return 0;
}

/* location_parse_option - one KEY=VALUE or FLAG field */
static int location_parse_option(const char *field, const char *home,
				 struct mail_location *loc, bool *layout_set,
				 const char **error_r)
{
	const char *eq = strchr(field, '=');
	size_t i;

	if (eq == NULL) {
		for (i = 0; i < LOFT_N_ELEMENTS(mail_location_flags); i++) {
			if (strcasecmp(field, mail_location_flags[i]) == 0)
				return 0;
		}
		*error_r = error_slot_set(&mail_location_error, 
			"Unknown setting in mail_location: %s", field);
		return -1;
	}
	if (strncasecmp(field, "LAYOUT=", 7) == 0) {
		if (strcasecmp(eq + 1, "fs") == 0) {
			loc->layout_fs = true;
		} else if (strcasecmp(eq + 1, "maildir++") == 0 &&
			   loc->type == MAIL_STORAGE_MAILDIR) {
			loc->layout_fs = false;
		} else {
			*error_r = error_slot_set(&mail_location_error, 
				"Unsupported mail_location LAYOUT for %s: %s",
				loc->type == MAIL_STORAGE_MAILDIR ? "maildir" : "mbox",
				eq + 1);
			return -1;
		}
		*layout_set = true;
		return 0;
	}
	if (strncasecmp(field, "INBOX=", 6) == 0) {
		if (eq[1] == '\0') {
			*error_r = error_slot_set(&mail_location_error, 
				"mail_location INBOX= is empty");
			return -1;
		}
		free(loc->inbox);
		loc->inbox = NULL;
		return location_expand_path(eq + 1, home, "INBOX", &loc->inbox,
					    error_r);
	}
	/* INDEX=, CONTROL=, VOLATILEDIR=, ...: no effect on delivery */
	return 0;
}

int mail_location_parse(const char *location, const char *home,
			struct mail_location *loc_r, const char **error_r)
{
	const char *p = location, *colon = strchr(location, ':');
	char *field;
	bool layout_set = false;
	int ret = 0;

	memset(loc_r, 0, sizeof(*loc_r));
	if (colon == NULL) {
		*error_r = error_slot_set(&mail_location_error, 
			"mail_location has no storage type (maildir: or mbox:): %s",
			location);
		return -1;
	}
	if ((size_t)(colon - location) == 7 && strncasecmp(location, "maildir", 7) == 0) {
		loc_r->type = MAIL_STORAGE_MAILDIR;
	} else if ((size_t)(colon - location) == 4 && strncasecmp(location, "mbox", 4) == 0) {
		loc_r->type = MAIL_STORAGE_MBOX;
		loc_r->layout_fs = true;
	} else {
		*error_r = error_slot_set(&mail_location_error, 
			"Unsupported mail storage type in mail_location: %.*s",
			(int)(colon - location), location);
		return -1;
	}
	p = colon + 1;
	field = location_next_field(&p);
	if (*field == '\0') {
		*error_r = error_slot_set(&mail_location_error, 
			"mail_location has an empty path: %s", location);
		ret = -1;
	} else {
		ret = location_expand_path(field, home, "root", &loc_r->root,
					   error_r);
	}
	free(field);
	while (ret == 0 && (field = location_next_field(&p)) != NULL) {
		if (*field != '\0')
			ret = location_parse_option(field, home, loc_r,
						    &layout_set, error_r);
		free(field);
	}
	if (ret < 0) {
		mail_location_free(loc_r);
		return -1;
	}
	if (loc_r->inbox == NULL) {
		loc_r->inbox = loc_r->type == MAIL_STORAGE_MAILDIR ?
			xstrdup(loc_r->root) :
			xasprintf("%s/inbox", loc_r->root);
	}
	return 0;
}

void mail_location_free(struct mail_location *loc)
{
	XFREE(loc->root);
	XFREE(loc->inbox);
}

bool mail_location_is_inbox(const char *mailbox)
{
	return mailbox == NULL || *mailbox == '\0' ||
		strcasecmp(mailbox, "INBOX") == 0;
}

char *mail_location_normalize(const char *mailbox)
{
	if (mailbox == NULL)
		return xstrdup("INBOX");
	if (strncasecmp(mailbox, "INBOX/", 6) == 0)
		mailbox += 6;
	if (mail_location_is_inbox(mailbox))
		return xstrdup("INBOX");
	return xstrdup(mailbox);
}

/* mailbox_check_component - one hierarchy level of a mailbox name */
static int mailbox_check_component(const char *mailbox, const char *comp,
				   size_t len, bool maildirpp,
				   const char **error_r)
{
	size_t i;

	if (len == 0) {
		*error_r = error_slot_set(&mail_location_error, 
			"Invalid mailbox name '%s': empty hierarchy level",
			mailbox);
		return -1;
	}
	if ((len == 1 && comp[0] == '.') ||
	    (len == 2 && comp[0] == '.' && comp[1] == '.')) {
		*error_r = error_slot_set(&mail_location_error, 
			"Invalid mailbox name '%s': '.' and '..' are not allowed",
			mailbox);
		return -1;
	}
	if (len > 255) {
		*error_r = error_slot_set(&mail_location_error, 
			"Invalid mailbox name '%s': hierarchy level too long",
			mailbox);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)comp[i];

		if (c < 0x20 || c == 0x7f) {
			*error_r = error_slot_set(&mail_location_error, 
				"Invalid mailbox name: contains control characters");
			return -1;
		}
		if (c == '.' && maildirpp) {
			*error_r = error_slot_set(&mail_location_error, 
				"Mailbox name contains '.': %s", mailbox);
			return -1;
		}
	}
	return 0;
}

int mail_location_mailbox_path(const struct mail_location *loc,
			       const char *mailbox, char **path_r,
			       const char **error_r)
{
	bool maildirpp = loc->type == MAIL_STORAGE_MAILDIR && !loc->layout_fs;
	const char *p, *slash;
	struct strbuf path;

	*path_r = NULL;
	if (mail_location_is_inbox(mailbox)) {
		*path_r = xstrdup(loc->inbox);
		return 0;
	}
	if (mailbox[0] == '/') {
		*error_r = error_slot_set(&mail_location_error, 
			"Invalid mailbox name '%s': begins with '/'", mailbox);
		return -1;
	}
	for (p = mailbox;; p = slash + 1) {
		slash = strchr(p, '/');
		if (mailbox_check_component(mailbox, p, slash != NULL ?
					    (size_t)(slash - p) : strlen(p),
					    maildirpp, error_r) < 0)
			return -1;
		if (slash == NULL)
			break;
	}
	/* Maildir++ makes one directory of every level: ".a.b.c" */
	if (maildirpp && strlen(mailbox) + 1 > NAME_MAX) {
		*error_r = error_slot_set(&mail_location_error,
			"Invalid mailbox name '%.64s...': longer than a Maildir++ "
			"folder name can be (%u bytes)", mailbox, NAME_MAX - 1);
		return -1;
	}
	if (strlen(loc->root) + strlen(mailbox) + 2 >= PATH_MAX) {
		*error_r = error_slot_set(&mail_location_error,
			"Invalid mailbox name '%.64s...': the path would be "
			"longer than %u bytes", mailbox, PATH_MAX);
		return -1;
	}
	strbuf_init(&path, strlen(loc->root) + strlen(mailbox) + 3);
	strbuf_append_str(&path, loc->root);
	strbuf_append_str(&path, maildirpp ? "/." : "/");
	for (p = mailbox; *p != '\0'; p++)
		strbuf_putc(&path, maildirpp && *p == '/' ? '.' : *p);
	*path_r = path.data;
	return 0;
}
