/* t/unit/xdg.c: the XDG base folders, their defaults, and the home folder behind them. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "xdg.h"

/* Each test starts from a known environment: HOME=/home/u, no XDG_*. */
static void setup(void)
{
	setenv("HOME", "/home/u", 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_DATA_HOME");
	unsetenv("XDG_CACHE_HOME");
}

TestSuite(xdg, .init = setup);

static void assert_dir(enum ama_xdg_kind kind, const char *want)
{
	char *p = (char *)"unset";

	cr_assert_eq(ama_xdg_dir(&p, kind), 0, "%s", ama_error_msg());
	cr_assert_str_eq(p, want);
	free(p);
}

static void assert_path(enum ama_xdg_kind kind, const char *name,
			const char *want)
{
	char *p = (char *)"unset";

	cr_assert_eq(ama_xdg_path(&p, kind, name), 0, "%s", ama_error_msg());
	cr_assert_str_eq(p, want);
	free(p);
}

/* The home folder the password database gives this user, or NULL. */
static const char *passwd_home(void)
{
	struct passwd *pw = getpwuid(getuid());

	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

Test(xdg, the_defaults_are_below_home)
{
	assert_dir(AMA_XDG_CONFIG, "/home/u/.config");
	assert_dir(AMA_XDG_DATA, "/home/u/.local/share");
	assert_dir(AMA_XDG_CACHE, "/home/u/.cache");
}

Test(xdg, each_variable_overrides_its_default_only)
{
	setenv("XDG_CONFIG_HOME", "/c", 1);
	setenv("XDG_DATA_HOME", "/d", 1);
	assert_dir(AMA_XDG_CONFIG, "/c");
	assert_dir(AMA_XDG_DATA, "/d");
	assert_dir(AMA_XDG_CACHE, "/home/u/.cache");
	setenv("XDG_CACHE_HOME", "/var/cache/u", 1);
	assert_dir(AMA_XDG_CACHE, "/var/cache/u");
}

Test(xdg, a_relative_or_empty_variable_is_ignored)
{
	setenv("XDG_CONFIG_HOME", "relative/c", 1);
	setenv("XDG_DATA_HOME", "", 1);
	setenv("XDG_CACHE_HOME", "./cache", 1);
	assert_dir(AMA_XDG_CONFIG, "/home/u/.config");
	assert_dir(AMA_XDG_DATA, "/home/u/.local/share");
	assert_dir(AMA_XDG_CACHE, "/home/u/.cache");
}

Test(xdg, trailing_slashes_are_dropped)
{
	setenv("XDG_CACHE_HOME", "/c//", 1);
	assert_dir(AMA_XDG_CACHE, "/c");
	setenv("HOME", "/home/u/", 1);
	assert_dir(AMA_XDG_CONFIG, "/home/u/.config");
	setenv("HOME", "/", 1);
	assert_dir(AMA_XDG_DATA, "/.local/share");
	assert_path(AMA_XDG_DATA, "remote", "/.local/share/ama/remote");
}

Test(xdg, paths_are_in_amas_folder)
{
	assert_path(AMA_XDG_CONFIG, "config", "/home/u/.config/ama/config");
	assert_path(AMA_XDG_DATA, "meta.git", "/home/u/.local/share/ama/meta.git");
	assert_path(AMA_XDG_CACHE, NULL, "/home/u/.cache/ama");
	assert_path(AMA_XDG_CACHE, "", "/home/u/.cache/ama");
	setenv("XDG_DATA_HOME", "/d/", 1);
	assert_path(AMA_XDG_DATA, "staging", "/d/ama/staging");
	setenv("XDG_CACHE_HOME", "/", 1);
	assert_path(AMA_XDG_CACHE, NULL, "/ama");
}

Test(xdg, an_unset_home_falls_back_to_the_password_database)
{
	const char *home = passwd_home();
	char want[4096], *p = NULL;

	if (!home)
		cr_skip_test("this user has no home in the password database");
	unsetenv("HOME");
	cr_assert_eq(ama_xdg_home(&p), 0);
	snprintf(want, sizeof(want), "%s", home);
	while (strlen(want) > 1 && want[strlen(want) - 1] == '/')
		want[strlen(want) - 1] = '\0';
	cr_assert_str_eq(p, want);
	free(p);
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
		 "%s.cache", strcmp(want, "/") ? "/" : "");
	assert_dir(AMA_XDG_CACHE, want);
	/* an empty or relative HOME is no better than none */
	setenv("HOME", "", 1);
	assert_dir(AMA_XDG_CACHE, want);
	setenv("HOME", "u", 1);
	assert_dir(AMA_XDG_CACHE, want);
	/* and a usable variable needs no home at all */
	setenv("XDG_CACHE_HOME", "/c", 1);
	assert_dir(AMA_XDG_CACHE, "/c");
}

Test(xdg, the_home_is_taken_from_home_when_absolute)
{
	char *p = NULL;

	setenv("HOME", "/elsewhere", 1);
	cr_assert_eq(ama_xdg_home(&p), 0);
	cr_assert_str_eq(p, "/elsewhere");
	free(p);
}

Test(xdg, no_home_at_all_is_a_setup_error_not_a_guess)
{
	uid_t nobody = 54321;
	char *p = (char *)"unset";
	struct ama_config *cfg = NULL;

	if (getuid() != 0 || getpwuid(nobody))
		cr_skip_test("needs root and a uid without a password entry");
	/* this test's own process: the uid does not outlive it */
	cr_assert_eq(setuid(nobody), 0);
	unsetenv("HOME");
	cr_assert_eq(ama_xdg_home(&p), AMA_ESETUP);
	cr_assert_null(p);
	cr_assert_str_eq(ama_error_msg(), "no home folder: HOME is not an "
			 "absolute path and the user has none in the "
			 "password database");
	p = (char *)"unset";
	cr_assert_eq(ama_xdg_path(&p, AMA_XDG_DATA, "remote"), AMA_ESETUP);
	cr_assert_null(p);
	setenv("XDG_DATA_HOME", "/d", 1);
	assert_path(AMA_XDG_DATA, "remote", "/d/ama/remote");
	/* no user config file then, rather than one at /.config/ama/config */
	unsetenv("AMA_CONFIG");
	cr_assert_null(ama_config_user_path());
	cr_assert_eq(ama_config_load(&cfg, NULL), 0);
	ama_config_free(cfg);
}
