/* verify.c: change detection over index entries, spread over threads, results in order. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "md5.h"
#include "verify.h"

#define BATCH_MAX 256
#define WINDOW_BATCHES 8	/* per thread: results ahead of the caller */

static const char *const verdict_names[] = {
	"ok", "modified", "deleted", "error",
};

const char *ama_verdict_name(enum ama_verdict v)
{
	return verdict_names[v];
}

int ama_verify_stat_matches(const struct ama_stat *recorded,
			    const struct ama_stat *now)
{
	return recorded->size == now->size &&
		recorded->mtime_ns == now->mtime_ns &&
		recorded->ctime_ns == now->ctime_ns &&
		recorded->ino == now->ino;
}

/*
 * What one thread keeps between checks: a hasher set up on first use (most
 * checks never read a file), and the folder of the last entries, opened,
 * so that the entries of a folder are stat-ed by name in it rather than
 * by a path the kernel walks again each time.
 */
struct checker {
	struct ama_hasher h;
	int ready;
	int stat_only;		/* ama_verify_opts.stat_only */
	int dirfd;		/* -1: none */
	struct ama_buf dir;	/* the folder dirfd is for */
};

static void checker_init(struct checker *k)
{
	memset(k, 0, sizeof(*k));
	k->dirfd = -1;
}

static void checker_release(struct checker *k)
{
	if (k->ready)
		ama_hasher_release(&k->h);
	if (k->dirfd >= 0)
		close(k->dirfd);
	ama_buf_release(&k->dir);
	checker_init(k);
}

static size_t dir_len(const struct ama_index_entry *e)
{
	const char *slash = memrchr(e->path, '/', e->path_len);

	return slash ? (size_t)(slash - e->path) : 0;
}

/*
 * lstat an entry's path. The folder is opened when the next entry shares
 * it (entries are in path order), and kept while they do; a folder that
 * cannot be opened falls back to the path, which gives the right error.
 */
static int stat_entry(struct checker *k, const struct ama_index_entry *e,
		      const struct ama_index_entry *next, struct stat *sb)
{
	size_t dl = dir_len(e);
	int same = k->dir.len == dl && dl && !memcmp(k->dir.s, e->path, dl);

	if (!same && dl && next && dir_len(next) == dl &&
	    !memcmp(next->path, e->path, dl)) {
		if (k->dirfd >= 0)
			close(k->dirfd);
		ama_buf_reset(&k->dir);
		ama_buf_add(&k->dir, e->path, dl);
#ifdef O_PATH
		k->dirfd = open(k->dir.s, O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
		k->dirfd = open(k->dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
		same = 1;
	}
	if (same && k->dirfd >= 0)
		return fstatat(k->dirfd, e->path + dl + 1, sb,
			       AT_SYMLINK_NOFOLLOW);
	return lstat(e->path, sb);
}

static void set_error(struct ama_verify_result *out, int rc)
{
	const char *subject = ama_error_path();

	out->verdict = AMA_VERDICT_ERROR;
	out->rc = rc;
	out->msg = ama_strdup(ama_error_msg());
	out->subject = subject ? ama_strdup(subject) : NULL;
}

static void rehash(struct ama_index_entry *e, struct checker *k,
		   struct ama_verify_result *out)
{
	struct ama_stat st;
	int64_t start;
	int rc;

	if (!k->ready) {
		ama_hasher_init(&k->h);
		k->ready = 1;
	}
	start = ama_clock_coarse_ns();
	rc = ama_md5_file(&k->h, &out->md5, &st, e->path);
	if (rc == AMA_ENOTFOUND || rc == AMA_ENOTREG) {
		out->verdict = AMA_VERDICT_DELETED;
		return;
	}
	if (rc < 0) {
		set_error(out, rc);
		return;
	}
	out->rehashed = 1;
	out->st = st;
	out->racy = ama_racy_since(&st, start);
	out->verdict = st.size == e->st.size &&
		ama_md5_equal(&out->md5, &e->md5) ?
		AMA_VERDICT_OK : AMA_VERDICT_MODIFIED;
}

static void check(const struct ama_index *idx, struct ama_index_entry *e,
		  const struct ama_index_entry *next, struct checker *k,
		  struct ama_verify_result *out)
{
	struct stat sb;

	memset(out, 0, sizeof(*out));
	out->entry = e;
	if (e->flags & AMA_ENTRY_SKIP) {
		/* not in the work tree by choice: nothing to look at */
		out->verdict = AMA_VERDICT_OK;
		out->skipped = 1;
		return;
	}
	if (stat_entry(k, e, next, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			out->verdict = AMA_VERDICT_DELETED;
			return;
		}
		set_error(out, ama_error_setp_errno(AMA_EIO, e->path,
						    "cannot stat"));
		return;
	}
	ama_stat_from(&out->st, &sb);
	if (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
		out->verdict = AMA_VERDICT_DELETED;
		return;
	}
	/* a file that became a link, or a link a file: another content */
	if ((S_ISLNK(sb.st_mode) != 0) != (S_ISLNK(e->st.mode) != 0) ||
	    out->st.size != e->st.size) {
		out->verdict = AMA_VERDICT_MODIFIED;
		return;
	}
	if (ama_verify_stat_matches(&e->st, &out->st) &&
	    !ama_index_entry_is_racy(idx, e)) {
		out->verdict = AMA_VERDICT_OK;
		return;
	}
	if (k->stat_only) {
		out->verdict = AMA_VERDICT_MODIFIED;	/* to be read */
		return;
	}
	rehash(e, k, out);
}

void ama_verify_entry(const struct ama_index *idx,
		      struct ama_index_entry *e,
		      struct ama_verify_result *out)
{
	struct checker k;

	checker_init(&k);
	check(idx, e, NULL, &k, out);
	checker_release(&k);
}

void ama_verify_result_release(struct ama_verify_result *r)
{
	free(r->msg);
	free(r->subject);
	r->msg = r->subject = NULL;
}

void ama_refresh_list_release(struct ama_refresh_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

/*
 * On the calling thread, before the callback: an entry found OK by a
 * rehash takes the hash-time stat record; the RACY flag is set only if the
 * file is racy at hash time. Nothing to record when the entry already says
 * exactly that, unless it was racy by the index's timestamp alone: then a
 * write of the index is what makes it trustworthy.
 */
static void refresh_in_memory(const struct ama_index *idx,
			      struct ama_verify_result *r,
			      struct ama_refresh_list *l)
{
	struct ama_index_entry *e = r->entry;
	uint8_t old_flags = e->flags & AMA_ENTRY_RACY;
	uint8_t new_flags = r->racy ? AMA_ENTRY_RACY : 0;
	struct ama_refresh *f;

	if (r->verdict != AMA_VERDICT_OK || !r->rehashed)
		return;
	if (ama_stat_equal(&e->st, &r->st) && old_flags == new_flags &&
	    (new_flags || e->st.mtime_ns < ama_index_mtime_ns(idx)))
		return;
	if (l) {
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? 2 * l->alloc : 64;
			l->v = ama_realloc(l->v, l->alloc * sizeof(*l->v));
		}
		f = &l->v[l->n++];
		f->path = e->path;
		f->path_len = e->path_len;
		f->md5 = e->md5;
		f->old_st = e->st;
		f->new_st = r->st;
		f->old_flags = old_flags;
		f->new_flags = new_flags;
	}
	e->st = r->st;
	e->flags = (uint8_t)((e->flags & ~AMA_ENTRY_RACY) | new_flags);
	r->refreshed = 1;
}

/* Hand one result to the callback; returns its code. */
static int deliver(struct ama_index *idx, const struct ama_verify_opts *o,
		   struct ama_verify_result *r)
{
	int rc;

	refresh_in_memory(idx, r, o->refresh);
	ama_error_clear();
	if (r->verdict == AMA_VERDICT_ERROR) {
		if (r->subject)
			ama_error_setp(r->rc, r->subject, "%s", r->msg);
		else
			ama_error_set(r->rc, "%s", r->msg);
	}
	rc = o->fn ? o->fn(r, o->ctx) : 0;
	ama_verify_result_release(r);
	return rc < 0 ? rc : 0;
}

/* --- the parallel run --- */

struct run {
	struct ama_index *idx;
	struct ama_index_entry *e;
	const size_t *pos;
	int stat_only;
	size_t n;		/* entries to check */
	size_t batch;		/* entries a claim */
	size_t nbatches;
	size_t window;		/* batches in the ring */
	struct ama_verify_result *ring;	/* window * batch results */
	unsigned char *done;	/* per ring batch */
	pthread_mutex_t mu;
	pthread_cond_t more;	/* room in the window, or stop */
	pthread_cond_t ready;	/* a batch is done */
	size_t next;		/* next batch to claim */
	size_t delivered;	/* batches handed to the callback */
	int stop;
};

static struct ama_index_entry *nth(struct run *r, size_t i)
{
	return &r->e[r->pos ? r->pos[i] : i];
}

static void *worker(void *arg)
{
	struct run *r = arg;
	struct checker k;

	checker_init(&k);
	k.stat_only = r->stat_only;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		size_t b, i, first, last;
		struct ama_verify_result *slot;

		while (!r->stop && r->next < r->nbatches &&
		       r->next >= r->delivered + r->window)
			pthread_cond_wait(&r->more, &r->mu);
		if (r->stop || r->next >= r->nbatches)
			break;
		b = r->next++;
		pthread_mutex_unlock(&r->mu);
		first = b * r->batch;
		last = first + r->batch < r->n ? first + r->batch : r->n;
		slot = &r->ring[(b % r->window) * r->batch];
		for (i = first; i < last; i++) {
			check(r->idx, nth(r, i),
			      i + 1 < last ? nth(r, i + 1) : NULL, &k,
			      &slot[i - first]);
			slot[i - first].seq = i;
		}
		pthread_mutex_lock(&r->mu);
		r->done[b % r->window] = 1;
		pthread_cond_signal(&r->ready);
	}
	pthread_mutex_unlock(&r->mu);
	checker_release(&k);
	return NULL;
}

static int run_inline(struct ama_index *idx, const struct ama_verify_opts *o,
		      struct run *r)
{
	struct checker k;
	struct ama_verify_result res;
	size_t i;
	int rc = 0;

	checker_init(&k);
	k.stat_only = r->stat_only;
	for (i = 0; i < r->n && rc == 0; i++) {
		check(idx, nth(r, i), i + 1 < r->n ? nth(r, i + 1) : NULL, &k,
		      &res);
		res.seq = i;
		rc = deliver(idx, o, &res);
	}
	checker_release(&k);
	return rc;
}

static int run_threads(struct ama_index *idx,
		       const struct ama_verify_opts *o, struct run *r,
		       int jobs)
{
	pthread_t *tid = ama_calloc((size_t)jobs, sizeof(*tid));
	size_t b, i, k;
	int started = 0, rc = 0;

	r->window = (size_t)jobs * WINDOW_BATCHES;
	r->ring = ama_calloc(r->window * r->batch, sizeof(*r->ring));
	r->done = ama_calloc(r->window, 1);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->more, NULL);
	pthread_cond_init(&r->ready, NULL);
	for (; started < jobs; started++)
		if (pthread_create(&tid[started], NULL, worker, r))
			break;
	if (!started) {
		/* no thread at all: do the work here */
		rc = run_inline(idx, o, r);
		goto out;
	}
	for (b = 0; b < r->nbatches && rc == 0; b++) {
		struct ama_verify_result *slot;
		size_t first = b * r->batch;
		size_t last = first + r->batch < r->n ? first + r->batch : r->n;

		pthread_mutex_lock(&r->mu);
		while (!r->done[b % r->window])
			pthread_cond_wait(&r->ready, &r->mu);
		pthread_mutex_unlock(&r->mu);
		slot = &r->ring[(b % r->window) * r->batch];
		for (i = first; i < last; i++) {
			if (rc == 0)
				rc = deliver(idx, o, &slot[i - first]);
			else
				ama_verify_result_release(&slot[i - first]);
		}
		pthread_mutex_lock(&r->mu);
		r->done[b % r->window] = 0;
		r->delivered++;
		if (rc < 0)
			r->stop = 1;
		pthread_cond_broadcast(&r->more);
		pthread_mutex_unlock(&r->mu);
	}
	for (k = 0; k < (size_t)started; k++)
		pthread_join(tid[k], NULL);
	/* a stopped run leaves finished batches behind: free their messages */
	for (; b < r->next; b++) {
		size_t first = b * r->batch;
		size_t last = first + r->batch < r->n ? first + r->batch : r->n;

		for (i = first; i < last; i++)
			ama_verify_result_release(
				&r->ring[(b % r->window) * r->batch + i - first]);
	}
out:
	pthread_cond_destroy(&r->ready);
	pthread_cond_destroy(&r->more);
	pthread_mutex_destroy(&r->mu);
	free(r->done);
	free(r->ring);
	free(tid);
	return rc;
}

int ama_verify_run(struct ama_index *idx, const struct ama_verify_opts *o)
{
	struct run r;
	size_t count;
	int jobs = o->jobs < 1 ? 1 : o->jobs;

	memset(&r, 0, sizeof(r));
	r.idx = idx;
	r.e = ama_index_entries(idx, &count);
	r.pos = o->pos;
	r.stat_only = o->stat_only;
	r.n = o->pos ? o->npos : count;
	if (r.n == 0)
		return 0;
	/* small batches when there is little to do: spread the rehashes */
	r.batch = r.n / ((size_t)jobs * 16);
	if (r.batch < 1)
		r.batch = 1;
	if (r.batch > BATCH_MAX)
		r.batch = BATCH_MAX;
	r.nbatches = (r.n + r.batch - 1) / r.batch;
	if (jobs == 1 || r.n == 1)
		return run_inline(idx, o, &r);
	if ((size_t)jobs > r.nbatches)
		jobs = (int)r.nbatches;
	return run_threads(idx, o, &r, jobs);
}

/* --- writing refreshes back --- */

static int folder_writable(const char *path)
{
	char *copy = ama_strdup(path);
	int ok = faccessat(AT_FDCWD, dirname(copy), W_OK, AT_EACCESS) == 0;

	free(copy);
	return ok;
}

int ama_verify_refresh(const char *index_path,
		       const struct ama_refresh_list *l)
{
	struct ama_index *idx;
	size_t i;
	int applied = 0, rc;

	if (!l->n || !folder_writable(index_path))
		return 0;
	rc = ama_index_lock_and_load(&idx, index_path);
	if (rc < 0)
		return rc;
	for (i = 0; i < l->n; i++) {
		const struct ama_refresh *f = &l->v[i];
		struct ama_index_entry *e =
			ama_index_find(idx, f->path, f->path_len);

		if (!e || !ama_md5_equal(&e->md5, &f->md5) ||
		    !ama_stat_equal(&e->st, &f->old_st) ||
		    (e->flags & AMA_ENTRY_RACY) != f->old_flags)
			continue;
		e->st = f->new_st;
		e->flags = (uint8_t)((e->flags & ~AMA_ENTRY_RACY) |
				     f->new_flags);
		applied++;
	}
	if (applied)
		rc = ama_index_write_and_commit(idx);
	else
		ama_index_rollback(idx);
	ama_index_free(idx);
	return rc < 0 ? rc : applied;
}
