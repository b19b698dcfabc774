/* layout.c: every key of the bucket layout, built and read in one place. */
#include "auto-config.h"

#include <string.h>

#include "error.h"
#include "layout.h"
#include "manifest.h"

void ama_layout_class(struct ama_buf *out, const char *class)
{
	ama_buf_addf(out, AMA_LAYOUT_CLASSES "%s.json", class);
}

void ama_layout_content(struct ama_buf *out, const char *top_hash,
			const struct ama_md5 *md5)
{
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_to_hex(hex, md5);
	ama_buf_addf(out, "%s/contents/%s", top_hash, hex);
}

void ama_layout_contents_prefix(struct ama_buf *out, const char *top_hash)
{
	ama_buf_addf(out, "%s/contents/", top_hash);
}

void ama_layout_staged(struct ama_buf *out, const char *top_hash,
		       const struct ama_md5 *md5)
{
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_to_hex(hex, md5);
	ama_buf_addf(out, "%s/%s", top_hash, hex);
}

void ama_layout_staging_prefix(struct ama_buf *out, const char *top_hash)
{
	ama_buf_addf(out, "%s/", top_hash);
}

void ama_layout_asset_prefix(struct ama_buf *out, const char *top_hash,
			     uint64_t seq)
{
	ama_buf_addf(out, "%s/assets/%llu/", top_hash,
		     (unsigned long long)seq);
}

void ama_layout_asset_record(struct ama_buf *out, const char *top_hash,
			     uint64_t seq)
{
	ama_layout_asset_prefix(out, top_hash, seq);
	ama_buf_addstr(out, "asset.json");
}

void ama_layout_manifest(struct ama_buf *out, const char *top_hash,
			 uint64_t seq, const struct ama_version *v)
{
	char vs[AMA_VERSION_BUFSIZE];

	ama_version_format(vs, v);
	ama_layout_asset_prefix(out, top_hash, seq);
	ama_buf_addf(out, "%s.manifest", vs);
}

void ama_layout_claim(struct ama_buf *out, const char *top_hash,
		      const char *claim)
{
	ama_buf_addf(out, "%s/assets/by-claim/%s", top_hash, claim);
}

void ama_layout_aliases_prefix(struct ama_buf *out, const char *top_hash)
{
	ama_buf_addf(out, "%s/aliases/", top_hash);
}

void ama_layout_alias(struct ama_buf *out, const char *top_hash,
		      const char *name)
{
	ama_layout_aliases_prefix(out, top_hash);
	ama_buf_addstr(out, name);
}

int ama_layout_parse_class_key(char *name, const char *key)
{
	size_t n = strlen(AMA_LAYOUT_CLASSES), len;

	if (strncmp(key, AMA_LAYOUT_CLASSES, n))
		return 0;
	key += n;
	len = strlen(key);
	if (len <= 5 || len - 5 > 64 || strcmp(key + len - 5, ".json"))
		return 0;
	memcpy(name, key, len - 5);
	name[len - 5] = '\0';
	if (strchr(name, '/') || ama_manifest_check_class(name) < 0) {
		ama_error_clear();
		return 0;
	}
	return 1;
}

int ama_layout_parse_manifest_leaf(struct ama_version *out,
				   const char *leaf)
{
	size_t len = strlen(leaf), n = strlen(".manifest");
	char vs[AMA_VERSION_BUFSIZE];
	int ok;

	if (len <= n || strcmp(leaf + len - n, ".manifest"))
		return 0;
	ok = ama_version_parse_n(out, leaf, len - n) == 0;
	if (ok) {
		/* only the canonical spelling names a version */
		ama_version_format(vs, out);
		ok = strlen(vs) == len - n && !memcmp(vs, leaf, len - n);
	}
	ama_error_clear();
	return ok;
}
