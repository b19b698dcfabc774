/* remote.h: a class's published bucket, found and opened for reading the way every client finds it. */
#ifndef AMA_REMOTE_H
#define AMA_REMOTE_H

#include "bucket.h"
#include "config.h"
#include "store.h"

/*
 * What a reader needs of a class: the remote bucket's URL, a store handle
 * on it (opened with the role "remote": [s3] remote-profile; read access
 * is enough) and the class record read from it. No server and no staging
 * credentials are needed, except to ask an HTTP server where the class
 * lives when nothing says so yet.
 */
struct ama_remote {
	char *url;
	struct ama_class_info cls;
	struct ama_store *store;
};

/*
 * Find CLASS's remote bucket and open it:
 *   [store] remote (the user's own, or what the server said of the class,
 *       kept as an asset's [class] remote: lib/settings.h);
 *   else, with an http(s) [server] url, the server's answer for the class
 *       (asked without creating it), layered into cfg in memory as the
 *       [class] keys, so that cfg then opens the same stores;
 *   else the embedded default, file://$XDG_DATA_HOME/ama/remote.
 * Then classes/<class>.json is read from the bucket. Returns 0,
 * AMA_ENOTFOUND ("no such class: NAME"), AMA_ESETUP, AMA_ECORRUPT, or a
 * store or server error. out is zero-filled on failure.
 */
int ama_remote_open(struct ama_remote *out, struct ama_config *cfg,
		    const char *class);
void ama_remote_close(struct ama_remote *r);

/*
 * What a reference names in r's bucket: an alias is looked up, and with
 * no version the newest is taken. Returns 0 with *seq and *v, or
 * AMA_ENOTFOUND ("no such alias", "no such asset", "CLASS/SEQ has no
 * version yet"), or a store error. A version that is given is not
 * checked here (reading its manifest does).
 */
struct ama_ref;
int ama_remote_resolve(struct ama_remote *r, const struct ama_ref *ref,
		       uint64_t *seq, struct ama_version *v);

#endif
