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

struct ama_uring;

/* The largest file ama_md5_batch() hashes; larger ones are left over. */
#define AMA_MD5_BATCH_FILE_MAX (64 * 1024)

/*
 * Hash n small files (n <= AMA_URING_BATCH) at once through u, a ring of
 * the calling thread (lib/uring.h): they are opened, read and closed a
 * batch at a time, and each is stat-ed (fstat) before and after it is read,
 * so that a file changing meanwhile is never given a digest. done[i] is
 * set to 1 when out[i] and st[i] hold the digest of paths[i] and the stat
 * record it belongs to, as ama_md5_file() would give them; to 0 when the
 * file is left to ama_md5_file(): larger than AMA_MD5_BATCH_FILE_MAX, not
 * a regular file, changed while read, or any failure, whose reason
 * ama_md5_file() then names. Returns the number of files done; never
 * fails (a failing ring leaves everything over).
 */
size_t ama_md5_batch(struct ama_hasher *h, struct ama_uring *u, size_t n,
		     const char *const *paths, struct ama_md5 *out,
		     struct ama_stat *st, unsigned char *done);

#endif
