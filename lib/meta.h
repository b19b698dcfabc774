/* meta.h: the metadata repositories: each version a git commit in its own pack. */
#ifndef AMA_META_H
#define AMA_META_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "version.h"

/*
 * A metadata repository is a bare git repository. The server keeps one for
 * all classes; a client keeps one per asset in .ama/meta. Each asset
 * CLASS/SEQ has one ref, refs/ama/CLASS/SEQ, pointing at its newest
 * version. A version is a commit:
 *
 *   tree       the asset's folders as trees; each file a blob holding
 *              "<md5> <size>\n" (identical files share a blob, unchanged
 *              folders share the parent's tree)
 *   author     the manifest's author, email "<author>@ama" with every byte
 *              outside [A-Za-z0-9._-] turned into '_'; committer the same;
 *              time the manifest's time, UTC
 *   message    the manifest's message, an empty line, then the trailers
 *                  Ama-Version: 0.0.1
 *                  Ama-Parent: 0.0.0          (not for 0.0.0)
 *                  Ama-Class: imaging
 *                  Ama-Asset: imaging/3
 *                  Ama-Commit-Id: <64 hex>    (ama_manifest_commit_id)
 *              so "git --git-dir=REPO log --all" shows the versions
 *   parent     the commit of the parent version
 *
 * The manifest's message is everything before the last "\n\n" of the
 * commit message, so any message comes back unchanged.
 *
 * Writing never makes loose objects: a version's objects go into an
 * in-memory object database (libgit2's mempack), then into one pack file
 * (with its index, fsynced), and only then does the ref move, by
 * compare-and-swap. A one-file change in a 100,000-file asset writes a
 * handful of objects: the blob, the trees on its path, the commit.
 *
 * Threads: a struct ama_meta is not thread-safe; use each handle from one
 * thread at a time. Open one handle per thread (opening is cheap) or guard
 * a shared one with a mutex. Any number of handles, in any threads or
 * processes, may read and write the same repository at once: each version
 * is its own pack, and each ref moves by compare-and-swap, so two writers
 * of one asset never both win (the loser gets AMA_ECONFLICT and its commit
 * is left unreferenced). Serializing writers of one asset (as the server
 * does) only spares the loser its work. libgit2's global state is set up
 * by ama_meta_open and torn down by the last ama_meta_close; ama_meta_open
 * also turns on libgit2's fsync of packs and refs for the whole process,
 * so that a ref never points into a pack that a crash could lose.
 */
struct ama_meta;

/* ama_meta_open flags */
#define AMA_META_CREATE 0x1u	/* create the repository if it is missing */

/* The length of a git object id in hex. */
#define AMA_META_OIDLEN 40

/*
 * Open the repository at path, creating it (a bare repository, with any
 * missing parent folders) with AMA_META_CREATE. Returns 0 and a handle the
 * caller closes, or AMA_ENOTFOUND (no repository there, not creating) or
 * AMA_EIO, with path as subject.
 */
int ama_meta_open(struct ama_meta **out, const char *path, unsigned flags);
void ama_meta_close(struct ama_meta *m);

/*
 * At most n pack files open at once in this process, across every handle
 * (libgit2's mwindow file limit): the least recently used is closed
 * first, and opened again when needed. Each version is a pack of its
 * own, so without a limit every version ever read keeps a descriptor
 * open. ama_meta_open sets AMA_META_OPEN_PACKS unless this was called
 * first; the setting takes effect at the next ama_meta_open. n is at
 * least 1.
 */
#define AMA_META_OPEN_PACKS 32
void ama_meta_set_open_packs(size_t n);

/* One version as the repository holds it. */
struct ama_meta_version {
	struct ama_version version;
	int has_parent;
	struct ama_version parent;
	char *class;
	uint64_t seq;
	char *author;
	int64_t time;			/* seconds since the epoch */
	char *message;			/* "" when empty */
	char commit_id[AMA_COMMIT_ID_HEXLEN + 1];
	char oid[AMA_META_OIDLEN + 1];	/* the git commit */
};

/* Free the strings of v (zero-filled v is fine too). */
void ama_meta_version_release(struct ama_meta_version *v);

/*
 * Write m as the next version of its asset (m->class and m->seq must be
 * set; m must pass ama_manifest_check): build its tree from the parent's,
 * rebuilding only the folders on the paths that changed, write the commit
 * into a new pack, and move the asset's ref from the parent's commit to
 * the new one.
 *
 * parent_objects, if not NULL, must be the parent version's objects (from
 * its manifest or ama_meta_read_objects); it saves reading them from the
 * repository, and is checked against the parent's commit id. Give NULL
 * for the first version, or to have them read.
 *
 * out, if not NULL, gets the new version (the caller releases it).
 * Returns 0, or
 *   AMA_EINVAL     m is not valid, or a path holds a name git refuses in
 *                  a tree (a variant of ".git" such as "git~1"), or
 *                  parent_objects are not the parent's
 *   AMA_ECONFLICT  the asset's newest version is not m's parent (or the
 *                  asset has versions and m has no parent), or another
 *                  writer moved the ref first; the ref is left as it was
 *   AMA_ECORRUPT   the parent commit is not a version ama wrote
 *   AMA_EIO        libgit2 failed
 */
int ama_meta_write(struct ama_meta *meta, struct ama_meta_version *out,
		   const struct ama_manifest *m,
		   const struct ama_objlist *parent_objects);

/*
 * The newest version of CLASS/SEQ into out (the caller releases it).
 * Returns 0, AMA_ENOTFOUND if the asset has no version here, AMA_EINVAL
 * for a bad class name or seq 0, AMA_ECORRUPT if the ref does not point at
 * an ama version, or AMA_EIO.
 */
int ama_meta_head(struct ama_meta *meta, struct ama_meta_version *out,
		  const char *class, uint64_t seq);

/*
 * Call fn for the versions of CLASS/SEQ, newest first, at most max of
 * them (0: all). v is valid during the call only. fn returns 0 to go on,
 * anything else to stop, and that value is returned. Returns 0,
 * AMA_ENOTFOUND if the asset has no version, or the errors of
 * ama_meta_head.
 */
typedef int (*ama_meta_version_fn)(const struct ama_meta_version *v,
				   void *ctx);
int ama_meta_log(struct ama_meta *meta, const char *class, uint64_t seq,
		 size_t max, ama_meta_version_fn fn, void *ctx);

/*
 * Find version `version` of CLASS/SEQ (walking back from the newest).
 * Returns 0 and the version in out, AMA_ENOTFOUND if there is no such
 * version, or the errors of ama_meta_head.
 */
int ama_meta_find_version(struct ama_meta *meta, struct ama_meta_version *out,
			  const char *class, uint64_t seq,
			  const struct ama_version *version);

/*
 * Find the version of CLASS/SEQ whose commit id is commit_id, among the
 * newest depth versions (0: all): how the server sees that a commit
 * request was already carried out. Returns 0 and the version in out,
 * AMA_ENOTFOUND, or the errors of ama_meta_head.
 */
int ama_meta_find_commit_id(struct ama_meta *meta,
			    struct ama_meta_version *out, const char *class,
			    uint64_t seq, const char *commit_id, size_t depth);

/*
 * The difference of two versions of an asset (either may be NULL: no
 * files), from their trees: folders whose trees are the same object are
 * not entered, so the work is proportional to what differs, not to the
 * asset. fn is called for each path that differs, in path order, with
 * old (NULL: added) and new (NULL: removed); both set: changed. The
 * objects and their paths are valid during the call only. fn returns 0
 * to go on, anything else to stop (returned). Returns 0, fn's value,
 * AMA_ECORRUPT or AMA_EIO. Nothing is checked against the commit ids
 * (ama_meta_read_objects does that).
 */
typedef int (*ama_meta_diff_fn)(void *ctx, const struct ama_object *old,
				const struct ama_object *new);
int ama_meta_diff(struct ama_meta *m, const struct ama_meta_version *a,
		  const struct ama_meta_version *b, ama_meta_diff_fn fn,
		  void *ctx);

/*
 * Read the objects of version v (found by one of the calls above) into
 * out, which must be empty, sorted by path. The list is checked as
 * ama_objlist_check does and against v's commit id, so what comes back is
 * byte for byte what was written. Returns 0, AMA_ECORRUPT (a blob that is
 * not "<md5> <size>\n", an entry that is neither file nor folder, or a
 * list that does not match the commit id; out is then empty), or AMA_EIO.
 */
int ama_meta_read_objects(struct ama_meta *meta, struct ama_objlist *out,
			  const struct ama_meta_version *v);

/*
 * The manifest of version v: its header from v, its objects read as
 * ama_meta_read_objects does. out is initialized by the call and released
 * by the caller; the errors are those of ama_meta_read_objects.
 */
int ama_meta_read_manifest(struct ama_meta *meta, struct ama_manifest *out,
			   const struct ama_meta_version *v);

/*
 * Point the repository's HEAD at version v (detached), for a client's
 * .ama/meta: the version its work tree is at, so that plain
 * "git --git-dir=.ama/meta log" shows its history. The server leaves HEAD
 * alone. Returns 0 or AMA_EIO.
 */
int ama_meta_set_head(struct ama_meta *meta, const struct ama_meta_version *v);

/*
 * Call fn for each asset with a ref here, sorted by class (bytewise) then
 * seq, only those of class unless it is NULL. fn returns 0 to go on,
 * anything else to stop (and that value is returned). Refs under refs/ama/
 * with names ama would not make are skipped. Returns 0, AMA_EINVAL for a
 * bad class name, or AMA_EIO.
 */
typedef int (*ama_meta_asset_fn)(const char *class, uint64_t seq, void *ctx);
int ama_meta_assets(struct ama_meta *meta, const char *class,
		    ama_meta_asset_fn fn, void *ctx);

#endif
