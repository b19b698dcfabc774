/* ama-ls-files: print the index entries, all or those at or below the paths given. */
#include "auto-config.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "prog.h"

static const char usage_str[] =
	"ama-ls-files [-z] [--state=<state>] [--stat] [<path>...]";

struct ls {
	struct ama_asset asset;
	struct ama_index *idx;
	unsigned char *sel;
};

static int select_one(struct ama_common *c, const struct ama_record *rec,
		      void *ctx)
{
	struct ls *ls = ctx;

	(void)c;
	return ama_index_select_path(ls->idx, &ls->asset, rec->path, ls->sel);
}

static void print(struct ama_common *c, struct ls *ls, int state, int stat)
{
	struct ama_buf fields = AMA_BUF_INIT, path = AMA_BUF_INIT;
	struct ama_index_entry *e;
	size_t n, i;

	e = ama_index_entries(ls->idx, &n);
	for (i = 0; i < n; i++) {
		char hex[AMA_MD5_HEXLEN + 1];

		if (!ls->sel[i] || (state >= 0 && e[i].state != state))
			continue;
		ama_md5_to_hex(hex, &e[i].md5);
		ama_buf_reset(&fields);
		ama_buf_addf(&fields, "%s %" PRIu64 "%s %s", hex,
			     e[i].st.size, S_ISLNK(e[i].st.mode) ? " link" : "",
			     ama_state_name(e[i].state));
		if (stat)
			ama_buf_addf(&fields, " %" PRId64 " %" PRId64 " %"
				     PRIu64 " %" PRIu32 " %s",
				     e[i].st.mtime_ns, e[i].st.ctime_ns,
				     e[i].st.ino, e[i].st.nlink,
				     e[i].flags & AMA_ENTRY_RACY ? "racy" : "-");
		ama_buf_reset(&path);
		ama_asset_display(&path, &ls->asset, e[i].path);
		ama_record_write(&c->out, fields.s, path.s, path.len);
	}
	ama_buf_release(&fields);
	ama_buf_release(&path);
}

int main(int argc, char **argv)
{
	struct ama_common c;
	const char *state_name = NULL;
	int stat = 0, state = -1, status = 0;
	struct ama_option opts[] = {
		AMA_OPT_STRING(0, "state", &state_name),
		AMA_OPT_FLAG(0, "stat", &stat),
		AMA_OPT_END,
	};
	struct ls ls = { { NULL, NULL }, NULL, NULL };
	struct ama_buf ipath = AMA_BUF_INIT;

	ama_setprogname("ama-ls-files");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &c,
			      usage_str) < 0)
		return 2;
	if (state_name) {
		enum ama_state s;

		if (ama_state_parse(&s, state_name) < 0)
			return ama_usage_error(&c, "%s", ama_error_msg());
		state = (int)s;
	}
	if (ama_asset_find(&ls.asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	ama_buf_addf(&ipath, "%s/.ama/index", ls.asset.root);
	if (ama_index_load(&ls.idx, ipath.s) < 0) {
		status = 2;
		ama_report(NULL);
		goto out;
	}
	ls.sel = ama_calloc(ama_index_count(ls.idx) + 1, 1);
	if (argc == 0) {
		/* from a subfolder, what is below it, as git ls-files */
		size_t len = strlen(ls.asset.prefix);

		ama_index_select(ls.idx, ls.asset.prefix, len ? len - 1 : 0,
				 ls.sel);
	} else {
		/* operands (or "-": stdin) only choose; output comes after */
		status = ama_for_each_record(&c, argc, argv, AMA_INPUT_PATHS,
					     select_one, &ls);
		if (status == 2)
			goto out;
	}
	print(&c, &ls, state, stat);
	status = ama_finish(&c, status);
out:
	free(ls.sel);
	ama_index_free(ls.idx);
	ama_asset_release(&ls.asset);
	ama_buf_release(&ipath);
	return status;
}
