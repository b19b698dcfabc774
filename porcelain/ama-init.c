/* ama-init: make the working folder an asset of a class (.ama/ with its config). */
#include "auto-config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "lockfile.h"
#include "manifest.h"
#include "prog.h"
#include "xdg.h"

static const char usage_str[] = "ama init [-q | --quiet] <class>";

/* Refuse inside an asset or over one. */
static int check_not_in_asset(void)
{
	struct ama_asset a;
	char *cwd;
	int rc;

	if (ama_asset_find(&a) < 0)
		return 0;
	cwd = realpath(".", NULL);
	if (cwd && !strcmp(cwd, a.root))
		rc = ama_error_setp(AMA_ESETUP, ".ama", "already an ama asset");
	else
		rc = ama_error_setp(AMA_ESETUP, a.root,
				    "inside this ama asset; "
				    "assets do not nest");
	free(cwd);
	ama_asset_release(&a);
	return rc;
}

/*
 * With nothing configured, pin the embedded default into the asset: the
 * server is local and both buckets are file:// folders in ama's folder of
 * the XDG data home (lib/xdg.h), so the asset keeps its store however the
 * environment changes later. Fails only when there is no home folder.
 */
static int pin_defaults(struct ama_config *asset,
			const struct ama_config *user)
{
	static const char *const which[] = { "remote", "staging" };
	struct ama_buf url = AMA_BUF_INIT;
	char *dir;
	size_t i;
	int rc = 0;

	if (ama_config_get(user, "server", "url") ||
	    ama_config_get(user, "store", "remote") ||
	    ama_config_get(user, "store", "staging"))
		return 0;
	ama_config_put(asset, "server", "url", "local");
	for (i = 0; i < 2 && rc == 0; i++) {
		rc = ama_xdg_path(&dir, AMA_XDG_DATA, which[i]);
		if (rc < 0)
			break;
		ama_buf_reset(&url);
		ama_buf_addf(&url, "file://%s", dir);
		ama_config_put(asset, "store", which[i], url.s);
		free(dir);
	}
	ama_buf_release(&url);
	return rc;
}

/* Build .ama in a private folder and rename it into place: all or nothing. */
static int make_dotama(const char *class)
{
	struct ama_buf tmp = AMA_BUF_INIT, file = AMA_BUF_INIT;
	struct ama_config *user = NULL, *cfg = NULL;
	int rc;

	rc = ama_config_load(&user, NULL);
	if (rc < 0)
		return rc;
	ama_buf_addf(&tmp, ".ama.init-%ld", (long)getpid());
	if (mkdir(tmp.s, 0755) < 0) {
		rc = ama_error_setp_errno(AMA_ESETUP, ".ama", "cannot create");
		goto out;
	}
	rc = ama_config_load_file(&cfg, "/nonexistent/ama");
	if (rc < 0)
		goto fail;
	ama_config_put(cfg, "asset", "class", class);
	rc = pin_defaults(cfg, user);
	if (rc < 0)
		goto fail;
	ama_buf_addf(&file, "%s/config", tmp.s);
	rc = ama_config_write(cfg, file.s);
	if (rc < 0)
		goto fail;
	if (rename(tmp.s, ".ama") < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			rc = ama_error_setp(AMA_ESETUP, ".ama",
					    "already an ama asset");
		else
			rc = ama_error_setp_errno(AMA_ESETUP, ".ama",
						  "cannot create");
		goto fail;
	}
	rc = ama_fsync_parent(".ama/config");
	if (rc == 0)
		rc = ama_fsync_parent(".ama");
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
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	char *cwd;
	int rc;

	ama_setprogname("ama-init");
	if (ama_parse_options(&argc, &argv, NULL, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (argc != 1)
		return ama_usage_error(&c, "wants one class name");
	if (ama_manifest_check_class(argv[0]) < 0) {
		ama_msg_path(argv[0], "%s", ama_error_msg());
		return 2;
	}
	rc = check_not_in_asset();
	if (rc == 0)
		rc = make_dotama(argv[0]);
	if (rc < 0) {
		ama_report(NULL);
		return 2;
	}
	if (!c.quiet) {
		struct ama_buf dir = AMA_BUF_INIT, line = AMA_BUF_INIT;

		cwd = realpath(".", NULL);
		ama_buf_addf(&dir, "%s/.ama/", cwd ? cwd : ".");
		ama_buf_addf(&line,
			     "Initialized empty ama asset of class %s in ",
			     argv[0]);
		/* the folder's name may hold a newline: quoted as paths are */
		ama_quote_path(&line, dir.s, dir.len);
		ama_buf_addch(&line, '\n');
		ama_writer_raw(&c.out, line.s, line.len);
		ama_buf_release(&dir);
		ama_buf_release(&line);
		free(cwd);
	}
	return ama_finish(&c, 0);
}
