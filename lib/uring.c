/* uring.c: batches of openat, read and close on one io_uring per thread. */
#include "auto-config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "buf.h"
#include "error.h"
#include "uring.h"

/* One ring, or nothing when built without liburing. */
struct ama_uring {
#ifdef HAVE_LIBURING
	struct io_uring ring;
	unsigned closes;	/* close completions not collected yet */
	int broken;
#else
	int unused;
#endif
};

int ama_uring_disabled(void)
{
	const char *v = getenv("AMA_NO_IO_URING");

	return v && *v && strcmp(v, "0") != 0;
}

#ifdef HAVE_LIBURING

/*
 * Room for a batch of operations and for the completions of the closes
 * that ama_uring_close() leaves behind: the submission queue holds
 * AMA_URING_BATCH, the completion queue twice that (the kernel's
 * default).
 */
#define RING_ENTRIES AMA_URING_BATCH

/* user_data of a close: its completion is collected and dropped */
#define CLOSE_TAG UINT64_MAX

int ama_uring_new(struct ama_uring **out)
{
	struct ama_uring *u;
	int rc;

	if (ama_uring_disabled())
		return ama_error_set(AMA_EIO,
				     "io_uring turned off by AMA_NO_IO_URING");
	u = ama_calloc(1, sizeof(*u));
	rc = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
	if (rc < 0) {
		free(u);
		errno = -rc;
		return ama_error_set_errno(AMA_EIO, "cannot set up io_uring");
	}
	*out = u;
	return 0;
}

/*
 * Collect the completions of earlier closes, which nobody waits for: they
 * are the only operations outstanding between two calls.
 */
static void drop_closes(struct ama_uring *u)
{
	unsigned ready;

	if (!u->closes)
		return;
	ready = io_uring_cq_ready(&u->ring);
	io_uring_cq_advance(&u->ring, ready);
	u->closes -= ready < u->closes ? ready : u->closes;
}

/*
 * Submit the `want` operations queued and wait for them, handing each
 * result to res[user_data]. Returns 0, or AMA_EIO when the ring failed:
 * it is then broken, and res[i] stays -ECANCELED for each operation that
 * did not run.
 */
static int run(struct ama_uring *u, unsigned want, long *res)
{
	struct io_uring_cqe *cqe;
	unsigned got = 0, sent;
	int rc, err = 0;

	rc = io_uring_submit(&u->ring);
	if (rc < 0) {
		err = -rc;
		sent = 0;
	} else {
		sent = (unsigned)rc;
		if (sent != want)
			err = EAGAIN;
	}
	while (got < sent) {
		rc = io_uring_wait_cqe(&u->ring, &cqe);
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			/* cannot happen with operations in flight; should it,
			 * their descriptors are lost, not misused */
			err = -rc;
			break;
		}
		if (cqe->user_data == CLOSE_TAG) {
			u->closes--;
		} else {
			res[cqe->user_data] = cqe->res;
			got++;
		}
		io_uring_cqe_seen(&u->ring, cqe);
	}
	if (!err)
		return 0;
	/* what stays queued must never be submitted: the ring is done */
	u->broken = 1;
	errno = err;
	return ama_error_set_errno(AMA_EIO, "io_uring failed");
}

static struct io_uring_sqe *get_sqe(struct ama_uring *u)
{
	/* each call queues at most AMA_URING_BATCH, the queue's size, and
	 * submits them all before it returns */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		abort();
	return sqe;
}

int ama_uring_open(struct ama_uring *u, size_t n, int dirfd,
		   const char *const *paths, int flags, int *fd)
{
	long res[AMA_URING_BATCH];
	size_t i;
	int rc;

	if (u->broken || n > AMA_URING_BATCH)
		return ama_error_set(AMA_EIO, "io_uring unusable");
	drop_closes(u);
	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = get_sqe(u);

		io_uring_prep_openat(sqe, dirfd, paths[i], flags, 0);
		io_uring_sqe_set_data64(sqe, i);
		res[i] = -ECANCELED;
	}
	rc = run(u, (unsigned)n, res);
	for (i = 0; i < n; i++) {
		fd[i] = (int)res[i];
		if (rc < 0 && fd[i] >= 0) {
			close(fd[i]);
			fd[i] = -ECANCELED;
		}
	}
	return rc;
}

int ama_uring_read(struct ama_uring *u, size_t n, const int *fd,
		   void *const *buf, const size_t *len, long *got)
{
	long res[AMA_URING_BATCH];
	unsigned char more[AMA_URING_BATCH];
	unsigned queued;
	size_t i;
	int rc;

	if (u->broken || n > AMA_URING_BATCH)
		return ama_error_set(AMA_EIO, "io_uring unusable");
	drop_closes(u);
	for (i = 0; i < n; i++) {
		got[i] = fd[i] < 0 ? -EBADF : 0;
		more[i] = fd[i] >= 0 && len[i] > 0;
	}
	/* rounds: a read that stops short of its length and of the end of
	 * the file (it may, as read(2) may) goes on where it stopped */
	for (;;) {
		queued = 0;
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe;

			if (!more[i])
				continue;
			sqe = get_sqe(u);
			io_uring_prep_read(sqe, fd[i], (char *)buf[i] + got[i],
					   (unsigned)(len[i] - (size_t)got[i]),
					   (uint64_t)got[i]);
			io_uring_sqe_set_data64(sqe, i);
			res[i] = -ECANCELED;
			queued++;
		}
		if (!queued)
			return 0;
		rc = run(u, queued, res);
		if (rc < 0)
			return rc;
		for (i = 0; i < n; i++) {
			if (!more[i])
				continue;
			if (res[i] <= 0) {
				if (res[i] < 0)
					got[i] = res[i];
				more[i] = 0;
				continue;
			}
			got[i] += res[i];
			more[i] = (size_t)got[i] < len[i];
		}
	}
}

void ama_uring_close(struct ama_uring *u, size_t n, const int *fd)
{
	size_t i;
	unsigned queued = 0;
	int rc;

	if (!u->broken) {
		drop_closes(u);
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe;

			if (fd[i] < 0)
				continue;
			sqe = get_sqe(u);
			io_uring_prep_close(sqe, fd[i]);
			io_uring_sqe_set_data64(sqe, CLOSE_TAG);
			queued++;
		}
		if (!queued)
			return;
		rc = io_uring_submit(&u->ring);
		if (rc == (int)queued) {
			u->closes += queued;
			return;
		}
		u->broken = 1;
		/* some went in, which ones is not known: leaking the others
		 * beats closing a number twice */
		if (rc > 0)
			return;
	}
	for (i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

void ama_uring_free(struct ama_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

#else /* !HAVE_LIBURING */

int ama_uring_new(struct ama_uring **out)
{
	(void)out;
	if (ama_uring_disabled())
		return ama_error_set(AMA_EIO,
				     "io_uring turned off by AMA_NO_IO_URING");
	return ama_error_set(AMA_EIO, "built without io_uring (liburing)");
}

int ama_uring_open(struct ama_uring *u, size_t n, int dirfd,
		   const char *const *paths, int flags, int *fd)
{
	return ama_error_set(AMA_EIO, "built without io_uring (liburing)");
}

int ama_uring_read(struct ama_uring *u, size_t n, const int *fd,
		   void *const *buf, const size_t *len, long *got)
{
	return ama_error_set(AMA_EIO, "built without io_uring (liburing)");
}

void ama_uring_close(struct ama_uring *u, size_t n, const int *fd)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

void ama_uring_free(struct ama_uring *u)
{
	free(u);
}

#endif
