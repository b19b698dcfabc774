/* client.c: one API for publishing and reading: in this process ("local"), through ama-server over HTTP, or the bucket alone. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "client_backend.h"
#include "error.h"
#include "settings.h"

struct ama_client {
	const struct ama_client_ops *ops;
	void *b;
};

char *ama_client_dup(const char *s)
{
	return s ? ama_strdup(s) : NULL;
}

static int finish_open(struct ama_client **out, struct ama_client *c, int rc)
{
	if (rc < 0) {
		free(c);
		*out = NULL;
		return rc;
	}
	*out = c;
	return 0;
}

int ama_client_open(struct ama_client **out, const struct ama_config *cfg)
{
	struct ama_client *c = ama_calloc(1, sizeof(*c));
	const char *url = ama_config_get(cfg, "server", "url");
	int rc;

	if (!url || !*url || !strcmp(url, "local")) {
		c->ops = &ama_client_local_ops;
		rc = ama_client_local_open(&c->b, cfg);
	} else if (!strncmp(url, "http://", 7) ||
		   !strncmp(url, "https://", 8)) {
		c->ops = &ama_client_http_ops;
		rc = ama_client_http_open((struct ama_client_http **)&c->b,
					  url, cfg);
	} else {
		rc = ama_error_set(AMA_ESETUP,
				   "[server] url: '%s' is neither 'local' nor "
				   "an http:// or https:// URL", url);
	}
	return finish_open(out, c, rc);
}

int ama_client_open_bucket(struct ama_client **out, const char *remote_url,
			   const struct ama_config *cfg)
{
	struct ama_client *c = ama_calloc(1, sizeof(*c));

	c->ops = &ama_client_bucket_ops;
	return finish_open(out, c, ama_client_bucket_open(&c->b, remote_url,
							  cfg));
}

int ama_client_open_reader(struct ama_client **out,
			   const struct ama_config *cfg,
			   const char *remote_url)
{
	const char *url = ama_config_get(cfg, "server", "url");
	char *mine = NULL;
	int rc;

	if (url && (!strncmp(url, "http://", 7) ||
		    !strncmp(url, "https://", 8)))
		return ama_client_open(out, cfg);
	if (!remote_url) {
		mine = ama_settings_client_store_url(cfg, "remote");
		if (!mine) {
			*out = NULL;
			return AMA_ESETUP;
		}
		remote_url = mine;
	}
	rc = ama_client_open_bucket(out, remote_url, cfg);
	free(mine);
	return rc;
}

void ama_client_close(struct ama_client *c)
{
	if (!c)
		return;
	c->ops->close(c->b);
	free(c);
}

int ama_client_is_local(const struct ama_client *c)
{
	return c->ops->local;
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

int ama_client_class(struct ama_client *c, const char *name, int create,
		     struct ama_client_class *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ama_manifest_check_class(name);
	if (rc == 0)
		rc = c->ops->klass(c->b, name, create, out);
	if (rc < 0)
		ama_client_class_release(out);
	return rc;
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
	return c->ops->classes(c->b, fn, ctx);
}

/* A backend that only reads. */
static int read_only(const struct ama_client *c)
{
	return ama_error_set(AMA_ESETUP, "the %s client only reads: set "
			     "[server] url to publish", c->ops->name);
}

int ama_client_asset_create(struct ama_client *c, const char *class,
			    const char *claim, uint64_t *seq)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	if (!c->ops->asset_create)
		return read_only(c);
	return c->ops->asset_create(c->b, class, claim, seq);
}

int ama_client_assets(struct ama_client *c, const char *class,
		      ama_publish_asset_fn fn, void *ctx)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	return c->ops->assets(c->b, class, fn, ctx);
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
	int attempt, rc;

	memset(out, 0, sizeof(*out));
	rc = ama_manifest_check_class(rq->class);
	if (rc < 0)
		return rc;
	if (!c->ops->commit)
		return read_only(c);
	for (attempt = 1;; attempt++) {
		rc = c->ops->commit(c->b, rq, out);
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
	return c->ops->versions(c->b, class, seq, max, fn, ctx);
}

int ama_client_manifest(struct ama_client *c, const char *class,
			uint64_t seq, const struct ama_version *version,
			struct ama_buf *out)
{
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	return c->ops->manifest(c->b, class, seq, version, out);
}
