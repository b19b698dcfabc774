/* ama-discard: make files match the current version again, dropping what was changed or added since. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "assetenv.h"
#include "error.h"
#include "pathspec.h"
#include "prog.h"
#include "readenv.h"
#include "store.h"

static const char usage_str[] =
	"ama discard [-q | --quiet] [-j <n>] [<pathspec>...]";

struct said {
	struct ama_common *c;
	struct ama_asset *a;
};

/* "restored: PATH", "no longer added (the file stays): PATH" */
static void say(void *ctx, const char *path, const char *msg)
{
	struct said *s = ctx;
	struct ama_buf line = AMA_BUF_INIT, shown = AMA_BUF_INIT;

	if (strcmp(msg, "restored") &&
	    strcmp(msg, "no longer added (the file stays)")) {
		ama_msg_path(path, "%s", msg);
		return;
	}
	if (s->c->quiet)
		return;
	ama_asset_display(&shown, s->a, path);
	ama_buf_addf(&line, "%s: ", msg);
	ama_quote_path(&line, shown.s, shown.len);
	ama_buf_addch(&line, '\n');
	ama_writer_raw(&s->c->out, line.s, line.len);
	ama_buf_release(&line);
	ama_buf_release(&shown);
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_worktree_opts o;
	struct ama_worktree_stats st;
	struct ama_meta_version at;
	struct ama_pathspec ps;
	struct ama_asset_env e;
	struct ama_readenv r;
	struct said s;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &o.jobs),
		AMA_OPT_END,
	};
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&ps, 0, sizeof(ps));
	memset(&at, 0, sizeof(at));
	o.jobs = -1;
	ama_setprogname("ama-discard");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (o.jobs < 0)
		o.jobs = 0;	/* [transfer] jobs */
	o.progress = c.progress;
	s.c = &c;
	s.a = &e.a;
	o.report = say;
	o.ctx = &s;
	ama_store_cancel_on_signals(NULL, NULL);
	o.stop = ama_store_signal_flag();
	rc = ama_readenv_open_asset(&r, &e);
	if (rc == 0)
		rc = ama_pathspec_parse(&ps, &e.a, argv, (size_t)argc);
	if (rc == 0 && e.has_version)
		rc = ama_meta_find_version(r.meta, &at, e.class, e.seq,
					   &e.version);
	if (rc == 0) {
		ama_readenv_worktree_opts(&r, &o);
		rc = ama_worktree_discard(&o, e.has_version ? &at : NULL, &ps,
					  &st);
	}
	if (rc < 0)
		rc = ama_report(NULL);
	ama_meta_version_release(&at);
	ama_pathspec_release(&ps);
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
	rc = ama_finish(&c, rc);
	ama_store_signal_exit();
	return rc;
}
