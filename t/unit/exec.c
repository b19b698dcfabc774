/* t/unit/exec.c: the exec path, and running commands and pipelines without a shell. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "exec.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static char tmp[64];

static void enter_tmp(void)
{
	strcpy(tmp, "/tmp/ama-exec-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	cr_assert_eq(chdir(tmp), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* After each test: the folder it made goes. */
static void leave_tmp(void)
{
	if (!tmp[0] || chdir("/") < 0)
		return;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

TestSuite(exec_path, .fini = leave_tmp);
TestSuite(run, .fini = leave_tmp);
TestSuite(pipeline, .fini = leave_tmp);

static void put_script(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

Test(exec_path, env_folders_come_before_libexecdir)
{
	char *p;

	enter_tmp();
	setenv("AMA_EXEC_PATH", "/one:rel/two::", 1);
	p = ama_exec_path();
	{
		char want[256];

		snprintf(want, sizeof(want), "/one:%s/rel/two:%s", tmp,
			 AMA_LIBEXECDIR);
		cr_assert_str_eq(p, want);
	}
	free(p);
	unsetenv("AMA_EXEC_PATH");
	p = ama_exec_path();
	cr_assert_str_eq(p, AMA_LIBEXECDIR);
	free(p);
}

/* the configured dir relative to the configured prefix: "bin" */
static const char *rel(const char *dir)
{
	return dir + strlen(AMA_PREFIX) + 1;
}

Test(exec_path, an_installed_program_finds_its_libexec_beside_it)
{
	struct ama_buf b = AMA_BUF_INIT;
	char prog[512], want[512];

	/* the layout is bin and libexec/ama below the prefix, whatever it is */
	cr_assert_eq(strncmp(AMA_BINDIR, AMA_PREFIX, strlen(AMA_PREFIX)), 0);
	snprintf(want, sizeof(want), "/opt/else where/%s",
		 rel(AMA_LIBEXECDIR));
	snprintf(prog, sizeof(prog), "/opt/else where/%s/ama",
		 rel(AMA_BINDIR));
	cr_assert_eq(ama_exec_installed_dir(&b, prog), 1);
	cr_assert_str_eq(b.s, want);
	ama_buf_reset(&b);
	snprintf(prog, sizeof(prog), "/opt/else where/%s/ama-upload",
		 rel(AMA_LIBEXECDIR));
	cr_assert_eq(ama_exec_installed_dir(&b, prog), 1);
	cr_assert_str_eq(b.s, want);
	ama_buf_reset(&b);
	/* the root as the prefix */
	snprintf(prog, sizeof(prog), "/%s/ama", rel(AMA_BINDIR));
	snprintf(want, sizeof(want), "/%s", rel(AMA_LIBEXECDIR));
	cr_assert_eq(ama_exec_installed_dir(&b, prog), 1);
	cr_assert_str_eq(b.s, want);
	ama_buf_release(&b);
}

Test(exec_path, a_program_elsewhere_is_no_installation)
{
	struct ama_buf b = AMA_BUF_INIT;
	static const char *const elsewhere[] = {
		"/src/ama/porcelain/ama",	/* the build tree */
		"/src/ama/plumbing/ama-hash",
		"ama",				/* not absolute */
		"/ama",
		"/opt/xbin/ama",		/* "bin" must be a whole name */
	};
	size_t i;

	for (i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++) {
		cr_assert_eq(ama_exec_installed_dir(&b, elsewhere[i]), 0,
			     "%s", elsewhere[i]);
		cr_assert_eq(b.len, 0);
	}
	ama_buf_release(&b);
}

Test(exec_path, setup_puts_it_in_front_of_path_once)
{
	char want[512];

	setenv("AMA_EXEC_PATH", "/x/bin", 1);
	setenv("PATH", "/usr/bin:/bin", 1);
	cr_assert_eq(ama_exec_setup_path(), 0);
	snprintf(want, sizeof(want), "/x/bin:%s:/usr/bin:/bin",
		 AMA_LIBEXECDIR);
	cr_assert_str_eq(getenv("PATH"), want);
	cr_assert_eq(ama_exec_setup_path(), 0);
	cr_assert_str_eq(getenv("PATH"), want);
}

Test(exec_path, find_searches_path_in_order)
{
	char *p = NULL, want[256];

	enter_tmp();
	cr_assert_eq(mkdir("a", 0755), 0);
	cr_assert_eq(mkdir("b", 0755), 0);
	put_script("a/ama-t", "#!/bin/sh\n", 0644);	/* not executable */
	put_script("b/ama-t", "#!/bin/sh\n", 0755);
	cr_assert_eq(mkdir("a/ama-dir", 0755), 0);
	snprintf(want, sizeof(want), "%s/a:%s/b", tmp, tmp);
	setenv("PATH", want, 1);
	cr_assert_eq(ama_exec_find(&p, "ama-t"), 0);
	snprintf(want, sizeof(want), "%s/b/ama-t", tmp);
	cr_assert_str_eq(p, want);
	free(p);
	cr_assert_eq(ama_exec_find(&p, "ama-nosuch"), AMA_ENOTFOUND);
	cr_assert_null(p);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot run 'ama-nosuch': No such file or directory");
	cr_assert_eq(ama_exec_find(&p, "ama-dir"), AMA_ENOTFOUND);
	cr_assert_eq(chmod("b/ama-t", 0644), 0);
	cr_assert_eq(ama_exec_find(&p, "ama-t"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot run 'ama-t': Permission denied");
	cr_assert_eq(ama_exec_find(&p, "./b/ama-t"), AMA_ESETUP);
	cr_assert_eq(chmod("b/ama-t", 0755), 0);
	cr_assert_eq(ama_exec_find(&p, "./b/ama-t"), 0);
	cr_assert_str_eq(p, "./b/ama-t");
	free(p);
	cr_assert_eq(ama_exec_find(&p, ""), AMA_ENOTFOUND);
}

Test(run, arguments_pass_untouched_without_a_shell)
{
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_redirect cap = { AMA_REDIR_BUF, -1, &out };
	static const char want[] = "[a\tb]\n[new\nline]\n[q\"uote]\n"
		"[back\\slash]\n[-dash]\n[\xe9]\n[$HOME `x` *]\n[]\n";

	cr_assert_eq(ama_run(ARGV("printf", "[%s]\\n", "a\tb", "new\nline",
				  "q\"uote", "back\\slash", "-dash", "\xe9",
				  "$HOME `x` *", ""), NULL, &cap), 0);
	cr_assert_eq(out.len, sizeof(want) - 1);
	cr_assert_str_eq(out.s, want);
	ama_buf_release(&out);
}

Test(run, the_exit_status_comes_back)
{
	cr_assert_eq(ama_run(ARGV("true"), NULL, NULL), 0);
	cr_assert_eq(ama_run(ARGV("false"), NULL, NULL), 1);
	cr_assert_eq(ama_run(ARGV("sh", "-c", "exit 7"), NULL, NULL), 7);
	cr_assert_eq(ama_run(ARGV("sh", "-c", "exit 255"), NULL, NULL), 255);
}

Test(run, a_killed_command_is_128_plus_the_signal)
{
	cr_assert_eq(ama_run(ARGV("sh", "-c", "kill -KILL $$"), NULL, NULL),
		     128 + SIGKILL);
	cr_assert_eq(ama_run(ARGV("sh", "-c", "kill -TERM $$"), NULL, NULL),
		     128 + SIGTERM);
}

static void ignore(int sig)
{
	(void)sig;
}

/*
 * kill -9 of a caller (ama upload) ends its commands (ama-stage-put)
 * rather than leaving them running as orphans. The test is a subreaper,
 * so the orphan becomes its child and it can see how it ended; without
 * the fix it sleeps on past the test's timeout.
 */
Test(run, a_command_ends_when_its_caller_is_killed, .timeout = 20)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	pid_t caller, cmd = 0;
	int status, i;
	FILE *f;

	enter_tmp();
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	caller = fork();
	cr_assert(caller >= 0);
	if (caller == 0) {
		struct ama_command c[] = { {
			ARGV("sh", "-c", "echo $$ >pid.tmp && mv pid.tmp pid "
			     "&& exec sleep 60"), 0, -1 } };
		struct ama_pipeline pl = { c, 1, { 0 }, { 0 }, 0 };

		/* the caller's own handling must not stop the signal */
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, ignore);
		if (ama_pipeline_start(&pl) < 0)
			_exit(10);
		for (;;)
			pause();
	}
	for (i = 0; i < 1000 && !(f = fopen("pid", "r")); i++)
		nanosleep(&nap, NULL);
	cr_assert_not_null(f, "the command did not start");
	cr_assert_eq(fscanf(f, "%d", &cmd), 1);
	fclose(f);
	cr_assert_eq(kill(caller, SIGKILL), 0);
	cr_assert_eq(waitpid(caller, &status, 0), caller);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	cr_assert_eq(waitpid(cmd, &status, 0), cmd);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
		  "the command's status %#x", status);
}

Test(run, a_missing_program_is_a_clear_setup_error)
{
	cr_assert_eq(ama_run(ARGV("ama-nosuch", "x"), NULL, NULL),
		     AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot run 'ama-nosuch': No such file or directory");
}

Test(run, stdin_from_a_buffer_and_stdout_captured, .timeout = 20)
{
	struct ama_buf in = AMA_BUF_INIT, out = AMA_BUF_INIT;
	struct ama_redirect rin = { AMA_REDIR_BUF, -1, &in };
	struct ama_redirect rout = { AMA_REDIR_BUF, -1, &out };
	size_t i;

	/* more than any pipe holds, both ways: no deadlock */
	for (i = 0; i < 3 * 1024 * 1024; i++)
		ama_buf_addch(&in, "abc\n"[i % 4]);
	cr_assert_eq(ama_run(ARGV("tr", "a-c", "A-C"), &rin, &rout), 0);
	cr_assert_eq(out.len, in.len);
	for (i = 0; i < out.len; i++)
		if (out.s[i] != "ABC\n"[i % 4])
			cr_assert_fail("byte %zu is '%c'", i, out.s[i]);
	ama_buf_release(&in);
	ama_buf_release(&out);
}

Test(run, a_command_that_does_not_read_its_input_is_no_harm, .timeout = 20)
{
	struct ama_buf in = AMA_BUF_INIT;
	struct ama_redirect rin = { AMA_REDIR_BUF, -1, &in };
	size_t i;

	for (i = 0; i < 1024 * 1024; i++)
		ama_buf_addch(&in, 'x');
	/* the writes hit a closed pipe: EPIPE, not a SIGPIPE for us */
	cr_assert_eq(ama_run(ARGV("true"), &rin, NULL), 0);
	cr_assert_eq(ama_run(ARGV("sh", "-c", "exit 3"), &rin, NULL), 3);
	ama_buf_release(&in);
}

Test(run, null_and_descriptors)
{
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_redirect rnull = { AMA_REDIR_NULL, -1, NULL };
	struct ama_redirect rout = { AMA_REDIR_BUF, -1, &out };
	struct ama_redirect rfd = { AMA_REDIR_FD, -1, NULL };
	char got[64] = { 0 };
	int fd;

	enter_tmp();
	cr_assert_eq(ama_run(ARGV("cat"), &rnull, &rout), 0);
	cr_assert_eq(out.len, 0);
	put_script("in", "from a file\n", 0644);
	rfd.fd = open("in", O_RDONLY);
	cr_assert(rfd.fd >= 0);
	cr_assert_eq(ama_run(ARGV("cat"), &rfd, &rout), 0);
	cr_assert_str_eq(out.s, "from a file\n");
	close(rfd.fd);
	rfd.fd = open("out", O_WRONLY | O_CREAT, 0644);
	cr_assert_eq(ama_run(ARGV("printf", "to a file"), &rnull, &rfd), 0);
	/* the caller's descriptor stays open and its own */
	cr_assert_eq(write(rfd.fd, "!", 1), 1);
	close(rfd.fd);
	fd = open("out", O_RDONLY);
	cr_assert_eq(read(fd, got, sizeof(got) - 1), 10);
	cr_assert_str_eq(got, "to a file!");
	close(fd);
	cr_assert_eq(ama_run(ARGV("printf", "to nowhere"), NULL, &rnull), 0);
	ama_buf_release(&out);
}

Test(pipeline, stages_are_connected_in_order, .timeout = 20)
{
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_command st[] = {
		{ ARGV("printf", "b\\na\\nc\\n"), 0, 0 },
		{ ARGV("sort"), 0, 0 },
		{ ARGV("tr", "a-z", "A-Z"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 3, { 0 }, { AMA_REDIR_BUF, -1, &out },
				   0 };

	cr_assert_eq(ama_pipeline_run(&pl), 0);
	cr_assert_str_eq(out.s, "A\nB\nC\n");
	cr_assert_eq(pl.failed, 3);
	cr_assert_eq(st[0].status, 0);
	cr_assert_eq(st[2].status, 0);
	ama_buf_release(&out);
}

Test(pipeline, the_failing_stage_is_named_with_its_status, .timeout = 20)
{
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_command st[] = {
		{ ARGV("printf", "x\\n"), 0, 0 },
		{ ARGV("sh", "-c", "cat >/dev/null; exit 5"), 0, 0 },
		{ ARGV("cat"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 3, { AMA_REDIR_NULL, -1, NULL },
				   { AMA_REDIR_BUF, -1, &out }, 0 };

	cr_assert_eq(ama_pipeline_run(&pl), 5);
	cr_assert_eq(pl.failed, 1);
	cr_assert_eq(st[0].status, 0);
	cr_assert_eq(st[1].status, 5);
	cr_assert_eq(st[2].status, 0);
	ama_buf_release(&out);
}

Test(pipeline, a_stage_dying_of_sigpipe_is_not_the_cause, .timeout = 20)
{
	struct ama_command st[] = {
		{ ARGV("yes"), 0, 0 },
		{ ARGV("false"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 2, { 0 }, { AMA_REDIR_NULL, -1, NULL },
				   0 };

	/* yes writes until false is gone, and dies of SIGPIPE */
	cr_assert_eq(ama_pipeline_run(&pl), 1);
	cr_assert_eq(pl.failed, 1);
	cr_assert_eq(st[0].status, 128 + SIGPIPE);
	cr_assert_eq(st[1].status, 1);
}

Test(pipeline, sigpipe_alone_is_still_a_failure, .timeout = 20)
{
	struct ama_command st[] = {
		{ ARGV("yes"), 0, 0 },
		{ ARGV("head", "-n", "1"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 2, { 0 }, { AMA_REDIR_NULL, -1, NULL },
				   0 };

	/* the reader stopped early: nothing else explains the loss */
	cr_assert_eq(ama_pipeline_run(&pl), 128 + SIGPIPE);
	cr_assert_eq(pl.failed, 0);
}

Test(pipeline, a_killed_stage_counts_as_128_plus_signal, .timeout = 20)
{
	struct ama_command st[] = {
		{ ARGV("printf", "x"), 0, 0 },
		{ ARGV("sh", "-c", "kill -KILL $$"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 2, { 0 }, { AMA_REDIR_NULL, -1, NULL },
				   0 };

	cr_assert_eq(ama_pipeline_run(&pl), 128 + SIGKILL);
	cr_assert_eq(pl.failed, 1);
}

Test(pipeline, a_missing_program_starts_nothing)
{
	struct ama_command st[] = {
		{ ARGV("printf", "x"), 0, 0 },
		{ ARGV("ama-nosuch"), 0, 0 },
		{ ARGV("cat"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 3, { 0 }, { AMA_REDIR_NULL, -1, NULL },
				   0 };

	cr_assert_eq(ama_pipeline_run(&pl), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot run 'ama-nosuch': No such file or directory");
	cr_assert_eq(pl.failed, 1);
	cr_assert_eq(st[0].pid, 0);
	cr_assert_eq(st[0].status, -1);
	cr_assert_eq(st[1].status, 127);
	cr_assert_eq(st[2].status, -1);
}

Test(pipeline, the_caller_feeds_a_pipe_and_stages_see_its_end, .timeout = 20)
{
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_command st[] = {
		{ ARGV("cat"), 0, 0 },
		{ ARGV("cat"), 0, 0 },
		{ ARGV("wc", "-l"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 3, { AMA_REDIR_PIPE, -1, NULL },
				   { 0 }, 0 };
	int fd[2], i;
	char got[32] = { 0 };

	/* the last stage writes to a pipe of ours, read after finish */
	cr_assert_eq(pipe(fd), 0);
	pl.out.how = AMA_REDIR_FD;
	pl.out.fd = fd[1];
	cr_assert_eq(ama_pipeline_start(&pl), 0);
	cr_assert(pl.in.fd > 2);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(write(pl.in.fd, "line\n", 5), 5);
	close(pl.in.fd);
	pl.in.fd = -1;
	close(fd[1]);
	/*
	 * Would a stage hold a copy of another pipe's write end, wc would
	 * never see the end of its input and this would hang.
	 */
	cr_assert_eq(ama_pipeline_finish(&pl), 0);
	cr_assert(read(fd[0], got, sizeof(got) - 1) > 0);
	cr_assert_eq(atoi(got), 1000);
	close(fd[0]);
	ama_buf_release(&out);
}

Test(pipeline, the_caller_reads_a_pipe, .timeout = 20)
{
	struct ama_command st[] = {
		{ ARGV("printf", "%s", "streamed"), 0, 0 },
	};
	struct ama_pipeline pl = { st, 1, { AMA_REDIR_NULL, -1, NULL },
				   { AMA_REDIR_PIPE, -1, NULL }, 0 };
	char got[32] = { 0 };

	cr_assert_eq(ama_pipeline_start(&pl), 0);
	cr_assert_eq(read(pl.out.fd, got, sizeof(got) - 1), 8);
	cr_assert_str_eq(got, "streamed");
	/* left open: finish closes it */
	cr_assert_eq(ama_pipeline_finish(&pl), 0);
	cr_assert_eq(pl.out.fd, -1);
}

Test(pipeline, programs_are_found_on_the_exec_path_first, .timeout = 20)
{
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_redirect rout = { AMA_REDIR_BUF, -1, &out };
	char path[256];

	enter_tmp();
	cr_assert_eq(mkdir("exec", 0755), 0);
	cr_assert_eq(mkdir("bin", 0755), 0);
	put_script("exec/ama-which", "#!/bin/sh\necho exec path\n", 0755);
	put_script("bin/ama-which", "#!/bin/sh\necho PATH\n", 0755);
	snprintf(path, sizeof(path), "%s/bin:/usr/bin:/bin", tmp);
	setenv("PATH", path, 1);
	setenv("AMA_EXEC_PATH", "exec", 1);
	cr_assert_eq(ama_run(ARGV("ama-which"), NULL, &rout), 0);
	cr_assert_str_eq(out.s, "PATH\n");
	cr_assert_eq(ama_exec_setup_path(), 0);
	ama_buf_reset(&out);
	cr_assert_eq(ama_run(ARGV("ama-which"), NULL, &rout), 0);
	cr_assert_str_eq(out.s, "exec path\n");
	ama_buf_release(&out);
}
