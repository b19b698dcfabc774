/* walk.h: the regular files under paths of an asset, in index order, honouring .amaignore. */
#ifndef AMA_WALK_H
#define AMA_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "stat.h"

/*
 * A walk runs with the working folder at the asset root and takes paths
 * relative to it, clean as ama_asset_path() makes them ("" is the root).
 *
 * Order: every entry comes in the bytewise (memcmp) order of its full path,
 * the order of the index, across all the starting paths: a folder's
 * entries are sorted comparing a folder's name as if it ended with '/', so
 * "a.txt" (0x2e) comes before "a/b" (0x2f) and "a0" after it. A caller can
 * merge the walk with the sorted index in one pass (see
 * ama_walk_untracked()).
 *
 * What is yielded:
 *   - regular files, as AMA_WALK_FILE; with AMA_WALK_LINKS, symbolic links
 *     too (mode S_IFLNK), never followed;
 *   - symbolic links otherwise (never followed, also when they point at
 *     a folder) and FIFOs, sockets and devices, as AMA_WALK_SKIPPED:
 *     "symbolic link not followed", "not a regular file: FIFO";
 *   - a folder holding its own .ama (another asset inside this one), as
 *     AMA_WALK_SKIPPED "another ama asset", not entered;
 *   - a folder that cannot be read, or a .amaignore that cannot be read
 *     (then its folder is not walked: what it excludes must not slip in),
 *     as AMA_WALK_ERROR; the walk goes on with the rest;
 *   - with AMA_WALK_DIRS, each folder before it is entered (AMA_WALK_DIR).
 * The .ama folder at the root is always skipped, silently. Empty folders
 * yield nothing.
 *
 * .amaignore: the file x/.amaignore holds gitignore patterns (ignore.h) for
 * the paths below x/; those of every folder from the root down apply, a
 * deeper file overriding a shallower one. An ignored file is not yielded
 * and an ignored folder is not entered (nothing below it can be included
 * again). Walking from "a/b", the .amaignore files of "" and "a" are read
 * too.
 *
 * Paths given explicitly are taken even when ignored, as `git add -f`
 * does: a named file is yielded, a named folder is walked (the patterns
 * still apply to what is inside it), also when it lies inside an ignored
 * folder or inside another named folder. .amaignore applies to what the
 * walk finds by recursion. A named path that is missing is an
 * AMA_WALK_ERROR (AMA_ENOTFOUND, "no such file"); one reached through a
 * symbolic link to a folder is skipped ("beyond a symbolic link"); a path
 * named twice, or inside another named folder, is yielded once.
 *
 * Cost: one opendir/readdir per folder; file types come from d_type, and
 * lstat(2) is called only where the file system does not give them, or
 * for each regular file with AMA_WALK_STAT. No allocation per file: names
 * live in per-depth buffers reused from folder to folder.
 */

enum ama_walk_event {
	AMA_WALK_FILE,		/* a regular file */
	AMA_WALK_DIR,		/* a folder to enter (with AMA_WALK_DIRS) */
	AMA_WALK_SKIPPED,	/* not walked; reason says why */
	AMA_WALK_ERROR,		/* could not be read; the error is set */
};

struct ama_walk_entry {
	enum ama_walk_event event;
	const char *path;	/* root-relative, NUL-terminated; valid in the
				   callback only */
	size_t len;
	int explicit_path;	/* one of the paths the caller named */
	uint32_t mode;		/* file type bits (S_IFREG, S_IFLNK, ...), 0 if
				   unknown; with st, all of st_mode */
	const struct ama_stat *st;	/* FILE with AMA_WALK_STAT, else NULL */
	const char *reason;	/* SKIPPED: why; ERROR: ama_error_msg() */
	int code;		/* ERROR: the AMA_E* code */
};

/* Flags of a walk. */
#define AMA_WALK_STAT	0x1u	/* lstat each regular file: entry.st */
#define AMA_WALK_DIRS	0x2u	/* report folders before entering them */
/*
 * Yield symbolic links as AMA_WALK_FILE entries of mode S_IFLNK (never
 * followed), instead of skipping them: what ama add records.
 */
#define AMA_WALK_LINKS	0x4u

/*
 * Called for each entry, in order. Return 0 to go on, AMA_WALK_PRUNE (for
 * an AMA_WALK_DIR) not to enter that folder, or a negative AMA_E* code to
 * stop the walk, which then returns that code.
 */
typedef int (*ama_walk_fn)(const struct ama_walk_entry *e, void *ctx);
#define AMA_WALK_PRUNE 1

/*
 * Walk the n root-relative paths (files or folders, in any order; "" is the
 * whole asset). Returns the number of AMA_WALK_ERROR entries reported (0
 * when everything could be read), a negative code from fn, or AMA_EINVAL
 * (nothing walked) if a path is not clean (see ama_path_is_clean()) or
 * lies in the root's .ama.
 */
int ama_walk(const char *const *paths, size_t n, unsigned flags,
	     ama_walk_fn fn, void *ctx);

/*
 * The same walk, minus the regular files that are tracked: tracked holds
 * ntracked root-relative paths sorted bytewise (strcmp order, as the index
 * keeps them; duplicates allowed). Both sides being sorted, this is a merge:
 * one comparison per file, no lookup, no stat. SKIPPED, ERROR and DIR
 * entries are passed on as they are. Returns as ama_walk() does, or
 * AMA_EINVAL if tracked is not sorted.
 */
int ama_walk_untracked(const char *const *paths, size_t n, unsigned flags,
		       const char *const *tracked, size_t ntracked,
		       ama_walk_fn fn, void *ctx);

#endif
