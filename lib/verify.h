/* verify.h: change detection: is each entry's file unchanged, modified or deleted? */
#ifndef AMA_VERIFY_H
#define AMA_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "md5.h"
#include "stat.h"

/*
 * The rule (DESIGN.md, "Change detection"), for one entry, with the
 * working folder at the asset root:
 *   - lstat the path: gone, or neither a regular file nor a symbolic
 *     link: DELETED;
 *   - a file where a link was recorded or a link where a file was, or a
 *     different size: MODIFIED, without reading the file;
 *   - stat record matching (ama_verify_stat_matches) and the entry not
 *     racy (ama_index_entry_is_racy): OK, without reading the file;
 *   - otherwise the file (a link: its target) is rehashed (ama_md5_file):
 *     the same MD5 is OK
 *     and the entry's stat record is refreshed, another MD5 is MODIFIED;
 *     a failure to hash (unreadable, changed while hashing) is ERROR, a
 *     failure to tell rather than a verdict.
 */
enum ama_verdict {
	AMA_VERDICT_OK,
	AMA_VERDICT_MODIFIED,
	AMA_VERDICT_DELETED,
	AMA_VERDICT_ERROR,
};

/* "ok", "modified", "deleted", "error". */
const char *ama_verdict_name(enum ama_verdict v);

/*
 * Does the file still look as recorded? Compared: size, mtime_ns,
 * ctime_ns, ino. Not compared: nlink and mode, because every change to
 * them (a hard link made or removed, a chmod) also sets ctime, which is
 * compared, so they add nothing; and dev, because it is not stable for
 * one file (NFS, btrfs subvolumes and remounts renumber devices), which
 * would force a rehash of the whole asset for nothing. A file replaced by
 * rename has a new inode number and ctime.
 */
int ama_verify_stat_matches(const struct ama_stat *recorded,
			    const struct ama_stat *now);

struct ama_verify_result {
	struct ama_index_entry *entry;	/* the entry checked */
	size_t seq;			/* its rank in the run: 0, 1, ... */
	enum ama_verdict verdict;
	int rehashed;		/* the file was read */
	int skipped;		/* OK: an AMA_ENTRY_SKIP entry, not looked at */
	/*
	 * OK after a rehash, and the entry's stat record or racy flag was
	 * updated in memory (already, when the callback runs); the run's
	 * refresh list has the change for ama_verify_refresh().
	 */
	int refreshed;
	int racy;		/* rehashed: the file's mtime was not older than
				 * the start of hashing (ama_racy_since) */
	struct ama_stat st;	/* the file now: OK and MODIFIED (the hash-time
				 * record when rehashed) */
	struct ama_md5 md5;	/* rehashed: the file's MD5 */
	int rc;			/* ERROR: the AMA_E* code */
	char *msg;		/* ERROR: the reason */
	char *subject;		/* ERROR: its subject path, or NULL */
};

/*
 * Check one entry on the calling thread (the path is relative to the
 * working folder). Fills out; release it with ama_verify_result_release().
 * Does not update the entry (see ama_verify_run for that).
 */
void ama_verify_entry(const struct ama_index *idx,
		      struct ama_index_entry *e,
		      struct ama_verify_result *out);
void ama_verify_result_release(struct ama_verify_result *r);

/* One entry whose stat record a check refreshed (same MD5). */
struct ama_refresh {
	const char *path;	/* borrowed from the checked index */
	uint32_t path_len;
	struct ama_md5 md5;
	struct ama_stat old_st, new_st;
	uint8_t old_flags, new_flags;	/* AMA_ENTRY_RACY or 0 */
};

struct ama_refresh_list {
	struct ama_refresh *v;
	size_t n, alloc;
};

#define AMA_REFRESH_LIST_INIT { NULL, 0, 0 }

void ama_refresh_list_release(struct ama_refresh_list *l);

/*
 * The callback gets each result on the thread that called ama_verify_run,
 * in the order of the run, with the thread's last error set from the
 * result when it is an ERROR (so ama_report() prints it). It may read the
 * index but not change it, except the fields of r->entry. Returning a
 * negative code stops the run, which returns that code.
 */
typedef int (*ama_verify_fn)(const struct ama_verify_result *r, void *ctx);

struct ama_verify_opts {
	int jobs;		/* threads checking; <= 1: the calling thread */
	const size_t *pos;	/* positions (ama_index_entries) to check in
				 * this order; NULL: every entry */
	size_t npos;
	ama_verify_fn fn;
	void *ctx;
	/* if not NULL, refreshed entries are appended to it */
	struct ama_refresh_list *refresh;
	/*
	 * Never read a file: an entry the rule would rehash is MODIFIED with
	 * rehashed 0, as one of another size is, for a caller that hashes
	 * such files itself (ama add, with its progress line).
	 */
	int stat_only;
};

/*
 * Check entries on o->jobs threads: lstat and rehash are spread over the
 * threads in batches, results come back in order through o->fn. Memory
 * stays bounded: a window of results ahead of the callback. An entry that
 * is OK after a rehash is refreshed in memory: its stat record becomes
 * the hash-time record and its RACY flag says whether that record can be
 * trusted (it is cleared unless the file is racy at hash time). The index
 * must not change during the run except through those refreshes. Returns
 * 0 or the callback's negative code.
 */
int ama_verify_run(struct ama_index *idx, const struct ama_verify_opts *o);

/*
 * Write the refreshes of a run to the index file at index_path, safely:
 * take the lock without waiting, reload, apply each refresh only to an
 * entry whose MD5, stat record and flags are still those that were
 * checked, and write if any applied (an entry that was racy only by the
 * index's timestamp counts: the write makes it older than the index).
 * Returns how many applied (0: nothing written); AMA_ELOCKED if another
 * process holds the lock (nothing done: the refresh is an optimisation,
 * callers skip it); 0 too if the folder is not writable (a read-only
 * asset); AMA_ECORRUPT or AMA_EIO if the reload or the write failed.
 * A caller that holds the index lock itself (ama_index_lock_and_load)
 * does not need this: the run refreshed its entries in memory, and its
 * ama_index_write_and_commit() writes them.
 */
int ama_verify_refresh(const char *index_path,
		       const struct ama_refresh_list *l);

#endif
