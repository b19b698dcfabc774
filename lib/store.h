/* store.h: the object store (a file:// folder or an s3:// bucket) behind one interface. */
#ifndef AMA_STORE_H
#define AMA_STORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "md5.h"

/*
 * A store is one bucket URL: "file:///abs/dir" or "s3://bucket[/prefix]".
 * Keys are relative to the URL's folder or prefix. Every call is
 * synchronous except the batch, which runs many transfers at once (on one
 * curl multi handle for s3://) and reports each as it finishes, on the
 * calling thread.
 *
 * Errors (negative AMA_E* codes, reason in ama_error_msg(), no subject: the
 * caller knows which key or file it was about):
 *   AMA_ENOTFOUND  no such object (404), no such upload
 *   AMA_EDIGEST    "content does not match its MD5" (the store refused it)
 *   AMA_ECONFLICT  a precondition failed (412): If-None-Match: * found an
 *                  object, or a copy's If-Match found another ETag
 *   AMA_EAUTH      credentials refused: wrong secret, unknown key, denied
 *   AMA_ESETUP     no such bucket or folder, unreachable endpoint, bad URL
 *                  or configuration, no credentials
 *   AMA_ENET       retries exhausted (500, 503, resets, timeouts): the
 *                  last reason is given
 *   AMA_EREMOTE    any other refusal, with the store's code and message
 *   AMA_EIO        a local file could not be read or written
 * AMA_EAUTH and AMA_ESETUP are exit-2 errors: a batch stops at the first.
 */

enum ama_store_kind {
	AMA_STORE_FILE,
	AMA_STORE_S3,
};

/* A parsed bucket URL. */
struct ama_store_url {
	enum ama_store_kind kind;
	char *bucket;	/* s3: the bucket; file: NULL */
	char *prefix;	/* s3: "" or "a/b/" (always ends in '/') */
	char *dir;	/* file: the absolute folder, no trailing '/' */
};

/*
 * Parse url into out (strings owned by out). Returns 0, or AMA_ESETUP
 * ("not a bucket URL: ..." and why) for anything else: a relative file://
 * path, an empty or invalid bucket name, "..", "//" or "." in a prefix.
 */
int ama_store_url_parse(struct ama_store_url *out, const char *url);
void ama_store_url_release(struct ama_store_url *u);

/* What a store knows of an object. */
struct ama_store_info {
	uint64_t size;
	char etag[80];		/* unquoted; "" when the store has none */
	int etag_is_md5;	/* etag is 32 lowercase hex digits, no '-' */
	int multipart;		/* written in parts (our metadata or "-N") */
	char meta_md5[33];	/* x-amz-meta-ama-md5: the uploader's claim */
	int64_t mtime;		/* seconds since the epoch; 0 if unknown */
};

/* An object in a listing: its key relative to the store, and its info. */
struct ama_store_entry {
	char *key;
	struct ama_store_info info;
};

struct ama_store;

/*
 * Open the store at url. cfg (may be NULL) gives [s3] endpoint, region,
 * addressing and the profile named "<role>-profile" (role: "staging",
 * "remote" or "server"; NULL: none), and [transfer] jobs,
 * multipart-threshold, part-size, retries (attempts per request),
 * retry-delay and retry-max-delay (ms), copy-part-threshold; AMA_* and AWS_*
 * variables as lib/s3creds.h says. Nothing is contacted yet. Returns 0,
 * or AMA_ESETUP for a bad URL, configuration or missing credentials.
 * Free with ama_store_close().
 */
int ama_store_open(struct ama_store **out, const char *url,
		   const struct ama_config *cfg, const char *role);
void ama_store_close(struct ama_store *s);

enum ama_store_kind ama_store_kind(const struct ama_store *s);
/* The URL the store was opened with. */
const char *ama_store_url(const struct ama_store *s);
/* Append the display URL of key ("s3://bucket/prefix/key") to out. */
void ama_store_key_url(struct ama_buf *out, const struct ama_store *s,
		       const char *key);

/* Tunables, from [transfer] unless set here after open. */
struct ama_store_tuning {
	int jobs;			/* transfers at once (default 8) */
	uint64_t multipart_threshold;	/* above it: parts (64 MiB) */
	uint64_t part_size;		/* 16 MiB; at least 5 MiB on S3 */
	int attempts;			/* tries per request (6) */
	unsigned retry_delay_ms;	/* first backoff (100) */
	unsigned retry_max_ms;		/* backoff cap (10000) */
	uint64_t copy_part_threshold;	/* copies above: UploadPartCopy (5 GiB) */
};
struct ama_store_tuning *ama_store_tuning(struct ama_store *s);

/*
 * Ask what s is doing to stop: async-signal-safe, for a SIGINT or SIGTERM
 * handler. The call under way returns AMA_EIO ("interrupted") as soon as
 * it can, and so does every later call: transfers are cut, multipart
 * uploads begun are aborted (one try each), a file:// temporary file is
 * removed. Nothing is left under a final key half written.
 */
void ama_store_cancel(struct ama_store *s);

/*
 * For a program: from now on SIGINT and SIGTERM cancel a's and b's work
 * (either may be NULL) instead of killing the process, so that it ends
 * cleanly; called again with other stores (or NULL, NULL, before they are
 * closed) it names those. ama_store_signal_exit() then kills the process
 * with the signal that came, if one did: the exit status a shell expects.
 */
void ama_store_cancel_on_signals(struct ama_store *a, struct ama_store *b);
void ama_store_signal_exit(void);
/*
 * The signal that came since ama_store_cancel_on_signals() (0: none), for
 * work outside the stores that should stop soon too.
 */
volatile sig_atomic_t *ama_store_signal_flag(void);

/* Create the bucket (S3 CreateBucket) or folder (mkdir -p). */
int ama_store_create_bucket(struct ama_store *s);

/*
 * HEAD: the object's info into out. Returns 0, AMA_ENOTFOUND, or an
 * error above.
 */
int ama_store_head(struct ama_store *s, const char *key,
		   struct ama_store_info *out);

/*
 * Receives the bytes of a GET in order, each byte once (a truncated
 * transfer is resumed with a Range request). Returns 0, or an AMA_E* code
 * (with the error set) to stop the transfer, which the GET then returns.
 */
typedef int (*ama_store_sink_fn)(void *ctx, const void *data, size_t n);

#define AMA_STORE_TO_END UINT64_MAX

/*
 * GET length bytes from offset (length AMA_STORE_TO_END: to the end; a
 * range past the end is AMA_EINVAL) and stream them to sink. info (may be
 * NULL) gets the object's info. Returns 0, AMA_ENOTFOUND, the sink's
 * code, or an error above.
 */
int ama_store_get(struct ama_store *s, const char *key, uint64_t offset,
		  uint64_t length, ama_store_sink_fn sink, void *ctx,
		  struct ama_store_info *info);

/* Put flags. */
#define AMA_STORE_IF_NONE_MATCH	0x1u	/* create only: 412 if it exists */
#define AMA_STORE_NO_MULTIPART	0x2u	/* one PUT whatever the size */

/* What to put: a file (path) or bytes in memory (data, len). */
struct ama_store_put {
	const char *key;
	const char *path;	/* the file, or NULL */
	const void *data;	/* with path NULL: the bytes */
	size_t len;
	/*
	 * The content's MD5, which the store checks: every PUT carries
	 * Content-MD5 (for parts, each part's own, computed here). NULL:
	 * computed here first (one more read of a file).
	 */
	const struct ama_md5 *md5;
	/* a file's expected size; AMA_STORE_ANY_SIZE: whatever it is */
	uint64_t size;
	unsigned flags;
	void *udata;		/* handed back to the batch callbacks */
};

#define AMA_STORE_ANY_SIZE UINT64_MAX

/*
 * Store one object. A file above the multipart threshold goes in parallel
 * parts (x-amz-meta-ama-md5 records the claimed MD5; a failed upload is
 * aborted). An object appears under its final key whole or not at all.
 * info (may be NULL) gets what the store answered (size, ETag). Returns
 * 0, AMA_EDIGEST, AMA_ECONFLICT (IF_NONE_MATCH and the key exists),
 * AMA_ECHANGED (the file's size is not p->size or it changed while read),
 * AMA_ENOTFOUND (no such local file), or an error above.
 */
int ama_store_put(struct ama_store *s, const struct ama_store_put *p,
		  struct ama_store_info *info);

/*
 * The size of the parts ama_store_put() sends a file of size bytes in on
 * s, when it goes in parts: [transfer] part-size, at least S3's smallest
 * (5 MiB), and large enough that 10,000 parts hold it. What S3 names such
 * an object by (its ETag: the MD5 of the parts' MD5s, "-N") follows from
 * it and the bytes.
 */
uint64_t ama_store_part_size(struct ama_store *s, uint64_t size);

/*
 * Server-side copy of src_key in src (same kind of store; for s3, the same
 * endpoint) to dst_key in dst. if_match (may be NULL): copy only if the
 * source's ETag is this one (x-amz-copy-source-if-match), else
 * AMA_ECONFLICT. Objects above 5 GiB go by UploadPartCopy. On file://, a
 * reflink where the filesystem allows, else a copy.
 */
int ama_store_copy(struct ama_store *dst, const char *dst_key,
		   struct ama_store *src, const char *src_key,
		   const char *if_match);

/*
 * ama_store_copy of a source the caller has just seen (its ama_store_head,
 * or the info an ama_store_get gave): seen->size and seen->etag (on
 * file://, where there are no ETags, the source's MD5 in hex). No HEAD is
 * made first: the copy goes by size (UploadPartCopy above the threshold)
 * and only if the source still has that ETag (on file://, the bytes copied
 * are hashed and must have that MD5 before they appear under dst_key),
 * else AMA_ECONFLICT. out (may be NULL) gets what the store says of the
 * new object: on S3 the ETag of a one-request copy (S3 computes it anew:
 * the MD5 of the bytes for an unencrypted object; "" after a copy in
 * parts), on file:// the MD5 of the bytes copied, and the size.
 */
int ama_store_copy_seen(struct ama_store *dst, const char *dst_key,
			struct ama_store *src, const char *src_key,
			const struct ama_store_info *seen,
			struct ama_store_info *out);

/* Delete key; a missing key is not an error (S3 says 204 either way). */
int ama_store_delete(struct ama_store *s, const char *key);

/*
 * Delete the n keys: on S3 with DeleteObjects, up to 1000 keys a request;
 * elsewhere (and for a key XML cannot carry: a control byte) one delete
 * each. Missing keys are not an error. Returns 0, or the first failure:
 * a key the store would not delete (AMA_EAUTH, or AMA_EREMOTE with the
 * store's code and message; the key's URL as subject), or an error above.
 */
int ama_store_delete_many(struct ama_store *s, const char *const *keys,
			  size_t n);

/* One page of a listing. */
struct ama_store_page {
	struct ama_store_entry *entries;	/* sorted by key, bytewise */
	size_t n;
	char *next;	/* token for the next page, or NULL at the end */
};

/*
 * List the keys that start with prefix (relative to the store), after
 * the page token `after` (NULL: from the start), at most max_keys of them
 * (0: the store's default, 1000). Returns 0 or an error above.
 */
int ama_store_list_page(struct ama_store *s, const char *prefix,
			const char *after, int max_keys,
			struct ama_store_page *out);
void ama_store_page_release(struct ama_store_page *p);

/* Called for each listed object in key order; a negative return stops. */
typedef int (*ama_store_list_fn)(void *ctx, const struct ama_store_entry *e);

/* Every page of a listing, page_size keys a request (0: 1000). */
int ama_store_list(struct ama_store *s, const char *prefix, int page_size,
		   ama_store_list_fn fn, void *ctx);

/*
 * Multipart upload driven by the caller, one call at a time (ama_store_put
 * does it in parallel by itself). start: md5 (may be NULL) is recorded as
 * x-amz-meta-ama-md5. part: bytes [offset, offset+len) of path as part
 * number partno (1-based, any order; each with its own Content-MD5).
 * complete: joins the parts in number order and frees u; abort: drops
 * them and frees u. After a failed part, abort (or retry the part).
 */
struct ama_store_upload;
int ama_store_mpu_start(struct ama_store_upload **out, struct ama_store *s,
			const char *key, const struct ama_md5 *md5);
int ama_store_mpu_part(struct ama_store_upload *u, int partno,
		       const char *path, uint64_t offset, uint64_t len);
int ama_store_mpu_complete(struct ama_store_upload *u,
			   struct ama_store_info *info);
int ama_store_mpu_abort(struct ama_store_upload *u);

/*
 * The batch: many PUTs and HEADs at once, up to jobs transfers, each
 * reported to done() on the calling thread as it finishes, from inside
 * ama_store_batch_put(), _head() or _finish(), in completion order.
 * progress() (may be NULL) gets the bytes sent for a put as they go.
 */
struct ama_store_result {
	const char *key;
	const char *path;	/* the put's file, or NULL */
	void *udata;
	int rc;			/* 0 or an AMA_E* code */
	const char *error;	/* the reason when rc < 0 */
	struct ama_store_info info;	/* put: what the store answered;
					 * head: the object's info */
};

typedef void (*ama_store_done_fn)(void *ctx, const struct ama_store_result *r);
typedef void (*ama_store_progress_fn)(void *ctx, void *udata,
				      uint64_t bytes);

struct ama_store_batch;

struct ama_store_batch *ama_store_batch_new(struct ama_store *s,
					    ama_store_done_fn done,
					    ama_store_progress_fn progress,
					    void *ctx);
/*
 * Queue a put (p is copied) or a head. When enough work is queued, this
 * runs transfers until there is room, calling done() for those that
 * finish. Returns 0, or the exit-2 error (AMA_ESETUP, AMA_EAUTH) that
 * stopped the batch: the queued work is then dropped, unreported.
 */
int ama_store_batch_put(struct ama_store_batch *b,
			const struct ama_store_put *p);
int ama_store_batch_head(struct ama_store_batch *b, const char *key,
			 void *udata);
/*
 * Run everything queued to its end and free b. Returns 0 or the exit-2
 * error that stopped the batch (the other failures went to done()).
 */
int ama_store_batch_finish(struct ama_store_batch *b);

#endif
