/* lockfile.c: lock files that tell a live holder from a dead one, and atomic writes. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "lockfile.h"

int ama_fsync_parent(const char *path)
{
	char *copy = ama_strdup(path);
	const char *dir = dirname(copy);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = ama_error_setp_errno(AMA_EIO, dir, "cannot sync folder");
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/*
 * Lock files held by this process, removed if a signal kills it (as git
 * does), so that an interrupted `ama add` leaves no lock behind; only
 * SIGKILL leaves a stale one. The process-wide table is the price of a
 * signal handler, which cannot be told about anything else.
 */
#define MAX_HELD 32
static char *held[MAX_HELD];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void remove_held(int sig)
{
	size_t i;

	for (i = 0; i < MAX_HELD; i++) {
		char *p = __atomic_load_n(&held[i], __ATOMIC_ACQUIRE);

		if (p)
			unlink(p);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old, sa;

		/* a program with its own handler (the server) keeps it */
		if (sigaction(sigs[i], NULL, &old) < 0 ||
		    old.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = remove_held;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static void hold(const char *lock_path)
{
	char *p = ama_strdup(lock_path);
	size_t i;

	pthread_once(&handlers_once, install_handlers);
	for (i = 0; i < MAX_HELD; i++) {
		char *expected = NULL;

		if (__atomic_compare_exchange_n(&held[i], &expected, p, 0,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return;
	}
	free(p);	/* more than MAX_HELD at once: no cleanup for this one */
}

static void unhold(const char *lock_path)
{
	size_t i;

	for (i = 0; i < MAX_HELD; i++) {
		char *p = __atomic_load_n(&held[i], __ATOMIC_ACQUIRE);

		if (p && !strcmp(p, lock_path) &&
		    __atomic_compare_exchange_n(&held[i], &p, NULL, 0,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			free(p);
			return;
		}
	}
}

/*
 * The signals whose handler removes held locks, blocked while a lock file
 * changes hands (renamed into place, or removed) and leaves the list: a
 * handler running in between would remove PATH.lock when it may already
 * be another process's.
 */
static void block_cleanup_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Who hears of a lock taken over from a dead process (lib/prog.c prints it). */
static void (*stale_hook)(const char *lock_path);

void ama_lock_on_takeover(void (*fn)(const char *lock_path))
{
	__atomic_store_n(&stale_hook, fn, __ATOMIC_RELEASE);
}

/*
 * PATH.lock exists. Every lock ama makes holds an flock(2) for as long as
 * its name is PATH.lock (it is flocked before it is linked there and
 * renamed or removed before it is closed), so a lock file nobody holds is
 * provably left by a process that died. Take it over: flock the dead one's
 * inode, check that it is still the one named PATH.lock, and rename our
 * own lock (tmp, already flocked) over it while holding it, so that two
 * processes never both take over one stale lock. Returns 0 when taken
 * over, 1 when PATH.lock went away or changed meanwhile (try again), or
 * AMA_ELOCKED (a live holder, or not a lock file of ama's) or AMA_EIO.
 */
static int take_over(const char *lock_path, const char *tmp_path)
{
	struct stat st, now;
	int fd, rc;

	/*
	 * Never opened blocking (a FIFO) or through a link. Read-write where
	 * it can be: over NFS an exclusive flock is a write lock, which a
	 * read-only descriptor cannot take.
	 */
	fd = open(lock_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && (errno == EACCES || errno == EISDIR))
		fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
			  O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 1;	/* gone: try again */
	if (fd < 0 && errno != ELOOP)
		return ama_error_setp_errno(AMA_EIO, lock_path,
					    "cannot open lock");
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return ama_error_setp(AMA_ELOCKED, lock_path,
			"locked, but not by a lock file of ama's (a link, "
			"folder or special file is in its place); remove it "
			"by hand");
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ?
			ama_error_setp(AMA_ELOCKED, lock_path,
				"locked: another ama process is writing it; "
				"try again when it has finished") :
			ama_error_setp_errno(AMA_EIO, lock_path,
					     "cannot lock");
		close(fd);
		return rc;
	}
	/* committed, rolled back or taken over since it was opened? */
	if (lstat(lock_path, &now) < 0 || now.st_ino != st.st_ino ||
	    now.st_dev != st.st_dev) {
		close(fd);
		return 1;
	}
	rc = rename(tmp_path, lock_path) < 0 ?
		ama_error_setp_errno(AMA_EIO, lock_path,
				     "cannot take over a stale lock") : 0;
	close(fd);
	return rc;
}

int ama_lock_remove_stale(const char *lock_path)
{
	void (*hook)(const char *);

	if (unlink(lock_path) < 0)
		return errno == ENOENT ? 0 :
			ama_error_setp_errno(AMA_EIO, lock_path,
					     "cannot remove a stale lock");
	hook = __atomic_load_n(&stale_hook, __ATOMIC_ACQUIRE);
	if (hook)
		hook(lock_path);
	return 1;
}

int ama_lock_acquire(struct ama_lock *lk, const char *path, mode_t mode)
{
	static unsigned serial;	/* private names differ between threads */
	struct ama_buf tmp = AMA_BUF_INIT, lock = AMA_BUF_INIT;
	void (*hook)(const char *);
	int attempt, fd, stale = 0, rc = 0;

	lk->fd = -1;
	ama_buf_addf(&lock, "%s.lock", path);
	ama_buf_addf(&tmp, "%s.lock.%ld.%u", path, (long)getpid(),
		     __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
	/*
	 * The lock is created under a private name, flocked, then linked to
	 * PATH.lock: it appears already held, so a competitor never mistakes
	 * a new lock for a stale one.
	 */
	fd = open(tmp.s, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = ama_error_setp_errno(AMA_EIO, lock.s,
					  "cannot create lock");
		goto out;
	}
	if (flock(fd, LOCK_EX) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, lock.s, "cannot lock");
		goto fail;
	}
	for (attempt = 0; attempt < 3; attempt++) {
		int taken;

		if (link(tmp.s, lock.s) == 0) {
			unlink(tmp.s);
			goto held;
		}
		if (errno != EEXIST) {
			rc = ama_error_setp_errno(AMA_EIO, lock.s,
						  "cannot create lock");
			goto fail;
		}
		taken = take_over(lock.s, tmp.s);
		if (taken < 0) {
			rc = taken;
			goto fail;
		}
		if (taken == 0) {
			stale = 1;
			goto held;
		}
	}
	rc = ama_error_setp(AMA_ELOCKED, lock.s, "locked: keeps changing");
fail:
	close(fd);
	unlink(tmp.s);
	goto out;
held:
	hold(lock.s);
	hook = __atomic_load_n(&stale_hook, __ATOMIC_ACQUIRE);
	if (stale && hook)
		hook(lock.s);
	lk->fd = fd;
	lk->path = ama_strdup(path);
	lk->lock_path = ama_buf_detach(&lock);
	rc = 0;
out:
	ama_buf_release(&tmp);
	ama_buf_release(&lock);
	return rc;
}

int ama_lock_write(struct ama_lock *lk, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(lk->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ama_error_setp_errno(AMA_EIO, lk->lock_path,
						    "cannot write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ama_lock_commit(struct ama_lock *lk)
{
	sigset_t old;
	int rc;

	if (fsync(lk->fd) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, lk->lock_path,
					  "cannot sync");
		ama_lock_rollback(lk);
		return rc;
	}
	block_cleanup_signals(&old);
	if (rename(lk->lock_path, lk->path) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, lk->path,
					  "cannot replace");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		ama_lock_rollback(lk);
		return rc;
	}
	unhold(lk->lock_path);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(lk->fd);
	lk->fd = -1;
	rc = ama_fsync_parent(lk->path);
	free(lk->path);
	free(lk->lock_path);
	lk->path = lk->lock_path = NULL;
	return rc;
}

void ama_lock_rollback(struct ama_lock *lk)
{
	if (lk->fd >= 0) {
		sigset_t old;

		block_cleanup_signals(&old);
		unlink(lk->lock_path);
		unhold(lk->lock_path);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		close(lk->fd);
		lk->fd = -1;
	}
	free(lk->path);
	free(lk->lock_path);
	lk->path = lk->lock_path = NULL;
}

int ama_write_file_atomic(const char *path, const void *data, size_t len,
			  mode_t mode)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	int rc = ama_lock_acquire(&lk, path, mode);

	if (rc < 0)
		return rc;
	rc = ama_lock_write(&lk, data, len);
	if (rc < 0) {
		ama_lock_rollback(&lk);
		return rc;
	}
	return ama_lock_commit(&lk);
}

int ama_read_file(char **out, size_t *len, const char *path)
{
	struct ama_buf b = AMA_BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return ama_error_setp(AMA_ENOTFOUND, path,
					      "no such file");
		return ama_error_setp_errno(AMA_EIO, path, "cannot open");
	}
	for (;;) {
		ssize_t n;

		ama_buf_grow(&b, 65536);
		n = read(fd, b.s + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = ama_error_setp_errno(AMA_EIO, path,
						      "cannot read");

			close(fd);
			ama_buf_release(&b);
			return rc;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.s[b.len] = '\0';
	}
	close(fd);
	b.s[b.len] = '\0';	/* an empty file too: a string, "" */
	if (len)
		*len = b.len;
	*out = ama_buf_detach(&b);
	return 0;
}

int ama_lock_folder(int *out, const char *dir, int inherit, int wait_ms)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	int fd, waited = 0;

	*out = -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | (inherit ? 0 : O_CLOEXEC));
	if (fd < 0)
		return ama_error_setp_errno(AMA_EIO, dir, "cannot open");
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		if (err == EINTR)
			continue;
		if (err != EWOULDBLOCK) {
			close(fd);
			errno = err;
			return ama_error_setp_errno(AMA_EIO, dir,
						    "cannot lock");
		}
		if (waited >= wait_ms) {
			close(fd);
			return ama_error_setp(AMA_ELOCKED, dir,
					      "held by another process");
		}
		nanosleep(&nap, NULL);
		waited += 10;
	}
	*out = fd;
	return 0;
}
