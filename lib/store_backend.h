/* store_backend.h: what lib/store.c shares with its backends (internal to lib/ and its unit tests). */
#ifndef AMA_STORE_BACKEND_H
#define AMA_STORE_BACKEND_H

#include <signal.h>

#include "store.h"

struct ama_store_batch;

/*
 * A backend's calls. store.c has already checked the arguments and
 * resolved a put's MD5 and size (put->md5 is never NULL there).
 */
struct ama_store_ops {
	void (*close)(struct ama_store *s);
	int (*create_bucket)(struct ama_store *s);
	int (*head)(struct ama_store *s, const char *key,
		    struct ama_store_info *out);
	int (*get)(struct ama_store *s, const char *key, uint64_t offset,
		   uint64_t length, ama_store_sink_fn sink, void *ctx,
		   struct ama_store_info *info);
	int (*put)(struct ama_store *s, const struct ama_store_put *p,
		   struct ama_store_info *info);
	/*
	 * size: the source's, when the caller knows it (then no HEAD is
	 * needed), else AMA_STORE_ANY_SIZE; out: the new object's info
	 * (zero-filled by store.c, ETag "" when unknown).
	 */
	int (*copy)(struct ama_store *dst, const char *dst_key,
		    struct ama_store *src, const char *src_key,
		    const char *if_match, uint64_t size,
		    struct ama_store_info *out);
	int (*del)(struct ama_store *s, const char *key);
	/* up to 1000 keys, checked; NULL: del() for each */
	int (*del_many)(struct ama_store *s, const char *const *keys,
			size_t n);
	int (*list_page)(struct ama_store *s, const char *prefix,
			 const char *after, int max_keys,
			 struct ama_store_page *out);
	int (*mpu_start)(struct ama_store_upload *u);
	int (*mpu_part)(struct ama_store_upload *u, int partno,
			const char *path, uint64_t offset, uint64_t len);
	int (*mpu_complete)(struct ama_store_upload *u,
			    struct ama_store_info *info);
	int (*mpu_abort)(struct ama_store_upload *u);
	/*
	 * The batch. NULL: store.c runs each put and head at once, one
	 * after another. Otherwise add queues (p's key and path are copied
	 * by the backend; head when p is NULL) and may run transfers; run
	 * runs until all is done.
	 */
	int (*batch_add)(struct ama_store_batch *b,
			 const struct ama_store_put *p, const char *head_key,
			 void *udata);
	int (*batch_run)(struct ama_store_batch *b);
	void (*batch_free)(struct ama_store_batch *b);
};

struct ama_store {
	const struct ama_store_ops *ops;
	volatile sig_atomic_t cancelled;	/* ama_store_cancel() */
	struct ama_store_url url;
	char *url_str;
	struct ama_store_tuning tuning;
	void *impl;
};

struct ama_store_upload {
	struct ama_store *s;
	char *key;
	struct ama_md5 md5;
	int has_md5;
	char *id;		/* the backend's upload id */
	/* parts completed so far: number and ETag (s3) */
	int *partno;
	char (*etag)[80];
	size_t nparts, alloc;
	void *impl;
};

struct ama_store_batch {
	struct ama_store *s;
	ama_store_done_fn done;
	ama_store_progress_fn progress;
	void *ctx;
	int failed;		/* the exit-2 error that stopped it, or 0 */
	void *impl;
};

/* Backends. */
int ama_store_file_open(struct ama_store *s);
int ama_store_s3_open(struct ama_store *s, const struct ama_config *cfg,
		      const char *role);

/* Has ama_store_cancel() been called? Then AMA_EIO "interrupted" is set. */
int ama_store_interrupted(const struct ama_store *s);

/* Set etag_is_md5 and multipart from info->etag. */
void ama_store_info_classify(struct ama_store_info *info);

/*
 * The delay before attempt number `attempt` (2 for the first retry):
 * full jitter over retry_delay_ms * 2^(attempt-2), capped at retry_max_ms.
 */
unsigned ama_store_backoff_ms(const struct ama_store_tuning *t, int attempt);

/* Deliver one finished batch item to its done() (the error from this thread's last). */
void ama_store_batch_report(struct ama_store_batch *b, const char *key,
			    const char *path, void *udata, int rc,
			    const struct ama_store_info *info);

/* Record a part's ETag in u (kept sorted by part number, replaced if seen). */
void ama_store_upload_add_part(struct ama_store_upload *u, int partno,
			       const char *etag);

/*
 * S3 request encoding (exposed for the unit tests): RFC 3986, only
 * A-Z a-z 0-9 - . _ ~ left as they are, everything else %XX with upper
 * case hex; '/' kept when keep_slash (object keys in the path).
 */
void ama_s3_encode(struct ama_buf *out, const char *s, size_t n,
		   int keep_slash);

/* A query string: up to 8 parameters, written sorted by name. */
struct ama_s3_query {
	const char *name[8];
	const char *value[8];	/* NULL: valueless, written "name=" */
	int n;
};

void ama_s3_query_add(struct ama_s3_query *q, const char *name,
		      const char *value);
/* Append "?a=1&b=&c=x%2Fy" (nothing if q is empty) to out. */
void ama_s3_query_write(struct ama_buf *out, const struct ama_s3_query *q);

#endif
