/* t/unit/lockfile.c: PATH.lock files, atomic replacement, stale locks. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "lockfile.h"
#include "tmpdir.h"

/* the suite's folder, and a umask that the mode checks can count on */
static void make_dir_umask(void)
{
	make_dir();
	umask(022);
}

TestSuite(lock, .init = make_dir_umask, .fini = remove_dir, .timeout = 60);
TestSuite(write_file_atomic, .init = make_dir_umask, .fini = remove_dir,
	  .timeout = 60);
TestSuite(read_file, .init = make_dir_umask, .fini = remove_dir, .timeout = 60);
TestSuite(fsync_parent, .init = make_dir_umask, .fini = remove_dir, .timeout = 60);

#define LIVE_MSG "locked: another ama process is writing it; " \
	"try again when it has finished"

/* the lock files ama_lock_on_takeover() was told of, one a line */
static char taken_over[1024];

static void note_takeover(const char *lock_path)
{
	size_t n = strlen(taken_over);

	snprintf(taken_over + n, sizeof(taken_over) - n, "%s\n", lock_path);
}

static void hear_takeovers(void)
{
	taken_over[0] = '\0';
	ama_lock_on_takeover(note_takeover);
}

/* dir/name, into out */
static void at(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "cannot create %s", path);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	cr_assert_eq(close(fd), 0);
}

/* the whole of path, NUL-terminated, malloc'd; its size in *len */
static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *s;
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0, "cannot open %s", path);
	cr_assert_eq(fstat(fd, &st), 0);
	s = malloc((size_t)st.st_size + 1);
	cr_assert_eq(read(fd, s, (size_t)st.st_size), st.st_size);
	s[st.st_size] = '\0';
	close(fd);
	if (len)
		*len = (size_t)st.st_size;
	return s;
}

static void assert_content(const char *path, const char *want)
{
	char *s = slurp(path, NULL);

	cr_assert_str_eq(s, want, "content of %s", path);
	free(s);
}

static int not_dots(const struct dirent *e)
{
	return strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
}

/* dir holds exactly these names (sorted, separated by one space) */
static void assert_dir(const char *want)
{
	struct dirent **ent;
	char got[1024] = "";
	size_t len = 0;
	int n = scandir(dir, &ent, not_dots, alphasort), i;

	cr_assert(n >= 0);
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
					i ? " " : "", ent[i]->d_name);
		cr_assert(len < sizeof(got));
		free(ent[i]);
	}
	free(ent);
	cr_assert_str_eq(got, want);
}

static void assert_released(const struct ama_lock *lk)
{
	cr_assert_eq(lk->fd, -1);
	cr_assert_null(lk->path);
	cr_assert_null(lk->lock_path);
}

/* taking path's lock fails as locked, for reason msg */
static void assert_locked(struct ama_lock *lk, const char *path,
			  const char *msg)
{
	char lock[256];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	ama_error_clear();
	cr_assert_eq(ama_lock_acquire(lk, path, 0644),
		     AMA_ELOCKED);
	cr_assert_str_eq(ama_error_msg(), msg);
	cr_assert_str_eq(ama_error_path(), lock);
	cr_assert_eq(lk->fd, -1);
}

static void own_term(int sig)
{
	(void)sig;
	_exit(3);
}

enum holder_end {
	END_ON_RELEASE,		/* roll back once the parent closes go */
	END_KILLED,		/* SIGKILL itself while holding the lock */
	END_OWN_HANDLER,	/* as END_ON_RELEASE, SIGTERM its own */
};

struct holder {
	pid_t pid;
	int go;
};

/*
 * Fork a child that takes path's lock with the signals the library
 * handles at their defaults, writes "theirs\n" into it and tells the
 * parent; returns once it holds the lock. Child exit codes above 9 say
 * which step failed.
 */
static void holder_start(struct holder *h, const char *path,
			 enum holder_end how)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	int ready[2], go[2];
	char c;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		struct ama_lock lk = AMA_LOCK_INIT;
		struct rlimit no_core = { 0, 0 };
		size_t i;

		close(ready[0]);
		close(go[1]);
		setrlimit(RLIMIT_CORE, &no_core);
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		if (how == END_OWN_HANDLER)
			signal(SIGTERM, own_term);
		if (ama_lock_acquire(&lk, path, 0644) < 0)
			_exit(10);
		if (ama_lock_write(&lk, "theirs\n", 7) < 0)
			_exit(11);
		if (write(ready[1], "x", 1) != 1)
			_exit(12);
		if (how == END_KILLED)
			raise(SIGKILL);
		if (read(go[0], &c, 1) != 0)
			_exit(13);
		ama_lock_rollback(&lk);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	cr_assert_eq(read(ready[0], &c, 1), 1, "the child took no lock");
	close(ready[0]);
	h->go = go[1];
}

/* the child's wait status */
static int holder_wait(struct holder *h)
{
	int status;

	close(h->go);
	cr_assert_eq(waitpid(h->pid, &status, 0), h->pid);
	return status;
}

Test(lock, path_is_untouched_until_commit)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	write_file(path, "old\n", 4);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_geq(lk.fd, 0);
	cr_assert_str_eq(lk.path, path);
	cr_assert_str_eq(lk.lock_path, lock);
	assert_dir("data data.lock");
	cr_assert_eq(ama_lock_write(&lk, "new ", 4), 0);
	cr_assert_eq(ama_lock_write(&lk, "contents\n", 9), 0);
	cr_assert_eq(ama_lock_write(&lk, "", 0), 0);
	assert_content(path, "old\n");
	assert_content(lock, "new contents\n");
	cr_assert_eq(ama_lock_commit(&lk), 0);
	assert_content(path, "new contents\n");
	assert_dir("data");
	assert_released(&lk);
}

Test(lock, commit_renames_so_a_reader_sees_old_or_new)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct stat before, lockst, after;
	char path[256], buf[16] = { 0 };
	int fd;

	at(path, sizeof(path), "data");
	write_file(path, "old\n", 4);
	cr_assert_eq(stat(path, &before), 0);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_eq(ama_lock_write(&lk, "new\n", 4), 0);
	cr_assert_eq(fstat(lk.fd, &lockst), 0);
	cr_assert_eq(ama_lock_commit(&lk), 0);
	/* PATH is now the lock's inode; the old one is intact for its reader */
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(after.st_ino, lockst.st_ino);
	cr_assert_neq(after.st_ino, before.st_ino);
	cr_assert_eq(read(fd, buf, sizeof(buf) - 1), 4);
	cr_assert_str_eq(buf, "old\n");
	close(fd);
	assert_content(path, "new\n");
}

/* 3 MiB and 5 bytes, written in pieces of growing size */
#define BIG (3 * 1024 * 1024 + 5)

Test(lock, a_large_file_is_written_completely)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	unsigned char *b = malloc(BIG);
	char path[256], *got;
	size_t i, off = 0, step = 1, len;

	for (i = 0; i < BIG; i++)
		b[i] = (unsigned char)((i * 31 + 7) >> 3);
	at(path, sizeof(path), "big");
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	while (off < BIG) {
		size_t n = BIG - off < step ? BIG - off : step;

		cr_assert_eq(ama_lock_write(&lk, b + off, n), 0);
		off += n;
		step = step * 5 + 3;
	}
	cr_assert_eq(ama_lock_commit(&lk), 0);
	got = slurp(path, &len);
	cr_assert_eq(len, BIG);
	cr_assert(!memcmp(got, b, BIG), "the content differs");
	assert_dir("big");
	free(got);
	free(b);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

Test(lock, the_new_file_has_the_lock_mode_under_the_umask)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256];

	at(path, sizeof(path), "data");
	write_file(path, "old\n", 4);
	cr_assert_eq(mode_of(path), 0644);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0600), 0);
	cr_assert_eq(ama_lock_commit(&lk), 0);
	cr_assert_eq(mode_of(path), 0600);
	assert_content(path, "");
	/* 0666 under the suite's umask of 022 */
	cr_assert_eq(ama_lock_acquire(&lk, path, 0666), 0);
	cr_assert_eq(ama_lock_commit(&lk), 0);
	cr_assert_eq(mode_of(path), 0644);
}

Test(lock, rollback_leaves_path_as_it_was)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct stat before, after;
	char path[256];

	at(path, sizeof(path), "data");
	write_file(path, "old\n", 4);
	cr_assert_eq(stat(path, &before), 0);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0600), 0);
	cr_assert_eq(ama_lock_write(&lk, "new contents\n", 13), 0);
	ama_lock_rollback(&lk);
	assert_released(&lk);
	assert_dir("data");
	assert_content(path, "old\n");
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(after.st_ino, before.st_ino);
	cr_assert_eq(after.st_mode, before.st_mode);
	/* a second rollback is harmless, and the path can be locked again */
	ama_lock_rollback(&lk);
	assert_released(&lk);
	assert_dir("data");
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	assert_dir("data data.lock");
	ama_lock_rollback(&lk);
	assert_dir("data");
}

Test(lock, rollback_of_a_new_path_leaves_nothing)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256];

	at(path, sizeof(path), "data");
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_eq(ama_lock_write(&lk, "new\n", 4), 0);
	ama_lock_rollback(&lk);
	assert_dir("");
}

Test(lock, a_second_locker_in_the_same_process_is_refused)
{
	struct ama_lock lk = AMA_LOCK_INIT, other = AMA_LOCK_INIT;
	char path[256];

	at(path, sizeof(path), "data");
	write_file(path, "old\n", 4);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_eq(ama_lock_write(&lk, "mine\n", 5), 0);
	assert_locked(&other, path, LIVE_MSG);
	/* the refusal left no private file and did not disturb the holder */
	assert_dir("data data.lock");
	assert_content(path, "old\n");
	cr_assert_eq(ama_lock_commit(&lk), 0);
	assert_content(path, "mine\n");
	assert_dir("data");
}

Test(lock, a_second_locker_in_another_process_is_refused)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct holder h;
	char path[256];
	int status;

	at(path, sizeof(path), "data");
	write_file(path, "old\n", 4);
	holder_start(&h, path, END_ON_RELEASE);
	assert_locked(&lk, path, LIVE_MSG);
	assert_dir("data data.lock");
	assert_content(path, "old\n");
	status = holder_wait(&h);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "holder status %#x", status);
	/* its rollback removed the lock */
	assert_dir("data");
	assert_content(path, "old\n");
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	ama_lock_rollback(&lk);
}

Test(lock, a_lock_left_by_a_killed_process_is_taken_over)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct holder h;
	char path[256], lock[256], want[300];
	int status;

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	write_file(path, "old\n", 4);
	holder_start(&h, path, END_KILLED);
	status = holder_wait(&h);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "holder status %#x", status);
	assert_dir("data data.lock");
	assert_content(lock, "theirs\n");
	hear_takeovers();
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	snprintf(want, sizeof(want), "%s\n", lock);
	cr_assert_str_eq(taken_over, want, "the takeover is told");
	/* the dead one's contents are gone: the lock is a fresh one */
	assert_dir("data data.lock");
	assert_content(lock, "");
	assert_content(path, "old\n");
	cr_assert_eq(ama_lock_write(&lk, "mine\n", 5), 0);
	cr_assert_eq(ama_lock_commit(&lk), 0);
	assert_content(path, "mine\n");
	assert_dir("data");
	ama_lock_on_takeover(NULL);
}

Test(lock, a_lock_file_nobody_holds_is_taken_over_with_the_new_mode)
{
	struct ama_lock lk = AMA_LOCK_INIT, other = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	write_file(lock, "left\n", 5);
	cr_assert_eq(chmod(lock, 0600), 0);
	hear_takeovers();
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_eq(mode_of(lock), 0644);
	/* held now: a second locker is refused as by any live lock */
	assert_locked(&other, path, LIVE_MSG);
	cr_assert_eq(ama_lock_commit(&lk), 0);
	assert_dir("data");
	/* ama_write_file_atomic() takes one over too */
	write_file(lock, "", 0);
	cr_assert_eq(ama_write_file_atomic(path, "x", 1, 0644), 0);
	assert_content(path, "x");
	assert_dir("data");
	ama_lock_on_takeover(NULL);
}

/* without a hook, a takeover is silent but still happens */
Test(lock, no_hook_no_word)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	write_file(lock, "", 0);
	taken_over[0] = '\0';
	ama_lock_on_takeover(NULL);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_str_eq(taken_over, "");
	ama_lock_rollback(&lk);
	assert_dir("");
}

/*
 * Many processes find one stale lock at once: exactly one takes it over,
 * each other one finds it held, and none leaves a private file behind.
 */
Test(lock, of_many_that_find_a_stale_lock_one_takes_it_over)
{
	enum { N = 12 };
	char path[256], lock[256], got[N + 1];
	int ready[2], go[2], done[2], i, won = 0, lost = 0;
	pid_t pid[N];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	for (int round = 0; round < 20; round++) {
		write_file(lock, "stale\n", 6);
		cr_assert_eq(pipe(ready), 0);
		cr_assert_eq(pipe(go), 0);
		cr_assert_eq(pipe(done), 0);
		for (i = 0; i < N; i++) {
			pid[i] = fork();
			cr_assert(pid[i] >= 0);
			if (pid[i] == 0) {
				struct ama_lock lk = AMA_LOCK_INIT;
				char c;
				int rc;

				close(ready[0]);
				close(go[1]);
				close(done[1]);
				/* start together: wait for the parent's word */
				if (read(go[0], &c, 1) != 1)
					_exit(10);
				rc = ama_lock_acquire(&lk, path, 0644);
				c = rc == 0 ? 'W' :
					rc == AMA_ELOCKED &&
					!strcmp(ama_error_msg(), LIVE_MSG) ?
					'L' : '?';
				if (write(ready[1], &c, 1) != 1)
					_exit(11);
				/* the winner holds it until everyone answered */
				if (rc == 0 && read(done[0], &c, 1) < 0)
					_exit(12);
				if (rc == 0)
					ama_lock_rollback(&lk);
				_exit(0);
			}
		}
		close(ready[1]);
		cr_assert_eq(write(go[1], "gggggggggggg", N), N);
		for (i = 0; i < N; i++)
			cr_assert_eq(read(ready[0], &got[i], 1), 1);
		got[N] = '\0';
		close(done[1]);	/* the winner rolls back */
		close(done[0]);
		close(go[1]);
		close(ready[0]);
		close(go[0]);
		for (i = 0; i < N; i++) {
			int status;

			cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
			cr_assert(WIFEXITED(status) &&
				  WEXITSTATUS(status) == 0,
				  "child status %#x", status);
		}
		won = lost = 0;
		for (i = 0; i < N; i++) {
			won += got[i] == 'W';
			lost += got[i] == 'L';
		}
		cr_assert_eq(won, 1, "round %d: %s", round, got);
		cr_assert_eq(lost, N - 1, "round %d: %s", round, got);
		assert_dir("");
	}
}

/* another program's lock the caller proved stale: removed and told */
Test(lock, remove_stale_removes_and_tells)
{
	char lock[256], want[300];

	at(lock, sizeof(lock), "HEAD.lock");
	write_file(lock, "", 0);
	hear_takeovers();
	cr_assert_eq(ama_lock_remove_stale(lock), 1);
	snprintf(want, sizeof(want), "%s\n", lock);
	cr_assert_str_eq(taken_over, want);
	assert_dir("");
	cr_assert_eq(ama_lock_remove_stale(lock), 0, "none left: nothing");
	cr_assert_str_eq(taken_over, want, "and nothing told");
	ama_lock_on_takeover(NULL);
}

static const char not_ours[] =
	"locked, but not by a lock file of ama's (a link, folder or special "
	"file is in its place); remove it by hand";

/* a FIFO in its place: refused at once, never opened blocking */
Test(lock, a_fifo_in_place_of_the_lock_is_refused, .timeout = 10)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	cr_assert_eq(mkfifo(lock, 0644), 0);
	assert_locked(&lk, path, not_ours);
}

Test(lock, a_link_or_folder_in_place_of_the_lock_is_refused)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	cr_assert_eq(symlink("data.lock", lock), 0);	/* a loop */
	assert_locked(&lk, path, not_ours);
	cr_assert_eq(unlink(lock), 0);
	cr_assert_eq(symlink("nowhere", lock), 0);	/* dangling */
	assert_locked(&lk, path, not_ours);
	cr_assert_eq(unlink(lock), 0);
	cr_assert_eq(mkdir(lock, 0755), 0);
	assert_locked(&lk, path, not_ours);
}

Test(lock, a_signal_removes_the_lock_and_still_kills)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct holder h;
	char path[256];
	size_t i;

	at(path, sizeof(path), "data");
	write_file(path, "old\n", 4);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int status;

		holder_start(&h, path, END_ON_RELEASE);
		assert_dir("data data.lock");
		cr_assert_eq(kill(h.pid, sigs[i]), 0);
		status = holder_wait(&h);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i],
			  "signal %d: holder status %#x", sigs[i], status);
		assert_dir("data");
		assert_content(path, "old\n");
	}
}

Test(lock, a_program_with_its_own_handler_keeps_it)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct holder h;
	char path[256], lock[256];
	int status;

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	holder_start(&h, path, END_OWN_HANDLER);
	cr_assert_eq(kill(h.pid, SIGTERM), 0);
	status = holder_wait(&h);
	/* its handler ran, not the library's: the lock is left, now stale */
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		  "holder status %#x", status);
	assert_dir("data.lock");
	assert_content(lock, "theirs\n");
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	ama_lock_rollback(&lk);
	assert_dir("");
}

Test(lock, locks_on_different_paths_are_independent)
{
	struct ama_lock a = AMA_LOCK_INIT, b = AMA_LOCK_INIT;
	char pa[256], pb[256];

	at(pa, sizeof(pa), "a");
	at(pb, sizeof(pb), "b");
	cr_assert_eq(ama_lock_acquire(&a, pa, 0644), 0);
	cr_assert_eq(ama_lock_acquire(&b, pb, 0644), 0);
	assert_dir("a.lock b.lock");
	cr_assert_eq(ama_lock_write(&b, "bee\n", 4), 0);
	cr_assert_eq(ama_lock_write(&a, "ay\n", 3), 0);
	cr_assert_eq(ama_lock_commit(&b), 0);
	assert_dir("a.lock b");
	cr_assert_eq(ama_lock_commit(&a), 0);
	assert_dir("a b");
	assert_content(pa, "ay\n");
	assert_content(pb, "bee\n");
}

Test(lock, a_missing_folder_cannot_be_locked)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "nosuch/data");
	at(lock, sizeof(lock), "nosuch/data.lock");
	ama_error_clear();
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot create lock: No such file or directory");
	cr_assert_str_eq(ama_error_path(), lock);
	cr_assert_eq(lk.fd, -1);
	assert_dir("");
}

Test(lock, a_failed_commit_rolls_back)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], inside[256];

	at(path, sizeof(path), "data");
	at(inside, sizeof(inside), "data/kept");
	cr_assert_eq(mkdir(path, 0755), 0);
	write_file(inside, "kept\n", 5);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	cr_assert_eq(ama_lock_write(&lk, "new\n", 4), 0);
	ama_error_clear();
	cr_assert_eq(ama_lock_commit(&lk), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "cannot replace: Is a directory");
	cr_assert_str_eq(ama_error_path(), path);
	assert_released(&lk);
	assert_dir("data");
	assert_content(inside, "kept\n");
}

Test(write_file_atomic, creates_and_replaces_with_the_whole_content)
{
	char path[256];

	at(path, sizeof(path), "data");
	cr_assert_eq(ama_write_file_atomic(path, "one\n", 4, 0644), 0);
	assert_content(path, "one\n");
	assert_dir("data");
	cr_assert_eq(ama_write_file_atomic(path, "two, longer\n", 12, 0600),
		     0);
	assert_content(path, "two, longer\n");
	cr_assert_eq(mode_of(path), 0600);
	cr_assert_eq(ama_write_file_atomic(path, "", 0, 0644), 0);
	assert_content(path, "");
	cr_assert_eq(mode_of(path), 0644);
	assert_dir("data");
}

Test(write_file_atomic, a_held_lock_refuses_and_keeps_the_file)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	char path[256], lock[256];

	at(path, sizeof(path), "data");
	at(lock, sizeof(lock), "data.lock");
	write_file(path, "old\n", 4);
	cr_assert_eq(ama_lock_acquire(&lk, path, 0644), 0);
	ama_error_clear();
	cr_assert_eq(ama_write_file_atomic(path, "new\n", 4, 0644),
		     AMA_ELOCKED);
	cr_assert_str_eq(ama_error_msg(), LIVE_MSG);
	cr_assert_str_eq(ama_error_path(), lock);
	assert_content(path, "old\n");
	assert_dir("data data.lock");
	ama_lock_rollback(&lk);
	cr_assert_eq(ama_write_file_atomic(path, "new\n", 4, 0644), 0);
	assert_content(path, "new\n");
	assert_dir("data");
}

Test(read_file, the_contents_their_length_and_a_nul)
{
	char path[256], *s = NULL;
	size_t len = 0;

	at(path, sizeof(path), "data");
	write_file(path, "a\0b\n", 4);
	cr_assert_eq(ama_read_file(&s, &len, path), 0);
	cr_assert_eq(len, 4);
	cr_assert(!memcmp(s, "a\0b\n", 5), "read back wrong");
	free(s);
	/* the length is optional */
	cr_assert_eq(ama_read_file(&s, NULL, path), 0);
	cr_assert_eq(s[3], '\n');
	cr_assert_eq(s[4], '\0');
	free(s);
}

Test(read_file, an_empty_file_is_an_empty_string)
{
	char path[256], *text;
	size_t len = 99;

	/* fresh memory filled with junk, so a missing NUL shows */
	mallopt(M_PERTURB, 0xa5);
	at(path, sizeof(path), "empty");
	write_file(path, "", 0);
	cr_assert_eq(ama_read_file(&text, &len, path), 0);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(text, "");
	free(text);
}

Test(read_file, a_file_larger_than_one_read)
{
	size_t n = 200003, i, len = 0;
	char *b = malloc(n), *s = NULL, path[256];

	for (i = 0; i < n; i++)
		b[i] = (char)('a' + i % 26);
	at(path, sizeof(path), "big");
	write_file(path, b, n);
	cr_assert_eq(ama_read_file(&s, &len, path), 0);
	cr_assert_eq(len, n);
	cr_assert(!memcmp(s, b, n), "read back wrong");
	cr_assert_eq(s[n], '\0');
	free(s);
	free(b);
}

Test(read_file, a_missing_file_is_not_found)
{
	char path[256], *s = (char *)"untouched";
	size_t len = 7;

	at(path, sizeof(path), "nosuch");
	ama_error_clear();
	cr_assert_eq(ama_read_file(&s, &len, path), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such file");
	cr_assert_str_eq(ama_error_path(), path);
	cr_assert_null(s);
}

Test(read_file, a_folder_cannot_be_read)
{
	char path[256], *s = (char *)"untouched";

	at(path, sizeof(path), "sub");
	cr_assert_eq(mkdir(path, 0755), 0);
	ama_error_clear();
	cr_assert_eq(ama_read_file(&s, NULL, path), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "cannot read: Is a directory");
	cr_assert_str_eq(ama_error_path(), path);
	cr_assert_null(s);
}

Test(fsync_parent, an_existing_folder_is_synced)
{
	char path[256];

	at(path, sizeof(path), "data");
	write_file(path, "x", 1);
	cr_assert_eq(ama_fsync_parent(path), 0);
	/* the file itself need not exist */
	at(path, sizeof(path), "nosuch");
	cr_assert_eq(ama_fsync_parent(path), 0);
}

Test(fsync_parent, a_missing_folder_is_an_io_error)
{
	char path[256], folder[256];

	at(path, sizeof(path), "nosuch/data");
	at(folder, sizeof(folder), "nosuch");
	ama_error_clear();
	cr_assert_eq(ama_fsync_parent(path), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot sync folder: No such file or directory");
	cr_assert_str_eq(ama_error_path(), folder);
}

TestSuite(lock_folder, .init = make_dir_umask, .fini = remove_dir,
	  .timeout = 60);

Test(lock_folder, a_second_holder_waits_then_is_refused)
{
	int a, b, flags;
	pid_t pid;
	int status;

	cr_assert_eq(ama_lock_folder(&a, dir, 0, 0), 0);
	flags = fcntl(a, F_GETFD);
	cr_assert(flags & FD_CLOEXEC, "not inherited unless asked");
	assert_dir("");	/* nothing is created */
	/* another process: a flock is per open file, so fork one */
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int rc = ama_lock_folder(&b, dir, 0, 100);

		_exit(rc == AMA_ELOCKED &&
		      !strcmp(ama_error_msg(), "held by another process") &&
		      !strcmp(ama_error_path(), dir) ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(a);
	cr_assert_eq(ama_lock_folder(&b, dir, 0, 0), 0);
	close(b);
}

Test(lock_folder, a_waiter_gets_it_when_the_holder_ends)
{
	int a, b, go[2];
	pid_t pid;
	char c;

	cr_assert_eq(pipe(go), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(go[0]);
		if (ama_lock_folder(&a, dir, 0, 0) < 0)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(2);
		usleep(200 * 1000);
		_exit(0);
	}
	close(go[1]);
	cr_assert_eq(read(go[0], &c, 1), 1);
	cr_assert_eq(ama_lock_folder(&b, dir, 0, 5000), 0);
	close(b);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

/* with inherit, a command the holder ran keeps the lock after the holder */
Test(lock_folder, commands_started_by_the_holder_hold_it_too)
{
	int a, b, status;
	pid_t pid;

	cr_assert_eq(ama_lock_folder(&a, dir, 1, 0), 0);
	cr_assert_eq(fcntl(a, F_GETFD) & FD_CLOEXEC, 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 0.5", (char *)NULL);
		_exit(127);
	}
	close(a);	/* the holder is done; its command is not */
	pid_t other = fork();

	cr_assert(other >= 0);
	if (other == 0)
		_exit(ama_lock_folder(&b, dir, 0, 0) == AMA_ELOCKED ? 0 : 1);
	cr_assert_eq(waitpid(other, &status, 0), other);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the command's copy still holds it");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(ama_lock_folder(&b, dir, 0, 0), 0);
	close(b);
}

Test(lock_folder, a_missing_folder_is_an_error)
{
	char path[256];
	int fd;

	at(path, sizeof(path), "nosuch");
	cr_assert_eq(ama_lock_folder(&fd, path, 0, 0), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot open: No such file or directory");
	cr_assert_eq(fd, -1);
}
