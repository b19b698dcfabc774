/* t/unit/md5.c: MD5 of buffers and files, its hex and base64 forms. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "md5.h"
#include "stat.h"
#include "tmpdir.h"
#include "uring.h"


TestSuite(md5_file, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* dir/name, in a static buffer */
static const char *at(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "cannot create %s", path);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	cr_assert_eq(close(fd), 0);
}

static void hex_of(char *out, const struct ama_md5 *m)
{
	ama_md5_to_hex(out, m);
}

static void assert_buffer_md5(const void *data, size_t n, const char *want)
{
	struct ama_md5 m;
	char hex[AMA_MD5_HEXLEN + 1];

	ama_md5_buffer(&m, data, n);
	hex_of(hex, &m);
	cr_assert_str_eq(hex, want);
}

Test(md5, known_vectors)
{
	char *a = malloc(1000000);

	assert_buffer_md5("", 0, "d41d8cd98f00b204e9800998ecf8427e");
	assert_buffer_md5("abc", 3, "900150983cd24fb0d6963f7d28e17f72");
	assert_buffer_md5("message digest", 14,
			  "f96b697d7cb7938d525a2f31aaf161d0");
	memset(a, 'a', 1000000);
	assert_buffer_md5(a, 1000000, "7707d6ae4e027c70eea2a935c2296f21");
	free(a);
}

/* 3 MiB and 5 bytes: more than three reads of lib/md5.c's 1 MiB buffer */
#define BIG (3 * 1024 * 1024 + 5)
#define BIG_MD5 "8131644561e1932811342e46e311dbfb"

static unsigned char *big_buffer(void)
{
	unsigned char *b = malloc(BIG);
	size_t i;

	for (i = 0; i < BIG; i++)
		b[i] = (unsigned char)((i * 31 + 7) >> 3);
	return b;
}

Test(md5, a_buffer_larger_than_the_read_size)
{
	unsigned char *b = big_buffer();

	assert_buffer_md5(b, BIG, BIG_MD5);
	free(b);
}

Test(md5, incremental_updates_give_the_same_digest)
{
	unsigned char *b = big_buffer();
	struct ama_hasher h;
	struct ama_md5 m;
	char hex[AMA_MD5_HEXLEN + 1];
	size_t off = 0, step = 1;

	ama_hasher_init(&h);
	ama_hasher_start(&h);
	while (off < BIG) {
		size_t n = BIG - off < step ? BIG - off : step;

		ama_hasher_update(&h, b + off, n);
		off += n;
		step = step * 3 + 1;
	}
	ama_hasher_finish(&h, &m);
	hex_of(hex, &m);
	cr_assert_str_eq(hex, BIG_MD5);
	/* the context is reusable */
	ama_hasher_start(&h);
	ama_hasher_update(&h, "abc", 3);
	ama_hasher_finish(&h, &m);
	hex_of(hex, &m);
	cr_assert_str_eq(hex, "900150983cd24fb0d6963f7d28e17f72");
	ama_hasher_release(&h);
	free(b);
}

Test(md5, hex_round_trip)
{
	struct ama_md5 m, back;
	char hex[AMA_MD5_HEXLEN + 1];
	int i;

	for (i = 0; i < 16; i++)
		m.d[i] = (unsigned char)(i * 17);
	ama_md5_to_hex(hex, &m);
	cr_assert_str_eq(hex, "00112233445566778899aabbccddeeff");
	cr_assert_eq(ama_md5_from_hex(&back, hex), 0);
	cr_assert(ama_md5_equal(&m, &back));
	back.d[15] ^= 1;
	cr_assert_not(ama_md5_equal(&m, &back));
}

Test(md5, from_hex_rejects_bad_input)
{
	static const char *bad[] = {
		"",
		"d41d8cd98f00b204e9800998ecf8427",	/* 31 digits */
		"d41d8cd98f00b204e9800998ecf8427e0",	/* 33 digits */
		"D41D8CD98F00B204E9800998ECF8427E",	/* upper case */
		"d41d8cd98f00b204e9800998ecf8427g",
		"d41d8cd98f00b204e9800998ecf8427 ",
		" d41d8cd98f00b204e9800998ecf8427",
		"d41d8cd98f00b204-9800998ecf8427e",
	};
	struct ama_md5 m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ama_error_clear();
		cr_assert_eq(ama_md5_from_hex(&m, bad[i]), AMA_EINVAL,
			     "accepted '%s'", bad[i]);
		cr_assert_str_eq(ama_error_msg(),
				 "not an MD5 (32 lowercase hex digits)");
	}
}

Test(md5, base64_is_content_md5_and_round_trips)
{
	struct ama_md5 m, back;
	char b64[25];
	unsigned char raw[18];

	ama_md5_buffer(&m, "abc", 3);
	ama_md5_to_base64(b64, &m);
	cr_assert_str_eq(b64, "kAFQmDzST7DWlj99KOF/cg==");
	ama_md5_buffer(&m, "", 0);
	ama_md5_to_base64(b64, &m);
	cr_assert_str_eq(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
	/* decodes to 18 bytes: the 16 of the digest and 2 of padding */
	cr_assert_eq(EVP_DecodeBlock(raw, (unsigned char *)b64, 24), 18);
	memcpy(back.d, raw, 16);
	cr_assert(ama_md5_equal(&m, &back));
}

Test(md5_file, a_regular_file_and_its_stat_record)
{
	unsigned char *b = big_buffer();
	struct ama_hasher h;
	struct ama_md5 m;
	struct ama_stat st, now;
	char hex[AMA_MD5_HEXLEN + 1];
	char path[256];

	snprintf(path, sizeof(path), "%s", at("big"));
	write_file(path, b, BIG);
	ama_hasher_init(&h);
	cr_assert_eq(ama_md5_file(&h, &m, &st, path), 0);
	hex_of(hex, &m);
	cr_assert_str_eq(hex, BIG_MD5);
	cr_assert_eq(ama_stat_path(&now, path), 0);
	cr_assert(ama_stat_equal(&st, &now));
	cr_assert_eq(st.size, BIG);
	/* an empty file */
	snprintf(path, sizeof(path), "%s", at("empty"));
	write_file(path, "", 0);
	cr_assert_eq(ama_md5_file(&h, &m, &st, path), 0);
	hex_of(hex, &m);
	cr_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
	cr_assert_eq(st.size, 0);
	ama_hasher_release(&h);
	free(b);
}

/* hash path, expecting failure code with message msg about path */
static void assert_fails(const char *path, int code, const char *msg)
{
	struct ama_hasher h;
	struct ama_md5 m;
	struct ama_stat st;

	ama_hasher_init(&h);
	ama_error_clear();
	cr_assert_eq(ama_md5_file(&h, &m, &st, path), code);
	cr_assert_str_eq(ama_error_msg(), msg);
	cr_assert_str_eq(ama_error_path(), path);
	ama_hasher_release(&h);
}

Test(md5_file, a_missing_path_is_not_found)
{
	char path[256];

	snprintf(path, sizeof(path), "%s", at("nosuch"));
	assert_fails(path, AMA_ENOTFOUND, "no such file");
	snprintf(path, sizeof(path), "%s", at("nosuch/below"));
	assert_fails(path, AMA_ENOTFOUND, "no such file");
}

Test(md5_file, a_folder_is_not_a_regular_file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s", at("sub"));
	cr_assert_eq(mkdir(path, 0755), 0);
	assert_fails(path, AMA_ENOTREG, "not a regular file: directory");
}

Test(md5_file, a_symlink_is_hashed_as_its_target_never_followed)
{
	struct ama_hasher h;
	struct ama_md5 m, want;
	struct ama_stat st;
	char path[256];

	write_file(at("target"), "x", 1);
	snprintf(path, sizeof(path), "%s", at("link"));
	cr_assert_eq(symlink("target", path), 0);
	ama_hasher_init(&h);
	cr_assert_eq(ama_md5_file(&h, &m, &st, path), 0);
	ama_hasher_release(&h);
	ama_md5_buffer(&want, "target", 6);
	cr_assert(ama_md5_equal(&m, &want));
	cr_assert_eq(st.size, 6);
	cr_assert(S_ISLNK(st.mode));
}

/* the suite's timeout fails the test if this blocks */
Test(md5_file, a_fifo_is_refused_without_blocking)
{
	char path[256];

	snprintf(path, sizeof(path), "%s", at("fifo"));
	cr_assert_eq(mkfifo(path, 0644), 0);
	assert_fails(path, AMA_ENOTREG, "not a regular file: FIFO");
}

struct appender {
	const char *path;
	atomic_int stop;
	atomic_int appends;
};

/* append a byte every millisecond until told to stop (at most 20 s) */
static void *append_loop(void *arg)
{
	struct appender *a = arg;
	struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 20000 && !atomic_load(&a->stop); i++) {
		int fd = open(a->path, O_WRONLY | O_APPEND);

		if (fd < 0 || write(fd, "x", 1) != 1)
			abort();
		close(fd);
		atomic_fetch_add(&a->appends, 1);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/*
 * A sparse 64 MiB file takes tens of milliseconds to hash, while a
 * thread appends to it every millisecond. Should that thread get no CPU
 * during a whole run, the hash succeeds; that is retried, not excused.
 */
Test(md5_file, a_file_growing_while_hashed_has_changed)
{
	struct appender a = { .path = NULL };
	struct ama_hasher h;
	struct ama_md5 m;
	struct ama_stat st;
	pthread_t t;
	char path[256];
	int fd, rc = 0, attempt;

	snprintf(path, sizeof(path), "%s", at("growing"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 64 << 20), 0);
	close(fd);
	a.path = path;
	cr_assert_eq(pthread_create(&t, NULL, append_loop, &a), 0);
	while (atomic_load(&a.appends) == 0)
		sched_yield();
	ama_hasher_init(&h);
	for (attempt = 0; attempt < 5; attempt++) {
		ama_error_clear();
		rc = ama_md5_file(&h, &m, &st, path);
		if (rc != 0)
			break;
	}
	atomic_store(&a.stop, 1);
	pthread_join(t, NULL);
	cr_assert_eq(rc, AMA_ECHANGED);
	cr_assert_str_eq(ama_error_msg(), "changed while hashing");
	cr_assert_str_eq(ama_error_path(), path);
	ama_hasher_release(&h);
}

TestSuite(md5_batch, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* a ring, or the test is skipped where there is none (said why) */
static struct ama_uring *ring_or_skip(void)
{
	struct ama_uring *u = NULL;

	unsetenv("AMA_NO_IO_URING");
	if (ama_uring_new(&u) < 0)
		cr_skip_test("no io_uring: %s", ama_error_msg());
	return u;
}

/* size bytes depending on seed at path */
static void pattern_file(const char *path, size_t size, int seed)
{
	unsigned char *b = malloc(size + 1);
	size_t i;

	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(i * 13 + (size_t)seed * 7 + (i >> 9));
	write_file(path, b, size);
	free(b);
}

/*
 * The small regular files of a batch are done, with the digest and stat
 * record ama_md5_file() gives them; everything else is left to it.
 */
Test(md5_batch, small_files_are_done_the_rest_left_over)
{
	static const struct {
		const char *name;
		long size;	/* -1: not a regular file or not there */
		int done;
	} f[] = {
		{ "s1", 4096, 1 }, { "empty", 0, 1 }, { "s2", 1, 1 },
		{ "edge", AMA_MD5_BATCH_FILE_MAX, 1 },
		{ "over", AMA_MD5_BATCH_FILE_MAX + 1, 0 },
		{ "big", 3 << 20, 0 }, { "nosuch", -1, 0 }, { "dir", -1, 0 },
		{ "link", -1, 0 }, { "fifo", -1, 0 }, { "s3", 5000, 1 },
	};
	enum { N = sizeof(f) / sizeof(f[0]) };
	struct ama_uring *u = ring_or_skip();
	struct ama_hasher h;
	struct ama_md5 out[N], want;
	struct ama_stat st[N], wst;
	unsigned char done[N];
	char p[N][256];
	const char *paths[N];
	size_t i, n = 0;

	for (i = 0; i < N; i++) {
		snprintf(p[i], sizeof(p[i]), "%s", at(f[i].name));
		paths[i] = p[i];
		if (f[i].size >= 0)
			pattern_file(p[i], (size_t)f[i].size, (int)i);
	}
	cr_assert_eq(mkdir(at("dir"), 0755), 0);
	cr_assert_eq(symlink("s1", at("link")), 0);
	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	ama_hasher_init(&h);
	n = ama_md5_batch(&h, u, N, paths, out, st, done);
	for (i = 0; i < N; i++)
		cr_assert_eq(done[i], f[i].done, "%s", f[i].name);
	cr_assert_eq(n, 5);
	n = 0;
	for (i = 0; i < N; i++) {
		cr_assert_eq(done[i], f[i].done, "%s", f[i].name);
		if (!done[i])
			continue;
		n++;
		cr_assert_eq(ama_md5_file(&h, &want, &wst, paths[i]), 0);
		cr_assert(ama_md5_equal(&out[i], &want), "%s", f[i].name);
		cr_assert(ama_stat_equal(&st[i], &wst), "%s", f[i].name);
		cr_assert_eq(st[i].size, (uint64_t)f[i].size);
	}
	cr_assert_eq(n, 5);
	ama_hasher_release(&h);
	ama_uring_free(u);
}

/* 64 files of 60 KiB fill the 1 MiB read buffer four times over */
Test(md5_batch, a_batch_larger_than_the_buffer_is_read_in_rounds)
{
	struct ama_uring *u = ring_or_skip();
	struct ama_hasher h;
	struct ama_md5 out[AMA_URING_BATCH], want;
	struct ama_stat st[AMA_URING_BATCH], wst;
	unsigned char done[AMA_URING_BATCH];
	char p[AMA_URING_BATCH][256];
	const char *paths[AMA_URING_BATCH];
	uint64_t bytes = 0, total = 0;
	_Atomic uint64_t counter = 0;
	int i;

	for (i = 0; i < AMA_URING_BATCH; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%02d", i);
		snprintf(p[i], sizeof(p[i]), "%s", at(name));
		paths[i] = p[i];
		pattern_file(p[i], 60 * 1024 + (size_t)i, i);
		total += 60 * 1024 + (uint64_t)i;
	}
	ama_hasher_init(&h);
	h.read_bytes = &counter;
	cr_assert_eq(ama_md5_batch(&h, u, AMA_URING_BATCH, paths, out, st,
				   done), AMA_URING_BATCH);
	bytes = atomic_load(&counter);
	cr_assert_eq(bytes, total, "the bytes read are counted");
	h.read_bytes = NULL;
	for (i = 0; i < AMA_URING_BATCH; i++) {
		cr_assert(done[i]);
		cr_assert_eq(ama_md5_file(&h, &want, &wst, paths[i]), 0);
		cr_assert(ama_md5_equal(&out[i], &want), "%s", paths[i]);
		cr_assert(ama_stat_equal(&st[i], &wst));
	}
	ama_hasher_release(&h);
	ama_uring_free(u);
}

/* append one byte of a pattern every 100 microseconds */
static void *append_loop_fast(void *arg)
{
	struct appender *a = arg;
	struct timespec t = { 0, 100000 };
	int fd = open(a->path, O_WRONLY | O_APPEND);

	if (fd < 0)
		abort();
	while (!atomic_load(&a->stop)) {
		char c = (char)('a' + atomic_load(&a->appends) % 26);

		if (write(fd, &c, 1) != 1)
			abort();
		atomic_fetch_add(&a->appends, 1);
		nanosleep(&t, NULL);
	}
	close(fd);
	return NULL;
}

/*
 * A file that grows while batches read it: each digest given is that of
 * the file's first st.size bytes (appends keep what was there), and the
 * batches that catch an append between their two stats leave the file
 * over, for ama_md5_file() to name.
 */
Test(md5_batch, a_file_growing_while_read_is_left_over)
{
	struct ama_uring *u = ring_or_skip();
	struct appender a = { .path = NULL };
	struct ama_hasher h;
	struct ama_md5 out, want;
	struct ama_stat st;
	unsigned char done, *whole;
	char path[256];
	const char *paths[1];
	struct stat sb;
	pthread_t t;
	int i, fd, given = 0, left = 0;
	struct { uint64_t size; struct ama_md5 md5; } *seen;

	seen = calloc(100000, sizeof(*seen));
	snprintf(path, sizeof(path), "%s", at("growing"));
	pattern_file(path, 3000, 1);
	paths[0] = path;
	a.path = path;
	ama_hasher_init(&h);
	cr_assert_eq(pthread_create(&t, NULL, append_loop_fast, &a), 0);
	while (atomic_load(&a.appends) == 0)
		sched_yield();
	for (i = 0; i < 1000 || (!left && i < 100000); i++) {
		if (!ama_md5_batch(&h, u, 1, paths, &out, &st, &done)) {
			cr_assert_eq(done, 0);
			left++;
			continue;
		}
		seen[given].size = st.size;
		seen[given].md5 = out;
		given++;
	}
	atomic_store(&a.stop, 1);
	pthread_join(t, NULL);
	/* what was given is the digest of a prefix of the final file */
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(fstat(fd, &sb), 0);
	whole = malloc((size_t)sb.st_size);
	cr_assert_eq(read(fd, whole, (size_t)sb.st_size), sb.st_size);
	close(fd);
	for (i = 0; i < given; i++) {
		cr_assert(seen[i].size <= (uint64_t)sb.st_size);
		ama_md5_buffer(&want, whole, (size_t)seen[i].size);
		cr_assert(ama_md5_equal(&seen[i].md5, &want),
			  "the digest given for %llu bytes is not theirs",
			  (unsigned long long)seen[i].size);
	}
	cr_assert(left > 0, "no batch saw a change (%d given)", given);
	cr_assert(given > 0, "no batch gave a digest (%d left)", left);
	free(whole);
	free(seen);
	ama_hasher_release(&h);
	ama_uring_free(u);
}
