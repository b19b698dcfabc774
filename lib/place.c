/* place.c: a file put at its path atomically, by reflink, copy or hard link, through a temporary name beside it. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_IOCTL_H
#include <sys/ioctl.h>
#endif
#ifdef HAVE_LINUX_FS_H
#include <linux/fs.h>
#endif

#include "buf.h"
#include "error.h"
#include "lockfile.h"
#include "place.h"

#define IO_SIZE (1024 * 1024)
#define NAME_TRIES 100

const char *ama_place_how_name(enum ama_place_how how)
{
	switch (how) {
	case AMA_PLACE_AUTO:
		return "auto";
	case AMA_PLACE_REFLINK:
		return "reflink";
	case AMA_PLACE_COPY:
		return "copy";
	case AMA_PLACE_READ_WRITE:
		return "read-write";
	case AMA_PLACE_HARDLINK:
		return "hardlink";
	}
	return "?";
}

/*
 * A temporary name beside target: its folder, the prefix, six characters
 * that differ from call to call (a counter, the pid and the clock, mixed);
 * O_EXCL or link(2) makes a clash harmless, the caller only tries again.
 */
static void tmp_name(struct ama_buf *b, const char *target)
{
	static const char chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static atomic_ulong counter;
	const char *slash = strrchr(target, '/');
	struct timespec ts;
	uint64_t x;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ull ^
		(uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_nsec ^
		(uint64_t)ts.tv_sec << 20;
	/* splitmix64's finalizer: every input bit moves every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	ama_buf_reset(b);
	if (slash)
		ama_buf_add(b, target, (size_t)(slash - target) + 1);
	ama_buf_addstr(b, AMA_PLACE_TMP_PREFIX);
	for (i = 0; i < 6; i++, x /= 62)
		ama_buf_addch(b, chars[x % 62]);
}

/* A failure to make a name in target's folder: no folder, or another. */
static int tmp_failed(const char *target, int err)
{
	errno = err;
	if (err == ENOENT || err == ENOTDIR)
		return ama_error_setp_errno(AMA_ENOTFOUND, target,
					    "cannot create a file beside it");
	return ama_error_setp_errno(AMA_EIO, target,
				    "cannot create a file beside it");
}

int ama_place_tmp_open(struct ama_place_tmp *t, const char *target,
		       mode_t mode)
{
	struct ama_buf name = AMA_BUF_INIT;
	int fd = -1, err = 0, i, rc;

	t->fd = -1;
	t->path = t->target = NULL;
	t->mode = mode;
	for (i = 0; i < NAME_TRIES; i++) {
		tmp_name(&name, target);
		fd = open(name.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			  mode ? 0600 : 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		ama_buf_release(&name);
		return tmp_failed(target, err);
	}
	if (mode && fchmod(fd, mode & 07777) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, target, "cannot chmod %s",
					  name.s);
		close(fd);
		unlink(name.s);
		ama_buf_release(&name);
		return rc;
	}
	t->fd = fd;
	t->path = ama_buf_detach(&name);
	t->target = ama_strdup(target);
	return 0;
}

static void tmp_release(struct ama_place_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->path);
	free(t->target);
	t->path = t->target = NULL;
}

void ama_place_tmp_abort(struct ama_place_tmp *t)
{
	if (t->path)
		unlink(t->path);
	tmp_release(t);
}

int ama_place_tmp_commit(struct ama_place_tmp *t, unsigned flags,
			 struct stat *st)
{
	int rc = 0;

	if ((flags & AMA_PLACE_FSYNC) && fsync(t->fd) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, t->target, "cannot sync");
	} else if (flags & AMA_PLACE_NOCLOBBER) {
		if (link(t->path, t->target) < 0)
			rc = errno == EEXIST ?
				ama_error_setp(AMA_EEXIST, t->target,
					       "exists already") :
				ama_error_setp_errno(AMA_EIO, t->target,
						     "cannot link into place");
		unlink(t->path);
	} else if (rename(t->path, t->target) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, t->target,
					  "cannot rename into place");
		unlink(t->path);
	}
	if (rc == 0 && st && fstat(t->fd, st) < 0)
		rc = ama_error_setp_errno(AMA_EIO, t->target, "cannot stat");
	if (rc == 0 && (flags & AMA_PLACE_FSYNC))
		rc = ama_fsync_parent(t->target);
	tmp_release(t);
	return rc;
}

/* Would the kernel do this another way? (Then fall back; else fail.) */
static int refused(int err)
{
	return err == EXDEV || err == EINVAL || err == EOPNOTSUPP ||
		err == ENOTTY || err == ENOSYS || err == EBADF ||
		err == EPERM;
}


/*
 * Who a failure is about: the source when reading, the target otherwise
 * (either may be NULL: no subject, as ama_place_copy_fd reports).
 */
struct names {
	const char *in, *out;
};

static int fail(const char *subject, int code, const char *what)
{
	return subject ? ama_error_setp_errno(code, subject, "%s", what) :
		ama_error_set_errno(code, "%s", what);
}

/* read and write from offset *done to the end of in. */
static int read_write(int out, int in, uint64_t *done,
		      const struct names *nm)
{
	char *buf = ama_malloc(IO_SIZE);
	int rc = 0;

	for (;;) {
		ssize_t n = pread(in, buf, IO_SIZE, (off_t)*done), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = fail(nm->in, AMA_EIO, "cannot read");
		if (n <= 0)
			break;
		while (w < n) {
			ssize_t k = pwrite(out, buf + w, (size_t)(n - w),
					   (off_t)(*done + (uint64_t)w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rc = fail(nm->out, AMA_EIO, "cannot write");
				break;
			}
			w += k;
		}
		if (rc < 0)
			break;
		*done += (uint64_t)n;
	}
	free(buf);
	return rc;
}

/*
 * copy_file_range from offset 0: 1 when it copied all of in (size bytes
 * by fstat, or more if in grew), 0 when the kernel refused part of it
 * (*done says how far it got), or a negative code.
 */
static int copy_range(int out, int in, uint64_t size, uint64_t *done,
		      const struct names *nm)
{
#ifdef HAVE_COPY_FILE_RANGE
	for (;;) {
		loff_t ioff = (loff_t)*done, ooff = (loff_t)*done;
		ssize_t n = copy_file_range(in, &ioff, out, &ooff,
					    (size_t)1 << 30, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return refused(errno) ? 0 :
				fail(nm->out, AMA_EIO, "cannot copy");
		/* 0 before the size fstat gave: some filesystems say 0 for
		 * "cannot"; read the rest */
		if (n == 0)
			return *done >= size;
		*done += (uint64_t)n;
	}
#else
	(void)out;
	(void)in;
	(void)size;
	(void)done;
	(void)nm;
	return 0;
#endif
}

static int copy_bytes(int out, int in, enum ama_place_how how,
		      enum ama_place_how *done, uint64_t *copied,
		      const struct names *nm)
{
	struct stat st;
	uint64_t n = 0;
	int rc = 0, err;

	if (how == AMA_PLACE_HARDLINK)
		return ama_error_set(AMA_EINVAL,
				     "a hard link is not a copy of bytes");
	if (fstat(in, &st) < 0)
		return fail(nm->in, AMA_EIO, "cannot stat");
	if (how == AMA_PLACE_AUTO || how == AMA_PLACE_REFLINK) {
#ifdef FICLONE
		if (ioctl(out, FICLONE, in) == 0) {
			*done = AMA_PLACE_REFLINK;
			*copied = (uint64_t)st.st_size;
			return 0;
		}
		err = errno;
#else
		err = EOPNOTSUPP;
#endif
		if (how == AMA_PLACE_REFLINK) {
			errno = err;
			return fail(nm->out, refused(err) ? AMA_ESETUP :
				    AMA_EIO, "cannot reflink");
		}
		how = AMA_PLACE_COPY;
	}
	if (how == AMA_PLACE_COPY) {
		rc = copy_range(out, in, (uint64_t)st.st_size, &n, nm);
		if (rc < 0)
			return rc;
	}
	if (rc == 1) {
		*done = AMA_PLACE_COPY;
	} else {
		/* what copy_file_range left, from where it stopped */
		*done = AMA_PLACE_READ_WRITE;
		rc = read_write(out, in, &n, nm);
		if (rc < 0)
			return rc;
	}
	*copied = n;
	return 0;
}

int ama_place_copy_fd(int out, int in, enum ama_place_how how,
		      enum ama_place_how *done, uint64_t *copied)
{
	static const struct names none = { NULL, NULL };
	enum ama_place_how d;
	uint64_t c;
	int rc = copy_bytes(out, in, how, &d, &c, &none);

	if (rc == 0 && done)
		*done = d;
	if (rc == 0 && copied)
		*copied = c;
	return rc;
}

/* The source of a copy: open (unless given) and check it. */
static int open_source(int *fd, int src_fd, const char *src_path,
		       const char *subject)
{
	struct stat st;

	*fd = src_fd >= 0 ? src_fd : open(src_path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT || errno == ENOTDIR ?
			ama_error_setp(AMA_ENOTFOUND, subject, "no such file") :
			ama_error_setp_errno(AMA_EIO, subject, "cannot open");
	if (fstat(*fd, &st) < 0)
		return ama_error_setp_errno(AMA_EIO, subject, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return ama_error_setp(AMA_ENOTREG, subject,
				      "not a regular file");
	return 0;
}

static int place_copy(const char *target, int src_fd, const char *src_path,
		      const struct ama_place_opts *o,
		      struct ama_place_result *out)
{
	struct ama_place_tmp t = AMA_PLACE_TMP_INIT;
	struct names nm = { src_path ? src_path : "(source)", target };
	int in = -1, rc;

	if (src_fd < 0 && !src_path)
		return ama_error_setp(AMA_EINVAL, target, "no source to copy");
	rc = open_source(&in, src_fd, src_path, nm.in);
	if (rc == 0)
		rc = ama_place_tmp_open(&t, target, o->mode);
	if (rc == 0)
		rc = copy_bytes(t.fd, in, o->how, &out->how, &out->size, &nm);
	if (rc == 0)
		rc = ama_place_tmp_commit(&t, o->flags, &out->st);
	else
		ama_place_tmp_abort(&t);
	if (in >= 0 && in != src_fd)
		close(in);
	return rc;
}

static int place_link(const char *target, const char *src_path,
		      const struct ama_place_opts *o,
		      struct ama_place_result *out)
{
	struct ama_buf tmp = AMA_BUF_INIT;
	struct stat src, now;
	int i, err = 0, rc = 0;

	if (!src_path)
		return ama_error_setp(AMA_EINVAL, target,
				      "a hard link needs a source path");
	if (lstat(src_path, &src) < 0)
		return errno == ENOENT || errno == ENOTDIR ?
			ama_error_setp(AMA_ENOTFOUND, src_path,
				       "no such file") :
			ama_error_setp_errno(AMA_EIO, src_path, "cannot stat");
	if (!S_ISREG(src.st_mode))
		return ama_error_setp(AMA_ENOTREG, src_path,
				      "not a regular file");
	/* one inode, one mode: read-only under both names, from the start */
	if ((src.st_mode & 0222) && chmod(src_path, src.st_mode & 07555) < 0)
		return ama_error_setp_errno(AMA_EIO, src_path,
					    "cannot make read-only");
	if (o->flags & AMA_PLACE_NOCLOBBER) {
		if (link(src_path, target) < 0)
			err = errno;
	} else {
		for (i = 0; i < NAME_TRIES; i++) {
			tmp_name(&tmp, target);
			err = link(src_path, tmp.s) < 0 ? errno : 0;
			if (err != EEXIST)
				break;
		}
	}
	if (err == EEXIST && (o->flags & AMA_PLACE_NOCLOBBER)) {
		rc = ama_error_setp(AMA_EEXIST, target, "exists already");
	} else if (err == ENOENT || err == ENOTDIR || err == EEXIST) {
		rc = tmp_failed(target, err);
	} else if (err) {
		errno = err;
		rc = ama_error_setp_errno(refused(err) || err == EMLINK ?
					  AMA_ESETUP : AMA_EIO, target,
					  "cannot hard-link");
	} else if (!(o->flags & AMA_PLACE_NOCLOBBER)) {
		/* already this very file: rename(2) would do nothing and
		 * leave the temporary name behind */
		if (lstat(target, &now) == 0 && now.st_ino == src.st_ino &&
		    now.st_dev == src.st_dev) {
			unlink(tmp.s);
		} else if (rename(tmp.s, target) < 0) {
			rc = ama_error_setp_errno(AMA_EIO, target,
						  "cannot rename into place");
			unlink(tmp.s);
		}
	}
	if (rc == 0 && lstat(target, &out->st) < 0)
		rc = ama_error_setp_errno(AMA_EIO, target, "cannot stat");
	if (rc == 0) {
		out->how = AMA_PLACE_HARDLINK;
		out->size = (uint64_t)out->st.st_size;
		if (o->flags & AMA_PLACE_FSYNC)
			rc = ama_fsync_parent(target);
	}
	ama_buf_release(&tmp);
	return rc;
}

int ama_place_file(const char *target, int src_fd, const char *src_path,
		   const struct ama_place_opts *o,
		   struct ama_place_result *out)
{
	static const struct ama_place_opts defaults = { AMA_PLACE_AUTO, 0, 0 };
	struct ama_place_result scratch;

	if (!o)
		o = &defaults;
	if (!out)
		out = &scratch;
	memset(out, 0, sizeof(*out));
	if (o->how == AMA_PLACE_HARDLINK)
		return place_link(target, src_path, o, out);
	return place_copy(target, src_fd, src_path, o, out);
}
