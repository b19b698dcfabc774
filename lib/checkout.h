/* checkout.h: placing contents from the cache into the work tree, and removing files, with the index kept in step. */
#ifndef AMA_CHECKOUT_H
#define AMA_CHECKOUT_H

#include <stddef.h>

#include "cache.h"
#include "index.h"
#include "manifest.h"

/*
 * The working folder is the asset's root. Every path is walked one
 * component at a time from there with O_NOFOLLOW: a symbolic link or a
 * file where a folder is expected stops that path ("not a folder"), so
 * nothing is ever written outside the work tree, also not through a link
 * the work tree holds in place of a folder. Folders are made as needed;
 * folders a removal empties are removed.
 *
 * A content is placed from the cache: a reflink where the filesystem
 * allows, else a copy (lib/place.h), into a temporary file beside the
 * target that is then renamed over it; or, with hard_link, a hard link to
 * the cached file (read-only, as the cache's files are). A link object is
 * made a symbolic link (symlink(2) under a temporary name, renamed), its
 * target restored as it was recorded, even when it points outside the
 * work tree (it is the user's data; ama never writes through it), unless
 * no_external_links. The index entry then takes the placed file's stat
 * record, so `ama status` is clean.
 *
 * What is at the path decides (the rules of git's checkout, with ama's
 * index as the record of what ama put there):
 *   - nothing: placed;
 *   - a file whose content is already the object's (by the index entry
 *     when its stat record still holds, else by hashing it): kept, and
 *     its index entry written (a rerun after a kill finds its work done);
 *   - a file the index tracks, unchanged since it was recorded: replaced;
 *   - a file the index does not know, or one modified since it was
 *     recorded: refused (AMA_EMODIFIED, AMA_EEXIST), unless force;
 *   - a folder: refused (AMA_EEXIST), force or not.
 */
struct ama_checkout;

struct ama_checkout_opts {
	struct ama_cache *cache;
	struct ama_index *idx;		/* locked by the caller */
	int force;
	int hard_link;
	/* refuse to make a link whose target is absolute or climbs out */
	int no_external_links;
	enum ama_state state;		/* of the entries written */
};

/* What ama_checkout_place and ama_checkout_remove did. */
enum ama_checkout_done {
	AMA_CHECKOUT_PLACED,		/* the content was written */
	AMA_CHECKOUT_KEPT,		/* it was there already */
	AMA_CHECKOUT_REMOVED,		/* the file was removed */
	AMA_CHECKOUT_GONE,		/* there was no file to remove */
};

/* Begin at the working folder (the asset root). Returns 0 or AMA_EIO. */
int ama_checkout_begin(struct ama_checkout **out,
		       const struct ama_checkout_opts *o);
void ama_checkout_end(struct ama_checkout *co);

/*
 * Put object o at its path (checked: clean, not in .ama/). Returns an
 * enum ama_checkout_done, or an error with the path as subject:
 * AMA_EINVAL (a bad path), AMA_ENOTFOUND (the content is not in the
 * cache), AMA_EMODIFIED ("modified since it was added"), AMA_EEXIST ("not
 * tracked by ama", "a folder is in the way", "... is not a folder"),
 * AMA_EIO.
 */
int ama_checkout_place(struct ama_checkout *co, const struct ama_object *o);

/*
 * Remove the file at path and its index entry: the file must be what the
 * entry recorded (unchanged, or of the entry's content), else
 * AMA_EMODIFIED unless force. A path with no file, or a folder, is
 * AMA_CHECKOUT_GONE (the entry goes; a folder is left as it is). Folders left empty are removed up to the root.
 */
int ama_checkout_remove(struct ama_checkout *co, const char *path,
			size_t len);

#endif
