/* t/unit/readenv.c: the start every reading command shares, and a switch with [asset] version and HEAD recorded. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assetenv.h"
#include "error.h"
#include "readenv.h"
#include "readfix.h"

TestSuite(readenv, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

static struct fx_pub pub;
static struct ama_buf told = AMA_BUF_INIT;

static void report(void *ctx, const char *path, const char *msg)
{
	ama_buf_addf(&told, "%s: %s\n", path, msg);
}

/* runs/1 at 0.0.0 (a, d/b) and 0.0.1 (a changed); "w" an asset of it. */
static void published(const char *seq)
{
	const char *kv[][3] = {
		{ "asset", "class", "runs" },
		{ "asset", "seq", seq },
	};

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_file(&pub, "d/b", "beta");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha 2");
	fx_file(&pub, "d/b", "beta");
	fx_commit(&pub, "second");
	fx_pub_close(&pub);
	cr_assert_eq(mkdir("w", 0755), 0);
	cr_assert_eq(ama_asset_make("w", kv, seq ? 2 : 1), 0, "%s",
		     ama_error_msg());
	fx_mkdirs("w/sub/");
}

static void enter(const char *rel)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", fx_dir, rel);
	cr_assert_eq(chdir(path), 0, "%s", path);
}

Test(readenv, an_asset_opens_with_its_bucket_meta_cache_and_source)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	char *url = fx_remote_url(), *cwd, want[160];

	published("1");
	enter("w/sub");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), 0, "%s",
		     ama_error_msg());
	cwd = getcwd(NULL, 0);
	snprintf(want, sizeof(want), "%s/w", fx_dir);
	cr_assert_str_eq(cwd, want);
	cr_assert_str_eq(r.remote.url, url);
	cr_assert_str_eq(r.remote.cls.name, "runs");
	snprintf(want, sizeof(want), "%s/cache/ama", fx_dir);
	cr_assert_str_eq(ama_cache_dir(r.cache), want);
	cr_assert(fx_exists(".ama/meta/HEAD"));
	cr_assert_not_null(r.source);
	cr_assert_eq(ama_client_is_local(r.source), 0);
	cr_assert(r.cfg == e.cfg);
	ama_readenv_close(&r);
	cr_assert_null(r.meta);
	ama_asset_env_close(&e);
	free(cwd);
	free(url);
}

Test(readenv, an_asset_with_no_number_has_nothing_to_read)
{
	struct ama_readenv r;
	struct ama_asset_env e;

	published(NULL);
	enter("w");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), ".ama/config");
	cr_assert_str_eq(ama_error_msg(), "the asset has no number yet: "
			 "nothing was published from it (ama upload) or "
			 "cloned into it");
	cr_assert_eq(fx_exists(".ama/meta"), 0);
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}

Test(readenv, an_asset_of_a_class_the_bucket_lacks_is_not_found)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	const char *kv[][3] = {
		{ "asset", "class", "nosuch" }, { "asset", "seq", "1" },
	};

	published("1");
	cr_assert_eq(mkdir("v", 0755), 0);
	cr_assert_eq(ama_asset_make("v", kv, 2), 0);
	enter("v");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such class: nosuch");
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}

Test(readenv, fetch_brings_the_versions_in_once)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	struct ama_version v;
	char vs[AMA_VERSION_BUFSIZE];

	published("1");
	enter("w");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), 0);
	cr_assert_eq(ama_readenv_newest(&r, 1, &v), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "runs/1 has no version yet");
	cr_assert_eq(ama_readenv_fetch(&r, 1), 2, "%s", ama_error_msg());
	cr_assert_eq(ama_readenv_fetch(&r, 1), 0);
	cr_assert_eq(ama_readenv_newest(&r, 1, &v), 0);
	ama_version_format(vs, &v);
	cr_assert_str_eq(vs, "0.0.1");
	cr_assert_eq(ama_readenv_fetch(&r, 7), AMA_ENOTFOUND);
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}

/* The [asset] version .ama/config holds now, as read anew. */
static char *recorded_version(void)
{
	struct ama_config *cfg;
	const char *v;
	char *s;

	cr_assert_eq(ama_config_load_file(&cfg, ".ama/config"), 0);
	v = ama_config_get(cfg, "asset", "version");
	s = ama_strdup(v ? v : "-");
	ama_config_free(cfg);
	return s;
}

static void version_is(const char *want)
{
	char *v = recorded_version();

	cr_assert_str_eq(v, want);
	free(v);
}

/* HEAD of .ama/meta is the commit of version vs. */
static void head_is(struct ama_readenv *r, const char *vs)
{
	struct ama_meta_version mv;
	struct ama_version v = fx_ver(vs);
	char *head = fx_read(".ama/meta/HEAD");

	cr_assert_eq(ama_meta_find_version(r->meta, &mv, "runs", 1, &v), 0);
	cr_assert_eq(strncmp(head, mv.oid, AMA_META_OIDLEN), 0, "HEAD %s",
		     head);
	ama_meta_version_release(&mv);
	free(head);
}

static int switch_to(struct ama_readenv *r, struct ama_asset_env *e,
		     const char *vs, struct ama_worktree_stats *st)
{
	struct ama_worktree_opts o;
	struct ama_version v = fx_ver(vs);

	memset(&o, 0, sizeof(o));
	o.report = report;
	ama_buf_reset(&told);
	return ama_readenv_switch(r, e, &v, &o, st);
}

Test(readenv, a_switch_fetches_what_it_lacks_and_records_where_it_is)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	struct ama_worktree_stats st;
	char *text;

	published("1");
	enter("w");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), 0);
	/* no version yet: from nothing; .ama/meta is filled on the way */
	cr_assert_eq(switch_to(&r, &e, "0.0.0", &st), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(st.placed, 2);
	version_is("0.0.0");
	cr_assert_eq(e.has_version, 1);
	head_is(&r, "0.0.0");
	cr_assert_eq(switch_to(&r, &e, "0.0.1", &st), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(st.placed, 1);
	version_is("0.0.1");
	head_is(&r, "0.0.1");
	text = fx_read("a");
	cr_assert_str_eq(text, "alpha 2");
	free(text);
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}

Test(readenv, a_switch_to_no_such_version_changes_nothing)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	struct ama_worktree_stats st;

	published("1");
	enter("w");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), 0);
	cr_assert_eq(switch_to(&r, &e, "0.0.0", &st), 0);
	cr_assert_eq(switch_to(&r, &e, "0.0.7", &st), AMA_ENOTFOUND);
	version_is("0.0.0");
	head_is(&r, "0.0.0");
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}

Test(readenv, a_refused_switch_records_nothing)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	struct ama_worktree_stats st;

	published("1");
	enter("w");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), 0);
	cr_assert_eq(switch_to(&r, &e, "0.0.0", &st), 0);
	fx_write("a", "my own change");
	cr_assert_eq(switch_to(&r, &e, "0.0.1", &st), 1);
	cr_assert_eq(st.refused, 1);
	cr_assert_str_eq(told.s, "a: modified since it was added; 'ama add' "
			 "and 'ama upload' keep it, --force discards it\n");
	version_is("0.0.0");
	head_is(&r, "0.0.0");
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}

Test(readenv, worktree_options_come_from_the_environment)
{
	struct ama_readenv r;
	struct ama_asset_env e;
	struct ama_worktree_opts o;

	published("1");
	enter("w");
	cr_assert_eq(ama_readenv_open_asset(&r, &e), 0);
	memset(&o, 0, sizeof(o));
	ama_readenv_worktree_opts(&r, &o);
	cr_assert(o.meta == r.meta && o.cache == r.cache && o.cfg == r.cfg);
	cr_assert_str_eq(o.remote_url, r.remote.url);
	cr_assert_str_eq(o.top_hash, r.remote.cls.top_hash);
	ama_readenv_close(&r);
	ama_asset_env_close(&e);
}
