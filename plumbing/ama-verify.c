/* ama-verify: tell whether the files of index entries are ok, modified or deleted. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "prog.h"
#include "verify.h"

static const char usage_str[] =
	"ama-verify [-z] [-j <n>] [--stdin] [<path>...]";

struct vf {
	struct ama_common *c;
	struct ama_asset asset;
	struct ama_index *idx;
	unsigned char *sel;
	struct ama_buf path;
	int status;
};

static int select_one(struct ama_common *c, const struct ama_record *rec,
		      void *ctx)
{
	struct vf *v = ctx;

	(void)c;
	return ama_index_select_path(v->idx, &v->asset, rec->path, v->sel);
}

static int report_one(const struct ama_verify_result *r, void *ctx)
{
	struct vf *v = ctx;

	ama_buf_reset(&v->path);
	ama_asset_display(&v->path, &v->asset, r->entry->path);
	if (r->verdict == AMA_VERDICT_ERROR) {
		/* named as the user sees it, from the working folder */
		ama_msg_path(v->path.s, "%s", r->msg);
		v->status = 1;
		return 0;
	}
	if (r->verdict != AMA_VERDICT_OK)
		v->status = 1;
	ama_record_write(&v->c->out, ama_verdict_name(r->verdict),
			 v->path.s, v->path.len);
	return 0;
}

/* Check the selected entries from the asset root; refresh what changed. */
static int verify(struct vf *v, int jobs)
{
	struct ama_refresh_list refresh = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	size_t n = ama_index_count(v->idx), i, k = 0;
	size_t *pos = ama_malloc((n ? n : 1) * sizeof(*pos));
	int rc;

	for (i = 0; i < n; i++)
		if (v->sel[i])
			pos[k++] = i;
	memset(&o, 0, sizeof(o));
	o.jobs = jobs;
	o.pos = pos;
	o.npos = k;
	o.fn = report_one;
	o.ctx = v;
	o.refresh = &refresh;
	if (chdir(v->asset.root) < 0) {
		ama_error_setp_errno(AMA_ESETUP, v->asset.root,
				     "cannot enter");
		rc = ama_report(NULL);
		goto out;
	}
	ama_verify_run(v->idx, &o);
	/* an optimisation: another writer, or a read-only asset, skips it */
	rc = ama_verify_refresh(ama_index_path(v->idx), &refresh);
	if (rc < 0 && rc != AMA_ELOCKED)
		rc = ama_report(NULL);
	else
		rc = v->status;
out:
	ama_refresh_list_release(&refresh);
	free(pos);
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct vf v;
	struct ama_buf ipath = AMA_BUF_INIT;
	int status = 0;

	memset(&v, 0, sizeof(v));
	v.c = &c;
	ama_setprogname("ama-verify");
	if (ama_parse_options(&argc, &argv, NULL,
			      AMA_COMMON_Z | AMA_COMMON_STDIN |
			      AMA_COMMON_JOBS, &c, usage_str) < 0)
		return 2;
	if (argc && c.use_stdin)
		return ama_usage_error(&c, "--stdin takes no operands");
	if (ama_asset_find(&v.asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	ama_buf_addf(&ipath, "%s/.ama/index", v.asset.root);
	if (ama_index_load(&v.idx, ipath.s) < 0) {
		status = ama_report(NULL);
		goto out;
	}
	v.sel = ama_calloc(ama_index_count(v.idx) + 1, 1);
	if (argc == 0 && !c.use_stdin) {
		/* from a subfolder, what is below it, as ama-ls-files */
		size_t len = strlen(v.asset.prefix);

		ama_index_select(v.idx, v.asset.prefix, len ? len - 1 : 0,
				 v.sel);
	} else {
		/* paths only choose; the verdicts come in index order */
		status = ama_for_each_record(&c, argc, argv, AMA_INPUT_PATHS,
					     select_one, &v);
		if (status == 2)
			goto out;
	}
	v.status = status;
	status = ama_finish(&c, verify(&v, c.jobs));
out:
	free(v.sel);
	ama_index_free(v.idx);
	ama_asset_release(&v.asset);
	ama_buf_release(&v.path);
	ama_buf_release(&ipath);
	return status;
}
