/* metasync.h: bringing a client's metadata repository up to date with the publishing side. */
#ifndef AMA_METASYNC_H
#define AMA_METASYNC_H

#include <stdint.h>

#include "client.h"
#include "meta.h"
#include "version.h"

/*
 * An asset's .ama/meta holds the versions its user has seen (see meta.h):
 * after an upload, a fetch or a clone, the versions the publishing side
 * has and the repository lacks are added, so that `git --git-dir=.ama/meta
 * log` and the libgit2 walks of ama show them.
 *
 * Pull into meta the versions of CLASS/SEQ newer than its newest one there
 * (all, when it has none): their list is asked of c (newest first, down to
 * the one meta has, whose commit id must be the same there), then each
 * manifest, oldest first, checked (its class,
 * seq and version must be the ones asked for) and written with
 * ama_meta_write. With head not NULL, meta's HEAD then points at that
 * version (ama_meta_set_head): the version the work tree is at.
 *
 * Returns the number of versions written (0 when meta was up to date), or
 *   AMA_ENOTFOUND  no such asset or class there, or head is not a version
 *                  of the asset
 *   AMA_ECORRUPT   a manifest that is not the version it was asked for
 *   AMA_ECONFLICT  meta holds another history of the asset: its newest
 *                  version is not the publishing side's of that number
 *                  (their commit ids differ), or the publishing side has
 *                  no version of that number; nothing is written
 *   or the errors of the client, of ama_manifest_parse and of meta.h.
 * Versions written before a failure stay: a later pull goes on from them.
 */
int ama_metasync_pull(struct ama_meta *meta, struct ama_client *c,
		      const char *class, uint64_t seq,
		      const struct ama_version *head);

/*
 * Remove the lock files libgit2 left in the repository at meta_path
 * ("HEAD.lock", "config.lock", "packed-refs.lock", "index.lock" and
 * "refs/.../NAME.lock") when a process writing it was killed: libgit2
 * creates them without an flock, and a stale one makes every later write
 * fail. The caller must hold the lock every writer of meta_path takes
 * first (ama upload's lock on .ama, the only writer of .ama/meta), so
 * that whoever made them is dead. Each is told as a lock taken over
 * (ama_lock_remove_stale()). Returns the number removed, or AMA_EIO.
 */
int ama_metasync_clear_locks(const char *meta_path);

#endif
