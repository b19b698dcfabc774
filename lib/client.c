/* client.c: one API for publishing, in this process ("local") or through ama-server over HTTP. */
#include "auto-config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "client_backend.h"
#include "error.h"
#include "xdg.h"

struct ama_client {
	/* local: the publisher and where it says a class's content lives */
	struct ama_publish *pub;
	struct ama_client_class where;
	/* HTTP */
	struct ama_client_http *http;
};

/*
 * [store] which, else the embedded default's file:// folder (ama's folder
 * of the XDG data home, lib/xdg.h), into *out (caller frees). Returns 0,
 * or AMA_ESETUP when there is no home folder for the default.
 */
static int store_url(char **out, const struct ama_config *cfg,
		     const char *which)
{
	const char *url = ama_config_get(cfg, "store", which);
	struct ama_buf b = AMA_BUF_INIT;
	char *dir;
	int rc;

	if (url && *url) {
		*out = ama_strdup(url);
		return 0;
	}
	rc = ama_xdg_path(&dir, AMA_XDG_DATA, which);
	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	ama_buf_addf(&b, "file://%s", dir);
	free(dir);
	*out = ama_buf_detach(&b);
	return 0;
}

static char *get_or_null(const struct ama_config *cfg, const char *section,
			 const char *key)
{
	const char *v = ama_config_get(cfg, section, key);

	return v && *v ? ama_strdup(v) : NULL;
}

static int open_local(struct ama_client *c, const struct ama_config *cfg)
{
	struct ama_publish_opts o;
	const char *repo = ama_config_get(cfg, "server", "repository");
	char *repo_path;
	long jobs = 0;
	int rc;

	rc = store_url(&c->where.remote, cfg, "remote");
	if (rc == 0)
		rc = store_url(&c->where.staging, cfg, "staging");
	if (rc < 0)
		return rc;
	if (!strncmp(c->where.remote, "s3://", 5) ||
	    !strncmp(c->where.staging, "s3://", 5)) {
		c->where.s3_endpoint = get_or_null(cfg, "s3", "endpoint");
		c->where.s3_region = get_or_null(cfg, "s3", "region");
		c->where.s3_addressing = get_or_null(cfg, "s3", "addressing");
	}
	/* file:// folders are made by the publisher when missing */
	rc = ama_config_get_int(cfg, "transfer", "jobs", &jobs);
	if (rc < 0)
		return rc;
	if (repo && *repo) {
		repo_path = ama_client_expand_home(repo);
	} else {
		rc = ama_xdg_path(&repo_path, AMA_XDG_DATA, "meta.git");
		if (rc < 0)
			return rc;
	}
	memset(&o, 0, sizeof(o));
	o.remote_url = c->where.remote;
	o.staging_url = c->where.staging;
	o.cfg = cfg;
	o.repo_path = repo_path;
	o.jobs = jobs > 0 && jobs < 1024 ? (int)jobs : 0;
	rc = ama_publish_open(&c->pub, &o);
	free(repo_path);
	return rc;
}

int ama_client_open(struct ama_client **out, const struct ama_config *cfg)
{
	struct ama_client *c = ama_calloc(1, sizeof(*c));
	const char *url = ama_config_get(cfg, "server", "url");
	int rc;

	*out = NULL;
	if (!url || !*url || !strcmp(url, "local"))
		rc = open_local(c, cfg);
	else if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8))
		rc = ama_client_http_open(&c->http, url, cfg);
	else
		rc = ama_error_set(AMA_ESETUP,
				   "[server] url: '%s' is neither 'local' nor "
				   "an http:// or https:// URL", url);
	if (rc < 0) {
		ama_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void ama_client_close(struct ama_client *c)
{
	if (!c)
		return;
	if (c->pub)
		ama_publish_close(c->pub);
	ama_client_http_close(c->http);
	ama_client_class_release(&c->where);
	free(c);
}

int ama_client_is_local(const struct ama_client *c)
{
	return c->http == NULL;
}

void ama_client_class_release(struct ama_client_class *k)
{
	free(k->staging);
	free(k->remote);
	free(k->s3_endpoint);
	free(k->s3_region);
	free(k->s3_addressing);
	memset(k, 0, sizeof(*k));
}

static char *dup_or_null(const char *s)
{
	return s ? ama_strdup(s) : NULL;
}

int ama_client_class(struct ama_client *c, const char *name, int create,
		     struct ama_client_class *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ama_manifest_check_class(name);
	if (rc < 0)
		return rc;
	if (c->http)
		return ama_client_http_class(c->http, name, create, out);
	rc = ama_publish_class(c->pub, name, create, &out->info);
	if (rc < 0)
		return rc;
	out->staging = dup_or_null(c->where.staging);
	out->remote = dup_or_null(c->where.remote);
	out->s3_endpoint = dup_or_null(c->where.s3_endpoint);
	out->s3_region = dup_or_null(c->where.s3_region);
	out->s3_addressing = dup_or_null(c->where.s3_addressing);
	return 0;
}

void ama_client_class_record(struct ama_config *asset_cfg,
			     const struct ama_client_class *k)
{
	ama_config_put(asset_cfg, "class", "top-hash", k->info.top_hash);
	ama_config_put(asset_cfg, "class", "staging", k->staging);
	ama_config_put(asset_cfg, "class", "remote", k->remote);
	ama_config_put(asset_cfg, "class", "s3-endpoint", k->s3_endpoint);
	ama_config_put(asset_cfg, "class", "s3-region", k->s3_region);
	ama_config_put(asset_cfg, "class", "s3-addressing", k->s3_addressing);
}

int ama_client_classes(struct ama_client *c, ama_publish_class_fn fn,
		       void *ctx)
{
	if (c->http)
		return ama_client_http_classes(c->http, fn, ctx);
	return ama_publish_classes(c->pub, fn, ctx);
}

int ama_client_asset_create(struct ama_client *c, const char *class,
			    const char *claim, uint64_t *seq)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	if (c->http)
		return ama_client_http_asset_create(c->http, class, claim,
						    seq);
	return ama_publish_asset_create(c->pub, class, claim, seq, NULL);
}

int ama_client_assets(struct ama_client *c, const char *class,
		      ama_publish_asset_fn fn, void *ctx)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	if (c->http)
		return ama_client_http_assets(c->http, class, fn, ctx);
	return ama_publish_assets(c->pub, class, fn, ctx);
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

/* A short pause before a commit is tried again: 50 ms and up, jittered. */
static void pause_before_retry(int attempt)
{
	struct timespec ts, now;
	unsigned seed;
	long ms;

	/* processes racing for one asset should not retry in step */
	clock_gettime(CLOCK_MONOTONIC, &now);
	seed = (unsigned)getpid() ^ (unsigned)now.tv_nsec;
	ms = (50L << attempt) + rand_r(&seed) % 100;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

#define COMMIT_TRIES 6

int ama_client_commit(struct ama_client *c,
		      const struct ama_commit_request *rq,
		      struct ama_commit_result *out)
{
	struct ama_commit_request local = *rq;
	int attempt, rc;

	memset(out, 0, sizeof(*out));
	rc = ama_manifest_check_class(rq->class);
	if (rc < 0)
		return rc;
	if (!c->http && !local.author) {
		rc = login_name(&local.author);
		if (rc < 0)
			return rc;
	}
	for (attempt = 1;; attempt++) {
		if (c->http)
			rc = ama_client_http_commit(c->http, &local, out);
		else
			rc = ama_publish_commit(c->pub, &local, out);
		if (rc != AMA_ECONFLICT || attempt == COMMIT_TRIES)
			return rc;
		/* another writer of the asset won: ours goes on top of it */
		ama_commit_result_release(out);
		memset(out, 0, sizeof(*out));
		pause_before_retry(attempt);
	}
}

int ama_client_versions(struct ama_client *c, const char *class,
			uint64_t seq, size_t max, ama_meta_version_fn fn,
			void *ctx)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	if (c->http)
		return ama_client_http_versions(c->http, class, seq, max, fn,
						ctx);
	return ama_publish_versions(c->pub, class, seq, max, fn, ctx);
}

int ama_client_manifest(struct ama_client *c, const char *class,
			uint64_t seq, const struct ama_version *version,
			struct ama_buf *out)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	if (c->http)
		return ama_client_http_manifest(c->http, class, seq, version,
						out);
	return ama_publish_manifest(c->pub, class, seq, version, out);
}
