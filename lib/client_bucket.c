/* client_bucket.c: the bucket-only backend of lib/client.c: a reader that needs no server, only read access to remote. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "client_backend.h"
#include "error.h"
#include "store.h"

struct known {
	struct known *next;
	struct ama_class_info info;
};

struct bucket {
	struct ama_store *remote;
	char *url;
	char *s3_endpoint, *s3_region, *s3_addressing;
	struct known *classes;		/* read once each */
};

static char *get_or_null(const struct ama_config *cfg, const char *section,
			 const char *key)
{
	const char *v = ama_config_get(cfg, section, key);

	return v && *v ? ama_strdup(v) : NULL;
}

static void bucket_close(void *p)
{
	struct bucket *b = p;

	if (!b)
		return;
	while (b->classes) {
		struct known *k = b->classes;

		b->classes = k->next;
		free(k);
	}
	ama_store_close(b->remote);
	free(b->url);
	free(b->s3_endpoint);
	free(b->s3_region);
	free(b->s3_addressing);
	free(b);
}

int ama_client_bucket_open(void **out, const char *remote_url,
			   const struct ama_config *cfg)
{
	struct bucket *b = ama_calloc(1, sizeof(*b));
	int rc = ama_store_open(&b->remote, remote_url, cfg, "remote");

	*out = NULL;
	if (rc < 0) {
		bucket_close(b);
		return rc;
	}
	b->url = ama_strdup(remote_url);
	if (!strncmp(remote_url, "s3://", 5)) {
		b->s3_endpoint = get_or_null(cfg, "s3", "endpoint");
		b->s3_region = get_or_null(cfg, "s3", "region");
		b->s3_addressing = get_or_null(cfg, "s3", "addressing");
	}
	*out = b;
	return 0;
}

static int class_info(struct bucket *b, const char *name,
		      struct ama_class_info *out)
{
	struct known *k;
	int rc;

	for (k = b->classes; k; k = k->next)
		if (!strcmp(k->info.name, name)) {
			*out = k->info;
			return 0;
		}
	rc = ama_bucket_class(b->remote, name, out);
	if (rc < 0)
		return rc;
	k = ama_calloc(1, sizeof(*k));
	k->info = *out;
	k->next = b->classes;
	b->classes = k;
	return 0;
}

static int bucket_class(void *p, const char *name, int create,
			struct ama_client_class *out)
{
	struct bucket *b = p;
	int rc = class_info(b, name, &out->info);

	if (rc == AMA_ENOTFOUND && create)
		return ama_error_set(AMA_ESETUP, "no such class: %s (a reader "
				     "of the bucket cannot make one)", name);
	if (rc < 0)
		return rc;
	out->remote = ama_strdup(b->url);
	out->s3_endpoint = ama_client_dup(b->s3_endpoint);
	out->s3_region = ama_client_dup(b->s3_region);
	out->s3_addressing = ama_client_dup(b->s3_addressing);
	return 0;
}

static int bucket_classes(void *p, ama_publish_class_fn fn, void *ctx)
{
	struct bucket *b = p;
	struct ama_class_info ci;
	char **names = NULL;
	size_t i, n = 0;
	int rc = ama_bucket_class_names(b->remote, &names, &n);

	for (i = 0; i < n && rc == 0; i++) {
		rc = class_info(b, names[i], &ci);
		if (rc == 0)
			rc = fn(&ci, ctx);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int bucket_assets(void *p, const char *class, ama_publish_asset_fn fn,
			 void *ctx)
{
	struct bucket *b = p;
	struct ama_class_info ci;
	struct ama_asset_info a;
	uint64_t n = 0, seq;
	int rc = class_info(b, class, &ci);

	if (rc == 0)
		rc = ama_bucket_asset_count(b->remote, &ci, &n);
	for (seq = 1; seq <= n && rc == 0; seq++) {
		struct ama_version *v = NULL;
		size_t nv = 0;

		memset(&a, 0, sizeof(a));
		a.seq = seq;
		rc = ama_bucket_versions(b->remote, &ci, seq, &v, &nv);
		if (rc == 0 && nv) {
			a.has_head = 1;
			a.head = v[nv - 1];
		}
		free(v);
		if (rc == 0)
			rc = fn(&a, ctx);
	}
	return rc;
}

static int bucket_versions(void *p, const char *class, uint64_t seq,
			   size_t max, ama_meta_version_fn fn, void *ctx)
{
	struct bucket *b = p;
	struct ama_class_info ci;
	struct ama_version *all = NULL;
	size_t n = 0, i, told = 0;
	int rc = class_info(b, class, &ci);

	if (rc == 0)
		rc = ama_bucket_versions(b->remote, &ci, seq, &all, &n);
	/* newest first, each header read only when it is wanted */
	for (i = n; i-- > 0 && rc == 0 && (!max || told < max);) {
		struct ama_meta_version mv;
		struct ama_manifest m;

		memset(&mv, 0, sizeof(mv));
		rc = ama_bucket_manifest_header(b->remote, &ci, seq, &all[i],
						&m, mv.commit_id);
		if (rc < 0)
			break;
		mv.version = m.version;
		mv.has_parent = m.has_parent;
		mv.parent = m.parent;
		mv.class = ama_strdup(class);
		mv.seq = seq;
		mv.author = m.author;
		mv.time = m.time;
		mv.message = m.message ? m.message : ama_strdup("");
		m.author = m.message = NULL;
		ama_manifest_release(&m);
		rc = fn(&mv, ctx);
		ama_meta_version_release(&mv);
		told++;
	}
	free(all);
	return rc;
}

static int bucket_manifest(void *p, const char *class, uint64_t seq,
			   const struct ama_version *version,
			   struct ama_buf *out)
{
	struct bucket *b = p;
	struct ama_class_info ci;
	int rc = class_info(b, class, &ci);

	if (rc < 0)
		return rc;
	return ama_bucket_manifest_text(b->remote, &ci, seq, version, out,
					NULL);
}

const struct ama_client_ops ama_client_bucket_ops = {
	.name = "bucket",
	.local = 0,
	.close = bucket_close,
	.klass = bucket_class,
	.classes = bucket_classes,
	.asset_create = NULL,
	.assets = bucket_assets,
	.commit = NULL,
	.versions = bucket_versions,
	.manifest = bucket_manifest,
};
