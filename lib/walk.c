/* walk.c: walking folders of an asset in index order, with .amaignore and explicit paths. */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "ignore.h"
#include "walk.h"

/* One entry of a folder being walked; its name is at names.s + off. */
struct ent {
	size_t off, len;
	uint32_t mode;		/* type bits; 0 when lstat failed */
	int err;		/* errno of that failed lstat */
};

/* The entries of one folder; one per depth, reused. */
struct level {
	struct ent *e;
	size_t n, alloc;
	struct ama_buf names;
};

/* A path the caller named, lstat-ed before the walk. */
struct start {
	const char *path;
	size_t len;
	uint32_t mode;		/* 0 when it could not be taken */
	struct ama_stat st;
	int code;		/* AMA_E* when mode is 0 */
	char *msg;		/* the error, or NULL */
	const char *skip;	/* a reason to skip it, or NULL */
};

struct walker {
	unsigned flags;
	ama_walk_fn fn;
	void *ctx;
	struct ama_ignore *ig;
	struct ama_buf path;	/* the entry at hand, or "dir/" */
	struct level **levels;
	size_t nlevels;
	struct start *starts;
	size_t nstarts;
	int errors;
	int stop;		/* a negative code from fn, or 0 */
};

/*
 * Compare a and b as if a folder's path ended with '/': the order of the
 * full paths of what lies inside them. (The root, "", is a folder that
 * sorts first: the caller passes its dir flag as 0.)
 */
static int keycmp(const char *a, size_t alen, int adir, const char *b,
		  size_t blen, int bdir)
{
	size_t m = alen < blen ? alen : blen;
	size_t ka = alen + !!adir, kb = blen + !!bdir, i;
	int c = memcmp(a, b, m);

	if (c)
		return c;
	for (i = m; i < ka && i < kb; i++) {
		unsigned char ca = i < alen ? (unsigned char)a[i] : '/';
		unsigned char cb = i < blen ? (unsigned char)b[i] : '/';

		if (ca != cb)
			return (int)ca - (int)cb;
	}
	return (ka > kb) - (ka < kb);
}

static int ent_cmp(const void *pa, const void *pb, void *names)
{
	const struct ent *a = pa, *b = pb;
	const char *s = names;

	return keycmp(s + a->off, a->len, S_ISDIR(a->mode), s + b->off,
		      b->len, S_ISDIR(b->mode));
}

static int start_cmp(const void *pa, const void *pb)
{
	const struct start *a = pa, *b = pb;

	return keycmp(a->path, a->len, S_ISDIR(a->mode) && a->len, b->path,
		      b->len, S_ISDIR(b->mode) && b->len);
}

static int path_cmp(const void *pa, const void *pb)
{
	const struct start *a = pa, *b = pb;

	return strcmp(a->path, b->path);
}

/* Is child below the folder whose path is dir (len bytes; "" the root)? */
static int is_below(const char *dir, size_t len, const struct start *child)
{
	if (!len)
		return child->len > 0;
	return child->len > len && child->path[len] == '/' &&
		!memcmp(child->path, dir, len);
}

static int emit(struct walker *w, struct ama_walk_entry *e)
{
	int rc;

	if (e->event == AMA_WALK_ERROR) {
		w->errors++;
		e->code = ama_error_code();
		e->reason = ama_error_msg();
	}
	rc = w->fn(e, w->ctx);
	if (rc < 0)
		w->stop = rc;
	return rc;
}

/* Report the last error, about path. */
static int emit_error(struct walker *w, const char *path, int explicit_path)
{
	struct ama_walk_entry e = { 0 };

	e.event = AMA_WALK_ERROR;
	e.path = path;
	e.len = strlen(path);
	e.explicit_path = explicit_path;
	return emit(w, &e);
}

static int emit_skip(struct walker *w, const char *path, size_t len,
		     uint32_t mode, const char *reason, int explicit_path)
{
	struct ama_walk_entry e = { 0 };

	e.event = AMA_WALK_SKIPPED;
	e.path = path;
	e.len = len;
	e.mode = mode;
	e.reason = reason;
	e.explicit_path = explicit_path;
	return emit(w, &e);
}

/* A symbolic link, yielded as a file of its own kind (AMA_WALK_LINKS). */
static int emit_link(struct walker *w, const char *path, size_t len,
		     int explicit_path)
{
	struct ama_walk_entry e = { 0 };
	struct ama_stat now;

	e.event = AMA_WALK_FILE;
	e.path = path;
	e.len = len;
	e.mode = S_IFLNK;
	e.explicit_path = explicit_path;
	if (w->flags & AMA_WALK_STAT) {
		int rc = ama_stat_path(&now, path);

		if (rc == AMA_ENOTFOUND)
			return 0;	/* gone since the listing */
		if (rc < 0)
			return emit_error(w, path, explicit_path);
		if (!S_ISLNK(now.mode))
			return 0;	/* replaced since: the next walk sees it */
		e.st = &now;
		e.mode = now.mode;
	}
	return emit(w, &e);
}

static int emit_type_skip(struct walker *w, const char *path, size_t len,
			  uint32_t mode, int explicit_path)
{
	char reason[64];

	if (S_ISLNK(mode) && (w->flags & AMA_WALK_LINKS))
		return emit_link(w, path, len, explicit_path);
	if (S_ISLNK(mode))
		return emit_skip(w, path, len, mode,
				 "symbolic link not followed", explicit_path);
	snprintf(reason, sizeof(reason), "not a regular file: %s",
		 ama_stat_type_name(mode));
	return emit_skip(w, path, len, mode, reason, explicit_path);
}

/* A regular file; st is its lstat record if already taken. */
static int emit_file(struct walker *w, const char *path, size_t len,
		     const struct ama_stat *st, int explicit_path)
{
	struct ama_walk_entry e = { 0 };
	struct ama_stat now;

	e.event = AMA_WALK_FILE;
	e.path = path;
	e.len = len;
	e.mode = S_IFREG;
	e.explicit_path = explicit_path;
	if (w->flags & AMA_WALK_STAT) {
		if (!st) {
			int rc = ama_stat_path(&now, path);

			if (rc == AMA_ENOTFOUND)
				return 0;	/* gone since the listing */
			if (rc < 0)
				return emit_error(w, path, explicit_path);
			if (!S_ISREG(now.mode))
				return emit_type_skip(w, path, len,
						      now.mode & S_IFMT,
						      explicit_path);
			st = &now;
		}
		e.st = st;
		e.mode = st->mode;
	}
	return emit(w, &e);
}

/* Ask about a folder before entering it: 1 to enter, 0 not to. */
static int enter_dir(struct walker *w, const char *path, size_t len,
		     int explicit_path)
{
	struct ama_walk_entry e = { 0 };
	int rc;

	if (!(w->flags & AMA_WALK_DIRS))
		return 1;
	e.event = AMA_WALK_DIR;
	e.path = path;
	e.len = len;
	e.mode = S_IFDIR;
	e.explicit_path = explicit_path;
	rc = emit(w, &e);
	return rc == 0;
}

static struct level *get_level(struct walker *w, size_t depth)
{
	if (depth >= w->nlevels) {
		size_t n = w->nlevels ? 2 * w->nlevels : 16;

		while (n <= depth)
			n *= 2;
		w->levels = ama_realloc(w->levels, n * sizeof(*w->levels));
		memset(w->levels + w->nlevels, 0,
		       (n - w->nlevels) * sizeof(*w->levels));
		w->nlevels = n;
	}
	if (!w->levels[depth])
		w->levels[depth] = ama_calloc(1, sizeof(struct level));
	w->levels[depth]->n = 0;
	ama_buf_reset(&w->levels[depth]->names);
	return w->levels[depth];
}

/* Push the .amaignore of the folder dir ("" or "a/b/"). 0, or -1 reported. */
static int load_ignore(struct walker *w, const char *dir, size_t len)
{
	struct ama_buf base = AMA_BUF_INIT, file = AMA_BUF_INIT;
	int rc;

	ama_buf_add(&base, dir, len);
	ama_buf_addf(&file, "%s.amaignore", ama_buf_str(&base));
	rc = ama_ignore_add_file(w->ig, ama_buf_str(&base), file.s);
	if (rc < 0)
		emit_error(w, file.s, 0);
	ama_buf_release(&base);
	ama_buf_release(&file);
	return rc < 0 ? -1 : 0;
}

static void process_starts(struct walker *w, size_t lo, size_t hi,
			   size_t loaded, size_t depth);

/* Report errno about the folder in w->path ("" or "dir/"; "." the root). */
static void folder_error(struct walker *w, const char *what)
{
	size_t dirlen = w->path.len;

	ama_buf_truncate(&w->path, dirlen ? dirlen - 1 : 0);
	ama_error_setp_errno(AMA_EIO, dirlen ? w->path.s : ".", "%s", what);
	emit_error(w, ama_buf_str(&w->path), 0);
	if (dirlen)
		ama_buf_addch(&w->path, '/');
}

/*
 * Read the folder in w->path ("" or "dir/") into a level. Returns 1 if it
 * is to be walked, 0 if not (gone, reported, another asset).
 */
static int read_folder(struct walker *w, struct level *lv, int *has_ignore)
{
	size_t dirlen = w->path.len;
	int nested = 0, rc = 1;
	struct dirent *de;
	DIR *d = opendir(dirlen ? w->path.s : ".");

	*has_ignore = 0;
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		folder_error(w, "cannot open folder");
		return 0;
	}
	for (;;) {
		const char *name;
		struct ent *e;
		size_t len;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		name = de->d_name;
		if (name[0] == '.' && (!name[1] ||
				       (name[1] == '.' && !name[2])))
			continue;
		if (!dirlen && !strcmp(name, ".ama"))
			continue;	/* ama's own folder */
		if (lv->n == lv->alloc) {
			lv->alloc = lv->alloc ? 2 * lv->alloc : 64;
			lv->e = ama_realloc(lv->e, lv->alloc * sizeof(*lv->e));
		}
		e = &lv->e[lv->n];
		len = strlen(name);
		e->off = lv->names.len;
		e->len = len;
		e->err = 0;
		e->mode = de->d_type == DT_UNKNOWN ? 0 : DTTOIF(de->d_type);
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), name, &st,
				    AT_SYMLINK_NOFOLLOW) == 0)
				e->mode = st.st_mode & S_IFMT;
			else if (errno == ENOENT)
				continue;	/* gone already */
			else
				e->err = errno;
		}
		if (S_ISDIR(e->mode) && !strcmp(name, ".ama"))
			nested = 1;
		if (S_ISREG(e->mode) && !strcmp(name, ".amaignore"))
			*has_ignore = 1;
		ama_buf_add(&lv->names, name, len + 1);
		lv->n++;
	}
	if (errno) {
		folder_error(w, "cannot read folder");
		rc = 0;
	} else if (nested && dirlen) {
		ama_buf_truncate(&w->path, dirlen - 1);
		emit_skip(w, w->path.s, dirlen - 1, S_IFDIR,
			  "another ama asset", 0);
		ama_buf_addch(&w->path, '/');
		rc = 0;
	}
	closedir(d);
	return rc;
}

/* The length of the prefix of dir's parent ("a/b/": 2); SIZE_MAX for "". */
static size_t parent_prefix(const char *dir, size_t len)
{
	const char *slash;

	if (!len)
		return SIZE_MAX;
	slash = len > 1 ? memrchr(dir, '/', len - 1) : NULL;
	return slash ? (size_t)(slash - dir) + 1 : 0;
}

/*
 * Walk the folder in w->path ("" for the root, else "dir/"), whose
 * .amaignore is not loaded yet, at depth. starts[lo, hi) are the named
 * paths below it, in order.
 */
static void walk_dir(struct walker *w, size_t depth, size_t lo, size_t hi)
{
	struct level *lv = get_level(w, depth);
	struct ama_ignore_mark mark = ama_ignore_mark(w->ig);
	size_t dirlen = w->path.len, c = lo, i;
	int has_ignore;

	if (!read_folder(w, lv, &has_ignore) ||
	    (has_ignore && load_ignore(w, ama_buf_str(&w->path), dirlen) < 0)) {
		/*
		 * This folder's .amaignore is not on the stack: a folder named
		 * inside it tries to read it again, and is not walked if it
		 * cannot be read.
		 */
		process_starts(w, lo, hi, parent_prefix(w->path.s, dirlen),
			       depth + 1);
		ama_ignore_pop(w->ig, mark);
		return;
	}
	if (lv->n > 1)
		qsort_r(lv->e, lv->n, sizeof(*lv->e), ent_cmp, lv->names.s);
	for (i = 0; i < lv->n && !w->stop; i++) {
		const struct ent *e = &lv->e[i];
		const char *name = lv->names.s + e->off;
		int is_dir = S_ISDIR(e->mode), explicit_path = 0;
		size_t d, sub_lo, len;

		/* named paths that sort before this entry: not on disk */
		for (d = c; d < hi; d++) {
			const struct start *s = &w->starts[d];

			if (keycmp(s->path + dirlen, s->len - dirlen,
				   S_ISDIR(s->mode), name, e->len,
				   is_dir) >= 0)
				break;
		}
		if (d > c) {
			process_starts(w, c, d, dirlen, depth + 1);
			c = d;
			if (w->stop)
				break;
		}
		ama_buf_truncate(&w->path, dirlen);
		ama_buf_add(&w->path, name, e->len);
		len = w->path.len;
		if (c < hi && w->starts[c].len == len &&
		    !memcmp(w->starts[c].path + dirlen, name, e->len)) {
			explicit_path = 1;
			c++;
		}
		sub_lo = c;
		while (is_dir && c < hi && is_below(w->path.s, len,
						     &w->starts[c]))
			c++;
		if (!explicit_path &&
		    ama_ignore_match(w->ig, w->path.s, len, is_dir) ==
		    AMA_IGNORE_EXCLUDED) {
			/* not entered, but what was named inside is taken */
			if (sub_lo < c)
				process_starts(w, sub_lo, c, dirlen, depth + 1);
			continue;
		}
		if (e->err) {
			errno = e->err;
			ama_error_setp_errno(AMA_EIO, w->path.s, "cannot stat");
			emit_error(w, w->path.s, explicit_path);
		} else if (S_ISREG(e->mode)) {
			emit_file(w, w->path.s, len, NULL, explicit_path);
		} else if (is_dir) {
			if (enter_dir(w, w->path.s, len, explicit_path)) {
				ama_buf_addch(&w->path, '/');
				walk_dir(w, depth + 1, sub_lo, c);
			} else if (sub_lo < c && !w->stop) {
				process_starts(w, sub_lo, c, dirlen,
					       depth + 1);
			}
		} else {
			emit_type_skip(w, w->path.s, len, e->mode,
				       explicit_path);
		}
	}
	if (c < hi && !w->stop)
		process_starts(w, c, hi, dirlen, depth + 1);
	ama_buf_truncate(&w->path, dirlen);
	ama_ignore_pop(w->ig, mark);
}

/*
 * Push the .amaignore files of the folders above s that are not loaded:
 * those longer than loaded bytes ("" is 0; SIZE_MAX: none is loaded).
 */
static int load_ancestors(struct walker *w, const struct start *s,
			  size_t loaded)
{
	size_t i;

	if (loaded == SIZE_MAX && load_ignore(w, "", 0) < 0)
		return -1;
	for (i = 0; i < s->len; i++)
		if (s->path[i] == '/' && (loaded == SIZE_MAX || i + 1 > loaded)
		    && load_ignore(w, s->path, i + 1) < 0)
			return -1;
	return 0;
}

/*
 * Take the named paths starts[lo, hi) in order, each with the paths named
 * inside it. loaded: as for load_ancestors(); depth: the first free level.
 */
static void process_starts(struct walker *w, size_t lo, size_t hi,
			   size_t loaded, size_t depth)
{
	size_t i = lo, j;

	while (i < hi && !w->stop) {
		const struct start *s = &w->starts[i];

		for (j = i + 1; S_ISDIR(s->mode) && j < hi &&
			     is_below(s->path, s->len, &w->starts[j]); j++)
			;
		if (s->skip) {
			emit_skip(w, s->path, s->len, s->mode, s->skip, 1);
		} else if (!s->mode) {
			ama_error_setp(s->code, s->path, "%s", s->msg);
			emit_error(w, s->path, 1);
		} else if (S_ISREG(s->mode)) {
			emit_file(w, s->path, s->len, &s->st, 1);
		} else if (S_ISDIR(s->mode)) {
			struct ama_ignore_mark mark = ama_ignore_mark(w->ig);

			if (load_ancestors(w, s, loaded) == 0) {
				ama_buf_reset(&w->path);
				ama_buf_add(&w->path, s->path, s->len);
				if (enter_dir(w, s->path, s->len, 1)) {
					if (s->len)
						ama_buf_addch(&w->path, '/');
					walk_dir(w, depth, i + 1, j);
				} else if (!w->stop && i + 1 < j) {
					/* not entered: only what is named */
					process_starts(w, i + 1, j, s->len ?
						       parent_prefix(s->path,
							s->len + 1) : loaded,
						       depth);
				}
			}
			ama_ignore_pop(w->ig, mark);
		} else {
			emit_type_skip(w, s->path, s->len, s->mode, 1);
		}
		i = j;
	}
	/* give back the folder prefix a walk_dir() caller is using */
	if (loaded != SIZE_MAX && lo < hi) {
		ama_buf_reset(&w->path);
		ama_buf_add(&w->path, w->starts[lo].path, loaded);
	}
}

/*
 * lstat the named path, after checking that no folder on its way is a
 * symbolic link; checked is the longest folder prefix ("a/b/") known good.
 */
static void take_start(struct start *s, struct ama_buf *checked)
{
	size_t i, keep = 0;
	int rc;

	for (i = 0; i < checked->len && i < s->len &&
		     checked->s[i] == s->path[i]; i++)
		if (checked->s[i] == '/')
			keep = i + 1;
	ama_buf_truncate(checked, keep);
	for (i = keep; i < s->len; i++) {
		if (s->path[i] != '/')
			continue;
		ama_buf_add(checked, s->path + checked->len,
			    i - checked->len);
		rc = ama_stat_path(&s->st, checked->s);
		if (rc == 0 && S_ISLNK(s->st.mode)) {
			s->mode = S_IFLNK;
			s->skip = "beyond a symbolic link";
			ama_buf_truncate(checked, keep);
			return;
		}
		if (rc == 0 && !S_ISDIR(s->st.mode))
			break;	/* the lstat below says "no such file" */
		if (rc < 0 && rc != AMA_ENOTFOUND) {
			s->code = rc;
			s->msg = ama_strdup(ama_error_msg());
			ama_buf_truncate(checked, keep);
			return;
		}
		if (rc < 0)
			break;
		ama_buf_addch(checked, '/');
		keep = checked->len;
	}
	ama_buf_truncate(checked, keep);
	rc = ama_stat_path(&s->st, s->len ? s->path : ".");
	if (rc < 0) {
		s->code = rc;
		s->msg = ama_strdup(ama_error_msg());
		return;
	}
	s->mode = s->st.mode & S_IFMT;
}

static int is_in_dotama(const char *path)
{
	return !strncmp(path, ".ama", 4) && (!path[4] || path[4] == '/');
}

int ama_walk(const char *const *paths, size_t n, unsigned flags,
	     ama_walk_fn fn, void *ctx)
{
	struct walker w = { 0 };
	struct ama_buf checked = AMA_BUF_INIT;
	size_t i, m = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (paths[i][0] && !ama_path_is_clean(paths[i]))
			return ama_error_setp(AMA_EINVAL, paths[i],
				"not a clean path relative to the asset root");
		if (is_in_dotama(paths[i]))
			return ama_error_setp(AMA_EINVAL, paths[i],
				"inside .ama, which ama manages");
	}
	w.flags = flags;
	w.fn = fn;
	w.ctx = ctx;
	w.ig = ama_ignore_new();
	w.starts = ama_calloc(n, sizeof(*w.starts));
	for (i = 0; i < n; i++) {
		w.starts[i].path = paths[i];
		w.starts[i].len = strlen(paths[i]);
	}
	/* the same path twice is taken once */
	qsort(w.starts, n, sizeof(*w.starts), path_cmp);
	for (i = 0; i < n; i++)
		if (!m || strcmp(w.starts[m - 1].path, w.starts[i].path))
			w.starts[m++] = w.starts[i];
	w.nstarts = m;
	for (i = 0; i < m; i++)
		take_start(&w.starts[i], &checked);
	qsort(w.starts, m, sizeof(*w.starts), start_cmp);
	process_starts(&w, 0, m, SIZE_MAX, 0);
	rc = w.stop ? w.stop : w.errors;
	for (i = 0; i < m; i++)
		free(w.starts[i].msg);
	free(w.starts);
	for (i = 0; i < w.nlevels; i++) {
		if (!w.levels[i])
			continue;
		free(w.levels[i]->e);
		ama_buf_release(&w.levels[i]->names);
		free(w.levels[i]);
	}
	free(w.levels);
	ama_buf_release(&w.path);
	ama_buf_release(&checked);
	ama_ignore_free(w.ig);
	return rc;
}

struct untracked {
	const char *const *tracked;
	size_t n, next;
	ama_walk_fn fn;
	void *ctx;
};

static int untracked_one(const struct ama_walk_entry *e, void *ctx)
{
	struct untracked *u = ctx;

	if (e->event == AMA_WALK_FILE) {
		int c = 1;

		while (u->next < u->n &&
		       (c = strcmp(u->tracked[u->next], e->path)) < 0)
			u->next++;
		if (u->next < u->n && c == 0)
			return 0;
	}
	return u->fn(e, u->ctx);
}

int ama_walk_untracked(const char *const *paths, size_t n, unsigned flags,
		       const char *const *tracked, size_t ntracked,
		       ama_walk_fn fn, void *ctx)
{
	struct untracked u = { tracked, ntracked, 0, fn, ctx };
	size_t i;

	for (i = 1; i < ntracked; i++)
		if (strcmp(tracked[i - 1], tracked[i]) > 0)
			return ama_error_setp(AMA_EINVAL, tracked[i],
				"tracked paths are not sorted");
	return ama_walk(paths, n, flags, untracked_one, &u);
}
