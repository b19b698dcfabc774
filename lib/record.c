/* record.c: reading and writing records; the one place where paths are quoted. */
#include "auto-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "record.h"

#define READ_CHUNK (64 * 1024)
#define WRITE_HIGH (64 * 1024)

static int needs_quote(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
}

int ama_quote_needed(const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (needs_quote((unsigned char)path[i]))
			return 1;
	return 0;
}

void ama_quote_path(struct ama_buf *out, const char *path, size_t len)
{
	size_t i;

	if (!ama_quote_needed(path, len)) {
		ama_buf_add(out, path, len);
		return;
	}
	ama_buf_addch(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (!needs_quote(c)) {
			ama_buf_addch(out, c);
			continue;
		}
		ama_buf_addch(out, '\\');
		if (c == '"' || c == '\\')
			ama_buf_addch(out, c);
		else if (c >= 7 && c <= 13)
			ama_buf_addch(out, "abtnvfr"[c - 7]);
		else
			ama_buf_addf(out, "%03o", c);
	}
	ama_buf_addch(out, '"');
}

int ama_unquote_path(struct ama_buf *out, const char *s, size_t len)
{
	size_t i = 1;

	if (len < 2 || s[0] != '"')
		return ama_error_set(AMA_EINVAL, "bad quoting");
	while (i < len) {
		unsigned char c = (unsigned char)s[i++];
		const char *p;

		if (c == '"') {
			if (i != len)
				return ama_error_set(AMA_EINVAL,
					"bad quoting: bytes after the closing quote");
			return 0;
		}
		if (!c)
			return ama_error_set(AMA_EINVAL,
				"bad quoting: NUL byte in a path");
		if (c != '\\') {
			ama_buf_addch(out, c);
			continue;
		}
		if (i >= len)
			break;
		c = (unsigned char)s[i++];
		p = strchr("abtnvfr", c);
		if (c && p) {
			ama_buf_addch(out, 7 + (int)(p - "abtnvfr"));
		} else if (c == '"' || c == '\\') {
			ama_buf_addch(out, c);
		} else if (c >= '0' && c <= '3' && i + 1 < len &&
			   s[i] >= '0' && s[i] <= '7' &&
			   s[i + 1] >= '0' && s[i + 1] <= '7') {
			int v = (c - '0') * 64 + (s[i] - '0') * 8 +
				(s[i + 1] - '0');

			i += 2;
			if (v == 0)
				return ama_error_set(AMA_EINVAL,
					"bad quoting: NUL byte in a path");
			ama_buf_addch(out, v);
		} else {
			return ama_error_set(AMA_EINVAL,
				"bad quoting: unknown escape '\\%c'", c);
		}
	}
	return ama_error_set(AMA_EINVAL, "bad quoting: no closing quote");
}

const char *ama_quote_for_message(const char *path)
{
	static _Thread_local struct ama_buf b;

	ama_buf_reset(&b);
	ama_quote_path(&b, path, strlen(path));
	return ama_buf_str(&b);
}

void ama_reader_init(struct ama_reader *r, int fd, int z,
		     enum ama_input_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->z = z;
	r->kind = kind;
}

void ama_reader_release(struct ama_reader *r)
{
	free(r->data);
	ama_buf_release(&r->line);
	ama_buf_release(&r->path);
	r->data = NULL;
}

/* Read the next terminated line into r->line; 1, 0 at EOF, or AMA_EIO. */
static int read_line(struct ama_reader *r)
{
	char term = r->z ? '\0' : '\n';

	ama_buf_reset(&r->line);
	for (;;) {
		char *p = r->start < r->end ?
			memchr(r->data + r->start, term, r->end - r->start) :
			NULL;
		ssize_t n;

		if (p) {
			size_t n_line = (size_t)(p - (r->data + r->start));

			ama_buf_add(&r->line, r->data + r->start, n_line);
			r->start += n_line + 1;
			return 1;
		}
		/* no arithmetic on data before the first read allocates it */
		if (r->start < r->end)
			ama_buf_add(&r->line, r->data + r->start,
				    r->end - r->start);
		r->start = r->end = 0;
		if (r->eof)
			return r->line.len ? 1 : 0;
		if (!r->data) {
			r->cap = READ_CHUNK;
			r->data = ama_malloc(r->cap);
		}
		if (r->wait && r->wait(r->wait_arg, r->fd) < 0)
			return AMA_EIO;
		n = read(r->fd, r->data, r->cap);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ama_error_set_errno(AMA_EIO,
						   "cannot read input");
		}
		if (n == 0)
			r->eof = 1;
		r->end = (size_t)n;
	}
}

int ama_record_split_fields(struct ama_record *rec, char *s)
{
	char *p = s;

	rec->fields = s;
	rec->nfields = 0;
	if (!*s)
		return 0;
	for (;;) {
		char *sp = strchr(p, ' ');

		if (rec->nfields == AMA_RECORD_MAXFIELDS)
			return ama_error_set(AMA_EINVAL,
					     "malformed record: too many fields");
		if (p == sp || (!sp && !*p))
			return ama_error_set(AMA_EINVAL,
					     "malformed record: empty field");
		rec->field[rec->nfields++] = p;
		if (!sp)
			return 0;
		*sp = '\0';
		p = sp + 1;
	}
}

void ama_record_from_path(struct ama_record *rec, const char *path)
{
	static char empty[1];

	memset(rec, 0, sizeof(*rec));
	empty[0] = '\0';
	rec->fields = empty;
	rec->path = path;
	rec->path_len = strlen(path);
}

static int set_path(struct ama_reader *r, struct ama_record *out,
		    const char *p, size_t len)
{
	ama_buf_reset(&r->path);
	if (!r->z && len && p[0] == '"') {
		int rc = ama_unquote_path(&r->path, p, len);

		if (rc < 0)
			return rc;
	} else {
		if (memchr(p, '\0', len))
			return ama_error_set(AMA_EINVAL,
					     "malformed record: NUL in a path");
		ama_buf_add(&r->path, p, len);
	}
	if (!r->path.len)
		return ama_error_set(AMA_EINVAL, "malformed record: empty path");
	out->path = ama_buf_str(&r->path);
	out->path_len = r->path.len;
	return 0;
}

int ama_reader_next(struct ama_reader *r, struct ama_record *out)
{
	char *line, *tab;
	int rc;

	rc = read_line(r);
	if (rc <= 0)
		return rc;
	r->lineno++;
	memset(out, 0, sizeof(*out));
	out->lineno = r->lineno;
	line = r->line.s;
	if (r->kind == AMA_INPUT_PATHS) {
		static char empty[1];

		out->fields = empty;
		if (set_path(r, out, line, r->line.len) < 0)
			return ama_error_wrap(AMA_EINVAL,
					      "malformed record at line %lu",
					      r->lineno);
		return 1;
	}
	tab = memchr(line, '\t', r->line.len);
	if (!tab)
		return ama_error_set(AMA_EINVAL,
				     "malformed record at line %lu: no TAB",
				     r->lineno);
	*tab = '\0';
	if (memchr(line, '\0', (size_t)(tab - line)) ||
	    ama_record_split_fields(out, line) < 0)
		return ama_error_set(AMA_EINVAL,
				     "malformed record at line %lu: bad fields",
				     r->lineno);
	rc = set_path(r, out, tab + 1, r->line.len - (size_t)(tab + 1 - line));
	if (rc < 0)
		return ama_error_wrap(AMA_EINVAL, "malformed record at line %lu",
				      r->lineno);
	return 1;
}

void ama_writer_init(struct ama_writer *w, int fd, int z)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->z = z;
}

int ama_writer_flush(struct ama_writer *w)
{
	size_t off = 0;

	while (off < w->buf.len && !w->err) {
		ssize_t n = write(w->fd, w->buf.s + off, w->buf.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->err = n < 0 ? errno : EIO;
		else
			off += (size_t)n;
	}
	ama_buf_reset(&w->buf);
	if (w->err) {
		errno = w->err;
		return ama_error_set_errno(AMA_EIO, "cannot write output");
	}
	return 0;
}

void ama_writer_raw(struct ama_writer *w, const void *data, size_t len)
{
	ama_buf_add(&w->buf, data, len);
	if (w->buf.len >= WRITE_HIGH)
		ama_writer_flush(w);
}

void ama_record_write(struct ama_writer *w, const char *fields,
		      const char *path, size_t path_len)
{
	if (fields && *fields) {
		ama_buf_addstr(&w->buf, fields);
		ama_buf_addch(&w->buf, '\t');
	}
	if (w->z)
		ama_buf_add(&w->buf, path, path_len);
	else
		ama_quote_path(&w->buf, path, path_len);
	ama_buf_addch(&w->buf, w->z ? '\0' : '\n');
	if (w->buf.len >= WRITE_HIGH)
		ama_writer_flush(w);
}

int ama_writer_close(struct ama_writer *w)
{
	int rc = ama_writer_flush(w);

	ama_buf_release(&w->buf);
	return rc;
}
