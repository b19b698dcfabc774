/* stat.c: stat records: taking, comparing, printing and parsing them. */
#include "auto-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "stat.h"

/*
 * A time in nanoseconds; beyond what 64 bits hold (before 1678, after
 * 2262: ext4 stores times up to 2446) it saturates. Such an mtime cannot
 * tell two values apart, but the ctime the kernel sets on every change
 * still does.
 */
static int64_t time_ns(const struct timespec *t)
{
	int64_t ns;

	if (__builtin_mul_overflow((int64_t)t->tv_sec, (int64_t)1000000000,
				   &ns) ||
	    __builtin_add_overflow(ns, (int64_t)t->tv_nsec, &ns))
		return t->tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

void ama_stat_from(struct ama_stat *out, const struct stat *st)
{
	out->size = (uint64_t)st->st_size;
	out->mtime_ns = time_ns(&st->st_mtim);
	out->ctime_ns = time_ns(&st->st_ctim);
	out->ino = (uint64_t)st->st_ino;
	out->dev = (uint64_t)st->st_dev;
	out->nlink = (uint32_t)st->st_nlink;
	out->mode = (uint32_t)st->st_mode;
}

int ama_stat_path(struct ama_stat *out, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ama_error_setp(AMA_ENOTFOUND, path,
					      "no such file");
		return ama_error_setp_errno(AMA_EIO, path, "cannot stat");
	}
	ama_stat_from(out, &st);
	return 0;
}

int ama_stat_is_reg(const struct ama_stat *st)
{
	return S_ISREG(st->mode);
}

const char *ama_stat_type_name(uint32_t mode)
{
	if (S_ISREG(mode))
		return "regular file";
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symbolic link";
	if (S_ISFIFO(mode))
		return "FIFO";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "device";
	return "special file";
}

int ama_stat_equal(const struct ama_stat *a, const struct ama_stat *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns &&
		a->ctime_ns == b->ctime_ns && a->ino == b->ino &&
		a->dev == b->dev && a->nlink == b->nlink &&
		a->mode == b->mode;
}

void ama_stat_format(char *buf, const struct ama_stat *st)
{
	snprintf(buf, AMA_STAT_FIELDS_MAX,
		 "%" PRIu64 " %" PRId64 " %" PRId64 " %" PRIu64 " %" PRIu32,
		 st->size, st->mtime_ns, st->ctime_ns, st->ino, st->nlink);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;

	if (!((*s >= '0' && *s <= '9') || *s == '-'))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int ama_stat_parse(struct ama_stat *out, char *const *field)
{
	uint64_t nlink;

	memset(out, 0, sizeof(*out));
	if (parse_u64(field[0], &out->size) < 0 ||
	    parse_i64(field[1], &out->mtime_ns) < 0 ||
	    parse_i64(field[2], &out->ctime_ns) < 0 ||
	    parse_u64(field[3], &out->ino) < 0 ||
	    parse_u64(field[4], &nlink) < 0 || nlink > UINT32_MAX)
		return ama_error_set(AMA_EINVAL, "malformed stat fields");
	out->nlink = (uint32_t)nlink;
	return 0;
}
