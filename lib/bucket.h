/* bucket.h: a read-only view of the published (remote) bucket: classes, assets, versions, manifests. */
#ifndef AMA_BUCKET_H
#define AMA_BUCKET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "manifest.h"
#include "store.h"
#include "version.h"

/*
 * What anyone with read access to remote can learn from it alone, with no
 * server (DESIGN.md, "Reading a version back"): the class records, which
 * asset numbers are claimed, the versions of an asset and their
 * manifests. The trusted side (lib/publish.c) reads through these too.
 * Everything read here is hostile input: records are checked, listing
 * keys that are not ama's are passed over, manifests are parsed as
 * lib/manifest.h says and must be the version their key names.
 *
 * The functions take a store handle (used by one thread at a time, as
 * every store handle) and report store errors with the key's URL as the
 * error's subject.
 */

struct ama_class_info {
	char name[65];
	char class_id[37];	/* a random UUID, lowercase */
	char top_hash[33];	/* 32 lowercase hex: the namespace in both buckets */
	int64_t created;	/* seconds since the epoch */
};

/* The largest class or asset record, and the largest manifest, read. */
#define AMA_BUCKET_MAX_JSON (64u * 1024)
#define AMA_BUCKET_MAX_MANIFEST (1ULL << 32)

/*
 * The whole object at key into out (reset first, NUL-terminated), at
 * most max bytes (longer: AMA_ECORRUPT). Returns 0, AMA_ENOTFOUND, or a
 * store error, the key not named (the caller knows what it asked for).
 */
int ama_bucket_get_text(struct ama_store *s, const char *key,
			struct ama_buf *out, uint64_t max);

/*
 * Make the thread's last error name key's URL as its subject, keeping the
 * reason. Returns rc.
 */
int ama_bucket_fail(int rc, struct ama_store *s, const char *key);

/*
 * Parse a class record ({"name","class_id","top_hash","created"}) of the
 * class called name; where names it in the error. Returns 0 or
 * AMA_ECORRUPT.
 */
int ama_bucket_class_parse(struct ama_class_info *out, const char *name,
			   const char *text, size_t len, const char *where);

/*
 * The class called name (read from classes/<name>.json). Returns 0,
 * AMA_EINVAL (a bad class name), AMA_ENOTFOUND ("no such class: NAME"),
 * AMA_ECORRUPT, or a store error.
 */
int ama_bucket_class(struct ama_store *remote, const char *name,
		     struct ama_class_info *out);

/*
 * The names of every class (keys classes/<name>.json with a valid name),
 * sorted bytewise, into *out (an array of *n strings; free each and the
 * array). Returns 0 or a store error.
 */
int ama_bucket_class_names(struct ama_store *remote, char ***out, size_t *n);

/* Is CLASS/SEQ claimed (its asset.json is there)? 1, 0, or an error. */
int ama_bucket_asset_claimed(struct ama_store *remote,
			     const struct ama_class_info *c, uint64_t seq);

/*
 * The number of claimed assets of a class: seqs are claimed in order,
 * 1..n, so n is found with O(log n) HEADs (doubling, then halving).
 * Returns 0, AMA_ECORRUPT, or a store error.
 */
int ama_bucket_asset_count(struct ama_store *remote,
			   const struct ama_class_info *c, uint64_t *n);

/*
 * The asset an alias names: <top_hash>/aliases/<name> holds
 * {"alias":NAME,"seq":N,...}. Returns 0 and *seq, AMA_ENOTFOUND ("no such
 * alias: CLASS/NAME"), AMA_ECORRUPT, or a store error.
 */
int ama_bucket_alias(struct ama_store *remote, const struct ama_class_info *c,
		     const char *name, uint64_t *seq);

/*
 * The published versions of CLASS/SEQ, oldest first, from one listing of
 * its folder: *out is an array of *n versions (free it; NULL when there
 * are none). Returns 0 (an asset with no version yet has none),
 * AMA_ENOTFOUND ("no such asset: CLASS/SEQ": not claimed and no version),
 * or a store error.
 */
int ama_bucket_versions(struct ama_store *remote,
			const struct ama_class_info *c, uint64_t seq,
			struct ama_version **out, size_t *n);

/*
 * The manifest of CLASS/SEQ@v, parsed (ama_manifest_parse) into out
 * (initialized by the call) and checked to be what its key says: the
 * version v, and the class and seq when the manifest names them. Returns
 * 0, AMA_ENOTFOUND ("no such version: CLASS/SEQ@V"), AMA_ECORRUPT (the
 * manifest is refused: the reason names the line; the key's URL is the
 * subject), or a store error. out is released on failure.
 */
int ama_bucket_manifest(struct ama_store *remote,
			const struct ama_class_info *c, uint64_t seq,
			const struct ama_version *v, struct ama_manifest *out);

/*
 * Only the header of that manifest (its first bytes: the whole object is
 * not read), parsed (ama_manifest_parse_header) into out and checked as
 * above; commit_id (65 bytes) gets its commit id. Returns as
 * ama_bucket_manifest.
 */
int ama_bucket_manifest_header(struct ama_store *remote,
			       const struct ama_class_info *c, uint64_t seq,
			       const struct ama_version *v,
			       struct ama_manifest *out, char *commit_id);

/*
 * The raw text of the same manifest, checked as above, into text (reset
 * first): for a reader that prints it byte for byte. m (may be NULL) gets
 * the parse, as ama_bucket_manifest's out.
 */
int ama_bucket_manifest_text(struct ama_store *remote,
			     const struct ama_class_info *c, uint64_t seq,
			     const struct ama_version *v, struct ama_buf *text,
			     struct ama_manifest *m);

#endif
