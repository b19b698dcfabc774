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

Test(md5_file, a_symlink_is_not_followed)
{
	char path[256];

	write_file(at("target"), "x", 1);
	snprintf(path, sizeof(path), "%s", at("link"));
	cr_assert_eq(symlink("target", path), 0);
	assert_fails(path, AMA_ENOTREG, "not a regular file: symbolic link");
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
