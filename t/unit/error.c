/* t/unit/error.c: result codes and the per-thread last error. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static void assert_no_error(void)
{
	cr_assert_eq(ama_error_code(), AMA_OK);
	cr_assert_str_eq(ama_error_msg(), "no error");
	cr_assert_null(ama_error_path());
}

Test(error, codes_have_fixed_values)
{
	static const int code[] = {
		AMA_OK, AMA_EIO, AMA_ENOMEM, AMA_EINVAL, AMA_ENOTFOUND,
		AMA_ELOCKED, AMA_ECORRUPT, AMA_ECHANGED, AMA_ENOTREG,
		AMA_ESETUP, AMA_ENET, AMA_EMODIFIED, AMA_ECONFLICT,
		AMA_EEXIST, AMA_EREMOTE, AMA_EDIGEST, AMA_EAUTH,
	};
	int i;

	for (i = 0; i < (int)(sizeof(code) / sizeof(code[0])); i++)
		cr_assert_eq(code[i], -i, "code %d is %d", i, code[i]);
}

Test(error, a_fresh_thread_has_no_error)
{
	assert_no_error();
}

Test(error, set_records_code_and_reason_and_returns_code)
{
	cr_assert_eq(ama_error_set(AMA_EINVAL, "bad %s at %d%c", "field", 3,
				   '!'), AMA_EINVAL);
	cr_assert_eq(ama_error_code(), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "bad field at 3!");
	cr_assert_null(ama_error_path());
}

Test(error, a_later_error_replaces_the_earlier_one)
{
	ama_error_set(AMA_EIO, "a first reason that is rather long");
	cr_assert_eq(ama_error_set(AMA_ELOCKED, "%s", "short"), AMA_ELOCKED);
	cr_assert_eq(ama_error_code(), AMA_ELOCKED);
	cr_assert_str_eq(ama_error_msg(), "short");
}

Test(error, an_empty_reason_is_still_an_error)
{
	cr_assert_eq(ama_error_set(AMA_EIO, "%s", ""), AMA_EIO);
	cr_assert_eq(ama_error_code(), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "");
}

Test(error, percent_signs_in_arguments_are_not_formats)
{
	ama_error_set(AMA_EINVAL, "bad value '%s' (%d%%)", "%s%n%d", 50);
	cr_assert_str_eq(ama_error_msg(), "bad value '%s%n%d' (50%)");
}

Test(error, set_errno_appends_the_system_reason)
{
	errno = ENOENT;
	cr_assert_eq(ama_error_set_errno(AMA_EIO, "cannot open '%s'", "x.csv"),
		     AMA_EIO);
	cr_assert_eq(ama_error_code(), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(),
			 "cannot open 'x.csv': No such file or directory");
	cr_assert_null(ama_error_path());
	errno = EACCES;
	ama_error_set_errno(AMA_ESETUP, "cannot read config");
	cr_assert_str_eq(ama_error_msg(),
			 "cannot read config: Permission denied");
	cr_assert_eq(ama_error_code(), AMA_ESETUP);
}

Test(error, setp_records_a_copy_of_the_path)
{
	char path[] = "data/x.bin";

	cr_assert_eq(ama_error_setp(AMA_ENOTFOUND, path, "no such %s",
				    "file"), AMA_ENOTFOUND);
	path[0] = 'X';
	cr_assert_eq(ama_error_code(), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such file");
	cr_assert_str_eq(ama_error_path(), "data/x.bin");
}

/* quoting is the printer's job: the subject keeps every byte */
Test(error, setp_keeps_awkward_paths_verbatim)
{
	static const char path[] = "a\tb\nc\"d\\e\001f\177g\351 h";

	ama_error_setp(AMA_EIO, path, "cannot read");
	cr_assert_str_eq(ama_error_path(), path);
	cr_assert_eq(strlen(ama_error_path()), sizeof(path) - 1);
	cr_assert_str_eq(ama_error_msg(), "cannot read");
}

Test(error, an_empty_path_is_a_subject)
{
	ama_error_setp(AMA_ENOTFOUND, "", "no such file");
	cr_assert_not_null(ama_error_path());
	cr_assert_str_eq(ama_error_path(), "");
}

Test(error, setp_errno_has_subject_and_system_reason)
{
	errno = EISDIR;
	cr_assert_eq(ama_error_setp_errno(AMA_EIO, "sub/dir", "cannot %s",
					  "write"), AMA_EIO);
	cr_assert_eq(ama_error_code(), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "cannot write: Is a directory");
	cr_assert_str_eq(ama_error_path(), "sub/dir");
}

Test(error, an_error_without_path_drops_the_old_subject)
{
	ama_error_setp(AMA_EIO, "old/path", "first");
	ama_error_set(AMA_EINVAL, "second");
	cr_assert_null(ama_error_path());
	errno = ENOENT;
	ama_error_setp(AMA_EIO, "old/path", "first");
	ama_error_set_errno(AMA_EIO, "third");
	cr_assert_null(ama_error_path());
	cr_assert_str_eq(ama_error_msg(), "third: No such file or directory");
}

Test(error, a_new_path_replaces_a_longer_one)
{
	ama_error_setp(AMA_EIO, "a/much/longer/path/than/the/next", "first");
	ama_error_setp(AMA_EIO, "b", "second");
	cr_assert_str_eq(ama_error_path(), "b");
	cr_assert_str_eq(ama_error_msg(), "second");
}

Test(error, clear_forgets_code_reason_and_subject)
{
	ama_error_setp(AMA_ECORRUPT, "idx", "bad header");
	ama_error_clear();
	assert_no_error();
	ama_error_clear();
	assert_no_error();
}

Test(error, wrap_prefixes_context_keeps_subject_and_takes_the_new_code)
{
	ama_error_setp(AMA_EIO, "m.txt", "bad key '%s'", "k");
	cr_assert_eq(ama_error_wrap(AMA_EINVAL, "line %d", 3), AMA_EINVAL);
	cr_assert_eq(ama_error_code(), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "line 3: bad key 'k'");
	cr_assert_str_eq(ama_error_path(), "m.txt");
	cr_assert_eq(ama_error_wrap(AMA_ECORRUPT, "bad manifest"),
		     AMA_ECORRUPT);
	cr_assert_eq(ama_error_code(), AMA_ECORRUPT);
	cr_assert_str_eq(ama_error_msg(), "bad manifest: line 3: bad key 'k'");
	cr_assert_str_eq(ama_error_path(), "m.txt");
}

Test(error, wrap_without_subject_adds_none)
{
	errno = ENOENT;
	ama_error_set_errno(AMA_EIO, "cannot open '%s'", "c.ini");
	ama_error_wrap(AMA_ESETUP, "'%s'", "section");
	cr_assert_eq(ama_error_code(), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "'section': cannot open 'c.ini': "
			 "No such file or directory");
	cr_assert_null(ama_error_path());
}

/* "m" n times, then tail */
static char *repeat(size_t n, const char *tail)
{
	char *s = malloc(n + strlen(tail) + 1);

	memset(s, 'm', n);
	strcpy(s + n, tail);
	return s;
}

/* msg is a prefix of want, cut to the 1023 bytes lib/error.c keeps */
static void assert_cut(const char *msg, const char *want)
{
	cr_assert_eq(strlen(msg), 1023);
	cr_assert(!strncmp(msg, want, 1023));
}

Test(error, a_very_long_reason_is_cut_not_overflowed)
{
	char *want = repeat(5000, " end");

	ama_error_set(AMA_EINVAL, "%s", want);
	assert_cut(ama_error_msg(), want);
	/* nothing of it lingers behind a short reason */
	ama_error_set(AMA_EINVAL, "x");
	cr_assert_str_eq(ama_error_msg(), "x");
	free(want);
}

Test(error, a_reason_that_just_fits_is_kept_whole)
{
	char *want = repeat(1023, "");

	ama_error_set(AMA_EIO, "%s", want);
	cr_assert_str_eq(ama_error_msg(), want);
	free(want);
}

Test(error, a_long_reason_crowds_out_the_system_reason)
{
	char *want = repeat(1020, ": No such file or directory");
	char *arg = repeat(1020, "");

	errno = ENOENT;
	ama_error_set_errno(AMA_EIO, "%s", arg);
	assert_cut(ama_error_msg(), want);
	cr_assert_str_eq(ama_error_msg() + 1020, ": N");
	free(want);
	free(arg);
}

Test(error, wrapping_a_long_reason_keeps_the_context)
{
	char *arg = repeat(2000, "");
	char *want = repeat(9 + 2000, "");

	memcpy(want, "context: ", 9);
	ama_error_setp(AMA_EIO, "p", "%s", arg);
	ama_error_wrap(AMA_EINVAL, "context");
	assert_cut(ama_error_msg(), want);
	cr_assert_str_eq(ama_error_path(), "p");
	free(want);
	free(arg);
}

/* PATH_MAX bytes with the NUL */
Test(error, a_path_of_4095_bytes_is_kept_whole)
{
	char *path = repeat(4090, "/last");

	ama_error_setp(AMA_ENOTFOUND, path, "no such file");
	cr_assert_eq(strlen(ama_error_path()), 4095);
	cr_assert_str_eq(ama_error_path(), path);
	free(path);
}

Test(error, exit_status_is_2_for_setup_errors_and_1_for_a_record)
{
	static const struct {
		int code;
		int status;
	} map[] = {
		{ AMA_OK, 0 },
		{ AMA_EIO, 1 },
		{ AMA_ENOMEM, 2 },
		{ AMA_EINVAL, 1 },
		{ AMA_ENOTFOUND, 1 },
		{ AMA_ELOCKED, 2 },
		{ AMA_ECORRUPT, 2 },
		{ AMA_ECHANGED, 1 },
		{ AMA_ENOTREG, 1 },
		{ AMA_ESETUP, 2 },
		{ AMA_ENET, 1 },
		{ AMA_EMODIFIED, 1 },
		{ AMA_ECONFLICT, 1 },
		{ AMA_EEXIST, 1 },
		{ AMA_EREMOTE, 1 },
		{ AMA_EDIGEST, 1 },
		{ AMA_EAUTH, 2 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		cr_assert_eq(ama_error_exit_status(map[i].code), map[i].status,
			     "code %d", map[i].code);
}

/* what one thread saw of its own last error */
struct seen {
	int code;
	char msg[64];
	int has_path;
	char path[64];
};

static void look(struct seen *s)
{
	const char *p = ama_error_path();

	s->code = ama_error_code();
	snprintf(s->msg, sizeof(s->msg), "%s", ama_error_msg());
	s->has_path = p != NULL;
	snprintf(s->path, sizeof(s->path), "%s", p ? p : "");
}

static void assert_seen(const struct seen *s, int code, const char *msg,
			const char *path)
{
	cr_assert_eq(s->code, code);
	cr_assert_str_eq(s->msg, msg);
	if (path) {
		cr_assert(s->has_path);
		cr_assert_str_eq(s->path, path);
	} else {
		cr_assert_not(s->has_path);
	}
}

struct pair {
	pthread_barrier_t set, changed;
	struct seen start, after;
};

/* runs while the main thread holds an error of its own */
static void *other_thread(void *arg)
{
	struct pair *p = arg;

	look(&p->start);
	errno = ENOENT;
	ama_error_setp_errno(AMA_ENOTFOUND, "thread/path", "thread reason");
	ama_error_wrap(AMA_EINVAL, "wrapped");
	pthread_barrier_wait(&p->set);
	/* meanwhile the main thread clears and sets its own */
	pthread_barrier_wait(&p->changed);
	look(&p->after);
	return NULL;
}

/* the barriers order every step: no sleeping, no timing */
Test(error_thread, each_thread_has_its_own_last_error, .timeout = 60)
{
	struct pair p;
	struct seen mid, end;
	pthread_t t;

	cr_assert_eq(pthread_barrier_init(&p.set, NULL, 2), 0);
	cr_assert_eq(pthread_barrier_init(&p.changed, NULL, 2), 0);
	ama_error_setp(AMA_EIO, "main/path", "main reason %d", 1);
	cr_assert_eq(pthread_create(&t, NULL, other_thread, &p), 0);
	pthread_barrier_wait(&p.set);
	look(&mid);
	ama_error_clear();
	ama_error_set(AMA_ELOCKED, "main again");
	pthread_barrier_wait(&p.changed);
	cr_assert_eq(pthread_join(t, NULL), 0);
	look(&end);
	pthread_barrier_destroy(&p.set);
	pthread_barrier_destroy(&p.changed);

	assert_seen(&p.start, AMA_OK, "no error", NULL);
	assert_seen(&mid, AMA_EIO, "main reason 1", "main/path");
	assert_seen(&p.after, AMA_EINVAL,
		    "wrapped: thread reason: No such file or directory",
		    "thread/path");
	assert_seen(&end, AMA_ELOCKED, "main again", NULL);
}
