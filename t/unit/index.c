/* t/unit/index.c: the binary index: round trips, order, corruption, locks, many changes. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"

static char dir[64];
static char ipath[128];

static void setup(void)
{
	strcpy(dir, "/tmp/ama-index-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(ipath, sizeof(ipath), "%s/index", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(index, .init = setup, .fini = teardown);

static struct ama_index_entry entry(const char *path, unsigned seed)
{
	struct ama_index_entry e;
	int i;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < 16; i++)
		e.md5.d[i] = (unsigned char)(seed * 31 + (unsigned)i);
	e.st.size = 1000 + seed;
	e.st.mtime_ns = 1600000000123456789 + seed;
	e.st.ctime_ns = 1600000001987654321 + seed;
	e.st.ino = 0x1122334455667788ull + seed;
	e.st.dev = 0x8877665544332211ull;
	e.st.nlink = 1 + seed % 3;
	e.st.mode = S_IFREG | 0644;
	e.state = (uint8_t)(seed % AMA_STATE_COUNT);
	e.flags = seed % 2 ? AMA_ENTRY_RACY : 0;
	e.path = path;
	e.path_len = (uint32_t)strlen(path);
	return e;
}

static void assert_same(const struct ama_index_entry *a,
			const struct ama_index_entry *b)
{
	cr_assert_eq(a->path_len, b->path_len);
	cr_assert(!memcmp(a->path, b->path, a->path_len));
	cr_assert(ama_md5_equal(&a->md5, &b->md5));
	cr_assert(ama_stat_equal(&a->st, &b->st));
	cr_assert_eq(a->state, b->state);
	cr_assert_eq(a->flags, b->flags);
}

/* Write an index holding the given paths (in the order given). */
static void write_index(const char *const *paths, size_t n)
{
	struct ama_index *idx;
	size_t i;

	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	for (i = 0; i < n; i++) {
		struct ama_index_entry e = entry(paths[i], (unsigned)i);

		ama_index_add(idx, &e);
	}
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
}

static char *slurp(size_t *len)
{
	char *data;

	cr_assert_eq(ama_read_file(&data, len, ipath), 0);
	return data;
}

static void spit(const void *data, size_t len)
{
	FILE *f = fopen(ipath, "wb");

	cr_assert(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* Recompute the trailing checksum, as a forger would. */
static void reseal(unsigned char *data, size_t len)
{
	unsigned int n = 32;

	cr_assert(EVP_Digest(data, len - 32, data + len - 32, &n,
			     EVP_sha256(), NULL));
}

static void assert_corrupt(const char *why)
{
	struct ama_index *idx = (void *)1;
	char want[512];

	cr_assert_eq(ama_index_load(&idx, ipath), AMA_ECORRUPT);
	cr_assert_null(idx);
	snprintf(want, sizeof(want), "index is corrupt: %s", why);
	cr_assert_str_eq(ama_error_msg(), want);
	cr_assert_str_eq(ama_error_path(), ipath);
}

Test(index, a_missing_file_is_an_empty_index)
{
	struct ama_index *idx;

	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	cr_assert_eq(ama_index_count(idx), 0);
	cr_assert_eq(ama_index_mtime_ns(idx), INT64_MAX);
	cr_assert_null(ama_index_find(idx, "a", 1));
	ama_index_free(idx);
}

Test(index, entries_round_trip_with_every_field)
{
	static const char *const paths[] = {
		"dir0001/file000001.bin", "dir0001/file000002.bin",
		"dir0002/file000001.bin", "x", "tab\tand\nnewline",
	};
	struct ama_index *idx;
	struct ama_index_entry *e;
	size_t n, i;
	struct stat st;
	char lock[160];

	write_index(paths, 5);
	cr_assert_eq(stat(ipath, &st), 0);
	snprintf(lock, sizeof(lock), "%s.lock", ipath);
	cr_assert_neq(access(lock, F_OK), 0);
	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	cr_assert_eq(ama_index_mtime_ns(idx),
		     (int64_t)st.st_mtim.tv_sec * 1000000000 +
		     st.st_mtim.tv_nsec);
	e = ama_index_entries(idx, &n);
	cr_assert_eq(n, 5);
	for (i = 0; i < 5; i++) {
		struct ama_index_entry want = entry(paths[i], (unsigned)i);
		struct ama_index_entry *got =
			ama_index_find(idx, paths[i], strlen(paths[i]));

		cr_assert_not_null(got);
		assert_same(got, &want);
	}
	/* "tab..." sorts before "x": the array is in path order */
	cr_assert_str_eq(e[3].path, "tab\tand\nnewline");
	cr_assert_str_eq(e[4].path, "x");
	ama_index_free(idx);
}

Test(index, a_rewrite_without_changes_is_byte_identical)
{
	static const char *const paths[] = { "a/b", "a/c", "b" };
	struct ama_index *idx;
	char *before, *after;
	size_t lb, la;

	write_index(paths, 3);
	before = slurp(&lb);
	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	after = slurp(&la);
	cr_assert_eq(la, lb);
	cr_assert(!memcmp(before, after, la));
	free(before);
	free(after);
}

Test(index, paths_sort_bytewise_with_awkward_bytes)
{
	static const char *const paths[] = {
		"a\xff", "a/b", "a.b", "a", "a\x01", "ab", "a/b/c", "a-",
		"\xff", "A", "a/b.c",
	};
	static const char *const want[] = {
		"A", "a", "a\x01", "a-", "a.b", "a/b", "a/b.c", "a/b/c",
		"ab", "a\xff", "\xff",
	};
	struct ama_index *idx;
	struct ama_index_entry *e;
	size_t n, i;

	write_index(paths, 11);
	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	e = ama_index_entries(idx, &n);
	cr_assert_eq(n, 11);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(e[i].path, want[i], "at %zu", i);
	ama_index_free(idx);
}

Test(index, prefix_compression_keeps_the_file_small)
{
	struct ama_index *idx;
	char path[64];
	struct stat st;
	int i;

	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	for (i = 0; i < 1000; i++) {
		struct ama_index_entry e;

		snprintf(path, sizeof(path), "dir%04d/file%06d.bin", i / 100,
			 i);
		e = entry(path, (unsigned)i);
		ama_index_add(idx, &e);
	}
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	cr_assert_eq(stat(ipath, &st), 0);
	/* 66 bytes of fields, 2 of lengths, about 7 of path each */
	cr_assert_lt(st.st_size, 24 + 1000 * 76 + 32);
}

/* --- corruption --- */

static void write_abc(void)
{
	static const char *const paths[] = { "a", "b/c", "b/d" };

	write_index(paths, 3);
}

Test(index, a_flipped_byte_is_a_checksum_mismatch)
{
	size_t len, i;
	unsigned char *d;

	write_abc();
	d = (unsigned char *)slurp(&len);
	for (i = 24; i < len; i += 7) {
		d[i] ^= 0x10;
		spit(d, len);
		assert_corrupt("checksum mismatch (truncated or damaged)");
		d[i] ^= 0x10;
	}
	free(d);
}

Test(index, a_truncated_file_is_corrupt_not_empty)
{
	size_t len;
	char *d;

	write_abc();
	d = slurp(&len);
	spit(d, len - 1);
	assert_corrupt("checksum mismatch (truncated or damaged)");
	spit(d, 30);
	assert_corrupt("too short (30 bytes)");
	spit(d, 0);
	assert_corrupt("too short (0 bytes)");
	free(d);
}

Test(index, a_wrong_magic_or_version_is_corrupt)
{
	size_t len;
	unsigned char *d;

	write_abc();
	d = (unsigned char *)slurp(&len);
	memcpy(d, "GIT!", 4);
	reseal(d, len);
	spit(d, len);
	assert_corrupt("bad signature (not an ama index)");
	memcpy(d, "AMAI", 4);
	d[4] = 9;
	reseal(d, len);
	spit(d, len);
	assert_corrupt("unsupported version 9");
	free(d);
}

Test(index, a_wrong_count_is_corrupt)
{
	size_t len;
	unsigned char *d;

	write_abc();
	d = (unsigned char *)slurp(&len);
	d[8] = 2;
	reseal(d, len);
	spit(d, len);
	assert_corrupt("the header says 2 entries but there are more");
	d[8] = 4;
	reseal(d, len);
	spit(d, len);
	assert_corrupt("the header says 4 entries, more than the file can "
		       "hold");
	free(d);
}

Test(index, a_wrong_path_byte_count_is_corrupt)
{
	size_t len;
	unsigned char *d;

	write_abc();
	d = (unsigned char *)slurp(&len);
	d[16]++;
	reseal(d, len);
	spit(d, len);
	assert_corrupt("the header's path byte count is wrong");
	d[16] -= 2;
	d[8 + 4] = 1;	/* header flags */
	reseal(d, len);
	spit(d, len);
	assert_corrupt("unknown header flags 0x1");
	free(d);
}

Test(index, a_count_above_the_entries_is_corrupt)
{
	static const char *const paths[] = {
		"a-long-folder-name/with-a-long-file-name.1",
		"b-long-folder-name/with-a-long-file-name.2",
		"c-long-folder-name/with-a-long-file-name.3",
	};
	size_t len;
	unsigned char *d;

	/* long paths, so that a fourth entry could fit in the size */
	write_index(paths, 3);
	d = (unsigned char *)slurp(&len);
	d[8] = 4;
	reseal(d, len);
	spit(d, len);
	assert_corrupt("the header says 4 entries but there are 3");
	free(d);
}

/*
 * Forge an index from paths written whole (no shared prefix), with a state
 * and flags, to make what the writer never would.
 */
static void forge(const char *const *paths, size_t n, uint8_t state,
		  uint8_t flags)
{
	struct ama_buf b = AMA_BUF_INIT;
	uint64_t pathbytes = 0;
	uint32_t v;
	size_t i;

	ama_buf_add(&b, "AMAI", 4);
	v = 1;
	ama_buf_add(&b, &v, 4);
	v = (uint32_t)n;
	ama_buf_add(&b, &v, 4);
	v = 0;
	ama_buf_add(&b, &v, 4);
	for (i = 0; i < n; i++)
		pathbytes += strlen(paths[i]);
	ama_buf_add(&b, &pathbytes, 8);
	for (i = 0; i < n; i++) {
		unsigned char fixed[66];
		size_t len = strlen(paths[i]);

		memset(fixed, 0, sizeof(fixed));
		fixed[64] = state;
		fixed[65] = flags;
		ama_buf_add(&b, fixed, sizeof(fixed));
		ama_buf_addch(&b, 0);		/* shared */
		ama_buf_addch(&b, (int)len);	/* suffix, < 128 here */
		ama_buf_add(&b, paths[i], len);
	}
	ama_buf_grow(&b, 32);
	b.len += 32;
	reseal((unsigned char *)b.s, b.len);
	spit(b.s, b.len);
	ama_buf_release(&b);
}

Test(index, a_forged_file_in_order_loads)
{
	static const char *const ok[] = { "a", "a/b", "b" };
	struct ama_index *idx;

	forge(ok, 3, AMA_STATE_STAGED, AMA_ENTRY_RACY);
	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	cr_assert_eq(ama_index_count(idx), 3);
	cr_assert_eq(ama_index_find(idx, "a/b", 3)->state, AMA_STATE_STAGED);
	ama_index_free(idx);
}

Test(index, unsorted_entries_are_corrupt)
{
	static const char *const unsorted[] = { "a", "c", "b" };
	static const char *const dup[] = { "a", "b", "b" };
	static const char *const prefix[] = { "ab", "a" };

	forge(unsorted, 3, 0, 0);
	assert_corrupt("entry 3 is out of order (or a duplicate): b");
	forge(dup, 3, 0, 0);
	assert_corrupt("entry 3 is out of order (or a duplicate): b");
	forge(prefix, 2, 0, 0);
	assert_corrupt("entry 2 is out of order (or a duplicate): a");
}

Test(index, unclean_paths_are_corrupt)
{
	static const char *const up[] = { "../x" };
	static const char *const abs[] = { "/etc/passwd" };
	static const char *const dot[] = { "a/./b" };
	static const char *const slash[] = { "a//b" };
	static const char *const ama[] = { ".ama/index" };
	static const char *const quoted[] = { "a/../\n" };

	forge(up, 1, 0, 0);
	assert_corrupt("entry 1 has a bad path: ../x");
	forge(abs, 1, 0, 0);
	assert_corrupt("entry 1 has a bad path: /etc/passwd");
	forge(dot, 1, 0, 0);
	assert_corrupt("entry 1 has a bad path: a/./b");
	forge(slash, 1, 0, 0);
	assert_corrupt("entry 1 has a bad path: a//b");
	forge(ama, 1, 0, 0);
	assert_corrupt("entry 1 has a bad path: .ama/index");
	forge(quoted, 1, 0, 0);
	assert_corrupt("entry 1 has a bad path: \"a/../\\n\"");
}

Test(index, unknown_states_and_flags_are_corrupt)
{
	static const char *const one[] = { "a" };

	forge(one, 1, 4, 0);
	assert_corrupt("entry 1 has an unknown state 4");
	/* 0x01 (racy) and 0x02 (not checked out) are known */
	forge(one, 1, 0, 0x04);
	assert_corrupt("entry 1 has unknown flags 0x04");
}

Test(index, a_bad_path_length_is_corrupt)
{
	static const char *const two[] = { "ab", "ac" };
	size_t len;
	unsigned char *d;

	forge(two, 2, 0, 0);
	d = (unsigned char *)slurp(&len);
	/* second entry claims 5 shared bytes of a 2-byte previous path */
	d[24 + 66 + 2 + 2 + 66] = 5;
	reseal(d, len);
	spit(d, len);
	assert_corrupt("entry 2 has a bad path length");
	free(d);
}

/* --- locks --- */

Test(index, a_second_writer_is_locked_out_and_nothing_changes)
{
	struct ama_index *a, *b = (void *)1;
	char *before, *after;
	size_t lb, la;
	char want[256];

	write_abc();
	before = slurp(&lb);
	cr_assert_eq(ama_index_lock_and_load(&a, ipath), 0);
	cr_assert(ama_index_is_locked(a));
	cr_assert_eq(ama_index_lock_and_load(&b, ipath), AMA_ELOCKED);
	cr_assert_null(b);
	snprintf(want, sizeof(want), "%s.lock", ipath);
	cr_assert_str_eq(ama_error_path(), want);
	cr_assert_str_eq(ama_error_msg(), "locked: another ama process is "
			 "writing it; try again when it has finished");
	/* readers are not held up */
	cr_assert_eq(ama_index_load(&b, ipath), 0);
	ama_index_free(b);
	cr_assert_eq(ama_index_remove(a, "a", 1), 0);
	ama_index_rollback(a);
	cr_assert(!ama_index_is_locked(a));
	ama_index_free(a);
	after = slurp(&la);
	cr_assert_eq(la, lb);
	cr_assert(!memcmp(before, after, la));
	cr_assert_neq(access(want, F_OK), 0);
	free(before);
	free(after);
}

static char told[256];

static void note_takeover(const char *lock_path)
{
	snprintf(told, sizeof(told), "%s", lock_path);
}

Test(index, a_stale_lock_is_taken_over_and_told)
{
	struct ama_index *idx;
	char lock[160];
	int fd;

	write_abc();
	snprintf(lock, sizeof(lock), "%s.lock", ipath);
	fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert(fd >= 0);
	close(fd);
	told[0] = '\0';
	ama_lock_on_takeover(note_takeover);
	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(told, lock);
	cr_assert_eq(ama_index_count(idx), 3);
	ama_index_free(idx);
	cr_assert_neq(access(lock, F_OK), 0);
	ama_lock_on_takeover(NULL);
}

Test(index, a_corrupt_index_releases_the_lock)
{
	struct ama_index *idx;
	char lock[160];

	spit("garbage that is long enough to have a header and a sum", 55);
	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), AMA_ECORRUPT);
	snprintf(lock, sizeof(lock), "%s.lock", ipath);
	cr_assert_neq(access(lock, F_OK), 0);
}

/* --- changes --- */

Test(index, add_replace_remove_and_find_before_a_merge)
{
	struct ama_index *idx;
	struct ama_index_entry e = entry("b", 1), *got;
	size_t n;

	write_abc();
	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	ama_index_add(idx, &e);			/* new, in the tail */
	got = ama_index_find(idx, "b", 1);
	cr_assert_not_null(got);
	cr_assert_eq(got->st.size, 1001);
	e = entry("a", 7);			/* replaces a loaded one */
	ama_index_add(idx, &e);
	cr_assert_eq(ama_index_find(idx, "a", 1)->st.size, 1007);
	cr_assert_eq(ama_index_remove(idx, "b/c", 3), 0);
	cr_assert_null(ama_index_find(idx, "b/c", 3));
	cr_assert_eq(ama_index_remove(idx, "b/c", 3), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "not in the index");
	cr_assert_eq(ama_index_remove(idx, "b", 1), 0);	/* from the tail */
	cr_assert_null(ama_index_find(idx, "b", 1));
	e = entry("b/c", 9);			/* back again */
	ama_index_add(idx, &e);
	cr_assert_eq(ama_index_find(idx, "b/c", 3)->st.size, 1009);
	ama_index_entries(idx, &n);
	cr_assert_eq(n, 3);
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	cr_assert_eq(ama_index_count(idx), 3);
	cr_assert_eq(ama_index_find(idx, "a", 1)->st.size, 1007);
	cr_assert_eq(ama_index_find(idx, "b/c", 3)->st.size, 1009);
	cr_assert_null(ama_index_find(idx, "b", 1));
	ama_index_free(idx);
}

Test(index, in_order_and_out_of_order_additions_mix)
{
	static const char *const order[] = { "b", "d", "a", "e", "c" };
	static const char *const sorted[] = { "a", "b", "c", "d", "e" };
	struct ama_index *idx;
	struct ama_index_entry *e;
	size_t n, i;

	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	for (i = 0; i < 5; i++) {
		struct ama_index_entry x = entry(order[i], (unsigned)i);

		ama_index_add(idx, &x);
		cr_assert_not_null(ama_index_find(idx, order[i], 1));
	}
	for (i = 0; i < 5; i++) {
		struct ama_index_entry x = entry(order[i], 10 + (unsigned)i);

		cr_assert_eq(ama_index_find(idx, order[i], 1)->st.size,
			     1000 + i);
		ama_index_add(idx, &x);	/* replaces, wherever it is */
	}
	e = ama_index_entries(idx, &n);
	cr_assert_eq(n, 5);
	for (i = 0; i < 5; i++)
		cr_assert_str_eq(e[i].path, sorted[i]);
	cr_assert_eq(ama_index_find(idx, "e", 1)->st.size, 1013);
	ama_index_free(idx);
}

Test(index, select_takes_a_file_or_a_folder)
{
	static const char *const paths[] = {
		"d", "d.txt", "d/a", "d/b/c", "d0", "e/d/x",
	};
	struct ama_index *idx;
	unsigned char sel[6];

	write_index(paths, 6);
	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	memset(sel, 0, sizeof(sel));
	cr_assert_eq(ama_index_select(idx, "d", 1, sel), 3);
	cr_assert(!memcmp(sel, "\1\0\1\1\0\0", 6));
	memset(sel, 0, sizeof(sel));
	cr_assert_eq(ama_index_select(idx, "d/b", 3, sel), 1);
	cr_assert(!memcmp(sel, "\0\0\0\1\0\0", 6));
	memset(sel, 0, sizeof(sel));
	cr_assert_eq(ama_index_select(idx, "e/d/x", 5, sel), 1);
	cr_assert_eq(ama_index_select(idx, "e/d/x/y", 7, sel), 1 - 1);
	cr_assert_eq(ama_index_select(idx, "", 0, sel), 6);
	cr_assert_eq(ama_index_select(idx, "nosuch", 6, sel), 0);
	ama_index_free(idx);
}

/* xorshift: a fixed shuffle */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(index, many_changes_in_random_order_stay_sorted_and_fast)
{
	enum { N = 200000 };
	struct ama_index *idx;
	struct ama_index_entry *e;
	char (*names)[32] = malloc(sizeof(*names) * N);
	size_t *order = malloc(sizeof(*order) * N), n, i;
	uint64_t seed = 88172645463325252ull;

	for (i = 0; i < N; i++) {
		snprintf(names[i], 32, "dir%04zu/file%06zu.bin", i / 1000, i);
		order[i] = i;
	}
	for (i = N - 1; i > 0; i--) {
		size_t j = rnd(&seed) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	for (i = 0; i < N; i++) {
		struct ama_index_entry x = entry(names[order[i]],
						 (unsigned)order[i]);

		/* a lookup between additions must not force a merge */
		cr_assert_null(ama_index_find(idx, x.path, x.path_len));
		ama_index_add(idx, &x);
	}
	for (i = 0; i < N; i += 2)
		cr_assert_eq(ama_index_remove(idx, names[i],
					      strlen(names[i])), 0);
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);

	cr_assert_eq(ama_index_lock_and_load(&idx, ipath), 0);
	e = ama_index_entries(idx, &n);
	cr_assert_eq(n, N / 2);
	for (i = 0; i < n; i++) {
		struct ama_index_entry want = entry(names[2 * i + 1],
						    (unsigned)(2 * i + 1));

		assert_same(&e[i], &want);
	}
	/* replace every loaded entry, add back the removed ones */
	for (i = 0; i < N; i++) {
		struct ama_index_entry x = entry(names[order[i]], 5);

		ama_index_add(idx, &x);
	}
	e = ama_index_entries(idx, &n);
	cr_assert_eq(n, N);
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(e[i].path, names[i]);
		cr_assert_eq(e[i].st.size, 1005);
	}
	ama_index_free(idx);
	free(names);
	free(order);
}

/* --- states and racy entries --- */

Test(state, names_round_trip)
{
	enum ama_state s;
	int i;

	for (i = 0; i < AMA_STATE_COUNT; i++) {
		cr_assert_eq(ama_state_parse(&s, ama_state_name(i)), 0);
		cr_assert_eq((int)s, i);
	}
	cr_assert_str_eq(ama_state_name(AMA_STATE_STAGING), "staging");
	cr_assert_eq(ama_state_parse(&s, "Pending"), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "unknown state 'Pending' (want "
			 "pending, staging, staged or committed)");
}

Test(index, racy_entries_are_flagged_or_not_older_than_the_index)
{
	static const char *const paths[] = { "a" };
	struct ama_index *idx;
	struct ama_index_entry *e;
	int64_t t;

	write_index(paths, 1);
	cr_assert_eq(ama_index_load(&idx, ipath), 0);
	t = ama_index_mtime_ns(idx);
	e = ama_index_find(idx, "a", 1);
	e->flags = 0;
	e->st.mtime_ns = t - 1;
	cr_assert(!ama_index_entry_is_racy(idx, e));
	e->st.mtime_ns = t;
	cr_assert(ama_index_entry_is_racy(idx, e));
	e->st.mtime_ns = t - 1;
	e->flags = AMA_ENTRY_RACY;
	cr_assert(ama_index_entry_is_racy(idx, e));
	ama_index_free(idx);
}

Test(state, racy_since_compares_mtime_with_the_start)
{
	struct ama_stat st = { .mtime_ns = 1000 };
	int64_t a = ama_clock_coarse_ns(), b = ama_clock_coarse_ns();

	cr_assert_geq(b, a);
	cr_assert_gt(a, 1600000000000000000);
	cr_assert(ama_racy_since(&st, 1000));
	cr_assert(ama_racy_since(&st, 999));
	cr_assert(!ama_racy_since(&st, 1001));
}
