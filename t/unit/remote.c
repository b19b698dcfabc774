/* t/unit/remote.c: a class's remote bucket found as every reader finds it, and references resolved there. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "layout.h"
#include "readfix.h"
#include "ref.h"
#include "remote.h"

TestSuite(remote, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

static struct fx_pub pub;

/* runs/1 at 0.0.0 and 0.0.1, runs/2 with no version. */
static void published(void)
{
	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha 2");
	fx_commit(&pub, "second");
	fx_pub_asset(&pub);
}

static struct ama_config *config(const char *text)
{
	struct ama_config *cfg;

	fx_write("cfg.ini", text);
	cr_assert_eq(ama_config_load_file(&cfg, "cfg.ini"), 0);
	return cfg;
}

/* A copy of the whole remote bucket in the folder dir; its URL. */
static char *copy_remote(const char *dir)
{
	char cmd[256];
	char *url = malloc(160);

	snprintf(cmd, sizeof(cmd), "cp -R '%s/data/ama/remote' '%s/%s'",
		 fx_dir, fx_dir, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(url, 160, "file://%s/%s", fx_dir, dir);
	return url;
}

Test(remote, with_nothing_configured_the_embedded_default)
{
	struct ama_config *cfg = config("");
	struct ama_remote r;
	char *want = fx_remote_url();

	published();
	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(r.url, want);
	cr_assert_str_eq(ama_store_url(r.store), want);
	cr_assert_str_eq(r.cls.name, "runs");
	cr_assert_str_eq(r.cls.top_hash, pub.k.info.top_hash);
	ama_remote_close(&r);
	cr_assert_null(r.url);
	cr_assert_null(r.store);
	free(want);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}

Test(remote, a_local_server_is_the_embedded_default_too)
{
	struct ama_config *cfg = config("[server]\nurl = local\n");
	struct ama_remote r;
	char *want = fx_remote_url();

	published();
	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(r.url, want);
	ama_remote_close(&r);
	free(want);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}

Test(remote, store_remote_is_taken_first)
{
	struct ama_config *cfg;
	struct ama_remote r;
	struct ama_buf text = AMA_BUF_INIT;
	char *mine;

	published();
	mine = copy_remote("mine");
	/* with a server configured, too: it is not asked */
	ama_buf_addf(&text, "[server]\nurl = http://127.0.0.1:1\n[store]\n"
		     "remote = %s\n[class]\nremote = file:///nonexistent\n",
		     mine);
	cfg = config(text.s);
	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(r.url, mine);
	cr_assert_str_eq(r.cls.top_hash, pub.k.info.top_hash);
	ama_remote_close(&r);
	ama_buf_release(&text);
	free(mine);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}

Test(remote, what_the_server_said_of_the_class_is_taken_next)
{
	struct ama_config *cfg;
	struct ama_remote r;
	struct ama_buf text = AMA_BUF_INIT;
	char *theirs;

	published();
	theirs = copy_remote("theirs");
	ama_buf_addf(&text, "[server]\nurl = http://127.0.0.1:1\n[class]\n"
		     "remote = %s\n", theirs);
	cfg = config(text.s);
	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(r.url, theirs);
	ama_remote_close(&r);
	ama_buf_release(&text);
	free(theirs);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}

Test(remote, a_server_and_nothing_else_is_asked_where_the_class_lives)
{
	/* no token file: the server would be asked, so the client fails */
	struct ama_config *cfg = config("[server]\nurl = http://127.0.0.1:1\n"
					"token-file = /nonexistent/token\n");
	struct ama_remote r;

	published();
	memset(&r, 0x5a, sizeof(r));
	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "/nonexistent/token");
	cr_assert_null(r.url);
	cr_assert_null(r.store);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}

Test(remote, no_such_class_leaves_nothing_open)
{
	struct ama_config *cfg = config("");
	struct ama_remote r;

	published();
	cr_assert_eq(ama_remote_open(&r, cfg, "nosuch"), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such class: nosuch");
	cr_assert_null(r.url);
	cr_assert_null(r.store);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}

Test(remote, a_remote_that_is_no_bucket_url_is_a_setup_error)
{
	struct ama_config *cfg = config("[store]\nremote = file://relative\n");
	struct ama_remote r;

	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), AMA_ESETUP);
	cr_assert_null(r.url);
	ama_config_free(cfg);
}

/* ---- resolving references ---- */

static void resolves(struct ama_remote *r, const char *s, uint64_t seq,
		     const char *version)
{
	struct ama_ref ref;
	struct ama_version v;
	char vs[AMA_VERSION_BUFSIZE];
	uint64_t got = 0;

	cr_assert_eq(ama_ref_parse(&ref, s), 0);
	cr_assert_eq(ama_remote_resolve(r, &ref, &got, &v), 0, "%s: %s", s,
		     ama_error_msg());
	ama_version_format(vs, &v);
	cr_assert_eq(got, seq, "%s", s);
	cr_assert_str_eq(vs, version, "%s", s);
}

static void unresolved(struct ama_remote *r, const char *s, const char *why)
{
	struct ama_ref ref;
	struct ama_version v;
	uint64_t got;

	cr_assert_eq(ama_ref_parse(&ref, s), 0);
	cr_assert_eq(ama_remote_resolve(r, &ref, &got, &v), AMA_ENOTFOUND,
		     "%s", s);
	cr_assert_str_eq(ama_error_msg(), why, "%s", s);
}

static void alias(const char *name, const char *record)
{
	struct ama_buf key = AMA_BUF_INIT;
	char *path;

	ama_layout_alias(&key, pub.k.info.top_hash, name);
	path = fx_remote_file(key.s);
	fx_write(path, record);
	free(path);
	ama_buf_release(&key);
}

Test(remote, references_resolve_to_a_number_and_a_version)
{
	struct ama_config *cfg = config("");
	struct ama_remote r;

	published();
	alias("lung-ct", "{\"alias\":\"lung-ct\",\"seq\":1}");
	alias("empty", "{\"alias\":\"empty\",\"seq\":2}");
	cr_assert_eq(ama_remote_open(&r, cfg, "runs"), 0);
	resolves(&r, "runs/1", 1, "0.0.1");
	resolves(&r, "runs/1@0.0.0", 1, "0.0.0");
	/* a version given is taken as it is: reading it checks it */
	resolves(&r, "runs/1@3.2.1", 1, "3.2.1");
	resolves(&r, "runs/lung-ct", 1, "0.0.1");
	resolves(&r, "runs/lung-ct@0.0.0", 1, "0.0.0");
	unresolved(&r, "runs/2", "runs/2 has no version yet");
	unresolved(&r, "runs/empty", "runs/2 has no version yet");
	unresolved(&r, "runs/9", "no such asset: runs/9");
	unresolved(&r, "runs/nosuch", "no such alias: runs/nosuch");
	unresolved(&r, "runs/nosuch@0.0.0", "no such alias: runs/nosuch");
	ama_remote_close(&r);
	ama_config_free(cfg);
	fx_pub_close(&pub);
}
