/* ama-hook: git hooks that refuse a commit or push while an asset holds unpublished files. */
#include "auto-config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"
#include "prog.h"
#include "record.h"
#include "shellquote.h"
#include "verify.h"
#include "walk.h"

static const char usage_str[] =
	"ama hook (install | uninstall | run <hook>) [-q | --quiet] [-j <n>]";

static const char *const hooks[] = { "pre-commit", "pre-push" };
#define NHOOKS (sizeof(hooks) / sizeof(hooks[0]))
#define MARK "# installed by 'ama hook install'"
#define CHAINED ".ama-chained"

/* Show an absolute path below the working folder as git does: relative. */
static void relative_to_cwd(struct ama_buf *p)
{
	char *cwd = realpath(".", NULL);
	size_t n = cwd ? strlen(cwd) : 0;

	if (cwd && !strncmp(p->s, cwd, n) && p->s[n] == '/')
		memmove(p->s, p->s + n + 1, p->len - n);
	p->len = strlen(p->s);
	free(cwd);
}

/*
 * The repository around the working folder, through libgit2: its work
 * tree (top) and its hooks folder (core.hooksPath, as git reads it, else
 * GIT_DIR/hooks). Either out may be NULL.
 */
static int find_repo(struct ama_buf *top, struct ama_buf *hookdir)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf path = GIT_BUF_INIT;
	int rc = 0;

	git_libgit2_init();
	/* as git finds it: GIT_DIR, GIT_CEILING_DIRECTORIES, ... */
	if (git_repository_open_ext(&repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV,
				    NULL) < 0) {
		rc = ama_error_set(AMA_ESETUP, "not in a git repository");
		goto out;
	}
	if (git_repository_is_bare(repo)) {
		rc = ama_error_set(AMA_ESETUP,
				   "a bare git repository has no work tree");
		goto out;
	}
	if (top)
		ama_buf_addstr(top, git_repository_workdir(repo));
	if (hookdir && git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_path(&path, cfg, "core.hooksPath") == 0) {
		/* relative to the work tree, as git takes it for hooks */
		if (path.ptr[0] != '/')
			ama_buf_addstr(hookdir, git_repository_workdir(repo));
		ama_buf_addstr(hookdir, path.ptr);
	} else if (hookdir) {
		ama_buf_addf(hookdir, "%shooks", git_repository_path(repo));
	}
	if (hookdir)
		relative_to_cwd(hookdir);
	while (top && top->len > 1 && top->s[top->len - 1] == '/')
		ama_buf_truncate(top, top->len - 1);
out:
	git_buf_dispose(&path);
	git_config_free(cfg);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

static int is_ours(const char *path)
{
	char *text = NULL;
	int ours = ama_read_file(&text, NULL, path) == 0 &&
		strstr(text, MARK) != NULL;

	free(text);
	return ours;
}

/* Append s as one word for any POSIX sh: '...', each ' as '\''. */
static void add_sh_word(struct ama_buf *b, const char *s)
{
	ama_buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			ama_buf_addstr(b, "'\\''");
		else
			ama_buf_addch(b, *s);
	}
	ama_buf_addch(b, '\'');
}

/*
 * The hook: the hook it replaced runs first (with the same arguments and
 * stdin), then ama checks the assets. ama is looked up on $PATH, else
 * where it was when the hook was installed.
 */
static void hook_text(struct ama_buf *b, const char *name, const char *self)
{
	ama_buf_addf(b,
		"#!/bin/sh\n"
		MARK "; 'ama hook uninstall' removes it\n"
		"# and puts back the hook it replaced (" "%s" CHAINED ").\n"
		"chained=\"$(dirname \"$0\")/%s" CHAINED "\"\n"
		"if [ -x \"$chained\" ]; then\n"
		"\t\"$chained\" \"$@\" || exit $?\n"
		"fi\n"
		"if command -v ama >/dev/null 2>&1; then\n"
		"\texec ama hook run %s\n"
		"fi\n"
		"exec ", name, name, name);
	add_sh_word(b, self);
	ama_buf_addf(b, " run %s\n", name);
}

/*
 * One line of what install or uninstall did on standard output: text,
 * then path (if any) quoted as ama quotes every path it prints.
 */
static void say(struct ama_common *c, const char *path, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

static void say(struct ama_common *c, const char *path, const char *fmt,
		...)
{
	struct ama_buf line = AMA_BUF_INIT;
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	ama_buf_vaddf(&line, fmt, ap);
	va_end(ap);
	if (path)
		ama_quote_path(&line, path, strlen(path));
	ama_buf_addch(&line, '\n');
	ama_writer_raw(&c->out, line.s, line.len);
	ama_buf_release(&line);
}

static int install(struct ama_common *c)
{
	struct ama_buf dir = AMA_BUF_INIT, path = AMA_BUF_INIT,
		chained = AMA_BUF_INIT, text = AMA_BUF_INIT;
	char *self = realpath("/proc/self/exe", NULL);
	size_t i;
	int rc;

	rc = find_repo(NULL, &dir);
	if (rc < 0)
		goto out;
	if (mkdir(dir.s, 0755) < 0 && errno != EEXIST) {
		rc = ama_error_setp_errno(AMA_ESETUP, dir.s, "cannot create");
		goto out;
	}
	for (i = 0; i < NHOOKS; i++) {
		ama_buf_reset(&path);
		ama_buf_reset(&chained);
		ama_buf_reset(&text);
		ama_buf_addf(&path, "%s/%s", dir.s, hooks[i]);
		ama_buf_addf(&chained, "%s" CHAINED, path.s);
		if (access(path.s, F_OK) == 0 && !is_ours(path.s)) {
			if (access(chained.s, F_OK) == 0) {
				rc = ama_error_setp(AMA_ESETUP, chained.s,
					"exists already; move it away first");
				goto out;
			}
			if (rename(path.s, chained.s) < 0) {
				rc = ama_error_setp_errno(AMA_EIO, path.s,
							  "cannot move");
				goto out;
			}
			say(c, chained.s, "kept the %s hook: it runs first, "
			    "from ", hooks[i]);
		}
		hook_text(&text, hooks[i], self ? self : "ama-hook");
		rc = ama_write_file_atomic(path.s, text.s, text.len, 0755);
		if (rc < 0)
			goto out;
		say(c, path.s, "installed the %s hook: ", hooks[i]);
	}
out:
	free(self);
	ama_buf_release(&dir);
	ama_buf_release(&path);
	ama_buf_release(&chained);
	ama_buf_release(&text);
	return rc;
}

static int uninstall(struct ama_common *c)
{
	struct ama_buf dir = AMA_BUF_INIT, path = AMA_BUF_INIT,
		chained = AMA_BUF_INIT;
	size_t i, removed = 0;
	int rc;

	rc = find_repo(NULL, &dir);
	for (i = 0; rc == 0 && i < NHOOKS; i++) {
		ama_buf_reset(&path);
		ama_buf_reset(&chained);
		ama_buf_addf(&path, "%s/%s", dir.s, hooks[i]);
		ama_buf_addf(&chained, "%s" CHAINED, path.s);
		if (!is_ours(path.s))
			continue;
		if (access(chained.s, F_OK) == 0) {
			if (rename(chained.s, path.s) < 0)
				rc = ama_error_setp_errno(AMA_EIO, chained.s,
							  "cannot restore");
			else
				say(c, NULL, "restored the %s hook", hooks[i]);
		} else if (unlink(path.s) < 0) {
			rc = ama_error_setp_errno(AMA_EIO, path.s,
						  "cannot remove");
		} else {
			say(c, NULL, "removed the %s hook", hooks[i]);
		}
		removed++;
	}
	if (rc == 0 && !removed)
		say(c, NULL, "no ama hooks were installed");
	ama_buf_release(&dir);
	ama_buf_release(&path);
	ama_buf_release(&chained);
	return rc;
}

/* The assets inside the work tree: folders holding .ama, .git skipped. */
struct finder {
	struct ama_buf found;	/* NUL-separated root-relative folders */
	size_t n;
};

static int found_one(const struct ama_walk_entry *e, void *ctx)
{
	struct finder *f = ctx;

	if (e->event == AMA_WALK_DIR) {
		const char *base = strrchr(e->path, '/');

		base = base ? base + 1 : e->path;
		return strcmp(base, ".git") ? 0 : AMA_WALK_PRUNE;
	}
	if (e->event == AMA_WALK_SKIPPED &&
	    !strcmp(e->reason, "another ama asset")) {
		ama_buf_add(&f->found, e->path, e->len + 1);
		f->n++;
	}
	return 0;
}

struct check {
	const char *asset;	/* the asset's folder from the top, "" for it */
	size_t problems;
};

/*
 * Name a file of the asset from the top of the work tree, with the
 * command that fixes it (run in the asset: "cd ASSET && ama add FILE").
 */
static void fix_line(struct check *k, const char *path, const char *what,
		     const char *cmd, int with_path)
{
	struct ama_buf shown = AMA_BUF_INIT, fix = AMA_BUF_INIT;

	if (*k->asset) {
		ama_buf_addf(&shown, "%s/", k->asset);
		ama_buf_addstr(&fix, "cd ");
		ama_quote_shell(&fix, k->asset);
		ama_buf_addstr(&fix, " && ");
	}
	ama_buf_addstr(&shown, path);
	ama_buf_addstr(&fix, cmd);
	if (with_path) {
		ama_buf_addch(&fix, ' ');
		ama_quote_shell(&fix, path);
	}
	ama_msg_path(shown.s, "%s; run: %s", what, fix.s);
	k->problems++;
	ama_buf_release(&shown);
	ama_buf_release(&fix);
}

static int checked(const struct ama_verify_result *r, void *ctx)
{
	struct check *k = ctx;
	const char *path = r->entry->path;

	switch (r->verdict) {
	case AMA_VERDICT_MODIFIED:
		fix_line(k, path, "modified since added", "ama add", 1);
		break;
	case AMA_VERDICT_DELETED:
		fix_line(k, path, "deleted", "ama remove", 1);
		break;
	case AMA_VERDICT_OK:
		if (r->entry->state != AMA_STATE_COMMITTED)
			fix_line(k, path, "not published", "ama upload", 0);
		break;
	default:
		fix_line(k, path, r->msg, "ama status", 0);
		break;
	}
	return 0;
}

/* Check one asset (folder relative to the top); count its problems. */
static int check_asset(const char *top, const char *asset, int jobs,
		       size_t *problems)
{
	struct ama_buf dir = AMA_BUF_INIT;
	struct ama_index *idx = NULL;
	struct ama_verify_opts o;
	struct check k = { asset, 0 };
	int rc;

	ama_buf_addf(&dir, "%s/%s", top, asset);
	if (chdir(dir.s) < 0) {
		rc = ama_error_setp_errno(AMA_ESETUP, dir.s, "cannot enter");
		goto out;
	}
	rc = ama_index_load(&idx, ".ama/index");
	if (rc < 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.jobs = jobs;
	o.fn = checked;
	o.ctx = &k;
	rc = ama_verify_run(idx, &o);
	*problems += k.problems;
out:
	ama_index_free(idx);
	ama_buf_release(&dir);
	return rc;
}

static int run_hook(const struct ama_common *c, const char *name)
{
	struct ama_buf top = AMA_BUF_INIT;
	struct finder f = { AMA_BUF_INIT, 0 };
	const char *root = "", *p;
	size_t problems = 0, i;
	int rc;

	rc = find_repo(&top, NULL);
	if (rc < 0 || chdir(top.s) < 0)
		goto out;
	if (access(".ama", F_OK) == 0) {
		ama_buf_add(&f.found, "", 1);
		f.n = 1;
	} else {
		rc = ama_walk(&root, 1, AMA_WALK_DIRS, found_one, &f);
		if (rc < 0)
			goto out;
	}
	for (i = 0, p = f.found.s; i < f.n && rc >= 0; i++, p += strlen(p) + 1)
		rc = check_asset(top.s, p, c->jobs, &problems);
	if (rc >= 0 && problems) {
		ama_msg("%s refused: %zu file%s in ama assets %s not "
			"published (git %s --no-verify skips this check)",
			name, problems, problems == 1 ? "" : "s",
			problems == 1 ? "is" : "are",
			strcmp(name, "pre-push") ? "commit" : "push");
		rc = 1;
	}
out:
	ama_buf_release(&top);
	ama_buf_release(&f.found);
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	int rc;

	ama_setprogname("ama-hook");
	if (ama_parse_options(&argc, &argv, NULL,
			      AMA_COMMON_QUIET | AMA_COMMON_JOBS, &c,
			      usage_str) < 0)
		return 2;
	if (argc == 1 && !strcmp(argv[0], "install"))
		rc = install(&c);
	else if (argc == 1 && !strcmp(argv[0], "uninstall"))
		rc = uninstall(&c);
	else if (argc == 2 && !strcmp(argv[0], "run") &&
		 (!strcmp(argv[1], "pre-commit") || !strcmp(argv[1], "pre-push")))
		rc = run_hook(&c, argv[1]);
	else
		return ama_usage_error(&c, "install, uninstall or run <hook>?");
	if (rc < 0) {
		ama_report(NULL);
		rc = 2;
	}
	return ama_finish(&c, rc);
}
