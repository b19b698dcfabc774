/* stat.h: the stat record ama keeps for each added file. */
#ifndef AMA_STAT_H
#define AMA_STAT_H

#include <stdint.h>
#include <sys/stat.h>

struct ama_stat {
	uint64_t size;
	int64_t mtime_ns;	/* nanoseconds since the epoch */
	int64_t ctime_ns;
	uint64_t ino;
	uint64_t dev;
	uint32_t nlink;
	uint32_t mode;		/* st_mode, type bits included */
};

void ama_stat_from(struct ama_stat *out, const struct stat *st);
/*
 * lstat(2) path into out (symbolic links are not followed). Returns 0,
 * AMA_ENOTFOUND if nothing is there (ENOENT, ENOTDIR), or AMA_EIO.
 */
int ama_stat_path(struct ama_stat *out, const char *path);
/* Is it a regular file? */
int ama_stat_is_reg(const struct ama_stat *st);
/* "directory", "symbolic link", "FIFO", ... for messages about mode. */
const char *ama_stat_type_name(uint32_t mode);
/* Do the two records match in every field ama compares? */
int ama_stat_equal(const struct ama_stat *a, const struct ama_stat *b);
/*
 * The fields of a stat record as ama-stat-record prints them:
 * "<size> <mtime_ns> <ctime_ns> <ino> <nlink>" into buf (at least
 * AMA_STAT_FIELDS_MAX bytes).
 */
#define AMA_STAT_FIELDS_MAX 112
void ama_stat_format(char *buf, const struct ama_stat *st);
/* Parse those five fields (dev and mode are left 0). AMA_EINVAL if bad. */
int ama_stat_parse(struct ama_stat *out, char *const *field);

#endif
