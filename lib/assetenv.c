/* assetenv.c: an asset opened for work: its root, its merged configuration, its class, number and version. */
#include "auto-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assetenv.h"
#include "error.h"
#include "lockfile.h"
#include "manifest.h"
#include "settings.h"

static int read_seq(struct ama_asset_env *e)
{
	const char *s = ama_config_get(e->cfg, "asset", "seq");
	char *end;

	e->seq = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	e->seq = strtoull(s, &end, 10);
	if (*end || !e->seq || *s < '1' || *s > '9' || errno == ERANGE)
		return ama_error_setp(AMA_ESETUP, ".ama/config",
				      "[asset] seq: '%s' is not an asset "
				      "number", s);
	return 0;
}

/* The last error's reason, under key, about .ama/config. */
static int bad_key(const char *key)
{
	char why[512];

	/* (the error's own string cannot be an argument of its setter) */
	snprintf(why, sizeof(why), "%s", ama_error_msg());
	return ama_error_setp(AMA_ESETUP, ".ama/config", "[asset] %s: %s",
			      key, why);
}

static int read_class_version(struct ama_asset_env *e, unsigned flags)
{
	const char *v = ama_config_get(e->cfg, "asset", "version");

	/* read anew: ama_asset_env_set may have removed a key */
	e->has_version = 0;
	memset(&e->version, 0, sizeof(e->version));
	e->class = ama_config_get(e->cfg, "asset", "class");
	if (e->class && !*e->class)
		e->class = NULL;
	if (e->class && ama_manifest_check_class(e->class) < 0)
		return bad_key("class");
	if (!e->class && (flags & AMA_ASSET_NEED_CLASS))
		return ama_error_setp(AMA_ESETUP, ".ama/config",
				      "no [asset] class: run 'ama init "
				      "CLASS'");
	if (v && *v) {
		if (ama_version_parse(&e->version, v) < 0)
			return bad_key("version");
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

struct set {
	const char *const (*kv)[3];
	size_t n;
};

static int set_keys(struct ama_config *file, void *ctx)
{
	const struct set *w = ctx;
	size_t i;

	for (i = 0; i < w->n; i++)
		ama_config_put(file, w->kv[i][0], w->kv[i][1], w->kv[i][2]);
	return 0;
}

int ama_asset_env_set(struct ama_asset_env *e, const char *const kv[][3],
		      size_t n)
{
	struct set w = { kv, n };
	size_t i;
	int rc = ama_config_edit(".ama/config", set_keys, &w);

	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		ama_config_put(e->cfg, kv[i][0], kv[i][1], kv[i][2]);
	return read_class_version(e, 0);
}

/* With nothing configured, the embedded default, pinned into the asset. */
static int pin_defaults(struct ama_config *asset,
			const struct ama_config *user)
{
	static const char *const which[] = { "remote", "staging" };
	size_t i;

	if (ama_config_get(user, "server", "url") ||
	    ama_config_get(user, "store", "remote") ||
	    ama_config_get(user, "store", "staging"))
		return 0;
	ama_config_put(asset, "server", "url", "local");
	for (i = 0; i < 2; i++) {
		char *url = ama_settings_default_store_url(which[i]);

		if (!url)
			return AMA_ESETUP;
		ama_config_put(asset, "store", which[i], url);
		free(url);
	}
	return 0;
}

int ama_asset_make(const char *dir, const char *const kv[][3], size_t n)
{
	struct ama_buf tmp = AMA_BUF_INIT, file = AMA_BUF_INIT,
		final = AMA_BUF_INIT;
	struct ama_config *user = NULL, *cfg = NULL;
	size_t i;
	int rc;

	rc = ama_config_load(&user, NULL);
	if (rc < 0)
		return rc;
	/* "." names the folder as ama init's messages always have: ".ama" */
	if (strcmp(dir, ".")) {
		ama_buf_addf(&tmp, "%s/", dir);
		ama_buf_addf(&final, "%s/", dir);
	}
	ama_buf_addf(&tmp, ".ama.init-%ld", (long)getpid());
	ama_buf_addstr(&final, ".ama");
	if (mkdir(tmp.s, 0755) < 0) {
		rc = ama_error_setp_errno(AMA_ESETUP, final.s, "cannot create");
		goto out;
	}
	rc = ama_config_load_file(&cfg, "/nonexistent/ama");
	for (i = 0; i < n && rc == 0; i++)
		ama_config_put(cfg, kv[i][0], kv[i][1], kv[i][2]);
	if (rc == 0)
		rc = pin_defaults(cfg, user);
	if (rc < 0)
		goto fail;
	ama_buf_addf(&file, "%s/config", tmp.s);
	rc = ama_config_write(cfg, file.s);
	if (rc < 0)
		goto fail;
	if (rename(tmp.s, final.s) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			rc = ama_error_setp(AMA_EEXIST, final.s,
					    "already an ama asset");
		else
			rc = ama_error_setp_errno(AMA_ESETUP, final.s,
						  "cannot create");
		goto fail;
	}
	ama_buf_reset(&file);
	ama_buf_addf(&file, "%s/config", final.s);
	rc = ama_fsync_parent(file.s);
	if (rc == 0)
		rc = ama_fsync_parent(final.s);
	goto out;
fail:
	if (file.s)
		unlink(file.s);
	rmdir(tmp.s);
out:
	ama_config_free(user);
	ama_config_free(cfg);
	ama_buf_release(&tmp);
	ama_buf_release(&file);
	ama_buf_release(&final);
	return rc;
}
