/*
 * fuzz_lmtp_command - libFuzzer target for lmtp_command_parse: any bytes as
 * one command line. Besides crashes, leaks and undefined behaviour it checks
 * the error contract (a known reply code, non-NULL static texts, nothing
 * left allocated) and that a parsed MAIL/RCPT path, written back as
 * "<path>", parses to the same path, local part and domain. An XCLIENT
 * line's parameters go through lmtp_xclient_parse too: a parse that
 * succeeds keeps its values within their bounds, and what
 * lmtp_xclient_format writes from them parses back to the same values.
 */
#include "fuzz_util.h"

#include "lmtp_command.h"
#include "lmtp_xclient.h"
#include "strbuf.h"

/* str_null_eq - equal strings, or both NULL */
static bool str_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* check_error - the contract of a failed parse */
static void check_error(const struct lmtp_command *cmd,
			const struct lmtp_command_error *error)
{
	FUZZ_CHECK(error->code == 500 || error->code == 501 ||
		   error->code == 555);
	FUZZ_CHECK(error->enhanced != NULL && error->text != NULL);
	FUZZ_CHECK(error->text[0] != '\0');
	FUZZ_CHECK(error->invalid == (error->code != 555));
	FUZZ_CHECK(cmd->param == NULL && cmd->path == NULL &&
		   cmd->localpart == NULL && cmd->domain == NULL &&
		   cmd->orcpt == NULL);
}

/* check_path_roundtrip - the canonical path parses back to itself */
static void check_path_roundtrip(const struct lmtp_command *cmd)
{
	struct lmtp_command again;
	struct lmtp_command_error error;
	struct strbuf line;

	if (cmd->verb != LMTP_VERB_MAIL && cmd->verb != LMTP_VERB_RCPT)
		return;
	FUZZ_CHECK(cmd->path != NULL);
	if (cmd->path[0] == '\0') {
		FUZZ_CHECK(cmd->verb == LMTP_VERB_MAIL &&
			   cmd->localpart == NULL && cmd->domain == NULL);
		return;
	}
	strbuf_init(&line, strlen(cmd->path) + 16);
	strbuf_appendf(&line, "%s<%s>", cmd->verb == LMTP_VERB_MAIL ?
		       "MAIL FROM:" : "RCPT TO:", cmd->path);
	FUZZ_CHECK(lmtp_command_parse(line.data, line.len, &again,
				      &error) == 0);
	FUZZ_CHECK(again.verb == cmd->verb);
	FUZZ_CHECK(str_null_eq(again.path, cmd->path));
	FUZZ_CHECK(str_null_eq(again.localpart, cmd->localpart));
	FUZZ_CHECK(str_null_eq(again.domain, cmd->domain));
	lmtp_command_clear(&again);
	strbuf_free(&line);
}

/* check_xclient - XCLIENT's attribute parser on the parameters */
static void check_xclient(const struct lmtp_command *cmd)
{
	struct lmtp_xclient xc, again;
	const char *error = NULL;
	char *line;

	if (cmd->verb != LMTP_VERB_XCLIENT || cmd->param == NULL)
		return;
	if (lmtp_xclient_parse(cmd->param, &xc, &error) < 0) {
		FUZZ_CHECK(error != NULL && error[0] != '\0');
		return;
	}
	FUZZ_CHECK(strlen(xc.session) < sizeof(xc.session));
	FUZZ_CHECK((xc.given & LMTP_XCLIENT_PORT) == 0 ||
		   (xc.port > 0 && xc.port <= 65535));
	line = lmtp_xclient_format(&xc, ~0U);
	if (line == NULL) {
		FUZZ_CHECK(xc.given == 0);
		return;
	}
	FUZZ_CHECK(strncmp(line, "XCLIENT ", 8) == 0);
	FUZZ_CHECK(lmtp_xclient_parse(line + 8, &again, &error) == 0);
	FUZZ_CHECK(again.given == xc.given && again.port == xc.port &&
		   again.ttl == xc.ttl && strcmp(again.addr, xc.addr) == 0 &&
		   strcmp(again.session, xc.session) == 0);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_command cmd;
	struct lmtp_command_error error;

	if (lmtp_command_parse((const char *)data, size, &cmd, &error) < 0) {
		check_error(&cmd, &error);
		return 0;
	}
	FUZZ_CHECK(lmtp_verb_name(cmd.verb) != NULL);
	check_path_roundtrip(&cmd);
	check_xclient(&cmd);
	lmtp_command_clear(&cmd);
	FUZZ_CHECK(cmd.path == NULL && cmd.param == NULL);
	return 0;
}
