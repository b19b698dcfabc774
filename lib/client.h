/* client.h: how a client reaches the publishing side: in-process (local) or over HTTP. */
#ifndef AMA_CLIENT_H
#define AMA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "manifest.h"
#include "meta.h"
#include "publish.h"
#include "version.h"

/*
 * [server] url in the merged configuration says where publishing happens:
 *   "local" (the default): ama_publish_* in this process, against [store]
 *       remote and staging (credentials of [s3] server-profile) and the
 *       repository [server] repository (default
 *       $XDG_DATA_HOME/ama/meta.git);
 *   "http://HOST:PORT" (or https): ama-server, with the bearer token read
 *       from [server] token-file (default ~/.config/ama/token), which is
 *       refused when group or others may read it. The token never appears
 *       in a message or a log.
 * The same calls either way; errors as publish.h's, plus over HTTP:
 * AMA_EAUTH (401: "the server refused the token (...)"), AMA_ESETUP
 * (unreachable server, named by its URL; no token file), AMA_ENET
 * (retries exhausted).
 *
 * Local mode: with [store] remote or staging unset, the bucket is the
 * file:// folder $XDG_DATA_HOME/ama/remote (or staging), as ama init pins
 * it; file:// folders are created when missing.
 *
 * HTTP mode: a connection is made within 10 s or given up; [server]
 * timeout (seconds, default 60) is the longest a request waits without a
 * byte going either way: a stopped server fails the call after that
 * long, with "no answer from URL for N s ([server] timeout)" (AMA_ENET),
 * and is not asked again. There is no limit on a whole request: a commit
 * the server works on for longer is answered 202 and its job asked until
 * the answer comes (each answer within the server's [limits]
 * commit-wait), and sent again if the server forgot the job. [server]
 * retries is the tries per request (default 4): reads, class
 * get-or-create and commits (idempotent by their commit id) are retried
 * on a failed connection and on 500, 502, 503 and 504; creating an asset
 * is retried only when the connection could not be made (nothing was
 * sent). A 503 with Retry-After (the server is busy or stopping, and did
 * nothing) is sent again after that many seconds (at most 30), for up to
 * 10 minutes in all, whatever the request.
 *
 * A client is used from one thread at a time; open one per thread.
 */
struct ama_client;

/*
 * Open a client from the merged configuration cfg, which must stay valid
 * until ama_client_close (in local mode the publisher reads it as it
 * opens stores). Returns 0, or AMA_ESETUP (bad [server] url, no or unsafe
 * token file, a bad store URL), or what ama_publish_open returns.
 */
int ama_client_open(struct ama_client **out, const struct ama_config *cfg);
void ama_client_close(struct ama_client *c);

/*
 * A client that reads the remote bucket at remote_url directly (the role
 * "remote": [s3] remote-profile; read access is enough), for a reader
 * that needs no server: classes, assets, versions and manifests, each
 * checked as lib/bucket.h checks them. It cannot create or commit
 * (AMA_ESETUP). Versions are listed from the bucket, and only the header
 * of each manifest a caller walks to is read.
 */
int ama_client_open_bucket(struct ama_client **out, const char *remote_url,
			   const struct ama_config *cfg);

/*
 * A client to read classes, assets and versions with: the server when
 * [server] url is http(s) (it answers from its repository, with the
 * user's token), else the remote bucket directly (ama_client_open_bucket
 * of remote_url; NULL: the one ama_settings_client_store_url gives).
 * Nothing is created either way (no publisher opened in this process).
 */
int ama_client_open_reader(struct ama_client **out,
			   const struct ama_config *cfg,
			   const char *remote_url);

/* Is the client publishing in this process ([server] url = local)? */
int ama_client_is_local(const struct ama_client *c);

/* What the publishing side says of a class: where its content lives. */
struct ama_client_class {
	struct ama_class_info info;
	char *staging;		/* bucket URLs */
	char *remote;
	char *s3_endpoint;	/* NULL when not S3 or not set */
	char *s3_region;
	char *s3_addressing;
};
void ama_client_class_release(struct ama_client_class *k);

/* The class called name, created if missing when create is set. */
int ama_client_class(struct ama_client *c, const char *name, int create,
		     struct ama_client_class *out);
/*
 * Record what the server said of a class in an asset's config (the
 * in-memory config of .ama/config, written by the caller): [class]
 * top-hash, staging, remote, s3-endpoint, s3-region, s3-addressing (see
 * lib/settings.h, which layers them under the user's own keys). Keys the
 * server left unset are removed.
 */
void ama_client_class_record(struct ama_config *asset_cfg,
			     const struct ama_client_class *k);
/*
 * A new asset of class, as ama_publish_asset_create: with a claim (NULL:
 * none) a repeat gets the number the first request was given, so a
 * request whose answer was lost can be sent again.
 */
int ama_client_asset_create(struct ama_client *c, const char *class,
			    const char *claim, uint64_t *seq);
/*
 * Commit, as ama_publish_commit. rq->author is ignored over HTTP (the
 * server takes the token's user); in local mode NULL means the login
 * name ($USER, else getpwuid). A commit that lost a race to another writer
 * of the asset (AMA_ECONFLICT: another process in local mode, another
 * server on the same bucket) is tried again, a few times: it is
 * idempotent. Over HTTP, rq->message must be valid UTF-8 (AMA_EINVAL).
 */
int ama_client_commit(struct ama_client *c,
		      const struct ama_commit_request *rq,
		      struct ama_commit_result *out);
int ama_client_versions(struct ama_client *c, const char *class,
			uint64_t seq, size_t max, ama_meta_version_fn fn,
			void *ctx);
int ama_client_manifest(struct ama_client *c, const char *class,
			uint64_t seq, const struct ama_version *version,
			struct ama_buf *out);

/* Every class, by name, and the assets of a class (as publish.h's). */
int ama_client_classes(struct ama_client *c, ama_publish_class_fn fn,
		       void *ctx);
int ama_client_assets(struct ama_client *c, const char *class,
		      ama_publish_asset_fn fn, void *ctx);

#endif
