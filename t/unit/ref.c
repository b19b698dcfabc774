/* t/unit/ref.c: how a user names an asset and a version: CLASS/SEQ[@VERSION] and CLASS/ALIAS. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ref.h"

static void refused(const char *s, const char *why)
{
	struct ama_ref r;

	ama_error_clear();
	cr_assert_eq(ama_ref_parse(&r, s), AMA_EINVAL, "'%s' was taken", s);
	cr_assert_str_eq(ama_error_msg(), why, "for '%s'", s);
}

Test(ref, class_and_number)
{
	struct ama_ref r;

	cr_assert_eq(ama_ref_parse(&r, "imaging/3"), 0, "%s", ama_error_msg());
	cr_assert_str_eq(r.class, "imaging");
	cr_assert_eq(r.seq, 3);
	cr_assert_str_eq(r.alias, "");
	cr_assert_eq(r.has_version, 0);
}

Test(ref, class_number_and_version)
{
	struct ama_ref r;

	cr_assert_eq(ama_ref_parse(&r, "run.s-2_x/12@1.98.0"), 0);
	cr_assert_str_eq(r.class, "run.s-2_x");
	cr_assert_eq(r.seq, 12);
	cr_assert_eq(r.has_version, 1);
	cr_assert(r.version.x == 1 && r.version.y == 98 && r.version.z == 0);
}

Test(ref, the_largest_asset_number_has_19_digits)
{
	struct ama_ref r;

	cr_assert_eq(ama_ref_parse(&r, "c/9999999999999999999"), 0);
	cr_assert_eq(r.seq, 9999999999999999999ull);
	refused("c/10000000000000000000",
		"'10000000000000000000' is not an asset number (1, 2, ...)");
}

Test(ref, an_alias_names_the_asset)
{
	struct ama_ref r;

	cr_assert_eq(ama_ref_parse(&r, "imaging/lung-ct@0.0.1"), 0);
	cr_assert_str_eq(r.class, "imaging");
	cr_assert_eq(r.seq, 0);
	cr_assert_str_eq(r.alias, "lung-ct");
	cr_assert_eq(r.has_version, 1);
	cr_assert(r.version.x == 0 && r.version.y == 0 && r.version.z == 1);
	cr_assert_eq(ama_ref_parse(&r, "imaging/3d.Scan_v2"), 0);
	cr_assert_str_eq(r.alias, "3d.Scan_v2");
	cr_assert_eq(r.has_version, 0);
}

Test(ref, an_alias_of_64_bytes_is_taken_and_65_is_not)
{
	char s[128], alias[66];
	struct ama_ref r;

	memset(alias, 'x', 64);
	alias[64] = '\0';
	snprintf(s, sizeof(s), "c/%s@0.0.0", alias);
	cr_assert_eq(ama_ref_parse(&r, s), 0);
	cr_assert_str_eq(r.alias, alias);
	strcpy(alias + 64, "y");
	snprintf(s, sizeof(s), "c/%s", alias);
	refused(s, "an alias has 1 to 64 bytes");
}

Test(ref, every_refusal_says_why)
{
	refused("imaging", "not CLASS/SEQ[@VERSION]");
	refused("", "not CLASS/SEQ[@VERSION]");
	refused("/3", "bad class name: want 1 to 64 bytes");
	refused("a..b/3", "bad class name: no '..', and no '.' or '.lock' at "
		"the end");
	refused("-x/3", "bad class name: must start with a letter or digit");
	refused("im aging/3", "bad class name: only letters, digits, '.', '_' "
		"and '-' are allowed");
	refused("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaa/3", "the class name is longer than 64 bytes");
	refused("imaging/", "an alias has 1 to 64 bytes");
	refused("imaging/@0.0.1", "an alias has 1 to 64 bytes");
	refused("imaging/0", "'0' is not an asset number (1, 2, ...)");
	refused("imaging/03", "'03' is not an asset number (1, 2, ...)");
	refused("imaging/3@", "bad version '' (want X.Y.Z, Y and Z 0..98)");
	refused("imaging/3@0.0.99", "bad version '0.0.99' (want X.Y.Z, Y and "
		"Z 0..98)");
	refused("imaging/3@v1", "bad version 'v1' (want X.Y.Z, Y and Z "
		"0..98)");
	refused("imaging/3@0.0.1@0.0.2", "bad version '0.0.1@0.0.2' (want "
		"X.Y.Z, Y and Z 0..98)");
	refused("imaging/3/4", "an alias holds only letters, digits, '.', '_' "
		"and '-'");
	refused("imaging/lung ct", "an alias holds only letters, digits, '.', "
		"'_' and '-'");
	refused("imaging/+3", "an alias holds only letters, digits, '.', '_' "
		"and '-'");
	refused("imaging/..", "'..' is not an alias");
	refused("imaging/.", "'.' is not an alias");
}

Test(ref, a_refused_reference_leaves_nothing_named)
{
	struct ama_ref r;

	memset(&r, 0x5a, sizeof(r));
	cr_assert_eq(ama_ref_parse(&r, "imaging/03"), AMA_EINVAL);
	cr_assert_eq(r.seq, 0);
	cr_assert_eq(r.has_version, 0);
	cr_assert_str_eq(r.alias, "");
}

Test(ref, alias_names_are_checked_alone)
{
	cr_assert_eq(ama_ref_check_alias("lung-ct"), 0);
	cr_assert_eq(ama_ref_check_alias("a"), 0);
	cr_assert_eq(ama_ref_check_alias("..."), 0);
	cr_assert_eq(ama_ref_check_alias("12a"), 0);
	cr_assert_eq(ama_ref_check_alias("123"), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "an alias is not all digits (that is "
			 "an asset number)");
	cr_assert_eq(ama_ref_check_alias(""), AMA_EINVAL);
	cr_assert_eq(ama_ref_check_alias("a/b"), AMA_EINVAL);
	cr_assert_eq(ama_ref_check_alias("a\nb"), AMA_EINVAL);
	cr_assert_eq(ama_ref_check_alias("caf\xc3\xa9"), AMA_EINVAL);
	cr_assert_eq(ama_ref_check_alias(".."), AMA_EINVAL);
}
