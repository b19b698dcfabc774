/* readenv.h: what a command that reads versions back needs of an asset: its remote bucket, .ama/meta, the cache. */
#ifndef AMA_READENV_H
#define AMA_READENV_H

#include <stdint.h>

#include "cache.h"
#include "client.h"
#include "meta.h"
#include "remote.h"
#include "worktree.h"

/*
 * clone, fetch, switch, pull and download share their start: the class's
 * remote bucket (lib/remote.h), the asset's metadata repository (.ama/meta
 * in the working folder, made when missing), the shared cache, and the
 * source the versions come from (ama_client_open_reader: the server when
 * one is configured, else the remote bucket itself).
 */
struct ama_readenv {
	struct ama_remote remote;
	struct ama_meta *meta;
	struct ama_cache *cache;
	struct ama_client *source;
	struct ama_config *cfg;		/* borrowed */
};

/*
 * Open all of it for CLASS with cfg (which the server's answer may be
 * layered into, lib/remote.h). The working folder must be the asset's
 * root. Returns 0 or an error (setup, store, repository); release with
 * ama_readenv_close whatever it returned.
 */
int ama_readenv_open(struct ama_readenv *out, struct ama_config *cfg,
		     const char *class);
void ama_readenv_close(struct ama_readenv *r);

/*
 * The usual start of a command in an asset: open the asset holding the
 * working folder (entered at its root: AMA_ASSET_ENTER, with a class),
 * which must have an asset number (it was uploaded or cloned), then r for
 * its class. Returns 0 or an error (AMA_ESETUP: "not uploaded yet");
 * close both whatever it returned.
 */
int ama_readenv_open_asset(struct ama_readenv *r, struct ama_asset_env *e);

/*
 * Bring .ama/meta up to date with every published version of CLASS/SEQ
 * (ama_metasync_pull, HEAD left where it is). Returns the number of
 * versions added, or an error.
 */
int ama_readenv_fetch(struct ama_readenv *r, uint64_t seq);

/* Fill o's meta, cache, cfg, remote_url and top_hash from r. */
void ama_readenv_worktree_opts(const struct ama_readenv *r,
			       struct ama_worktree_opts *o);

/*
 * Make the work tree of the asset e (entered at its root) hold version
 * `to` of it, coming from [asset] version (none: from nothing), with the
 * options of o beyond those r fills: ama_worktree_update, then [asset]
 * version and the HEAD of .ama/meta recorded. A version .ama/meta lacks
 * is fetched first. Returns as ama_worktree_update; AMA_ENOTFOUND for a
 * version the asset does not have.
 */
struct ama_asset_env;
int ama_readenv_switch(struct ama_readenv *r, struct ama_asset_env *e,
		       const struct ama_version *to,
		       struct ama_worktree_opts *o,
		       struct ama_worktree_stats *stats);

/*
 * The newest version of the asset that .ama/meta holds into *out.
 * Returns 0, or AMA_ENOTFOUND ("CLASS/SEQ has no version yet").
 */
int ama_readenv_newest(struct ama_readenv *r, uint64_t seq,
		       struct ama_version *out);

/*
 * What clone, switch, pull and download share once their options are
 * parsed: -j (AMA_OPT_JOBS; -1 when not given means [transfer] jobs),
 * --link (only "hard"), the progress line when progress is set, messages
 * on stderr (ama_msg_path_cb), and SIGINT or SIGTERM stopping the work
 * softly (the program ends with ama_store_signal_exit()). Fills o's jobs,
 * hard_link, progress, report and stop. Returns 0, or AMA_EINVAL with the
 * reason for a usage error.
 */
int ama_readenv_cli(struct ama_worktree_opts *o, int progress,
		    const char *link);

#endif
