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
#include "assetenv.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "manifest.h"
#include "prog.h"

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
	if (rc == 0) {
		const char *kv[][3] = { { "asset", "class", argv[0] } };

		rc = ama_asset_make(".", kv, 1);
	}
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
