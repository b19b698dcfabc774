/* t/unit/ignore.c: the glob matcher and .amaignore patterns, gitignore(5) examples first. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ignore.h"

struct wm_case {
	int want;
	const char *text, *pattern;
};

/*
 * How git's wildmatch (WM_PATHNAME, case-sensitive) decides these: the
 * "glob" column of git's own table of cases, t/t3070-wildmatch.sh.
 */
static const struct wm_case git_cases[] = {
	/* basic */
	{ 1, "foo", "foo" }, { 0, "foo", "bar" }, { 1, "", "" },
	{ 1, "foo", "???" }, { 0, "foo", "??" }, { 1, "foo", "*" },
	{ 1, "foo", "f*" }, { 0, "foo", "*f" }, { 1, "foo", "*foo*" },
	{ 1, "foobar", "*ob*a*r*" }, { 1, "aaaaaaabababab", "*ab" },
	{ 1, "foo*", "foo\\*" }, { 0, "foobar", "foo\\*bar" },
	{ 1, "f\\oo", "f\\\\oo" }, { 1, "ball", "*[al]?" },
	{ 0, "ten", "[ten]" }, { 1, "ten", "**[!te]" },
	{ 0, "ten", "**[!ten]" }, { 1, "ten", "t[a-g]n" },
	{ 0, "ten", "t[!a-g]n" }, { 1, "ton", "t[!a-g]n" },
	{ 1, "ton", "t[^a-g]n" }, { 1, "a]b", "a[]]b" },
	{ 1, "a-b", "a[]-]b" }, { 1, "a]b", "a[]-]b" },
	{ 0, "aab", "a[]-]b" }, { 1, "aab", "a[]a-]b" }, { 1, "]", "]" },
	/* slashes */
	{ 0, "foo/baz/bar", "foo*bar" }, { 0, "foo/baz/bar", "foo**bar" },
	{ 1, "foobazbar", "foo**bar" }, { 1, "foo/baz/bar", "foo/**/bar" },
	{ 1, "foo/baz/bar", "foo/**/**/bar" },
	{ 1, "foo/b/a/z/bar", "foo/**/bar" },
	{ 1, "foo/b/a/z/bar", "foo/**/**/bar" },
	{ 1, "foo/bar", "foo/**/bar" }, { 1, "foo/bar", "foo/**/**/bar" },
	{ 0, "foo/bar", "foo?bar" }, { 0, "foo/bar", "foo[/]bar" },
	{ 0, "foo/bar", "foo[^a-z]bar" },
	{ 0, "foo/bar", "f[^eiu][^eiu][^eiu][^eiu][^eiu]r" },
	{ 1, "foo-bar", "f[^eiu][^eiu][^eiu][^eiu][^eiu]r" },
	{ 1, "foo", "**/foo" }, { 1, "XXX/foo", "**/foo" },
	{ 1, "bar/baz/foo", "**/foo" }, { 0, "bar/baz/foo", "*/foo" },
	{ 0, "foo/bar/baz", "**/bar*" },
	{ 1, "deep/foo/bar/baz", "**/bar/*" },
	{ 0, "deep/foo/bar/baz/", "**/bar/*" },
	{ 1, "deep/foo/bar/baz/", "**/bar/**" },
	{ 0, "deep/foo/bar", "**/bar/*" },
	{ 1, "deep/foo/bar/", "**/bar/**" },
	{ 0, "foo/bar/baz", "**/bar**" },
	{ 1, "foo/bar/baz/x", "*/bar/**" },
	{ 0, "deep/foo/bar/baz/x", "*/bar/**" },
	{ 1, "deep/foo/bar/baz/x", "**/bar/*/*" },
	/* more */
	{ 0, "acrt", "a[c-c]st" }, { 1, "acrt", "a[c-c]rt" },
	{ 0, "]", "[!]-]" }, { 1, "a", "[!]-]" }, { 0, "", "\\" },
	{ 0, "\\", "\\" }, { 0, "XXX/\\", "*/\\" },
	{ 1, "XXX/\\", "*/\\\\" }, { 1, "@foo", "@foo" },
	{ 0, "foo", "@foo" }, { 1, "[ab]", "\\[ab]" },
	{ 1, "[ab]", "[[]ab]" }, { 1, "[ab]", "[[:]ab]" },
	{ 0, "[ab]", "[[::]ab]" }, { 1, "[ab]", "[[:digit]ab]" },
	{ 1, "[ab]", "[\\[:]ab]" }, { 1, "?a?b", "\\??\\?b" },
	{ 1, "abc", "\\a\\b\\c" }, { 0, "foo", "" },
	{ 1, "foo/bar/baz/to", "**/t[o]" },
	/* classes */
	{ 1, "a1B", "[[:alpha:]][[:digit:]][[:upper:]]" },
	{ 0, "a", "[[:digit:][:upper:][:space:]]" },
	{ 1, "A", "[[:digit:][:upper:][:space:]]" },
	{ 1, "1", "[[:digit:][:upper:][:space:]]" },
	{ 0, "1", "[[:digit:][:upper:][:spaci:]]" },
	{ 1, " ", "[[:digit:][:upper:][:space:]]" },
	{ 0, ".", "[[:digit:][:upper:][:space:]]" },
	{ 1, ".", "[[:digit:][:punct:][:space:]]" },
	{ 1, "5", "[[:xdigit:]]" }, { 1, "f", "[[:xdigit:]]" },
	{ 1, "D", "[[:xdigit:]]" },
	{ 1, "_", "[[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:graph:]"
		"[:lower:][:print:][:punct:][:space:][:upper:][:xdigit:]]" },
	{ 1, ".", "[^[:alnum:][:alpha:][:blank:][:cntrl:][:digit:]"
		"[:lower:][:space:][:upper:][:xdigit:]]" },
	{ 1, "5", "[a-c[:digit:]x-z]" }, { 1, "b", "[a-c[:digit:]x-z]" },
	{ 1, "y", "[a-c[:digit:]x-z]" }, { 0, "q", "[a-c[:digit:]x-z]" },
	/* malformed and odd classes */
	{ 1, "]", "[\\\\-^]" }, { 0, "[", "[\\\\-^]" },
	{ 1, "-", "[\\-_]" }, { 1, "]", "[\\]]" }, { 0, "\\]", "[\\]]" },
	{ 0, "\\", "[\\]]" }, { 0, "ab", "a[]b" }, { 0, "a[]b", "a[]b" },
	{ 0, "ab[", "ab[" }, { 0, "ab", "[!" }, { 0, "ab", "[-" },
	{ 1, "-", "[-]" }, { 0, "-", "[a-" }, { 0, "-", "[!a-" },
	{ 1, "-", "[--A]" }, { 1, "5", "[--A]" }, { 1, " ", "[ --]" },
	{ 1, "$", "[ --]" }, { 1, "-", "[ --]" }, { 0, "0", "[ --]" },
	{ 1, "-", "[---]" }, { 1, "-", "[------]" },
	{ 0, "j", "[a-e-n]" }, { 1, "-", "[a-e-n]" },
	{ 1, "a", "[!------]" }, { 0, "[", "[]-a]" }, { 1, "^", "[]-a]" },
	{ 0, "^", "[!]-a]" }, { 1, "[", "[!]-a]" }, { 1, "^", "[a^bc]" },
	{ 1, "-b]", "[a-]b]" }, { 0, "\\", "[\\]" }, { 1, "\\", "[\\\\]" },
	{ 0, "\\", "[!\\\\]" }, { 1, "G", "[A-\\\\]" },
	{ 0, "aaabbb", "b*a" }, { 0, "aabcaa", "*ba*" }, { 1, ",", "[,]" },
	{ 1, ",", "[\\\\,]" }, { 1, "\\", "[\\\\,]" }, { 1, "-", "[,-.]" },
	{ 0, "+", "[,-.]" }, { 0, "-.]", "[,-.]" },
	{ 1, "2", "[\\1-\\3]" }, { 1, "3", "[\\1-\\3]" },
	{ 0, "4", "[\\1-\\3]" }, { 1, "\\", "[[-\\]]" },
	{ 1, "[", "[[-\\]]" }, { 1, "]", "[[-\\]]" }, { 0, "-", "[[-\\]]" },
	/* recursion */
	{ 1, "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1",
		"-*-*-*-*-*-*-12-*-*-*-m-*-*-*" },
	{ 0, "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1",
		"-*-*-*-*-*-*-12-*-*-*-m-*-*-*" },
	{ 0, "-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1",
		"-*-*-*-*-*-*-12-*-*-*-m-*-*-*" },
	{ 1, "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1",
		"XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*" },
	{ 0, "XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1",
		"XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*" },
	{ 1, "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt",
		"**/*a*b*g*n*t" },
	{ 0, "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz",
		"**/*a*b*g*n*t" },
	{ 0, "foo", "*/*/*" }, { 0, "foo/bar", "*/*/*" },
	{ 1, "foo/bba/arr", "*/*/*" }, { 0, "foo/bb/aa/rr", "*/*/*" },
	{ 1, "foo/bb/aa/rr", "**/**/**" }, { 1, "abcXdefXghi", "*X*i" },
	{ 0, "ab/cXd/efXg/hi", "*X*i" },
	{ 1, "ab/cXd/efXg/hi", "*/*X*/*/*i" },
	{ 1, "ab/cXd/efXg/hi", "**/*X*/**/*i" },
	/* paths */
	{ 0, "foo", "fo" }, { 1, "foo/bar", "foo/bar" },
	{ 1, "foo/bar", "foo/*" }, { 0, "foo/bba/arr", "foo/*" },
	{ 1, "foo/bba/arr", "foo/**" }, { 0, "foo/bba/arr", "foo*" },
	{ 0, "foo/bba/arr", "foo**" }, { 0, "foo/bba/arr", "foo/*arr" },
	{ 0, "foo/bba/arr", "foo/**arr" }, { 0, "foo/bba/arr", "foo/*z" },
	{ 0, "foo/bba/arr", "foo/**z" }, { 0, "ab/cXd/efXg/hi", "*Xg*i" },
	/* case matters */
	{ 0, "a", "[A-Z]" }, { 1, "A", "[A-Z]" }, { 0, "A", "[a-z]" },
	{ 1, "a", "[a-z]" }, { 0, "a", "[[:upper:]]" },
	{ 1, "A", "[[:upper:]]" }, { 0, "A", "[[:lower:]]" },
	{ 1, "a", "[[:lower:]]" }, { 0, "A", "[B-Za]" },
	{ 1, "a", "[B-Za]" }, { 0, "A", "[B-a]" }, { 1, "a", "[B-a]" },
	{ 0, "z", "[Z-y]" }, { 1, "Z", "[Z-y]" },
};

static void check_cases(const struct wm_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cr_expect_eq(ama_wildmatch(c[i].pattern, c[i].text), c[i].want,
			     "pattern '%s' text '%s': wanted %d", c[i].pattern,
			     c[i].text, c[i].want);
}

Test(wildmatch, decides_as_git_does)
{
	check_cases(git_cases, sizeof(git_cases) / sizeof(git_cases[0]));
}

Test(wildmatch, bytes_are_compared_unsigned_and_one_at_a_time)
{
	static const struct wm_case c[] = {
		{ 1, "caf\xe9", "caf\xe9" },
		{ 0, "caf\xc3\xa9", "caf\xe9" },	/* UTF-8 is two bytes */
		{ 1, "caf\xc3\xa9", "caf??" },
		{ 0, "caf\xc3\xa9", "caf?" },
		{ 1, "\xff", "[\x80-\xff]" },
		{ 1, "\xe9", "[\x80-\xff]" },
		{ 0, "e", "[\x80-\xff]" },
		{ 1, "e", "[!\x80-\xff]" },
		{ 1, "\x01", "[\x01-\x1f]" },
		{ 1, "\x01", "[[:cntrl:]]" },
		{ 0, "\xe9", "[[:alpha:]]" },	/* ASCII classes, no locale */
		{ 1, "\xe9t\xe9", "\xe9*" },
		{ 1, "a\tb", "a?b" },
		{ 1, "a\nb", "a*b" },
		{ 1, "new\nline", "new[\n]line" },
		{ 1, "q\"uote", "q\"*" },
		{ 1, "back\\slash", "back\\\\slash" },
		{ 0, "back\\slash", "back\\slash" },
		{ 1, "-dash", "-*" },
		{ 1, "\x7f", "[[:cntrl:]]" },
		{ 0, "a/b", "a[!x]b" },	/* a class never takes '/' */
	};

	check_cases(c, sizeof(c) / sizeof(c[0]));
}

Test(wildmatch, many_stars_fail_fast, .timeout = 5)
{
	char text[201];

	memset(text, 'a', 200);
	text[200] = '\0';
	cr_assert_eq(ama_wildmatch("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
				   text), 0);
	cr_assert_eq(ama_wildmatch("**/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
				   text), 0);
	memset(text, '/', 100);
	cr_assert_eq(ama_wildmatch("**/a/**/a/**/a/**/a/**/b", text), 0);
}

/* --- .amaignore patterns --- */

static size_t add(struct ama_ignore *ig, const char *base, const char *text)
{
	return ama_ignore_add(ig, base, text, strlen(text));
}

static struct ama_ignore *ignore_of(const char *base, const char *text)
{
	struct ama_ignore *ig = ama_ignore_new();

	add(ig, base, text);
	return ig;
}

static int verdict(const struct ama_ignore *ig, const char *path, int is_dir)
{
	return ama_ignore_match(ig, path, strlen(path), is_dir);
}

Test(ignore, blank_lines_and_comments_are_not_patterns)
{
	struct ama_ignore *ig = ama_ignore_new();

	cr_assert_eq(add(ig, "", "# a comment\n\n   \nfoo\n"), 1);
	cr_assert_eq(verdict(ig, "foo", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "# a comment", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

Test(ignore, backslash_makes_hash_and_bang_literal)
{
	struct ama_ignore *ig = ignore_of("", "\\#notes\n\\!important!.txt\n");

	cr_assert_eq(verdict(ig, "#notes", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "!important!.txt", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "important!.txt", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

Test(ignore, trailing_spaces_go_unless_quoted)
{
	struct ama_ignore *ig = ignore_of("",
		"foo  \nbar\\ \nbaz\\ \\ \nqux\t\nend\\\\  \n");

	cr_assert_eq(verdict(ig, "foo", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "foo  ", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "bar ", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "bar", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "baz  ", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "baz ", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "qux\t", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "end\\", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}

Test(ignore, the_last_matching_line_wins)
{
	struct ama_ignore *ig = ignore_of("", "*.log\n!keep.log\n");

	cr_assert_eq(verdict(ig, "x.log", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "keep.log", 0), AMA_IGNORE_INCLUDED);
	cr_assert_eq(verdict(ig, "a/keep.log", 0), AMA_IGNORE_INCLUDED);
	ama_ignore_free(ig);
	ig = ignore_of("", "!keep.log\n*.log\n");
	cr_assert_eq(verdict(ig, "keep.log", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}

Test(ignore, hello_star_matches_at_any_depth_unless_anchored)
{
	struct ama_ignore *ig = ignore_of("", "hello.*\n");

	cr_assert_eq(verdict(ig, "hello.txt", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/hello.java", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/hello.d", 1), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "hello", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
	ig = ignore_of("", "/hello.*\n");
	cr_assert_eq(verdict(ig, "hello.txt", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "hello.c", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/hello.java", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

Test(ignore, a_trailing_slash_matches_folders_only)
{
	struct ama_ignore *ig = ignore_of("", "foo/\n");

	cr_assert_eq(verdict(ig, "foo", 1), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "foo", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "a/foo", 1), AMA_IGNORE_EXCLUDED);
	/* paths underneath it, through their folder */
	cr_assert(ama_ignore_excluded(ig, "foo/bar/x.c", 0));
	cr_assert(!ama_ignore_excluded(ig, "foox/bar", 0));
	ama_ignore_free(ig);
}

Test(ignore, a_middle_slash_anchors_to_the_file_folder)
{
	struct ama_ignore *ig = ignore_of("", "doc/frotz/\nfrotz/\n");

	cr_assert_eq(verdict(ig, "doc/frotz", 1), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
	ig = ignore_of("", "doc/frotz/\n");
	cr_assert_eq(verdict(ig, "doc/frotz", 1), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/doc/frotz", 1), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
	ig = ignore_of("", "frotz/\n");
	cr_assert_eq(verdict(ig, "frotz", 1), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/frotz", 1), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}

Test(ignore, doc_frotz_with_or_without_leading_slash_is_the_same)
{
	struct ama_ignore *a = ignore_of("", "doc/frotz\n");
	struct ama_ignore *b = ignore_of("", "/doc/frotz\n");
	const char *paths[] = { "doc/frotz", "a/doc/frotz", "doc/frotzz",
				"doc/frotz/x" };
	size_t i;

	for (i = 0; i < 4; i++)
		cr_expect_eq(verdict(a, paths[i], 0), verdict(b, paths[i], 0),
			     "%s", paths[i]);
	cr_assert_eq(verdict(a, "doc/frotz", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(a, "a/doc/frotz", 0), AMA_IGNORE_NONE);
	ama_ignore_free(a);
	ama_ignore_free(b);
}

Test(ignore, foo_star_takes_one_level)
{
	struct ama_ignore *ig = ignore_of("", "foo/*\n");

	cr_assert_eq(verdict(ig, "foo/test.json", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "foo/bar", 1), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "foo/bar/hello.c", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "foo", 1), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

Test(ignore, double_stars_as_gitignore_describes_them)
{
	struct ama_ignore *ig = ignore_of("", "**/foo\n");

	cr_assert_eq(verdict(ig, "foo", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/b/foo", 1), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/foox", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
	ig = ignore_of("", "**/foo/bar\n");
	cr_assert_eq(verdict(ig, "foo/bar", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "x/y/foo/bar", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "x/foo/y/bar", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
	ig = ignore_of("", "abc/**\n");
	cr_assert_eq(verdict(ig, "abc/x", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "abc/x/y/z", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "abc", 1), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "x/abc/y", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
	ig = ignore_of("", "a/**/b\n");
	cr_assert_eq(verdict(ig, "a/b", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/x/b", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/x/y/b", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a/x/y/bb", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "z/a/b", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
	/* not a whole component: two stars are one */
	ig = ignore_of("", "ab**/c\n");
	cr_assert_eq(verdict(ig, "abx/c", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "abx/y/c", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "ab/c", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}

Test(ignore, everything_but_foo_bar)
{
	struct ama_ignore *ig = ignore_of("",
		"# exclude everything except directory foo/bar\n"
		"/*\n!/foo\n/foo/*\n!/foo/bar\n");

	cr_assert(ama_ignore_excluded(ig, "a", 0));
	cr_assert(ama_ignore_excluded(ig, "x/y", 0));
	cr_assert(!ama_ignore_excluded(ig, "foo", 1));
	cr_assert(ama_ignore_excluded(ig, "foo/baz", 0));
	cr_assert(ama_ignore_excluded(ig, "foo/baz/x", 0));
	cr_assert(!ama_ignore_excluded(ig, "foo/bar", 1));
	cr_assert(!ama_ignore_excluded(ig, "foo/bar/hello.c", 0));
	ama_ignore_free(ig);
}

Test(ignore, a_file_below_an_excluded_folder_cannot_come_back)
{
	struct ama_ignore *ig = ignore_of("", "build/\n!build/keep.txt\n");

	cr_assert_eq(verdict(ig, "build/keep.txt", 0), AMA_IGNORE_INCLUDED);
	cr_assert(ama_ignore_excluded(ig, "build/keep.txt", 0));
	ama_ignore_free(ig);
}

Test(ignore, a_deeper_file_overrides_a_shallower_one)
{
	struct ama_ignore *ig = ignore_of("", "*.[oa]\n*.html\n");

	add(ig, "Documentation/", "# ignore generated html files,\n*.html\n"
	    "# except foo.html which is maintained by hand\n!foo.html\n");
	cr_assert(!ama_ignore_excluded(ig, "Documentation/foo.html", 0));
	cr_assert(ama_ignore_excluded(ig, "Documentation/gitignore.html", 0));
	cr_assert(ama_ignore_excluded(ig, "file.o", 0));
	cr_assert(ama_ignore_excluded(ig, "lib.a", 0));
	cr_assert(ama_ignore_excluded(ig, "src/internal.o", 0));
	cr_assert(ama_ignore_excluded(ig, "foo.html", 0));
	ama_ignore_free(ig);
}

Test(ignore, vmlinux_comes_back_in_one_folder)
{
	struct ama_ignore *ig = ignore_of("", "vmlinux*\n");
	static const char sub[] = "!/vmlinux*\n";

	ama_ignore_add(ig, "arch/foo/kernel/", sub, sizeof(sub) - 1);
	cr_assert(!ama_ignore_excluded(ig, "arch/foo/kernel/vmlinux.lds.S",
				       0));
	cr_assert(ama_ignore_excluded(ig, "vmlinux", 0));
	cr_assert(ama_ignore_excluded(ig, "arch/vmlinux.o", 0));
	cr_assert(ama_ignore_excluded(ig, "arch/foo/kernel/x/vmlinux.o", 0));
	ama_ignore_free(ig);
}

Test(ignore, patterns_apply_below_their_folder_only)
{
	struct ama_ignore *ig = ignore_of("sub/", "*.tmp\n/top\n");

	cr_assert_eq(verdict(ig, "sub/a.tmp", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "sub/deep/a.tmp", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "a.tmp", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "subx/a.tmp", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "sub/top", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "sub/deep/top", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "top", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

Test(ignore, pop_drops_what_was_pushed_after_the_mark)
{
	struct ama_ignore *ig = ignore_of("", "*.a\n");
	struct ama_ignore_mark m = ama_ignore_mark(ig);

	add(ig, "d/", "*.b\n!x.a\n");
	cr_assert_eq(verdict(ig, "d/x.a", 0), AMA_IGNORE_INCLUDED);
	cr_assert_eq(verdict(ig, "d/y.b", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_pop(ig, m);
	cr_assert_eq(verdict(ig, "d/x.a", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "d/y.b", 0), AMA_IGNORE_NONE);
	/* the stack is usable again */
	add(ig, "e/", "*.c\n");
	cr_assert_eq(verdict(ig, "e/z.c", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}

Test(ignore, crlf_and_byte_order_mark_are_accepted)
{
	static const char text[] = "\xef\xbb\xbf*.tmp\r\nkeep\r\n";
	struct ama_ignore *ig = ama_ignore_new();

	cr_assert_eq(ama_ignore_add(ig, "", text, sizeof(text) - 1), 2);
	cr_assert_eq(verdict(ig, "x.tmp", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "keep", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}

Test(ignore, names_are_matched_byte_for_byte)
{
	static const char text[] = "caf\xe9\ntab\tname\nq\"uote\n"
		"back\\\\slash\n-dash\nnul\0byte\n[\x80-\xff]*\n";
	struct ama_ignore *ig = ama_ignore_new();

	cr_assert_eq(ama_ignore_add(ig, "", text, sizeof(text) - 1), 6);
	cr_assert_eq(verdict(ig, "caf\xe9", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "caf\xc3\xa9", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "tab\tname", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "q\"uote", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "back\\slash", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "-dash", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "nul", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "\xff-high", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "d/\xe9t\xe9", 0), AMA_IGNORE_EXCLUDED);
	cr_assert_eq(verdict(ig, "ascii", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

Test(ignore, degenerate_lines_match_nothing)
{
	struct ama_ignore *ig = ama_ignore_new();

	cr_assert_eq(add(ig, "", "/\n!\n!/\n\\\n"), 1);
	cr_assert_eq(verdict(ig, "x", 0), AMA_IGNORE_NONE);
	cr_assert_eq(verdict(ig, "\\", 0), AMA_IGNORE_NONE);
	ama_ignore_free(ig);
}

static char dir[32];

static void remove_dir(void)
{
	if (!dir[0] || chdir(dir) < 0)
		return;
	unlink("pats");
	unlink("link");
	rmdir("folder");
	if (chdir("/") == 0)
		rmdir(dir);
}

Test(ignore, files_are_read_without_following_links, .fini = remove_dir)
{
	struct ama_ignore *ig = ama_ignore_new();
	int fd;

	strcpy(dir, "/tmp/ama-ignore-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	fd = open("pats", O_WRONLY | O_CREAT, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "*.x\n*.y\n", 8), 8);
	close(fd);
	cr_assert_eq(symlink("pats", "link"), 0);
	cr_assert_eq(mkdir("folder", 0755), 0);
	cr_assert_eq(ama_ignore_add_file(ig, "", "missing"), 0);
	cr_assert_eq(ama_ignore_add_file(ig, "", "link"), 0);
	cr_assert_eq(ama_ignore_add_file(ig, "", "folder"), 0);
	cr_assert_eq(verdict(ig, "a.x", 0), AMA_IGNORE_NONE);
	cr_assert_eq(ama_ignore_add_file(ig, "", "pats"), 2);
	cr_assert_eq(verdict(ig, "a.x", 0), AMA_IGNORE_EXCLUDED);
	ama_ignore_free(ig);
}
