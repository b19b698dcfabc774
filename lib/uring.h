/* uring.h: open, read and close many files in a few system calls (io_uring). */
#ifndef AMA_URING_H
#define AMA_URING_H

#include <stddef.h>

/*
 * A ring belongs to one thread. Each call queues one operation per file,
 * submits them all with one io_uring_enter(2) and waits for them, so n
 * files cost one system call per step instead of n. Only the steps the
 * kernel does inline are here (openat, read, close): statx on a ring is
 * always handed to a kernel worker thread, which costs more than the
 * fstat(2) it saves (t/perf/README).
 *
 * Where io_uring cannot be had (built without liburing, a kernel without
 * it or with kernel.io_uring_disabled set, a seccomp filter, or
 * AMA_NO_IO_URING set to anything but "" or "0" in the environment),
 * ama_uring_new() fails and the caller takes its ordinary path: the ring
 * is an optimization, never a requirement.
 */

struct ama_uring;

/* The most files one call takes. */
#define AMA_URING_BATCH 64

/*
 * Set up a ring for the calling thread. *out gets it, to be freed with
 * ama_uring_free(). Returns 0, or AMA_EIO (the reason set) when io_uring
 * is unavailable or turned off.
 */
int ama_uring_new(struct ama_uring **out);

/* Is io_uring turned off by AMA_NO_IO_URING? */
int ama_uring_disabled(void);

/*
 * openat(dirfd, paths[i], flags) for i < n (n <= AMA_URING_BATCH): fd[i]
 * gets the descriptor or -errno. Returns 0, or AMA_EIO if the ring
 * failed; then no descriptor is open and the ring must not be used again.
 */
int ama_uring_open(struct ama_uring *u, size_t n, int dirfd,
		   const char *const *paths, int flags, int *fd);

/*
 * pread(fd[i], buf[i], len[i], 0) for i < n (n <= AMA_URING_BATCH) where
 * fd[i] >= 0: got[i] gets the byte count or -errno (-EBADF where fd[i] <
 * 0). A read stops short only at the end of the file or on an error, as
 * read(2) on a regular file does. Returns 0, or AMA_EIO if the ring failed
 * (no result is valid; the descriptors stay open).
 */
int ama_uring_read(struct ama_uring *u, size_t n, const int *fd,
		   void *const *buf, const size_t *len, long *got);

/*
 * Close fd[i] for i < n where fd[i] >= 0, in one system call without
 * waiting for the results (the next call collects them). Never fails: if
 * the ring does, the descriptors are closed with close(2).
 */
void ama_uring_close(struct ama_uring *u, size_t n, const int *fd);

/* Free the ring (NULL is accepted). */
void ama_uring_free(struct ama_uring *u);

#endif
