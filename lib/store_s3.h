/* store_s3.h: what the three files of the s3:// store share (internal to lib/). */
#ifndef AMA_STORE_S3_H
#define AMA_STORE_S3_H

/*
 * store_s3_http.c   requests: SigV4 encoding, curl callbacks, what an
 *                   answer means, retries, the multi-handle engine
 * store_s3_put.c    puts (one PUT, or parallel parts) and the batch
 * store_s3.c        the other operations and the backend's table
 */

#include <signal.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "md5.h"
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

static inline struct s3 *s3_of(const struct ama_store *s)
{
	return s->impl;
}

/* --- store_s3_http.c --- */

/* A request for key (NULL: the bucket itself) with query q (may be NULL). */
struct req *ama_s3_req_new(struct s3 *s3, const char *method,
			   const char *key, const struct ama_s3_query *q);
void ama_s3_req_header(struct req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An in-memory body (copied), its SHA-256 signed. */
void ama_s3_req_body_mem(struct req *r, const void *data, size_t n);
/* Bytes [off, off+len) of fd (not owned) as the body, streamed. */
void ama_s3_req_body_file(struct req *r, int fd, uint64_t off, uint64_t len);
void ama_s3_req_no_body(struct req *r);
void ama_s3_req_free(struct req *r);
/* Queue r; ama_s3_pump() starts it when a slot is free. */
void ama_s3_submit(struct s3 *s3, struct req *r);
/* Queue r again after its backoff. */
void ama_s3_resubmit_later(struct req *r);
/* Run transfers until stop(arg), cancellation, or nothing left. */
void ama_s3_pump(struct s3 *s3, int (*stop)(void *), void *arg);
/* Run r to its end; its rc (the error is this thread's last). */
int ama_s3_run_sync(struct s3 *s3, struct req *r);
/*
 * A completion's or copy's 200 answer: its ETag, or the <Error> inside
 * mapped (V_RETRY when that error is worth another attempt).
 */
enum verdict ama_s3_etag_answer(struct req *r, char *etag);
/* Free every request, queued or on the wire, but keep. */
void ama_s3_drop_requests(struct s3 *s3, struct req *keep);

/* --- store_s3_put.c --- */

/* The HEAD request of key. */
struct req *ama_s3_head_req(struct s3 *s3, const char *key);
/* MD5 of bytes [off, off+len) of fd, fed to whole too when not NULL. */
int ama_s3_hash_range(struct ama_hasher *h, struct ama_hasher *whole, int fd,
		      uint64_t off, uint64_t len, struct ama_md5 *out);
/* The CompleteMultipartUpload body: parts 1..n, or partno[i] when given. */
void ama_s3_complete_xml(struct ama_buf *x, int n, int *partno,
			 char (*etags)[80]);
/* Is info the object an upload of size bytes with md5 would have made? */
int ama_s3_is_our_upload(const struct ama_store_info *info, uint64_t size,
			 const struct ama_md5 *md5);
/*
 * Drop all requests but keep, and every put under way, aborting its
 * multipart upload with one try (even when cancelled).
 */
void ama_s3_drop_all(struct s3 *s3, struct req *keep);
int ama_s3_put(struct ama_store *s, const struct ama_store_put *p,
	       struct ama_store_info *info);
int ama_s3_batch_add(struct ama_store_batch *b,
		     const struct ama_store_put *p, const char *head_key,
		     void *udata);
int ama_s3_batch_run(struct ama_store_batch *b);
void ama_s3_batch_free(struct ama_store_batch *b);

#endif
