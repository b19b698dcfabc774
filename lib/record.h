/* record.h: the line-record contract every plumbing program speaks. */
#ifndef AMA_RECORD_H
#define AMA_RECORD_H

#include <stddef.h>

#include "buf.h"

/*
 * A record is "fields TAB path", one per line, or NUL-terminated with -z.
 * Fields are separated by one space. Without -z, a path holding a control
 * byte, DEL, '"' or '\' is written C-quoted in double quotes, as git does;
 * other bytes (UTF-8 or not) are written as they are.
 */

#define AMA_RECORD_MAXFIELDS 16

/* Does the path need quoting when written without -z? */
int ama_quote_needed(const char *path, size_t len);
/* Append path to out, C-quoted if it needs it. */
void ama_quote_path(struct ama_buf *out, const char *path, size_t len);
/*
 * Append the unquoted form of the quoted string s (which starts with '"')
 * to out. Returns 0, or AMA_EINVAL for bad quoting, a NUL byte, or bytes
 * after the closing quote.
 */
int ama_unquote_path(struct ama_buf *out, const char *s, size_t len);
/*
 * A path for messages: quoted if needed, in a per-thread buffer that stays
 * valid until the next call from this thread.
 */
const char *ama_quote_for_message(const char *path);

enum ama_input_kind {
	AMA_INPUT_PATHS,	/* each line is a path */
	AMA_INPUT_RECORDS,	/* each line is "fields TAB path" */
};

struct ama_record {
	char *fields;			/* before the TAB; "" for a bare path */
	char *field[AMA_RECORD_MAXFIELDS];	/* fields split at spaces */
	int nfields;
	const char *path;		/* unquoted, NUL-terminated */
	size_t path_len;
	unsigned long lineno;		/* 1-based; 0 for an argument */
};

struct ama_reader {
	int fd;
	int z;
	enum ama_input_kind kind;
	char *data;		/* read buffer */
	size_t start, end, cap;
	int eof;
	unsigned long lineno;
	struct ama_buf line;
	struct ama_buf path;
	/*
	 * Optional, set after ama_reader_init(): called before each read(2)
	 * that could block (no whole record is buffered), for a caller with
	 * work going on meanwhile, such as a pool of threads whose results
	 * should not wait for the next line of input. Returns 0, or a
	 * negative AMA_E* code after setting the error, which the read
	 * returns as AMA_EIO.
	 */
	int (*wait)(void *arg, int fd);
	void *wait_arg;
};

void ama_reader_init(struct ama_reader *r, int fd, int z,
		     enum ama_input_kind kind);
/*
 * Read the next record into out, valid until the next call. Returns 1 for
 * a record, 0 at the end of input, AMA_EINVAL for a malformed record (the
 * reader stays usable: the next call reads the next line), AMA_EIO if the
 * read failed.
 */
int ama_reader_next(struct ama_reader *r, struct ama_record *out);
void ama_reader_release(struct ama_reader *r);

/* Split s (modified in place) at single spaces into rec's fields. */
int ama_record_split_fields(struct ama_record *rec, char *s);
/* Fill rec with a bare path (fields empty), e.g. from an argument. */
void ama_record_from_path(struct ama_record *rec, const char *path);

struct ama_writer {
	int fd;
	int z;
	int err;		/* errno of the first failed write, or 0 */
	struct ama_buf buf;
};

void ama_writer_init(struct ama_writer *w, int fd, int z);
/*
 * Write one record: fields (NULL or "" for none), a TAB, the path (quoted
 * as needed without -z), the terminator. A path-only record has no TAB.
 * Output is buffered; failures are remembered and reported by close.
 */
void ama_record_write(struct ama_writer *w, const char *fields,
		      const char *path, size_t path_len);
/* Write bytes as they are (for non-record output such as a manifest). */
void ama_writer_raw(struct ama_writer *w, const void *data, size_t len);
/* Push buffered output to the descriptor. Returns 0 or AMA_EIO. */
int ama_writer_flush(struct ama_writer *w);
/* Flush and free. Returns 0 or AMA_EIO if any write failed. */
int ama_writer_close(struct ama_writer *w);

#endif
