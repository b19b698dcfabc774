/* t/unit/manifest.c: object lists, the commit id, and manifests parsed as hostile input. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "manifest.h"

#define MD5_A "0cc175b9c0f1b6a831c399e269772661"
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"
#define MD5_C "4a8a08f09d37b73795649038408b5f33"

static void add(struct ama_objlist *l, const char *hex, uint64_t size,
		const char *path)
{
	struct ama_md5 md5;

	cr_assert_eq(ama_md5_from_hex(&md5, hex), 0);
	ama_objlist_add(l, &md5, size, path, strlen(path));
}

/* The list of the given paths (all MD5_A, size 1), in the given order. */
static void list_of(struct ama_objlist *l, const char *const *paths)
{
	for (; *paths; paths++)
		add(l, MD5_A, 1, *paths);
}

static char *formatted(const struct ama_objlist *l)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_objlist_format(&b, l);
	return ama_buf_detach(&b);
}

/* ama_objlist_check on paths: the code, and the reason and subject if bad. */
static void assert_check(const char *const *paths, int code,
			 const char *subject, const char *msg)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;

	list_of(&l, paths);
	cr_assert_eq(ama_objlist_check(&l), code, "%s: %s", paths[0],
		     ama_error_msg());
	if (code) {
		cr_assert_str_eq(ama_error_path(), subject);
		cr_assert_str_eq(ama_error_msg(), msg);
	}
	ama_objlist_release(&l);
}

Test(objlist, sorted_clean_lists_pass)
{
	static const char *const ok[] = {
		".ama2/x", ".amaignore", "a", "a.git", "a.txt", "b/.gitignore",
		"b/c d", "b/x/.ama2/y", "c\tt", NULL,
	};

	assert_check(ok, 0, NULL, NULL);
}

Test(objlist, unclean_paths_are_rejected_with_the_reason)
{
	static const char *const abs[] = { "/etc/passwd", NULL };
	static const char *const dotdot[] = { "a/../b", NULL };
	static const char *const dot[] = { "./a", NULL };
	static const char *const empty_part[] = { "a//b", NULL };
	static const char *const trailing[] = { "a/", NULL };
	static const char *const empty[] = { "", NULL };

	assert_check(abs, AMA_EINVAL, "/etc/passwd", "absolute path");
	assert_check(dotdot, AMA_EINVAL, "a/../b", "'.' or '..' part");
	assert_check(dot, AMA_EINVAL, "./a", "'.' or '..' part");
	assert_check(empty_part, AMA_EINVAL, "a//b", "empty part ('//')");
	assert_check(trailing, AMA_EINVAL, "a/", "trailing '/'");
	assert_check(empty, AMA_EINVAL, "", "empty path");
}

Test(objlist, names_git_and_ama_reserve_are_rejected)
{
	static const char *const git[] = { "x/.GiT/config", NULL };
	static const char *const ama[] = { ".ama/config", NULL };
	static const char *const ama_file[] = { ".ama", NULL };
	static const char *const nested[] = { "x/.ama/config", NULL };

	assert_check(git, AMA_EINVAL, "x/.GiT/config",
		     "a '.git' part, which git cannot store");
	assert_check(ama, AMA_EINVAL, ".ama/config",
		     "inside .ama, which ama manages");
	assert_check(ama_file, AMA_EINVAL, ".ama",
		     "inside .ama, which ama manages");
	assert_check(nested, AMA_EINVAL, "x/.ama/config",
		     "inside .ama, which ama manages");
}

Test(objlist, order_and_duplicates_are_checked)
{
	static const char *const unsorted[] = { "b", "a", NULL };
	static const char *const dup[] = { "a", "a", NULL };
	/* bytewise: '-' < '/' < '0', so "a-" and "a/" are not neighbours */
	static const char *const folder_first[] = { "a/b", "a-", NULL };

	assert_check(unsorted, AMA_EINVAL, "a",
		     "out of order (paths are sorted bytewise)");
	assert_check(dup, AMA_EINVAL, "a", "duplicate path");
	assert_check(folder_first, AMA_EINVAL, "a-",
		     "out of order (paths are sorted bytewise)");
}

Test(objlist, a_file_cannot_also_be_a_folder)
{
	static const char *const next[] = { "a", "a/b", NULL };
	/* "a" and "a/b" apart, with other files that start with "a" between */
	static const char *const apart[] = {
		"a", "a!", "a!/x", "a-b", "a.txt", "a/b", NULL,
	};
	static const char *const apart_ok[] = {
		"a", "a!", "a-b", "a.txt", "a/b", NULL,
	};
	static const char *const deep[] = { "d/e", "d/e/f/g", NULL };
	static const char *const fine[] = { "a!", "a-b", "a/b", "a0", NULL };

	assert_check(next, AMA_EINVAL, "a/b", "inside a, which is a file");
	assert_check(apart, AMA_EINVAL, "a!/x", "inside a!, which is a file");
	assert_check(apart_ok, AMA_EINVAL, "a/b",
		     "inside a, which is a file");
	assert_check(deep, AMA_EINVAL, "d/e/f/g",
		     "inside d/e, which is a file");
	assert_check(fine, 0, NULL, NULL);
}

Test(objlist, sort_orders_bytewise_then_checks)
{
	static const char *const in[] = {
		"b", "a/z", "\351t\351", "a-1", "a", ".x", "B", NULL,
	};
	static const char *const want[] = {
		".x", "B", "a", "a-1", "a/z", "b", "\351t\351",
	};
	struct ama_objlist l = AMA_OBJLIST_INIT;
	size_t i;

	list_of(&l, in);
	/* "a" is a file and "a/z" is inside it */
	cr_assert_eq(ama_objlist_sort(&l), AMA_EINVAL);
	cr_assert_str_eq(ama_error_path(), "a/z");
	for (i = 0; i < l.n; i++)
		cr_assert_str_eq(l.v[i].path, want[i]);
	ama_objlist_release(&l);
}

Test(objlist, find_looks_up_a_path)
{
	static const char *const paths[] = { "a", "b/c", "b/d", "e", NULL };
	struct ama_objlist l = AMA_OBJLIST_INIT;

	list_of(&l, paths);
	cr_assert_eq(ama_objlist_find(&l, "b/d", 3), &l.v[2]);
	cr_assert_eq(ama_objlist_find(&l, "a", 1), &l.v[0]);
	cr_assert_eq(ama_objlist_find(&l, "e", 1), &l.v[3]);
	cr_assert_null(ama_objlist_find(&l, "b", 1));
	cr_assert_null(ama_objlist_find(&l, "b/dd", 3 + 1));
	ama_objlist_release(&l);
}

/* Paths with every awkward byte, sorted. */
static void hostile_list(struct ama_objlist *l)
{
	add(l, MD5_A, 0, "-leading dash");
	add(l, MD5_B, 1, "back\\slash");
	add(l, MD5_C, 18446744073709551615ull / 2, "dir/q\"uote");
	add(l, MD5_A, 7, "dir/tab\there");
	add(l, MD5_B, 42, "new\nline");
	add(l, MD5_C, 3, "non-utf8-\377\376");
}

static const char hostile_text[] =
	MD5_A " 0\t-leading dash\n"
	MD5_B " 1\t\"back\\\\slash\"\n"
	MD5_C " 9223372036854775807\t\"dir/q\\\"uote\"\n"
	MD5_A " 7\t\"dir/tab\\there\"\n"
	MD5_B " 42\t\"new\\nline\"\n"
	MD5_C " 3\tnon-utf8-\377\376\n";

Test(objlist, format_quotes_hostile_paths_as_records_do)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	char *got;

	hostile_list(&l);
	cr_assert_eq(ama_objlist_check(&l), 0);
	got = formatted(&l);
	cr_assert_str_eq(got, hostile_text);
	free(got);
	ama_objlist_release(&l);
}

Test(objlist, parse_reads_back_what_format_wrote)
{
	struct ama_objlist l = AMA_OBJLIST_INIT, back = AMA_OBJLIST_INIT;

	hostile_list(&l);
	cr_assert_eq(ama_objlist_parse(&back, hostile_text,
				       sizeof(hostile_text) - 1, 1), 0,
		     "%s", ama_error_msg());
	cr_assert(ama_objlist_equal(&l, &back));
	cr_assert_str_eq(back.v[4].path, "new\nline");
	cr_assert_eq(back.v[4].path_len, 8);
	ama_objlist_release(&l);
	ama_objlist_release(&back);
}

static void assert_parse_fails(const char *text, const char *msg)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;

	cr_assert_eq(ama_objlist_parse(&l, text, strlen(text), 10),
		     AMA_EINVAL, "accepted: %s", text);
	cr_assert_str_eq(ama_error_msg(), msg);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.v);
}

Test(objlist, parse_rejects_bad_lines_naming_the_line)
{
	assert_parse_fails(MD5_A " 1\ta\n" MD5_B " 1\tb",
			   "line 11: no newline at the end");
	assert_parse_fails("0CC175B9C0F1B6A831C399E269772661 1\ta\n",
			   "line 10: bad MD5 (want 32 lowercase hex)");
	assert_parse_fails("0cc175b9 1\ta\n",
		"line 10: bad MD5 (want 32 lowercase hex, then one space)");
	assert_parse_fails(MD5_A " 01\ta\n",
		"line 10: bad size (want a decimal without leading zeros)");
	assert_parse_fails(MD5_A " -1\ta\n",
		"line 10: bad size (want a decimal without leading zeros)");
	assert_parse_fails(MD5_A " 9223372036854775808\ta\n",
		"line 10: bad size (want a decimal without leading zeros)");
	assert_parse_fails(MD5_A "  1\ta\n",
		"line 10: bad size (want a decimal without leading zeros)");
	assert_parse_fails(MD5_A " 1 staged\ta\n",
		"line 10: bad size (want a decimal without leading zeros)");
	assert_parse_fails(MD5_A " 1 a\n",
		"line 10: not an object line (want <md5> <size> TAB path)");
	assert_parse_fails(MD5_A " 1\n",
		"line 10: not an object line (want <md5> <size> TAB path)");
	assert_parse_fails(MD5_A " 1\t\n", "line 10: empty path");
	assert_parse_fails(MD5_A " 1\ta\\b\n",
		"line 10: path with a control byte, '\"' or '\\' must be quoted");
	assert_parse_fails(MD5_A " 1\t\"a\\qb\"\n",
			   "line 10: bad quoting: unknown escape '\\q'");
	assert_parse_fails(MD5_A " 1\t\"a\\000b\"\n",
			   "line 10: bad quoting: NUL byte in a path");
	assert_parse_fails(MD5_A " 1\tb\n" MD5_A " 1\ta\n",
		"line 11: a: out of order (paths are sorted bytewise)");
	assert_parse_fails(MD5_A " 1\ta\n" MD5_B " 2\ta\n",
			   "line 11: a: duplicate path");
	assert_parse_fails(MD5_A " 1\ta\n" MD5_B " 2\ta.x\n"
			   MD5_B " 2\ta/b\n",
			   "line 12: a/b: inside a, which is a file");
	assert_parse_fails(MD5_A " 1\t/abs\n", "line 10: /abs: absolute path");
	assert_parse_fails(MD5_A " 1\ta/../../b\n",
			   "line 10: a/../../b: '.' or '..' part");
	assert_parse_fails(MD5_A " 1\tdir/\n", "line 10: dir/: trailing '/'");
	assert_parse_fails("\n", "line 10: not an object line "
			   "(want <md5> <size> TAB path)");
}

Test(objlist, an_empty_objects_part_is_an_empty_list)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;

	cr_assert_eq(ama_objlist_parse(&l, "", 0, 1), 0);
	cr_assert_eq(l.n, 0);
	ama_objlist_release(&l);
}

Test(objlist, equal_compares_path_md5_and_size)
{
	struct ama_objlist a = AMA_OBJLIST_INIT, b = AMA_OBJLIST_INIT;

	hostile_list(&a);
	hostile_list(&b);
	cr_assert(ama_objlist_equal(&a, &b));
	b.v[3].size++;
	cr_assert_not(ama_objlist_equal(&a, &b));
	b.v[3].size--;
	b.v[2].md5.d[15] ^= 1;
	cr_assert_not(ama_objlist_equal(&a, &b));
	b.v[2].md5.d[15] ^= 1;
	cr_assert(ama_objlist_equal(&a, &b));
	add(&b, MD5_A, 1, "z");
	cr_assert_not(ama_objlist_equal(&a, &b));
	ama_objlist_release(&a);
	ama_objlist_release(&b);
}

Test(objlist, diff_walks_added_removed_and_changed_in_order)
{
	struct ama_objlist old = AMA_OBJLIST_INIT, new = AMA_OBJLIST_INIT;
	struct ama_objlist_diff d;
	struct ama_diff_entry e;
	static const struct {
		enum ama_diff_kind kind;
		const char *path;
	} want[] = {
		{ AMA_DIFF_REMOVED, "a" },
		{ AMA_DIFF_ADDED, "a/b" },
		{ AMA_DIFF_CHANGED, "c" },
		{ AMA_DIFF_CHANGED, "d" },
		{ AMA_DIFF_REMOVED, "x" },
		{ AMA_DIFF_ADDED, "y" },
	};
	size_t i = 0;

	add(&old, MD5_A, 1, "a");
	add(&old, MD5_A, 1, "b");
	add(&old, MD5_A, 1, "c");
	add(&old, MD5_A, 1, "d");
	add(&old, MD5_A, 1, "x");
	add(&new, MD5_A, 1, "a/b");
	add(&new, MD5_A, 1, "b");
	add(&new, MD5_B, 1, "c");
	add(&new, MD5_A, 2, "d");
	add(&new, MD5_C, 1, "y");
	ama_objlist_diff_init(&d, &old, &new);
	while (ama_objlist_diff_next(&d, &e) == 1) {
		cr_assert_lt(i, sizeof(want) / sizeof(*want));
		cr_assert_eq(e.kind, want[i].kind, "entry %zu", i);
		cr_assert_str_eq(e.path, want[i].path);
		cr_assert_eq(e.old == NULL, e.kind == AMA_DIFF_ADDED);
		cr_assert_eq(e.new == NULL, e.kind == AMA_DIFF_REMOVED);
		i++;
	}
	cr_assert_eq(i, sizeof(want) / sizeof(*want));
	cr_assert_eq(ama_objlist_diff_next(&d, &e), 0);
	ama_objlist_diff_init(&d, &new, &new);
	cr_assert_eq(ama_objlist_diff_next(&d, &e), 0);
	ama_objlist_release(&old);
	ama_objlist_release(&new);
}

/* a reader over the bytes of s */
static int pipe_of(const char *s, size_t n)
{
	int fd[2];

	cr_assert_eq(pipe(fd), 0);
	cr_assert_eq(write(fd[1], s, n), (ssize_t)n);
	close(fd[1]);
	return fd[0];
}

Test(objlist, records_of_ls_files_build_a_list)
{
	static const char in[] =
		MD5_B " 12 staged\tb\n"
		MD5_A " 0 pending\t\"t\\tab\"\n"
		MD5_C " 3\tc\n"
		"0CC175B9C0F1B6A831C399E269772661 1\tupper\n"
		MD5_A " x\tbad size\n"
		MD5_A "\tone field\n";
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_reader r;
	struct ama_record rec;
	int fd = pipe_of(in, sizeof(in) - 1), i;
	static const char *const errors[] = {
		"malformed record: bad MD5 (want 32 lowercase hex)",
		"malformed record: bad size",
		"malformed record: want <md5> <size>",
	};

	ama_reader_init(&r, fd, 0, AMA_INPUT_RECORDS);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(ama_reader_next(&r, &rec), 1);
		cr_assert_eq(ama_objlist_add_record(&l, &rec), 0);
	}
	for (i = 0; i < 3; i++) {
		cr_assert_eq(ama_reader_next(&r, &rec), 1);
		cr_assert_eq(ama_objlist_add_record(&l, &rec), AMA_EINVAL);
		cr_assert_str_eq(ama_error_msg(), errors[i]);
		cr_assert_str_eq(ama_error_path(), rec.path);
	}
	cr_assert_eq(ama_reader_next(&r, &rec), 0);
	cr_assert_eq(ama_objlist_sort(&l), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0].path, "b");
	cr_assert_eq(l.v[0].size, 12);
	cr_assert_str_eq(l.v[2].path, "t\tab");
	ama_reader_release(&r);
	close(fd);
	ama_objlist_release(&l);
}

/* SHA-256 of bytes, in hex, computed here independently of the library. */
static void sha256_of(char *out, const char *data, size_t n)
{
	unsigned char d[32];
	unsigned int dlen;
	int i;

	cr_assert(EVP_Digest(data, n, d, &dlen, EVP_sha256(), NULL));
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

Test(commit_id, hashes_the_documented_bytes)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_version parent = { 1, 2, 3 };
	char got[AMA_COMMIT_ID_HEXLEN + 1], want[AMA_COMMIT_ID_HEXLEN + 1];
	struct ama_buf b = AMA_BUF_INIT;

	hostile_list(&l);
	ama_buf_addstr(&b, "ama-commit-id 1\nparent 1.2.3\n");
	ama_buf_addstr(&b, hostile_text);
	sha256_of(want, b.s, b.len);
	ama_manifest_commit_id(got, &parent, &l);
	cr_assert_str_eq(got, want);

	ama_buf_reset(&b);
	ama_buf_addstr(&b, "ama-commit-id 1\nparent\n");
	ama_buf_addstr(&b, hostile_text);
	sha256_of(want, b.s, b.len);
	ama_manifest_commit_id(got, NULL, &l);
	cr_assert_str_eq(got, want);
	ama_buf_release(&b);
	ama_objlist_release(&l);
}

Test(commit_id, depends_on_parent_and_objects_only)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_version p1 = { 0, 0, 1 }, p2 = { 0, 0, 2 };
	char a[AMA_COMMIT_ID_HEXLEN + 1], b[AMA_COMMIT_ID_HEXLEN + 1];

	hostile_list(&l);
	ama_manifest_commit_id(a, &p1, &l);
	ama_manifest_commit_id(b, &p1, &l);
	cr_assert_str_eq(a, b);
	ama_manifest_commit_id(b, &p2, &l);
	cr_assert_str_neq(a, b);
	ama_manifest_commit_id(b, NULL, &l);
	cr_assert_str_neq(a, b);
	l.v[5].size++;
	ama_manifest_commit_id(b, &p1, &l);
	cr_assert_str_neq(a, b);
	ama_objlist_release(&l);
}

/* A manifest of version 0.0.1 with hostile paths and message. */
static void sample(struct ama_manifest *m)
{
	ama_manifest_init(m);
	m->version = (struct ama_version){ 0, 0, 1 };
	m->has_parent = 1;
	m->class = ama_strdup("imaging");
	m->seq = 3;
	m->author = ama_strdup("Ada \"the\" Lovelace");
	m->time = 1718000000;
	m->message = ama_strdup("first light\n\nwith a\ttab");
	hostile_list(&m->objects);
}

static char *sample_text(void)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_version parent = { 0, 0, 0 };
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	struct ama_buf b = AMA_BUF_INIT;

	hostile_list(&l);
	ama_manifest_commit_id(id, &parent, &l);
	ama_buf_addf(&b, "version 0.0.1\nparent 0.0.0\nclass imaging\nseq 3\n"
		     "commit-id %s\nauthor \"Ada \\\"the\\\" Lovelace\"\n"
		     "time 1718000000\n"
		     "message \"first light\\n\\nwith a\\ttab\"\n\n%s",
		     id, hostile_text);
	ama_objlist_release(&l);
	return ama_buf_detach(&b);
}

Test(manifest, format_writes_the_header_then_the_objects)
{
	struct ama_manifest m;
	struct ama_buf b = AMA_BUF_INIT;
	char *want = sample_text();

	sample(&m);
	cr_assert_eq(ama_manifest_check(&m), 0, "%s", ama_error_msg());
	ama_manifest_format(&b, &m);
	cr_assert_str_eq(b.s, want);
	free(want);
	ama_buf_release(&b);
	ama_manifest_release(&m);
}

Test(manifest, parse_reads_back_every_field)
{
	struct ama_manifest want, got;
	struct ama_buf again = AMA_BUF_INIT;
	char *text = sample_text();

	sample(&want);
	cr_assert_eq(ama_manifest_parse(&got, text, strlen(text)), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(ama_version_cmp(&got.version, &want.version), 0);
	cr_assert(got.has_parent);
	cr_assert_eq(ama_version_cmp(&got.parent, &want.parent), 0);
	cr_assert_str_eq(got.class, "imaging");
	cr_assert_eq(got.seq, 3);
	cr_assert_str_eq(got.author, want.author);
	cr_assert_eq(got.time, 1718000000);
	cr_assert_str_eq(got.message, want.message);
	cr_assert(ama_objlist_equal(&got.objects, &want.objects));
	ama_manifest_format(&again, &got);
	cr_assert_str_eq(again.s, text);
	free(text);
	ama_buf_release(&again);
	ama_manifest_release(&want);
	ama_manifest_release(&got);
}

Test(manifest, the_first_version_has_an_empty_parent)
{
	static const char text[] = "version 0.0.0\nparent\nauthor bob\n"
		"time 0\nmessage\n\n";
	static const char bare[] = "author bob\ntime 0\nversion 0.0.0\n\n";
	struct ama_manifest m;
	struct ama_buf b = AMA_BUF_INIT;
	char id[AMA_COMMIT_ID_HEXLEN + 1];

	cr_assert_eq(ama_manifest_parse(&m, text, sizeof(text) - 1), 0, "%s",
		     ama_error_msg());
	cr_assert_not(m.has_parent);
	cr_assert_null(m.class);
	cr_assert_eq(m.seq, 0);
	cr_assert_str_eq(m.message, "");
	cr_assert_eq(m.objects.n, 0);
	ama_manifest_format(&b, &m);
	ama_manifest_commit_id(id, NULL, &m.objects);
	cr_assert_str_eq(b.s + strlen("version 0.0.0\nparent\ncommit-id ") +
			 AMA_COMMIT_ID_HEXLEN, "\nauthor bob\ntime 0\nmessage\n\n");
	cr_assert(!strncmp(b.s, "version 0.0.0\nparent\ncommit-id ", 31));
	cr_assert(!strncmp(b.s + 31, id, AMA_COMMIT_ID_HEXLEN));
	ama_manifest_release(&m);
	ama_buf_release(&b);
	/* keys in any order; parent and message may be left out */
	cr_assert_eq(ama_manifest_parse(&m, bare, sizeof(bare) - 1), 0, "%s",
		     ama_error_msg());
	cr_assert_not(m.has_parent);
	cr_assert_null(m.message);
	ama_manifest_release(&m);
}

/* The sample's text with line n (1-based) replaced by line (NULL: removed). */
static char *edited(unsigned n, const char *line)
{
	char *text = sample_text(), *p = text, *nl;
	struct ama_buf b = AMA_BUF_INIT;
	unsigned i;

	for (i = 1; i < n; i++)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	ama_buf_add(&b, text, (size_t)(p - text));
	if (line) {
		ama_buf_addstr(&b, line);
		ama_buf_addch(&b, '\n');
	}
	ama_buf_addstr(&b, nl + 1);
	free(text);
	return ama_buf_detach(&b);
}

static void assert_manifest_fails(char *text, size_t len, const char *msg)
{
	struct ama_manifest m;

	cr_assert_eq(ama_manifest_parse(&m, text, len), AMA_EINVAL,
		     "accepted: %s", text);
	cr_assert_str_eq(ama_error_msg(), msg);
	cr_assert_null(m.author);
	cr_assert_null(m.objects.v);
	free(text);
}

static void assert_edit_fails(unsigned n, const char *line, const char *msg)
{
	char *text = edited(n, line);

	assert_manifest_fails(text, strlen(text), msg);
}

Test(manifest, header_errors_name_the_line)
{
	assert_edit_fails(1, "version 0.0.2",
		"line 2: version must be the one after its parent");
	assert_edit_fails(1, "version 0.0.01",
		"line 1: version: bad version '0.0.01' (want X.Y.Z, Y and Z 0..98)");
	assert_edit_fails(1, NULL, "line 8: the header has no 'version'");
	assert_edit_fails(2, "parent",
			  "line 1: only version 0.0.0 may have no parent");
	assert_edit_fails(2, NULL,
			  "line 1: only version 0.0.0 may have no parent");
	assert_edit_fails(2, "parent 0.0.0 ",
		"line 2: parent: bad version '0.0.0 ' (want X.Y.Z, Y and Z 0..98)");
	assert_edit_fails(3, "class .hidden",
		"line 3: class: bad class name: must start with a letter or digit");
	assert_edit_fails(3, "class a/b", "line 3: class: bad class name: "
		"only letters, digits, '.', '_' and '-' are allowed");
	assert_edit_fails(3, "class x.lock", "line 3: class: bad class name: "
		"no '..', and no '.' or '.lock' at the end");
	assert_edit_fails(4, "seq 0",
			  "line 4: seq: bad seq (want a positive decimal)");
	assert_edit_fails(4, "seq 03",
			  "line 4: seq: bad seq (want a positive decimal)");
	assert_edit_fails(5, "commit-id abc",
		"line 5: commit-id: bad commit-id (want 64 lowercase hex)");
	assert_edit_fails(5, "commit-id "
		"0000000000000000000000000000000000000000000000000000000000000000",
		"line 5: commit-id does not match the parent and the objects");
	assert_edit_fails(6, "author <root>", "line 6: author: bad author: "
			  "no control bytes, '<' or '>'");
	assert_edit_fails(6, "author \"a\\nb\"", "line 6: author: bad author: "
			  "no control bytes, '<' or '>'");
	assert_edit_fails(6, "author  x",
		"line 6: author: bad author: leading or trailing space");
	assert_edit_fails(6, NULL, "line 8: the header has no 'author'");
	assert_edit_fails(7, "time -5",
		"line 7: time: bad time (want seconds since the epoch)");
	assert_edit_fails(7, "time 1e9",
		"line 7: time: bad time (want seconds since the epoch)");
	assert_edit_fails(7, "time ",
			  "line 7: 'time' has a space but no value");
	assert_edit_fails(8, "message tab\there", "line 8: message: a value "
		"with a control byte, '\"' or '\\' must be quoted");
	assert_edit_fails(8, "message \"unterminated",
		"line 8: message: bad quoting: no closing quote");
	assert_edit_fails(8, "Message x", "line 8: unknown header key Message");
	assert_edit_fails(8, "time 5",
			  "line 8: 'time' repeated (first on line 7)");
	assert_edit_fails(8, "version 0.0.1",
			  "line 8: 'version' repeated (first on line 1)");
}

Test(manifest, structure_errors_name_the_line)
{
	static const char nul[] = "version 0.0.0\nauthor a\0b\ntime 1\n\n";
	static const char no_blank[] = "version 0.0.0\nauthor a\ntime 1\n";
	static const char no_blank_obj[] = "version 0.0.0\nauthor a\ntime 1\n"
		MD5_A " 1\ta\n\n";
	static const char unterminated[] = "version 0.0.0\nauthor a\ntime 1";

	assert_manifest_fails(ama_strndup(nul, sizeof(nul) - 1),
			      sizeof(nul) - 1, "line 2: NUL byte");
	assert_manifest_fails(ama_strdup(no_blank), strlen(no_blank),
		"line 4: no empty line after the header");
	assert_manifest_fails(ama_strdup(unterminated), strlen(unterminated),
		"line 3: no empty line after the header");
	assert_manifest_fails(ama_strdup(no_blank_obj), strlen(no_blank_obj),
		"line 4: unknown header key " MD5_A);
	assert_manifest_fails(ama_strdup(""), 0,
		"line 1: no empty line after the header");
	/* line 9 is the empty one: the objects start on line 10 */
	assert_edit_fails(15, MD5_A " 1\ta",
		"line 15: a: out of order (paths are sorted bytewise)");
	assert_edit_fails(12, MD5_A " 1\t..",
		"line 12: ..: '.' or '..' part");
}

Test(manifest, check_catches_what_parse_would)
{
	struct ama_manifest m;

	sample(&m);
	m.version.z = 2;
	cr_assert_eq(ama_manifest_check(&m), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
		"bad manifest: version must be the one after its parent");
	m.version.z = 1;
	free(m.author);
	m.author = NULL;
	cr_assert_eq(ama_manifest_check(&m), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "bad manifest: no author");
	m.author = ama_strdup("x");
	m.time = -1;
	cr_assert_eq(ama_manifest_check(&m), AMA_EINVAL);
	m.time = 1;
	cr_assert_eq(ama_manifest_check(&m), 0);
	add(&m.objects, MD5_A, 1, "a");
	cr_assert_eq(ama_manifest_check(&m), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
			 "out of order (paths are sorted bytewise)");
	ama_manifest_release(&m);
}

Test(manifest, class_names)
{
	static const char *const good[] = {
		"imaging", "a", "A.b_c-d", "2024.runs", "x.y.z",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
	};
	static const char *const bad[] = {
		"", ".a", "-a", "_a", "a..b", "a.", "a.lock", "a b", "a/b",
		"a\\b", "a:b", "a~b", "a^b", "a*", "\351t\351", "a@{b",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_assert_eq(ama_manifest_check_class(good[i]), 0, "%s",
			     good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(ama_manifest_check_class(bad[i]), AMA_EINVAL,
			     "%s", bad[i]);
}

/*
 * Hostile input: every prefix of a valid manifest, and the manifest with
 * each byte replaced, is either rejected or parsed into something that
 * formats and parses again to the same objects. Run under ASan, this is
 * what keeps the parser in bounds.
 */
Test(manifest, damaged_manifests_fail_cleanly)
{
	char *text = sample_text();
	size_t len = strlen(text), i;
	static const char repl[] = { '\n', '\t', '"', '\\', ' ', '/', '0', 'x' };

	for (i = 0; i <= len; i++) {
		char *copy = ama_strndup(text, i);
		struct ama_manifest m;
		size_t k;

		if (ama_manifest_parse(&m, copy, i) == 0) {
			struct ama_buf b = AMA_BUF_INIT;
			struct ama_manifest again;

			ama_manifest_format(&b, &m);
			cr_assert_eq(ama_manifest_parse(&again, b.s, b.len), 0);
			cr_assert(ama_objlist_equal(&m.objects, &again.objects));
			ama_manifest_release(&again);
			ama_manifest_release(&m);
			ama_buf_release(&b);
		}
		free(copy);
		if (i == len)
			break;
		for (k = 0; k < sizeof(repl); k++) {
			char *mut = ama_strdup(text);

			mut[i] = repl[k];
			if (ama_manifest_parse(&m, mut, len) == 0)
				ama_manifest_release(&m);
			free(mut);
		}
	}
	free(text);
}

Test(object, fields_round_trip_and_are_strict)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_md5 md5, back;
	uint64_t size;

	cr_assert_eq(ama_md5_from_hex(&md5, MD5_B), 0);
	ama_object_format_fields(&b, &md5, 9223372036854775807ull);
	cr_assert_str_eq(b.s, MD5_B " 9223372036854775807");
	cr_assert_eq(ama_object_parse_fields(&back, &size, b.s, b.len), 0);
	cr_assert(ama_md5_equal(&md5, &back));
	cr_assert_eq(size, 9223372036854775807ull);
	/* len bounds the parse: the "\n" a blob ends with is not a field */
	cr_assert_eq(ama_object_parse_fields(&back, &size, MD5_B " 12\n",
					     35), 0);
	cr_assert_eq(size, 12);
	cr_assert_eq(ama_object_parse_fields(&back, &size, MD5_B " 12\n",
					     36), AMA_EINVAL);
	cr_assert_eq(ama_object_parse_fields(&back, &size, MD5_B " ", 33),
		     AMA_EINVAL);
	cr_assert_eq(ama_object_parse_fields(&back, &size, MD5_B, 32),
		     AMA_EINVAL);
	ama_buf_release(&b);
}
