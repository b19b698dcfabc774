/* settings.c: layering what the server said of a class under the user's own settings. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "settings.h"
#include "xdg.h"

static const char *const pairs[][4] = {
	{ "store", "staging", "class", "staging" },
	{ "store", "remote", "class", "remote" },
	{ "s3", "endpoint", "class", "s3-endpoint" },
	{ "s3", "region", "class", "s3-region" },
	{ "s3", "addressing", "class", "s3-addressing" },
};

void ama_settings_apply_class(struct ama_config *cfg)
{
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *given = ama_config_get(cfg, pairs[i][2],
						   pairs[i][3]);

		if (given && *given &&
		    !ama_config_get(cfg, pairs[i][0], pairs[i][1]))
			ama_config_put(cfg, pairs[i][0], pairs[i][1], given);
	}
}

const char *ama_settings_store_url(const struct ama_config *cfg,
				   const char *which)
{
	const char *url = ama_config_get(cfg, "store", which);

	if (url && *url)
		return url;
	ama_error_set(AMA_ESETUP,
		      "no %s bucket: set [store] %s, or run 'ama upload' "
		      "once to ask the server", which, which);
	return NULL;
}

const char *ama_settings_top_hash(const struct ama_config *cfg)
{
	const char *h = ama_config_get(cfg, "class", "top-hash");
	struct ama_md5 m;

	if (!h || !*h) {
		ama_error_set(AMA_ESETUP,
			      "the asset's class has no top hash yet: run "
			      "'ama upload' once, or set [class] top-hash");
		return NULL;
	}
	if (ama_md5_from_hex(&m, h) < 0) {
		ama_error_set(AMA_ESETUP,
			      "[class] top-hash: '%s' is not 32 lowercase "
			      "hex digits", h);
		return NULL;
	}
	return h;
}

char *ama_settings_default_store_url(const char *which)
{
	struct ama_buf url = AMA_BUF_INIT;
	char *dir = NULL;

	if (ama_xdg_path(&dir, AMA_XDG_DATA, which) < 0)
		return NULL;
	ama_buf_addf(&url, "file://%s", dir);
	free(dir);
	return ama_buf_detach(&url);
}

char *ama_settings_client_store_url(const struct ama_config *cfg,
				    const char *which)
{
	const char *url = ama_config_get(cfg, "store", which);
	const char *server = ama_config_get(cfg, "server", "url");

	if (url && *url)
		return ama_strdup(url);
	if (server && *server && strcmp(server, "local")) {
		ama_error_set(AMA_ESETUP, "no %s bucket: set [store] %s, or "
			      "ask the server (%s)", which, which, server);
		return NULL;
	}
	return ama_settings_default_store_url(which);
}
