/* status.c: the status engine: entries checked, untracked files walked and the current version's paths merged, on threads of their own. */
#include "auto-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "buf.h"
#include "error.h"
#include "meta.h"
#include "status.h"
#include "version.h"
#include "walk.h"

#define META_PATH ".ama/meta"

const char *ama_status_kind_name(enum ama_status_kind k)
{
	static const char *const names[AMA_STATUS_NKINDS] = {
		"added", "removed", "modified", "deleted", "untracked",
		"error",
	};

	return (unsigned)k < AMA_STATUS_NKINDS ? names[k] : "?";
}

struct run {
	const struct ama_status_opts *o;
	struct ama_status_summary *sum;
};

static int deliver(struct run *r, const struct ama_status_item *it)
{
	r->sum->count[it->kind]++;
	return r->o->fn ? r->o->fn(it, r->o->ctx) : 0;
}

/* An ERROR about path, with the thread's last error set to it. */
static int deliver_error(struct run *r, const char *path, int code,
			 const char *reason)
{
	struct ama_status_item it;

	memset(&it, 0, sizeof(it));
	it.kind = AMA_STATUS_ERROR;
	it.path = path;
	it.len = strlen(path);
	it.code = code;
	ama_error_setp(code, path, "%s", reason);
	it.reason = ama_error_msg();
	return deliver(r, &it);
}

static int checked(const struct ama_verify_result *res, void *ctx)
{
	struct run *r = ctx;
	struct ama_status_item it;

	memset(&it, 0, sizeof(it));
	it.entry = res->entry;
	it.check = res;
	it.path = res->entry->path;
	it.len = res->entry->path_len;
	switch (res->verdict) {
	case AMA_VERDICT_OK:
		if (res->entry->state == AMA_STATE_COMMITTED)
			return 0;
		it.kind = AMA_STATUS_ADDED;
		break;
	case AMA_VERDICT_MODIFIED:
		it.kind = AMA_STATUS_MODIFIED;
		break;
	case AMA_VERDICT_DELETED:
		it.kind = AMA_STATUS_DELETED;
		break;
	default:
		it.kind = AMA_STATUS_ERROR;
		it.code = res->rc;
		it.reason = res->msg;
		break;
	}
	return deliver(r, &it);
}

/*
 * Which entries to check: all, or those at or below the operands;
 * matched[j] gets the number operand j selects.
 */
static size_t *select_entries(struct ama_index *idx, const char *const *paths,
			      size_t n, size_t *npos, size_t *matched)
{
	size_t count = ama_index_count(idx), i, j, k = 0;
	size_t *pos = ama_malloc((count ? count : 1) * sizeof(*pos));
	unsigned char *sel;

	if (!n) {
		for (i = 0; i < count; i++)
			pos[i] = i;
		*npos = count;
		return pos;
	}
	sel = ama_calloc(count ? count : 1, 1);
	for (j = 0; j < n; j++)
		matched[j] = ama_index_select(idx, paths[j], strlen(paths[j]),
					      sel);
	for (i = 0; i < count; i++)
		if (sel[i])
			pos[k++] = i;
	free(sel);
	*npos = k;
	return pos;
}

/* ---- the current version's paths, from .ama/meta ---- */

struct version_tree {
	git_repository *repo;
	git_tree *root;
};

/* [asset] seq: 0 when unset or not a number (an asset never uploaded). */
static uint64_t config_seq(const struct ama_config *cfg)
{
	const char *s = ama_config_get(cfg, "asset", "seq");
	char *end;
	uint64_t seq;

	if (!s || *s < '1' || *s > '9')
		return 0;
	errno = 0;
	seq = strtoull(s, &end, 10);
	return *end || errno ? 0 : seq;
}

/*
 * The tree of the version the asset is at. Returns 1 and vt filled, 0
 * when the asset has no version yet, or a negative code (the error set,
 * about .ama/meta).
 */
static int open_version(struct version_tree *vt, const struct ama_config *cfg)
{
	const char *class = cfg ? ama_config_get(cfg, "asset", "class") : NULL;
	const char *vs = cfg ? ama_config_get(cfg, "asset", "version") : NULL;
	uint64_t seq = cfg ? config_seq(cfg) : 0;
	struct ama_meta_version v;
	struct ama_meta *meta = NULL;
	struct ama_version want;
	git_commit *c = NULL;
	git_oid oid;
	int rc;

	memset(vt, 0, sizeof(*vt));
	if (!class || !*class || !seq || !vs || !*vs)
		return 0;
	memset(&v, 0, sizeof(v));
	rc = ama_version_parse(&want, vs);
	if (rc < 0)
		return ama_error_setp(AMA_ESETUP, META_PATH,
				      "[asset] version: '%s' is not a version",
				      vs);
	rc = ama_meta_open(&meta, META_PATH, 0);
	if (rc == 0)
		rc = ama_meta_find_version(meta, &v, class, seq, &want);
	ama_meta_close(meta);
	if (rc < 0) {
		if (rc == AMA_ENOTFOUND)
			rc = ama_error_setp(AMA_ENOTFOUND, META_PATH,
				"does not hold version %s of %s/%llu", vs,
				class, (unsigned long long)seq);
		goto out;
	}
	git_libgit2_init();
	if (git_oid_fromstr(&oid, v.oid) < 0 ||
	    git_repository_open_bare(&vt->repo, META_PATH) < 0 ||
	    git_commit_lookup(&c, vt->repo, &oid) < 0 ||
	    git_commit_tree(&vt->root, c) < 0) {
		const git_error *e = git_error_last();

		rc = ama_error_setp(AMA_ECORRUPT, META_PATH,
				    "cannot read version %s: %s", vs,
				    e && e->message ? e->message : "?");
		git_commit_free(c);
		git_repository_free(vt->repo);
		vt->repo = NULL;
		git_libgit2_shutdown();
		goto out;
	}
	git_commit_free(c);
	rc = 1;
out:
	ama_meta_version_release(&v);
	return rc;
}

static void close_version(struct version_tree *vt)
{
	if (!vt->repo)
		return;
	git_tree_free(vt->root);
	git_repository_free(vt->repo);
	git_libgit2_shutdown();
	memset(vt, 0, sizeof(*vt));
}

/* Does the version hold path (a file, or a folder with files)? */
static int version_has(const struct version_tree *vt, const char *path)
{
	git_tree_entry *e;

	if (!*path)
		return git_tree_entrycount(vt->root) > 0;
	if (git_tree_entry_bypath(&e, vt->root, path) < 0)
		return 0;
	git_tree_entry_free(e);
	return 1;
}

/*
 * The version's files under the operands that the index lacks, found on a
 * thread of their own: a merge of each tree's sorted paths with the
 * index's sorted paths, one comparison a file.
 */
struct removed {
	const struct version_tree *vt;
	const char *const *paths;
	size_t npaths;
	const char *const *tracked;
	size_t ntracked;
	struct ama_buf found;	/* NUL-separated paths */
	size_t n;
	int rc;
	char *fail_msg;		/* rc < 0: why */
};

/* The first tracked path not less than path. */
static size_t lower_bound(const struct removed *rm, const char *path)
{
	size_t lo = 0, hi = rm->ntracked;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(rm->tracked[mid], path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void merge_file(struct removed *rm, const char *path, size_t len,
		       size_t *pos)
{
	while (*pos < rm->ntracked && strcmp(rm->tracked[*pos], path) < 0)
		(*pos)++;
	if (*pos < rm->ntracked && !strcmp(rm->tracked[*pos], path))
		return;
	ama_buf_add(&rm->found, path, len + 1);
	rm->n++;
}

static int merge_tree(struct removed *rm, const git_tree *t,
		      struct ama_buf *prefix, size_t *pos)
{
	size_t i, n = git_tree_entrycount(t), base = prefix->len;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		git_tree *sub;

		ama_buf_truncate(prefix, base);
		ama_buf_addstr(prefix, git_tree_entry_name(e));
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			merge_file(rm, prefix->s, prefix->len, pos);
			continue;
		}
		if (git_tree_lookup(&sub, rm->vt->repo,
				    git_tree_entry_id(e)) < 0)
			return ama_error_set(AMA_ECORRUPT,
					     "cannot read folder %s of the "
					     "version", prefix->s);
		ama_buf_addch(prefix, '/');
		rc = merge_tree(rm, sub, prefix, pos);
		git_tree_free(sub);
	}
	ama_buf_truncate(prefix, base);
	return rc;
}

static int merge_operand(struct removed *rm, const char *path)
{
	struct ama_buf prefix = AMA_BUF_INIT;
	git_tree_entry *e = NULL;
	git_tree *sub = NULL;
	size_t pos = lower_bound(rm, path);
	int rc = 0;

	ama_buf_addstr(&prefix, path);
	if (!*path) {
		rc = merge_tree(rm, rm->vt->root, &prefix, &pos);
	} else if (git_tree_entry_bypath(&e, rm->vt->root, path) < 0) {
		rc = 0;		/* not in the version */
	} else if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		merge_file(rm, path, prefix.len, &pos);
	} else if (git_tree_lookup(&sub, rm->vt->repo,
				   git_tree_entry_id(e)) < 0) {
		rc = ama_error_set(AMA_ECORRUPT, "cannot read folder %s of "
				   "the version", path);
	} else {
		ama_buf_addch(&prefix, '/');
		rc = merge_tree(rm, sub, &prefix, &pos);
	}
	git_tree_free(sub);
	git_tree_entry_free(e);
	ama_buf_release(&prefix);
	return rc;
}

static void *removed_thread(void *arg)
{
	struct removed *rm = arg;
	size_t j;

	for (j = 0; j < rm->npaths && rm->rc == 0; j++)
		rm->rc = merge_operand(rm, rm->paths[j]);
	if (rm->rc < 0)
		rm->fail_msg = ama_strdup(ama_error_msg());
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The REMOVED items, in path order, once each (operands may overlap). */
static int deliver_removed(struct run *r, struct removed *rm)
{
	const char **v = ama_malloc((rm->n ? rm->n : 1) * sizeof(*v));
	const char *p = rm->found.s;
	size_t i;
	int rc = 0;

	for (i = 0; i < rm->n; i++, p += strlen(p) + 1)
		v[i] = p;
	if (rm->npaths > 1)
		qsort(v, rm->n, sizeof(*v), cmp_str);
	for (i = 0; i < rm->n && rc >= 0; i++) {
		struct ama_status_item it;

		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		memset(&it, 0, sizeof(it));
		it.kind = AMA_STATUS_REMOVED;
		it.path = v[i];
		it.len = strlen(v[i]);
		rc = deliver(r, &it);
	}
	free(v);
	return rc;
}

/* ---- the untracked files ---- */

/*
 * Looked for on a thread of their own while the entries are checked: the
 * walk (a readdir of every folder) and the checks (an lstat of every
 * entry) each take about half of the time on a large asset, and they
 * share nothing but the index's paths, which the checks do not change.
 * What it finds waits in a buffer until the checks are done, so that
 * every callback runs on the caller's thread.
 */
struct untracked {
	const char *const *paths;
	size_t npaths;
	const char *const *tracked;
	size_t ntracked;
	/* each item: its kind (one byte), path NUL, reason NUL ("" for an
	 * untracked file), code (an int, for an error) */
	struct ama_buf items;
	int rc;
	char *fail_msg, *fail_path;	/* rc < 0: the walk's error */
};

static int walked(const struct ama_walk_entry *e, void *ctx)
{
	struct untracked *u = ctx;

	if (e->event == AMA_WALK_FILE) {
		ama_buf_addch(&u->items, AMA_STATUS_UNTRACKED);
		ama_buf_add(&u->items, e->path, e->len + 1);
		ama_buf_addch(&u->items, '\0');
	} else if (e->event == AMA_WALK_ERROR) {
		ama_buf_addch(&u->items, AMA_STATUS_ERROR);
		ama_buf_add(&u->items, e->path, e->len + 1);
		ama_buf_add(&u->items, e->reason, strlen(e->reason) + 1);
		ama_buf_add(&u->items, &e->code, sizeof(e->code));
	}
	return 0;
}

static void *walk_thread(void *arg)
{
	struct untracked *u = arg;

	u->rc = ama_walk_untracked(u->paths, u->npaths, AMA_WALK_LINKS,
				   u->tracked,
				   u->ntracked, walked, u);
	if (u->rc < 0) {	/* the error is this thread's: keep it */
		u->fail_msg = ama_strdup(ama_error_msg());
		if (ama_error_path())
			u->fail_path = ama_strdup(ama_error_path());
	}
	return NULL;
}

static int deliver_walked(struct run *r, const struct untracked *u)
{
	const char *p = u->items.s, *end = p + u->items.len;
	int rc = 0;

	while (p && p < end && rc >= 0) {
		struct ama_status_item it;

		memset(&it, 0, sizeof(it));
		it.kind = (enum ama_status_kind)*p++;
		it.path = p;
		it.len = strlen(p);
		p += it.len + 1;
		if (it.kind == AMA_STATUS_UNTRACKED) {
			p++;
			rc = deliver(r, &it);
			continue;
		}
		it.reason = p;
		p += strlen(p) + 1;
		memcpy(&it.code, p, sizeof(it.code));
		p += sizeof(it.code);
		rc = deliver_error(r, it.path, it.code, it.reason);
	}
	return rc;
}

/*
 * The operands to walk for untracked files: those that are on disk. One
 * that is not but names entries is a deleted file or folder, which the
 * checks report, and one that names a file of the version is a removed
 * one; one that names nothing at all stays, for the walk to say "no such
 * file" (nothing[j] is set for it, for when there is no walk).
 */
static size_t walk_operands(const char *const *paths, size_t n,
			    const size_t *matched,
			    const struct version_tree *vt, const char **out,
			    unsigned char *nothing)
{
	struct stat st;
	size_t k = 0, j;

	for (j = 0; j < n; j++) {
		if (lstat(*paths[j] ? paths[j] : ".", &st) == 0) {
			out[k++] = paths[j];
			continue;
		}
		if (matched[j] || (vt->repo && version_has(vt, paths[j])))
			continue;
		out[k++] = paths[j];
		nothing[j] = 1;
	}
	return k;
}

/* A run's helpers: the walk, the version's merge, and what they found. */
struct helpers {
	struct version_tree vt;
	struct untracked u;
	struct removed rm;
	pthread_t walk_tid, rm_tid;
	int walking, merging;	/* 1 on a thread, -1 to run here, 0 not */
	int meta_rc;		/* < 0: the current version cannot be read */
	char *meta_msg;
};

/* Start the walk and the merge, each on its own thread when it can. */
static void start_helpers(struct helpers *h, const struct ama_status_opts *o,
			  const char *const *paths, size_t npaths)
{
	if (o->flags & AMA_STATUS_FIND_UNTRACKED)
		h->walking = pthread_create(&h->walk_tid, NULL, walk_thread,
					    &h->u) == 0 ? 1 : -1;
	if (h->vt.repo) {
		h->rm.vt = &h->vt;
		h->rm.paths = paths;
		h->rm.npaths = npaths;
		h->rm.tracked = h->u.tracked;
		h->rm.ntracked = h->u.ntracked;
		h->merging = pthread_create(&h->rm_tid, NULL, removed_thread,
					    &h->rm) == 0 ? 1 : -1;
	}
}

/*
 * Wait for the helpers (or do their work here if no thread could start),
 * then hand on what they found, in the order status.h gives. Returns 0,
 * the callback's code, or the walk's failure.
 */
static int finish_helpers(struct helpers *h, struct run *r, int rc,
			  const unsigned char *nothing)
{
	const struct ama_status_opts *o = r->o;
	size_t i;

	if (h->walking > 0)
		pthread_join(h->walk_tid, NULL);
	else if (h->walking < 0)
		walk_thread(&h->u);
	if (h->merging > 0)
		pthread_join(h->rm_tid, NULL);
	else if (h->merging < 0)
		removed_thread(&h->rm);
	if (rc >= 0 && h->rm.rc == 0 && h->vt.repo)
		rc = deliver_removed(r, &h->rm);
	if (rc >= 0 && h->walking)
		rc = deliver_walked(r, &h->u);
	if (rc >= 0 && h->rm.rc < 0)
		rc = deliver_error(r, META_PATH, h->rm.rc, h->rm.fail_msg);
	if (rc >= 0 && h->meta_rc < 0)
		rc = deliver_error(r, META_PATH, h->meta_rc, h->meta_msg);
	for (i = 0; rc >= 0 && !h->walking && i < o->npaths; i++)
		if (nothing[i])
			rc = deliver_error(r, o->paths[i], AMA_ENOTFOUND,
					   "no such file");
	if (h->u.rc < 0 && rc >= 0)
		rc = h->u.fail_path ?
			ama_error_setp(h->u.rc, h->u.fail_path, "%s",
				       h->u.fail_msg) :
			ama_error_set(h->u.rc, "%s", h->u.fail_msg);
	return rc;
}

static void release_helpers(struct helpers *h)
{
	close_version(&h->vt);
	ama_buf_release(&h->u.items);
	ama_buf_release(&h->rm.found);
	free(h->u.fail_msg);
	free(h->u.fail_path);
	free(h->rm.fail_msg);
	free(h->meta_msg);
}

/* The refresh is an optimisation: a busy or read-only index skips it. */
static void write_refresh(struct ama_status_summary *sum,
			  struct ama_index *idx,
			  const struct ama_refresh_list *refresh)
{
	int w = ama_verify_refresh(ama_index_path(idx), refresh);

	if (w >= 0)
		sum->refreshed = (size_t)w;
	else if (w != AMA_ELOCKED)
		sum->refresh_rc = w;
}

int ama_status_run(struct ama_status_summary *out, struct ama_index *idx,
		   const struct ama_status_opts *o)
{
	struct ama_refresh_list refresh = AMA_REFRESH_LIST_INIT;
	struct ama_status_summary scratch;
	struct ama_verify_opts vo;
	struct ama_index_entry *e;
	struct helpers h;
	struct run r = { o, out ? out : &scratch };
	const char *root = "", **walk_paths, **tracked;
	const char *const *paths = o->npaths ? o->paths : &root;
	size_t npaths = o->npaths ? o->npaths : 1;
	size_t n, i, npos, *matched, *pos;
	unsigned char *nothing;
	int rc;

	memset(r.sum, 0, sizeof(*r.sum));
	memset(&h, 0, sizeof(h));
	matched = ama_calloc(npaths, sizeof(*matched));
	nothing = ama_calloc(npaths, 1);
	pos = select_entries(idx, o->paths, o->npaths, &npos, matched);
	if (o->flags & AMA_STATUS_FIND_REMOVED) {
		h.meta_rc = open_version(&h.vt, o->cfg);
		if (h.meta_rc < 0)
			h.meta_msg = ama_strdup(ama_error_msg());
	}
	/* the walk starts from the operands that are on disk, or the root */
	walk_paths = ama_calloc(npaths, sizeof(*walk_paths));
	h.u.paths = walk_paths;
	h.u.npaths = walk_operands(paths, npaths, matched, &h.vt, walk_paths,
				   nothing);
	e = ama_index_entries(idx, &n);
	tracked = ama_malloc((n ? n : 1) * sizeof(*tracked));
	for (i = 0; i < n; i++)
		tracked[i] = e[i].path;
	h.u.tracked = tracked;
	h.u.ntracked = n;
	start_helpers(&h, o, paths, npaths);

	memset(&vo, 0, sizeof(vo));
	vo.jobs = o->jobs;
	vo.pos = pos;
	vo.npos = npos;
	vo.fn = checked;
	vo.ctx = &r;
	vo.refresh = &refresh;
	rc = ama_verify_run(idx, &vo);

	rc = finish_helpers(&h, &r, rc, nothing);
	if (rc >= 0 && (o->flags & AMA_STATUS_WRITE_REFRESH) && refresh.n)
		write_refresh(r.sum, idx, &refresh);
	release_helpers(&h);
	ama_refresh_list_release(&refresh);
	free(tracked);
	free(walk_paths);
	free(nothing);
	free(matched);
	free(pos);
	return rc < 0 ? rc : 0;
}
