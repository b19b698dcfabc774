/* t/unit/clone.c: a new asset folder holding a published version, from the embedded default's bucket alone. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assetenv.h"
#include "clone.h"
#include "error.h"
#include "layout.h"
#include "readfix.h"

TestSuite(clone, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

static struct ama_buf told = AMA_BUF_INIT;

static void report(void *ctx, const char *path, const char *msg)
{
	ama_buf_addf(&told, "%s: %s\n", path, msg);
}

/* runs/1 at 0.0.0 (a, d/b) and 0.0.1 (a changed, s/x added). */
static void published(void)
{
	struct fx_pub pub;

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_file(&pub, "d/b", "beta");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha 2");
	fx_file(&pub, "d/b", "beta");
	fx_file(&pub, "s/x", "ess x");
	fx_commit(&pub, "second");
	fx_pub_asset(&pub);
	fx_pub_close(&pub);
}

static void opts_of(struct ama_clone_opts *o, const char *ref,
		    const char *dir)
{
	memset(o, 0, sizeof(*o));
	cr_assert_eq(ama_ref_parse(&o->ref, ref), 0);
	o->dir = dir;
	o->report = report;
	ama_buf_reset(&told);
}

static int clone(const char *ref, const char *dir,
		 struct ama_clone_result *res)
{
	struct ama_clone_opts o;

	opts_of(&o, ref, dir);
	return ama_clone(&o, res);
}

/* Every file under dir but .ama: "path=bytes;" in path order. */
static char *tree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cd '%s/%s' && find . -path ./.ama -prune "
		 "-o -type f -print | sed 's|^\\./||' | LC_ALL=C sort | while "
		 "read -r f; do printf '%%s=%%s;' \"$f\" \"$(cat \"$f\")\"; "
		 "done", fx_dir, dir);
	return fx_sh(cmd);
}

static void tree_is(const char *dir, const char *want)
{
	char *t = tree(dir);

	cr_assert_str_eq(t, want);
	free(t);
}

static void back_home(void)
{
	cr_assert_eq(chdir(fx_dir), 0);
}

Test(clone, the_newest_version_into_a_new_folder)
{
	struct ama_clone_result res;
	struct ama_asset_env e;
	char *cwd, want[512], *text;

	published();
	cr_assert_eq(clone("runs/1", "c", &res), 0, "%s\n%s", ama_error_msg(),
		     told.s);
	cr_assert_str_eq(res.dir, "c");
	cr_assert_eq(res.seq, 1);
	cr_assert_eq(res.version.z, 1);
	cr_assert_eq(res.stats.placed, 3);
	cr_assert_eq(res.stats.fetched, 3);
	/* the working folder is the clone */
	cwd = getcwd(NULL, 0);
	snprintf(want, sizeof(want), "%s/c", fx_dir);
	cr_assert_str_eq(cwd, want);
	free(cwd);
	cr_assert_eq(ama_asset_env_open(&e, 0), 0);
	cr_assert_str_eq(e.class, "runs");
	cr_assert_eq(e.seq, 1);
	cr_assert_eq(e.has_version, 1);
	cr_assert_eq(e.version.z, 1);
	ama_asset_env_close(&e);
	text = fx_read(".ama/config");
	cr_assert_not_null(strstr(text, "[server]\nurl = local\n"), "%s",
			   text);
	free(text);
	tree_is("c", "a=alpha 2;d/b=beta;s/x=ess x;");
	free(res.dir);
}

Test(clone, a_version_asked_for_and_the_folder_named_after_the_asset)
{
	struct ama_clone_result res;

	published();
	cr_assert_eq(clone("runs/1@0.0.0", NULL, &res), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(res.dir, "runs-1");
	cr_assert_eq(res.version.z, 0);
	tree_is("runs-1", "a=alpha;d/b=beta;");
	free(res.dir);
}

Test(clone, an_alias_names_the_asset_and_the_folder)
{
	struct ama_clone_result res;
	struct ama_class_info c;
	struct ama_store *s;
	struct ama_buf key = AMA_BUF_INIT;
	char *url = fx_remote_url(), *path;

	published();
	cr_assert_eq(ama_store_open(&s, url, NULL, "remote"), 0);
	cr_assert_eq(ama_bucket_class(s, "runs", &c), 0);
	ama_layout_alias(&key, c.top_hash, "lung-ct");
	path = fx_remote_file(key.s);
	fx_write(path, "{\"alias\":\"lung-ct\",\"seq\":1}");
	cr_assert_eq(clone("runs/lung-ct", NULL, &res), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(res.dir, "runs-lung-ct");
	cr_assert_eq(res.seq, 1);
	tree_is("runs-lung-ct", "a=alpha 2;d/b=beta;s/x=ess x;");
	free(res.dir);
	free(path);
	free(url);
	ama_buf_release(&key);
	ama_store_close(s);
}

Test(clone, a_partial_clone_places_only_the_pathspecs)
{
	struct ama_clone_opts o;
	struct ama_clone_result res;
	char *const ps[] = { "s", "a" };

	published();
	opts_of(&o, "runs/1", "c");
	o.pathspecs = ps;
	o.npathspecs = 2;
	cr_assert_eq(ama_clone(&o, &res), 0, "%s", ama_error_msg());
	cr_assert_eq(res.stats.placed, 2);
	cr_assert_eq(res.stats.skipped, 1);
	tree_is("c", "a=alpha 2;s/x=ess x;");
	free(res.dir);
}

Test(clone, what_is_not_there_is_not_found_and_nothing_is_left)
{
	struct ama_clone_result res;
	char *names;

	published();
	cr_assert_eq(clone("nosuch/1", "c", &res), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such class: nosuch");
	cr_assert_eq(clone("runs/9", "c", &res), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such asset: runs/9");
	cr_assert_eq(clone("runs/2", "c", &res), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "runs/2 has no version yet");
	cr_assert_eq(clone("runs/nosuch", "c", &res), AMA_ENOTFOUND);
	free(res.dir);
	/* a version that is not there is found out in the folder made */
	cr_assert_eq(clone("runs/1@0.0.7", "c", &res), AMA_ENOTFOUND, "%s",
		     ama_error_msg());
	back_home();
	cr_assert_eq(fx_exists("c"), 0);
	free(res.dir);
	/* in a folder that was there, it stays, empty */
	cr_assert_eq(mkdir("e", 0755), 0);
	cr_assert_eq(clone("runs/1@0.0.7", "e", &res), AMA_ENOTFOUND);
	back_home();
	names = fx_sh("ls -A e");
	cr_assert_str_eq(names, "");
	free(names);
	free(res.dir);
}

Test(clone, a_folder_that_is_not_empty_or_not_a_folder_is_refused)
{
	struct ama_clone_result res;

	published();
	fx_write("full/x", "mine");
	cr_assert_eq(clone("runs/1", "full", &res), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "full");
	cr_assert_str_eq(ama_error_msg(), "exists and is not empty");
	free(res.dir);
	fx_write("file", "mine");
	cr_assert_eq(clone("runs/1", "file", &res), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "exists and is not a folder");
	free(res.dir);
	tree_is("full", "x=mine;");
}

Test(clone, assets_do_not_nest)
{
	struct ama_clone_result res;
	char root[160];

	published();
	cr_assert_eq(clone("runs/1", "c", &res), 0);
	free(res.dir);
	back_home();
	snprintf(root, sizeof(root), "%s/c", fx_dir);
	cr_assert_eq(clone("runs/1", "c/inner", &res), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), root);
	cr_assert_str_eq(ama_error_msg(), "inside this ama asset; assets do "
			 "not nest");
	free(res.dir);
	cr_assert_eq(fx_exists("c/inner"), 0);
}

Test(clone, an_unfinished_clone_is_finished_and_a_finished_one_refused)
{
	struct ama_clone_result res;
	struct ama_asset_env e;
	const char *kv[][3] = { { "asset", "version", NULL } };

	published();
	cr_assert_eq(clone("runs/1", "c", &res), 0);
	free(res.dir);
	/* as a clone killed before it recorded its version */
	cr_assert_eq(ama_asset_env_open(&e, AMA_ASSET_ENTER), 0);
	cr_assert_eq(ama_asset_env_set(&e, kv, 1), 0);
	ama_asset_env_close(&e);
	cr_assert_eq(unlink("s/x"), 0);
	back_home();
	cr_assert_eq(clone("runs/1", "c", &res), 0, "%s\n%s", ama_error_msg(),
		     told.s);
	cr_assert_eq(res.stats.placed, 1);
	cr_assert_eq(res.stats.kept, 2);
	cr_assert_eq(res.stats.fetched, 0);
	tree_is("c", "a=alpha 2;d/b=beta;s/x=ess x;");
	free(res.dir);
	back_home();
	/* at another version: that is ama switch's work */
	cr_assert_eq(clone("runs/1@0.0.0", "c", &res), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "holds runs/1 at 0.0.1 already; ama "
			 "switch there changes its version");
	free(res.dir);
	back_home();
	/* the same version again: nothing to do */
	cr_assert_eq(clone("runs/1", "c", &res), 0);
	cr_assert_eq(res.stats.placed, 0);
	free(res.dir);
}

Test(clone, another_asset_folder_is_refused)
{
	struct ama_clone_result res;
	const char *kv[][3] = {
		{ "asset", "class", "runs" }, { "asset", "seq", "2" },
	};

	published();
	cr_assert_eq(mkdir("other", 0755), 0);
	cr_assert_eq(ama_asset_make("other", kv, 2), 0);
	cr_assert_eq(clone("runs/1", "other", &res), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "is an asset, not a clone of runs/1");
	free(res.dir);
}

Test(clone, what_a_killed_clone_left_in_making_its_ama_is_cleared)
{
	struct ama_clone_result res;

	published();
	/* pid 1 is alive; a pid past pid_max never was */
	fx_write("c/.ama.init-99999999/config", "[asset]\n");
	cr_assert_eq(clone("runs/1", "c", &res), 0, "%s", ama_error_msg());
	cr_assert_eq(fx_exists(".ama.init-99999999"), 0);
	free(res.dir);
	back_home();
	fx_write("d/.ama.init-1/config", "[asset]\n");
	cr_assert_eq(clone("runs/1", "d", &res), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "exists and is not empty");
	free(res.dir);
}
