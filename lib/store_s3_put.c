/* store_s3_put.c: putting objects on S3: one PUT or parallel parts, and the batch. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "progress.h"
#include "store_s3.h"

/* --- putting an object: one PUT, or a multipart upload in parallel parts --- */

struct put_job {
	struct s3 *s3;
	struct ama_store_batch *batch;	/* NULL: a synchronous put */
	struct put_job *prev, *next;	/* the open jobs */
	char *key, *path;
	void *udata;
	unsigned flags;
	struct ama_md5 md5;
	uint64_t size;
	int fd;
	struct req *single;		/* a one-PUT job's request */
	int rc, done;
	char err[1024];
	struct ama_store_info info;
	/* multipart */
	char *upload_id;
	uint64_t part_size;
	int nparts, parts_left, next_hash;
	char (*etags)[80];
	struct ama_hasher part_h, whole_h;
};

static void job_fail(struct put_job *j, int rc)
{
	if (j->rc)
		return;
	j->rc = rc;
	snprintf(j->err, sizeof(j->err), "%s", ama_error_msg());
}

static void job_free(struct put_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->key);
	free(j->path);
	free(j->upload_id);
	free(j->etags);
	if (j->nparts) {
		ama_hasher_release(&j->part_h);
		ama_hasher_release(&j->whole_h);
	}
	free(j);
}

static void job_unlink(struct put_job *j)
{
	struct s3 *s3 = j->s3;

	if (j->prev)
		j->prev->next = j->next;
	else if (s3->jobs == j)
		s3->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void job_end(struct put_job *j)
{
	struct s3 *s3 = j->s3;

	j->done = 1;
	if (j->fd >= 0) {
		close(j->fd);
		j->fd = -1;
	}
	if (!j->batch)
		return;		/* the synchronous caller reads and frees it */
	job_unlink(j);
	if (j->rc < 0)
		ama_error_set(j->rc, "%s", j->err);
	ama_store_batch_report(j->batch, j->key, j->path, j->udata, j->rc,
			       &j->info);
	s3->jobs_open--;
	job_free(j);
}

static void put_progress(struct req *r, uint64_t delta)
{
	struct put_job *j = r->owner;

	if (j->batch && j->batch->progress)
		j->batch->progress(j->batch->ctx, j->udata, delta);
}

static void check_created(struct put_job *j, struct req *c);

static void single_done(struct req *r)
{
	struct put_job *j = r->owner;

	if (r->lost) {
		check_created(j, r);	/* did it work? */
		return;
	}
	j->single = NULL;
	if (r->rc == AMA_ECONFLICT)
		r->rc = ama_error_set(AMA_ECONFLICT,
				      "the object exists already");
	if (r->rc < 0) {
		job_fail(j, r->rc);
	} else {
		j->info = r->info;
		j->info.size = j->size;
	}
	ama_s3_req_free(r);
	job_end(j);
}

static void put_single(struct put_job *j, const void *data, size_t len)
{
	struct req *r = ama_s3_req_new(j->s3, "PUT", j->key, NULL);
	char b64[32];

	if (j->path && j->size <= SMALL_BODY) {
		/*
		 * A small file is sent from memory: no Expect: 100-continue
		 * round trip. The bytes read are the bytes sent; a file that
		 * changed since its MD5 was taken is caught by Content-MD5.
		 */
		char buf[SMALL_BODY];
		uint64_t got = 0;

		while (got <= j->size) {
			ssize_t n = pread(j->fd, buf + got, sizeof(buf) - got,
					  (off_t)got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (uint64_t)n;
			if (got == sizeof(buf))
				break;
		}
		ama_s3_req_body_mem(r, buf, (size_t)got);
	} else if (j->path) {
		ama_s3_req_body_file(r, j->fd, 0, j->size);
	} else {
		ama_s3_req_body_mem(r, data, len);
	}
	ama_md5_to_base64(b64, &j->md5);
	ama_s3_req_header(r, "Content-MD5: %s", b64);
	ama_s3_req_header(r, "Content-Type: application/octet-stream");
	if (j->flags & AMA_STORE_IF_NONE_MATCH) {
		ama_s3_req_header(r, "If-None-Match: *");
		r->lost_ok = 1;		/* a blind retry would get 412 */
	}
	r->owner = j;
	r->on_done = single_done;
	if (j->batch && j->batch->progress)
		r->progress = put_progress;
	j->single = r;
	ama_s3_submit(j->s3, r);
}

static void abort_done(struct req *r)
{
	struct put_job *j = r->owner;

	ama_s3_req_free(r);
	job_end(j);
}

static void send_abort(struct put_job *j)
{
	struct ama_s3_query q = { .n = 0 };
	struct req *r;

	ama_s3_query_add(&q, "uploadId", j->upload_id);
	r = ama_s3_req_new(j->s3, "DELETE", j->key, &q);
	ama_s3_req_no_body(r);
	r->owner = j;
	r->on_done = abort_done;
	ama_s3_submit(j->s3, r);
}

void ama_s3_complete_xml(struct ama_buf *x, int n, int *partno,
			 char (*etags)[80])
{
	int i;

	ama_buf_addstr(x, "<CompleteMultipartUpload>");
	for (i = 0; i < n; i++)
		ama_buf_addf(x, "<Part><PartNumber>%d</PartNumber>"
			     "<ETag>\"%s\"</ETag></Part>",
			     partno ? partno[i] : i + 1, etags[i]);
	ama_buf_addstr(x, "</CompleteMultipartUpload>");
}

/* Is the object there, whole, as this upload would have made it? */
int ama_s3_is_our_upload(const struct ama_store_info *info, uint64_t size,
			 const struct ama_md5 *md5)
{
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_to_hex(hex, md5);
	return info->size == size && !strcmp(info->meta_md5, hex);
}

/* After a completion whose answer was lost: the object, or try again. */
static void check_done(struct req *r)
{
	struct put_job *j = r->owner;
	struct req *c = j->single;	/* the completion, kept meanwhile */

	j->single = NULL;
	if (r->rc == 0 && ama_s3_is_our_upload(&r->info, j->size, &j->md5)) {
		j->info = r->info;
		ama_s3_req_free(r);
		ama_s3_req_free(c);
		job_end(j);
		return;
	}
	ama_s3_req_free(r);
	if (c->attempt < j->s3->store->tuning.attempts) {
		ama_s3_resubmit_later(c);
		return;
	}
	job_fail(j, c->rc);
	ama_s3_req_free(c);
	send_abort(j);
}

static void check_completed(struct put_job *j, struct req *c)
{
	struct req *r = ama_s3_req_new(j->s3, "HEAD", j->key, NULL);

	ama_s3_req_no_body(r);
	r->owner = j;
	r->on_done = check_done;
	j->single = c;
	ama_s3_submit(j->s3, r);
}

/*
 * After a create-only PUT whose answer was lost: the object with our
 * bytes is ours (or the same bytes: as good); other bytes are a conflict;
 * none, try again.
 */
static void created_done(struct req *r)
{
	struct put_job *j = r->owner;
	struct req *c = j->single;
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_to_hex(hex, &j->md5);
	j->single = NULL;
	if (r->rc == 0 && r->info.size == j->size &&
	    !strcmp(r->info.etag, hex)) {
		j->info = r->info;
	} else if (r->rc == 0) {
		job_fail(j, ama_error_set(AMA_ECONFLICT,
					  "the object exists already"));
	} else if (r->rc == AMA_ENOTFOUND &&
		   c->attempt < j->s3->store->tuning.attempts) {
		ama_s3_req_free(r);
		j->single = c;
		ama_s3_resubmit_later(c);
		return;
	} else {
		job_fail(j, c->rc);
	}
	ama_s3_req_free(r);
	ama_s3_req_free(c);
	job_end(j);
}

static void check_created(struct put_job *j, struct req *c)
{
	struct req *r = ama_s3_req_new(j->s3, "HEAD", j->key, NULL);

	ama_s3_req_no_body(r);
	r->owner = j;
	r->on_done = created_done;
	j->single = c;
	ama_s3_submit(j->s3, r);
}

static void complete_done(struct req *r)
{
	struct put_job *j = r->owner;
	char etag[80];

	if (r->rc == 0 && ama_s3_etag_answer(r, etag) == V_RETRY) {
		ama_s3_resubmit_later(r);
		return;
	}
	if (r->lost) {
		check_completed(j, r);	/* did it work? */
		return;
	}
	if (r->rc < 0) {
		job_fail(j, r->rc);
		ama_s3_req_free(r);
		send_abort(j);
		return;
	}
	memset(&j->info, 0, sizeof(j->info));
	snprintf(j->info.etag, sizeof(j->info.etag), "%s", etag);
	ama_store_info_classify(&j->info);
	j->info.multipart = 1;
	j->info.size = j->size;
	ama_md5_to_hex(j->info.meta_md5, &j->md5);
	ama_s3_req_free(r);
	job_end(j);
}

static void send_complete(struct put_job *j)
{
	struct ama_s3_query q = { .n = 0 };
	struct ama_buf x = AMA_BUF_INIT;
	struct req *r;

	ama_s3_query_add(&q, "uploadId", j->upload_id);
	r = ama_s3_req_new(j->s3, "POST", j->key, &q);
	ama_s3_complete_xml(&x, j->nparts, NULL, j->etags);
	ama_s3_req_body_mem(r, x.s, x.len);
	ama_s3_req_header(r, "Content-Type: application/xml");
	ama_buf_release(&x);
	r->owner = j;
	r->on_done = complete_done;
	r->lost_ok = 1;
	ama_s3_submit(j->s3, r);
}

/* MD5 of bytes [off, off+len) of fd, fed to whole too when given. */
int ama_s3_hash_range(struct ama_hasher *h, struct ama_hasher *whole, int fd,
		      uint64_t off, uint64_t len, struct ama_md5 *out)
{
	ama_hasher_start(h);
	while (len > 0) {
		size_t want = len > h->bufsize ? h->bufsize : (size_t)len;
		ssize_t n = pread(fd, h->buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ama_error_set_errno(AMA_EIO, "cannot read");
		if (n == 0)
			return ama_error_set(AMA_ECHANGED,
					     "changed while it was sent");
		ama_hasher_update(h, h->buf, (size_t)n);
		if (whole)
			ama_hasher_update(whole, h->buf, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	ama_hasher_finish(h, out);
	return 0;
}

/* Just before a part first starts: its Content-MD5 (parts start in order). */
static int part_prepare(struct req *r)
{
	struct put_job *j = r->owner;
	struct ama_md5 md5;
	char b64[32];
	int rc;

	if (j->rc)
		return j->rc;	/* the upload failed: do not send */
	rc = ama_s3_hash_range(&j->part_h,
			r->partno == j->next_hash ? &j->whole_h : NULL,
			r->fd, r->off, r->len, &md5);
	if (rc < 0)
		return rc;
	if (r->partno == j->next_hash)
		j->next_hash++;
	ama_md5_to_base64(b64, &md5);
	ama_s3_req_header(r, "Content-MD5: %s", b64);
	return 0;
}

static void part_done(struct req *r)
{
	struct put_job *j = r->owner;
	struct ama_md5 whole;

	if (r->rc < 0)
		job_fail(j, r->rc);
	else
		snprintf(j->etags[r->partno - 1], sizeof(j->etags[0]), "%s",
			 r->info.etag);
	ama_s3_req_free(r);
	if (--j->parts_left > 0)
		return;
	if (!j->rc) {
		ama_hasher_finish(&j->whole_h, &whole);
		if (j->next_hash != j->nparts + 1 ||
		    !ama_md5_equal(&whole, &j->md5))
			job_fail(j, ama_error_set(AMA_EDIGEST,
				"content does not match its MD5"));
	}
	if (j->rc)
		send_abort(j);
	else
		send_complete(j);
}

static void init_done(struct req *r)
{
	struct put_job *j = r->owner;
	uint64_t off = 0;
	int i;

	if (r->rc == 0)
		r->rc = ama_s3xml_upload_id(&j->upload_id, r->resp.s ?
					    r->resp.s : "", r->resp.len, NULL);
	if (r->rc < 0) {
		job_fail(j, r->rc);
		ama_s3_req_free(r);
		job_end(j);
		return;
	}
	ama_s3_req_free(r);
	j->nparts = (int)((j->size + j->part_size - 1) / j->part_size);
	j->parts_left = j->nparts;
	j->next_hash = 1;
	j->etags = ama_calloc((size_t)j->nparts, sizeof(*j->etags));
	ama_hasher_init(&j->part_h);
	ama_hasher_init(&j->whole_h);
	ama_hasher_start(&j->whole_h);
	for (i = 1; i <= j->nparts; i++) {
		struct ama_s3_query q = { .n = 0 };
		char num[16];
		struct req *p;
		uint64_t len = j->size - off < j->part_size ?
			j->size - off : j->part_size;

		snprintf(num, sizeof(num), "%d", i);
		ama_s3_query_add(&q, "partNumber", num);
		ama_s3_query_add(&q, "uploadId", j->upload_id);
		p = ama_s3_req_new(j->s3, "PUT", j->key, &q);
		ama_s3_req_body_file(p, j->fd, off, len);
		p->partno = i;
		p->owner = j;
		p->prepare = part_prepare;
		p->on_done = part_done;
		if (j->batch && j->batch->progress)
			p->progress = put_progress;
		ama_s3_submit(j->s3, p);
		off += len;
	}
}

uint64_t ama_store_part_size(struct ama_store *s, uint64_t size)
{
	uint64_t part = s->tuning.part_size;

	if (part < (5u << 20))
		part = 5u << 20;	/* S3's smallest part */
	if ((size + part - 1) / part > 10000)
		part = (size + 9999) / 10000;
	return part;
}

static void put_multipart(struct put_job *j)
{
	struct ama_s3_query q = { .n = 0 };
	char hex[AMA_MD5_HEXLEN + 1];
	struct req *r;

	j->part_size = ama_store_part_size(j->s3->store, j->size);
	ama_s3_query_add(&q, "uploads", NULL);
	r = ama_s3_req_new(j->s3, "POST", j->key, &q);
	ama_s3_req_body_mem(r, "", 0);
	ama_md5_to_hex(hex, &j->md5);
	ama_s3_req_header(r, "x-amz-meta-ama-md5: %s", hex);
	ama_s3_req_header(r, "Content-Type: application/octet-stream");
	r->owner = j;
	r->on_done = init_done;
	ama_s3_submit(j->s3, r);
}

/* Make a job for p and submit its first request; NULL (error set) if the file will not open. */
static struct put_job *job_start(struct s3 *s3, struct ama_store_batch *b,
				 const struct ama_store_put *p, int *rc)
{
	struct put_job *j = ama_calloc(1, sizeof(*j));
	const struct ama_store_tuning *t = &s3->store->tuning;

	j->s3 = s3;
	j->batch = b;
	j->key = ama_strdup(p->key);
	j->path = p->path ? ama_strdup(p->path) : NULL;
	j->udata = p->udata;
	j->flags = p->flags;
	j->md5 = *p->md5;
	j->size = p->size;
	j->fd = -1;
	if (p->path) {
		j->fd = open(p->path, O_RDONLY | O_CLOEXEC);
		if (j->fd < 0) {
			*rc = errno == ENOENT ?
				ama_error_setp(AMA_ENOTFOUND, p->path,
					       "no such file") :
				ama_error_setp_errno(AMA_EIO, p->path,
						     "cannot open");
			job_free(j);
			return NULL;
		}
	}
	j->next = s3->jobs;
	if (s3->jobs)
		s3->jobs->prev = j;
	s3->jobs = j;
	if (p->path && p->size > t->multipart_threshold &&
	    !(p->flags & (AMA_STORE_NO_MULTIPART | AMA_STORE_IF_NONE_MATCH)))
		put_multipart(j);
	else
		put_single(j, p->data, p->len);
	*rc = 0;
	return j;
}

static int job_done(void *arg)
{
	return ((struct put_job *)arg)->done;
}

int ama_s3_put(struct ama_store *s, const struct ama_store_put *p,
		  struct ama_store_info *info)
{
	struct s3 *s3 = s3_of(s);
	struct put_job *j;
	int rc;

	j = job_start(s3, NULL, p, &rc);
	if (!j)
		return rc;
	ama_s3_pump(s3, job_done, j);
	if (!j->done && s3->store->cancelled) {
		ama_s3_drop_all(s3, NULL);	/* j with the rest, its upload aborted */
		return ama_store_interrupted(s);
	}
	job_unlink(j);
	rc = j->done ? j->rc : ama_error_set(AMA_EIO, "a request was lost");
	if (rc < 0)
		ama_error_set(rc, "%s", j->err);
	else
		*info = j->info;
	job_free(j);
	return rc;
}

/* --- the batch --- */

static void head_done(struct req *r)
{
	struct ama_store_batch *b = r->owner;
	struct s3 *s3 = r->s3;

	ama_store_batch_report(b, r->key, NULL, r->udata_head, r->rc,
			       &r->info);
	s3->jobs_open--;
	ama_s3_req_free(r);
}

struct req *ama_s3_head_req(struct s3 *s3, const char *key)
{
	struct req *r = ama_s3_req_new(s3, "HEAD", key, NULL);

	ama_s3_req_no_body(r);
	return r;
}

struct room {
	struct s3 *s3;
	int limit;
};

static int has_room(void *arg)
{
	struct room *rm = arg;

	return rm->s3->jobs_open < rm->limit || rm->s3->batch->failed ||
		rm->s3->store->cancelled;
}

int ama_s3_batch_add(struct ama_store_batch *b,
			const struct ama_store_put *p, const char *head_key,
			void *udata)
{
	struct s3 *s3 = s3_of(b->s);
	struct room rm = { s3, 2 * s3->store->tuning.jobs + 2 };

	s3->batch = b;
	if (p) {
		int rc;

		if (!job_start(s3, b, p, &rc)) {
			ama_store_batch_report(b, p->key, p->path, p->udata,
					       rc, NULL);
			return b->failed;
		}
	} else {
		struct req *r = ama_s3_head_req(s3, head_key);

		r->key = ama_strdup(head_key);
		r->udata_head = udata;
		r->owner = b;
		r->on_done = head_done;
		ama_s3_submit(s3, r);
	}
	s3->jobs_open++;
	if (s3->jobs_open >= rm.limit)
		ama_s3_pump(s3, has_room, &rm);
	return b->failed;
}

static int all_done(void *arg)
{
	struct s3 *s3 = arg;

	return s3->jobs_open == 0 || s3->batch->failed ||
		s3->store->cancelled;
}

int ama_s3_batch_run(struct ama_store_batch *b)
{
	struct s3 *s3 = s3_of(b->s);

	if (s3->batch)
		ama_s3_pump(s3, all_done, s3);
	return b->failed;
}

void ama_s3_drop_all(struct s3 *s3, struct req *keep)
{
	sig_atomic_t cancelled = s3->store->cancelled;
	int attempts = s3->store->tuning.attempts;

	ama_s3_drop_requests(s3, keep);
	/* the aborts must run, and once each */
	s3->store->cancelled = 0;
	s3->store->tuning.attempts = 1;
	while (s3->jobs) {
		struct put_job *j = s3->jobs;

		job_unlink(j);
		if (j->upload_id) {
			struct ama_s3_query q = { .n = 0 };
			struct req *a;

			ama_s3_query_add(&q, "uploadId", j->upload_id);
			a = ama_s3_req_new(s3, "DELETE", j->key, &q);
			ama_s3_req_no_body(a);
			ama_s3_run_sync(s3, a);
			ama_s3_req_free(a);
		}
		job_free(j);
	}
	s3->store->tuning.attempts = attempts;
	if (cancelled)
		s3->store->cancelled = cancelled;
}

void ama_s3_batch_free(struct ama_store_batch *b)
{
	struct s3 *s3 = s3_of(b->s);

	if (s3->batch != b)
		return;
	ama_s3_drop_all(s3, NULL);
	s3->batch = NULL;
	s3->jobs_open = 0;
}

