/* meta.c: versions as git commits: a mempack, one pack per version, CAS refs. */
#include "auto-config.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "error.h"
#include "meta.h"
#include "shellquote.h"

#define REF_PREFIX "refs/ama/"

struct ama_meta {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack;	/* owned by odb */
	git_oid *written;		/* oids put into the mempack */
	size_t nwritten, alloc;
};

/*
 * Record a libgit2 failure as code: "what: libgit2's reason", about path
 * when it is not NULL. Returns code.
 */
static int vgit_fail(int code, const char *path, const char *fmt, va_list ap)
{
	const git_error *e = git_error_last();
	struct ama_buf what = AMA_BUF_INIT;

	ama_buf_vaddf(&what, fmt, ap);
	ama_buf_addstr(&what, ": ");
	ama_buf_addstr(&what, e && e->message ? e->message : "libgit2 failed");
	if (path)
		ama_error_setp(code, path, "%s", what.s);
	else
		ama_error_set(code, "%s", what.s);
	ama_buf_release(&what);
	return code;
}

static int git_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int git_failp(int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int git_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vgit_fail(code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

static int git_failp(int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vgit_fail(code, path, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- opening ---- */

void ama_meta_close(struct ama_meta *m)
{
	if (!m)
		return;
	git_odb_free(m->odb);
	git_repository_free(m->repo);
	free(m->written);
	free(m);
	git_libgit2_shutdown();
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm -r of a folder of ours; nothing there is fine. */
static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int open_repo(git_repository **repo, const char *path, unsigned flags)
{
	git_repository_init_options o;
	struct ama_buf tmp = AMA_BUF_INIT;
	int rc = git_repository_open_bare(repo, path);

	if (rc == 0)
		return 0;
	if (rc != GIT_ENOTFOUND)
		return git_failp(AMA_EIO, path,
				 "cannot open the metadata repository");
	if (!(flags & AMA_META_CREATE))
		return ama_error_setp(AMA_ENOTFOUND, path,
				      "no metadata repository here");
	/*
	 * Made under a private name and renamed into place: a process
	 * killed half way must not leave a repository that is neither
	 * there (nothing opens it) nor creatable (its HEAD.lock stays).
	 */
	git_repository_init_options_init(&o,
					 GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	o.initial_head = "main";
	ama_buf_addf(&tmp, "%s.init-%ld", path, (long)getpid());
	remove_tree(tmp.s);
	rc = 0;
	if (git_repository_init_ext(repo, tmp.s, &o) < 0) {
		rc = git_failp(AMA_EIO, path,
			       "cannot create the metadata repository");
		goto out;
	}
	git_repository_free(*repo);
	*repo = NULL;
	if (rename(tmp.s, path) < 0 && errno != EEXIST &&
	    errno != ENOTEMPTY) {
		rc = errno == ENOTDIR ?
			ama_error_setp(AMA_EIO, path, "cannot create the "
				       "metadata repository: something that "
				       "is not a folder is in its place") :
			ama_error_setp_errno(AMA_EIO, path, "cannot create "
					     "the metadata repository");
		goto out;
	}
	/* ours, or the one another process made meanwhile */
	if (git_repository_open_bare(repo, path) < 0)
		rc = git_failp(AMA_EIO, path,
			       "cannot open the metadata repository");
out:
	remove_tree(tmp.s);
	ama_buf_release(&tmp);
	return rc;
}

static size_t open_packs;	/* atomic: set by ama_meta_set_open_packs */

void ama_meta_set_open_packs(size_t n)
{
	__atomic_store_n(&open_packs, n < 1 ? 1 : n, __ATOMIC_RELEASE);
}

int ama_meta_open(struct ama_meta **out, const char *path, unsigned flags)
{
	struct ama_meta *m;
	size_t packs = __atomic_load_n(&open_packs, __ATOMIC_ACQUIRE);
	int rc;

	*out = NULL;
	if (git_libgit2_init() < 0)
		return git_fail(AMA_EIO, "cannot set up libgit2");
	/*
	 * A version is published once its ref moves: the pack it points
	 * into must be on disk by then.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	/* descriptors bounded by the setting, not by the versions read */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT,
			 packs ? packs : (size_t)AMA_META_OPEN_PACKS);
	m = ama_calloc(1, sizeof(*m));
	rc = open_repo(&m->repo, path, flags);
	if (rc < 0)
		goto fail;
	if (git_repository_odb(&m->odb, m->repo) < 0 ||
	    git_mempack_new(&m->mempack) < 0) {
		rc = git_fail(AMA_EIO, "cannot set up the object database");
		goto fail;
	}
	if (git_odb_add_backend(m->odb, m->mempack, 999) < 0) {
		m->mempack->free(m->mempack);
		rc = git_fail(AMA_EIO, "cannot set up the object database");
		goto fail;
	}
	*out = m;
	return 0;
fail:
	ama_meta_close(m);
	return rc;
}

/* ---- names ---- */

static int check_asset(const char *class, uint64_t seq)
{
	if (ama_manifest_check_class(class) < 0)
		return AMA_EINVAL;
	if (seq == 0)
		return ama_error_set(AMA_EINVAL,
				     "bad seq: assets count from 1");
	return 0;
}

static void ref_name(struct ama_buf *b, const char *class, uint64_t seq)
{
	ama_buf_addf(b, REF_PREFIX "%s/%llu", class, (unsigned long long)seq);
}

/* ---- reading versions back from commits ---- */

void ama_meta_version_release(struct ama_meta_version *v)
{
	free(v->class);
	free(v->author);
	free(v->message);
	memset(v, 0, sizeof(*v));
}

static int not_a_version(const git_oid *id, const char *why)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	return ama_error_set(AMA_ECORRUPT,
			     "commit %s is not an ama version: %s", hex, why);
}

/* Parse "CLASS/SEQ". */
static int parse_asset(struct ama_meta_version *v, const char *s)
{
	const char *slash = strrchr(s, '/');
	uint64_t seq = 0;
	const char *p;

	if (!slash || !slash[1] || (slash[1] == '0'))
		return -1;
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || seq > (UINT64_MAX - 9) / 10)
			return -1;
		seq = seq * 10 + (uint64_t)(*p - '0');
	}
	v->class = ama_strndup(s, (size_t)(slash - s));
	v->seq = seq;
	if (ama_manifest_check_class(v->class) < 0)
		return -1;
	return 0;
}

/* A commit id: 64 lowercase hex digits. */
static int commit_id_of(struct ama_meta_version *v, const char *s)
{
	size_t i;

	for (i = 0; i < AMA_COMMIT_ID_HEXLEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	if (s[i])
		return -1;
	memcpy(v->commit_id, s, AMA_COMMIT_ID_HEXLEN + 1);
	return 0;
}

static int parse_trailers(struct ama_meta_version *v, const git_oid *id,
			  const char *msg)
{
	git_message_trailer_array arr = { 0 };
	int have_version = 0, rc = 0;
	size_t i;

	if (git_message_trailers(&arr, msg) < 0)
		return not_a_version(id, "no trailers");
	for (i = 0; i < arr.count && rc == 0; i++) {
		const char *k = arr.trailers[i].key;
		const char *val = arr.trailers[i].value;

		if (!strcmp(k, "Ama-Version")) {
			rc = have_version ? -1 :
				ama_version_parse(&v->version, val);
			have_version = 1;
		} else if (!strcmp(k, "Ama-Parent")) {
			rc = v->has_parent ? -1 :
				ama_version_parse(&v->parent, val);
			v->has_parent = 1;
		} else if (!strcmp(k, "Ama-Asset")) {
			rc = v->class ? -1 : parse_asset(v, val);
		} else if (!strcmp(k, "Ama-Commit-Id")) {
			rc = v->commit_id[0] ? -1 : commit_id_of(v, val);
		}
	}
	git_message_trailer_array_free(&arr);
	if (rc < 0)
		return not_a_version(id, "a bad Ama- trailer");
	if (!have_version || !v->class || !v->commit_id[0])
		return not_a_version(id, "Ama-Version, Ama-Asset or "
				     "Ama-Commit-Id missing");
	return 0;
}

/* Fill out from commit c. */
static int version_of(struct ama_meta_version *out, git_commit *c)
{
	const git_oid *id = git_commit_id(c);
	const git_signature *a = git_commit_author(c);
	const char *msg = git_commit_message_raw(c), *p, *cut = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	git_oid_tostr(out->oid, sizeof(out->oid), id);
	rc = parse_trailers(out, id, msg);
	if (rc < 0)
		goto fail;
	/* the message is what comes before the last empty line */
	for (p = msg; (p = strstr(p, "\n\n")); p++)
		cut = p;
	out->message = cut ? ama_strndup(msg, (size_t)(cut - msg))
			   : ama_strdup("");
	out->author = ama_strdup(a->name);
	out->time = (int64_t)a->when.time;
	return 0;
fail:
	ama_meta_version_release(out);
	return rc;
}

static int version_at(struct ama_meta *m, struct ama_meta_version *out,
		      const git_oid *id)
{
	git_commit *c;
	int rc;

	if (git_commit_lookup(&c, m->repo, id) < 0) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), id);
		return git_fail(AMA_ECORRUPT, "cannot read commit %s", hex);
	}
	rc = version_of(out, c);
	git_commit_free(c);
	return rc;
}

/* The commit the asset's ref points at; AMA_ENOTFOUND if none. */
static int head_oid(struct ama_meta *m, git_oid *out, const char *class,
		    uint64_t seq)
{
	struct ama_buf name = AMA_BUF_INIT;
	int rc;

	ref_name(&name, class, seq);
	rc = git_reference_name_to_id(out, m->repo, name.s);
	if (rc == GIT_ENOTFOUND)
		rc = ama_error_set(AMA_ENOTFOUND,
				   "asset %s/%llu has no version", class,
				   (unsigned long long)seq);
	else if (rc < 0)
		rc = git_fail(AMA_EIO, "cannot read ref %s", name.s);
	ama_buf_release(&name);
	return rc;
}

int ama_meta_head(struct ama_meta *m, struct ama_meta_version *out,
		  const char *class, uint64_t seq)
{
	git_oid id;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_asset(class, seq);
	if (rc == 0)
		rc = head_oid(m, &id, class, seq);
	if (rc == 0)
		rc = version_at(m, out, &id);
	return rc;
}

/*
 * Walk the versions of an asset from the newest, calling fn until it
 * returns non-zero (which is returned) or max versions were seen.
 */
typedef int (*walk_fn)(const struct ama_meta_version *v, void *ctx);

static int walk(struct ama_meta *m, const char *class, uint64_t seq,
		size_t max, walk_fn fn, void *ctx)
{
	git_commit *c = NULL, *parent;
	git_oid id;
	size_t seen = 0;
	int rc;

	rc = check_asset(class, seq);
	if (rc == 0)
		rc = head_oid(m, &id, class, seq);
	if (rc == 0 && git_commit_lookup(&c, m->repo, &id) < 0)
		rc = git_fail(AMA_ECORRUPT, "cannot read the newest commit");
	while (rc == 0 && c && (max == 0 || seen < max)) {
		struct ama_meta_version v;

		rc = version_of(&v, c);
		if (rc < 0)
			break;
		rc = fn(&v, ctx);
		ama_meta_version_release(&v);
		seen++;
		if (rc != 0 || git_commit_parentcount(c) == 0)
			break;
		if (git_commit_parent(&parent, c, 0) < 0) {
			rc = git_fail(AMA_ECORRUPT, "cannot read a parent");
			break;
		}
		git_commit_free(c);
		c = parent;
	}
	git_commit_free(c);
	return rc;
}

int ama_meta_log(struct ama_meta *m, const char *class, uint64_t seq,
		 size_t max, ama_meta_version_fn fn, void *ctx)
{
	return walk(m, class, seq, max, fn, ctx);
}

struct find {
	const struct ama_version *version;	/* or */
	const char *commit_id;
	struct ama_meta_version *out;
	int found;
};

static int find_one(const struct ama_meta_version *v, void *ctx)
{
	struct find *f = ctx;
	int c;

	if (f->commit_id) {
		if (strcmp(v->commit_id, f->commit_id))
			return 0;
	} else {
		c = ama_version_cmp(&v->version, f->version);
		if (c < 0)
			return 1;	/* older from here on: not there */
		if (c > 0)
			return 0;
	}
	*f->out = *v;
	f->out->class = ama_strdup(v->class);
	f->out->author = ama_strdup(v->author);
	f->out->message = ama_strdup(v->message);
	f->found = 1;
	return 1;
}

static int find(struct ama_meta *m, struct find *f, const char *class,
		uint64_t seq, size_t depth)
{
	char want[AMA_VERSION_BUFSIZE];
	int rc;

	memset(f->out, 0, sizeof(*f->out));
	rc = walk(m, class, seq, depth, find_one, f);
	if (rc < 0)
		return rc;
	if (f->found)
		return 0;
	if (f->commit_id)
		return ama_error_set(AMA_ENOTFOUND,
				     "asset %s/%llu has no version with "
				     "commit id %s", class,
				     (unsigned long long)seq, f->commit_id);
	ama_version_format(want, f->version);
	return ama_error_set(AMA_ENOTFOUND, "asset %s/%llu has no version %s",
			     class, (unsigned long long)seq, want);
}

int ama_meta_find_version(struct ama_meta *m, struct ama_meta_version *out,
			  const char *class, uint64_t seq,
			  const struct ama_version *version)
{
	struct find f = { version, NULL, out, 0 };

	return find(m, &f, class, seq, 0);
}

int ama_meta_find_commit_id(struct ama_meta *m, struct ama_meta_version *out,
			    const char *class, uint64_t seq,
			    const char *commit_id, size_t depth)
{
	struct find f = { NULL, commit_id, out, 0 };

	return find(m, &f, class, seq, depth);
}

/* ---- reading trees back into object lists ---- */

/* A file's blob: "<md5> <size>\n". */
static int read_blob(struct ama_meta *m, const git_oid *id, const char *path,
		     struct ama_md5 *md5, uint64_t *size)
{
	git_odb_object *o;
	const char *data;
	size_t len;
	int rc = 0;

	if (git_odb_read(&o, m->odb, id) < 0)
		return git_fail(AMA_ECORRUPT, "cannot read blob of %s", path);
	data = git_odb_object_data(o);
	len = git_odb_object_size(o);
	if (git_odb_object_type(o) != GIT_OBJECT_BLOB || len < 2 ||
	    data[len - 1] != '\n' ||
	    ama_object_parse_fields(md5, size, data, len - 1) < 0)
		rc = ama_error_setp(AMA_ECORRUPT, path,
				    "blob is not \"<md5> <size>\\n\"");
	git_odb_object_free(o);
	return rc;
}

static int read_tree(struct ama_meta *m, struct ama_objlist *out,
		     struct ama_buf *prefix, const git_tree *t)
{
	size_t i, n = git_tree_entrycount(t), base = prefix->len;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		git_filemode_t mode = git_tree_entry_filemode(e);
		const git_oid *id = git_tree_entry_id(e);

		ama_buf_truncate(prefix, base);
		ama_buf_addstr(prefix, git_tree_entry_name(e));
		if (mode == GIT_FILEMODE_TREE) {
			git_tree *sub;

			if (git_tree_lookup(&sub, m->repo, id) < 0)
				return git_fail(AMA_ECORRUPT,
						"cannot read folder %s",
						prefix->s);
			ama_buf_addch(prefix, '/');
			rc = read_tree(m, out, prefix, sub);
			git_tree_free(sub);
		} else if (mode == GIT_FILEMODE_BLOB ||
			   mode == GIT_FILEMODE_LINK) {
			struct ama_md5 md5;
			uint64_t size;

			rc = read_blob(m, id, prefix->s, &md5, &size);
			if (rc == 0)
				ama_objlist_add_kind(out, &md5, size,
						     mode == GIT_FILEMODE_LINK ?
						     AMA_OBJECT_LINK :
						     AMA_OBJECT_FILE,
						     prefix->s, prefix->len);
		} else {
			rc = ama_error_setp(AMA_ECORRUPT, prefix->s,
				"neither a file nor a folder (mode %o)",
				(unsigned)mode);
		}
	}
	ama_buf_truncate(prefix, base);
	return rc;
}

int ama_meta_read_objects(struct ama_meta *m, struct ama_objlist *out,
			  const struct ama_meta_version *v)
{
	struct ama_buf prefix = AMA_BUF_INIT;
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_oid oid;
	int rc;

	if (git_oid_fromstr(&oid, v->oid) < 0)
		return ama_error_set(AMA_EINVAL, "bad git object id '%s'",
				     v->oid);
	if (git_commit_lookup(&c, m->repo, &oid) < 0 ||
	    git_commit_tree(&t, c) < 0) {
		rc = git_fail(AMA_ECORRUPT, "cannot read commit %s", v->oid);
		goto out;
	}
	ama_buf_addstr(&prefix, "");
	rc = read_tree(m, out, &prefix, t);
	if (rc < 0)
		goto out;
	/* git orders trees as ama orders paths: a mismatch is damage */
	rc = ama_objlist_check(out);
	if (rc < 0) {
		rc = ama_error_wrap(AMA_ECORRUPT, "version %s", v->oid);
		goto out;
	}
	ama_manifest_commit_id(id, v->has_parent ? &v->parent : NULL, out);
	if (strcmp(id, v->commit_id))
		rc = ama_error_set(AMA_ECORRUPT,
				   "the tree of commit %s does not match its "
				   "commit id", v->oid);
out:
	if (rc < 0)
		ama_objlist_release(out);
	git_tree_free(t);
	git_commit_free(c);
	ama_buf_release(&prefix);
	return rc;
}

int ama_meta_read_manifest(struct ama_meta *m, struct ama_manifest *out,
			   const struct ama_meta_version *v)
{
	int rc;

	ama_manifest_init(out);
	out->version = v->version;
	out->has_parent = v->has_parent;
	out->parent = v->parent;
	out->class = ama_strdup(v->class);
	out->seq = v->seq;
	out->author = ama_strdup(v->author);
	out->time = v->time;
	out->message = ama_strdup(v->message);
	rc = ama_meta_read_objects(m, &out->objects, v);
	if (rc < 0)
		ama_manifest_release(out);
	return rc;
}

/* ---- the difference of two versions ---- */

struct differ {
	struct ama_meta *m;
	ama_meta_diff_fn fn;
	void *ctx;
	struct ama_buf path;
};

/* git's order of tree entries: a folder's name compares as "name/". */
static int entry_cmp(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *x = git_tree_entry_name(a), *y = git_tree_entry_name(b);
	size_t xl = strlen(x), yl = strlen(y), n = xl < yl ? xl : yl;
	int c = memcmp(x, y, n);
	unsigned char xc, yc;

	if (c)
		return c;
	xc = xl > n ? (unsigned char)x[n] :
		git_tree_entry_filemode(a) == GIT_FILEMODE_TREE ? '/' : 0;
	yc = yl > n ? (unsigned char)y[n] :
		git_tree_entry_filemode(b) == GIT_FILEMODE_TREE ? '/' : 0;
	return (xc > yc) - (xc < yc);
}

static int diff_trees(struct differ *d, const git_tree *a, const git_tree *b);

/* Every file under (or at) entry e, as removed (side 0) or added (1). */
static int diff_one_side(struct differ *d, const git_tree_entry *e, int side)
{
	const git_oid *id = git_tree_entry_id(e);
	struct ama_object o;
	git_tree *t;
	int rc;

	if (git_tree_entry_filemode(e) == GIT_FILEMODE_TREE) {
		if (git_tree_lookup(&t, d->m->repo, id) < 0)
			return git_fail(AMA_ECORRUPT, "cannot read folder %s",
					d->path.s);
		ama_buf_addch(&d->path, '/');
		rc = side ? diff_trees(d, NULL, t) : diff_trees(d, t, NULL);
		git_tree_free(t);
		return rc;
	}
	if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_LINK)
		return ama_error_setp(AMA_ECORRUPT, d->path.s, "neither a file"
				      " nor a folder");
	rc = read_blob(d->m, id, d->path.s, &o.md5, &o.size);
	if (rc < 0)
		return rc;
	o.kind = git_tree_entry_filemode(e) == GIT_FILEMODE_LINK ?
		AMA_OBJECT_LINK : AMA_OBJECT_FILE;
	o.path = d->path.s;
	o.path_len = d->path.len;
	return d->fn(d->ctx, side ? NULL : &o, side ? &o : NULL);
}

/* Both sides have entry name: equal ids are skipped whole. */
static int diff_both(struct differ *d, const git_tree_entry *x,
		     const git_tree_entry *y)
{
	struct ama_object o, n;
	git_tree *tx, *ty;
	int rc;

	if (!git_oid_cmp(git_tree_entry_id(x), git_tree_entry_id(y)) &&
	    git_tree_entry_filemode(x) == git_tree_entry_filemode(y))
		return 0;
	if (git_tree_entry_filemode(x) == GIT_FILEMODE_TREE) {
		if (git_tree_lookup(&tx, d->m->repo, git_tree_entry_id(x)) < 0)
			return git_fail(AMA_ECORRUPT, "cannot read folder %s",
					d->path.s);
		if (git_tree_lookup(&ty, d->m->repo, git_tree_entry_id(y)) < 0) {
			git_tree_free(tx);
			return git_fail(AMA_ECORRUPT, "cannot read folder %s",
					d->path.s);
		}
		ama_buf_addch(&d->path, '/');
		rc = diff_trees(d, tx, ty);
		git_tree_free(tx);
		git_tree_free(ty);
		return rc;
	}
	rc = read_blob(d->m, git_tree_entry_id(x), d->path.s, &o.md5, &o.size);
	if (rc == 0)
		rc = read_blob(d->m, git_tree_entry_id(y), d->path.s, &n.md5,
			       &n.size);
	if (rc < 0)
		return rc;
	o.path = n.path = d->path.s;
	o.path_len = n.path_len = d->path.len;
	o.kind = git_tree_entry_filemode(x) == GIT_FILEMODE_LINK ?
		AMA_OBJECT_LINK : AMA_OBJECT_FILE;
	n.kind = git_tree_entry_filemode(y) == GIT_FILEMODE_LINK ?
		AMA_OBJECT_LINK : AMA_OBJECT_FILE;
	return d->fn(d->ctx, &o, &n);
}

static int diff_trees(struct differ *d, const git_tree *a, const git_tree *b)
{
	size_t i = 0, j = 0, na = a ? git_tree_entrycount(a) : 0,
		nb = b ? git_tree_entrycount(b) : 0, base = d->path.len;
	int rc = 0;

	while (rc == 0 && (i < na || j < nb)) {
		const git_tree_entry *x = i < na ?
			git_tree_entry_byindex(a, i) : NULL;
		const git_tree_entry *y = j < nb ?
			git_tree_entry_byindex(b, j) : NULL;
		int c = !x ? 1 : !y ? -1 : entry_cmp(x, y);

		ama_buf_truncate(&d->path, base);
		ama_buf_addstr(&d->path, git_tree_entry_name(c <= 0 ? x : y));
		if (c < 0) {
			rc = diff_one_side(d, x, 0);
			i++;
		} else if (c > 0) {
			rc = diff_one_side(d, y, 1);
			j++;
		} else {
			rc = diff_both(d, x, y);
			i++;
			j++;
		}
	}
	ama_buf_truncate(&d->path, base);
	return rc;
}

static int tree_of(struct ama_meta *m, git_tree **out,
		   const struct ama_meta_version *v)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc = 0;

	*out = NULL;
	if (!v)
		return 0;
	if (git_oid_fromstr(&oid, v->oid) < 0)
		return ama_error_set(AMA_EINVAL, "bad git object id '%s'",
				     v->oid);
	if (git_commit_lookup(&c, m->repo, &oid) < 0 ||
	    git_commit_tree(out, c) < 0)
		rc = git_fail(AMA_ECORRUPT, "cannot read commit %s", v->oid);
	git_commit_free(c);
	return rc;
}

int ama_meta_diff(struct ama_meta *m, const struct ama_meta_version *a,
		  const struct ama_meta_version *b, ama_meta_diff_fn fn,
		  void *ctx)
{
	struct differ d = { m, fn, ctx, AMA_BUF_INIT };
	git_tree *ta = NULL, *tb = NULL;
	int rc = tree_of(m, &ta, a);

	if (rc == 0)
		rc = tree_of(m, &tb, b);
	if (rc == 0) {
		ama_buf_addstr(&d.path, "");
		rc = diff_trees(&d, ta, tb);
	}
	git_tree_free(ta);
	git_tree_free(tb);
	ama_buf_release(&d.path);
	return rc;
}

/* ---- writing ---- */

static void remember(struct ama_meta *m, const git_oid *id)
{
	if (m->nwritten == m->alloc) {
		m->alloc = m->alloc ? 2 * m->alloc : 256;
		m->written = ama_realloc(m->written,
					 m->alloc * sizeof(*m->written));
	}
	git_oid_cpy(&m->written[m->nwritten++], id);
}

/* Drop what this version put in memory (after a pack, or a failure). */
static void forget(struct ama_meta *m)
{
	git_mempack_reset(m->mempack);
	m->nwritten = 0;
}

/*
 * The blob of one file. Written straight into the mempack: git_odb_write
 * would rescan objects/pack on every new object (notes/libgit2-metadata.md,
 * pitfall 2). Blobs the repository already has are not written again.
 */
static int write_blob(struct ama_meta *m, git_oid *out,
		      const struct ama_object *o, struct ama_buf *scratch)
{
	ama_buf_reset(scratch);
	ama_object_format_fields(scratch, &o->md5, o->size);
	ama_buf_addch(scratch, '\n');
	if (git_odb_hash(out, scratch->s, scratch->len, GIT_OBJECT_BLOB) < 0)
		return git_fail(AMA_EIO, "cannot hash a blob");
	if (git_odb_exists_ext(m->odb, out, GIT_ODB_LOOKUP_NO_REFRESH))
		return 0;
	if (m->mempack->write(m->mempack, out, scratch->s, scratch->len,
			      GIT_OBJECT_BLOB) < 0)
		return git_fail(AMA_EIO, "cannot write a blob");
	remember(m, out);
	return 0;
}

/* A change to apply to the parent's tree: new is NULL for a removal. */
struct change {
	const char *path;
	size_t len;
	const struct ama_object *new;
};

struct build {
	struct ama_meta *m;
	const struct change *changes;
	struct ama_buf scratch;
};

static int build_tree(struct build *b, size_t plen, const git_tree *parent,
		      size_t lo, size_t hi, git_oid *out, int *empty);

static int insert(git_treebuilder *tb, const char *name, const git_oid *id,
		  git_filemode_t mode, const char *path)
{
	if (git_treebuilder_insert(NULL, tb, name, id, mode) < 0)
		return git_failp(AMA_EINVAL, path,
				 "git cannot store this name");
	return 0;
}

/*
 * Rebuild the subfolder name of the folder being built in tb (whose
 * parent-version tree is parent) from changes [lo, hi). The subfolder's
 * old tree is looked up in parent, not in tb, where a file "name" may
 * have just replaced it.
 */
static int build_subtree(struct build *b, size_t plen, const git_tree *parent,
			 const char *name, git_treebuilder *tb, size_t lo,
			 size_t hi, const char *path)
{
	const git_tree_entry *e = parent ?
		git_tree_entry_byname(parent, name) : NULL;
	const git_tree_entry *now;
	git_tree *sub = NULL;
	git_oid id;
	int empty, rc;

	if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&sub, b->m->repo, git_tree_entry_id(e)) < 0)
		return git_fail(AMA_ECORRUPT, "cannot read folder %s", name);
	rc = build_tree(b, plen, sub, lo, hi, &id, &empty);
	git_tree_free(sub);
	if (rc < 0)
		return rc;
	if (!empty)
		return insert(tb, name, &id, GIT_FILEMODE_TREE, path);
	now = git_treebuilder_get(tb, name);
	if (now && git_tree_entry_type(now) == GIT_OBJECT_TREE &&
	    git_treebuilder_remove(tb, name) < 0)
		return git_fail(AMA_EIO, "cannot remove folder %s", name);
	return 0;
}

/*
 * Apply changes [lo, hi), all under the folder whose path is the first
 * plen bytes of their paths, to parent (that folder's tree in the parent
 * version, or NULL), and write the result. *empty is set, and nothing
 * written, when the folder ends up empty, unless it is the root.
 */
static int build_tree(struct build *b, size_t plen, const git_tree *parent,
		      size_t lo, size_t hi, git_oid *out, int *empty)
{
	git_treebuilder *tb = NULL;
	struct ama_buf name = AMA_BUF_INIT;
	size_t i = lo;
	int rc = 0;

	*empty = 0;
	if (git_treebuilder_new(&tb, b->m->repo, parent) < 0)
		return git_fail(AMA_EIO, "cannot build a tree");
	while (i < hi && rc == 0) {
		const struct change *c = &b->changes[i];
		const char *rest = c->path + plen;
		size_t rlen = c->len - plen, j;
		const char *slash = memchr(rest, '/', rlen);
		git_oid id;

		ama_buf_reset(&name);
		if (!slash) {
			ama_buf_add(&name, rest, rlen);
			if (c->new) {
				rc = write_blob(b->m, &id, c->new, &b->scratch);
				if (rc == 0)
					rc = insert(tb, name.s, &id,
						    c->new->kind ==
						    AMA_OBJECT_LINK ?
						    GIT_FILEMODE_LINK :
						    GIT_FILEMODE_BLOB, c->path);
			} else if (git_treebuilder_remove(tb, name.s) < 0) {
				rc = ama_error_setp(AMA_ECORRUPT, c->path,
					"not in the parent version's tree");
			}
			i++;
			continue;
		}
		/* a folder: all changes under rest[0..slash] are neighbours */
		ama_buf_add(&name, rest, (size_t)(slash - rest));
		for (j = i + 1; j < hi; j++) {
			const struct change *d = &b->changes[j];

			if (d->len <= plen + name.len ||
			    memcmp(d->path + plen, rest, name.len + 1))
				break;
		}
		rc = build_subtree(b, plen + name.len + 1, parent, name.s,
				   tb, i, j, c->path);
		i = j;
	}
	if (rc == 0) {
		if (git_treebuilder_entrycount(tb) == 0 && plen > 0)
			*empty = 1;
		else if (git_treebuilder_write(out, tb) < 0)
			rc = git_fail(AMA_EIO, "cannot write a tree");
		else
			remember(b->m, out);
	}
	git_treebuilder_free(tb);
	ama_buf_release(&name);
	return rc;
}

/* The changes from parent (NULL: none) to new, in path order. */
static struct change *changes_of(const struct ama_objlist *parent,
				 const struct ama_objlist *new, size_t *n)
{
	static const struct ama_objlist empty = AMA_OBJLIST_INIT;
	struct ama_objlist_diff d;
	struct ama_diff_entry e;
	struct change *v = NULL;
	size_t alloc = 0;

	*n = 0;
	ama_objlist_diff_init(&d, parent ? parent : &empty, new);
	while (ama_objlist_diff_next(&d, &e) == 1) {
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			v = ama_realloc(v, alloc * sizeof(*v));
		}
		v[*n].path = e.path;
		v[*n].len = e.path_len;
		v[*n].new = e.new;
		(*n)++;
	}
	return v;
}

static void commit_message(struct ama_buf *b, const struct ama_manifest *m,
			   const char *commit_id)
{
	char v[AMA_VERSION_BUFSIZE];

	ama_buf_addstr(b, m->message ? m->message : "");
	ama_version_format(v, &m->version);
	ama_buf_addf(b, "\n\nAma-Version: %s\n", v);
	if (m->has_parent) {
		ama_version_format(v, &m->parent);
		ama_buf_addf(b, "Ama-Parent: %s\n", v);
	}
	ama_buf_addf(b, "Ama-Class: %s\nAma-Asset: %s/%llu\n"
		     "Ama-Commit-Id: %s\n", m->class, m->class,
		     (unsigned long long)m->seq, commit_id);
}

static git_signature *signature(const struct ama_manifest *m)
{
	struct ama_buf email = AMA_BUF_INIT;
	git_signature *sig = NULL;
	const char *p;

	for (p = m->author; *p; p++) {
		char c = *p;
		int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			   c == '-';

		ama_buf_addch(&email, keep ? c : '_');
	}
	ama_buf_addstr(&email, "@ama");
	if (git_signature_new(&sig, m->author, email.s, (git_time_t)m->time,
			      0) < 0)
		sig = NULL;
	ama_buf_release(&email);
	return sig;
}

/*
 * Put every object this version wrote into one pack: the oids we wrote
 * that the mempack still holds (git_mempack_dump would pack whole trees,
 * pitfall 1), built in memory and handed to the odb's pack writer, which
 * indexes it and moves it into objects/pack. Then the odb is refreshed
 * so that it sees the pack before the mempack is emptied (pitfall 3).
 */
static int write_pack(struct ama_meta *m)
{
	git_packbuilder *pb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats = { 0 };
	git_buf buf = { 0 };
	size_t i, n = 0;
	int rc = 0;

	if (git_packbuilder_new(&pb, m->repo) < 0)
		return git_fail(AMA_EIO, "cannot pack the version");
	git_packbuilder_set_threads(pb, 0);
	for (i = 0; i < m->nwritten && rc == 0; i++) {
		if (!m->mempack->exists(m->mempack, &m->written[i]))
			continue;	/* the repository had it already */
		if (git_packbuilder_insert(pb, &m->written[i], NULL) < 0)
			rc = git_fail(AMA_EIO, "cannot pack an object");
		n++;
	}
	if (n == 0) {
		/* another writer made this very commit: nothing to add */
		git_packbuilder_free(pb);
		return rc;
	}
	if (rc == 0 && git_packbuilder_write_buf(&buf, pb) < 0)
		rc = git_fail(AMA_EIO, "cannot pack the version");
	if (rc == 0 && git_odb_write_pack(&wp, m->odb, NULL, NULL) < 0)
		rc = git_fail(AMA_EIO, "cannot write the pack");
	if (rc == 0 && (wp->append(wp, buf.ptr, buf.size, &stats) < 0 ||
			wp->commit(wp, &stats) < 0))
		rc = git_fail(AMA_EIO, "cannot write the pack");
	if (wp)
		wp->free(wp);
	if (rc == 0 && git_odb_refresh(m->odb) < 0)
		rc = git_fail(AMA_EIO, "cannot reread the packs");
	git_buf_dispose(&buf);
	git_packbuilder_free(pb);
	return rc;
}

/*
 * The parent's objects: checked against the parent's commit id when the
 * caller gave them, else read from the repository (which checks them).
 */
static int parent_list(struct ama_meta *m, const struct ama_objlist **out,
		       struct ama_objlist *own,
		       const struct ama_meta_version *pv,
		       const struct ama_objlist *given)
{
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	char v[AMA_VERSION_BUFSIZE];

	if (!given) {
		*out = own;
		return ama_meta_read_objects(m, own, pv);
	}
	ama_manifest_commit_id(id, pv->has_parent ? &pv->parent : NULL, given);
	if (strcmp(id, pv->commit_id)) {
		ama_version_format(v, &pv->version);
		return ama_error_set(AMA_EINVAL,
			"the parent objects given are not those of version %s",
			v);
	}
	*out = given;
	return 0;
}

/* Is the asset's newest version (pv, or none) the manifest's parent? */
static int check_parent(const struct ama_manifest *m,
			const struct ama_meta_version *pv)
{
	char have[AMA_VERSION_BUFSIZE], want[AMA_VERSION_BUFSIZE];
	unsigned long long seq = (unsigned long long)m->seq;

	ama_version_format(want, &m->version);
	if (!pv && m->has_parent) {
		ama_version_format(have, &m->parent);
		return ama_error_set(AMA_ECONFLICT,
			"asset %s/%llu has no version %s to be the parent "
			"of %s", m->class, seq, have, want);
	}
	if (pv && !m->has_parent)
		return ama_error_set(AMA_ECONFLICT,
			"asset %s/%llu already has versions", m->class, seq);
	if (pv && ama_version_cmp(&pv->version, &m->parent)) {
		ama_version_format(have, &pv->version);
		return ama_error_set(AMA_ECONFLICT,
			"asset %s/%llu is at version %s, not at the parent "
			"of %s", m->class, seq, have, want);
	}
	return 0;
}

/*
 * libgit2's locks (a ref's, HEAD's) are plain files, held for the moment
 * a ref moves: one still there after a second was left by a process
 * killed meanwhile, and would fail every later write. lock_pause waits
 * a twentieth of a second and says whether to try again; stale_lock
 * names the file (name: "HEAD", "refs/...") as ama names its own stale
 * locks, with the rm that clears it.
 */
static int lock_pause(int tries)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	if (tries >= 20)
		return 0;
	nanosleep(&pause, NULL);
	return 1;
}

static int stale_lock(struct ama_meta *meta, const char *name)
{
	struct ama_buf lock = AMA_BUF_INIT, word = AMA_BUF_INIT;
	int rc;

	ama_buf_addf(&lock, "%s%s.lock", git_repository_path(meta->repo),
		     name);
	ama_quote_shell(&word, lock.s);
	rc = ama_error_setp(AMA_ELOCKED, lock.s, "locked: another ama process"
			    " is writing this asset's versions, or one was "
			    "killed; if no ama command is running, remove it "
			    "with: rm %s", word.s);
	ama_buf_release(&lock);
	ama_buf_release(&word);
	return rc;
}

/* Move the ref from the parent's commit (or from nothing) to id. */
static int move_ref(struct ama_meta *meta, const struct ama_manifest *m,
		    const git_oid *id, const git_oid *old)
{
	struct ama_buf name = AMA_BUF_INIT;
	git_reference *ref = NULL;
	char v[AMA_VERSION_BUFSIZE];
	int rc, tries;

	ref_name(&name, m->class, m->seq);
	ama_version_format(v, &m->version);
	for (tries = 0;; tries++) {
		rc = git_reference_create_matching(&ref, meta->repo, name.s,
						   id, old != NULL, old, v);
		git_reference_free(ref);
		ref = NULL;
		if (rc != GIT_ELOCKED || !lock_pause(tries))
			break;
	}
	if (rc == GIT_ELOCKED)
		rc = stale_lock(meta, name.s);
	else if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		rc = ama_error_set(AMA_ECONFLICT,
				   "asset %s/%llu moved while version %s was "
				   "written", m->class,
				   (unsigned long long)m->seq, v);
	else if (rc < 0)
		rc = git_fail(AMA_EIO, "cannot update %s", name.s);
	ama_buf_release(&name);
	return rc;
}

int ama_meta_write(struct ama_meta *meta, struct ama_meta_version *out,
		   const struct ama_manifest *m,
		   const struct ama_objlist *parent_objects)
{
	struct build b = { meta, NULL, AMA_BUF_INIT };
	struct ama_meta_version pv;
	struct ama_objlist own = AMA_OBJLIST_INIT;
	const struct ama_objlist *before = NULL;
	struct ama_buf msg = AMA_BUF_INIT;
	char commit_id[AMA_COMMIT_ID_HEXLEN + 1];
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_oid pid, tid, cid;
	struct change *changes = NULL;
	size_t nchanges = 0;
	int rc, empty, have_parent;

	if (out)
		memset(out, 0, sizeof(*out));
	memset(&pv, 0, sizeof(pv));
	if (!m->class || !m->seq)
		return ama_error_set(AMA_EINVAL,
			"the manifest names no class and seq");
	rc = ama_manifest_check(m);
	if (rc < 0)
		return rc;
	rc = head_oid(meta, &pid, m->class, m->seq);
	if (rc < 0 && rc != AMA_ENOTFOUND)
		return rc;
	have_parent = rc == 0;
	if (have_parent) {
		rc = version_at(meta, &pv, &pid);
		if (rc < 0)
			return rc;
	}
	rc = check_parent(m, have_parent ? &pv : NULL);
	if (rc == 0 && have_parent)
		rc = parent_list(meta, &before, &own, &pv, parent_objects);
	if (rc < 0)
		goto out;
	if (have_parent &&
	    (git_commit_lookup(&parent, meta->repo, &pid) < 0 ||
	     git_commit_tree(&ptree, parent) < 0)) {
		rc = git_fail(AMA_ECORRUPT, "cannot read the parent");
		goto out;
	}
	changes = changes_of(before, &m->objects, &nchanges);
	b.changes = changes;
	rc = build_tree(&b, 0, ptree, 0, nchanges, &tid, &empty);
	if (rc < 0)
		goto out;
	sig = signature(m);
	if (!sig) {
		rc = git_fail(AMA_EINVAL, "cannot sign as %s", m->author);
		goto out;
	}
	ama_manifest_commit_id(commit_id, m->has_parent ? &m->parent : NULL,
			       &m->objects);
	commit_message(&msg, m, commit_id);
	if (git_tree_lookup(&tree, meta->repo, &tid) < 0 ||
	    git_commit_create(&cid, meta->repo, NULL, sig, sig, NULL, msg.s,
			      tree, parent ? 1 : 0,
			      (const git_commit **)&parent) < 0) {
		rc = git_fail(AMA_EIO, "cannot write the commit");
		goto out;
	}
	remember(meta, &cid);
	rc = write_pack(meta);
	if (rc == 0)
		rc = move_ref(meta, m, &cid, have_parent ? &pid : NULL);
	if (rc == 0 && out)
		rc = version_at(meta, out, &cid);
out:
	forget(meta);
	free(changes);
	ama_buf_release(&b.scratch);
	ama_buf_release(&msg);
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	ama_objlist_release(&own);
	ama_meta_version_release(&pv);
	return rc;
}

int ama_meta_set_head(struct ama_meta *m, const struct ama_meta_version *v)
{
	git_oid id;
	int rc, tries;

	if (git_oid_fromstr(&id, v->oid) < 0)
		return ama_error_set(AMA_EINVAL, "bad git object id '%s'",
				     v->oid);
	for (tries = 0;; tries++) {
		rc = git_repository_set_head_detached(m->repo, &id);
		if (rc != GIT_ELOCKED || !lock_pause(tries))
			break;
	}
	if (rc == GIT_ELOCKED)
		return stale_lock(m, "HEAD");
	if (rc < 0)
		return git_fail(AMA_EIO, "cannot set HEAD");
	return 0;
}

/* ---- listing assets ---- */

struct asset {
	char *class;
	uint64_t seq;
};

static int asset_cmp(const void *a, const void *b)
{
	const struct asset *x = a, *y = b;
	int c = strcmp(x->class, y->class);

	if (c)
		return c;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* "CLASS/SEQ" after refs/ama/, as ama names refs; 0 or -1. */
static int asset_of_ref(struct asset *out, const char *name)
{
	struct ama_meta_version v;
	struct ama_buf canon = AMA_BUF_INIT;
	int ok;

	memset(&v, 0, sizeof(v));
	if (parse_asset(&v, name) < 0) {
		ama_meta_version_release(&v);
		return -1;
	}
	/* only the spelling ama writes: no leading zeros in SEQ */
	ama_buf_addf(&canon, "%s/%llu", v.class, (unsigned long long)v.seq);
	ok = !strcmp(canon.s, name) && v.seq > 0;
	ama_buf_release(&canon);
	if (!ok) {
		ama_meta_version_release(&v);
		return -1;
	}
	out->class = v.class;
	out->seq = v.seq;
	v.class = NULL;
	ama_meta_version_release(&v);
	return 0;
}

int ama_meta_assets(struct ama_meta *m, const char *class,
		    ama_meta_asset_fn fn, void *ctx)
{
	git_reference_iterator *it = NULL;
	struct asset *v = NULL;
	size_t n = 0, alloc = 0, i;
	const char *name;
	int rc = 0, err;

	if (class && ama_manifest_check_class(class) < 0)
		return AMA_EINVAL;
	if (git_reference_iterator_glob_new(&it, m->repo, REF_PREFIX "*") < 0)
		return git_fail(AMA_EIO, "cannot list refs");
	while ((err = git_reference_next_name(&name, it)) == 0) {
		struct asset a;

		if (asset_of_ref(&a, name + strlen(REF_PREFIX)) < 0)
			continue;
		if (class && strcmp(a.class, class)) {
			free(a.class);
			continue;
		}
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			v = ama_realloc(v, alloc * sizeof(*v));
		}
		v[n++] = a;
	}
	if (err != GIT_ITEROVER)
		rc = git_fail(AMA_EIO, "cannot list refs");
	git_reference_iterator_free(it);
	if (n)
		qsort(v, n, sizeof(*v), asset_cmp);
	for (i = 0; i < n && rc == 0; i++)
		rc = fn(v[i].class, v[i].seq, ctx);
	for (i = 0; i < n; i++)
		free(v[i].class);
	free(v);
	return rc;
}
