/* t/unit/shellquote.c: paths as shell words to paste, and their width. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "shellquote.h"

static char *word(const char *p)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_quote_shell(&b, p);
	return ama_buf_detach(&b);
}

#define WORD_IS(in, want) do { \
	char *w_ = word(in); \
	cr_assert_str_eq(w_, want); \
	free(w_); \
} while (0)

Test(shellquote, safe_paths_are_left_as_they_are)
{
	WORD_IS("raw/run-01.bin", "raw/run-01.bin");
	WORD_IS("a=b,c:d@e%f+g", "a=b,c:d@e%f+g");
}

Test(shellquote, spaces_and_quotes_take_single_quotes)
{
	WORD_IS("lab notes.txt", "'lab notes.txt'");
	WORD_IS("it's", "'it'\\''s'");
	WORD_IS("a\"b$c`d", "'a\"b$c`d'");
}

Test(shellquote, control_and_non_utf8_bytes_go_octal)
{
	WORD_IS("a\tb", "$'a\\011b'");
	WORD_IS("new\nline's", "$'new\\012line\\'s'");
	WORD_IS("latin1-\351", "$'latin1-\\351'");
}

Test(shellquote, utf8_stays_readable)
{
	WORD_IS("caf\303\251 au lait", "'caf\303\251 au lait'");
}

Test(shellquote, a_leading_dash_is_not_an_option)
{
	WORD_IS("-x", "./-x");
	WORD_IS("-a b", "./'-a b'");
}

Test(shellquote, columns_count_characters_not_bytes)
{
	cr_assert_eq(ama_text_columns("caf\303\251", 5), 4);
	cr_assert_eq(ama_text_columns("x\351y", 3), 3);
	cr_assert_eq(ama_text_columns("", 0), 0);
}
