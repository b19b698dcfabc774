/* ama-remove: drop index entries; the files stay on disk. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "prog.h"

static const char usage_str[] = "ama remove [-q | --quiet] <path>...";

/* What was removed: how many entries, and how many of their files were
 * already gone from disk (or are no longer regular files). */
struct removed {
	size_t n, gone;
};

/*
 * Remove the entries at or below each root-relative path in rel (n of
 * them; the operands as given in argv name them in messages), counting
 * them into out; *status becomes 1 if an operand matched nothing.
 */
static void remove_all(struct removed *out, struct ama_index *idx,
		       char **rel, char **argv, int n, int *status)
{
	size_t count = ama_index_count(idx), i;
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
	for (p = doomed.s; p && p < doomed.s + doomed.len; p += strlen(p) + 1) {
		struct stat st;

		if (ama_index_remove(idx, p, strlen(p)) < 0)
			continue;
		out->n++;
		if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
			out->gone++;
	}
	ama_buf_release(&doomed);
	free(sel);
}

/* "removed 2 files from the index; ..." and what became of the files. */
static void say(struct ama_common *c, const struct removed *r)
{
	struct ama_buf line = AMA_BUF_INIT;
	size_t stay = r->n - r->gone;

	ama_buf_addf(&line, "removed %zu file%s from the index; ", r->n,
		     r->n == 1 ? "" : "s");
	if (!r->gone)
		ama_buf_addstr(&line, r->n == 1 ? "it stays on disk" :
			       "they stay on disk");
	else if (!stay)
		ama_buf_addstr(&line, r->n == 1 ?
			       "it was already gone from disk" :
			       "they were already gone from disk");
	else
		ama_buf_addf(&line, "%zu stay%s on disk, %zu w%s already gone",
			     stay, stay == 1 ? "s" : "", r->gone,
			     r->gone == 1 ? "as" : "ere");
	ama_buf_addch(&line, '\n');
	ama_writer_raw(&c->out, line.s, line.len);
	ama_buf_release(&line);
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset asset;
	struct ama_index *idx = NULL;
	struct ama_buf ipath = AMA_BUF_INIT;
	struct removed removed = { 0, 0 };
	char **rel;
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
		remove_all(&removed, idx, rel, argv, argc, &status);
		rc = removed.n ? ama_index_write_and_commit(idx) : 0;
	}
	if (rc < 0) {
		ama_report(NULL);
		status = 2;
	} else if (!c.quiet) {
		say(&c, &removed);
	}
	ama_index_free(idx);
	for (j = 0; j < argc; j++)
		free(rel[j]);
	free(rel);
	ama_buf_release(&ipath);
	ama_asset_release(&asset);
	return ama_finish(&c, status);
}
