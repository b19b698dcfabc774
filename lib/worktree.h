/* worktree.h: bringing the work tree to a version: the engine behind clone, switch, pull and download. */
#ifndef AMA_WORKTREE_H
#define AMA_WORKTREE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "meta.h"
#include "pathspec.h"

/*
 * The working folder is the asset's root; .ama/meta holds the versions
 * (lib/metasync.h brought them). What differs between two versions comes
 * from their trees (ama_meta_diff), so the work is proportional to the
 * difference, not to the asset. The contents to place are fetched into
 * the cache (lib/fetch.h), then the files the new version drops are
 * removed and the others placed (lib/checkout.h), and the index is
 * written once, at the end, with every entry committed.
 *
 * Interrupted anywhere (a kill, a failed download), the same call again
 * finishes the job: a file already holding the content it should is kept
 * and recorded, a file the new version drops and that is gone is fine,
 * and contents already cached are not fetched again.
 */
struct ama_worktree_opts {
	struct ama_meta *meta;
	struct ama_cache *cache;
	const struct ama_config *cfg;	/* the stores: [s3], [transfer] */
	const char *remote_url;
	const char *top_hash;
	int force;			/* discard changes, overwrite */
	int hard_link;
	int no_external_links;		/* refuse links out of the tree */
	int jobs;			/* downloads at once (0: [transfer]) */
	int progress;			/* draw progress lines on stderr */
	/* with a clone: only these paths are placed (NULL: all); the others
	 * are recorded AMA_ENTRY_SKIP, for `ama download`. Without it, a
	 * path whose entry is AMA_ENTRY_SKIP stays so at its new content */
	const struct ama_pathspec *only;
	volatile sig_atomic_t *stop;	/* set by a signal: stop soon */
	/*
	 * Told of each path that stops the job or fails (message as
	 * "reason; fix"), on the calling thread. Must be set.
	 */
	void (*report)(void *ctx, const char *path, const char *msg);
	void *ctx;
};

struct ama_worktree_stats {
	size_t placed, kept, removed, skipped;
	size_t fetched;			/* contents downloaded */
	uint64_t fetched_bytes;
	size_t refused;			/* paths that stopped it (nothing done) */
	size_t failed;			/* paths that could not be done */
};

/*
 * Make the work tree hold version `to`, coming from version `from`
 * (NULL: from nothing, as a clone does; the index should then hold
 * nothing but what an interrupted run left). Unless force, a switch
 * first refuses, changing nothing, while an entry is added and not
 * uploaded, or a tracked file is modified or deleted (a file already
 * holding what `to` has there, or gone where `to` has nothing, is fine:
 * a rerun's case); each is reported with its fix. With force, those
 * changes are discarded (files added and not uploaded stay on disk,
 * dropped from the index). Returns 0 (the work tree holds `to`), 1 (some
 * paths were refused, nothing was changed, or failed, the rest was done;
 * each reported), or an error (setup, the stores, the index, the
 * repository, or AMA_EIO "interrupted").
 */
int ama_worktree_update(const struct ama_worktree_opts *o,
			const struct ama_meta_version *from,
			const struct ama_meta_version *to,
			struct ama_worktree_stats *stats);

/*
 * Place the files of the current version that the work tree lacks: the
 * index's entries that are AMA_ENTRY_SKIP or whose file is gone, those
 * matching ps (NULL: all). Returns as ama_worktree_update.
 */
int ama_worktree_download(const struct ama_worktree_opts *o,
			  const struct ama_pathspec *ps,
			  struct ama_worktree_stats *stats);

/*
 * Make the work tree hold version `at` (the asset's current one) again
 * for the paths ps matches (NULL: all): a modified or deleted tracked
 * file gets the version's content back (fetched when the cache lacks
 * it), a path removed from the index and not uploaded comes back, and an
 * entry added and not uploaded is dropped from the index when the
 * version has no such path (its file stays on disk) or gets the
 * version's content back when it has. Each path changed is told to
 * o->report as "restored" or "no longer added (the file stays)". Returns
 * as ama_worktree_update.
 */
int ama_worktree_discard(const struct ama_worktree_opts *o,
			 const struct ama_meta_version *at,
			 const struct ama_pathspec *ps,
			 struct ama_worktree_stats *stats);

#endif
