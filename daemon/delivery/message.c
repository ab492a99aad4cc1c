/*
 * message - spool an incoming message once and write it to any number of
 * mailboxes.
 *
 * Input is normalised on the way in (CRLF -> LF, also when the CR and the
 * LF arrive in different appends; a bare CR stays) and kept in memory up to
 * MESSAGE_MEM_MAX bytes; beyond that everything moves to an unlinked file
 * in the temp directory and later input is appended there through a write
 * buffer. LFs are counted as they arrive, so size and virtual size are known
 * without rereading. message_finish() scans the header block once: it
 * records Message-ID, Subject and From, keeps the first MESSAGE_HDR_MAX
 * bytes of the header for message_header() lookups, and notes the byte
 * ranges to drop when writing (a leading mbox "From " line and, unless
 * message_keep_return_path() was called, every Return-Path field with
 * its continuation lines). message_write() copies
 * the kept ranges behind a prefix, optionally with mboxo ">From " quoting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error_slot.h"
#include "fd_io.h"
#include "kvlist.h"
#include "message.h"
#include "strbuf.h"
#include "xalloc.h"

#define MESSAGE_MEM_MAX (256 * 1024)	/* in memory up to this size */
#define MESSAGE_IO_BUF (64 * 1024)	/* spill / read / write buffers */
#define MESSAGE_HDR_MAX (64 * 1024)	/* header bytes kept for lookups */
#define MESSAGE_VALUE_MAX 1000		/* cap of remembered header values */
#define MESSAGE_LINE_HEAD 2048		/* bytes of each header line examined */

/* a byte range [start, end) of the spooled data not written out */
struct message_range {
	uint64_t start, end;
	uint64_t lfs;
};

enum message_field {
	MESSAGE_FIELD_OTHER,
	MESSAGE_FIELD_RETURN_PATH,
	MESSAGE_FIELD_MSGID,
	MESSAGE_FIELD_SUBJECT,
	MESSAGE_FIELD_FROM,
};

struct message {
	char *temp_dir;

	/* spooled data: mem until it spills, then fd + write buffer */
	struct strbuf mem;
	int fd;
	char *spill_buf;
	size_t spill_len;

	uint64_t size;		/* bytes stored (LF endings) */
	uint64_t lfs;		/* LFs stored */
	uint64_t input_size;	/* raw bytes received */
	bool pending_cr;	/* the last append ended in CR */
	bool finished;
	bool keep_return_path;	/* Return-Path lines are written, not dropped */

	/* parsed at finish */
	struct message_range *drops;
	size_t drop_count, drop_cap;
	uint64_t drop_bytes, drop_lfs;
	struct strbuf header;	/* raw header block (capped) for lookups */
	char *msgid, *subject, *from, *mbox_sender;
	struct kvlist lookups;	/* message_header() results, lower-case keys */
};

/* the state of the header scan in message_finish() */
struct header_scan {
	struct message *msg;
	uint64_t line_start;
	char head[MESSAGE_LINE_HEAD];
	size_t head_len;
	bool first_line;
	bool done;
	enum message_field field;	/* the field the current line continues */
	struct strbuf value;		/* raw value of a remembered field */
	bool in_drop;			/* current field is being dropped */
	bool header_full;		/* msg->header reached its cap */
};

/* an output through a 64 KiB buffer, with optional mboxo quoting */
struct message_writer {
	int fd;
	struct strbuf *sink;	/* instead of fd: into memory */
	message_output_callback_t *output;	/* or through this */
	void *output_context;
	char *buf;
	size_t len;
	bool escape;
	bool smtp;		/* CRLF line ends, leading dots doubled */
	bool at_bol;		/* the next byte starts a line */
	char pend[5];		/* a line start that may become "From " */
	size_t pend_len;
	uint64_t written;
	char last;		/* the last byte handed to the writer */
	int error;		/* errno of a failed write, 0 */
};

static __thread struct error_slot message_error;

/* message_syscall_error - "<call>(<what>) failed: <strerror>", errno kept */
static const char *message_syscall_error(const char *call, const char *what)
{
	int saved = errno;
	const char *error = error_slot_set(&message_error, "%s(%s) failed: %s", call, what,
					      strerror(saved));

	errno = saved;
	return error;
}

struct message *message_create(const char *temp_dir)
{
	struct message *msg = xcalloc(1, sizeof(*msg));

	msg->temp_dir = xstrdup(temp_dir != NULL && *temp_dir != '\0' ?
				temp_dir : "/tmp");
	strbuf_init(&msg->mem, 4096);
	strbuf_init(&msg->header, 256);
	kvlist_init(&msg->lookups);
	msg->fd = -1;
	return msg;
}

void message_free(struct message **_msg)
{
	struct message *msg = *_msg;

	if (msg == NULL)
		return;
	*_msg = NULL;
	if (msg->fd != -1)
		(void)close(msg->fd);
	strbuf_free(&msg->mem);
	strbuf_free(&msg->header);
	kvlist_free(&msg->lookups);
	free(msg->spill_buf);
	free(msg->drops);
	free(msg->msgid);
	free(msg->subject);
	free(msg->from);
	free(msg->mbox_sender);
	free(msg->temp_dir);
	free(msg);
}

/* pread_full - read exactly size bytes at offset */
static int pread_full(int fd, void *data, size_t size, uint64_t offset)
{
	char *p = data;

	while (size > 0) {
		ssize_t ret = pread(fd, p, size, (off_t)offset);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0) {
			errno = EIO;
			return -1;
		}
		p += ret;
		size -= (size_t)ret;
		offset += (uint64_t)ret;
	}
	return 0;
}

/* message_open_spill - an unlinked read/write file in temp_dir */
static int message_open_spill(struct message *msg, const char **error_r)
{
	char *template;
	int fd;

	fd = open(msg->temp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1) {
		msg->fd = fd;
		return 0;
	}
	/* O_TMPFILE unsupported by the kernel or filesystem */
	template = xasprintf("%s/loft-msg.XXXXXX", msg->temp_dir);
	fd = mkostemp(template, O_CLOEXEC);
	if (fd == -1) {
		*error_r = message_syscall_error("mkstemp", template);
		free(template);
		return -1;
	}
	if (unlink(template) < 0) {
		*error_r = message_syscall_error("unlink", template);
		(void)close(fd);
		free(template);
		return -1;
	}
	free(template);
	msg->fd = fd;
	return 0;
}

/* message_spill_flush - write the spill buffer to the spill file */
static int message_spill_flush(struct message *msg, const char **error_r)
{
	if (msg->spill_len == 0)
		return 0;
	if (fd_write_full(msg->fd, msg->spill_buf, msg->spill_len) < 0) {
		*error_r = message_syscall_error("write", "message temp file");
		return -1;
	}
	msg->spill_len = 0;
	return 0;
}

/* message_store - append normalised bytes to memory or the spill file */
static int message_store(struct message *msg, const char *data, size_t len,
			 const char **error_r)
{
	if (len == 0)
		return 0;
	msg->lfs += message_count_lf(data, len);
	msg->size += len;

	if (msg->fd == -1) {
		if (msg->mem.len + len <= MESSAGE_MEM_MAX) {
			strbuf_append(&msg->mem, data, len);
			return 0;
		}
		/* too big for memory: move everything to the spill file */
		if (message_open_spill(msg, error_r) < 0)
			return -1;
		if (fd_write_full(msg->fd, msg->mem.data, msg->mem.len) < 0) {
			*error_r = message_syscall_error("write",
							 "message temp file");
			return -1;
		}
		strbuf_free(&msg->mem);
		strbuf_init(&msg->mem, 16);
		msg->spill_buf = xmalloc(MESSAGE_IO_BUF);
	}
	if (msg->spill_len + len > MESSAGE_IO_BUF) {
		if (message_spill_flush(msg, error_r) < 0)
			return -1;
		if (len >= MESSAGE_IO_BUF) {
			if (fd_write_full(msg->fd, data, len) < 0) {
				*error_r = message_syscall_error(
					"write", "message temp file");
				return -1;
			}
			return 0;
		}
	}
	memcpy(msg->spill_buf + msg->spill_len, data, len);
	msg->spill_len += len;
	return 0;
}

int message_append(struct message *msg, const void *data, size_t size,
		   const char **error_r)
{
	const char *p = data, *end = p + size;

	if (msg->finished) {
		*error_r = error_slot_set(&message_error, "message_append() after finish");
		return -1;
	}
	msg->input_size += size;
	if (size == 0)
		return 0;
	if (msg->pending_cr) {
		msg->pending_cr = false;
		/* a CR not followed by LF stays */
		if (*p != '\n' && message_store(msg, "\r", 1, error_r) < 0)
			return -1;
	}
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));

		if (cr == NULL)
			return message_store(msg, p, (size_t)(end - p), error_r);
		if (message_store(msg, p, (size_t)(cr - p), error_r) < 0)
			return -1;
		if (cr + 1 == end) {
			msg->pending_cr = true;
			return 0;
		}
		/* CRLF: drop the CR, the LF is stored with the next run */
		if (cr[1] != '\n' && message_store(msg, "\r", 1, error_r) < 0)
			return -1;
		p = cr + 1;
	}
	return 0;
}

/* message_read - size bytes of the spooled data at offset */
static int message_read(const struct message *msg, uint64_t offset,
			void *buf, size_t size, const char **error_r)
{
	if (msg->fd == -1) {
		memcpy(buf, msg->mem.data + offset, size);
		return 0;
	}
	if (pread_full(msg->fd, buf, size, offset) < 0) {
		*error_r = message_syscall_error("pread", "message temp file");
		return -1;
	}
	return 0;
}

/* message_add_drop - remember a range not to write */
static void message_add_drop(struct message *msg, uint64_t start)
{
	if (msg->drop_count == msg->drop_cap) {
		msg->drop_cap = msg->drop_cap == 0 ? 4 : msg->drop_cap * 2;
		msg->drops = xreallocarray(msg->drops, msg->drop_cap,
					   sizeof(*msg->drops));
	}
	msg->drops[msg->drop_count].start = start;
	msg->drops[msg->drop_count].end = start;
	msg->drops[msg->drop_count].lfs = 0;
	msg->drop_count++;
}

/* message_extend_drop - the current drop range now ends at end */
static void message_extend_drop(struct message *msg, uint64_t end, bool lf)
{
	struct message_range *range = &msg->drops[msg->drop_count - 1];

	msg->drop_bytes += end - range->end;
	range->end = end;
	if (lf) {
		range->lfs++;
		msg->drop_lfs++;
	}
}

/* is_ws - blank or line-end white space in header values */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* unfold_value - join folded raw value lines with one space, trimmed,
   capped at max bytes; returns a new string */
static char *unfold_value(const char *raw, size_t len, size_t max)
{
	struct strbuf out;
	const char *p = raw, *end = raw + len;

	strbuf_init(&out, len + 1);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl : end;
		const char *s = p, *e = line_end;

		while (s < e && is_ws(*s))
			s++;
		while (e > s && is_ws(e[-1]))
			e--;
		if (e > s) {
			if (out.len > 0)
				strbuf_putc(&out, ' ');
			strbuf_append(&out, s, (size_t)(e - s));
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (out.len > max) {
		size_t cut = max;

		/* do not split a UTF-8 sequence */
		while (cut > 0 && ((unsigned char)out.data[cut] & 0xc0) == 0x80)
			cut--;
		strbuf_truncate(&out, cut);
	}
	return strbuf_detach(&out);
}

/* header_name_is - the field name in line (before ':') equals name */
static bool header_name_is(const char *line, size_t len, const char *name)
{
	size_t name_len = strlen(name), i;

	if (len < name_len || strncasecmp(line, name, name_len) != 0)
		return false;
	for (i = name_len; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	return i < len && line[i] == ':';
}

/* header_scan_end_field - store the value of a remembered field */
static void header_scan_end_field(struct header_scan *scan)
{
	struct message *msg = scan->msg;
	char **target = NULL;

	switch (scan->field) {
	case MESSAGE_FIELD_MSGID:
		target = &msg->msgid;
		break;
	case MESSAGE_FIELD_SUBJECT:
		target = &msg->subject;
		break;
	case MESSAGE_FIELD_FROM:
		target = &msg->from;
		break;
	case MESSAGE_FIELD_OTHER:
	case MESSAGE_FIELD_RETURN_PATH:
		break;
	}
	if (target != NULL && *target == NULL)
		*target = unfold_value(scan->value.data, scan->value.len,
				       MESSAGE_VALUE_MAX);
	strbuf_reset(&scan->value);
	scan->field = MESSAGE_FIELD_OTHER;
	scan->in_drop = false;
}

/* header_scan_value - collect raw value text of a remembered field */
static void header_scan_value(struct header_scan *scan, const char *data,
			      size_t len)
{
	/* unfolding only shrinks: 4x the cap is plenty of raw text */
	if (scan->value.len >= MESSAGE_VALUE_MAX * 4)
		return;
	strbuf_append(&scan->value, data, len);
	strbuf_putc(&scan->value, '\n');
}

/* header_scan_new_field - a line that starts a header field */
static void header_scan_new_field(struct header_scan *scan, const char *line,
				  size_t len, uint64_t end, bool lf)
{
	struct message *msg = scan->msg;
	static const struct {
		const char *name;
		enum message_field field;
	} fields[] = {
		{ "Return-Path", MESSAGE_FIELD_RETURN_PATH },
		{ "Message-ID", MESSAGE_FIELD_MSGID },
		{ "Subject", MESSAGE_FIELD_SUBJECT },
		{ "From", MESSAGE_FIELD_FROM },
	};
	const char *colon;
	size_t i;

	header_scan_end_field(scan);
	for (i = 0; i < LOFT_N_ELEMENTS(fields); i++) {
		if (header_name_is(line, len, fields[i].name)) {
			scan->field = fields[i].field;
			break;
		}
	}
	if (scan->field == MESSAGE_FIELD_RETURN_PATH && !msg->keep_return_path) {
		message_add_drop(msg, scan->line_start);
		message_extend_drop(msg, end, lf);
		scan->in_drop = true;
	} else if (scan->field != MESSAGE_FIELD_OTHER) {
		colon = memchr(line, ':', len);
		header_scan_value(scan, colon + 1,
				  len - (size_t)(colon + 1 - line));
	}
}

/* header_scan_mbox_from - the leading "From sender date" line */
static void header_scan_mbox_from(struct header_scan *scan, uint64_t end,
				  bool lf)
{
	struct message *msg = scan->msg;
	const char *p = scan->head + 5, *head_end = scan->head + scan->head_len;
	const char *word;

	while (p < head_end && (*p == ' ' || *p == '\t'))
		p++;
	word = p;
	while (p < head_end && !is_ws(*p))
		p++;
	msg->mbox_sender = xstrndup(word, (size_t)(p - word) > MESSAGE_VALUE_MAX ?
				    MESSAGE_VALUE_MAX : (size_t)(p - word));
	message_add_drop(msg, scan->line_start);
	message_extend_drop(msg, end, lf);
}

/* header_scan_line - one complete line of the header block */
static void header_scan_line(struct header_scan *scan, uint64_t end, bool lf)
{
	struct message *msg = scan->msg;
	const char *line = scan->head;
	size_t len = scan->head_len;
	bool first = scan->first_line;

	scan->first_line = false;
	if (lf && len > 0 && line[len - 1] == '\n')
		len--;
	if (first && len >= 5 && memcmp(line, "From ", 5) == 0) {
		header_scan_mbox_from(scan, end, lf);
		return;
	}
	if (end - scan->line_start == (lf ? 1U : 0U)) {
		/* the empty line ends the header */
		header_scan_end_field(scan);
		scan->done = true;
		return;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		if (scan->in_drop)
			message_extend_drop(msg, end, lf);
		else if (scan->field != MESSAGE_FIELD_OTHER)
			header_scan_value(scan, line, len);
	} else {
		header_scan_new_field(scan, line, len, end, lf);
	}
	/* lookups see a prefix of the header made of whole lines */
	if (!scan->header_full && msg->header.len + len + 1 <= MESSAGE_HDR_MAX) {
		strbuf_append(&msg->header, line, len);
		strbuf_putc(&msg->header, '\n');
	} else {
		scan->header_full = true;
	}
}

/* header_scan_feed - split a chunk of the spooled data into lines */
static void header_scan_feed(struct header_scan *scan, const char *data,
			     size_t len, uint64_t offset)
{
	const char *p = data, *end = data + len;

	while (p < end && !scan->done) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *seg_end = nl != NULL ? nl + 1 : end;
		size_t seg = (size_t)(seg_end - p);
		size_t room = sizeof(scan->head) - scan->head_len;

		memcpy(scan->head + scan->head_len, p, seg < room ? seg : room);
		scan->head_len += seg < room ? seg : room;
		if (nl != NULL) {
			uint64_t line_end = offset + (uint64_t)(seg_end - data);

			header_scan_line(scan, line_end, true);
			scan->line_start = line_end;
			scan->head_len = 0;
		}
		p = seg_end;
	}
}

/* message_parse_header - scan the header block of the spooled data */
static int message_parse_header(struct message *msg, const char **error_r)
{
	struct header_scan *scan = xcalloc(1, sizeof(*scan));
	char *buf = NULL;
	uint64_t offset = 0;
	int ret = 0;

	scan->msg = msg;
	scan->first_line = true;
	strbuf_init(&scan->value, 128);
	if (msg->fd == -1) {
		header_scan_feed(scan, msg->mem.data, msg->mem.len, 0);
		offset = msg->size;
	} else {
		buf = xmalloc(MESSAGE_IO_BUF);
		while (offset < msg->size && !scan->done) {
			size_t chunk = msg->size - offset > MESSAGE_IO_BUF ?
				MESSAGE_IO_BUF : (size_t)(msg->size - offset);

			if (message_read(msg, offset, buf, chunk, error_r) < 0) {
				ret = -1;
				break;
			}
			header_scan_feed(scan, buf, chunk, offset);
			offset += chunk;
		}
	}
	/* a last line without LF: the message is all header */
	if (ret == 0 && !scan->done && scan->line_start < msg->size)
		header_scan_line(scan, msg->size, false);
	header_scan_end_field(scan);
	strbuf_free(&scan->value);
	free(scan);
	free(buf);
	return ret;
}

int message_finish(struct message *msg, const char **error_r)
{
	if (msg->finished)
		return 0;
	if (msg->pending_cr) {
		msg->pending_cr = false;
		if (message_store(msg, "\r", 1, error_r) < 0)
			return -1;
	}
	if (msg->fd != -1 && message_spill_flush(msg, error_r) < 0)
		return -1;
	if (message_parse_header(msg, error_r) < 0)
		return -1;
	msg->finished = true;
	return 0;
}

const char *message_msgid(const struct message *msg)
{
	return msg->msgid;
}

const char *message_subject(const struct message *msg)
{
	return msg->subject;
}

const char *message_from(const struct message *msg)
{
	return msg->from;
}

const char *message_mbox_sender(const struct message *msg)
{
	return msg->mbox_sender;
}

/* message_find_header - the unfolded first value of name in the kept
   header block, or NULL */
static char *message_find_header(const struct message *msg, const char *name)
{
	const char *p = msg->header.data, *end = p + msg->header.len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl : end;

		if (*p != ' ' && *p != '\t' &&
		    header_name_is(p, (size_t)(line_end - p), name)) {
			const char *value = memchr(p, ':', (size_t)(line_end - p)) + 1;
			const char *value_end = line_end;

			/* take the continuation lines along */
			while (value_end < end && value_end + 1 < end &&
			       (value_end[1] == ' ' || value_end[1] == '\t')) {
				const char *next = memchr(value_end + 1, '\n',
					(size_t)(end - value_end - 1));

				value_end = next != NULL ? next : end;
			}
			return unfold_value(value, (size_t)(value_end - value),
					    MESSAGE_HDR_MAX);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return NULL;
}

/* message_header - results are cached in msg->lookups (a cache, hence
   the cast) so the returned pointer stays valid until message_free() */
const char *message_header(const struct message *msg, const char *name)
{
	struct message *mmsg = (struct message *)msg;
	const char *cached;
	char *key, *value, *k;

	key = xstrdup(name);
	for (k = key; *k != '\0'; k++)
		*k = (char)(*k >= 'A' && *k <= 'Z' ? *k + 'a' - 'A' : *k);
	cached = kvlist_get(&msg->lookups, key);
	if (cached == NULL) {
		value = message_find_header(msg, name);
		if (value != NULL) {
			/* cached so the pointer stays valid until message_free */
			kvlist_set(&mmsg->lookups, key, value);
			free(value);
			cached = kvlist_get(&msg->lookups, key);
		}
	}
	free(key);
	return cached;
}

uint64_t message_size(const struct message *msg)
{
	return msg->size - msg->drop_bytes;
}

uint64_t message_vsize(const struct message *msg)
{
	return message_size(msg) + (msg->lfs - msg->drop_lfs);
}

uint64_t message_input_size(const struct message *msg)
{
	return msg->input_size;
}

uint64_t message_count_lf(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	uint64_t count = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		count++;
		p++;
	}
	return count;
}

/* writer_flush - write out the buffered bytes */
static void writer_flush(struct message_writer *w)
{
	if (w->error != 0 || w->len == 0)
		return;
	if (w->sink != NULL) {
		strbuf_append(w->sink, w->buf, w->len);
		w->written += w->len;
	} else if (w->output != NULL ?
		   w->output(w->buf, w->len, w->output_context) < 0 :
		   fd_write_full(w->fd, w->buf, w->len) < 0) {
		w->error = errno;
	} else {
		w->written += w->len;
	}
	w->len = 0;
}

/* writer_raw - buffer bytes as they are */
static void writer_raw(struct message_writer *w, const char *data, size_t len)
{
	if (len == 0)
		return;
	w->last = data[len - 1];
	while (len > 0 && w->error == 0) {
		size_t room = MESSAGE_IO_BUF - w->len;
		size_t n = len < room ? len : room;

		memcpy(w->buf + w->len, data, n);
		w->len += n;
		data += n;
		len -= n;
		if (w->len == MESSAGE_IO_BUF)
			writer_flush(w);
	}
}

/* writer_put_smtp - buffer bytes as SMTP DATA: LF as CRLF, a '.' that
   starts a line doubled (RFC 5321 4.5.2) */
static void writer_put_smtp(struct message_writer *w, const char *data,
			    size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *seg_end = nl != NULL ? nl : end;

		if (w->at_bol && *p == '.')
			writer_raw(w, ".", 1);
		writer_raw(w, p, (size_t)(seg_end - p));
		w->at_bol = false;
		if (nl != NULL) {
			writer_raw(w, "\r\n", 2);
			w->at_bol = true;
			seg_end++;
		}
		p = seg_end;
	}
}

/* writer_put - buffer bytes, quoting line starts "From " as ">From "
   when escaping; a line start split across calls is held back in pend */
static void writer_put(struct message_writer *w, const char *data, size_t len)
{
	static const char from_[] = "From ";
	const char *p = data, *end = data + len;

	if (w->smtp) {
		writer_put_smtp(w, data, len);
		return;
	}
	if (!w->escape) {
		writer_raw(w, data, len);
		return;
	}
	while (p < end) {
		if (w->at_bol || w->pend_len > 0) {
			char c = *p++;

			w->pend[w->pend_len++] = c;
			w->at_bol = false;
			if (c != from_[w->pend_len - 1]) {
				writer_raw(w, w->pend, w->pend_len);
				w->pend_len = 0;
				w->at_bol = c == '\n';
			} else if (w->pend_len == sizeof(w->pend)) {
				writer_raw(w, ">", 1);
				writer_raw(w, w->pend, w->pend_len);
				w->pend_len = 0;
			}
			continue;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *seg_end = nl != NULL ? nl + 1 : end;

		writer_raw(w, p, (size_t)(seg_end - p));
		w->at_bol = nl != NULL;
		p = seg_end;
	}
}

/* message_write_range - copy [start, end) of the spooled data */
static int message_write_range(struct message *msg, struct message_writer *w,
			       char **rbuf, uint64_t start, uint64_t end,
			       const char **error_r)
{
	if (msg->fd == -1) {
		writer_put(w, msg->mem.data + start, (size_t)(end - start));
		return 0;
	}
	if (*rbuf == NULL)
		*rbuf = xmalloc(MESSAGE_IO_BUF);
	while (start < end && w->error == 0) {
		size_t chunk = end - start > MESSAGE_IO_BUF ?
			MESSAGE_IO_BUF : (size_t)(end - start);

		if (message_read(msg, start, *rbuf, chunk, error_r) < 0)
			return -1;
		writer_put(w, *rbuf, chunk);
		start += chunk;
	}
	return 0;
}

void message_keep_return_path(struct message *msg)
{
	msg->keep_return_path = true;
}

/* message_write_as - message_write, or as SMTP DATA when smtp is set;
   w_init: where to (fd, sink or output) */
static int message_write_as(struct message *msg, const char *prefix,
			    size_t prefix_len,
			    const struct message_writer *w_init,
			    bool mbox_escape, bool smtp, uint64_t *size_r,
			    const char **error_r)
{
	struct message_writer w = *w_init;
	char *rbuf = NULL;
	uint64_t pos = 0;
	size_t i;
	int ret = 0, saved_errno;

	w.escape = mbox_escape;
	w.smtp = smtp;
	w.at_bol = true;
	*size_r = 0;
	if (!msg->finished) {
		*error_r = error_slot_set(&message_error, "message_write() before message_finish()");
		errno = EINVAL;
		return -1;
	}
	w.buf = xmalloc(MESSAGE_IO_BUF);
	writer_put(&w, prefix, prefix_len);
	for (i = 0; i <= msg->drop_count && ret == 0; i++) {
		uint64_t end = i < msg->drop_count ? msg->drops[i].start : msg->size;

		if (end > pos)
			ret = message_write_range(msg, &w, &rbuf, pos, end, error_r);
		if (i < msg->drop_count)
			pos = msg->drops[i].end;
	}
	if (ret == 0) {
		writer_raw(&w, w.pend, w.pend_len);
		w.pend_len = 0;
		if (mbox_escape && w.last != '\n' && w.written + w.len > 0)
			writer_raw(&w, "\n", 1);
		/* the DATA terminator, on a line of its own */
		if (smtp)
			writer_raw(&w, w.at_bol ? ".\r\n" : "\r\n.\r\n",
				   w.at_bol ? 3 : 5);
		writer_flush(&w);
		if (w.error != 0) {
			errno = w.error;
			*error_r = message_syscall_error("write", "mail file");
			ret = -1;
		}
	}
	*size_r = w.written;
	saved_errno = errno;
	free(w.buf);
	free(rbuf);
	errno = saved_errno;
	return ret;
}

int message_write(struct message *msg, const char *prefix, size_t prefix_len,
		  int fd, bool mbox_escape, uint64_t *size_r,
		  const char **error_r)
{
	struct message_writer w = { .fd = fd };

	return message_write_as(msg, prefix, prefix_len, &w, mbox_escape,
				false, size_r, error_r);
}

int message_write_smtp_data(struct message *msg, const char *prefix,
			    size_t prefix_len, message_output_callback_t *output,
			    void *context, uint64_t *size_r,
			    const char **error_r)
{
	struct message_writer w = {
		.fd = -1, .output = output, .output_context = context,
	};

	return message_write_as(msg, prefix, prefix_len, &w, false, true,
				size_r, error_r);
}

int message_render(struct message *msg, const char *prefix, size_t prefix_len,
		   struct strbuf *out, const char **error_r)
{
	uint64_t size;

	struct message_writer w = { .fd = -1, .sink = out };

	return message_write_as(msg, prefix, prefix_len, &w, false, false,
				&size, error_r);
}
