/* t/unit/place.c: placing a file atomically by reflink, copy, read/write or hard link. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_IOCTL_H
#include <sys/ioctl.h>
#endif
#ifdef HAVE_LINUX_FS_H
#include <linux/fs.h>
#endif

#include "buf.h"
#include "error.h"
#include "lockfile.h"
#include "place.h"
#include "tmpdir.h"

static void setup(void)
{
	make_dir();
	cr_assert_eq(chdir(dir), 0);
	umask(022);
}

TestSuite(place, .init = setup, .fini = remove_dir, .timeout = 60);

static void put(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0, "cannot create %s", path);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* A file of n bytes that are not all alike (a pattern of primes). */
static char *pattern(size_t n)
{
	char *p = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(i * 7 + i / 4099);
	return p;
}

static void assert_file(const char *path, const char *data, size_t n)
{
	char *got = NULL;
	size_t len = 0;

	cr_assert_eq(ama_read_file(&got, &len, path), 0, "%s: %s", path,
		     ama_error_msg());
	cr_assert_eq(len, n, "%s: %zu bytes, not %zu", path, len, n);
	cr_assert(!memcmp(got, data, n), "%s: other bytes", path);
	free(got);
}

/* No temporary file is left in folder d. */
static void assert_no_leftovers(const char *d)
{
	DIR *dh = opendir(d);
	struct dirent *e;

	cr_assert_not_null(dh);
	while ((e = readdir(dh)) != NULL)
		cr_assert(strncmp(e->d_name, AMA_PLACE_TMP_PREFIX,
				  strlen(AMA_PLACE_TMP_PREFIX)),
			  "left behind: %s", e->d_name);
	closedir(dh);
}

/* The result's stat is the file's own, after the rename. */
static void assert_stat_is(const struct ama_place_result *r,
			   const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0);
	cr_assert_eq(r->st.st_ino, st.st_ino);
	cr_assert_eq(r->st.st_dev, st.st_dev);
	cr_assert_eq(r->st.st_size, st.st_size);
	cr_assert_eq(r->st.st_mode, st.st_mode);
	cr_assert_eq(r->st.st_mtim.tv_sec, st.st_mtim.tv_sec);
	cr_assert_eq(r->st.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	cr_assert_eq(r->st.st_ctim.tv_sec, st.st_ctim.tv_sec);
	cr_assert_eq(r->st.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
}

/* Does this folder's filesystem clone? (FICLONE between two files) */
static int can_reflink(void)
{
#ifdef FICLONE
	int a, b, ok;

	put("probe-a", "x", 1);
	a = open("probe-a", O_RDONLY);
	b = open("probe-b", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok = ioctl(b, FICLONE, a) == 0;
	close(a);
	close(b);
	unlink("probe-a");
	unlink("probe-b");
	return ok;
#else
	return 0;
#endif
}

/* Does the kernel refuse copy_file_range from in to a file here? */
static int copy_file_range_refused(int in)
{
#ifdef HAVE_COPY_FILE_RANGE
	int out = open("probe", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	loff_t ioff = 0, ooff = 0;
	ssize_t n;

	cr_assert_geq(out, 0);
	n = copy_file_range(in, &ioff, out, &ooff, 1, 0);
	close(out);
	unlink("probe");
	return n < 0;
#else
	(void)in;
	return 1;
#endif
}

Test(place, auto_places_the_same_bytes_and_says_how)
{
	size_t n = 3 * 1024 * 1024 + 17;
	char *data = pattern(n);
	struct ama_place_result r;

	put("src", data, n);
	cr_assert_eq(ama_place_file("dst", -1, "src", NULL, &r), 0, "%s",
		     ama_error_msg());
	assert_file("dst", data, n);
	cr_assert_eq(r.size, n);
	/* ext4 copies in the kernel; XFS or btrfs clone */
	cr_assert(r.how == (can_reflink() ? AMA_PLACE_REFLINK :
			    AMA_PLACE_COPY), "done by %s",
		  ama_place_how_name(r.how));
	assert_stat_is(&r, "dst");
	assert_no_leftovers(".");
	free(data);
}

Test(place, read_write_alone_copies_every_byte)
{
	size_t sizes[] = { 0, 1, 1024 * 1024, 1024 * 1024 + 1,
			   5 * 1024 * 1024 + 3 };
	struct ama_place_opts o = { AMA_PLACE_READ_WRITE, 0, 0 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *data = pattern(sizes[i]);
		struct ama_place_result r;

		put("src", data, sizes[i]);
		cr_assert_eq(ama_place_file("dst", -1, "src", &o, &r), 0);
		cr_assert_eq(r.how, AMA_PLACE_READ_WRITE);
		cr_assert_eq(r.size, sizes[i]);
		assert_file("dst", data, sizes[i]);
		assert_stat_is(&r, "dst");
		free(data);
	}
	assert_no_leftovers(".");
}

Test(place, copy_copies_and_falls_back_to_read_write_across_filesystems)
{
	size_t n = 2 * 1024 * 1024 + 5;
	char *data = pattern(n);
	struct ama_place_opts o = { AMA_PLACE_COPY, 0, 0 };
	struct ama_place_result r;
	char shm[] = "/dev/shm/ama-place-XXXXXX";
	struct stat a, b;
	int fd;

	put("src", data, n);
	cr_assert_eq(ama_place_file("dst", -1, "src", &o, &r), 0);
	cr_assert(r.how == AMA_PLACE_COPY || r.how == AMA_PLACE_READ_WRITE,
		  "done by %s", ama_place_how_name(r.how));
	assert_file("dst", data, n);
	/* from another filesystem: copy_file_range may refuse (EXDEV), and
	 * the bytes are read and written instead */
	fd = mkstemp(shm);
	if (fd < 0 || stat(shm, &a) < 0 || stat(".", &b) < 0 ||
	    a.st_dev == b.st_dev) {
		if (fd >= 0)
			unlink(shm);
		free(data);
		cr_skip_test("no /dev/shm on another filesystem");
	}
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	cr_assert_eq(ama_place_file("dst2", fd, NULL, &o, &r), 0, "%s",
		     ama_error_msg());
	assert_file("dst2", data, n);
	/* Linux 5.19 and later refuse this copy_file_range (EXDEV): then
	 * the bytes must have come by read and write */
	if (copy_file_range_refused(fd))
		cr_assert_eq(r.how, AMA_PLACE_READ_WRITE, "done by %s",
			     ama_place_how_name(r.how));
	else
		cr_assert_eq(r.how, AMA_PLACE_COPY, "done by %s",
			     ama_place_how_name(r.how));
	close(fd);
	unlink(shm);
	free(data);
}

Test(place, a_reflink_shares_the_blocks_where_the_filesystem_allows)
{
	struct ama_place_opts o = { AMA_PLACE_REFLINK, 0, 0 };
	struct ama_place_result r;

	if (!can_reflink()) {
		remove_dir();	/* a skipped test's .fini is not run */
		cr_skip_test("this filesystem refuses FICLONE");
	}
	put("src", "cloned bytes", 12);
	cr_assert_eq(ama_place_file("dst", -1, "src", &o, &r), 0);
	cr_assert_eq(r.how, AMA_PLACE_REFLINK);
	assert_file("dst", "cloned bytes", 12);
	/* a clone, not a link: writing one leaves the other */
	put("dst", "changed", 7);
	assert_file("src", "cloned bytes", 12);
}

Test(place, a_refused_reflink_is_a_setup_error_and_leaves_nothing)
{
	struct ama_place_opts o = { AMA_PLACE_REFLINK, 0, 0 };
	struct ama_buf want = AMA_BUF_INIT;

	if (can_reflink()) {
		remove_dir();	/* a skipped test's .fini is not run */
		cr_skip_test("this filesystem clones");
	}
	put("src", "bytes", 5);
	put("dst", "old", 3);
	cr_assert_eq(ama_place_file("dst", -1, "src", &o, NULL),
		     AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "dst");
	ama_buf_addstr(&want, "cannot reflink: ");
	ama_buf_addstr(&want, strerror(EOPNOTSUPP));
	cr_assert_str_eq(ama_error_msg(), want.s);
	assert_file("dst", "old", 3);
	assert_no_leftovers(".");
	ama_buf_release(&want);
}

Test(place, the_target_is_replaced_whole_and_the_old_inode_kept)
{
	struct ama_place_result r;

	put("src", "new contents", 12);
	put("dst", "old", 3);
	cr_assert_eq(link("dst", "other-name"), 0);
	cr_assert_eq(ama_place_file("dst", -1, "src", NULL, &r), 0);
	assert_file("dst", "new contents", 12);
	/* replaced by rename, never written in place */
	assert_file("other-name", "old", 3);
	assert_no_leftovers(".");
}

Test(place, in_a_subfolder_the_temporary_file_is_beside_the_target)
{
	struct ama_place_tmp t = AMA_PLACE_TMP_INIT;

	cr_assert_eq(mkdir("sub", 0755), 0);
	cr_assert_eq(ama_place_tmp_open(&t, "sub/dst", 0), 0);
	cr_assert_eq(strncmp(t.path, "sub/" AMA_PLACE_TMP_PREFIX,
			     strlen("sub/" AMA_PLACE_TMP_PREFIX)), 0,
		     "%s", t.path);
	cr_assert_eq(strlen(t.path), strlen("sub/" AMA_PLACE_TMP_PREFIX) + 6);
	ama_place_tmp_abort(&t);
	ama_place_tmp_abort(&t);
	assert_no_leftovers("sub");
}

Test(place, the_mode_is_the_default_or_exactly_the_one_asked)
{
	struct ama_place_opts o = { AMA_PLACE_AUTO, 0, 0 };
	struct ama_place_result r;
	struct stat st;

	put("src", "x", 1);
	cr_assert_eq(chmod("src", 0755), 0);
	umask(027);
	cr_assert_eq(ama_place_file("dst", -1, "src", &o, &r), 0);
	cr_assert_eq(stat("dst", &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	o.mode = 0444;
	cr_assert_eq(ama_place_file("dst", -1, "src", &o, &r), 0);
	cr_assert_eq(stat("dst", &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444, "mode %o", st.st_mode & 07777);
	cr_assert_eq(r.st.st_mode & 07777, 0444);
}

Test(place, noclobber_refuses_an_existing_target)
{
	struct ama_place_opts o = { AMA_PLACE_AUTO,
				    AMA_PLACE_NOCLOBBER | AMA_PLACE_FSYNC, 0 };
	struct ama_place_result r;

	put("src", "new", 3);
	cr_assert_eq(ama_place_file("fresh", -1, "src", &o, &r), 0);
	assert_file("fresh", "new", 3);
	assert_stat_is(&r, "fresh");
	put("dst", "old", 3);
	cr_assert_eq(ama_place_file("dst", -1, "src", &o, &r), AMA_EEXIST);
	cr_assert_str_eq(ama_error_path(), "dst");
	cr_assert_str_eq(ama_error_msg(), "exists already");
	assert_file("dst", "old", 3);
	assert_no_leftovers(".");
}

Test(place, a_descriptor_source_is_read_whole_and_its_offset_kept)
{
	struct ama_place_opts o = { AMA_PLACE_AUTO, 0, 0 };
	enum ama_place_how hows[] = { AMA_PLACE_AUTO, AMA_PLACE_COPY,
				      AMA_PLACE_READ_WRITE };
	size_t i;
	int fd;

	put("src", "0123456789", 10);
	fd = open("src", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(lseek(fd, 4, SEEK_SET), 4);
	for (i = 0; i < 3; i++) {
		o.how = hows[i];
		cr_assert_eq(ama_place_file("dst", fd, "ignored", &o, NULL), 0);
		assert_file("dst", "0123456789", 10);
		cr_assert_eq(lseek(fd, 0, SEEK_CUR), 4);
	}
	close(fd);
}

Test(place, a_bad_source_or_folder_is_named)
{
	put("dst", "old", 3);
	cr_assert_eq(ama_place_file("dst", -1, "nosuch", NULL, NULL),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_path(), "nosuch");
	cr_assert_str_eq(ama_error_msg(), "no such file");
	cr_assert_eq(mkdir("folder", 0755), 0);
	cr_assert_eq(ama_place_file("dst", -1, "folder", NULL, NULL),
		     AMA_ENOTREG);
	cr_assert_str_eq(ama_error_path(), "folder");
	put("src", "x", 1);
	cr_assert_eq(ama_place_file("no/dst", -1, "src", NULL, NULL),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_path(), "no/dst");
	cr_assert_eq(ama_place_file("dst", -1, NULL, NULL, NULL), AMA_EINVAL);
	assert_file("dst", "old", 3);
	assert_no_leftovers(".");
}

Test(place, a_hard_link_is_the_source_itself_made_read_only)
{
	struct ama_place_opts o = { AMA_PLACE_HARDLINK, AMA_PLACE_FSYNC,
				    0600 };
	struct ama_place_result r;
	struct stat src;

	put("cached", "content", 7);
	put("dst", "old", 3);
	cr_assert_eq(ama_place_file("dst", -1, "cached", &o, &r), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(r.how, AMA_PLACE_HARDLINK);
	cr_assert_eq(r.size, 7);
	cr_assert_eq(stat("cached", &src), 0);
	cr_assert_eq(r.st.st_ino, src.st_ino);
	cr_assert_eq(src.st_nlink, 2);
	cr_assert_eq(src.st_mode & 07777, 0444, "mode %o",
		     src.st_mode & 07777);
	assert_stat_is(&r, "dst");
	assert_file("dst", "content", 7);
	/* placed again: already there, nothing left behind */
	cr_assert_eq(ama_place_file("dst", -1, "cached", &o, &r), 0);
	cr_assert_eq(stat("cached", &src), 0);
	cr_assert_eq(src.st_nlink, 2);
	assert_no_leftovers(".");
}

Test(place, a_hard_link_needs_a_path_and_respects_noclobber)
{
	struct ama_place_opts o = { AMA_PLACE_HARDLINK, AMA_PLACE_NOCLOBBER,
				    0 };
	int fd;

	put("cached", "content", 7);
	fd = open("cached", O_RDONLY);
	cr_assert_eq(ama_place_file("dst", fd, NULL, &o, NULL), AMA_EINVAL);
	close(fd);
	cr_assert_eq(ama_place_file("dst", -1, "cached", &o, NULL), 0);
	cr_assert_eq(ama_place_file("dst", -1, "cached", &o, NULL),
		     AMA_EEXIST);
	cr_assert_eq(ama_place_file("no/dst", -1, "cached", &o, NULL),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_path(), "no/dst");
	assert_no_leftovers(".");
}

Test(place, the_steps_alone_write_commit_and_abort)
{
	struct ama_place_tmp t = AMA_PLACE_TMP_INIT;
	struct stat st;

	cr_assert_eq(ama_place_tmp_open(&t, "dst", 0600), 0);
	cr_assert_eq(write(t.fd, "streamed", 8), 8);
	cr_assert_eq(ama_place_tmp_commit(&t, AMA_PLACE_FSYNC, &st), 0);
	cr_assert_eq(t.fd, -1);
	cr_assert_null(t.path);
	assert_file("dst", "streamed", 8);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(ama_place_tmp_open(&t, "dst", 0), 0);
	cr_assert_eq(write(t.fd, "half", 4), 4);
	ama_place_tmp_abort(&t);
	assert_file("dst", "streamed", 8);
	cr_assert_eq(ama_place_tmp_open(&t, "dst", 0), 0);
	cr_assert_eq(ama_place_tmp_commit(&t, AMA_PLACE_NOCLOBBER, NULL),
		     AMA_EEXIST);
	assert_file("dst", "streamed", 8);
	assert_no_leftovers(".");
	cr_assert_eq(ama_place_tmp_open(&t, "no/dst", 0), AMA_ENOTFOUND);
	cr_assert_eq(t.fd, -1);
}

Test(place, copy_fd_refuses_a_hard_link_and_names_nothing)
{
	int in, out;
	enum ama_place_how how;
	uint64_t n;

	put("src", "abc", 3);
	in = open("src", O_RDONLY);
	out = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert_eq(ama_place_copy_fd(out, in, AMA_PLACE_HARDLINK, &how, &n),
		     AMA_EINVAL);
	cr_assert_eq(ama_place_copy_fd(out, in, AMA_PLACE_READ_WRITE, &how,
				       &n), 0);
	cr_assert_eq(how, AMA_PLACE_READ_WRITE);
	cr_assert_eq(n, 3);
	close(in);
	close(out);
	assert_file("dst", "abc", 3);
}

Test(place, names_of_the_ways)
{
	cr_assert_str_eq(ama_place_how_name(AMA_PLACE_AUTO), "auto");
	cr_assert_str_eq(ama_place_how_name(AMA_PLACE_REFLINK), "reflink");
	cr_assert_str_eq(ama_place_how_name(AMA_PLACE_COPY), "copy");
	cr_assert_str_eq(ama_place_how_name(AMA_PLACE_READ_WRITE),
			 "read-write");
	cr_assert_str_eq(ama_place_how_name(AMA_PLACE_HARDLINK), "hardlink");
}
