/* t/unit/stat.c: stat records: taking, comparing, printing and parsing them. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "stat.h"
#include "tmpdir.h"


TestSuite(stat_path, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* dir/name, in one of two static buffers (two may be live at once) */
static const char *at(const char *name)
{
	static char path[2][PATH_MAX];
	static int next;
	char *p = path[next];

	next ^= 1;
	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t n = strlen(data);

	cr_assert(fd >= 0, "cannot create %s", path);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	cr_assert_eq(close(fd), 0);
}

static void set_mtime(const char *path, time_t sec, long nsec)
{
	struct timespec t[2] = { { 0, UTIME_OMIT }, { sec, nsec } };

	cr_assert_eq(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0,
		     "cannot set the time of %s", path);
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* every field of st against lstat(2) of path, taken now */
static void assert_matches_lstat(const struct ama_stat *st, const char *path)
{
	struct stat sb;

	cr_assert_eq(lstat(path, &sb), 0);
	cr_assert_eq(st->size, (uint64_t)sb.st_size);
	cr_assert_eq(st->mtime_ns, ns_of(&sb.st_mtim));
	cr_assert_eq(st->ctime_ns, ns_of(&sb.st_ctim));
	cr_assert_eq(st->ino, (uint64_t)sb.st_ino);
	cr_assert_eq(st->dev, (uint64_t)sb.st_dev);
	cr_assert_eq(st->nlink, (uint32_t)sb.st_nlink);
	cr_assert_eq(st->mode, (uint32_t)sb.st_mode);
}

Test(stat_path, a_regular_file_gives_every_field)
{
	struct ama_stat st;
	const char *path = at("f");

	write_file(path, "hello");
	cr_assert_eq(chmod(path, 0640), 0);
	set_mtime(path, 1234567890, 123456789);
	cr_assert_eq(ama_stat_path(&st, path), 0);
	cr_assert_eq(st.size, 5);
	cr_assert_eq(st.mtime_ns, INT64_C(1234567890123456789));
	cr_assert_eq(st.nlink, 1);
	cr_assert_eq(st.mode, S_IFREG | 0640);
	cr_assert(ama_stat_is_reg(&st));
	cr_assert_str_eq(ama_stat_type_name(st.mode), "regular file");
	assert_matches_lstat(&st, path);
}

Test(stat_path, times_keep_their_nanoseconds)
{
	static const struct {
		time_t sec;
		long nsec;
		int64_t ns;
	} t[] = {
		{ 1234567890, 123456789, INT64_C(1234567890123456789) },
		{ 0, 1, 1 },
		{ 0, 0, 0 },
		{ 1700000000, 999999999, INT64_C(1700000000999999999) },
		/* past 2038: no 32-bit seconds */
		{ 4102444800, 999999999, INT64_C(4102444800999999999) },
		/* before 1970: negative seconds, positive nanoseconds */
		{ -1, 999999999, -1 },
		{ -2, 500000000, -1500000000 },
	};
	struct ama_stat st;
	const char *path = at("f");
	size_t i;

	write_file(path, "");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		set_mtime(path, t[i].sec, t[i].nsec);
		cr_assert_eq(ama_stat_path(&st, path), 0);
		cr_assert_eq(st.mtime_ns, t[i].ns, "%lld.%09ld gave %lld",
			     (long long)t[i].sec, t[i].nsec,
			     (long long)st.mtime_ns);
		assert_matches_lstat(&st, path);
	}
}

Test(stat_path, a_symlink_is_not_followed)
{
	struct ama_stat st, target;

	write_file(at("target"), "abc");
	cr_assert_eq(symlink("target", at("link")), 0);
	cr_assert_eq(ama_stat_path(&st, at("link")), 0);
	cr_assert_eq(ama_stat_path(&target, at("target")), 0);
	cr_assert_eq(st.size, 6);	/* strlen("target") */
	cr_assert(S_ISLNK(st.mode));
	cr_assert_not(ama_stat_is_reg(&st));
	cr_assert_str_eq(ama_stat_type_name(st.mode), "symbolic link");
	cr_assert_neq(st.ino, target.ino);
	cr_assert_eq(target.size, 3);
	assert_matches_lstat(&st, at("link"));
	/* a dangling one is there all the same */
	cr_assert_eq(symlink("nowhere", at("dangling")), 0);
	cr_assert_eq(ama_stat_path(&st, at("dangling")), 0);
	cr_assert_eq(st.size, 7);
	cr_assert(S_ISLNK(st.mode));
}

Test(stat_path, hard_links_share_one_record)
{
	struct ama_stat a, b;

	write_file(at("a"), "data");
	cr_assert_eq(link(at("a"), at("b")), 0);
	cr_assert_eq(ama_stat_path(&a, at("a")), 0);
	cr_assert_eq(ama_stat_path(&b, at("b")), 0);
	cr_assert_eq(a.nlink, 2);
	cr_assert_eq(a.ino, b.ino);
	cr_assert(ama_stat_equal(&a, &b));
}

Test(stat_path, a_folder_is_not_a_regular_file)
{
	struct ama_stat st;

	cr_assert_eq(mkdir(at("d"), 0755), 0);
	cr_assert_eq(ama_stat_path(&st, at("d")), 0);
	cr_assert(S_ISDIR(st.mode));
	cr_assert_not(ama_stat_is_reg(&st));
	cr_assert_str_eq(ama_stat_type_name(st.mode), "directory");
	assert_matches_lstat(&st, at("d"));
	/* a trailing slash names the folder too */
	cr_assert_eq(ama_stat_path(&st, at("d/")), 0);
	cr_assert(S_ISDIR(st.mode));
}

Test(stat_path, special_files_are_named_by_type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ama_stat st;
	int fd;

	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	cr_assert_eq(ama_stat_path(&st, at("fifo")), 0);
	cr_assert_not(ama_stat_is_reg(&st));
	cr_assert_str_eq(ama_stat_type_name(st.mode), "FIFO");

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_lt(strlen(at("sock")), sizeof(sa.sun_path));
	strcpy(sa.sun_path, at("sock"));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(ama_stat_path(&st, at("sock")), 0);
	cr_assert_not(ama_stat_is_reg(&st));
	cr_assert_str_eq(ama_stat_type_name(st.mode), "socket");
	close(fd);

	cr_assert_eq(ama_stat_path(&st, "/dev/null"), 0);
	cr_assert_not(ama_stat_is_reg(&st));
	cr_assert_str_eq(ama_stat_type_name(st.mode), "device");
}

static void assert_fails(const char *path, int code, const char *msg)
{
	struct ama_stat st;

	ama_error_clear();
	cr_assert_eq(ama_stat_path(&st, path), code, "%s", path);
	cr_assert_str_eq(ama_error_msg(), msg);
	cr_assert_str_eq(ama_error_path(), path);
}

Test(stat_path, a_missing_path_is_not_found)
{
	write_file(at("file"), "x");
	cr_assert_eq(symlink("nowhere", at("dangling")), 0);
	assert_fails(at("nosuch"), AMA_ENOTFOUND, "no such file");
	assert_fails(at("nosuch/below"), AMA_ENOTFOUND, "no such file");
	/* ENOTDIR: a file where a folder should be */
	assert_fails(at("file/below"), AMA_ENOTFOUND, "no such file");
	assert_fails(at("file/"), AMA_ENOTFOUND, "no such file");
	/* a dangling link is there, but nothing is below it */
	assert_fails(at("dangling/below"), AMA_ENOTFOUND, "no such file");
	assert_fails(at("dangling/"), AMA_ENOTFOUND, "no such file");
	assert_fails("", AMA_ENOTFOUND, "no such file");
}

Test(stat_path, other_failures_are_io_errors_with_the_reason)
{
	struct ama_stat st;
	char path[PATH_MAX];
	size_t n;

	cr_assert_eq(symlink("loop", at("loop")), 0);
	cr_assert_eq(ama_stat_path(&st, at("loop")), 0);
	assert_fails(at("loop/x"), AMA_EIO,
		     "cannot stat: Too many levels of symbolic links");
	n = (size_t)snprintf(path, sizeof(path), "%s/", dir);
	memset(path + n, 'x', NAME_MAX + 1);
	path[n + NAME_MAX + 1] = '\0';
	assert_fails(path, AMA_EIO, "cannot stat: File name too long");
}

Test(stat_path, a_record_survives_format_and_parse)
{
	struct ama_stat st, back;
	char buf[AMA_STAT_FIELDS_MAX];
	char *field[5], *p;
	int i;

	write_file(at("f"), "some bytes");
	set_mtime(at("f"), 1600000000, 42);
	cr_assert_eq(ama_stat_path(&st, at("f")), 0);
	ama_stat_format(buf, &st);
	for (i = 0, p = buf; i < 5; i++) {
		field[i] = p;
		p = strchrnul(p, ' ');
		if (*p)
			*p++ = '\0';
	}
	cr_assert_eq(*p, '\0');
	cr_assert_str_eq(field[0], "10");
	cr_assert_str_eq(field[1], "1600000000000000042");
	cr_assert_eq(ama_stat_parse(&back, field), 0);
	cr_assert_eq(back.size, st.size);
	cr_assert_eq(back.mtime_ns, st.mtime_ns);
	cr_assert_eq(back.ctime_ns, st.ctime_ns);
	cr_assert_eq(back.ino, st.ino);
	cr_assert_eq(back.nlink, st.nlink);
}

Test(stat, from_copies_every_field)
{
	struct stat sb;
	struct ama_stat st;

	memset(&sb, 0, sizeof(sb));
	sb.st_size = (off_t)1 << 62;
	sb.st_mtim.tv_sec = 1700000000;
	sb.st_mtim.tv_nsec = 999999999;
	sb.st_ctim.tv_sec = 1;
	sb.st_ctim.tv_nsec = 2;
	sb.st_ino = (ino_t)UINT64_C(0xfedcba9876543210);
	sb.st_dev = 0x0801;
	sb.st_nlink = 3;
	sb.st_mode = S_IFREG | 0640;
	ama_stat_from(&st, &sb);
	cr_assert_eq(st.size, UINT64_C(4611686018427387904));
	cr_assert_eq(st.mtime_ns, INT64_C(1700000000999999999));
	cr_assert_eq(st.ctime_ns, 1000000002);
	cr_assert_eq(st.ino, UINT64_C(0xfedcba9876543210));
	cr_assert_eq(st.dev, 0x0801);
	cr_assert_eq(st.nlink, 3);
	cr_assert_eq(st.mode, 0100640);
}

Test(stat, times_before_1970_are_negative)
{
	struct stat sb;
	struct ama_stat st;

	memset(&sb, 0, sizeof(sb));
	/* -1.5 s is -2 s plus 0.5 s, as the kernel gives it */
	sb.st_mtim.tv_sec = -2;
	sb.st_mtim.tv_nsec = 500000000;
	sb.st_ctim.tv_sec = -1;
	sb.st_ctim.tv_nsec = 999999999;
	ama_stat_from(&st, &sb);
	cr_assert_eq(st.mtime_ns, -1500000000);
	cr_assert_eq(st.ctime_ns, -1);
}

/* beyond 2262 (ext4 goes to 2446) and before 1678: saturated, no overflow */
Test(stat, times_beyond_64_bits_of_nanoseconds_saturate)
{
	struct stat sb;
	struct ama_stat st;

	memset(&sb, 0, sizeof(sb));
	sb.st_mtim.tv_sec = 9223372036;		/* 2262-04-11: the last second */
	sb.st_mtim.tv_nsec = 854775807;
	sb.st_ctim.tv_sec = 9223372037;		/* one more */
	ama_stat_from(&st, &sb);
	cr_assert_eq(st.mtime_ns, INT64_MAX);
	cr_assert_eq(st.ctime_ns, INT64_MAX);
	sb.st_mtim.tv_sec = 15000000000;	/* 2445 */
	sb.st_mtim.tv_nsec = 1;
	sb.st_ctim.tv_sec = -9223372037;	/* 1677 */
	ama_stat_from(&st, &sb);
	cr_assert_eq(st.mtime_ns, INT64_MAX);
	cr_assert_eq(st.ctime_ns, INT64_MIN);
	sb.st_mtim.tv_sec = 9223372036;		/* just inside */
	sb.st_mtim.tv_nsec = 854775806;
	ama_stat_from(&st, &sb);
	cr_assert_eq(st.mtime_ns, INT64_MAX - 1);
}

Test(stat, type_names)
{
	cr_assert_str_eq(ama_stat_type_name(S_IFREG | 0644), "regular file");
	cr_assert_str_eq(ama_stat_type_name(S_IFREG), "regular file");
	cr_assert_str_eq(ama_stat_type_name(S_IFDIR | 0755), "directory");
	cr_assert_str_eq(ama_stat_type_name(S_IFLNK | 0777), "symbolic link");
	cr_assert_str_eq(ama_stat_type_name(S_IFIFO | 0600), "FIFO");
	cr_assert_str_eq(ama_stat_type_name(S_IFSOCK | 0755), "socket");
	cr_assert_str_eq(ama_stat_type_name(S_IFCHR | 0666), "device");
	cr_assert_str_eq(ama_stat_type_name(S_IFBLK | 0660), "device");
	cr_assert_str_eq(ama_stat_type_name(0644), "special file");
	cr_assert_str_eq(ama_stat_type_name(0), "special file");
}

Test(stat, is_reg_looks_at_the_type_bits_only)
{
	struct ama_stat st = { .mode = S_IFREG };

	cr_assert(ama_stat_is_reg(&st));
	st.mode = S_IFREG | 07777;
	cr_assert(ama_stat_is_reg(&st));
	st.mode = 0644;
	cr_assert_not(ama_stat_is_reg(&st));
	st.mode = S_IFLNK | 0777;	/* S_IFLNK has the S_IFREG bit set */
	cr_assert_not(ama_stat_is_reg(&st));
	st.mode = S_IFSOCK;
	cr_assert_not(ama_stat_is_reg(&st));
}

static const struct ama_stat sample = {
	.size = 5,
	.mtime_ns = INT64_C(1234567890123456789),
	.ctime_ns = INT64_C(1234567890987654321),
	.ino = 42,
	.dev = 7,
	.nlink = 1,
	.mode = S_IFREG | 0644,
};

Test(stat, equal_compares_every_field)
{
	struct ama_stat a = sample, b = sample;
	int i;

	cr_assert(ama_stat_equal(&a, &b));
	for (i = 0; i < 7; i++) {
		b = sample;
		switch (i) {
		case 0: b.size++; break;
		case 1: b.mtime_ns++; break;
		case 2: b.ctime_ns--; break;
		case 3: b.ino ^= UINT64_C(1) << 63; break;
		case 4: b.dev++; break;
		case 5: b.nlink++; break;
		case 6: b.mode = S_IFREG | 0755; break;
		}
		cr_assert_not(ama_stat_equal(&a, &b), "field %d ignored", i);
		cr_assert_not(ama_stat_equal(&b, &a), "field %d ignored", i);
	}
}

Test(stat, format_prints_the_five_fields)
{
	struct ama_stat zero = { 0 };
	struct ama_stat old = sample;
	char buf[AMA_STAT_FIELDS_MAX];

	ama_stat_format(buf, &sample);
	/* dev and mode are not printed */
	cr_assert_str_eq(buf,
			 "5 1234567890123456789 1234567890987654321 42 1");
	ama_stat_format(buf, &zero);
	cr_assert_str_eq(buf, "0 0 0 0 0");
	old.mtime_ns = -1500000000;
	ama_stat_format(buf, &old);
	cr_assert_str_eq(buf,
			 "5 -1500000000 1234567890987654321 42 1");
}

static const char extremes[] =
	"18446744073709551615 -9223372036854775808 9223372036854775807 "
	"18446744073709551615 4294967295";

Test(stat, format_fits_the_largest_values)
{
	struct ama_stat big = {
		.size = UINT64_MAX,
		.mtime_ns = INT64_MIN,
		.ctime_ns = INT64_MAX,
		.ino = UINT64_MAX,
		.dev = UINT64_MAX,
		.nlink = UINT32_MAX,
		.mode = UINT32_MAX,
	};
	char buf[AMA_STAT_FIELDS_MAX + 1];

	memset(buf, '#', sizeof(buf));
	ama_stat_format(buf, &big);
	cr_assert_str_eq(buf, extremes);
	cr_assert_lt(strlen(buf), AMA_STAT_FIELDS_MAX);
	cr_assert_eq(buf[AMA_STAT_FIELDS_MAX], '#');
}

/* parse five fields given as strings (ama_stat_parse() takes char *) */
static int parse5(struct ama_stat *out, const char *f0, const char *f1,
		  const char *f2, const char *f3, const char *f4)
{
	char copy[5][32];
	char *field[5];
	const char *in[5] = { f0, f1, f2, f3, f4 };
	int i;

	for (i = 0; i < 5; i++) {
		cr_assert_lt(strlen(in[i]), sizeof(copy[i]));
		strcpy(copy[i], in[i]);
		field[i] = copy[i];
	}
	return ama_stat_parse(out, field);
}

Test(stat, parse_reads_the_five_fields)
{
	struct ama_stat st;

	memset(&st, 0xff, sizeof(st));
	cr_assert_eq(parse5(&st, "5", "1234567890123456789",
			    "-1234567890987654321", "42", "1"), 0);
	cr_assert_eq(st.size, 5);
	cr_assert_eq(st.mtime_ns, INT64_C(1234567890123456789));
	cr_assert_eq(st.ctime_ns, INT64_C(-1234567890987654321));
	cr_assert_eq(st.ino, 42);
	cr_assert_eq(st.nlink, 1);
	/* not among the fields: left 0, whatever was there */
	cr_assert_eq(st.dev, 0);
	cr_assert_eq(st.mode, 0);
}

Test(stat, parse_accepts_the_limits)
{
	struct ama_stat st;

	cr_assert_eq(parse5(&st, "18446744073709551615",
			    "-9223372036854775808", "9223372036854775807",
			    "18446744073709551615", "4294967295"), 0);
	cr_assert_eq(st.size, UINT64_MAX);
	cr_assert_eq(st.mtime_ns, INT64_MIN);
	cr_assert_eq(st.ctime_ns, INT64_MAX);
	cr_assert_eq(st.ino, UINT64_MAX);
	cr_assert_eq(st.nlink, UINT32_MAX);
	cr_assert_eq(parse5(&st, "0", "0", "0", "0", "0"), 0);
	cr_assert_eq(st.size, 0);
	cr_assert_eq(st.nlink, 0);
}

Test(stat, parse_undoes_format)
{
	struct ama_stat big = {
		.size = UINT64_MAX, .mtime_ns = INT64_MIN,
		.ctime_ns = INT64_MAX, .ino = UINT64_MAX,
		.nlink = UINT32_MAX,
	};
	const struct ama_stat *in[] = { &sample, &big };
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char buf[AMA_STAT_FIELDS_MAX], again[AMA_STAT_FIELDS_MAX];
		char *field[5], *p = buf;
		struct ama_stat back;
		int j;

		ama_stat_format(buf, in[i]);
		for (j = 0; j < 5; j++) {
			field[j] = p;
			p = strchrnul(p, ' ');
			if (*p)
				*p++ = '\0';
		}
		cr_assert_eq(ama_stat_parse(&back, field), 0);
		cr_assert_eq(back.size, in[i]->size);
		cr_assert_eq(back.mtime_ns, in[i]->mtime_ns);
		cr_assert_eq(back.ctime_ns, in[i]->ctime_ns);
		cr_assert_eq(back.ino, in[i]->ino);
		cr_assert_eq(back.nlink, in[i]->nlink);
		ama_stat_format(again, &back);
		ama_stat_format(buf, in[i]);
		cr_assert_str_eq(again, buf);
	}
}

Test(stat, parse_rejects_malformed_fields)
{
	static const char *good[5] = { "5", "1", "2", "42", "1" };
	static const struct {
		int field;
		const char *bad;
	} t[] = {
		{ 0, "" }, { 0, "-1" }, { 0, "+1" }, { 0, " 1" }, { 0, "1 " },
		{ 0, "1x" }, { 0, "0x10" }, { 0, "1.5" },
		{ 0, "18446744073709551616" },
		{ 1, "" }, { 1, "-" }, { 1, "--1" }, { 1, "+1" }, { 1, "- 1" },
		{ 1, "1e9" }, { 1, "9223372036854775808" },
		{ 1, "-9223372036854775809" },
		{ 2, "" }, { 2, "x" }, { 2, "-2-" },
		{ 2, "99999999999999999999" },
		{ 3, "" }, { 3, "-42" }, { 3, "42\n" },
		{ 4, "" }, { 4, "-1" }, { 4, "4294967296" },
		{ 4, "18446744073709551615" },
	};
	struct ama_stat st;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *f[5];
		int j;

		for (j = 0; j < 5; j++)
			f[j] = j == t[i].field ? t[i].bad : good[j];
		ama_error_clear();
		cr_assert_eq(parse5(&st, f[0], f[1], f[2], f[3], f[4]),
			     AMA_EINVAL, "field %d '%s' accepted",
			     t[i].field, t[i].bad);
		cr_assert_str_eq(ama_error_msg(), "malformed stat fields");
		cr_assert_null(ama_error_path());
	}
	/* and the good ones pass, so each failure above is its field's */
	cr_assert_eq(parse5(&st, good[0], good[1], good[2], good[3],
			    good[4]), 0);
}
