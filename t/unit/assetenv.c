/* t/unit/assetenv.c: an asset opened for work: found, its [asset] keys checked, edited under the lock, made all or nothing. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assetenv.h"
#include "error.h"
#include "lockfile.h"
#include "readfix.h"

TestSuite(assetenv, .init = fx_setup, .fini = fx_teardown);

/* An asset folder "a" whose .ama/config holds text, with a/sub/. */
static void asset(const char *text)
{
	fx_write("a/.ama/config", text);
	cr_assert_eq(mkdir("a/sub", 0755), 0);
}

static void enter(const char *rel)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", fx_dir, rel);
	cr_assert_eq(chdir(path), 0, "%s", path);
}

/* Open must fail with AMA_ESETUP, naming .ama/config, for this reason. */
static void refused(unsigned flags, const char *why)
{
	struct ama_asset_env e;

	cr_assert_eq(ama_asset_env_open(&e, flags), AMA_ESETUP, "%s: %s",
		     why, e.cfg ? ama_config_get(e.cfg, "asset", "seq") : "");
	cr_assert_str_eq(ama_error_path(), ".ama/config");
	cr_assert_str_eq(ama_error_msg(), why);
	ama_asset_env_close(&e);
}

Test(assetenv, found_from_a_subfolder_with_its_keys_read)
{
	struct ama_asset_env e;
	char root[160];

	asset("[asset]\nclass = imaging\nseq = 3\nversion = 0.1.2\n");
	enter("a/sub");
	cr_assert_eq(ama_asset_env_open(&e, 0), 0, "%s", ama_error_msg());
	snprintf(root, sizeof(root), "%s/a", fx_dir);
	cr_assert_str_eq(e.a.root, root);
	cr_assert_str_eq(e.a.prefix, "sub/");
	cr_assert_str_eq(e.class, "imaging");
	cr_assert_eq(e.seq, 3);
	cr_assert_eq(e.has_version, 1);
	cr_assert(e.version.x == 0 && e.version.y == 1 && e.version.z == 2);
	cr_assert_str_eq(ama_config_get(e.cfg, "asset", "class"), "imaging");
	ama_asset_env_close(&e);
	cr_assert_null(e.cfg);
}

Test(assetenv, enter_moves_to_the_root)
{
	struct ama_asset_env e;
	char *cwd, root[160];

	asset("[asset]\nclass = imaging\n");
	enter("a/sub");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_ENTER), 0);
	cwd = getcwd(NULL, 0);
	snprintf(root, sizeof(root), "%s/a", fx_dir);
	cr_assert_str_eq(cwd, root);
	free(cwd);
	ama_asset_env_close(&e);
}

Test(assetenv, an_asset_not_uploaded_yet_has_no_seq_and_no_version)
{
	struct ama_asset_env e;

	asset("[asset]\nclass = imaging\nseq =\nversion =\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_NEED_CLASS), 0);
	cr_assert_eq(e.seq, 0);
	cr_assert_eq(e.has_version, 0);
	ama_asset_env_close(&e);
}

Test(assetenv, the_asset_config_overrides_the_user_config)
{
	struct ama_asset_env e;

	fx_write("config/ama/config", "[transfer]\njobs = 3\n[s3]\nregion = "
		 "eu-west-1\n");
	asset("[asset]\nclass = imaging\n[transfer]\njobs = 5\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, 0), 0);
	cr_assert_str_eq(ama_config_get(e.cfg, "transfer", "jobs"), "5");
	cr_assert_str_eq(ama_config_get(e.cfg, "s3", "region"), "eu-west-1");
	ama_asset_env_close(&e);
}

Test(assetenv, what_the_server_said_of_the_class_is_layered_under)
{
	struct ama_asset_env e;

	asset("[asset]\nclass = imaging\n[class]\nremote = file:///srv/r\n"
	      "staging = file:///srv/s\n");
	fx_write("config/ama/config", "[store]\nstaging = file:///mine\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, 0), 0);
	cr_assert_str_eq(ama_config_get(e.cfg, "store", "remote"),
			 "file:///srv/r");
	cr_assert_str_eq(ama_config_get(e.cfg, "store", "staging"),
			 "file:///mine");
	ama_asset_env_close(&e);
}

Test(assetenv, outside_an_asset_is_a_setup_error)
{
	struct ama_asset_env e;

	cr_assert_eq(ama_asset_env_open(&e, 0), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "not inside an ama asset (no .ama in "
			 "this folder or any parent); run 'ama init CLASS' "
			 "first");
	ama_asset_env_close(&e);
}

Test(assetenv, optional_outside_an_asset_gives_the_user_config)
{
	struct ama_asset_env e;

	fx_write("config/ama/config", "[transfer]\njobs = 3\n");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_OPTIONAL |
					 AMA_ASSET_NEED_CLASS), 0);
	cr_assert_null(e.a.root);
	cr_assert_null(e.class);
	cr_assert_eq(e.seq, 0);
	cr_assert_str_eq(ama_config_get(e.cfg, "transfer", "jobs"), "3");
	cr_assert_eq(ama_error_code(), 0);
	ama_asset_env_close(&e);
}

Test(assetenv, optional_with_a_broken_user_config_is_a_setup_error)
{
	struct ama_asset_env e;

	fx_write("config/ama/config", "[transfer\njobs = 3\n");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_OPTIONAL), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "line 1: not valid INI");
	ama_asset_env_close(&e);
}

Test(assetenv, need_class_refuses_an_asset_without_one)
{
	asset("[asset]\nseq = 1\n");
	enter("a");
	refused(AMA_ASSET_NEED_CLASS, "no [asset] class: run 'ama init "
		"CLASS'");
}

Test(assetenv, a_bad_class_is_refused)
{
	asset("[asset]\nclass = a..b\n");
	enter("a");
	refused(0, "[asset] class: bad class name: no '..', and no '.' or "
		"'.lock' at the end");
}

Test(assetenv, a_bad_version_is_refused)
{
	asset("[asset]\nclass = imaging\nversion = 0.0.99\n");
	enter("a");
	refused(0, "[asset] version: bad version '0.0.99' (want X.Y.Z, Y and "
		"Z 0..98)");
}

Test(assetenv, every_bad_seq_is_refused)
{
	static const char *const bad[] = {
		"0", "03", "-1", "+1", "1x", "x", "1.5", "0x10",
		"18446744073709551616",		/* 2^64 */
		"99999999999999999999999",
	};
	char text[128], why[128];
	size_t i;

	asset("");
	enter("a");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text), "[asset]\nclass = c\nseq = %s\n",
			 bad[i]);
		cr_assert_eq(ama_write_file_atomic(".ama/config", text,
						   strlen(text), 0644), 0);
		snprintf(why, sizeof(why), "[asset] seq: '%s' is not an asset "
			 "number", bad[i]);
		refused(0, why);
	}
}

Test(assetenv, the_largest_seq_is_read)
{
	struct ama_asset_env e;

	asset("[asset]\nclass = c\nseq = 18446744073709551615\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, 0), 0, "%s", ama_error_msg());
	cr_assert_eq(e.seq, UINT64_MAX);
	ama_asset_env_close(&e);
}

/* ---- ama_asset_env_set ---- */

Test(assetenv, set_writes_the_asset_file_and_the_merged_config)
{
	struct ama_asset_env e;
	const char *kv[][3] = {
		{ "asset", "version", "0.0.4" },
		{ "asset", "seq", "7" },
		{ "server", "url", "local" },
	};
	char *text;

	fx_write("config/ama/config", "[transfer]\njobs = 3\n");
	asset("[asset]\nclass = imaging\nseq = 2\n");
	enter("a/sub");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_ENTER), 0);
	cr_assert_eq(ama_asset_env_set(&e, kv, 3), 0, "%s", ama_error_msg());
	cr_assert_eq(e.seq, 7);
	cr_assert_eq(e.has_version, 1);
	cr_assert(e.version.x == 0 && e.version.y == 0 && e.version.z == 4);
	cr_assert_str_eq(ama_config_get(e.cfg, "server", "url"), "local");
	/* the asset's own file, and nothing of the user's in it */
	text = fx_read(".ama/config");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\nseq = 7\n"
			 "version = 0.0.4\n[server]\nurl = local\n");
	free(text);
	cr_assert_eq(fx_exists(".ama/config.lock"), 0);
	ama_asset_env_close(&e);
}

Test(assetenv, set_removes_a_key_given_no_value)
{
	struct ama_asset_env e;
	const char *kv[][3] = { { "asset", "version", NULL } };
	const char *seq[][3] = { { "asset", "seq", NULL } };
	char *text;

	asset("[asset]\nclass = imaging\nseq = 2\nversion = 0.0.1\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_ENTER), 0);
	cr_assert_eq(e.has_version, 1);
	cr_assert_eq(ama_asset_env_set(&e, kv, 1), 0, "%s", ama_error_msg());
	cr_assert_null(ama_config_get(e.cfg, "asset", "version"));
	cr_assert_eq(e.has_version, 0);
	text = fx_read(".ama/config");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\nseq = 2\n");
	free(text);
	cr_assert_eq(ama_asset_env_set(&e, seq, 1), 0, "%s", ama_error_msg());
	cr_assert_eq(e.seq, 0);
	ama_asset_env_close(&e);
}

Test(assetenv, set_waits_for_no_one_a_held_lock_changes_nothing)
{
	struct ama_asset_env e;
	struct ama_lock lk = AMA_LOCK_INIT;
	const char *kv[][3] = { { "asset", "version", "0.0.9" } };
	char *text;

	asset("[asset]\nclass = imaging\nseq = 2\nversion = 0.0.1\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_ENTER), 0);
	cr_assert_eq(ama_lock_acquire(&lk, ".ama/config", 0644), 0);
	cr_assert_eq(ama_asset_env_set(&e, kv, 1), AMA_ELOCKED);
	cr_assert_eq(e.version.z, 1);
	ama_lock_rollback(&lk);
	text = fx_read(".ama/config");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\nseq = 2\n"
			 "version = 0.0.1\n");
	free(text);
	ama_asset_env_close(&e);
}

Test(assetenv, set_keeps_what_another_writer_wrote_since_the_open)
{
	struct ama_asset_env e;
	const char *kv[][3] = { { "asset", "version", "0.0.2" } };
	const char *other = "[asset]\nclass = imaging\nseq = 2\n"
		"[class]\ntop-hash = 0123456789abcdef0123456789abcdef\n";
	char *text;

	asset("[asset]\nclass = imaging\nseq = 2\n");
	enter("a");
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_ENTER), 0);
	cr_assert_eq(ama_write_file_atomic(".ama/config", other,
					   strlen(other), 0644), 0);
	cr_assert_eq(ama_asset_env_set(&e, kv, 1), 0);
	text = fx_read(".ama/config");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\nseq = 2\n"
			 "version = 0.0.2\n[class]\ntop-hash = "
			 "0123456789abcdef0123456789abcdef\n");
	free(text);
	ama_asset_env_close(&e);
}

/* ---- ama_asset_make ---- */

/* The names in folder dir, sorted, joined by ' '. */
static char *names_in(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | tr '\\n' ' '", dir);
	return fx_sh(cmd);
}

Test(assetenv, make_pins_the_embedded_default_when_nothing_is_configured)
{
	const char *kv[][3] = {
		{ "asset", "class", "imaging" },
		{ "asset", "seq", "4" },
	};
	char want[512], *text, *names;

	cr_assert_eq(mkdir("new", 0755), 0);
	cr_assert_eq(ama_asset_make("new", kv, 2), 0, "%s", ama_error_msg());
	text = fx_read("new/.ama/config");
	snprintf(want, sizeof(want), "[asset]\nclass = imaging\nseq = 4\n"
		 "[server]\nurl = local\n[store]\nremote = file://%s/data/ama/"
		 "remote\nstaging = file://%s/data/ama/staging\n", fx_dir,
		 fx_dir);
	cr_assert_str_eq(text, want);
	free(text);
	names = names_in("new");
	cr_assert_str_eq(names, ".ama ");
	free(names);
}

Test(assetenv, the_pinned_store_stays_when_the_environment_moves)
{
	const char *kv[][3] = { { "asset", "class", "imaging" } };
	struct ama_asset_env e;
	char want[160];

	cr_assert_eq(mkdir("new", 0755), 0);
	cr_assert_eq(ama_asset_make("new", kv, 1), 0);
	setenv("XDG_DATA_HOME", "/elsewhere", 1);
	enter("new");
	cr_assert_eq(ama_asset_env_open(&e, 0), 0);
	snprintf(want, sizeof(want), "file://%s/data/ama/remote", fx_dir);
	cr_assert_str_eq(ama_config_get(e.cfg, "store", "remote"), want);
	ama_asset_env_close(&e);
}

Test(assetenv, make_pins_nothing_when_the_user_names_a_server_or_store)
{
	static const char *const user[] = {
		"[server]\nurl = http://127.0.0.1:1\n",
		"[store]\nremote = file:///r\n",
		"[store]\nstaging = file:///s\n",
	};
	const char *kv[][3] = { { "asset", "class", "imaging" } };
	char dir[32], path[64], *text;
	size_t i;

	for (i = 0; i < 3; i++) {
		fx_write("config/ama/config", user[i]);
		snprintf(dir, sizeof(dir), "new%zu", i);
		cr_assert_eq(mkdir(dir, 0755), 0);
		cr_assert_eq(ama_asset_make(dir, kv, 1), 0);
		snprintf(path, sizeof(path), "%s/.ama/config", dir);
		text = fx_read(path);
		cr_assert_str_eq(text, "[asset]\nclass = imaging\n", "%s",
				 user[i]);
		free(text);
	}
	/* an AMA_* variable is the user's configuration too */
	cr_assert_eq(unlink("config/ama/config"), 0);
	setenv("AMA_SERVER_URL", "local", 1);
	cr_assert_eq(mkdir("new3", 0755), 0);
	cr_assert_eq(ama_asset_make("new3", kv, 1), 0);
	text = fx_read("new3/.ama/config");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\n");
	free(text);
}

Test(assetenv, make_over_an_asset_changes_nothing)
{
	const char *kv[][3] = { { "asset", "class", "other" } };
	char *text, *names, path[160];

	asset("[asset]\nclass = imaging\n");
	cr_assert_eq(ama_asset_make("a", kv, 1), AMA_EEXIST);
	snprintf(path, sizeof(path), "a/.ama");
	cr_assert_str_eq(ama_error_path(), path);
	cr_assert_str_eq(ama_error_msg(), "already an ama asset");
	text = fx_read("a/.ama/config");
	cr_assert_str_eq(text, "[asset]\nclass = imaging\n");
	free(text);
	names = names_in("a");
	cr_assert_str_eq(names, ".ama sub ");
	free(names);
}

Test(assetenv, make_is_all_or_nothing)
{
	/* a value that would not read back as it is: nothing is made */
	const char *kv[][3] = {
		{ "asset", "class", "imaging" },
		{ "asset", "message", "two\nlines" },
	};
	char *names;

	cr_assert_eq(mkdir("new", 0755), 0);
	cr_assert_eq(ama_asset_make("new", kv, 2), AMA_EINVAL);
	names = names_in("new");
	cr_assert_str_eq(names, "");
	free(names);
}

Test(assetenv, make_in_a_missing_folder_is_a_setup_error)
{
	const char *kv[][3] = { { "asset", "class", "imaging" } };

	cr_assert_eq(ama_asset_make("missing", kv, 1), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "missing/.ama");
	cr_assert_eq(fx_exists("missing"), 0);
}
