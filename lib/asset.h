/* asset.h: finding the asset (the folder holding .ama/) and paths relative to it. */
#ifndef AMA_ASSET_H
#define AMA_ASSET_H

#include "buf.h"

struct ama_asset {
	char *root;	/* absolute path of the folder that holds .ama/ */
	char *prefix;	/* the working folder relative to root: "" or "a/b/" */
};

/*
 * Find the asset holding the working folder, looking upward from it for
 * a .ama/ folder, as git looks for .git/. Returns 0, or AMA_ESETUP ("not
 * inside an ama asset") when there is none.
 */
int ama_asset_find(struct ama_asset *out);
/* The same, starting from dir instead of the working folder. */
int ama_asset_find_from(struct ama_asset *out, const char *dir);
void ama_asset_release(struct ama_asset *a);

/*
 * Turn a path given relative to the working folder (or absolute) into one
 * relative to the asset root, normalized: no ".", "..", empty or trailing
 * components. The root itself is "". Returns 0, or AMA_EINVAL with path as
 * subject when it leads outside the asset or into .ama/.
 */
int ama_asset_path(struct ama_buf *out, const struct ama_asset *a,
		   const char *path);
/*
 * The inverse for display: a root-relative path as seen from the working
 * folder ("../x" from a subfolder). Appends to out.
 */
void ama_asset_display(struct ama_buf *out, const struct ama_asset *a,
		       const char *rootrel);
/*
 * Normalize a relative path in place as ama_asset_path() does. Returns 0,
 * or -1 if it climbs above its start or is absolute.
 */
int ama_path_normalize(struct ama_buf *out, const char *path);
/* Is a root-relative path safe: relative, no "." or ".." parts, no "//"? */
int ama_path_is_clean(const char *path);

#endif
