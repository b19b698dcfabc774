/* target.h: which request targets ama-server takes: path segments of pchars, a plain query. */
#ifndef AMA_SERVER_TARGET_H
#define AMA_SERVER_TARGET_H

#include <stddef.h>

#include "buf.h"

/*
 * Check a request target as the client sent it, before anything decodes
 * it (len bytes of s; a NUL in it is the caller's to catch). A path means
 * one thing or nothing: it starts with '/' and each byte is '/', an RFC
 * 3986 pchar that stands for itself (a letter, a digit, one of
 * "-._~!$&'()*+,;=:@"), or a %XX escape of one of those (not of '/',
 * '%', a NUL, a space, a control byte or a byte above 0x7e). After the
 * first '?', the query may also hold '/' and '?', and escapes of any byte
 * but NUL and the control bytes (0x01-0x1f, 0x7f).
 *
 * Returns 0, or -1 with the reason appended to why in words for the
 * client, naming the byte ("the request path holds %2F, which has no place
 * in a path segment", "the query holds byte 0x7F, which has no place in
 * it", "the request path holds a '%' without two hex digits after it",
 * "the request path does not start with '/'").
 */
int srv_target_check(struct ama_buf *why, const char *s, size_t len);

#endif
