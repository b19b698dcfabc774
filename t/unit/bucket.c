/* t/unit/bucket.c: the read-only view of a file:// remote bucket: class records, assets, versions, manifests, aliases, all hostile input. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "error.h"
#include "layout.h"
#include "readfix.h"
#include "store.h"

TestSuite(bucket, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

static struct fx_pub pub;
static struct ama_store *remote;

/* runs/1 with 0.0.0 (a, d/b) and 0.0.1 (a changed), and the store. */
static void published(void)
{
	char *url = fx_remote_url();

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_file(&pub, "d/b", "beta");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha 2");
	fx_file(&pub, "d/b", "beta");
	fx_commit(&pub, "second");
	cr_assert_eq(ama_store_open(&remote, url, NULL, "remote"), 0);
	free(url);
}

static void done(void)
{
	ama_store_close(remote);
	fx_pub_close(&pub);
}

/* Put bytes at key in the remote bucket, as anyone with write access could. */
static void put(const char *key, const char *bytes)
{
	char *path = fx_remote_file(key);

	fx_write(path, bytes);
	free(path);
}

static char *get(const char *key)
{
	char *path = fx_remote_file(key), *text = fx_read(path);

	cr_assert_not_null(text, "%s", key);
	free(path);
	return text;
}

/* The URL a message names for key. */
static char *url_of(const char *key)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_store_key_url(&b, remote, key);
	return ama_buf_detach(&b);
}

static void expect_error(int rc, int code, const char *key, const char *why)
{
	char *url = key ? url_of(key) : NULL;

	cr_assert_eq(rc, code, "rc %d: %s", rc, ama_error_msg());
	if (url)
		cr_assert_str_eq(ama_error_path(), url);
	cr_assert_str_eq(ama_error_msg(), why);
	free(url);
}

/* ---- class records ---- */

Test(bucket, a_class_record_reads_as_the_publisher_made_it)
{
	struct ama_class_info c;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(c.name, "runs");
	cr_assert_str_eq(c.class_id, pub.k.info.class_id);
	cr_assert_str_eq(c.top_hash, pub.k.info.top_hash);
	cr_assert_eq(c.created, pub.k.info.created);
	cr_assert_eq(strlen(c.class_id), 36);
	done();
}

Test(bucket, no_such_class_and_a_bad_name)
{
	struct ama_class_info c;

	published();
	expect_error(ama_bucket_class(remote, "nosuch", &c), AMA_ENOTFOUND,
		     NULL, "no such class: nosuch");
	expect_error(ama_bucket_class(remote, "../runs", &c), AMA_EINVAL,
		     NULL, "bad class name: only letters, digits, '.', '_' and "
		     "'-' are allowed");
	done();
}

#define ID "0b5e2a8c-3f1d-4e6a-9b7c-2d4e6f8a0b1c"
#define TOP "0123456789abcdef0123456789abcdef"

Test(bucket, a_good_record_parses)
{
	const char *text = "{\"name\":\"x\",\"class_id\":\"" ID "\","
		"\"top_hash\":\"" TOP "\",\"created\":1718000000,"
		"\"extra\":[1,2]}";
	struct ama_class_info c;

	cr_assert_eq(ama_bucket_class_parse(&c, "x", text, strlen(text), "w"),
		     0, "%s", ama_error_msg());
	cr_assert_str_eq(c.name, "x");
	cr_assert_str_eq(c.class_id, ID);
	cr_assert_str_eq(c.top_hash, TOP);
	cr_assert_eq(c.created, 1718000000);
}

Test(bucket, hostile_class_records_are_refused)
{
	static const char *const bad[] = {
		/* another class's record */
		"{\"name\":\"y\",\"class_id\":\"" ID "\",\"top_hash\":\"" TOP
		"\",\"created\":1}",
		/* a top hash that is not 32 lowercase hex */
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\""
		"0123456789ABCDEF0123456789abcdef\",\"created\":1}",
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\"../"
		"3456789abcdef0123456789abcdef\",\"created\":1}",
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\""
		"0123456789abcdef\",\"created\":1}",
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\"" TOP
		"0\",\"created\":1}",
		/* a class id that is not a UUID */
		"{\"name\":\"x\",\"class_id\":\"0b5e2a8c3f1d4e6a9b7c2d4e6f"
		"8a0b1c1234\",\"top_hash\":\"" TOP "\",\"created\":1}",
		"{\"name\":\"x\",\"class_id\":\"0B5E2A8C-3f1d-4e6a-9b7c-2d4e"
		"6f8a0b1c\",\"top_hash\":\"" TOP "\",\"created\":1}",
		/* a negative or missing time, fields of the wrong type */
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\"" TOP
		"\",\"created\":-1}",
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\"" TOP
		"\"}",
		"{\"name\":\"x\",\"class_id\":\"" ID "\",\"top_hash\":\"" TOP
		"\",\"created\":\"1\"}",
		"{\"name\":1,\"class_id\":\"" ID "\",\"top_hash\":\"" TOP
		"\",\"created\":1}",
		"[\"x\"]",
	};
	struct ama_class_info c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&c, 0x5a, sizeof(c));
		cr_assert_eq(ama_bucket_class_parse(&c, "x", bad[i],
						    strlen(bad[i]), "here"),
			     AMA_ECORRUPT, "%s", bad[i]);
		cr_assert_str_eq(ama_error_path(), "here");
		cr_assert_str_eq(ama_error_msg(), "not a class record of 'x'");
	}
}

Test(bucket, what_is_not_json_is_no_class_record)
{
	static const char *const bad[] = {
		"", "{", "name x", "{\"name\":\"x\"}{}",
		/* a key twice: which one would count? */
		"{\"name\":\"x\",\"name\":\"x\",\"class_id\":\"" ID "\","
		"\"top_hash\":\"" TOP "\",\"created\":1}",
	};
	struct ama_class_info c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(ama_bucket_class_parse(&c, "x", bad[i],
						    strlen(bad[i]), "here"),
			     AMA_ECORRUPT, "%s", bad[i]);
		cr_assert_eq(strncmp(ama_error_msg(), "not a class record: ",
				     20), 0, "%s", ama_error_msg());
	}
}

Test(bucket, a_damaged_record_in_the_bucket_is_named_by_its_url)
{
	struct ama_class_info c;
	struct ama_buf big = AMA_BUF_INIT;

	published();
	put("classes/broken.json", "{\"name\":\"broken\"}");
	expect_error(ama_bucket_class(remote, "broken", &c), AMA_ECORRUPT,
		     "classes/broken.json", "not a class record of 'broken'");
	/* a record past 64 KiB is not read whole */
	ama_buf_addstr(&big, "{\"name\":\"huge\",\"pad\":\"");
	while (big.len <= AMA_BUCKET_MAX_JSON)
		ama_buf_addstr(&big, "xxxxxxxxxxxxxxxx");
	ama_buf_addstr(&big, "\"}");
	put("classes/huge.json", big.s);
	expect_error(ama_bucket_class(remote, "huge", &c), AMA_ECORRUPT,
		     "classes/huge.json", "longer than 65536 bytes");
	ama_buf_release(&big);
	done();
}

Test(bucket, class_names_are_sorted_and_foreign_keys_passed_over)
{
	char **names;
	size_t n, i;
	struct ama_buf all = AMA_BUF_INIT;
	char *rec = NULL;

	published();
	rec = get("classes/runs.json");
	put("classes/Zeta.json", rec);
	put("classes/alpha.json", rec);
	put("classes/README", "not a class");
	put("classes/runs.json.tmp", rec);
	put("classes/sub/deep.json", rec);
	put("classes/a..b.json", rec);
	put("classes/.hidden.json", rec);
	put("classesX.json", rec);
	cr_assert_eq(ama_bucket_class_names(remote, &names, &n), 0);
	for (i = 0; i < n; i++) {
		ama_buf_addf(&all, "%s;", names[i]);
		free(names[i]);
	}
	free(names);
	cr_assert_str_eq(all.s, "Zeta;alpha;runs;");
	ama_buf_release(&all);
	free(rec);
	done();
}

Test(bucket, a_bucket_with_no_class_has_no_names)
{
	char **names = (char **)1;
	size_t n = 7;
	char *url = fx_remote_url();

	cr_assert_eq(ama_store_open(&remote, url, NULL, "remote"), 0);
	cr_assert_eq(ama_store_create_bucket(remote), 0);
	cr_assert_eq(ama_bucket_class_names(remote, &names, &n), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(n, 0);
	cr_assert_null(names);
	ama_store_close(remote);
	free(url);
}

/* ---- assets ---- */

/* Claim assets 1..n of class c by their records alone. */
static void claim(const struct ama_class_info *c, uint64_t from, uint64_t n)
{
	struct ama_buf key = AMA_BUF_INIT;
	uint64_t s;

	for (s = from; s <= n; s++) {
		ama_buf_reset(&key);
		ama_layout_asset_record(&key, c->top_hash, s);
		put(key.s, "{}");
	}
	ama_buf_release(&key);
}

Test(bucket, the_asset_count_is_found_by_heads_for_any_count)
{
	struct ama_class_info c;
	uint64_t n, want;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	cr_assert_eq(ama_bucket_asset_count(remote, &c, &n), 0);
	cr_assert_eq(n, 1);
	for (want = 2; want <= 70; want++) {
		claim(&c, want, want);
		cr_assert_eq(ama_bucket_asset_count(remote, &c, &n), 0);
		cr_assert_eq(n, want);
	}
	done();
}

Test(bucket, a_class_with_no_asset_counts_none)
{
	struct ama_class_info c;
	struct ama_client_class k;
	uint64_t n = 9;

	published();
	cr_assert_eq(ama_client_class(pub.c, "empty", 1, &k), 0);
	cr_assert_eq(ama_bucket_class(remote, "empty", &c), 0);
	cr_assert_eq(ama_bucket_asset_count(remote, &c, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(ama_bucket_asset_claimed(remote, &c, 1), 0);
	ama_client_class_release(&k);
	done();
}

Test(bucket, assets_made_by_the_publisher_are_claimed)
{
	struct ama_class_info c;
	uint64_t n;

	published();
	cr_assert_eq(fx_pub_asset(&pub), 2);
	cr_assert_eq(fx_pub_asset(&pub), 3);
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	cr_assert_eq(ama_bucket_asset_claimed(remote, &c, 3), 1);
	cr_assert_eq(ama_bucket_asset_claimed(remote, &c, 4), 0);
	cr_assert_eq(ama_bucket_asset_count(remote, &c, &n), 0);
	cr_assert_eq(n, 3);
	done();
}

/* ---- versions ---- */

static char *listed(const struct ama_class_info *c, uint64_t seq)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_version *v;
	char vs[AMA_VERSION_BUFSIZE];
	size_t n, i;

	cr_assert_eq(ama_bucket_versions(remote, c, seq, &v, &n), 0, "%s",
		     ama_error_msg());
	for (i = 0; i < n; i++) {
		ama_version_format(vs, &v[i]);
		ama_buf_addf(&b, "%s;", vs);
	}
	ama_buf_add(&b, "", 0);
	free(v);
	return ama_buf_detach(&b);
}

Test(bucket, versions_are_listed_oldest_first)
{
	struct ama_class_info c;
	char *got;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	got = listed(&c, 1);
	cr_assert_str_eq(got, "0.0.0;0.0.1;");
	free(got);
	done();
}

Test(bucket, versions_are_ordered_by_number_not_by_key)
{
	static const char *const leaf[] = {
		"0.0.10.manifest", "0.0.9.manifest", "1.0.0.manifest",
		"0.1.0.manifest", "0.0.98.manifest", "10.0.0.manifest",
		"2.0.0.manifest",
	};
	struct ama_class_info c;
	struct ama_buf key = AMA_BUF_INIT;
	size_t i;
	char *got;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	claim(&c, 5, 5);
	for (i = 0; i < sizeof(leaf) / sizeof(*leaf); i++) {
		ama_buf_reset(&key);
		ama_layout_asset_prefix(&key, c.top_hash, 5);
		ama_buf_addstr(&key, leaf[i]);
		put(key.s, "whatever");
	}
	got = listed(&c, 5);
	cr_assert_str_eq(got, "0.0.9;0.0.10;0.0.98;0.1.0;1.0.0;2.0.0;"
			 "10.0.0;");
	free(got);
	ama_buf_release(&key);
	done();
}

Test(bucket, foreign_keys_in_an_asset_folder_are_not_versions)
{
	static const char *const leaf[] = {
		"0.0.1.manifest.tmp", "00.0.2.manifest", "0.0.99.manifest",
		"sub/0.0.3.manifest", "0.0.4.manifest/x", ".manifest",
		"notes.txt", "0.0.5.MANIFEST",
	};
	struct ama_class_info c;
	struct ama_buf key = AMA_BUF_INIT;
	size_t i;
	char *got;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	for (i = 0; i < sizeof(leaf) / sizeof(*leaf); i++) {
		ama_buf_reset(&key);
		ama_layout_asset_prefix(&key, c.top_hash, 1);
		ama_buf_addstr(&key, leaf[i]);
		put(key.s, "whatever");
	}
	/* and asset 10's folder is not asset 1's */
	ama_buf_reset(&key);
	ama_layout_asset_prefix(&key, c.top_hash, 10);
	ama_buf_addstr(&key, "0.0.7.manifest");
	put(key.s, "whatever");
	got = listed(&c, 1);
	cr_assert_str_eq(got, "0.0.0;0.0.1;");
	free(got);
	ama_buf_release(&key);
	done();
}

Test(bucket, an_asset_claimed_and_not_published_has_no_version)
{
	struct ama_class_info c;
	struct ama_version *v = (struct ama_version *)1;
	size_t n = 5;

	published();
	fx_pub_asset(&pub);
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	cr_assert_eq(ama_bucket_versions(remote, &c, 2, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
	done();
}

Test(bucket, an_asset_neither_claimed_nor_published_is_not_found)
{
	struct ama_class_info c;
	struct ama_version *v;
	size_t n;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	expect_error(ama_bucket_versions(remote, &c, 9, &v, &n),
		     AMA_ENOTFOUND, NULL, "no such asset: runs/9");
	cr_assert_null(v);
	expect_error(ama_bucket_versions(remote, &c, 0, &v, &n), AMA_EINVAL,
		     NULL, "no asset has seq 0");
	done();
}

/* ---- manifests ---- */

/* The key of runs/SEQ@v in class c. */
static char *manifest_key(const struct ama_class_info *c, uint64_t seq,
			  const char *v)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_version ver = fx_ver(v);

	ama_layout_manifest(&key, c->top_hash, seq, &ver);
	return ama_buf_detach(&key);
}

Test(bucket, a_manifest_is_read_and_checked)
{
	struct ama_class_info c;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.1");
	char hex[33], want[33];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	cr_assert_eq(ama_bucket_manifest(remote, &c, 1, &v, &m), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(m.version.z, 1);
	cr_assert_eq(m.has_parent, 1);
	cr_assert_eq(m.parent.z, 0);
	cr_assert_str_eq(m.class, "runs");
	cr_assert_eq(m.seq, 1);
	cr_assert_str_eq(m.author, "tester");
	cr_assert_str_eq(m.message, "second");
	cr_assert_eq(m.time, 1718000001);
	cr_assert_eq(m.objects.n, 2);
	cr_assert_str_eq(m.objects.v[0].path, "a");
	ama_md5_to_hex(hex, &m.objects.v[0].md5);
	cr_assert_str_eq(hex, fx_hex(want, "alpha 2"));
	cr_assert_eq(m.objects.v[0].size, 7);
	cr_assert_str_eq(m.objects.v[1].path, "d/b");
	ama_manifest_release(&m);
	done();
}

Test(bucket, the_raw_text_is_the_bucket_bytes)
{
	struct ama_class_info c;
	struct ama_version v = fx_ver("0.0.0");
	struct ama_buf text = AMA_BUF_INIT;
	struct ama_manifest m;
	char *key, *want;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	key = manifest_key(&c, 1, "0.0.0");
	want = get(key);
	ama_buf_addstr(&text, "left over");
	cr_assert_eq(ama_bucket_manifest_text(remote, &c, 1, &v, &text, NULL),
		     0);
	cr_assert_str_eq(text.s, want);
	cr_assert_eq(ama_bucket_manifest_text(remote, &c, 1, &v, &text, &m),
		     0);
	cr_assert_str_eq(text.s, want);
	cr_assert_str_eq(m.message, "first");
	ama_manifest_release(&m);
	ama_buf_release(&text);
	free(key);
	free(want);
	done();
}

Test(bucket, a_missing_version_is_not_found)
{
	struct ama_class_info c;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.7");
	char cid[65];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	expect_error(ama_bucket_manifest(remote, &c, 1, &v, &m),
		     AMA_ENOTFOUND, NULL, "no such version: runs/1@0.0.7");
	expect_error(ama_bucket_manifest_header(remote, &c, 1, &v, &m, cid),
		     AMA_ENOTFOUND, NULL, "no such version: runs/1@0.0.7");
	done();
}

Test(bucket, a_manifest_under_another_version_key_is_refused)
{
	struct ama_class_info c;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.2");
	char *k0, *k2, *text, cid[65];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	k0 = manifest_key(&c, 1, "0.0.0");
	k2 = manifest_key(&c, 1, "0.0.2");
	text = get(k0);
	put(k2, text);
	expect_error(ama_bucket_manifest(remote, &c, 1, &v, &m), AMA_ECORRUPT,
		     k2, "holds version 0.0.0, not 0.0.2");
	expect_error(ama_bucket_manifest_header(remote, &c, 1, &v, &m, cid),
		     AMA_ECORRUPT, k2, "holds version 0.0.0, not 0.0.2");
	free(k0);
	free(k2);
	free(text);
	done();
}

Test(bucket, a_manifest_of_another_asset_or_class_is_refused)
{
	struct ama_class_info c, o;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.0");
	struct fx_pub other;
	char *k, *text, cid[65];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	/* runs/1@0.0.0 copied to runs/2@0.0.0 */
	fx_pub_asset(&pub);
	k = manifest_key(&c, 1, "0.0.0");
	text = get(k);
	free(k);
	k = manifest_key(&c, 2, "0.0.0");
	put(k, text);
	expect_error(ama_bucket_manifest(remote, &c, 2, &v, &m), AMA_ECORRUPT,
		     k, "is a manifest of asset 1, not 2");
	expect_error(ama_bucket_manifest_header(remote, &c, 2, &v, &m, cid),
		     AMA_ECORRUPT, k, "is a manifest of asset 1, not 2");
	free(k);
	/* and to class other's asset 1 */
	fx_pub_open(&other, "other");
	cr_assert_eq(ama_bucket_class(remote, "other", &o), 0);
	k = manifest_key(&o, 1, "0.0.0");
	put(k, text);
	expect_error(ama_bucket_manifest(remote, &o, 1, &v, &m), AMA_ECORRUPT,
		     k, "is a manifest of class 'runs', not 'other'");
	free(k);
	free(text);
	fx_pub_close(&other);
	done();
}

Test(bucket, a_hostile_manifest_is_refused_naming_its_line)
{
	struct ama_class_info c;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.0");
	struct ama_buf text = AMA_BUF_INIT;
	char *k, *url, cid[65];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	fx_pub_asset(&pub);
	ama_buf_addf(&text, "version 0.0.0\nauthor eve\ntime 1\n\n"
		     "%s 5\t../escape\n", fx_hex(cid, "alpha"));
	k = manifest_key(&c, 2, "0.0.0");
	put(k, text.s);
	cr_assert_eq(ama_bucket_manifest(remote, &c, 2, &v, &m), AMA_ECORRUPT);
	url = url_of(k);
	cr_assert_str_eq(ama_error_path(), url);
	free(url);
	cr_assert_eq(strncmp(ama_error_msg(), "line 5: ", 8), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(m.objects.n, 0);
	free(k);
	ama_buf_release(&text);
	done();
}

Test(bucket, a_header_is_read_without_the_objects)
{
	struct ama_class_info c;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.1");
	struct ama_buf text = AMA_BUF_INIT;
	char *k, *orig, cid[65];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	k = manifest_key(&c, 1, "0.0.1");
	orig = get(k);
	/* objects that no parse would take: only the header is read */
	ama_buf_addstr(&text, orig);
	ama_buf_addstr(&text, "garbage that is no object line\n");
	put(k, text.s);
	cr_assert_eq(ama_bucket_manifest(remote, &c, 1, &v, &m), AMA_ECORRUPT);
	cr_assert_eq(ama_bucket_manifest_header(remote, &c, 1, &v, &m, cid), 0,
		     "%s", ama_error_msg());
	cr_assert_eq(m.version.z, 1);
	cr_assert_str_eq(m.message, "second");
	cr_assert_str_eq(m.author, "tester");
	cr_assert_eq(m.objects.n, 0);
	cr_assert_eq(strlen(cid), 64);
	cr_assert(strstr(orig, cid) != NULL);
	ama_manifest_release(&m);
	free(k);
	free(orig);
	ama_buf_release(&text);
	done();
}

Test(bucket, a_header_with_no_end_is_refused)
{
	struct ama_class_info c;
	struct ama_manifest m;
	struct ama_version v = fx_ver("0.0.0");
	struct ama_buf text = AMA_BUF_INIT;
	char *k, cid[65];

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	fx_pub_asset(&pub);
	k = manifest_key(&c, 2, "0.0.0");
	put(k, "version 0.0.0\nauthor eve\ntime 1\n");
	expect_error(ama_bucket_manifest_header(remote, &c, 2, &v, &m, cid),
		     AMA_ECORRUPT, k, "no empty line after the header");
	ama_buf_addstr(&text, "version 0.0.0\nmessage ");
	while (text.len <= (1u << 20))
		ama_buf_addstr(&text, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	put(k, text.s);
	expect_error(ama_bucket_manifest_header(remote, &c, 2, &v, &m, cid),
		     AMA_ECORRUPT, k, "no end of the header in its first "
		     "1048576 bytes");
	free(k);
	ama_buf_release(&text);
	done();
}

/* ---- aliases ---- */

Test(bucket, an_alias_names_its_asset)
{
	struct ama_class_info c;
	struct ama_buf key = AMA_BUF_INIT;
	uint64_t seq = 0;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	ama_layout_alias(&key, c.top_hash, "lung-ct");
	put(key.s, "{\"alias\":\"lung-ct\",\"seq\":1,\"by\":\"tester\"}");
	cr_assert_eq(ama_bucket_alias(remote, &c, "lung-ct", &seq), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(seq, 1);
	expect_error(ama_bucket_alias(remote, &c, "nosuch", &seq),
		     AMA_ENOTFOUND, NULL, "no such alias: runs/nosuch");
	cr_assert_eq(seq, 0);
	ama_buf_release(&key);
	done();
}

Test(bucket, hostile_alias_records_are_refused)
{
	static const char *const bad[] = {
		"{\"alias\":\"other\",\"seq\":1}",
		"{\"alias\":\"x\",\"seq\":0}",
		"{\"alias\":\"x\",\"seq\":-3}",
		"{\"alias\":\"x\",\"seq\":\"1\"}",
		"{\"alias\":\"x\"}",
		"{\"alias\":\"x\",\"seq\":1,\"seq\":2}",
		"not json",
		"",
	};
	struct ama_class_info c;
	struct ama_buf key = AMA_BUF_INIT;
	uint64_t seq;
	size_t i;

	published();
	cr_assert_eq(ama_bucket_class(remote, "runs", &c), 0);
	ama_layout_alias(&key, c.top_hash, "x");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		put(key.s, bad[i]);
		seq = 5;
		expect_error(ama_bucket_alias(remote, &c, "x", &seq),
			     AMA_ECORRUPT, key.s, "not an alias record of 'x'");
		cr_assert_eq(seq, 0, "%s", bad[i]);
	}
	ama_buf_release(&key);
	done();
}

/* ---- reading and failing ---- */

Test(bucket, get_text_reads_whole_objects_up_to_a_limit)
{
	struct ama_buf out = AMA_BUF_INIT;

	published();
	put("small", "0123456789");
	ama_buf_addstr(&out, "old");
	cr_assert_eq(ama_bucket_get_text(remote, "small", &out, 10), 0);
	cr_assert_str_eq(out.s, "0123456789");
	cr_assert_eq(ama_bucket_get_text(remote, "small", &out, 9),
		     AMA_ECORRUPT);
	cr_assert_str_eq(ama_error_msg(), "longer than 9 bytes");
	put("empty", "");
	cr_assert_eq(ama_bucket_get_text(remote, "empty", &out, 10), 0);
	cr_assert_str_eq(out.s, "");
	cr_assert_eq(ama_bucket_get_text(remote, "none", &out, 10),
		     AMA_ENOTFOUND);
	ama_buf_release(&out);
	done();
}

Test(bucket, fail_names_the_key_url_and_keeps_the_reason)
{
	char *url;

	published();
	ama_error_set(AMA_EIO, "the disk is on fire");
	cr_assert_eq(ama_bucket_fail(AMA_EREMOTE, remote, "a/b"), AMA_EREMOTE);
	url = url_of("a/b");
	cr_assert_str_eq(ama_error_path(), url);
	cr_assert_str_eq(ama_error_msg(), "the disk is on fire");
	free(url);
	done();
}
