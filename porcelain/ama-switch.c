/* ama-switch: make the work tree hold another version of the asset. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "assetenv.h"
#include "error.h"
#include "prog.h"
#include "readenv.h"
#include "store.h"

static const char usage_str[] =
	"ama switch [-q | --quiet] [-j <n>] [--force] [--link=hard] <version>";

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_worktree_opts o;
	struct ama_worktree_stats st;
	struct ama_asset_env e;
	struct ama_readenv r;
	struct ama_version to;
	const char *link = NULL;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &o.jobs),
		AMA_OPT_FLAG(0, "force", &o.force),
		AMA_OPT_STRING(0, "link", &link),
		AMA_OPT_END,
	};
	int rc;

	memset(&o, 0, sizeof(o));
	o.jobs = -1;
	ama_setprogname("ama-switch");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (argc != 1)
		return ama_usage_error(&c, "wants one version");
	if (ama_readenv_cli(&o, c.progress, link) < 0)
		return ama_usage_error(&c, "%s", ama_error_msg());
	if (ama_version_parse(&to, argv[0]) < 0)
		return ama_usage_error(&c, "%s", ama_error_msg());
	rc = ama_readenv_open_asset(&r, &e);
	if (rc == 0)
		rc = ama_readenv_switch(&r, &e, &to, &o, &st);
	if (rc < 0) {
		rc = ama_report(NULL);
	} else if (rc == 1 && st.refused) {
		ama_msg("nothing changed: %zu paths to settle first", st.refused);
	} else if (!c.quiet) {
		printf("switched %s/%llu to %s: %zu placed, %zu removed%s\n",
		       e.class, (unsigned long long)e.seq, argv[0], st.placed,
		       st.removed,
		       rc ? "; some failed (ama download retries them)" : "");
	}
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
	rc = ama_finish(&c, fflush(stdout) && rc < 2 ? 2 : rc);
	ama_store_signal_exit();
	return rc;
}
