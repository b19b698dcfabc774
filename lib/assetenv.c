/* assetenv.c: an asset opened for work: its root, its merged configuration, its class, number and version. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assetenv.h"
#include "error.h"
#include "manifest.h"
#include "settings.h"

static int read_seq(struct ama_asset_env *e)
{
	const char *s = ama_config_get(e->cfg, "asset", "seq");
	char *end;

	if (!s || !*s)
		return 0;
	e->seq = strtoull(s, &end, 10);
	if (*end || !e->seq || *s < '1' || *s > '9')
		return ama_error_setp(AMA_ESETUP, ".ama/config",
				      "[asset] seq: '%s' is not an asset "
				      "number", s);
	return 0;
}

static int read_class_version(struct ama_asset_env *e, unsigned flags)
{
	const char *v = ama_config_get(e->cfg, "asset", "version");

	e->class = ama_config_get(e->cfg, "asset", "class");
	if (e->class && !*e->class)
		e->class = NULL;
	if (e->class && ama_manifest_check_class(e->class) < 0)
		return ama_error_setp(AMA_ESETUP, ".ama/config",
				      "[asset] class: %s", ama_error_msg());
	if (!e->class && (flags & AMA_ASSET_NEED_CLASS))
		return ama_error_setp(AMA_ESETUP, ".ama/config",
				      "no [asset] class: run 'ama init "
				      "CLASS'");
	if (v && *v) {
		if (ama_version_parse(&e->version, v) < 0)
			return ama_error_setp(AMA_ESETUP, ".ama/config",
					      "[asset] version: %s",
					      ama_error_msg());
		e->has_version = 1;
	}
	return read_seq(e);
}

int ama_asset_env_open(struct ama_asset_env *out, unsigned flags)
{
	struct ama_buf file = AMA_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ama_asset_find(&out->a);
	if (rc < 0) {
		if (!(flags & AMA_ASSET_OPTIONAL))
			return rc;
		ama_error_clear();
		ama_asset_release(&out->a);
		rc = ama_config_load(&out->cfg, NULL);
		if (rc == 0)
			ama_settings_apply_class(out->cfg);
		return rc;
	}
	if ((flags & AMA_ASSET_ENTER) && chdir(out->a.root) < 0)
		return ama_error_setp_errno(AMA_ESETUP, out->a.root,
					    "cannot enter");
	ama_buf_addf(&file, "%s/.ama/config", out->a.root);
	rc = ama_config_load(&out->cfg, file.s);
	ama_buf_release(&file);
	if (rc < 0)
		return rc;
	ama_settings_apply_class(out->cfg);
	return read_class_version(out, flags);
}

void ama_asset_env_close(struct ama_asset_env *e)
{
	ama_config_free(e->cfg);
	ama_asset_release(&e->a);
	memset(e, 0, sizeof(*e));
}

int ama_asset_env_set(struct ama_asset_env *e, const char *const kv[][3],
		      size_t n)
{
	struct ama_config *file = NULL;
	size_t i;
	int rc = ama_config_load_file(&file, ".ama/config");

	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		ama_config_put(file, kv[i][0], kv[i][1], kv[i][2]);
		ama_config_put(e->cfg, kv[i][0], kv[i][1], kv[i][2]);
	}
	rc = ama_config_write(file, ".ama/config");
	ama_config_free(file);
	if (rc == 0)
		rc = read_class_version(e, 0);
	return rc;
}
