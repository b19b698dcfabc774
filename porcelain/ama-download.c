/* ama-download: fill in files of the current version that the work tree lacks. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "assetenv.h"
#include "error.h"
#include "pathspec.h"
#include "prog.h"
#include "readenv.h"
#include "store.h"

static const char usage_str[] =
	"ama download [-q | --quiet] [-j <n>] [--link=hard] [<pathspec>...]";

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_worktree_opts o;
	struct ama_worktree_stats st;
	struct ama_pathspec ps;
	struct ama_asset_env e;
	struct ama_readenv r;
	const char *link = NULL;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &o.jobs),
		AMA_OPT_STRING(0, "link", &link),
		AMA_OPT_END,
	};
	int rc;

	memset(&o, 0, sizeof(o));
	o.jobs = -1;
	memset(&ps, 0, sizeof(ps));
	memset(&st, 0, sizeof(st));
	ama_setprogname("ama-download");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (ama_readenv_cli(&o, c.progress, link) < 0)
		return ama_usage_error(&c, "%s", ama_error_msg());
	rc = ama_readenv_open_asset(&r, &e);
	/* pathspecs are relative to where the user stands */
	if (rc == 0)
		rc = ama_pathspec_parse(&ps, &e.a, argv, (size_t)argc);
	if (rc == 0) {
		ama_readenv_worktree_opts(&r, &o);
		rc = ama_worktree_download(&o, &ps, &st);
	}
	if (rc < 0)
		rc = ama_report(NULL);
	else if (!c.quiet)
		printf("%zu files placed, %zu already there%s\n", st.placed,
		       st.kept, rc ? "; some failed" : "");
	ama_pathspec_release(&ps);
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
	rc = ama_finish(&c, fflush(stdout) && rc < 2 ? 2 : rc);
	ama_store_signal_exit();
	return rc;
}
