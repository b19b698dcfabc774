/* index.h: the binary index of an asset (.ama/index): entries, loading, locking, writing. */
#ifndef AMA_INDEX_H
#define AMA_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "asset.h"
#include "manifest.h"
#include "md5.h"
#include "stat.h"

/*
 * The file, version 1. All integers little-endian, read with memcpy.
 *
 *   header (24 bytes)
 *     0  "AMAI"          magic
 *     4  u32 version     1
 *     8  u32 count       number of entries
 *    12  u32 flags       0 (no header flags are defined)
 *    16  u64 pathbytes   sum of the entries' path lengths
 *   entries, sorted by path in memcmp order (a prefix sorts first), no two
 *   alike, each:
 *     0  md5[16]
 *    16  u64 size, i64 mtime_ns, i64 ctime_ns, u64 ino, u64 dev
 *    56  u32 nlink, u32 mode
 *    64  u8 state        enum ama_state
 *    65  u8 flags        AMA_ENTRY_RACY, AMA_ENTRY_SKIP; others must be 0
 *    66  varint shared   bytes taken from the start of the previous path
 *        varint suffix   length of the bytes that follow
 *        suffix bytes    the rest of the path (no NUL)
 *   trailer: SHA-256 of everything before it (32 bytes)
 *
 * varint: unsigned LEB128 (7 bits a byte, low first, high bit = more).
 * Paths are root-relative and clean (ama_path_is_clean) and never inside
 * .ama/. The prefix compression is git's index v4 idea: at 10^6 entries
 * in a few folders it saves most of each path.
 */

enum ama_state {
	AMA_STATE_PENDING = 0,	/* added, not uploaded */
	AMA_STATE_STAGING = 1,	/* being uploaded to staging */
	AMA_STATE_STAGED = 2,	/* in staging, checksum confirmed */
	AMA_STATE_COMMITTED = 3,	/* part of a published version */
};
#define AMA_STATE_COUNT 4

/* "pending", "staging", "staged", "committed". */
const char *ama_state_name(enum ama_state s);
/* Parse a state name. Returns 0, or AMA_EINVAL ("unknown state 'x'"). */
int ama_state_parse(enum ama_state *out, const char *name);

/*
 * Entry flags kept in the file. RACY ("smudged"): the stat record cannot
 * be trusted, so the file is rehashed the next time it is checked (set for
 * entries whose file may have changed within the timestamp tick in which
 * it was hashed).
 */
#define AMA_ENTRY_RACY		0x01u
/*
 * SKIP: the file is not in the work tree by choice (a partial clone, `ama
 * clone ... -- PATHSPEC`): its entry stays, committed, so that the next
 * version keeps it, but it is not checked; `ama download` places it.
 */
#define AMA_ENTRY_SKIP		0x02u
#define AMA_ENTRY_FILE_FLAGS	0x03u	/* the bits the file may hold */

struct ama_index_entry {
	struct ama_md5 md5;
	struct ama_stat st;
	const char *path;	/* root-relative, NUL-terminated; the index's */
	uint32_t path_len;
	uint8_t state;		/* enum ama_state */
	uint8_t flags;		/* AMA_ENTRY_* (and private in-memory bits) */
};

struct ama_index;

/*
 * The object an entry records: its path, MD5 and size, and its kind (a
 * symbolic link when the recorded mode is one). out->path points into e.
 */
void ama_index_entry_object(const struct ama_index_entry *e,
			    struct ama_object *out);

/*
 * Load the index at path for reading, with one mmap of the file; the file
 * is checked whole (magic, version, checksum, count, order, path sanity)
 * before it is used. A missing file is an empty index. The index file's
 * mtime is remembered for the racy rule (ama_index_entry_is_racy). Returns
 * 0, AMA_ECORRUPT ("index is corrupt: <why>", subject path) for a damaged
 * or truncated file, or AMA_EIO. *out is freed with ama_index_free().
 */
int ama_index_load(struct ama_index **out, const char *path);

/*
 * The writer's start: take path.lock (ama_lock_acquire: no waiting), then
 * load. Returns 0, AMA_ELOCKED (another writer, or a stale lock; the
 * message says which and how to clear a stale one), AMA_ECORRUPT or
 * AMA_EIO; on failure nothing is held. Finish with
 * ama_index_write_and_commit() or ama_index_rollback().
 */
int ama_index_lock_and_load(struct ama_index **out, const char *path);

/*
 * Write the index into the lock file and commit it (fsync, rename over the
 * index, fsync of the folder); the lock is released. The index stays
 * usable, unlocked. Returns 0 or AMA_EIO (the lock is released, the old
 * index untouched). The index must be locked.
 */
int ama_index_write_and_commit(struct ama_index *idx);
/* Release the lock without writing (nothing changes). Safe when unlocked. */
void ama_index_rollback(struct ama_index *idx);
/* Free the index; a lock still held is rolled back. NULL is fine. */
void ama_index_free(struct ama_index *idx);

/* The index file's path, and its mtime (ns) at load (INT64_MAX if none). */
const char *ama_index_path(const struct ama_index *idx);
int64_t ama_index_mtime_ns(const struct ama_index *idx);
/* Is the index locked by this process? */
int ama_index_is_locked(const struct ama_index *idx);

/*
 * The entries in path order. Pending additions and removals are merged
 * first (a sort of the additions, then one linear merge), so calling this
 * once after N changes costs O(N log N). The array and entries are valid
 * until the next add, remove or entries call; fields other than path and
 * path_len may be changed in place.
 */
struct ama_index_entry *ama_index_entries(struct ama_index *idx, size_t *n);
/* The number of entries (merges as ama_index_entries does). */
size_t ama_index_count(struct ama_index *idx);

/*
 * The entry for path (len bytes), or NULL. O(log N) plus a hash probe of
 * the additions not yet merged; it does not merge. The pointer is valid
 * until the next add, remove or entries call.
 */
struct ama_index_entry *ama_index_find(struct ama_index *idx,
				       const char *path, size_t len);

/*
 * Add e, or replace every field of the entry with e->path. The path is
 * copied (e->path_len bytes; it must be clean: the caller checks). Returns
 * the stored entry, valid as ama_index_find's. No merge happens here, so
 * N additions cost O(N) until the next ama_index_entries or write.
 */
struct ama_index_entry *ama_index_add(struct ama_index *idx,
				      const struct ama_index_entry *e);

/* Remove the entry for path. Returns 0, or AMA_ENOTFOUND ("not in the
 * index", subject path). */
int ama_index_remove(struct ama_index *idx, const char *path, size_t len);

/* The position of the first entry not less than path (merges first). */
size_t ama_index_lower_bound(struct ama_index *idx, const char *path,
			     size_t len);

/*
 * Select the entries at rootrel or below it (rootrel a file or a folder,
 * root-relative and clean; "" selects all): sel[i] is set to 1 for each
 * (sel holds ama_index_count() bytes). Returns how many matched (0: none,
 * not an error here).
 */
size_t ama_index_select(struct ama_index *idx, const char *rootrel,
			size_t len, unsigned char *sel);

/*
 * The same for a path as a user gives it (relative to the working folder,
 * or absolute; resolved with ama_asset_path()). Returns 0 if some entry
 * matched, AMA_EINVAL if the path leads outside the asset or into .ama,
 * or AMA_ENOTFOUND ("not in the index", subject path) if none matched.
 */
int ama_index_select_path(struct ama_index *idx, const struct ama_asset *a,
			  const char *path, unsigned char *sel);

/*
 * The racy rules. An entry is racy when it is flagged AMA_ENTRY_RACY or
 * when its mtime is not older than the index file's (git's racy-git rule:
 * the file may have changed in the same timestamp tick after it was
 * recorded). A racy entry is rehashed whatever its stat record says.
 */
int ama_index_entry_is_racy(const struct ama_index *idx,
			    const struct ama_index_entry *e);
/*
 * The clock file timestamps come from (CLOCK_REALTIME_COARSE), in ns. Read
 * it before hashing a file; it never runs ahead of file timestamps.
 */
int64_t ama_clock_coarse_ns(void);
/*
 * For writers: must a record whose file was hashed starting at start_ns
 * (ama_clock_coarse_ns() read before hashing began) be stored flagged
 * AMA_ENTRY_RACY? Yes when its mtime is not older than start_ns: a change
 * within the same tick after hashing would leave the stat record as it is.
 */
int ama_racy_since(const struct ama_stat *st, int64_t start_ns);

#endif
