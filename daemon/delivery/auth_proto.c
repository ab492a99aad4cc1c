/*
 * auth_proto - the auth-master line protocol codec (see auth_proto.h):
 * splitting a line on TABs, Dovecot's \001 escapes, request and reply
 * parsing and formatting.
 */
#include "auth_proto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "error_slot.h"
#include "xalloc.h"

/* more fields than this in one USER reply is not a userdb reply */
#define AUTH_PROTO_MAX_FIELDS 256
#define AUTH_PROTO_ESCAPE '\001'

static __thread struct error_slot auth_proto_error_slot;

/* one TAB-separated argument of a line, unescaped, NUL-terminated */
struct auth_proto_args {
	char **args;
	size_t count;
};

static const char *auth_proto_error(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2);
static const char *auth_proto_error(const char *fmt, ...)
{
	va_list args;
	const char *ret;

	va_start(args, fmt);
	ret = error_slot_vset(&auth_proto_error_slot, fmt, args);
	va_end(args);
	return ret;
}

void auth_proto_escape(struct strbuf *out, const char *str)
{
	for (const char *p = str; *p != '\0'; p++) {
		switch (*p) {
		case AUTH_PROTO_ESCAPE:
			strbuf_append(out, "\0011", 2);
			break;
		case '\t':
			strbuf_append(out, "\001t", 2);
			break;
		case '\r':
			strbuf_append(out, "\001r", 2);
			break;
		case '\n':
			strbuf_append(out, "\001l", 2);
			break;
		default:
			strbuf_putc(out, *p);
		}
	}
}

/* unescape_arg - a copy of [start, start+len) with the escapes undone; NULL
   with *error_r on an escape that would make a NUL or ends the argument */
static char *unescape_arg(const char *start, size_t len, const char **error_r)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (start[i] != AUTH_PROTO_ESCAPE) {
			*o++ = start[i];
			continue;
		}
		if (++i == len) {
			*error_r = auth_proto_error("Escape character at the end of a field");
			free(out);
			return NULL;
		}
		switch (start[i]) {
		case '1': *o++ = AUTH_PROTO_ESCAPE; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'l': *o++ = '\n'; break;
		case '0':
			*error_r = auth_proto_error("Escaped NUL in a field");
			free(out);
			return NULL;
		default: *o++ = start[i]; break;
		}
	}
	*o = '\0';
	return out;
}

static void args_free(struct auth_proto_args *args)
{
	for (size_t i = 0; i < args->count; i++)
		free(args->args[i]);
	free(args->args);
	args->args = NULL;
	args->count = 0;
}

/* args_split - line split on TABs and unescaped; 0, or -1 with *error_r
   (NUL byte, bad escape, line too long, too many fields) */
static int args_split(const char *line, size_t len, size_t max_len,
		      struct auth_proto_args *args_r, const char **error_r)
{
	size_t start = 0, cap = 0;

	memset(args_r, 0, sizeof(*args_r));
	if (len > max_len) {
		*error_r = auth_proto_error("Line longer than %zu bytes", max_len);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*error_r = auth_proto_error("NUL byte in line");
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		char *arg;

		if (i < len && line[i] != '\t')
			continue;
		if (args_r->count == AUTH_PROTO_MAX_FIELDS + 3) {
			*error_r = auth_proto_error("More than %u fields",
						    AUTH_PROTO_MAX_FIELDS);
			args_free(args_r);
			return -1;
		}
		arg = unescape_arg(line + start, i - start, error_r);
		if (arg == NULL) {
			args_free(args_r);
			return -1;
		}
		if (args_r->count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			args_r->args = xreallocarray(args_r->args, cap,
						     sizeof(*args_r->args));
		}
		args_r->args[args_r->count++] = arg;
		start = i + 1;
	}
	return 0;
}

/* parse_uint - a decimal unsigned int without sign or spaces */
static bool parse_uint(const char *str, unsigned int *value_r)
{
	return decimal_parse_uint(str, UINT_MAX, value_r);
}

/* request_params - service= and (for LIST) user= of args[first...] */
static void request_params(struct auth_proto_request *req,
			   const struct auth_proto_args *args, size_t first)
{
	for (size_t i = first; i < args->count; i++) {
		const char *arg = args->args[i];

		if (strncmp(arg, "service=", 8) == 0) {
			free(req->service);
			req->service = xstrdup(arg + 8);
		} else if (req->cmd == AUTH_PROTO_REQ_LIST &&
			   strncmp(arg, "user=", 5) == 0) {
			free(req->user);
			req->user = xstrdup(arg + 5);
		}
		/* other parameters (lip, rip, debug, ...) are informative */
	}
}

int auth_proto_request_parse(const char *line, size_t len,
			     struct auth_proto_request *req_r,
			     const char **error_r)
{
	struct auth_proto_args args;
	const char *cmd;
	size_t first;

	memset(req_r, 0, sizeof(*req_r));
	if (args_split(line, len, AUTH_PROTO_MAX_REQUEST, &args, error_r) < 0)
		return -1;
	cmd = args.args[0];
	if (strcmp(cmd, "VERSION") == 0) {
		req_r->cmd = AUTH_PROTO_REQ_VERSION;
		if (args.count < 3 || !parse_uint(args.args[1], &req_r->major) ||
		    !parse_uint(args.args[2], &req_r->minor)) {
			*error_r = auth_proto_error("Broken VERSION");
			args_free(&args);
			return -1;
		}
		args_free(&args);
		return 0;
	}
	if (strcmp(cmd, "USER") == 0)
		req_r->cmd = AUTH_PROTO_REQ_USER;
	else if (strcmp(cmd, "PASS") == 0)
		req_r->cmd = AUTH_PROTO_REQ_PASS;
	else if (strcmp(cmd, "LIST") == 0)
		req_r->cmd = AUTH_PROTO_REQ_LIST;
	else {
		*error_r = auth_proto_error("Unknown command");
		args_free(&args);
		return -1;
	}
	if (args.count < 2 || !parse_uint(args.args[1], &req_r->id) ||
	    (req_r->cmd != AUTH_PROTO_REQ_LIST && args.count < 3)) {
		*error_r = auth_proto_error("Broken %s request", cmd);
		args_free(&args);
		return -1;
	}
	first = 2;
	if (req_r->cmd != AUTH_PROTO_REQ_LIST) {
		req_r->user = xstrdup(args.args[2]);
		first = 3;
	}
	request_params(req_r, &args, first);
	args_free(&args);
	return 0;
}

void auth_proto_request_free(struct auth_proto_request *req)
{
	XFREE(req->user);
	XFREE(req->service);
}

/* reply_fields - args[first...] as key[=value] into reply->fields */
static int reply_fields(struct auth_proto_reply *reply,
			const struct auth_proto_args *args, size_t first,
			const char **error_r)
{
	for (size_t i = first; i < args->count; i++) {
		char *arg = args->args[i];
		char *eq = strchr(arg, '=');

		if (eq == arg || arg[0] == '\0') {
			*error_r = auth_proto_error("Field without a name");
			return -1;
		}
		if (eq != NULL)
			*eq = '\0';
		kvlist_set(&reply->fields, arg, eq != NULL ? eq + 1 : "");
	}
	return 0;
}

/* reply_kind - the reply kind named cmd; false when unknown */
static bool reply_kind(const char *cmd, enum auth_proto_reply_kind *kind_r)
{
	static const struct {
		const char *name;
		enum auth_proto_reply_kind kind;
	} kinds[] = {
		{ "VERSION", AUTH_PROTO_REPLY_VERSION },
		{ "SPID", AUTH_PROTO_REPLY_SPID },
		{ "USER", AUTH_PROTO_REPLY_USER },
		{ "NOTFOUND", AUTH_PROTO_REPLY_NOTFOUND },
		{ "FAIL", AUTH_PROTO_REPLY_FAIL },
		{ "LIST", AUTH_PROTO_REPLY_LIST },
		{ "DONE", AUTH_PROTO_REPLY_DONE },
	};

	for (size_t i = 0; i < LOFT_N_ELEMENTS(kinds); i++) {
		if (strcmp(kinds[i].name, cmd) == 0) {
			*kind_r = kinds[i].kind;
			return true;
		}
	}
	return false;
}

/* reply_body - the arguments after the id of a reply with one */
static int reply_body(struct auth_proto_reply *reply,
		      const struct auth_proto_args *args, const char **error_r)
{
	switch (reply->kind) {
	case AUTH_PROTO_REPLY_USER:
	case AUTH_PROTO_REPLY_LIST:
		if (args->count < 3 || args->args[2][0] == '\0') {
			*error_r = auth_proto_error("%s reply without a user name",
				reply->kind == AUTH_PROTO_REPLY_USER ? "USER" : "LIST");
			return -1;
		}
		reply->user = xstrdup(args->args[2]);
		return reply->kind == AUTH_PROTO_REPLY_USER ?
			reply_fields(reply, args, 3, error_r) : 0;
	case AUTH_PROTO_REPLY_FAIL:
		for (size_t i = 2; i < args->count; i++) {
			if (strncmp(args->args[i], "reason=", 7) == 0 &&
			    reply->reason == NULL)
				reply->reason = xstrdup(args->args[i] + 7);
		}
		return 0;
	case AUTH_PROTO_REPLY_DONE:
		reply->failed = args->count > 2 &&
			strcmp(args->args[2], "fail") == 0;
		return 0;
	default:
		return 0;
	}
}

int auth_proto_reply_parse(const char *line, size_t len,
			   struct auth_proto_reply *reply_r,
			   const char **error_r)
{
	struct auth_proto_args args;
	int ret = 0;

	memset(reply_r, 0, sizeof(*reply_r));
	kvlist_init(&reply_r->fields);
	if (args_split(line, len, AUTH_PROTO_MAX_REPLY, &args, error_r) < 0)
		return -1;
	if (!reply_kind(args.args[0], &reply_r->kind)) {
		*error_r = auth_proto_error("Unknown reply");
		ret = -1;
	} else if (reply_r->kind == AUTH_PROTO_REPLY_VERSION) {
		if (args.count < 3 || !parse_uint(args.args[1], &reply_r->major) ||
		    !parse_uint(args.args[2], &reply_r->minor)) {
			*error_r = auth_proto_error("Broken VERSION");
			ret = -1;
		}
	} else if (reply_r->kind == AUTH_PROTO_REPLY_SPID) {
		if (args.count < 2 || !parse_uint(args.args[1], &reply_r->id)) {
			*error_r = auth_proto_error("Broken SPID");
			ret = -1;
		}
	} else if (args.count < 2 || !parse_uint(args.args[1], &reply_r->id)) {
		*error_r = auth_proto_error("Reply without a request id");
		ret = -1;
	} else {
		ret = reply_body(reply_r, &args, error_r);
	}
	args_free(&args);
	if (ret < 0)
		auth_proto_reply_free(reply_r);
	return ret;
}

void auth_proto_reply_free(struct auth_proto_reply *reply)
{
	XFREE(reply->user);
	XFREE(reply->reason);
	kvlist_free(&reply->fields);
}

void auth_proto_format_handshake(struct strbuf *out, unsigned int pid)
{
	strbuf_appendf(out, "VERSION\t%u\t%u\nSPID\t%u\n", AUTH_PROTO_MAJOR,
		       AUTH_PROTO_MINOR, pid);
}

void auth_proto_format_user(struct strbuf *out, unsigned int id,
			    const char *user, const struct kvlist *fields)
{
	strbuf_appendf(out, "USER\t%u\t", id);
	auth_proto_escape(out, user);
	for (size_t i = 0; i < fields->count; i++) {
		strbuf_putc(out, '\t');
		auth_proto_escape(out, fields->items[i].key);
		if (fields->items[i].value[0] != '\0') {
			strbuf_putc(out, '=');
			auth_proto_escape(out, fields->items[i].value);
		}
	}
	strbuf_putc(out, '\n');
}

void auth_proto_format_notfound(struct strbuf *out, unsigned int id)
{
	strbuf_appendf(out, "NOTFOUND\t%u\n", id);
}

void auth_proto_format_fail(struct strbuf *out, unsigned int id,
			    const char *reason)
{
	strbuf_appendf(out, "FAIL\t%u", id);
	if (reason != NULL) {
		strbuf_append_str(out, "\treason=");
		auth_proto_escape(out, reason);
	}
	strbuf_putc(out, '\n');
}

void auth_proto_format_list(struct strbuf *out, unsigned int id,
			    const char *user)
{
	strbuf_appendf(out, "LIST\t%u\t", id);
	auth_proto_escape(out, user);
	strbuf_putc(out, '\n');
}

void auth_proto_format_done(struct strbuf *out, unsigned int id, bool failed)
{
	strbuf_appendf(out, "DONE\t%u\t%s\n", id, failed ? "fail" : "");
}

void auth_proto_format_version(struct strbuf *out)
{
	strbuf_appendf(out, "VERSION\t%u\t%u\n", AUTH_PROTO_MAJOR,
		       AUTH_PROTO_MINOR);
}

void auth_proto_format_user_request(struct strbuf *out, unsigned int id,
				    const char *user, const char *service)
{
	strbuf_appendf(out, "USER\t%u\t", id);
	auth_proto_escape(out, user);
	if (service != NULL) {
		strbuf_append_str(out, "\tservice=");
		auth_proto_escape(out, service);
	}
	strbuf_putc(out, '\n');
}
