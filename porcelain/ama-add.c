/* ama-add: record the stat record and MD5 of files in the index, in place. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "hashpool.h"
#include "index.h"
#include "lockfile.h"
#include "prog.h"
#include "progress.h"
#include "verify.h"
#include "walk.h"

static const char usage_str[] =
	"ama add [-q | --quiet] [-j <n>] <path>...";

/* The files to hash, their paths one after another in one buffer. */
struct todo {
	struct ama_buf paths;	/* NUL-separated */
	size_t n;
	uint64_t bytes;
};

struct add {
	struct ama_common *c;
	struct ama_index *idx;
	struct todo todo;
	/* the entries the walk met, by position: lib/verify checks them */
	size_t *pos, npos, apos;
	struct ama_progress progress;
	struct ama_hashpool *pool;	/* while hashing */
	uint64_t hashed;		/* files the pool has delivered */
	size_t added, updated, unchanged;
	int status;
};

static void to_hash(struct add *a, const char *path, size_t len,
		    uint64_t size)
{
	ama_buf_add(&a->todo.paths, path, len + 1);
	a->todo.n++;
	a->todo.bytes += size;
}

/*
 * A file the index knows goes to lib/verify, which tells it unchanged
 * from its stat record alone (on threads, as ama status does); a new one
 * is stat-ed for the progress line and will be hashed.
 */
static int walk_one(const struct ama_walk_entry *e, void *ctx)
{
	struct add *a = ctx;
	struct ama_index_entry *ie;
	struct ama_stat st;
	size_t n, at;

	switch (e->event) {
	case AMA_WALK_FILE:
		at = ama_index_lower_bound(a->idx, e->path, e->len);
		ie = ama_index_entries(a->idx, &n);
		if (at < n && ie[at].path_len == e->len &&
		    !memcmp(ie[at].path, e->path, e->len)) {
			if (a->npos == a->apos) {
				a->apos = a->apos ? 2 * a->apos : 1024;
				a->pos = ama_realloc(a->pos, a->apos *
						     sizeof(*a->pos));
			}
			a->pos[a->npos++] = at;
			return 0;
		}
		if (ama_stat_path(&st, e->path) < 0) {
			ama_report(e->path);
			a->status = 1;
			return 0;
		}
		to_hash(a, e->path, e->len, st.size);
		return 0;
	case AMA_WALK_SKIPPED:
		ama_msg_path(e->path, "skipped: %s", e->reason);
		return 0;
	case AMA_WALK_ERROR:
		ama_msg_path(e->path, "%s", e->reason);
		a->status = 1;
		return 0;
	default:
		return 0;
	}
}

/* What lib/verify says of a file the index knows. */
static int checked(const struct ama_verify_result *r, void *ctx)
{
	struct add *a = ctx;
	struct ama_index_entry *e = r->entry;

	switch (r->verdict) {
	case AMA_VERDICT_OK:
		a->unchanged++;
		break;
	case AMA_VERDICT_MODIFIED:
		/* not read (stat_only): hashed with the new files, and a
		 * touch found there counts as unchanged */
		to_hash(a, e->path, e->path_len, r->st.size);
		break;
	case AMA_VERDICT_DELETED:
		ama_msg_path(e->path, "gone while it was being added");
		a->status = 1;
		break;
	default:
		ama_msg_path(r->subject ? r->subject : e->path, "%s", r->msg);
		a->status = 1;
		break;
	}
	return 0;
}

static int check_known(struct add *a)
{
	struct ama_verify_opts o;

	if (!a->npos)
		return 0;
	memset(&o, 0, sizeof(o));
	o.jobs = a->c->jobs;
	o.pos = a->pos;
	o.npos = a->npos;
	o.stat_only = 1;	/* what must be read goes to the hash pool */
	o.fn = checked;
	o.ctx = a;
	return ama_verify_run(a->idx, &o);
}

static int hashed(const struct ama_hash_result *r, void *ctx)
{
	struct add *a = ctx;
	struct ama_index_entry e, *old;

	ama_progress_set(&a->progress, ++a->hashed,
			 ama_hashpool_read_bytes(a->pool));
	if (r->rc < 0) {
		ama_msg_path(r->error_path ? r->error_path : r->path, "%s",
			     r->error_msg);
		a->status = 1;
		return 0;
	}
	old = ama_index_find(a->idx, r->path, r->path_len);
	memset(&e, 0, sizeof(e));
	e.md5 = r->md5;
	e.st = r->st;
	e.path = r->path;
	e.path_len = (uint32_t)r->path_len;
	e.flags = r->racy ? AMA_ENTRY_RACY : 0;
	if (!old) {
		e.state = AMA_STATE_PENDING;
		a->added++;
	} else if (ama_md5_equal(&old->md5, &r->md5) &&
		   S_ISLNK(old->st.mode) == S_ISLNK(r->st.mode)) {
		e.state = old->state;	/* a touch: the content is the same */
		a->unchanged++;
	} else {
		e.state = AMA_STATE_PENDING;
		a->updated++;
	}
	ama_index_add(a->idx, &e);
	return 0;
}

/* Bytes move while a large file is read, not only when it is done. */
static void tick(void *ctx)
{
	struct add *a = ctx;

	ama_progress_set(&a->progress, a->hashed,
			 ama_hashpool_read_bytes(a->pool));
}

static int hash_all(struct add *a)
{
	struct ama_hashpool_opts o;
	struct ama_hashpool *pool;
	const char *p = a->todo.paths.s;
	size_t i;
	int rc;

	if (!a->todo.n)
		return 0;
	memset(&o, 0, sizeof(o));
	o.jobs = a->c->jobs;
	o.done = hashed;
	if (a->c->progress)
		o.tick = tick;
	o.arg = a;
	rc = ama_hashpool_new(&pool, &o);
	if (rc < 0)
		return rc;
	a->pool = pool;
	ama_progress_init(&a->progress, "hashing", a->c->progress);
	ama_progress_total(&a->progress, a->todo.n, a->todo.bytes);
	for (i = 0; i < a->todo.n && rc == 0; i++) {
		size_t len = strlen(p);

		rc = ama_hashpool_submit(pool, p, len, NULL);
		p += len + 1;
	}
	if (rc == 0)
		rc = ama_hashpool_finish(pool);
	ama_hashpool_free(pool);
	a->pool = NULL;
	ama_progress_done(&a->progress);
	return rc;
}

/* The operands as clean root-relative paths; any bad one stops everything. */
static int resolve_paths(const struct ama_asset *asset, int argc,
			 char **argv, char ***out)
{
	char **v = ama_calloc((size_t)argc + 1, sizeof(*v));
	int i;

	for (i = 0; i < argc; i++) {
		struct ama_buf b = AMA_BUF_INIT;

		if (ama_asset_path(&b, asset, argv[i]) < 0) {
			ama_buf_release(&b);
			while (i-- > 0)
				free(v[i]);
			free(v);
			return AMA_EINVAL;
		}
		v[i] = ama_buf_detach(&b);
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset asset;
	struct add a;
	struct ama_buf ipath = AMA_BUF_INIT;
	char **paths = NULL;
	int rc, i;

	ama_setprogname("ama-add");
	if (ama_parse_options(&argc, &argv, NULL,
			      AMA_COMMON_QUIET | AMA_COMMON_JOBS, &c,
			      usage_str) < 0)
		return 2;
	if (argc < 1)
		return ama_usage_error(&c,
				       "which paths? ('ama add .' adds all)");
	/* an unset "$var" must not mean "everything" */
	for (i = 0; i < argc; i++)
		if (!*argv[i])
			return ama_usage_error(&c,
				"empty path (use '.' for this folder)");
	memset(&a, 0, sizeof(a));
	a.c = &c;
	if (ama_asset_find(&asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	rc = resolve_paths(&asset, argc, argv, &paths);
	if (rc == 0 && chdir(asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, asset.root,
					  "cannot enter");
	/* absolute, so that messages name it from anywhere */
	ama_buf_addf(&ipath, "%s/.ama/index", asset.root);
	if (rc == 0)
		rc = ama_index_lock_and_load(&a.idx, ipath.s);
	if (rc < 0) {
		ama_report(NULL);
		rc = 2;
		goto out;
	}
	/* a symbolic link is recorded as a link, never followed */
	rc = ama_walk((const char *const *)paths, (size_t)argc,
		      AMA_WALK_LINKS, walk_one, &a);
	if (rc >= 0)
		rc = check_known(&a);
	if (rc >= 0)
		rc = hash_all(&a);
	/*
	 * Nothing hashed, nothing changed: the index stays as it is (a
	 * rewrite costs a tenth of a second at 10^6 entries, for nothing).
	 */
	if (rc >= 0 && a.todo.n)
		rc = ama_index_write_and_commit(a.idx);
	else if (rc >= 0)
		ama_index_rollback(a.idx);
	if (rc < 0) {
		ama_report(NULL);
		ama_index_rollback(a.idx);
		rc = 2;
		goto out;
	}
	if (!c.quiet) {
		struct ama_buf line = AMA_BUF_INIT;

		ama_buf_addf(&line, "%zu new, %zu updated, %zu unchanged\n",
			     a.added, a.updated, a.unchanged);
		ama_writer_raw(&c.out, line.s, line.len);
		ama_buf_release(&line);
	}
	rc = ama_finish(&c, a.status);
out:
	ama_index_free(a.idx);
	for (i = 0; paths && i < argc; i++)
		free(paths[i]);
	free(paths);
	ama_buf_release(&a.todo.paths);
	free(a.pos);
	ama_buf_release(&ipath);
	ama_asset_release(&asset);
	return rc;
}
