/* store_s3.c: the s3:// store: SigV4 requests on one curl multi handle, retried, in parallel. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "progress.h"
#include "s3creds.h"
#include "s3xml.h"
#include "store.h"
#include "store_backend.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_RESPONSE (4u << 20)	/* XML answers; a listing of 1000 keys is ~300 KiB */
#define MAX_HEADERS 12
#define SMALL_BODY (64 * 1024)	/* files up to this go from memory */
#define COPY_PART_MAX (5ULL << 30)

struct req;
struct put_job;

struct s3 {
	struct ama_s3_settings set;
	struct ama_store *store;
	char sigv4[160];
	CURLM *multi;
	int bucket_seen;	/* a NoSuchKey proved the bucket exists */
	struct req *head, *tail;	/* waiting to start (FIFO) */
	int running;
	struct ama_store_batch *batch;
	int jobs_open;		/* batch items not reported yet */
	struct put_job *jobs;	/* puts under way */
	struct req *active;	/* requests on the wire */
};

enum body_kind { BODY_NONE, BODY_MEM, BODY_FILE };

/* The outcome of one attempt. */
enum verdict { V_DONE, V_RETRY, V_EXPLAIN };

struct req {
	struct s3 *s3;
	struct req *next;
	struct req *aprev, *anext;	/* s3->active */
	const char *method;
	void *udata_head;		/* a batch head's udata */
	struct ama_buf url;
	char *hdr[MAX_HEADERS];		/* fixed headers, every attempt */
	int nhdr;
	enum body_kind body;
	struct ama_buf mem;		/* BODY_MEM */
	int fd;				/* BODY_FILE: not owned */
	uint64_t off, len, sent;
	/* a GET streamed to a sink, resumed with Range */
	ama_store_sink_fn sink;
	void *sink_ctx;
	uint64_t get_off, get_end;	/* get_end: UINT64_MAX until known */
	uint64_t want_end;		/* the end asked for, or UINT64_MAX */
	uint64_t got, skip;
	int sink_rc, ranged;
	/* the answer */
	long status;
	struct ama_store_info info;
	uint64_t content_length;
	int have_length;
	struct ama_buf resp;
	int local_err;			/* errno of a failed read of the body */
	long os_errno;			/* of a failed connect */
	/* progress */
	uint64_t reported;
	void (*progress)(struct req *r, uint64_t delta);
	/* the attempts */
	CURL *easy;
	struct curl_slist *hdr_list;
	char errbuf[CURL_ERROR_SIZE];
	int attempt;
	double not_before;
	char reason[256];
	int rc, finished, head_explained, prepared, first_write;
	/*
	 * lost_ok: the owner wants to hear of a failure worth retrying (lost
	 * set, AMA_ENET) rather than have it retried blindly, to see first
	 * whether the request worked: a CompleteMultipartUpload or a
	 * create-only PUT may have, with its answer lost or garbled (the
	 * test server answers 500 to a completion it did), and repeating
	 * it then fails.
	 */
	int lost_ok, lost;
	int (*prepare)(struct req *r);
	void (*on_done)(struct req *r);
	void *owner;
	int partno;
	char *what;			/* "s3://bucket/key" for messages */
	char *key;			/* a batch head's key */
};

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

static struct s3 *s3_of(const struct ama_store *s)
{
	return s->impl;
}

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

static struct req *req_new(struct s3 *s3, const char *method,
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

static void req_header(struct req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void req_header(struct req *r, const char *fmt, ...)
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
static void req_body_mem(struct req *r, const void *data, size_t n)
{
	char sha[65];

	r->body = BODY_MEM;
	ama_buf_add(&r->mem, data, n);
	sha256_hex(sha, data, n);
	req_header(r, "x-amz-content-sha256: %s", sha);
}

/* Bytes [off, off+len) of fd as the body, streamed, not hashed for SigV4. */
static void req_body_file(struct req *r, int fd, uint64_t off, uint64_t len)
{
	r->body = BODY_FILE;
	r->fd = fd;
	r->off = off;
	r->len = len;
	req_header(r, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
}

static void req_no_body(struct req *r)
{
	req_header(r, "x-amz-content-sha256: " EMPTY_SHA256);
}

static void req_free(struct req *r)
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

/* --- the engine: one multi handle, a FIFO of requests, retries --- */

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

static void submit(struct s3 *s3, struct req *r)
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
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_CONNECT:
		r->rc = ama_error_set(AMA_ESETUP, "cannot connect to %s: %s",
				      r->s3->set.endpoint, r->os_errno ?
				      strerror(r->os_errno) :
				      curl_easy_strerror(cc));
		return V_DONE;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		r->rc = ama_error_set(AMA_ESETUP, "cannot use %s: %s",
				      r->s3->set.endpoint,
				      r->errbuf[0] ? r->errbuf :
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

/* --- the engine --- */

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
	req_free(x);
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
	req_no_body(x);
	req_header(x, "Range: bytes=0-0");
	x->head_explained = 1;
	x->owner = r;
	x->on_done = explain_done;
	submit(r->s3, x);
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
		submit(s3, r);
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
static void pump(struct s3 *s3, int (*stop)(void *), void *arg)
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
static void drop_all(struct s3 *s3, struct req *keep);

static int run_sync(struct s3 *s3, struct req *r)
{
	submit(s3, r);
	pump(s3, req_finished, r);
	if (r->finished)
		return r->rc;
	if (s3->store->cancelled) {
		drop_all(s3, r);
		return ama_store_interrupted(s3->store);
	}
	return ama_error_set(AMA_EIO, "a request was lost");
}

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
	req_free(r);
	job_end(j);
}

static void put_single(struct put_job *j, const void *data, size_t len)
{
	struct req *r = req_new(j->s3, "PUT", j->key, NULL);
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
		req_body_mem(r, buf, (size_t)got);
	} else if (j->path) {
		req_body_file(r, j->fd, 0, j->size);
	} else {
		req_body_mem(r, data, len);
	}
	ama_md5_to_base64(b64, &j->md5);
	req_header(r, "Content-MD5: %s", b64);
	req_header(r, "Content-Type: application/octet-stream");
	if (j->flags & AMA_STORE_IF_NONE_MATCH) {
		req_header(r, "If-None-Match: *");
		r->lost_ok = 1;		/* a blind retry would get 412 */
	}
	r->owner = j;
	r->on_done = single_done;
	if (j->batch && j->batch->progress)
		r->progress = put_progress;
	j->single = r;
	submit(j->s3, r);
}

static void abort_done(struct req *r)
{
	struct put_job *j = r->owner;

	req_free(r);
	job_end(j);
}

static void send_abort(struct put_job *j)
{
	struct ama_s3_query q = { .n = 0 };
	struct req *r;

	ama_s3_query_add(&q, "uploadId", j->upload_id);
	r = req_new(j->s3, "DELETE", j->key, &q);
	req_no_body(r);
	r->owner = j;
	r->on_done = abort_done;
	submit(j->s3, r);
}

static void complete_xml(struct ama_buf *x, int n, int *partno,
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

/* A 200 answer with an <Error> inside (S3 does that): map it as a refusal. */
static enum verdict refusal_in_body(struct req *r)
{
	struct ama_s3_error e;

	if (ama_s3xml_error(&e, r->resp.s, r->resp.len) < 0)
		return V_DONE;
	return map_refusal(r, 200, &e);
}

/* Parse a complete or copy answer: 0 with etag, a refusal, or V_RETRY. */
static enum verdict etag_answer(struct req *r, char *etag)
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

static void resubmit_later(struct req *r)
{
	r->finished = 0;
	r->not_before = ama_now() +
		ama_store_backoff_ms(&r->s3->store->tuning, r->attempt + 1) /
		1000.0;
	submit(r->s3, r);
}

/* Is the object there, whole, as this upload would have made it? */
static int is_our_upload(const struct ama_store_info *info, uint64_t size,
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
	if (r->rc == 0 && is_our_upload(&r->info, j->size, &j->md5)) {
		j->info = r->info;
		req_free(r);
		req_free(c);
		job_end(j);
		return;
	}
	req_free(r);
	if (c->attempt < j->s3->store->tuning.attempts) {
		resubmit_later(c);
		return;
	}
	job_fail(j, c->rc);
	req_free(c);
	send_abort(j);
}

static void check_completed(struct put_job *j, struct req *c)
{
	struct req *r = req_new(j->s3, "HEAD", j->key, NULL);

	req_no_body(r);
	r->owner = j;
	r->on_done = check_done;
	j->single = c;
	submit(j->s3, r);
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
		req_free(r);
		j->single = c;
		resubmit_later(c);
		return;
	} else {
		job_fail(j, c->rc);
	}
	req_free(r);
	req_free(c);
	job_end(j);
}

static void check_created(struct put_job *j, struct req *c)
{
	struct req *r = req_new(j->s3, "HEAD", j->key, NULL);

	req_no_body(r);
	r->owner = j;
	r->on_done = created_done;
	j->single = c;
	submit(j->s3, r);
}

static void complete_done(struct req *r)
{
	struct put_job *j = r->owner;
	char etag[80];

	if (r->rc == 0 && etag_answer(r, etag) == V_RETRY) {
		resubmit_later(r);
		return;
	}
	if (r->lost) {
		check_completed(j, r);	/* did it work? */
		return;
	}
	if (r->rc < 0) {
		job_fail(j, r->rc);
		req_free(r);
		send_abort(j);
		return;
	}
	memset(&j->info, 0, sizeof(j->info));
	snprintf(j->info.etag, sizeof(j->info.etag), "%s", etag);
	ama_store_info_classify(&j->info);
	j->info.multipart = 1;
	j->info.size = j->size;
	ama_md5_to_hex(j->info.meta_md5, &j->md5);
	req_free(r);
	job_end(j);
}

static void send_complete(struct put_job *j)
{
	struct ama_s3_query q = { .n = 0 };
	struct ama_buf x = AMA_BUF_INIT;
	struct req *r;

	ama_s3_query_add(&q, "uploadId", j->upload_id);
	r = req_new(j->s3, "POST", j->key, &q);
	complete_xml(&x, j->nparts, NULL, j->etags);
	req_body_mem(r, x.s, x.len);
	req_header(r, "Content-Type: application/xml");
	ama_buf_release(&x);
	r->owner = j;
	r->on_done = complete_done;
	r->lost_ok = 1;
	submit(j->s3, r);
}

/* MD5 of bytes [off, off+len) of fd, fed to whole too when given. */
static int hash_range(struct ama_hasher *h, struct ama_hasher *whole, int fd,
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
	rc = hash_range(&j->part_h,
			r->partno == j->next_hash ? &j->whole_h : NULL,
			r->fd, r->off, r->len, &md5);
	if (rc < 0)
		return rc;
	if (r->partno == j->next_hash)
		j->next_hash++;
	ama_md5_to_base64(b64, &md5);
	req_header(r, "Content-MD5: %s", b64);
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
	req_free(r);
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
		req_free(r);
		job_end(j);
		return;
	}
	req_free(r);
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
		p = req_new(j->s3, "PUT", j->key, &q);
		req_body_file(p, j->fd, off, len);
		p->partno = i;
		p->owner = j;
		p->prepare = part_prepare;
		p->on_done = part_done;
		if (j->batch && j->batch->progress)
			p->progress = put_progress;
		submit(j->s3, p);
		off += len;
	}
}

static void put_multipart(struct put_job *j)
{
	struct ama_s3_query q = { .n = 0 };
	char hex[AMA_MD5_HEXLEN + 1];
	struct req *r;

	j->part_size = j->s3->store->tuning.part_size;
	if (j->part_size < (5u << 20))
		j->part_size = 5u << 20;	/* S3's smallest part */
	if ((j->size + j->part_size - 1) / j->part_size > 10000)
		j->part_size = (j->size + 9999) / 10000;
	ama_s3_query_add(&q, "uploads", NULL);
	r = req_new(j->s3, "POST", j->key, &q);
	req_body_mem(r, "", 0);
	ama_md5_to_hex(hex, &j->md5);
	req_header(r, "x-amz-meta-ama-md5: %s", hex);
	req_header(r, "Content-Type: application/octet-stream");
	r->owner = j;
	r->on_done = init_done;
	submit(j->s3, r);
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

static int s3_put(struct ama_store *s, const struct ama_store_put *p,
		  struct ama_store_info *info)
{
	struct s3 *s3 = s3_of(s);
	struct put_job *j;
	int rc;

	j = job_start(s3, NULL, p, &rc);
	if (!j)
		return rc;
	pump(s3, job_done, j);
	if (!j->done && s3->store->cancelled) {
		drop_all(s3, NULL);	/* j with the rest, its upload aborted */
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
	req_free(r);
}

static struct req *head_req(struct s3 *s3, const char *key)
{
	struct req *r = req_new(s3, "HEAD", key, NULL);

	req_no_body(r);
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

static int s3_batch_add(struct ama_store_batch *b,
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
		struct req *r = head_req(s3, head_key);

		r->key = ama_strdup(head_key);
		r->udata_head = udata;
		r->owner = b;
		r->on_done = head_done;
		submit(s3, r);
	}
	s3->jobs_open++;
	if (s3->jobs_open >= rm.limit)
		pump(s3, has_room, &rm);
	return b->failed;
}

static int all_done(void *arg)
{
	struct s3 *s3 = arg;

	return s3->jobs_open == 0 || s3->batch->failed ||
		s3->store->cancelled;
}

static int s3_batch_run(struct ama_store_batch *b)
{
	struct s3 *s3 = s3_of(b->s);

	if (s3->batch)
		pump(s3, all_done, s3);
	return b->failed;
}

/*
 * Drop whatever a failed batch left: transfers under way are cut, queued
 * requests freed, and multipart uploads begun are aborted (one try each).
 */
static void drop_req(struct req *r, struct req *keep)
{
	if (r->on_done == explain_done && r->owner != keep)
		req_free(r->owner);	/* the HEAD it explains */
	if (r != keep)
		req_free(r);
}

/*
 * Drop every request, queued or on the wire, but keep (which the caller
 * frees), and every put under way, aborting its multipart upload with one
 * try (even when cancelled: an upload left open costs storage).
 */
static void drop_all(struct s3 *s3, struct req *keep)
{
	struct req *r, *next;
	sig_atomic_t cancelled = s3->store->cancelled;
	int attempts = s3->store->tuning.attempts;

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
	s3->store->cancelled = 0;
	s3->store->tuning.attempts = 1;
	while (s3->jobs) {
		struct put_job *j = s3->jobs;

		job_unlink(j);
		if (j->upload_id) {
			struct ama_s3_query q = { .n = 0 };
			struct req *a;

			ama_s3_query_add(&q, "uploadId", j->upload_id);
			a = req_new(s3, "DELETE", j->key, &q);
			req_no_body(a);
			run_sync(s3, a);
			req_free(a);
		}
		job_free(j);
	}
	s3->store->tuning.attempts = attempts;
	if (cancelled)
		s3->store->cancelled = cancelled;
}

static void s3_batch_free(struct ama_store_batch *b)
{
	struct s3 *s3 = s3_of(b->s);

	if (s3->batch != b)
		return;
	drop_all(s3, NULL);
	s3->batch = NULL;
	s3->jobs_open = 0;
}

/* --- single operations --- */

static int s3_head(struct ama_store *s, const char *key,
		   struct ama_store_info *out)
{
	struct s3 *s3 = s3_of(s);
	struct req *r = head_req(s3, key);
	int rc = run_sync(s3, r);

	if (rc == 0)
		*out = r->info;
	req_free(r);
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
	r = req_new(s3, "GET", key, NULL);
	req_no_body(r);
	r->sink = sink;
	r->sink_ctx = ctx;
	r->get_off = offset;
	r->ranged = offset > 0 || length != AMA_STORE_TO_END;
	if (length != AMA_STORE_TO_END)
		r->get_end = r->want_end = offset + length;
	rc = run_sync(s3, r);
	if (rc == 0)
		*info = r->info;
	req_free(r);
	return rc;
}

static int s3_create_bucket(struct ama_store *s)
{
	struct s3 *s3 = s3_of(s);
	struct req *r = req_new(s3, "PUT", NULL, NULL);
	struct ama_buf x = AMA_BUF_INIT;
	int rc;

	if (strcmp(s3->set.region, "us-east-1"))
		ama_buf_addf(&x, "<CreateBucketConfiguration><LocationConstraint>"
			     "%s</LocationConstraint></CreateBucketConfiguration>",
			     s3->set.region);
	req_body_mem(r, x.s ? x.s : "", x.len);
	ama_buf_release(&x);
	rc = run_sync(s3, r);
	if (rc == AMA_EREMOTE && strstr(ama_error_msg(),
					 "BucketAlreadyOwnedByYou"))
		rc = 0;
	req_free(r);
	return rc;
}

static int s3_del(struct ama_store *s, const char *key)
{
	struct s3 *s3 = s3_of(s);
	struct req *r = req_new(s3, "DELETE", key, NULL);
	int rc;

	req_no_body(r);
	rc = run_sync(s3, r);
	if (rc == AMA_ENOTFOUND && s3->bucket_seen)
		rc = 0;
	req_free(r);
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
	r = req_new(s3, "GET", NULL, &q);
	req_no_body(r);
	rc = run_sync(s3, r);
	if (rc == 0)
		rc = ama_s3xml_list(out, s->url.prefix, r->resp.s ?
				    r->resp.s : "", r->resp.len, NULL);
	req_free(r);
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
	req_header(r, "x-amz-copy-source: %s", v.s);
	if (if_match)
		req_header(r, "x-amz-copy-source-if-match: \"%s\"", if_match);
	ama_buf_release(&v);
	ama_buf_release(&k);
}

/* Run r, a copy, to its end, retrying an error inside a 200 answer. */
static int run_copy(struct s3 *s3, struct req *r, char *etag)
{
	for (;;) {
		int rc = run_sync(s3, r);

		if (rc < 0)
			return rc;
		if (etag_answer(r, etag) != V_RETRY)
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

	if (r->rc == 0 && etag_answer(r, etag) == V_RETRY) {
		resubmit_later(r);
		return;
	}
	if (r->rc < 0 && !st->rc) {
		st->rc = r->rc;
		snprintf(st->err, sizeof(st->err), "%s", ama_error_msg());
	}
	if (r->rc == 0)
		ama_store_upload_add_part(u, r->partno, etag);
	req_free(r);
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
		r = req_new(s3, "PUT", dst_key, &q);
		req_body_mem(r, "", 0);
		copy_source(r, src, src_key, if_match);
		req_header(r, "x-amz-copy-source-range: bytes=%llu-%llu",
			   (unsigned long long)off,
			   (unsigned long long)(off + len - 1));
		r->partno = i;
		r->owner = u;
		r->prepare = copy_part_prepare;
		r->on_done = copy_part_done;
		submit(s3, r);
	}
	/* all parts end (those queued after a failure are not sent) */
	pump(s3, never_stop, NULL);
	if (s3->store->cancelled) {
		sig_atomic_t c = s3->store->cancelled;
		int attempts = dst->tuning.attempts;

		drop_all(s3, NULL);
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
		   const char *if_match)
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
	rc = s3_head(src, src_key, &info);
	if (rc < 0)
		return rc;
	if (if_match && strcmp(info.etag, if_match))
		return ama_error_set(AMA_ECONFLICT,
			"the source is not the object expected (ETag %s, "
			"not %s)", info.etag, if_match);
	if (info.size > dst->tuning.copy_part_threshold)
		return copy_in_parts(dst, dst_key, src, src_key, if_match,
				     info.size);
	r = req_new(s3, "PUT", dst_key, NULL);
	req_body_mem(r, "", 0);
	copy_source(r, src, src_key, if_match);
	rc = run_copy(s3, r, etag);
	if (rc == AMA_ECONFLICT)
		rc = ama_error_set(AMA_ECONFLICT,
			"the source is not the object expected (ETag not %s)",
			if_match ? if_match : "");
	req_free(r);
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
	r = req_new(s3, "POST", u->key, &q);
	req_body_mem(r, "", 0);
	if (u->has_md5) {
		char hex[AMA_MD5_HEXLEN + 1];

		ama_md5_to_hex(hex, &u->md5);
		req_header(r, "x-amz-meta-ama-md5: %s", hex);
	}
	req_header(r, "Content-Type: application/octet-stream");
	rc = run_sync(s3, r);
	if (rc == 0)
		rc = ama_s3xml_upload_id(&u->id, r->resp.s ? r->resp.s : "",
					 r->resp.len, NULL);
	req_free(r);
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
	rc = hash_range(&h, NULL, fd, offset, len, &md5);
	ama_hasher_release(&h);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	snprintf(num, sizeof(num), "%d", partno);
	ama_s3_query_add(&q, "partNumber", num);
	ama_s3_query_add(&q, "uploadId", u->id);
	r = req_new(s3, "PUT", u->key, &q);
	req_body_file(r, fd, offset, len);
	ama_md5_to_base64(b64, &md5);
	req_header(r, "Content-MD5: %s", b64);
	rc = run_sync(s3, r);
	if (rc == 0)
		ama_store_upload_add_part(u, partno, r->info.etag);
	req_free(r);
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
	r = req_new(s3, "POST", u->key, &q);
	complete_xml(&x, (int)u->nparts, u->partno, u->etag);
	req_body_mem(r, x.s, x.len);
	req_header(r, "Content-Type: application/xml");
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
		    is_our_upload(&got, got.size, &u->md5)) {
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
	req_free(r);
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
	r = req_new(s3, "DELETE", u->key, &q);
	req_no_body(r);
	rc = run_sync(s3, r);
	req_free(r);
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
	.put = s3_put,
	.copy = s3_copy,
	.del = s3_del,
	.list_page = s3_list_page,
	.mpu_start = s3_mpu_start,
	.mpu_part = s3_mpu_part,
	.mpu_complete = s3_mpu_complete,
	.mpu_abort = s3_mpu_abort,
	.batch_add = s3_batch_add,
	.batch_run = s3_batch_run,
	.batch_free = s3_batch_free,
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
