/* t/unit/layout.c: every key of the bucket layout, and reading keys back from hostile listings. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "layout.h"
#include "md5.h"
#include "version.h"

#define TOP "0123456789abcdef0123456789abcdef"

static struct ama_md5 md5_of(const char *hex)
{
	struct ama_md5 m;

	cr_assert_eq(ama_md5_from_hex(&m, hex), 0);
	return m;
}

/* ---- building keys ---- */

Test(layout, every_key_is_spelled_as_the_design_says)
{
	struct ama_md5 m = md5_of("d41d8cd98f00b204e9800998ecf8427e");
	struct ama_version v = { 1, 2, 98 };
	struct ama_buf b = AMA_BUF_INIT;

#define KEY(call, want) do { \
		ama_buf_reset(&b); \
		call; \
		cr_assert_str_eq(b.s, want); \
	} while (0)

	KEY(ama_layout_class(&b, "imaging"), "classes/imaging.json");
	KEY(ama_layout_content(&b, TOP, &m),
	    TOP "/contents/d41d8cd98f00b204e9800998ecf8427e");
	KEY(ama_layout_contents_prefix(&b, TOP), TOP "/contents/");
	KEY(ama_layout_staged(&b, TOP, &m),
	    TOP "/d41d8cd98f00b204e9800998ecf8427e");
	KEY(ama_layout_staging_prefix(&b, TOP), TOP "/");
	KEY(ama_layout_asset_prefix(&b, TOP, 3), TOP "/assets/3/");
	KEY(ama_layout_asset_record(&b, TOP, 3), TOP "/assets/3/asset.json");
	KEY(ama_layout_manifest(&b, TOP, 3, &v),
	    TOP "/assets/3/1.2.98.manifest");
	KEY(ama_layout_claim(&b, TOP, "c-42"), TOP "/assets/by-claim/c-42");
	KEY(ama_layout_aliases_prefix(&b, TOP), TOP "/aliases/");
	KEY(ama_layout_alias(&b, TOP, "lung-ct"), TOP "/aliases/lung-ct");
#undef KEY
	ama_buf_release(&b);
}

Test(layout, the_largest_seq_and_version_are_written_whole)
{
	struct ama_version v = { 4294967295u, 98, 98 };
	struct ama_buf b = AMA_BUF_INIT;

	ama_layout_manifest(&b, TOP, UINT64_MAX, &v);
	cr_assert_str_eq(b.s, TOP "/assets/18446744073709551615/"
			 "4294967295.98.98.manifest");
	ama_buf_release(&b);
}

Test(layout, keys_are_appended_to_what_the_buffer_holds)
{
	struct ama_md5 m = md5_of("0123456789abcdef0123456789abcdef");
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "s3://bucket/p/");
	ama_layout_content(&b, TOP, &m);
	ama_buf_addch(&b, ' ');
	ama_layout_asset_record(&b, TOP, 1);
	cr_assert_str_eq(b.s, "s3://bucket/p/" TOP "/contents/" TOP " "
			 TOP "/assets/1/asset.json");
	ama_buf_release(&b);
}

Test(layout, a_key_built_reads_back)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_version v = { 0, 98, 7 }, got;
	char name[65];

	ama_layout_class(&b, "run.s-2_x");
	cr_assert_eq(ama_layout_parse_class_key(name, b.s), 1);
	cr_assert_str_eq(name, "run.s-2_x");
	ama_buf_reset(&b);
	ama_layout_manifest(&b, TOP, 12, &v);
	cr_assert_eq(ama_layout_parse_manifest_leaf(&got,
			b.s + strlen(TOP "/assets/12/")), 1);
	cr_assert_eq(ama_version_cmp(&got, &v), 0);
	ama_buf_release(&b);
}

/* ---- class keys from a listing ---- */

Test(layout, a_class_key_gives_its_name)
{
	char name[65];

	cr_assert_eq(ama_layout_parse_class_key(name, "classes/imaging.json"),
		     1);
	cr_assert_str_eq(name, "imaging");
	cr_assert_eq(ama_layout_parse_class_key(name, "classes/a.json"), 1);
	cr_assert_str_eq(name, "a");
}

Test(layout, a_class_name_of_64_bytes_is_read_and_65_is_not)
{
	char name[65], key[128];
	char n64[65], n65[66];

	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'b', 65);
	n65[65] = '\0';
	snprintf(key, sizeof(key), "classes/%s.json", n64);
	cr_assert_eq(ama_layout_parse_class_key(name, key), 1);
	cr_assert_str_eq(name, n64);
	snprintf(key, sizeof(key), "classes/%s.json", n65);
	strcpy(name, "untouched");
	cr_assert_eq(ama_layout_parse_class_key(name, key), 0);
}

Test(layout, keys_that_are_not_class_records_are_passed_over)
{
	static const char *const hostile[] = {
		"classes/.json",		/* no name */
		"classes/",
		"classes",
		"classes/imaging",		/* no .json */
		"classes/imaging.json.tmp",
		"classes/imaging.JSON",
		"classes/imaging.json/",
		"classes/a/b.json",		/* a folder below */
		"classes//b.json",
		"classes/../x.json",
		"classes/..json",
		"classes/.hidden.json",		/* must start with a letter */
		"classes/-x.json",
		"classes/_x.json",
		"classes/a..b.json",
		"classes/x..json",		/* ends in '.' */
		"classes/x.lock.json",
		"classes/im aging.json",
		"classes/tab\there.json",
		"classes/nl\nhere.json",
		"classes/\xff\xfe.json",	/* not ASCII */
		"classes/caf\xc3\xa9.json",
		"Classes/imaging.json",
		"classesX/imaging.json",
		"x/classes/imaging.json",
		"/classes/imaging.json",
		"",
	};
	char name[65];
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		ama_error_set(AMA_EIO, "before");
		cr_assert_eq(ama_layout_parse_class_key(name, hostile[i]), 0,
			     "'%s' was read as class '%s'", hostile[i], name);
	}
}

Test(layout, a_refused_class_key_leaves_no_error_behind)
{
	char name[65];

	ama_error_clear();
	cr_assert_eq(ama_layout_parse_class_key(name, "classes/a..b.json"), 0);
	cr_assert_eq(ama_error_code(), 0, "%s", ama_error_msg());
}

/* ---- manifest leaves from an asset's listing ---- */

Test(layout, a_manifest_leaf_gives_its_version)
{
	struct ama_version v;

	cr_assert_eq(ama_layout_parse_manifest_leaf(&v, "0.0.0.manifest"), 1);
	cr_assert(v.x == 0 && v.y == 0 && v.z == 0);
	cr_assert_eq(ama_layout_parse_manifest_leaf(&v, "3.98.12.manifest"),
		     1);
	cr_assert(v.x == 3 && v.y == 98 && v.z == 12);
	cr_assert_eq(ama_layout_parse_manifest_leaf(&v,
			"4294967295.98.98.manifest"), 1);
	cr_assert(v.x == 4294967295u && v.y == 98 && v.z == 98);
}

Test(layout, leaves_that_are_not_manifests_are_passed_over)
{
	static const char *const hostile[] = {
		"asset.json",
		".manifest",
		"manifest",
		"0.0.1",
		"0.0.1.manifest.tmp",
		"0.0.1.manifest~",
		"0.0.1.MANIFEST",
		"0.0.1.manifes",
		"0.0.1manifest",
		"00.0.1.manifest",		/* not canonical */
		"0.01.1.manifest",
		"0.0.01.manifest",
		"+0.0.1.manifest",
		"-0.0.1.manifest",
		" 0.0.1.manifest",
		"0.0.1 .manifest",
		"0.0.99.manifest",		/* out of range */
		"0.99.0.manifest",
		"4294967296.0.0.manifest",
		"0.0.manifest",
		"0.0.1.2.manifest",
		"0..1.manifest",
		"a.b.c.manifest",
		"sub/0.0.1.manifest",
		"0.0.1.manifest/x",
		"0x1.0.0.manifest",
		"0.0.1\n.manifest",
		"",
	};
	struct ama_version v;
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		v.x = v.y = v.z = 7;
		cr_assert_eq(ama_layout_parse_manifest_leaf(&v, hostile[i]), 0,
			     "'%s' was read as a version", hostile[i]);
	}
}

Test(layout, a_refused_leaf_leaves_no_error_behind)
{
	struct ama_version v;

	ama_error_clear();
	cr_assert_eq(ama_layout_parse_manifest_leaf(&v, "0.0.99.manifest"), 0);
	cr_assert_eq(ama_error_code(), 0, "%s", ama_error_msg());
}
