/* t/unit/record.c: quoting, reading and writing records. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "record.h"

static char *quoted(const char *s, size_t n)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_quote_path(&b, s, n);
	return ama_buf_detach(&b);
}

Test(quote, plain_path_is_written_as_is)
{
	char *q = quoted("data/x y.bin", 12);

	cr_assert_str_eq(q, "data/x y.bin");
	free(q);
}

Test(quote, control_bytes_use_c_escapes)
{
	char *q = quoted("a\tb\nc\rd\001e\177", 10);

	cr_assert_str_eq(q, "\"a\\tb\\nc\\rd\\001e\\177\"");
	free(q);
}

Test(quote, quote_and_backslash_are_escaped)
{
	char *q = quoted("q\"b\\", 4);

	cr_assert_str_eq(q, "\"q\\\"b\\\\\"");
	free(q);
}

Test(quote, non_utf8_bytes_are_not_quoted)
{
	char *q = quoted("latin1-\351", 8);

	cr_assert_str_eq(q, "latin1-\351");
	free(q);
}

Test(quote, unquote_undoes_quote_for_every_byte)
{
	char raw[255];
	struct ama_buf q = AMA_BUF_INIT, back = AMA_BUF_INIT;
	int i;

	for (i = 0; i < 255; i++)
		raw[i] = (char)(i + 1);
	ama_quote_path(&q, raw, sizeof(raw));
	cr_assert_eq(ama_unquote_path(&back, q.s, q.len), 0);
	cr_assert_eq(back.len, sizeof(raw));
	cr_assert(!memcmp(back.s, raw, sizeof(raw)));
	ama_buf_release(&q);
	ama_buf_release(&back);
}

Test(quote, unquote_rejects_nul_and_junk)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_eq(ama_unquote_path(&b, "\"a\\000\"", 7), AMA_EINVAL);
	cr_assert_eq(ama_unquote_path(&b, "\"a\"b", 4), AMA_EINVAL);
	cr_assert_eq(ama_unquote_path(&b, "\"a", 2), AMA_EINVAL);
	cr_assert_eq(ama_unquote_path(&b, "\"a\\q\"", 5), AMA_EINVAL);
	ama_buf_release(&b);
}

Test(quote, unquote_rejects_a_raw_nul_inside_the_quotes)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_eq(ama_unquote_path(&b, "\"a\0b\"", 5), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "bad quoting: NUL byte in a path");
	ama_buf_release(&b);
}

/* a reader over the bytes of s */
static int pipe_of(const char *s, size_t n)
{
	int fd[2];

	cr_assert_eq(pipe(fd), 0);
	cr_assert_eq(write(fd[1], s, n), (ssize_t)n);
	close(fd[1]);
	return fd[0];
}

Test(reader, records_split_into_fields_and_path)
{
	static const char in[] = "d41d8cd98f00b204e9800998ecf8427e 0\tsp ace\n"
		"abc 1 staged\t\"t\\tab\"\n";
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of(in, sizeof(in) - 1);

	ama_reader_init(&r, fd, 0, AMA_INPUT_RECORDS);
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_eq(rec.nfields, 2);
	cr_assert_str_eq(rec.field[0], "d41d8cd98f00b204e9800998ecf8427e");
	cr_assert_str_eq(rec.field[1], "0");
	cr_assert_str_eq(rec.path, "sp ace");
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_eq(rec.nfields, 3);
	cr_assert_str_eq(rec.field[2], "staged");
	cr_assert_str_eq(rec.path, "t\tab");
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	ama_reader_release(&r);
	close(fd);
}

Test(reader, nul_terminated_paths_keep_every_byte)
{
	static const char in[] = "a\tb\0\"q\0new\nline";
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of(in, sizeof(in) - 1);

	ama_reader_init(&r, fd, 1, AMA_INPUT_PATHS);
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_str_eq(rec.path, "a\tb");
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_str_eq(rec.path, "\"q");
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_str_eq(rec.path, "new\nline");
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	ama_reader_release(&r);
	close(fd);
}

Test(reader, a_record_without_tab_is_malformed_and_skipped)
{
	static const char in[] = "no tab here\nx 1\tok\n";
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of(in, sizeof(in) - 1);

	ama_reader_init(&r, fd, 0, AMA_INPUT_RECORDS);
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "malformed record at line 1: no TAB");
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_str_eq(rec.path, "ok");
	ama_reader_release(&r);
	close(fd);
}

Test(reader, a_raw_nul_in_a_quoted_path_is_malformed)
{
	static const char in[] = "\"a\0b\"\nx 1\t\"a\0\"\n\"ok\"\n";
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of(in, sizeof(in) - 1);

	ama_reader_init(&r, fd, 0, AMA_INPUT_PATHS);
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "malformed record at line 1: "
			 "bad quoting: NUL byte in a path");
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "malformed record at line 2: "
			 "malformed record: NUL in a path");
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_eq(rec.path_len, 2);
	cr_assert_str_eq(rec.path, "ok");
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	ama_reader_release(&r);
	close(fd);
	fd = pipe_of(in, sizeof(in) - 1);
	ama_reader_init(&r, fd, 0, AMA_INPUT_RECORDS);
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "malformed record at line 1: no TAB");
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "malformed record at line 2: "
			 "bad quoting: NUL byte in a path");
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	ama_reader_release(&r);
	close(fd);
}

Test(reader, empty_input_is_the_end)
{
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of("", 0);

	/* the first read starts from no buffer at all */
	ama_reader_init(&r, fd, 0, AMA_INPUT_PATHS);
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	ama_reader_release(&r);
	close(fd);
}

Test(reader, empty_fields_are_malformed)
{
	static const char in[] = "a  b\tp\n";
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of(in, sizeof(in) - 1);

	ama_reader_init(&r, fd, 0, AMA_INPUT_RECORDS);
	cr_assert_eq(ama_reader_next(&r, &rec), AMA_EINVAL);
	ama_reader_release(&r);
	close(fd);
}

Test(reader, long_lines_cross_buffer_boundaries)
{
	size_t n = 200000;
	char *in = malloc(n + 1);
	struct ama_reader r;
	struct ama_record rec;
	int fd[2];

	memset(in, 'x', n);
	in[n] = '\n';
	cr_assert_eq(pipe(fd), 0);
	if (fork() == 0) {
		close(fd[0]);
		if (write(fd[1], in, n + 1) != (ssize_t)(n + 1))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	ama_reader_init(&r, fd[0], 0, AMA_INPUT_PATHS);
	cr_assert_eq(ama_reader_next(&r, &rec), 1);
	cr_assert_eq(rec.path_len, n);
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	ama_reader_release(&r);
	close(fd[0]);
	free(in);
}

Test(writer, records_are_quoted_unless_z)
{
	char path[] = "/tmp/ama-writer-XXXXXX";
	int fd = mkstemp(path);
	struct ama_writer w;
	char got[128] = { 0 };

	cr_assert(fd >= 0);
	ama_writer_init(&w, fd, 0);
	ama_record_write(&w, "f1 f2", "a\tb", 3);
	ama_record_write(&w, NULL, "plain", 5);
	cr_assert_eq(ama_writer_close(&w), 0);
	cr_assert_eq(pread(fd, got, sizeof(got) - 1, 0), 19);
	cr_assert_str_eq(got, "f1 f2\t\"a\\tb\"\nplain\n");
	ama_writer_init(&w, fd, 1);
	cr_assert_eq(ftruncate(fd, 0), 0);
	lseek(fd, 0, SEEK_SET);
	ama_record_write(&w, "f", "a\tb", 3);
	cr_assert_eq(ama_writer_close(&w), 0);
	cr_assert_eq(pread(fd, got, sizeof(got) - 1, 0), 6);
	cr_assert(!memcmp(got, "f\ta\tb\0", 6));
	close(fd);
	unlink(path);
}

Test(writer, a_failed_write_is_reported_at_close)
{
	int fd = open("/dev/full", O_WRONLY);
	struct ama_writer w;

	cr_assert(fd >= 0);
	ama_writer_init(&w, fd, 0);
	ama_record_write(&w, NULL, "x", 1);
	cr_assert_eq(ama_writer_close(&w), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot write output: No space left on device");
	close(fd);
}
