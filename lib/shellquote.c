/* shellquote.c: paths as shell words a user can paste, and their width on a terminal. */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "shellquote.h"
#include "utf8.h"

/* Is the character safe unquoted in a shell word? */
static int shell_safe(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || strchr("._/-+,:@%=", ch);
}

/* The columns a path takes on a terminal: a character a column. */
size_t ama_text_columns(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, cols = 0, n;

	while (i < len) {
		n = ama_utf8_char(u + i, len - i);
		i += n ? n : 1;
		cols++;
	}
	return cols;
}

/*
 * The path as a shell word a user can paste: as it is when safe,
 * 'single-quoted' otherwise, $'...' when it holds bytes that cannot be
 * typed or pasted (control bytes, and bytes that are not UTF-8, which a
 * terminal shows as a replacement character), with those bytes in
 * octal; "./" in front of a leading '-' so that it is not an option.
 */
void ama_quote_shell(struct ama_buf *out, const char *p)
{
	const unsigned char *u;
	int safe = 1, raw = 0;
	size_t n;

	for (u = (const unsigned char *)p; *u; u += n ? n : 1) {
		n = ama_utf8_char(u, SIZE_MAX);
		safe &= shell_safe(*u);
		raw |= !n || *u < 0x20 || *u == 0x7f;
	}
	if (*p == '-')
		ama_buf_addstr(out, "./");
	if (safe) {
		ama_buf_addstr(out, p);
		return;
	}
	if (raw) {
		ama_buf_addstr(out, "$'");
		for (u = (const unsigned char *)p; *u; u += n) {
			n = ama_utf8_char(u, SIZE_MAX);
			if (!n || *u < 0x20 || *u == 0x7f) {
				ama_buf_addf(out, "\\%03o", *u);
				n = 1;
			} else if (*u == '\'' || *u == '\\') {
				ama_buf_addf(out, "\\%c", *u);
			} else {
				ama_buf_add(out, u, n);
			}
		}
		ama_buf_addch(out, '\'');
		return;
	}
	ama_buf_addch(out, '\'');
	for (u = (const unsigned char *)p; *u; u++) {
		if (*u == '\'')
			ama_buf_addstr(out, "'\\''");
		else
			ama_buf_addch(out, *u);
	}
	ama_buf_addch(out, '\'');
}
