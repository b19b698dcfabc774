/* status.h: how an asset's files stand against its index and its current version: added, removed, modified, deleted, untracked. */
#ifndef AMA_STATUS_H
#define AMA_STATUS_H

#include <stddef.h>

#include "config.h"
#include "index.h"
#include "verify.h"

/*
 * The engine behind `ama status`, for every command that must know what
 * the user changed before it acts (status, switch, the git hooks). It
 * runs with the working folder at the asset root and answers, for the
 * paths asked about:
 *
 *   ADDED      an entry not yet published (state pending, staging or
 *              staged) whose file is unchanged: what the next upload sends
 *   REMOVED    a file of the current version that the index no longer has
 *              (ama remove): the next version drops it. The current version
 *              is [asset] class, seq and version of the asset's config, read
 *              from .ama/meta; an asset never uploaded has none
 *   MODIFIED   an entry whose file changed since it was added
 *   DELETED    an entry whose file is gone or no longer a regular file
 *   UNTRACKED  a regular file that no entry names and no .amaignore hides
 *   ERROR      what could not be checked: a file that cannot be read after
 *              a change, a folder that cannot be read, an operand that
 *              names nothing ("no such file"), a .ama/meta that does not
 *              hold the current version; the rest goes on
 * An entry that is published and unchanged gets no item. A file removed
 * from the index that is still on disk is both REMOVED and UNTRACKED.
 *
 * How (DESIGN.md, "Change detection"): the entries are checked by
 * ama_verify_run on o->jobs threads (lstat, and a rehash only when the stat
 * record changed); meanwhile one thread walks the folders for untracked
 * files (ama_walk_untracked) and another reads the current version's trees
 * from .ama/meta (libgit2, trees only, no blob) and merges their paths with
 * the index's. On a large asset the walk and the checks each take about
 * half of the time; reading the version's trees adds about 0.15 to 0.2 s
 * of CPU per 10^6 files (no blob is read).
 *
 * Order: every callback runs on the calling thread. First the entries'
 * items (ADDED, MODIFIED, DELETED, an entry's ERROR) in index order as the
 * checks finish, then REMOVED in path order, then UNTRACKED and the walk's
 * ERRORs in path order, then the other ERRORs (.ama/meta, an operand that
 * names nothing when there is no walk).
 */
enum ama_status_kind {
	AMA_STATUS_ADDED,
	AMA_STATUS_REMOVED,
	AMA_STATUS_MODIFIED,
	AMA_STATUS_DELETED,
	AMA_STATUS_UNTRACKED,
	AMA_STATUS_ERROR,
};
#define AMA_STATUS_NKINDS 6

/* "added", "removed", "modified", "deleted", "untracked", "error". */
const char *ama_status_kind_name(enum ama_status_kind k);

struct ama_status_item {
	enum ama_status_kind kind;
	const char *path;	/* root-relative, NUL-terminated, valid during
				 * the call only */
	size_t len;
	/*
	 * ADDED, MODIFIED, DELETED and an entry's ERROR: the entry and its
	 * check (the file's stat record now, its MD5 when it was rehashed);
	 * NULL for the other items. The entry's fields other than its path
	 * may be changed by the callback.
	 */
	struct ama_index_entry *entry;
	const struct ama_verify_result *check;
	int code;		/* ERROR: the AMA_E* code */
	const char *reason;	/* ERROR: why (the thread's last error is set
				 * too, with path as its subject) */
};

/*
 * Called for each item; return 0 to go on, or a negative AMA_E* code to
 * stop: ama_status_run then returns that code (the threads are joined
 * first; no refresh is written).
 */
typedef int (*ama_status_fn)(const struct ama_status_item *it, void *ctx);

/* ama_status_opts.flags: what to look at besides the entries */
#define AMA_STATUS_FIND_UNTRACKED 0x1u	/* walk for untracked files */
#define AMA_STATUS_FIND_REMOVED	0x2u	/* compare with the current version */
#define AMA_STATUS_WRITE_REFRESH 0x4u	/* write the stat records that a
					 * rehash confirmed back to the index
					 * file (ama_verify_refresh: without
					 * waiting for the lock, skipped when
					 * it is held or the asset read-only) */
#define AMA_STATUS_ALL		0x7u

struct ama_status_opts {
	/*
	 * What to look at: files and folders, root-relative and clean as
	 * ama_asset_path() makes them ("" is the whole asset); NULL and 0:
	 * the whole asset. An operand that names no entry, no file on disk
	 * and no file of the current version is an ERROR "no such file".
	 */
	const char *const *paths;
	size_t npaths;
	int jobs;		/* checking threads; <= 1: one */
	unsigned flags;		/* AMA_STATUS_* */
	/*
	 * The asset's config (ama_config_load of .ama/config): its [asset]
	 * class, seq and version name the current version. NULL, or no seq
	 * or no version: never uploaded, nothing is REMOVED.
	 */
	const struct ama_config *cfg;
	ama_status_fn fn;
	void *ctx;
};

/* What a run found, besides its items. */
struct ama_status_summary {
	size_t count[AMA_STATUS_NKINDS];	/* items of each kind */
	size_t refreshed;	/* entries whose refreshed stat record was
				 * written to the index file */
	/*
	 * 0, or why the refresh could not be written (AMA_ECORRUPT or
	 * AMA_EIO; the thread's last error holds the reason when
	 * ama_status_run returns): the answer stands, the index file is as
	 * it was. A lock held by another process or a read-only asset is
	 * not a failure: the refresh is an optimisation.
	 */
	int refresh_rc;
};

/*
 * Run the engine over idx (loaded by the caller from .ama/index; not
 * locked, or locked by the caller, who then writes the refreshed entries
 * itself and should not ask for AMA_STATUS_WRITE_REFRESH). out may be NULL.
 * Returns 0 when every item was delivered (ERROR items included: they are
 * answers about one path), or a negative code: the callback's, or a walk
 * that could not run at all (AMA_EINVAL for a path that is not clean).
 */
int ama_status_run(struct ama_status_summary *out, struct ama_index *idx,
		   const struct ama_status_opts *o);

#endif
