/* ama-status: added, modified, deleted and untracked files, from the stat record alone. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "index.h"
#include "prog.h"
#include "verify.h"
#include "walk.h"

static const char usage_str[] =
	"ama status [--porcelain] [-z] [-j <n>] [<path>...]";

enum section { ADDED, MODIFIED, DELETED, UNTRACKED, NSECTIONS };

static const char *const section_name[NSECTIONS] = {
	"added", "modified", "deleted", "untracked",
};

/* What fixes a line of each section (then the file, but for added). */
static const char *const section_fix[NSECTIONS] = {
	"ama upload", "ama add", "ama remove", "ama add",
};

struct status {
	struct ama_common *c;
	struct ama_asset asset;
	struct ama_index *idx;
	int porcelain;
	/* root-relative paths of each section, NUL-separated, in order */
	struct ama_buf lines[NSECTIONS];
	size_t count[NSECTIONS];
	int status;
};

static void note(struct status *s, enum section sec, const char *path,
		 size_t len)
{
	ama_buf_add(&s->lines[sec], path, len + 1);
	s->count[sec]++;
}

static int checked(const struct ama_verify_result *r, void *ctx)
{
	struct status *s = ctx;
	const struct ama_index_entry *e = r->entry;

	switch (r->verdict) {
	case AMA_VERDICT_OK:
		if (e->state != AMA_STATE_COMMITTED)
			note(s, ADDED, e->path, e->path_len);
		break;
	case AMA_VERDICT_MODIFIED:
		note(s, MODIFIED, e->path, e->path_len);
		break;
	case AMA_VERDICT_DELETED:
		note(s, DELETED, e->path, e->path_len);
		break;
	default:
		ama_msg_path(e->path, "%s", r->msg);
		s->status = 1;
		break;
	}
	return 0;
}

static int walked(const struct ama_walk_entry *e, void *ctx)
{
	struct status *s = ctx;

	if (e->event == AMA_WALK_FILE)
		note(s, UNTRACKED, e->path, e->len);
	else if (e->event == AMA_WALK_ERROR) {
		ama_msg_path(e->path, "%s", e->reason);
		s->status = 1;
	}
	return 0;
}

/* Is the character safe unquoted in a shell word? */
static int shell_safe(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || strchr("._/-+,:@%=", ch);
}

/*
 * The path as a shell word a user can paste: as it is when safe,
 * 'single-quoted' otherwise, $'...' when it holds control bytes; "./" in
 * front of a leading '-' so that it is not an option.
 */
static void shell_word(struct ama_buf *out, const char *p)
{
	const unsigned char *u;
	int safe = 1, ctrl = 0;

	for (u = (const unsigned char *)p; *u; u++) {
		safe &= shell_safe(*u);
		ctrl |= *u < 0x20 || *u == 0x7f;
	}
	if (*p == '-')
		ama_buf_addstr(out, "./");
	if (safe) {
		ama_buf_addstr(out, p);
		return;
	}
	if (ctrl) {
		ama_buf_addstr(out, "$'");
		for (u = (const unsigned char *)p; *u; u++) {
			if (*u < 0x20 || *u == 0x7f)
				ama_buf_addf(out, "\\%03o", *u);
			else if (*u == '\'' || *u == '\\')
				ama_buf_addf(out, "\\%c", *u);
			else
				ama_buf_addch(out, *u);
		}
		ama_buf_addch(out, '\'');
		return;
	}
	ama_buf_addch(out, '\'');
	for (u = (const unsigned char *)p; *u; u++) {
		if (*u == '\'')
			ama_buf_addstr(out, "'\\''");
		else
			ama_buf_addch(out, *u);
	}
	ama_buf_addch(out, '\'');
}

static void print_porcelain(struct status *s)
{
	int sec;

	for (sec = 0; sec < NSECTIONS; sec++) {
		const char *p = s->lines[sec].s;
		size_t i;

		for (i = 0; i < s->count[sec]; i++) {
			size_t len = strlen(p);

			ama_record_write(&s->c->out, section_name[sec], p, len);
			p += len + 1;
		}
	}
}

static void print_long(struct status *s, const struct ama_config *cfg)
{
	struct ama_buf line = AMA_BUF_INIT, shown = AMA_BUF_INIT;
	const char *class = ama_config_get(cfg, "asset", "class");
	const char *seq = ama_config_get(cfg, "asset", "seq");
	const char *version = ama_config_get(cfg, "asset", "version");
	size_t width = 0, total = 0;
	int sec;

	if (seq && version)
		ama_buf_addf(&line, "asset %s/%s at version %s\n",
			     class ? class : "?", seq, version);
	else
		ama_buf_addf(&line, "asset of class %s, not uploaded yet\n",
			     class ? class : "?");
	/* one column for the paths, at most 48 wide */
	for (sec = 0; sec < NSECTIONS; sec++) {
		const char *p = s->lines[sec].s;
		size_t i;

		total += s->count[sec];
		for (i = 0; i < s->count[sec]; i++, p += strlen(p) + 1) {
			struct ama_buf q = AMA_BUF_INIT;

			ama_buf_reset(&shown);
			ama_asset_display(&shown, &s->asset, p);
			ama_quote_path(&q, shown.s, shown.len);
			if (q.len > width)
				width = q.len;
			ama_buf_release(&q);
		}
	}
	if (width > 48)
		width = 48;
	for (sec = 0; sec < NSECTIONS; sec++) {
		const char *p = s->lines[sec].s;
		size_t i;

		if (!s->count[sec])
			continue;
		ama_buf_addf(&line, "%s:\n", section_name[sec]);
		for (i = 0; i < s->count[sec]; i++, p += strlen(p) + 1) {
			struct ama_buf word = AMA_BUF_INIT;
			size_t start;

			ama_buf_reset(&shown);
			ama_asset_display(&shown, &s->asset, p);
			ama_buf_addch(&line, '\t');
			start = line.len;
			ama_quote_path(&line, shown.s, shown.len);
			while (line.len - start < width)
				ama_buf_addch(&line, ' ');
			ama_buf_addstr(&line, "   ");
			shell_word(&word, shown.s);
			ama_buf_addstr(&line, section_fix[sec]);
			if (sec != ADDED)
				ama_buf_addf(&line, " %s", word.s);
			ama_buf_addch(&line, '\n');
			ama_buf_release(&word);
		}
	}
	if (!total)
		ama_buf_addstr(&line, ama_index_count(s->idx) ?
			"nothing to do: every added file is unchanged and uploaded\n" :
			"nothing added yet (ama add PATH)\n");
	ama_writer_raw(&s->c->out, line.s, line.len);
	ama_buf_release(&line);
	ama_buf_release(&shown);
}

/* Which entries to check: all, or those at or below the operands. */
static size_t *select_entries(struct status *s, char **paths, int n,
			      size_t *npos)
{
	size_t count = ama_index_count(s->idx), i, k = 0;
	size_t *pos = ama_malloc((count ? count : 1) * sizeof(*pos));
	unsigned char *sel;
	int j;

	if (!n) {
		for (i = 0; i < count; i++)
			pos[i] = i;
		*npos = count;
		return pos;
	}
	sel = ama_calloc(count ? count : 1, 1);
	for (j = 0; j < n; j++)
		ama_index_select(s->idx, paths[j], strlen(paths[j]), sel);
	for (i = 0; i < count; i++)
		if (sel[i])
			pos[k++] = i;
	free(sel);
	*npos = k;
	return pos;
}

static int run(struct status *s, char **paths, int npaths)
{
	struct ama_refresh_list refresh = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_index_entry *e;
	const char **tracked;
	const char *root = "";
	size_t n, i, npos;
	size_t *pos = select_entries(s, paths, npaths, &npos);
	int rc;

	memset(&o, 0, sizeof(o));
	o.jobs = s->c->jobs;
	o.pos = pos;
	o.npos = npos;
	o.fn = checked;
	o.ctx = s;
	o.refresh = &refresh;
	rc = ama_verify_run(s->idx, &o);
	free(pos);
	if (rc < 0)
		goto out;
	e = ama_index_entries(s->idx, &n);
	tracked = ama_malloc((n ? n : 1) * sizeof(*tracked));
	for (i = 0; i < n; i++)
		tracked[i] = e[i].path;
	rc = ama_walk_untracked(npaths ? (const char *const *)paths : &root,
				npaths ? (size_t)npaths : 1, 0, tracked, n,
				walked, s);
	free(tracked);
	if (rc > 0)
		s->status = 1;
	if (rc < 0)
		goto out;
	/* the refresh is an optimisation: a busy or read-only index skips it */
	if (refresh.n && ama_verify_refresh(".ama/index", &refresh) < 0 &&
	    ama_error_code() != AMA_ELOCKED)
		ama_report(NULL);
	rc = 0;
out:
	ama_refresh_list_release(&refresh);
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct status s;
	struct ama_config *cfg = NULL;
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "porcelain", &s.porcelain),
		AMA_OPT_END
	};
	char **paths;
	int rc, i;

	memset(&s, 0, sizeof(s));
	ama_setprogname("ama-status");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_Z | AMA_COMMON_JOBS, &c,
			      usage_str) < 0)
		return 2;
	s.c = &c;
	if (c.z && !s.porcelain)
		return ama_usage_error(&c, "-z goes with --porcelain");
	if (ama_asset_find(&s.asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	paths = ama_calloc((size_t)argc + 1, sizeof(*paths));
	rc = 0;
	for (i = 0; i < argc && rc == 0; i++) {
		struct ama_buf b = AMA_BUF_INIT;

		rc = ama_asset_path(&b, &s.asset, argv[i]);
		paths[i] = ama_buf_detach(&b);
	}
	if (rc == 0 && chdir(s.asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, s.asset.root,
					  "cannot enter");
	if (rc == 0)
		rc = ama_config_load(&cfg, ".ama/config");
	if (rc == 0)
		rc = ama_index_load(&s.idx, ".ama/index");
	if (rc == 0)
		rc = run(&s, paths, argc);
	if (rc < 0) {
		ama_report(NULL);
		rc = 2;
	} else {
		if (s.porcelain)
			print_porcelain(&s);
		else
			print_long(&s, cfg);
		rc = ama_finish(&c, s.status);
	}
	for (i = 0; i < argc; i++)
		free(paths[i]);
	free(paths);
	for (i = 0; i < NSECTIONS; i++)
		ama_buf_release(&s.lines[i]);
	ama_index_free(s.idx);
	ama_config_free(cfg);
	ama_asset_release(&s.asset);
	return rc;
}
