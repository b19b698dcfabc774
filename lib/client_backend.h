/* client_backend.h: the backends behind lib/client.c (in-process, HTTP, bucket-only reader), private to them. */
#ifndef AMA_CLIENT_BACKEND_H
#define AMA_CLIENT_BACKEND_H

#include "client.h"

/*
 * A client is one backend behind one table of operations, as a store is
 * (lib/store_backend.h):
 *   local   lib/client_local.c: lib/publish.c in this process;
 *   http    lib/client_http.c: ama-server over HTTP, a bearer token;
 *   bucket  lib/client_bucket.c: the remote bucket read directly, for a
 *           reader that needs no server: reads only.
 * lib/client.c checks the arguments, then calls the backend. A backend
 * that cannot write leaves asset_create and commit NULL.
 */
struct ama_client_ops {
	const char *name;
	int local;		/* publishes in this process */
	void (*close)(void *b);
	int (*klass)(void *b, const char *name, int create,
		     struct ama_client_class *out);
	int (*classes)(void *b, ama_publish_class_fn fn, void *ctx);
	int (*asset_create)(void *b, const char *class, const char *claim,
			    uint64_t *seq);
	int (*assets)(void *b, const char *class, ama_publish_asset_fn fn,
		      void *ctx);
	int (*commit)(void *b, const struct ama_commit_request *rq,
		      struct ama_commit_result *out);
	int (*versions)(void *b, const char *class, uint64_t seq, size_t max,
			ama_meta_version_fn fn, void *ctx);
	int (*manifest)(void *b, const char *class, uint64_t seq,
			const struct ama_version *version,
			struct ama_buf *out);
};

extern const struct ama_client_ops ama_client_local_ops;
extern const struct ama_client_ops ama_client_http_ops;
extern const struct ama_client_ops ama_client_bucket_ops;

/* The backends' openers: *out is the backend's own state. */
int ama_client_local_open(void **out, const struct ama_config *cfg);
int ama_client_bucket_open(void **out, const char *remote_url,
			   const struct ama_config *cfg);

/*
 * The HTTP backend, as lib/client_http.c has it. url: "http://HOST[:PORT]
 * [/PREFIX]" or https; cfg: [server] keys.
 */
struct ama_client_http;
int ama_client_http_open(struct ama_client_http **out, const char *url,
			 const struct ama_config *cfg);
void ama_client_http_close(struct ama_client_http *h);
int ama_client_http_class(struct ama_client_http *h, const char *name,
			  int create, struct ama_client_class *out);
int ama_client_http_classes(struct ama_client_http *h,
			    ama_publish_class_fn fn, void *ctx);
int ama_client_http_asset_create(struct ama_client_http *h,
				 const char *class, const char *claim,
				 uint64_t *seq);
int ama_client_http_assets(struct ama_client_http *h, const char *class,
			   ama_publish_asset_fn fn, void *ctx);
int ama_client_http_commit(struct ama_client_http *h,
			   const struct ama_commit_request *rq,
			   struct ama_commit_result *out);
int ama_client_http_versions(struct ama_client_http *h, const char *class,
			     uint64_t seq, size_t max,
			     ama_meta_version_fn fn, void *ctx);
int ama_client_http_manifest(struct ama_client_http *h, const char *class,
			     uint64_t seq, const struct ama_version *version,
			     struct ama_buf *out);

/* Expand a leading "~/" with $HOME; caller frees. */
char *ama_client_expand_home(const char *path);

/* Copy a string, or NULL for NULL. */
char *ama_client_dup(const char *s);

#endif
