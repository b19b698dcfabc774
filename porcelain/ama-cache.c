/* ama-cache: how much the shared download cache holds, and pruning it. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "error.h"
#include "progress.h"
#include "prog.h"

static const char usage_str[] =
	"ama cache [-q | --quiet] [prune [--max-size <size>]]";

int main(int argc, char **argv)
{
	struct ama_common c;
	const char *max = NULL;
	struct ama_option opts[] = {
		AMA_OPT_STRING(0, "max-size", &max),
		AMA_OPT_END,
	};
	struct ama_cache_usage u;
	struct ama_cache *cache = NULL;
	uint64_t limit = 0;
	char h1[32], h2[32];
	long removed = 0;
	int rc, prune;

	ama_setprogname("ama-cache");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	prune = argc == 1 && !strcmp(argv[0], "prune");
	if (argc > 1 || (argc && !prune))
		return ama_usage_error(&c, "the one subcommand is 'prune'");
	if (max && !prune)
		return ama_usage_error(&c, "--max-size goes with prune");
	if (max && ama_parse_size(max, &limit) < 0)
		return ama_usage_error(&c, "--max-size: '%s' is not a size",
				       max);
	rc = ama_cache_open(&cache, NULL);
	if (rc == 0 && prune) {
		removed = ama_cache_prune(cache, limit, NULL, NULL);
		rc = removed < 0 ? (int)removed : 0;
	}
	if (rc == 0)
		rc = ama_cache_usage(cache, &u);
	if (rc < 0) {
		rc = ama_report(NULL);
	} else if (!c.quiet) {
		ama_human_bytes(h1, (double)u.bytes);
		ama_human_bytes(h2, (double)u.partial_bytes);
		if (prune)
			printf("removed %ld contents; ", removed);
		printf("%s: %llu contents, %s; %llu partial, %s\n",
		       ama_cache_dir(cache), (unsigned long long)u.contents,
		       h1, (unsigned long long)u.partials, h2);
	}
	ama_cache_close(cache);
	return ama_finish(&c, fflush(stdout) && rc < 2 ? 2 : rc);
}
