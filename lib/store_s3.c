/* store_s3.c: the s3:// store: its operations on top of the request engine. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "s3creds.h"
#include "s3xml.h"
#include "store_s3.h"

/* --- single operations --- */

static int s3_head(struct ama_store *s, const char *key,
		   struct ama_store_info *out)
{
	struct s3 *s3 = s3_of(s);
	struct req *r = ama_s3_head_req(s3, key);
	int rc = ama_s3_run_sync(s3, r);

	if (rc == 0)
		*out = r->info;
	ama_s3_req_free(r);
	return rc;
}

static int s3_get(struct ama_store *s, const char *key, uint64_t offset,
		  uint64_t length, ama_store_sink_fn sink, void *ctx,
		  struct ama_store_info *info)
{
	struct s3 *s3 = s3_of(s);
	struct req *r;
	int rc;

	if (length == 0) {
		rc = s3_head(s, key, info);
		if (rc == 0 && offset > info->size)
			rc = ama_error_set(AMA_EINVAL,
				"range past the end of the object");
		return rc;
	}
	r = ama_s3_req_new(s3, "GET", key, NULL);
	ama_s3_req_no_body(r);
	r->sink = sink;
	r->sink_ctx = ctx;
	r->get_off = offset;
	r->ranged = offset > 0 || length != AMA_STORE_TO_END;
	if (length != AMA_STORE_TO_END)
		r->get_end = r->want_end = offset + length;
	rc = ama_s3_run_sync(s3, r);
	if (rc == 0)
		*info = r->info;
	ama_s3_req_free(r);
	return rc;
}

static int s3_create_bucket(struct ama_store *s)
{
	struct s3 *s3 = s3_of(s);
	struct req *r = ama_s3_req_new(s3, "PUT", NULL, NULL);
	struct ama_buf x = AMA_BUF_INIT;
	int rc;

	if (strcmp(s3->set.region, "us-east-1"))
		ama_buf_addf(&x, "<CreateBucketConfiguration><LocationConstraint>"
			     "%s</LocationConstraint></CreateBucketConfiguration>",
			     s3->set.region);
	ama_s3_req_body_mem(r, x.s ? x.s : "", x.len);
	ama_buf_release(&x);
	rc = ama_s3_run_sync(s3, r);
	if (rc == AMA_EREMOTE && strstr(ama_error_msg(),
					 "BucketAlreadyOwnedByYou"))
		rc = 0;
	ama_s3_req_free(r);
	return rc;
}

static int s3_del(struct ama_store *s, const char *key)
{
	struct s3 *s3 = s3_of(s);
	struct req *r = ama_s3_req_new(s3, "DELETE", key, NULL);
	int rc;

	ama_s3_req_no_body(r);
	rc = ama_s3_run_sync(s3, r);
	if (rc == AMA_ENOTFOUND && s3->bucket_seen)
		rc = 0;
	ama_s3_req_free(r);
	return rc;
}

/* Can XML 1.0 carry s as text? Not a control byte but TAB, LF, CR. */
static int xml_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			return 0;
	return 1;
}

static void xml_text(struct ama_buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': ama_buf_addstr(out, "&amp;"); break;
		case '<': ama_buf_addstr(out, "&lt;"); break;
		case '>': ama_buf_addstr(out, "&gt;"); break;
		case '"': ama_buf_addstr(out, "&quot;"); break;
		case '\'': ama_buf_addstr(out, "&apos;"); break;
		case '\t': ama_buf_addstr(out, "&#9;"); break;
		case '\n': ama_buf_addstr(out, "&#10;"); break;
		case '\r': ama_buf_addstr(out, "&#13;"); break;
		default: ama_buf_addch(out, *s);
		}
	}
}

/* DeleteObjects (Quiet: only failures are listed) for up to 1000 keys. */
static int s3_del_many(struct ama_store *s, const char *const *keys,
		       size_t n)
{
	struct s3 *s3 = s3_of(s);
	struct ama_s3_query q = { .n = 0 };
	struct ama_s3_error first;
	struct ama_buf x = AMA_BUF_INIT, url = AMA_BUF_INIT;
	struct ama_md5 md5;
	struct req *r;
	char b64[32];
	size_t i, nerr = 0, sent = 0;
	int rc = 0;

	ama_buf_addstr(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		       "<Delete xmlns=\"http://s3.amazonaws.com/doc/"
		       "2006-03-01/\"><Quiet>true</Quiet>");
	for (i = 0; i < n && rc == 0; i++) {
		if (!xml_ok(keys[i])) {
			rc = s3_del(s, keys[i]);
			continue;
		}
		ama_buf_addstr(&x, "<Object><Key>");
		xml_text(&x, s->url.prefix);
		xml_text(&x, keys[i]);
		ama_buf_addstr(&x, "</Key></Object>");
		sent++;
	}
	ama_buf_addstr(&x, "</Delete>");
	if (rc < 0 || sent == 0)
		goto out;
	ama_s3_query_add(&q, "delete", NULL);
	r = ama_s3_req_new(s3, "POST", NULL, &q);
	ama_s3_req_body_mem(r, x.s, x.len);
	ama_md5_buffer(&md5, x.s, x.len);
	ama_md5_to_base64(b64, &md5);
	ama_s3_req_header(r, "Content-MD5: %s", b64);
	ama_s3_req_header(r, "Content-Type: application/xml");
	rc = ama_s3_run_sync(s3, r);
	if (rc == 0)
		rc = ama_s3xml_delete_result(&nerr, &first, r->resp.s ?
					     r->resp.s : "", r->resp.len,
					     NULL);
	ama_s3_req_free(r);
	if (rc == 0 && nerr) {
		ama_buf_addf(&url, "s3://%s/%s", s->url.bucket, first.key);
		rc = ama_error_setp(!strcmp(first.code, "AccessDenied") ?
				    AMA_EAUTH : AMA_EREMOTE, url.s,
				    "not deleted: %s: %s", first.code,
				    first.message);
		if (nerr > 1)
			ama_error_wrap(rc, "%zu keys not deleted; the first: ",
				       nerr);
	}
out:
	ama_buf_release(&x);
	ama_buf_release(&url);
	return rc;
}

static int s3_list_page(struct ama_store *s, const char *prefix,
			const char *after, int max_keys,
			struct ama_store_page *out)
{
	struct s3 *s3 = s3_of(s);
	struct ama_s3_query q = { .n = 0 };
	struct ama_buf full = AMA_BUF_INIT;
	char num[16];
	struct req *r;
	int rc;

	ama_buf_addf(&full, "%s%s", s->url.prefix, prefix);
	snprintf(num, sizeof(num), "%d", max_keys);
	ama_s3_query_add(&q, "list-type", "2");
	ama_s3_query_add(&q, "max-keys", num);
	ama_s3_query_add(&q, "encoding-type", "url");
	if (full.len)
		ama_s3_query_add(&q, "prefix", full.s);
	if (after)
		ama_s3_query_add(&q, "continuation-token", after);
	r = ama_s3_req_new(s3, "GET", NULL, &q);
	ama_s3_req_no_body(r);
	rc = ama_s3_run_sync(s3, r);
	if (rc == 0)
		rc = ama_s3xml_list(out, s->url.prefix, r->resp.s ?
				    r->resp.s : "", r->resp.len, NULL);
	ama_s3_req_free(r);
	ama_buf_release(&full);
	return rc;
}

/* x-amz-copy-source: /bucket/key, encoded as a path. */
static void copy_source(struct req *r, const struct ama_store *src,
			const char *src_key, const char *if_match)
{
	struct ama_buf v = AMA_BUF_INIT, k = AMA_BUF_INIT;

	ama_buf_addf(&k, "%s%s", src->url.prefix, src_key);
	ama_buf_addch(&v, '/');
	ama_s3_encode(&v, src->url.bucket, strlen(src->url.bucket), 0);
	ama_buf_addch(&v, '/');
	ama_s3_encode(&v, k.s, k.len, 1);
	ama_s3_req_header(r, "x-amz-copy-source: %s", v.s);
	if (if_match)
		ama_s3_req_header(r, "x-amz-copy-source-if-match: \"%s\"", if_match);
	ama_buf_release(&v);
	ama_buf_release(&k);
}

/* Run r, a copy, to its end, retrying an error inside a 200 answer. */
static int run_copy(struct s3 *s3, struct req *r, char *etag)
{
	for (;;) {
		int rc = ama_s3_run_sync(s3, r);

		if (rc < 0)
			return rc;
		if (ama_s3_etag_answer(r, etag) != V_RETRY)
			return r->rc;
		r->finished = 0;
		usleep(1000u * ama_store_backoff_ms(&s3->store->tuning,
						    r->attempt + 1));
	}
}

/* How a copy in parts is going: the first failure and its reason. */
struct copy_state {
	int rc;
	char err[1024];
};

static int copy_part_prepare(struct req *r)
{
	struct ama_store_upload *u = r->owner;
	struct copy_state *st = u->impl;

	return st->rc ? st->rc : 0;
}

static void copy_part_done(struct req *r)
{
	struct ama_store_upload *u = r->owner;
	struct copy_state *st = u->impl;
	char etag[80];

	if (r->rc == 0 && ama_s3_etag_answer(r, etag) == V_RETRY) {
		ama_s3_resubmit_later(r);
		return;
	}
	if (r->rc < 0 && !st->rc) {
		st->rc = r->rc;
		snprintf(st->err, sizeof(st->err), "%s", ama_error_msg());
	}
	if (r->rc == 0)
		ama_store_upload_add_part(u, r->partno, etag);
	ama_s3_req_free(r);
}

static int never_stop(void *arg)
{
	(void)arg;
	return 0;
}

static int s3_mpu_start(struct ama_store_upload *u);
static int s3_mpu_complete(struct ama_store_upload *u,
			   struct ama_store_info *info);
static int s3_mpu_abort(struct ama_store_upload *u);


/* A copy above the single-copy limit: UploadPartCopy in parallel parts. */
static int copy_in_parts(struct ama_store *dst, const char *dst_key,
			 struct ama_store *src, const char *src_key,
			 const char *if_match, uint64_t size)
{
	struct s3 *s3 = s3_of(dst);
	struct ama_store_upload *u = ama_calloc(1, sizeof(*u));
	uint64_t part = dst->tuning.copy_part_threshold, off = 0;
	struct copy_state st = { 0, "" };
	int rc, i, nparts;

	if (part > COPY_PART_MAX)
		part = COPY_PART_MAX;
	if (part < (5u << 20))
		part = 5u << 20;
	nparts = (int)((size + part - 1) / part);
	u->s = dst;
	u->key = ama_strdup(dst_key);
	u->impl = &st;
	rc = s3_mpu_start(u);
	if (rc < 0)
		goto out;
	for (i = 1; i <= nparts; i++, off += part) {
		struct ama_s3_query q = { .n = 0 };
		char num[16];
		struct req *r;
		uint64_t len = size - off < part ? size - off : part;

		snprintf(num, sizeof(num), "%d", i);
		ama_s3_query_add(&q, "partNumber", num);
		ama_s3_query_add(&q, "uploadId", u->id);
		r = ama_s3_req_new(s3, "PUT", dst_key, &q);
		ama_s3_req_body_mem(r, "", 0);
		copy_source(r, src, src_key, if_match);
		ama_s3_req_header(r, "x-amz-copy-source-range: bytes=%llu-%llu",
			   (unsigned long long)off,
			   (unsigned long long)(off + len - 1));
		r->partno = i;
		r->owner = u;
		r->prepare = copy_part_prepare;
		r->on_done = copy_part_done;
		ama_s3_submit(s3, r);
	}
	/* all parts end (those queued after a failure are not sent) */
	ama_s3_pump(s3, never_stop, NULL);
	if (s3->store->cancelled) {
		sig_atomic_t c = s3->store->cancelled;
		int attempts = dst->tuning.attempts;

		ama_s3_drop_all(s3, NULL);
		dst->cancelled = 0;
		dst->tuning.attempts = 1;
		s3_mpu_abort(u);
		dst->tuning.attempts = attempts;
		dst->cancelled = c;
		rc = ama_store_interrupted(dst);
		goto out;
	}
	if (st.rc == 0 && (int)u->nparts != nparts)
		st.rc = ama_error_set(AMA_EIO, "a request was lost");
	if (st.rc == 0) {
		rc = s3_mpu_complete(u, NULL);
	} else {
		s3_mpu_abort(u);
		rc = ama_error_set(st.rc, "%s", st.err);
	}
out:
	free(u->key);
	free(u->id);
	free(u->partno);
	free(u->etag);
	free(u);
	return rc;
}

static int s3_copy(struct ama_store *dst, const char *dst_key,
		   struct ama_store *src, const char *src_key,
		   const char *if_match, uint64_t size,
		   struct ama_store_info *out)
{
	struct s3 *s3 = s3_of(dst);
	struct ama_store_info info;
	struct req *r;
	char etag[80];
	int rc;

	if (strcmp(s3->set.endpoint, s3_of(src)->set.endpoint))
		return ama_error_set(AMA_ESETUP,
			"a copy on the store's side needs both buckets on one "
			"endpoint (%s, %s)", s3_of(src)->set.endpoint,
			s3->set.endpoint);
	if (size == AMA_STORE_ANY_SIZE) {
		rc = s3_head(src, src_key, &info);
		if (rc < 0)
			return rc;
		if (if_match && strcmp(info.etag, if_match))
			return ama_error_set(AMA_ECONFLICT,
				"the source is not the object expected (ETag "
				"%s, not %s)", info.etag, if_match);
		size = info.size;
	}
	out->size = size;
	etag[0] = '\0';
	if (size > dst->tuning.copy_part_threshold)
		return copy_in_parts(dst, dst_key, src, src_key, if_match,
				     size);
	r = ama_s3_req_new(s3, "PUT", dst_key, NULL);
	ama_s3_req_body_mem(r, "", 0);
	copy_source(r, src, src_key, if_match);
	rc = run_copy(s3, r, etag);
	if (rc == AMA_ECONFLICT)
		rc = ama_error_set(AMA_ECONFLICT,
			"the source is not the object expected (ETag not %s)",
			if_match ? if_match : "");
	if (rc == 0) {
		snprintf(out->etag, sizeof(out->etag), "%s", etag);
		ama_store_info_classify(out);
	}
	ama_s3_req_free(r);
	return rc;
}

/* --- multipart driven by the caller --- */

static int s3_mpu_start(struct ama_store_upload *u)
{
	struct s3 *s3 = s3_of(u->s);
	struct ama_s3_query q = { .n = 0 };
	struct req *r;
	int rc;

	ama_s3_query_add(&q, "uploads", NULL);
	r = ama_s3_req_new(s3, "POST", u->key, &q);
	ama_s3_req_body_mem(r, "", 0);
	if (u->has_md5) {
		char hex[AMA_MD5_HEXLEN + 1];

		ama_md5_to_hex(hex, &u->md5);
		ama_s3_req_header(r, "x-amz-meta-ama-md5: %s", hex);
	}
	ama_s3_req_header(r, "Content-Type: application/octet-stream");
	rc = ama_s3_run_sync(s3, r);
	if (rc == 0)
		rc = ama_s3xml_upload_id(&u->id, r->resp.s ? r->resp.s : "",
					 r->resp.len, NULL);
	ama_s3_req_free(r);
	return rc;
}

static int s3_mpu_part(struct ama_store_upload *u, int partno,
		       const char *path, uint64_t offset, uint64_t len)
{
	struct s3 *s3 = s3_of(u->s);
	struct ama_s3_query q = { .n = 0 };
	struct ama_hasher h;
	struct ama_md5 md5;
	struct req *r;
	char num[16], b64[32];
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ama_error_setp_errno(errno == ENOENT ? AMA_ENOTFOUND :
					    AMA_EIO, path, "cannot open");
	ama_hasher_init(&h);
	rc = ama_s3_hash_range(&h, NULL, fd, offset, len, &md5);
	ama_hasher_release(&h);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	snprintf(num, sizeof(num), "%d", partno);
	ama_s3_query_add(&q, "partNumber", num);
	ama_s3_query_add(&q, "uploadId", u->id);
	r = ama_s3_req_new(s3, "PUT", u->key, &q);
	ama_s3_req_body_file(r, fd, offset, len);
	ama_md5_to_base64(b64, &md5);
	ama_s3_req_header(r, "Content-MD5: %s", b64);
	rc = ama_s3_run_sync(s3, r);
	if (rc == 0)
		ama_store_upload_add_part(u, partno, r->info.etag);
	ama_s3_req_free(r);
	close(fd);
	return rc;
}

static int s3_mpu_complete(struct ama_store_upload *u,
			   struct ama_store_info *info)
{
	struct s3 *s3 = s3_of(u->s);
	struct ama_s3_query q = { .n = 0 };
	struct ama_buf x = AMA_BUF_INIT;
	struct req *r;
	char etag[80];
	struct ama_store_info got;
	int rc, have_info = 0;

	ama_s3_query_add(&q, "uploadId", u->id);
	r = ama_s3_req_new(s3, "POST", u->key, &q);
	ama_s3_complete_xml(&x, (int)u->nparts, u->partno, u->etag);
	ama_s3_req_body_mem(r, x.s, x.len);
	ama_s3_req_header(r, "Content-Type: application/xml");
	ama_buf_release(&x);
	r->lost_ok = u->has_md5;
	for (;;) {
		char msg[1024];

		rc = run_copy(s3, r, etag);
		if (!r->lost)
			break;
		/* the answer was lost: did it work? */
		snprintf(msg, sizeof(msg), "%s", ama_error_msg());
		if (s3_head(u->s, u->key, &got) == 0 &&
		    ama_s3_is_our_upload(&got, got.size, &u->md5)) {
			rc = 0;
			have_info = 1;
			break;
		}
		if (r->attempt >= s3->store->tuning.attempts) {
			rc = ama_error_set(rc, "%s", msg);
			break;
		}
		r->finished = 0;
		r->lost = 0;
		usleep(1000u * ama_store_backoff_ms(&s3->store->tuning,
						    r->attempt + 1));
	}
	ama_s3_req_free(r);
	if (rc == 0 && info && have_info)
		*info = got;
	else if (rc == 0 && info)
		rc = s3_head(u->s, u->key, info);
	if (rc == 0 && info)
		info->multipart = 1;
	return rc;
}

static int s3_mpu_abort(struct ama_store_upload *u)
{
	struct s3 *s3 = s3_of(u->s);
	struct ama_s3_query q = { .n = 0 };
	struct req *r;
	int rc;

	ama_s3_query_add(&q, "uploadId", u->id);
	r = ama_s3_req_new(s3, "DELETE", u->key, &q);
	ama_s3_req_no_body(r);
	rc = ama_s3_run_sync(s3, r);
	ama_s3_req_free(r);
	return rc;
}

/* --- opening and closing --- */

static void s3_close(struct ama_store *s)
{
	struct s3 *s3 = s3_of(s);

	if (!s3)
		return;
	curl_multi_cleanup(s3->multi);
	ama_s3_settings_release(&s3->set);
	free(s3);
	s->impl = NULL;
}

static const struct ama_store_ops s3_ops = {
	.close = s3_close,
	.create_bucket = s3_create_bucket,
	.head = s3_head,
	.get = s3_get,
	.put = ama_s3_put,
	.copy = s3_copy,
	.del = s3_del,
	.del_many = s3_del_many,
	.list_page = s3_list_page,
	.mpu_start = s3_mpu_start,
	.mpu_part = s3_mpu_part,
	.mpu_complete = s3_mpu_complete,
	.mpu_abort = s3_mpu_abort,
	.batch_add = ama_s3_batch_add,
	.batch_run = ama_s3_batch_run,
	.batch_free = ama_s3_batch_free,
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
}

int ama_store_s3_open(struct ama_store *s, const struct ama_config *cfg,
		      const char *role)
{
	struct s3 *s3 = ama_calloc(1, sizeof(*s3));
	int rc;

	rc = ama_s3_settings_load(&s3->set, cfg, role);
	if (rc < 0) {
		free(s3);
		return rc;
	}
	pthread_once(&curl_once, curl_init);
	s3->store = s;
	snprintf(s3->sigv4, sizeof(s3->sigv4), "aws:amz:%s:s3",
		 s3->set.region);
	s3->multi = curl_multi_init();
	if (!s3->multi)
		abort();
	s->impl = s3;
	s->ops = &s3_ops;
	return 0;
}

