/* exec.h: finding ama's programs on the exec path and running commands and pipelines. */
#ifndef AMA_EXEC_H
#define AMA_EXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/*
 * The exec path, where ama looks for its programs first, as git does:
 * the folders of $AMA_EXEC_PATH (colon-separated), then ama's libexec
 * folder, then $PATH. The libexec folder is found at run time from where
 * the running program is, as git's RUNTIME_PREFIX does: a program
 * installed in PREFIX/bin or PREFIX/libexec/ama (bindir and
 * pkglibexecdir relative to the configured prefix) uses
 * PREFIX/libexec/ama, whatever prefix it was built for, so a
 * reconfigure that rebuilt nothing, `make install prefix=...`, DESTDIR or
 * moving the installation all work. Elsewhere (the build tree) it is the
 * configured AMA_LIBEXECDIR.
 */

/*
 * The libexec folder of the installation holding program (an absolute
 * path, as /proc/self/exe gives it), appended to out: "/opt/x/bin/ama"
 * and "/opt/x/libexec/ama/ama-add" give "/opt/x/libexec/ama" in the
 * default layout. Returns 1, or 0 (out unchanged) if program is not in
 * bindir or pkglibexecdir of some prefix.
 */
int ama_exec_installed_dir(struct ama_buf *out, const char *program);

/* The exec path as one colon-separated string (without $PATH); caller frees. */
char *ama_exec_path(void);
/*
 * Put the exec path in front of $PATH in this process's environment, so
 * that the commands it runs find ama's programs first; relative folders
 * are made absolute. Calling it again changes nothing. The dispatcher
 * calls it before running a command; a porcelain program run directly
 * calls it before running plumbing. Returns 0, or AMA_EIO.
 */
int ama_exec_setup_path(void);
/*
 * Find the program name as execvp(3) would: name itself if it holds a '/',
 * else the first executable regular file name in a folder of $PATH.
 * *out is the path (caller frees). Returns 0, AMA_ENOTFOUND ("cannot run
 * 'name': No such file or directory"), or AMA_ESETUP ("cannot run 'name':
 * Permission denied") if only non-executable ones exist.
 */
int ama_exec_find(char **out, const char *name);

/* --- running commands: no shell, arguments passed as they are --- */

enum ama_redir {
	AMA_REDIR_INHERIT = 0,	/* the caller's own stdin or stdout */
	AMA_REDIR_NULL,		/* /dev/null */
	AMA_REDIR_FD,		/* fd, a descriptor of the caller's (who keeps
				   it and closes it) */
	AMA_REDIR_BUF,		/* stdin: the bytes of buf; stdout: appended
				   to buf */
	AMA_REDIR_PIPE,		/* a pipe; start() puts the caller's end in fd
				   (write end for stdin, read end for stdout) */
};

struct ama_redirect {
	enum ama_redir how;
	int fd;
	struct ama_buf *buf;
};

/* One command of a pipeline (ama_stage in lib/stage.h is an upload). */
struct ama_command {
	const char *const *argv;	/* NULL-terminated; argv[0] is looked
					   up as ama_exec_find() does */
	pid_t pid;		/* set by start; 0 if it did not start */
	int status;		/* set by finish: the exit status, 128 + the
				   signal that killed it; 127 (not found) or
				   126 (not runnable) if it could not be
				   started; -1 if it was not run */
};

/*
 * N commands, each one's stdout connected to the next one's stdin by a
 * pipe. The first stdin and the last stdout are in and out; stderr is
 * always inherited, so each stage prints its own messages. A command
 * starts with no signal blocked, SIGPIPE and SIGTERM at their defaults
 * and no handler of the caller's, and it gets SIGTERM if the thread that started it ends
 * (PR_SET_PDEATHSIG): a caller killed with SIGKILL leaves no command
 * running behind it. Start pipelines from a thread that outlives them
 * (the main thread).
 */
struct ama_pipeline {
	struct ama_command *cmds;
	size_t n;
	struct ama_redirect in, out;
	size_t failed;		/* set by finish: the stage whose failure
				   counts, or n if none failed */
};

/*
 * Start every stage. Every program is looked up before any is started, so
 * a missing one starts nothing. With AMA_REDIR_PIPE, the caller's end is
 * in pl->in.fd or pl->out.fd: write to it (or read from it) and close it,
 * setting the field to -1, or leave it for finish() to close. BUF and PIPE
 * do not mix in one pipeline (the caller could not pump its pipe while
 * finish() pumps the buffers: a deadlock). Returns 0, or AMA_ESETUP
 * ("cannot run 'ama-nosuch': No such file or directory") with
 * pl->failed set to the stage that could not start (stages started before
 * it are stopped with SIGTERM and reaped), or AMA_EIO if a pipe could not
 * be made.
 */
int ama_pipeline_start(struct ama_pipeline *pl);
/*
 * Feed and drain the BUF ends, close the caller's PIPE ends still open,
 * wait for every stage and set each status and pl->failed: the first stage
 * in order that failed other than by SIGPIPE (a stage killed by SIGPIPE
 * only wrote to a stage that stopped reading, whose own failure is the
 * cause); if none, the first that failed at all. Writing to a stage that
 * exits early is not an error of the caller's (SIGPIPE is blocked meanwhile).
 * Returns 0 when every stage exited 0, else the status of the failed
 * stage (1..255), or AMA_EIO if waiting failed.
 */
int ama_pipeline_finish(struct ama_pipeline *pl);
/* Start and finish; returns what they return. */
int ama_pipeline_run(struct ama_pipeline *pl);

/*
 * Run one command: in and out may be NULL (inherit) and not PIPE. Returns
 * as ama_pipeline_run() does: 0, the command's status (1..255), or a
 * negative code (it could not be started: AMA_ESETUP, the error set).
 */
int ama_run(const char *const *argv, const struct ama_redirect *in,
	    const struct ama_redirect *out);

#endif
