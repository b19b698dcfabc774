/* t/unit/config.c: INI files, their precedence, sizes, and atomic rewrites. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "lockfile.h"

static char dir[32];

/* Each test in a fresh folder, with no AMA_* variable from outside. */
static void setup(void)
{
	extern char **environ;
	char **e;

	for (e = environ; *e;) {
		if (!strncmp(*e, "AMA_", 4)) {
			char name[256];

			snprintf(name, sizeof(name), "%.*s",
				 (int)(strchrnul(*e, '=') - *e), *e);
			unsetenv(name);
			continue;	/* the array moved up */
		}
		e++;
	}
	strcpy(dir, "/tmp/ama-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	setenv("HOME", dir, 1);
	unsetenv("XDG_CONFIG_HOME");
}

static void teardown(void)
{
	static const char *files[] = { "user", "asset", "bad", "long",
				       "written", "written.lock", "dup" };
	size_t i;

	if (!dir[0] || chdir(dir) < 0)
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir("folder");
	if (chdir("/") == 0)
		rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown);
TestSuite(size, .init = setup, .fini = teardown);

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
	char *s;
	size_t n;

	cr_assert_eq(ama_read_file(&s, &n, path), 0);
	return s;
}

static void assert_get(const struct ama_config *c, const char *section,
		       const char *key, const char *want)
{
	const char *got = ama_config_get(c, section, key);

	if (!want)
		cr_assert_null(got, "[%s] %s is '%s'", section, key, got);
	else
		cr_assert_str_eq(got ? got : "(unset)", want, "[%s] %s",
				 section, key);
}

Test(config, asset_file_overrides_user_file_and_environment_both)
{
	struct ama_config *c;

	put_file("user", "[store]\nstaging = file:///user\n"
		 "remote = file:///user-remote\n[transfer]\njobs = 4\n");
	put_file("asset", "[store]\nstaging = file:///asset\n");
	setenv("AMA_CONFIG", "user", 1);
	cr_assert_eq(ama_config_load(&c, "asset"), 0);
	assert_get(c, "store", "staging", "file:///asset");
	assert_get(c, "store", "remote", "file:///user-remote");
	assert_get(c, "transfer", "jobs", "4");
	assert_get(c, "transfer", "part-size", NULL);
	setenv("AMA_STORE_STAGING", "file:///env", 1);
	setenv("AMA_TRANSFER_PART_SIZE", "16M", 1);
	assert_get(c, "store", "staging", "file:///env");
	assert_get(c, "transfer", "part-size", "16M");
	ama_config_free(c);
	/* no asset file: the user's keys */
	unsetenv("AMA_STORE_STAGING");
	cr_assert_eq(ama_config_load(&c, NULL), 0);
	assert_get(c, "store", "staging", "file:///user");
	ama_config_free(c);
}

Test(config, dashes_in_keys_are_underscores_in_the_environment)
{
	char name[128];
	struct ama_config *c;

	ama_config_env_name(name, "s3", "staging-profile");
	cr_assert_str_eq(name, "AMA_S3_STAGING_PROFILE");
	ama_config_env_name(name, "transfer", "multipart-threshold");
	cr_assert_str_eq(name, "AMA_TRANSFER_MULTIPART_THRESHOLD");
	put_file("asset", "[s3]\nstaging-profile = from-file\n");
	cr_assert_eq(ama_config_load_file(&c, "asset"), 0);
	assert_get(c, "s3", "staging-profile", "from-file");
	setenv("AMA_S3_STAGING_PROFILE", "from-env", 1);
	assert_get(c, "s3", "staging-profile", "from-env");
	ama_config_free(c);
}

Test(config, the_user_file_is_found_as_the_design_says)
{
	char *p, want[128];

	setenv("AMA_CONFIG", "/etc/ama.conf", 1);
	p = ama_config_user_path();
	cr_assert_str_eq(p, "/etc/ama.conf");
	free(p);
	unsetenv("AMA_CONFIG");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	p = ama_config_user_path();
	cr_assert_str_eq(p, "/xdg/ama/config");
	free(p);
	/* a relative XDG_CONFIG_HOME is to be ignored */
	setenv("XDG_CONFIG_HOME", "rel", 1);
	p = ama_config_user_path();
	snprintf(want, sizeof(want), "%s/.config/ama/config", dir);
	cr_assert_str_eq(p, want);
	free(p);
}

Test(config, a_missing_file_is_an_empty_config)
{
	struct ama_config *c;

	cr_assert_eq(ama_config_load_file(&c, "nosuch"), 0);
	assert_get(c, "asset", "class", NULL);
	ama_config_free(c);
	cr_assert_eq(ama_config_load_file(&c, "nosuch/deeper"), 0);
	ama_config_free(c);
	setenv("AMA_CONFIG", "nosuch", 1);
	cr_assert_eq(ama_config_load(&c, "nosuch-either"), 0);
	ama_config_free(c);
}

Test(config, a_syntax_error_names_the_file_and_line)
{
	struct ama_config *c = (struct ama_config *)1;

	put_file("bad", "[store]\nremote = x\nthis line is bad\n");
	cr_assert_eq(ama_config_load_file(&c, "bad"), AMA_ESETUP);
	cr_assert_null(c);
	cr_assert_str_eq(ama_error_path(), "bad");
	cr_assert_str_eq(ama_error_msg(), "line 3: not valid INI");
	/* in the user file, through ama_config_load */
	setenv("AMA_CONFIG", "bad", 1);
	cr_assert_eq(ama_config_load(&c, NULL), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "bad");
	/* in the asset file */
	put_file("user", "[store]\nremote = x\n");
	setenv("AMA_CONFIG", "user", 1);
	cr_assert_eq(ama_config_load(&c, "bad"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "bad");
}

Test(config, a_line_too_long_for_inih_is_refused_not_cut)
{
	struct ama_config *c;
	char text[400];

	/* inih would keep 195 bytes of the value and parse the rest anew */
	snprintf(text, sizeof(text), "[s]\nk = %0250d\nj = 2\n", 0);
	put_file("long", text);
	cr_assert_eq(ama_config_load_file(&c, "long"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "long");
	cr_assert_str_eq(ama_error_msg(), "line 2: longer than 199 bytes");
	/* 199 bytes and its newline still fit */
	snprintf(text, sizeof(text), "[s]\nk = %0195d\nj = 2\n", 7);
	put_file("long", text);
	cr_assert_eq(ama_config_load_file(&c, "long"), 0);
	cr_assert_eq(strlen(ama_config_get(c, "s", "k")), 195);
	assert_get(c, "s", "j", "2");
	ama_config_free(c);
}

Test(config, a_file_that_cannot_be_read_is_a_setup_error)
{
	struct ama_config *c;

	cr_assert_eq(mkdir("folder", 0755), 0);
	cr_assert_eq(ama_config_load_file(&c, "folder"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "cannot read: Is a directory");
	cr_assert_eq(ama_error_exit_status(AMA_ESETUP), 2);
	put_file("user", "[store]\nremote = x\n");
	cr_assert_eq(chmod("user", 0), 0);
	if (geteuid() == 0) {
		/* permissions mean nothing to root; nobody must clean up */
		cr_assert_eq(chown(dir, 65534, 65534), 0);
		cr_assert_eq(chown("user", 65534, 65534), 0);
		cr_assert_eq(chown("folder", 65534, 65534), 0);
		cr_assert_eq(setgroups(0, NULL), 0);
		cr_assert_eq(setgid(65534), 0);
		cr_assert_eq(setuid(65534), 0);
	}
	setenv("AMA_CONFIG", "user", 1);
	cr_assert_eq(ama_config_load(&c, NULL), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "user");
	cr_assert_str_eq(ama_error_msg(), "cannot read: Permission denied");
}

Test(config, typed_values_and_their_errors)
{
	struct ama_config *c;
	uint64_t size = 42;
	long jobs = 3;

	put_file("asset", "[transfer]\njobs = 8\nmultipart-threshold = 64MiB\n"
		 "part-size = lots\n[server]\nport = 80x\n");
	cr_assert_eq(ama_config_load_file(&c, "asset"), 0);
	cr_assert_eq(ama_config_get_int(c, "transfer", "jobs", &jobs), 0);
	cr_assert_eq(jobs, 8);
	cr_assert_eq(ama_config_get_size(c, "transfer", "multipart-threshold",
					 &size), 0);
	cr_assert_eq(size, 64ULL << 20);
	cr_assert_eq(ama_config_get_size(c, "transfer", "part-size", &size),
		     AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "[transfer] part-size: 'lots' is not a size");
	cr_assert_eq(size, 64ULL << 20);
	cr_assert_eq(ama_config_get_int(c, "server", "port", &jobs),
		     AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "[server] port: '80x' is not a number");
	/* unset: the default stays */
	size = 7;
	cr_assert_eq(ama_config_get_size(c, "transfer", "nosuch", &size), 0);
	cr_assert_eq(size, 7);
	ama_config_free(c);
}

Test(size, units_in_binary_multiples)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "64MiB", 64ULL << 20 }, { "16M", 16ULL << 20 },
		{ "1GiB", 1ULL << 30 }, { "4096", 4096 }, { "0", 0 },
		{ "1k", 1024 }, { "2KiB", 2048 }, { "3T", 3ULL << 40 },
		{ "16MB", 16ULL << 20 }, { "100B", 100 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *bad[] = {
		"bad", "", "-1", "1.5G", "1 MiB", " 1", "16Mb", "MiB", "0x10",
		"1MiBx", "16384P", "18446744073709551616", "99999999999T",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 1;
		cr_expect_eq(ama_parse_size(ok[i].s, &v), 0, "%s", ok[i].s);
		cr_expect_eq(v, ok[i].v, "%s", ok[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 5;
		cr_expect_eq(ama_parse_size(bad[i], &v), -1, "%s", bad[i]);
		cr_expect_eq(v, 5, "%s is left alone", bad[i]);
	}
}

Test(config, put_and_write_round_trip_atomically)
{
	struct ama_config *c, *back;
	struct stat st;
	char *text;

	cr_assert_eq(ama_config_load_file(&c, "written"), 0);
	ama_config_put(c, "asset", "class", "imaging");
	ama_config_put(c, "store", "remote", "file:///r");
	ama_config_put(c, "asset", "seq", "3");
	ama_config_put(c, "asset", "version", "0.0.1");
	ama_config_put(c, "asset", "version", "0.0.2");
	ama_config_put(c, "server", "url", "local");
	ama_config_put(c, "server", "url", NULL);
	ama_config_put(c, "server", "nosuch", NULL);
	cr_assert_eq(ama_config_write(c, "written"), 0);
	text = slurp("written");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\nseq = 3\n"
			 "version = 0.0.2\n[store]\nremote = file:///r\n");
	free(text);
	cr_assert_eq(stat("written", &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	/* no lock is left behind */
	cr_assert_eq(access("written.lock", F_OK), -1);
	cr_assert_eq(ama_config_load_file(&back, "written"), 0);
	assert_get(back, "asset", "class", "imaging");
	assert_get(back, "asset", "seq", "3");
	assert_get(back, "asset", "version", "0.0.2");
	assert_get(back, "store", "remote", "file:///r");
	assert_get(back, "server", "url", NULL);
	/* rewrite an existing file in place */
	ama_config_put(back, "asset", "version", "0.1.0");
	cr_assert_eq(ama_config_write(back, "written"), 0);
	text = slurp("written");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\nseq = 3\n"
			 "version = 0.1.0\n[store]\nremote = file:///r\n");
	free(text);
	ama_config_free(c);
	ama_config_free(back);
}

Test(config, a_held_lock_refuses_the_write_and_keeps_the_file)
{
	struct ama_config *c;
	struct ama_lock lk = AMA_LOCK_INIT;
	char *text;

	put_file("written", "[asset]\nclass = a\n");
	cr_assert_eq(ama_config_load_file(&c, "written"), 0);
	ama_config_put(c, "asset", "class", "b");
	cr_assert_eq(ama_lock_acquire(&lk, "written", 0644), 0);
	cr_assert_eq(ama_config_write(c, "written"), AMA_ELOCKED);
	ama_lock_rollback(&lk);
	text = slurp("written");
	cr_assert_str_eq(text, "[asset]\nclass = a\n");
	free(text);
	ama_config_free(c);
}

struct edit_seen {
	int lock_held;		/* PATH.lock existed when fn ran */
	char *class;		/* [asset] class as fn read it */
};

static int edit_fn(struct ama_config *c, void *ctx)
{
	struct edit_seen *seen = ctx;
	const char *v = ama_config_get(c, "asset", "class");

	seen->lock_held = access("edited.lock", F_OK) == 0;
	seen->class = v ? strdup(v) : NULL;
	ama_config_put(c, "asset", "seq", "7");
	return 0;
}

Test(config, an_edit_reads_under_the_lock_and_keeps_the_other_keys)
{
	struct edit_seen seen = { 0, NULL };
	char *text;

	put_file("edited", "[asset]\nclass = a\n[server]\nurl = local\n");
	cr_assert_eq(ama_config_edit("edited", edit_fn, &seen), 0);
	cr_assert(seen.lock_held, "fn ran without the lock");
	cr_assert_str_eq(seen.class, "a");
	text = slurp("edited");
	cr_assert_str_eq(text, "[asset]\nclass = a\nseq = 7\n"
			 "[server]\nurl = local\n");
	cr_assert_eq(access("edited.lock", F_OK), -1);
	free(text);
	free(seen.class);
}

static int edit_refuses(struct ama_config *c, void *ctx)
{
	(void)ctx;
	ama_config_put(c, "asset", "class", "changed");
	return ama_error_set(AMA_EINVAL, "no, thanks");
}

Test(config, an_edit_fn_that_fails_leaves_the_file)
{
	char *text;

	put_file("edited", "[asset]\nclass = a\n");
	cr_assert_eq(ama_config_edit("edited", edit_refuses, NULL),
		     AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "no, thanks");
	text = slurp("edited");
	cr_assert_str_eq(text, "[asset]\nclass = a\n");
	cr_assert_eq(access("edited.lock", F_OK), -1);
	free(text);
}

/* the lock is taken before anything is read: a holder keeps it all out */
Test(config, an_edit_while_another_holds_the_lock_reads_nothing)
{
	struct edit_seen seen = { 0, NULL };
	struct ama_lock lk = AMA_LOCK_INIT;
	char *text;

	put_file("edited", "[asset]\nclass = a\n");
	cr_assert_eq(ama_lock_acquire(&lk, "edited", 0644), 0);
	cr_assert_eq(ama_config_edit("edited", edit_fn, &seen), AMA_ELOCKED);
	cr_assert_null(seen.class, "fn ran");
	ama_lock_rollback(&lk);
	text = slurp("edited");
	cr_assert_str_eq(text, "[asset]\nclass = a\n");
	free(text);
}

Test(config, an_edit_of_a_missing_file_makes_it)
{
	struct edit_seen seen = { 0, NULL };
	char *text;

	cr_assert_eq(ama_config_edit("edited", edit_fn, &seen), 0);
	cr_assert_null(seen.class);
	text = slurp("edited");
	cr_assert_str_eq(text, "[asset]\nseq = 7\n");
	free(text);
}

Test(config, removing_a_key_removes_every_copy)
{
	struct ama_config *c;

	put_file("dup", "[asset]\nclass = one\nclass = two\n");
	cr_assert_eq(ama_config_load_file(&c, "dup"), 0);
	assert_get(c, "asset", "class", "two");
	ama_config_put(c, "asset", "class", NULL);
	assert_get(c, "asset", "class", NULL);
	ama_config_free(c);
}

Test(config, values_that_would_not_read_back_are_refused)
{
	static const char *bad[] = {
		"two\nlines", "cr\r", " lead", "trail ", "a ; comment",
		"tab\t", "\x7f",
	};
	struct ama_config *c;
	char long_value[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ama_config_load_file(&c, "nosuch"), 0);
		ama_config_put(c, "asset", "class", bad[i]);
		cr_expect_eq(ama_config_write(c, "written"), AMA_EINVAL,
			     "value '%s'", bad[i]);
		ama_config_free(c);
	}
	cr_assert_str_eq(ama_error_msg(), "[asset] class: the value cannot be "
			 "written: it holds a control byte");
	cr_assert_eq(access("written", F_OK), -1);
	memset(long_value, 'x', 200);
	long_value[200] = '\0';
	cr_assert_eq(ama_config_load_file(&c, "nosuch"), 0);
	ama_config_put(c, "asset", "class", long_value);
	cr_assert_eq(ama_config_write(c, "written"), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "[asset] class: the value cannot be "
			 "written: the line would be too long");
	ama_config_put(c, "asset", "class", "a;b c=d");
	ama_config_put(c, "bad]section", "k", "v");
	cr_assert_eq(ama_config_write(c, "written"), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "a section name cannot be written: "
			 "it holds '=', ':', '[' or ']'");
	ama_config_put(c, "bad]section", "k", NULL);
	cr_assert_eq(ama_config_write(c, "written"), 0);
	ama_config_free(c);
	cr_assert_eq(ama_config_load_file(&c, "written"), 0);
	assert_get(c, "asset", "class", "a;b c=d");
	ama_config_free(c);
}

Test(config, indented_keys_are_keys_as_git_config_writes_them)
{
	struct ama_config *c;

	put_file("indented", "[store]\n\tstaging = s3://stage/p\n"
		 "\tremote = s3://remote/p\n[class]\n  top-hash = abc\n");
	cr_assert_eq(ama_config_load_file(&c, "indented"), 0);
	assert_get(c, "store", "staging", "s3://stage/p");
	assert_get(c, "store", "remote", "s3://remote/p");
	assert_get(c, "class", "top-hash", "abc");
	ama_config_free(c);
}
