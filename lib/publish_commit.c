/* publish_commit.c: a commit: verify every new content, copy it into remote, publish the version. */
#include "auto-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "layout.h"
#include "manifest.h"
#include "md5.h"
#include "meta.h"
#include "publish.h"
#include "record.h"
#include "store.h"
#include "version.h"

#include "publish_priv.h"

/* ---- commits: the contents to verify ---- */

/* A distinct content of the commit that the newest version does not hold. */
struct content {
	struct ama_md5 md5;
	uint64_t size;
	char hex[AMA_MD5_HEXLEN + 1];
	int in_remote;		/* remote holds its bytes (judge_remote) */
	int remote_unsure;	/* remote holds an object of its size whose
				 * ETag cannot tell: read and hash it */
	int in_staging;		/* staging has it: info */
	int verified;		/* info.etag names bytes with this MD5 */
	int copied;
	const char *problem;	/* "missing", "size", "checksum" or NULL */
	struct ama_store_info info;	/* the staged object */
};

struct commit {
	struct ama_publish *p;
	struct session *s;
	const struct ama_commit_request *rq;
	struct ama_class_info cls;
	int file;		/* the stores are file:// (no ETags) */
	struct content *c;	/* sorted by MD5, then size */
	size_t n;
	/* the worker threads: the next task, the first hard error */
	pthread_mutex_t mu;
	size_t next;
	int rc;
	char err[1024];
	char err_path[4096];	/* its subject, or "" */
};

static int pair_cmp(const struct ama_md5 *m1, uint64_t s1,
		    const struct ama_md5 *m2, uint64_t s2)
{
	int c = memcmp(m1->d, m2->d, sizeof(m1->d));

	if (c)
		return c;
	return (s1 > s2) - (s1 < s2);
}

static int content_cmp(const void *a, const void *b)
{
	const struct content *x = a, *y = b;

	return pair_cmp(&x->md5, x->size, &y->md5, y->size);
}

/* A content as the lists below hold it: 24 bytes, not a struct content. */
struct pair {
	struct ama_md5 md5;
	uint64_t size;
};

static int pair_qcmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return pair_cmp(&x->md5, x->size, &y->md5, y->size);
}

/* The distinct (MD5, size) of l, sorted, into a new array. */
static struct pair *distinct(const struct ama_objlist *l, size_t *n)
{
	struct pair *v = ama_malloc((l->n ? l->n : 1) * sizeof(*v));
	size_t i, k = 0;

	for (i = 0; i < l->n; i++) {
		v[i].md5 = l->v[i].md5;
		v[i].size = l->v[i].size;
	}
	if (l->n)
		qsort(v, l->n, sizeof(*v), pair_qcmp);
	for (i = 0; i < l->n; i++)
		if (k == 0 || pair_qcmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*n = k;
	return v;
}

/* cm->c: the contents of the request that held are not in. */
static void new_contents(struct commit *cm, const struct ama_objlist *held)
{
	struct pair *want, *have = NULL;
	size_t nw, nh = 0, i, j = 0, k = 0;

	want = distinct(cm->rq->objects, &nw);
	if (held)
		have = distinct(held, &nh);
	for (i = 0; i < nw; i++) {	/* want minus have, in place */
		int c = 1;

		while (j < nh && (c = pair_qcmp(&have[j], &want[i])) < 0)
			j++;
		if (j < nh && c == 0)
			continue;
		want[k++] = want[i];
	}
	free(cm->c);
	cm->c = ama_calloc(k ? k : 1, sizeof(*cm->c));
	for (i = 0; i < k; i++) {
		cm->c[i].md5 = want[i].md5;
		cm->c[i].size = want[i].size;
		ama_md5_to_hex(cm->c[i].hex, &cm->c[i].md5);
	}
	free(want);
	free(have);
	cm->n = k;
}

static const struct content *content_of(const struct commit *cm,
					const struct ama_object *o)
{
	struct content key;

	memset(&key, 0, sizeof(key));
	key.md5 = o->md5;
	key.size = o->size;
	return bsearch(&key, cm->c, cm->n, sizeof(*cm->c), content_cmp);
}

static void remote_key(struct ama_buf *out, const struct commit *cm,
		       const struct content *c)
{
	ama_buf_reset(out);
	ama_layout_content(out, cm->cls.top_hash, &c->md5);
}

static void staged_key(struct ama_buf *out, const struct commit *cm,
		       const struct content *c)
{
	ama_buf_reset(out);
	ama_layout_staged(out, cm->cls.top_hash, &c->md5);
}

/* Remember the first hard error of any thread (this thread's last). */
static void fail(struct commit *cm, int rc)
{
	pthread_mutex_lock(&cm->mu);
	if (!cm->rc) {
		cm->rc = rc;
		snprintf(cm->err, sizeof(cm->err), "%s", ama_error_msg());
		snprintf(cm->err_path, sizeof(cm->err_path), "%s",
			 ama_error_path() ? ama_error_path() : "");
	}
	pthread_mutex_unlock(&cm->mu);
}

/* The hard error, set on this thread (with its subject), or 0. */
static int failure(struct commit *cm)
{
	int rc;

	pthread_mutex_lock(&cm->mu);
	rc = cm->rc;
	pthread_mutex_unlock(&cm->mu);
	if (rc && cm->err_path[0])
		return ama_error_setp(rc, cm->err_path, "%s", cm->err);
	return rc ? ama_error_set(rc, "%s", cm->err) : 0;
}

/* ---- commits: lookups, many at once ---- */

/*
 * What remote's answer (a HEAD, or a listing's entry) about c's key says:
 * c is in remote only when the object's bytes are known to be c. A
 * single-part object's ETag is the MD5 S3 computed of its bytes: equal,
 * it is c; another, it is not (whoever put it there, it is never
 * trusted: the copy from verified staging overwrites it). An object of
 * c's size whose ETag cannot tell (a copy made in parts, an ETag that is
 * no MD5, a file:// store) is read and hashed (remote_unsure). Another
 * size is not c.
 */
static void judge_remote(struct content *c, const struct ama_store_info *i)
{
	c->in_remote = 0;
	c->remote_unsure = 0;
	if (i->size != c->size)
		return;
	if (i->etag_is_md5 && !i->multipart)
		c->in_remote = !strcmp(i->etag, c->hex);
	else
		c->remote_unsure = 1;
}

struct heads {
	struct commit *cm;
	int remote;
};

static void head_done(void *ctx, const struct ama_store_result *r)
{
	struct heads *h = ctx;
	struct content *c = r->udata;
	char msg[1024];

	if (r->rc == 0 && h->remote) {
		judge_remote(c, &r->info);
	} else if (r->rc == 0) {
		c->in_staging = 1;
		c->info = r->info;
	} else if (r->rc != AMA_ENOTFOUND) {
		/* r->error may be this thread's error buffer itself */
		snprintf(msg, sizeof(msg), "%s", r->error);
		ama_error_set(r->rc, "%s", msg);
		fail(h->cm, r->rc);
	}
}

/* HEAD each of v in remote (contents/) or staging, on the batch. */
static int head_each(struct commit *cm, int remote, struct content **v,
		     size_t n)
{
	struct ama_store *st = remote ? cm->s->remote : cm->s->staging;
	struct heads h = { cm, remote };
	struct ama_store_batch *b;
	struct ama_buf key = AMA_BUF_INIT;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	b = ama_store_batch_new(st, head_done, NULL, &h);
	for (i = 0; i < n && rc == 0; i++) {
		if (remote)
			remote_key(&key, cm, v[i]);
		else
			staged_key(&key, cm, v[i]);
		rc = ama_store_batch_head(b, key.s, v[i]);
	}
	rc = ama_store_batch_finish(b);
	ama_buf_release(&key);
	if (failure(cm))
		return cm->rc;
	return rc;
}

/*
 * Look the contents v (sorted) up in remote by listing its contents/
 * prefix, page after page, for at most budget pages. Sets *decided to
 * the number of v the pages reached (in order): those not listed are
 * not in remote.
 */
static int list_remote(struct commit *cm, struct content **v, size_t n,
		       size_t budget, size_t *decided)
{
	struct ama_buf prefix = AMA_BUF_INIT;
	struct ama_store_page page;
	char *after = NULL;
	size_t pages, i = 0, e;
	int rc = 0;

	*decided = 0;
	ama_layout_contents_prefix(&prefix, cm->cls.top_hash);
	for (pages = 0; pages < budget; pages++) {
		const char *last = NULL;

		rc = ama_store_list_page(cm->s->remote, prefix.s, after, 1000,
					 &page);
		free(after);
		after = NULL;
		if (rc < 0) {
			rc = ama_bucket_fail(rc, cm->s->remote, prefix.s);
			break;
		}
		for (e = 0; e < page.n; e++) {
			const char *md5 = page.entries[e].key + prefix.len;
			int c = 1;

			last = md5;
			while (i < n && (c = strcmp(v[i]->hex, md5)) < 0)
				i++;
			if (i < n && c == 0) {
				judge_remote(v[i], &page.entries[e].info);
				i++;
			}
		}
		if (!page.next) {
			i = n;
		} else {
			while (last && i < n && strcmp(v[i]->hex, last) <= 0)
				i++;
			after = page.next;
			page.next = NULL;
		}
		ama_store_page_release(&page);
		if (i == n || !after)
			break;
	}
	free(after);
	ama_buf_release(&prefix);
	*decided = i;
	return rc;
}

/* Which of the contents remote holds: listed, or one HEAD each. */
static int find_in_remote(struct commit *cm, struct content **v, size_t n)
{
	size_t decided = 0;
	int rc = 0;

	if (!cm->file && n >= LIST_MIN)
		rc = list_remote(cm, v, n, n / HEADS_PER_PAGE, &decided);
	if (rc == 0)
		rc = head_each(cm, 1, v + decided, n - decided);
	return rc;
}

/* ---- commits: work on many threads ---- */

typedef int (*task_fn)(struct commit *cm, struct session *s,
		       struct content *c);

struct tasks {
	struct commit *cm;
	task_fn fn;
	struct content **v;
	size_t n;
};

static void work(struct tasks *t, struct session *s)
{
	struct commit *cm = t->cm;

	for (;;) {
		size_t i;
		int stop, rc;

		pthread_mutex_lock(&cm->mu);
		i = cm->next++;
		stop = cm->rc != 0;
		pthread_mutex_unlock(&cm->mu);
		if (stop || i >= t->n)
			break;
		rc = t->fn(cm, s, t->v[i]);
		if (rc < 0)
			fail(cm, rc);
	}
}

static void *worker(void *arg)
{
	struct tasks *t = arg;
	struct session *s;
	int rc = ama_pub_session_get(t->cm->p, &s);

	if (rc < 0) {
		fail(t->cm, rc);
		return NULL;
	}
	work(t, s);
	ama_pub_session_put(t->cm->p, s);
	return NULL;
}

/* fn for each of v, on up to jobs threads (this one among them). */
static int run_tasks(struct commit *cm, task_fn fn, struct content **v,
		     size_t n)
{
	struct tasks t = { cm, fn, v, n };
	pthread_t *tid;
	size_t want = n < (size_t)cm->p->jobs ? n : (size_t)cm->p->jobs;
	size_t started = 0, i;

	cm->next = 0;
	tid = ama_calloc(want ? want : 1, sizeof(*tid));
	for (i = 1; i < want; i++)
		if (pthread_create(&tid[started], NULL, worker, &t) == 0)
			started++;
	work(&t, cm->s);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	return failure(cm);
}

/* ---- commits: verifying and copying one content ---- */

struct hash_sink {
	struct ama_hasher h;
	uint64_t n;
};

static int hash_sink(void *ctx, const void *data, size_t n)
{
	struct hash_sink *hs = ctx;

	ama_hasher_update(&hs->h, data, n);
	hs->n += n;
	return 0;
}

/*
 * Read key of st and hash it: *same says whether its bytes are c's (its
 * size and MD5); info (may be NULL) gets the object's info. Returns 0,
 * AMA_ENOTFOUND, or another error (set, the key's URL its subject).
 */
static int hash_object(struct ama_store *st, const char *key,
		       const struct content *c, int *same,
		       struct ama_store_info *info)
{
	struct hash_sink hs;
	struct ama_md5 got;
	int rc;

	ama_hasher_init(&hs.h);
	hs.n = 0;
	ama_hasher_start(&hs.h);
	rc = ama_store_get(st, key, 0, AMA_STORE_TO_END, hash_sink, &hs,
			   info);
	ama_hasher_finish(&hs.h, &got);
	ama_hasher_release(&hs.h);
	*same = rc == 0 && hs.n == c->size && ama_md5_equal(&got, &c->md5);
	if (rc < 0 && rc != AMA_ENOTFOUND)
		rc = ama_bucket_fail(rc, st, key);
	return rc;
}

/* Remote's object of c's size whose ETag cannot tell: is it c? Read it. */
static int hash_remote(struct commit *cm, struct session *s,
		       struct content *c)
{
	struct ama_buf key = AMA_BUF_INIT;
	int same = 0, rc;

	remote_key(&key, cm, c);
	rc = hash_object(s->remote, key.s, c, &same, NULL);
	c->remote_unsure = 0;
	c->in_remote = rc == 0 && same;
	if (rc == AMA_ENOTFOUND)
		rc = 0;
	ama_buf_release(&key);
	return rc;
}

/* Read and hash, many at once, what remote holds of c's unsure of. */
static int settle_remote(struct commit *cm)
{
	struct content **v = ama_calloc(cm->n ? cm->n : 1, sizeof(*v));
	size_t i, k = 0;
	int rc;

	for (i = 0; i < cm->n; i++)
		if (cm->c[i].remote_unsure)
			v[k++] = &cm->c[i];
	rc = run_tasks(cm, hash_remote, v, k);
	free(v);
	return rc;
}

/*
 * Read the staged object and hash it. The ETag it had while it was read
 * must be the one its HEAD showed (else it was replaced meanwhile: read
 * again); that ETag is then the verified one.
 */
static int hash_staged(struct commit *cm, struct session *s,
		       struct content *c)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	struct hash_sink hs;
	struct ama_md5 got;
	int rc = 0, attempt;

	staged_key(&key, cm, c);
	ama_hasher_init(&hs.h);
	for (attempt = 0; attempt < 3; attempt++) {
		hs.n = 0;
		ama_hasher_start(&hs.h);
		rc = ama_store_get(s->staging, key.s, 0, AMA_STORE_TO_END,
				   hash_sink, &hs, &info);
		ama_hasher_finish(&hs.h, &got);
		if (rc < 0 || !strcmp(info.etag, c->info.etag))
			break;
		c->info = info;
	}
	if (rc == AMA_ENOTFOUND) {
		c->in_staging = 0;	/* published meanwhile? */
		rc = 0;
	} else if (rc < 0) {
		rc = ama_bucket_fail(rc, s->staging, key.s);
	} else if (attempt == 3) {
		c->problem = "checksum";	/* it keeps changing */
	} else if (hs.n != c->size) {
		c->problem = "size";
	} else if (!ama_md5_equal(&got, &c->md5)) {
		c->problem = "checksum";
	} else {
		c->info = info;
		c->verified = 1;
	}
	ama_hasher_release(&hs.h);
	ama_buf_release(&key);
	return rc;
}

/*
 * What the staged object's HEAD says of it: its size, and for a
 * single-part object on S3 its ETag, which the store computed from the
 * bytes. Returns 1 when only reading the bytes can tell (multipart, an
 * ETag that is no MD5, or file://, where the copy hashes).
 */
static int judge_staged(const struct commit *cm, struct content *c)
{
	if (c->info.size != c->size) {
		c->problem = "size";
		return 0;
	}
	if (cm->file || c->info.multipart || !c->info.etag_is_md5)
		return 1;
	if (strcmp(c->info.etag, c->hex))
		c->problem = "checksum";
	else
		c->verified = 1;
	return 0;
}

/* Did another commit publish c meanwhile (it left staging)? */
static int recheck_remote(struct commit *cm, struct session *s,
			  struct content *c)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	int rc;

	remote_key(&key, cm, c);
	rc = ama_store_head(s->remote, key.s, &info);
	if (rc == 0) {
		judge_remote(c, &info);
		if (c->remote_unsure)
			rc = hash_remote(cm, s, c);
	} else if (rc == AMA_ENOTFOUND) {
		rc = 0;
	} else {
		rc = ama_bucket_fail(rc, s->remote, key.s);
	}
	if (rc == 0 && !c->in_remote)
		c->problem = "missing";
	ama_buf_release(&key);
	return rc;
}

/*
 * The copy under key holds other bytes than c (the store ignored the
 * copy's If-Match and the staged object was replaced meanwhile): take it
 * back, unless what is there now is c (another commit's copy landed
 * since). Never trusted whatever happens (judge_remote), but left there
 * it is garbage under a content's key: a delete that fails is the
 * commit's failure, reported with the key, and the next commit of c
 * overwrites the object from verified staging. Returns 0 (taken back),
 * 1 (c is there now), or the error.
 */
static int take_back(struct session *s, struct content *c, const char *key)
{
	struct ama_store_info info;
	char msg[1024];
	int rc = ama_store_head(s->remote, key, &info);

	if (rc == 0 && info.size == c->size && info.etag_is_md5 &&
	    !info.multipart && !strcmp(info.etag, c->hex))
		return 1;
	if (rc < 0 && rc != AMA_ENOTFOUND)
		return ama_bucket_fail(rc, s->remote, key);
	if (rc == AMA_ENOTFOUND)
		return 0;
	rc = ama_store_delete(s->remote, key);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s", ama_error_msg());
		ama_error_set(rc, "a copy of other bytes than %s is there and "
			      "could not be deleted: %s", c->hex, msg);
		return ama_bucket_fail(rc, s->remote, key);
	}
	return 0;
}

/*
 * Is the copy just made under key c? On S3 the ETag of a copy made in one
 * request is the MD5 of its bytes (computed by S3; on file://, by the
 * copy); a copy made in parts, or an ETag that is no MD5, is read and
 * hashed. Returns 0 (c is there), 1 (it was not: taken back), or an error.
 */
static int check_copy(struct session *s, struct content *c, const char *key,
		      const struct ama_store_info *got)
{
	int same = 0, rc;

	if (got->etag_is_md5 && !got->multipart) {
		same = !strcmp(got->etag, c->hex);
	} else {
		rc = hash_object(s->remote, key, c, &same, NULL);
		if (rc < 0 && rc != AMA_ENOTFOUND)
			return rc;
	}
	if (same)
		return 0;
	rc = take_back(s, c, key);
	return rc == 1 ? 0 : rc < 0 ? rc : 1;
}

/*
 * Copy a verified staged content into remote: only the bytes verified
 * (If-Match of the verified ETag; on file://, hashed on the way). If the
 * staged object was replaced meanwhile, verify it again.
 */
static int copy_one(struct commit *cm, struct session *s, struct content *c)
{
	struct ama_buf rkey = AMA_BUF_INIT, skey = AMA_BUF_INIT;
	struct ama_store_info seen, got;
	int rc = 0, attempt;

	remote_key(&rkey, cm, c);
	staged_key(&skey, cm, c);
	for (attempt = 0; attempt < 3 && !c->problem && !c->in_remote;
	     attempt++) {
		if (!c->verified && !cm->file) {
			/* replaced since it was verified: once more */
			rc = ama_store_head(s->staging, skey.s, &c->info);
			if (rc == AMA_ENOTFOUND) {
				rc = recheck_remote(cm, s, c);
				break;
			}
			if (rc < 0) {
				rc = ama_bucket_fail(rc, s->staging, skey.s);
				break;
			}
			if (judge_staged(cm, c))
				rc = hash_staged(cm, s, c);
			if (rc == 0 && !c->in_staging)
				rc = recheck_remote(cm, s, c);
			if (rc < 0 || c->problem || c->in_remote)
				break;
		}
		seen = c->info;
		if (cm->file) {
			snprintf(seen.etag, sizeof(seen.etag), "%s", c->hex);
			seen.size = c->size;
		}
		rc = ama_store_copy_seen(s->remote, rkey.s, s->staging,
					 skey.s, &seen, &got);
		if (rc == AMA_ENOTFOUND) {
			rc = recheck_remote(cm, s, c);
			break;
		}
		if (rc == AMA_ECONFLICT && cm->file) {
			rc = 0;	/* the bytes copied had another MD5 */
			c->problem = "checksum";
			break;
		}
		if (rc == AMA_ECONFLICT) {
			rc = 0;
			c->verified = 0;
			continue;
		}
		if (rc < 0) {
			rc = ama_bucket_fail(rc, s->remote, rkey.s);
			break;
		}
		/* nothing references the copy before it is known to be c */
		rc = check_copy(s, c, rkey.s, &got);
		if (rc < 0)
			break;
		if (rc == 0) {
			c->copied = 1;
			break;
		}
		rc = 0;
		c->verified = 0;	/* replaced: verify it again */
	}
	if (rc == 0 && !c->copied && !c->in_remote && !c->problem)
		c->problem = "checksum";	/* it keeps changing */
	ama_buf_release(&rkey);
	ama_buf_release(&skey);
	return rc;
}

/* ---- commits: steps 3 and 4 ---- */

/* Refuse the commit: a line for each object whose content failed. */
static int refuse(struct commit *cm, struct ama_commit_result *out)
{
	const struct ama_objlist *l = cm->rq->objects;
	size_t i, bad = 0;

	for (i = 0; i < l->n; i++) {
		const struct content *c = content_of(cm, &l->v[i]);

		if (!c || !c->problem)
			continue;
		ama_buf_addf(&out->problems, "%s\t", c->problem);
		ama_quote_path(&out->problems, l->v[i].path,
			       l->v[i].path_len);
		ama_buf_addch(&out->problems, '\n');
		bad++;
	}
	return ama_error_set(AMA_EREMOTE, "refused: %zu object%s not "
			     "verified", bad, bad == 1 ? "" : "s");
}

static int any_problem(const struct commit *cm)
{
	size_t i;

	for (i = 0; i < cm->n; i++)
		if (cm->c[i].problem)
			return 1;
	return 0;
}

static int verify_and_copy(struct commit *cm, struct ama_commit_result *out)
{
	struct content **v = ama_calloc(cm->n ? cm->n : 1, sizeof(*v));
	size_t i, k;
	int rc;

	for (i = 0; i < cm->n; i++)
		v[i] = &cm->c[i];
	rc = find_in_remote(cm, v, cm->n);
	if (rc == 0)
		rc = settle_remote(cm);
	/* the rest must be staged */
	for (i = k = 0; i < cm->n && rc == 0; i++)
		if (!cm->c[i].in_remote)
			v[k++] = &cm->c[i];
	if (rc == 0)
		rc = head_each(cm, 0, v, k);
	/* not staged: published by another commit meanwhile? */
	for (i = k = 0; i < cm->n && rc == 0; i++)
		if (!cm->c[i].in_remote && !cm->c[i].in_staging)
			v[k++] = &cm->c[i];
	if (rc == 0)
		rc = head_each(cm, 1, v, k);
	if (rc == 0)
		rc = settle_remote(cm);
	for (i = 0; i < k && rc == 0; i++)
		if (!v[i]->in_remote)
			v[i]->problem = "missing";
	/* what the HEADs tell; the rest is read and hashed */
	for (i = k = 0; i < cm->n && rc == 0; i++) {
		struct content *c = &cm->c[i];

		if (c->in_remote || !c->in_staging)
			continue;
		if (judge_staged(cm, c) && !cm->file)
			v[k++] = c;
	}
	if (rc == 0)
		rc = run_tasks(cm, hash_staged, v, k);
	for (i = 0; i < k && rc == 0; i++)
		if (!v[i]->in_staging && !v[i]->problem)
			rc = recheck_remote(cm, cm->s, v[i]);
	if (rc == 0 && any_problem(cm))
		rc = refuse(cm, out);
	/* every staged content verified (on file://: as it is copied) */
	for (i = k = 0; i < cm->n && rc == 0; i++)
		if (!cm->c[i].in_remote)
			v[k++] = &cm->c[i];
	if (rc == 0)
		rc = run_tasks(cm, copy_one, v, k);
	if (rc == 0 && any_problem(cm))
		rc = refuse(cm, out);
	free(v);
	return rc;
}

/* ---- commits: step 7 ---- */

/*
 * Delete the staged copies of every content in cm->c: they are all in
 * remote now. A failure leaves garbage in staging, not a wrong version:
 * it is not the commit's failure.
 */
static void delete_staged(struct commit *cm)
{
	char **keys = ama_calloc(cm->n ? cm->n : 1, sizeof(*keys));
	struct ama_buf key = AMA_BUF_INIT;
	size_t i;

	for (i = 0; i < cm->n; i++) {
		staged_key(&key, cm, &cm->c[i]);
		keys[i] = ama_strdup(key.s);
	}
	ama_store_delete_many(cm->s->staging, (const char *const *)keys,
			      cm->n);
	ama_error_clear();
	for (i = 0; i < cm->n; i++)
		free(keys[i]);
	free(keys);
	ama_buf_release(&key);
}

/* ---- commits: steps 1 and 2 ---- */

struct lookup {
	const struct ama_commit_request *rq;
	const char *id;			/* the request's commit id */
	int found;
	struct ama_version version;
	int has_parent;
	struct ama_version parent;
	char commit_id[AMA_COMMIT_ID_HEXLEN + 1];
};

static int lookup_fn(const struct ama_meta_version *v, void *ctx)
{
	struct lookup *l = ctx;
	char id[AMA_COMMIT_ID_HEXLEN + 1];

	if (l->rq->has_parent && !ama_version_cmp(&v->version,
						   &l->rq->parent))
		return 1;	/* made before the request: not its */
	if (strcmp(v->commit_id, l->id)) {
		/* the same objects on another parent? */
		ama_manifest_commit_id(id, v->has_parent ? &v->parent : NULL,
				       l->rq->objects);
		if (strcmp(v->commit_id, id))
			return 0;
	}
	l->found = 1;
	l->version = v->version;
	l->has_parent = v->has_parent;
	l->parent = v->parent;
	snprintf(l->commit_id, sizeof(l->commit_id), "%s", v->commit_id);
	return 2;
}

/*
 * The request was carried out before (as the version l found): delete
 * what that version added from staging again, as step 7 would have.
 */
static void finish_repeat(struct commit *cm, const struct lookup *l)
{
	struct ama_meta_version pv;
	struct ama_objlist before = AMA_OBJLIST_INIT;
	int rc = 0;

	if (l->has_parent) {
		rc = ama_meta_find_version(cm->s->meta, &pv, cm->rq->class,
					   cm->rq->seq, &l->parent);
		if (rc == 0) {
			rc = ama_meta_read_objects(cm->s->meta, &before, &pv);
			ama_meta_version_release(&pv);
		}
	}
	if (rc == 0) {
		new_contents(cm, l->has_parent ? &before : NULL);
		delete_staged(cm);
	}
	ama_error_clear();
	ama_objlist_release(&before);
}

/* ---- commits: step 5 ---- */

/*
 * Take the manifest key of m's version (into key) with a create-only put.
 * Returns CLAIMED (made now), 0 (there already, a crash being finished:
 * m's header is now that manifest's), RESTART (a version found there was
 * added to the repository first), or an error.
 */
static int claim_manifest(struct commit *cm, struct ama_manifest *m,
			  const struct ama_objlist *head_objects,
			  struct ama_buf *key)
{
	struct ama_buf text = AMA_BUF_INIT, where = AMA_BUF_INIT;
	struct ama_manifest old;
	char vs[AMA_VERSION_BUFSIZE];
	int rc, same_parent;

	ama_version_format(vs, &m->version);
	ama_layout_manifest(key, cm->cls.top_hash, m->seq, &m->version);
	ama_manifest_format(&text, m);
	rc = ama_pub_put_text(cm->s->remote, key->s, &text, AMA_STORE_IF_NONE_MATCH);
	if (rc != AMA_ECONFLICT) {
		if (rc < 0)
			rc = ama_bucket_fail(rc, cm->s->remote, key->s);
		else
			rc = CLAIMED;
		goto out;
	}
	/* a version is there already */
	ama_store_key_url(&where, cm->s->remote, key->s);
	rc = ama_bucket_get_text(cm->s->remote, key->s, &text, MAX_MANIFEST);
	if (rc < 0) {
		rc = ama_bucket_fail(rc, cm->s->remote, key->s);
		goto out;
	}
	rc = ama_manifest_parse(&old, text.s, text.len);
	if (rc < 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", ama_error_msg());
		rc = ama_error_setp(AMA_ECORRUPT, where.s, "%s", msg);
		goto out;
	}
	same_parent = old.has_parent == m->has_parent &&
		(!m->has_parent || !ama_version_cmp(&old.parent, &m->parent));
	if (ama_version_cmp(&old.version, &m->version) || !same_parent ||
	    (old.class && strcmp(old.class, m->class)) ||
	    (old.seq && old.seq != m->seq)) {
		rc = ama_error_setp(AMA_ECONFLICT, where.s,
			"version %s of %s/%llu is there, and not on top of "
			"the newest version here", vs, m->class,
			(unsigned long long)m->seq);
	} else if (ama_objlist_equal(&old.objects, &m->objects)) {
		/* the same commit: keep what it says */
		free(m->author);
		free(m->message);
		m->author = old.author;
		m->message = old.message;
		m->time = old.time;
		old.author = old.message = NULL;
	} else {
		/* a version the repository lacks: add it first */
		if (!old.class)
			old.class = ama_strdup(m->class);
		old.seq = m->seq;
		rc = ama_meta_write(cm->s->meta, NULL, &old, head_objects);
		if (rc == 0 || rc == AMA_ECONFLICT)
			rc = RESTART;
		if (rc == AMA_EINVAL) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s%s%s", ama_error_path() ?
				 ama_quote_for_message(ama_error_path()) : "",
				 ama_error_path() ? ": " : "",
				 ama_error_msg());
			rc = ama_error_setp(AMA_ECORRUPT, where.s, "a version "
					    "the repository cannot hold: %s",
					    msg);
		}
	}
	ama_manifest_release(&old);
out:
	ama_buf_release(&text);
	ama_buf_release(&where);
	return rc;
}

/*
 * Take back the manifest this attempt made, when the repository refuses
 * its version (a name git cannot store): left there, it would be a
 * version in remote that no repository can hold. The repository's error
 * stays the one reported.
 */
static void unclaim_manifest(struct commit *cm, const char *key)
{
	char msg[1024], path[4096] = "";
	int code = ama_error_code();

	snprintf(msg, sizeof(msg), "%s", ama_error_msg());
	if (ama_error_path())
		snprintf(path, sizeof(path), "%s", ama_error_path());
	ama_store_delete(cm->s->remote, key);
	if (path[0])
		ama_error_setp(code, path, "%s", msg);
	else
		ama_error_set(code, "%s", msg);
}

/* ---- commits: all the steps ---- */

static int commit_once(struct commit *cm, struct ama_commit_result *out)
{
	const struct ama_commit_request *rq = cm->rq;
	struct ama_meta_version head, made;
	struct ama_objlist held = AMA_OBJLIST_INIT;
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_manifest m;
	struct lookup l;
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	int rc, has_head, made_now;

	memset(&head, 0, sizeof(head));
	memset(&made, 0, sizeof(made));
	ama_manifest_init(&m);
	rc = ama_meta_head(cm->s->meta, &head, rq->class, rq->seq);
	has_head = rc == 0;
	if (rc == AMA_ENOTFOUND)
		rc = ama_pub_asset_must_exist(cm->s, &cm->cls, rq->seq);
	if (rc < 0)
		goto out;

	/* 1. a request carried out already */
	ama_manifest_commit_id(id, rq->has_parent ? &rq->parent : NULL,
			       rq->objects);
	memset(&l, 0, sizeof(l));
	l.rq = rq;
	l.id = id;
	if (has_head) {
		rc = ama_meta_log(cm->s->meta, rq->class, rq->seq,
				  AMA_PUBLISH_LOOKBACK, lookup_fn, &l);
		if (rc < 0)
			goto out;
		rc = 0;
	}
	if (l.found) {
		out->version = l.version;
		snprintf(out->commit_id, sizeof(out->commit_id), "%s",
			 l.commit_id);
		finish_repeat(cm, &l);
		goto out;
	}

	/* 2. nothing new */
	if (has_head) {
		rc = ama_meta_read_objects(cm->s->meta, &held, &head);
		if (rc < 0)
			goto out;
		if (ama_objlist_equal(&held, rq->objects)) {
			out->version = head.version;
			out->nothing = 1;
			snprintf(out->commit_id, sizeof(out->commit_id), "%s",
				 head.commit_id);
			goto out;
		}
	}

	/* 3, 4. what the newest version lacks: verified, copied */
	new_contents(cm, has_head ? &held : NULL);
	rc = verify_and_copy(cm, out);
	if (rc < 0)
		goto out;

	/* 5. the manifest in remote */
	if (has_head) {
		rc = ama_version_next(&m.version, &head.version);
		if (rc < 0)
			goto out;
		m.has_parent = 1;
		m.parent = head.version;
	}
	m.class = ama_strdup(rq->class);
	m.seq = rq->seq;
	m.author = ama_strdup(rq->author);
	m.time = rq->time ? rq->time : (int64_t)time(NULL);
	m.message = ama_strdup(rq->message ? rq->message : "");
	m.objects = *rq->objects;	/* borrowed: not released below */
	rc = claim_manifest(cm, &m, has_head ? &held : NULL, &key);
	if (rc < 0 || rc == RESTART)
		goto out;
	made_now = rc == CLAIMED;

	/* 6. the repository, the ref last */
	rc = ama_meta_write(cm->s->meta, &made, &m, has_head ? &held : NULL);
	if (rc == AMA_ECONFLICT) {
		rc = RESTART;	/* another writer of this repository */
		goto out;
	}
	if (rc == AMA_EINVAL && made_now)
		unclaim_manifest(cm, key.s);	/* a name git refuses */
	if (rc < 0)
		goto out;
	out->version = made.version;
	out->created = 1;
	snprintf(out->commit_id, sizeof(out->commit_id), "%s",
		 made.commit_id);

	/* 7. staging drained of what is published */
	delete_staged(cm);
out:
	memset(&m.objects, 0, sizeof(m.objects));
	ama_manifest_release(&m);
	ama_objlist_release(&held);
	ama_meta_version_release(&head);
	ama_meta_version_release(&made);
	ama_buf_release(&key);
	return rc;
}

static int check_request(const struct ama_commit_request *rq)
{
	int rc = ama_manifest_check_class(rq->class ? rq->class : "");

	if (rc < 0)
		return rc;
	if (rq->seq == 0)
		return ama_error_set(AMA_EINVAL, "no asset has seq 0");
	if (!rq->author)
		return ama_error_set(AMA_EINVAL, "no author");
	rc = ama_manifest_check_author(rq->author);
	if (rc < 0)
		return rc;
	if (rq->has_parent && !ama_version_is_valid(&rq->parent))
		return ama_error_set(AMA_EINVAL, "bad parent version");
	if (rq->time < 0)
		return ama_error_set(AMA_EINVAL, "bad time: %lld",
				     (long long)rq->time);
	if (!rq->objects)
		return ama_error_set(AMA_EINVAL, "no object list");
	/* as ama upload: an emptied index must not publish "no files" */
	if (!rq->objects->n)
		return ama_error_set(AMA_EINVAL, "an empty object list: a "
				     "version holds at least one object");
	return ama_objlist_check(rq->objects);
}

void ama_commit_result_release(struct ama_commit_result *r)
{
	ama_buf_release(&r->problems);
}

int ama_publish_commit(struct ama_publish *p,
		       const struct ama_commit_request *rq,
		       struct ama_commit_result *out)
{
	struct commit cm;
	pthread_mutex_t *lock;
	int rc, round;

	memset(out, 0, sizeof(*out));
	rc = check_request(rq);
	if (rc < 0)
		return rc;
	memset(&cm, 0, sizeof(cm));
	cm.p = p;
	cm.rq = rq;
	pthread_mutex_init(&cm.mu, NULL);
	rc = ama_pub_session_get(p, &cm.s);
	if (rc < 0)
		goto out;
	cm.file = ama_store_kind(cm.s->remote) == AMA_STORE_FILE;
	rc = ama_pub_session_meta(p, cm.s);
	if (rc == 0)
		rc = ama_pub_class_get(p, cm.s, rq->class, 0, &cm.cls);
	if (rc < 0)
		goto out;
	lock = ama_pub_asset_lock(p, rq->class, rq->seq);
	pthread_mutex_lock(lock);
	for (round = 0;; round++) {
		ama_buf_reset(&out->problems);
		out->nothing = 0;
		rc = commit_once(&cm, out);
		if (rc != RESTART)
			break;
		if (round + 1 == MAX_ROUNDS) {
			rc = ama_error_set(AMA_ECONFLICT, "%s/%llu kept moving "
				"while this commit was made", rq->class,
				(unsigned long long)rq->seq);
			break;
		}
	}
	pthread_mutex_unlock(lock);
out:
	ama_pub_session_put(p, cm.s);
	free(cm.c);
	pthread_mutex_destroy(&cm.mu);
	return rc;
}
