/* md5.c: MD5 with OpenSSL EVP, and hashing a file that must hold still. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "manifest.h"
#include "md5.h"
#include "uring.h"

#define READ_SIZE (1024 * 1024)
#define ADVISE_ABOVE (4 * 1024 * 1024)

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md5_md;

static void fetch_md5(void)
{
	/* fetched once: an implicit fetch per EVP_DigestInit costs more than
	 * hashing a 4 KiB file */
	md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
	if (!md5_md)
		abort();
}

void ama_md5_to_hex(char *out, const struct ama_md5 *m)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[m->d[i] >> 4];
		out[2 * i + 1] = hex[m->d[i] & 15];
	}
	out[32] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ama_md5_from_hex(struct ama_md5 *out, const char *hex)
{
	int i;

	for (i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo;

		if (hi < 0)
			goto bad;
		lo = hexval(hex[2 * i + 1]);
		if (lo < 0)
			goto bad;
		out->d[i] = (unsigned char)(hi << 4 | lo);
	}
	if (hex[32] == '\0')
		return 0;
bad:
	return ama_error_set(AMA_EINVAL, "not an MD5 (32 lowercase hex digits)");
}

void ama_md5_to_base64(char *out, const struct ama_md5 *m)
{
	EVP_EncodeBlock((unsigned char *)out, m->d, 16);
}

int ama_md5_equal(const struct ama_md5 *a, const struct ama_md5 *b)
{
	return !memcmp(a->d, b->d, 16);
}

void ama_hasher_init(struct ama_hasher *h)
{
	pthread_once(&fetch_once, fetch_md5);
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		abort();
	h->bufsize = READ_SIZE;
	h->buf = ama_malloc(h->bufsize);
	h->read_bytes = NULL;
}

void ama_hasher_release(struct ama_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	free(h->buf);
	h->ctx = NULL;
	h->buf = NULL;
}

void ama_hasher_start(struct ama_hasher *h)
{
	if (!EVP_DigestInit_ex(h->ctx, md5_md, NULL))
		abort();
}

void ama_hasher_update(struct ama_hasher *h, const void *data, size_t n)
{
	if (!EVP_DigestUpdate(h->ctx, data, n))
		abort();
}

void ama_hasher_finish(struct ama_hasher *h, struct ama_md5 *out)
{
	unsigned int n = 16;

	if (!EVP_DigestFinal_ex(h->ctx, out->d, &n))
		abort();
}

void ama_md5_buffer(struct ama_md5 *out, const void *data, size_t n)
{
	struct ama_hasher h;

	pthread_once(&fetch_once, fetch_md5);
	h.ctx = EVP_MD_CTX_new();
	if (!h.ctx)
		abort();
	ama_hasher_start(&h);
	ama_hasher_update(&h, data, n);
	ama_hasher_finish(&h, out);
	EVP_MD_CTX_free(h.ctx);
}

static int open_regular(const char *path, int *fd_out, struct stat *st,
			int *is_link)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ama_error_setp(AMA_ENOTFOUND, path,
					      "no such file");
		if (errno == ELOOP) {
			*is_link = 1;
			return ama_error_setp(AMA_ENOTREG, path,
				"not a regular file: symbolic link");
		}
		return ama_error_setp_errno(AMA_EIO, path, "cannot open");
	}
	if (fstat(fd, st) < 0) {
		close(fd);
		return ama_error_setp_errno(AMA_EIO, path, "cannot stat");
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return ama_error_setp(AMA_ENOTREG, path,
				      "not a regular file: %s",
				      ama_stat_type_name(st->st_mode));
	}
	*fd_out = fd;
	return 0;
}

static int same_content_stat(const struct ama_stat *a,
			     const struct ama_stat *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns &&
		a->ctime_ns == b->ctime_ns && a->ino == b->ino &&
		a->dev == b->dev;
}

/*
 * A symbolic link's content is its target: read (never followed) between
 * two lstat records that must agree, so that a link replaced meanwhile is
 * told.
 */
static int md5_link(struct ama_md5 *out, struct ama_stat *st,
		    const char *path)
{
	char target[AMA_LINK_MAX + 2];
	struct ama_stat before, after;
	ssize_t n;
	int rc = ama_stat_path(&before, path);

	if (rc < 0)
		return rc;
	if (!S_ISLNK(before.mode))
		return ama_error_setp(AMA_ECHANGED, path, "changed while "
				      "hashing: no longer a symbolic link");
	n = readlink(path, target, sizeof(target));
	if (n < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot read the "
					    "link");
	if ((size_t)n > AMA_LINK_MAX)
		return ama_error_setp(AMA_EINVAL, path, "a symbolic link of "
				      "more than %u bytes", AMA_LINK_MAX);
	rc = ama_stat_path(&after, path);
	if (rc == 0 && (!same_content_stat(&before, &after) ||
			!S_ISLNK(after.mode) || (uint64_t)n != after.size))
		rc = ama_error_setp(AMA_ECHANGED, path, "changed while "
				    "hashing");
	if (rc < 0)
		return rc;
	ama_md5_buffer(out, target, (size_t)n);
	*st = after;
	return 0;
}

int ama_md5_file(struct ama_hasher *h, struct ama_md5 *out,
		 struct ama_stat *st, const char *path)
{
	struct stat sb;
	struct ama_stat before, after, now;
	uint64_t total = 0;
	int fd = -1, rc, is_link = 0;

	rc = open_regular(path, &fd, &sb, &is_link);
	if (is_link)
		return md5_link(out, st, path);
	if (rc < 0)
		return rc;
	ama_stat_from(&before, &sb);
#ifdef HAVE_POSIX_FADVISE
	if (before.size > ADVISE_ABOVE)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	ama_hasher_start(h);
	for (;;) {
		ssize_t n = read(fd, h->buf, h->bufsize);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ama_error_setp_errno(AMA_EIO, path,
						  "cannot read");
			goto out;
		}
		if (n == 0)
			break;
		ama_hasher_update(h, h->buf, (size_t)n);
		total += (uint64_t)n;
		if (h->read_bytes)
			atomic_fetch_add_explicit(h->read_bytes, (uint64_t)n,
						  memory_order_relaxed);
	}
	if (fstat(fd, &sb) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, path, "cannot stat");
		goto out;
	}
	ama_stat_from(&after, &sb);
	rc = ama_stat_path(&now, path);
	if (rc == AMA_ENOTFOUND) {
		rc = ama_error_setp(AMA_ECHANGED, path,
				    "changed while hashing: removed");
		goto out;
	}
	if (rc < 0)
		goto out;
	if (!same_content_stat(&before, &after) ||
	    !same_content_stat(&after, &now) || total != before.size) {
		rc = ama_error_setp(AMA_ECHANGED, path,
				    "changed while hashing");
		goto out;
	}
	ama_hasher_finish(h, out);
	*st = after;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The batch's reads go to h->buf, a round at a time. */
static size_t batch_round(struct ama_hasher *h, struct ama_uring *u,
			  size_t n, const int *fd, unsigned char *todo,
			  const struct ama_stat *before, struct ama_md5 *out,
			  struct ama_stat *st, unsigned char *done)
{
	int rfd[AMA_URING_BATCH];
	void *buf[AMA_URING_BATCH];
	size_t len[AMA_URING_BATCH], used = 0, i, count = 0;
	long got[AMA_URING_BATCH];

	for (i = 0; i < n; i++) {
		/* one byte more than the size: a file growing shows */
		size_t need = (size_t)before[i].size + 1;

		rfd[i] = -1;
		if (!todo[i] || (used && used + need > h->bufsize))
			continue;
		rfd[i] = fd[i];
		buf[i] = h->buf + used;
		len[i] = need;
		used += need;
		todo[i] = 0;
	}
	if (ama_uring_read(u, n, rfd, buf, len, got) < 0) {
		memset(todo, 0, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct stat sb;
		struct ama_stat after;

		if (rfd[i] < 0 || got[i] < 0 ||
		    (uint64_t)got[i] != before[i].size ||
		    fstat(fd[i], &sb) < 0)
			continue;
		ama_stat_from(&after, &sb);
		if (!same_content_stat(&before[i], &after) ||
		    after.nlink != before[i].nlink)
			continue;
		ama_hasher_start(h);
		ama_hasher_update(h, buf[i], (size_t)got[i]);
		ama_hasher_finish(h, &out[i]);
		if (h->read_bytes)
			atomic_fetch_add_explicit(h->read_bytes,
						  (uint64_t)got[i],
						  memory_order_relaxed);
		st[i] = after;
		done[i] = 1;
		count++;
	}
	return count;
}

size_t ama_md5_batch(struct ama_hasher *h, struct ama_uring *u, size_t n,
		     const char *const *paths, struct ama_md5 *out,
		     struct ama_stat *st, unsigned char *done)
{
	int fd[AMA_URING_BATCH];
	unsigned char todo[AMA_URING_BATCH];
	struct ama_stat before[AMA_URING_BATCH];
	size_t i, count = 0, left = 0;

	memset(done, 0, n);
	if (n > AMA_URING_BATCH ||
	    ama_uring_open(u, n, AT_FDCWD, paths,
			   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
			   fd) < 0)
		return 0;
	/* never read what is not a regular file, as ama_md5_file() */
	for (i = 0; i < n; i++) {
		struct stat sb;

		todo[i] = 0;
		if (fd[i] < 0 || fstat(fd[i], &sb) < 0 ||
		    !S_ISREG(sb.st_mode) || sb.st_size > AMA_MD5_BATCH_FILE_MAX)
			continue;
		ama_stat_from(&before[i], &sb);
		todo[i] = 1;
		left++;
	}
	while (left) {
		size_t before_round = left;

		count += batch_round(h, u, n, fd, todo, before, out, st, done);
		left = 0;
		for (i = 0; i < n; i++)
			left += todo[i];
		if (left == before_round)
			break;	/* cannot happen: a round takes one at least */
	}
	ama_uring_close(u, n, fd);
	return count;
}
