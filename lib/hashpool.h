/* hashpool.h: hash many files on worker threads, results in input order. */
#ifndef AMA_HASHPOOL_H
#define AMA_HASHPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "md5.h"
#include "stat.h"

/*
 * A pool of worker threads, each with its own struct ama_hasher, hashes
 * the paths submitted to it with ama_md5_file(), or, where io_uring
 * serves (lib/uring.h), the small files of a run of queued paths together
 * with ama_md5_batch(), which gives the same results in a few system
 * calls for the lot; whatever a batch leaves over (large files, failures
 * and their reasons) goes through ama_md5_file(). Results come back in the
 * order the paths were submitted, through a callback that always runs on
 * the submitting thread (from inside ama_hashpool_submit(),
 * ama_hashpool_wait_input() and ama_hashpool_finish()), so the caller
 * needs no locking. One thread submits; the pool is not meant to be
 * shared between submitting threads.
 *
 * Memory is bounded by a window of outstanding submissions: submit blocks
 * while the window is full. The workers take queued paths in order but do
 * not wait for each other, so a huge file at the head of the window holds
 * back only the delivery of the results behind it, not their hashing.
 */

struct ama_hash_result {
	const char *path;	/* as submitted, NUL-terminated */
	size_t path_len;
	void *user;		/* as submitted */
	int rc;			/* 0 or an AMA_E* code */
	/* rc < 0: the reason and its subject (or NULL), copied from the
	 * worker thread's last error (lib/error.c is per-thread) */
	const char *error_msg;
	const char *error_path;
	/* rc == 0: the digest and the stat record it belongs to */
	struct ama_md5 md5;
	struct ama_stat st;
	/*
	 * rc == 0: the file's mtime is not older than the moment its hashing
	 * started (CLOCK_REALTIME_COARSE, the clock file times come from), so
	 * a change within the same timestamp tick would go unseen: store the
	 * entry flagged, to be rehashed at the next check.
	 */
	int racy;
};

/*
 * Called for each result, in input order, on the submitting thread. The
 * result and its strings are valid during the call only. st.size is the
 * byte count for a progress line. Return 0, or a negative AMA_E* code to
 * stop the pool: paths not yet hashed are dropped, results not yet
 * delivered are discarded, and submit, wait_input and finish return that
 * code from then on.
 */
typedef int (*ama_hash_done_fn)(const struct ama_hash_result *res,
				void *arg);

/*
 * Called on the submitting thread just before it blocks, waiting for a
 * result or for input (the moment to flush buffered output, so records
 * stream while the pool works on a slow file). Return 0 or a negative
 * AMA_E* code to stop the pool, as for done.
 */
typedef int (*ama_hash_idle_fn)(void *arg);

/*
 * The work done for each path on a worker thread, with that worker's
 * hasher. NULL means ama_md5_file(). Other functions serve tests and
 * callers that check something before hashing; they set the error (per
 * thread) and return an AMA_E* code on failure, as ama_md5_file() does.
 */
typedef int (*ama_hash_work_fn)(struct ama_hasher *h, struct ama_md5 *out,
				struct ama_stat *st, const char *path,
				void *arg);

/*
 * Called on the submitting thread about ten times a second while it waits
 * in ama_hashpool_submit() or ama_hashpool_finish() for results (a large
 * file being hashed): the moment to redraw a progress line from
 * ama_hashpool_read_bytes().
 */
typedef void (*ama_hash_tick_fn)(void *arg);

struct ama_hashpool_opts {
	int jobs;		/* worker threads; < 1 means 1 */
	int window;		/* outstanding submissions at most;
				   0: AMA_HASHPOOL_WINDOW_PER_JOB * jobs */
	ama_hash_done_fn done;	/* required */
	ama_hash_idle_fn idle;	/* may be NULL */
	ama_hash_work_fn work;	/* NULL: ama_md5_file() */
	ama_hash_tick_fn tick;	/* may be NULL */
	void *arg;		/* passed to done, idle, work and tick */
};

/*
 * The default window per worker. A slot costs about 200 bytes plus its
 * path (1 MiB per worker), and a large window lets the other workers go
 * on with small files while one hashes a huge file: 4096 files of 4 KiB
 * are about 50 ms of work, and with 2 workers the window reaches from one
 * 256 MiB file to the next when 5,000 small files lie between them
 * (t/perf/p0001-hash.sh; with 1024 a worker idles there, and ama-hash -j 2
 * takes 1.7 s instead of 0.95 s).
 */
#define AMA_HASHPOOL_WINDOW_PER_JOB 4096

struct ama_hashpool;

/*
 * Start a pool of opts->jobs workers. *out gets the pool, which the caller
 * frees with ama_hashpool_free(). Returns 0, or AMA_EIO if no thread could
 * be started (fewer threads than asked is not an error).
 */
int ama_hashpool_new(struct ama_hashpool **out,
		     const struct ama_hashpool_opts *opts);

/*
 * Queue path (len bytes, no NUL inside; copied) with the caller's user
 * pointer. Delivers the results that are ready; blocks while the window is
 * full, delivering results as they come. Returns 0, or the code that
 * stopped the pool.
 */
int ama_hashpool_submit(struct ama_hashpool *p, const char *path,
			size_t len, void *user);

/*
 * For a caller that reads its paths from a pipe, to call before each read
 * that might block, so that results stream out as the paths come in
 * rather than at the end of input: until fd is readable (or at end of
 * file, or failed), deliver results as the workers finish them, calling
 * idle before each wait. Returns 0 when fd is readable, or when no result
 * is outstanding any more and idle has been called (the caller's read may
 * then block without holding anything back); else the code that stopped
 * the pool, or AMA_EIO if poll(2) failed.
 */
int ama_hashpool_wait_input(struct ama_hashpool *p, int fd);

/*
 * Deliver every outstanding result, waiting for the workers (idle is called
 * before each wait). The pool may take more paths afterwards. Returns 0 or
 * the code that stopped the pool.
 */
int ama_hashpool_finish(struct ama_hashpool *p);

/*
 * The bytes the workers have read so far, counted as each read is hashed
 * (by ama_md5_file(); a work function of the caller's counts nothing).
 * Any thread may ask.
 */
uint64_t ama_hashpool_read_bytes(struct ama_hashpool *p);

/*
 * How many files the workers have hashed in io_uring batches
 * (ama_md5_batch()) rather than one by one: 0 where io_uring is
 * unavailable or turned off (AMA_NO_IO_URING, lib/uring.h) and with a work
 * function of the caller's. Any thread may ask.
 */
uint64_t ama_hashpool_batched(struct ama_hashpool *p);

/*
 * Stop the workers and free the pool. Paths not yet hashed are dropped and
 * results not yet delivered are discarded (call finish first to have them);
 * the files being hashed at that moment are finished first. NULL is
 * accepted.
 */
void ama_hashpool_free(struct ama_hashpool *p);

#endif
