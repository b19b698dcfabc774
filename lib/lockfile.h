/* lockfile.h: exclusive "PATH.lock" files and atomic replacement of PATH. */
#ifndef AMA_LOCKFILE_H
#define AMA_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writing PATH: create PATH.lock exclusively, write the new contents into
 * it, fsync, rename it over PATH, fsync the folder. A reader sees the old
 * or the new file, never a mix, and a second writer finds PATH.lock and
 * gets AMA_ELOCKED. The lock file holds an flock(2) for as long as it is
 * named PATH.lock, so a lock left by a killed process is told apart from a
 * live one: nobody holds it, and the next writer takes it over.
 */
struct ama_lock {
	int fd;			/* -1 when not held */
	char *path;
	char *lock_path;
};

#define AMA_LOCK_INIT { -1, NULL, NULL }

/*
 * Take PATH.lock with mode. A PATH.lock that no process holds was left by
 * one that died (kill -9, a crash): it is taken over, atomically (of two
 * processes that find it, one takes it and the other finds it held), and
 * the hook of ama_lock_on_takeover() is told. Returns 0, or AMA_ELOCKED
 * with the lock file as subject ("locked: another ama process is writing
 * it; ...", or something other than a regular file is in its place), or
 * AMA_EIO.
 */
int ama_lock_acquire(struct ama_lock *lk, const char *path, mode_t mode);
/*
 * Who is told, with the lock file's path, when ama_lock_acquire() took
 * over a stale lock; NULL for nobody (the default). Process-wide, as the
 * signal handlers that remove held locks are; lib/prog.c sets it so that
 * every program says so in one line.
 */
void ama_lock_on_takeover(void (*fn)(const char *lock_path));
/*
 * Remove lock_path, a lock file of another program's making (libgit2's
 * "refs/.../NAME.lock" in a repository) that the caller has proven stale:
 * it holds the lock every writer of that file takes first, so whoever
 * made it is dead. The hook of ama_lock_on_takeover() is told. Returns 1
 * when it was removed, 0 when there was none, or AMA_EIO.
 */
int ama_lock_remove_stale(const char *lock_path);
/* Append len bytes to the lock file. Returns 0 or AMA_EIO. */
int ama_lock_write(struct ama_lock *lk, const void *data, size_t len);
/* fsync, rename over PATH, fsync the folder; the lock is released. */
int ama_lock_commit(struct ama_lock *lk);
/* Remove the lock file without touching PATH. Safe to call twice. */
void ama_lock_rollback(struct ama_lock *lk);

/*
 * A lock on a folder for a whole run, such as an upload of an asset: an
 * flock(2) on the folder itself, so nothing is created and a process
 * killed while it holds the lock leaves nothing behind. With inherit, the
 * descriptor is not close-on-exec: the commands the holder starts hold the
 * lock too, and it is free only once the holder and all of them have
 * ended (a command outliving a killed holder still keeps it). Waits up to
 * wait_ms for another holder. *out is the descriptor; closing it releases
 * the lock. Returns 0, AMA_ELOCKED ("held by another process"; dir is the
 * subject), or AMA_EIO.
 */
int ama_lock_folder(int *out, const char *dir, int inherit, int wait_ms);

/* Replace path with data atomically (a lock, written, committed). */
int ama_write_file_atomic(const char *path, const void *data, size_t len,
			  mode_t mode);
/* fsync the folder holding path. Returns 0 or AMA_EIO. */
int ama_fsync_parent(const char *path);
/* Read a whole file into a NUL-terminated buffer the caller frees. */
int ama_read_file(char **out, size_t *len, const char *path);

#endif
