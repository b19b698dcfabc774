/* assetenv.h: an asset opened for work: its root, its merged configuration, its class, number and version. */
#ifndef AMA_ASSETENV_H
#define AMA_ASSETENV_H

#include <stdint.h>

#include "asset.h"
#include "config.h"
#include "version.h"

/*
 * Every program that works on an asset starts the same way: find the
 * folder holding .ama/, load the configuration (the user's file, then
 * .ama/config, then AMA_* variables: lib/config.h), layer what the server
 * said of the class under it (lib/settings.h), and read [asset] class,
 * seq and version, each checked. One function, one set of rules.
 */
struct ama_asset_env {
	struct ama_asset a;		/* a.root NULL: outside any asset */
	struct ama_config *cfg;		/* merged, [class] applied */
	const char *class;		/* [asset] class, checked; or NULL */
	uint64_t seq;			/* [asset] seq; 0: none yet */
	int has_version;		/* [asset] version is set */
	struct ama_version version;
};

/* Flags. */
#define AMA_ASSET_ENTER		0x1u	/* chdir to the asset's root */
#define AMA_ASSET_OPTIONAL	0x2u	/* outside an asset: the user's config */
#define AMA_ASSET_NEED_CLASS	0x4u	/* no [asset] class is an error */

/*
 * Open the asset holding the working folder into out (zero-filled
 * first). Returns 0, or AMA_ESETUP with the reason: not inside an asset
 * (unless OPTIONAL), an unreadable configuration, a bad [asset] class,
 * seq or version (naming .ama/config), no class (with NEED_CLASS), a
 * root that cannot be entered. Release with ama_asset_env_close whatever
 * it returned.
 */
int ama_asset_env_open(struct ama_asset_env *out, unsigned flags);
void ama_asset_env_close(struct ama_asset_env *e);

/*
 * Set keys in .ama/config (the asset's file alone, not the merged
 * configuration), atomically, under its lock: kv is n triples of
 * section, key and value (value NULL removes the key). The merged
 * configuration e->cfg gets them too. The working folder must be the
 * asset's root (AMA_ASSET_ENTER).
 */
int ama_asset_env_set(struct ama_asset_env *e, const char *const kv[][3],
		      size_t n);

/*
 * Make DIR/.ama, the folder of a new asset: its config holds the n
 * triples kv (section, key, value), and, when the user's configuration
 * names no server and no store, the embedded default pinned ([server] url
 * = local, [store] remote and staging the file:// folders of
 * ama_settings_default_store_url), so that the asset keeps its store
 * however the environment changes later. Built in a private folder and
 * renamed into place: all or nothing. Returns 0, AMA_EEXIST (".ama":
 * "already an ama asset"), or AMA_ESETUP / AMA_EIO.
 */
int ama_asset_make(const char *dir, const char *const kv[][3], size_t n);

#endif
