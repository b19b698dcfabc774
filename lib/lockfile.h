/* lockfile.h: exclusive "PATH.lock" files and atomic replacement of PATH. */
#ifndef AMA_LOCKFILE_H
#define AMA_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writing PATH: create PATH.lock exclusively, write the new contents into
 * it, fsync, rename it over PATH, fsync the folder. A reader sees the old
 * or the new file, never a mix, and a second writer finds PATH.lock and
 * gets AMA_ELOCKED. The lock file holds an flock(2) for its whole life, so
 * a lock left by a killed process is told apart from a live one.
 */
struct ama_lock {
	int fd;			/* -1 when not held */
	char *path;
	char *lock_path;
};

#define AMA_LOCK_INIT { -1, NULL, NULL }

/*
 * Take PATH.lock with mode. Returns 0, or AMA_ELOCKED with the lock file as
 * subject and a reason that says whether a live process holds it or a
 * stale one was left behind (and how to clear it), or AMA_EIO.
 */
int ama_lock_acquire(struct ama_lock *lk, const char *path, mode_t mode);
/* Append len bytes to the lock file. Returns 0 or AMA_EIO. */
int ama_lock_write(struct ama_lock *lk, const void *data, size_t len);
/* fsync, rename over PATH, fsync the folder; the lock is released. */
int ama_lock_commit(struct ama_lock *lk);
/* Remove the lock file without touching PATH. Safe to call twice. */
void ama_lock_rollback(struct ama_lock *lk);

/* Replace path with data atomically (a lock, written, committed). */
int ama_write_file_atomic(const char *path, const void *data, size_t len,
			  mode_t mode);
/* fsync the folder holding path. Returns 0 or AMA_EIO. */
int ama_fsync_parent(const char *path);
/* Read a whole file into a NUL-terminated buffer the caller frees. */
int ama_read_file(char **out, size_t *len, const char *path);

#endif
