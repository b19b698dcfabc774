/* ama-remove: drop index entries; the files stay on disk. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "prog.h"

static const char usage_str[] = "ama remove [-q | --quiet] <path>...";

/*
 * Remove the entries at or below each root-relative path in rel (n of
 * them; the operands as given in argv name them in messages). Returns how
 * many were removed; *status becomes 1 if an operand matched nothing.
 */
static size_t remove_all(struct ama_index *idx, char **rel, char **argv,
			 int n, int *status)
{
	size_t count = ama_index_count(idx), i, removed = 0;
	unsigned char *sel = ama_calloc(count ? count : 1, 1);
	struct ama_buf doomed = AMA_BUF_INIT;
	struct ama_index_entry *e;
	const char *p;
	int j;

	for (j = 0; j < n; j++)
		if (!ama_index_select(idx, rel[j], strlen(rel[j]), sel)) {
			ama_msg_path(argv[j], "not in the index");
			*status = 1;
		}
	/* collect first: removing invalidates the entry array */
	e = ama_index_entries(idx, &count);
	for (i = 0; i < count; i++)
		if (sel[i])
			ama_buf_add(&doomed, e[i].path, e[i].path_len + 1);
	for (p = doomed.s; p && p < doomed.s + doomed.len; p += strlen(p) + 1)
		if (ama_index_remove(idx, p, strlen(p)) == 0)
			removed++;
	ama_buf_release(&doomed);
	free(sel);
	return removed;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset asset;
	struct ama_index *idx = NULL;
	struct ama_buf ipath = AMA_BUF_INIT;
	char **rel;
	size_t removed = 0;
	int rc = 0, status = 0, j;

	ama_setprogname("ama-remove");
	if (ama_parse_options(&argc, &argv, NULL, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (argc < 1)
		return ama_usage_error(&c, "which paths?");
	/* an unset "$var" must not mean "everything" */
	for (j = 0; j < argc; j++)
		if (!*argv[j])
			return ama_usage_error(&c,
				"empty path (use '.' for this folder)");
	if (ama_asset_find(&asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	rel = ama_calloc((size_t)argc + 1, sizeof(*rel));
	for (j = 0; j < argc && rc == 0; j++) {
		struct ama_buf b = AMA_BUF_INIT;

		rc = ama_asset_path(&b, &asset, argv[j]);
		rel[j] = ama_buf_detach(&b);
	}
	if (rc == 0 && chdir(asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, asset.root,
					  "cannot enter");
	/* absolute, so that messages name it from anywhere */
	ama_buf_addf(&ipath, "%s/.ama/index", asset.root);
	if (rc == 0)
		rc = ama_index_lock_and_load(&idx, ipath.s);
	if (rc == 0) {
		removed = remove_all(idx, rel, argv, argc, &status);
		rc = removed ? ama_index_write_and_commit(idx) : 0;
	}
	if (rc < 0) {
		ama_report(NULL);
		status = 2;
	} else if (!c.quiet) {
		struct ama_buf line = AMA_BUF_INIT;

		ama_buf_addf(&line,
			     "removed %zu file%s from the index; %s on disk\n",
			     removed, removed == 1 ? "" : "s",
			     removed == 1 ? "it stays" : "they stay");
		ama_writer_raw(&c.out, line.s, line.len);
		ama_buf_release(&line);
	}
	ama_index_free(idx);
	for (j = 0; j < argc; j++)
		free(rel[j]);
	free(rel);
	ama_buf_release(&ipath);
	ama_asset_release(&asset);
	return ama_finish(&c, status);
}
