/* ama-diff: what changed between two versions, or between a version and the work tree. */
#include "auto-config.h"

#include <string.h>

#include "assetenv.h"
#include "changes.h"
#include "error.h"
#include "index.h"
#include "meta.h"
#include "prog.h"

static const char usage_str[] =
	"ama diff [--name-status | --stat] [-z] [<version> [<version>]] "
	"[-- <pathspec>...]";

/* The version named text (NULL: the one .ama/config says) into out. */
static int find(struct ama_meta *m, const struct ama_asset_env *e,
		const char *text, struct ama_meta_version *out)
{
	struct ama_version v;

	if (!text) {
		if (!e->has_version)
			return ama_error_set(AMA_ENOTFOUND, "the asset is at no"
					     " version yet (ama upload)");
		v = e->version;
	} else if (ama_version_parse(&v, text) < 0) {
		return AMA_EINVAL;
	}
	return ama_meta_find_version(m, out, e->class, e->seq, &v);
}

int main(int argc, char **argv)
{
	struct ama_common c;
	int name_status = 0, stat = 0, i, rc;
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "name-status", &name_status),
		AMA_OPT_FLAG(0, "stat", &stat),
		AMA_OPT_END,
	};
	struct ama_meta_version a, b;
	struct ama_changes ch = { NULL, 0, 0 };
	struct ama_pathspec ps;
	struct ama_asset_env e;
	struct ama_index *idx = NULL;
	struct ama_meta *m = NULL;
	char **specs = NULL;
	size_t nspecs = 0;

	ama_setprogname("ama-diff");
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			specs = argv + i + 1;
			nspecs = (size_t)(argc - i - 1);
			argc = i;
			break;
		}
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &c,
			      usage_str) < 0)
		return 2;
	if (argc > 2)
		return ama_usage_error(&c, "at most two versions");
	if (name_status && stat)
		return ama_usage_error(&c, "--name-status or --stat, not both");
	for (i = 0; i < argc; i++) {
		struct ama_version v;

		if (ama_version_parse(&v, argv[i]) < 0)
			return ama_usage_error(&c, "%s", ama_error_msg());
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&ps, 0, sizeof(ps));
	rc = ama_asset_env_open(&e, AMA_ASSET_ENTER | AMA_ASSET_NEED_CLASS);
	if (rc == 0)
		rc = ama_pathspec_parse(&ps, &e.a, specs, nspecs);
	if (rc == 0 && !e.seq)
		rc = ama_error_set(AMA_ENOTFOUND, "no versions yet: the asset "
				   "was never uploaded (ama upload)");
	if (rc == 0)
		rc = ama_meta_open(&m, ".ama/meta", 0);
	if (rc == 0)
		rc = find(m, &e, argc ? argv[0] : NULL, &a);
	if (rc == 0 && argc == 2) {
		rc = find(m, &e, argv[1], &b);
		if (rc == 0)
			rc = ama_changes_versions(&ch, m, &a, &b, &ps);
	} else if (rc == 0) {
		rc = ama_index_load(&idx, ".ama/index");
		if (rc == 0)
			rc = ama_changes_worktree(&ch, m, &a, idx, &ps);
	}
	if (rc < 0) {
		rc = ama_report(NULL);
	} else {
		ama_changes_write(&c.out, &ch, name_status ?
				  AMA_CHANGES_NAME_STATUS : stat ?
				  AMA_CHANGES_STAT : AMA_CHANGES_HUMAN);
		rc = 0;
	}
	ama_changes_release(&ch);
	ama_meta_version_release(&a);
	ama_meta_version_release(&b);
	ama_index_free(idx);
	if (m)
		ama_meta_close(m);
	ama_pathspec_release(&ps);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
