/* ama-update: add again every modified tracked file and remove every deleted one. */
#include "auto-config.h"

#include <string.h>
#include <unistd.h>

#include "assetenv.h"
#include "error.h"
#include "exec.h"
#include "prog.h"
#include "record.h"
#include "shellquote.h"

static const char usage_str[] = "ama update [-n] [-q | --quiet]";

/* Run cmds with in and out as buffers; its status, 2 if none ran. */
static int run(const char *const *const *argv, size_t n, struct ama_buf *in,
	       struct ama_buf *out)
{
	struct ama_command cmd[2];
	struct ama_pipeline pl;
	size_t i;
	int rc;

	memset(&pl, 0, sizeof(pl));
	memset(cmd, 0, sizeof(cmd));
	for (i = 0; i < n; i++)
		cmd[i].argv = argv[i];
	pl.cmds = cmd;
	pl.n = n;
	pl.in.how = AMA_REDIR_BUF;
	pl.in.buf = in;
	if (out) {
		pl.out.how = AMA_REDIR_BUF;
		pl.out.buf = out;
	}
	rc = ama_pipeline_run(&pl);
	if (rc < 0)
		ama_report(NULL);
	return rc < 0 ? 2 : rc;
}

/*
 * Split ama-verify -z's records: the paths of modified files, NUL after
 * each, for ama-hash; the records of deleted ones as they are, for
 * ama-update-index --remove. Print what is done ("add PATH", "remove
 * PATH"), each path as a shell word from where the user stands.
 */
static void split(struct ama_common *c, const struct ama_asset *a,
		  const struct ama_buf *verdicts, struct ama_buf *modified,
		  struct ama_buf *deleted, int dry)
{
	const char *p = verdicts->s, *end = verdicts->s + verdicts->len;
	struct ama_buf line = AMA_BUF_INIT, shown = AMA_BUF_INIT;

	while (p && p < end) {
		size_t len = strlen(p);
		const char *tab = memchr(p, '\t', len), *path;
		int mod;

		if (!tab) {
			p += len + 1;
			continue;
		}
		path = tab + 1;
		mod = !strncmp(p, "modified", 8);
		if (mod) {
			ama_buf_add(modified, path, len - (size_t)(path - p) + 1);
		} else if (!strncmp(p, "deleted", 7)) {
			ama_buf_add(deleted, p, len + 1);
		} else {
			p += len + 1;
			continue;
		}
		ama_buf_reset(&line);
		ama_buf_reset(&shown);
		ama_asset_display(&shown, a, path);
		ama_buf_addf(&line, "%s%s ", dry ? "would " : "",
			     mod ? "add" : "remove");
		ama_quote_shell(&line, shown.s);
		ama_buf_addch(&line, '\n');
		if (!c->quiet)
			ama_writer_raw(&c->out, line.s, line.len);
		p += len + 1;
	}
	ama_buf_release(&line);
	ama_buf_release(&shown);
}

int main(int argc, char **argv)
{
	static const char *const verify[] = { "ama-verify", "-z", NULL };
	static const char *const hash[] = { "ama-hash", "-z", "--stat",
					    "--stdin", NULL };
	static const char *const upd[] = { "ama-update-index", "-z", NULL };
	static const char *const rm[] = { "ama-update-index", "-z",
					  "--remove", NULL };
	const char *const *const rehash[] = { hash, upd };
	const char *const *const removal[] = { rm };
	const char *const *const check[] = { verify };
	struct ama_common c;
	int dry = 0, rc, st;
	struct ama_option opts[] = {
		AMA_OPT_FLAG('n', "dry-run", &dry),
		AMA_OPT_END,
	};
	struct ama_buf none = AMA_BUF_INIT, verdicts = AMA_BUF_INIT,
		modified = AMA_BUF_INIT, deleted = AMA_BUF_INIT;
	struct ama_asset_env e;

	ama_setprogname("ama-update");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "takes no paths: it updates every "
				       "tracked file (ama add PATH for some)");
	rc = ama_exec_setup_path();
	if (rc == 0)
		rc = ama_asset_env_open(&e, AMA_ASSET_ENTER);
	if (rc < 0) {
		ama_report(NULL);
		return 2;
	}
	/* ama-verify answers 1 when something is not ok: that is the point */
	rc = run(check, 1, &none, &verdicts);
	if (rc <= 1) {
		split(&c, &e.a, &verdicts, &modified, &deleted, dry);
		rc = 0;
	}
	if (rc == 0 && !dry && modified.len)
		rc = run(rehash, 2, &modified, NULL);
	if (!dry && deleted.len) {
		st = run(removal, 1, &deleted, NULL);
		rc = rc > st ? rc : st;
	}
	ama_buf_release(&verdicts);
	ama_buf_release(&modified);
	ama_buf_release(&deleted);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
