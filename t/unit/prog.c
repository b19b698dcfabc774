/* t/unit/prog.c: program names, messages, option parsing, the record loop. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "prog.h"

#define USAGE "ama-t [-z] [-q] [--stdin] [-j <n>] [<path>...]"

static char dir[32];

static void setup(void)
{
	strcpy(dir, "/tmp/ama-prog-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void teardown(void)
{
	if (!dir[0] || chdir("/") < 0)
		return;
	if (nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS) < 0)
		cr_log_warn("cannot remove %s", dir);
}

/* The same, for a program that has set its name. */
static void setup_named(void)
{
	setup();
	ama_setprogname("ama-t");
}

TestSuite(prog, .init = setup, .fini = teardown);
TestSuite(msg, .init = setup_named, .fini = teardown);
TestSuite(options, .init = setup_named, .fini = teardown);
TestSuite(loop, .init = setup_named, .fini = teardown);

/* Send fd to the file name (created afresh); returns a copy of the old fd. */
static int capture(int fd, const char *name)
{
	int saved = dup(fd), f;

	cr_assert(saved >= 0);
	f = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(f >= 0, "%s: %s", name, strerror(errno));
	cr_assert_eq(dup2(f, fd), fd);
	close(f);
	return saved;
}

static void restore(int fd, int saved)
{
	cr_assert_eq(dup2(saved, fd), fd);
	close(saved);
}

/* The whole file, NUL-terminated; *len (if not NULL) counts NUL bytes too. */
static char *slurp(const char *name, size_t *len)
{
	char *s = malloc(4097);
	size_t n = 0;
	ssize_t got;
	int fd = open(name, O_RDONLY);

	cr_assert_not_null(s);
	cr_assert(fd >= 0, "%s: %s", name, strerror(errno));
	for (;;) {
		got = read(fd, s + n, 4096 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	cr_assert_eq(got, 0, "%s: %s", name, strerror(errno));
	cr_assert_lt(n, 4096, "%s is too long for the test", name);
	close(fd);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

static void assert_file(const char *name, const char *want)
{
	char *s = slurp(name, NULL);

	cr_assert_str_eq(s, want, "%s holds [%s]", name, s);
	free(s);
}

/* Make fd 0 read the bytes given. */
static void feed(const char *data, size_t len)
{
	int f = open("stdin", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(f >= 0);
	cr_assert_eq(write(f, data, len), (ssize_t)len);
	close(f);
	f = open("stdin", O_RDONLY);
	cr_assert(f >= 0);
	cr_assert_eq(dup2(f, 0), 0);
	close(f);
}

/* Messages land on stderr: what one call printed. */
#define STDERR_OF(call, want) do {				\
		int saved_ = capture(2, "stderr");		\
		call;						\
		restore(2, saved_);				\
		assert_file("stderr", want);			\
	} while (0)

Test(prog, the_name_is_ama_until_set)
{
	cr_assert_str_eq(ama_progname(), "ama");
	STDERR_OF(ama_msg("no asset here"), "ama: no asset here\n");
	ama_setprogname("ama-frob");
	cr_assert_str_eq(ama_progname(), "ama-frob");
	STDERR_OF(ama_msg("no asset here"), "ama-frob: no asset here\n");
}

Test(prog, online_cpus_are_what_the_system_says_within_1_and_256)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int want = n < 1 ? 1 : n > 256 ? 256 : (int)n;

	cr_assert_eq(ama_online_cpus(), want);
	cr_assert(ama_online_cpus() >= 1);
}

Test(msg, a_message_is_the_name_then_the_reason)
{
	STDERR_OF(ama_msg("%d of %s", 3, "4"), "ama-t: 3 of 4\n");
	STDERR_OF(ama_msg_path(NULL, "no path"), "ama-t: no path\n");
	STDERR_OF(ama_msg_path("data/x.bin", "cannot open: %s",
			       "Permission denied"),
		  "ama-t: data/x.bin: cannot open: Permission denied\n");
}

Test(msg, a_path_is_quoted_as_on_stdout)
{
	STDERR_OF(ama_msg_path("data/x\n.bin", "gone"),
		  "ama-t: \"data/x\\n.bin\": gone\n");
	STDERR_OF(ama_msg_path("a\tb", "gone"), "ama-t: \"a\\tb\": gone\n");
	STDERR_OF(ama_msg_path("say \"hi\"", "gone"),
		  "ama-t: \"say \\\"hi\\\"\": gone\n");
	STDERR_OF(ama_msg_path("back\\slash", "gone"),
		  "ama-t: \"back\\\\slash\": gone\n");
	STDERR_OF(ama_msg_path("\x01\x7f", "gone"),
		  "ama-t: \"\\001\\177\": gone\n");
	/* other bytes, UTF-8 or not, are written as they are */
	STDERR_OF(ama_msg_path("caf\xc3\xa9 \xff.csv", "gone"),
		  "ama-t: caf\xc3\xa9 \xff.csv: gone\n");
}

Test(msg, report_prints_the_last_error_and_its_subject)
{
	int status = -1;

	ama_error_setp(AMA_ENOTFOUND, "sub/ject", "no such entry");
	STDERR_OF(status = ama_report("fallback"),
		  "ama-t: sub/ject: no such entry\n");
	cr_assert_eq(status, 1);
	/* no subject: the fallback, quoted */
	ama_error_set(AMA_EINVAL, "bad record");
	STDERR_OF(status = ama_report("fall\tback"),
		  "ama-t: \"fall\\tback\": bad record\n");
	cr_assert_eq(status, 1);
	/* neither */
	ama_error_set(AMA_EINVAL, "bad record");
	STDERR_OF(status = ama_report(NULL), "ama-t: bad record\n");
	cr_assert_eq(status, 1);
	errno = ENOENT;
	ama_error_setp_errno(AMA_EIO, "f", "cannot open");
	STDERR_OF(status = ama_report(NULL),
		  "ama-t: f: cannot open: No such file or directory\n");
	cr_assert_eq(status, 1);
}

Test(msg, report_asks_for_2_for_setup_errors_and_1_otherwise)
{
	static const int two[] = {
		AMA_ENOMEM, AMA_ELOCKED, AMA_ECORRUPT, AMA_ESETUP, AMA_EAUTH,
	};
	static const int one[] = {
		AMA_EIO, AMA_EINVAL, AMA_ENOTFOUND, AMA_ECHANGED,
		AMA_ENOTREG, AMA_ENET, AMA_EMODIFIED, AMA_ECONFLICT,
		AMA_EEXIST, AMA_EREMOTE, AMA_EDIGEST,
	};
	int status = -1;
	size_t i;

	for (i = 0; i < sizeof(two) / sizeof(two[0]); i++) {
		ama_error_set(two[i], "why");
		STDERR_OF(status = ama_report(NULL), "ama-t: why\n");
		cr_expect_eq(status, 2, "code %d", two[i]);
	}
	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		ama_error_set(one[i], "why");
		STDERR_OF(status = ama_report(NULL), "ama-t: why\n");
		cr_expect_eq(status, 1, "code %d", one[i]);
	}
}

Test(msg, a_usage_error_gives_the_reason_then_the_usage_and_2)
{
	struct ama_common c;
	int status = -1;

	memset(&c, 0, sizeof(c));
	c.usage = USAGE;
	STDERR_OF(status = ama_usage_error(&c, "too many %s", "paths"),
		  "ama-t: too many paths\nama-t: usage: " USAGE "\n");
	cr_assert_eq(status, 2);
}

/* --- options --- */

static const char *name_opt;
static int flag_opt, count_opt;

static const struct ama_option test_opts[] = {
	AMA_OPT_STRING(0, "name", &name_opt),
	AMA_OPT_FLAG('f', "force", &flag_opt),
	AMA_OPT_INT(0, "count", &count_opt),
	AMA_OPT_INT('n', NULL, &count_opt),
	AMA_OPT_END,
};

#define ALL_COMMON \
	(AMA_COMMON_Z | AMA_COMMON_STDIN | AMA_COMMON_QUIET | AMA_COMMON_JOBS)

/* argv as a program gets it: "ama-t" and then args, up to a NULL. */
static int make_argv(char **argv, char *const *args)
{
	int n = 0;

	argv[n++] = "ama-t";
	while (args[n - 1]) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	return n;
}

/*
 * Parse in a child that does what a main does (exit 2 when the parser
 * fails, 0 when it succeeds); its exit status, its stderr in "stderr" and
 * its stdout in "stdout". getopt keeps state across calls, so each parse
 * of a table has a process of its own.
 */
static int parse_in_child(unsigned common, char *const *args)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct ama_common c;
		char *argv[32], **av = argv;
		int ac = make_argv(argv, args);

		capture(1, "stdout");
		capture(2, "stderr");
			if (ama_parse_options(&ac, &av, test_opts, common, &c,
				      USAGE) < 0)
			_exit(2);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "status %#x", st);
	return WEXITSTATUS(st);
}

Test(options, flags_values_and_operands_land_where_they_belong)
{
	char *argv[] = {
		"ama-t", "a", "-z", "--stdin", "-q", "-j", "3", "--name", "N",
		"-f", "--count=7", "b", "--", "-c", NULL,
	};
	char **av = argv;
	int ac = 14;
	struct ama_common c;
	int saved = capture(2, "stderr");

	cr_assert_eq(ama_parse_options(&ac, &av, test_opts, ALL_COMMON, &c,
				       USAGE), 0);
	restore(2, saved);
	assert_file("stderr", "");
	cr_assert_eq(c.z, 1);
	cr_assert_eq(c.use_stdin, 1);
	cr_assert_eq(c.quiet, 1);
	cr_assert_eq(c.jobs, 3);
	cr_assert_eq(c.progress, 0);
	cr_assert_eq(c.usage, USAGE);
	cr_assert_str_eq(name_opt, "N");
	cr_assert_eq(flag_opt, 1);
	cr_assert_eq(count_opt, 7);
	cr_assert_eq(ac, 3);
	cr_assert_str_eq(av[0], "a");
	cr_assert_str_eq(av[1], "b");
	cr_assert_str_eq(av[2], "-c");
	cr_assert_eq(c.out.fd, 1);
	cr_assert_eq(c.out.z, 1);
}

Test(options, attached_and_bundled_forms_are_taken)
{
	char *argv[] = {
		"ama-t", "-zqj4", "-n12", "--name=x=y", "--force", NULL,
	};
	char **av = argv;
	int ac = 5;
	struct ama_common c;

	cr_assert_eq(ama_parse_options(&ac, &av, test_opts, ALL_COMMON, &c,
				       USAGE), 0);
	cr_assert_eq(c.z, 1);
	cr_assert_eq(c.quiet, 1);
	cr_assert_eq(c.jobs, 4);
	cr_assert_eq(count_opt, 12);
	cr_assert_str_eq(name_opt, "x=y");
	cr_assert_eq(flag_opt, 1);
	cr_assert_eq(c.use_stdin, 0);
	cr_assert_eq(ac, 0);
	cr_assert_eq(c.out.z, 1);
}

Test(options, the_common_struct_starts_from_zero)
{
	char *argv[] = { "ama-t", NULL };
	char **av = argv;
	int ac = 1;
	struct ama_common c;

	memset(&c, 0x5a, sizeof(c));
	cr_assert_eq(ama_parse_options(&ac, &av, NULL, ALL_COMMON &
				       ~AMA_COMMON_JOBS, &c, USAGE), 0);
	cr_assert_eq(c.z, 0);
	cr_assert_eq(c.use_stdin, 0);
	cr_assert_eq(c.quiet, 0);
	cr_assert_eq(c.jobs, 0);
	cr_assert_null(c.wait_input);
	cr_assert_null(c.wait_input_arg);
	cr_assert_eq(c.out.z, 0);
	cr_assert_eq(c.out.fd, 1);
	cr_assert_eq(ac, 0);
}

Test(options, jobs_default_to_the_online_cpus_and_stop_at_1024)
{
	char *argv[] = { "ama-t", NULL };
	char **av = argv;
	int ac = 1;
	struct ama_common c;

	cr_assert_eq(ama_parse_options(&ac, &av, NULL, AMA_COMMON_JOBS, &c,
				       USAGE), 0);
	cr_assert_eq(c.jobs, ama_online_cpus());
	cr_assert_eq(parse_in_child(AMA_COMMON_JOBS,
				    (char *[]){ "-j", "1024", NULL }), 0);
	assert_file("stderr", "");
	cr_assert_eq(parse_in_child(AMA_COMMON_JOBS,
				    (char *[]){ "-j", "1025", NULL }), 2);
	assert_file("stderr", "ama-t: option '-j' wants 0 (one job a core) "
		    "to 1024, not '1025'\n"
		    "ama-t: usage: " USAGE "\n");
}

Test(options, jobs_0_is_one_a_core)
{
	char *argv[] = { "ama-t", "-j", "0", NULL };
	char **av = argv;
	int ac = 3;
	struct ama_common c;

	cr_assert_eq(ama_parse_options(&ac, &av, NULL, AMA_COMMON_JOBS, &c,
				       USAGE), 0);
	cr_assert_eq(c.jobs, ama_online_cpus());
}

/* a program's own -j (its default is not the cores) reads the same */
Test(options, a_programs_own_jobs_option_reads_as_the_common_one)
{
	char *argv[] = { "ama-t", "--jobs=0", NULL };
	char **av = argv;
	int ac = 2, jobs = -1;
	struct ama_common c;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &jobs),
		AMA_OPT_END
	};

	cr_assert_eq(ama_parse_options(&ac, &av, opts, 0, &c, USAGE), 0);
	cr_assert_eq(jobs, ama_online_cpus());
	jobs = -1;
	av = (char *[]){ "ama-t", NULL };
	ac = 1;
	cr_assert_eq(ama_parse_options(&ac, &av, opts, 0, &c, USAGE), 0);
	cr_assert_eq(jobs, -1, "not given: the program's default stays");
}

Test(parse_jobs, zero_is_the_cores_and_1024_the_most)
{
	int n = -7;

	cr_assert_eq(ama_parse_jobs("0", &n), 0);
	cr_assert_eq(n, ama_online_cpus());
	cr_assert_eq(ama_parse_jobs("1", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ama_parse_jobs("1024", &n), 0);
	cr_assert_eq(n, 1024);
	n = -7;
	cr_assert_eq(ama_parse_jobs("1025", &n), -1);
	cr_assert_eq(ama_parse_jobs("-1", &n), -1);
	cr_assert_eq(ama_parse_jobs("", &n), -1);
	cr_assert_eq(ama_parse_jobs("2x", &n), -1);
	cr_assert_eq(ama_parse_jobs("99999999999", &n), -1);
	cr_assert_eq(n, -7);
}

Test(options, in_order_stops_at_the_first_operand)
{
	char *argv[] = { "ama-t", "-q", "cmd", "-z", "--bogus", NULL };
	char **av = argv;
	int ac = 5;
	struct ama_common c;

	cr_assert_eq(ama_parse_options(&ac, &av, NULL, AMA_COMMON_QUIET |
				       AMA_COMMON_Z | AMA_COMMON_IN_ORDER, &c,
				       USAGE), 0);
	cr_assert_eq(c.quiet, 1);
	cr_assert_eq(c.z, 0);
	cr_assert_eq(ac, 3);
	cr_assert_str_eq(av[0], "cmd");
	cr_assert_str_eq(av[1], "-z");
	cr_assert_str_eq(av[2], "--bogus");
}

Test(options, bad_options_are_usage_errors_with_2)
{
	static const struct {
		unsigned common;
		char *args[4];
		const char *why;
	} bad[] = {
		{ ALL_COMMON, { "--bogus" }, "unknown option '--bogus'" },
		{ ALL_COMMON, { "-x" }, "unknown option '-x'" },
		{ ALL_COMMON, { "-zx" }, "unknown option '-x'" },
		{ ALL_COMMON, { "a", "-x", "b" }, "unknown option '-x'" },
		/* a cluster after a long option: the short one is named */
		{ ALL_COMMON, { "--stdin", "-xz" }, "unknown option '-x'" },
		{ ALL_COMMON, { "--stdin", "-zx" }, "unknown option '-x'" },
		{ ALL_COMMON, { "--quiet=3" },
		  "option '--quiet' takes no value" },
		{ ALL_COMMON, { "--bogus=3" }, "unknown option '--bogus=3'" },
		{ 0, { "-z" }, "unknown option '-z'" },
		{ 0, { "--stdin" }, "unknown option '--stdin'" },
		{ 0, { "-q" }, "unknown option '-q'" },
		{ 0, { "--quiet" }, "unknown option '--quiet'" },
		{ 0, { "-j", "2" }, "unknown option '-j'" },
		{ ALL_COMMON, { "-j" }, "option '-j' needs a value" },
		{ ALL_COMMON, { "--jobs" }, "option '--jobs' needs a value" },
		{ ALL_COMMON, { "--name" }, "option '--name' needs a value" },
		{ ALL_COMMON, { "-j", "x" },
		  "option '-j' wants 0 (one job a core) to 1024, not 'x'" },
		{ ALL_COMMON, { "--jobs=-1" },
		  "option '-j' wants 0 (one job a core) to 1024, not '-1'" },
		{ ALL_COMMON, { "-j", "4x" },
		  "option '-j' wants 0 (one job a core) to 1024, not '4x'" },
		{ ALL_COMMON, { "-j", "" },
		  "option '-j' wants 0 (one job a core) to 1024, not ''" },
		{ ALL_COMMON, { "-j", "2147483648" },
		  "option '-j' wants 0 (one job a core) to 1024, not '2147483648'" },
		{ ALL_COMMON, { "--count", "many" },
		  "option '--count' wants a number, not 'many'" },
		{ ALL_COMMON, { "-n", "-3" },
		  "option '-n' wants a number, not '-3'" },
	};
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(parse_in_child(bad[i].common, bad[i].args), 2,
			     "%s", bad[i].why);
		snprintf(want, sizeof(want), "ama-t: %s\nama-t: usage: %s\n",
			 bad[i].why, USAGE);
		assert_file("stderr", want);
		assert_file("stdout", "");
	}
}

Test(options, help_prints_the_usage_on_stdout_and_exits_0)
{
	cr_assert_eq(parse_in_child(0, (char *[]){ "--help", NULL }), 0);
	assert_file("stdout", "usage: " USAGE "\n");
	assert_file("stderr", "");
	cr_assert_eq(parse_in_child(ALL_COMMON,
				    (char *[]){ "a", "-h", "-z", NULL }), 0);
	assert_file("stdout", "usage: " USAGE "\n");
	assert_file("stderr", "");
}

Test(options, help_after_a_bad_option_is_still_a_usage_error)
{
	cr_assert_eq(parse_in_child(0, (char *[]){ "-h", "--bogus", NULL }),
		     2);
	assert_file("stdout", "");
	assert_file("stderr", "ama-t: unknown option '--bogus'\n"
		    "ama-t: usage: " USAGE "\n");
}

Test(options, help_that_cannot_be_written_exits_2)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "ama-t", "--help", NULL }, **av = argv;
		int ac = 2, f = open("/dev/full", O_WRONLY);
		struct ama_common c;

		if (f < 0 || dup2(f, 1) != 1)
			_exit(99);
		ama_parse_options(&ac, &av, NULL, 0, &c, USAGE);
		_exit(98);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "status %#x", st);
	cr_assert_eq(WEXITSTATUS(st), 2);
}

/* Parse with stderr on fd, which may be a terminal. */
static int progress_with_stderr(int fd, char *opt)
{
	char *argv[] = { "ama-t", opt, NULL };
	char **av = argv;
	int ac = opt ? 2 : 1, saved = dup(2);
	struct ama_common c;

	cr_assert_eq(dup2(fd, 2), 2);
	cr_assert_eq(ama_parse_options(&ac, &av, NULL, AMA_COMMON_QUIET, &c,
				       USAGE), 0);
	restore(2, saved);
	return c.progress;
}

static int open_terminal(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;

	cr_assert(m >= 0, "posix_openpt: %s", strerror(errno));
	cr_assert_eq(grantpt(m), 0);
	cr_assert_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	cr_assert(s >= 0);
	cr_assert(isatty(s));
	return s;
}

Test(options, progress_when_stderr_is_a_terminal)
{
	cr_assert_eq(progress_with_stderr(open_terminal(), NULL), 1);
}

Test(options, no_progress_when_quiet)
{
	cr_assert_eq(progress_with_stderr(open_terminal(), "-q"), 0);
}

Test(options, no_progress_when_stderr_is_a_file)
{
	int f = open("file", O_WRONLY | O_CREAT, 0644);

	cr_assert(f >= 0);
	cr_assert_eq(progress_with_stderr(f, NULL), 0);
}

/* --- the record loop --- */

struct seen {
	int n;
	char path[8][32];
	size_t path_len[8];
	char fields[8][32];
	int nfields[8];
	unsigned long lineno[8];
};

/*
 * Note each record; write its path back unless it is one that fails:
 * "bad..." (a record failure), "setup" (a setup error), "other" (an error
 * about another path).
 */
static int note(struct ama_common *c, const struct ama_record *rec,
		void *ctx)
{
	struct seen *s = ctx;
	int i;

	cr_assert_lt(s->n, 8);
	cr_assert_lt(rec->path_len, sizeof(s->path[0]));
	memcpy(s->path[s->n], rec->path, rec->path_len);
	s->path_len[s->n] = rec->path_len;
	s->nfields[s->n] = rec->nfields;
	for (i = 0; i < rec->nfields; i++) {
		strcat(s->fields[s->n], i ? "," : "");
		strcat(s->fields[s->n], rec->field[i]);
	}
	s->lineno[s->n++] = rec->lineno;
	if (!strncmp(rec->path, "bad", 3))
		return ama_error_set(AMA_ENOTFOUND, "no such thing");
	if (!strcmp(rec->path, "setup"))
		return ama_error_set(AMA_ESETUP, "no bucket");
	if (!strcmp(rec->path, "other"))
		return ama_error_setp(AMA_EIO, "else\nwhere", "cannot read");
	ama_record_write(&c->out, NULL, rec->path, rec->path_len);
	return 0;
}

struct run {
	struct ama_common c;
	int status;
	char *out;		/* stdout, NUL bytes and all */
	size_t out_len;
	char *err;
};

/* Parse "ama-t ARGS", then run the loop over kind; stdin is as it is. */
static void run(struct run *r, unsigned common, char *const *args,
		enum ama_input_kind kind, struct seen *s)
{
	char *argv[32], **av = argv;
	int ac = make_argv(argv, args);
	int out = capture(1, "stdout"), err = capture(2, "stderr");

	memset(s, 0, sizeof(*s));
	cr_assert_eq(ama_parse_options(&ac, &av, NULL, common, &r->c, USAGE),
		     0);
	r->status = ama_for_each_record(&r->c, ac, av, kind, note, s);
	restore(1, out);
	restore(2, err);
	r->out = slurp("stdout", &r->out_len);
	r->err = slurp("stderr", NULL);
}

static void run_release(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define STDIN(s) feed((s), sizeof(s) - 1)

Test(loop, operands_are_the_paths_and_stdin_is_left_alone)
{
	struct run r;
	struct seen s;

	STDIN("x\n");
	run(&r, AMA_COMMON_Z, (char *[]){ "a", "b\tc", NULL },
	    AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.path[0], "a");
	cr_assert_str_eq(s.path[1], "b\tc");
	cr_assert_eq(s.path_len[1], 3);
	cr_assert_eq(s.lineno[0], 0);
	cr_assert_eq(s.nfields[0], 0);
	cr_assert_str_eq(r.out, "a\n\"b\\tc\"\n");
	cr_assert_str_eq(r.err, "");
	run_release(&r);
}

Test(loop, without_operands_each_line_of_stdin_is_a_path)
{
	struct run r;
	struct seen s;

	STDIN("one\n\"t\\tw\\\\o\"\nno newline at the end");
	run(&r, AMA_COMMON_Z, (char *[]){ NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.path[0], "one");
	cr_assert_str_eq(s.path[1], "t\tw\\o");
	cr_assert_str_eq(s.path[2], "no newline at the end");
	cr_assert_eq(s.lineno[0], 1);
	cr_assert_eq(s.lineno[1], 2);
	cr_assert_eq(s.lineno[2], 3);
	cr_assert_str_eq(r.out, "one\n\"t\\tw\\\\o\"\nno newline at the end\n");
	cr_assert_str_eq(r.err, "");
	run_release(&r);
}

Test(loop, z_reads_and_writes_nul_terminated_records_never_quoted)
{
	static const char want[] = "a\nb\0\"q\"\0tab\there\0";
	struct run r;
	struct seen s;

	STDIN("a\nb\0\"q\"\0tab\there");
	run(&r, AMA_COMMON_Z, (char *[]){ "-z", NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.path[0], "a\nb");
	cr_assert_str_eq(s.path[1], "\"q\"");
	cr_assert_str_eq(s.path[2], "tab\there");
	cr_assert_eq(r.out_len, sizeof(want) - 1);
	cr_assert_eq(memcmp(r.out, want, sizeof(want) - 1), 0);
	cr_assert_str_eq(r.err, "");
	run_release(&r);
}

Test(loop, a_dash_operand_reads_stdin_in_its_place)
{
	struct run r;
	struct seen s;

	STDIN("s1\ns2\n");
	run(&r, 0, (char *[]){ "a", "-", "b", NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(s.n, 4);
	cr_assert_str_eq(s.path[0], "a");
	cr_assert_str_eq(s.path[1], "s1");
	cr_assert_str_eq(s.path[2], "s2");
	cr_assert_str_eq(s.path[3], "b");
	cr_assert_eq(s.lineno[2], 2);
	cr_assert_str_eq(r.out, "a\ns1\ns2\nb\n");
	run_release(&r);
}

Test(loop, stdin_option_reads_stdin)
{
	struct run r;
	struct seen s;

	STDIN("in\n");
	run(&r, AMA_COMMON_STDIN, (char *[]){ "--stdin", NULL },
	    AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.path[0], "in");
	cr_assert_str_eq(r.out, "in\n");
	run_release(&r);
}

Test(loop, stdin_option_with_operands_is_a_usage_error)
{
	struct run r;
	struct seen s;

	STDIN("in\n");
	run(&r, AMA_COMMON_STDIN, (char *[]){ "--stdin", "a", NULL },
	    AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(s.n, 0);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, "ama-t: --stdin takes no operands\n"
			 "ama-t: usage: " USAGE "\n");
	run_release(&r);
}

Test(loop, records_are_split_into_fields)
{
	struct run r;
	struct seen s;

	STDIN("f1 f2 f3\tp q\n\tbare\n");
	run(&r, 0, (char *[]){ NULL }, AMA_INPUT_RECORDS, &s);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.nfields[0], 3);
	cr_assert_str_eq(s.fields[0], "f1,f2,f3");
	cr_assert_str_eq(s.path[0], "p q");
	cr_assert_eq(s.nfields[1], 0);
	cr_assert_str_eq(s.path[1], "bare");
	cr_assert_eq(s.lineno[1], 2);
	run_release(&r);
}

Test(loop, records_come_on_stdin_not_as_operands)
{
	struct run r;
	struct seen s;

	STDIN("f\tp\n");
	run(&r, 0, (char *[]){ "p", NULL }, AMA_INPUT_RECORDS, &s);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(s.n, 0);
	cr_assert_str_eq(r.err, "ama-t: records come on stdin, not as "
			 "operands\nama-t: usage: " USAGE "\n");
	run_release(&r);
}

Test(loop, a_failed_record_is_named_and_the_loop_goes_on_to_1)
{
	struct run r;
	struct seen s;

	STDIN("ok1\nbad\nbad\tname\nok2\n");
	run(&r, 0, (char *[]){ NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(s.n, 4);
	cr_assert_str_eq(r.out, "ok1\nok2\n");
	cr_assert_str_eq(r.err, "ama-t: bad: no such thing\n"
			 "ama-t: \"bad\\tname\": no such thing\n");
	run_release(&r);
}

Test(loop, the_subject_of_the_error_is_named_rather_than_the_record)
{
	struct run r;
	struct seen s;

	run(&r, 0, (char *[]){ "other", "ok", NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(r.out, "ok\n");
	cr_assert_str_eq(r.err, "ama-t: \"else\\nwhere\": cannot read\n");
	run_release(&r);
}

Test(loop, a_setup_error_stops_the_loop_with_2)
{
	struct run r;
	struct seen s;

	STDIN("ok1\nbad\nsetup\nok2\n");
	run(&r, 0, (char *[]){ NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(r.out, "ok1\n");
	cr_assert_str_eq(r.err, "ama-t: bad: no such thing\n"
			 "ama-t: setup: no bucket\n");
	run_release(&r);
}

Test(loop, a_setup_error_stops_the_operands_too)
{
	struct run r;
	struct seen s;

	STDIN("s1\n");
	run(&r, 0, (char *[]){ "ok", "setup", "-", "ok2", NULL },
	    AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(r.out, "ok\n");
	cr_assert_str_eq(r.err, "ama-t: setup: no bucket\n");
	run_release(&r);
}

Test(loop, a_malformed_line_is_reported_and_skipped)
{
	struct run r;
	struct seen s;

	STDIN("a\n\"open\nb\n");
	run(&r, 0, (char *[]){ NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.path[1], "b");
	cr_assert_eq(s.lineno[1], 3);
	cr_assert_str_eq(r.out, "a\nb\n");
	cr_assert_str_eq(r.err, "ama-t: malformed record at line 2: "
			 "bad quoting: no closing quote\n");
	run_release(&r);
}

Test(loop, a_record_without_a_tab_is_reported_and_skipped)
{
	struct run r;
	struct seen s;

	STDIN("f\ta\nno tab\nf\tb\n");
	run(&r, 0, (char *[]){ NULL }, AMA_INPUT_RECORDS, &s);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(r.out, "a\nb\n");
	cr_assert_str_eq(r.err,
			 "ama-t: malformed record at line 2: no TAB\n");
	run_release(&r);
}

Test(loop, an_empty_operand_is_a_failed_record)
{
	struct run r;
	struct seen s;

	run(&r, 0, (char *[]){ "", "a", NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.path[0], "a");
	cr_assert_str_eq(r.out, "a\n");
	cr_assert_str_eq(r.err, "ama-t: empty path\n");
	run_release(&r);
}

Test(loop, output_that_cannot_be_written_makes_the_status_2)
{
	char *argv[] = { "ama-t", "a", "b", NULL }, **av = argv;
	int ac = 3, out = dup(1), err = capture(2, "stderr");
	int full = open("/dev/full", O_WRONLY), status;
	struct ama_common c;
	struct seen s;

	memset(&s, 0, sizeof(s));
	cr_assert(full >= 0);
	cr_assert_eq(dup2(full, 1), 1);
	close(full);
	cr_assert_eq(ama_parse_options(&ac, &av, NULL, 0, &c, USAGE), 0);
	status = ama_for_each_record(&c, ac, av, AMA_INPUT_PATHS, note, &s);
	restore(1, out);
	restore(2, err);
	cr_assert_eq(status, 2);
	cr_assert_eq(s.n, 2);
	assert_file("stderr",
		    "ama-t: cannot write output: No space left on device\n");
}

Test(loop, run_records_leaves_the_output_to_finish)
{
	char *argv[] = { "ama-t", "a", "bad", NULL }, **av = argv;
	int ac = 3, out = capture(1, "stdout"), err = capture(2, "stderr");
	struct ama_common c;
	struct seen s;
	int status;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(ama_parse_options(&ac, &av, NULL, 0, &c, USAGE), 0);
	status = ama_run_records(&c, ac, av, AMA_INPUT_PATHS, note, &s);
	cr_assert_eq(status, 1);
	assert_file("stdout", "");
	/* what a thread pool finished meanwhile */
	ama_record_write(&c.out, "late", "z", 1);
	cr_assert_eq(ama_finish(&c, status), 1);
	restore(1, out);
	restore(2, err);
	assert_file("stdout", "a\nlate\tz\n");
	assert_file("stderr", "ama-t: bad: no such thing\n");
}

Test(loop, a_read_error_on_stdin_is_2)
{
	struct run r;
	struct seen s;
	int d = open(".", O_RDONLY | O_DIRECTORY);

	cr_assert(d >= 0);
	cr_assert_eq(dup2(d, 0), 0);
	close(d);
	run(&r, 0, (char *[]){ NULL }, AMA_INPUT_PATHS, &s);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(s.n, 0);
	cr_assert_str_eq(r.err, "ama-t: cannot read input: Is a directory\n");
	run_release(&r);
}

struct waits {
	int calls, fd;
	int fail;
};

static int wait_input(void *arg, int fd)
{
	struct waits *w = arg;

	w->calls++;
	w->fd = fd;
	if (w->fail)
		return ama_error_set(AMA_ESETUP, "the pool failed");
	return 0;
}

/* The loop with a wait_input hook, reading "a\nb\n" on stdin. */
static int run_waiting(struct waits *w, struct seen *s)
{
	char *argv[] = { "ama-t", NULL }, **av = argv;
	int ac = 1, out = capture(1, "stdout"), err = capture(2, "stderr");
	struct ama_common c;
	int status;

	STDIN("a\nb\n");
	memset(s, 0, sizeof(*s));
	cr_assert_eq(ama_parse_options(&ac, &av, NULL, 0, &c, USAGE), 0);
	c.wait_input = wait_input;
	c.wait_input_arg = w;
	status = ama_for_each_record(&c, ac, av, AMA_INPUT_PATHS, note, s);
	restore(1, out);
	restore(2, err);
	return status;
}

Test(loop, wait_input_is_called_before_each_read_that_could_block)
{
	struct waits w = { 0, -1, 0 };
	struct seen s;

	/* once before the first read, once before the one that finds EOF */
	cr_assert_eq(run_waiting(&w, &s), 0);
	cr_assert_eq(w.calls, 2);
	cr_assert_eq(w.fd, 0);
	cr_assert_eq(s.n, 2);
	assert_file("stdout", "a\nb\n");
	assert_file("stderr", "");
}

Test(loop, a_failing_wait_input_stops_the_loop_with_2)
{
	struct waits w = { 0, -1, 1 };
	struct seen s;

	cr_assert_eq(run_waiting(&w, &s), 2);
	cr_assert_eq(w.calls, 1);
	cr_assert_eq(s.n, 0);
	assert_file("stdout", "");
	assert_file("stderr", "ama-t: the pool failed\n");
}
