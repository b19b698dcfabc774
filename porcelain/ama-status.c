/* ama-status: added, removed, modified, deleted and untracked files, from the stat record alone. */
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
#include "shellquote.h"
#include "status.h"

static const char usage_str[] =
	"ama status [--porcelain] [-z] [-j <n>] [<path>...]";

/* The sections, in the order they are printed (lib/status.h's kinds). */
#define NSECTIONS AMA_STATUS_ERROR

/* What deals with a line of each section, then the file for some. */
static const struct { const char *fix; int with_path; } sections[] = {
	[AMA_STATUS_ADDED] = { "ama upload", 0 },
	[AMA_STATUS_REMOVED] = { "the next version drops it", 0 },
	[AMA_STATUS_MODIFIED] = { "ama add", 1 },
	[AMA_STATUS_DELETED] = { "ama remove", 1 },
	[AMA_STATUS_UNTRACKED] = { "ama add", 1 },
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

/* Keep each file for its section; name what could not be checked. */
static int found(const struct ama_status_item *it, void *ctx)
{
	struct status *s = ctx;

	if (it->kind == AMA_STATUS_ERROR) {
		ama_msg_path(it->path, "%s", it->reason);
		s->status = 1;
		return 0;
	}
	ama_buf_add(&s->lines[it->kind], it->path, it->len + 1);
	s->count[it->kind]++;
	return 0;
}

static void print_porcelain(struct status *s)
{
	const char *p;
	size_t i;
	int sec;

	for (sec = 0; sec < NSECTIONS; sec++)
		for (i = 0, p = s->lines[sec].s; i < s->count[sec];
		     i++, p += strlen(p) + 1)
			ama_record_write(&s->c->out, ama_status_kind_name(sec),
					 p, strlen(p));
}

static void print_header(struct ama_buf *out, const struct ama_config *cfg)
{
	const char *class = ama_config_get(cfg, "asset", "class");
	const char *seq = ama_config_get(cfg, "asset", "seq");
	const char *version = ama_config_get(cfg, "asset", "version");

	if (seq && version)
		ama_buf_addf(out, "asset %s/%s at version %s\n",
			     class ? class : "?", seq, version);
	else
		ama_buf_addf(out, "asset of class %s, not uploaded yet\n",
			     class ? class : "?");
}

/*
 * Each section's lines: a TAB, the path as seen from the working folder
 * (C-quoted) in one column at most 48 wide, and what deals with it.
 * Pass 0 measures the column, pass 1 prints.
 */
static void print_long(struct status *s, const struct ama_config *cfg)
{
	struct ama_buf out = AMA_BUF_INIT, shown = AMA_BUF_INIT,
		q = AMA_BUF_INIT;
	size_t width = 0, total = 0, i, n;
	const char *p;
	int pass, sec;

	print_header(&out, cfg);
	for (pass = 0; pass < 2; pass++) {
		for (sec = 0; sec < NSECTIONS; sec++) {
			if (pass && s->count[sec])
				ama_buf_addf(&out, "%s:\n",
					     ama_status_kind_name(sec));
			p = s->lines[sec].s;
			for (i = 0; i < s->count[sec]; i++, p += strlen(p) + 1) {
				ama_buf_reset(&shown);
				ama_buf_reset(&q);
				ama_asset_display(&shown, &s->asset, p);
				ama_quote_path(&q, shown.s, shown.len);
				n = ama_text_columns(q.s, q.len);
				if (!pass) {
					width = n > width ? n : width;
					total++;
					continue;
				}
				ama_buf_addf(&out, "\t%s%*s   %s", q.s,
					     (int)(width > n ? width - n : 0),
					     "", sections[sec].fix);
				if (sections[sec].with_path) {
					ama_buf_addch(&out, ' ');
					ama_quote_shell(&out, shown.s);
				}
				ama_buf_addch(&out, '\n');
			}
		}
		width = width > 48 ? 48 : width;
	}
	if (!total && ama_index_count(s->idx))
		ama_buf_addstr(&out, "nothing to do: every added file is "
			       "unchanged and uploaded\n");
	else if (!total)
		ama_buf_addstr(&out, "nothing added yet (ama add PATH)\n");
	ama_writer_raw(&s->c->out, out.s, out.len);
	ama_buf_release(&out);
	ama_buf_release(&shown);
	ama_buf_release(&q);
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
	struct ama_status_opts o;
	struct ama_status_summary sum;
	struct ama_buf file = AMA_BUF_INIT;
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
	/* an unset "$var" must not mean "everything" */
	for (i = 0; i < argc; i++)
		if (!*argv[i])
			return ama_usage_error(&c,
				"empty path (use '.' for this folder)");
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
	/* absolute, so that messages name them from anywhere */
	ama_buf_addf(&file, "%s/.ama/config", s.asset.root);
	if (rc == 0)
		rc = ama_config_load(&cfg, file.s);
	ama_buf_reset(&file);
	ama_buf_addf(&file, "%s/.ama/index", s.asset.root);
	if (rc == 0)
		rc = ama_index_load(&s.idx, file.s);
	memset(&o, 0, sizeof(o));
	o.paths = (const char *const *)paths;
	o.npaths = (size_t)argc;
	o.jobs = c.jobs;
	o.flags = AMA_STATUS_ALL;
	o.cfg = cfg;
	o.fn = found;
	o.ctx = &s;
	if (rc == 0)
		rc = ama_status_run(&sum, s.idx, &o);
	/* a refresh that failed changes nothing of the answer */
	if (rc == 0 && sum.refresh_rc < 0)
		ama_report(NULL);
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
	ama_buf_release(&file);
	ama_asset_release(&s.asset);
	return rc;
}
