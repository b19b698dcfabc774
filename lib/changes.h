/* changes.h: what differs between two versions, or a version and the work tree, and how it is printed. */
#ifndef AMA_CHANGES_H
#define AMA_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "manifest.h"
#include "meta.h"
#include "pathspec.h"
#include "record.h"

struct ama_change {
	enum ama_diff_kind kind;	/* ADDED, REMOVED, CHANGED */
	struct ama_md5 old_md5, new_md5;
	uint64_t old_size, new_size;
	int new_known;			/* new_md5 is known (0: a modified
					 * file not hashed, its size only) */
	char *path;
	size_t len;
};

struct ama_changes {
	struct ama_change *v;
	size_t n, alloc;
};

void ama_changes_release(struct ama_changes *c);

/*
 * Between versions a and b of an asset in meta (either may be NULL: no
 * files), from their trees (ama_meta_diff: proportional to what differs),
 * only paths matching ps (NULL: all), in path order. Returns 0 or an
 * error of meta.h.
 */
int ama_changes_versions(struct ama_changes *out, struct ama_meta *m,
			 const struct ama_meta_version *a,
			 const struct ama_meta_version *b,
			 const struct ama_pathspec *ps);

/*
 * Between version a (NULL: none) and the work tree as `ama status` sees
 * it (the working folder is the asset's root): each index entry with the
 * file's verdict: unchanged, its entry's content; modified, the content
 * it was rehashed to (or new_known 0); deleted, gone. Entries not in the
 * work tree by choice (AMA_ENTRY_SKIP) count as unchanged. Returns 0 or
 * an error.
 */
int ama_changes_worktree(struct ama_changes *out, struct ama_meta *m,
			 const struct ama_meta_version *a,
			 struct ama_index *idx,
			 const struct ama_pathspec *ps);

enum ama_changes_format {
	AMA_CHANGES_HUMAN,	/* "modified: path (6 B -> 11 B)" */
	AMA_CHANGES_NAME_STATUS,	/* "M TAB path", records */
	AMA_CHANGES_STAT,	/* counts and bytes, one line */
};

/* Write c to w in format f (with w->z, NUL-terminated records). */
void ama_changes_write(struct ama_writer *w, const struct ama_changes *c,
		       enum ama_changes_format f);

#endif
