/* client_local.c: the in-process backend of lib/client.c: lib/publish.c against the configured stores. */
#include "auto-config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_backend.h"
#include "error.h"
#include "settings.h"
#include "xdg.h"

struct local {
	struct ama_publish *pub;
	struct ama_client_class where;	/* where every class's content lives */
};

static char *get_or_null(const struct ama_config *cfg, const char *section,
			 const char *key)
{
	const char *v = ama_config_get(cfg, section, key);

	return v && *v ? ama_strdup(v) : NULL;
}

/* [store] which, else the embedded default's file:// folder. */
static int store_url(char **out, const struct ama_config *cfg,
		     const char *which)
{
	const char *url = ama_config_get(cfg, "store", which);

	*out = url && *url ? ama_strdup(url) :
		ama_settings_default_store_url(which);
	return *out ? 0 : AMA_ESETUP;
}

static void local_close(void *b)
{
	struct local *l = b;

	if (!l)
		return;
	if (l->pub)
		ama_publish_close(l->pub);
	ama_client_class_release(&l->where);
	free(l);
}

int ama_client_local_open(void **out, const struct ama_config *cfg)
{
	struct local *l = ama_calloc(1, sizeof(*l));
	struct ama_publish_opts o;
	const char *repo = ama_config_get(cfg, "server", "repository");
	char *repo_path = NULL;
	long jobs = 0;
	int rc;

	*out = NULL;
	rc = store_url(&l->where.remote, cfg, "remote");
	if (rc == 0)
		rc = store_url(&l->where.staging, cfg, "staging");
	if (rc == 0 && (!strncmp(l->where.remote, "s3://", 5) ||
			!strncmp(l->where.staging, "s3://", 5))) {
		l->where.s3_endpoint = get_or_null(cfg, "s3", "endpoint");
		l->where.s3_region = get_or_null(cfg, "s3", "region");
		l->where.s3_addressing = get_or_null(cfg, "s3", "addressing");
	}
	/* file:// folders are made by the publisher when missing */
	if (rc == 0)
		rc = ama_config_get_int(cfg, "transfer", "jobs", &jobs);
	if (rc == 0) {
		if (repo && *repo)
			repo_path = ama_client_expand_home(repo);
		else
			rc = ama_xdg_path(&repo_path, AMA_XDG_DATA,
					  "meta.git");
	}
	if (rc == 0) {
		memset(&o, 0, sizeof(o));
		o.remote_url = l->where.remote;
		o.staging_url = l->where.staging;
		o.cfg = cfg;
		o.repo_path = repo_path;
		o.jobs = jobs > 0 && jobs < 1024 ? (int)jobs : 0;
		rc = ama_publish_open(&l->pub, &o);
	}
	free(repo_path);
	if (rc < 0) {
		local_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

static int local_class(void *b, const char *name, int create,
		       struct ama_client_class *out)
{
	struct local *l = b;
	int rc = ama_publish_class(l->pub, name, create, &out->info);

	if (rc < 0)
		return rc;
	out->staging = ama_client_dup(l->where.staging);
	out->remote = ama_client_dup(l->where.remote);
	out->s3_endpoint = ama_client_dup(l->where.s3_endpoint);
	out->s3_region = ama_client_dup(l->where.s3_region);
	out->s3_addressing = ama_client_dup(l->where.s3_addressing);
	return 0;
}

static int local_classes(void *b, ama_publish_class_fn fn, void *ctx)
{
	return ama_publish_classes(((struct local *)b)->pub, fn, ctx);
}

static int local_asset_create(void *b, const char *class, const char *claim,
			      uint64_t *seq)
{
	return ama_publish_asset_create(((struct local *)b)->pub, class, claim,
					seq, NULL);
}

static int local_assets(void *b, const char *class, ama_publish_asset_fn fn,
			void *ctx)
{
	return ama_publish_assets(((struct local *)b)->pub, class, fn, ctx);
}

/* Who commits in local mode: $USER, else the login name of the uid. */
static int login_name(const char **out)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (!u || !*u) {
		pw = getpwuid(getuid());
		u = pw ? pw->pw_name : NULL;
	}
	if (!u)
		return ama_error_set(AMA_ESETUP, "cannot tell who commits: "
				     "set USER");
	if (ama_manifest_check_author(u) < 0)
		return ama_error_wrap(AMA_ESETUP, "cannot use the login name "
				      "as an author");
	*out = u;
	return 0;
}

static int local_commit(void *b, const struct ama_commit_request *rq,
			struct ama_commit_result *out)
{
	struct ama_commit_request mine = *rq;
	int rc = 0;

	if (!mine.author)
		rc = login_name(&mine.author);
	if (rc < 0)
		return rc;
	return ama_publish_commit(((struct local *)b)->pub, &mine, out);
}

static int local_versions(void *b, const char *class, uint64_t seq,
			  size_t max, ama_meta_version_fn fn, void *ctx)
{
	return ama_publish_versions(((struct local *)b)->pub, class, seq, max,
				    fn, ctx);
}

static int local_manifest(void *b, const char *class, uint64_t seq,
			  const struct ama_version *version,
			  struct ama_buf *out)
{
	return ama_publish_manifest(((struct local *)b)->pub, class, seq,
				    version, out);
}

const struct ama_client_ops ama_client_local_ops = {
	.name = "local",
	.local = 1,
	.close = local_close,
	.klass = local_class,
	.classes = local_classes,
	.asset_create = local_asset_create,
	.assets = local_assets,
	.commit = local_commit,
	.versions = local_versions,
	.manifest = local_manifest,
};
