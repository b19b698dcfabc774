/* exists.c: asking a bucket about many contents: a listing or HEADs, and the staging rule. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "layout.h"
#include "exists.h"

#define DEFAULT_PAGE 1000

void ama_exists_query_release(struct ama_exists_query *q)
{
	free(q->error);
	q->error = NULL;
}

static void answer(struct ama_exists_query *q, int found,
		   const struct ama_store_info *info, int listed)
{
	q->rc = 0;
	q->found = found;
	q->listed = listed;
	free(q->error);
	q->error = NULL;
	if (found)
		q->info = *info;
	else
		memset(&q->info, 0, sizeof(q->info));
}

static void fail(struct ama_exists_query *q, int rc, const char *why)
{
	q->rc = rc;
	q->found = 0;
	free(q->error);
	q->error = ama_strdup(why ? why : "failed");
}

/* The question's key: prefix and the MD5 in hex. */
static void query_key(struct ama_buf *out, const char *prefix,
		      const struct ama_exists_query *q)
{
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_to_hex(hex, &q->md5);
	ama_buf_reset(out);
	ama_buf_addstr(out, prefix);
	ama_buf_addstr(out, hex);
}

double ama_exists_md5_fraction(const char *s)
{
	double f = 0, scale = 1.0 / 16;
	int i;

	for (i = 0; i < 13; i++, scale /= 16) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			break;
		f += d * scale;
	}
	return i == 0 ? -1 : f;
}

int ama_exists_keep_listing(uint64_t listed, double at, size_t remaining,
			    int page_size)
{
	double left;

	if (page_size <= 0)
		page_size = DEFAULT_PAGE;
	if (at <= 0 || at > 1)
		return 0;	/* no idea how many are left: HEADs */
	/* pages = ceil(left / page_size), at least 1 (there is a next
	 * page); pages < remaining <=> left / page_size <= remaining - 1 */
	left = (double)listed / at - (double)listed;
	return remaining >= 2 &&
		left / page_size <= (double)(remaining - 1);
}

/* --- HEADs --- */

struct heads {
	int failed;		/* an exit-2 error */
	char *why;		/* its reason */
};

static void head_done(void *ctx, const struct ama_store_result *r)
{
	struct heads *h = ctx;
	struct ama_exists_query *q = r->udata;

	if (r->rc == 0)
		answer(q, 1, &r->info, 0);
	else if (r->rc == AMA_ENOTFOUND)
		answer(q, 0, NULL, 0);
	else
		fail(q, r->rc, r->error);
	if (r->rc < 0 && ama_error_exit_status(r->rc) == 2 && !h->failed) {
		h->failed = r->rc;
		h->why = ama_strdup(r->error ? r->error : "failed");
	}
}

static int heads(struct ama_store *s, const char *prefix,
		 struct ama_exists_query **q, size_t n,
		 struct ama_exists_opts *o)
{
	struct heads h = { 0, NULL };
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_batch *b;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	b = ama_store_batch_new(s, head_done, NULL, &h);
	for (i = 0; i < n && rc == 0; i++) {
		query_key(&key, prefix, q[i]);
		o->heads++;
		rc = ama_store_batch_head(b, key.s, q[i]);
	}
	if (ama_store_batch_finish(b) < 0 && rc == 0)
		rc = AMA_EIO;	/* interrupted: the store said so */
	if (h.failed)		/* the store's reason, not a later one */
		rc = ama_error_set(h.failed, "%s", h.why);
	free(h.why);
	ama_buf_release(&key);
	return rc;
}

/* --- a listing, then HEADs for what it leaves --- */

static int list_then_head(struct ama_store *s, const char *prefix,
			  struct ama_exists_query **q, size_t n,
			  struct ama_exists_opts *o)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_page page;
	size_t plen = strlen(prefix), i = 0, k;
	uint64_t listed = 0;
	char *token = NULL;
	int rc;

	for (;;) {
		o->lists++;
		rc = ama_store_list_page(s, prefix, token, o->page_size,
					 &page);
		free(token);
		token = NULL;
		if (rc < 0) {
			if (ama_error_exit_status(rc) == 2)
				goto out;
			break;	/* HEADs may still get through */
		}
		/* both sorted: a merge, every question below a key answered */
		for (k = 0; k < page.n && i < n; k++) {
			const struct ama_store_entry *e = &page.entries[k];
			int c = 1;

			while (i < n) {
				query_key(&key, prefix, q[i]);
				c = strcmp(key.s, e->key);
				if (c >= 0)
					break;
				answer(q[i++], 0, NULL, 1);
			}
			if (c == 0)
				answer(q[i++], 1, &e->info, 1);
		}
		listed += page.n;
		if (!page.next) {
			while (i < n)
				answer(q[i++], 0, NULL, 1);
		} else if (i < n && (o->mode == AMA_EXISTS_LIST ||
			   (page.n && ama_exists_keep_listing(listed,
			    ama_exists_md5_fraction(page.entries[page.n - 1].key
						    + plen),
			    n - i, o->page_size)))) {
			token = page.next;
			page.next = NULL;
		}
		ama_store_page_release(&page);
		if (!token)
			break;
	}
	rc = heads(s, prefix, q + i, n - i, o);
out:
	ama_buf_release(&key);
	return rc;
}

int ama_exists_lookup(struct ama_store *s, const char *prefix,
		      struct ama_exists_query **q, size_t n,
		      struct ama_exists_opts *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		fail(q[i], AMA_EIO, "not asked: the lookup stopped");
	if (o->page_size <= 0 || o->page_size > DEFAULT_PAGE)
		o->page_size = DEFAULT_PAGE;
	if (n == 0)
		return 0;
	if (o->mode == AMA_EXISTS_HEAD ||
	    (o->mode == AMA_EXISTS_AUTO &&
	     (n == 1 || ama_store_kind(s) == AMA_STORE_FILE)))
		return heads(s, prefix, q, n, o);
	return list_then_head(s, prefix, q, n, o);
}

int ama_exists_published(const struct ama_exists_query *q,
			 enum ama_store_kind kind, uint64_t size)
{
	char hex[AMA_MD5_HEXLEN + 1];

	if (q->rc < 0 || !q->found || q->info.size != size)
		return 0;
	if (kind == AMA_STORE_FILE || q->info.multipart ||
	    strchr(q->info.etag, '-'))
		return 1;	/* the server reads it before it trusts it */
	ama_md5_to_hex(hex, &q->md5);
	return !strcmp(q->info.etag, hex);
}

enum ama_staged ama_exists_staged(const struct ama_exists_query *q,
				  enum ama_store_kind kind, uint64_t size)
{
	char hex[AMA_MD5_HEXLEN + 1];

	if (q->rc < 0 || !q->found || q->info.size != size)
		return AMA_STAGED_NO;
	if (kind == AMA_STORE_FILE)
		return AMA_STAGED_YES;
	if (q->info.multipart || strchr(q->info.etag, '-'))
		return AMA_STAGED_PARTS;
	ama_md5_to_hex(hex, &q->md5);
	return strcmp(q->info.etag, hex) ? AMA_STAGED_NO : AMA_STAGED_YES;
}

int ama_exists_parts_etag(char out[80], const char *path, uint64_t size,
			  uint64_t part_size, struct ama_md5 *whole)
{
	struct ama_hasher part, all;
	struct ama_buf digests = AMA_BUF_INIT;
	struct ama_md5 m;
	uint64_t done = 0, in_part = 0;
	unsigned long parts = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot open");
	if (part_size == 0)
		part_size = size ? size : 1;
	ama_hasher_init(&part);
	ama_hasher_init(&all);
	ama_hasher_start(&part);
	ama_hasher_start(&all);
	for (;;) {
		uint64_t want = part_size - in_part;
		ssize_t n = read(fd, part.buf, want < part.bufsize ?
				 (size_t)want : part.bufsize);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ama_error_setp_errno(AMA_EIO, path, "cannot read");
			break;
		}
		if (n == 0)
			break;
		if (done + (uint64_t)n > size) {
			done = size + 1;	/* longer than size */
			break;
		}
		ama_hasher_update(&part, part.buf, (size_t)n);
		ama_hasher_update(&all, part.buf, (size_t)n);
		done += (uint64_t)n;
		in_part += (uint64_t)n;
		if (in_part == part_size || done == size) {
			ama_hasher_finish(&part, &m);
			ama_buf_add(&digests, m.d, sizeof(m.d));
			parts++;
			in_part = 0;
			ama_hasher_start(&part);
		}
	}
	if (rc == 0 && done != size)
		rc = ama_error_setp(AMA_ECHANGED, path, "changed: not %"
				    PRIu64 " bytes", size);
	if (rc == 0) {
		char hex[AMA_MD5_HEXLEN + 1];

		ama_md5_buffer(&m, digests.s, digests.len);
		ama_md5_to_hex(hex, &m);
		snprintf(out, 80, "%s-%lu", hex, parts);
		ama_hasher_finish(&all, &m);
		if (whole)
			*whole = m;
	}
	close(fd);
	ama_hasher_release(&part);
	ama_hasher_release(&all);
	ama_buf_release(&digests);
	return rc;
}

/* --- remote, then staging --- */

const char *ama_where_name(enum ama_where w)
{
	static const char *const name[] = {
		NULL, "remote", "staging", "missing"
	};

	return name[w];
}

void ama_exists_content_release(struct ama_exists_content *c)
{
	free(c->error);
	c->error = NULL;
	ama_exists_query_release(&c->q);
}

static int unanswered(const struct ama_exists_content *c)
{
	return c->where == AMA_WHERE_UNKNOWN && !c->error;
}

/* Ask s about the contents want() picks, under prefix. */
static int ask(struct ama_store *s, const char *prefix,
	       struct ama_exists_content *v, size_t n,
	       int (*want)(const struct ama_exists_content *),
	       enum ama_exists_mode mode, struct ama_exists_opts *o)
{
	struct ama_exists_query **q = ama_malloc((n + 1) * sizeof(*q));
	enum ama_exists_mode saved = o->mode;
	size_t i, k = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (!want(&v[i]))
			continue;
		v[i].q.md5 = v[i].md5;
		q[k++] = &v[i].q;
	}
	o->mode = mode;
	rc = ama_exists_lookup(s, prefix, q, k, o);
	o->mode = saved;
	free(q);
	return rc;
}

static void unknown(struct ama_exists_content *c, const char *why)
{
	c->where = AMA_WHERE_UNKNOWN;
	free(c->error);
	c->error = ama_strdup(why ? why : "failed");
}

/* What remote said: published, or to be asked of staging. */
static void judge_remote(struct ama_exists_content *v, size_t n,
			 enum ama_store_kind kind)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct ama_exists_content *c = &v[i];

		if (c->q.rc < 0)
			unknown(c, c->q.error);
		else if (ama_exists_published(&c->q, kind, c->size))
			c->where = AMA_WHERE_REMOTE;
		ama_exists_query_release(&c->q);
	}
}

/*
 * Is c's object staged in parts the content? Its ETag must be the one
 * c->path's bytes make in the parts this store would send them in, and
 * those bytes be c. A file that cannot be read, or is no longer c, says
 * no: the upload that follows names what is wrong with it.
 */
static int parts_match(struct ama_store *staging,
		       const struct ama_exists_content *c)
{
	char etag[80];
	struct ama_md5 whole;

	if (!c->path)
		return 0;
	if (ama_exists_parts_etag(etag, c->path, c->size,
				  ama_store_part_size(staging, c->size),
				  &whole) < 0) {
		ama_error_clear();
		return 0;
	}
	return ama_md5_equal(&whole, &c->md5) && !strcmp(etag, c->q.info.etag);
}

/* What staging said: staged, or missing. */
static void judge_staging(struct ama_exists_content *v, size_t n,
			  struct ama_store *staging)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct ama_exists_content *c = &v[i];
		enum ama_staged st;

		if (!unanswered(c))
			continue;
		if (c->q.rc < 0) {
			unknown(c, c->q.error);
			continue;
		}
		st = ama_exists_staged(&c->q, ama_store_kind(staging),
				       c->size);
		if (st == AMA_STAGED_PARTS)
			st = parts_match(staging, c) ? AMA_STAGED_YES :
				AMA_STAGED_NO;
		c->where = st == AMA_STAGED_YES ? AMA_WHERE_STAGING :
			AMA_WHERE_MISSING;
	}
}

int ama_exists_where(struct ama_store *remote, struct ama_store *staging,
		     const char *top_hash, struct ama_exists_content *v,
		     size_t n, struct ama_exists_opts *o)
{
	struct ama_buf prefix = AMA_BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		ama_exists_content_release(&v[i]);
		v[i].where = AMA_WHERE_UNKNOWN;
	}
	ama_layout_contents_prefix(&prefix, top_hash);
	rc = ask(remote, prefix.s, v, n, unanswered, o->mode, o);
	if (rc == 0) {
		judge_remote(v, n, ama_store_kind(remote));
		ama_buf_reset(&prefix);
		ama_layout_staging_prefix(&prefix, top_hash);
		rc = ask(staging, prefix.s, v, n, unanswered, o->mode, o);
	}
	if (rc == 0)
		judge_staging(v, n, staging);
	ama_buf_release(&prefix);
	return rc;
}
