/* ama-fetch: bring .ama/meta up to date with every published version of the asset. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "assetenv.h"
#include "error.h"
#include "prog.h"
#include "readenv.h"

static const char usage_str[] = "ama fetch [-q | --quiet]";

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset_env e;
	struct ama_readenv r;
	struct ama_version v;
	char vs[AMA_VERSION_BUFSIZE];
	int rc;

	ama_setprogname("ama-fetch");
	if (ama_parse_options(&argc, &argv, NULL, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "takes no operands");
	rc = ama_readenv_open_asset(&r, &e);
	if (rc == 0)
		rc = ama_readenv_fetch(&r, e.seq);
	if (rc >= 0 && !c.quiet) {
		int n = rc;

		rc = ama_readenv_newest(&r, e.seq, &v);
		ama_version_format(vs, &v);
		if (rc == 0 && n)
			printf("fetched %d new version%s of %s/%llu; the "
			       "newest is %s\n", n, n == 1 ? "" : "s",
			       e.class, (unsigned long long)e.seq, vs);
		else if (rc == 0)
			printf("%s/%llu: up to date, the newest is %s\n",
			       e.class, (unsigned long long)e.seq, vs);
	}
	if (rc < 0)
		rc = ama_report(NULL);
	else
		rc = 0;
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
	return ama_finish(&c, fflush(stdout) && rc < 2 ? 2 : rc);
}
