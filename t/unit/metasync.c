/* t/unit/metasync.c: a client's repository pulled up to date from an in-process publisher. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "config.h"
#include "error.h"
#include "lockfile.h"
#include "md5.h"
#include "meta.h"
#include "metasync.h"

/* ---- fixtures: two local publishers on file:// folders of their own ---- */

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/ama-metasync-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	setenv("HOME", tmp, 1);
	setenv("USER", "tester", 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(metasync, .init = setup, .fini = teardown, .timeout = 60);

/* A publishing side: its buckets and repository under tmp/NAME. */
struct side {
	struct ama_config *cfg;
	struct ama_client *c;
	struct ama_client_class k;
	uint64_t seq;
	int has_head;
	struct ama_version head;
};

static void open_side(struct side *s, const char *name)
{
	struct ama_buf b = AMA_BUF_INIT;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(ama_config_load_file(&s->cfg, "/nonexistent/ama"), 0);
	ama_buf_addf(&b, "file://%s/%s/remote", tmp, name);
	ama_config_put(s->cfg, "store", "remote", b.s);
	ama_buf_reset(&b);
	ama_buf_addf(&b, "file://%s/%s/staging", tmp, name);
	ama_config_put(s->cfg, "store", "staging", b.s);
	ama_buf_reset(&b);
	ama_buf_addf(&b, "%s/%s/meta.git", tmp, name);
	ama_config_put(s->cfg, "server", "repository", b.s);
	cr_assert_eq(ama_client_open(&s->c, s->cfg), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_client_class(s->c, "runs", 1, &s->k), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(ama_client_asset_create(s->c, "runs", NULL, &s->seq), 0);
	cr_assert_eq(s->seq, 1);
	ama_buf_release(&b);
}

static void close_side(struct side *s)
{
	ama_client_class_release(&s->k);
	ama_client_close(s->c);
	ama_config_free(s->cfg);
}

/* Stage bytes where ama-stage-put puts them; add the object to l. */
static void add(struct side *s, struct ama_objlist *l, const char *path,
		const char *bytes)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_md5 m;
	char hex[33];

	ama_md5_buffer(&m, bytes, strlen(bytes));
	ama_md5_to_hex(hex, &m);
	ama_buf_addf(&key, "%s/%s", s->k.staging + strlen("file://"),
		     s->k.info.top_hash);
	mkdir(key.s, 0755);
	ama_buf_addf(&key, "/%s", hex);
	cr_assert_eq(ama_write_file_atomic(key.s, bytes, strlen(bytes), 0644),
		     0);
	ama_objlist_add(l, &m, strlen(bytes), path, strlen(path));
	ama_buf_release(&key);
}

/* Publish one version: a file "v" holding text, and "same". */
static void publish(struct side *s, const char *text, const char *message)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;

	add(s, &l, "same", "same bytes");
	add(s, &l, "v", text);
	cr_assert_eq(ama_objlist_sort(&l), 0);
	memset(&rq, 0, sizeof(rq));
	rq.class = "runs";
	rq.seq = s->seq;
	rq.has_parent = s->has_head;
	rq.parent = s->head;
	rq.message = message;
	rq.objects = &l;
	cr_assert_eq(ama_client_commit(s->c, &rq, &res), 0, "%s",
		     ama_error_msg());
	s->head = res.version;
	s->has_head = 1;
	ama_commit_result_release(&res);
	ama_objlist_release(&l);
}

static struct ama_meta *client_repo(const char *name)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_meta *meta;

	ama_buf_addf(&b, "%s/%s", tmp, name);
	cr_assert_eq(ama_meta_open(&meta, b.s, AMA_META_CREATE), 0);
	ama_buf_release(&b);
	return meta;
}

/* "0.0.1 tester second;" for each version, newest first. */
static int log_one(const struct ama_meta_version *v, void *ctx)
{
	char ver[AMA_VERSION_BUFSIZE];

	ama_version_format(ver, &v->version);
	ama_buf_addf(ctx, "%s %s %s;", ver, v->author, v->message);
	return 0;
}

static char *history(struct ama_meta *meta)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_eq(ama_meta_log(meta, "runs", 1, 0, log_one, &b), 0);
	return ama_buf_detach(&b);
}

static struct ama_version ver(const char *s)
{
	struct ama_version v;

	cr_assert_eq(ama_version_parse(&v, s), 0);
	return v;
}

Test(metasync, a_fresh_repository_gets_every_version_oldest_first)
{
	struct side s;
	struct ama_meta *meta;
	char *h;

	open_side(&s, "srv");
	publish(&s, "one", "first");
	publish(&s, "two", "second");
	publish(&s, "three", "third");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, NULL), 3, "%s",
		     ama_error_msg());
	h = history(meta);
	cr_assert_str_eq(h, "0.0.2 tester third;0.0.1 tester second;"
			 "0.0.0 tester first;");
	free(h);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, a_second_pull_writes_only_what_is_new)
{
	struct side s;
	struct ama_meta *meta;
	char *h;

	open_side(&s, "srv");
	publish(&s, "one", "first");
	publish(&s, "two", "second");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, NULL), 2);
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, NULL), 0);
	publish(&s, "three", "third");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, NULL), 1);
	h = history(meta);
	cr_assert_str_eq(h, "0.0.2 tester third;0.0.1 tester second;"
			 "0.0.0 tester first;");
	free(h);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, head_points_at_the_version_asked_for)
{
	struct side s;
	struct ama_meta *meta;
	struct ama_meta_version v;
	struct ama_version want = ver("0.0.0");
	struct ama_buf path = AMA_BUF_INIT;
	char *text = NULL;

	open_side(&s, "srv");
	publish(&s, "one", "first");
	publish(&s, "two", "second");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, &want), 2);
	cr_assert_eq(ama_meta_find_version(meta, &v, "runs", 1, &want), 0);
	ama_buf_addf(&path, "%s/client.git/HEAD", tmp);
	cr_assert_eq(ama_read_file(&text, NULL, path.s), 0);
	cr_assert_eq(strncmp(text, v.oid, AMA_META_OIDLEN), 0,
		     "HEAD is %s, not %s", text, v.oid);
	free(text);
	ama_meta_version_release(&v);
	ama_buf_release(&path);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, a_head_that_is_no_version_is_not_found)
{
	struct side s;
	struct ama_meta *meta;
	struct ama_version want = ver("0.0.7");
	char *h;

	open_side(&s, "srv");
	publish(&s, "one", "first");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, &want),
		     AMA_ENOTFOUND);
	/* what was pulled stays */
	h = history(meta);
	cr_assert_str_eq(h, "0.0.0 tester first;");
	free(h);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, an_asset_the_server_does_not_have_is_not_found)
{
	struct side s;
	struct ama_meta *meta;

	open_side(&s, "srv");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 9, NULL),
		     AMA_ENOTFOUND);
	cr_assert_eq(ama_metasync_pull(meta, s.c, "nosuch", 1, NULL),
		     AMA_ENOTFOUND);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, an_asset_with_no_version_pulls_nothing)
{
	struct side s;
	struct ama_meta *meta;
	struct ama_meta_version v;

	open_side(&s, "srv");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, NULL), 0);
	cr_assert_eq(ama_meta_head(meta, &v, "runs", 1), AMA_ENOTFOUND);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, another_history_under_the_same_name_is_a_conflict)
{
	struct side a, b;
	struct ama_meta *meta;
	char *h;

	open_side(&a, "a");
	open_side(&b, "b");
	publish(&a, "one", "first");
	publish(&b, "uno", "primero");
	publish(&b, "dos", "segundo");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, a.c, "runs", 1, NULL), 1);
	/* b's 0.0.1 does not go on a's 0.0.0 */
	cr_assert_eq(ama_metasync_pull(meta, b.c, "runs", 1, NULL),
		     AMA_ECONFLICT);
	cr_assert_str_eq(ama_error_msg(), "version 0.0.0 of runs/1 here is "
			 "not the one the server has");
	h = history(meta);
	cr_assert_str_eq(h, "0.0.0 tester first;");
	free(h);
	ama_meta_close(meta);
	close_side(&a);
	close_side(&b);
}

Test(metasync, a_repository_ahead_of_the_server_is_a_conflict)
{
	struct side a, b;
	struct ama_meta *meta;

	open_side(&a, "a");
	open_side(&b, "b");
	publish(&a, "one", "first");
	publish(&a, "two", "second");
	publish(&b, "one", "first");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, a.c, "runs", 1, NULL), 2);
	cr_assert_eq(ama_metasync_pull(meta, b.c, "runs", 1, NULL),
		     AMA_ECONFLICT);
	cr_assert_str_eq(ama_error_msg(), "version 0.0.1 of runs/1 here is "
			 "not the one the server has");
	ama_meta_close(meta);
	close_side(&a);
	close_side(&b);
}

/* the lock files ama_lock_on_takeover() was told of, one a line */
static struct ama_buf told = AMA_BUF_INIT;

static void note(const char *lock_path)
{
	ama_buf_addf(&told, "%s\n", lock_path + strlen(tmp) + 1);
}

static void put_empty(const char *rel)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s/%s", tmp, rel);
	cr_assert_eq(ama_write_file_atomic(b.s, "", 0, 0644), 0);
	ama_buf_release(&b);
}

/*
 * A pull killed while libgit2 held HEAD.lock or a ref's lock left them:
 * every later pull failed ("failed to lock file"). They are removed, each
 * told, and the pull then goes through.
 */
Test(metasync, locks_a_killed_writer_left_are_cleared_and_told)
{
	struct side s;
	struct ama_meta *meta;
	struct ama_version want = ver("0.0.1");
	struct ama_buf path = AMA_BUF_INIT;

	open_side(&s, "srv");
	publish(&s, "one", "first");
	meta = client_repo("client.git");
	cr_assert_eq(ama_metasync_pull(meta, s.c, "runs", 1, NULL), 1);
	publish(&s, "two", "second");
	put_empty("client.git/HEAD.lock");
	put_empty("client.git/refs/ama/runs/1.lock");
	/* objects are not locks, whatever their name */
	put_empty("client.git/objects/kept.lock");
	cr_assert_lt(ama_metasync_pull(meta, s.c, "runs", 1, &want), 0,
		     "libgit2 does not take over its own stale locks");
	ama_buf_reset(&told);
	ama_lock_on_takeover(note);
	ama_buf_addf(&path, "%s/client.git", tmp);
	cr_assert_eq(ama_metasync_clear_locks(path.s), 2, "%s",
		     ama_error_msg());
	cr_assert_str_eq(told.s, "client.git/HEAD.lock\n"
			 "client.git/refs/ama/runs/1.lock\n");
	cr_assert_eq(ama_metasync_clear_locks(path.s), 0);
	ama_lock_on_takeover(NULL);
	ama_buf_addstr(&path, "/objects/kept.lock");
	cr_assert_eq(access(path.s, F_OK), 0);
	cr_assert_geq(ama_metasync_pull(meta, s.c, "runs", 1, &want), 0,
		      "%s", ama_error_msg());
	ama_buf_release(&path);
	ama_buf_release(&told);
	ama_meta_close(meta);
	close_side(&s);
}

Test(metasync, no_repository_there_no_lock_to_clear)
{
	struct ama_buf path = AMA_BUF_INIT;

	ama_buf_addf(&path, "%s/none.git", tmp);
	cr_assert_eq(ama_metasync_clear_locks(path.s), 0);
	put_empty("none.git");	/* a file in its place */
	cr_assert_eq(ama_metasync_clear_locks(path.s), 0);
	ama_buf_release(&path);
}
