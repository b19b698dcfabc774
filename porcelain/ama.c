/* ama: the dispatcher: `ama COMMAND` runs ama-COMMAND from the exec path, as git does. */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "exec.h"
#include "prog.h"

static const char usage_str[] =
	"ama [-C <path>] [--version] [--exec-path] <command> [<args>]";

/* The porcelain, for the overview; the programs are found when run. */
static const struct {
	const char *name, *what;
} commands[] = {
	{ "init", "make this folder an asset of a class" },
	{ "clone", "a new folder holding a version of an asset" },
	{ "add", "record the stat and MD5 of files, or of folders' files" },
	{ "remove", "drop files from the asset (they stay on disk)" },
	{ "status", "show added, modified, deleted and untracked files" },
	{ "upload", "send new content to staging and publish a version" },
	{ "versions", "list the published versions of the asset" },
	{ "fetch", "bring the versions published elsewhere into .ama/meta" },
	{ "pull", "fetch, then switch to the newest version" },
	{ "switch", "make the work tree hold another version" },
	{ "download", "fill in files of the version the work tree lacks" },
	{ "diff", "what changed between versions or in the work tree" },
	{ "log", "the versions, newest first, and what each changed" },
	{ "info", "the asset: class, number, version, files, stores" },
	{ "list", "the assets of a class and their newest versions" },
	{ "class", "the classes of the store (ama class list)" },
	{ "cache", "the shared download cache: its size; prune" },
	{ "hook", "install git hooks that refuse unpublished files" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int is_porcelain(const char *cmd)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, cmd))
			return 1;
	return 0;
}

static void overview(struct ama_buf *b)
{
	size_t i;

	ama_buf_addf(b, "usage: %s\n\nThe ama commands:\n", usage_str);
	for (i = 0; i < NCOMMANDS; i++)
		ama_buf_addf(b, "   %-10s %s\n", commands[i].name,
			     commands[i].what);
	ama_buf_addstr(b,
		"\n'ama help <command>' shows the manual of a command;"
		" 'man 7 ama' describes\n"
		"assets, buckets, records and the plumbing commands.\n");
}

/*
 * How far cmd is from a command's name, weighted as git weighs it for its
 * "did you mean": swapping two neighbours is free, adding a letter costs
 * 1, changing one 2, dropping one 3. Typing fewer letters is the common
 * slip ("rm" for "remove" costs 4), typing wrong ones less so.
 */
#define SWAP 0
#define CHANGE 2
#define ADD 1
#define DROP 3
static size_t distance(const char *cmd, const char *name)
{
	size_t la = strlen(cmd), lb = strlen(name), i, j, d;
	size_t *row = ama_calloc(3 * (lb + 1), sizeof(size_t));
	size_t *prev2 = row, *prev = row + lb + 1, *cur = row + 2 * (lb + 1);

	for (j = 0; j <= lb; j++)
		prev[j] = j * ADD;
	for (i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i * DROP;
		for (j = 1; j <= lb; j++) {
			size_t cost = cmd[i - 1] != name[j - 1] ? CHANGE : 0;

			d = prev[j - 1] + cost;
			if (prev[j] + DROP < d)
				d = prev[j] + DROP;
			if (cur[j - 1] + ADD < d)
				d = cur[j - 1] + ADD;
			if (i > 1 && j > 1 && cmd[i - 1] == name[j - 2] &&
			    cmd[i - 2] == name[j - 1] && prev2[j - 2] + SWAP < d)
				d = prev2[j - 2] + SWAP;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(row);
	return d;
}

/* Close enough to suggest: below git's SIMILARITY_FLOOR, less its 1. */
#define SIMILAR 6

/* The score of name for cmd: a command it begins ("ls") is best. */
static size_t score(const char *cmd, const char *name)
{
	if (!strncmp(name, cmd, strlen(cmd)))
		return 0;
	return distance(cmd, name);
}

struct names {
	char **v;
	size_t n, alloc;
};

static void add_name(struct names *ns, const char *name)
{
	if (ns->n == ns->alloc) {
		ns->alloc = ns->alloc ? 2 * ns->alloc : 32;
		ns->v = ama_realloc(ns->v, ns->alloc * sizeof(char *));
	}
	ns->v[ns->n++] = ama_strdup(name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "ama-NAME" programs of the folders in the colon-separated list. */
static void scan_folders(struct names *ns, const char *list)
{
	struct ama_buf path = AMA_BUF_INIT;
	const char *p = list;

	while (*p) {
		const char *e = strchrnul(p, ':');
		struct dirent *de;
		DIR *d;

		ama_buf_reset(&path);
		ama_buf_add(&path, p, (size_t)(e - p));
		d = e > p ? opendir(path.s) : NULL;
		while (d && (de = readdir(d))) {
			size_t len = path.len;

			if (strncmp(de->d_name, "ama-", 4) || !de->d_name[4])
				continue;
			ama_buf_addch(&path, '/');
			ama_buf_addstr(&path, de->d_name);
			if (access(path.s, X_OK) == 0)
				add_name(ns, de->d_name + 4);
			ama_buf_truncate(&path, len);
		}
		if (d)
			closedir(d);
		p = *e ? e + 1 : e;
	}
	ama_buf_release(&path);
}

/* Print the closest commands to cmd, if any is close enough. */
static void suggest(const char *cmd)
{
	struct names ns = { 0 };
	struct ama_buf b = AMA_BUF_INIT;
	size_t i, best = SIZE_MAX, nbest = 0, shown = 0;
	const char *path = getenv("PATH");

	if (!*cmd)
		return;	/* the beginning of every name: no suggestion */
	for (i = 0; i < NCOMMANDS; i++)
		add_name(&ns, commands[i].name);
	add_name(&ns, "help");
	/* $PATH starts with the exec path (ama_exec_setup_path) */
	scan_folders(&ns, path ? path : "");
	qsort(ns.v, ns.n, sizeof(char *), cmp_str);
	for (i = 0; i < ns.n; i++) {
		size_t d;

		if (i && !strcmp(ns.v[i], ns.v[i - 1]))
			continue;
		d = score(cmd, ns.v[i]);
		if (d < best) {
			best = d;
			nbest = 0;
		}
		nbest += d == best;
	}
	if (best < SIMILAR) {
		for (i = 0; i < ns.n; i++) {
			if ((i && !strcmp(ns.v[i], ns.v[i - 1])) ||
			    score(cmd, ns.v[i]) != best)
				continue;
			if (shown)
				ama_buf_addstr(&b, shown + 1 == nbest ?
					       " or " : ", ");
			ama_buf_addf(&b, "'%s'", ns.v[i]);
			shown++;
		}
		ama_msg("did you mean %s?", b.s);
	}
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	ama_buf_release(&b);
}

/* `ama help [<command>]`: the overview, or the command's manual page. */
static int help(struct ama_common *c, int argc, char **argv)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *man[3] = { "man", NULL, NULL };
	int rc;

	if (argc > 2)
		return ama_usage_error(c, "'help' takes one command at most");
	if (argc == 1) {
		overview(&b);
		ama_writer_raw(&c->out, b.s, b.len);
		ama_buf_release(&b);
		return ama_finish(c, 0);
	}
	ama_buf_addf(&b, "ama-%s", argv[1]);
	man[1] = b.s;
	rc = ama_run(man, NULL, NULL);
	ama_buf_release(&b);
	if (rc < 0)
		return ama_report(NULL);
	return rc;
}

/* Run ama-CMD with the arguments as they are; returns only on failure. */
static int dispatch(char **argv)
{
	struct ama_buf name = AMA_BUF_INIT;
	const char *cmd = argv[0];
	char *prog = NULL;
	int rc;

	ama_buf_addf(&name, "ama-%s", cmd);
	rc = *cmd && !strchr(cmd, '/') ? ama_exec_find(&prog, name.s) :
		AMA_ENOTFOUND;
	if (rc == AMA_ENOTFOUND && is_porcelain(cmd)) {
		char *path = ama_exec_path();

		ama_msg("'%s' is an ama command, but %s is not installed in "
			"%s or on $PATH", cmd, name.s, path);
		free(path);
		ama_buf_release(&name);
		return 2;
	}
	if (rc == AMA_ENOTFOUND) {
		/* one line whatever the name holds: C-quoted as paths are */
		if (ama_quote_needed(cmd, strlen(cmd)))
			ama_msg("%s is not an ama command; see 'ama help'",
				ama_quote_for_message(cmd));
		else
			ama_msg("'%s' is not an ama command; see 'ama help'",
				cmd);
		suggest(cmd);
		ama_buf_release(&name);
		return 2;
	}
	if (rc == 0) {
		argv[0] = name.s;
		execv(prog, argv);
		ama_error_set_errno(AMA_ESETUP, "cannot run '%s'", name.s);
		free(prog);
	}
	ama_report(NULL);
	ama_buf_release(&name);
	return 2;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	const char *dir = NULL;
	int version = 0, exec_path = 0;
	struct ama_option opts[] = {
		AMA_OPT_STRING('C', NULL, &dir),
		AMA_OPT_FLAG(0, "version", &version),
		AMA_OPT_FLAG(0, "exec-path", &exec_path),
		AMA_OPT_END,
	};

	ama_setprogname("ama");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_IN_ORDER, &c,
			      usage_str) < 0)
		return 2;
	if (version) {
		static const char v[] = "ama version " PACKAGE_VERSION "\n";

		ama_writer_raw(&c.out, v, sizeof(v) - 1);
		return ama_finish(&c, 0);
	}
	if (exec_path) {
		char *p = ama_exec_path();

		ama_writer_raw(&c.out, p, strlen(p));
		ama_writer_raw(&c.out, "\n", 1);
		free(p);
		return ama_finish(&c, 0);
	}
	/* before -C: relative folders of AMA_EXEC_PATH are as given */
	if (ama_exec_setup_path() < 0) {
		ama_report(NULL);
		return 2;
	}
	if (dir && *dir && chdir(dir) < 0) {
		ama_error_setp_errno(AMA_ESETUP, dir,
				     "cannot change to this folder");
		ama_report(NULL);
		return 2;
	}
	if (argc == 0) {
		struct ama_buf b = AMA_BUF_INIT;

		overview(&b);
		if (write(2, b.s, b.len) < 0) {
			/* nowhere left to say it */
		}
		ama_buf_release(&b);
		return 2;
	}
	if (!strcmp(argv[0], "help"))
		return help(&c, argc, argv);
	return dispatch(argv);
}
