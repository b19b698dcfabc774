/* t/unit/asset.c: finding the asset root and paths relative to it. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "tmpdir.h"


TestSuite(asset_find, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* dir/name, in one of two static buffers (two may be live at once) */
static const char *at(const char *name)
{
	static char path[2][PATH_MAX];
	static int next;
	char *p = path[next];

	next ^= 1;
	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

/* the real path of dir/name, as ama_asset_find_from() reports roots */
static const char *real(const char *name)
{
	static char path[PATH_MAX];

	cr_assert_not_null(realpath(at(name), path), "cannot resolve %s",
			   name);
	return path;
}

/* mkdir -p dir/rel */
static void mk(const char *rel)
{
	char path[PATH_MAX];
	size_t n = strlen(dir) + 1, i;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (i = n; ; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];

			path[i] = '\0';
			cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST,
				  "cannot create %s", path);
			path[i] = c;
			if (!c)
				break;
		}
	}
}

static void write_file(const char *rel)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "cannot create %s", rel);
	cr_assert_eq(close(fd), 0);
}

/* The "no asset" tests need no .ama above the temporary folder. */
static void assert_no_dotama_above(void)
{
	char path[PATH_MAX + 8];
	char *slash;

	cr_assert_not_null(realpath(dir, path));
	while ((slash = strrchr(path, '/')) != NULL) {
		size_t n = (size_t)(slash - path);
		struct stat st;

		path[n] = '\0';
		strcat(path, "/.ama");
		cr_assert(stat(path, &st) < 0,
			  "%s exists: this test needs no asset above %s",
			  path, dir);
		path[n] = '\0';
		if (n == 0)
			break;
	}
}

static const char not_inside[] =
	"not inside an ama asset (no .ama in this folder or any parent); "
	"run 'ama init CLASS' first";

/* find from dir/start, expecting the asset at dir/root with prefix */
static void assert_found(const char *start, const char *root,
			 const char *prefix)
{
	struct ama_asset a;

	cr_assert_eq(ama_asset_find_from(&a, at(start)), 0, "from %s: %s",
		     start, ama_error_msg());
	cr_assert_str_eq(a.root, real(root));
	cr_assert_str_eq(a.prefix, prefix);
	ama_asset_release(&a);
}

static void assert_not_inside(const char *start)
{
	struct ama_asset a;

	assert_no_dotama_above();
	ama_error_clear();
	cr_assert_eq(ama_asset_find_from(&a, at(start)), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), not_inside);
	cr_assert_null(ama_error_path());
	cr_assert_null(a.root);
	cr_assert_null(a.prefix);
	ama_asset_release(&a);
}

Test(asset_find, the_folder_holding_dotama_is_the_root)
{
	mk("top/.ama");
	assert_found("top", "top", "");
	assert_found("top/", "top", "");
	assert_found("top/.", "top", "");
}

Test(asset_find, a_subfolder_gets_its_prefix_from_the_root)
{
	mk("top/.ama");
	mk("top/a/b/c");
	assert_found("top/a", "top", "a/");
	assert_found("top/a/b/c", "top", "a/b/c/");
	assert_found("top/a/b/c/..", "top", "a/b/");
	assert_found("top/a//b/./c/", "top", "a/b/c/");
}

Test(asset_find, the_nearest_dotama_wins)
{
	mk("outer/.ama");
	mk("outer/inner/.ama");
	mk("outer/inner/x");
	mk("outer/y");
	assert_found("outer/inner/x", "outer/inner", "x/");
	assert_found("outer/inner", "outer/inner", "");
	assert_found("outer/y", "outer", "y/");
}

Test(asset_find, a_dotama_file_does_not_make_an_asset)
{
	mk("outer/.ama");
	mk("outer/sub");
	write_file("outer/sub/.ama");
	assert_found("outer/sub", "outer", "sub/");
	mk("plain");
	write_file("plain/.ama");
	assert_not_inside("plain");
}

Test(asset_find, a_dotama_symlink_to_a_folder_makes_an_asset)
{
	mk("store");
	mk("top/a");
	cr_assert_eq(symlink("../store", at("top/.ama")), 0);
	assert_found("top/a", "top", "a/");
}

Test(asset_find, a_dangling_dotama_symlink_does_not_make_an_asset)
{
	mk("top/a");
	cr_assert_eq(symlink("nowhere", at("top/.ama")), 0);
	assert_not_inside("top/a");
}

Test(asset_find, no_dotama_anywhere_above_is_a_setup_error)
{
	mk("plain/a/b");
	assert_not_inside("plain/a/b");
	assert_not_inside("plain");
}

Test(asset_find, a_missing_start_cannot_be_resolved)
{
	struct ama_asset a;
	char path[PATH_MAX];

	mk("top/.ama");
	snprintf(path, sizeof(path), "%s", at("top/nosuch"));
	ama_error_clear();
	cr_assert_eq(ama_asset_find_from(&a, path), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot resolve: No such file or directory");
	cr_assert_str_eq(ama_error_path(), path);
	cr_assert_null(a.root);
	cr_assert_null(a.prefix);
}

Test(asset_find, a_symlink_into_the_asset_finds_the_real_root)
{
	mk("asset/.ama");
	mk("asset/a/b");
	mk("outside");
	cr_assert_eq(symlink("../asset/a/b", at("outside/link")), 0);
	assert_found("outside/link", "asset", "a/b/");
	cr_assert_eq(symlink("asset", at("alias")), 0);
	assert_found("alias/a", "asset", "a/");
}

Test(asset_find, a_symlink_out_of_the_asset_leaves_it)
{
	mk("asset/.ama");
	mk("elsewhere/x");
	cr_assert_eq(symlink("../elsewhere/x", at("asset/out")), 0);
	assert_not_inside("asset/out");
}

Test(asset_find, find_starts_from_the_working_folder)
{
	struct ama_asset a;

	mk("top/.ama");
	mk("top/a/b");
	/* each test runs in its own process: the chdir ends with it */
	cr_assert_eq(chdir(at("top/a/b")), 0);
	cr_assert_eq(ama_asset_find(&a), 0);
	cr_assert_str_eq(a.root, real("top"));
	cr_assert_str_eq(a.prefix, "a/b/");
	ama_asset_release(&a);
	cr_assert_null(a.root);
	cr_assert_null(a.prefix);
	cr_assert_eq(chdir(at("top")), 0);
	cr_assert_eq(ama_asset_find(&a), 0);
	cr_assert_str_eq(a.root, real("top"));
	cr_assert_str_eq(a.prefix, "");
	ama_asset_release(&a);
}

Test(asset_find, a_relative_start_gives_an_absolute_root)
{
	struct ama_asset a;

	mk("top/.ama");
	mk("top/a/b");
	cr_assert_eq(chdir(at("top/a")), 0);
	cr_assert_eq(ama_asset_find_from(&a, "b"), 0);
	cr_assert_str_eq(a.root, real("top"));
	cr_assert_str_eq(a.prefix, "a/b/");
	ama_asset_release(&a);
	cr_assert_eq(ama_asset_find_from(&a, ".."), 0);
	cr_assert_str_eq(a.root, real("top"));
	cr_assert_str_eq(a.prefix, "");
	ama_asset_release(&a);
}

/* assets built by hand: ama_asset_path() and _display() only read them */
static const struct ama_asset at_root = {
	(char *)"/srv/data", (char *)""
};
static const struct ama_asset in_ab = {
	(char *)"/srv/data", (char *)"a/b/"
};

static void assert_path(const struct ama_asset *a, const char *path,
			const char *want)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_eq(ama_asset_path(&b, a, path), 0, "'%s': %s", path,
		     ama_error_msg());
	cr_assert_str_eq(ama_buf_str(&b), want, "'%s' gave '%s', not '%s'",
			 path, ama_buf_str(&b), want);
	cr_assert_eq(b.len, strlen(want));
	ama_buf_release(&b);
}

static void assert_refused(const struct ama_asset *a, const char *path,
			   const char *msg)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_error_clear();
	cr_assert_eq(ama_asset_path(&b, a, path), AMA_EINVAL,
		     "'%s' accepted as '%s'", path, ama_buf_str(&b));
	cr_assert_str_eq(ama_error_msg(), msg);
	cr_assert_str_eq(ama_error_path(), path);
	ama_buf_release(&b);
}

Test(asset_path, relative_paths_are_joined_to_the_prefix)
{
	assert_path(&at_root, "x.bin", "x.bin");
	assert_path(&at_root, "c/d", "c/d");
	assert_path(&in_ab, "x.bin", "a/b/x.bin");
	assert_path(&in_ab, "c/d", "a/b/c/d");
}

Test(asset_path, dots_and_empty_parts_are_normalized_away)
{
	assert_path(&in_ab, "./x//y/", "a/b/x/y");
	assert_path(&in_ab, "x/./y/../z", "a/b/x/z");
	assert_path(&in_ab, ".", "a/b");
	assert_path(&in_ab, "", "a/b");
	assert_path(&in_ab, "...", "a/b/...");
	assert_path(&in_ab, "..x/y..", "a/b/..x/y..");
}

Test(asset_path, dotdot_climbs_towards_the_root)
{
	assert_path(&in_ab, "../c", "a/c");
	assert_path(&in_ab, "../../c", "c");
	assert_path(&in_ab, "..", "a");
	assert_path(&in_ab, "../..", "");
	assert_path(&in_ab, "../../", "");
	assert_path(&at_root, ".", "");
	assert_path(&at_root, "", "");
	assert_path(&at_root, "x/..", "");
}

Test(asset_path, absolute_paths_inside_the_root)
{
	assert_path(&at_root, "/srv/data/x", "x");
	assert_path(&in_ab, "/srv/data/x", "x");
	assert_path(&in_ab, "/srv/data", "");
	assert_path(&in_ab, "/srv/data/", "");
	assert_path(&in_ab, "/srv/data//x/./y/", "x/y");
	assert_path(&in_ab, "/srv/data/a/../x", "x");
}

Test(asset_path, a_path_above_the_root_is_outside)
{
	assert_refused(&at_root, "..", "outside the asset");
	assert_refused(&at_root, "../x", "outside the asset");
	assert_refused(&at_root, "x/../../y", "outside the asset");
	assert_refused(&in_ab, "../../..", "outside the asset");
	assert_refused(&in_ab, "../../../x", "outside the asset");
}

Test(asset_path, an_absolute_path_elsewhere_is_outside)
{
	assert_refused(&in_ab, "/srv/datax/y", "outside the asset");
	assert_refused(&in_ab, "/srv/dat", "outside the asset");
	assert_refused(&in_ab, "/srv", "outside the asset");
	assert_refused(&in_ab, "/", "outside the asset");
	assert_refused(&in_ab, "/other/x", "outside the asset");
	assert_refused(&in_ab, "/srv/data/../y", "outside the asset");
	assert_refused(&in_ab, "/srv/data/x/../../y", "outside the asset");
}

/* as git does: the path is normalized before it is compared with the root */
Test(asset_path, other_spellings_of_a_path_inside_are_inside)
{
	assert_path(&in_ab, "/srv//data/x", "x");
	assert_path(&in_ab, "/srv/./data/x", "x");
	assert_path(&in_ab, "/srv/data/../data/x", "x");
	assert_path(&at_root, "../data/x", "x");
	assert_path(&in_ab, "../../../data/a", "a");
	assert_path(&at_root, "/srv/data", "");
	assert_path(&at_root, "/srv/data/", "");
}

/* the root is stored with its links resolved; a path through a link too */
Test(asset_find, a_path_through_a_link_to_the_asset_is_inside)
{
	struct ama_asset a;
	struct ama_buf b = AMA_BUF_INIT;
	char path[PATH_MAX];

	mk("asset/.ama");
	mk("asset/sub");
	cr_assert_eq(symlink("asset", at("alias")), 0);
	cr_assert_eq(symlink("asset/sub", at("subalias")), 0);
	cr_assert_eq(ama_asset_find_from(&a, at("asset")), 0);
	snprintf(path, sizeof(path), "%s/alias/sub/new-file", dir);
	cr_assert_eq(ama_asset_path(&b, &a, path), 0, "%s", ama_error_msg());
	cr_assert_str_eq(b.s, "sub/new-file");
	ama_buf_reset(&b);
	snprintf(path, sizeof(path), "%s/subalias/f", dir);
	cr_assert_eq(ama_asset_path(&b, &a, path), 0, "%s", ama_error_msg());
	cr_assert_str_eq(b.s, "sub/f");
	ama_buf_reset(&b);
	/* a link inside the asset named by its own path is not followed */
	cr_assert_eq(symlink("/tmp", at("asset/out")), 0);
	snprintf(path, sizeof(path), "%s/out", real("asset"));
	cr_assert_eq(ama_asset_path(&b, &a, path), 0, "%s", ama_error_msg());
	cr_assert_str_eq(b.s, "out");
	ama_buf_reset(&b);
	snprintf(path, sizeof(path), "%s/alias/../x", dir);
	cr_assert_eq(ama_asset_path(&b, &a, path), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "outside the asset");
	ama_buf_release(&b);
	ama_asset_release(&a);
}

Test(asset_path, dotama_is_refused)
{
	static const char msg[] = "inside .ama, which ama manages";

	assert_refused(&at_root, ".ama", msg);
	assert_refused(&at_root, ".ama/", msg);
	assert_refused(&at_root, "./.ama/config", msg);
	assert_refused(&at_root, "x/../.ama/index", msg);
	assert_refused(&in_ab, "../../.ama", msg);
	assert_refused(&in_ab, "/srv/data/.ama/x", msg);
}

Test(asset_path, names_that_only_begin_with_dotama_are_allowed)
{
	assert_path(&at_root, ".amazing", ".amazing");
	assert_path(&at_root, ".ama~/x", ".ama~/x");
	assert_path(&at_root, ".am", ".am");
	/* normalized before the check: this one never enters .ama */
	assert_path(&at_root, ".ama/../x", "x");
}

Test(asset_path, out_is_appended_to_and_restored_when_outside)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "keep:");
	cr_assert_eq(ama_asset_path(&b, &in_ab, "../x/.."), 0);
	cr_assert_str_eq(ama_buf_str(&b), "keep:a");
	ama_buf_truncate(&b, 5);
	cr_assert_eq(ama_asset_path(&b, &in_ab, "../../.."), AMA_EINVAL);
	cr_assert_str_eq(ama_buf_str(&b), "keep:");
	cr_assert_eq(b.len, 5);
	cr_assert_eq(ama_asset_path(&b, &in_ab, "/elsewhere"), AMA_EINVAL);
	cr_assert_str_eq(ama_buf_str(&b), "keep:");
	cr_assert_eq(b.len, 5);
	ama_buf_release(&b);
}

static void assert_display(const struct ama_asset *a, const char *rootrel,
			   const char *want)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_asset_display(&b, a, rootrel);
	cr_assert_str_eq(ama_buf_str(&b), want,
			 "'%s' from '%s' shown as '%s', not '%s'", rootrel,
			 a->prefix, ama_buf_str(&b), want);
	ama_buf_release(&b);
}

Test(asset_display, from_the_root_paths_are_unchanged)
{
	assert_display(&at_root, "x", "x");
	assert_display(&at_root, "x/y.bin", "x/y.bin");
	assert_display(&at_root, "", "");
}

Test(asset_display, below_the_working_folder_the_prefix_is_dropped)
{
	assert_display(&in_ab, "a/b/x", "x");
	assert_display(&in_ab, "a/b/c/d", "c/d");
}

Test(asset_display, elsewhere_paths_climb_with_dotdot)
{
	static const struct ama_asset in_ab_only = {
		(char *)"/srv/data", (char *)"ab/"
	};
	static const struct ama_asset in_a = {
		(char *)"/srv/data", (char *)"a/"
	};

	assert_display(&in_ab, "a/c/x", "../c/x");
	assert_display(&in_ab, "x", "../../x");
	assert_display(&in_ab, "a", "../../a");
	assert_display(&in_ab, "a/b", "../b");
	assert_display(&in_ab, "", "../../");
	/* sharing bytes is not sharing a folder */
	assert_display(&in_ab, "a/bc", "../bc");
	assert_display(&in_ab, "a/b.c/x", "../b.c/x");
	assert_display(&in_ab_only, "a/x", "../a/x");
	assert_display(&in_a, "ab", "../ab");
	assert_display(&in_a, "ab/c", "../ab/c");
}

Test(asset_display, out_is_appended_to)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "> ");
	ama_asset_display(&b, &in_ab, "a/c");
	cr_assert_str_eq(ama_buf_str(&b), "> ../c");
	ama_buf_release(&b);
}

Test(asset_display, a_shown_path_leads_back_to_the_same_file)
{
	static const char *prefixes[] = {
		"", "a/", "a/b/", "ab/c/", "x/y/z/",
	};
	static const char *paths[] = {
		"", "a", "a/b", "a/b/c.bin", "ab", "a/bc/d", "x/y/z/w", "q",
	};
	size_t i, j;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		struct ama_asset a = {
			(char *)"/srv/data", (char *)prefixes[i]
		};

		for (j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
			struct ama_buf shown = AMA_BUF_INIT;
			struct ama_buf back = AMA_BUF_INIT;

			ama_asset_display(&shown, &a, paths[j]);
			cr_assert_eq(ama_asset_path(&back, &a,
						    ama_buf_str(&shown)), 0);
			cr_assert_str_eq(ama_buf_str(&back), paths[j],
					 "'%s' from '%s' shown as '%s'",
					 paths[j], prefixes[i],
					 ama_buf_str(&shown));
			ama_buf_release(&shown);
			ama_buf_release(&back);
		}
	}
}

static void assert_normal(const char *path, const char *want)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_eq(ama_path_normalize(&b, path), 0, "'%s' refused", path);
	cr_assert_str_eq(ama_buf_str(&b), want);
	cr_assert_eq(b.len, strlen(want));
	ama_buf_release(&b);
}

Test(path_normalize, dots_and_empty_parts_are_dropped)
{
	assert_normal("a/./b//c/", "a/b/c");
	assert_normal("a/b/../c", "a/c");
	assert_normal("a/..", "");
	assert_normal("", "");
	assert_normal(".", "");
	assert_normal("./", "");
	assert_normal("...", "...");
	assert_normal("..a/b..", "..a/b..");
	assert_normal("a\tb/\"c\\", "a\tb/\"c\\");
}

Test(path_normalize, climbing_above_the_start_or_an_absolute_path_fails)
{
	static const char *bad[] = {
		"..", "../a", "./..", "a/../..", "a/b/../../../c", "/a", "/",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ama_buf b = AMA_BUF_INIT;

		cr_assert_eq(ama_path_normalize(&b, bad[i]), -1,
			     "'%s' accepted as '%s'", bad[i],
			     ama_buf_str(&b));
		ama_buf_release(&b);
	}
}

Test(path_normalize, out_is_appended_to_and_not_climbed_out_of)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "p/");
	cr_assert_eq(ama_path_normalize(&b, "a/../b"), 0);
	cr_assert_str_eq(ama_buf_str(&b), "p/b");
	ama_buf_truncate(&b, 2);
	cr_assert_eq(ama_path_normalize(&b, "a/.."), 0);
	cr_assert_str_eq(ama_buf_str(&b), "p/");
	cr_assert_eq(ama_path_normalize(&b, ".."), -1);
	cr_assert_str_eq(ama_buf_str(&b), "p/");
	ama_buf_release(&b);
}

Test(path_is_clean, clean_root_relative_paths)
{
	static const char *clean[] = {
		"a", "a/b", "a/b.c", "...", "..a", "a..", ".a/b.", ".ama",
		"sp ace/t\tab", "\351",
	};
	size_t i;

	for (i = 0; i < sizeof(clean) / sizeof(clean[0]); i++)
		cr_assert_eq(ama_path_is_clean(clean[i]), 1, "'%s'",
			     clean[i]);
}

Test(path_is_clean, unclean_paths)
{
	static const char *unclean[] = {
		"", "/", "/a", "a/", "a//b", "//a", ".", "./a", "a/.",
		"a/./b", "..", "../a", "a/..", "a/../b",
	};
	size_t i;

	for (i = 0; i < sizeof(unclean) / sizeof(unclean[0]); i++)
		cr_assert_eq(ama_path_is_clean(unclean[i]), 0, "'%s'",
			     unclean[i]);
}
