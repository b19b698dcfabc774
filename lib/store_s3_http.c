/* store_s3_http.c: S3 requests: SigV4 encoding, curl callbacks, answers, retries, the engine. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "buf.h"
#include "curlerr.h"
#include "error.h"
#include "progress.h"
#include "s3xml.h"
#include "store_s3.h"

/* --- encoding, as SigV4 signs it --- */

void ama_s3_encode(struct ama_buf *out, const char *s, size_t n,
		   int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/')) {
			ama_buf_addch(out, c);
		} else {
			ama_buf_addch(out, '%');
			ama_buf_addch(out, hex[c >> 4]);
			ama_buf_addch(out, hex[c & 15]);
		}
	}
}

void ama_s3_query_add(struct ama_s3_query *q, const char *name,
		      const char *value)
{
	if (q->n == 8)
		abort();
	q->name[q->n] = name;
	q->value[q->n] = value;
	q->n++;
}

void ama_s3_query_write(struct ama_buf *out, const struct ama_s3_query *q)
{
	int order[8], i, j;

	for (i = 0; i < q->n; i++)
		order[i] = i;
	/* insertion sort by name: the names are plain ASCII, encoded as is */
	for (i = 1; i < q->n; i++)
		for (j = i; j > 0 && strcmp(q->name[order[j - 1]],
					    q->name[order[j]]) > 0; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < q->n; i++) {
		const char *v = q->value[order[i]];

		ama_buf_addch(out, i ? '&' : '?');
		ama_s3_encode(out, q->name[order[i]],
			      strlen(q->name[order[i]]), 0);
		ama_buf_addch(out, '=');
		if (v)
			ama_s3_encode(out, v, strlen(v), 0);
	}
}

static void sha256_hex(char *out, const void *data, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	unsigned int len = 32;
	int i;

	if (!EVP_Digest(data, n, d, &len, EVP_sha256(), NULL))
		abort();
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

/* --- building requests --- */

/* The URL of bucket/key (key "" for the bucket itself) with query q. */
static void build_url(struct ama_buf *out, const struct s3 *s3,
		      const char *bucket, const char *key,
		      const struct ama_s3_query *q)
{
	const char *ep = s3->set.endpoint;

	if (s3->set.virtual_host) {
		const char *host = strstr(ep, "://") + 3;

		ama_buf_add(out, ep, (size_t)(host - ep));
		ama_buf_addf(out, "%s.%s/", bucket, host);
	} else {
		ama_buf_addf(out, "%s/", ep);
		ama_s3_encode(out, bucket, strlen(bucket), 0);
		if (*key)
			ama_buf_addch(out, '/');
	}
	ama_s3_encode(out, key, strlen(key), 1);
	if (q)
		ama_s3_query_write(out, q);
}

struct req *ama_s3_req_new(struct s3 *s3, const char *method,
			   const char *key, const struct ama_s3_query *q)
{
	struct req *r = ama_calloc(1, sizeof(*r));
	struct ama_buf full = AMA_BUF_INIT, what = AMA_BUF_INIT;
	const char *bucket = s3->store->url.bucket;

	r->s3 = s3;
	r->method = method;
	r->fd = -1;
	r->get_end = UINT64_MAX;
	r->want_end = UINT64_MAX;
	if (key) {
		ama_buf_addf(&full, "%s%s", s3->store->url.prefix, key);
		ama_buf_addf(&what, "s3://%s/%s", bucket, full.s);
	} else {
		ama_buf_addstr(&full, "");
		ama_buf_addf(&what, "s3://%s", bucket);
	}
	build_url(&r->url, s3, bucket, full.s, q);
	r->what = ama_buf_detach(&what);
	ama_buf_release(&full);
	return r;
}

void ama_s3_req_header(struct req *r, const char *fmt, ...)
{
	struct ama_buf b = AMA_BUF_INIT;
	va_list ap;

	if (r->nhdr == MAX_HEADERS)
		abort();
	va_start(ap, fmt);
	ama_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	r->hdr[r->nhdr++] = ama_buf_detach(&b);
}

/* An in-memory body, its SHA-256 signed. */
void ama_s3_req_body_mem(struct req *r, const void *data, size_t n)
{
	char sha[65];

	r->body = BODY_MEM;
	ama_buf_add(&r->mem, data, n);
	sha256_hex(sha, data, n);
	ama_s3_req_header(r, "x-amz-content-sha256: %s", sha);
}

/* Bytes [off, off+len) of fd as the body, streamed, not hashed for SigV4. */
void ama_s3_req_body_file(struct req *r, int fd, uint64_t off, uint64_t len)
{
	r->body = BODY_FILE;
	r->fd = fd;
	r->off = off;
	r->len = len;
	ama_s3_req_header(r, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
}

void ama_s3_req_no_body(struct req *r)
{
	ama_s3_req_header(r, "x-amz-content-sha256: " EMPTY_SHA256);
}

void ama_s3_req_free(struct req *r)
{
	int i;

	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	for (i = 0; i < r->nhdr; i++)
		free(r->hdr[i]);
	ama_buf_release(&r->url);
	ama_buf_release(&r->mem);
	ama_buf_release(&r->resp);
	curl_slist_free_all(r->hdr_list);
	free(r->what);
	free(r->key);
	free(r);
}

/* --- curl callbacks --- */

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t n = size * nmemb, vn;
	const char *v;

	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', n);

		/* a new status line: 100 Continue, then the answer */
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		memset(&r->info, 0, sizeof(r->info));
		r->have_length = 0;
		return n;
	}
	v = memchr(p, ':', n);
	if (!v)
		return n;
	vn = n - (size_t)(v + 1 - p);
	v++;
	while (vn && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' ||
		      v[vn - 1] == ' '))
		vn--;
#define IS(name) ((size_t)(v - p) > strlen(name) && \
		  !strncasecmp(p, name ":", strlen(name) + 1))
	if (IS("ETag")) {
		ama_s3_etag_unquote(r->info.etag, v, vn);
		ama_store_info_classify(&r->info);
	} else if (IS("Content-Length")) {
		r->content_length = strtoull(v, NULL, 10);
		r->have_length = 1;
	} else if (IS("x-amz-meta-ama-md5")) {
		if (vn == 32) {
			memcpy(r->info.meta_md5, v, 32);
			r->info.meta_md5[32] = '\0';
			r->info.multipart = 1;
		}
	} else if (IS("Content-Range")) {
		/* bytes A-B/TOTAL */
		const char *slash = memchr(v, '/', vn), *dash = memchr(v, '-', vn);

		if (slash && dash && dash < slash) {
			r->info.size = strtoull(slash + 1, NULL, 10);
			r->get_end = strtoull(dash + 1, NULL, 10) + 1;
		}
	} else if (IS("Last-Modified")) {
		struct tm tm;
		char buf[64];

		memset(&tm, 0, sizeof(tm));
		snprintf(buf, sizeof(buf), "%.*s", (int)vn, v);
		if (strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm))
			r->info.mtime = timegm(&tm);
	}
#undef IS
	return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t n = size * nmemb;

	if (r->sink && r->status >= 200 && r->status < 300) {
		int rc;

		if (r->first_write) {
			r->first_write = 0;
			if (r->status == 200 && (r->ranged || r->got))
				r->skip = r->get_off + r->got;
			if (r->status == 200 && r->have_length)
				r->get_end = r->content_length < r->want_end ?
					r->content_length : r->want_end;
		}

		if (r->skip) {	/* a resumed GET answered 200: skip what we have */
			size_t k = r->skip < n ? (size_t)r->skip : n;

			r->skip -= k;
			p += k;
			n -= k;
			if (!n)
				return size * nmemb;
		}
		if (r->get_end != UINT64_MAX &&
		    r->get_off + r->got + n > r->get_end)
			n = (size_t)(r->get_end - r->get_off - r->got);
		rc = n ? r->sink(r->sink_ctx, p, n) : 0;
		if (rc < 0) {
			r->sink_rc = rc;
			return 0;
		}
		r->got += n;
		return size * nmemb;
	}
	if (r->resp.len + n <= MAX_RESPONSE)
		ama_buf_add(&r->resp, p, n);
	return size * nmemb;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t want = size * nmemb;
	ssize_t n;

	if (r->body == BODY_MEM) {
		if (want > r->mem.len - r->sent)
			want = (size_t)(r->mem.len - r->sent);
		memcpy(buf, r->mem.s + r->sent, want);
		r->sent += want;
		return want;
	}
	if (want > r->len - r->sent)
		want = (size_t)(r->len - r->sent);
	if (!want)
		return 0;
	do
		n = pread(r->fd, buf, want, (off_t)(r->off + r->sent));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->local_err = n < 0 ? errno : -1;	/* -1: the file shrank */
		return CURL_READFUNC_ABORT;
	}
	r->sent += (uint64_t)n;
	return (size_t)n;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct req *r = ud;

	if (origin != SEEK_SET || offset < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	r->sent = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct req *r = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	if (r->progress && (uint64_t)ulnow > r->reported) {
		uint64_t delta = (uint64_t)ulnow - r->reported;

		r->reported = (uint64_t)ulnow;
		r->progress(r, delta);
	}
	return 0;
}

/* --- requests on the wire --- */

static void active_add(struct s3 *s3, struct req *r)
{
	r->aprev = NULL;
	r->anext = s3->active;
	if (s3->active)
		s3->active->aprev = r;
	s3->active = r;
}

static void active_remove(struct s3 *s3, struct req *r)
{
	if (r->aprev)
		r->aprev->anext = r->anext;
	else
		s3->active = r->anext;
	if (r->anext)
		r->anext->aprev = r->aprev;
	r->aprev = r->anext = NULL;
}

void ama_s3_submit(struct s3 *s3, struct req *r)
{
	r->next = NULL;
	if (s3->tail)
		s3->tail->next = r;
	else
		s3->head = r;
	s3->tail = r;
}

static struct curl_slist *attempt_headers(struct req *r)
{
	struct curl_slist *l = NULL;
	char range[96];
	int i;

	for (i = 0; i < r->nhdr; i++)
		l = curl_slist_append(l, r->hdr[i]);
	if (r->sink && (r->ranged || r->got)) {
		uint64_t from = r->get_off + r->got;

		if (r->get_end != UINT64_MAX)
			snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
				 (unsigned long long)from,
				 (unsigned long long)(r->get_end - 1));
		else
			snprintf(range, sizeof(range), "Range: bytes=%llu-",
				 (unsigned long long)from);
		l = curl_slist_append(l, range);
	}
	if (r->s3->set.creds.token) {
		struct ama_buf t = AMA_BUF_INIT;

		ama_buf_addf(&t, "x-amz-security-token: %s",
			     r->s3->set.creds.token);
		l = curl_slist_append(l, t.s);
		explicit_bzero(t.s, t.len);
		ama_buf_release(&t);
	}
	return l;
}

static int start(struct req *r)
{
	struct s3 *s3 = r->s3;
	struct curl_slist *hl;
	CURL *e = curl_easy_init();

	if (!e)
		abort();
	r->easy = e;
	r->attempt++;
	r->status = 0;
	r->sent = 0;
	r->local_err = 0;	/* reported stays: a retry reports no byte twice */
	r->sink_rc = 0;
	r->skip = 0;
	r->first_write = 1;
	r->errbuf[0] = '\0';
	ama_buf_reset(&r->resp);
	memset(&r->info, 0, sizeof(r->info));
	hl = attempt_headers(r);
	curl_easy_setopt(e, CURLOPT_URL, r->url.s);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_AWS_SIGV4, s3->sigv4);
	curl_easy_setopt(e, CURLOPT_USERNAME, s3->set.creds.key_id);
	curl_easy_setopt(e, CURLOPT_PASSWORD, s3->set.creds.secret);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	/*
	 * libcurl resends a request by itself when a reused connection dies
	 * before the answer, which it cannot tell from a request the server
	 * handled before the connection broke. A request whose repeat can
	 * fail where the first worked gets a connection of its own.
	 */
	if (r->lost_ok)
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	if (r->progress) {
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
	}
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT") && r->body == BODY_FILE) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)r->len);
	} else if (!strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) {
		/* in memory: no Expect: 100-continue, and never strip it */
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->mem.len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
				 r->mem.s ? r->mem.s : "");
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	r->hdr_list = hl;	/* freed when the attempt ends */
	if (curl_multi_add_handle(s3->multi, e) != CURLM_OK)
		abort();
	active_add(s3, r);
	s3->running++;
	return 0;
}

/* --- what an answer means --- */

static int is_code(const struct ama_s3_error *e, const char *code)
{
	return !strcmp(e->code, code);
}

/* Map a refusal to an error code (set), or say it is worth retrying. */
static enum verdict map_refusal(struct req *r, long status,
				const struct ama_s3_error *e)
{
	const char *id = r->s3->set.creds.key_id;

	if (status == 500 || status == 502 || status == 503 ||
	    status == 504 || status == 429 || is_code(e, "SlowDown") ||
	    is_code(e, "InternalError") || is_code(e, "RequestTimeout") ||
	    is_code(e, "ServiceUnavailable")) {
		snprintf(r->reason, sizeof(r->reason), "HTTP %ld%s%s", status,
			 e->code[0] ? " " : "", e->code);
		return V_RETRY;
	}
	if (is_code(e, "SignatureDoesNotMatch"))
		r->rc = ama_error_set(AMA_EAUTH,
			"access denied: the secret key does not match "
			"(key %s)", id);
	else if (is_code(e, "InvalidAccessKeyId"))
		r->rc = ama_error_set(AMA_EAUTH,
			"access denied: unknown access key (key %s)", id);
	else if (is_code(e, "ExpiredToken") || is_code(e, "InvalidToken") ||
		 is_code(e, "TokenRefreshRequired"))
		r->rc = ama_error_set(AMA_EAUTH,
			"access denied: the session token is not valid "
			"(key %s)", id);
	else if (is_code(e, "AccessDenied") || status == 401 ||
		 status == 403)
		r->rc = ama_error_set(AMA_EAUTH, "access denied (key %s)",
				      id);
	else if (is_code(e, "NoSuchBucket"))
		r->rc = ama_error_set(AMA_ESETUP, "no such bucket: %s",
				      e->bucket[0] ? e->bucket :
				      r->s3->store->url.bucket);
	else if (is_code(e, "NoSuchUpload"))
		r->rc = ama_error_set(AMA_ENOTFOUND, "no such upload");
	else if (is_code(e, "NoSuchKey") || status == 404) {
		if (is_code(e, "NoSuchKey"))
			r->s3->bucket_seen = 1;
		r->rc = ama_error_set(AMA_ENOTFOUND, "no such object");
	} else if (is_code(e, "BadDigest") || is_code(e, "InvalidDigest") ||
		   is_code(e, "XAmzContentSHA256Mismatch"))
		r->rc = ama_error_set(AMA_EDIGEST,
				      "content does not match its MD5");
	else if (is_code(e, "PreconditionFailed") || status == 412)
		r->rc = ama_error_set(AMA_ECONFLICT,
			"precondition failed: the object exists or is not "
			"the one expected");
	else if (is_code(e, "InvalidRange") || status == 416)
		r->rc = ama_error_set(AMA_EINVAL,
				      "range past the end of the object");
	else
		r->rc = ama_error_set(AMA_EREMOTE,
			"%s refused %s: %s%s%s (HTTP %ld)", r->s3->set.endpoint,
			r->method, e->code[0] ? e->code : "no reason",
			e->message[0] ? ": " : "", e->message, status);
	return V_DONE;
}

static enum verdict classify(struct req *r, CURLcode cc)
{
	struct ama_s3_error e;

	if (r->local_err)
		return r->rc = r->local_err == -1 ?
			ama_error_set(AMA_ECHANGED,
				      "changed while it was sent") :
			ama_error_set(AMA_EIO, "cannot read: %s",
				      strerror(r->local_err)), V_DONE;
	if (cc == CURLE_WRITE_ERROR && r->sink_rc)
		return r->rc = r->sink_rc, V_DONE;
	if (ama_curl_is_setup_error(cc)) {
		r->rc = ama_curl_setup_error(cc, r->s3->set.endpoint,
					     r->errbuf);
		return V_DONE;
	}
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_CONNECT:
		r->rc = ama_error_set(AMA_ESETUP, "cannot connect to %s: %s",
				      r->s3->set.endpoint, r->os_errno ?
				      strerror(r->os_errno) :
				      curl_easy_strerror(cc));
		return V_DONE;
	case CURLE_PARTIAL_FILE:
		snprintf(r->reason, sizeof(r->reason),
			 "the answer was cut short");
		return V_RETRY;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(r->reason, sizeof(r->reason), "timed out");
		return V_RETRY;
	default:
		snprintf(r->reason, sizeof(r->reason), "%s",
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
		return V_RETRY;
	}
	if (r->status >= 200 && r->status < 300) {
		if (r->sink && r->get_end != UINT64_MAX &&
		    r->get_off + r->got < r->get_end) {
			snprintf(r->reason, sizeof(r->reason),
				 "the answer was cut short");
			return V_RETRY;
		}
		if (!r->info.size && r->have_length && !r->sink &&
		    !strcmp(r->method, "HEAD"))
			r->info.size = r->content_length;
		if (r->sink && !r->info.size && r->status == 200 &&
		    r->have_length)
			r->info.size = r->content_length;
		r->rc = 0;
		return V_DONE;
	}
	memset(&e, 0, sizeof(e));
	if (r->resp.len)
		ama_s3xml_error(&e, r->resp.s, r->resp.len);
	ama_error_clear();
	if (!e.code[0] && (r->status == 403 || r->status == 404 ||
			   r->status == 400) && !r->head_explained &&
	    !(r->status == 404 && r->s3->bucket_seen))
		return V_EXPLAIN;	/* a HEAD has no body to say why */
	return map_refusal(r, r->status, &e);
}

/* --- the engine: one multi handle, a FIFO of requests, retries --- */

static void finish(struct req *r)
{
	r->finished = 1;
	if (r->on_done)
		r->on_done(r);
}

static void explain_done(struct req *x)
{
	struct req *orig = x->owner;

	if (x->rc < 0)
		orig->rc = x->rc;
	else
		orig->rc = ama_error_set(AMA_EREMOTE,
			"%s refused %s (HTTP %ld)", orig->s3->set.endpoint,
			orig->method, orig->status);
	ama_s3_req_free(x);
	finish(orig);
}

/* Ask again with a GET of the first byte, whose error body says why a HEAD failed. */
static void explain(struct req *r)
{
	struct req *x = ama_calloc(1, sizeof(*x));

	x->s3 = r->s3;
	x->method = "GET";
	x->fd = -1;
	x->get_end = UINT64_MAX;
	x->want_end = UINT64_MAX;
	ama_buf_addstr(&x->url, r->url.s);
	x->what = ama_strdup(r->what);
	ama_s3_req_no_body(x);
	ama_s3_req_header(x, "Range: bytes=0-0");
	x->head_explained = 1;
	x->owner = r;
	x->on_done = explain_done;
	ama_s3_submit(r->s3, x);
}

static void attempt_ended(struct s3 *s3, CURL *e, CURLcode cc)
{
	struct req *r = NULL;
	enum verdict v;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	curl_multi_remove_handle(s3->multi, e);
	active_remove(s3, r);
	s3->running--;
	if (!r->status)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	r->os_errno = 0;
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &r->os_errno);
	v = classify(r, cc);
	curl_easy_cleanup(e);
	r->easy = NULL;
	curl_slist_free_all(r->hdr_list);
	r->hdr_list = NULL;
	r->lost = 0;
	if (v == V_RETRY && r->lost_ok) {
		r->lost = 1;
		r->rc = ama_error_set(AMA_ENET, "%s %s: no answer: %s",
				      r->method, r->what, r->reason);
		finish(r);
		return;
	}
	if (v == V_RETRY && r->attempt < s3->store->tuning.attempts) {
		r->not_before = ama_now() +
			ama_store_backoff_ms(&s3->store->tuning,
					     r->attempt + 1) / 1000.0;
		ama_s3_submit(s3, r);
		return;
	}
	if (v == V_RETRY)
		r->rc = ama_error_set(AMA_ENET,
			"%s %s: giving up after %d attempts: %s", r->method,
			r->what, r->attempt, r->reason);
	if (v == V_EXPLAIN) {
		explain(r);
		return;
	}
	finish(r);
}

/* Start what may start now, as far as there are free slots. */
static void start_ready(struct s3 *s3)
{
	struct req *list = s3->head, *keep = NULL, *keep_tail = NULL, *r;
	double now = ama_now();

	s3->head = s3->tail = NULL;
	while ((r = list) != NULL) {
		list = r->next;
		r->next = NULL;
		if (s3->running >= s3->store->tuning.jobs ||
		    r->not_before > now) {
			if (keep_tail)
				keep_tail->next = r;
			else
				keep = r;
			keep_tail = r;
			continue;
		}
		if (r->prepare && !r->prepared) {
			int rc = r->prepare(r);

			if (rc < 0) {
				r->rc = rc;
				finish(r);
				continue;
			}
			r->prepared = 1;
		}
		start(r);
	}
	/* those that waited go first, before what finish() submitted */
	if (keep) {
		keep_tail->next = s3->head;
		if (!s3->head)
			s3->tail = keep_tail;
		s3->head = keep;
	}
}

/* How long until a queued request may start: 0 now, -1 nothing queued. */
static double until_ready(const struct s3 *s3)
{
	const struct req *r;
	double now = ama_now(), wait = -1;

	for (r = s3->head; r; r = r->next) {
		double w = r->not_before > now ? r->not_before - now : 0;

		if (wait < 0 || w < wait)
			wait = w;
	}
	return wait;
}

/* Run transfers until stop(arg) says so or nothing is left to do. */
void ama_s3_pump(struct s3 *s3, int (*stop)(void *), void *arg)
{
	long jobs = s3->store->tuning.jobs;

	curl_multi_setopt(s3->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, jobs);
	curl_multi_setopt(s3->multi, CURLMOPT_MAX_HOST_CONNECTIONS, jobs);
	curl_multi_setopt(s3->multi, CURLMOPT_MAXCONNECTS, jobs);
	while (!stop(arg) && !s3->store->cancelled) {
		struct CURLMsg *m;
		double wait;
		int still, left, timeout = 1000;

		start_ready(s3);
		if (!s3->running && !s3->head)
			return;
		curl_multi_perform(s3->multi, &still);
		while ((m = curl_multi_info_read(s3->multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				attempt_ended(s3, m->easy_handle,
					      m->data.result);
		if (stop(arg) || s3->store->cancelled)
			return;
		/* a retry waits out its backoff; a free slot takes work now */
		wait = until_ready(s3);
		if (wait >= 0 && (s3->running < s3->store->tuning.jobs ||
				  wait > 0))
			timeout = wait * 1000 < timeout ?
				(int)(wait * 1000) + (wait > 0) : timeout;
		if (timeout > 0)
			curl_multi_poll(s3->multi, NULL, 0, timeout, NULL);
	}
}

static int req_finished(void *arg)
{
	return ((struct req *)arg)->finished;
}

/* Run one request to its end; its rc (the error is this thread's last). */
int ama_s3_run_sync(struct s3 *s3, struct req *r)
{
	ama_s3_submit(s3, r);
	ama_s3_pump(s3, req_finished, r);
	if (r->finished)
		return r->rc;
	if (s3->store->cancelled) {
		ama_s3_drop_all(s3, r);
		return ama_store_interrupted(s3->store);
	}
	return ama_error_set(AMA_EIO, "a request was lost");
}

/* A 200 answer with an <Error> inside (S3 does that): map it as a refusal. */
static enum verdict refusal_in_body(struct req *r)
{
	struct ama_s3_error e;

	if (ama_s3xml_error(&e, r->resp.s, r->resp.len) < 0)
		return V_DONE;
	return map_refusal(r, 200, &e);
}

/* Parse a complete or copy answer: 0 with etag, a refusal, or V_RETRY. */
enum verdict ama_s3_etag_answer(struct req *r, char *etag)
{
	int rc = ama_s3xml_etag(etag, r->resp.s ? r->resp.s : "",
				r->resp.len, NULL);

	if (rc == AMA_EREMOTE) {
		enum verdict v = refusal_in_body(r);

		if (v == V_RETRY && r->attempt < r->s3->store->tuning.attempts)
			return V_RETRY;
		if (v == V_RETRY)
			r->rc = ama_error_set(AMA_ENET,
				"%s %s: giving up after %d attempts: %s",
				r->method, r->what, r->attempt, r->reason);
		return V_DONE;
	}
	r->rc = rc;
	return V_DONE;
}

void ama_s3_resubmit_later(struct req *r)
{
	r->finished = 0;
	r->not_before = ama_now() +
		ama_store_backoff_ms(&r->s3->store->tuning, r->attempt + 1) /
		1000.0;
	ama_s3_submit(r->s3, r);
}

static void drop_req(struct req *r, struct req *keep)
{
	if (r->on_done == explain_done && r->owner != keep)
		ama_s3_req_free(r->owner);	/* the HEAD it explains */
	if (r != keep)
		ama_s3_req_free(r);
}

/* Free every request, queued or on the wire, but keep (which the caller frees). */
void ama_s3_drop_requests(struct s3 *s3, struct req *keep)
{
	struct req *r, *next;

	for (r = s3->head; r; r = next) {
		next = r->next;
		drop_req(r, keep);
	}
	s3->head = s3->tail = NULL;
	while ((r = s3->active) != NULL) {
		active_remove(s3, r);
		curl_multi_remove_handle(s3->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		s3->running--;
		drop_req(r, keep);
	}
}
