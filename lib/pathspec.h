/* pathspec.h: which paths of an asset a command is about, as git's pathspecs say it. */
#ifndef AMA_PATHSPEC_H
#define AMA_PATHSPEC_H

#include <stddef.h>

#include "asset.h"

/*
 * A pathspec names paths of the asset: a file, a folder (everything below
 * it), or a glob (ama_wildmatch: '*', '?', '[...]', '**'), each relative
 * to the working folder as the user typed it and kept root-relative. No
 * pathspec at all matches every path.
 */
struct ama_pathspec {
	char **v;		/* root-relative; globs keep their magic */
	int *glob;
	size_t n;
};

/*
 * Parse n user paths, relative to the working folder inside asset a (a
 * NULL: relative to the asset's root, as for a clone that makes it).
 * Returns 0, or AMA_EINVAL with the path as subject (outside the asset,
 * into .ama). Release with ama_pathspec_release.
 */
int ama_pathspec_parse(struct ama_pathspec *out, const struct ama_asset *a,
		       char *const *paths, size_t n);
void ama_pathspec_release(struct ama_pathspec *ps);

/* Does the root-relative path (len bytes) match? 1 or 0. */
int ama_pathspec_match(const struct ama_pathspec *ps, const char *path,
		       size_t len);

#endif
