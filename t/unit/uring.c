/* t/unit/uring.c: batches of openat, read and close on an io_uring. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "uring.h"
#include "tmpdir.h"


TestSuite(uring, .init = make_dir, .fini = remove_dir, .timeout = 60);

static const char *at(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "cannot create %s", path);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	cr_assert_eq(close(fd), 0);
}

/*
 * A ring, or the test is skipped where the kernel refuses io_uring (the
 * reason is said); built without liburing, the ring must be refused.
 */
static struct ama_uring *ring_or_skip(void)
{
	struct ama_uring *u = NULL;
	int rc;

	unsetenv("AMA_NO_IO_URING");
	rc = ama_uring_new(&u);
#ifdef HAVE_LIBURING
	if (rc < 0)
		cr_skip_test("this kernel refuses io_uring: %s",
			     ama_error_msg());
	cr_assert_not_null(u);
#else
	cr_assert_eq(rc, AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "built without io_uring (liburing)");
	cr_skip_test("built without liburing");
#endif
	return u;
}

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

Test(uring, a_batch_opens_reads_and_closes_files)
{
	struct ama_uring *u = ring_or_skip();
	char p[3][256], b[3][64];
	const char *paths[3];
	void *buf[3];
	size_t len[3];
	int fd[3], i;
	long got[3];

	write_file(at("a"), "hello", 5);
	write_file(at("b"), "", 0);
	for (i = 0; i < 3; i++) {
		snprintf(p[i], sizeof(p[i]), "%s", at(i == 0 ? "a" : i == 1 ?
						      "b" : "nosuch"));
		paths[i] = p[i];
		buf[i] = b[i];
		len[i] = sizeof(b[i]);
	}
	cr_assert_eq(ama_uring_open(u, 3, AT_FDCWD, paths,
				    O_RDONLY | O_CLOEXEC, fd), 0);
	cr_assert(fd[0] >= 0 && fd[1] >= 0);
	cr_assert_eq(fd[2], -ENOENT);
	cr_assert_eq(ama_uring_read(u, 3, fd, buf, len, got), 0);
	cr_assert_eq(got[0], 5);
	cr_assert(!memcmp(b[0], "hello", 5));
	cr_assert_eq(got[1], 0);
	cr_assert_eq(got[2], -EBADF);
	ama_uring_close(u, 3, fd);
	/* closed in the kernel before ama_uring_close() returns */
	cr_assert(!is_open(fd[0]) && !is_open(fd[1]));
	ama_uring_free(u);
}

Test(uring, a_read_of_a_part_reads_that_part)
{
	struct ama_uring *u = ring_or_skip();
	const char *paths[1];
	char path[256], b[4];
	void *buf[1] = { b };
	size_t len[1] = { sizeof(b) };
	int fd[1];
	long got[1];

	write_file(at("long"), "0123456789", 10);
	snprintf(path, sizeof(path), "%s", at("long"));
	paths[0] = path;
	cr_assert_eq(ama_uring_open(u, 1, AT_FDCWD, paths, O_RDONLY, fd), 0);
	cr_assert_eq(ama_uring_read(u, 1, fd, buf, len, got), 0);
	cr_assert_eq(got[0], 4);
	cr_assert(!memcmp(b, "0123", 4));
	ama_uring_close(u, 1, fd);
	ama_uring_free(u);
}

Test(uring, many_batches_leave_no_descriptor_open)
{
	struct ama_uring *u = ring_or_skip();
	char p[AMA_URING_BATCH][256], b[AMA_URING_BATCH][8];
	const char *paths[AMA_URING_BATCH];
	void *buf[AMA_URING_BATCH];
	size_t len[AMA_URING_BATCH];
	int fd[AMA_URING_BATCH], i, round, probe;
	long got[AMA_URING_BATCH];

	for (i = 0; i < AMA_URING_BATCH; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		write_file(at(name), name, strlen(name));
		snprintf(p[i], sizeof(p[i]), "%s", at(name));
		paths[i] = p[i];
		buf[i] = b[i];
		len[i] = sizeof(b[i]);
	}
	/* 200 batches of 64 would run out of descriptors (1024) if the
	 * closes were lost */
	for (round = 0; round < 200; round++) {
		cr_assert_eq(ama_uring_open(u, AMA_URING_BATCH, AT_FDCWD,
					    paths, O_RDONLY | O_CLOEXEC, fd), 0);
		cr_assert_eq(ama_uring_read(u, AMA_URING_BATCH, fd, buf, len,
					    got), 0);
		for (i = 0; i < AMA_URING_BATCH; i++) {
			cr_assert(fd[i] >= 0, "round %d: %s", round,
				  strerror(-fd[i]));
			cr_assert_eq(got[i], (long)strlen(strrchr(p[i], '/') + 1));
		}
		ama_uring_close(u, AMA_URING_BATCH, fd);
	}
	ama_uring_free(u);
	probe = open(at("f0"), O_RDONLY);
	cr_assert(probe >= 0 && probe < 16, "descriptor %d: some leaked", probe);
	close(probe);
}

Test(uring, AMA_NO_IO_URING_turns_it_off)
{
	struct ama_uring *u = NULL;

	setenv("AMA_NO_IO_URING", "1", 1);
	cr_assert(ama_uring_disabled());
	cr_assert_eq(ama_uring_new(&u), AMA_EIO);
	cr_assert_null(u);
	cr_assert_str_eq(ama_error_msg(),
			 "io_uring turned off by AMA_NO_IO_URING");
	/* "" and "0" leave it on */
	setenv("AMA_NO_IO_URING", "0", 1);
	cr_assert(!ama_uring_disabled());
	setenv("AMA_NO_IO_URING", "", 1);
	cr_assert(!ama_uring_disabled());
	unsetenv("AMA_NO_IO_URING");
	cr_assert(!ama_uring_disabled());
}
