/* t/fuzz/record.c: fuzzing path quoting, field splitting and the reader. */
#include "auto-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "record.h"

/*
 * The input is one mode byte and the data. The mode byte sets the input
 * kind of the reader (bit 0) and the size of the pieces the reader gets
 * from its pipe (bits 1-7: 1 to 128 bytes), so that records cross read
 * boundaries at every offset. The data goes through every check below.
 */

/* A broken invariant: name it and abort; libFuzzer keeps the input. */
#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* ama_unquote_path on arbitrary bytes: the contract's promises on success. */
static void check_unquote(const char *s, size_t len)
{
	struct ama_buf out = AMA_BUF_INIT, q = AMA_BUF_INIT,
		back = AMA_BUF_INIT;
	int rc;

	ama_buf_addstr(&out, "pre");
	rc = ama_unquote_path(&out, s, len);
	CHECK(rc == 0 || rc == AMA_EINVAL);
	if (rc == 0) {
		CHECK(len >= 2 && s[0] == '"' && s[len - 1] == '"');
		CHECK(out.len >= 3 && !memcmp(out.s, "pre", 3));
		CHECK(!memchr(out.s + 3, '\0', out.len - 3));
		/* what came out goes back in, and out again unchanged */
		ama_quote_path(&q, out.s + 3, out.len - 3);
		if (q.len && q.s[0] == '"') {
			CHECK(ama_unquote_path(&back, q.s, q.len) == 0);
			CHECK(back.len == out.len - 3);
			CHECK(!memcmp(back.s, out.s + 3, back.len));
		}
	} else {
		CHECK(ama_error_code() == AMA_EINVAL);
	}
	ama_buf_release(&out);
	ama_buf_release(&q);
	ama_buf_release(&back);
}

/* quote, then unquote: the original bytes, for any path (no NUL inside). */
static void check_quote(const char *s, size_t len)
{
	struct ama_buf q = AMA_BUF_INIT, back = AMA_BUF_INIT;
	int needed = ama_quote_needed(s, len);
	size_t i;

	ama_quote_path(&q, s, len);
	/* quoted text holds no control byte: it fits on one line */
	for (i = 0; needed && i < q.len; i++)
		CHECK((unsigned char)q.s[i] >= 0x20 &&
		      (unsigned char)q.s[i] != 0x7f);
	if (!needed) {
		CHECK(q.len == len && (!len || !memcmp(q.s, s, len)));
	} else if (memchr(s, '\0', len)) {
		/* a path cannot hold NUL: it is written, but never read back */
		CHECK(ama_unquote_path(&back, q.s, q.len) == AMA_EINVAL);
	} else {
		CHECK(q.len >= 2 && q.s[0] == '"' && q.s[q.len - 1] == '"');
		CHECK(ama_unquote_path(&back, q.s, q.len) == 0);
		CHECK(back.len == len && !memcmp(back.s, s, len));
	}
	ama_buf_release(&q);
	ama_buf_release(&back);
}

/* ama_record_split_fields on a NUL-terminated copy of the data. */
static void check_split(const char *s, size_t len)
{
	char *copy = ama_strndup(s, len);
	size_t clen = strlen(copy);
	struct ama_record rec;
	struct ama_buf joined = AMA_BUF_INIT;
	int rc, i;

	memset(&rec, 0, sizeof(rec));
	rc = ama_record_split_fields(&rec, copy);
	CHECK(rc == 0 || rc == AMA_EINVAL);
	CHECK(rec.nfields >= 0 && rec.nfields <= AMA_RECORD_MAXFIELDS);
	if (rc == 0) {
		CHECK(rec.fields == copy);
		CHECK(clen ? rec.nfields > 0 : rec.nfields == 0);
		for (i = 0; i < rec.nfields; i++) {
			CHECK(rec.field[i][0] != '\0');
			CHECK(!strchr(rec.field[i], ' '));
			if (i)
				ama_buf_addch(&joined, ' ');
			ama_buf_addstr(&joined, rec.field[i]);
		}
		/* the fields joined by one space are the text again */
		CHECK(joined.len == clen &&
		      (!clen || !memcmp(joined.s, s, clen)));
	}
	ama_buf_release(&joined);
	free(copy);
}

/* The reader's pipe, filled a piece at a time from its wait hook. */
struct feed {
	int wfd;
	const char *p;
	size_t left, piece;
};

static int feed_more(void *arg, int fd)
{
	struct feed *f = arg;
	size_t n = f->left < f->piece ? f->left : f->piece;

	(void)fd;
	if (f->wfd < 0)
		return 0;
	if (!n) {
		close(f->wfd);
		f->wfd = -1;
		return 0;
	}
	/* the reader drained the pipe; a piece fits in it */
	CHECK(write(f->wfd, f->p, n) == (ssize_t)n);
	f->p += n;
	f->left -= n;
	return 0;
}

/* A record as read, kept to compare with what a writer's output gives. */
struct copy {
	char *fields;		/* fields joined by one space */
	char *path;
	size_t path_len;
};

/* What ama_reader_next promises of a record it returns. */
static void check_record(const struct ama_reader *r,
			 const struct ama_record *rec, unsigned long lineno)
{
	int i;

	CHECK(rec->lineno == lineno);
	CHECK(rec->path && rec->path_len > 0);
	CHECK(rec->path[rec->path_len] == '\0');
	CHECK(strlen(rec->path) == rec->path_len);	/* no NUL inside */
	CHECK(rec->fields);
	CHECK(rec->nfields >= 0 && rec->nfields <= AMA_RECORD_MAXFIELDS);
	if (r->kind == AMA_INPUT_PATHS)
		CHECK(rec->nfields == 0 && rec->fields[0] == '\0');
	for (i = 0; i < rec->nfields; i++) {
		CHECK(rec->field[i][0] != '\0');
		CHECK(!strchr(rec->field[i], ' '));
		CHECK(!strchr(rec->field[i], '\t'));
		if (!r->z)
			CHECK(!strchr(rec->field[i], '\n'));
	}
}

static char *join_fields(const struct ama_record *rec)
{
	struct ama_buf b = AMA_BUF_INIT;
	int i;

	for (i = 0; i < rec->nfields; i++) {
		if (i)
			ama_buf_addch(&b, ' ');
		ama_buf_addstr(&b, rec->field[i]);
	}
	return ama_buf_detach(&b);
}

/*
 * Read every record of the data in one mode, then write the good ones with
 * ama_record_write and read that back: the same records must come out.
 */
static void check_reader(const char *s, size_t len, int z,
			 enum ama_input_kind kind, size_t piece, int tmpfd)
{
	struct ama_reader r;
	struct ama_record rec;
	struct ama_writer w;
	struct feed f;
	struct copy *kept = NULL;
	size_t nkept = 0, i, calls = 0;
	unsigned long lineno = 0;
	int fd[2], rc;

	CHECK(pipe(fd) == 0);
	f.wfd = fd[1];
	f.p = s;
	f.left = len;
	f.piece = piece;
	ama_reader_init(&r, fd[0], z, kind);
	r.wait = feed_more;
	r.wait_arg = &f;
	kept = ama_calloc(len + 1, sizeof(*kept));
	for (;;) {
		/* one call per line at most, and one to see the end */
		CHECK(++calls <= len + 2);
		rc = ama_reader_next(&r, &rec);
		if (rc == 0)
			break;
		lineno++;
		CHECK(rc == 1 || rc == AMA_EINVAL);
		if (rc == AMA_EINVAL) {
			CHECK(ama_error_code() == AMA_EINVAL);
			CHECK(r.lineno == lineno);
			continue;
		}
		check_record(&r, &rec, lineno);
		/* an empty fields part is written without its TAB */
		if (kind == AMA_INPUT_RECORDS && rec.nfields == 0)
			continue;
		kept[nkept].fields = join_fields(&rec);
		kept[nkept].path = ama_strndup(rec.path, rec.path_len);
		kept[nkept].path_len = rec.path_len;
		nkept++;
	}
	/* the end stays the end */
	CHECK(ama_reader_next(&r, &rec) == 0);
	ama_reader_release(&r);
	if (f.wfd >= 0)
		close(f.wfd);
	close(fd[0]);

	CHECK(ftruncate(tmpfd, 0) == 0);
	CHECK(lseek(tmpfd, 0, SEEK_SET) == 0);
	ama_writer_init(&w, tmpfd, z);
	for (i = 0; i < nkept; i++)
		ama_record_write(&w, kept[i].fields, kept[i].path,
				 kept[i].path_len);
	CHECK(ama_writer_close(&w) == 0);
	CHECK(lseek(tmpfd, 0, SEEK_SET) == 0);
	ama_reader_init(&r, tmpfd, z, kind);
	for (i = 0; i < nkept; i++) {
		char *fields;

		CHECK(ama_reader_next(&r, &rec) == 1);
		fields = join_fields(&rec);
		CHECK(!strcmp(fields, kept[i].fields));
		CHECK(rec.path_len == kept[i].path_len);
		CHECK(!memcmp(rec.path, kept[i].path, rec.path_len));
		free(fields);
	}
	CHECK(ama_reader_next(&r, &rec) == 0);
	ama_reader_release(&r);
	for (i = 0; i < nkept; i++) {
		free(kept[i].fields);
		free(kept[i].path);
	}
	free(kept);
}

static int tmp_fd(void)
{
	static int fd = -1;
	char name[] = "/tmp/ama-fuzz-record-XXXXXX";

	if (fd < 0) {
		fd = mkstemp(name);
		CHECK(fd >= 0);
		unlink(name);
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ama_input_kind kind;
	const char *s;
	size_t len, piece;

	if (size < 1)
		return 0;
	kind = data[0] & 1 ? AMA_INPUT_RECORDS : AMA_INPUT_PATHS;
	piece = (size_t)(data[0] >> 1) + 1;
	s = (const char *)data + 1;
	len = size - 1;

	check_unquote(s, len);
	check_quote(s, len);
	check_split(s, len);
	check_reader(s, len, 0, kind, piece, tmp_fd());
	check_reader(s, len, 1, kind, piece, tmp_fd());
	ama_error_clear();
	return 0;
}
