/* shellquote.h: paths as shell words a user can paste, and their width on a terminal. */
#ifndef AMA_SHELLQUOTE_H
#define AMA_SHELLQUOTE_H

#include <stddef.h>

#include "buf.h"

/*
 * Append path as one shell word to out, for the commands ama suggests
 * ("ama add FILE"): as it is when every byte is safe, 'single-quoted'
 * otherwise, $'...' (bash, zsh, ksh) when it holds bytes that cannot be
 * typed or pasted (control bytes, bytes that are not UTF-8), with those
 * bytes in octal; "./" in front of a leading '-' so that it is not taken
 * for an option.
 */
void ama_quote_shell(struct ama_buf *out, const char *path);

/* The columns len bytes of text take on a terminal: one per character. */
size_t ama_text_columns(const char *text, size_t len);

#endif
