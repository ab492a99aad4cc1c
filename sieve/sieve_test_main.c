/*
 * loft-sieve-test - run a Sieve script on a message file without
 * delivering it and print the actions it would take, one a line (the
 * normalized form of sieve_result_format), like Pigeonhole's sieve-test.
 *
 *   loft-sieve-test [-f FROM] [-r RCPT] [-a ORIG_RCPT] [-d DIR] [-g DIR] [-t]
 *                   SCRIPT MESSAGE
 *
 * -d and -g are the personal and global script directories `include`
 * reads NAME.sieve from. -t traces each test and action to stderr. Exit codes: 0 the script
 * ran, 1 it failed at run time (only the implicit keep is printed),
 * 65 it does not compile (the error on stderr), 64 usage, 66 a file
 * cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "sieve.h"
#include "sieve_settings.h"
#include "strbuf.h"
#include "xalloc.h"

#define MAX_MESSAGE_SIZE (64 * 1024 * 1024)

static int read_file(const char *path, size_t max, struct strbuf *out)
{
	char *error;

	if (sieve_file_load(path, max, out, &error) < 0) {
		fprintf(stderr, "loft-sieve-test: %s\n", error);
		free(error);
		return -1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: loft-sieve-test [-f FROM] [-r RCPT] [-a ORIG_RCPT] "
		"[-d DIR] [-g DIR] [-t] SCRIPT MESSAGE\n");
	return EX_USAGE;
}

static void trace_line(void *context, unsigned int line, const char *text)
{
	(void)context;
	fprintf(stderr, "trace: line %u: %s\n", line, text);
}

int main(int argc, char **argv)
{
	struct sieve_envelope envelope = { "", NULL, NULL };
	struct sieve_limits limits;
	struct sieve_script *script;
	struct strbuf text, message, out;
	bool tracing = false;
	struct sieve_script_dirs dirs = { NULL, NULL };
	struct sieve_compile_env cenv;
	char *error;
	int c, status;

	envelope.mail_from = "MAILER-DAEMON";
	while ((c = getopt(argc, argv, "f:r:a:d:g:t")) != -1) {
		switch (c) {
		case 'd': dirs.personal = optarg; break;
		case 'g': dirs.global = optarg; break;
		case 'f': envelope.mail_from = optarg; break;
		case 'r': envelope.rcpt_to = optarg; break;
		case 'a': envelope.orig_rcpt_to = optarg; break;
		case 't': tracing = true; break;
		default:
			return usage();
		}
	}
	if (argc - optind != 2) {
		return usage();
	}
	if (envelope.rcpt_to == NULL)
		envelope.rcpt_to = envelope.orig_rcpt_to != NULL ?
			envelope.orig_rcpt_to : "recipient@example.com";
	sieve_limits_default(&limits);
	strbuf_init(&text, 4096);
	strbuf_init(&message, 65536);
	if (read_file(argv[optind], limits.max_script_size + 1, &text) < 0 ||
	    read_file(argv[optind + 1], MAX_MESSAGE_SIZE, &message) < 0) {
		strbuf_free(&text);
		strbuf_free(&message);
		return EX_NOINPUT;
	}
	cenv.limits = &limits;
	cenv.load = sieve_dir_loader;
	cenv.context = &dirs;
	if (sieve_compile_with(text.data, text.len, &cenv, &script, &error) < 0) {
		fprintf(stderr, "%s: %s\n", argv[optind], error);
		printf("compile-error\n");
		free(error);
		strbuf_free(&text);
		strbuf_free(&message);
		return EX_DATAERR;
	}
	strbuf_init(&out, 256);
	error = sieve_test_message(script, message.data, message.len, &envelope,
				   &limits, tracing ? trace_line : NULL, false, &out);
	fputs(out.data, stdout);
	if (error != NULL)
		fprintf(stderr, "%s: %s\n", argv[optind], error);
	status = error != NULL ? 1 : 0;
	free(error);
	strbuf_free(&out);
	sieve_script_free(&script);
	strbuf_free(&text);
	strbuf_free(&message);
	return status;
}
