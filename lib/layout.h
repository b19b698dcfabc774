/* layout.h: every key of the bucket layout, built and read in one place. */
#ifndef AMA_LAYOUT_H
#define AMA_LAYOUT_H

#include <stdint.h>

#include "buf.h"
#include "md5.h"
#include "version.h"

/*
 * The two buckets (DESIGN.md, "Layout in the buckets"):
 *
 *   remote   classes/<class>.json                      the class record
 *   remote   <top_hash>/contents/<md5>                 published content
 *   remote   <top_hash>/assets/<seq>/asset.json        the claim on an asset number
 *   remote   <top_hash>/assets/<seq>/<version>.manifest  a published version
 *   remote   <top_hash>/assets/by-claim/<claim>        the seq a client's claim got
 *   remote   <top_hash>/aliases/<name>                 an alias of an asset
 *   staging  <top_hash>/<md5>                          content being uploaded
 *
 * Every function appends to out (nothing is reset) and takes values that
 * the caller has checked: a class name (ama_manifest_check_class), a top
 * hash and an MD5 of 32 lowercase hex digits, a seq of at least 1.
 */

#define AMA_LAYOUT_CLASSES "classes/"

void ama_layout_class(struct ama_buf *out, const char *class);
void ama_layout_content(struct ama_buf *out, const char *top_hash,
			const struct ama_md5 *md5);
void ama_layout_contents_prefix(struct ama_buf *out, const char *top_hash);
void ama_layout_staged(struct ama_buf *out, const char *top_hash,
		       const struct ama_md5 *md5);
void ama_layout_staging_prefix(struct ama_buf *out, const char *top_hash);
/* <top_hash>/assets/<seq>/ : the asset's record and its manifests. */
void ama_layout_asset_prefix(struct ama_buf *out, const char *top_hash,
			     uint64_t seq);
void ama_layout_asset_record(struct ama_buf *out, const char *top_hash,
			     uint64_t seq);
void ama_layout_manifest(struct ama_buf *out, const char *top_hash,
			 uint64_t seq, const struct ama_version *v);
void ama_layout_claim(struct ama_buf *out, const char *top_hash,
		      const char *claim);
void ama_layout_aliases_prefix(struct ama_buf *out, const char *top_hash);
void ama_layout_alias(struct ama_buf *out, const char *top_hash,
		      const char *name);

/*
 * Read a key back. class_key: "classes/<name>.json" with a valid class
 * name into name (at least 65 bytes); manifest_leaf: the part of a key
 * after ama_layout_asset_prefix, "<X.Y.Z>.manifest" with a canonical
 * version. Each returns 1 and fills out, or 0 for any other key (listings
 * hold other objects, and their keys are hostile input).
 */
int ama_layout_parse_class_key(char *name, const char *key);
int ama_layout_parse_manifest_leaf(struct ama_version *out,
				   const char *leaf);

#endif
