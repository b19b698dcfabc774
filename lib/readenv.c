/* readenv.c: what a command that reads versions back needs of an asset: its remote bucket, .ama/meta, the cache. */
#include "auto-config.h"

#include <string.h>

#include "store.h"

#include "assetenv.h"
#include "error.h"
#include "metasync.h"
#include "prog.h"
#include "readenv.h"

int ama_readenv_open(struct ama_readenv *out, struct ama_config *cfg,
		     const char *class)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->cfg = cfg;
	rc = ama_remote_open(&out->remote, cfg, class);
	if (rc == 0)
		rc = ama_client_open_reader(&out->source, cfg, out->remote.url);
	if (rc == 0)
		rc = ama_cache_open(&out->cache, NULL);
	if (rc == 0)
		rc = ama_meta_open(&out->meta, ".ama/meta", AMA_META_CREATE);
	return rc;
}

int ama_readenv_open_asset(struct ama_readenv *r, struct ama_asset_env *e)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ama_asset_env_open(e, AMA_ASSET_ENTER | AMA_ASSET_NEED_CLASS);
	if (rc == 0 && !e->seq)
		rc = ama_error_setp(AMA_ESETUP, ".ama/config", "the asset has "
				    "no number yet: nothing was published from "
				    "it (ama upload) or cloned into it");
	if (rc == 0)
		rc = ama_readenv_open(r, e->cfg, e->class);
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

/* Version v of the asset in .ama/meta, fetching once when it is not there. */
static int find(struct ama_readenv *r, uint64_t seq,
		const struct ama_version *v, struct ama_meta_version *out)
{
	int rc = ama_meta_find_version(r->meta, out, r->remote.cls.name, seq,
				       v);

	if (rc == AMA_ENOTFOUND) {
		rc = ama_readenv_fetch(r, seq);
		if (rc >= 0)
			rc = ama_meta_find_version(r->meta, out,
						   r->remote.cls.name, seq, v);
	}
	return rc;
}

int ama_readenv_switch(struct ama_readenv *r, struct ama_asset_env *e,
		       const struct ama_version *to,
		       struct ama_worktree_opts *o,
		       struct ama_worktree_stats *stats)
{
	struct ama_meta_version from, dest;
	char vs[AMA_VERSION_BUFSIZE];
	const char *kv[][3] = { { "asset", "version", vs } };
	int rc = 0;

	memset(&from, 0, sizeof(from));
	memset(&dest, 0, sizeof(dest));
	memset(stats, 0, sizeof(*stats));
	if (e->has_version)
		rc = find(r, e->seq, &e->version, &from);
	if (rc == 0)
		rc = find(r, e->seq, to, &dest);
	if (rc == 0) {
		ama_readenv_worktree_opts(r, o);
		rc = ama_worktree_update(o, e->has_version ? &from : NULL,
					 &dest, stats);
	}
	/* with some files left for ama download, the tree is at `to` */
	if (rc == 0 || (rc == 1 && !stats->refused)) {
		int st;

		ama_version_format(vs, to);
		st = ama_asset_env_set(e, kv, 1);
		if (st == 0)
			st = ama_meta_set_head(r->meta, &dest);
		if (st < 0)
			rc = st;
	}
	ama_meta_version_release(&from);
	ama_meta_version_release(&dest);
	return rc;
}

int ama_readenv_newest(struct ama_readenv *r, uint64_t seq,
		       struct ama_version *out)
{
	struct ama_meta_version v;
	int rc = ama_meta_head(r->meta, &v, r->remote.cls.name, seq);

	if (rc == AMA_ENOTFOUND)
		return ama_error_set(AMA_ENOTFOUND, "%s/%llu has no version "
				     "yet", r->remote.cls.name,
				     (unsigned long long)seq);
	if (rc == 0) {
		*out = v.version;
		ama_meta_version_release(&v);
	}
	return rc;
}

int ama_readenv_cli(struct ama_worktree_opts *o, int progress,
		    const char *link)
{
	if (link && strcmp(link, "hard"))
		return ama_error_set(AMA_EINVAL, "--link takes only 'hard'");
	if (o->jobs < 0)
		o->jobs = 0;	/* [transfer] jobs */
	o->hard_link = link != NULL;
	o->progress = progress;
	o->report = ama_msg_path_cb;
	ama_store_cancel_on_signals(NULL, NULL);
	o->stop = ama_store_signal_flag();
	return 0;
}
