/* target.c: which request targets ama-server takes: path segments of pchars, a plain query. */
#include "auto-config.h"

#include <string.h>

#include "target.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An RFC 3986 pchar that stands for itself (not '%'). */
static int is_pchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (c && strchr("-._~!$&'()*+,;=:@",
						       c));
}

int srv_target_check(struct ama_buf *why, const char *s, size_t len)
{
	const char *where = "the request path";
	size_t i;
	int in_query = 0;

	if (!len || s[0] != '/') {
		ama_buf_addstr(why, "the request path does not start with '/'");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo, v;

		if (c == '?' && !in_query) {
			in_query = 1;
			where = "the query";
			continue;
		}
		if (is_pchar(c) || c == '/' || (in_query && c == '?'))
			continue;
		if (c != '%') {
			ama_buf_addf(why, "%s holds byte 0x%02X, which has no "
				     "place in it", where, c);
			return -1;
		}
		hi = i + 2 < len ? hexval(s[i + 1]) : -1;
		lo = hi >= 0 ? hexval(s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			ama_buf_addf(why, "%s holds a '%%' without two hex "
				     "digits after it", where);
			return -1;
		}
		v = hi * 16 + lo;
		if (in_query ? v < 0x20 || v == 0x7f : !is_pchar(v)) {
			ama_buf_addf(why, "%s holds %%%c%c, %s", where,
				     s[i + 1], s[i + 2], in_query ?
				     "a NUL or control byte" : "which has no "
				     "place in a path segment");
			return -1;
		}
		i += 2;
	}
	return 0;
}
