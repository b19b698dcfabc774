/* client_backend.h: the HTTP side of lib/client.c (lib/client_http.c), private to the two. */
#ifndef AMA_CLIENT_BACKEND_H
#define AMA_CLIENT_BACKEND_H

#include "client.h"

/*
 * The calls of client.h over HTTP to ama-server, with the same meaning and
 * errors; lib/client.c has checked their arguments (class names) already.
 */
struct ama_client_http;

/* url: "http://HOST[:PORT][/PREFIX]" or https; cfg: [server] keys. */
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

#endif
