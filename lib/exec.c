/* exec.c: the exec path, and commands and pipelines run with fork and exec, no shell. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "exec.h"

/* where make install puts things (Makefile.am passes the configured ones) */
#ifndef AMA_PREFIX
#define AMA_PREFIX "/usr/local"
#endif
#ifndef AMA_BINDIR
#define AMA_BINDIR AMA_PREFIX "/bin"
#endif
#ifndef AMA_LIBEXECDIR
#define AMA_LIBEXECDIR AMA_PREFIX "/libexec/ama"
#endif

/* dir below the prefix ("bin"), or NULL if it is not below it */
static const char *below_prefix(const char *dir)
{
	size_t n = strlen(AMA_PREFIX);

	while (n && AMA_PREFIX[n - 1] == '/')
		n--;
	if (strncmp(dir, AMA_PREFIX, n) || dir[n] != '/' || !dir[n + 1])
		return NULL;
	return dir + n + 1;
}

/* Is path ".../suffix"? Then the length of "..." (0 for "/suffix"). */
static int ends_with_dir(const char *path, size_t len, const char *suffix,
			 size_t *head)
{
	size_t n = strlen(suffix);

	if (len <= n || strncmp(path + len - n, suffix, n) ||
	    path[len - n - 1] != '/')
		return 0;
	*head = len - n - 1;
	return 1;
}

int ama_exec_installed_dir(struct ama_buf *out, const char *program)
{
	const char *bin = below_prefix(AMA_BINDIR);
	const char *libexec = below_prefix(AMA_LIBEXECDIR);
	const char *slash = strrchr(program, '/');
	size_t len, head;

	if (!libexec || !slash || program[0] != '/')
		return 0;
	len = (size_t)(slash - program);
	if (!ends_with_dir(program, len, libexec, &head) &&
	    !(bin && ends_with_dir(program, len, bin, &head)))
		return 0;
	ama_buf_add(out, program, head);
	ama_buf_addch(out, '/');
	ama_buf_addstr(out, libexec);
	return 1;
}

/*
 * ama's own programs: those of the installation this program runs from
 * (found from /proc/self/exe, so that an install into any prefix, or one
 * moved elsewhere, runs its own), else where it was configured to go.
 */
static void add_libexec(struct ama_buf *out)
{
	char *self = realpath("/proc/self/exe", NULL);

	if (out->len)
		ama_buf_addch(out, ':');
	if (!self || !ama_exec_installed_dir(out, self))
		ama_buf_addstr(out, AMA_LIBEXECDIR);
	free(self);
}

/* Append the folders of the colon-separated list to out, absolute. */
static int add_folders(struct ama_buf *out, const char *list)
{
	const char *p = list;

	while (*p) {
		const char *e = strchrnul(p, ':');

		if (e > p) {
			if (out->len)
				ama_buf_addch(out, ':');
			if (*p != '/') {
				char *cwd = getcwd(NULL, 0);

				if (!cwd)
					return ama_error_set_errno(AMA_EIO,
						"cannot find the working folder");
				ama_buf_addstr(out, cwd);
				ama_buf_addch(out, '/');
				free(cwd);
			}
			ama_buf_add(out, p, (size_t)(e - p));
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

static int exec_path(struct ama_buf *out)
{
	const char *env = getenv("AMA_EXEC_PATH");

	if (env && add_folders(out, env) < 0)
		return AMA_EIO;
	add_libexec(out);
	return 0;
}

char *ama_exec_path(void)
{
	struct ama_buf b = AMA_BUF_INIT;

	if (exec_path(&b) < 0) {
		/* no working folder: the relative folders are left out */
		ama_buf_reset(&b);
		add_libexec(&b);
	}
	return ama_buf_detach(&b);
}

static const char *path_env(void)
{
	const char *p = getenv("PATH");

	return p ? p : "/usr/local/bin:/usr/bin:/bin";
}

int ama_exec_setup_path(void)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *old = path_env();
	int rc = exec_path(&b);

	if (rc < 0)
		goto out;
	if (!strncmp(old, b.s, b.len) && (!old[b.len] || old[b.len] == ':'))
		goto out;	/* already in front */
	if (*old) {
		ama_buf_addch(&b, ':');
		ama_buf_addstr(&b, old);
	}
	if (setenv("PATH", b.s, 1) < 0)
		rc = ama_error_set_errno(AMA_EIO, "cannot set PATH");
out:
	ama_buf_release(&b);
	return rc;
}

static int runnable(const char *path, int *denied)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (access(path, X_OK) == 0)
		return 1;
	*denied = 1;
	return 0;
}

int ama_exec_find(char **out, const char *name)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *p = path_env();
	int denied = 0;

	*out = NULL;
	if (strchr(name, '/')) {
		if (runnable(name, &denied)) {
			*out = ama_strdup(name);
			return 0;
		}
	} else if (*name) {
		for (;;) {
			const char *e = strchrnul(p, ':');

			ama_buf_reset(&b);
			if (e > p)
				ama_buf_add(&b, p, (size_t)(e - p));
			else
				ama_buf_addch(&b, '.');
			ama_buf_addch(&b, '/');
			ama_buf_addstr(&b, name);
			if (runnable(b.s, &denied)) {
				*out = ama_buf_detach(&b);
				return 0;
			}
			if (!*e)
				break;
			p = e + 1;
		}
		ama_buf_release(&b);
	}
	errno = denied ? EACCES : ENOENT;
	return ama_error_set_errno(denied ? AMA_ESETUP : AMA_ENOTFOUND,
				   "cannot run '%s'", name);
}

/* --- pipelines --- */

/* A pipe whose descriptors are close-on-exec and above 2. */
static int make_pipe(int fd[2])
{
	int i;

	if (pipe2(fd, O_CLOEXEC) < 0)
		return ama_error_set_errno(AMA_EIO, "cannot make a pipe");
	for (i = 0; i < 2; i++) {
		if (fd[i] > 2)
			continue;
		/* stdin or stdout was closed: keep clear of 0, 1 and 2 */
		int moved = fcntl(fd[i], F_DUPFD_CLOEXEC, 3);

		close(fd[i]);
		fd[i] = moved;
	}
	if (fd[0] < 0 || fd[1] < 0) {
		int err = errno;

		if (fd[0] >= 0)
			close(fd[0]);
		if (fd[1] >= 0)
			close(fd[1]);
		errno = err;
		return ama_error_set_errno(AMA_EIO, "cannot make a pipe");
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int stage_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

static int reap(struct ama_command *s)
{
	int wstatus;

	if (!s->pid)
		return 0;
	while (waitpid(s->pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return ama_error_set_errno(AMA_EIO,
						   "cannot wait for '%s'",
						   s->argv[0]);
	}
	s->status = stage_status(wstatus);
	s->pid = 0;
	return 0;
}

static int owns_fd(const struct ama_redirect *r)
{
	return r->how == AMA_REDIR_BUF || r->how == AMA_REDIR_PIPE;
}

/* A stage could not start: stop those that did, and say which. */
static void abandon(struct ama_pipeline *pl, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (pl->cmds[i].pid)
			kill(pl->cmds[i].pid, SIGTERM);
	for (i = 0; i < k; i++)
		if (reap(&pl->cmds[i]) < 0)
			pl->cmds[i].pid = 0;
	if (owns_fd(&pl->in))
		close_fd(&pl->in.fd);
	if (owns_fd(&pl->out))
		close_fd(&pl->out.fd);
	pl->failed = k;
}

/* What a child does between fork and exec, all prepared by the parent. */
struct child_plan {
	const char *prog;
	char *const *argv;
	pid_t parent;
	int in_fd, in_null;	/* stdin: a descriptor to dup, or /dev/null */
	int out_fd, out_null;
	int err_fd;		/* where a failed exec writes its errno */
	sigset_t none;
	struct sigaction dfl;
};

/* Make fd (or /dev/null) the child's descriptor target. */
static int child_redirect(int fd, int null, int target)
{
	if (null) {
		fd = open("/dev/null", target ? O_WRONLY : O_RDONLY);
		if (fd < 0)
			return -1;
		if (fd != target && (dup2(fd, target) < 0 || close(fd) < 0))
			return -1;
		return 0;
	}
	if (fd >= 0 && fd != target && dup2(fd, target) < 0)
		return -1;
	return 0;
}

/*
 * The child, from fork to exec: only async-signal-safe calls. Every
 * signal is blocked on entry (the parent blocked them around fork) and
 * the parent's handlers are reset before any is let through: a handler of
 * lib/lockfile.c run here would remove the parent's locks. The command
 * gets SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG),
 * so that a killed ama upload leaves no ama-stage-put sending behind it;
 * the parent may have died before that was set, hence getppid(). Never
 * returns.
 */
static void child(const struct child_plan *c)
{
	int sig, err;

	for (sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sigaction(sig, NULL, &old) < 0 ||
		    old.sa_handler == SIG_DFL ||
		    (old.sa_handler == SIG_IGN && sig != SIGPIPE &&
		     sig != SIGTERM))
			continue;
		/*
		 * handlers go; SIGPIPE and SIGTERM (what stops a command:
		 * the parent's death, abandon()) are at their defaults even
		 * if the caller ignores them
		 */
		sigaction(sig, &c->dfl, NULL);
	}
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != c->parent)
		_exit(128 + SIGTERM);
	if (child_redirect(c->in_fd, c->in_null, 0) < 0 ||
	    child_redirect(c->out_fd, c->out_null, 1) < 0)
		goto fail;
	sigprocmask(SIG_SETMASK, &c->none, NULL);
	execve(c->prog, c->argv, environ);
fail:
	err = errno;
	if (write(c->err_fd, &err, sizeof(err)) < 0) {
		/* the parent sees no errno: a plain failure */
	}
	_exit(127);
}

static int spawn_stage(struct ama_pipeline *pl, size_t k, const char *prog,
		       int in_fd, int out_fd)
{
	struct ama_command *s = &pl->cmds[k];
	const struct ama_redirect *in = k == 0 ? &pl->in : NULL;
	const struct ama_redirect *out = k + 1 == pl->n ? &pl->out : NULL;
	struct child_plan c;
	sigset_t all, old;
	int errp[2], err = 0, fork_err = 0;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	c.prog = prog;
	c.argv = (char *const *)s->argv;
	c.parent = getpid();
	c.in_fd = in_fd;
	c.in_null = in && in->how == AMA_REDIR_NULL;
	c.out_fd = out_fd;
	c.out_null = out && out->how == AMA_REDIR_NULL;
	sigemptyset(&c.none);
	c.dfl.sa_handler = SIG_DFL;
	sigemptyset(&c.dfl.sa_mask);
	if (make_pipe(errp) < 0)
		return AMA_EIO;
	c.err_fd = errp[1];
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	s->pid = fork();
	if (s->pid == 0)
		child(&c);
	if (s->pid < 0)
		fork_err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(errp[1]);
	/* the write end closes at exec: nothing read means it ran */
	while (s->pid > 0 &&
	       (n = read(errp[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(errp[0]);
	if (s->pid < 0) {
		s->pid = 0;
		s->status = 126;
		errno = fork_err;
		return ama_error_set_errno(AMA_ESETUP, "cannot run '%s'",
					   s->argv[0]);
	}
	if (err) {
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		s->status = err == ENOENT ? 127 : 126;
		errno = err;
		return ama_error_set_errno(AMA_ESETUP, "cannot run '%s'",
					   s->argv[0]);
	}
	return 0;
}

/* The child's end of in or out, making the pipe a BUF or PIPE needs. */
static int outer_end(struct ama_redirect *r, int is_in, int *child_fd)
{
	int fd[2];

	*child_fd = -1;
	switch (r->how) {
	case AMA_REDIR_FD:
		*child_fd = r->fd;
		return 0;
	case AMA_REDIR_BUF:
	case AMA_REDIR_PIPE:
		if (make_pipe(fd) < 0)
			return AMA_EIO;
		*child_fd = is_in ? fd[0] : fd[1];
		r->fd = is_in ? fd[1] : fd[0];
		return 0;
	default:
		return 0;
	}
}

int ama_pipeline_start(struct ama_pipeline *pl)
{
	char **progs = ama_calloc(pl->n, sizeof(char *));
	int child_in = -1, child_out = -1, in_owned, rc = 0;
	size_t k;

	if (!pl->n || ((pl->in.how == AMA_REDIR_BUF ||
			pl->out.how == AMA_REDIR_BUF) &&
		       (pl->in.how == AMA_REDIR_PIPE ||
			pl->out.how == AMA_REDIR_PIPE)))
		abort();	/* the caller's bug, see exec.h */
	pl->failed = pl->n;
	for (k = 0; k < pl->n; k++) {
		pl->cmds[k].pid = 0;
		pl->cmds[k].status = -1;
	}
	for (k = 0; k < pl->n; k++) {
		rc = ama_exec_find(&progs[k], pl->cmds[k].argv[0]);
		if (rc < 0) {
			char msg[1024];

			/* a missing program is a broken installation */
			snprintf(msg, sizeof(msg), "%s", ama_error_msg());
			pl->cmds[k].status = rc == AMA_ENOTFOUND ? 127 : 126;
			pl->failed = k;
			rc = ama_error_set(AMA_ESETUP, "%s", msg);
			goto out;
		}
	}
	if (outer_end(&pl->in, 1, &child_in) < 0) {
		rc = AMA_EIO;
		goto out;
	}
	if (outer_end(&pl->out, 0, &child_out) < 0) {
		if (owns_fd(&pl->in)) {
			close(child_in);
			close_fd(&pl->in.fd);
		}
		rc = AMA_EIO;
		goto out;
	}
	in_owned = owns_fd(&pl->in);
	for (k = 0; k < pl->n; k++) {
		int next[2] = { -1, -1 };
		int last = k + 1 == pl->n;

		if (!last && make_pipe(next) < 0) {
			rc = AMA_EIO;
			break;
		}
		rc = spawn_stage(pl, k, progs[k], child_in,
				 last ? child_out : next[1]);
		/* the parent's copies of the child's ends go */
		if (in_owned)
			close_fd(&child_in);
		if (!last)
			close(next[1]);
		else if (owns_fd(&pl->out))
			close_fd(&child_out);
		child_in = next[0];
		in_owned = 1;
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		if (in_owned)
			close_fd(&child_in);
		if (owns_fd(&pl->out))
			close_fd(&child_out);
		abandon(pl, k);
	}
out:
	for (k = 0; k < pl->n; k++)
		free(progs[k]);
	free(progs);
	return rc;
}

/* Feed in's buffer to the first stage and collect the last one's output. */
static int pump(struct ama_pipeline *pl)
{
	struct ama_buf *inb = pl->in.how == AMA_REDIR_BUF ? pl->in.buf : NULL;
	struct ama_buf *outb = pl->out.how == AMA_REDIR_BUF ?
		pl->out.buf : NULL;
	size_t off = 0;
	int rc = 0;

	if (inb && !inb->len)
		close_fd(&pl->in.fd);
	if (inb && pl->in.fd >= 0)
		fcntl(pl->in.fd, F_SETFL, fcntl(pl->in.fd, F_GETFL) |
		      O_NONBLOCK);
	while ((inb && pl->in.fd >= 0) || (outb && pl->out.fd >= 0)) {
		struct pollfd pfd[2];
		int n = 0, win = -1, wout = -1;

		if (inb && pl->in.fd >= 0) {
			pfd[n].fd = pl->in.fd;
			pfd[n].events = POLLOUT;
			win = n++;
		}
		if (outb && pl->out.fd >= 0) {
			pfd[n].fd = pl->out.fd;
			pfd[n].events = POLLIN;
			wout = n++;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = ama_error_set_errno(AMA_EIO, "cannot poll");
			break;
		}
		if (win >= 0 && pfd[win].revents) {
			ssize_t w = write(pl->in.fd, inb->s + off,
					  inb->len - off);

			if (w > 0)
				off += (size_t)w;
			/* EPIPE: the stage stopped reading, its status says why */
			if ((w < 0 && errno != EINTR && errno != EAGAIN) ||
			    off == inb->len)
				close_fd(&pl->in.fd);
		}
		if (wout >= 0 && pfd[wout].revents) {
			ssize_t r;

			ama_buf_grow(outb, 65536);
			r = read(pl->out.fd, outb->s + outb->len,
				 outb->cap - outb->len - 1);
			if (r > 0) {
				outb->len += (size_t)r;
				outb->s[outb->len] = '\0';
			} else if (r == 0) {
				close_fd(&pl->out.fd);
			} else if (errno != EINTR && errno != EAGAIN) {
				rc = ama_error_set_errno(AMA_EIO,
					"cannot read the output of '%s'",
					pl->cmds[pl->n - 1].argv[0]);
				close_fd(&pl->out.fd);
			}
		}
	}
	return rc;
}

int ama_pipeline_finish(struct ama_pipeline *pl)
{
	sigset_t pipe_only, old, pending;
	int rc, wrc = 0;
	size_t k;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	rc = pump(pl);
	if (owns_fd(&pl->in))
		close_fd(&pl->in.fd);
	if (owns_fd(&pl->out))
		close_fd(&pl->out.fd);
	/* a write to a stage that had exited: not ours to die of */
	sigpending(&pending);
	if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_only, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (k = 0; k < pl->n; k++)
		if (reap(&pl->cmds[k]) < 0 && !wrc)
			wrc = AMA_EIO;
	if (wrc)
		return wrc;
	if (rc < 0)
		return rc;
	pl->failed = pl->n;
	for (k = 0; k < pl->n && pl->failed == pl->n; k++)
		if (pl->cmds[k].status != 0 &&
		    pl->cmds[k].status != 128 + SIGPIPE)
			pl->failed = k;
	for (k = 0; k < pl->n && pl->failed == pl->n; k++)
		if (pl->cmds[k].status != 0)
			pl->failed = k;
	return pl->failed == pl->n ? 0 : pl->cmds[pl->failed].status;
}

int ama_pipeline_run(struct ama_pipeline *pl)
{
	int rc = ama_pipeline_start(pl);

	return rc < 0 ? rc : ama_pipeline_finish(pl);
}

int ama_run(const char *const *argv, const struct ama_redirect *in,
	    const struct ama_redirect *out)
{
	struct ama_command stage = { argv, 0, -1 };
	struct ama_pipeline pl = { &stage, 1, { 0 }, { 0 }, 0 };

	if (in)
		pl.in = *in;
	if (out)
		pl.out = *out;
	if (pl.in.how == AMA_REDIR_PIPE || pl.out.how == AMA_REDIR_PIPE)
		abort();	/* nobody could pump it: see exec.h */
	return ama_pipeline_run(&pl);
}
