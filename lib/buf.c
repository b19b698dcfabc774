/* buf.c: growable buffers and allocation that aborts on exhaustion. */
#include "auto-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void *check(void *p)
{
	if (!p)
		abort();
	return p;
}

void *ama_malloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *ama_calloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}

void *ama_realloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
}

char *ama_strdup(const char *s)
{
	return check(strdup(s));
}

char *ama_strndup(const char *s, size_t n)
{
	return check(strndup(s, n));
}

void ama_buf_grow(struct ama_buf *b, size_t n)
{
	size_t want, cap;

	/* a size no buffer can hold: a caller's bug, as allocation failure */
	if (n > SIZE_MAX - 1 - b->len)
		abort();
	want = b->len + n + 1;
	if (want <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap <= (SIZE_MAX - 16) / 3 ? cap * 3 / 2 + 16 : want;
	b->s = ama_realloc(b->s, cap);
	b->cap = cap;
}

void ama_buf_add(struct ama_buf *b, const void *data, size_t n)
{
	ama_buf_grow(b, n);
	if (n)
		memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void ama_buf_addstr(struct ama_buf *b, const char *s)
{
	ama_buf_add(b, s, strlen(s));
}

void ama_buf_addch(struct ama_buf *b, int c)
{
	ama_buf_grow(b, 1);
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
}

void ama_buf_vaddf(struct ama_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	ama_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		abort();
	if ((size_t)n >= b->cap - b->len) {
		ama_buf_grow(b, (size_t)n);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void ama_buf_addf(struct ama_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ama_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void ama_buf_reset(struct ama_buf *b)
{
	ama_buf_truncate(b, 0);
}

void ama_buf_truncate(struct ama_buf *b, size_t len)
{
	if (len > b->len)
		abort();
	b->len = len;
	if (b->s)
		b->s[len] = '\0';
}

const char *ama_buf_str(const struct ama_buf *b)
{
	return b->s ? b->s : "";
}

char *ama_buf_detach(struct ama_buf *b)
{
	char *s = b->s ? b->s : ama_strdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void ama_buf_release(struct ama_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
