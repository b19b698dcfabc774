/* checkout.c: placing contents from the cache into the work tree, and removing files, with the index kept in step. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkout.h"
#include "error.h"
#include "place.h"
#include "verify.h"

struct ama_checkout {
	struct ama_checkout_opts o;
	int root;			/* the asset root, O_PATH-like */
	struct ama_buf dir;		/* the folder dirfd is open on */
	int dirfd;			/* -1: none cached */
	unsigned tmpn;
	struct ama_hasher h;
};

int ama_checkout_begin(struct ama_checkout **out,
		       const struct ama_checkout_opts *o)
{
	struct ama_checkout *co = ama_calloc(1, sizeof(*co));

	co->o = *o;
	co->dirfd = -1;
	co->root = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (co->root < 0) {
		free(co);
		*out = NULL;
		return ama_error_set_errno(AMA_EIO, "cannot open the work "
					   "tree");
	}
	ama_hasher_init(&co->h);
	*out = co;
	return 0;
}

static void forget_dir(struct ama_checkout *co)
{
	if (co->dirfd >= 0 && co->dirfd != co->root)
		close(co->dirfd);
	co->dirfd = -1;
	ama_buf_reset(&co->dir);
}

void ama_checkout_end(struct ama_checkout *co)
{
	if (!co)
		return;
	forget_dir(co);
	ama_buf_release(&co->dir);
	ama_hasher_release(&co->h);
	close(co->root);
	free(co);
}

/*
 * The folder holding path (its first len bytes, "" for the root), walked
 * from the root without following links; made when missing with create.
 * Returns a descriptor owned by co, or AMA_ENOTFOUND (missing, !create),
 * AMA_EEXIST ("PREFIX is not a folder": a file or a link there; *bad_len
 * gets the prefix's length), or AMA_EIO.
 */
static int open_dir(struct ama_checkout *co, const char *path, size_t len,
		    int create, size_t *bad_len)
{
	int fd = co->root, next;
	size_t at = 0;
	char part[256 * 4 + 1];

	if (co->dirfd >= 0 && co->dir.len == len &&
	    !memcmp(co->dir.s ? co->dir.s : "", path, len))
		return co->dirfd;
	forget_dir(co);
	while (at < len) {
		const char *slash = memchr(path + at, '/', len - at);
		size_t n = (slash ? (size_t)(slash - path) : len) - at;

		if (n >= sizeof(part)) {
			next = -1;
			errno = ENAMETOOLONG;
		} else {
			memcpy(part, path + at, n);
			part[n] = '\0';
			next = openat(fd, part, O_RDONLY | O_DIRECTORY |
				      O_NOFOLLOW | O_CLOEXEC);
			if (next < 0 && errno == ENOENT && create &&
			    (mkdirat(fd, part, 0777) == 0 || errno == EEXIST))
				next = openat(fd, part, O_RDONLY | O_DIRECTORY |
					      O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd != co->root)
			close(fd);
		if (next < 0) {
			int e = errno;
			struct ama_buf p = AMA_BUF_INIT;
			int rc;

			ama_buf_add(&p, path, at + n);
			if (e == ENOENT)
				rc = ama_error_setp(AMA_ENOTFOUND, p.s,
						    "no such folder");
			else if (e == ELOOP || e == ENOTDIR)
				rc = ama_error_setp(AMA_EEXIST, p.s,
						    "is not a folder (a file or "
						    "a symbolic link is there)");
			else
				rc = ama_error_setp(AMA_EIO, p.s, "cannot open "
						    "folder: %s", strerror(e));
			if (bad_len)
				*bad_len = at + n;
			ama_buf_release(&p);
			return rc;
		}
		fd = next;
		at += n + 1;
	}
	co->dirfd = fd;
	ama_buf_reset(&co->dir);
	ama_buf_add(&co->dir, path, len);
	return fd;
}

/* The kind of object a stat record is, or -1 for neither. */
static int kind_of(mode_t mode)
{
	return S_ISREG(mode) ? (int)AMA_OBJECT_FILE :
		S_ISLNK(mode) ? (int)AMA_OBJECT_LINK : -1;
}

/* MD5 of the link leaf in dirfd (its target's bytes). */
static int hash_link_at(int dirfd, const char *leaf, const char *path,
			struct ama_md5 *out, struct ama_stat *st)
{
	char target[AMA_LINK_MAX + 2];
	struct stat sb;
	ssize_t n = readlinkat(dirfd, leaf, target, sizeof(target));

	if (n < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot read the "
					    "link");
	if ((size_t)n > AMA_LINK_MAX)
		return ama_error_setp(AMA_EINVAL, path, "a link of more than "
				      "%u bytes", AMA_LINK_MAX);
	if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot stat");
	ama_md5_buffer(out, target, (size_t)n);
	ama_stat_from(st, &sb);
	return 0;
}

/* MD5 of the file or link leaf in dirfd, and its stat record then. */
static int hash_at(struct ama_checkout *co, int dirfd, const char *leaf,
		   const char *path, struct ama_md5 *out, struct ama_stat *st)
{
	struct stat before, after;
	int fd, rc = 0;

	if (fstatat(dirfd, leaf, &before, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(before.st_mode))
		return hash_link_at(dirfd, leaf, path, out, st);
	fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot open");
	if (fstat(fd, &before) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, path, "cannot stat");
		goto out;
	}
	ama_hasher_start(&co->h);
	for (;;) {
		ssize_t n = read(fd, co->h.buf, co->h.bufsize);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ama_error_setp_errno(AMA_EIO, path, "cannot read");
			goto out;
		}
		if (n == 0)
			break;
		ama_hasher_update(&co->h, co->h.buf, (size_t)n);
	}
	ama_hasher_finish(&co->h, out);
	if (fstat(fd, &after) < 0 || after.st_size != before.st_size ||
	    after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
	    after.st_mtim.tv_sec != before.st_mtim.tv_sec)
		rc = ama_error_setp(AMA_ECHANGED, path, "changed while hashing");
	else
		ama_stat_from(st, &after);
out:
	close(fd);
	return rc;
}

/* Does the file (now: cur) hold the entry's content? 1, 0 or an error. */
static int holds(struct ama_checkout *co, int dirfd, const char *leaf,
		 const char *path, const struct ama_index_entry *e,
		 const struct ama_stat *cur, struct ama_md5 *md5, int *hashed)
{
	int rc;

	if (kind_of(cur->mode) != kind_of(e->st.mode) ||
	    cur->size != e->st.size)
		return 0;
	if (ama_verify_stat_matches(&e->st, cur) &&
	    !ama_index_entry_is_racy(co->o.idx, e))
		return 1;
	if (!*hashed) {
		struct ama_stat st;

		rc = hash_at(co, dirfd, leaf, path, md5, &st);
		if (rc < 0)
			return rc;
		*hashed = 1;
	}
	return ama_md5_equal(md5, &e->md5);
}

static void record(struct ama_checkout *co, const struct ama_object *o,
		   const struct stat *sb)
{
	struct ama_index_entry e;

	memset(&e, 0, sizeof(e));
	e.md5 = o->md5;
	ama_stat_from(&e.st, sb);
	e.path = o->path;
	e.path_len = (uint32_t)o->path_len;
	e.state = (uint8_t)co->o.state;
	ama_index_add(co->o.idx, &e);
}

/* The target of link o, from the cache, into target (NUL-terminated). */
static int link_target(struct ama_checkout *co, const struct ama_object *o,
		       char *target)
{
	size_t got = 0;
	int src = ama_cache_open_content(co->o.cache, &o->md5, o->size);

	if (src < 0)
		return ama_error_setp(src, o->path, "%s", ama_error_msg());
	while (got < o->size) {
		ssize_t n = read(src, target + got, o->size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(src);
			return ama_error_setp_errno(AMA_EIO, o->path, "cannot "
						    "read its target from the "
						    "cache");
		}
		got += (size_t)n;
	}
	close(src);
	target[got] = '\0';
	if (strlen(target) != got || !got)
		return ama_error_setp(AMA_EINVAL, o->path, "a link target "
				      "cannot be empty or hold a NUL byte");
	return 0;
}

/*
 * Does a link at path with this target point outside the work tree (an
 * absolute target, or one that climbs above the root)?
 */
static int external(const char *path, const char *target)
{
	int depth = 0;
	const char *p = path, *s;

	if (target[0] == '/')
		return 1;
	while ((s = strchr(p, '/'))) {	/* the link's folder */
		depth++;
		p = s + 1;
	}
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			depth--;
		else if (n && !(n == 1 && p[0] == '.'))
			depth++;
		if (depth < 0)
			return 1;
		p += n + (p[n] == '/');
	}
	return 0;
}

/*
 * A file in dirfd with no name yet (O_TMPFILE), for the bytes of a
 * content: a process killed while it copies them leaves nothing in the
 * work tree. Once whole it is linked under its own name when that is
 * free (a new file: nothing ever holds a temporary name), else under its
 * temporary name, a moment before the rename over the old file. -1
 * where the filesystem or the kernel has no such files.
 */
static int open_unnamed(int dirfd)
{
#ifdef O_TMPFILE
	return openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
	(void)dirfd;
	return -1;
#endif
}

/* Give the unnamed file fd the name tmp in dirfd. 0, or -1. */
static int name_unnamed(int fd, int dirfd, const char *tmp)
{
	char proc[64];

	if (linkat(fd, "", dirfd, tmp, AT_EMPTY_PATH) == 0)
		return 0;
	/* AT_EMPTY_PATH wants a capability most users lack */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW);
}

static int copy(int fd, int src, const struct ama_object *o)
{
	int rc = ama_place_copy_fd(fd, src, AMA_PLACE_AUTO, NULL, NULL);

	return rc < 0 ? ama_error_setp(rc, o->path, "%s", ama_error_msg()) :
		0;
}

/*
 * Write o's content at leaf in dirfd, through a temporary name (given
 * only to a whole file where the system allows: see open_unnamed).
 */
static int write_at(struct ama_checkout *co, int dirfd, const char *leaf,
		    const struct ama_object *o)
{
	char tmp[64], target[AMA_LINK_MAX + 1];
	struct stat sb;
	int src = -1, fd = -1, rc = 0, in_place = 0;

	snprintf(tmp, sizeof(tmp), "%s%ld-%u", AMA_PLACE_TMP_PREFIX,
		 (long)getpid(), co->tmpn++);
	if (o->kind == AMA_OBJECT_LINK) {
		rc = link_target(co, o, target);
		if (rc == 0 && co->o.no_external_links &&
		    external(o->path, target))
			return ama_error_setp(AMA_EINVAL, o->path, "a link out "
					      "of the work tree (to %s): not "
					      "made (--no-external-links)",
					      ama_quote_for_message(target));
		if (rc == 0 && symlinkat(target, dirfd, tmp) < 0)
			rc = ama_error_setp_errno(AMA_EIO, o->path, "cannot "
						  "make the link");
		if (rc < 0)
			return rc;
	} else if (co->o.hard_link) {
		struct ama_buf cached = AMA_BUF_INIT;

		ama_cache_path(co->o.cache, &cached, &o->md5);
		src = ama_cache_open_content(co->o.cache, &o->md5, o->size);
		/* under its own name at once when that is free, as below */
		if (src >= 0 && linkat(AT_FDCWD, cached.s, dirfd, leaf, 0) == 0)
			in_place = 1;
		else if (src >= 0 && (errno != EEXIST ||
			 linkat(AT_FDCWD, cached.s, dirfd, tmp, 0) < 0))
			rc = ama_error_setp_errno(AMA_EIO, o->path,
						  "cannot link to the cache");
		ama_buf_release(&cached);
		if (src < 0)
			return src;
	} else {
		src = ama_cache_open_content(co->o.cache, &o->md5, o->size);
		if (src < 0)
			return ama_error_setp(src, o->path, "%s",
					      ama_error_msg());
		fd = open_unnamed(dirfd);
		if (fd >= 0) {
			rc = copy(fd, src, o);
			/* a new file goes in under its name at once */
			if (rc == 0 && name_unnamed(fd, dirfd, leaf) == 0)
				in_place = 1;
			else if (rc == 0 && (errno != EEXIST ||
				 name_unnamed(fd, dirfd, tmp) < 0)) {
				close(fd);	/* the named way, below */
				fd = -1;
			}
		}
		if (fd < 0 && rc == 0) {
			fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
				    O_NOFOLLOW | O_CLOEXEC, 0666);
			if (fd < 0)
				rc = ama_error_setp_errno(AMA_EIO, o->path,
							  "cannot create");
			if (rc == 0)
				rc = copy(fd, src, o);
		}
	}
	if (rc == 0 && !in_place && renameat(dirfd, tmp, dirfd, leaf) < 0)
		rc = ama_error_setp_errno(AMA_EIO, o->path, "cannot rename "
					  "into place");
	if (rc == 0 && (fd >= 0 ? fstat(fd, &sb) :
			fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW)) < 0)
		rc = ama_error_setp_errno(AMA_EIO, o->path, "cannot stat");
	if (rc < 0 && !in_place)
		unlinkat(dirfd, tmp, 0);
	else if (rc == 0)
		record(co, o, &sb);
	if (fd >= 0)
		close(fd);
	if (src >= 0)
		close(src);
	return rc;
}

static int not_cached(const struct ama_object *o)
{
	return ama_error_setp(AMA_ENOTFOUND, o->path, "not in the cache");
}

int ama_checkout_place(struct ama_checkout *co, const struct ama_object *o)
{
	const char *slash = strrchr(o->path, '/');
	size_t plen = slash ? (size_t)(slash - o->path) : 0, bad;
	const char *leaf = slash ? slash + 1 : o->path;
	struct ama_index_entry *e;
	struct ama_stat cur;
	struct ama_md5 md5;
	struct stat sb;
	int dirfd, rc, hashed = 0;

	rc = ama_object_check_path(o->path, o->path_len);
	if (rc < 0)
		return rc;
	dirfd = open_dir(co, o->path, plen, 0, &bad);
	if (dirfd == AMA_EEXIST && co->o.force &&
	    !ama_cache_has(co->o.cache, &o->md5, o->size))
		return not_cached(o);
	if (dirfd == AMA_EEXIST && co->o.force) {
		/* a file or link where a folder goes: force removes it */
		struct ama_buf p = AMA_BUF_INIT;

		ama_buf_add(&p, o->path, bad);
		if (unlinkat(co->root, p.s, 0) == 0) {
			ama_error_clear();
			ama_index_remove(co->o.idx, p.s, p.len);
			dirfd = AMA_ENOTFOUND;
		}
		ama_buf_release(&p);
	}
	if (dirfd == AMA_ENOTFOUND) {
		ama_error_clear();
		goto place;
	}
	if (dirfd < 0)
		return dirfd;
	e = ama_index_find(co->o.idx, o->path, o->path_len);
	if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			goto place;
		return ama_error_setp_errno(AMA_EIO, o->path, "cannot stat");
	}
	if (S_ISDIR(sb.st_mode))
		return ama_error_setp(AMA_EEXIST, o->path, "a folder is in the "
				      "way");
	ama_stat_from(&cur, &sb);
	/* its content already? by the entry's record, else by hashing */
	if (e && ama_md5_equal(&e->md5, &o->md5) && e->st.size == o->size &&
	    kind_of(e->st.mode) == (int)o->kind) {
		rc = holds(co, dirfd, leaf, o->path, e, &cur, &md5, &hashed);
		if (rc < 0)
			return rc;
		if (rc && hashed) {
			/* its stat record changed: the entry takes the new */
			if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				return ama_error_setp_errno(AMA_EIO, o->path,
							    "cannot stat");
			record(co, o, &sb);
			return AMA_CHECKOUT_KEPT;
		}
		if (rc) {
			if (e->state != co->o.state)
				e->state = (uint8_t)co->o.state;
			return AMA_CHECKOUT_KEPT;
		}
	}
	if (kind_of(sb.st_mode) == (int)o->kind && cur.size == o->size) {
		struct ama_stat st;

		if (!hashed) {
			rc = hash_at(co, dirfd, leaf, o->path, &md5, &st);
			if (rc < 0)
				return rc;
			hashed = 1;
			cur = st;
		}
		if (ama_md5_equal(&md5, &o->md5)) {
			struct stat now;

			if (fstatat(dirfd, leaf, &now, AT_SYMLINK_NOFOLLOW) < 0)
				return ama_error_setp_errno(AMA_EIO, o->path,
							    "cannot stat");
			record(co, o, &now);
			return AMA_CHECKOUT_KEPT;
		}
	}
	if (!co->o.force) {
		if (!e)
			return ama_error_setp(AMA_EEXIST, o->path, "not tracked "
					      "by ama; move it away, or --force"
					      " overwrites it");
		rc = holds(co, dirfd, leaf, o->path, e, &cur, &md5, &hashed);
		if (rc < 0)
			return rc;
		if (!rc)
			return ama_error_setp(AMA_EMODIFIED, o->path,
					      "modified since it was added; 'ama"
					      " add' keeps it, --force discards"
					      " it");
	}
place:
	/* nothing is made (folders, a temporary file) for what cannot be */
	if (!ama_cache_has(co->o.cache, &o->md5, o->size))
		return not_cached(o);
	dirfd = open_dir(co, o->path, plen, 1, NULL);
	if (dirfd < 0)
		return dirfd;
	rc = write_at(co, dirfd, leaf, o);
	return rc < 0 ? rc : AMA_CHECKOUT_PLACED;
}

/* Remove the folders of path that are left empty, deepest first. */
static void prune_dirs(struct ama_checkout *co, const char *path, size_t len)
{
	struct ama_buf p = AMA_BUF_INIT;

	forget_dir(co);
	ama_buf_add(&p, path, len);
	while (p.len) {
		char *slash = strrchr(p.s, '/');

		if (!slash)
			break;
		ama_buf_truncate(&p, (size_t)(slash - p.s));
		if (unlinkat(co->root, p.s, AT_REMOVEDIR) < 0)
			break;
	}
	ama_buf_release(&p);
}

int ama_checkout_remove(struct ama_checkout *co, const char *path,
			size_t len)
{
	const char *slash = memrchr(path, '/', len);
	size_t plen = slash ? (size_t)(slash - path) : 0;
	const char *leaf = slash ? slash + 1 : path;
	struct ama_index_entry *e = ama_index_find(co->o.idx, path, len);
	struct ama_stat cur;
	struct ama_md5 md5;
	struct stat sb;
	int dirfd, rc, hashed = 0;

	rc = ama_object_check_path(path, len);
	if (rc < 0)
		return rc;
	dirfd = open_dir(co, path, plen, 0, NULL);
	if (dirfd == AMA_ENOTFOUND || dirfd == AMA_EEXIST) {
		ama_error_clear();
		goto gone;
	}
	if (dirfd < 0)
		return dirfd;
	if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			goto gone;
		return ama_error_setp_errno(AMA_EIO, path, "cannot stat");
	}
	/*
	 * A folder in place of the file: the file is gone (a switch killed
	 * after it made the folder of a version where the file became one);
	 * the folder and what it holds are not the file's to remove.
	 */
	if (S_ISDIR(sb.st_mode))
		goto gone;
	ama_stat_from(&cur, &sb);
	if (!co->o.force) {
		if (!e)
			return ama_error_setp(AMA_EEXIST, path, "not tracked by "
					      "ama; move it away, or --force "
					      "removes it");
		rc = holds(co, dirfd, leaf, path, e, &cur, &md5, &hashed);
		if (rc < 0)
			return rc;
		if (!rc)
			return ama_error_setp(AMA_EMODIFIED, path, "modified "
					      "since it was added; 'ama add' "
					      "keeps it, --force discards it");
	}
	if (unlinkat(dirfd, leaf, 0) < 0 && errno != ENOENT)
		return ama_error_setp_errno(AMA_EIO, path, "cannot remove");
	if (e)
		ama_index_remove(co->o.idx, path, len);
	prune_dirs(co, path, len);
	return AMA_CHECKOUT_REMOVED;
gone:
	if (e)
		ama_index_remove(co->o.idx, path, len);
	return AMA_CHECKOUT_GONE;
}
