/* remote.c: a class's published bucket, found and opened for reading the way every client finds it. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "error.h"
#include "ref.h"
#include "remote.h"
#include "settings.h"

/* Ask the configured server where the class lives; into cfg's memory. */
static int ask_server(struct ama_config *cfg, const char *class)
{
	struct ama_client *cl = NULL;
	struct ama_client_class k;
	int rc = ama_client_open(&cl, cfg);

	memset(&k, 0, sizeof(k));
	if (rc == 0)
		rc = ama_client_class(cl, class, 0, &k);
	if (rc == 0) {
		ama_client_class_record(cfg, &k);
		ama_settings_apply_class(cfg);
	}
	ama_client_class_release(&k);
	ama_client_close(cl);
	return rc;
}

int ama_remote_open(struct ama_remote *out, struct ama_config *cfg,
		    const char *class)
{
	const char *server = ama_config_get(cfg, "server", "url");
	int rc;

	memset(out, 0, sizeof(*out));
	ama_settings_apply_class(cfg);
	if (!ama_config_get(cfg, "store", "remote") && server && *server &&
	    strcmp(server, "local")) {
		rc = ask_server(cfg, class);
		if (rc < 0)
			return rc;
	}
	out->url = ama_settings_client_store_url(cfg, "remote");
	if (!out->url)
		return AMA_ESETUP;
	rc = ama_store_open(&out->store, out->url, cfg, "remote");
	if (rc == 0)
		rc = ama_bucket_class(out->store, class, &out->cls);
	if (rc < 0)
		ama_remote_close(out);
	return rc;
}

void ama_remote_close(struct ama_remote *r)
{
	ama_store_close(r->store);
	free(r->url);
	memset(r, 0, sizeof(*r));
}

int ama_remote_resolve(struct ama_remote *r, const struct ama_ref *ref,
		       uint64_t *seq, struct ama_version *v)
{
	struct ama_version *all = NULL;
	size_t n = 0;
	int rc = 0;

	*seq = ref->seq;
	if (!*seq)
		rc = ama_bucket_alias(r->store, &r->cls, ref->alias, seq);
	if (rc < 0)
		return rc;
	if (ref->has_version) {
		*v = ref->version;
		return 0;
	}
	rc = ama_bucket_versions(r->store, &r->cls, *seq, &all, &n);
	if (rc == 0 && n == 0)
		rc = ama_error_set(AMA_ENOTFOUND, "%s/%llu has no version yet",
				   r->cls.name, (unsigned long long)*seq);
	if (rc == 0)
		*v = all[n - 1];
	free(all);
	return rc;
}
