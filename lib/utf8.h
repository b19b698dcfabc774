/* utf8.h: UTF-8 as RFC 3629 defines it: the one decoder ama uses. */
#ifndef AMA_UTF8_H
#define AMA_UTF8_H

#include <stddef.h>

/*
 * The length (1 to 4) of the valid UTF-8 character at s, with n bytes
 * left (n >= 1), or 0 if the bytes there are not one: a stray
 * continuation byte, a truncated or overlong sequence, a surrogate, a
 * code point beyond U+10FFFF (what jansson and S3 refuse too). An ASCII
 * byte, NUL included, is a character of 1. In a NUL-terminated string n
 * may be SIZE_MAX: decoding stops at the first byte that does not
 * continue the character, and a NUL never does.
 */
size_t ama_utf8_char(const unsigned char *s, size_t n);

/* Is s (n bytes) valid UTF-8 without a NUL, as JSON strings and S3 keys are? */
int ama_utf8_valid(const char *s, size_t n);

#endif
