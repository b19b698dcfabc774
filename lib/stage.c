/* stage.c: one upload to staging per content, the paths that share it told together. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "manifest.h"
#include "stage.h"
#include "stat.h"
#include "verify.h"

struct waiter {
	char *path;
	void *udata;
	struct waiter *next;
};

enum content_state {
	C_IDLE,		/* not being sent (new, or its last path failed) */
	C_SENDING,	/* sent from its first waiter's path */
	C_DONE,		/* staged and confirmed */
	C_FAILED,	/* failed for every path: rc, error */
};

struct content {
	struct ama_md5 md5;
	uint64_t size;
	enum content_state state;
	int rc;
	char *error;
	struct waiter *head, *tail;
	char *link;		/* sending a link's target: its bytes */
};

struct ama_stage {
	struct ama_store *s;
	char *prefix;
	ama_stage_done_fn done;
	ama_stage_progress_fn progress;
	void *ctx;
	struct ama_store_batch *b;	/* the batch under way, or NULL */
	/* the contents: open addressing on the MD5's first bytes */
	struct content **tab;
	size_t cap, count;
	/* contents to send again from their next path */
	struct content **retry;
	size_t nretry, aretry;
	int failed;			/* the exit-2 error that stopped us */
	char *why;
	uint64_t uploads;
};

struct ama_stage *ama_stage_new(struct ama_store *s, const char *prefix,
				ama_stage_done_fn done,
				ama_stage_progress_fn progress, void *ctx)
{
	struct ama_stage *st = ama_calloc(1, sizeof(*st));

	st->s = s;
	st->prefix = ama_strdup(prefix);
	st->done = done;
	st->progress = progress;
	st->ctx = ctx;
	st->cap = 1024;
	st->tab = ama_calloc(st->cap, sizeof(*st->tab));
	return st;
}

static size_t slot_of(const struct ama_stage *st, const struct ama_md5 *m)
{
	uint64_t h;

	memcpy(&h, m->d, sizeof(h));
	return (size_t)(h & (st->cap - 1));
}

static void grow(struct ama_stage *st)
{
	struct content **old = st->tab;
	size_t oldcap = st->cap, i;

	st->cap *= 2;
	st->tab = ama_calloc(st->cap, sizeof(*st->tab));
	for (i = 0; i < oldcap; i++) {
		size_t j;

		if (!old[i])
			continue;
		j = slot_of(st, &old[i]->md5);
		while (st->tab[j])
			j = (j + 1) & (st->cap - 1);
		st->tab[j] = old[i];
	}
	free(old);
}

/* The content of md5, made (idle) if new. */
static struct content *content_of(struct ama_stage *st,
				  const struct ama_md5 *md5, uint64_t size)
{
	size_t i;

	if (2 * (st->count + 1) > st->cap)
		grow(st);
	for (i = slot_of(st, md5); st->tab[i]; i = (i + 1) & (st->cap - 1))
		if (ama_md5_equal(&st->tab[i]->md5, md5))
			return st->tab[i];
	st->tab[i] = ama_calloc(1, sizeof(**st->tab));
	st->tab[i]->md5 = *md5;
	st->tab[i]->size = size;
	st->count++;
	return st->tab[i];
}

static void tell(struct ama_stage *st, const struct content *c,
		 const char *path, void *udata, int rc, const char *why)
{
	struct ama_stage_result r;

	r.path = path;
	r.udata = udata;
	r.md5 = &c->md5;
	r.size = c->size;
	r.rc = rc;
	r.error = rc < 0 ? why : NULL;
	st->done(st->ctx, &r);
}

static void pop_waiter(struct content *c)
{
	struct waiter *w = c->head;

	c->head = w->next;
	if (!c->head)
		c->tail = NULL;
	free(w->path);
	free(w);
}

/* Tell every waiting path the content's outcome. */
static void tell_all(struct ama_stage *st, struct content *c, int rc,
		     const char *why)
{
	while (c->head) {
		tell(st, c, c->head->path, c->head->udata, rc, why);
		pop_waiter(c);
	}
}

/* Is a failure the path's own, so another path may do better? */
static int path_failure(int rc)
{
	return rc == AMA_EDIGEST || rc == AMA_ECHANGED ||
		rc == AMA_ENOTFOUND || rc == AMA_ENOTREG || rc == AMA_EIO;
}

static void stop(struct ama_stage *st, int rc, const char *why)
{
	if (st->failed)
		return;
	st->failed = rc;
	st->why = ama_strdup(why ? why : "failed");
}

static void put_done(void *ctx, const struct ama_store_result *r)
{
	struct ama_stage *st = ctx;
	struct content *c = r->udata;
	char hex[AMA_MD5_HEXLEN + 1];
	char *why = r->error ? ama_strdup(r->error) : NULL;
	int rc = r->rc;

	free(c->link);
	c->link = NULL;

	ama_md5_to_hex(hex, &c->md5);
	if (rc == 0 && r->info.etag_is_md5 && !r->info.multipart &&
	    strcmp(r->info.etag, hex)) {
		/* the store took the Content-MD5 but names other bytes */
		free(why);
		why = ama_strdup("the store answered another ETag than the "
				 "MD5");
		rc = AMA_EREMOTE;
	}
	if (rc < 0 && ama_error_exit_status(rc) == 2) {
		stop(st, rc, why);
	} else if (rc == 0) {
		c->state = C_DONE;
		tell_all(st, c, 0, NULL);
	} else if (path_failure(rc)) {
		tell(st, c, c->head->path, c->head->udata, rc, why);
		pop_waiter(c);
		c->state = c->head ? C_SENDING : C_IDLE;
		if (c->head) {
			if (st->nretry == st->aretry) {
				st->aretry = st->aretry ? 2 * st->aretry : 16;
				st->retry = ama_realloc(st->retry, st->aretry *
							sizeof(*st->retry));
			}
			st->retry[st->nretry++] = c;
		}
	} else {
		c->state = C_FAILED;
		c->rc = rc;
		c->error = ama_strdup(why ? why : "failed");
		tell_all(st, c, rc, c->error);
	}
	free(why);
}

static void put_progress(void *ctx, void *udata, uint64_t bytes)
{
	struct ama_stage *st = ctx;

	(void)udata;
	if (st->progress)
		st->progress(st->ctx, bytes);
}

/*
 * A symbolic link's content is its target, never what it points at: read
 * here (the store checks it against the MD5 as it does a file's bytes).
 * Returns 1 and c->link when the path is a link, 0 when it is not, or
 * an error.
 */
static int read_link(struct content *c, const char *path)
{
	char target[AMA_LINK_MAX + 2];
	struct ama_stat st;
	ssize_t n;

	if (ama_stat_path(&st, path) < 0 || !S_ISLNK(st.mode)) {
		ama_error_clear();
		return 0;
	}
	n = readlink(path, target, sizeof(target));
	if (n < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot read the "
					    "link");
	if ((uint64_t)n != c->size)
		return ama_error_setp(AMA_ECHANGED, path, "changed since "
				      "added: a target of %zd bytes", n);
	c->link = ama_strndup(target, (size_t)n);
	return 1;
}

/* Send c from its first waiter's path. */
static void send(struct ama_stage *st, struct content *c)
{
	struct ama_buf key = AMA_BUF_INIT;
	char hex[AMA_MD5_HEXLEN + 1];
	struct ama_store_put p;
	int rc;

	ama_md5_to_hex(hex, &c->md5);
	ama_buf_addf(&key, "%s%s", st->prefix, hex);
	memset(&p, 0, sizeof(p));
	p.key = key.s;
	rc = read_link(c, c->head->path);
	if (rc < 0) {
		struct ama_store_result r;

		memset(&r, 0, sizeof(r));
		r.key = key.s;
		r.udata = c;
		r.rc = rc;
		r.error = ama_error_msg();
		c->state = C_SENDING;
		put_done(st, &r);
		ama_buf_release(&key);
		return;
	}
	if (rc == 1) {
		p.data = c->link;
		p.len = (size_t)c->size;
	} else {
		p.path = c->head->path;
	}
	p.md5 = &c->md5;
	p.size = c->size;
	p.udata = c;
	c->state = C_SENDING;
	if (!st->b)
		st->b = ama_store_batch_new(st->s, put_done, put_progress, st);
	st->uploads++;
	rc = ama_store_batch_put(st->b, &p);
	if (rc < 0 && !st->failed)	/* interrupted: the store's reason */
		stop(st, rc, ama_error_msg());
	ama_buf_release(&key);
}

/* Send what failed from one path again from the next, until none is left. */
static void send_retries(struct ama_stage *st)
{
	while (st->nretry > 0 && !st->failed)
		send(st, st->retry[--st->nretry]);
}

static int status(struct ama_stage *st)
{
	return st->failed ? ama_error_set(st->failed, "%s", st->why) : 0;
}

int ama_stage_add(struct ama_stage *st, const struct ama_md5 *md5,
		  uint64_t size, const char *path, void *udata)
{
	struct content *c;
	struct waiter *w;

	if (st->failed)
		return status(st);
	c = content_of(st, md5, size);
	if (c->size != size) {
		tell(st, c, path, udata, AMA_EINVAL,
		     "another path has this MD5 with another size");
		return 0;
	}
	switch (c->state) {
	case C_DONE:
		tell(st, c, path, udata, 0, NULL);
		return 0;
	case C_FAILED:
		tell(st, c, path, udata, c->rc, c->error);
		return 0;
	case C_IDLE:
	case C_SENDING:
		break;
	}
	w = ama_calloc(1, sizeof(*w));
	w->path = ama_strdup(path);
	w->udata = udata;
	if (c->tail)
		c->tail->next = w;
	else
		c->head = w;
	c->tail = w;
	if (c->state == C_IDLE)
		send(st, c);
	send_retries(st);
	return status(st);
}

int ama_stage_finish(struct ama_stage *st)
{
	while (st->b && !st->failed) {
		struct ama_store_batch *b = st->b;
		int rc;

		/* retries found by this run go in a batch of their own */
		st->b = NULL;
		rc = ama_store_batch_finish(b);
		if (rc < 0 && !st->failed)
			stop(st, rc, ama_error_msg());
		send_retries(st);
	}
	return status(st);
}

uint64_t ama_stage_uploads(const struct ama_stage *st)
{
	return st->uploads;
}

void ama_stage_free(struct ama_stage *st)
{
	size_t i;

	if (!st)
		return;
	if (st->b)
		ama_store_batch_finish(st->b);
	for (i = 0; i < st->cap; i++) {
		struct content *c = st->tab[i];

		if (!c)
			continue;
		while (c->head)
			pop_waiter(c);
		free(c->error);
		free(c->link);
		free(c);
	}
	free(st->tab);
	free(st->retry);
	free(st->prefix);
	free(st->why);
	free(st);
}

/* --- the check before sending --- */

int ama_stage_check(struct ama_index *idx, const char *rootrel, size_t len,
		    const struct ama_md5 *md5, uint64_t size)
{
	const struct ama_index_entry *e = ama_index_find(idx, rootrel, len);
	struct ama_stat now;
	int rc;

	if (!e)
		return AMA_STAGE_NOT_IN_INDEX;
	if (!ama_md5_equal(&e->md5, md5))
		return AMA_STAGE_OTHER_MD5;
	if (e->st.size != size)
		return AMA_STAGE_OTHER_SIZE;
	rc = ama_stat_path(&now, rootrel);
	if (rc == AMA_ENOTFOUND ||
	    (rc == 0 && !ama_stat_is_reg(&now) && !S_ISLNK(now.mode)))
		return AMA_STAGE_DELETED;
	if (rc < 0)
		return rc;	/* AMA_EIO, said with the system's reason */
	/* a file that became a link, or a link a file, is another content */
	if (S_ISLNK(now.mode) != S_ISLNK(e->st.mode))
		return AMA_STAGE_MODIFIED;
	return ama_verify_stat_matches(&e->st, &now) ? AMA_STAGE_SEND :
		AMA_STAGE_MODIFIED;
}

const char *ama_stage_verdict_reason(enum ama_stage_verdict v)
{
	static const char *const reason[] = {
		"sent", "not in the index", "index has another MD5 for it",
		"index has another size for it", "deleted since added",
		"modified since added",
	};

	return reason[v];
}

const char *ama_stage_verdict_fix(enum ama_stage_verdict v)
{
	return v == AMA_STAGE_SEND ? NULL :
		v == AMA_STAGE_DELETED ? "remove" : "add";
}
