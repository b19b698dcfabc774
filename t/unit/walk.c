/* t/unit/walk.c: walking an asset: order, .amaignore, named paths, links, errors. */
#include "auto-config.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "exec.h"
#include "record.h"
#include "walk.h"

static char root[80];

/* A fresh folder to walk, as the working folder. */
static void enter_tree(void)
{
	strcpy(root, "/tmp/ama-walk-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(chdir(root), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Make every folder readable again (pre-order), to remove the tree. */
static int open_up(const char *path, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, 0700);
	return 0;
}

/* After each test: the tree it made goes, whatever state it is in. */
static void leave_tree(void)
{
	if (!root[0] || chdir("/") < 0)
		return;
	nftw(root, open_up, 16, FTW_PHYS);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	strcat(root, ".git");	/* a test's git repository, if any */
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
}

TestSuite(walk, .fini = leave_tree);

/* mkdir -p of the folders of path (and path itself if it ends in '/'). */
static void make_folders(const char *path)
{
	char buf[8192];
	size_t i;

	for (i = 0; path[i]; i++) {
		if (path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0)
			cr_assert_eq(errno, EEXIST, "mkdir %s", buf);
	}
}

static void put(const char *path, const char *text)
{
	int fd;

	make_folders(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

struct log {
	struct ama_buf b;
	int stop_at;		/* return an error at this entry (1-based) */
	int seen;
	const char *prune;	/* answer AMA_WALK_PRUNE for this folder */
};

static int collect(const struct ama_walk_entry *e, void *ctx)
{
	static const char kinds[] = "FDSE";
	struct log *log = ctx;

	ama_buf_addch(&log->b, kinds[e->event]);
	ama_buf_addch(&log->b, ' ');
	ama_quote_path(&log->b, e->path, e->len);
	cr_assert_eq(strlen(e->path), e->len);
	if (e->explicit_path)
		ama_buf_addstr(&log->b, " (named)");
	if (e->event == AMA_WALK_SKIPPED || e->event == AMA_WALK_ERROR)
		ama_buf_addf(&log->b, ": %s", e->reason);
	ama_buf_addch(&log->b, '\n');
	if (++log->seen == log->stop_at)
		return ama_error_set(AMA_EINVAL, "stop here");
	if (e->event == AMA_WALK_DIR && log->prune &&
	    !strcmp(log->prune, e->path))
		return AMA_WALK_PRUNE;
	return 0;
}

/* Walk paths (NULL-terminated) and return what was seen, one line each. */
static char *walk_log(int *rc, unsigned flags, const char *const *paths)
{
	struct log log = { AMA_BUF_INIT, 0, 0, NULL };
	size_t n = 0;

	while (paths[n])
		n++;
	*rc = ama_walk(paths, n, flags, collect, &log);
	return ama_buf_detach(&log.b);
}

static void expect_walk(const char *const *paths, unsigned flags,
			int want_rc, const char *want)
{
	int rc;
	char *got = walk_log(&rc, flags, paths);

	cr_assert_str_eq(got, want);
	cr_assert_eq(rc, want_rc);
	free(got);
}

#define PATHS(...) ((const char *const[]){ __VA_ARGS__, NULL })

Test(walk, files_come_in_index_order)
{
	enter_tree();
	put("b", "");
	put("a0", "");
	put("a/c/d", "");
	put("a/b", "");
	put("a.txt", "");
	put("a-b", "");
	put("A", "");
	put("a/c.d/e", "");
	put("a/c-d", "");
	/* '.' (0x2e) < '/' (0x2f) < '0': a.txt, then a/..., then a0 */
	expect_walk(PATHS(""), 0, 0,
		    "F A\nF a-b\nF a.txt\nF a/b\nF a/c-d\nF a/c.d/e\n"
		    "F a/c/d\nF a0\nF b\n");
}

Test(walk, dotama_at_the_root_and_empty_folders_yield_nothing)
{
	enter_tree();
	put(".ama/index", "x");
	put(".ama/config", "x");
	make_folders("empty/");
	make_folders("deep/empty/er/");
	put("sub/.ama", "a file named .ama below the root is a file");
	put(".amaX", "");
	expect_walk(PATHS(""), 0, 0, "F .amaX\nF sub/.ama\n");
}

Test(walk, a_folder_holding_ama_is_another_asset)
{
	enter_tree();
	put(".ama/index", "");
	put("inner/.ama/index", "");
	put("inner/data", "");
	put("inner.txt", "");
	put("z", "");
	expect_walk(PATHS(""), 0, 0,
		    "F inner.txt\nS inner: another ama asset\nF z\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(walk, a_deep_tree_comes_in_sorted_order)
{
	char *paths[300];
	struct ama_buf want = AMA_BUF_INIT, dir = AMA_BUF_INIT;
	size_t n = 0, i;
	int rc;
	char *got;

	enter_tree();
	/* 100 levels, with files sorting before, among and after folders */
	for (i = 0; i < 100; i++) {
		char name[8192];

		ama_buf_addstr(&dir, i % 2 ? "dir/" : "d/");
		snprintf(name, sizeof(name), "%sfile", dir.s);
		put(name, "");
		paths[n++] = ama_strdup(name);
		snprintf(name, sizeof(name), "%s.dot", dir.s);
		put(name, "");
		paths[n++] = ama_strdup(name);
		snprintf(name, sizeof(name), "%sz", dir.s);
		put(name, "");
		paths[n++] = ama_strdup(name);
	}
	qsort(paths, n, sizeof(char *), cmp_str);
	for (i = 0; i < n; i++)
		ama_buf_addf(&want, "F %s\n", paths[i]);
	got = walk_log(&rc, 0, PATHS(""));
	cr_assert_str_eq(got, want.s);
	cr_assert_eq(rc, 0);
	free(got);
	for (i = 0; i < n; i++)
		free(paths[i]);
	ama_buf_release(&want);
	ama_buf_release(&dir);
}

Test(walk, awkward_names_pass_byte_for_byte)
{
	static const char *names[] = {
		"tab\tname", "new\nline", "quo\"te", "back\\slash", "-dash",
		"latin1-\xe9", "\x01" "ctl", "sp ace", "~tilde", "\xff",
		"dir\twith/tab\tfile", "dir\twith/\xe9", "utf8-\xc3\xa9",
	};
	size_t n = sizeof(names) / sizeof(names[0]), i;
	const char *sorted[sizeof(names) / sizeof(names[0])];
	struct ama_buf want = AMA_BUF_INIT;

	enter_tree();
	for (i = 0; i < n; i++) {
		put(names[i], "");
		sorted[i] = names[i];
	}
	qsort(sorted, n, sizeof(char *), cmp_str);
	for (i = 0; i < n; i++) {
		ama_buf_addstr(&want, "F ");
		ama_quote_path(&want, sorted[i], strlen(sorted[i]));
		ama_buf_addch(&want, '\n');
	}
	expect_walk(PATHS(""), 0, 0, want.s);
	ama_buf_release(&want);
}

Test(walk, links_fifos_and_sockets_are_skipped_in_order)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	enter_tree();
	put("real/file", "");
	cr_assert_eq(symlink("real", "link-to-folder"), 0);
	cr_assert_eq(symlink("real/file", "link-to-file"), 0);
	cr_assert_eq(symlink("nowhere", "dangling"), 0);
	cr_assert_eq(mkfifo("fifo", 0644), 0);
	strcpy(sa.sun_path, "sock");
	cr_assert(s >= 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	expect_walk(PATHS(""), 0, 0,
		    "S dangling: symbolic link not followed\n"
		    "S fifo: not a regular file: FIFO\n"
		    "S link-to-file: symbolic link not followed\n"
		    "S link-to-folder: symbolic link not followed\n"
		    "F real/file\n"
		    "S sock: not a regular file: socket\n");
	close(s);
}

Test(walk, amaignore_at_several_levels)
{
	enter_tree();
	put(".amaignore", "*.tmp\nbuild/\n/top-only\n");
	put("a.tmp", "");
	put("keep", "");
	put("top-only", "");
	put("build/out", "");
	put("sub/.amaignore", "!keep.tmp\n/local\n*.dat\n");
	put("sub/keep.tmp", "");
	put("sub/x.tmp", "");
	put("sub/local", "");
	put("sub/top-only", "");
	put("sub/build/out", "");
	put("sub/deep/local", "");
	put("sub/deep/x.dat", "");
	put("sub/deep/.amaignore", "!*.dat\n");
	put("sub/deep/y.dat", "");
	put("other/keep.tmp", "");
	put("other/x.dat", "");
	expect_walk(PATHS(""), 0, 0,
		    "F .amaignore\nF keep\nF other/x.dat\nF sub/.amaignore\n"
		    "F sub/deep/.amaignore\nF sub/deep/local\n"
		    "F sub/deep/x.dat\nF sub/deep/y.dat\nF sub/keep.tmp\n"
		    "F sub/top-only\n");
	/* a subfolder alone: the ancestors' files apply as well */
	expect_walk(PATHS("sub"), 0, 0,
		    "F sub/.amaignore\n"
		    "F sub/deep/.amaignore\nF sub/deep/local\n"
		    "F sub/deep/x.dat\nF sub/deep/y.dat\nF sub/keep.tmp\n"
		    "F sub/top-only\n");
}

Test(walk, named_paths_are_taken_even_when_ignored)
{
	enter_tree();
	put(".amaignore", "*.tmp\nbuild/\n");
	put("a.tmp", "");
	put("b", "");
	put("build/out", "");
	put("build/x.tmp", "");
	put("build/sub/f", "");
	put("c/d.tmp", "");
	put("c/e", "");
	put("a/x", "");
	put("a.txt", "");
	put("a0", "");
	expect_walk(PATHS("a.tmp"), 0, 0, "F a.tmp (named)\n");
	/* a named folder is walked; the patterns apply inside it */
	expect_walk(PATHS("build"), 0, 0, "F build/out\nF build/sub/f\n");
	/* named paths inside an ignored folder and inside the walk */
	expect_walk(PATHS("", "c/d.tmp", "build/x.tmp"), 0, 0,
		    "F .amaignore\nF a.txt\nF a/x\nF a0\nF b\n"
		    "F build/x.tmp (named)\nF c/d.tmp (named)\nF c/e\n");
	/* twice, or inside a named folder: once, in order */
	expect_walk(PATHS("c", "b", "a.tmp", "b", "c/e"), 0, 0,
		    "F a.tmp (named)\nF b (named)\nF c/e (named)\n");
	expect_walk(PATHS("a0", "a", "a.txt"), 0, 0,
		    "F a.txt (named)\nF a/x\nF a0 (named)\n");
}

Test(walk, named_paths_missing_or_beyond_a_link_are_reported)
{
	enter_tree();
	put("real/f", "");
	cr_assert_eq(symlink("real", "link"), 0);
	expect_walk(PATHS("real/nosuch", "nosuch", "real/f", "link/f"), 0, 2,
		    "S link/f (named): beyond a symbolic link\n"
		    "E nosuch (named): no such file\n"
		    "F real/f (named)\n"
		    "E real/nosuch (named): no such file\n");
	expect_walk(PATHS("link"), 0, 0,
		    "S link (named): symbolic link not followed\n");
	expect_walk(PATHS("", "real/nosuch"), 0, 1,
		    "S link: symbolic link not followed\nF real/f\n"
		    "E real/nosuch (named): no such file\n");
	expect_walk(PATHS("real/f/x"), 0, 1,
		    "E real/f/x (named): no such file\n");
}

Test(walk, unclean_paths_and_dotama_are_refused)
{
	static const char *bad[] = { "../x", "/abs", "a//b", "a/", "./a",
				     ".ama", ".ama/index" };
	size_t i;
	int rc;

	enter_tree();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *got = walk_log(&rc, 0, PATHS(bad[i]));

		cr_expect_eq(rc, AMA_EINVAL, "%s", bad[i]);
		cr_expect_str_eq(got, "", "%s", bad[i]);
		free(got);
	}
}

static int check_stat(const struct ama_walk_entry *e, void *ctx)
{
	struct ama_stat now;
	int *n = ctx;

	cr_assert_eq(e->event, AMA_WALK_FILE);
	cr_assert_not_null(e->st);
	cr_assert_eq(ama_stat_path(&now, e->path), 0);
	cr_assert(ama_stat_equal(e->st, &now), "%s", e->path);
	cr_assert_eq(e->mode, now.mode);
	(*n)++;
	return 0;
}

static int check_no_stat(const struct ama_walk_entry *e, void *ctx)
{
	int *n = ctx;

	cr_assert_null(e->st);
	cr_assert_eq(e->mode, S_IFREG);
	(*n)++;
	return 0;
}

Test(walk, stat_records_on_request)
{
	int n = 0;

	enter_tree();
	put("f", "hello");
	put("d/g", "0123456789");
	cr_assert_eq(ama_walk(PATHS("", "f"), 2, AMA_WALK_STAT, check_stat,
			      &n), 0);
	cr_assert_eq(n, 2);
	n = 0;
	cr_assert_eq(ama_walk(PATHS("d/g"), 1, AMA_WALK_STAT, check_stat, &n),
		     0);
	cr_assert_eq(n, 1);
	n = 0;
	cr_assert_eq(ama_walk(PATHS(""), 1, 0, check_no_stat, &n), 0);
	cr_assert_eq(n, 2);
}

Test(walk, folders_are_reported_and_can_be_pruned)
{
	struct log log = { AMA_BUF_INIT, 0, 0, "b/c" };

	enter_tree();
	put("a/x", "");
	put("b/y", "");
	put("b/c/z", "");
	put("b/d/w", "");
	cr_assert_eq(ama_walk(PATHS(""), 1, AMA_WALK_DIRS, collect, &log), 0);
	cr_assert_str_eq(log.b.s, "D  (named)\nD a\nF a/x\nD b\nD b/c\n"
			 "D b/d\nF b/d/w\nF b/y\n");
	ama_buf_release(&log.b);
}

Test(walk, a_negative_answer_stops_the_walk)
{
	struct log log = { AMA_BUF_INIT, 2, 0, NULL };

	enter_tree();
	put("a", "");
	put("b", "");
	put("c", "");
	cr_assert_eq(ama_walk(PATHS(""), 1, 0, collect, &log), AMA_EINVAL);
	cr_assert_str_eq(log.b.s, "F a\nF b\n");
	ama_buf_release(&log.b);
}

/* Permissions mean nothing to root: run the test as nobody. */
static void become_nobody(void)
{
	if (geteuid() != 0)
		return;
	cr_assert_eq(setgroups(0, NULL), 0);
	cr_assert_eq(setgid(65534), 0);
	cr_assert_eq(setuid(65534), 0);
}

Test(walk, unreadable_folders_are_errors_and_the_walk_goes_on)
{
	become_nobody();
	enter_tree();
	put("a/f", "");
	put("locked/g", "");
	put("search-only/h", "");
	put("search-only/.amaignore", "*.x\n");
	put("search-only/sub/a.x", "");
	put("search-only/sub/b", "");
	put("sub/.amaignore", "*.x\n");
	put("sub/f", "");
	put("z", "");
	cr_assert_eq(chmod("locked", 0), 0);
	cr_assert_eq(chmod("search-only", 0111), 0);
	cr_assert_eq(chmod("sub/.amaignore", 0), 0);
	expect_walk(PATHS(""), 0, 3,
		    "F a/f\n"
		    "E locked: cannot open folder: Permission denied\n"
		    "E search-only: cannot open folder: Permission denied\n"
		    "E sub/.amaignore: cannot read: Permission denied\n"
		    "F z\n");
	/* a file named inside a folder that cannot be listed is still taken */
	expect_walk(PATHS("search-only/h", "search-only"), 0, 1,
		    "E search-only: cannot open folder: Permission denied\n"
		    "F search-only/h (named)\n");
	/* and a folder named inside it, with that folder's .amaignore */
	expect_walk(PATHS("search-only/sub", ""), 0, 3,
		    "F a/f\n"
		    "E locked: cannot open folder: Permission denied\n"
		    "E search-only: cannot open folder: Permission denied\n"
		    "F search-only/sub/b\n"
		    "E sub/.amaignore: cannot read: Permission denied\n"
		    "F z\n");
	expect_walk(PATHS("search-only/sub"), 0, 0, "F search-only/sub/b\n");
}

static char *untracked_log(int *rc, const char *const *tracked, size_t n)
{
	struct log log = { AMA_BUF_INIT, 0, 0, NULL };

	*rc = ama_walk_untracked(PATHS(""), 1, 0, tracked, n, collect, &log);
	return ama_buf_detach(&log.b);
}

Test(walk, untracked_files_are_the_walk_minus_the_index)
{
	static const char *tracked[] = { "a", "b/d", "b/d", "ignored.tmp",
					 "not/on/disk", "z" };
	static const char *unsorted[] = { "b", "a" };
	int rc;
	char *got;

	enter_tree();
	put(".amaignore", "*.tmp\n");
	put("a", "");
	put("a.new", "");
	put("b/c", "");
	put("b/d", "");
	put("b/e", "");
	put("ignored.tmp", "");
	put("new.tmp", "");
	put("y", "");
	cr_assert_eq(symlink("a", "l"), 0);
	got = untracked_log(&rc, tracked, 6);
	cr_assert_str_eq(got, "F .amaignore\nF a.new\nF b/c\nF b/e\n"
			 "S l: symbolic link not followed\nF y\n");
	cr_assert_eq(rc, 0);
	free(got);
	/* nothing tracked: everything */
	got = untracked_log(&rc, NULL, 0);
	cr_assert_str_eq(got, "F .amaignore\nF a\nF a.new\nF b/c\nF b/d\n"
			 "F b/e\nS l: symbolic link not followed\nF y\n");
	free(got);
	got = untracked_log(&rc, unsorted, 2);
	cr_assert_eq(rc, AMA_EINVAL);
	cr_assert_str_eq(got, "");
	free(got);
}

static int collect_files(const struct ama_walk_entry *e, void *ctx)
{
	struct ama_buf *b = ctx;

	cr_assert_eq(e->event, AMA_WALK_FILE, "%s: %s", e->path,
		     e->reason ? e->reason : "");
	ama_buf_add(b, e->path, e->len + 1);
	return 0;
}

Test(walk, agrees_with_git_on_a_tree_of_patterns)
{
	static const char *files[] = {
		"a.tmp", "important.tmp", "x/important.tmp", "x/a.tmp",
		"build/f", "x/build/f", "only-root.txt", "x/only-root.txt",
		"doc/gen", "doc/a/b/gen", "doc/genx", "cache/f",
		"x/y/cache/f", "main.o", "lib.a", "lib.c", "logs/a",
		"logs/keep", "logs/sub/f", "#hash", "trailing ", "trailing",
		"data/x.csv", "data/sub/x.csv", "1.bin", "1keep.bin",
		"x/1keep.bin", "ax", "abx", "w", "sub/a.tmp", "sub/deeper/f",
		"sub/x/deeper/f", "sub/q.csv", "sub/r.txt", "tab\tname",
		"new\nline", "latin1-\xe9", "quo\"te", "back\\slash", "-dash",
		"\xe9t\xe9/f.tmp", "\xe9t\xe9/g",
	};
	char gitdir[96];
	char *git = NULL;
	struct ama_buf ours = AMA_BUF_INIT, theirs = AMA_BUF_INIT;
	struct ama_redirect out = { AMA_REDIR_BUF, -1, &theirs };
	size_t i;

	if (ama_exec_find(&git, "git") < 0)
		cr_skip_test("git is not installed");
	free(git);
	enter_tree();
	put(".amaignore",
	    "# comment\n*.tmp\n!important.tmp\nbuild/\n/only-root.txt\n"
	    "doc/**/gen\n**/cache\n*.[oa]\nlogs/*\n!logs/keep\n\\#hash\n"
	    "trailing\\ \ndata/*.csv\n[0-9]*.bin\n!/1keep.bin\n?x\n"
	    "[\x80-\xff]*/*.tmp\n");
	put("sub/.amaignore", "!*.tmp\n/deeper/\n*.csv\n");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	snprintf(gitdir, sizeof(gitdir), "%s.git", root);
	cr_assert_eq(ama_run(PATHS("git", "init", "-q", "--bare", gitdir),
			     NULL, NULL), 0);
	cr_assert_eq(ama_run(PATHS("git", "--git-dir", gitdir, "--work-tree",
				   ".", "ls-files", "-o", "-z",
				   "--exclude-per-directory=.amaignore"),
			     NULL, &out), 0);
	cr_assert_eq(ama_walk(PATHS(""), 1, 0, collect_files, &ours), 0);
	cr_assert_eq(ours.len, theirs.len);
	cr_assert(!memcmp(ours.s, theirs.s, ours.len));
	/* and the list is not trivial */
	cr_assert(memmem(ours.s, ours.len, "sub/a.tmp", 10));
	cr_assert(!memmem(ours.s, ours.len, "x/a.tmp", 8));
	ama_buf_release(&ours);
	ama_buf_release(&theirs);
}
