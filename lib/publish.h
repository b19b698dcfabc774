/* publish.h: the publishing logic of the trusted side: classes, assets, verified versions. */
#ifndef AMA_PUBLISH_H
#define AMA_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "buf.h"
#include "manifest.h"
#include "meta.h"
#include "store.h"
#include "version.h"

/*
 * The same code runs behind ama-server's HTTP front and in-process for the
 * embedded default ("server url = local"). It holds what only the trusted
 * side may hold: a store handle that can write the remote bucket, one that
 * can read and delete in staging, and the metadata repository.
 *
 * Layout (DESIGN.md):
 *   remote   classes/<class>.json                 {"name","class_id","top_hash","created"}
 *   remote   <top_hash>/assets/<seq>/asset.json   the claim on an asset number
 *   remote   <top_hash>/contents/<md5>            published content
 *   remote   <top_hash>/assets/<seq>/<version>.manifest
 *   staging  <top_hash>/<md5>                     content being uploaded
 *
 * Every call may run on many threads at once (the server's thread pool).
 * Commits to one asset are serialized inside; commits to different assets
 * run in parallel. Store handles and repository handles are kept in a
 * pool: each call (and each of a commit's worker threads) takes a set of
 * its own, so no handle is used by two threads at once.
 */

struct ama_publish;

struct ama_publish_opts {
	const char *remote_url;		/* the remote bucket (writable here) */
	const char *staging_url;	/* the staging bucket (read, delete) */
	const struct ama_config *cfg;	/* [s3] ..., server-profile, [transfer] */
	const char *repo_path;		/* the metadata repository (created) */
	int jobs;			/* concurrent store requests (0: 8) */
};

/*
 * Open a publisher. The strings are copied; cfg (may be NULL) is not, and
 * must stay valid until ama_publish_close (stores are opened as threads
 * need them, with the role "server": [s3] server-profile). A file://
 * bucket folder is created if missing (an s3:// bucket is not). Returns
 * 0, or AMA_ESETUP (a missing or bad URL, bad configuration, missing
 * credentials), AMA_EIO (the repository cannot be created).
 */
int ama_publish_open(struct ama_publish **out,
		     const struct ama_publish_opts *o);
void ama_publish_close(struct ama_publish *p);
/*
 * Close the handles the publisher keeps for reuse (store connections,
 * repository handles) that nobody has used for idle seconds or more, so
 * that a burst of work does not keep its descriptors: a long-running
 * caller (ama-server) calls this now and then. Returns how many sets of
 * handles it closed.
 */
unsigned ama_publish_trim(struct ama_publish *p, double idle);

/*
 * The class called name: read from remote classes/<name>.json; with
 * create, made if missing (written with If-None-Match: *, so two servers or
 * threads racing to create it agree on one class_id). The top hash is the
 * MD5 of the class_id's text. Classes never change, so each is read once
 * per publisher. Returns 0, AMA_ENOTFOUND ("no such class: NAME", not
 * creating), AMA_EINVAL (a bad class name, ama_manifest_check_class),
 * AMA_ECORRUPT (the JSON in remote is not a class record), or a store
 * error.
 */
int ama_publish_class(struct ama_publish *p, const char *name, int create,
		      struct ama_class_info *out);

/*
 * Every class in remote (the keys classes/<name>.json with a valid name),
 * sorted by name (bytewise). fn returns nonzero to stop (that value
 * returned). Returns 0, AMA_ECORRUPT, or a store error.
 */
typedef int (*ama_publish_class_fn)(const struct ama_class_info *c,
				    void *ctx);
int ama_publish_classes(struct ama_publish *p, ama_publish_class_fn fn,
			void *ctx);

/* A claim: AMA_CLAIM_LEN lower-case hex digits the client makes once. */
#define AMA_CLAIM_LEN 32
/* 1 if claim has that form, else 0. */
int ama_publish_claim_ok(const char *claim);
/* A new random claim into out (AMA_CLAIM_LEN + 1 bytes): 0 or AMA_EIO. */
int ama_publish_claim_new(char *out);

/*
 * A new asset of class: the next free seq (1, 2, ...), claimed with a
 * conditional create of <top_hash>/assets/<seq>/asset.json
 * ({"class","class_id","seq","created"[,"claim"]}). Seqs are claimed in
 * order, so the claimed ones are 1..n: the next free one is found with
 * O(log n) HEADs, and a claim lost to another server moves on to the next
 * seq.
 *
 * claim (NULL: none) makes the request idempotent: the seq it was given is
 * recorded under <top_hash>/assets/by-claim/<claim>, and a repeat returns
 * that seq with *created 0 (1 when this call made the asset; created may
 * be NULL). A client that lost the answer asks again with the same claim.
 * Returns 0, AMA_EINVAL (a malformed claim), AMA_ENOTFOUND (no such
 * class), or a store error.
 */
int ama_publish_asset_create(struct ama_publish *p, const char *class,
			     const char *claim, uint64_t *seq_out,
			     int *created);

/* The assets of a class: seq, and its newest version (has_head 0: none). */
struct ama_asset_info {
	uint64_t seq;
	int has_head;
	struct ama_version head;
};
typedef int (*ama_publish_asset_fn)(const struct ama_asset_info *a,
				    void *ctx);
/*
 * Call fn for each claimed asset of class, by seq; fn returns nonzero to
 * stop (that value returned). Returns 0, AMA_ENOTFOUND (no such class),
 * or a store or repository error.
 */
int ama_publish_assets(struct ama_publish *p, const char *class,
		       ama_publish_asset_fn fn, void *ctx);

struct ama_commit_request {
	const char *class;
	uint64_t seq;
	int has_parent;			/* the client's parent version */
	struct ama_version parent;
	const char *author;		/* the authenticated user */
	const char *message;		/* may be "" */
	const struct ama_objlist *objects;	/* sorted, checked */
	int64_t time;			/* seconds since the epoch; 0: now */
};

struct ama_commit_result {
	struct ama_version version;	/* the version that holds the objects */
	int created;			/* 1: made now; 0: existed already */
	int nothing;			/* 1: equal to the newest version */
	/*
	 * The commit id of that version, as its manifest holds it: computed
	 * from its actual parent, which is the client's parent unless other
	 * commits to the asset came first.
	 */
	char commit_id[AMA_COMMIT_ID_HEXLEN + 1];
	/*
	 * When the commit is refused (AMA_EREMOTE): one line per object
	 * that failed verification, "<reason> TAB path" with the path quoted
	 * as lib/record.c quotes it; reasons: "missing" (neither in remote
	 * nor in staging), "size" (the staged object has another size),
	 * "checksum" (the staged bytes do not have the object's MD5).
	 * Lines end in '\n' and come in path order.
	 */
	struct ama_buf problems;
};

void ama_commit_result_release(struct ama_commit_result *r);

/* How many of the newest versions step 1 below looks at, at most. */
#define AMA_PUBLISH_LOOKBACK 64

/*
 * Publish the objects as the next version of CLASS/SEQ:
 *   1. commit id = ama_manifest_commit_id(parent, objects); if a recent
 *      version of the asset has it, return that version (created 0):
 *      a retried or repeated request makes no second version. Recent
 *      means made after the client's parent, among the newest
 *      AMA_PUBLISH_LOOKBACK; a request that queued behind others was
 *      given a later parent, so a version there with the same objects
 *      is the request's too. The staged objects that version added are
 *      deleted again (a crash may have come between steps 6 and 7);
 *   2. if the objects equal the newest version's, return it (nothing 1);
 *   3. verify every distinct content that the newest version does not
 *      hold (its contents are in remote already): in remote
 *      <top_hash>/contents/<md5> with the right size, or in staging
 *      <top_hash>/<md5> with the right size and a confirmed checksum: a
 *      single-part object whose ETag is its MD5; a multipart object, or
 *      any object of a file:// store, is read and hashed. The client's
 *      word is never taken. Many contents on s3:// are looked up in
 *      remote by listing its prefix rather than by one HEAD each;
 *   4. copy each verified staged content into remote (server-side copy
 *      with x-amz-copy-source-if-match of the verified ETag on S3, and
 *      the new object's ETag checked where S3 gives its MD5; part-copy
 *      above 5 GiB; on file:// a copy whose MD5 is checked before it
 *      appears under its final name), on up to jobs threads;
 *   5. the version number is next(newest) (0.0.0 for the first); write
 *      the manifest to remote <top_hash>/assets/<seq>/<version>.manifest
 *      with If-None-Match: * (an existing one with the same commit id is
 *      a crash being finished: fine, and its author, time and message
 *      are kept; one with other objects on top of the newest version, a
 *      crashed commit's or another server's, is first added to the
 *      repository and the commit starts over on top of it; anything else
 *      is AMA_ECONFLICT);
 *   6. write the version to the metadata repository and move the asset's
 *      ref with compare-and-swap (ama_meta_write);
 *   7. only then delete from staging the contents the newest version did
 *      not hold (copied now, or by an earlier attempt that crashed); a
 *      failure here does not undo the version.
 * The version is made on top of the asset's newest version whatever the
 * client's parent (which only feeds the commit id): concurrent commits
 * to one asset queue up and each makes its own version, a linear history.
 * Returns 0, AMA_EREMOTE (refused: out->problems says why; no version is
 * made and nothing is deleted, though contents verified on the way may
 * already be in remote), AMA_ENOTFOUND (no such class or asset),
 * AMA_EINVAL (bad objects, an empty object list: a version holds at
 * least one object, author or parent), AMA_ECONFLICT, or a store
 * or repository error. out is initialized by the call; release it with
 * ama_commit_result_release whatever the call returned.
 */
int ama_publish_commit(struct ama_publish *p,
		       const struct ama_commit_request *rq,
		       struct ama_commit_result *out);

/*
 * The versions of CLASS/SEQ, newest first (see ama_meta_log). Returns 0
 * (also for a claimed asset with no version yet: fn is not called),
 * AMA_ENOTFOUND (no such class or asset), fn's nonzero value, or a store
 * or repository error.
 */
int ama_publish_versions(struct ama_publish *p, const char *class,
			 uint64_t seq, size_t max, ama_meta_version_fn fn,
			 void *ctx);

/*
 * Append the manifest text of CLASS/SEQ@version to out: ama_manifest_format
 * of the version the repository holds, byte for byte the manifest in
 * remote. Returns 0, AMA_ENOTFOUND (no such version), AMA_EINVAL (a bad
 * class name or seq 0), or a repository error.
 */
int ama_publish_manifest(struct ama_publish *p, const char *class,
			 uint64_t seq, const struct ama_version *version,
			 struct ama_buf *out);

#endif
