/* buf.h: a growable byte buffer, always NUL-terminated, and checked allocation. */
#ifndef AMA_BUF_H
#define AMA_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Allocation failure is not reported as an error code anywhere in ama: these
 * wrappers abort the process, as git's xmalloc does, because no caller could
 * do anything useful with a half-built structure.
 */
void *ama_malloc(size_t n);
void *ama_calloc(size_t n, size_t size);
void *ama_realloc(void *p, size_t n);
char *ama_strdup(const char *s);
char *ama_strndup(const char *s, size_t n);

struct ama_buf {
	char *s;	/* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

#define AMA_BUF_INIT { NULL, 0, 0 }

/* Make room for n more bytes; aborts for a size no buffer can hold. */
void ama_buf_grow(struct ama_buf *b, size_t n);
/* Append n bytes; data must not point into b itself (it may move). */
void ama_buf_add(struct ama_buf *b, const void *data, size_t n);
void ama_buf_addstr(struct ama_buf *b, const char *s);
void ama_buf_addch(struct ama_buf *b, int c);
void ama_buf_addf(struct ama_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ama_buf_vaddf(struct ama_buf *b, const char *fmt, va_list ap);
/* Keep the allocation, drop the contents. */
void ama_buf_reset(struct ama_buf *b);
void ama_buf_truncate(struct ama_buf *b, size_t len);
/* The contents ("" for an empty buffer); valid until the next change. */
const char *ama_buf_str(const struct ama_buf *b);
/* Hand the string to the caller (who frees it); the buffer is empty after. */
char *ama_buf_detach(struct ama_buf *b);
void ama_buf_release(struct ama_buf *b);

#endif
