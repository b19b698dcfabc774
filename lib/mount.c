/* mount.c: a published version as a read-only filesystem (FUSE), its contents fetched into the cache on first read. */
#include "auto-config.h"

#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fetch.h"
#include "mount.h"
#include "store.h"

/* A folder: its path ("" for the root) and what it holds. */
struct child {
	const char *name;
	int dir;
};

struct folder {
	char *path;
	struct child *kids;
	size_t n, alloc;
	size_t *files;		/* its files' objects, for fetching behind */
	size_t nfiles, afiles;
};

enum { C_NONE, C_QUEUED, C_FETCHING, C_CACHED, C_BAD };

/* One content, however many objects share it. */
struct content {
	struct ama_md5 md5;
	uint64_t size;
	int state;
	const char *path;	/* an object holding it, for messages */
};

/* A queue of content numbers: taken from at head, added to at n. */
struct queue {
	size_t *v;
	size_t head, n, alloc;
};

static void push(struct queue *q, size_t k)
{
	if (q->head && q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->alloc) {
		q->alloc = q->alloc ? 2 * q->alloc : 64;
		q->v = ama_realloc(q->v, q->alloc * sizeof(*q->v));
	}
	q->v[q->n++] = k;
}

/* The next content number, or 0 when empty (*k unset). */
static int pop(struct queue *q, size_t *k)
{
	if (q->head == q->n)
		return 0;
	*k = q->v[q->head++];
	return 1;
}

struct fs {
	const struct ama_mount_opts *o;
	struct folder *dirs;	/* sorted by path (strcmp) */
	size_t ndirs, adirs;
	size_t *content_of;	/* each object's content */
	struct content *c;
	size_t nc;
	/* the fetch queues: demanded contents first, folders behind */
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct queue demand, behind;
	int quit;
	pthread_t *workers;
	int nworkers;
	uint64_t since_prune;
};

static struct fs *the_fs(void)
{
	return fuse_get_context()->private_data;
}

/* ---- the tree ---- */

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct folder *)a)->path,
		      ((const struct folder *)b)->path);
}

static struct folder *find_dir(struct fs *f, const char *path)
{
	struct folder key = { (char *)path, NULL, 0, 0, NULL, 0, 0 };

	return bsearch(&key, f->dirs, f->ndirs, sizeof(*f->dirs), by_path);
}

static void add_dir(struct fs *f, const char *path, size_t len)
{
	if (f->ndirs == f->adirs) {
		f->adirs = f->adirs ? 2 * f->adirs : 64;
		f->dirs = ama_realloc(f->dirs, f->adirs * sizeof(*f->dirs));
	}
	memset(&f->dirs[f->ndirs], 0, sizeof(*f->dirs));
	f->dirs[f->ndirs++].path = ama_strndup(path, len);
}

static void add_child(struct folder *d, const char *name, int dir)
{
	if (d->n == d->alloc) {
		d->alloc = d->alloc ? 2 * d->alloc : 8;
		d->kids = ama_realloc(d->kids, d->alloc * sizeof(*d->kids));
	}
	d->kids[d->n].name = name;
	d->kids[d->n++].dir = dir;
}

static int by_md5(const void *a, const void *b, void *arg)
{
	const struct ama_object *v = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	return memcmp(v[i].md5.d, v[j].md5.d, sizeof(v[i].md5.d));
}

static void build(struct fs *f)
{
	const struct ama_objlist *l = &f->o->m->objects;
	size_t i, k, *order;

	/* every folder: the root and each prefix ending at a '/' */
	add_dir(f, "", 0);
	for (i = 0; i < l->n; i++) {
		const char *p = l->v[i].path, *s;

		for (s = strchr(p, '/'); s; s = strchr(s + 1, '/'))
			add_dir(f, p, (size_t)(s - p));
	}
	qsort(f->dirs, f->ndirs, sizeof(*f->dirs), by_path);
	for (i = k = 0; i < f->ndirs; i++) {
		if (k && !strcmp(f->dirs[k - 1].path, f->dirs[i].path)) {
			free(f->dirs[i].path);
			continue;
		}
		f->dirs[k++] = f->dirs[i];
	}
	f->ndirs = k;
	for (i = 1; i < f->ndirs; i++) {	/* each folder in its parent */
		const char *p = f->dirs[i].path, *s = strrchr(p, '/');
		char *dir = ama_strndup(p, s ? (size_t)(s - p) : 0);

		add_child(find_dir(f, dir), s ? s + 1 : p, 1);
		free(dir);
	}
	for (i = 0; i < l->n; i++) {
		const char *p = l->v[i].path, *s = strrchr(p, '/');
		struct folder *parent;
		char *dir;

		dir = ama_strndup(p, s ? (size_t)(s - p) : 0);
		parent = find_dir(f, dir);
		free(dir);
		add_child(parent, s ? s + 1 : p, 0);
		if (parent->nfiles == parent->afiles) {
			parent->afiles = parent->afiles ? 2 * parent->afiles : 8;
			parent->files = ama_realloc(parent->files,
						    parent->afiles *
						    sizeof(*parent->files));
		}
		parent->files[parent->nfiles++] = i;
	}
	/* one content per MD5 */
	order = ama_malloc((l->n + 1) * sizeof(*order));
	f->content_of = ama_malloc((l->n + 1) * sizeof(*f->content_of));
	f->c = ama_calloc(l->n + 1, sizeof(*f->c));
	for (i = 0; i < l->n; i++)
		order[i] = i;
	qsort_r(order, l->n, sizeof(*order), by_md5, l->v);
	for (i = 0; i < l->n; i++) {
		const struct ama_object *o = &l->v[order[i]];

		if (!f->nc || !ama_md5_equal(&f->c[f->nc - 1].md5, &o->md5)) {
			f->c[f->nc].md5 = o->md5;
			f->c[f->nc].size = o->size;
			f->c[f->nc].path = o->path;
			if (ama_cache_has(f->o->cache, &o->md5, o->size))
				f->c[f->nc].state = C_CACHED;
			f->nc++;
		}
		f->content_of[order[i]] = f->nc - 1;
	}
	free(order);
}

static const struct ama_object *find_file(struct fs *f, const char *path)
{
	return ama_objlist_find(&f->o->m->objects, path, strlen(path));
}

/* ---- fetching ---- */

/* Queue content k (first when demanded); f->mu held. */
static void enqueue(struct fs *f, size_t k, int demanded)
{
	/* one queued behind and now demanded goes first too */
	if (f->c[k].state != C_NONE &&
	    !(demanded && f->c[k].state == C_QUEUED))
		return;
	push(demanded ? &f->demand : &f->behind, k);
	f->c[k].state = C_QUEUED;
	pthread_cond_signal(&f->work);
}

static void prune(struct fs *f, uint64_t added)
{
	f->since_prune += added;
	if (!f->o->max_cache || f->since_prune < f->o->max_cache / 8)
		return;
	f->since_prune = 0;
	if (ama_cache_prune(f->o->cache, f->o->max_cache, NULL, NULL) < 0)
		ama_error_clear();
}

static void *worker(void *arg)
{
	struct fs *f = arg;
	struct ama_store *st = NULL;

	if (ama_store_open(&st, f->o->remote_url, f->o->cfg, "remote") < 0)
		st = NULL;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		size_t k;
		int rc, fetched = 0;

		while (!f->quit && !pop(&f->demand, &k) &&
		       !pop(&f->behind, &k))
			pthread_cond_wait(&f->work, &f->mu);
		if (f->quit)
			break;
		if (f->c[k].state != C_QUEUED)
			continue;	/* taken already, from the other queue */
		f->c[k].state = C_FETCHING;
		pthread_mutex_unlock(&f->mu);
		rc = st ? ama_fetch_content(st, f->o->cache, f->o->top_hash,
					    &f->c[k].md5, f->c[k].size, NULL,
					    NULL, &fetched) :
			ama_error_set(AMA_ESETUP, "no store");
		if (rc < 0 && f->o->report)
			f->o->report(f->o->ctx, f->c[k].path, ama_error_msg());
		pthread_mutex_lock(&f->mu);
		f->c[k].state = rc < 0 ? C_BAD : C_CACHED;
		if (rc == 0 && fetched)
			prune(f, f->c[k].size);
		pthread_cond_broadcast(&f->done);
	}
	pthread_mutex_unlock(&f->mu);
	ama_store_close(st);
	return NULL;
}

/* The cached content of o, open; fetched first (and its folder behind). */
static int open_content(struct fs *f, const struct ama_object *o)
{
	size_t idx = (size_t)(o - f->o->m->objects.v), k = f->content_of[idx];
	struct folder *d;
	char *dir;
	const char *s;
	size_t i;
	int fd;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		if (f->c[k].state == C_CACHED) {
			pthread_mutex_unlock(&f->mu);
			fd = ama_cache_open_content(f->o->cache, &o->md5,
						    o->size);
			if (fd >= 0)
				return fd;
			ama_error_clear();	/* pruned since: fetch again */
			pthread_mutex_lock(&f->mu);
			if (f->c[k].state == C_CACHED)
				f->c[k].state = C_NONE;
			continue;
		}
		if (f->c[k].state == C_BAD) {
			pthread_mutex_unlock(&f->mu);
			return -EIO;
		}
		if (f->c[k].state == C_NONE) {
			enqueue(f, k, 1);
			/* a reader goes through a folder: its files next */
			s = strrchr(o->path, '/');
			dir = ama_strndup(o->path, s ? (size_t)(s - o->path) : 0);
			d = find_dir(f, dir);
			free(dir);
			for (i = 0; d && i < d->nfiles; i++)
				enqueue(f, f->content_of[d->files[i]], 0);
		}
		pthread_cond_wait(&f->done, &f->mu);
	}
}

/* ---- the filesystem's calls ---- */

static const char *rel(const char *path)
{
	return path[0] == '/' ? path + 1 : path;
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct fs *f = the_fs();
	const struct ama_object *o;

	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)f->o->m->time;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (find_dir(f, rel(path))) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	o = find_file(f, rel(path));
	if (!o)
		return -ENOENT;
	st->st_mode = o->kind == AMA_OBJECT_LINK ? S_IFLNK | 0777 :
		S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = (off_t)o->size;
	st->st_blocks = (blkcnt_t)((o->size + 511) / 512);
	return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct folder *d = find_dir(the_fs(), rel(path));
	size_t i;

	(void)off;
	(void)fi;
	(void)flags;
	if (!d)
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	for (i = 0; i < d->n; i++)
		if (fill(buf, d->kids[i].name, NULL, 0, 0))
			break;
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *f = the_fs();
	const struct ama_object *o = find_file(f, rel(path));
	int fd;

	if (!o)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	fd = open_content(f, o);
	if (fd < 0)
		return fd;
	fi->fh = (uint64_t)fd;
	fi->keep_cache = 1;	/* a version never changes */
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	n = pread((int)fi->fh, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	struct fs *f = the_fs();
	const struct ama_object *o = find_file(f, rel(path));
	ssize_t n;
	int fd;

	if (!o || o->kind != AMA_OBJECT_LINK)
		return -EINVAL;
	fd = open_content(f, o);
	if (fd < 0)
		return fd;
	n = pread(fd, buf, size ? size - 1 : 0, 0);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->kernel_cache = 1;
	cfg->entry_timeout = cfg->attr_timeout = 3600;
	cfg->negative_timeout = 3600;
	return fuse_get_context()->private_data;
}

static const struct fuse_operations ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
	.readlink = fs_readlink,
};

static void fs_free(struct fs *f)
{
	size_t i;

	for (i = 0; i < f->ndirs; i++) {
		free(f->dirs[i].path);
		free(f->dirs[i].kids);
		free(f->dirs[i].files);
	}
	free(f->dirs);
	free(f->content_of);
	free(f->c);
	free(f->demand.v);
	free(f->behind.v);
	free(f->workers);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->work);
	pthread_cond_destroy(&f->done);
}

/* libfuse's session around our filesystem: mount, serve, unmount. */
static int serve(struct fs *f, const char *dir, const char *opts)
{
	char *argv[] = { "ama-mount", "-o", (char *)opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_loop_config *lc = NULL;
	struct fuse *fuse = fuse_new(&args, &ops, sizeof(ops), f);
	int rc = -1;

	if (!fuse)
		goto out;
	if (fuse_mount(fuse, dir) < 0)
		goto out;
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) == 0) {
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_max_threads(lc, 16);
		fuse_loop_cfg_set_clone_fd(lc, 0);
		rc = fuse_loop_mt(fuse, lc);
		fuse_remove_signal_handlers(fuse_get_session(fuse));
	}
	fuse_unmount(fuse);
out:
	if (lc)
		fuse_loop_cfg_destroy(lc);
	if (fuse)
		fuse_destroy(fuse);
	fuse_opt_free_args(&args);
	return rc;
}

int ama_mount_run(const char *dir, const struct ama_mount_opts *o)
{
	struct ama_buf opt = AMA_BUF_INIT;
	struct fs f;
	int i, rc;

	memset(&f, 0, sizeof(f));
	f.o = o;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.work, NULL);
	pthread_cond_init(&f.done, NULL);
	build(&f);
	f.nworkers = o->jobs > 0 ? o->jobs : 8;
	f.workers = ama_calloc((size_t)f.nworkers, sizeof(*f.workers));
	for (i = 0; i < f.nworkers; i++)
		if (pthread_create(&f.workers[i], NULL, worker, &f) != 0)
			break;
	f.nworkers = i;
	ama_buf_addf(&opt, "ro,default_permissions,subtype=ama,fsname=%s",
		     o->fsname ? o->fsname : "ama");
	rc = serve(&f, dir, opt.s);
	pthread_mutex_lock(&f.mu);
	f.quit = 1;
	pthread_cond_broadcast(&f.work);
	pthread_mutex_unlock(&f.mu);
	for (i = 0; i < f.nworkers; i++)
		pthread_join(f.workers[i], NULL);
	fs_free(&f);
	ama_buf_release(&opt);
	return rc ? ama_error_setp(AMA_ESETUP, dir, "cannot be mounted "
				   "(libfuse said why above)") : 0;
}
