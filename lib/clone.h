/* clone.h: making a new asset folder that holds a published version: what `ama clone` does. */
#ifndef AMA_CLONE_H
#define AMA_CLONE_H

#include <signal.h>
#include <stdint.h>

#include "pathspec.h"
#include "ref.h"
#include "version.h"
#include "worktree.h"

struct ama_clone_opts {
	struct ama_ref ref;		/* CLASS/SEQ[@VERSION] or CLASS/ALIAS */
	const char *dir;		/* NULL: CLASS-SEQ (or CLASS-ALIAS) */
	char *const *pathspecs;		/* a partial clone: only these */
	size_t npathspecs;
	int jobs, hard_link, progress;
	int no_external_links;		/* refuse links out of the tree */
	volatile sig_atomic_t *stop;
	void (*report)(void *ctx, const char *path, const char *msg);
	void *ctx;
};

struct ama_clone_result {
	char *dir;			/* the folder (caller frees) */
	uint64_t seq;
	struct ama_version version;
	struct ama_worktree_stats stats;
};

/*
 * Clone: find the class's remote bucket as every reader does
 * (lib/remote.h; no server and no write access needed), resolve the
 * reference there, make dir (missing or empty) with its .ama (class,
 * seq, the class's top hash, and the embedded default pinned when nothing
 * is configured), bring every published version of the asset into
 * .ama/meta, and make the work tree hold the version (lib/worktree.h).
 * The working folder is then dir. A dir holding an unfinished clone of
 * the same asset is finished: nothing already cached or placed is done
 * again. A new clone that fails before it placed a file removes the
 * .ama it made, and dir when it made it. Returns 0, 1 (some files could
 * not be placed: reported, left for `ama download`; the clone is at the
 * version all the same), or an error: AMA_ENOTFOUND (no such class,
 * asset, alias or version), AMA_ESETUP (dir is not empty or not a
 * folder, is inside another asset or is another asset, or holds this
 * asset at another version), other setup, store and repository errors.
 */
int ama_clone(const struct ama_clone_opts *o, struct ama_clone_result *out);

#endif
