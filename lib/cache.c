/* cache.c: the shared download cache: contents named by MD5, verified before they enter it. */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "error.h"
#include "lockfile.h"
#include "xdg.h"

struct ama_cache {
	char *dir;
};

struct ama_cache_fill {
	struct ama_cache *c;
	struct ama_md5 md5;
	uint64_t size, have;
	int fd;
	char *partial;		/* its path */
	struct ama_hasher h;
};

/* mkdir -p of dir (absolute); 0 or -1 with errno. */
static int mkdirs(const char *dir)
{
	char *p = ama_strdup(dir), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

int ama_cache_open(struct ama_cache **out, const char *dir)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_cache *c;
	const char *env = getenv("AMA_CACHE_DIR");
	int rc = 0;

	*out = NULL;
	if (dir)
		ama_buf_addstr(&b, dir);
	else if (env && *env == '/')
		ama_buf_addstr(&b, env);
	else {
		char *d = NULL;

		if (ama_xdg_path(&d, AMA_XDG_CACHE, NULL) < 0)
			return AMA_ESETUP;
		ama_buf_addstr(&b, d);
		free(d);
	}
	while (b.len > 1 && b.s[b.len - 1] == '/')
		ama_buf_truncate(&b, b.len - 1);
	if (b.s[0] != '/') {
		rc = ama_error_setp(AMA_ESETUP, b.s, "the cache folder must be "
				    "an absolute path");
		ama_buf_release(&b);
		return rc;
	}
	c = ama_calloc(1, sizeof(*c));
	c->dir = ama_buf_detach(&b);
	ama_buf_addf(&b, "%s/contents", c->dir);
	if (mkdirs(b.s) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, b.s, "cannot create");
	ama_buf_reset(&b);
	ama_buf_addf(&b, "%s/partial", c->dir);
	if (rc == 0 && mkdirs(b.s) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, b.s, "cannot create");
	ama_buf_release(&b);
	if (rc < 0) {
		ama_cache_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void ama_cache_close(struct ama_cache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

const char *ama_cache_dir(const struct ama_cache *c)
{
	return c->dir;
}

void ama_cache_path(const struct ama_cache *c, struct ama_buf *out,
		    const struct ama_md5 *md5)
{
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_to_hex(hex, md5);
	ama_buf_addf(out, "%s/contents/%.2s/%s", c->dir, hex, hex);
}

int ama_cache_has(struct ama_cache *c, const struct ama_md5 *md5,
		  uint64_t size)
{
	struct ama_buf p = AMA_BUF_INIT;
	struct stat st;
	int there;

	ama_cache_path(c, &p, md5);
	there = lstat(p.s, &st) == 0 && S_ISREG(st.st_mode) &&
		(uint64_t)st.st_size == size;
	ama_buf_release(&p);
	return there;
}

/* Mark fd's content used now: its access time (least recently used). */
static void touch(int fd)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

	(void)futimens(fd, ts);
}

int ama_cache_open_content(struct ama_cache *c, const struct ama_md5 *md5,
			   uint64_t size)
{
	struct ama_buf p = AMA_BUF_INIT;
	struct stat st;
	int fd, rc;

	ama_cache_path(c, &p, md5);
	fd = open(p.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ELOOP))
		rc = ama_error_setp(AMA_ENOTFOUND, p.s, "not in the cache");
	else if (fd < 0)
		rc = ama_error_setp_errno(AMA_EIO, p.s, "cannot open");
	else if (fstat(fd, &st) < 0)
		rc = ama_error_setp_errno(AMA_EIO, p.s, "cannot stat");
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		rc = ama_error_setp(AMA_ENOTFOUND, p.s, "not in the cache "
				    "with %llu bytes",
				    (unsigned long long)size);
	else
		rc = fd;
	if (rc < 0 && fd >= 0)
		close(fd);
	if (rc >= 0)
		touch(fd);
	ama_buf_release(&p);
	return rc;
}

static void fill_free(struct ama_cache_fill *f)
{
	if (f->fd >= 0)
		close(f->fd);
	ama_hasher_release(&f->h);
	free(f->partial);
	free(f);
}

/* Hash the bytes an earlier fill left in f's file, to resume after them. */
static int rehash(struct ama_cache_fill *f)
{
	uint64_t off = 0;

	while (off < f->have) {
		size_t want = f->h.bufsize;
		ssize_t n;

		if (want > f->have - off)
			want = (size_t)(f->have - off);
		n = pread(f->fd, f->h.buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ama_error_setp_errno(AMA_EIO, f->partial,
						    "cannot read");
		ama_hasher_update(&f->h, f->h.buf, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

int ama_cache_fill_begin(struct ama_cache *c, const struct ama_md5 *md5,
			 uint64_t size, struct ama_cache_fill **out,
			 uint64_t *have)
{
	static atomic_uint seq;
	char hex[AMA_MD5_HEXLEN + 1];
	struct ama_buf p = AMA_BUF_INIT;
	struct ama_cache_fill *f;
	struct stat st;
	int rc = 0;

	*out = NULL;
	*have = 0;
	if (ama_cache_has(c, md5, size))
		return AMA_EEXIST;
	f = ama_calloc(1, sizeof(*f));
	f->c = c;
	f->md5 = *md5;
	f->size = size;
	ama_hasher_init(&f->h);
	ama_hasher_start(&f->h);
	ama_md5_to_hex(hex, md5);
	ama_buf_addf(&p, "%s/partial/%s-%llu", c->dir, hex,
		     (unsigned long long)size);
	f->fd = open(p.s, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f->fd >= 0 && flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
		/* another process fills it now: a private file, from 0 */
		close(f->fd);
		ama_buf_addf(&p, ".%ld.%u", (long)getpid(),
			     atomic_fetch_add(&seq, 1));
		f->fd = open(p.s, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW |
			     O_CLOEXEC, 0644);
	}
	f->partial = ama_buf_detach(&p);
	if (f->fd < 0) {
		rc = ama_error_setp_errno(AMA_EIO, f->partial, "cannot create");
		goto fail;
	}
	/* the winner of a race may have finished while we looked */
	if (ama_cache_has(c, md5, size)) {
		rc = AMA_EEXIST;
		unlink(f->partial);
		goto fail;
	}
	if (fstat(f->fd, &st) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, f->partial, "cannot stat");
		goto fail;
	}
	f->have = (uint64_t)st.st_size;
	if (f->have > size) {
		/* not this content's bytes: start over */
		if (ftruncate(f->fd, 0) < 0) {
			rc = ama_error_setp_errno(AMA_EIO, f->partial,
						  "cannot truncate");
			goto fail;
		}
		f->have = 0;
	}
	rc = rehash(f);
	if (rc < 0)
		goto fail;
	if (lseek(f->fd, (off_t)f->have, SEEK_SET) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, f->partial, "cannot seek");
		goto fail;
	}
	*have = f->have;
	*out = f;
	return 0;
fail:
	fill_free(f);
	return rc;
}

int ama_cache_fill_fd(const struct ama_cache_fill *f)
{
	return f->fd;
}

int ama_cache_fill_write(struct ama_cache_fill *f, const void *data,
			 size_t n)
{
	const char *p = data;

	if (n > f->size - f->have)
		return ama_error_set(AMA_EDIGEST, "longer than its %llu bytes",
				     (unsigned long long)f->size);
	ama_hasher_update(&f->h, data, n);
	f->have += n;
	while (n) {
		ssize_t w = write(f->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ama_error_setp_errno(AMA_EIO, f->partial,
						    "cannot write");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ama_cache_fill_commit(struct ama_cache_fill *f)
{
	char want[AMA_MD5_HEXLEN + 1], got[AMA_MD5_HEXLEN + 1];
	struct ama_buf final = AMA_BUF_INIT, dir = AMA_BUF_INIT;
	struct ama_md5 md5;
	int rc = 0;

	if (f->have != f->size) {
		rc = ama_error_set(AMA_EDIGEST, "is %llu bytes, not %llu",
				   (unsigned long long)f->have,
				   (unsigned long long)f->size);
		unlink(f->partial);
		goto out;
	}
	ama_hasher_finish(&f->h, &md5);
	if (!ama_md5_equal(&md5, &f->md5)) {
		ama_md5_to_hex(want, &f->md5);
		ama_md5_to_hex(got, &md5);
		rc = ama_error_set(AMA_EDIGEST, "has MD5 %s, not %s", got,
				   want);
		unlink(f->partial);
		goto out;
	}
	ama_cache_path(f->c, &final, &f->md5);
	ama_buf_add(&dir, final.s, final.len - AMA_MD5_HEXLEN - 1);
	if (fchmod(f->fd, 0444) < 0 ||
	    (mkdir(dir.s, 0755) < 0 && errno != EEXIST) ||
	    rename(f->partial, final.s) < 0)
		rc = ama_error_setp_errno(AMA_EIO, final.s, "cannot store");
	/*
	 * No fsync: a cached content is checked by size when used and the
	 * cache is only ever a copy of what the bucket holds.
	 */
out:
	ama_buf_release(&final);
	ama_buf_release(&dir);
	fill_free(f);
	return rc;
}

void ama_cache_fill_abort(struct ama_cache_fill *f, int discard)
{
	if (!f)
		return;
	if (discard || strchr(strrchr(f->partial, '/'), '.'))
		unlink(f->partial);	/* a private second fill: no resume */
	fill_free(f);
}

/* ---- usage and pruning ---- */

struct entry {
	struct ama_md5 md5;
	uint64_t size;
	int64_t used_ns;
};

struct scan {
	struct entry *v;
	size_t n, alloc;
	struct ama_cache_usage u;
};

static int scan_contents(struct ama_cache *c, struct scan *sc)
{
	struct ama_buf p = AMA_BUF_INIT;
	DIR *top, *sub;
	struct dirent *d, *e;
	int rc = 0;

	ama_buf_addf(&p, "%s/contents", c->dir);
	top = opendir(p.s);
	if (!top) {
		rc = ama_error_setp_errno(AMA_EIO, p.s, "cannot read");
		ama_buf_release(&p);
		return rc;
	}
	while (rc == 0 && (d = readdir(top))) {
		size_t at = p.len;

		if (strlen(d->d_name) != 2)
			continue;
		ama_buf_addf(&p, "/%s", d->d_name);
		sub = opendir(p.s);
		while (sub && (e = readdir(sub))) {
			struct entry en;
			struct stat st;

			if (ama_md5_from_hex(&en.md5, e->d_name) < 0) {
				ama_error_clear();
				continue;
			}
			if (fstatat(dirfd(sub), e->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			en.size = (uint64_t)st.st_size;
			en.used_ns = (int64_t)st.st_atim.tv_sec * 1000000000 +
				     st.st_atim.tv_nsec;
			sc->u.contents++;
			sc->u.bytes += en.size;
			if (sc->n == sc->alloc) {
				sc->alloc = sc->alloc ? 2 * sc->alloc : 256;
				sc->v = ama_realloc(sc->v, sc->alloc *
						    sizeof(*sc->v));
			}
			sc->v[sc->n++] = en;
		}
		if (sub)
			closedir(sub);
		ama_buf_truncate(&p, at);
	}
	closedir(top);
	ama_buf_release(&p);
	return rc;
}

/*
 * The partial files; with prune, remove those no process holds and that
 * were last written before `before` (seconds since the epoch).
 */
static void scan_partials(struct ama_cache *c, struct scan *sc, int prune,
			  time_t before)
{
	struct ama_buf p = AMA_BUF_INIT;
	struct dirent *d;
	DIR *dir;

	ama_buf_addf(&p, "%s/partial", c->dir);
	dir = opendir(p.s);
	while (dir && (d = readdir(dir))) {
		struct stat st;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		fd = openat(dirfd(dir), d->d_name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			if (prune && st.st_mtime < before &&
			    flock(fd, LOCK_EX | LOCK_NB) == 0) {
				unlinkat(dirfd(dir), d->d_name, 0);
			} else {
				sc->u.partials++;
				sc->u.partial_bytes += (uint64_t)st.st_size;
			}
		}
		close(fd);
	}
	if (dir)
		closedir(dir);
	ama_buf_release(&p);
}

int ama_cache_usage(struct ama_cache *c, struct ama_cache_usage *out)
{
	struct scan sc;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = scan_contents(c, &sc);
	scan_partials(c, &sc, 0, 0);
	free(sc.v);
	if (rc == 0)
		*out = sc.u;
	return rc;
}

static int by_use(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->used_ns != y->used_ns)
		return x->used_ns < y->used_ns ? -1 : 1;
	return memcmp(x->md5.d, y->md5.d, sizeof(x->md5.d));
}

long ama_cache_prune(struct ama_cache *c, uint64_t max_bytes,
		     ama_cache_removed_fn fn, void *ctx)
{
	struct ama_buf p = AMA_BUF_INIT;
	struct scan sc;
	long removed = 0;
	size_t i;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = scan_contents(c, &sc);
	if (rc < 0)
		return rc;
	scan_partials(c, &sc, 1, time(NULL) - 24 * 3600);
	if (sc.n)
		qsort(sc.v, sc.n, sizeof(*sc.v), by_use);
	for (i = 0; i < sc.n && sc.u.bytes > max_bytes; i++) {
		ama_buf_reset(&p);
		ama_cache_path(c, &p, &sc.v[i].md5);
		if (unlink(p.s) < 0 && errno != ENOENT) {
			rc = ama_error_setp_errno(AMA_EIO, p.s,
						  "cannot remove");
			break;
		}
		sc.u.bytes -= sc.v[i].size;
		removed++;
		if (fn)
			fn(ctx, &sc.v[i].md5, sc.v[i].size);
	}
	free(sc.v);
	ama_buf_release(&p);
	return rc < 0 ? rc : removed;
}
