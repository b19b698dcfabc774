/* t/unit/pathspec.c: which paths of an asset a command is about: files, folders, globs, from any folder. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "error.h"
#include "pathspec.h"
#include "readfix.h"

TestSuite(pathspec, .init = fx_setup, .fini = fx_teardown);

/* The asset folder "a" (with sub/deeper/), seen from its folder from. */
static void asset_at(struct ama_asset *a, const char *from)
{
	char path[128];

	cr_assert_eq(mkdir("a", 0755), 0);
	cr_assert_eq(mkdir("a/.ama", 0755), 0);
	cr_assert_eq(mkdir("a/sub", 0755), 0);
	cr_assert_eq(mkdir("a/sub/deeper", 0755), 0);
	cr_assert_eq(mkdir("a/other", 0755), 0);
	snprintf(path, sizeof(path), "%s/%s", fx_dir, from);
	cr_assert_eq(chdir(path), 0);
	cr_assert_eq(ama_asset_find(a), 0, "%s", ama_error_msg());
}

static int match(const struct ama_pathspec *ps, const char *path)
{
	return ama_pathspec_match(ps, path, strlen(path));
}

/* The paths of a fixed list that ps matches, joined by ' '. */
static char *matches(const struct ama_pathspec *ps)
{
	static const char *const all[] = {
		"README", "a.txt", "b.csv", "other/x.txt", "sub", "sub.txt",
		"sub/a.txt", "sub/b.csv", "sub/deeper/c.txt", "subway/a.txt",
	};
	struct ama_buf b = AMA_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(*all); i++)
		if (match(ps, all[i]))
			ama_buf_addf(&b, "%s%s", b.len ? " " : "", all[i]);
	ama_buf_add(&b, "", 0);
	return ama_buf_detach(&b);
}

static void expect(const struct ama_asset *a, const char *spec,
		   const char *want)
{
	struct ama_pathspec ps;
	char *const v[] = { (char *)spec };
	char *got;

	cr_assert_eq(ama_pathspec_parse(&ps, a, v, 1), 0, "%s: %s", spec,
		     ama_error_msg());
	got = matches(&ps);
	cr_assert_str_eq(got, want, "pathspec '%s'", spec);
	free(got);
	ama_pathspec_release(&ps);
}

Test(pathspec, none_at_all_matches_everything)
{
	struct ama_pathspec ps;

	cr_assert_eq(ama_pathspec_parse(&ps, NULL, NULL, 0), 0);
	cr_assert_eq(ps.n, 0);
	cr_assert_eq(match(&ps, "anything/at/all"), 1);
	cr_assert_eq(ama_pathspec_match(NULL, "x", 1), 1);
	ama_pathspec_release(&ps);
}

Test(pathspec, a_file_matches_itself_only)
{
	struct ama_asset a;

	asset_at(&a, "a");
	expect(&a, "a.txt", "a.txt");
	expect(&a, "sub/a.txt", "sub/a.txt");
	expect(&a, "./sub//a.txt", "sub/a.txt");
	ama_asset_release(&a);
}

Test(pathspec, a_folder_matches_what_is_below_it_and_no_namesake)
{
	struct ama_asset a;

	asset_at(&a, "a");
	expect(&a, "sub", "sub sub/a.txt sub/b.csv sub/deeper/c.txt");
	expect(&a, "sub/", "sub sub/a.txt sub/b.csv sub/deeper/c.txt");
	expect(&a, "sub/deeper", "sub/deeper/c.txt");
	ama_asset_release(&a);
}

Test(pathspec, the_root_matches_everything)
{
	struct ama_asset a;

	asset_at(&a, "a/sub");
	expect(&a, "..", "README a.txt b.csv other/x.txt sub sub.txt "
	       "sub/a.txt sub/b.csv sub/deeper/c.txt subway/a.txt");
	ama_asset_release(&a);
}

Test(pathspec, globs_match_within_one_folder_and_double_star_across)
{
	struct ama_asset a;

	asset_at(&a, "a");
	expect(&a, "*.txt", "a.txt sub.txt");
	expect(&a, "sub/*.txt", "sub/a.txt");
	expect(&a, "**/*.txt", "a.txt other/x.txt sub.txt sub/a.txt "
	       "sub/deeper/c.txt subway/a.txt");
	expect(&a, "s?b/*", "sub/a.txt sub/b.csv");
	expect(&a, "[ab].*", "a.txt b.csv");
	expect(&a, "sub/**", "sub/a.txt sub/b.csv sub/deeper/c.txt");
	ama_asset_release(&a);
}

Test(pathspec, paths_from_a_subfolder_are_taken_relative_to_it)
{
	struct ama_asset a;

	asset_at(&a, "a/sub");
	cr_assert_str_eq(a.prefix, "sub/");
	expect(&a, "a.txt", "sub/a.txt");
	expect(&a, "deeper", "sub/deeper/c.txt");
	expect(&a, "../README", "README");
	expect(&a, "../other", "other/x.txt");
	expect(&a, "*.txt", "sub/a.txt");
	expect(&a, "**/*.txt", "sub/a.txt sub/deeper/c.txt");
	ama_asset_release(&a);
}

Test(pathspec, a_glob_that_climbs_out_of_the_subfolder_is_taken_from_there)
{
	struct ama_asset a;

	asset_at(&a, "a/sub/deeper");
	expect(&a, "../*.csv", "sub/b.csv");
	expect(&a, "../../*.txt", "a.txt sub.txt");
	expect(&a, "../../other/*.txt", "other/x.txt");
	expect(&a, "./*.txt", "sub/deeper/c.txt");
	ama_asset_release(&a);
}

Test(pathspec, an_absolute_path_inside_the_asset_is_taken)
{
	struct ama_asset a;
	char path[160];

	asset_at(&a, "a/sub");
	snprintf(path, sizeof(path), "%s/a/other", fx_dir);
	expect(&a, path, "other/x.txt");
	ama_asset_release(&a);
}

Test(pathspec, several_pathspecs_match_what_any_of_them_does)
{
	struct ama_asset a;
	struct ama_pathspec ps;
	char *const v[] = { "README", "sub/deeper", "*.csv" };
	char *got;

	asset_at(&a, "a");
	cr_assert_eq(ama_pathspec_parse(&ps, &a, v, 3), 0);
	cr_assert_eq(ps.n, 3);
	cr_assert_str_eq(ps.v[0], "README");
	cr_assert_str_eq(ps.v[1], "sub/deeper");
	cr_assert_str_eq(ps.v[2], "*.csv");
	cr_assert_eq(ps.glob[0], 0);
	cr_assert_eq(ps.glob[2], 1);
	got = matches(&ps);
	cr_assert_str_eq(got, "README b.csv sub/deeper/c.txt");
	free(got);
	ama_pathspec_release(&ps);
	ama_asset_release(&a);
}

static void refused(const struct ama_asset *a, const char *spec,
		    const char *why)
{
	struct ama_pathspec ps;
	char *const v[] = { "README", (char *)spec };

	cr_assert_eq(ama_pathspec_parse(&ps, a, v, 2), AMA_EINVAL,
		     "'%s' was taken", spec);
	cr_assert_str_eq(ama_error_path(), spec);
	cr_assert_str_eq(ama_error_msg(), why, "for '%s'", spec);
	cr_assert_eq(ps.n, 0);
	cr_assert_null(ps.v);
}

Test(pathspec, ama_own_folder_is_refused)
{
	struct ama_asset a;

	asset_at(&a, "a/sub");
	refused(&a, "../.ama", "inside .ama, which ama manages");
	refused(&a, "../.ama/index", "inside .ama, which ama manages");
	refused(&a, "../.ama/*", "inside .ama, which ama manages");
	ama_asset_release(&a);
	cr_assert_eq(chdir(fx_dir), 0);
	{
		struct ama_pathspec ps;
		char *const v[] = { ".ama/config" };
		char *const g[] = { ".ama/*" };

		cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 1), AMA_EINVAL);
		cr_assert_str_eq(ama_error_msg(),
				 "inside .ama, which ama manages");
		cr_assert_eq(ama_pathspec_parse(&ps, NULL, g, 1), AMA_EINVAL);
	}
}

Test(pathspec, a_path_outside_the_asset_is_refused)
{
	struct ama_asset a;

	asset_at(&a, "a/sub");
	refused(&a, "../../elsewhere", "outside the asset");
	refused(&a, "/etc/passwd", "outside the asset");
	refused(&a, "../../*.txt", "outside the asset");
	ama_asset_release(&a);
}

Test(pathspec, with_no_asset_paths_are_taken_from_the_root)
{
	struct ama_pathspec ps;
	char *const v[] = { "sub/./deeper/", "*.csv" };
	char *const out[] = { "../x" };
	char *got;

	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 2), 0);
	cr_assert_str_eq(ps.v[0], "sub/deeper");
	got = matches(&ps);
	cr_assert_str_eq(got, "b.csv sub/deeper/c.txt");
	free(got);
	ama_pathspec_release(&ps);
	cr_assert_eq(ama_pathspec_parse(&ps, NULL, out, 1), AMA_EINVAL);
	cr_assert_str_eq(ama_error_path(), "../x");
	cr_assert_str_eq(ama_error_msg(), "leads outside the asset");
}

Test(pathspec, only_the_given_length_of_a_path_is_matched)
{
	struct ama_pathspec ps;
	char *const v[] = { "sub" };

	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 1), 0);
	/* "sub" of "subway", and "sub" of "sub/x" */
	cr_assert_eq(ama_pathspec_match(&ps, "subway", 3), 1);
	cr_assert_eq(ama_pathspec_match(&ps, "sub/x", 5), 1);
	cr_assert_eq(ama_pathspec_match(&ps, "subway", 6), 0);
	ama_pathspec_release(&ps);
}
