/* cache.h: the shared download cache: contents named by MD5, verified before they enter it. */
#ifndef AMA_CACHE_H
#define AMA_CACHE_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "md5.h"

/*
 * One cache per user, shared by every asset and clone:
 * $AMA_CACHE_DIR, else $XDG_CACHE_HOME/ama, else ~/.cache/ama.
 *
 *   contents/<first two hex>/<md5>   a content, read-only (0444), whole
 *                                    and verified: its bytes have its MD5
 *   partial/<md5>-<size>             a fill under way or interrupted:
 *                                    the bytes so far, locked (flock) by
 *                                    the process filling it
 *   partial/<md5>-<size>.<pid>.<n>   a second fill of a content another
 *                                    process is filling at that moment
 *
 * A content enters contents/ only by rename(2) after its size and MD5
 * were checked, so a reader never sees a partial or wrong file under a
 * final name, and several processes may fill the cache at once: two
 * fetching one content download it once (the second waits for none and
 * finds it there) or at worst twice (both at once), never corrupt it.
 * The access time of a content is set when it is used (least recently
 * used first is what ama_cache_prune removes).
 */
struct ama_cache;

/*
 * Open the cache in dir (NULL: the default above), creating its folders.
 * Returns 0, or AMA_ESETUP (no such folder can be made; no HOME).
 */
int ama_cache_open(struct ama_cache **out, const char *dir);
void ama_cache_close(struct ama_cache *c);
/* The cache's folder. */
const char *ama_cache_dir(const struct ama_cache *c);

/* Append the path a content has in the cache to out (there or not). */
void ama_cache_path(const struct ama_cache *c, struct ama_buf *out,
		    const struct ama_md5 *md5);

/*
 * Is the content in the cache, with that size? 1 or 0 (a file there of
 * another size does not count). No error: what cannot be seen is not
 * there.
 */
int ama_cache_has(struct ama_cache *c, const struct ama_md5 *md5,
		  uint64_t size);

/*
 * Open a cached content for reading and mark it used. Returns a
 * descriptor (the caller closes it), or AMA_ENOTFOUND ("not in the
 * cache"; also for another size), or AMA_EIO.
 */
int ama_cache_open_content(struct ama_cache *c, const struct ama_md5 *md5,
			   uint64_t size);

/*
 * Filling the cache with one content, as its bytes arrive in order.
 * begin: *have gets how many bytes an earlier, interrupted fill left
 * (the caller sends the rest, from that offset); they are hashed again
 * here. A content already cached gives AMA_EEXIST (nothing to do).
 * write: the next bytes; more than size in all is AMA_ECORRUPT.
 * commit: the bytes must be size long and have the MD5, else
 * AMA_ECORRUPT ("has MD5 X, not Y" / "is N bytes, not M"; the partial
 * file is removed, so a later fill starts over); then the content is
 * renamed into place. abort: stop, keeping the bytes so far for a later
 * fill to resume (discard: drop them). Both free f.
 */
struct ama_cache_fill;
int ama_cache_fill_begin(struct ama_cache *c, const struct ama_md5 *md5,
			 uint64_t size, struct ama_cache_fill **out,
			 uint64_t *have);
int ama_cache_fill_write(struct ama_cache_fill *f, const void *data,
			 size_t n);
int ama_cache_fill_commit(struct ama_cache_fill *f);
void ama_cache_fill_abort(struct ama_cache_fill *f, int discard);
/* The descriptor of the partial file, for a filler that writes itself. */
int ama_cache_fill_fd(const struct ama_cache_fill *f);

/* What the cache holds: contents and their bytes; partial files apart. */
struct ama_cache_usage {
	uint64_t contents, bytes;
	uint64_t partials, partial_bytes;
};
int ama_cache_usage(struct ama_cache *c, struct ama_cache_usage *out);

/*
 * Remove contents, least recently used first, until the contents take at
 * most max_bytes; and partial files that no process is filling and that
 * were last written more than a day ago. fn (may be NULL) is told of each
 * content removed. Returns the number removed, or AMA_EIO.
 */
typedef void (*ama_cache_removed_fn)(void *ctx, const struct ama_md5 *md5,
				     uint64_t size);
long ama_cache_prune(struct ama_cache *c, uint64_t max_bytes,
		     ama_cache_removed_fn fn, void *ctx);

#endif
