/* readenv.c: what a command that reads versions back needs of an asset: its remote bucket, .ama/meta, the cache. */
#include "auto-config.h"

#include <string.h>

#include "error.h"
#include "metasync.h"
#include "readenv.h"

int ama_readenv_open(struct ama_readenv *out, struct ama_config *cfg,
		     const char *class)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->cfg = cfg;
	rc = ama_remote_open(&out->remote, cfg, class);
	if (rc == 0)
		rc = ama_client_open_bucket(&out->source, out->remote.url, cfg);
	if (rc == 0)
		rc = ama_cache_open(&out->cache, NULL);
	if (rc == 0)
		rc = ama_meta_open(&out->meta, ".ama/meta", AMA_META_CREATE);
	return rc;
}

void ama_readenv_close(struct ama_readenv *r)
{
	if (r->meta)
		ama_meta_close(r->meta);
	ama_cache_close(r->cache);
	ama_client_close(r->source);
	ama_remote_close(&r->remote);
	memset(r, 0, sizeof(*r));
}

int ama_readenv_fetch(struct ama_readenv *r, uint64_t seq)
{
	return ama_metasync_pull(r->meta, r->source, r->remote.cls.name, seq,
				 NULL);
}

void ama_readenv_worktree_opts(const struct ama_readenv *r,
			       struct ama_worktree_opts *o)
{
	o->meta = r->meta;
	o->cache = r->cache;
	o->cfg = r->cfg;
	o->remote_url = r->remote.url;
	o->top_hash = r->remote.cls.top_hash;
}
