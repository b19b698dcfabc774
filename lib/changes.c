/* changes.c: what differs between two versions, or a version and the work tree, and how it is printed. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "changes.h"
#include "error.h"
#include "progress.h"
#include "prog.h"
#include "verify.h"

void ama_changes_release(struct ama_changes *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static struct ama_change *add(struct ama_changes *c, enum ama_diff_kind k,
			      const char *path, size_t len)
{
	struct ama_change *x;

	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 64;
		c->v = ama_realloc(c->v, c->alloc * sizeof(*c->v));
	}
	x = &c->v[c->n++];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	x->path = ama_strndup(path, len);
	x->len = len;
	x->new_known = 1;
	return x;
}

struct collect {
	struct ama_changes *out;
	const struct ama_pathspec *ps;
};

static int collect(void *ctx, const struct ama_object *old,
		   const struct ama_object *new)
{
	struct collect *k = ctx;
	const struct ama_object *o = new ? new : old;
	struct ama_change *x;

	if (!ama_pathspec_match(k->ps, o->path, o->path_len))
		return 0;
	x = add(k->out, !old ? AMA_DIFF_ADDED : !new ? AMA_DIFF_REMOVED :
		AMA_DIFF_CHANGED, o->path, o->path_len);
	if (old) {
		x->old_md5 = old->md5;
		x->old_size = old->size;
	}
	if (new) {
		x->new_md5 = new->md5;
		x->new_size = new->size;
	}
	return 0;
}

int ama_changes_versions(struct ama_changes *out, struct ama_meta *m,
			 const struct ama_meta_version *a,
			 const struct ama_meta_version *b,
			 const struct ama_pathspec *ps)
{
	struct collect k = { out, ps };

	memset(out, 0, sizeof(*out));
	return ama_meta_diff(m, a, b, collect, &k);
}

struct work {
	struct ama_objlist now;		/* the work tree's side */
	struct ama_objlist unknown;	/* modified, not hashed */
	const struct ama_pathspec *ps;
};

static int judged(const struct ama_verify_result *r, void *ctx)
{
	struct work *w = ctx;
	const struct ama_index_entry *e = r->entry;

	if (!ama_pathspec_match(w->ps, e->path, e->path_len))
		return 0;
	unsigned now = S_ISLNK(r->st.mode) ? AMA_OBJECT_LINK :
		AMA_OBJECT_FILE;
	struct ama_object o;

	ama_index_entry_object(e, &o);
	switch (r->verdict) {
	case AMA_VERDICT_DELETED:
		return 0;
	case AMA_VERDICT_MODIFIED:
		if (r->rehashed) {
			ama_objlist_add_kind(&w->now, &r->md5, r->st.size, now,
					     e->path, e->path_len);
			return 0;
		}
		/* another size or kind: the content differs */
		ama_objlist_add_kind(&w->now, &e->md5, r->st.size, now,
				     e->path, e->path_len);
		ama_objlist_add(&w->unknown, &e->md5, r->st.size, e->path,
				e->path_len);
		return 0;
	default:
		ama_objlist_add_object(&w->now, &o);
		return 0;
	}
}

int ama_changes_worktree(struct ama_changes *out, struct ama_meta *m,
			 const struct ama_meta_version *a,
			 struct ama_index *idx,
			 const struct ama_pathspec *ps)
{
	struct ama_objlist then = AMA_OBJLIST_INIT;
	struct ama_verify_opts vo;
	struct ama_objlist_diff d;
	struct ama_diff_entry de;
	struct work w;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.ps = ps;
	if (a)
		rc = ama_meta_read_objects(m, &then, a);
	if (rc == 0) {
		memset(&vo, 0, sizeof(vo));
		vo.jobs = ama_online_cpus();
		vo.fn = judged;
		vo.ctx = &w;
		rc = ama_verify_run(idx, &vo);
	}
	if (rc < 0)
		goto out;
	ama_objlist_diff_init(&d, &then, &w.now);
	while (ama_objlist_diff_next(&d, &de)) {
		struct ama_change *x;

		if (!ama_pathspec_match(ps, de.path, de.path_len))
			continue;
		x = add(out, de.kind, de.path, de.path_len);
		if (de.old) {
			x->old_md5 = de.old->md5;
			x->old_size = de.old->size;
		}
		if (de.new) {
			x->new_md5 = de.new->md5;
			x->new_size = de.new->size;
			if (ama_objlist_find(&w.unknown, de.path, de.path_len)) {
				x->new_known = 0;
				x->kind = AMA_DIFF_CHANGED;
			}
		}
	}
out:
	ama_objlist_release(&then);
	ama_objlist_release(&w.now);
	ama_objlist_release(&w.unknown);
	return rc;
}

static const char *const letter[] = { "A", "D", "M" };
static const char *const word[] = { "added:   ", "deleted: ", "modified:" };

void ama_changes_write(struct ama_writer *w, const struct ama_changes *c,
		       enum ama_changes_format f)
{
	struct ama_buf b = AMA_BUF_INIT;
	uint64_t bytes[3] = { 0, 0, 0 };
	size_t count[3] = { 0, 0, 0 }, i;
	char h1[32], h2[32];

	for (i = 0; i < c->n; i++) {
		const struct ama_change *x = &c->v[i];

		count[x->kind]++;
		bytes[x->kind] += x->kind == AMA_DIFF_REMOVED ? x->old_size :
			x->new_size;
		ama_buf_reset(&b);
		if (f == AMA_CHANGES_NAME_STATUS) {
			ama_record_write(w, letter[x->kind], x->path, x->len);
			continue;
		}
		if (f != AMA_CHANGES_HUMAN)
			continue;
		ama_buf_addf(&b, "%s ", word[x->kind]);
		ama_quote_path(&b, x->path, x->len);
		if (x->kind == AMA_DIFF_CHANGED) {
			ama_human_bytes(h1, (double)x->old_size);
			ama_human_bytes(h2, (double)x->new_size);
			ama_buf_addf(&b, " (%s -> %s)", h1, h2);
		} else {
			ama_human_bytes(h1, (double)(x->kind == AMA_DIFF_ADDED ?
						     x->new_size :
						     x->old_size));
			ama_buf_addf(&b, " (%s)", h1);
		}
		ama_buf_addch(&b, '\n');
		ama_writer_raw(w, b.s, b.len);
	}
	if (f == AMA_CHANGES_STAT) {
		ama_buf_reset(&b);
		ama_human_bytes(h1, (double)bytes[AMA_DIFF_ADDED]);
		ama_buf_addf(&b, "%zu added (%s), ", count[AMA_DIFF_ADDED], h1);
		ama_human_bytes(h1, (double)bytes[AMA_DIFF_CHANGED]);
		ama_buf_addf(&b, "%zu modified (%s), ",
			     count[AMA_DIFF_CHANGED], h1);
		ama_human_bytes(h1, (double)bytes[AMA_DIFF_REMOVED]);
		ama_buf_addf(&b, "%zu deleted (%s)\n", count[AMA_DIFF_REMOVED],
			     h1);
		ama_writer_raw(w, b.s, b.len);
	}
	ama_buf_release(&b);
}
