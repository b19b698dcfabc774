/* worktree.c: bringing the work tree to a version: the engine behind clone, switch, pull and download. */
#include "auto-config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkout.h"
#include "error.h"
#include "fetch.h"
#include "index.h"
#include "prog.h"
#include "progress.h"
#include "record.h"
#include "verify.h"
#include "worktree.h"

struct wt {
	const struct ama_worktree_opts *o;
	struct ama_worktree_stats *st;
	struct ama_index *idx;
	struct ama_objlist rm;		/* paths `to` drops: the old objects */
	struct ama_objlist put;		/* what `to` has that `from` has not */
	struct ama_objlist restore;	/* (force) unchanged paths to put back */
	struct ama_objlist drop;	/* (force) added entries to forget */
	struct ama_hasher h;
	struct ama_progress prog;
	struct bad *bad;		/* contents that could not be fetched */
	size_t nbad;
};

struct bad {
	struct ama_md5 md5;
	char *why;
};

static void wt_release(struct wt *w)
{
	ama_objlist_release(&w->rm);
	ama_objlist_release(&w->put);
	ama_objlist_release(&w->restore);
	ama_objlist_release(&w->drop);
	ama_hasher_release(&w->h);
	while (w->nbad)
		free(w->bad[--w->nbad].why);
	free(w->bad);
}

static void report(struct wt *w, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct wt *w, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->o->report(w->o->ctx, path, msg);
}

static int collect(void *ctx, const struct ama_object *old,
		   const struct ama_object *new)
{
	struct wt *w = ctx;

	if (new)
		ama_objlist_add_object(&w->put, new);
	else
		ama_objlist_add_object(&w->rm, old);
	return 0;
}

/* The content of the file at path now, if it has size bytes. */
static int content_is(struct wt *w, const char *path, uint64_t size,
		      const struct ama_md5 *want)
{
	struct ama_md5 md5;
	struct ama_stat st;

	if (ama_md5_file(&w->h, &md5, &st, path) < 0) {
		ama_error_clear();
		return 0;
	}
	return st.size == size && ama_md5_equal(&md5, want);
}

static void add_object(struct ama_objlist *l, const struct ama_index_entry *e)
{
	struct ama_object o;

	ama_index_entry_object(e, &o);
	ama_objlist_add_object(l, &o);
}

/* One verdict of the check before a switch. */
static int judge(const struct ama_verify_result *r, void *ctx)
{
	struct wt *w = ctx;
	const struct ama_index_entry *e = r->entry;
	const struct ama_object *t = ama_objlist_find(&w->put, e->path,
						      e->path_len);
	int dropped = ama_objlist_find(&w->rm, e->path, e->path_len) != NULL;

	if (e->state != AMA_STATE_COMMITTED) {
		if (w->o->force) {
			if (!t && !dropped)
				add_object(&w->drop, e);
			return 0;
		}
		report(w, e->path, "added and not uploaded; run 'ama upload' "
		       "first, or --force drops it from the index");
		w->st->refused++;
		return 0;
	}
	switch (r->verdict) {
	case AMA_VERDICT_OK:
		return 0;
	case AMA_VERDICT_DELETED:
		if (t || dropped)
			return 0;
		if (w->o->force) {
			add_object(&w->restore, e);
			return 0;
		}
		report(w, e->path, "deleted; 'ama download' restores it, 'ama "
		       "remove' drops it");
		break;
	case AMA_VERDICT_MODIFIED:
		/* what an interrupted switch already placed is fine */
		if (t && (r->rehashed ? ama_md5_equal(&r->md5, &t->md5) &&
			  r->st.size == t->size :
			  r->st.size == t->size &&
			  content_is(w, e->path, t->size, &t->md5)))
			return 0;
		if (w->o->force) {
			if (!t && !dropped)
				add_object(&w->restore, e);
			return 0;
		}
		report(w, e->path, "modified since it was added; 'ama add' and "
		       "'ama upload' keep it, --force discards it");
		break;
	default:
		report(w, e->path, "%s", r->msg ? r->msg : "cannot be checked");
		break;
	}
	w->st->refused++;
	return 0;
}

/*
 * Does removing the files `to` drops empty the folder at path (len bytes
 * in p, which is extended and restored)? Every file below it must be one
 * of them: a file that becomes a folder of the same name in one version
 * and a file again in the next is not in its own way.
 */
static int folder_clears(struct wt *w, struct ama_buf *p)
{
	size_t at = p->len;
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(p->s);
	int clears = d != NULL;

	while (clears && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ama_buf_addf(p, "/%s", de->d_name);
		if (lstat(p->s, &sb) < 0)
			clears = 0;
		else if (S_ISDIR(sb.st_mode))
			clears = folder_clears(w, p);
		else
			clears = S_ISREG(sb.st_mode) &&
				ama_objlist_find(&w->rm, p->s, p->len) != NULL;
		ama_buf_truncate(p, at);
	}
	if (d)
		closedir(d);
	return clears;
}

/* Files `to` adds where the index has nothing: in the way? */
static void check_untracked(struct wt *w)
{
	struct ama_buf p = AMA_BUF_INIT;
	struct ama_stat st;
	size_t i;

	for (i = 0; i < w->put.n; i++) {
		const struct ama_object *t = &w->put.v[i];

		if (ama_index_find(w->idx, t->path, t->path_len))
			continue;
		if (ama_stat_path(&st, t->path) < 0) {
			ama_error_clear();
			continue;
		}
		if (ama_stat_is_reg(&st) && st.size == t->size &&
		    content_is(w, t->path, t->size, &t->md5))
			continue;
		if (S_ISDIR(st.mode)) {
			int clears;

			ama_buf_reset(&p);
			ama_buf_add(&p, t->path, t->path_len);
			clears = folder_clears(w, &p);
			if (clears)
				continue;
		}
		report(w, t->path, "not tracked by ama and in the way; move it"
		       " away, or --force overwrites it");
		w->st->refused++;
	}
	ama_buf_release(&p);
}

static int precheck(struct wt *w)
{
	struct ama_verify_opts vo;
	int rc;

	memset(&vo, 0, sizeof(vo));
	vo.jobs = ama_online_cpus();
	vo.fn = judge;
	vo.ctx = w;
	rc = ama_verify_run(w->idx, &vo);
	if (rc == 0 && !w->o->force)
		check_untracked(w);
	return rc;
}

struct fetch_ctx {
	struct wt *w;
};

static void fetched(void *ctx, const struct ama_fetch_result *r)
{
	struct wt *w = ctx;

	if (r->rc < 0) {
		w->bad = ama_realloc(w->bad, (w->nbad + 1) * sizeof(*w->bad));
		w->bad[w->nbad].md5 = r->item->md5;
		w->bad[w->nbad].why = ama_strdup(r->why);
		w->nbad++;
		return;
	}
	if (r->fetched) {
		w->st->fetched++;
		w->st->fetched_bytes += r->item->size;
	}
	ama_progress_add(&w->prog, 1, 0);
}

static void fetch_progress(void *ctx, uint64_t bytes)
{
	struct wt *w = ctx;

	ama_progress_set(&w->prog, w->prog.files, bytes);
}

static int by_md5(const void *a, const void *b)
{
	const struct ama_fetch_item *x = a, *y = b;

	return memcmp(x->md5.d, y->md5.d, sizeof(x->md5.d));
}

/* Download the contents of l that the cache lacks (skip[i]: not needed). */
static int fetch(struct wt *w, const struct ama_objlist *l,
		 const unsigned char *skip)
{
	struct ama_fetch_item *items = ama_calloc(l->n + 1, sizeof(*items));
	struct ama_fetch_opts fo;
	uint64_t bytes = 0;
	size_t i, n = 0, k;
	int rc;

	for (i = 0; i < l->n; i++)
		if (!(skip && skip[i]) &&
		    !ama_cache_has(w->o->cache, &l->v[i].md5, l->v[i].size)) {
			items[n].md5 = l->v[i].md5;
			items[n].size = l->v[i].size;
			items[n].udata = (void *)&l->v[i];
			n++;
		}
	if (n)
		qsort(items, n, sizeof(*items), by_md5);
	for (i = k = 0; i < n; i++)
		if (!k || !ama_md5_equal(&items[k - 1].md5, &items[i].md5))
			items[k++] = items[i];
	n = k;
	for (i = 0; i < n; i++)
		bytes += items[i].size;
	if (!n) {
		free(items);
		return 0;
	}
	ama_progress_init(&w->prog, "fetching", w->o->progress);
	ama_progress_total(&w->prog, n, bytes);
	memset(&fo, 0, sizeof(fo));
	fo.remote_url = w->o->remote_url;
	fo.cfg = w->o->cfg;
	fo.top_hash = w->o->top_hash;
	fo.cache = w->o->cache;
	fo.jobs = w->o->jobs;
	if (!fo.jobs) {
		long j = 0;

		if (ama_config_get_int(w->o->cfg, "transfer", "jobs", &j) == 0 &&
		    j > 0 && j <= 1024)
			fo.jobs = (int)j;
	}
	fo.done = fetched;
	fo.progress = fetch_progress;
	fo.ctx = w;
	fo.stop = w->o->stop;
	rc = ama_fetch_run(items, n, &fo);
	ama_progress_done(&w->prog);
	free(items);
	return rc;
}

static int stopped(const struct wt *w)
{
	return w->o->stop && *w->o->stop ?
		ama_error_set(AMA_EIO, "interrupted") : 0;
}

/* Record o as not in the work tree (a partial clone). */
static void record_skip(struct wt *w, const struct ama_object *o)
{
	struct ama_index_entry e;

	memset(&e, 0, sizeof(e));
	e.md5 = o->md5;
	e.st.size = o->size;
	e.st.mode = 0100644;
	e.path = o->path;
	e.path_len = (uint32_t)o->path_len;
	e.state = AMA_STATE_COMMITTED;
	e.flags = AMA_ENTRY_SKIP;
	ama_index_add(w->idx, &e);
}

static const char *why_bad(const struct wt *w, const struct ama_md5 *md5)
{
	size_t i;

	for (i = 0; i < w->nbad; i++)
		if (ama_md5_equal(&w->bad[i].md5, md5))
			return w->bad[i].why;
	return NULL;
}

/*
 * A path that could not be placed keeps an entry: its old one, else one
 * marked not in the work tree, so that the index still holds every file
 * of the version (the next upload keeps it; `ama download` retries).
 */
static void failed(struct wt *w, const struct ama_object *o, const char *why)
{
	report(w, o->path, "%s", why);
	w->st->failed++;
	if (!ama_index_find(w->idx, o->path, o->path_len))
		record_skip(w, o);
}

/*
 * The thread's last error as the reason a path failed, naming the error's
 * own subject when it is another path ("d: is not a folder" for d/e/f).
 */
static void reason(struct ama_buf *out, const char *path)
{
	const char *sub = ama_error_path();

	if (sub && strcmp(sub, path)) {
		ama_quote_path(out, sub, strlen(sub));
		ama_buf_addstr(out, ": ");
	}
	ama_buf_addstr(out, ama_error_msg());
}

/* Remove, then place; each failure reported and counted. */
static int apply(struct wt *w, const unsigned char *skip)
{
	struct ama_checkout_opts co_o;
	struct ama_checkout *co = NULL;
	struct ama_buf why = AMA_BUF_INIT;
	size_t i;
	int rc;

	memset(&co_o, 0, sizeof(co_o));
	co_o.cache = w->o->cache;
	co_o.idx = w->idx;
	co_o.force = w->o->force;
	co_o.hard_link = w->o->hard_link;
	co_o.no_external_links = w->o->no_external_links;
	co_o.state = AMA_STATE_COMMITTED;
	rc = ama_checkout_begin(&co, &co_o);
	if (rc < 0)
		return rc;
	ama_progress_init(&w->prog, "checking out", w->o->progress);
	ama_progress_total(&w->prog, w->rm.n + w->put.n, 0);
	for (i = 0; i < w->drop.n; i++)
		ama_index_remove(w->idx, w->drop.v[i].path,
				 w->drop.v[i].path_len);
	for (i = 0; i < w->rm.n && rc == 0; i++) {
		const struct ama_object *o = &w->rm.v[i];
		int r = ama_checkout_remove(co, o->path, o->path_len);

		if (r == AMA_CHECKOUT_REMOVED)
			w->st->removed++;
		if (r < 0) {
			ama_buf_reset(&why);
			reason(&why, o->path);
			report(w, o->path, "%s", why.s);
			w->st->failed++;
		}
		ama_progress_add(&w->prog, 1, 0);
		rc = stopped(w);
	}
	for (i = 0; i < w->put.n && rc == 0; i++) {
		const struct ama_object *o = &w->put.v[i];
		int r;

		if (skip && skip[i]) {
			record_skip(w, o);
			w->st->skipped++;
			continue;
		}
		if (w->nbad && why_bad(w, &o->md5)) {
			failed(w, o, why_bad(w, &o->md5));
			continue;
		}
		r = ama_checkout_place(co, o);
		if (r == AMA_CHECKOUT_PLACED)
			w->st->placed++;
		else if (r == AMA_CHECKOUT_KEPT)
			w->st->kept++;
		if (r < 0) {
			ama_buf_reset(&why);
			reason(&why, o->path);
			failed(w, o, why.s);
		}
		ama_progress_add(&w->prog, 1, o->size);
		rc = stopped(w);
	}
	ama_progress_done(&w->prog);
	ama_checkout_end(co);
	ama_buf_release(&why);
	return rc;
}

/* Fetch, apply and write the index; the lock is held by the caller. */
static int carry_out(struct wt *w, const unsigned char *skip)
{
	int rc = fetch(w, &w->put, skip), wr;

	/* what could not be fetched fails where it is placed, named */
	if (rc == 0)
		rc = apply(w, skip);
	/* what was done is recorded, whatever stopped the rest */
	wr = ama_index_write_and_commit(w->idx);
	if (rc == 0)
		rc = wr;
	if (rc == 0 && (w->st->failed || w->st->refused))
		rc = 1;
	return rc;
}

/*
 * Lock and load the index of the asset the working folder is the root
 * of, named by its absolute path: a message about it (a stale lock and
 * the rm that clears it) must hold wherever the user stands, also after
 * a clone entered the folder it made.
 */
static int lock_index(struct ama_index **out)
{
	struct ama_buf path = AMA_BUF_INIT;
	char *cwd = getcwd(NULL, 0);
	int rc;

	if (!cwd)
		return ama_error_set_errno(AMA_EIO, "cannot tell the working "
					   "folder");
	ama_buf_addf(&path, "%s/.ama/index", strcmp(cwd, "/") ? cwd : "");
	rc = ama_index_lock_and_load(out, path.s);
	ama_buf_release(&path);
	free(cwd);
	return rc;
}

int ama_worktree_update(const struct ama_worktree_opts *o,
			const struct ama_meta_version *from,
			const struct ama_meta_version *to,
			struct ama_worktree_stats *stats)
{
	unsigned char *skip = NULL;
	struct wt w;
	size_t i;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.st = stats;
	ama_hasher_init(&w.h);
	rc = lock_index(&w.idx);
	if (rc == 0)
		rc = ama_meta_diff(o->meta, from, to, collect, &w);
	if (rc == 0 && from)
		rc = precheck(&w);
	if (rc == 0 && stats->refused)
		rc = 1;
	if (rc != 0) {
		ama_index_free(w.idx);
		wt_release(&w);
		return rc;
	}
	if (w.restore.n) {
		for (i = 0; i < w.restore.n; i++)
			ama_objlist_add_object(&w.put, &w.restore.v[i]);
		rc = ama_objlist_sort(&w.put);
	}
	if (rc == 0 && o->only) {
		skip = ama_calloc(w.put.n + 1, 1);
		for (i = 0; i < w.put.n; i++)
			skip[i] = !ama_pathspec_match(o->only, w.put.v[i].path,
						      w.put.v[i].path_len);
	} else if (rc == 0) {
		/* what a partial clone left out stays out, at its new
		 * content (sparse, as git's sparse checkout keeps it) */
		for (i = 0; i < w.put.n; i++) {
			const struct ama_index_entry *e =
				ama_index_find(w.idx, w.put.v[i].path,
					       w.put.v[i].path_len);

			if (!e || !(e->flags & AMA_ENTRY_SKIP))
				continue;
			if (!skip)
				skip = ama_calloc(w.put.n + 1, 1);
			skip[i] = 1;
		}
	}
	if (rc == 0)
		rc = carry_out(&w, skip);
	free(skip);
	ama_index_free(w.idx);
	wt_release(&w);
	return rc;
}

int ama_worktree_download(const struct ama_worktree_opts *o,
			  const struct ama_pathspec *ps,
			  struct ama_worktree_stats *stats)
{
	struct ama_index_entry *e;
	struct ama_stat st;
	struct wt w;
	size_t i, n;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.st = stats;
	ama_hasher_init(&w.h);
	rc = lock_index(&w.idx);
	if (rc < 0) {
		wt_release(&w);
		return rc;
	}
	e = ama_index_entries(w.idx, &n);
	for (i = 0; i < n; i++) {
		if (!ama_pathspec_match(ps, e[i].path, e[i].path_len))
			continue;
		if (!(e[i].flags & AMA_ENTRY_SKIP)) {
			if (ama_stat_path(&st, e[i].path) == 0)
				continue;
			ama_error_clear();
		}
		add_object(&w.put, &e[i]);
	}
	rc = carry_out(&w, NULL);
	ama_index_free(w.idx);
	wt_release(&w);
	return rc;
}

struct discard {
	struct wt *w;
	const struct ama_objlist *version;
	const struct ama_pathspec *ps;
};

static int discard_judge(const struct ama_verify_result *r, void *ctx)
{
	struct discard *d = ctx;
	const struct ama_index_entry *e = r->entry;
	const struct ama_object *v;

	if (!ama_pathspec_match(d->ps, e->path, e->path_len))
		return 0;
	v = ama_objlist_find(d->version, e->path, e->path_len);
	if (e->state != AMA_STATE_COMMITTED && !v) {
		add_object(&d->w->drop, e);
		return 0;
	}
	if (v && (e->state != AMA_STATE_COMMITTED ||
		  r->verdict == AMA_VERDICT_MODIFIED ||
		  r->verdict == AMA_VERDICT_DELETED))
		ama_objlist_add_object(&d->w->put, v);
	return 0;
}

int ama_worktree_discard(const struct ama_worktree_opts *o,
			 const struct ama_meta_version *at,
			 const struct ama_pathspec *ps,
			 struct ama_worktree_stats *stats)
{
	struct ama_objlist version = AMA_OBJLIST_INIT;
	struct ama_worktree_opts forced = *o;
	struct ama_verify_opts vo;
	struct discard d;
	struct wt w;
	size_t i;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&w, 0, sizeof(w));
	forced.force = 1;	/* what is there is what is being discarded */
	w.o = &forced;
	w.st = stats;
	ama_hasher_init(&w.h);
	rc = ama_index_lock_and_load(&w.idx, ".ama/index");
	if (rc == 0 && at)
		rc = ama_meta_read_objects(o->meta, &version, at);
	if (rc == 0) {
		d.w = &w;
		d.version = &version;
		d.ps = ps;
		memset(&vo, 0, sizeof(vo));
		vo.jobs = ama_online_cpus();
		vo.fn = discard_judge;
		vo.ctx = &d;
		rc = ama_verify_run(w.idx, &vo);
	}
	/* the version's paths the index lost (ama remove, not uploaded) */
	for (i = 0; rc == 0 && i < version.n; i++)
		if (ama_pathspec_match(ps, version.v[i].path,
				       version.v[i].path_len) &&
		    !ama_index_find(w.idx, version.v[i].path,
				    version.v[i].path_len))
			ama_objlist_add_object(&w.put, &version.v[i]);
	if (rc == 0)
		rc = ama_objlist_sort(&w.put);
	for (i = 0; rc == 0 && i < w.put.n; i++)
		o->report(o->ctx, w.put.v[i].path, "restored");
	for (i = 0; rc == 0 && i < w.drop.n; i++)
		o->report(o->ctx, w.drop.v[i].path, "no longer added (the file "
			  "stays)");
	if (rc == 0)
		rc = carry_out(&w, NULL);
	ama_index_free(w.idx);
	ama_objlist_release(&version);
	wt_release(&w);
	return rc;
}
