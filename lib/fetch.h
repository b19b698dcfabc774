/* fetch.h: downloading contents from the remote bucket into the cache, many at once, verified as they stream. */
#ifndef AMA_FETCH_H
#define AMA_FETCH_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "md5.h"
#include "store.h"

/*
 * Each item is one content (the caller gives each MD5 once): it is made
 * present in the cache by downloading <top_hash>/contents/<md5> from the
 * remote bucket, unless it is there already. Up to jobs downloads run at
 * once, on worker threads with a store handle each. The bytes are hashed
 * as they arrive and enter the cache only when size and MD5 hold
 * (lib/cache.h); a download cut short (a kill, a network failure that
 * outlasts the store's retries) leaves its bytes for the next fill to
 * resume with a Range request. The store retries 5xx answers, resets and
 * short reads with back-off by itself ([transfer] retries).
 */
struct ama_fetch_item {
	struct ama_md5 md5;
	uint64_t size;
	void *udata;
};

/*
 * The outcome of one item, on the calling thread. rc: 0 (in the cache:
 * downloaded now, or there already when fetched is 0), AMA_EDIGEST (the
 * remote bytes are not the content: not cached), AMA_ENOTFOUND (not in
 * remote), or another store error; why is the reason then.
 */
struct ama_fetch_result {
	struct ama_fetch_item *item;
	int rc;
	int fetched;
	const char *why;
};

struct ama_fetch_opts {
	const char *remote_url;		/* the remote bucket */
	const struct ama_config *cfg;	/* [s3], remote-profile, [transfer] */
	const char *top_hash;
	struct ama_cache *cache;
	int jobs;			/* downloads at once (0: 8) */
	void (*done)(void *ctx, const struct ama_fetch_result *r);
	/* bytes received so far in all, about ten times a second (or NULL) */
	void (*progress)(void *ctx, uint64_t bytes);
	void *ctx;
	/* set (by a signal handler) to stop: downloads are cut, kept for resume */
	volatile sig_atomic_t *stop;
	/* out: requests made and bytes received */
	uint64_t requests, bytes;
};

/*
 * Fetch the n items. done() is called once for each, in completion
 * order. Returns 0 when every item got an answer (some may have failed),
 * or the exit-2 error that stopped the run (AMA_ESETUP, AMA_EAUTH: no
 * credentials, no bucket) or AMA_EIO "interrupted" after *stop; items
 * not started then get no done() call.
 */
int ama_fetch_run(struct ama_fetch_item *items, size_t n,
		  struct ama_fetch_opts *o);

/*
 * One content, on the calling thread with its store handle st (the
 * remote bucket): what each of ama_fetch_run's workers does. stop (may be
 * NULL) cuts the transfer; bytes (may be NULL) counts what arrives.
 * Returns 0 and *fetched (0: it was cached already), AMA_EDIGEST (the
 * remote bytes are not the content: not cached), or a store error.
 */
int ama_fetch_content(struct ama_store *st, struct ama_cache *cache,
		      const char *top_hash, const struct ama_md5 *md5,
		      uint64_t size, volatile sig_atomic_t *stop,
		      atomic_uint_fast64_t *bytes, int *fetched);

#endif
