/* stage.h: uploads to the staging bucket, one per content however many paths share it. */
#ifndef AMA_STAGE_H
#define AMA_STAGE_H

#include <stdint.h>

#include "index.h"
#include "md5.h"
#include "store.h"

/*
 * Each path added names a file that should hold a content (MD5 and size).
 * The first path of a content is uploaded to <prefix><md5> with its
 * Content-MD5, so the store checks the bytes; the paths added meanwhile
 * with the same content wait for that upload and share its outcome, and
 * a path added after it succeeded is answered at once. When the bytes
 * read from a path turn out not to be the content (the store refused
 * them, the size changed, the file is gone or unreadable), that path
 * alone fails and the next waiting path is sent instead.
 */

/* Is a file still what the index says it holds? */
enum ama_stage_verdict {
	AMA_STAGE_SEND,		/* as added: send it */
	AMA_STAGE_NOT_IN_INDEX,
	AMA_STAGE_OTHER_MD5,	/* the index has another MD5 for the path */
	AMA_STAGE_OTHER_SIZE,	/* ... or another size */
	AMA_STAGE_DELETED,	/* gone, or no longer a regular file */
	AMA_STAGE_MODIFIED,	/* its stat record is not the one recorded */
};

/*
 * The check before a file is sent as content md5 of size bytes: the
 * index entry of rootrel (len bytes; the working folder is the asset
 * root) must exist with that MD5 and size, and the file must still match
 * its stat record (ama_verify_stat_matches). A racy entry passes: the
 * store checks the bytes against the MD5 anyway. Returns the verdict, or
 * AMA_EIO if the file could not be examined (error set, rootrel its
 * subject).
 */
int ama_stage_check(struct ama_index *idx, const char *rootrel, size_t len,
		    const struct ama_md5 *md5, uint64_t size);
/*
 * A verdict for messages: "not in the index", "index has another MD5 for
 * it", "index has another size for it", "deleted since added", "modified
 * since added"; and the ama command that mends it, "add" or "remove"
 * (NULL for AMA_STAGE_SEND).
 */
const char *ama_stage_verdict_reason(enum ama_stage_verdict v);
const char *ama_stage_verdict_fix(enum ama_stage_verdict v);

struct ama_stage_result {
	const char *path;	/* as added */
	void *udata;		/* as added */
	const struct ama_md5 *md5;
	uint64_t size;
	/*
	 * 0: the content is in staging under its key and the store confirmed
	 * its MD5. The path's own failure: AMA_EDIGEST (the bytes are not
	 * the MD5), AMA_ECHANGED (another size, or changed while read),
	 * AMA_ENOTFOUND or AMA_ENOTREG (no regular file there), AMA_EIO (it
	 * could not be read). The content's: AMA_ENET, AMA_EREMOTE,
	 * AMA_EINVAL (another path has this MD5 with another size).
	 */
	int rc;
	const char *error;	/* rc < 0: the reason */
};

/* Called for each path added, once, on the calling thread. */
typedef void (*ama_stage_done_fn)(void *ctx,
				  const struct ama_stage_result *r);
/* Bytes sent, each counted once, as they go. */
typedef void (*ama_stage_progress_fn)(void *ctx, uint64_t bytes);

struct ama_stage;

/*
 * Start uploading to s under prefix ("<top_hash>/"), up to the store's
 * [transfer] jobs at once. progress may be NULL. Free with
 * ama_stage_free().
 */
struct ama_stage *ama_stage_new(struct ama_store *s, const char *prefix,
				ama_stage_done_fn done,
				ama_stage_progress_fn progress, void *ctx);

/*
 * Add a path (copied) holding md5 and size. done() may run for it, and
 * for others that finish meanwhile, before this returns. Returns 0, or
 * the exit-2 error (AMA_ESETUP, AMA_EAUTH: credentials, missing bucket;
 * its reason set) that stopped the uploads, or AMA_EIO if the store was
 * cancelled: nothing more is sent, and paths still waiting are not
 * reported.
 */
int ama_stage_add(struct ama_stage *st, const struct ama_md5 *md5,
		  uint64_t size, const char *path, void *udata);

/* Run every upload to its end. Returns as ama_stage_add. */
int ama_stage_finish(struct ama_stage *st);

/* Uploads begun so far: one per content, and one more each time a
 * content is sent again from another path. */
uint64_t ama_stage_uploads(const struct ama_stage *st);

/*
 * Free st, after ama_stage_finish() or after an error (what was still
 * under way is then dropped, multipart uploads aborted, nothing reported).
 */
void ama_stage_free(struct ama_stage *st);

#endif
