/* md5.h: MD5 of buffers and files (OpenSSL EVP), and its hex form. */
#ifndef AMA_MD5_H
#define AMA_MD5_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "stat.h"

struct ama_md5 {
	unsigned char d[16];
};

#define AMA_MD5_HEXLEN 32

/* out gets 32 lowercase hex digits and a NUL. */
void ama_md5_to_hex(char *out, const struct ama_md5 *m);
/* Parse exactly 32 lowercase hex digits. AMA_EINVAL otherwise. */
int ama_md5_from_hex(struct ama_md5 *out, const char *hex);
/* Base64 of the digest, as Content-MD5 wants it: 24 chars and a NUL. */
void ama_md5_to_base64(char *out, const struct ama_md5 *m);
int ama_md5_equal(const struct ama_md5 *a, const struct ama_md5 *b);

/* One hashing context with its read buffer; one per thread. */
struct ama_hasher {
	void *ctx;		/* EVP_MD_CTX */
	char *buf;
	size_t bufsize;
	/* NULL, or a counter ama_md5_file() adds each read's bytes to, as it
	 * goes (for a progress line that moves within a large file) */
	_Atomic uint64_t *read_bytes;
};

void ama_hasher_init(struct ama_hasher *h);
void ama_hasher_release(struct ama_hasher *h);

/* Incremental hashing on h's context. */
void ama_hasher_start(struct ama_hasher *h);
void ama_hasher_update(struct ama_hasher *h, const void *data, size_t n);
void ama_hasher_finish(struct ama_hasher *h, struct ama_md5 *out);

void ama_md5_buffer(struct ama_md5 *out, const void *data, size_t n);

/*
 * Hash the regular file at path without following a symbolic link. The
 * file is stat-ed before and after it is read; st gets the stat record
 * that the digest belongs to. Errors, with path as the subject:
 * AMA_ENOTFOUND (gone), AMA_ENOTREG (not a regular file), AMA_ECHANGED
 * ("changed while hashing": size, times, inode or the byte count moved
 * meanwhile; no digest is given), AMA_EIO (open or read failed).
 */
int ama_md5_file(struct ama_hasher *h, struct ama_md5 *out,
		 struct ama_stat *st, const char *path);

#endif
